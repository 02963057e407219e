// What the P-CSCF writes into a UE's top Via on receipt of its request, so that the responses
// (relayed or generated here) carry it and find the UE behind a NAT.

import type { RxInfo } from '../engine/plan.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import { hostKey } from './our-uris.js';

/**
 * RFC 3261 §18.2.1: received is added when the sent-by host is not the source address; RFC 3581
 * §4: an rport without value gets the source port, and received is then added in any case.
 */
export function markReceived(msg: SipMessage, ed: MessageEditor, rx: RxInfo): void {
  const via = msg.topVia();
  const received = `received=${rx.remote.addr}`;
  if (via.rport === null) ed.addViaParams(`;rport=${rx.remote.port};${received}`);
  else if (hostKey(via.host) !== hostKey(rx.remote.addr)) ed.addViaParams(`;${received}`);
}
