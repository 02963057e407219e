// Where a script that needs IPsec ESP in the kernel (the demo, the IPsec registration benchmark)
// runs: on this host when its kernel has ESP, else inside the ESP VM (../shared/tools/run-in-esp-vm.sh
// or $ESPVM_RUNNER), else nowhere, with the reason. scripts/run-tests.ts decides the same way for
// the test/esp suites; TEST_ESP=vm skips the host probe and uses the VM.
//
// A script calls `relaunchInEspKernel` first: outside, it builds dist/ (processes in the VM run the
// compiled product, which starts in ~1 s there where tsx takes ~7 s), starts the script again
// where ESP is, and exits with its status; inside (marked by an environment variable) it returns
// and the script does its work.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
// Not PCSCF_...: the P-CSCF reads every PCSCF_ variable as a configuration key.
const INSIDE = 'ESP_KERNEL_RELAUNCHED';

export type EspPlace = { readonly kind: 'host' } | { readonly kind: 'vm'; readonly runner: string } | { readonly kind: 'none'; readonly why: string };

/**
 * Adds and deletes an ESP SA in a scratch namespace: the only reliable way to learn whether this
 * kernel has ESP (an XFRM policy succeeds without it; the SA fails with "Requested type not found").
 */
function hostHasEsp(): boolean {
  const ns = `pcscf-espprobe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) return false;
  try {
    const r = spawnSync('ip', ['-n', ns, 'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2',
      'proto', 'esp', 'spi', '0x1000', 'mode', 'transport',
      'auth-trunc', 'hmac(sha1)', '0x' + '11'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '22'.repeat(16)]);
    return r.status === 0;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Where ESP is to be found. Needs root: without it no namespace or SA can be made anywhere. */
export function espPlace(): EspPlace {
  if (process.getuid?.() !== 0) {
    return { kind: 'none', why: 'this needs root: it creates network namespaces and IPsec SAs (run it with sudo)' };
  }
  if (process.env.TEST_ESP !== 'vm' && hostHasEsp()) return { kind: 'host' };
  const runner = process.env.ESPVM_RUNNER ?? resolve(ROOT, '..', 'shared', 'tools', 'run-in-esp-vm.sh');
  if (existsSync(runner)) return { kind: 'vm', runner };
  return {
    kind: 'none',
    why: `this kernel has no IPsec ESP (an ESP SA cannot be added: modprobe esp4 esp6, or use a kernel built with CONFIG_INET_ESP / CONFIG_INET6_ESP) ` +
      `and no ESP VM runner was found at ${runner} (set ESPVM_RUNNER to a command that runs "COMMAND..." as root on a kernel with ESP)`,
  };
}

/** Compiles the product into dist/ (tsconfig.build.json), which the processes started where ESP is run. */
export function buildDist(): { ok: boolean; output: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  return { ok: r.status === 0, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** True in the process that runs where ESP is. */
export function insideEspKernel(): boolean {
  return process.env[INSIDE] !== undefined;
}

export interface RelaunchOptions {
  /** What the script is, for the messages. */
  readonly what: string;
  /** VM wall-clock limit in seconds (run-in-esp-vm.sh --timeout). */
  readonly vmTimeoutS: number;
  /** VM vCPUs (run-in-esp-vm.sh --cpus; its default is 1). */
  readonly vmCpus?: number;
}

/**
 * Outside: builds dist/, runs this script (`process.argv`) again where ESP is and exits with its
 * status, never returning. Inside: returns at once. Ctrl-C reaches the relaunched script (same
 * process group), which cleans up; the VM runner kills the VM.
 */
export async function relaunchInEspKernel(o: RelaunchOptions): Promise<void> {
  if (insideEspKernel()) return;
  const place = espPlace();
  if (place.kind === 'none') {
    process.stderr.write(`${o.what} cannot run here: ${place.why}.\n`);
    process.exit(1);
  }
  const build = buildDist();
  if (!build.ok) {
    process.stderr.write(`${build.output}building dist/ (tsc -p tsconfig.build.json) failed\n`);
    process.exit(1);
  }
  const self = [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const argv = place.kind === 'host' ? self : [place.runner, '--timeout', String(o.vmTimeoutS), ...(o.vmCpus === undefined ? [] : ['--cpus', String(o.vmCpus)]), '--', ...self];
  if (place.kind === 'vm') process.stderr.write(`This kernel has no IPsec ESP: ${o.what} runs in the ESP VM (${place.runner}); booting it takes a few seconds and everything runs 7-11x slower there.\n`);
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: 'inherit', env: { ...process.env, [INSIDE]: place.kind } });
  // The terminal's Ctrl-C reaches the child too: wait for it to clean up instead of dying first.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const status = await new Promise<number>((done) => {
    child.once('error', (e) => { process.stderr.write(`${argv[0]}: ${e.message}\n`); done(1); });
    child.once('exit', (code, signal) => done(code ?? (signal === 'SIGINT' ? 130 : 128)));
  });
  process.exit(status);
}
