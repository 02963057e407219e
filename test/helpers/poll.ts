// Waiting for state that settles asynchronously (a teardown after a delay, a sweep once a second,
// a socket that a process opens): poll it, with a bound for failures. Never used to measure speed.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `read` every `intervalMs` until `done` holds or `timeoutMs` passes, and returns the last
 * value: the caller asserts on it, so a failure shows what was there.
 */
export async function settle<T>(read: () => T | Promise<T>, done: (v: T) => boolean, timeoutMs: number, intervalMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() >= end) return v;
    await sleep(intervalMs);
  }
}

/** Resolves once `cond()` holds; rejects naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000, intervalMs = 5): Promise<void> {
  if (!(await settle(cond, Boolean, timeoutMs, intervalMs))) throw new Error(`timed out waiting for: ${what}`);
}
