// The test command (`npm test`): type check, then every uvu suite under test/ in its own process.
//
// uvu alone exits 0 when no test ran and prints one summary per process, so this runner sums the
// summaries, treats a crash, a timeout or a file without tests as a failure, and ends with exactly
// one line `N passed, N failed`. Suites under test/esp/ need a kernel with ESP: they run on the
// host when its kernel has ESP, otherwise inside the ESP VM (../shared/tools/run-in-esp-vm.sh or
// $ESPVM_RUNNER), otherwise they are reported as skipped with the reason.
//
//   npm test [-- [--jobs N] [PATH_FILTER...]]
//   env: TEST_JOBS (default 2), TEST_TIMEOUT_S (per file, default 600), ESPVM_RUNNER, TEST_ESP=host|vm|off

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, type EspPlace, espPlace } from './esp-kernel.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);


interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  note?: string;
  output: string;
}

function parseArgs(argv: string[]): { jobs: number; filters: string[] } {
  let jobs = Number(process.env.TEST_JOBS ?? 2);
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--jobs' || a === '-j') jobs = Number(argv[++i]);
    else filters.push(a);
  }
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs / TEST_JOBS must be a positive integer, got ${jobs}`);
  return { jobs, filters };
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

const isEspSuite = (file: string): boolean => file.startsWith(`test${sep}esp${sep}`);

function espMode(): EspPlace {
  return process.env.TEST_ESP === 'off' ? { kind: 'none', why: 'TEST_ESP=off' } : espPlace();
}

function commandFor(file: string, esp: EspPlace, timeoutS: number): string[] {
  const node = [process.execPath, '--import', 'tsx', file];
  if (!isEspSuite(file) || esp.kind === 'host') return node;
  if (esp.kind !== 'vm') throw new Error('unreachable: ESP suites are filtered out when ESP is unavailable');
  return [esp.runner, '--timeout', String(timeoutS), '--', ...node];
}

const ANSI = /\x1b\[[0-9;]*m/g;

function lastNumber(text: string, label: string): number | undefined {
  const all = [...text.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))];
  const m = all.at(-1);
  return m ? Number(m[1]) : undefined;
}

function runFile(file: string, esp: EspPlace, timeoutS: number): Promise<FileResult> {
  const [cmd, ...args] = commandFor(file, esp, timeoutS);
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd!, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TEST_ESP_KERNEL: esp.kind },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutS * 1000 + 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = output.replace(ANSI, '');
      const total = lastNumber(text, 'Total');
      const passed = lastNumber(text, 'Passed') ?? 0;
      const skipped = lastNumber(text, 'Skipped') ?? 0;
      let failed = total === undefined ? 0 : total - passed;
      let note: string | undefined;
      const skipReason = /^# skipped: (.+)$/m.exec(text)?.[1];
      if (timedOut) note = `timed out after ${timeoutS}s`;
      else if (code !== 0) note = `exited with ${signal ?? code}`;
      else if (total === undefined || total + skipped === 0) note = skipReason ? undefined : 'no test ran';
      if (note && failed === 0) failed = 1;
      done({ file, passed, failed, skipped, seconds: (Date.now() - started) / 1000, note: note ?? (skipReason ? `skipped: ${skipReason}` : undefined), output: text });
    });
  });
}

function typecheck(): FileResult {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.'], { encoding: 'utf8' });
  const ok = r.status === 0;
  return { file: 'tsc --noEmit', passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0, seconds: (Date.now() - started) / 1000, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

function buildProduct(): FileResult {
  const started = Date.now();
  const { ok, output } = buildDist();
  // Like the type check, the build counts only when it fails.
  return { file: 'build dist/ (tsc -p tsconfig.build.json)', passed: 0, failed: ok ? 0 : 1, skipped: 0, seconds: (Date.now() - started) / 1000, output };
}

function report(r: FileResult): void {
  const status = r.failed > 0 ? 'FAIL' : 'ok  ';
  const note = r.note ? `  ${r.note}` : '';
  console.log(`${status} ${r.file}  ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.seconds.toFixed(1)}s)${note}`);
  if (r.failed > 0) console.log(r.output.trimEnd().replace(/^/gm, '     | '));
}

async function main(): Promise<number> {
  const { jobs, filters } = parseArgs(process.argv.slice(2));
  const timeoutS = Number(process.env.TEST_TIMEOUT_S ?? 600);
  const all = findTests('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x.replace(/^\.\//, ''))));

  const tc = typecheck();
  report(tc);
  const results: FileResult[] = [tc];

  const needsEsp = all.some(isEspSuite);
  const esp: EspPlace = needsEsp ? espMode() : { kind: 'none', why: 'no ESP suite selected' };
  if (needsEsp) {
    console.log(esp.kind === 'none' ? `ESP suites: skipped, ${esp.why}` : `ESP suites: run ${esp.kind === 'host' ? 'on this kernel' : `in the ESP VM (${esp.runner})`}`);
  }
  const skippedFiles = esp.kind === 'none' ? all.filter(isEspSuite) : [];
  // Processes started inside the ESP VM run the compiled product (node under tsx takes ~7 s to
  // start there, compiled JavaScript ~1 s): build dist/ once on the host first.
  if (needsEsp && esp.kind !== 'none') {
    const build = buildProduct();
    report(build);
    results.push(build);
  }
  for (const f of skippedFiles) console.log(`skip ${f}  (${esp.kind === 'none' ? esp.why : ''})`);
  const queue = all.filter((f) => !skippedFiles.includes(f));


  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const file = queue[next++]!;
      const r = await runFile(file, esp, timeoutS);
      report(r);
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(queue.length, 1)) }, worker));

  const passed = results.reduce((n, r) => n + r.passed, 0) - tc.passed;
  let failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  if (passed === 0 && failed === 0) {
    console.log('no test ran: that is a failure');
    failed = 1;
  }
  console.log(`${queue.length} files, ${skipped} skipped tests, ${skippedFiles.length} skipped files`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
