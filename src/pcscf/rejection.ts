// A request the P-CSCF answers itself instead of forwarding it. Every step returns one as a value;
// decide() turns it into a reply Plan in one place (counted there by method and reason).

import type { Plan, RxInfo, SipPlan } from '../engine/plan.js';
import { buildResponse, parseMessage } from '../sip/index.js';
import type { SipMessage } from '../sip/index.js';
import type { PcscfContext } from './context.js';
import type { RejectReason } from './metrics.js';
import { markReceived } from './received.js';

export interface Rejection {
  readonly kind: 'reject';
  readonly status: number;
  readonly phrase: string;
  readonly why: RejectReason;
  readonly headers?: readonly (readonly [string, string])[];
}

/** What a step decides: a Plan, or an answer to send instead. */
export type Outcome = Plan | Rejection;

// RFC 3261 §21 reason phrases (and RFC 3329 §6.2 for 494) of the statuses the P-CSCF sends itself;
// sip.unregistered_status and security.create_failure_status may be any 400-699.
const PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  491: 'Request Pending', 493: 'Undecipherable', 494: 'Security Agreement Required',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

const CLASS_PHRASES = ['Request Failure', 'Server Failure', 'Global Failure'];

/** The reason phrase for a status, with `detail` in parentheses when given. */
export function phraseOf(status: number, detail?: string): string {
  const base = PHRASES[status] ?? CLASS_PHRASES[Math.floor(status / 100) - 4] ?? 'Failure';
  return detail === undefined ? base : `${base} (${detail})`;
}

export function reject(status: number, why: RejectReason, detail?: string, headers?: readonly (readonly [string, string])[]): Rejection {
  const r: { kind: 'reject'; status: number; phrase: string; why: RejectReason; headers?: readonly (readonly [string, string])[] } =
    { kind: 'reject', status, phrase: phraseOf(status, detail), why };
  if (headers !== undefined) r.headers = headers;
  return r;
}

export function isRejection<T extends object>(o: T | Rejection): o is Rejection {
  return (o as { kind?: unknown }).kind === 'reject';
}

/**
 * The reply that carries a rejection of `request` (RFC 3261 §8.2.6), counted by method and reason.
 * For a UE's request (`fromUe`: where it came from) the top Via gets the received / rport the
 * P-CSCF added on receipt, as in the responses it relays.
 */
export function answer(request: SipMessage, r: Rejection, ctx: PcscfContext, fromUe?: RxInfo): Plan {
  ctx.metrics.rejected(request.method, r.why);
  return rejectionReply(request, r, ctx, fromUe);
}

/** The reply of answer(), not counted: for a reply that may never be sent (a kernel plan's `otherwise`). */
export function rejectionReply(request: SipMessage, r: Rejection, ctx: PcscfContext, fromUe?: RxInfo): SipPlan {
  const opts = r.headers === undefined ? { toTag: ctx.newTag() } : { toTag: ctx.newTag(), headers: r.headers };
  let bytes = buildResponse(request, r.status, r.phrase, opts);
  if (fromUe !== undefined) {
    const response = parseMessage(bytes);
    const ed = response.edit();
    markReceived(response, ed, fromUe);
    bytes = ed.serialize();
  }
  return { kind: 'reply', bytes, status: r.status };
}
