// The SA sets of one binding and how they change (TS 33.203 §7.4 as spec/decisions.md reads it).
//
// A binding holds at most two sets:
//   sa          the newest one;
//   previousSa  the one in use before it, kept while `sa` is not established yet.
// `sa` is temporary while no protected request has arrived over it yet (confirmedAt 0) or while
// previousSa is still kept (the re-registration over it has not been accepted). The P-CSCF sends
// over the established set: previousSa while there is one, else sa; it accepts traffic over both.
//
// Transitions (each one atomic on the contact table; the sets it takes out are torn down by the
// thread that took them, see context.ts):
//   attach     ipsecCreate's commit: the new set becomes sa; an established sa becomes
//              previousSa; a temporary sa is superseded and removed (ipsec_create flag 0x01).
//   confirm    a request arrived over a set: its confirmedAt is set.
//   establish  the 2xx to a REGISTER that came over sa was relayed: previousSa is removed.
//   abandon    the REGISTER over sa was refused, sa stayed temporary past
//              security.temporary_sa_timeout_s, or its 401 could not be sent: sa is removed and
//              previousSa (if any) is sa again.
//   detach     every set is removed (the binding goes, moves to another address, or registers
//              again without IPsec).
// Sets are told apart by their spi_pc, unique while the pair is allocated.

import type { Transport, XfrmWhy } from '../engine/plan.js';
import type { Binding, BindingId, SaSet } from '../shared/binding.js';
import type { ContactTable } from '../shared/contact-table.js';
import type { IpsecContext } from './context.js';

export type SetSlot = 'sa' | 'previousSa';

/** What a transition makes of a binding, and the sets it takes out. */
export interface SetChange {
  readonly next: Binding;
  readonly removed: readonly SaSet[];
  /** Why the removed sets go, when the caller's default does not say it. */
  readonly why?: XfrmWhy;
}

export function isTemporary(b: Binding): boolean {
  return b.sa !== undefined && (b.sa.confirmedAt === 0 || b.previousSa !== undefined);
}

/** The set the P-CSCF sends over. */
export function sendingSet(b: Binding): SaSet | undefined {
  return b.previousSa ?? b.sa;
}

/** The established set, undefined during an initial registration. */
export function establishedSet(b: Binding): SaSet | undefined {
  return isTemporary(b) ? b.previousSa : b.sa;
}

export function setsOf(b: Binding): SaSet[] {
  const out: SaSet[] = [];
  if (b.sa !== undefined) out.push(b.sa);
  if (b.previousSa !== undefined) out.push(b.previousSa);
  return out;
}

/**
 * Whether `set` covers a message that arrived on local port `local` from UE port `remote`
 * (kamailio-behaviour.md §6 rows 1 and 4): requests U:port_uc -> P:port_ps; responses to the
 * P-CSCF's requests U:port_us -> P:port_pc, or over TCP on the UE's own connection to port_ps
 * (ipsecForward flag 0x40).
 */
export function covers(set: SaSet, kind: 'request' | 'response', transport: Transport, local: number, remote: number): boolean {
  const row1 = set.portPs === local && set.portUc === remote;
  if (kind === 'request') return row1;
  return (set.portPc === local && set.portUs === remote) || (transport === 'tcp' && row1);
}

export function slotOf(b: Binding, spiPc: number): SetSlot | undefined {
  if (b.sa?.spiPc === spiPc) return 'sa';
  if (b.previousSa?.spiPc === spiPc) return 'previousSa';
  return undefined;
}

function without(b: Binding, keys: readonly SetSlot[]): Binding {
  const next = { ...b };
  for (const k of keys) delete next[k];
  return next;
}

export function attach(b: Binding, set: SaSet): SetChange {
  const current = b.sa;
  if (current === undefined) return { next: { ...b, sa: set }, removed: [] };
  if (isTemporary(b)) return { next: { ...b, sa: set }, removed: [current], why: 'superseded' };
  return { next: { ...b, sa: set, previousSa: current }, removed: [] };
}

/** Undefined when the set is gone or already confirmed. */
export function confirm(b: Binding, spiPc: number, now: number): SetChange | undefined {
  const slot = slotOf(b, spiPc);
  const set = slot === undefined ? undefined : b[slot];
  if (slot === undefined || set === undefined || set.confirmedAt !== 0) return undefined;
  return { next: { ...b, [slot]: { ...set, confirmedAt: now } }, removed: [] };
}

/** Undefined unless `spiPc` is sa and a previous set is still kept. */
export function establish(b: Binding, spiPc: number): SetChange | undefined {
  if (b.sa?.spiPc !== spiPc || b.previousSa === undefined) return undefined;
  return { next: without(b, ['previousSa']), removed: [b.previousSa], why: 'replaced' };
}

/** Undefined unless `spiPc` is sa. */
export function abandon(b: Binding, spiPc: number): SetChange | undefined {
  if (b.sa?.spiPc !== spiPc) return undefined;
  const next = without(b, ['sa', 'previousSa']);
  if (b.previousSa !== undefined) next.sa = b.previousSa;
  return { next, removed: [b.sa] };
}

export function detach(b: Binding, why?: XfrmWhy): SetChange {
  const change = { next: without(b, ['sa', 'previousSa']), removed: setsOf(b) };
  return why === undefined ? change : { ...change, why };
}

/**
 * Applies `change` to binding `id` as one atomic update of the contact table (it may run more than
 * once if another thread changes the binding meanwhile: it must be pure) and notes the teardown of
 * the sets the stored result took out. False when the binding is gone or `change` declined.
 */
export function changeSets(ctx: IpsecContext, id: BindingId, change: (b: Binding) => SetChange | undefined, why: XfrmWhy): boolean {
  let last: { ueAddr: string; change: SetChange } | undefined;
  const stored = ctx.contacts.update(id, (b) => {
    const c = change(b);
    last = c === undefined ? undefined : { ueAddr: b.receivedAddr, change: c };
    return c?.next;
  });
  if (stored && last !== undefined) for (const s of last.change.removed) ctx.teardown(last.ueAddr, s, last.change.why ?? why);
  return stored;
}

/**
 * Removes binding `id` from the contact table (only if `when` says so of it, when given) and
 * notes the teardown of its sets; the binding as it was removed, or undefined.
 */
export function removeBinding(contacts: ContactTable, ipsec: IpsecContext | undefined, id: BindingId, why: XfrmWhy, when?: (b: Binding) => boolean): Binding | undefined {
  const b = contacts.take(id, when);
  if (b !== undefined && ipsec !== undefined) for (const s of setsOf(b)) ipsec.teardown(b.receivedAddr, s, why);
  return b;
}
