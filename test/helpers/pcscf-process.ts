// The P-CSCF as a real process inside a network namespace, for the integration tests and the
// SIPp benchmark: started from a configuration object, ready when it logs "P-CSCF started", its
// HTTP endpoint fetched from inside the namespace, stopped with a signal and its exit status and
// log returned. A process still running when the test process exits is killed, whatever happened.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MAIN = { src: [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'main.ts')], dist: [process.execPath, join(ROOT, 'dist', 'main.js')] } as const;
const READY = '"msg":"P-CSCF started"';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface PcscfExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything the process wrote on stdout and stderr. */
  log: string;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (label values without escaped quotes, which ours never have). */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample with exactly these labels; 0 when the series is absent (a counter never incremented). */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels);
  const found = samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}

/** GET http://<host:port><path> from inside `ns` with a throwaway node process (no curl on CI). */
function fetchInNetns(ns: Netns, url: string): Promise<HttpAnswer> {
  const script = 'fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => { process.stderr.write(String(e.cause ?? e)); process.exit(1); })';
  return new Promise((resolveFetch, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolveFetch(JSON.parse(out) as HttpAnswer);
      else reject(new Error(`GET ${url} in ${ns.name} failed: ${err.trim()}`));
    });
  });
}

export interface StartOptions {
  /** Configuration as the YAML file would hold it (written as JSON, which YAML reads). */
  config: Record<string, unknown>;
  /** How long start-up may take (the pool starts slowly under tsx on a loaded machine). Default 60 s. */
  readyTimeoutMs?: number;
  /** `src` runs src/main.ts under tsx; `dist` the compiled dist/main.js (starts in ~1 s in the ESP VM, where tsx takes ~7 s). Default src. */
  entry?: 'src' | 'dist';
}

export class PcscfProcess {
  #log = '';
  readonly #exited: Promise<PcscfExit>;

  private constructor(
    readonly ns: Netns,
    private readonly child: ChildProcess,
    private readonly httpBase: string,
    private readonly dir: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => { this.#log += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { this.#log += d.toString(); });
    this.#exited = new Promise((resolveExit) => {
      child.on('close', (code, signal) => {
        live.delete(child);
        rmSync(dir, { recursive: true, force: true });
        resolveExit({ code, signal, log: this.#log });
      });
    });
  }

  /** Starts `node --import tsx src/main.ts --config <file>` (or `node dist/main.js`) in `ns` and waits for its "P-CSCF started" line. */
  static async start(ns: Netns, o: StartOptions): Promise<PcscfProcess> {
    const level = (o.config.log as { level?: string } | undefined)?.level ?? 'info';
    if (!['info', 'debug', 'trace'].includes(level)) throw new Error(`log.level ${level} hides the "P-CSCF started" line that tells the process is ready`);
    const dir = mkdtempSync(join(tmpdir(), 'pcscf-it-'));
    const file = join(dir, 'pcscf.yaml');
    writeFileSync(file, JSON.stringify(o.config, null, 2));
    const http = (o.config.http as { listen?: string } | undefined)?.listen ?? '127.0.0.1:9090';
    // `ip netns exec` execs the command, so the child's pid is node's and signals reach it directly.
    const child = spawn('ip', ['netns', 'exec', ns.name, ...MAIN[o.entry ?? 'src'], '--config', file], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    const p = new PcscfProcess(ns, child, `http://${http}`, dir);
    const timeoutMs = o.readyTimeoutMs ?? 60_000;
    const ready = await new Promise<boolean>((resolveReady) => {
      const timer = setTimeout(() => resolveReady(false), timeoutMs);
      const check = (): void => {
        if (!p.#log.includes(READY)) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolveReady(true);
      };
      child.stdout!.on('data', check);
      void p.#exited.then(() => { clearTimeout(timer); resolveReady(p.#log.includes(READY)); });
    });
    if (!ready) {
      const exit = await p.stop('SIGKILL');
      throw new Error(`the P-CSCF in ${ns.name} did not start (exit ${exit.code ?? exit.signal}): ${exit.log.slice(-3000)}`);
    }
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** What the process has logged so far. */
  get log(): string {
    return this.#log;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get(path: string): Promise<HttpAnswer> {
    return fetchInNetns(this.ns, this.httpBase + path);
  }

  async metrics(): Promise<Sample[]> {
    const r = await this.get('/metrics');
    if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body}`);
    return parseMetrics(r.body);
  }

  /** The bindings /admin/bindings lists (for one AOR when given). */
  async bindings(aor?: string): Promise<Record<string, unknown>[]> {
    const r = await this.get(`/admin/bindings${aor === undefined ? '' : `?aor=${encodeURIComponent(aor)}`}`);
    if (r.status !== 200) throw new Error(`GET /admin/bindings: ${r.status} ${r.body}`);
    return (JSON.parse(r.body) as { bindings: Record<string, unknown>[] }).bindings;
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. Safe to call more than once. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<PcscfExit> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.#exited;
    clearTimeout(timer);
    return exit;
  }
}
