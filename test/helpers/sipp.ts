// SIPp (Debian package sip-tester) as UE, registrar and core peer in tests and benchmarks: runs a
// scenario inside a network namespace and reads back its statistics and message log.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';

export const SCENARIOS = resolve(fileURLToPath(new URL('../sipp/', import.meta.url)));

export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

export interface SippOptions {
  ns: Netns;
  /** Scenario file name under test/sipp/ or an absolute path. */
  scenario: string;
  /** UAC: where to send (`host:port`, IPv6 in brackets). */
  remote?: string;
  localIp: string;
  /** 0 lets SIPp pick. */
  localPort?: number;
  transport?: SippTransport;
  /** -m: stop after this many calls. */
  calls?: number;
  /** Calls per second (-r); with `ratePeriodMs` (-rp). */
  rate?: number;
  ratePeriodMs?: number;
  /** -l: most simultaneous calls. */
  limit?: number;
  /** -s: the [service] keyword (user part). */
  service?: string;
  /** -max_socket, for the socket-per-call transports `un` / `tn` (SIPp refuses to start when its default exceeds the open-file limit). Default 4096 with those. */
  maxSockets?: number;
  /** -trace_msg (SippResult.messages); default true. Off for load runs, where the log costs SIPp more than the calls. */
  traceMessages?: boolean;
  /** -trace_rtt with -rtt_freq 1: every response time, in SippResult.rtts. */
  rtt?: boolean;
  /** -inf: CSV injection file. */
  injection?: string;
  /** -key name value, for [name] in the scenario. */
  keys?: Readonly<Record<string, string>>;
  /** Hard limit for the whole run (SIPp -timeout), seconds. */
  timeoutS?: number;
  /** Default receive timeout (-recv_timeout), ms: a scenario step waiting longer fails the call. */
  recvTimeoutMs?: number;
  extraArgs?: readonly string[];
}

export interface SippStats {
  successful: number;
  failed: number;
  retransmissions: number;
  outOfCallMessages: number;
  /** Response-time repartition (rtd="true" in the scenario): [upper bound ms, count]; the last bound is Infinity. */
  responseTimes: [number, number][];
}

export interface Rtt {
  /** When it was measured (the end of the exchange), ms since SIPp started. */
  atMs: number;
  ms: number;
}

export interface SippResult extends SippStats {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Every message SIPp sent and received (-trace_msg). */
  messages: string;
  /** What SIPp reported as unexpected (-trace_err). */
  errors: string;
  /** Every response time measured, with `rtt: true`, in SIPp's resolution (whole ms). */
  rtts: Rtt[];
}

export interface SippRun {
  readonly process: ChildProcess;
  readonly done: Promise<SippResult>;
  /** SIGTERM (SIPp then writes its final statistics) and wait. */
  stop(): Promise<SippResult>;
}

function args(o: SippOptions, dir: string): string[] {
  const scenario = o.scenario.startsWith('/') ? o.scenario : join(SCENARIOS, o.scenario);
  const a = ['-sf', scenario, '-i', o.localIp, '-p', String(o.localPort ?? 0), '-t', o.transport ?? 'u1', '-nostdin',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1'];
  if (o.traceMessages !== false) a.push('-trace_msg', '-message_file', join(dir, 'messages.log'));
  if (o.calls !== undefined) a.push('-m', String(o.calls));
  if (o.rate !== undefined) a.push('-r', String(o.rate));
  if (o.ratePeriodMs !== undefined) a.push('-rp', String(o.ratePeriodMs));
  if (o.limit !== undefined) a.push('-l', String(o.limit));
  if (o.service !== undefined) a.push('-s', o.service);
  const perCall = o.transport === 'un' || o.transport === 'tn';
  if (o.maxSockets !== undefined || perCall) a.push('-max_socket', String(o.maxSockets ?? 4096));
  if (o.injection !== undefined) a.push('-inf', o.injection);
  if (o.rtt === true) a.push('-trace_rtt', '-rtt_freq', '1');
  for (const [k, v] of Object.entries(o.keys ?? {})) a.push('-key', k, v);
  if (o.timeoutS !== undefined) a.push('-timeout', `${o.timeoutS}s`, '-timeout_error');
  if (o.recvTimeoutMs !== undefined) a.push('-recv_timeout', String(o.recvTimeoutMs));
  a.push(...(o.extraArgs ?? []));
  if (o.remote !== undefined) a.push(o.remote);
  return a;
}

/** The last row of SIPp's statistics CSV, by column name. */
function lastStats(file: string): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(file)) return m;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0]?.split(';') ?? [];
  const row = lines.at(-1)?.split(';') ?? [];
  head.forEach((h, i) => m.set(h, row[i] ?? ''));
  return m;
}

