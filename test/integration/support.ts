// What the integration suites share: a lab (three namespaces and a P-CSCF process), SIPp runs as
// UE and registrar, metric snapshots compared before and after a flow, and the clean-stop check.

import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { createLabNet, labPcscfConfig, type LabNet, type LabPcscfOptions } from '../helpers/lab-net.js';
import { PcscfProcess, sampleValue, type Sample } from '../helpers/pcscf-process.js';
import type { Netns } from '../helpers/netns.js';
import { describe, runSipp, startSipp, type SippOptions, type SippResult, type SippRun, type SippTransport } from '../helpers/sipp.js';
import { settle } from '../helpers/poll.js';

export interface Lab {
  readonly net: LabNet;
  readonly pcscf: PcscfProcess;
}

/** A fresh lab with a running P-CSCF; on failure nothing is left behind. */
export async function startLab(tag: string, o: LabPcscfOptions): Promise<Lab> {
  const net = createLabNet(tag);
  try {
    return { net, pcscf: await PcscfProcess.start(net.pcscf, { config: labPcscfConfig(net, o) }) };
  } catch (e) {
    net.delete();
    throw e;
  }
}

/** Kills whatever still runs and removes the namespaces (for test.after, whatever happened). */
export async function closeLab(lab: Lab | undefined): Promise<void> {
  if (lab === undefined) return;
  try {
    await lab.pcscf.stop('SIGKILL');
  } finally {
    lab.net.delete();
  }
}

/**
 * SIGTERM: the process exits 0 after logging "stopped", and its namespace is left without a
 * socket (TIME-WAIT remnants of closed connections aside, which the kernel owns) or a process.
 */
export async function stopCleanly(lab: Lab): Promise<void> {
  const exit = await lab.pcscf.stop('SIGTERM');
  assert.is(exit.signal, null, `the P-CSCF was not killed: ${exit.log.slice(-2000)}`);
  assert.is(exit.code, 0, `exit status 0: ${exit.log.slice(-2000)}`);
  assert.match(exit.log, /"msg":"stopping"/);
  assert.match(exit.log, /"msg":"stopped"/);
  assert.not.match(exit.log, /"level":(50|60)/, 'no error or fatal line in the log');
  const sockets = lab.net.pcscf.exec('ss', '-H', '-a', '-n', '-t', '-u').split('\n').filter((l) => l.trim() !== '' && !l.includes('TIME-WAIT'));
  assert.equal(sockets, [], 'no UDP or TCP socket left in the namespace');
  // Asked from outside: run inside, `ip netns pids` would list itself.
  assert.is(execFileSync('ip', ['netns', 'pids', lab.net.pcscf.name], { encoding: 'utf8' }).trim(), '', 'no process left in the namespace');
}

/** Counter values before and after a flow. */
export class MetricDelta {
  private constructor(private readonly before: Sample[], private after: Sample[] = []) {}

  static async start(lab: Lab): Promise<MetricDelta> {
    return new MetricDelta(await lab.pcscf.metrics());
  }

  async end(lab: Lab): Promise<this> {
    this.after = await lab.pcscf.metrics();
    return this;
  }

  of(name: string, labels: Record<string, string> = {}): number {
    return sampleValue(this.after, name, labels) - sampleValue(this.before, name, labels);
  }

  requests(direction: 'in' | 'out', transport: 'udp' | 'tcp', method: string): number {
    return this.of('pcscf_sip_requests_total', { direction, transport, method });
  }

  responses(direction: 'in' | 'out', transport: 'udp' | 'tcp', cls: string): number {
    return this.of('pcscf_sip_responses_total', { direction, transport, class: cls });
  }
}

export type Family = 4 | 6;

/** An address as SIPp's remote argument and as a URI host: IPv6 in brackets. */
const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

function ueAddr(lab: Lab, family: Family): string {
  return family === 4 ? lab.net.addr.ue4 : lab.net.addr.ue6;
}

/** The P-CSCF's address on the UE link. */
function pcscfUeAddr(lab: Lab, family: Family): string {
  return family === 4 ? lab.net.addr.pcscfUe4 : lab.net.addr.pcscfUe6;
}

export const aorOf = (user: string): string => `sip:${user}@ims.example`;

/** The Path the lab's P-CSCF puts in a REGISTER (towards the core, IPv4). */
export const labPath = (lab: Lab): string => `<sip:term@${lab.net.addr.pcscfCore4}:5060;lr>`;

