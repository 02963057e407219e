// IPsec registrations through the running P-CSCF on a kernel with ESP (issue 6 item 7): every
// registration is REGISTER -> 401 (the P-CSCF creates 4 SAs and 4 policies in the kernel before it
// relays the 401) -> protected REGISTER over the SAs -> 200, in the three namespaces of the lab
// (test/helpers/lab-net.ts), for `workers: 0` (the logic inline) and for the worker pool, in one run.
//
//   npx tsx bench/ipsec-register.ts [--runs 1] [--pools 0,2] [--rates 1,2,3,4,6,8,12,16,24,32] [--step-s 10] [--warmup 40] [--vm-cpus 2]
//
// Needs root; on a host without ESP it runs itself in the ESP VM (scripts/esp-kernel.ts), where
// everything is 7-11x slower than on the host (QEMU without KVM, one vCPU shared by every process).
//
// The UE side is the lab UE (src/lab/ue-main.ts --count N --rate R, compiled, one process in the
// UE namespace), not SIPp: each UE computes RES, CK and IK from the challenge (MILENAGE) and must
// install its own 4 SAs and 4 policies from the 401 before it can send the protected REGISTER,
// which a SIPp scenario could only do through an external helper per call (a process start per
// registration, far slower than what it measures). The registrar is the lab S-CSCF
// (src/lab/scscf-main.ts, compiled) rather than a SIPp scenario with pre-computed vectors: it makes
// real AKA challenges with ck / ik and checks every RES, for any number of subscribers
// (ue{n}@ims.example), and costs one MILENAGE run per registration.
//
// Each configuration climbs the rates: a step offers `rate` registrations per second for `step-s`
// seconds (new UEs, new identities, ports and SPIs for every step; earlier UEs stay registered),
// and passes when under 0.1% of them failed and they completed at 90% of the rate or more; the
// first failing step ends the climb. Per step it prints the 401 leg (UE's first REGISTER to the
// 401 arriving, SA creation included) and the whole registration, p50 / p99, and the CPU share of
// the P-CSCF, the UE process and the S-CSCF over the step (100% = one CPU): a figure where the UE
// process is near 100% measures the lab UE, not the P-CSCF (bench/lab-load.ts gives its ceiling).
// Lines `BENCH {json}` are for machines; the summary gives each configuration's best step.

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabNet as LabNetT } from '../test/helpers/lab-net.js';
import type { LabEvent, LabProcess as LabProcessT } from '../test/helpers/lab-process.js';
import type { PcscfProcess as PcscfProcessT } from '../test/helpers/pcscf-process.js';
import { relaunchInEspKernel, ROOT } from '../scripts/esp-kernel.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const RUNS = Number(opt('runs', '1'));
const POOLS = opt('pools', '0,2').split(',').map(Number);
const RATES = opt('rates', '1,2,3,4,6,8,12,16,24,32').split(',').map(Number);
const STEP_S = Number(opt('step-s', '10'));
const WARMUP = Number(opt('warmup', '40'));
const VM_CPUS = Number(opt('vm-cpus', '2'));
const MAX_FAILED = 0.001;
const MIN_ACHIEVED = 0.9;
// Rough VM budget: every step of every configuration, its tail and the process starts.
await relaunchInEspKernel({ what: 'The IPsec registration benchmark', vmTimeoutS: 600 + RUNS * POOLS.length * (RATES.length + 1) * (STEP_S + 60), vmCpus: VM_CPUS });

// Imported only where the benchmark runs: the namespace helper takes over SIGINT to clean up.
const { loadavg } = await import('node:os');
const { createLabNet, labPcscfConfig } = await import('../test/helpers/lab-net.js');
const { LabProcess } = await import('../test/helpers/lab-process.js');
const { PcscfProcess } = await import('../test/helpers/pcscf-process.js');
const { cpuSeconds } = await import('../test/helpers/proc-stat.js');
const { percentile } = await import('../src/lab/load.js');

const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const MAX_UES = WARMUP + RATES.reduce((n, r) => n + r * STEP_S, 0);
// The lab UE's slots: 4 ports and 4 SPIs each, from these bases (src/lab/load.ts slotOf).
const UE_PORT_BASE = 10_000;
const UE_SPI_BASE = 100_000;
const START_MS = 60_000;
const dist = (file: string): string[] => [process.execPath, join(ROOT, 'dist', 'lab', file)];
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

