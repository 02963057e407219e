// Where the responses of a server transaction go by default: RFC 3261 §18.2.2 with RFC 3581 §4.

import type { RxInfo, Target } from '../engine/plan.js';
import type { SipMessage, Via } from '../sip/index.js';

/** The sent-by port of a Via: "It is 5060 for UDP, TCP and SCTP, 5061 for TLS" when absent (§18.1.1). */
export function sentByPort(via: Via): number {
  return via.port ?? (via.transport === 'TLS' ? 5061 : 5060);
}

/**
 * The default target of the responses to `request`, sent from the socket it arrived on.
 *
 * - Reliable: "the response MUST be sent using the existing connection to the source of the
 *   original request ... If that connection is no longer open, the server SHOULD open a connection
 *   to the IP address in the "received" parameter, if present, using the port in the "sent-by"
 *   value" (§18.2.2).
 * - Unreliable: to the "received" address (the packet's source, which §18.2.1 puts there), at the
 *   source port if the top Via asks for rport (RFC 3581 §4), else at the sent-by port.
 *
 * The address is always the packet's source: the top Via of a request comes from its sender, so a
 * "received" or "maddr" written there by the sender is not trusted (multicast is not supported).
 */
export function responseTarget(request: SipMessage, rx: RxInfo): Target {
  const via = request.topVia();
  const port = rx.transport === 'udp' && via.rport !== undefined ? rx.remote.port : sentByPort(via);
  const remote = port === rx.remote.port ? rx.remote : { addr: rx.remote.addr, port };
  return rx.transport === 'tcp'
    ? { transport: 'tcp', socketId: rx.socketId, remote, connId: rx.connId }
    : { transport: 'udp', socketId: rx.socketId, remote };
}
