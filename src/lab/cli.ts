// What the lab's command-line entries share: events out as JSON lines on stdout, commands in as
// JSON lines on stdin, failures reported as an `error` event with a stable code, and the exit
// status (0 after quit or end of input, 1 when start-up failed, 2 for bad flags).

import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LabInputError, UeError } from './errors.js';

export type LabCommand = { readonly cmd: string; readonly [key: string]: unknown };

export type LabEvent = { readonly event: string; readonly [key: string]: unknown };

export function emit(event: LabEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** The `error` event for a failure: its stable code, its message, and what the error carries. */
export function errorEvent(op: string, e: unknown): LabEvent {
  if (e instanceof UeError) return { event: 'error', op, code: e.code, reason: e.message, ...e.details };
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') return { event: 'error', op, code: (e as Error & { code: string }).code, reason: e.message };
  return { event: 'error', op, code: 'ERR_LAB_INTERNAL', reason: String(e) };
}

export interface CommandInput {
  /** Resolves at the end of stdin, a signal (SIGTERM, SIGINT) or close(). */
  readonly done: Promise<void>;
  close(): void;
}

/**
 * Runs `handle` for each JSON line of stdin (in order of arrival; a command does not wait for the
 * previous one). A line that is not a JSON object with a string `cmd` is an `error` event.
 */
export function readCommands(handle: (cmd: LabCommand) => Promise<void>): CommandInput {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let cmd: unknown;
    try {
      cmd = JSON.parse(line);
    } catch {
      emit(errorEvent('command', new LabInputError('ERR_LAB_CONFIG', 'command', `not JSON: ${line.slice(0, 200)}`)));
      return;
    }
    if (typeof cmd !== 'object' || cmd === null || typeof (cmd as { cmd?: unknown }).cmd !== 'string') {
      emit(errorEvent('command', new LabInputError('ERR_LAB_CONFIG', 'command', 'a command is a JSON object with a string "cmd"')));
      return;
    }
    const c = cmd as LabCommand;
    handle(c).catch((e: unknown) => emit(errorEvent(c.cmd, e)));
  });
  const done = new Promise<void>((resolve) => {
    lines.once('close', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  return { done, close: () => lines.close() };
}

/** A string field of a command; throws LabInputError when it is missing or not a string. */
export function commandString(cmd: LabCommand, field: string): string {
  const v = cmd[field];
  if (typeof v !== 'string') throw new LabInputError('ERR_LAB_CONFIG', field, `command "${cmd.cmd}" needs a string "${field}"`);
  return v;
}

/** node:util parseArgs, with its errors turned into LabInputError (exit status 2). */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new LabInputError('ERR_LAB_CONFIG', 'flags', (e as Error).message);
  }
}

export function intFlag(name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^(?:0x[0-9a-fA-F]+|\d+)$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new LabInputError('ERR_LAB_CONFIG', `--${name}`, `must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Runs a command-line entry: exit status 2 with the message on stderr for bad flags or files,
 * 1 for any other start-up failure, else what `main` returns.
 */
export function runMain(usage: string, main: (argv: readonly string[]) => Promise<number>): void {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    return;
  }
  main(argv).then(
    (status) => { process.exitCode = status; },
    (e: unknown) => {
      if (e instanceof LabInputError) {
        process.stderr.write(`${e.message}\n${usage}`);
        process.exitCode = 2;
        return;
      }
      emit(errorEvent('start', e));
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
