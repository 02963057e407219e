// The three-namespace lab around the real P-CSCF over real ESP, for the end-to-end suites
// (test/esp/e2e-*.test.ts): the P-CSCF's IPsec configuration, the lab S-CSCF and lab UEs as
// compiled processes (dist/, which the test runner builds before the ESP suites; node under tsx
// starts several times slower in the ESP VM), and what each namespace's kernel holds, read through
// iproute2 so that the assertions do not trust our own netlink decoder.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePolicies, parseStates, parseXfrmStat, type IpPolicy, type IpState } from './iproute.js';
import { labPcscfConfig, type LabNet } from './lab-net.js';
import { LabProcess, type LabEvent } from './lab-process.js';
import type { Netns } from './netns.js';
import { PcscfProcess } from './pcscf-process.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The default security.xfrm_user_marker: the selector `user` of everything the P-CSCF installs. */
export const PCSCF_MARKER = 143956232;
/** Where the lab S-CSCF listens in the core namespace (UDP and TCP). */
export const SCSCF_PORT = 6060;
/**
 * QEMU without KVM is slow, and slower still when other VMs share the host's cores: this bounds
 * one step's failure, it is not what a step takes.
 */
export const STEP_MS = 120_000;

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';

export const impuOf = (user: string): string => `sip:${user}@ims.example`;
const impiOf = (user: string): string => `${user}@ims.example`;

/** `node dist/<entry>.js`, or the source under tsx when dist/ was not built (a run on the host). */
function entry(name: string): string[] {
  const built = join(ROOT, 'dist', `${name}.js`);
  return existsSync(built) ? [process.execPath, built] : [process.execPath, '--import', 'tsx', join(ROOT, 'src', `${name}.ts`)];
}

/** The P-CSCF in the lab's P-CSCF namespace: compiled when dist/ is there; resolves once it has started. */
export function startPcscf(net: LabNet, config: Record<string, unknown>): Promise<PcscfProcess> {
  const entry = existsSync(join(ROOT, 'dist', 'main.js')) ? 'dist' : 'source';
  // Start-up loads the pool's workers too: in a loaded VM that has taken more than a minute.
  return PcscfProcess.start(net.pcscf, { config, entry, readyTimeoutMs: 3 * STEP_MS });
}

export interface EspPcscfOptions {
  poolSize: number;
  /** ipsec_spi_id_start. */
  spiStart: number;
  temporarySaTimeoutS?: number;
}

/**
 * The lab P-CSCF (labPcscfConfig: unprotected UDP and TCP on 5060 towards the UE and the core,
 * IPv4 and IPv6) with IPsec on both families of the UE link and the lab S-CSCF as next hop.
 */
export function espPcscfConfig(net: LabNet, o: EspPcscfOptions): Record<string, unknown> {
  return {
    ...labPcscfConfig(net, { poolSize: o.poolSize, nextHop: `sip:${net.addr.core4}:${SCSCF_PORT}` }),
    ipsec_listen_addr: net.addr.pcscfUe4,
    ipsec_listen_addr6: net.addr.pcscfUe6,
    ipsec_spi_id_start: o.spiStart,
    security: { temporary_sa_timeout_s: o.temporarySaTimeoutS ?? 30, teardown_delay_ms: 200 },
  };
}