function emit(name: string, fields: Record<string, number | string | boolean>): void {
  console.log(`BENCH ${JSON.stringify({ name, ...fields })}`);
}

interface Step {
  workers: number;
  run: number;
  rate: number;
  count: number;
  failed: number;
  /** Registrations completed per second: successful ones over the step's wall time, first start to last result. */
  achieved: number;
  challengeP50: number;
  challengeP99: number;
  registerP50: number;
  registerP99: number;
  pcscfCpu: number;
  ueCpu: number;
  scscfCpu: number;
  passed: boolean;
  firstError: string;
}

function pcscfConfig(lab: LabNetT, workers: number): Record<string, unknown> {
  const base = labPcscfConfig(lab, { poolSize: workers, families: [4], nextHop: `sip:${lab.addr.core4}:5060`, logLevel: 'info' });
  return {
    ...base,
    ipsec_listen_addr: lab.addr.pcscfUe4,
    // An SPI pair per UE of the whole climb, with room to spare; port pairs are shared round robin.
    ipsec_spi_id_start: 1000,
    ipsec_spi_id_range: 2 * MAX_UES + 200,
    ipsec_client_port: 5100,
    ipsec_server_port: 5200,
    ipsec_max_connections: 16,
    contacts: { capacity: MAX_UES + 1000 },
  };
}

/** One step: `count` new UEs at `rate` per second from one lab UE process; `first` is the first UE's index in the climb. */
async function step(lab: LabNetT, pcscf: PcscfProcessT, scscf: LabProcessT, workers: number, run: number, rate: number, count: number, first: number): Promise<Step> {
  const ue = LabProcess.start(lab.ue.name, [...dist('ue-main.js'),
    '--impi', 'ue{n}@ims.example', '--impu', 'sip:ue{n}@ims.example', '--k', K, '--opc', OPC,
    '--addr', lab.addr.ue4, '--pcscf', lab.addr.pcscfUe4, '--transport', 'udp',
    '--count', String(count), '--rate', String(rate), '--first', String(first + 1),
    '--ports', String(UE_PORT_BASE + 4 * first), '--spi', String(UE_SPI_BASE + 4 * first)], `UE x${count}`);
  try {
    await ue.waitFor((e) => e.event === 'ready', START_MS, 0);
    const [p0, s0, u0] = [cpuSeconds(pcscf.pid), cpuSeconds(scscf.pid), cpuSeconds(ue.pid)];
    const started = performance.now();
    // Every UE ends within its transaction timeouts (Timer F, 32 s) whatever the P-CSCF does.
    const done: LabEvent = await ue.waitFor((e) => e.event === 'load-done', (count / rate) * 1000 + 3 * START_MS, 0);
    const wall = (performance.now() - started) / 1000;
    const [p1, s1, u1] = [cpuSeconds(pcscf.pid), cpuSeconds(scscf.pid), cpuSeconds(ue.pid)];
    const samples = ue.events.filter((e) => e.event === 'load-sample');
    const ok = samples.filter((e) => e['ok'] === true);
    const ms = (field: string): number[] => ok.map((e) => e[field]).filter((x): x is number => typeof x === 'number');
    const failed = count - ok.length;
    const achieved = ok.length / (Number(done['elapsedMs']) / 1000);
    const firstError = samples.find((e) => e['ok'] !== true)?.['error'];
    return {
      workers, run, rate, count, failed, achieved: round(achieved),
      challengeP50: round(percentile(ms('challengedAfterMs'), 50), 2), challengeP99: round(percentile(ms('challengedAfterMs'), 99), 2),
      registerP50: round(percentile(ms('registeredAfterMs'), 50), 2), registerP99: round(percentile(ms('registeredAfterMs'), 99), 2),
      pcscfCpu: round(((p1 - p0) / wall) * 100), ueCpu: round(((u1 - u0) / wall) * 100), scscfCpu: round(((s1 - s0) / wall) * 100),
      passed: failed / count < MAX_FAILED && achieved >= MIN_ACHIEVED * rate,
      firstError: firstError === undefined ? '' : JSON.stringify(firstError),
    };
  } finally {
    // The UEs go without de-registering (their SAs leave the UE namespace; the P-CSCF keeps its
    // bindings until it stops): the next step's UEs have identities, ports and SPIs of their own.
    await ue.close(START_MS);
  }
}

