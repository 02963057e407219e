// Hands messages to the P-CSCF logic in batches and brings the plans back to the main thread.
//
// A pool task costs tens of microseconds of thread hand-off while a decision costs a few, so one
// task per message would make the pool slower than no pool (DESIGN.md: piscina tops out near
// 20-40k tasks/s). Everything that arrives in one event-loop turn goes out as one task (split at
// `batchMax`), flushed by setImmediate: after the turn's I/O callbacks, before the next poll.
// Measured on a loaded 2-core host (bench/pool.ts): a round trip to a pool worker costs 50-140 us
// of CPU (both threads), while deciding an OPTIONS costs ~7 us, so batches of one message cost
// several times the work they carry. Hence:
// - no more batches are out at once than the logic can decide at once (one per pool worker):
//   what arrives while they are busy waits here and leaves as one batch when one is free, instead
//   of queueing in the pool as many small tasks, each paying its own hand-off;
// - a batch is worth a hand-off from `handoffMin` messages on. A smaller one, while no batch is
//   out, is decided here in the main thread (the pool's own logic, on the same shared memory):
//   under light load a pool worker would cost this thread more to wake and to hear back from than
//   deciding itself. While a batch is out, what arrives waits for it (a few hundred
//   microseconds) and goes together; a further worker is woken only for a batch worth its
//   hand-off, so workers join as the backlog grows and batches grow with the load by themselves;
// - under a backlog a freed worker takes up to `batchMax` messages at once;
// - a worker whose batch came back gets the next one before its plans are applied here, so that it
//   decides while this thread sends (what is too small for it is decided here after those plans,
//   so nothing overtakes them).
// With the inline logic alone (workers: 0) every batch is decided synchronously in this thread.

import type { Batch, BatchResult, Inbound, LogEvent, Plan } from './plan.js';

/** Runs the P-CSCF logic: inline, or on the worker pool. */
export interface Logic {
  /** How many batches the logic decides at once (pool threads); more would only queue inside it. */
  readonly concurrency: number;
  /** Which thread decides: this one, or pool workers (pcscf_logic_messages_total). */
  readonly thread: 'main' | 'worker';
  run(batch: Batch): BatchResult | Promise<BatchResult>;
  close(): Promise<void>;
}

export interface DispatcherSink {
  apply(id: number, plan: Plan, inbound: Inbound): void;
  events(events: readonly LogEvent[]): void;
  /** The logic failed on a whole batch (a worker died or threw): every message needs an answer. */
  failed(messages: readonly Inbound[], error: unknown): void;
  /** For metrics: size of a batch, how long it took from flush to plans, and which thread decided it. */
  batchDone?(size: number, ms: number, thread: Logic['thread']): void;
}

export class Dispatcher {
  readonly #logic: Logic;
  /** With a pool: the same logic in this thread, for batches too small to be worth a hand-off. */
  readonly #inline: Logic | undefined;
  readonly #batchMax: number;
  readonly #handoffMin: number;
  readonly #maxInFlight: number;
  readonly #sink: DispatcherSink;
  #pending: Inbound[] = [];
  #scheduled = false;
  #inFlight = 0;
  /** Batches handed to the logic whose plans have not come back. */
  #batchesOut = 0;

  /**
   * `maxInFlight`: messages queued or being decided beyond which `overloaded()` says so. `inline`:
   * a synchronous logic that decides the batches smaller than `handoffMin` while `logic` (the pool)
   * has none out.
   */
  constructor(logic: Logic, opts: { batchMax: number; handoffMin: number; maxInFlight: number; inline?: Logic }, sink: DispatcherSink) {
    this.#logic = logic;
    this.#inline = opts.inline;
    this.#batchMax = opts.batchMax;
    this.#handoffMin = Math.max(1, Math.min(opts.handoffMin, opts.batchMax));
    this.#maxInFlight = opts.maxInFlight;
    this.#sink = sink;
  }

  /** True when the logic is so far behind that new requests should be refused (503) rather than queued. */
  overloaded(): boolean {
    return this.#inFlight >= this.#maxInFlight;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  enqueue(message: Inbound): void {
    this.#pending.push(message);
    this.#inFlight++;
    if (this.#pending.length >= this.#batchMax && this.#batchesOut < this.#logic.concurrency) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate);
    }
  }

  readonly #onImmediate = (): void => {
    this.#scheduled = false;
    this.#drain();
  };

  /**
   * Hands out what waits: a batch too small for a hand-off to the inline logic when nothing is
   * out, otherwise to an idle logic whatever it is, to a further free worker only a batch worth
   * waking it for.
   */
  #drain(): void {
    while (this.#pending.length > 0) {
      const small = this.#pending.length < this.#handoffMin;
      if (this.#batchesOut === 0 && small && this.#inline !== undefined) this.#flush(this.#inline);
      else if (this.#batchesOut < this.#logic.concurrency && (this.#batchesOut === 0 || !small)) this.#flush();
      else return;
    }
  }

  #flush(logic: Logic = this.#logic): void {
    let messages = this.#pending;
    if (messages.length > this.#batchMax) messages = messages.splice(0, this.#batchMax);
    else this.#pending = [];
    this.#batchesOut++;
    const started = performance.now();
    let result: BatchResult | Promise<BatchResult>;
    try {
      result = logic.run({ messages });
    } catch (e) {
      this.#batchesOut--;
      this.#fail(messages, e);
      return;
    }
    // A batch decided in another thread frees a worker when it comes back: what waited goes out
    // then (a synchronous result returns to #drain's loop instead).
    if (result instanceof Promise) {
      result.then((r) => {
        this.#batchesOut--;
        if (this.#pending.length >= this.#handoffMin) this.#flush();
        this.#done(messages, r, started, logic.thread);
        this.#drain();
      }, (e: unknown) => {
        this.#batchesOut--;
        this.#fail(messages, e);
        this.#drain();
      });
    } else {
      this.#batchesOut--;
      this.#done(messages, result, started, logic.thread);
    }
  }

  /** Applies the plans of a batch that is no longer out. */
  #done(messages: readonly Inbound[], result: BatchResult, started: number, thread: Logic['thread']): void {
    this.#inFlight -= messages.length;
    this.#sink.batchDone?.(messages.length, performance.now() - started, thread);
    if (result.events.length > 0) this.#sink.events(result.events);
    if (result.plans.length !== messages.length) {
      this.#sink.failed(messages, new Error(`the logic returned ${result.plans.length} plans for ${messages.length} messages`));
      return;
    }
    for (let i = 0; i < messages.length; i++) this.#sink.apply(messages[i]!.id, result.plans[i]!, messages[i]!);
  }

  /** Answers for the messages of a batch that is no longer out and that the logic failed on. */
  #fail(messages: readonly Inbound[], error: unknown): void {
    this.#inFlight -= messages.length;
    this.#sink.failed(messages, error);
  }
}