/** The lab S-CSCF in the core namespace with one subscriber per user name; resolves once it listens. */
export async function startScscf(net: LabNet, users: readonly string[]): Promise<LabProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'esp-lab-'));
  const file = join(dir, 'subscribers.json');
  writeFileSync(file, JSON.stringify({ subscribers: users.map((u) => ({ impi: impiOf(u), impu: impuOf(u), k: K, opc: OPC })) }));
  const scscf = LabProcess.start(net.core.name, [...entry('lab/scscf-main'), '--addr', net.addr.core4, '--port', String(SCSCF_PORT), '--subscribers', file], 'S-CSCF');
  try {
    await scscf.waitFor((e) => e.event === 'listening', STEP_MS, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return scscf;
}

export interface LabUeOptions {
  user: string;
  family: 4 | 6;
  transport: 'udp' | 'tcp';
  /** --ports: unprotected BASE, port_us BASE+1, port_uc BASE+2 / BASE+3. */
  ports: number;
  /** --spi: the UE's SPIs BASE .. BASE+3. */
  spi: number;
  expires?: number;
}

export interface LabUe {
  readonly proc: LabProcess;
  readonly impu: string;
  /** The UE's address, and the P-CSCF's on the UE link, of the UE's family. */
  readonly addr: string;
  readonly pcscfAddr: string;
}

/** A lab UE in the UE namespace; resolves once it is ready. */
export async function startUe(net: LabNet, o: LabUeOptions): Promise<LabUe> {
  const addr = o.family === 4 ? net.addr.ue4 : net.addr.ue6;
  const pcscfAddr = o.family === 4 ? net.addr.pcscfUe4 : net.addr.pcscfUe6;
  const proc = LabProcess.start(net.ue.name, [...entry('lab/ue-main'), '--impi', impiOf(o.user), '--impu', impuOf(o.user), '--k', K, '--opc', OPC,
    '--addr', addr, '--pcscf', pcscfAddr, '--transport', o.transport, '--ports', String(o.ports), '--spi', String(o.spi),
    ...(o.expires === undefined ? [] : ['--expires', String(o.expires)])], `UE ${o.user} ${o.transport}/IPv${o.family}`);
  await proc.waitFor((e) => e.event === 'ready', STEP_MS, 0);
  return { proc, impu: impuOf(o.user), addr, pcscfAddr };
}

/** The four SPIs of a `sas-installed` event, in the order spi_ps, spi_us, spi_uc, spi_pc. */
export function spisOf(e: LabEvent): number[] {
  return [e['spiPs'], e['spiUs'], e['spiUc'], e['spiPc']] as number[];
}

/** Registers `ue` (initial registration); returns its `sas-installed` event. */
export async function register(ue: LabUe): Promise<LabEvent> {
  const from = ue.proc.events.length;
  await ue.proc.command({ cmd: 'register' }, 'registered', STEP_MS);
  // The SAs are installed before the protected REGISTER leaves, so before `registered`.
  return ue.proc.waitFor((e) => e.event === 'sas-installed', 0, from);
}

export interface KernelView {
  sas: IpState[];
  policies: IpPolicy[];
}

const host = (a: string): string => a.replace(/\/\d+$/, '');

/** The SAs and policies of a namespace (those with `addr` as one end, when given). */
export function kernel(ns: Netns, addr?: string): KernelView {
  const sas = parseStates(ns.ip('-s', '-d', 'xfrm', 'state', 'list'));
  // -s: iproute2 prints the selector's user ("uid") only with statistics on.
  const policies = parsePolicies(ns.ip('-s', '-d', 'xfrm', 'policy', 'list'));
  if (addr === undefined) return { sas, policies };
  const touches = (x: { src: string; dst: string }): boolean => host(x.src) === addr || host(x.dst) === addr;
  return { sas: sas.filter(touches), policies: policies.filter(touches) };
}

/** The entries of a view that carry `marker` in their selector's user field. */
export function marked(view: KernelView, marker = PCSCF_MARKER): KernelView {
  return { sas: view.sas.filter((s) => s.sel.uid === marker), policies: view.policies.filter((p) => p.uid === marker) };
}

/** SPI -> packets of the SAs in a view. */
export function packets(view: KernelView): Map<number, number> {
  return new Map(view.sas.map((s) => [s.spi, s.packets]));
}

/** The namespace's /proc/net/xfrm_stat. */
export function xfrmStat(ns: Netns): Record<string, number> {
  return parseXfrmStat(ns.exec('cat', '/proc/net/xfrm_stat'));
}

/**
 * Runs a suite's set-up, printing its failure: uvu runs no test after a failing before() hook and
 * swallows the error, so without this a run only says "0 / N".
 */
export async function reportFailure(setUp: () => Promise<void>): Promise<void> {
  try {
    await setUp();
  } catch (e) {
    console.error('set-up failed:', e);
    throw e;
  }
}

/** Sends `text` once with socat from inside `ns` (UDP datagram, or a TCP connection attempt) from addr:sport to host:port. */
export function socatSend(ns: Netns, o: { transport: 'udp' | 'tcp'; family: 4 | 6; from: string; sport: number; to: string; port: number; text: string }): Promise<{ code: number; stderr: string }> {
  const lit = (a: string): string => (o.family === 6 ? `[${a}]` : a);
  const kind = `${o.transport.toUpperCase()}${o.family}`;
  const address = `${kind}:${lit(o.to)}:${o.port},bind=${lit(o.from)}:${o.sport}${o.transport === 'tcp' ? ',connect-timeout=2' : ''}`;
  return new Promise((resolveSend) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, 'socat', '-u', 'STDIN', address], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.end(o.text);
    child.once('error', (e) => resolveSend({ code: -1, stderr: String(e) }));
    child.once('close', (code) => resolveSend({ code: code ?? -1, stderr }));
  });
}
