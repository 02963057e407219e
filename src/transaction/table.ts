// The transaction table: matching requests to server transactions (RFC 3261 §17.2.3, with the
// RFC 2543 fallback), CANCELs to the transaction they cancel (§9.2), and responses to client
// transactions (§17.1.3). One hash lookup per message; transactions sharing a key (an INVITE and
// its CANCEL, or clients that reuse a branch) are chained.

import type { SipMessage, Via } from '../sip/index.js';
import { sentByPort } from './response-target.js';
import type { ClientTransaction, ServerTransaction } from './transaction.js';

/** §8.1.1.7: a branch that "begins with the magic cookie "z9hG4bK"" comes from an RFC 3261 client. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** The branch of the top Via if it carries the magic cookie. */
export function cookieBranch(msg: SipMessage): string | undefined {
  const branch = msg.topVia().branch;
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) ? branch : undefined;
}

/**
 * The key of the RFC 2543 fallback (§17.2.3): Request-URI, From tag, Call-ID, CSeq number and top
 * Via, which an INVITE, its retransmissions, its ACK and its CANCEL share; the method and the To
 * tag are compared on the chain. Fields are compared as written: a retransmission repeats them
 * octet for octet, so the per-field comparison rules of §19.1.4 and §20 change nothing for it.
 * Never equal to a branch: a token holds no LF.
 */
export function legacyKey(msg: SipMessage): string {
  return `${msg.callId()}\n${msg.cseq().seq}\n${msg.from().tag ?? ''}\n${msg.topVia().raw}\n${msg.requestUri}`;
}

/** §17.2.3 rule 2: "the sent-by value in the top Via of the request is equal to the one in the request that created the transaction". */
function sameSentBy(a: Via, b: Via): boolean {
  return sentByPort(a) === sentByPort(b) && sameHost(a.host, b.host);
}

/** Host names compare case-insensitively (RFC 3261 §19.1.4); IP literals are ASCII too. */
function sameHost(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a)) return false;
  }
  return true;
}

export class TransactionTable {
  readonly #servers = new Map<string, ServerTransaction>();
  readonly #clients = new Map<string, ClientTransaction>();
  #serverCount = 0;
  #clientCount = 0;

  get serverCount(): number {
    return this.#serverCount;
  }

  get clientCount(): number {
    return this.#clientCount;
  }

  addServer(tx: ServerTransaction): void {
    tx.nextInBucket = this.#servers.get(tx.key) ?? null;
    this.#servers.set(tx.key, tx);
    this.#serverCount++;
  }

  removeServer(tx: ServerTransaction): void {
    const head = this.#servers.get(tx.key);
    if (head === tx) {
      if (tx.nextInBucket === null) this.#servers.delete(tx.key);
      else this.#servers.set(tx.key, tx.nextInBucket);
    } else {
      let prev: ServerTransaction | null = head ?? null;
      while (prev !== null && prev.nextInBucket !== tx) prev = prev.nextInBucket;
      if (prev === null) return;
      prev.nextInBucket = tx.nextInBucket;
    }
    tx.nextInBucket = null;
    this.#serverCount--;
  }

  /**
   * The server transaction `msg` belongs to: a retransmission of its request, or the ACK of its
   * INVITE. With the magic cookie: "1. the branch parameter in the request is equal to the one in
   * the top Via header field of the request that created the transaction, and 2. the sent-by value
   * in the top Via of the request is equal to the one in the request that created the
   * transaction, and 3. the method of the request matches the one that created the transaction,
   * except for ACK, where the method of the request that created the transaction is INVITE."
   * Without it: "The INVITE request matches a transaction if the Request-URI, To tag, From tag,
   * Call-ID, CSeq, and top Via header field match those of the INVITE request which created the
   * transaction. ... The ACK request matches a transaction if the Request-URI, From tag, Call-ID,
   * CSeq number (not the method), and top Via header field match those of the INVITE request
   * which created the transaction, and the To tag of the ACK matches the To tag of the response
   * sent by the server transaction. ... For all other request methods, a request is matched to a
   * transaction if the Request-URI, To tag, From tag, Call-ID, CSeq (including the method), and
   * top Via header field match those of the request that created the transaction."
   */
  matchRequest(msg: SipMessage): ServerTransaction | undefined {
    return this.#find(msg, false);
  }

