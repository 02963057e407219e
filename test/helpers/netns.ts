// Network namespaces and veth pairs for tests, named uniquely per process (test files run in
// parallel) and always removed: explicitly, or at process exit whatever happened before.

import { spawnSync } from 'node:child_process';

export interface Netns {
  readonly name: string;
  /** `ip -n <name> ...args`; throws with ip's message when it fails, returns stdout. */
  ip(...args: string[]): string;
  /** `ip -n <name> ...args` without throwing. */
  tryIp(...args: string[]): { ok: boolean; stdout: string; stderr: string };
  /** Runs a command inside the namespace (`ip netns exec`); throws on failure, returns stdout. */
  exec(cmd: string, ...args: string[]): string;
  delete(): void;
}

const live = new Set<string>();
let counter = 0;

function run(cmd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

function remove(name: string): void {
  if (!live.delete(name)) return;
  run('ip', ['netns', 'del', name]);
}

process.on('exit', () => {
  for (const name of [...live]) remove(name);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const name of [...live]) remove(name);
    process.exit(130);
  });
}

/** A fresh namespace `pcscf-<tag>-<pid>-<n>` with loopback up. */
export function createNetns(tag: string): Netns {
  const name = `pcscf-${tag}-${process.pid}-${++counter}`;
  must('ip', ['netns', 'add', name]);
  live.add(name);
  must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    ip: (...args) => must('ip', ['-n', name, ...args]),
    tryIp: (...args) => run('ip', ['-n', name, ...args]),
    exec: (cmd, ...args) => must('ip', ['netns', 'exec', name, cmd, ...args]),
    delete: () => remove(name),
  };
}

export interface VethEnd {
  ns: Netns;
  /** Addresses with prefix, e.g. '172.31.1.1/30', 'fd00:1::1/64'. */
  addrs: string[];
}

/** Links two namespaces with a veth pair (names unique to this process), addresses set, links up. Returns the interface names. */
export function vethPair(a: VethEnd, b: VethEnd): [string, string] {
  const n = ++counter;
  const ifA = `va${process.pid % 100000}x${n}`.slice(0, 15);
  const ifB = `vb${process.pid % 100000}x${n}`.slice(0, 15);
  // `name` is needed: `ip link add a type veth` would parse `a` as `address` (esp-vm.md pitfalls).
  must('ip', ['link', 'add', 'name', ifA, 'netns', a.ns.name, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.ns.name]);
  for (const [end, ifname] of [[a, ifA], [b, ifB]] as const) {
    for (const addr of end.addrs) end.ns.ip('addr', 'add', addr, 'dev', ifname, ...(addr.includes(':') ? ['nodad'] : []));
    end.ns.ip('link', 'set', ifname, 'up');
  }
  return [ifA, ifB];
}

/** Runs `fn` with fresh namespaces, deleting them afterwards even when it throws. */
export async function withNetns<T>(tags: string[], fn: (...ns: Netns[]) => Promise<T>): Promise<T> {
  const created = tags.map(createNetns);
  try {
    return await fn(...created);
  } finally {
    for (const ns of created) ns.delete();
  }
}
