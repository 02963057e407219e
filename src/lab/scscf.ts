// The lab's S-CSCF: a registrar that authenticates with IMS AKA (TS 33.203 §6.1, TS 24.229
// §5.4.1.2) against its own HSS (the subscriber store, MILENAGE vectors), and the end of
// UE-originated MESSAGEs and the start of terminating ones. UDP and TCP on one address and port.
//
// REGISTER, in order:
//   - an option tag in Require other than path              -> 420 (RFC 3261 §8.2.2.3)
//   - a To that is no subscriber's IMPU, or an IMPI that is not its owner -> 403
//   - Authorization with auts for a challenge it issued     -> resynchronise (TS 33.102 §6.3.5), new 401
//   - Authorization answering a challenge it issued         -> RES checked as the Digest password
//                                                              (RFC 3310): 200, or 403 when wrong
//   - a de-REGISTER the P-CSCF marks integrity-protected of a registered subscriber -> 200 (§5.4.1.4)
//   - anything else                                         -> 401 with a fresh vector, ck and ik
// A challenge is answered once: its nonce is forgotten when the answer verifies, so every
// re-registration is challenged again (new keys for new SAs, TS 33.203 §7.4).
//
// The 200 carries the bindings with their expiry, the Path it received (RFC 3327 §5.3), a
// Service-Route towards itself (RFC 3608) and the implicit registration set in P-Associated-URI
// (RFC 3455 §4.1).

import { buildResponse, SipError, type SipMessage } from '../sip/index.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import { generateVector, makeNonce, parseAuts, resync } from './aka.js';
import { AKA_ALGORITHM, challengeValue, readCredentials, type Credentials } from './aka-sip.js';
import { digestResponse } from './digest.js';
import { LabInputError } from './errors.js';
import { buildRequest, newCallId, newTag, nextHopOf, uriHost } from './requests.js';
import { SipNode, type SipNodeOptions, type SocketGroup } from './sip-node.js';
import type { Subscriber, SubscriberStore } from './subscribers.js';

export interface ScscfOptions {
  /** IP literal (IPv6 without brackets) and port of the UDP socket and the TCP listener. */
  readonly addr: string;
  readonly port: number;
  readonly realm: string;
  readonly subscribers: SubscriberStore;
  /** Binding lifetime when the REGISTER asks for none (600 s) and the most it may ask for (7200 s). */
  readonly defaultExpires?: number;
  readonly maxExpires?: number;
  /** How long a challenge may be answered (300 s: generous for the slow ESP VM). */
  readonly challengeLifetimeS?: number;
  readonly node?: SipNodeOptions;
}

export interface BindingView {
  readonly uri: string;
  /** Seconds left. */
  readonly expires: number;
}

export type ScscfEvent =
  | { readonly event: 'listening'; readonly addr: string; readonly port: number; readonly transports: readonly string[] }
  | { readonly event: 'challenged'; readonly impi: string; readonly impu: string; readonly callId: string; readonly sqn: number }
  | { readonly event: 'resynchronised'; readonly impi: string; readonly sqnMs: number }
  | { readonly event: 'registered'; readonly impi: string; readonly impu: string; readonly contacts: readonly BindingView[]; readonly path: readonly string[] }
  | { readonly event: 'deregistered'; readonly impi: string; readonly impu: string }
  | { readonly event: 'rejected'; readonly method: string; readonly status: number; readonly reason: string; readonly impi?: string }
  | { readonly event: 'message-received'; readonly from: string; readonly to: string; readonly requestUri: string; readonly text: string; readonly callId: string }
  | { readonly event: 'message-answered'; readonly to: string; readonly status: number; readonly reason: string }
  | { readonly event: 'message-failed'; readonly to: string; readonly reason: string };

export type MessageResult =
  | { readonly ok: true; readonly status: number; readonly reason: string }
  | { readonly ok: false; readonly reason: 'not-registered' | 'unroutable' | 'timeout' | 'transport'; readonly message: string };

interface Binding {
  readonly uri: string;
  expiresAt: number;
  /** The Path values of the REGISTER that made or refreshed it, as written. */
  path: readonly string[];
  updatedAt: number;
}

interface IssuedChallenge {
  readonly impi: string;
  readonly xres: Buffer;
  readonly rand: Buffer;
  readonly expiresAt: number;
}

const SUPPORTED_OPTIONS = new Set(['path']);
/** TS 24.229 §7.2A.2: the values a P-CSCF writes when the REGISTER came over the security association (or TLS / IP association). */
const PROTECTED = new Set(['yes', 'tls-yes', 'ip-assoc-yes']);
/** Challenges kept at most: a bound on what unanswered REGISTERs can make it hold. */
const MAX_CHALLENGES = 200_000;
const ALLOW = 'REGISTER, MESSAGE, OPTIONS';

