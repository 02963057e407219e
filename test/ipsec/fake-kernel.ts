// A stand-in for the netlink worker and the kernel behind it, for the executor's unit tests: it
// keeps the SAs (by daddr, SPI) and policies (by selector and direction) it was asked to create,
// refuses duplicates (EEXIST) and deletes of what is not there (ESRCH / ENOENT) as the kernel does,
// and rolls a failed group back as the netlink worker does. Failures can be injected per op.

import type { XfrmSubmitter } from '../../src/ipsec/executor.js';
import type { GroupResult, OpResult, XfrmOp, XfrmSelector } from '../../src/netlink/xfrm-types.js';

const ERRNO: Record<string, number> = { EEXIST: 17, ESRCH: 3, ENOENT: 2, ENOSYS: 38, ETIMEDOUT: 110 };

function selectorKey(s: XfrmSelector): string {
  return `${s.saddr}:${s.sport}>${s.daddr}:${s.dport}/${s.user}`;
}

/** The kernel object an op concerns. */
export function keyOf(op: XfrmOp): string {
  switch (op.op) {
    case 'newsa': return `sa ${op.sa.daddr} ${op.sa.spi}`;
    case 'delsa': return `sa ${op.id.daddr} ${op.id.spi}`;
    case 'newpolicy': return `policy ${selectorKey(op.policy.selector)} ${op.policy.dir}`;
    case 'delpolicy': return `policy ${selectorKey(op.id.selector)} ${op.id.dir}`;
  }
}

function failure(code: 'KERNEL' | 'NETLINK_TIMEOUT', errnoName: string): OpResult {
  return { ok: false, code, errno: ERRNO[errnoName] ?? 0, errnoName, message: `fake ${errnoName}` };
}

/** What an injected fault does to the op it hits. */
export type Fault = { kind: 'errno'; errnoName: string } | { kind: 'timeout' } | { kind: 'reject'; code: string };

export class FakeKernel implements XfrmSubmitter {
  /** Kernel objects present now. */
  readonly objects = new Set<string>();
  /** Every group submitted, in order. */
  readonly groups: XfrmOp[][] = [];
  /** Faults to apply, checked in order against each op; each is used once. */
  readonly faults: { when: (op: XfrmOp) => boolean; fault: Fault }[] = [];
  /** While set, rollbacks time out too (the group's creations may stay behind). */
  rollbackTimesOut = false;

  get sas(): number {
    return [...this.objects].filter((k) => k.startsWith('sa ')).length;
  }

  get policies(): number {
    return [...this.objects].filter((k) => k.startsWith('policy ')).length;
  }

  /** Adds an object someone else created (e.g. a foreign SA holding an SPI). */
  add(op: XfrmOp): void {
    this.objects.add(keyOf(op));
  }

  submit(group: XfrmOp[]): Promise<GroupResult> {
    this.groups.push(group);
    const reject = this.takeFault(group[0]!, (f) => f.kind === 'reject');
    if (reject?.kind === 'reject') return Promise.reject(Object.assign(new Error(`fake ${reject.code}`), { code: reject.code }));
    const results: OpResult[] = [];
    const created: string[] = [];
    let failed = false;
    for (const op of group) {
      if (failed) {
        results.push({ ok: false, code: 'NOT_ATTEMPTED', errno: 125, errnoName: 'ECANCELED', message: 'not attempted' });
        continue;
      }
      const r = this.run(op);
      results.push(r);
      if (r.ok && (op.op === 'newsa' || op.op === 'newpolicy')) created.push(keyOf(op));
      if (!r.ok) failed = true;
    }
    if (!failed) return Promise.resolve({ ok: true, results });
    const firstIndex = results.findIndex((r) => !r.ok);
    const result: GroupResult = { ok: false, results, firstError: { index: firstIndex, result: results[firstIndex]! } };
    if (created.length > 0) {
      result.rolledBack = created.reverse().map((k): OpResult => {
        if (this.rollbackTimesOut) return failure('NETLINK_TIMEOUT', 'ETIMEDOUT');
        this.objects.delete(k);
        return { ok: true };
      });
    }
    return Promise.resolve(result);
  }

  private takeFault(op: XfrmOp, kind: (f: Fault) => boolean): Fault | undefined {
    const i = this.faults.findIndex((f) => kind(f.fault) && f.when(op));
    if (i < 0) return undefined;
    return this.faults.splice(i, 1)[0]!.fault;
  }

  private run(op: XfrmOp): OpResult {
    const fault = this.takeFault(op, (f) => f.kind !== 'reject');
    if (fault?.kind === 'errno') return failure('KERNEL', fault.errnoName);
    const key = keyOf(op);
    if (fault?.kind === 'timeout') {
      // The kernel did it, but its answer never came.
      if (op.op === 'newsa' || op.op === 'newpolicy') this.objects.add(key);
      else this.objects.delete(key);
      return failure('NETLINK_TIMEOUT', 'ETIMEDOUT');
    }
    if (op.op === 'newsa' || op.op === 'newpolicy') {
      if (this.objects.has(key)) return failure('KERNEL', 'EEXIST');
      this.objects.add(key);
      return { ok: true };
    }
    if (!this.objects.delete(key)) return failure('KERNEL', op.op === 'delsa' ? 'ESRCH' : 'ENOENT');
    return { ok: true };
  }
}

/** Lets every pending promise chain of the executor run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}
