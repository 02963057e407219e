// A helper script (plain JavaScript, started with plain node) running inside a network namespace
// and driven over stdin/stdout, one JSON object per line: each command carries an id and is
// answered with {id, ok: true, reply} or {id, ok: false, error}; the script announces itself with
// id 0. The process is killed at close() or, at the latest, when the test process exits.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Netns } from './netns.js';

const live = new Set<ChildProcessWithoutNullStreams>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export type PeerAnswer<T> = { id: number; ok: true; reply: T } | { id: number; ok: false; error: string };

export class PeerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: PeerAnswer<unknown>) => void>();
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly label: string) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const a = JSON.parse(line) as PeerAnswer<unknown>;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
    child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    child.once('exit', (code, signal) => {
      live.delete(child);
      // Nothing will answer any more: every command still waiting fails instead of hanging the test.
      for (const [id, settle] of this.waiting) settle({ id, ok: false, error: `${label} exited (${code ?? signal}): ${this.stderr.slice(-500)}` });
      this.waiting.clear();
    });
  }

  /** Starts `node <script>` inside `ns` and waits for its ready line. */
  static start(ns: Netns, script: string): Promise<PeerProcess> {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, script], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    const peer = new PeerProcess(child, `${script} in ${ns.name}`);
    return new Promise((resolve, reject) => {
      peer.waiting.set(0, (a) => (a.ok ? resolve(peer) : reject(new Error(a.error))));
      child.once('error', reject);
    });
  }

  request<T>(m: Record<string, unknown>): Promise<PeerAnswer<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (a: PeerAnswer<unknown>) => void);
      this.child.stdin.write(JSON.stringify({ id, ...m }) + '\n');
    });
  }

  /** Like request(), but a failed command throws. */
  async call<T>(m: Record<string, unknown>): Promise<T> {
    const a = await this.request<T>(m);
    if (!a.ok) throw new Error(`${this.label}: ${String(m.cmd)} failed: ${a.error}`);
    return a.reply;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill('SIGKILL');
  }
}
