// Registration throughput of the running P-CSCF under SIPp (issue 5 item 7): unprotected
// registrations (REGISTER, 401, REGISTER, 200 per UE) from a SIPp UE (`-t un`: every call is a UE
// of its own, with its own port and user) through the P-CSCF to a SIPp registrar, in the three
// namespaces of the integration lab, at rising rates, for `workers: 0` (the logic inline) and for
// the worker pool, in one run.
//
//   npx tsx bench/register.ts [--runs 3] [--pools 0,N] [--step-s 4] [--rates 100,200,...]
//   npm run bench:register
//
// N defaults to the default workers.pool_size of this machine (one less than its CPUs, at least 1).
// After a warm-up (3 s at 200/s, then 3 s at 1000/s, so that the pool workers' code is as
// optimised as the main thread's; not counted), each step offers `rate` registrations per second
// for `step-s` seconds (SIPp -r, -m). A step passes when under 0.1% of its calls failed (a call
// fails on an unexpected answer or after 4 s without one) and the registrations completed at 95%
// of the rate or more (first to last completion). SIPp measures response times in whole
// milliseconds: 0 means under 1 ms. Per configuration and run it prints
// the highest passing rate, the P-CSCF's CPU over that step (utime + stime of the whole process
// from /proc/<pid>/stat, all threads, per second of wall time: 100% = one core) and p50 / p99 of
// the whole registration, first REGISTER to 200 (SIPp rtd, every call from -trace_rtt), and the
// share of the decisions that pool workers took (pcscf_logic_messages_total: with a pool, a batch
// too small for a hand-off is decided in the main thread). Both
// configurations run side by side, each in a lab of its own, and take every rate in turn (the
// order alternating), so that they meet the same background load; a failing rate is tried once
// more, and a second failure ends that configuration's climb. The summary gives the median and
// the spread of the runs, and the pool's top rate against the inline one's, run by run.
//
// The machine has 2 cores shared by the P-CSCF (main thread and workers), two SIPp processes and
// whatever else runs: the load average is printed at the start and the end of every
// configuration, and SIPp's own CPU beside the P-CSCF's, so that a figure limited by SIPp or by a
// busy host can be told apart. Lines `BENCH {json}` are for machines.

import { availableParallelism, loadavg } from 'node:os';
import { defaultPoolSize } from '../src/config/schema.js';
import { createLabNet, labPcscfConfig, type LabNet } from '../test/helpers/lab-net.js';
import { PcscfProcess, sampleValue } from '../test/helpers/pcscf-process.js';
import { cpuSeconds } from '../test/helpers/proc-stat.js';
import { describe, startSipp, type SippRun } from '../test/helpers/sipp.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const RUNS = Number(opt('runs', '3'));
const POOLS = opt('pools', `0,${Math.max(1, defaultPoolSize(availableParallelism()))}`).split(',').map(Number);
const STEP_S = Number(opt('step-s', '4'));
// Finer near the top, where the two configurations part.
const RATES = opt('rates', '200,400,700,1000,1300,1600,1800,2000,2200,2400,2600,2800,3000,3300,3600,4000').split(',').map(Number);
const MAX_FAILED = 0.001;
const MIN_ACHIEVED = 0.95;
const RECV_TIMEOUT_MS = 4000;
const WARMUP: readonly (readonly [rate: number, seconds: number])[] = [[200, 3], [1000, 3]];
// SIPp's own socket buffers are 64 KB by default: the registrar (one socket) then drops the burst
// of REGISTERs that one batch of plans sends (its UdpRcvbufErrors: hundreds to thousands per step
// with the pool at 1600-2000/s, a few inline; none with 4 MB), and the drops, not the P-CSCF, set
// the top rate. The kernel caps this at net.core.rmem_max / wmem_max.
const SIPP_BUFFER = ['-buff_size', String(4 << 20)];

