// A response to a request this P-CSCF forwarded (RFC 3261 §16.7): the top Via must be ours and
// another one must follow (otherwise the response is not one to forward: dropped, counted), 100
// Trying stays here, the registrar's answers to REGISTER update the contact table (register.ts),
// the AKA keys never leave, and the response is relayed with our Via removed, through the server
// transaction (RFC 3261 §18.2.2 decides where it goes).

import type { Inbound, Plan } from '../engine/plan.js';
import type { SipMessage } from '../sip/index.js';
import type { PcscfContext } from './context.js';
import type { DropReason } from './metrics.js';
import { registerAnswer } from './register.js';
import { removeAkaKeys, SEC_AGREE } from './sec-agree.js';

export function drop(reason: DropReason, ctx: PcscfContext): Plan {
  ctx.metrics.droppedMessage(reason);
  return { kind: 'drop', reason };
}

export function relayResponse(msg: SipMessage, inbound: Extract<Inbound, { kind: 'response' }>, ctx: PcscfContext): Plan {
  // RFC 3261 §16.7 item 3: "The proxy removes the topmost Via header field value from the
  // response"; a response whose top Via another element wrote is not ours to forward (§18.1.2).
  // "If no Via header field values remain in the response, the response was meant for this
  // element and MUST NOT be forwarded": the P-CSCF sends no request of its own, so it is stray too.
  if (!ctx.us.isOurVia(msg.topVia()) || msg.vias().length < 2) return drop('stray_via', ctx);
  // RFC 3261 §16.7 item 5: provisional responses other than 100 (Trying) are forwarded at once;
  // the 100 itself is hop-by-hop (§21.1.1: "never forwarded upstream by a stateful proxy").
  if (msg.status === 100) return drop('trying', ctx);
  if (inbound.context.flow === 'register') {
    const own = registerAnswer(msg, inbound, ctx);
    if (own !== undefined) return own;
  }
  const ed = msg.edit();
  ed.removeTopVia();
  if (msg.status === 401 || msg.status === 407) removeAkaKeys(msg, ed);
  // What Kamailio's ipsec_forward adds to the 200 to a REGISTER that came over SAs (§7.4 item 5).
  if (inbound.context.flow === 'register' && inbound.context.sa !== undefined && msg.status >= 200 && msg.status < 300) {
    ed.addHeader('Supported', SEC_AGREE);
    ed.addHeader('Require', SEC_AGREE);
  }
  ctx.metrics.relayedResponse(msg.status);
  return { kind: 'reply', bytes: ed.serialize(), status: msg.status };
}
