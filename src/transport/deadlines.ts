// A timer queue for deadlines that all lie the same delay after their start (connect timeout,
// idle timeout, close linger): insertion order is then deadline order, so a Map in insertion order
// is the queue, every operation is O(1), and one timer serves every item.

export class DeadlineQueue<T> {
  readonly delayMs: number;
  readonly #onExpire: (item: T) => void;
  /** item -> deadline (performance.now() time), oldest first. */
  readonly #items = new Map<T, number>();
  #timer: NodeJS.Timeout | undefined;
  #firing = false;

  constructor(delayMs: number, onExpire: (item: T) => void) {
    this.delayMs = delayMs;
    this.#onExpire = onExpire;
  }

  get size(): number {
    return this.#items.size;
  }

  /** (Re)starts the item's delay at `now`. */
  add(item: T, now: number): void {
    this.#items.delete(item);
    this.#items.set(item, now + this.delayMs);
    if (this.#timer === undefined && !this.#firing) this.#arm(now + this.delayMs, now);
  }

  delete(item: T): void {
    this.#items.delete(item);
  }

  clear(): void {
    this.#items.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(at: number, now: number): void {
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(at - now)));
    // The sockets keep the process alive while there is work; a pending deadline alone must not.
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#firing = true;
    const now = performance.now();
    try {
      // Items that onExpire adds go to the end with a later deadline, so the loop stops before them.
      for (const [item, deadline] of this.#items) {
        if (deadline > now) break;
        this.#items.delete(item);
        this.#onExpire(item);
      }
    } finally {
      this.#firing = false;
      for (const deadline of this.#items.values()) {
        this.#arm(deadline, now);
        break;
      }
    }
  };
}
