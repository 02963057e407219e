// What the INVITE and non-INVITE server transactions share: the request that created them, where
// their responses go, the last response (for retransmissions), and the keys the table matches on.

import type { RxInfo, Target } from '../engine/plan.js';
import type { SipMessage } from '../sip/index.js';
import type { TransportError } from './errors.js';
import { responseTarget } from './response-target.js';
import type { Timer, TimerOwner } from './timer-queue.js';
import type { ServerTransaction, ServerTransactionUser } from './transaction.js';

export abstract class ServerTransactionBase implements TimerOwner {
  /** TCP: the retransmission timers are not used and the wait timers are zero (§17.2.1, §17.2.2). */
  readonly reliable: boolean;
  /** Where responses go: §18.2.2 by default, or the target of the P-CSCF's last reply. */
  target: Target;
  /** Status of the final response passed to the transport (0: none yet). */
  finalStatus = 0;
  /** RFC 2543 matching of an ACK (§17.2.3): the To tag of the final response sent. */
  ackToTag: string | undefined = undefined;
  /** Next transaction with the same table key. */
  nextInBucket: ServerTransaction | null = null;
  /** The most recent response passed to the transport, resent on a retransmission of the request. */
  protected lastResponse: Uint8Array | undefined = undefined;
  #upstream: { readonly bytes: Uint8Array; readonly rx: RxInfo } | undefined = undefined;
  protected readonly onTransportError = (err: TransportError): void => this.transportError(err);

  constructor(
    protected readonly user: ServerTransactionUser,
    /** The request that created the transaction. */
    readonly request: SipMessage,
    readonly rx: RxInfo,
    /** The response context (§16.2) this transaction belongs to; 0 for a CANCEL answered by the proxy itself. */
    readonly contextId: number,
    /** The table key: the branch (with the magic cookie) or the RFC 2543 key (§17.2.3). */
    readonly key: string,
    readonly legacy: boolean,
  ) {
    this.reliable = rx.transport === 'tcp';
    this.target = responseTarget(request, rx);
  }

  abstract get terminated(): boolean;
  abstract onTimer(timer: Timer): void;
  protected abstract transportError(err: TransportError): void;

  /** The request as received and where from, as the P-CSCF logic sees it with each response. */
  get upstream(): { readonly bytes: Uint8Array; readonly rx: RxInfo } {
    this.#upstream ??= { bytes: this.request.raw, rx: this.rx };
    return this.#upstream;
  }

  protected transmit(bytes: Uint8Array): void {
    this.user.send(bytes, this.target, this.onTransportError);
  }
}
