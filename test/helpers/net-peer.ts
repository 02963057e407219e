// Drives test/helpers/net-peer.mjs running inside a namespace: UDP/TCP echo servers and clients
// bound to the exact addresses and ports a test needs. The process is killed at close() or, at
// the latest, when the test process exits.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';

const PEER = fileURLToPath(new URL('./net-peer.mjs', import.meta.url));
const live = new Set<ChildProcessWithoutNullStreams>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Exchange {
  local: string;
  lport: number;
  remote: string;
  rport: number;
  payload: string;
  timeoutMs: number;
}

type Answer = { id: number; ok: true; reply: string } | { id: number; ok: false; error: string };

export class NetPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const a = JSON.parse(line) as Answer;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  static start(ns: Netns): Promise<NetPeer> {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, PEER], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    child.on('exit', () => live.delete(child));
    const peer = new NetPeer(child);
    return new Promise((resolve, reject) => {
      peer.waiting.set(0, () => resolve(peer));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`net-peer in ${ns.name} exited with ${code}`)));
    });
  }

  listen(addr: string, port: number): Promise<Answer> {
    return this.send({ cmd: 'listen', addr, port });
  }

  /** One UDP datagram from local:lport to remote:rport; the answer carries the echo or the error ('timeout'). */
  udp(x: Exchange): Promise<Answer> {
    return this.send({ cmd: 'udp', ...x });
  }

  tcp(x: Exchange): Promise<Answer> {
    return this.send({ cmd: 'tcp', ...x });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill('SIGKILL');
  }

  private send(m: Record<string, unknown>): Promise<Answer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ id, ...m }) + '\n');
    });
  }
}
