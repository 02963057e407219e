// What the P-CSCF logic decides with: the configuration, the local sockets, the shared contact
// table, SPI pool, protected ports and counters, a clock and the generators of branches and tags,
// and a sink for log events.
// Built once per worker (or once for the inline mode); everything derived from the configuration
// (our URIs, the trusted-peer matcher, the next hop, metric cells, socket lookups) is computed
// here, not per message.

import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';

import { ipsecEnabled, selectionPolicyOf } from '../config/index.js';
import type { Config } from '../config/index.js';
import { parseNextHop } from '../config/net-syntax.js';
import type { LogEvent, Transport } from '../engine/plan.js';
import { IpsecContext } from '../ipsec/context.js';
import type { SelectionPolicy } from '../secagree/index.js';
import type { ContactTable } from '../shared/contact-table.js';
import type { SharedCounters } from '../shared/counters.js';
import { ProtectedPorts } from '../shared/protected-ports.js';
import { SpiAllocator } from '../shared/spi-allocator.js';
import { indexMessage } from '../sip/index.js';
import type { SipLimits, SipMessage } from '../sip/index.js';
import type { IpFamily, LocalSocket, SocketTable } from '../transport/sockets.js';
import { TrustedPeers } from './classify.js';
import { PcscfError } from './errors.js';
import { PcscfMetrics } from './metrics.js';
import { OurUris } from './our-uris.js';
import { familyOf } from './routing.js';
import type { Hop } from './routing.js';
import { serverMechanisms } from './sec-agree.js';

export interface PcscfContextOptions {
  readonly config: Config;
  readonly sockets: SocketTable;
  readonly contacts: ContactTable;
  /** Created from PCSCF_METRICS (src/pcscf/metrics.ts). */
  readonly counters: SharedCounters;
  /** With IPsec enabled: the shared SPI pool and protected-port cursors (default: private ones, for tests). */
  readonly spis?: SpiAllocator;
  readonly ports?: ProtectedPorts;
  /** Unix seconds; default the system clock. */
  readonly now?: () => number;
  /** A Via branch: "z9hG4bK" + a value unique across workers and restarts (RFC 3261 §8.1.1.7). */
  readonly newBranch?: () => string;
  /** A To tag for the responses the P-CSCF generates (RFC 3261 §19.3). */
  readonly newTag?: () => string;
  /** Receives the events worth a log line; default: discarded. */
  readonly log?: (event: LogEvent) => void;
}

/**
 * A generator of unique tokens: a random prefix per generator (48 bits, so two workers or two
 * runs do not share one) and a counter, which costs no random bytes per message.
 */
function uniqueTokens(prefix: string): () => string {
  const base = `${prefix}${threadId.toString(36)}${randomBytes(6).toString('hex')}.`;
  let n = 0;
  return () => base + (++n).toString(36);
}

export class PcscfContext {
  readonly config: Config;
  readonly sockets: SocketTable;
  readonly contacts: ContactTable;
  readonly counters: SharedCounters;
  readonly now: () => number;
  readonly newBranch: () => string;
  readonly newTag: () => string;
  readonly log: (event: LogEvent) => void;

  readonly us: OurUris;
  readonly peers: TrustedPeers;
  readonly metrics: PcscfMetrics;
  /** sip.next_hop: where REGISTERs and requests towards a hostname go. */
  readonly nextHop: Hop;
  /** The IPsec side; undefined when IPsec is disabled (no ipsec_listen_addr*). */
  readonly ipsec: IpsecContext | undefined;
  readonly selection: SelectionPolicy;
  /** The ipsec-3gpp mechanisms the P-CSCF accepts, as a Security-Server value (RFC 3329 §2.3.1). */
  readonly securityServer: string;
  private readonly limits: SipLimits;

  constructor(o: PcscfContextOptions) {
    this.config = o.config;
    this.sockets = o.sockets;
    this.contacts = o.contacts;
    this.counters = o.counters;
    this.now = o.now ?? (() => Date.now() / 1000);
    this.newBranch = o.newBranch ?? uniqueTokens('z9hG4bK');
    this.newTag = o.newTag ?? uniqueTokens('');
    this.log = o.log ?? (() => undefined);

    this.us = new OurUris(o.config, o.sockets);
    this.peers = new TrustedPeers(o.config.sip.trusted_peers);
    this.metrics = new PcscfMetrics(o.counters);
    this.ipsec = ipsecEnabled(o.config) ? this.ipsecContext(o) : undefined;
    this.selection = selectionPolicyOf(o.config);
    this.securityServer = serverMechanisms(this.selection);
    const l = o.config.sip.limits;
    this.limits = { maxDatagramBytes: l.max_udp_bytes, maxStreamMessageBytes: l.max_tcp_message_bytes, maxHeaders: l.max_headers, maxLineBytes: l.max_line_bytes };

    const hop = parseNextHop(o.config.sip.next_hop);
    if (hop === null) throw new PcscfError('PCSCF_BAD_NEXT_HOP', `sip.next_hop ${o.config.sip.next_hop} is not sip:<IP>:<port>[;transport=udp|tcp]`);
    const addr = hop.host.startsWith('[') ? hop.host.slice(1, -1) : hop.host;
    this.nextHop = { addr, port: hop.port, transport: hop.transport ?? 'udp' };
    if (this.socketFor(this.nextHop.transport, familyOf(addr), 'core') === undefined) {
      throw new PcscfError('PCSCF_NO_CORE_SOCKET',
        `sip.next_hop ${o.config.sip.next_hop} needs an unprotected ${this.nextHop.transport} socket for IPv${familyOf(addr)} facing the core in sip.listen`);
    }
  }

  private ipsecContext(o: PcscfContextOptions): IpsecContext {
    const c = o.config;
    return new IpsecContext({
      config: c, sockets: o.sockets, contacts: o.contacts, counters: o.counters, now: this.now,
      spis: o.spis ?? SpiAllocator.create({ spiStart: c.ipsec_spi_id_start, spiRange: c.ipsec_spi_id_range }),
      ports: o.ports ?? ProtectedPorts.create({ clientPort: c.ipsec_client_port, serverPort: c.ipsec_server_port, maxConnections: c.ipsec_max_connections }),
    });
  }

  /** The unprotected socket that sends over `transport` to an address of `family` on `side` (the core, or UEs). */
  socketFor(transport: Transport, family: IpFamily, side: 'access' | 'core'): LocalSocket | undefined {
    return this.sockets.unprotected(transport, family, side);
  }

  /**
   * Reads a message handed over by the main thread (it arrives as a copy: bytes cross threads).
   * The main thread validated these very bytes (parseMessage), so they are only indexed here: a
   * flow reads what it needs. Throws SipError.
   */
  parse(bytes: Uint8Array, transport: Transport): SipMessage {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return indexMessage(buf, { limits: this.limits, framing: transport === 'tcp' ? 'stream' : 'datagram' });
  }
}
