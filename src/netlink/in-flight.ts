// The requests a client waits for, by id. Ids are handed out in increasing order and answered
// about in that order (a group waits at most for its rollback), so the table is a ring indexed by
// id: no hashing and no object per entry. A Map holding a waiter object per group was, with the
// Promise executor closure, the largest cost of submit() after encoding.

type Resolve = (value: never) => void;
type Reject = (e: Error) => void;

const INITIAL_CAPACITY = 1024;

export class InFlight {
  private resolves: (Resolve | undefined)[];
  private rejects: (Reject | undefined)[];
  private opsOf: Int32Array;
  private mask: number;
  /** Every id below `head` is settled; ids from `tail` on are not given yet. */
  private head = 1;
  private tail = 1;
  /** The ops of every request waiting (what backpressure bounds). */
  waitingOps = 0;

  constructor() {
    this.resolves = new Array<Resolve | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.rejects = new Array<Reject | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.opsOf = new Int32Array(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
  }

  /** The id `add` gave last. */
  get lastId(): number {
    return this.tail - 1;
  }

  /** Records a request of `ops` ops and returns its id. */
  add(resolve: Resolve, reject: Reject, ops: number): number {
    if (this.tail - this.head > this.mask) this.grow();
    const id = this.tail++;
    const k = id & this.mask; // ToInt32 wraps modulo 2^32, a multiple of the capacity
    this.resolves[k] = resolve;
    this.rejects[k] = reject;
    this.opsOf[k] = ops;
    this.waitingOps += ops;
    return id;
  }

  /** The ops of request `id`, or -1 when it is not waiting. */
  ops(id: number): number {
    const k = this.slot(id);
    return k < 0 ? -1 : this.opsOf[k]!;
  }

  /** Resolves request `id` with `value` and forgets it; false when it is not waiting. */
  resolve(id: number, value: unknown): boolean {
    const k = this.slot(id);
    if (k < 0) return false;
    const f = this.resolves[k]!;
    this.clear(k);
    f(value as never);
    return true;
  }

  /** Rejects request `id` with `e` and forgets it; false when it is not waiting. */
  reject(id: number, e: Error): boolean {
    const k = this.slot(id);
    if (k < 0) return false;
    const f = this.rejects[k]!;
    this.clear(k);
    f(e);
    return true;
  }

  /** Rejects every waiting request with `e`. */
  rejectAll(e: Error): void {
    for (let id = this.head, end = this.tail; id < end; id++) this.reject(id, e);
  }

  private slot(id: number): number {
    if (id < this.head || id >= this.tail) return -1;
    const k = id & this.mask;
    return this.resolves[k] === undefined ? -1 : k;
  }

  private clear(k: number): void {
    this.waitingOps -= this.opsOf[k]!;
    this.resolves[k] = undefined;
    this.rejects[k] = undefined;
    while (this.head < this.tail && this.resolves[this.head & this.mask] === undefined) this.head++;
  }

  /** Doubles the ring, each waiting request moving to its slot under the wider mask. */
  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const resolves = new Array<Resolve | undefined>(capacity).fill(undefined);
    const rejects = new Array<Reject | undefined>(capacity).fill(undefined);
    const opsOf = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let id = this.head; id < this.tail; id++) {
      const from = id & this.mask;
      const to = id & mask;
      resolves[to] = this.resolves[from];
      rejects[to] = this.rejects[from];
      opsOf[to] = this.opsOf[from]!;
    }
    this.resolves = resolves;
    this.rejects = rejects;
    this.opsOf = opsOf;
    this.mask = mask;
  }
}
