// A UE of the lab: registers through the P-CSCF with IMS AKA and the ipsec-3gpp security agreement
// (TS 24.229 §5.1.1.2, TS 33.203 §6.1 and §7), installs its own half of the SAs through the
// netlink library, sends and answers MESSAGE over them, re- and de-registers.
//
//   initial   REGISTER (unprotected, Security-Client, empty credentials) -> 401 (nonce, Security-Server)
//             -> RES, CK, IK (MILENAGE) -> SAs installed -> REGISTER from port_uc to port_ps with
//             the answer, the same Security-Client and Security-Verify = Security-Server -> 200
//   re-       REGISTER over the current SAs with a fresh offer (new SPIs and port_uc, port_us kept)
//             -> 401 over the current SAs -> new SAs -> answer over the new SAs -> 200 -> the old
//             SAs are removed (TS 33.203 §7.4)
//   de-       REGISTER with expires 0 over the current SAs (a fresh offer too, in case the network
//             challenges it) -> 200 -> every SA removed
//
// A Ue has an explicit range of ports and SPIs, so that many can share one address, one SipNode
// and one XfrmClient (the load generator does).

import type { RxInfo, Target, Transport } from '../engine/plan.js';
import { buildUeSaSet, createOps, deleteOps, saSetIds, type TunnelParams } from '../ipsec/sa-set.js';
import type { XfrmClient } from '../netlink/client.js';
import { SipError, type SipMessage } from '../sip/index.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import { encodeAuts, parseNonce, respond } from './aka.js';
import { AKA_ALGORITHM, credentialsValue, newCnonce, readChallenge, type Credentials, type ReceivedChallenge } from './aka-sip.js';
import { digestResponse } from './digest.js';
import { LabInputError, UeError } from './errors.js';
import { buildRequest, newCallId, newTag, uriHost, type RequestSpec } from './requests.js';
import { SipNode, type Outcome, type SocketGroup } from './sip-node.js';
import { domainOf } from './subscribers.js';
import {
  agreedTunnel, chooseSecurityServer, forgedSecurityVerifyValue, securityClientValue, securityVerifyValue, ServerProblem,
  type AlgPair, type UeSecurityParams,
} from './ue-security.js';

/** What a UE needs of the netlink library (an XfrmClient, or a stand-in in tests). */
export type XfrmSubmitter = Pick<XfrmClient, 'submit'>;

export interface UePorts {
  /** Where the unprotected REGISTER leaves from (UDP; over TCP it is only written in Via). */
  readonly unprotected: number;
  /** port_us: kept for the whole registration (TS 33.203 §7.4). */
  readonly server: number;
  /** port_uc alternates between these two, one per SA set, so that old and new SAs can coexist. */
  readonly clients: readonly [number, number];
}

export interface UeOptions {
  readonly impi: string;
  readonly impu: string;
  readonly k: Uint8Array;
  readonly opc: Uint8Array;
  /** The highest SQN the USIM has accepted; without it every SQN is fresh (TS 33.102 Annex C). */
  readonly sqnMs?: number;
  /** Home network domain (Request-URI, realm of the first REGISTER); default: the IMPU's domain. */
  readonly home?: string;
  /** The UE's IP address (IPv6 without brackets). */
  readonly addr: string;
  /** The P-CSCF's unprotected address and port (P-CSCF discovery's result). */
  readonly pcscf: { readonly addr: string; readonly port: number };
  readonly transport?: Transport;
  readonly ports: UePorts;
  /** The UE's SPIs are spiBase .. spiBase + 3: (spi_uc, spi_us) = (base, base + 1) and (base + 2, base + 3), alternately. */
  readonly spiBase: number;
  /** ipsec-3gpp mechanisms offered, in order (default: hmac-sha-1-96 with aes-cbc). */
  readonly offers?: readonly AlgPair[];
  /** Registration lifetime asked for (600 s). */
  readonly expires?: number;
  /** Selector `user` of the SAs and policies this UE installs. */
  readonly marker: number;
}

