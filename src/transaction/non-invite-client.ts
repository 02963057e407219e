// The non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6) and §17.1.4.
//
//   Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> Terminated
//   Trying --200-699--> Completed
//   Trying, Proceeding --Timer F or transport error--> Terminated

import type { SipMessage } from '../sip/index.js';
import type { RxInfo } from '../engine/plan.js';
import { ClientTransactionBase } from './client-transaction.js';
import type { TransportError } from './errors.js';
import { Timer } from './timer-queue.js';
import { checkTransition } from './transaction.js';

export type NonInviteClientState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

const EDGES: Readonly<Record<NonInviteClientState, readonly NonInviteClientState[]>> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteClientTransaction extends ClientTransactionBase {
  readonly kind = 'non-invite-client';
  state: NonInviteClientState = 'Trying';
  readonly #timerE = new Timer(this);
  /** Timer F in Trying and Proceeding, Timer K in Completed. */
  readonly #lifetime = new Timer(this);
  #intervalE = 0;

  get terminated(): boolean {
    return this.state === 'Terminated';
  }

  /** Sends the request (the transaction is created in "Trying"). */
  start(): void {
    const d = this.user.durations;
    // §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client transaction
    // with a request. When entering this state, the client transaction SHOULD set timer F to fire
    // in 64*T1 seconds. The request MUST be passed to the transport layer for transmission. If an
    // unreliable transport is in use, the client transaction MUST set timer E to fire in T1
    // seconds." (Both timers are set before the send, which may fail at once.)
    this.user.timers.start(this.#lifetime, 'F', d.t1x64);
    if (!this.reliable) {
      this.#intervalE = d.t1;
      this.user.timers.start(this.#timerE, 'E', d.t1);
    }
    this.transmit(this.bytes);
  }

  /** A response matching this transaction (§17.1.3); false when it is absorbed. */
  receive(msg: SipMessage, rx: RxInfo): boolean {
    if (this.state === 'Completed' || this.state === 'Terminated') {
      // "The "Completed" state exists to buffer any additional response retransmissions that may
      // be received."
      return false;
    }
    if (msg.status < 200) {
      // Trying: "If a provisional response is received while in the "Trying" state, the response
      // MUST be passed to the TU, and then the client transaction SHOULD move to the "Proceeding"
      // state." Proceeding: Figure 6, "1xx / resp. to TU".
      this.user.clientResponse(this, msg, rx);
      if (this.state === 'Trying') this.#to('Proceeding');
      return true;
    }
    // "If a final response (status codes 200-699) is received while in the "Trying" state [or the
    // "Proceeding" state], the response MUST be passed to the TU, and the client transaction MUST
    // transition to the "Completed" state."
    this.user.clientResponse(this, msg, rx);
    if (this.terminated) return true;
    this.#to('Completed');
    this.user.timers.stop(this.#timerE);
    // "Once the client transaction enters the "Completed" state, it MUST set Timer K to fire in T4
    // seconds for unreliable transports, and zero seconds for reliable transports."
    if (this.reliable) this.#terminate();
    else this.user.timers.start(this.#lifetime, 'K', this.user.durations.t4);
    return true;
  }

  onTimer(timer: Timer): void {
    switch (timer.name) {
      case 'E':
        if (this.state === 'Trying') {
          // "If timer E fires while still in this state, the timer is reset, but this time with a
          // value of MIN(2*T1, T2). When the timer fires again, it is reset to a MIN(4*T1, T2).
          // This process continues so that retransmissions occur with an exponentially increasing
          // interval that caps at T2."
          this.#intervalE = Math.min(2 * this.#intervalE, this.user.durations.t2);
        } else if (this.state === 'Proceeding') {
          // "If Timer E fires while in the "Proceeding" state, the request MUST be passed to the
          // transport layer for retransmission, and Timer E MUST be reset with a value of T2
          // seconds."
          this.#intervalE = this.user.durations.t2;
        } else {
          return;
        }
        this.user.timers.start(this.#timerE, 'E', this.#intervalE);
        this.transmit(this.bytes);
        return;
      case 'F':
        if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
        // Trying: "If Timer F fires while the client transaction is still in the "Trying" state,
        // the client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter
        // the "Terminated" state." Proceeding: "If timer F fires while in the "Proceeding" state,
        // the TU MUST be informed of a timeout, and the client transaction MUST transition to the
        // terminated state."
        this.user.clientFailed(this, 'timer-f');
        if (!this.terminated) this.#terminate();
        return;
      case 'K':
        // "If Timer K fires while in this state, the client transaction MUST transition to the
        // "Terminated" state."
        if (this.state === 'Completed') this.#terminate();
        return;
      default:
    }
  }

  /** Ends the transaction in any state (shutdown). */
  destroy(): void {
    if (!this.terminated) this.#terminate();
  }

  protected transportError(_err: TransportError): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    // §17.1.4: "The client transaction SHOULD inform the TU that a transport failure has occurred,
    // and the client transaction SHOULD transition directly to the "Terminated" state."
    this.user.clientFailed(this, 'transport');
    if (!this.terminated) this.#terminate();
  }

  #to(state: NonInviteClientState): void {
    checkTransition(this.kind, EDGES, this.state, state);
    this.state = state;
  }

  #terminate(): void {
    this.#to('Terminated');
    this.user.timers.stop(this.#timerE);
    this.user.timers.stop(this.#lifetime);
    // "Once the transaction is in the terminated state, it MUST be destroyed immediately."
    this.user.clientTerminated(this);
  }
}
