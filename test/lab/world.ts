// The lab in one process for tests without a kernel: the S-CSCF, the P-CSCF stand-in and UEs on
// loopback (inside the test file's own namespace), SAs recorded by a fake netlink client instead of
// being installed.

import type { Transport } from '../../src/engine/plan.js';
import type { GroupResult, XfrmOp } from '../../src/netlink/xfrm-types.js';
import { Scscf, type ScscfEvent, type ScscfOptions } from '../../src/lab/scscf.js';
import { parseSubscriberFile, SubscriberStore } from '../../src/lab/subscribers.js';
import { Ue, type UeEvent, type UeOptions, type XfrmSubmitter } from '../../src/lab/ue.js';
import type { SipNode } from '../../src/lab/sip-node.js';
import { PcscfStandin, type StandinOptions } from '../helpers/pcscf-standin.js';

/** TS 35.208 test set 1. */
export const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
export const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
export const IMPI = 'alice@ims.example';
export const IMPU = 'sip:alice@ims.example';
export const TEL = 'tel:+15550100';
export const UE_MARKER = 0x4c616255;
export const PCSCF_MARKER = 143956232;

export const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;
export const SCSCF_PORT = 6060;
export const PCSCF_PORT = 5060;
export const PCSCF_SERVER_PORT = 5064;
export const PCSCF_CLIENT_PORTS = [5062, 5063] as const;
export const PCSCF_SPI_BASE = 3000;
export const UE_PORTS = { unprotected: 7060, server: 7061, clients: [7062, 7063] as const };
export const UE_SPI_BASE = 10000;

/** Records every group it is given; `fail` makes the next groups fail at one op with an errno. */
export class FakeXfrm implements XfrmSubmitter {
  readonly groups: XfrmOp[][] = [];
  fail: { index: number; errno: number; errnoName: string } | undefined;

  submit(group: XfrmOp[]): Promise<GroupResult> {
    this.groups.push(group);
    const f = this.fail;
    if (f === undefined) return Promise.resolve({ ok: true, results: group.map(() => ({ ok: true as const })) });
    const results = group.map((_, i) => (i === f.index
      ? { ok: false as const, code: 'KERNEL' as const, errno: f.errno, errnoName: f.errnoName, message: `op ${i} failed` }
      : i < f.index ? { ok: true as const } : { ok: false as const, code: 'NOT_ATTEMPTED' as const, errno: 125, errnoName: 'ECANCELED', message: 'not attempted' }));
    return Promise.resolve({ ok: false, results, firstError: { index: f.index, result: results[f.index]! } });
  }

  /** The ops of every group, kind by kind: 'newsa', 'delpolicy'... in submission order. */
  kinds(): string[][] {
    return this.groups.map((g) => [...new Set(g.map((op) => op.op))]);
  }
}

export interface World {
  readonly family: 4 | 6;
  readonly addr: string;
  readonly scscf: Scscf;
  readonly scscfEvents: ScscfEvent[];
  readonly standin: PcscfStandin;
  readonly pcscfXfrm: FakeXfrm;
  readonly ueXfrm: FakeXfrm;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly family?: 4 | 6;
  readonly standin?: Partial<StandinOptions>;
  readonly scscf?: Partial<ScscfOptions>;
  /** The subscriber's next SQN at the HSS. */
  readonly sqn?: number;
  /** Also subscribers ue1@ims.example .. ue<count>@ims.example (sip:ue<n>@ims.example), for many UEs. */
  readonly count?: number;
}

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const family = o.family ?? 4;
  const addr = LOOPBACK[family];
  const many = o.count === undefined ? [] : [{ impi: 'ue{n}@ims.example', impu: 'sip:ue{n}@ims.example', k: K, opc: OPC, count: o.count }];
  const file = parseSubscriberFile({ subscribers: [{ impi: IMPI, impu: [IMPU, TEL], k: K, opc: OPC, sqn: o.sqn ?? 1 }, ...many] });
  const scscfEvents: ScscfEvent[] = [];
  const scscf = await Scscf.start({ addr, port: SCSCF_PORT, realm: file.realm, subscribers: new SubscriberStore(file.subscribers), ...o.scscf }, (e) => scscfEvents.push(e));
  const pcscfXfrm = new FakeXfrm();
  const standin = await PcscfStandin.start({
    addr, port: PCSCF_PORT, serverPort: PCSCF_SERVER_PORT, clientPorts: PCSCF_CLIENT_PORTS, spiBase: PCSCF_SPI_BASE,
    scscf: { addr, port: SCSCF_PORT }, xfrm: pcscfXfrm, marker: PCSCF_MARKER, ...o.standin,
  });
  return {
    family, addr, scscf, scscfEvents, standin, pcscfXfrm, ueXfrm: new FakeXfrm(),
    close: async () => {
      await standin.close();
      await scscf.close();
    },
  };
}

export function ueOptions(w: World, transport: Transport = 'udp', extra: Partial<UeOptions> = {}): UeOptions {
  return {
    impi: IMPI, impu: IMPU, k: Buffer.from(K, 'hex'), opc: Buffer.from(OPC, 'hex'), addr: w.addr,
    pcscf: { addr: w.addr, port: PCSCF_PORT }, transport, ports: UE_PORTS, spiBase: UE_SPI_BASE, marker: UE_MARKER, ...extra,
  };
}

/** A UE of the world with its events recorded. */
export function newUe(w: World, transport: Transport = 'udp', extra: Partial<UeOptions> = {}, node?: SipNode): { ue: Ue; events: UeEvent[] } {
  const events: UeEvent[] = [];
  const ue = new Ue(ueOptions(w, transport, extra), { xfrm: w.ueXfrm, onEvent: (e) => events.push(e), ...(node === undefined ? {} : { node }) });
  return { ue, events };
}
