// CPU time of a process from /proc/<pid>/stat, for the benchmarks that tell which process a
// figure is bound by.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds a process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 3 of proc(5), utime 14 and stime 15.
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
