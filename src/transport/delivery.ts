// The one place where the transports call out: received messages, framing errors and send
// failures. Every call is guarded, so an exception thrown by a handler is counted and reported
// instead of reaching the event loop (where it would end the process).

import type { RxInfo, Target } from '../engine/plan.js';
import type { SipError } from '../sip/errors.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import type { TransportStats } from './stats.js';

export interface TransportEvents {
  /** One datagram, or one framed message of a stream. `bytes` belongs to the handler. */
  onMessage(bytes: Buffer, rx: RxInfo): void;
  /**
   * The framer failed on a connection (RFC 3261 §18.3: the stream cannot be resynchronised). A 400
   * sent with `rx.connId` from inside this handler still goes out; the connection is then closed.
   */
  onStreamError(rx: RxInfo, err: SipError): void;
  /** An exception thrown by one of these handlers or by an onError callback; it was caught and counted. */
  onCallbackError?(err: unknown): void;
}

export type SendErrorHandler = (err: TransportError) => void;

export class Delivery {
  readonly #events: TransportEvents;
  readonly #stats: TransportStats;

  constructor(events: TransportEvents, stats: TransportStats) {
    this.#events = events;
    this.#stats = stats;
  }

  message(bytes: Buffer, rx: RxInfo): void {
    try {
      this.#events.onMessage(bytes, rx);
    } catch (e) {
      this.callbackFailed(e);
    }
  }

  streamError(rx: RxInfo, err: SipError): void {
    try {
      this.#events.onStreamError(rx, err);
    } catch (e) {
      this.callbackFailed(e);
    }
  }

  /**
   * Counts a failed send and tells its sender. onError is called on a later tick, never from inside
   * send(), so a caller never sees its own callback run before send() has returned.
   */
  fail(code: TransportErrorCode, target: Target, onError: SendErrorHandler | undefined, detail: string, cause?: unknown): void {
    this.#stats.sendErrors[code]++;
    if (onError !== undefined) process.nextTick(callOnError, this, onError, new TransportError(code, target, detail, cause));
  }

  callbackFailed(e: unknown): void {
    this.#stats.callbackErrors++;
    try {
      this.#events.onCallbackError?.(e);
    } catch {
      // The error handler itself failed: it is already counted, and there is nobody left to tell.
    }
  }
}

function callOnError(delivery: Delivery, onError: SendErrorHandler, err: TransportError): void {
  try {
    onError(err);
  } catch (e) {
    delivery.callbackFailed(e);
  }
}
