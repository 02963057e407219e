// Hands messages to the P-CSCF logic in batches and brings the plans back to the main thread.
//
// A pool task costs tens of microseconds of thread hand-off while a decision costs a few, so one
// task per message would make the pool slower than no pool (DESIGN.md: piscina tops out near
// 20-40k tasks/s). Everything that arrives in one event-loop turn goes out as one task (split at
// `batchMax`), flushed by setImmediate: after the turn's I/O callbacks, before the next poll.
// With the inline logic (workers: 0) the same batch is decided synchronously in this thread.

import type { Batch, BatchResult, Inbound, LogEvent, Plan } from './plan.js';

/** Runs the P-CSCF logic: inline, or on the worker pool. */
export interface Logic {
  run(batch: Batch): BatchResult | Promise<BatchResult>;
  close(): Promise<void>;
}

export interface DispatcherSink {
  apply(id: number, plan: Plan, inbound: Inbound): void;
  events(events: readonly LogEvent[]): void;
  /** The logic failed on a whole batch (a worker died or threw): every message needs an answer. */
  failed(messages: readonly Inbound[], error: unknown): void;
  /** For metrics: size of a batch and how long it took from flush to plans. */
  batchDone?(size: number, ms: number): void;
}

export class Dispatcher {
  readonly #logic: Logic;
  readonly #batchMax: number;
  readonly #maxInFlight: number;
  readonly #sink: DispatcherSink;
  #pending: Inbound[] = [];
  #scheduled = false;
  #inFlight = 0;

  /** `maxInFlight`: messages queued or being decided beyond which `overloaded()` says so. */
  constructor(logic: Logic, opts: { batchMax: number; maxInFlight: number }, sink: DispatcherSink) {
    this.#logic = logic;
    this.#batchMax = opts.batchMax;
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
    if (this.#pending.length >= this.#batchMax) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate);
    }
  }

  readonly #onImmediate = (): void => {
    this.#scheduled = false;
    if (this.#pending.length > 0) this.#flush();
  };

  #flush(): void {
    const messages = this.#pending;
    this.#pending = [];
    const started = performance.now();
    let result: BatchResult | Promise<BatchResult>;
    try {
      result = this.#logic.run({ messages });
    } catch (e) {
      this.#fail(messages, e);
      return;
    }
    if (result instanceof Promise) result.then((r) => this.#done(messages, r, started), (e: unknown) => this.#fail(messages, e));
    else this.#done(messages, result, started);
  }

  #done(messages: readonly Inbound[], result: BatchResult, started: number): void {
    this.#inFlight -= messages.length;
    this.#sink.batchDone?.(messages.length, performance.now() - started);
    if (result.events.length > 0) this.#sink.events(result.events);
    if (result.plans.length !== messages.length) {
      this.#sink.failed(messages, new Error(`the logic returned ${result.plans.length} plans for ${messages.length} messages`));
      return;
    }
    for (let i = 0; i < messages.length; i++) this.#sink.apply(messages[i]!.id, result.plans[i]!, messages[i]!);
  }

  #fail(messages: readonly Inbound[], error: unknown): void {
    this.#inFlight -= messages.length;
    this.#sink.failed(messages, error);
  }
}
