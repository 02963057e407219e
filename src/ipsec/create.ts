// ipsecCreate (kamailio-behaviour.md §5, corrected as spec/decisions.md says): on the registrar's
// 401 / 407 to a REGISTER that carried a Security-Client, everything the SA set needs is decided
// here, in the logic (any thread): the offer, CK / IK from the challenge, an SPI pair from the
// shared pool, the protected ports (TS 33.203 §7.4 on re-registration), the 4 SAs and 4 policies
// for the UE address the REGISTER came from, and the 401 with Security-Server. Nothing else is
// written: the result is a `kernel` Plan, which the main thread carries out only in this order:
// kernel acknowledges every SA and policy -> the set goes into the binding -> the 401 leaves
// (DESIGN.md invariant 1). Whatever fails on the way releases the SPI pair and leaves nothing.

import type { RxInfo, SipPlan } from '../engine/plan.js';
import type { Plan } from '../engine/plan.js';
import { buildSecurityServer, extractAkaKeys, KeyError, NoOffer, parseSecurityHeader, securityListDigest, selectOffer } from '../secagree/index.js';
import type { AkaKeys } from '../secagree/index.js';
import type { BindingId, SaSet } from '../shared/binding.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import { familyOf } from '../transport/addresses.js';
import type { IpsecContext } from './context.js';
import type { CreateFailure } from './metrics.js';
import { buildPcscfSaSet, createOps, deleteOps, saSetIds, type TunnelParams } from './sa-set.js';
import { establishedSet, isTemporary } from './sets.js';

/** ipsecCreate flag 0x01: "delete unused tunnels before every registration" (see api.ts). */
export const CREATE_DELETE_UNUSED = 0x01;

export interface CreateSubject {
  /** The REGISTER as the P-CSCF received it, and from where. */
  readonly request: SipMessage;
  readonly rx: RxInfo;
  /** The registrar's 401 or 407. */
  readonly response: SipMessage;
  /**
   * The response's editor, with what relaying it needs already done (our Via removed, ck / ik
   * removed: they never reach the UE, DESIGN.md invariant 2, whether or not the set is created).
   */
  readonly edit: MessageEditor;
  /** The binding the set is for. */
  readonly binding: BindingId;
  /** What the UE gets when the set cannot be created (security.create_failure_status). */
  readonly otherwise: SipPlan;
}

/** The keys of the challenge: the first WWW-Authenticate (401) / Proxy-Authenticate (407) that carries usable ones. */
function akaKeys(response: SipMessage): AkaKeys | undefined {
  for (const f of response.fields(response.status === 407 ? 'proxy-authenticate' : 'www-authenticate')) {
    const keys = extractAkaKeys(f.value);
    if (!(keys instanceof KeyError)) return keys;
  }
  return undefined;
}

export function createSet(ctx: IpsecContext, flags: number, s: CreateSubject): Plan | CreateFailure {
  const client = s.request.fieldValues('security-client');
  let selected;
  try {
    selected = selectOffer(parseSecurityHeader(client), ctx.selection);
  } catch {
    return 'no_offer';
  }
  if (selected instanceof NoOffer) return 'no_offer';
  const offer = selected.offer;
  const digest = securityListDigest(client);
  if (!(digest instanceof Buffer)) return 'no_offer';
  const keys = akaKeys(s.response);
  if (keys === undefined) return 'aka_keys';
  const ueAddr = s.rx.remote.addr;
  const family = familyOf(ueAddr);
  const pcscfAddr = ctx.sockets.protectedAddress(family);
  if (pcscfAddr === undefined) return 'no_address';
  const binding = ctx.contacts.get(s.binding);
  if (binding === undefined) return 'no_binding';
  // TS 33.203 §7.4: the new set of a re-registration keeps the P-CSCF's server port and takes
  // another client port than the set in use.
  const current = establishedSet(binding);
  const ports = ctx.ports.choose(current === undefined ? undefined : { portPc: current.portPc, portPs: current.portPs }, ctx.reuseServerPort);
  const pair = ctx.spis.allocate();
  if (pair === undefined) return 'spi_exhausted';
  try {
    const params: TunnelParams = {
      family, pcscfAddr, ueAddr, marker: ctx.marker,
      spiUc: offer.spiC, spiUs: offer.spiS, spiPc: pair.spiPc, spiPs: pair.spiPs,
      portUc: offer.portC, portUs: offer.portS, portPc: ports.portPc, portPs: ports.portPs,
      alg: offer.alg, ealg: offer.ealg, ck: keys.ck, ik: keys.ik,
    };
    const ops = createOps(buildPcscfSaSet(params));
    const set: SaSet = {
      spiUc: params.spiUc, spiUs: params.spiUs, spiPc: params.spiPc, spiPs: params.spiPs,
      portUc: params.portUc, portUs: params.portUs, portPc: params.portPc, portPs: params.portPs,
      alg: offer.alg, ealg: offer.ealg, clientDigest: digest, createdAt: ctx.now(), confirmedAt: 0,
    };
    // §5.3: exactly one mechanism, with the algorithms spelled as the UE spelled them.
    s.edit.addHeader('Supported', 'sec-agree');
    s.edit.addHeader('Security-Server', buildSecurityServer({ ...ports, spiPc: pair.spiPc, spiPs: pair.spiPs, alg: offer.algText, ealg: offer.ealgText }));
    const then: SipPlan = { kind: 'reply', bytes: s.edit.serialize(), status: s.response.status };
    const superseded = (flags & CREATE_DELETE_UNUSED) !== 0 && isTemporary(binding) ? ctx.selectors(binding.receivedAddr, binding.sa!) : undefined;
    return {
      kind: 'kernel',
      ...(superseded === undefined ? {} : { before: deleteOps(saSetIds(superseded)) }),
      work: { ops, release: [pair.spiPc], what: 'register' },
      undo: deleteOps(saSetIds(params)),
      commit: { binding: s.binding, ueAddr, set, ...(superseded === undefined ? {} : { deleted: superseded.spiPc }) },
      then,
      otherwise: s.otherwise,
    };
  } catch (e) {
    // Nothing was handed to anyone yet: the pair goes straight back.
    ctx.spis.release(pair.spiPc);
    throw e;
  }
}
