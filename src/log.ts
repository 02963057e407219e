// Structured JSON logs (pino) on stdout, one object per line, for the main thread. Pool workers do
// not log: they return LogEvents with their plans and the main thread writes them, so log lines
// never interleave and a worker never blocks on stdout.

import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level, base: { service: 'pcscf-ipsec' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