export class Scscf {
  readonly #node: SipNode;
  readonly #group: SocketGroup;
  readonly #opts: Required<Omit<ScscfOptions, 'node'>>;
  readonly #onEvent: (e: ScscfEvent) => void;
  readonly #challenges = new Map<string, IssuedChallenge>();
  /** IMPI -> contact URI -> binding. */
  readonly #registrations = new Map<string, Map<string, Binding>>();
  readonly #serviceRoute: string;

  private constructor(node: SipNode, group: SocketGroup, opts: Required<Omit<ScscfOptions, 'node'>>, onEvent: (e: ScscfEvent) => void) {
    this.#node = node;
    this.#group = group;
    this.#opts = opts;
    this.#onEvent = onEvent;
    this.#serviceRoute = `<sip:orig@${uriHost(opts.addr)}:${opts.port};lr>`;
  }

  /** Binds UDP and TCP; rejects with LabInputError (bad option) or the transports' TransportOpenError. */
  static async start(options: ScscfOptions, onEvent: (e: ScscfEvent) => void = () => {}): Promise<Scscf> {
    if (!/^[A-Za-z0-9.!%*_+`'~:[\]-]+$/.test(options.realm)) throw new LabInputError('ERR_LAB_CONFIG', 'realm', 'must be a domain name (a token)');
    const opts = {
      addr: options.addr, port: options.port, realm: options.realm, subscribers: options.subscribers,
      defaultExpires: options.defaultExpires ?? 600, maxExpires: options.maxExpires ?? 7200, challengeLifetimeS: options.challengeLifetimeS ?? 300,
    };
    const node = new SipNode(options.node);
    let scscf: Scscf | undefined;
    const group = await node.open([
      { transport: 'udp', addr: opts.addr, port: opts.port, role: 'unprotected', listening: true },
      { transport: 'tcp', addr: opts.addr, port: opts.port, role: 'unprotected', listening: true },
    ], (msg, _rx, tx) => { if (scscf !== undefined) scscf.#onRequest(msg, tx); });
    scscf = new Scscf(node, group, opts, onEvent);
    onEvent({ event: 'listening', addr: opts.addr, port: opts.port, transports: ['udp', 'tcp'] });
    return scscf;
  }

  /** The live bindings of the subscriber owning `impu`. */
  bindings(impu: string): BindingView[] {
    const sub = this.#opts.subscribers.byImpu(impu);
    return sub === undefined ? [] : this.#views(this.#live(sub.impi));
  }

  /**
   * A terminating MESSAGE to the UE registered for `to`, as the core sends it: Request-URI = the
   * registered contact, Route = the Path stored with it (RFC 3327 §5.3), towards the first Route.
   */
  async sendMessage(to: string, text: string, from = `sip:scscf@${this.#opts.realm}`): Promise<MessageResult> {
    const sub = this.#opts.subscribers.byImpu(to);
    const binding = sub === undefined ? undefined : [...this.#live(sub.impi).values()].sort((a, b) => b.updatedAt - a.updatedAt)[0];
    if (binding === undefined) return this.#messageFailed(to, 'not-registered', `${to} has no registered contact`);
    const hop = nextHopOf(binding.path.length > 0 ? stripNameAddr(binding.path[0]!) : binding.uri);
    const socket = hop === undefined ? undefined : this.#group.socket(hop.transport);
    if (hop === undefined || socket === undefined || hop.addr.includes(':') !== this.#opts.addr.includes(':')) {
      return this.#messageFailed(to, 'unroutable', `no IP route of this S-CSCF's family to ${binding.path[0] ?? binding.uri}`);
    }
    const req = buildRequest({
      method: 'MESSAGE', uri: binding.uri,
      via: { transport: hop.transport, addr: this.#opts.addr, port: this.#opts.port },
      from: `<${from}>;tag=${newTag()}`, to: `<${to}>`, callId: newCallId(uriHost(this.#opts.addr)), cseq: 1,
      route: binding.path,
      body: { type: 'text/plain;charset=UTF-8', bytes: Buffer.from(text, 'utf8') },
    });
    const outcome = await this.#node.request(req, { transport: hop.transport, socketId: socket.id, remote: { addr: hop.addr, port: hop.port } });
    if (!outcome.ok) return this.#messageFailed(to, outcome.cause, outcome.message);
    const { status, reasonPhrase } = outcome.response;
    this.#onEvent({ event: 'message-answered', to, status, reason: reasonPhrase });
    return { ok: true, status, reason: reasonPhrase };
  }

  close(): Promise<void> {
    return this.#node.close();
  }

  #messageFailed(to: string, reason: 'not-registered' | 'unroutable' | 'timeout' | 'transport', message: string): MessageResult {
    this.#onEvent({ event: 'message-failed', to, reason });
    return { ok: false, reason, message };
  }

  #onRequest(msg: SipMessage, tx: ServerTransaction): void {
    try {
      switch (msg.method) {
        case 'REGISTER': this.#register(msg, tx); return;
        case 'MESSAGE': this.#message(msg, tx); return;
        case 'OPTIONS': this.#node.reply(tx, 200, 'OK', [['Allow', ALLOW]]); return;
        default: this.#reject(tx, 405, 'Method Not Allowed', undefined, [['Allow', ALLOW]]);
      }
    } catch (e) {
      // A header the lazy parser refuses only when it is read (Contact, Expires, Path...).
      if (!(e instanceof SipError)) throw e;
      this.#reject(tx, e.status, e.reason);
    }
  }

  #reject(tx: ServerTransaction, status: number, reason: string, impi?: string, headers?: readonly (readonly [string, string])[]): void {
    this.#node.reply(tx, status, reason, headers);
    this.#onEvent({ event: 'rejected', method: tx.request.method, status, reason, ...(impi === undefined ? {} : { impi }) });
  }

  #message(msg: SipMessage, tx: ServerTransaction): void {
    this.#node.reply(tx, 200, 'OK');
    this.#onEvent({
      event: 'message-received', from: msg.from().uri, to: msg.to().uri, requestUri: msg.requestUri,
      text: msg.body.toString('utf8'), callId: msg.callId(),
    });
  }

  #register(msg: SipMessage, tx: ServerTransaction): void {
    const unsupported = msg.optionTags('require').filter((t) => !SUPPORTED_OPTIONS.has(t.toLowerCase()));
    if (unsupported.length > 0) return this.#reject(tx, 420, 'Bad Extension', undefined, [['Unsupported', unsupported.join(', ')]]);
    const impu = msg.to().uri;
    const sub = this.#opts.subscribers.byImpu(impu);
    if (sub === undefined) return this.#reject(tx, 403, 'Unknown Public Identity');
    const cred = readCredentials(msg);
    if (cred !== undefined && cred.username !== sub.impi) return this.#reject(tx, 403, 'Private Identity Does Not Own The Public Identity', cred.username);
    const contacts = msg.contacts();
    const deregistration = contacts === '*' || (contacts.length > 0 && contacts.every((c) => (c.expires ?? msg.expires()) === 0));

    const issued = cred === undefined ? undefined : this.#issued(cred.nonce, sub.impi);
    if (cred?.auts !== undefined && issued !== undefined) return this.#resync(msg, tx, sub, cred, issued);
    if (cred !== undefined && issued !== undefined && cred.response !== '') {
      if (!answers(cred, issued)) return this.#reject(tx, 403, 'Authentication Failed', sub.impi);
      this.#challenges.delete(cred.nonce);
      return this.#accept(msg, tx, sub, impu);
    }
    if (deregistration && PROTECTED.has(cred?.integrityProtected?.toLowerCase() ?? '') && this.#live(sub.impi).size > 0) {
      return this.#accept(msg, tx, sub, impu);
    }
    this.#challenge(msg, tx, sub, impu);
  }

