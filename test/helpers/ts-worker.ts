// Starting a worker thread on a TypeScript module.
//
// `new Worker(url, { execArgv: ['--import', 'tsx'] })` does not work on Node 20 (checked on
// 20.20.2): the worker fails with ERR_UNKNOWN_FILE_EXTENSION for the .ts entry, because tsx's
// loader hooks are not in place in the new thread when its entry module is resolved. What works is
// an eval'd bootstrap that registers tsx's hooks inside the worker and then imports the module.
// A piscina pool needs the same: point its `filename` at a small .mjs file doing these two steps.

import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

const tsxApi = import.meta.resolve('tsx/esm/api');

export function startTsWorker(module: URL, options: WorkerOptions = {}): Worker {
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** Resolves with the worker's first message; rejects if it fails or exits without one. */
export function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before reporting`)));
  });
}
