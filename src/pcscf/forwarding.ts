// The steps every forwarded request takes (RFC 3261 §16.3 request validation, §16.6 request
// forwarding), whichever flow decided where it goes.

import type { Plan, RxInfo, Target, TxContext } from '../engine/plan.js';
import type { ProtectedOrigin } from '../ipsec/inbound.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import type { Side } from './classify.js';
import type { PcscfContext } from './context.js';
import type { Direction } from './metrics.js';
import { markReceived } from './received.js';
import { reject } from './rejection.js';
import type { Rejection } from './rejection.js';
import { SEC_AGREE } from './sec-agree.js';

/** A request to decide on, with where it came from. */
export interface InboundRequest {
  readonly msg: SipMessage;
  readonly rx: RxInfo;
  /** The server transaction; 0 for an ACK to a 2xx, which is forwarded without one. */
  readonly id: number;
  readonly side: Side;
  /** The binding and SA set it came over, when it arrived on a protected port. */
  readonly origin?: ProtectedOrigin;
}

/**
 * RFC 3261 §16.3 items 3 and 5 (items 1 and 2, syntax and URI scheme, are the parser's; item 4,
 * loop detection, is optional and left out; item 6 has no use here): Max-Forwards 0 gets 483, and
 * a Proxy-Require tag this proxy does not support gets 420 with the tags in Unsupported. The only
 * extension the P-CSCF supports in Proxy-Require is sec-agree, and only with IPsec enabled.
 */
export function validateRequest(msg: SipMessage, ctx: PcscfContext): Rejection | undefined {
  if (msg.maxForwards() === 0) return reject(483, 'too_many_hops');
  const unsupported = msg.optionTags('proxy-require').filter((t) => !(ctx.ipsec !== undefined && t.toLowerCase() === SEC_AGREE));
  if (unsupported.length > 0) return reject(420, 'unsupported_extension', undefined, [['Unsupported', unsupported.join(', ')]]);
  return undefined;
}

/**
 * The last steps of RFC 3261 §16.6 for every flow: received / rport on a UE's Via, our Via on top
 * with a fresh branch and the socket the request leaves from (item 8), Max-Forwards decremented or
 * set to 70 (item 3). A request without server transaction (an ACK for a 2xx) is sent without a
 * client transaction either.
 */
export function forward(req: InboundRequest, ed: MessageEditor, target: Target, direction: Direction, context: TxContext, ctx: PcscfContext): Plan {
  if (req.side === 'ue') markReceived(req.msg, ed, req.rx);
  const branch = ctx.newBranch();
  ed.prependVia(ctx.us.via(ctx.sockets.byId(target.socketId)!, branch));
  ed.decrementMaxForwards();
  const bytes = ed.serialize();
  ctx.metrics.routedRequest(direction, req.msg.method);
  return req.msg.method === 'ACK' ? { kind: 'send', bytes, target } : { kind: 'forward', bytes, target, branch, context };
}
