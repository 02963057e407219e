// The INVITE server transaction: RFC 3261 §17.2.1 as corrected by RFC 6026 §7.1 and §8.7 (the
// "Accepted" state, Timer L, and transport errors that inform the TU without ending it).
//
//   Proceeding --300-699 from TU--> Completed --ACK--> Confirmed --Timer I--> Terminated
//   Proceeding --2xx from TU--> Accepted --Timer L--> Terminated
//   Completed --Timer H--> Terminated

import type { TransportError } from './errors.js';
import { ServerTransactionBase } from './server-transaction.js';
import { Timer } from './timer-queue.js';
import { checkTransition } from './transaction.js';

export type InviteServerState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

// Proceeding -> Terminated is not in Figure 7: it is the proxy abandoning a request it will not
// answer (a Plan 'drop', shutdown).
const EDGES: Readonly<Record<InviteServerState, readonly InviteServerState[]>> = {
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

/** What the transaction did with an ACK. */
export type AckOutcome = 'absorbed' | 'to-tu';

export class InviteServerTransaction extends ServerTransactionBase {
  readonly kind = 'invite-server';
  // §17.2.1: "When a server transaction is constructed for a request, it enters the "Proceeding" state."
  state: InviteServerState = 'Proceeding';
  readonly #timerG = new Timer(this);
  /** Timer H in Completed, Timer I in Confirmed, Timer L in Accepted. */
  readonly #lifetime = new Timer(this);
  #intervalG = 0;

  get terminated(): boolean {
    return this.state === 'Terminated';
  }

  /** The TU passes a response; false when this state has no edge for it (it is discarded). */
  respond(bytes: Uint8Array, status: number): boolean {
    const d = this.user.durations;
    if (this.state === 'Proceeding') {
      this.lastResponse = bytes;
      if (status < 200) {
        // §17.2.1: "The TU passes any number of provisional responses to the server transaction.
        // So long as the server transaction is in the "Proceeding" state, each of these MUST be
        // passed to the transport layer for transmission. They are not sent reliably by the
        // transaction layer (they are not retransmitted by it) and do not cause a change in the
        // state of the server transaction."
        this.transmit(bytes);
        return true;
      }
      this.finalStatus = status;
      if (status < 300) {
        // RFC 6026 §8.7: "If, while in the "Proceeding" state, the TU passes a 2xx response to the
        // server transaction, the server transaction MUST pass this response to the transport
        // layer for transmission. It is not retransmitted by the server transaction;
        // retransmissions of 2xx responses are handled by the TU. The server transaction MUST then
        // transition to the "Accepted" state."
        this.#to('Accepted');
        // RFC 6026 §8.7: "When the INVITE server transaction enters the "Accepted" state, Timer L
        // MUST be set to fire in 64*T1 for all transports."
        this.user.timers.start(this.#lifetime, 'L', d.t1x64);
        this.transmit(bytes);
        return true;
      }
      // §17.2.1: "While in the "Proceeding" state, if the TU passes a response with status code
      // from 300 to 699 to the server transaction, the response MUST be passed to the transport
      // layer for transmission, and the state machine MUST enter the "Completed" state. For
      // unreliable transports, timer G is set to fire in T1 seconds, and is not set to fire for
      // reliable transports."
      this.#to('Completed');
      if (!this.reliable) {
        this.#intervalG = d.t1;
        this.user.timers.start(this.#timerG, 'G', d.t1);
      }
      // "When the "Completed" state is entered, timer H MUST be set to fire in 64*T1 seconds for
      // all transports."
      this.user.timers.start(this.#lifetime, 'H', d.t1x64);
      this.transmit(bytes);
      return true;
    }
    if (this.state === 'Accepted' && status >= 200 && status < 300) {
      // RFC 6026 §8.7: "While in the "Accepted" state, if the TU passes a 2xx response, the server
      // transaction MUST pass the response to the transport layer for transmission."
      this.transmit(bytes);
      return true;
    }
    return false;
  }

  /** A retransmission of the INVITE (§17.2.3); true when a response was resent. */
  retransmission(): boolean {
    if (this.state === 'Proceeding' || this.state === 'Completed') {
      // Proceeding: "If a request retransmission is received while in the "Proceeding" state, the
      // most recent provisional response that was received from the TU MUST be passed to the
      // transport layer for retransmission." Completed: "while in the "Completed" state, if a
      // request retransmission is received, the server SHOULD pass the response to the transport
      // for retransmission."
      if (this.lastResponse !== undefined) this.transmit(this.lastResponse);
      return this.lastResponse !== undefined;
    }
    // RFC 6026 §8.7: "The purpose of the "Accepted" state is to absorb retransmissions of an
    // accepted INVITE request. Any such retransmissions are absorbed entirely within the server
    // transaction." Confirmed has no edge for a request but the ACK: absorbed too.
    return false;
  }

  /** An ACK that matches this transaction (§17.2.3). */
  ack(): AckOutcome {
    switch (this.state) {
      case 'Completed':
        // §17.2.1: "If an ACK is received while the server transaction is in the "Completed"
        // state, the server transaction MUST transition to the "Confirmed" state. As Timer G is
        // ignored in this state, any retransmissions of the response will cease."
        this.#to('Confirmed');
        this.user.timers.stop(this.#timerG);
        // "When this state is entered, timer I is set to fire in T4 seconds for unreliable
        // transports, and zero seconds for reliable transports."
        if (this.reliable) this.#terminate();
        else this.user.timers.start(this.#lifetime, 'I', this.user.durations.t4);
        return 'absorbed';
      case 'Confirmed':
        // "The purpose of the "Confirmed" state is to absorb any additional ACK messages that
        // arrive, triggered from retransmissions of the final response."
        return 'absorbed';
      case 'Accepted':
        // RFC 6026 §8.7: "If an ACK is received while the INVITE server transaction is in the
        // "Accepted" state, then the ACK must be passed up to the TU."
        return 'to-tu';
      default:
        // Proceeding has no edge for an ACK: no final response was sent, so it cannot acknowledge
        // one of ours; it goes to the core like an ACK that matches nothing (§18.2.1).
        return 'to-tu';
    }
  }

  onTimer(timer: Timer): void {
    const d = this.user.durations;
    switch (timer.name) {
      case 'G':
        if (this.state !== 'Completed') return;
        // §17.2.1: "If timer G fires, the response is passed to the transport layer once more for
        // retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when
        // timer G fires, the response is passed to the transport again for transmission, and
        // timer G is reset with a value that doubles, unless that value exceeds T2, in which case
        // it is reset with the value of T2."
        this.#intervalG = Math.min(2 * this.#intervalG, d.t2);
        this.user.timers.start(this.#timerG, 'G', this.#intervalG);
        this.transmit(this.lastResponse!);
        return;
      case 'H':
        if (this.state !== 'Completed') return;
        // "If timer H fires while in the "Completed" state, it implies that the ACK was never
        // received. In this case, the server transaction MUST transition to the "Terminated"
        // state, and MUST indicate to the TU that a transaction failure has occurred."
        this.user.serverFailed(this, 'timer-h');
        if (this.state === 'Completed') this.#terminate();
        return;
      case 'I':
        // "Once timer I fires, the server MUST transition to the "Terminated" state."
        if (this.state === 'Confirmed') this.#terminate();
        return;
      case 'L':
        // RFC 6026 §8.7: "If Timer L fires while the INVITE server transaction is in the
        // "Accepted" state, the transaction MUST transition to the "Terminated" state."
        if (this.state === 'Accepted') this.#terminate();
        return;
      default:
    }
  }

  /** The proxy ends the transaction without a final response (it decided not to answer). */
  abandon(): void {
    if (this.state === 'Proceeding') this.#terminate();
  }

  /** Ends the transaction in any state (shutdown). */
  destroy(): void {
    if (this.state !== 'Terminated') this.#terminate();
  }

  protected transportError(_err: TransportError): void {
    // RFC 6026 Figure 7: in "Proceeding", "Completed" and "Accepted" a transport error informs the
    // TU and leaves the state unchanged (the proxy then drops the response, §16.9).
    if (this.state !== 'Terminated') this.user.serverFailed(this, 'transport');
  }

  #to(state: InviteServerState): void {
    checkTransition(this.kind, EDGES, this.state, state);
    this.state = state;
  }

  #terminate(): void {
    this.#to('Terminated');
    this.user.timers.stop(this.#timerG);
    this.user.timers.stop(this.#lifetime);
    // "Once the transaction is in the "Terminated" state, it MUST be destroyed immediately."
    this.user.serverTerminated(this);
  }
}