export interface UeRun {
  user: string;
  family: Family;
  transport: SippTransport;
  /** The UE's port (0: SIPp picks; with 'un' each call has its own). */
  port?: number;
  calls?: number;
  /** SIPp -d, the pause of scenarios with <pause/>, ms. */
  pauseMs?: number;
}

/** SIPp options of a UE scenario (client or server) at the UE's address; as a client it talks to the lab's P-CSCF. */
export function ueSipp(lab: Lab, scenario: string, u: UeRun, keys?: Record<string, string>): SippOptions {
  return {
    ns: lab.net.ue, scenario, localIp: ueAddr(lab, u.family), localPort: u.port ?? 0, transport: u.transport,
    remote: hostPort(pcscfUeAddr(lab, u.family), 5060), service: u.user, calls: u.calls ?? 1, timeoutS: 30,
    extraArgs: ['-au', `${u.user}@ims.example`, '-ap', 'secret', ...(u.pauseMs === undefined ? [] : ['-d', String(u.pauseMs)])],
    ...(keys === undefined ? {} : { keys }),
  };
}

/**
 * SIPp options of a core scenario on the core's IPv4 address, port 5060, over UDP: the registrar,
 * the far end of originating requests, or (with keys) the sender of terminating ones.
 */
export function coreSipp(lab: Lab, scenario: string, calls = 1, keys?: Record<string, string>): SippOptions {
  return {
    ns: lab.net.core, scenario, localIp: lab.net.addr.core4, localPort: 5060, transport: 'u1', calls, timeoutS: 30,
    remote: hostPort(lab.net.addr.pcscfCore4, 5060), ...(keys === undefined ? {} : { keys }),
  };
}

/** Waits until something listens on transport addr:port inside `ns` (a SIPp that has just been started). */
export async function listening(ns: Netns, transport: 'udp' | 'tcp', addr: string, port: number): Promise<void> {
  const local = `${addr.includes(':') ? `[${addr}]` : addr}:${port} `;
  const ok = await settle(() => ns.exec('ss', '-H', '-l', '-n', transport === 'udp' ? '-u' : '-t').includes(local), Boolean, 10_000, 100);
  assert.ok(ok, `something listens on ${transport} ${local}in ${ns.name}`);
}

/** Waits for a SIPp that ends by itself; stops it after `graceMs` if it does not (it then reports what it missed). */
export async function finish(run: SippRun, graceMs = 5000): Promise<SippResult> {
  const timer = setTimeout(() => void run.stop(), graceMs);
  const r = await run.done;
  clearTimeout(timer);
  return r;
}

/**
 * Runs a SIPp server scenario (started first, listening before the client starts) against a
 * client scenario; both must end with every call of the client successful.
 */
export async function sippPair(server: SippOptions, client: SippOptions): Promise<{ server: SippResult; client: SippResult }> {
  const run = startSipp(server);
  let c: SippResult;
  try {
    const tcp = server.transport === 't1' || server.transport === 'tn';
    await listening(server.ns, tcp ? 'tcp' : 'udp', server.localIp, server.localPort ?? 5060);
    c = await runSipp(client);
  } finally {
    await finish(run);
  }
  const srv = await run.done;
  const calls = client.calls ?? 1;
  assert.is(c.successful, calls, `client ${client.scenario}: ${describe(c)}`);
  assert.is(c.failed, 0, `client ${client.scenario}: ${describe(c)}`);
  assert.is(srv.successful, calls, `server ${server.scenario}: ${describe(srv)}`);
  return { server: srv, client: c };
}

/** A UE scenario against a core scenario (the UE is the client). */
export async function uePair(lab: Lab, ueScenario: string, coreScenario: string, u: UeRun, keys?: Record<string, string>): Promise<{ ue: SippResult; core: SippResult }> {
  const r = await sippPair(coreSipp(lab, coreScenario, u.calls ?? 1), ueSipp(lab, ueScenario, u, keys));
  return { ue: r.client, core: r.server };
}

/** Registers `u` (REGISTER, 401, REGISTER, 200) through the P-CSCF. */
export function register(lab: Lab, u: UeRun): Promise<{ ue: SippResult; core: SippResult }> {
  return uePair(lab, 'ue-register.xml', 'registrar.xml', u);
}

