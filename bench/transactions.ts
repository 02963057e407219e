// Benchmark of the transaction layer (src/transaction/): non-INVITE transactions per second
// through the proxy core (request in, forward plan applied, response in, reply plan applied), over
// UDP (the table fills: each transaction lives on for Timer J / Timer K) and over TCP (J and K are
// zero), with and without the parsing of the two messages; then the timer queue's start+stop rate
// against setTimeout+clearTimeout, both with 100k timers running. Each figure is printed for people
// and as a line `BENCH {"name":…,"value":…,"unit":…}` for machines.
//
//   npx tsx bench/transactions.ts [--quick]
//
// The proxy core runs on a fake clock (no timer fires during a run; the table is emptied and
// checked at the end) with a transport that drops what it is given: what is measured is the main
// thread's own work per transaction.

import type { Inbound, RxInfo, Target } from '../src/engine/plan.js';
import { type SipMessage, parseMessage } from '../src/sip/index.js';
import { ProxyCore, Timer, TimerQueue } from '../src/transaction/index.js';
import { FakeTime } from '../test/transaction/support.js';

const quick = process.argv.includes('--quick');
const TRANSACTIONS = quick ? 5_000 : 40_000;
const ROUNDS = quick ? 2 : 5;
const RUNNING_TIMERS = 100_000;
const TIMER_OPS = quick ? 200_000 : 2_000_000;

function report(name: string, value: number, unit: string, label: string): void {
  const shown = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  console.log(`${label.padEnd(66)} ${shown.padStart(14)} ${unit}`);
  console.log(`BENCH ${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit })}`);
}

const crlf = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

interface Messages {
  request: Buffer;
  forward: Buffer;
  response: Buffer;
  reply: Buffer;
  branch: string;
}

/** One transaction's octets: a MESSAGE from a UE, as forwarded, the 200 from the core, as relayed. */
function messages(i: number, transport: 'UDP' | 'TCP'): Messages {
  const ue = `Via: SIP/2.0/${transport} 192.0.2.1:5060;branch=z9hG4bKue${i};rport`;
  const branch = `z9hG4bKpcscf${i}`;
  const pcscf = `Via: SIP/2.0/${transport} 192.0.2.10:5060;branch=${branch}`;
  const common = [
    'From: <sip:alice@ims.example.net>;tag=a' + i,
    'To: <sip:bob@ims.example.net>',
    `Call-ID: ${i}-bench@192.0.2.1`,
    'CSeq: 1 MESSAGE',
  ];
  const body = ['Content-Type: text/plain', 'Content-Length: 5', '', 'hello'];
  return {
    request: crlf(['MESSAGE sip:bob@ims.example.net SIP/2.0', ue, 'Max-Forwards: 70', ...common, ...body]),
    forward: crlf(['MESSAGE sip:bob@ims.example.net SIP/2.0', pcscf, ue, 'Max-Forwards: 69', ...common, ...body]),
    response: crlf(['SIP/2.0 200 OK', pcscf, ue, ...common.map((l) => (l.startsWith('To:') ? `${l};tag=b${i}` : l)), 'Content-Length: 0']),
    reply: crlf(['SIP/2.0 200 OK', ue, ...common.map((l) => (l.startsWith('To:') ? `${l};tag=b${i}` : l)), 'Content-Length: 0']),
    branch,
  };
}

/** Transactions per second through the core; `parsed` hands it messages parsed beforehand. */
function throughput(transport: 'udp' | 'tcp', parsed: boolean): number {
  const set = Array.from({ length: TRANSACTIONS }, (_, i) => messages(i, transport === 'udp' ? 'UDP' : 'TCP'));
  const pre = parsed ? set.map((m) => [parseMessage(m.request), parseMessage(m.response)] as const) : [];
  const time = new FakeTime();
  let pending: Inbound | undefined;
  let sent = 0;
  const core = new ProxyCore({
    send: () => { sent++; },
    decide: (i) => { pending = i; },
    timers: new TimerQueue(time, time),
    t1Ms: 500, t2Ms: 4000, t4Ms: 5000,
  });
  const ue: RxInfo = { transport, socketId: 0, local: { addr: '192.0.2.10', port: 5060 }, remote: { addr: '192.0.2.1', port: 5060 }, connId: 1 };
  const scscf: RxInfo = { transport, socketId: 0, local: { addr: '192.0.2.10', port: 5060 }, remote: { addr: '198.51.100.7', port: 5060 }, connId: 2 };
  const target: Target = { transport, socketId: 0, remote: { addr: '198.51.100.7', port: 5060 } };
  const context = { leg: 'mo' };
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < TRANSACTIONS; i++) {
      const m = set[i]!;
      const request: SipMessage = parsed ? pre[i]![0] : parseMessage(m.request);
      core.receive(request, ue);
      core.apply(pending!.id, { kind: 'forward', bytes: m.forward, target, branch: m.branch, context });
      const response: SipMessage = parsed ? pre[i]![1] : parseMessage(m.response);
      core.receive(response, scscf);
      core.apply(pending!.id, { kind: 'reply', bytes: m.reply, status: 200 });
    }
    const seconds = (performance.now() - start) / 1000;
    best = Math.max(best, TRANSACTIONS / seconds);
    const live = core.stats();
    if (transport === 'udp' && live.serverTx !== TRANSACTIONS) throw new Error(`expected ${TRANSACTIONS} live server transactions, got ${live.serverTx}`);
    time.advance(64 * 500);
    const s = core.stats();
    if (s.serverTx + s.clientTx + s.contexts + s.timers !== 0) throw new Error(`table not empty: ${JSON.stringify(s)}`);
  }
  if (sent !== 2 * TRANSACTIONS * ROUNDS) throw new Error(`sent ${sent} messages, expected ${2 * TRANSACTIONS * ROUNDS}`);
  return best;
}

