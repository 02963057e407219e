// Many lab UEs from one process, as a load generator: UE i gets its own ports and SPIs (a slot),
// they share one SipNode (one timer queue) and one XfrmClient (its worker batches their SAs), and
// they start registering at a fixed rate. Each registration records the time from its first
// REGISTER to the 401 and to the 200; percentiles are the caller's business.

import { UeError } from './errors.js';
import type { SipNode } from './sip-node.js';
import { Ue, type UeEvent, type UeOptions, type UePorts, type XfrmSubmitter } from './ue.js';

export interface SlotPlan {
  /** UE i uses ports portBase + 4i .. portBase + 4i + 3. */
  readonly portBase: number;
  /** UE i uses SPIs spiBase + 4i .. spiBase + 4i + 3. */
  readonly spiBase: number;
}

/** The ports and SPIs of UE i: unprotected, server (port_us) and the two client ports, 4 SPIs. */
export function slotOf(i: number, plan: SlotPlan): { ports: UePorts; spiBase: number } {
  const p = plan.portBase + 4 * i;
  return { ports: { unprotected: p, server: p + 1, clients: [p + 2, p + 3] }, spiBase: plan.spiBase + 4 * i };
}

export interface LoadOptions {
  readonly count: number;
  /** Registrations started per second. */
  readonly ratePerSecond: number;
  /** The options of UE i (see slotOf for its ports and SPIs). */
  readonly ue: (i: number) => UeOptions;
  readonly xfrm: XfrmSubmitter;
  readonly node: SipNode;
  readonly onSample?: (s: LoadSample) => void;
  readonly onEvent?: (i: number, e: UeEvent) => void;
}

export interface LoadSample {
  readonly index: number;
  readonly ok: boolean;
  /** From the first REGISTER to the 401. */
  readonly challengedAfterMs?: number;
  /** From the first REGISTER to the 200. */
  readonly registeredAfterMs?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface LoadResult {
  /** Every UE, registered or not: close them (or de-register them) when done. */
  readonly ues: readonly Ue[];
  /** One per UE, in index order. */
  readonly samples: readonly LoadSample[];
  /** From the first start to the last result. */
  readonly elapsedMs: number;
}

/** Registers `count` UEs, starting one every 1/ratePerSecond seconds. Never rejects for a failed registration. */
export async function registerMany(o: LoadOptions): Promise<LoadResult> {
  const ues: Ue[] = [];
  const pending: Promise<LoadSample>[] = [];
  const started = performance.now();
  const interval = 1000 / o.ratePerSecond;
  for (let i = 0; i < o.count; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const ue = new Ue(o.ue(i), { xfrm: o.xfrm, node: o.node, ...(o.onEvent === undefined ? {} : { onEvent: (e: UeEvent) => o.onEvent!(i, e) }) });
    ues.push(ue);
    pending.push(ue.register().then(
      (t): LoadSample => ({ index: i, ok: true, ...(t.challengedAfterMs === undefined ? {} : { challengedAfterMs: t.challengedAfterMs }), registeredAfterMs: t.doneAfterMs }),
      (e: unknown): LoadSample => ({ index: i, ok: false, error: e instanceof UeError ? { code: e.code, message: e.message } : { code: 'ERR_LAB_INTERNAL', message: String(e) } }),
    ).then((s) => {
      o.onSample?.(s);
      return s;
    }));
  }
  const samples = await Promise.all(pending);
  return { ues, samples, elapsedMs: performance.now() - started };
}

/** The p-th percentile (0-100) of `values` by the nearest-rank method; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