export interface UeDeps {
  readonly xfrm: XfrmSubmitter;
  /** Shared by many UEs (one timer queue); created and owned by the UE when absent. */
  readonly node?: SipNode;
  readonly onEvent?: (e: UeEvent) => void;
}

type SaSummary = {
  readonly spiUc: number;
  readonly spiUs: number;
  readonly spiPc: number;
  readonly spiPs: number;
  readonly portUc: number;
  readonly portUs: number;
  readonly portPc: number;
  readonly portPs: number;
  readonly alg: string;
  readonly ealg: string;
};

export type UeEvent =
  | { readonly event: 'security-client'; readonly procedure: Procedure; readonly value: string }
  | { readonly event: 'challenged'; readonly procedure: Procedure; readonly afterMs: number }
  | { readonly event: 'resynchronising'; readonly procedure: Procedure; readonly sqnMs: number }
  | { readonly event: 'security-server'; readonly value: string; readonly alg: string; readonly ealg: string }
  | ({ readonly event: 'sas-installed' } & SaSummary)
  | ({ readonly event: 'sas-removed' } & SaSummary)
  | { readonly event: 'registered'; readonly impu: string; readonly expires: number; readonly serviceRoute: readonly string[]; readonly associatedUris: readonly string[]; readonly afterMs: number }
  | { readonly event: 'reregistered'; readonly expires: number; readonly newSas: boolean; readonly afterMs: number }
  | { readonly event: 'deregistered'; readonly afterMs: number }
  | { readonly event: 'message-received'; readonly from: string; readonly to: string; readonly text: string; readonly callId: string }
  | { readonly event: 'message-answered'; readonly to: string; readonly status: number; readonly reason: string };

export type Procedure = 'register' | 'reregister' | 'deregister';

export interface RegisterOptions {
  /**
   * Fault injection for tests: the protected REGISTER carries a Security-Verify that differs from
   * the Security-Server received, which the P-CSCF must refuse with 494 (RFC 3329 §2.3.1).
   */
  readonly forgeSecurityVerify?: boolean;
}

/** How long a procedure took, from sending its first REGISTER (performance.now() differences). */
export interface ProcedureTimes {
  /** Until the 401, when there was one. */
  readonly challengedAfterMs?: number;
  /** Until the final 2xx. */
  readonly doneAfterMs: number;
}

/** One installed SA set and the client-port sockets that use it. */
interface SaSet {
  readonly params: TunnelParams;
  /** The Security-Server that announced it: Security-Verify of every request over it. */
  readonly serverValues: readonly string[];
  readonly client: SocketGroup;
}

/** Where a REGISTER goes: unprotected to the P-CSCF's port, or over an SA set to its port_ps. */
type Path = { readonly kind: 'unprotected'; readonly group: SocketGroup } | { readonly kind: 'protected'; readonly set: SaSet };

const DEFAULT_OFFERS: readonly AlgPair[] = [['hmac-sha-1-96', 'aes-cbc']];

/** The selector `user` of lab UE SAs by default ("LabU"), distinct from the P-CSCF's. */
export const LAB_UE_MARKER = 0x4c616255;
const FIRST_NC = '00000001';