/** start+stop pairs per second on a queue holding RUNNING_TIMERS timers of mixed durations. */
function queueStartStop(): { startStop: number; restart: number; fire: number } {
  const time = new FakeTime();
  const queue = new TimerQueue(time, time);
  const owner = { onTimer: () => {} };
  const durations = [500, 1000, 2000, 4000, 5000, 32000, 181000];
  const population = Array.from({ length: RUNNING_TIMERS }, (_, i) => {
    const t = new Timer(owner);
    queue.start(t, 'F', durations[i % durations.length]!);
    return t;
  });
  const probes = Array.from({ length: 1024 }, () => new Timer(owner));
  let start = performance.now();
  for (let i = 0; i < TIMER_OPS; i++) {
    const t = probes[i & 1023]!;
    queue.start(t, 'E', durations[i % durations.length]!);
    queue.stop(t);
  }
  const startStop = TIMER_OPS / ((performance.now() - start) / 1000);
  start = performance.now();
  for (let i = 0; i < TIMER_OPS; i++) queue.start(population[i % RUNNING_TIMERS]!, 'E', durations[i % durations.length]!);
  const restart = TIMER_OPS / ((performance.now() - start) / 1000);
  start = performance.now();
  time.advance(200_000);
  const fire = RUNNING_TIMERS / ((performance.now() - start) / 1000);
  if (queue.size !== 0) throw new Error('timers left');
  return { startStop, restart, fire };
}

/** The same with Node's own timers: setTimeout+clearTimeout pairs, RUNNING_TIMERS of them pending. */
function nodeStartStop(): number {
  const noop = (): void => {};
  const durations = [500, 1000, 2000, 4000, 5000, 32000, 181000];
  const population = Array.from({ length: RUNNING_TIMERS }, (_, i) => setTimeout(noop, durations[i % durations.length]!));
  const ops = Math.min(TIMER_OPS, 1_000_000);
  const start = performance.now();
  for (let i = 0; i < ops; i++) clearTimeout(setTimeout(noop, durations[i % durations.length]!));
  const rate = ops / ((performance.now() - start) / 1000);
  for (const t of population) clearTimeout(t);
  return rate;
}

function main(): void {
  console.log(`bench/transactions.ts: node ${process.version}, ${quick ? 'quick run' : 'full run'}; best of ${ROUNDS} rounds of ${TRANSACTIONS} transactions; figures are noisy on a shared machine, compare ratios within one run`);
  console.log('-- non-INVITE transactions through the proxy core (request, forward, 200, reply)');
  report('tx_noninvite_udp_per_s', throughput('udp', false), 'tx/s', 'UDP, parsing both messages (table fills: Timers J, K)');
  report('tx_noninvite_tcp_per_s', throughput('tcp', false), 'tx/s', 'TCP, parsing both messages (J = K = 0)');
  report('tx_noninvite_udp_core_only_per_s', throughput('udp', true), 'tx/s', 'UDP, messages parsed beforehand (the core alone)');
  report('tx_noninvite_tcp_core_only_per_s', throughput('tcp', true), 'tx/s', 'TCP, messages parsed beforehand (the core alone)');
  console.log(`-- timers, ${RUNNING_TIMERS.toLocaleString('en-US')} running`);
  const q = queueStartStop();
  const node = nodeStartStop();
  report('timer_queue_start_stop_per_s', q.startStop, 'pairs/s', 'TimerQueue start+stop');
  report('timer_queue_restart_per_s', q.restart, 'ops/s', 'TimerQueue restart of a running timer');
  report('timer_queue_fire_per_s', q.fire, 'timers/s', 'TimerQueue firing (100k due at once)');
  report('settimeout_clear_per_s', node, 'pairs/s', 'setTimeout+clearTimeout (comparison)');
  report('timer_queue_vs_settimeout', q.startStop / node, 'x', 'TimerQueue start+stop / setTimeout+clearTimeout');
}

main();
