// One queue for every transaction timer, driven by a single scheduler timer armed for the earliest
// deadline.
//
// Transaction timers come in a handful of durations (T1 * 2^k capped at T2, T4, 64*T1, Timer D,
// Timer C), so the queue keeps one FIFO list per duration: with a monotonic clock, a timer started
// later with the same duration never expires earlier, so appending keeps each list sorted. Start
// and stop are O(1) (append, unlink); the earliest deadline is the smallest of the list heads, a
// scan over the few durations in use. A Timer is a node its owner allocates once and restarts, so
// a retransmission costs no allocation.

import { TransactionError } from './errors.js';

/**
 * The timers of RFC 3261 §17 (A to K), RFC 6026 (L, M), Timer C of a proxy (§16.6 item 11), and
 * three of this proxy's own: the wait for a final response after a CANCEL (§9.1), the bound on a
 * decision of the P-CSCF logic, and the shutdown deadline.
 */
export type TimerName =
  | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M'
  | 'cancel-wait' | 'decision-guard' | 'drain';

/** Milliseconds from an arbitrary origin; must never go backwards (performance.now()). */
export interface Clock {
  now(): number;
}

/** What drives the queue: setTimeout / clearTimeout, or a fake in tests. */
export interface Scheduler {
  schedule(callback: () => void, delayMs: number): unknown;
  cancel(handle: unknown): void;
}

export interface TimerOwner {
  onTimer(timer: Timer): void;
}

interface TimerList {
  readonly delay: number;
  head: Timer | null;
  tail: Timer | null;
}

/** One timer slot of an owner; restarting it reuses the node. */
export class Timer {
  name: TimerName = 'A';
  deadline = 0;
  /** Start order: breaks ties between equal deadlines, and bounds one fireDue() pass. */
  seq = 0;
  prev: Timer | null = null;
  next: Timer | null = null;
  list: TimerList | null = null;

  constructor(readonly owner: TimerOwner) {}

  get running(): boolean {
    return this.list !== null;
  }
}

const performanceClock: Clock = { now: () => performance.now() };

const nodeScheduler: Scheduler = {
  schedule: (callback, delayMs) => setTimeout(callback, delayMs),
  cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// Lists whose duration has no running timer are dropped once there are this many lists.
const LIST_COMPACTION = 32;

export class TimerQueue {
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #lists: TimerList[] = [];
  readonly #byDelay = new Map<number, TimerList>();
  #size = 0;
  #seq = 0;
  #handle: unknown = undefined;
  #armedAt = Infinity;
  readonly #wake = (): void => {
    this.#handle = undefined;
    this.#armedAt = Infinity;
    this.fireDue();
  };

  constructor(clock: Clock = performanceClock, scheduler: Scheduler = nodeScheduler) {
    this.#clock = clock;
    this.#scheduler = scheduler;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Running timers. */
  get size(): number {
    return this.#size;
  }

  /** (Re)starts `timer` to fire `delayMs` from now as `name`. */
  start(timer: Timer, name: TimerName, delayMs: number): void {
    if (!(delayMs >= 0 && delayMs < Infinity)) throw new TransactionError('TX_BAD_TIMER', `Timer ${name}: bad delay ${delayMs}`);
    if (timer.list !== null) this.#unlink(timer);
    const deadline = this.#clock.now() + delayMs;
    timer.name = name;
    timer.deadline = deadline;
    timer.seq = this.#seq++;
    const list = this.#listFor(delayMs);
    timer.list = list;
    timer.prev = list.tail;
    timer.next = null;
    if (list.tail === null) list.head = timer;
    else list.tail.next = timer;
    list.tail = timer;
    this.#size++;
    if (deadline < this.#armedAt) this.#arm(deadline);
  }

  stop(timer: Timer): void {
    if (timer.list === null) return;
    this.#unlink(timer);
    // A wake-up armed for a stopped timer finds nothing due and re-arms; only an empty queue
    // gives its scheduler timer back, so that nothing keeps the process alive.
    if (this.#size === 0 && this.#handle !== undefined) {
      this.#scheduler.cancel(this.#handle);
      this.#handle = undefined;
      this.#armedAt = Infinity;
    }
  }

  /**
   * Fires, in deadline order, every timer due now that was started before this call (a timer an
   * owner starts from its handler waits for the next pass), then arms for the next deadline. The
   * scheduler calls this; a test on a fake clock may too.
   */
  fireDue(): void {
    const now = this.#clock.now();
    const limit = this.#seq;
    try {
      for (;;) {
        let due: Timer | null = null;
        for (const list of this.#lists) {
          const head = list.head;
          if (head === null || head.deadline > now || head.seq >= limit) continue;
          if (due === null || head.deadline < due.deadline || (head.deadline === due.deadline && head.seq < due.seq)) due = head;
        }
        if (due === null) break;
        this.#unlink(due);
        due.owner.onTimer(due);
      }
    } finally {
      this.#rearm(now);
    }
  }

  #listFor(delay: number): TimerList {
    let list = this.#byDelay.get(delay);
    if (list === undefined) {
      if (this.#lists.length >= LIST_COMPACTION) this.#compact();
      list = { delay, head: null, tail: null };
      this.#byDelay.set(delay, list);
      this.#lists.push(list);
    }
    return list;
  }

  #compact(): void {
    let kept = 0;
    for (const list of this.#lists) {
      if (list.head === null) this.#byDelay.delete(list.delay);
      else this.#lists[kept++] = list;
    }
    this.#lists.length = kept;
  }

  #unlink(timer: Timer): void {
    const list = timer.list!;
    if (timer.prev === null) list.head = timer.next;
    else timer.prev.next = timer.next;
    if (timer.next === null) list.tail = timer.prev;
    else timer.next.prev = timer.prev;
    timer.prev = null;
    timer.next = null;
    timer.list = null;
    this.#size--;
  }

  #rearm(now: number): void {
    let earliest = Infinity;
    for (const list of this.#lists) {
      if (list.head !== null && list.head.deadline < earliest) earliest = list.head.deadline;
    }
    if (earliest === Infinity) {
      if (this.#handle !== undefined) this.#scheduler.cancel(this.#handle);
      this.#handle = undefined;
      this.#armedAt = Infinity;
    } else if (earliest !== this.#armedAt || this.#handle === undefined) {
      this.#arm(earliest, now);
    }
  }

  #arm(deadline: number, now = this.#clock.now()): void {
    if (this.#handle !== undefined) this.#scheduler.cancel(this.#handle);
    this.#armedAt = deadline;
    // A scheduler timer may run up to a millisecond early against this clock: waking up at least
    // 1 ms later (never 0) cannot spin, and fireDue() re-arms for whatever is not yet due.
    this.#handle = this.#scheduler.schedule(this.#wake, Math.max(1, Math.ceil(deadline - now)));
  }
}