export class Ue {
  readonly #o: Required<Omit<UeOptions, 'sqnMs' | 'home'>> & { readonly home: string };
  readonly #xfrm: XfrmSubmitter;
  readonly #node: SipNode;
  readonly #ownsNode: boolean;
  readonly #onEvent: (e: UeEvent) => void;
  readonly #callId: string;
  readonly #fromTag = newTag();
  readonly #user: string;
  #cseq = 0;
  #sqnMs: number | undefined;
  /** Which SPI pair and client port the next offer uses. */
  #slot = 0;
  #current: SaSet | undefined;
  #server: SocketGroup | undefined;
  #serviceRoute: readonly string[] = [];
  /** The registration procedure in progress. */
  #running: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: UeOptions, deps: UeDeps) {
    const home = options.home ?? domainOf(options.impu);
    if (home === undefined) throw new LabInputError('ERR_LAB_CONFIG', 'home', 'not given, and the IMPU is not a SIP URI to take it from');
    if (options.addr.includes(':') !== options.pcscf.addr.includes(':')) throw new LabInputError('ERR_LAB_CONFIG', 'pcscf.addr', 'must be of the UE address\'s family');
    const p = options.ports;
    const ports = [p.unprotected, p.server, p.clients[0], p.clients[1]];
    if (new Set(ports).size !== 4 || !ports.every((n) => Number.isInteger(n) && n >= 1 && n <= 65535)) {
      throw new LabInputError('ERR_LAB_CONFIG', 'ports', 'unprotected, server and the two client ports must be four distinct ports 1-65535');
    }
    if (!Number.isInteger(options.spiBase) || options.spiBase < 256 || options.spiBase + 3 > 0xffffffff) {
      throw new LabInputError('ERR_LAB_CONFIG', 'spiBase', 'must be an integer with spiBase >= 256 and spiBase + 3 < 2^32 (RFC 4303 reserves 1-255)');
    }
    const offers = options.offers ?? DEFAULT_OFFERS;
    if (offers.length === 0) throw new LabInputError('ERR_LAB_CONFIG', 'offers', 'at least one ipsec-3gpp mechanism');
    this.#o = {
      impi: options.impi, impu: options.impu, k: options.k, opc: options.opc, home, addr: options.addr, pcscf: options.pcscf,
      transport: options.transport ?? 'udp', ports: options.ports, spiBase: options.spiBase, offers, expires: options.expires ?? 600,
      marker: options.marker,
    };
    this.#sqnMs = options.sqnMs;
    this.#xfrm = deps.xfrm;
    this.#ownsNode = deps.node === undefined;
    this.#node = deps.node ?? new SipNode();
    this.#onEvent = deps.onEvent ?? (() => {});
    this.#callId = newCallId(uriHost(options.addr));
    this.#user = /^sips?:([^@;]+)@/i.exec(options.impu)?.[1] ?? 'ue';
  }

  get registered(): boolean {
    return this.#current !== undefined;
  }

  /** The parameters of the SA set in use, if registered. */
  get tunnel(): TunnelParams | undefined {
    return this.#current?.params;
  }

  /** Initial registration (TS 24.229 §5.1.1.2). Rejects with UeError. */
  register(o: RegisterOptions = {}): Promise<ProcedureTimes> {
    return this.#exclusive(async () => {
      if (this.#current !== undefined) throw new UeError('UE_BUSY', 'already registered: re-register or de-register');
      const group = await this.#node.open([
        // Over TCP the REGISTER leaves on a connection from an ephemeral port; the listener is there
        // for a P-CSCF that answers on a new connection to the Via's sent-by.
        { transport: this.#o.transport, addr: this.#o.addr, port: this.#o.ports.unprotected, role: 'unprotected', listening: true },
      ], this.#onRequest);
      try {
        return await this.#procedure('register', { kind: 'unprotected', group }, o.forgeSecurityVerify === true);
      } finally {
        await this.#node.closeGroup(group);
      }
    });
  }

  /** Re-registration over the current SAs, with new SAs if the network challenges it (TS 33.203 §7.4). */
  reregister(): Promise<ProcedureTimes> {
    return this.#exclusive(() => this.#procedure('reregister', { kind: 'protected', set: this.#registeredSet() }));
  }

  /** De-registration (expires 0) over the current SAs; every SA is removed once it is answered. */
  deregister(): Promise<ProcedureTimes> {
    return this.#exclusive(() => this.#procedure('deregister', { kind: 'protected', set: this.#registeredSet() }));
  }

  /**
   * A MESSAGE over the SAs (TS 24.229 §5.1.2A.1): Route = the P-CSCF's protected server port, then
   * the Service-Route learnt at registration (RFC 3608). Resolves with the final status.
   */
  async sendMessage(to: string, text: string): Promise<{ status: number; reason: string }> {
    const set = this.#registeredSet();
    const req = buildRequest({
      method: 'MESSAGE', uri: to, via: this.#protectedVia(set), from: `<${this.#o.impu}>;tag=${newTag()}`, to: `<${to}>`,
      callId: newCallId(uriHost(this.#o.addr)), cseq: 1,
      route: [`<sip:${uriHost(set.params.pcscfAddr)}:${set.params.portPs};lr>`, ...this.#serviceRoute],
      headers: [['P-Preferred-Identity', `<${this.#o.impu}>`]],
      body: { type: 'text/plain;charset=UTF-8', bytes: Buffer.from(text, 'utf8') },
    });
    const response = final(await this.#node.request(req, this.#target({ kind: 'protected', set })));
    this.#onEvent({ event: 'message-answered', to, status: response.status, reason: response.reasonPhrase });
    return { status: response.status, reason: response.reasonPhrase };
  }

  /**
   * Removes every SA set this UE installed and closes its sockets (and its node, when it owns it),
   * after the procedure in progress, if any, has ended (so that nothing it installs is left).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#running?.catch(() => undefined);
    const set = this.#current;
    this.#current = undefined;
    const failures: UeError[] = [];
    if (set !== undefined) await this.#remove(set).catch((e: UeError) => failures.push(e));
    if (this.#server !== undefined) await this.#node.closeGroup(this.#server);
    this.#server = undefined;
    if (this.#ownsNode) await this.#node.close();
    if (failures[0] !== undefined) throw failures[0];
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running !== undefined || this.#closed) {
      return Promise.reject(new UeError('UE_BUSY', this.#closed ? 'the UE is closed' : 'another registration procedure is running'));
    }
    // Started from a promise, so that an error thrown before fn's first await is a rejection too.
    const p = Promise.resolve().then(fn);
    this.#running = p;
    const clear = (): void => { this.#running = undefined; };
    p.then(clear, clear);
    return p;
  }

  #registeredSet(): SaSet {
    if (this.#current === undefined) throw new UeError('UE_NOT_REGISTERED', 'not registered');
    return this.#current;
  }

  /**
   * The SPIs and client port of the next offer: never those of the SAs in use (they must coexist
   * with the new ones), and otherwise alternating, so that a P-CSCF still holding the SAs of an
   * abandoned attempt meets no duplicate. The server port never changes.
   */
  #nextOffer(): UeSecurityParams {
    const inUse = this.#current?.params.spiUc;
    const slot = inUse === undefined ? this.#slot : inUse === this.#o.spiBase ? 1 : 0;
    this.#slot = 1 - slot;
    const portUc = slot === 0 ? this.#o.ports.clients[0] : this.#o.ports.clients[1];
    return { spiUc: this.#o.spiBase + 2 * slot, spiUs: this.#o.spiBase + 2 * slot + 1, portUc, portUs: this.#o.ports.server };
  }

  async #procedure(procedure: Procedure, first: Path, forgeVerify = false): Promise<ProcedureTimes> {
    const started = performance.now();
    const offer = this.#nextOffer();
    this.#onEvent({ event: 'security-client', procedure, value: securityClientValue(this.#o.offers, offer) });
    const expires = procedure === 'deregister' ? 0 : this.#o.expires;
    const initialCredentials: Credentials = { username: this.#o.impi, realm: this.#o.home, uri: this.#requestUri(), nonce: '', response: '' };
    let response = final(await this.#node.request(this.#register(first, offer, expires, initialCredentials), this.#target(first)));
    let challengedAfterMs: number | undefined;
    let resynchronised = false;
    while (response.status === 401) {
      challengedAfterMs ??= performance.now() - started;
      this.#onEvent({ event: 'challenged', procedure, afterMs: challengedAfterMs });
      const challenge = readChallenge(response);
      if (challenge === undefined) throw new UeError('UE_BAD_CHALLENGE', 'the 401 has no Digest challenge with algorithm=AKAv1-MD5, a nonce and a realm', { status: 401 });
      const answer = this.#answer(challenge);
      if (answer.kind === 'resync') {
        // TS 33.102 §6.3.3 / RFC 3310 §3.4: AUTS goes back on the path the challenge came by.
        if (resynchronised) throw new UeError('UE_SYNC_FAILURE', 'the network sent a stale SQN again after resynchronisation', { status: 401 });
        resynchronised = true;
        this.#onEvent({ event: 'resynchronising', procedure, sqnMs: this.#sqnMs ?? 0 });
        response = final(await this.#node.request(this.#register(first, offer, expires, answer.credentials), this.#target(first)));
        continue;
      }
      const set = await this.#install(response, offer, answer.keys);
      let answered: SipMessage;
      try {
        answered = final(await this.#node.request(this.#register({ kind: 'protected', set }, offer, expires, answer.credentials, forgeVerify), this.#target({ kind: 'protected', set })));
        if (answered.status < 200 || answered.status >= 300) throw new UeError('UE_REJECTED', `the protected REGISTER got ${answered.status} ${answered.reasonPhrase}`, { status: answered.status });
      } catch (e) {
        await this.#remove(set);
        throw e;
      }
      const doneAfterMs = performance.now() - started;
      await this.#done(procedure, set, answered, doneAfterMs);
      return { challengedAfterMs, doneAfterMs };
    }
    if (response.status < 200 || response.status >= 300 || procedure === 'register') {
      // A registration needs the challenge: without it there are no keys for the SAs.
      const code = procedure === 'register' ? 'UE_NO_CHALLENGE' : 'UE_REJECTED';
      throw new UeError(code, `the ${procedure === 'register' ? 'unprotected ' : ''}REGISTER got ${response.status} ${response.reasonPhrase}${procedure === 'register' ? ' instead of 401' : ''}`, { status: response.status });
    }
    // Answered without a challenge (the network trusted the SAs): the current SAs stay.
    const doneAfterMs = performance.now() - started;
    await this.#done(procedure, this.#registeredSet(), response, doneAfterMs);
    return { doneAfterMs };
  }

  /** The AKA answer to a challenge: credentials with RES, or with AUTS when the SQN is stale. */
  #answer(challenge: ReceivedChallenge): { kind: 'ok'; keys: { ck: Buffer; ik: Buffer }; credentials: Credentials } | { kind: 'resync'; credentials: Credentials } {
    let rand: Buffer;
    let autn: Buffer;
    try {
      ({ rand, autn } = parseNonce(challenge.nonce));
    } catch (e) {
      if (!(e instanceof LabInputError)) throw e;
      throw new UeError('UE_BAD_CHALLENGE', `the nonce is not base64(RAND || AUTN): ${e.message}`, { status: 401 });
    }
    const r = respond({ k: this.#o.k, opc: this.#o.opc, rand, autn, ...(this.#sqnMs === undefined ? {} : { sqnMs: this.#sqnMs }) });
    if (!r.ok && r.reason === 'mac-failure') throw new UeError('UE_AKA_MAC_FAILURE', 'AUTN does not verify: the challenge is not from this subscriber\'s home network', { status: 401 });
    const qop = challenge.qopAuth ? { qop: 'auth', nc: FIRST_NC, cnonce: newCnonce() } as const : {};
    const base = { username: this.#o.impi, realm: challenge.realm, uri: this.#requestUri(), nonce: challenge.nonce, algorithm: AKA_ALGORITHM, ...qop };
    // RFC 3310 §3.4: with AUTS the password is empty; otherwise it is RES.
    const password = r.ok ? r.res : Buffer.alloc(0);
    const response = digestResponse({ ...base, password, method: 'REGISTER' });
    if (!r.ok) return { kind: 'resync', credentials: { ...base, auts: encodeAuts(r.auts), response } };
    this.#sqnMs = r.sqn;
    return { kind: 'ok', keys: { ck: r.ck, ik: r.ik }, credentials: { ...base, response } };
  }

  /** Reads the Security-Server, installs the UE's 4 SAs and 4 policies, opens the ports that use them. */
  async #install(challenge: SipMessage, offer: UeSecurityParams, keys: { ck: Buffer; ik: Buffer }): Promise<SaSet> {
    const chosen = chooseSecurityServer(challenge.fieldValues('security-server'), this.#o.offers);
    if (chosen instanceof ServerProblem) throw new UeError(chosen.code, chosen.message, { status: 401 });
    this.#onEvent({ event: 'security-server', value: securityVerifyValue(chosen.values), alg: chosen.alg, ealg: chosen.ealg });
    const params = agreedTunnel(offer, chosen, { ueAddr: this.#o.addr, pcscfAddr: this.#o.pcscf.addr }, keys, this.#o.marker);
    let ops;
    try {
      ops = createOps(buildUeSaSet(params));
    } catch (e) {
      throw new UeError('UE_SECURITY_SERVER_UNUSABLE', `the agreed SAs cannot be built: ${(e as Error).message}`, { status: 401 });
    }
    await this.#kernel(ops, 'installing the SAs');
    let client: SocketGroup;
    try {
      // Requests from the P-CSCF come over the transport the UE registered with (its contact says so).
      this.#server ??= await this.#node.open([
        { transport: this.#o.transport, addr: this.#o.addr, port: this.#o.ports.server, role: 'protected-server', listening: true },
      ], this.#onRequest);
      client = await this.#node.open([
        { transport: this.#o.transport, addr: this.#o.addr, port: offer.portUc, role: 'protected-client', listening: this.#o.transport === 'udp' },
      ], this.#onRequest);
    } catch (e) {
      await this.#kernel(deleteOps(saSetIds(params, 'ue')), 'removing the SAs');
      throw new UeError('UE_TRANSPORT', `cannot open the protected ports: ${(e as Error).message}`);
    }
    this.#onEvent({ event: 'sas-installed', ...summary(params) });
    return { params, serverValues: chosen.values, client };
  }

  /** The procedure succeeded with `set` carrying its 200: the SA sets change as TS 33.203 §7.4 says. */
  async #done(procedure: Procedure, set: SaSet, ok: SipMessage, afterMs: number): Promise<void> {
    const old = this.#current;
    if (procedure === 'deregister') {
      this.#current = undefined;
      if (old !== undefined && old !== set) await this.#remove(old);
      await this.#remove(set);
      if (this.#server !== undefined) await this.#node.closeGroup(this.#server);
      this.#server = undefined;
      this.#onEvent({ event: 'deregistered', afterMs });
      return;
    }
    this.#current = set;
    this.#serviceRoute = ok.serviceRoutes().map((r) => r.raw);
    const expires = grantedExpires(ok, this.#contactUri(), this.#o.expires);
    if (procedure === 'register') {
      this.#onEvent({ event: 'registered', impu: this.#o.impu, expires, serviceRoute: this.#serviceRoute, associatedUris: ok.values('p-associated-uri').map((v) => v.text), afterMs });
      return;
    }
    // The new SAs carried the 200: only now do the old ones go.
    if (old !== undefined && old !== set) await this.#remove(old);
    this.#onEvent({ event: 'reregistered', expires, newSas: old !== set, afterMs });
  }

  async #remove(set: SaSet): Promise<void> {
    await this.#node.closeGroup(set.client);
    await this.#kernel(deleteOps(saSetIds(set.params, 'ue')), 'removing the SAs');
    this.#onEvent({ event: 'sas-removed', ...summary(set.params) });
  }

  async #kernel(ops: Parameters<XfrmSubmitter['submit']>[0], doing: string): Promise<void> {
    let result;
    try {
      result = await this.#xfrm.submit(ops);
    } catch (e) {
      throw new UeError('UE_KERNEL', `${doing}: ${(e as Error).message}`);
    }
    const failed = result.firstError?.result;
    if (result.ok || failed === undefined || failed.ok) return;
    throw new UeError('UE_KERNEL', `${doing}: ${failed.message} (${failed.errnoName})`, { errno: failed.errno, errnoName: failed.errnoName });
  }

  /** TS 24.229 §5.1.1.2.1 c: the contact address carries the protected server port. */
  #contactUri(): string {
    return `sip:${this.#user}@${uriHost(this.#o.addr)}:${this.#o.ports.server}${this.#o.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  #requestUri(): string {
    return `sip:${this.#o.home}`;
  }

  /**
   * Via of requests over the SAs, without rport. TS 24.229 §5.1.1.2.1 d: the sent-by port is where
   * the UE expects the response over UDP, its protected server port; over TCP the response comes
   * on the connection, whose local end (port_uc) is written, so that a responder that matches the
   * connection by the Via finds it.
   */
  #protectedVia(set: SaSet): RequestSpec['via'] {
    const port = this.#o.transport === 'tcp' ? set.params.portUc : this.#o.ports.server;
    return { transport: this.#o.transport, addr: this.#o.addr, port };
  }

  #register(path: Path, offer: UeSecurityParams, expires: number, credentials: Credentials, forgeVerify = false) {
    const transport = this.#o.transport;
    const headers: [string, string][] = [
      ['Expires', String(expires)],
      ['Authorization', credentialsValue(credentials)],
      ['Security-Client', securityClientValue(this.#o.offers, offer)],
    ];
    if (path.kind === 'protected') headers.push(['Security-Verify', (forgeVerify ? forgedSecurityVerifyValue : securityVerifyValue)(path.set.serverValues)]);
    headers.push(['Require', 'sec-agree'], ['Proxy-Require', 'sec-agree'], ['Supported', 'path, sec-agree']);
    return buildRequest({
      method: 'REGISTER', uri: this.#requestUri(),
      via: path.kind === 'unprotected'
        ? { transport, addr: this.#o.addr, port: this.#o.ports.unprotected, rport: transport === 'udp' }
        : this.#protectedVia(path.set),
      from: `<${this.#o.impu}>;tag=${this.#fromTag}`, to: `<${this.#o.impu}>`, callId: this.#callId, cseq: ++this.#cseq,
      contact: `<${this.#contactUri()}>;expires=${expires}`,
      headers,
    });
  }

  #target(path: Path): Target {
    const transport = this.#o.transport;
    if (path.kind === 'unprotected') return { transport, socketId: path.group.socket(transport)!.id, remote: this.#o.pcscf };
    return { transport, socketId: path.set.client.socket(transport)!.id, remote: { addr: path.set.params.pcscfAddr, port: path.set.params.portPs } };
  }

  /**
   * Requests from the P-CSCF (to port_us). The answer goes back to where the request came from,
   * on the socket it arrived on, which is the reverse SA of TS 33.203 §7.1 (port_us -> port_pc),
   * whatever port the P-CSCF wrote in its Via.
   */
  readonly #onRequest = (msg: SipMessage, rx: RxInfo, tx: ServerTransaction): void => {
    const back: Target = { transport: rx.transport, socketId: rx.socketId, remote: rx.remote, ...(rx.connId === undefined ? {} : { connId: rx.connId }) };
    if (msg.method === 'MESSAGE') {
      this.#node.reply(tx, 200, 'OK', undefined, back);
      this.#onEvent({ event: 'message-received', from: msg.from().uri, to: msg.to().uri, text: msg.body.toString('utf8'), callId: msg.callId() });
      return;
    }
    if (msg.method === 'OPTIONS') this.#node.reply(tx, 200, 'OK', [['Allow', 'MESSAGE, OPTIONS']], back);
    else this.#node.reply(tx, 501, 'Not Implemented', undefined, back);
  };
}

/** The final response of an outcome, or the UeError of a timeout / transport failure. */
function final(o: Outcome): SipMessage {
  if (o.ok) return o.response;
  throw new UeError(o.cause === 'timeout' ? 'UE_TIMEOUT' : 'UE_TRANSPORT', o.message);
}

/** RFC 3261 §10.2.4: the expiry the registrar granted our contact (its Contact's expires, else Expires, else what was asked). */
function grantedExpires(ok: SipMessage, contactUri: string, asked: number): number {
  try {
    const contacts = ok.contacts();
    const ours = contacts === '*' ? undefined : contacts.find((c) => c.uri === contactUri);
    return ours?.expires ?? ok.expires() ?? asked;
  } catch (e) {
    if (e instanceof SipError) return asked;
    throw e;
  }
}

function summary(p: TunnelParams): SaSummary {
  return { spiUc: p.spiUc, spiUs: p.spiUs, spiPc: p.spiPc, spiPs: p.spiPs, portUc: p.portUc, portUs: p.portUs, portPc: p.portPc, portPs: p.portPs, alg: p.alg, ealg: p.ealg };
}
