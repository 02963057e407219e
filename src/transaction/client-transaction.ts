// What the INVITE and non-INVITE client transactions share: the request the proxy forwarded, where
// it went, the P-CSCF logic's context, and the keys the table matches responses on (§17.1.3).

import type { Target, TxContext } from '../engine/plan.js';
import type { TransportError } from './errors.js';
import type { Timer, TimerOwner } from './timer-queue.js';
import type { ClientTransaction, ClientTransactionUser } from './transaction.js';

export abstract class ClientTransactionBase implements TimerOwner {
  /** TCP: the retransmission timers are not used and the wait timers are zero (§17.1.1.2, §17.1.2.2). */
  readonly reliable: boolean;
  /** Next transaction with the same branch (an INVITE and the CANCEL the proxy sent for it). */
  nextInBucket: ClientTransaction | null = null;
  protected readonly onTransportError = (err: TransportError): void => this.transportError(err);

  constructor(
    protected readonly user: ClientTransactionUser,
    /** The branch of the top Via of `bytes`: with the method, what responses are matched on (§17.1.3). */
    readonly branch: string,
    readonly method: string,
    /** The request as sent: "retransmit ... is to take the message previously sent to the transport layer and pass it to the transport layer once more" (§17.1.1.2). */
    readonly bytes: Uint8Array,
    readonly target: Target,
    /** The response context (§16.2) of the server transaction it was forwarded for; 0 for the proxy's own CANCEL. */
    readonly contextId: number,
    /** The P-CSCF logic's data, handed back with every response. */
    readonly context: TxContext,
  ) {
    this.reliable = target.transport === 'tcp';
  }

  abstract get terminated(): boolean;
  abstract onTimer(timer: Timer): void;
  protected abstract transportError(err: TransportError): void;

  protected transmit(bytes: Uint8Array): void {
    this.user.send(bytes, this.target, this.onTransportError);
  }
}
