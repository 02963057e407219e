// The three-namespace lab of the integration tests: UE <-> P-CSCF <-> core, each link with IPv4
// and IPv6. The P-CSCF namespace is the only one that reaches both sides, so whatever the UE and
// the core exchange must have crossed the P-CSCF.

import { createNetns, vethPair, type Netns } from './netns.js';

export interface LabNet {
  readonly ue: Netns;
  readonly pcscf: Netns;
  readonly core: Netns;
  readonly addr: {
    readonly ue4: string; readonly ue6: string;
    /** The P-CSCF's addresses on the UE link. */
    readonly pcscfUe4: string; readonly pcscfUe6: string;
    /** The P-CSCF's addresses on the core link. */
    readonly pcscfCore4: string; readonly pcscfCore6: string;
    readonly core4: string; readonly core6: string;
  };
  delete(): void;
}

export function createLabNet(tag: string): LabNet {
  const ue = createNetns(`${tag}-ue`);
  const pcscf = createNetns(`${tag}-pc`);
  const core = createNetns(`${tag}-core`);
  const addr = {
    ue4: '10.41.1.2', ue6: 'fd00:41:1::2', pcscfUe4: '10.41.1.1', pcscfUe6: 'fd00:41:1::1',
    pcscfCore4: '10.41.2.1', pcscfCore6: 'fd00:41:2::1', core4: '10.41.2.2', core6: 'fd00:41:2::2',
  };
  try {
    vethPair({ ns: ue, addrs: [`${addr.ue4}/24`, `${addr.ue6}/64`] }, { ns: pcscf, addrs: [`${addr.pcscfUe4}/24`, `${addr.pcscfUe6}/64`] });
    vethPair({ ns: pcscf, addrs: [`${addr.pcscfCore4}/24`, `${addr.pcscfCore6}/64`] }, { ns: core, addrs: [`${addr.core4}/24`, `${addr.core6}/64`] });
  } catch (e) {
    for (const ns of [ue, pcscf, core]) ns.delete();
    throw e;
  }
  return { ue, pcscf, core, addr, delete: () => { for (const ns of [ue, pcscf, core]) ns.delete(); } };
}

export interface LabPcscfOptions {
  /** workers.pool_size: 0 runs the logic inline. */
  poolSize: number;
  /** IP families to listen on (UDP and TCP on both links for each). Default both. */
  families?: readonly (4 | 6)[];
  /** Where REGISTERs and originating requests go. Default: the core's IPv4 address, port 5060, UDP. */
  nextHop?: string;
  graceS?: number;
  logLevel?: string;
  /** Extra `sip` keys (timers, limits, ...). */
  sip?: Record<string, unknown>;
}

/**
 * The P-CSCF configuration of the lab: unprotected UDP and TCP listeners on port 5060 facing the
 * UE link (access) and the core link (core), the core's addresses as trusted peers, the HTTP
 * endpoint on the namespace's loopback, IPsec off.
 */
export function labPcscfConfig(net: LabNet, o: LabPcscfOptions): Record<string, unknown> {
  const { addr } = net;
  const listen = [];
  for (const family of o.families ?? [4, 6]) {
    const [ue, core] = family === 4 ? [addr.pcscfUe4, addr.pcscfCore4] : [addr.pcscfUe6, addr.pcscfCore6];
    for (const transport of ['udp', 'tcp']) {
      listen.push({ transport, address: ue, port: 5060, side: 'access' }, { transport, address: core, port: 5060, side: 'core' });
    }
  }
  return {
    sip: { listen, next_hop: o.nextHop ?? `sip:${addr.core4}:5060`, trusted_peers: [addr.core4, addr.core6], ...o.sip },
    http: { listen: '127.0.0.1:9090' },
    workers: { pool_size: o.poolSize },
    shutdown: { grace_s: o.graceS ?? 1 },
    log: { level: o.logLevel ?? 'info' },
  };
}