  /** The challenge a nonce names, if this S-CSCF issued it to `impi` and it has not expired. */
  #issued(nonce: string, impi: string): IssuedChallenge | undefined {
    const c = this.#challenges.get(nonce);
    if (c === undefined) return undefined;
    if (c.expiresAt < Date.now()) {
      this.#challenges.delete(nonce);
      return undefined;
    }
    return c.impi === impi ? c : undefined;
  }

  #challenge(msg: SipMessage, tx: ServerTransaction, sub: Subscriber, impu: string): void {
    const sqn = sub.sqn;
    const v = generateVector({ k: sub.k, opc: sub.opc, sqn, amf: sub.amf });
    // TS 33.102 §6.3.2: each vector gets the next sequence number.
    sub.sqn = sqn + 1;
    const nonce = makeNonce(v.rand, v.autn);
    if (this.#challenges.size >= MAX_CHALLENGES) this.#challenges.delete(this.#challenges.keys().next().value!);
    this.#challenges.set(nonce, { impi: sub.impi, xres: v.xres, rand: v.rand, expiresAt: Date.now() + this.#opts.challengeLifetimeS * 1000 });
    this.#node.respond(tx, buildResponse(msg, 401, 'Unauthorized', {
      headers: [['WWW-Authenticate', challengeValue({ realm: this.#opts.realm, nonce, ck: v.ck, ik: v.ik })]],
    }), 401);
    this.#onEvent({ event: 'challenged', impi: sub.impi, impu, callId: msg.callId(), sqn });
  }

  /** TS 33.102 §6.3.5: MAC-S verified, SQN_MS recovered; the next vector carries SQN_MS + 1. */
  #resync(msg: SipMessage, tx: ServerTransaction, sub: Subscriber, cred: Credentials, issued: IssuedChallenge): void {
    let auts: Buffer;
    try {
      auts = parseAuts(cred.auts ?? '');
    } catch (e) {
      if (!(e instanceof LabInputError)) throw e;
      return this.#reject(tx, 403, 'Malformed auts', sub.impi);
    }
    const r = resync({ k: sub.k, opc: sub.opc, rand: issued.rand, auts });
    if (!r.ok) return this.#reject(tx, 403, 'Resynchronisation Failed', sub.impi);
    this.#challenges.delete(cred.nonce);
    sub.sqn = Math.max(sub.sqn, r.sqnMs + 1);
    this.#onEvent({ event: 'resynchronised', impi: sub.impi, sqnMs: r.sqnMs });
    this.#challenge(msg, tx, sub, msg.to().uri);
  }

  /** RFC 3261 §10.3 steps 6-8: the bindings change as the REGISTER asks; the 200 lists what is left. */
  #accept(msg: SipMessage, tx: ServerTransaction, sub: Subscriber, impu: string): void {
    const now = Date.now();
    const bindings = this.#live(sub.impi);
    const contacts = msg.contacts();
    const path = msg.paths().map((p) => p.raw);
    if (contacts === '*') {
      bindings.clear();
    } else {
      for (const c of contacts) {
        const asked = c.expires ?? msg.expires() ?? this.#opts.defaultExpires;
        const expires = Math.min(asked, this.#opts.maxExpires);
        if (expires === 0) {
          bindings.delete(c.uri);
          continue;
        }
        bindings.set(c.uri, { uri: c.uri, expiresAt: now + expires * 1000, path, updatedAt: now });
      }
    }
    const views = this.#views(bindings);
    const headers: [string, string][] = views.map((b) => ['Contact', `<${b.uri}>;expires=${b.expires}`]);
    if (path.length > 0) headers.push(['Path', path.join(', ')]);
    headers.push(['Service-Route', this.#serviceRoute], ['P-Associated-URI', sub.impus.map((u) => `<${u}>`).join(', ')]);
    this.#node.respond(tx, buildResponse(msg, 200, 'OK', { headers }), 200);
    if (contacts !== '*' && contacts.length === 0) return;
    this.#onEvent(views.length > 0
      ? { event: 'registered', impi: sub.impi, impu, contacts: views, path }
      : { event: 'deregistered', impi: sub.impi, impu });
  }

  /** The bindings of `impi` that have not expired (expired ones are dropped on the way). */
  #live(impi: string): Map<string, Binding> {
    let bindings = this.#registrations.get(impi);
    if (bindings === undefined) {
      bindings = new Map();
      this.#registrations.set(impi, bindings);
    }
    const now = Date.now();
    for (const [uri, b] of bindings) if (b.expiresAt <= now) bindings.delete(uri);
    return bindings;
  }

  #views(bindings: Map<string, Binding>): BindingView[] {
    const now = Date.now();
    return [...bindings.values()].map((b) => ({ uri: b.uri, expires: Math.max(1, Math.round((b.expiresAt - now) / 1000)) }));
  }
}

/** Whether the Digest response was computed with RES = XRES as the password (RFC 3310 §3.4, RFC 2617 §3.2.2). */
function answers(cred: Credentials, issued: IssuedChallenge): boolean {
  if (cred.algorithm?.toLowerCase() !== AKA_ALGORITHM.toLowerCase()) return false;
  const common = { username: cred.username, realm: cred.realm, password: issued.xres, method: 'REGISTER', uri: cred.uri, nonce: cred.nonce };
  const qop = cred.qop;
  if (qop !== undefined && qop !== 'auth') return false;
  let expected: string;
  try {
    expected = qop === undefined ? digestResponse(common) : digestResponse({ ...common, qop, nc: cred.nc ?? '', cnonce: cred.cnonce ?? '' });
  } catch (e) {
    // A malformed nc or cnonce: these credentials answer nothing.
    if (e instanceof LabInputError) return false;
    throw e;
  }
  return expected === cred.response.toLowerCase();
}

/** The URI of a name-addr value as written ("<sip:x;lr>;p=1" -> "sip:x;lr"). */
function stripNameAddr(value: string): string {
  const open = value.indexOf('<');
  const close = value.indexOf('>', open + 1);
  return open >= 0 && close > open ? value.slice(open + 1, close) : value;
}
