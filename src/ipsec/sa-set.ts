// The SAs and policies of one registration (TS 33.203 §7.1: two SA pairs, one between the UE's
// protected client port and the P-CSCF's protected server port, one between the P-CSCF's client
// port and the UE's server port, shared by UDP and TCP). Rows 1-4 of kamailio-behaviour.md §6;
// its rows 5-8 cannot work (their SAs collide with 1-4) and are not built (decisions.md).
//
//   #  flow (src:port -> dst:port)   SPI      P-CSCF policy   UE policy
//   1  U:port_uc -> P:port_ps        spi_ps   in              out
//   2  P:port_pc -> U:port_us        spi_us   out             in
//   3  P:port_ps -> U:port_uc        spi_uc   out             in
//   4  U:port_us -> P:port_pc        spi_pc   in              out
//
// Inbound SAs carry the receiver's own SPIs (spi-c / spi-s name the SA that arrives at the
// protected client / server port: TS 33.203 Annex H). Every SA: ESP transport, reqid = SPI,
// replay window 32, no lifetime limit; every policy: priority 2080 and one required ESP
// transport template with that reqid, so an unprotected packet of the flow is dropped.

import type { AuthAlg, EncAlg } from './algorithms.js';
import { espAlgorithms } from '../netlink/algorithms.js';
import {
  IPPROTO_ESP, type IpFamily, type PolicyDir, type XfrmOp, type XfrmPolicy, type XfrmPolicyId, type XfrmSa,
  type XfrmSaId, type XfrmSelector,
} from '../netlink/xfrm-types.js';

/** What names the kernel objects of a tunnel: enough to delete them. */
export interface TunnelSelectors {
  family: IpFamily;
  pcscfAddr: string;
  ueAddr: string;
  spiUc: number;
  spiUs: number;
  spiPc: number;
  spiPs: number;
  portUc: number;
  portUs: number;
  portPc: number;
  portPs: number;
  /** Selector `user` of everything this process installs (DESIGN.md invariant 4). */
  marker: number;
}

/** Everything a tunnel is built from. */
export interface TunnelParams extends TunnelSelectors {
  alg: AuthAlg;
  ealg: EncAlg;
  ck: Uint8Array;
  ik: Uint8Array;
}

/** The kernel objects of one tunnel: its 4 SAs and 4 policies. */
export interface TunnelXfrm {
  sas: XfrmSa[];
  policies: XfrmPolicy[];
}

export interface TunnelXfrmIds {
  sas: XfrmSaId[];
  policies: XfrmPolicyId[];
}

export const POLICY_PRIORITY = 2080;
export const REPLAY_WINDOW = 32;

type Side = 'pcscf' | 'ue';

interface Flow {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  spi: number;
  /** Direction of the flow as the P-CSCF sees it. */
  pcscfDir: PolicyDir;
}

function flows(p: TunnelSelectors): Flow[] {
  const U = p.ueAddr;
  const P = p.pcscfAddr;
  return [
    { src: U, sport: p.portUc, dst: P, dport: p.portPs, spi: p.spiPs, pcscfDir: 'in' },
    { src: P, sport: p.portPc, dst: U, dport: p.portUs, spi: p.spiUs, pcscfDir: 'out' },
    { src: P, sport: p.portPs, dst: U, dport: p.portUc, spi: p.spiUc, pcscfDir: 'out' },
    { src: U, sport: p.portUs, dst: P, dport: p.portPc, spi: p.spiPc, pcscfDir: 'in' },
  ];
}

function selectorOf(p: TunnelSelectors, f: Flow): XfrmSelector {
  const prefix = p.family === 4 ? 32 : 128;
  return {
    family: p.family, saddr: f.src, prefixS: prefix, daddr: f.dst, prefixD: prefix,
    sport: f.sport, sportMask: 0xffff, dport: f.dport, dportMask: 0xffff,
    proto: 0, ifindex: 0, user: p.marker,
  };
}

const dirOn = (side: Side, f: Flow): PolicyDir => (side === 'pcscf' ? f.pcscfDir : f.pcscfDir === 'in' ? 'out' : 'in');

function build(p: TunnelParams, side: Side): TunnelXfrm {
  const algs = espAlgorithms(p.alg, p.ealg, p.ck, p.ik);
  const sas: XfrmSa[] = [];
  const policies: XfrmPolicy[] = [];
  for (const f of flows(p)) {
    const selector = selectorOf(p, f);
    sas.push({
      family: p.family, saddr: f.src, daddr: f.dst, spi: f.spi, proto: IPPROTO_ESP, reqid: f.spi,
      mode: 'transport', replayWindow: REPLAY_WINDOW, flags: 0, selector, ...algs,
    });
    policies.push({
      selector, dir: dirOn(side, f), action: 'allow', priority: POLICY_PRIORITY, index: 0,
      templates: [{ family: p.family, saddr: f.src, daddr: f.dst, spi: 0, proto: IPPROTO_ESP, reqid: f.spi, mode: 'transport', optional: false }],
    });
  }
  return { sas, policies };
}

/** The 4 SAs and 4 policies the P-CSCF installs for one UE. Throws AlgorithmError for an unusable alg/ealg pair or bad keys. */
export const buildPcscfSaSet = (p: TunnelParams): TunnelXfrm => build(p, 'pcscf');

/** The mirror image a UE installs: the same SAs, every policy direction reversed. */
export const buildUeSaSet = (p: TunnelParams): TunnelXfrm => build(p, 'ue');

/** What deletes the set `side` installed (DELSA / DELPOLICY ids; delete the policies first). */
export function saSetIds(p: TunnelSelectors, side: Side = 'pcscf'): TunnelXfrmIds {
  const fs = flows(p);
  return {
    sas: fs.map((f) => ({ family: p.family, daddr: f.dst, spi: f.spi, proto: IPPROTO_ESP, saddr: f.src })),
    policies: fs.map((f) => ({ selector: selectorOf(p, f), dir: dirOn(side, f) })),
  };
}

/** The group that installs a set: SAs first, so no policy ever points at a missing SA. */
export function createOps(set: TunnelXfrm): XfrmOp[] {
  return [...set.sas.map((sa): XfrmOp => ({ op: 'newsa', sa })), ...set.policies.map((policy): XfrmOp => ({ op: 'newpolicy', policy }))];
}

/** The group that removes a set: policies first, so no packet meets a policy without its SA. */
export function deleteOps(ids: TunnelXfrmIds): XfrmOp[] {
  return [...ids.policies.map((id): XfrmOp => ({ op: 'delpolicy', id })), ...ids.sas.map((id): XfrmOp => ({ op: 'delsa', id }))];
}