/** The response times of SIPp's RTT file: a header, then `date_ms;response_time_ms;rtd_no` per line. */
function rtts(text: string): Rtt[] {
  const out: Rtt[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [at, ms] = line.split(';').map(Number);
    if (Number.isFinite(at) && Number.isFinite(ms)) out.push({ atMs: at!, ms: ms! });
  }
  return out;
}

function repartition(stats: Map<string, string>): [number, number][] {
  // Columns like ResponseTimeRepartition1_<10(C), ..._>=200(C): ms upper bounds and cumulated counts.
  const out: [number, number][] = [];
  for (const [name, value] of stats) {
    const m = /^ResponseTimeRepartition\d*_(<|>=)(\d+)\(C\)$/.exec(name);
    if (m === null) continue;
    out.push([m[1] === '<' ? Number(m[2]) : Number.POSITIVE_INFINITY, Number(value)]);
  }
  return out;
}

// A SIPp still running when the test process exits (a failed assertion skipped its stop()) is killed.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function startSipp(o: SippOptions): SippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const child = spawn('ip', ['netns', 'exec', o.ns.name, 'sipp', ...args(o, dir)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const read = (name: string): string => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'latin1') : '');
  const done = new Promise<SippResult>((resolveRun) => {
    child.on('close', (code) => {
      live.delete(child);
      const files = readdirSync(dir);
      const stats = lastStats(files.includes('stat.csv') ? join(dir, 'stat.csv') : '');
      const num = (k: string): number => Number(stats.get(k) ?? 0);
      const rttFile = files.find((f) => f.endsWith('_rtt.csv'));
      const result: SippResult = {
        exitCode: code, stdout, stderr, messages: read('messages.log'), errors: read('errors.log'),
        successful: num('SuccessfulCall(C)'), failed: num('FailedCall(C)'), retransmissions: num('Retransmissions(C)'),
        outOfCallMessages: num('OutOfCallMsgs(C)'), responseTimes: repartition(stats),
        rtts: rttFile === undefined ? [] : rtts(read(rttFile)),
      };
      rmSync(dir, { recursive: true, force: true });
      resolveRun(result);
    });
  });
  return {
    process: child,
    done,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return done;
    },
  };
}

export function runSipp(o: SippOptions): Promise<SippResult> {
  return startSipp(o).done;
}

/** A short description for assertion messages: exit code, counts and the tail of SIPp's own log. */
export function describe(r: SippResult): string {
  return `sipp exit ${r.exitCode}, ${r.successful} ok / ${r.failed} failed; errors: ${r.errors.slice(-1500)} stderr: ${r.stderr.slice(-500)}`;
}

export interface LoggedMessage {
  direction: 'sent' | 'received';
  transport: 'UDP' | 'TCP';
  text: string;
}

/** The messages of SIPp's message log (-trace_msg), in order. */
export function loggedMessages(log: string): LoggedMessage[] {
  const out: LoggedMessage[] = [];
  const head = /^-{20,} [^\n]*\n(UDP|TCP) message (sent|received)[^\n]*\n\n/gm;
  const starts = [...log.matchAll(head)];
  starts.forEach((m, i) => {
    const from = m.index + m[0].length;
    const to = starts[i + 1]?.index ?? log.length;
    out.push({ direction: m[2] as 'sent' | 'received', transport: m[1] as 'UDP' | 'TCP', text: log.slice(from, to).replace(/\n+$/, '') });
  });
  return out;
}

/** How many requests of `method` SIPp sent or received, from its message log. */
export function countRequests(r: SippResult, direction: 'sent' | 'received', method: string): number {
  return loggedMessages(r.messages).filter((m) => m.direction === direction && m.text.startsWith(`${method} `)).length;
}

/** How many responses of a status class ('2xx') or status ('401') SIPp sent or received. */
export function countResponses(r: SippResult, direction: 'sent' | 'received', status: string): number {
  const re = new RegExp(`^SIP/2\\.0 ${status.replace(/x/g, '\\d')} `);
  return loggedMessages(r.messages).filter((m) => m.direction === direction && re.test(m.text)).length;
}
