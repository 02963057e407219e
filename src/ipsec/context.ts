// What the IPsec functions work with, built once per thread from the configuration and the shared
// state: the contact table (Kamailio's usrloc domain), the SPI pool and the protected ports, the
// local sockets, and a collector of teardown work.
//
// Teardown is collected, not done: the logic (a pool worker, or the main thread's sweep) removes a
// set from the contact table and notes the kernel work that removal owes; whoever runs the logic
// takes the notes and hands them to the main thread's executor (as Plan.after, or directly). The
// thread that removed a set from the table, with one atomic step, is the only one that owes its
// teardown, so every set is torn down once and its SPI pair released once.

import type { Config } from '../config/index.js';
import { selectionPolicyOf } from '../config/index.js';
import type { XfrmWhy, XfrmWork } from '../engine/plan.js';
import type { SelectionPolicy } from '../secagree/index.js';
import type { SaSet } from '../shared/binding.js';
import type { ContactTable } from '../shared/contact-table.js';
import type { SharedCounters } from '../shared/counters.js';
import type { ProtectedPorts } from '../shared/protected-ports.js';
import type { SpiAllocator } from '../shared/spi-allocator.js';
import { familyOf } from '../transport/addresses.js';
import type { SocketTable } from '../transport/sockets.js';
import { IpsecError } from './errors.js';
import { IpsecMetrics } from './metrics.js';
import { deleteOps, saSetIds, type TunnelSelectors } from './sa-set.js';

export interface IpsecContextOptions {
  readonly config: Config;
  readonly sockets: SocketTable;
  readonly contacts: ContactTable;
  readonly spis: SpiAllocator;
  readonly ports: ProtectedPorts;
  /** The P-CSCF's counters (PCSCF_METRICS, which include IPSEC_METRICS). */
  readonly counters: SharedCounters;
  /** Unix seconds. */
  readonly now: () => number;
}

export class IpsecContext {
  /** The contact table's name, Kamailio's usrloc domain (contacts.domain). */
  readonly domain: string;
  readonly contacts: ContactTable;
  readonly spis: SpiAllocator;
  readonly ports: ProtectedPorts;
  readonly sockets: SocketTable;
  readonly now: () => number;
  readonly metrics: IpsecMetrics;
  readonly selection: SelectionPolicy;
  readonly marker: number;
  /** ipsec_reuse_server_port: a re-registration keeps port_ps (TS 33.203 §7.4). */
  readonly reuseServerPort: boolean;
  readonly temporarySeconds: number;
  /** security.forward_flags: the ipsecForward flags of the built-in routing. */
  readonly forwardFlags: number;
  readonly createFailureStatus: number;
  private pending: XfrmWork[] = [];

  constructor(o: IpsecContextOptions) {
    this.domain = o.config.contacts.domain;
    this.contacts = o.contacts;
    this.spis = o.spis;
    this.ports = o.ports;
    this.sockets = o.sockets;
    this.now = o.now;
    this.metrics = new IpsecMetrics(o.counters);
    this.selection = selectionPolicyOf(o.config);
    this.marker = o.config.security.xfrm_user_marker;
    this.reuseServerPort = o.config.ipsec_reuse_server_port === 1;
    this.temporarySeconds = o.config.security.temporary_sa_timeout_s;
    this.forwardFlags = o.config.security.forward_flags;
    this.createFailureStatus = o.config.security.create_failure_status;
  }

  /** Throws IPSEC_UNKNOWN_DOMAIN unless `domain` names this contact table. */
  checkDomain(domain: string): void {
    if (domain !== this.domain) throw new IpsecError('IPSEC_UNKNOWN_DOMAIN', `unknown domain ${JSON.stringify(domain)}: the contact table is ${JSON.stringify(this.domain)} (contacts.domain)`);
  }

  /** What names the kernel objects of `set`, built for the UE at `ueAddr`. */
  selectors(ueAddr: string, set: SaSet): TunnelSelectors | undefined {
    const family = familyOf(ueAddr);
    const pcscfAddr = this.sockets.protectedAddress(family);
    if (pcscfAddr === undefined) return undefined;
    return {
      family, pcscfAddr, ueAddr, marker: this.marker,
      spiUc: set.spiUc, spiUs: set.spiUs, spiPc: set.spiPc, spiPs: set.spiPs,
      portUc: set.portUc, portUs: set.portUs, portPc: set.portPc, portPs: set.portPs,
    };
  }

  /**
   * Notes that `set` (of the UE at `ueAddr`) left the contact table and its SAs must go; with
   * `deleted`, they are already gone and only its SPI pair is owed.
   */
  teardown(ueAddr: string, set: SaSet, why: XfrmWhy, deleted = false): void {
    const sel = this.selectors(ueAddr, set);
    // A set is only ever created for a family with a protected address, and the configuration
    // cannot change while the process runs.
    if (sel === undefined) return;
    this.pending.push({ ops: deleted ? [] : deleteOps(saSetIds(sel)), release: [set.spiPc], what: why });
  }

  /** The teardown noted since the last call, or undefined. */
  takeTeardown(): readonly XfrmWork[] | undefined {
    if (this.pending.length === 0) return undefined;
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
