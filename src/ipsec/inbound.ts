// What arrives on a protected port (DESIGN.md invariant 3): a message is taken only when it came
// from the UE address and port of an SA set of ours whose flow it is (sets.ts covers()), and a
// protected REGISTER only when its Security-Verify mirrors the Security-Server of that set
// (RFC 3329 §2.3.1) and, over a set it has not used before, its Security-Client is the one that
// asked for the set (TS 33.203 §7.2, Annex H: the check against a man in the middle who removed
// the UE's stronger offers from the unprotected REGISTER).
//
// The kernel already drops unprotected packets of a protected flow (each flow's policy requires
// ESP); these checks are what the kernel cannot know: a source with no SA of ours at all (no
// policy, so plaintext passes), another UE's set, a flow outside the four the set covers.

import type { RxInfo } from '../engine/plan.js';
import { buildSecurityServer, Mismatch, securityListDigest, verifyMatchesServer } from '../secagree/index.js';
import type { MismatchCode } from '../secagree/index.js';
import type { Binding, BindingId, SaSet } from '../shared/binding.js';
import type { SipMessage } from '../sip/index.js';
import type { SocketTable } from '../transport/sockets.js';
import type { IpsecContext } from './context.js';
import { changeSets, confirm, covers, type SetSlot } from './sets.js';

export interface ProtectedOrigin {
  readonly id: BindingId;
  readonly binding: Binding;
  readonly slot: SetSlot;
  readonly set: SaSet;
}

/** Whether a message arrived on (or a target names) a protected port. */
export function isProtected(sockets: SocketTable, socketId: number): boolean {
  const role = sockets.byId(socketId)?.role;
  return role !== undefined && role !== 'unprotected';
}

/** The binding and set a message on a protected port came over; undefined when it came over none. */
export function protectedOrigin(ctx: IpsecContext, rx: RxInfo, kind: 'request' | 'response'): ProtectedOrigin | undefined {
  for (const id of ctx.contacts.findAllByReceived(rx.remote.addr, rx.remote.port)) {
    const binding = ctx.contacts.get(id);
    if (binding === undefined) continue;
    for (const slot of ['sa', 'previousSa'] as const) {
      const set = binding[slot];
      if (set !== undefined && covers(set, kind, rx.transport, rx.local.port, rx.remote.port)) return { id, binding, slot, set };
    }
  }
  return undefined;
}

/** "Arrival over a set confirms it": the first request over a set stops it being temporary. */
export function confirmArrival(ctx: IpsecContext, o: ProtectedOrigin): void {
  if (o.set.confirmedAt === 0) changeSets(ctx, o.id, (b) => confirm(b, o.set.spiPc, ctx.now()), 'register');
}

/** The Security-Server of a set (kamailio-behaviour.md §5.3), with the algorithms' canonical names. */
export function securityServerOf(set: SaSet): string {
  return buildSecurityServer({ spiPc: set.spiPc, spiPs: set.spiPs, portPc: set.portPc, portPs: set.portPs, alg: set.alg, ealg: set.ealg });
}

/** Why a protected REGISTER is refused: which header, how it differs, and the Security-Server it had to mirror. */
export interface VerifyFailure {
  readonly header: 'verify' | 'client';
  readonly code: MismatchCode | 'CHANGED';
  readonly server: string;
}

export function verifyProtectedRegister(msg: SipMessage, o: ProtectedOrigin): VerifyFailure | undefined {
  const server = securityServerOf(o.set);
  const verify = verifyMatchesServer(msg.fieldValues('security-verify'), server);
  if (verify instanceof Mismatch) return { header: 'verify', code: verify.code, server };
  // Over a set already in use, the Security-Client offers the next set (a re-registration):
  // there is nothing to compare it with.
  if (o.set.confirmedAt !== 0) return undefined;
  const digest = securityListDigest(msg.fieldValues('security-client'));
  if (digest instanceof Mismatch) return { header: 'client', code: digest.code, server };
  return Buffer.compare(digest, o.set.clientDigest) === 0 ? undefined : { header: 'client', code: 'CHANGED', server };
}
