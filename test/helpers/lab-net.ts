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