interface Step {
  workers: number;
  run: number;
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  /** Registrations completed per second, first to last. */
  achieved: number;
  retransmissions: number;
  pcscfCpu: number;
  ueSippCpu: number;
  registrarSippCpu: number;
  p50: number;
  p99: number;
  /** Share of the step's decisions taken by pool workers (pcscf_logic_messages_total), in %. */
  workerShare: number;
  passed: boolean;
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

function emit(name: string, fields: Record<string, number | string | boolean>): void {
  console.log(`BENCH ${JSON.stringify({ name, ...fields })}`);
}

/** Messages the P-CSCF logic has decided so far, in the main thread and in pool workers. */
async function decided(pcscf: PcscfProcess): Promise<{ main: number; worker: number }> {
  const samples = await pcscf.metrics();
  return {
    main: sampleValue(samples, 'pcscf_logic_messages_total', { thread: 'main' }),
    worker: sampleValue(samples, 'pcscf_logic_messages_total', { thread: 'worker' }),
  };
}

async function step(lab: LabNet, pcscf: PcscfProcess, registrarPid: number, workers: number, run: number, rate: number, prefix: number, seconds: number): Promise<Step> {
  const calls = rate * seconds;
  const d0 = await decided(pcscf);
  const ue = startSipp({
    ns: lab.ue, scenario: 'ue-register-many.xml', localIp: lab.addr.ue4, remote: `${lab.addr.pcscfUe4}:5060`, transport: 'un',
    // A user prefix per step: every call of the whole run registers a subscriber of its own.
    service: `s${prefix}u`, calls, rate, ratePeriodMs: 1000, rtt: true, traceMessages: false, recvTimeoutMs: RECV_TIMEOUT_MS,
    timeoutS: seconds * 4 + 20, extraArgs: ['-nd', ...SIPP_BUFFER, '-au', 'bench@ims.example', '-ap', 'secret'],
  });
  const uePid = ue.process.pid!;
  const started = performance.now();
  const [p0, r0] = [cpuSeconds(pcscf.pid), cpuSeconds(registrarPid)];
  let u0 = 0;
  try {
    u0 = cpuSeconds(uePid);
  } catch {
    // SIPp may not have exec'd yet: its first milliseconds are then not counted.
  }
  let u1 = u0;
  // Sampled every 200 ms while SIPp runs (once it has exited its /proc entry is gone).
  const sampler = setInterval(() => {
    try {
      u1 = cpuSeconds(uePid);
    } catch {
      clearInterval(sampler);
    }
  }, 200);
  const r = await ue.done;
  clearInterval(sampler);
  const wall = (performance.now() - started) / 1000;
  const pcscfCpu = (cpuSeconds(pcscf.pid) - p0) / wall;
  const registrarSippCpu = (cpuSeconds(registrarPid) - r0) / wall;
  const d1 = await decided(pcscf);
  const [main, worker] = [d1.main - d0.main, d1.worker - d0.worker];
  const ended = r.successful + r.failed;
  const sorted = r.rtts.map((x) => x.ms).sort((a, b) => a - b);
  // The rate at which registrations completed, first to last: SIPp's start-up and the last
  // call's latency are not part of it.
  const span = r.rtts.length < 2 ? 0 : (r.rtts.at(-1)!.atMs - r.rtts[0]!.atMs) / 1000;
  const achieved = span === 0 ? 0 : (r.rtts.length - 1) / span;
  const s: Step = {
    workers, run, rate, calls, successful: r.successful, failed: calls - r.successful, achieved: round(achieved), retransmissions: r.retransmissions,
    pcscfCpu: round(pcscfCpu * 100), ueSippCpu: round(((u1 - u0) / wall) * 100), registrarSippCpu: round(registrarSippCpu * 100),
    p50: round(percentile(sorted, 0.5), 2), p99: round(percentile(sorted, 0.99), 2),
    workerShare: main + worker === 0 ? 0 : round((100 * worker) / (main + worker)),
    // A call SIPp did not end (a hard timeout) counts as failed.
    passed: (calls - r.successful) / calls < MAX_FAILED && achieved >= MIN_ACHIEVED * rate,
  };
  if (ended === 0) console.log(`  SIPp UE ended no call: ${describe(r)}`);
  return s;
}

/** One configuration under test: its own lab (namespaces), P-CSCF and SIPp registrar, up for a whole run. */
interface Subject {
  workers: number;
  lab: LabNet;
  pcscf: PcscfProcess;
  registrar: SippRun;
  /** Steps so far; the climb has ended at the second failure of a rate. */
  steps: Step[];
  climbing: boolean;
  /** A new user prefix per SIPp run, so that every call of the run is a subscriber of its own. */
  prefix: number;
}

async function startSubject(workers: number): Promise<Subject> {
  const lab = createLabNet(`bench-reg${workers}`);
  try {
    const config = labPcscfConfig(lab, { poolSize: workers, families: [4] });
    // Every registered UE stays (expires=600): room for all of a run's, retries included.
    config.contacts = { capacity: 2 * RATES.reduce((n, r) => n + r * STEP_S, 0) + 10_000 };
    const pcscf = await PcscfProcess.start(lab.pcscf, { config });
    const registrar = startSipp({
      ns: lab.core, scenario: 'registrar.xml', localIp: lab.addr.core4, localPort: 5060, transport: 'u1', traceMessages: false, extraArgs: ['-nd', ...SIPP_BUFFER],
    });
    return { workers, lab, pcscf, registrar, steps: [], climbing: true, prefix: 0 };
  } catch (e) {
    lab.delete();
    throw e;
  }
}

async function stopSubject(x: Subject): Promise<void> {
  try {
    await x.registrar.stop();
    const exit = await x.pcscf.stop('SIGTERM');
    if (exit.code !== 0) console.log(`  the P-CSCF (workers: ${x.workers}) exited with ${exit.code ?? exit.signal}: ${exit.log.slice(-1000)}`);
  } finally {
    x.lab.delete();
  }
}

function report(s: Step, attempt: string): void {
  emit('register_step', { ...s });
  console.log(`  workers: ${s.workers}  ${String(s.rate).padStart(5)}/s offered ${String(s.achieved).padStart(7)}/s done  failed ${s.failed}/${s.calls}  ` +
    `retrans ${s.retransmissions}  p50 ${s.p50} ms  p99 ${s.p99} ms  decided by workers ${s.workerShare}%  CPU: P-CSCF ${s.pcscfCpu}%  SIPp UE ${s.ueSippCpu}%  registrar ${s.registrarSippCpu}%  ` +
    `${s.passed ? 'pass' : 'FAIL'}${attempt}`);
}

/**
 * One run: both configurations up side by side, each rate offered to one then the other (the
 * order alternating), so that both meet the same background load. A failing rate is tried once
 * more (a stall of the shared host is not the P-CSCF's limit); a second failure ends that
 * configuration's climb.
 */
async function oneRun(runIndex: number): Promise<Subject[]> {
  const subjects: Subject[] = [];
  try {
    for (const workers of POOLS) subjects.push(await startSubject(workers));
    console.log(`run ${runIndex}: load average ${load()}`);
    const measure = (x: Subject, rate: number, seconds = STEP_S): Promise<Step> =>
      step(x.lab, x.pcscf, x.registrar.process.pid!, x.workers, runIndex, rate, x.prefix++, seconds);
    // Warm-up, not counted: the first calls run cold code (in every worker of the pool).
    for (const x of subjects) for (const [rate, seconds] of WARMUP) await measure(x, rate, seconds);
    for (const [i, rate] of RATES.entries()) {
      const order = i % 2 === 0 ? subjects : [...subjects].reverse();
      for (const x of order.filter((y) => y.climbing)) {
        let s = await measure(x, rate);
        report(s, '');
        if (!s.passed) {
          await new Promise((r) => setTimeout(r, 2000));
          s = await measure(x, rate);
          report(s, ' (second attempt)');
        }
        x.steps.push(s);
        x.climbing = s.passed;
        // Let the retransmissions of a step that nearly failed settle before the next one.
        await new Promise((r) => setTimeout(r, 500));
      }
      if (!subjects.some((x) => x.climbing)) break;
    }
    console.log(`  load average ${load()}`);
  } finally {
    for (const x of subjects) await stopSubject(x);
  }
  return subjects;
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

if (process.getuid?.() !== 0) {
  console.log('bench/register.ts needs root (network namespaces)');
  process.exit(1);
}
console.log(`bench/register.ts: node ${process.version}, ${RUNS} runs, configurations workers: ${POOLS.join(' and ')}, ${STEP_S} s per step, rates ${RATES.join(' ')} /s`);
console.log('2 cores shared by the P-CSCF, the SIPp UE and the SIPp registrar (and anything else running): compare within a run, read the spread');
const top = new Map<number, Step[]>(POOLS.map((w) => [w, []]));
const byRun: Step[][] = [];
/** Every step of every run, by run. */
const allSteps: Step[][] = [];
for (let r = 1; r <= RUNS; r++) {
  const tops: Step[] = [];
  const subjects = await oneRun(r);
  allSteps.push(subjects.flatMap((x) => x.steps));
  for (const x of subjects) {
    const best = x.steps.filter((s) => s.passed).at(-1);
    if (best === undefined) {
      console.log(`  workers: ${x.workers}, run ${r}: no rate passed`);
      continue;
    }
    top.get(x.workers)!.push(best);
    tops.push(best);
    emit('register_max_rate', { workers: x.workers, run: r, value: best.rate, unit: 'reg/s', pcscf_cpu_pct: best.pcscfCpu, p50_ms: best.p50, p99_ms: best.p99, worker_share_pct: best.workerShare });
  }
  byRun.push(tops);
}

console.log('summary: highest rate with under 0.1% failed calls (median of runs [min-max]); at that rate: P-CSCF CPU, p50, p99, share of the decisions taken by pool workers');
for (const workers of POOLS) {
  const t = top.get(workers)!;
  const rates = t.map((s) => s.rate);
  if (t.length === 0) {
    console.log(`  workers: ${workers}: no rate passed in any run`);
    continue;
  }
  const of = (f: (s: Step) => number): string => `${round(median(t.map(f)), 2)} [${Math.min(...t.map(f))}-${Math.max(...t.map(f))}]`;
  console.log(`  workers: ${workers}: ${of((s) => s.rate)} reg/s; CPU ${of((s) => s.pcscfCpu)}%; p50 ${of((s) => s.p50)} ms; p99 ${of((s) => s.p99)} ms; decided by workers ${of((s) => s.workerShare)}%   (runs: ${rates.join(', ')})`);
  emit('register_max_rate_median', { workers, value: median(rates), unit: 'reg/s', min: Math.min(...rates), max: Math.max(...rates), runs: rates.length });
}
const [inline, pool] = [POOLS.find((w) => w === 0), POOLS.find((w) => w > 0)];
if (inline !== undefined && pool !== undefined) {
  // Per run, since the host's load differs between runs more than between the two configurations of one run.
  const ratios = byRun.map((tops) => {
    const a = tops.find((s) => s.workers === inline);
    const b = tops.find((s) => s.workers === pool);
    return a === undefined || b === undefined ? Number.NaN : b.rate / a.rate;
  }).filter((x) => Number.isFinite(x));
  const verdict = ratios.length > 0 && median(ratios) >= 1;
  console.log(`bar: the pool (workers: ${pool}) is not slower than workers: 0 at the top rate: ${verdict ? 'met' : 'NOT met'} ` +
    `(pool / inline top rate per run: ${ratios.map((x) => x.toFixed(2)).join(', ')}; median ${round(median(ratios), 2)})`);
  emit('register_pool_vs_inline', { value: round(median(ratios), 2), unit: 'ratio', per_run: ratios.map((x) => round(x, 2)).join(' '), met: verdict });
  // The cost side: at the highest rate both passed in a run, what each spent and how fast it answered.
  for (const [i, steps] of allSteps.entries()) {
    const passed = (w: number): Map<number, Step> => new Map(steps.filter((s) => s.workers === w && s.passed).map((s) => [s.rate, s]));
    const [a, b] = [passed(inline), passed(pool)];
    const rate = Math.max(...[...a.keys()].filter((r) => b.has(r)));
    if (!Number.isFinite(rate)) continue;
    const [x, y] = [a.get(rate)!, b.get(rate)!];
    console.log(`run ${i + 1}, ${rate}/s (the highest rate both passed): P-CSCF CPU ${x.pcscfCpu}% inline, ${y.pcscfCpu}% pool; ` +
      `p50 ${x.p50} / ${y.p50} ms; p99 ${x.p99} / ${y.p99} ms`);
    emit('register_both_passed', { run: i + 1, rate, inline_cpu_pct: x.pcscfCpu, pool_cpu_pct: y.pcscfCpu, inline_p50_ms: x.p50, pool_p50_ms: y.p50, inline_p99_ms: x.p99, pool_p99_ms: y.p99 });
  }
}
process.exit(0);