  /**
   * The transaction a CANCEL cancels (§9.2): "The TU determines the transaction to be cancelled by
   * taking the CANCEL request, and then assuming that the request method is anything but CANCEL or
   * ACK and applying the transaction matching procedures of Section 17.2.3."
   */
  matchCancelled(cancel: SipMessage): ServerTransaction | undefined {
    return this.#find(cancel, true);
  }

  #find(msg: SipMessage, cancelled: boolean): ServerTransaction | undefined {
    const branch = cookieBranch(msg);
    const legacy = branch === undefined;
    const via = msg.topVia();
    const method = msg.method;
    for (let tx = this.#servers.get(branch ?? legacyKey(msg)) ?? null; tx !== null; tx = tx.nextInBucket) {
      if (tx.legacy !== legacy) continue;
      if (!legacy && !sameSentBy(tx.request.topVia(), via)) continue;
      const txMethod = tx.request.method;
      if (cancelled) {
        if (txMethod === 'CANCEL' || (legacy && msg.to().tag !== tx.request.to().tag)) continue;
      } else if (method === 'ACK') {
        if (txMethod !== 'INVITE' || (legacy && msg.to().tag !== tx.ackToTag)) continue;
      } else if (txMethod !== method || (legacy && msg.to().tag !== tx.request.to().tag)) {
        continue;
      }
      return tx;
    }
    return undefined;
  }

  /** False when a transaction with this branch and method exists already (§17.1.3 could not tell them apart). */
  addClient(tx: ClientTransaction): boolean {
    const head = this.#clients.get(tx.branch) ?? null;
    for (let c = head; c !== null; c = c.nextInBucket) if (c.method === tx.method) return false;
    tx.nextInBucket = head;
    this.#clients.set(tx.branch, tx);
    this.#clientCount++;
    return true;
  }

  removeClient(tx: ClientTransaction): void {
    const head = this.#clients.get(tx.branch);
    if (head === tx) {
      if (tx.nextInBucket === null) this.#clients.delete(tx.branch);
      else this.#clients.set(tx.branch, tx.nextInBucket);
    } else {
      let prev: ClientTransaction | null = head ?? null;
      while (prev !== null && prev.nextInBucket !== tx) prev = prev.nextInBucket;
      if (prev === null) return;
      prev.nextInBucket = tx.nextInBucket;
    }
    tx.nextInBucket = null;
    this.#clientCount--;
  }

  /**
   * §17.1.3: "1. If the response has the same value of the branch parameter in the top Via header
   * field as the branch parameter in the top Via header field of the request that created the
   * transaction. 2. If the method parameter in the CSeq header field matches the method of the
   * request that created the transaction."
   */
  matchResponse(msg: SipMessage): ClientTransaction | undefined {
    const branch = msg.topVia().branch;
    if (branch === undefined) return undefined;
    for (let tx = this.#clients.get(branch) ?? null; tx !== null; tx = tx.nextInBucket) {
      if (tx.method === msg.method) return tx;
    }
    return undefined;
  }

  /** Every server transaction (a copy: the caller may end them while iterating). */
  servers(): ServerTransaction[] {
    const out: ServerTransaction[] = [];
    for (const head of this.#servers.values()) for (let tx: ServerTransaction | null = head; tx !== null; tx = tx.nextInBucket) out.push(tx);
    return out;
  }

  /** Every client transaction (a copy). */
  clients(): ClientTransaction[] {
    const out: ClientTransaction[] = [];
    for (const head of this.#clients.values()) for (let tx: ClientTransaction | null = head; tx !== null; tx = tx.nextInBucket) out.push(tx);
    return out;
  }
}