/** Climbs the rates for one configuration in a fresh lab; the steps it ran. */
async function climb(workers: number, run: number): Promise<Step[]> {
  const lab = createLabNet(`ipsb${workers}`);
  const subscribers = join(tmpdir(), `ipsec-bench-subscribers-${process.pid}.json`);
  writeFileSync(subscribers, JSON.stringify({ subscribers: [{ impi: 'ue{n}@ims.example', impu: 'sip:ue{n}@ims.example', k: K, opc: OPC, count: MAX_UES }] }));
  let pcscf: PcscfProcessT | undefined;
  let scscf: LabProcessT | undefined;
  const steps: Step[] = [];
  try {
    // Start-up includes the kernel probe and, with a pool, its threads: slow in the VM on a busy host.
    pcscf = await PcscfProcess.start(lab.pcscf, { config: pcscfConfig(lab, workers), entry: 'dist', readyTimeoutMs: 3 * START_MS });
    scscf = LabProcess.start(lab.core.name, [...dist('scscf-main.js'), '--addr', lab.addr.core4, '--port', '5060', '--subscribers', subscribers], 'S-CSCF');
    await scscf.waitFor((e) => e.event === 'listening', START_MS, 0);
    console.log(`workers: ${workers}, run ${run}: load average ${load()}`);
    // JIT warm-up of the three processes (slow under QEMU's TCG), not counted.
    const w = await step(lab, pcscf, scscf, workers, run, RATES[0]!, WARMUP, 0);
    console.log(`  warm-up: ${w.count} registrations, ${w.failed} failed, 401 leg p50 ${w.challengeP50} ms`);
    let first = WARMUP;
    for (const rate of RATES) {
      const s = await step(lab, pcscf, scscf, workers, run, rate, rate * STEP_S, first);
      first += s.count;
      steps.push(s);
      const { firstError, ...fields } = s;
      emit('ipsec-register-step', firstError === '' ? fields : s);
      console.log(`  ${String(rate).padStart(4)}/s offered: ${String(s.achieved).padStart(6)}/s done, ${s.failed}/${s.count} failed; 401 leg p50 ${s.challengeP50} ms p99 ${s.challengeP99} ms; ` +
        `whole p50 ${s.registerP50} ms p99 ${s.registerP99} ms; CPU P-CSCF ${s.pcscfCpu}% UE ${s.ueCpu}% S-CSCF ${s.scscfCpu}%${s.passed ? '' : '  FAILED'}${firstError === '' ? '' : ` ${firstError}`}`);
      if (!s.passed) break;
    }
    console.log(`  load average ${load()}`);
  } finally {
    await scscf?.close(START_MS);
    await pcscf?.stop('SIGTERM', START_MS);
    lab.delete();
  }
  return steps;
}

emit('ipsec-register-setup', { runs: RUNS, pools: POOLS.join(','), rates: RATES.join(','), stepS: STEP_S, loadavg: load() });
const best: Step[] = [];
for (let run = 1; run <= RUNS; run++) {
  // The order alternates between runs, so that neither configuration always meets a warmer machine.
  const order = run % 2 === 1 ? POOLS : [...POOLS].reverse();
  for (const workers of order) {
    const steps = await climb(workers, run);
    const top = steps.filter((s) => s.passed).at(-1);
    if (top === undefined) {
      console.log(`workers: ${workers}, run ${run}: no step passed`);
      continue;
    }
    best.push(top);
    const { firstError: _, ...fields } = top;
    emit('ipsec-register-best', fields);
  }
}
console.log('\nBest passing step per configuration and run (registrations/s with < 0.1% failures; 401 leg with SA creation):');
for (const s of best) {
  console.log(`  workers ${s.workers}, run ${s.run}: ${s.achieved}/s (offered ${s.rate}/s), 401 leg p50 ${s.challengeP50} ms p99 ${s.challengeP99} ms, CPU P-CSCF ${s.pcscfCpu}% UE ${s.ueCpu}%`);
}
