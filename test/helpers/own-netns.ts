// Runs a test file inside a network namespace of its own, so it can bind fixed addresses and ports
// without meeting the test files that run in parallel. A process cannot move its own threads into
// a namespace with Node alone, so the file runs itself again under `ip netns exec`: in the first
// process `ownNetns` creates the namespace, waits for the second and exits with its status, never
// returning; in the second it returns the namespace name and the tests run.

import { spawn } from 'node:child_process';
import { createNetns, type Netns } from './netns.js';

const ENV = 'PCSCF_TEST_OWN_NETNS';

export async function ownNetns(tag: string, setup?: (ns: Netns) => void): Promise<string> {
  const inside = process.env[ENV];
  if (inside !== undefined) return inside;
  const ns = createNetns(tag);
  let status = 1;
  try {
    setup?.(ns);
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [ENV]: ns.name },
    });
    status = await new Promise<number>((resolve) => {
      child.once('error', () => resolve(1));
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
    });
  } finally {
    ns.delete();
  }
  process.exit(status);
}
