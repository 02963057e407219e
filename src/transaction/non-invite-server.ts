// The non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8) and §17.2.4.
//
//   Trying --1xx from TU--> Proceeding --200-699 from TU--> Completed --Timer J--> Terminated
//   Trying --200-699 from TU--> Completed
//   Proceeding, Completed --transport error--> Terminated

import type { TransportError } from './errors.js';
import { ServerTransactionBase } from './server-transaction.js';
import { Timer } from './timer-queue.js';
import { checkTransition } from './transaction.js';

export type NonInviteServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

// Trying / Proceeding -> Terminated without a final response is the proxy abandoning a request it
// will not answer (a Plan 'drop', shutdown); Figure 8 has it from Proceeding on a transport error.
const EDGES: Readonly<Record<NonInviteServerState, readonly NonInviteServerState[]>> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteServerTransaction extends ServerTransactionBase {
  readonly kind = 'non-invite-server';
  // §17.2.2: "The state machine is initialized in the "Trying" state and is passed a request other
  // than INVITE or ACK when initialized."
  state: NonInviteServerState = 'Trying';
  readonly #timerJ = new Timer(this);

  get terminated(): boolean {
    return this.state === 'Terminated';
  }

  /** The TU passes a response; false when this state has no edge for it (it is discarded). */
  respond(bytes: Uint8Array, status: number): boolean {
    if (this.state === 'Completed' || this.state === 'Terminated') {
      // "Any other final responses passed by the TU to the server transaction MUST be discarded
      // while in the "Completed" state."
      return false;
    }
    this.lastResponse = bytes;
    if (status < 200) {
      // Trying: "if the TU passes a provisional response to the server transaction, the server
      // transaction MUST enter the "Proceeding" state. The response MUST be passed to the
      // transport layer for transmission." Proceeding: "Any further provisional responses that
      // are received from the TU while in the "Proceeding" state MUST be passed to the transport
      // layer for transmission."
      if (this.state === 'Trying') this.#to('Proceeding');
      this.transmit(bytes);
      return true;
    }
    // "If the TU passes a final response (status codes 200-699) to the server while in the
    // "Proceeding" state, the transaction MUST enter the "Completed" state, and the response MUST
    // be passed to the transport layer for transmission." (Figure 8: from "Trying" too.)
    this.finalStatus = status;
    this.#to('Completed');
    // "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in
    // 64*T1 seconds for unreliable transports, and zero seconds for reliable transports."
    if (!this.reliable) this.user.timers.start(this.#timerJ, 'J', this.user.durations.t1x64);
    this.transmit(bytes);
    if (this.reliable && !this.terminated) this.#terminate();
    return true;
  }

  /** A retransmission of the request (§17.2.3); true when a response was resent. */
  retransmission(): boolean {
    // Trying: "Once in the "Trying" state, any further request retransmissions are discarded."
    // Proceeding: "If a retransmission of the request is received while in the "Proceeding" state,
    // the most recently sent provisional response MUST be passed to the transport layer for
    // retransmission." Completed: "the server transaction MUST pass the final response to the
    // transport layer for retransmission whenever a retransmission of the request is received."
    if (this.state === 'Trying' || this.state === 'Terminated' || this.lastResponse === undefined) return false;
    this.transmit(this.lastResponse);
    return true;
  }

  onTimer(timer: Timer): void {
    // "The server transaction remains in this state until Timer J fires, at which point it MUST
    // transition to the "Terminated" state."
    if (timer.name === 'J' && this.state === 'Completed') this.#terminate();
  }

  /** The proxy ends the transaction without a final response (it decided not to answer). */
  abandon(): void {
    if (this.state === 'Trying' || this.state === 'Proceeding') this.#terminate();
  }

  /** Ends the transaction in any state (shutdown). */
  destroy(): void {
    if (this.state !== 'Terminated') this.#terminate();
  }

  protected transportError(_err: TransportError): void {
    if (this.state !== 'Proceeding' && this.state !== 'Completed') return;
    // Figure 8: "Trnsprt Err / Inform TU" from "Proceeding" and "Completed" to "Terminated";
    // §17.2.4: "the server transaction SHOULD inform the TU that a failure has occurred, and
    // SHOULD transition to the terminated state."
    this.user.serverFailed(this, 'transport');
    if (!this.terminated) this.#terminate();
  }

  #to(state: NonInviteServerState): void {
    checkTransition(this.kind, EDGES, this.state, state);
    this.state = state;
  }

  #terminate(): void {
    this.#to('Terminated');
    this.user.timers.stop(this.#timerJ);
    // "The server transaction MUST be destroyed the instant it enters the "Terminated" state."
    this.user.serverTerminated(this);
  }
}
