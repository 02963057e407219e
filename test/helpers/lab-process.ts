// Drives one of the lab's command-line entries (src/lab/*-main.ts, or its dist/ build) running in a
// network namespace: JSON-line commands in, JSON-line events out, waits on events. The process is
// killed at close() or, at the latest, when the test process exits.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcessWithoutNullStreams>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export type LabEvent = { readonly event: string; readonly [key: string]: unknown };

export class LabProcess {
  /** Every event so far, in order. */
  readonly events: LabEvent[] = [];
  /** What the process wrote on stderr (for failure messages). */
  stderr = '';
  readonly exited: Promise<number>;
  readonly #waiters: { match: (e: LabEvent) => boolean; resolve: (e: LabEvent) => void }[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly label: string) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let e: LabEvent;
      try {
        e = JSON.parse(line) as LabEvent;
      } catch {
        this.stderr += `[stdout] ${line}\n`;
        return;
      }
      this.events.push(e);
      for (const w of [...this.#waiters]) {
        if (!w.match(e)) continue;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    });
    child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal === null ? 1 : 128));
    }));
  }

  /** `ip netns exec <netns> <argv...>` (or argv as is without a namespace). */
  static start(netns: string | undefined, argv: readonly string[], label = argv.join(' ')): LabProcess {
    const [cmd, ...args] = netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv];
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    return new LabProcess(child, label);
  }

  /** The process id (with a namespace: the command's own, `ip netns exec` execs it). */
  get pid(): number {
    return this.child.pid!;
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /**
   * The first event from now on (or already seen since index `from`) matching `match`; an `error`
   * event or the process ending first fails with what it said.
   */
  waitFor(match: (e: LabEvent) => boolean, timeoutMs: number, from = this.events.length): Promise<LabEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`${this.label}: ${why}\nevents: ${this.events.map((e) => JSON.stringify(e)).join('\n')}\nstderr: ${this.stderr}`));
      };
      const timer = setTimeout(() => fail(`no matching event within ${timeoutMs} ms`), timeoutMs);
      const waiter = {
        match: (e: LabEvent) => match(e) || (e.event === 'error' && !match(e)),
        resolve: (e: LabEvent) => {
          if (e.event === 'error' && !match(e)) return fail(`error event ${JSON.stringify(e)}`);
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.#waiters.push(waiter);
      void this.exited.then((code) => {
        if (this.#waiters.includes(waiter)) fail(`exited with ${code} before a matching event`);
      });
    });
  }

  /** Sends `cmd` and waits for the event named `event`. */
  async command(cmd: Record<string, unknown>, event: string, timeoutMs: number): Promise<LabEvent> {
    const from = this.events.length;
    this.send(cmd);
    return this.waitFor((e) => e.event === event, timeoutMs, from);
  }

  /**
   * Ends stdin (the lab entries stop and clean up) or sends `signal` (`ip netns exec` runs the
   * command in its own process, so the signal reaches it), then kills the process if it is still
   * there after graceMs.
   */
  async close(graceMs = 20_000, signal?: NodeJS.Signals): Promise<number> {
    if (signal === undefined) this.child.stdin.end();
    else this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
