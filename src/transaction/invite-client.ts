// The INVITE client transaction of a stateful proxy: RFC 3261 §17.1.1 as corrected by RFC 6026
// §7.2 and §8.4 (the "Accepted" state and Timer M), with the proxy's Timer C (§16.6 item 11, §16.7
// item 2, §16.8) and the wait for a final response after a CANCEL (§9.1).
//
//   Calling --1xx--> Proceeding --300-699 / ACK--> Completed --Timer D--> Terminated
//   Calling, Proceeding --2xx--> Accepted --Timer M--> Terminated
//   Calling --Timer B or transport error--> Terminated

import type { RxInfo } from '../engine/plan.js';
import { type SipMessage, SipError, buildAckForNon2xx, parseMessage } from '../sip/index.js';
import { ClientTransactionBase } from './client-transaction.js';
import type { TransportError } from './errors.js';
import { Timer } from './timer-queue.js';
import { asBuffer, checkTransition } from './transaction.js';

export type InviteClientState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

// Proceeding -> Terminated: Timer C without a CANCEL to send (§16.8), the CANCEL wait (§9.1).
const EDGES: Readonly<Record<InviteClientState, readonly InviteClientState[]>> = {
  Calling: ['Proceeding', 'Completed', 'Accepted', 'Terminated'],
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

/** Whether the proxy has cancelled this branch: "pending" waits for a provisional response (§9.1). */
export type CancelState = 'none' | 'pending' | 'sent';

export class InviteClientTransaction extends ClientTransactionBase {
  readonly kind = 'invite-client';
  state: InviteClientState = 'Calling';
  cancel: CancelState = 'none';
  /** A provisional response was received: a CANCEL may be sent (§9.1), Timer C cancels (§16.8). */
  provisional = false;
  readonly #timerA = new Timer(this);
  /** Timer B in Calling, Timer D in Completed, Timer M in Accepted. */
  readonly #lifetime = new Timer(this);
  /** Timer C, then the CANCEL wait once a CANCEL is sent. */
  readonly #timerC = new Timer(this);
  #intervalA = 0;
  #ack: Uint8Array | undefined = undefined;
  #sent: SipMessage | null | undefined = undefined;

  get terminated(): boolean {
    return this.state === 'Terminated';
  }

  /** Sends the INVITE (the transaction is created in "Calling"). */
  start(): void {
    const d = this.user.durations;
    // §17.1.1.2: "The initial state, "calling", MUST be entered when the TU initiates a new client
    // transaction with an INVITE request. The client transaction MUST pass the request to the
    // transport layer for transmission (see Section 18). If an unreliable transport is being used,
    // the client transaction MUST start timer A with a value of T1. If a reliable transport is
    // being used, the client transaction SHOULD NOT start timer A (Timer A controls request
    // retransmissions). For any transport, the client transaction MUST start timer B with a value
    // of 64*T1 seconds (Timer B controls transaction timeouts)."
    this.user.timers.start(this.#lifetime, 'B', d.t1x64);
    if (!this.reliable) {
      this.#intervalA = d.t1;
      this.user.timers.start(this.#timerA, 'A', d.t1);
    }
    // §16.6 item 11: "Timer C MUST be set for each client transaction when an INVITE request is
    // proxied. The timer MUST be larger than 3 minutes."
    this.user.timers.start(this.#timerC, 'C', d.c);
    this.transmit(this.bytes);
  }

  /** A response matching this transaction (§17.1.3); false when it is absorbed. */
  receive(msg: SipMessage, rx: RxInfo): boolean {
    const status = msg.status;
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) this.#provisional(status);
        else if (status < 300) this.#accepted();
        else this.#completed(msg);
        this.user.clientResponse(this, msg, rx);
        if (status >= 300) this.#sendAck();
        return true;
      case 'Completed':
        // "Any retransmissions of the final response that are received while in the "Completed"
        // state MUST cause the ACK to be re-passed to the transport layer for retransmission, but
        // the newly received response MUST NOT be passed up to the TU." A 1xx or 2xx here has no
        // edge in Figure 5: absorbed.
        if (status >= 300 && this.#ack !== undefined) this.transmit(this.#ack);
        return false;
      case 'Accepted':
        // RFC 6026 §7.2: "A 2xx response received while in the "Accepted" state MUST be passed to
        // the TU and the machine remains in the "Accepted" state. The client transaction MUST NOT
        // generate an ACK to any 2xx response on its own."
        if (status < 200 || status >= 300) return false;
        this.user.clientResponse(this, msg, rx);
        return true;
      default:
        return false;
    }
  }

  #provisional(status: number): void {
    if (this.state === 'Calling') {
      // "If the client transaction receives a provisional response while in the "Calling" state,
      // it transitions to the "Proceeding" state. In the "Proceeding" state, the client
      // transaction SHOULD NOT retransmit the request any longer. Furthermore, the provisional
      // response MUST be passed to the TU. Any further provisional responses MUST be passed up to
      // the TU while in the "Proceeding" state." (Timer B only acts in "Calling".)
      this.#to('Proceeding');
      this.user.timers.stop(this.#timerA);
      this.user.timers.stop(this.#lifetime);
    }
    this.provisional = true;
    // §16.7 item 2: "For an INVITE transaction, if the response is a provisional response with
    // status codes 101 to 199 inclusive (i.e., anything but 100), the proxy MUST reset timer C for
    // that client transaction." Once a CANCEL is sent, that slot holds the CANCEL wait instead.
    if (status > 100 && this.cancel !== 'sent') this.user.timers.start(this.#timerC, 'C', this.user.durations.c);
  }

  #accepted(): void {
    // RFC 6026 §8.4: in "Calling" or "Proceeding", a 2xx response moves the transaction to
    // "Accepted" and is passed up to the TU (the proxy core forwards it upstream, §17.1.1.2);
    // Timer M, 64*T1, bounds the time it absorbs and passes up retransmissions of the 2xx.
    this.#to('Accepted');
    this.user.timers.stop(this.#timerA);
    this.user.timers.stop(this.#timerC);
    this.user.timers.start(this.#lifetime, 'M', this.user.durations.t1x64);
  }

  #completed(response: SipMessage): void {
    // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response
    // with status code from 300-699 MUST cause the client transaction to transition to
    // "Completed". The client transaction MUST pass the received response up to the TU, and the
    // client transaction MUST generate an ACK request, even if the transport is reliable ... and
    // then pass the ACK to the transport layer for transmission. The ACK MUST be sent to the same
    // address, port, and transport to which the original request was sent. The client transaction
    // SHOULD start timer D when it enters the "Completed" state, with a value of at least 32
    // seconds for unreliable transports, and a value of zero seconds for reliable transports."
    this.#to('Completed');
    this.user.timers.stop(this.#timerA);
    this.user.timers.stop(this.#timerC);
    this.#ack = this.#buildAck(response);
    if (!this.reliable) this.user.timers.start(this.#lifetime, 'D', this.user.durations.d);
    else this.user.timers.stop(this.#lifetime);
  }

  /** Sends the ACK of the final response; on a reliable transport Timer D is zero: terminates. */
  #sendAck(): void {
    if (this.state !== 'Completed') return;
    if (this.#ack !== undefined) this.transmit(this.#ack);
    if (this.reliable && this.state === 'Completed') this.#terminate();
  }

  /**
   * §17.1.1.3: Request-URI, Call-ID, From and Route of the request sent, To of the response, the
   * single top Via of the request sent, CSeq number of the request with method ACK.
   */
  #buildAck(response: SipMessage): Uint8Array | undefined {
    const sent = this.sentRequest();
    if (sent === undefined) return undefined;
    try {
      return buildAckForNon2xx(sent, response);
    } catch (err) {
      if (err instanceof SipError) return undefined;
      throw err;
    }
  }

  /** The INVITE as sent, parsed on first use (to build the ACK or a CANCEL); undefined if it does not parse. */
  sentRequest(): SipMessage | undefined {
    if (this.#sent === undefined) {
      try {
        this.#sent = parseMessage(asBuffer(this.bytes));
      } catch (err) {
        if (!(err instanceof SipError)) throw err;
        this.#sent = null;
      }
    }
    return this.#sent ?? undefined;
  }

  /** The proxy sent a CANCEL for this branch. */
  cancelSent(): void {
    this.cancel = 'sent';
    // §9.1: "If there is no final response for the original request in 64*T1 seconds ..., the
    // client SHOULD then consider the original transaction cancelled and SHOULD destroy the client
    // transaction handling the original request."
    if (this.state === 'Calling' || this.state === 'Proceeding') {
      this.user.timers.start(this.#timerC, 'cancel-wait', this.user.durations.t1x64);
    }
  }

  onTimer(timer: Timer): void {
    switch (timer.name) {
      case 'A':
        if (this.state !== 'Calling') return;
        // "When timer A fires, the client transaction MUST retransmit the request by passing it to
        // the transport layer, and MUST reset the timer with a value of 2*T1. ... This process
        // MUST continue so that the request is retransmitted with intervals that double after each
        // transmission. These retransmissions SHOULD only be done while the client transaction is
        // in the "calling" state."
        this.#intervalA *= 2;
        this.user.timers.start(this.#timerA, 'A', this.#intervalA);
        this.transmit(this.bytes);
        return;
      case 'B':
        if (this.state !== 'Calling') return;
        // "If the client transaction is still in the "Calling" state when timer B fires, the
        // client transaction SHOULD inform the TU that a timeout has occurred. The client
        // transaction MUST NOT generate an ACK."
        this.user.clientFailed(this, 'timer-b');
        if (!this.terminated) this.#terminate();
        return;
      case 'C':
        // §16.8: "If timer C should fire, the proxy MUST either reset the timer with any value it
        // chooses, or terminate the client transaction." The proxy core decides.
        if (this.state === 'Calling' || this.state === 'Proceeding') this.user.clientTimerC(this);
        return;
      case 'cancel-wait':
        if (this.state !== 'Calling' && this.state !== 'Proceeding') return;
        this.user.clientFailed(this, 'cancel-wait');
        if (!this.terminated) this.#terminate();
        return;
      case 'D':
        // "If timer D fires while the client transaction is in the "Completed" state, the client
        // transaction MUST move to the terminated state."
        if (this.state === 'Completed') this.#terminate();
        return;
      case 'M':
        // RFC 6026 §8.4: "If timer M fires while the client transaction is in the "Accepted"
        // state, the client transaction MUST move to the "Terminated" state."
        if (this.state === 'Accepted') this.#terminate();
        return;
      default:
    }
  }

  /** §16.8 without a provisional response: the proxy behaves as if a 408 had arrived and ends the branch. */
  timeOut(): void {
    if (this.state !== 'Calling' && this.state !== 'Proceeding') return;
    this.user.clientFailed(this, 'timer-c');
    if (!this.terminated) this.#terminate();
  }

  /** Ends the transaction in any state (shutdown). */
  destroy(): void {
    if (!this.terminated) this.#terminate();
  }

  protected transportError(_err: TransportError): void {
    if (this.state === 'Calling') {
      // Figure 5: "Timer B fires or Transport Err. / inform TU" from "Calling" to "Terminated";
      // §17.1.4: "The client transaction SHOULD inform the TU that a transport failure has
      // occurred, and the client transaction SHOULD transition directly to the "Terminated" state."
      this.user.clientFailed(this, 'transport');
      if (!this.terminated) this.#terminate();
    } else if (this.state === 'Completed') {
      // Figure 5: "Transport Err. / Inform TU" from "Completed": the ACK could not be sent. The TU
      // already has the final response; ending the transaction is all that is left to tell it.
      this.#terminate();
    }
  }

  #to(state: InviteClientState): void {
    checkTransition(this.kind, EDGES, this.state, state);
    this.state = state;
  }

  #terminate(): void {
    this.#to('Terminated');
    this.user.timers.stop(this.#timerA);
    this.user.timers.stop(this.#lifetime);
    this.user.timers.stop(this.#timerC);
    // "The client transaction MUST be destroyed the instant it enters the "Terminated" state."
    this.user.clientTerminated(this);
  }
}
