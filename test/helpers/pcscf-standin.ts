// A stand-in for the P-CSCF's IPsec side, for the lab UE's tests until the product's lands: a small
// stateful proxy between the UE and the lab S-CSCF that does what TS 33.203 §7 asks of a P-CSCF
// and nothing more.
//   - the unprotected REGISTER's Security-Client is remembered; on the S-CSCF's 401 the P-CSCF's
//     4 SAs and 4 policies (buildPcscfSaSet) are installed, ck / ik removed, Security-Server added;
//   - requests over the SAs arrive on port_ps from the UE's port_uc; a REGISTER there must carry
//     Security-Verify = the Security-Server sent (and, answering the challenge, the first
//     Security-Client), else 494; responses go back the way the request came (port_ps -> port_uc);
//   - the 200 to the protected REGISTER makes its set the UE's one and removes the older ones; the
//     200 to a de-REGISTER removes them all (after it has left over them);
//   - requests from the core follow the Request-URI (the UE's contact, port_us) over the UE's set,
//     from port_pc.
// One address serves both sides. Not the product: no transaction table of its own beyond the lab
// SipNode, no expiry, no shared memory.

import { buildPcscfSaSet, createOps, deleteOps, saSetIds, type TunnelParams } from '../../src/ipsec/sa-set.js';
import type { RxInfo, Target, Transport } from '../../src/engine/plan.js';
import { newBranch, nextHopOf, uriHost } from '../../src/lab/requests.js';
import { SipNode, type SocketGroup } from '../../src/lab/sip-node.js';
import type { XfrmSubmitter } from '../../src/lab/ue.js';
import {
  buildSecurityServer, extractAkaKeys, KeyError, NoOffer, parseSecurityHeader, sameSecurityClient, selectOffer, verifyMatchesServer,
  type IpsecOffer,
} from '../../src/secagree/index.js';
import { AUTH_ALGS, ENC_ALGS } from '../../src/ipsec/algorithms.js';
import type { MessageEditor, SipMessage } from '../../src/sip/index.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';

export interface StandinOptions {
  /** The P-CSCF's address towards the UE and the core (IPv6 without brackets). */
  readonly addr: string;
  /** Unprotected port, UDP and TCP. */
  readonly port: number;
  /** port_ps, the same for every set (TS 33.203 §7.4 keeps it). */
  readonly serverPort: number;
  /** port_pc alternates between these, one per set of a UE. */
  readonly clientPorts: readonly [number, number];
  /** The P-CSCF's SPI pairs are (spiBase + 2k, spiBase + 2k + 1), k = 0, 1, ... */
  readonly spiBase: number;
  /** The S-CSCF (registrar), over UDP. */
  readonly scscf: { readonly addr: string; readonly port: number };
  readonly xfrm: XfrmSubmitter;
  readonly marker: number;
  /** Answer the UE with this status instead of relaying the 401 (what a P-CSCF that cannot create SAs does). */
  readonly failChallengeWith?: number;
  /** Rewrites the Security-Server value before it goes to the UE. */
  readonly editSecurityServer?: (value: string) => string;
}

type SetState = 'temporary' | 'active';

export interface StandinSet {
  readonly params: TunnelParams;
  /** The Security-Server value sent with the 401. */
  readonly server: string;
  /** The Security-Client of the REGISTER the 401 answered. */
  readonly client: readonly string[];
  state: SetState;
}

const ALL_ALGORITHMS = { allowedAuth: AUTH_ALGS, allowedEnc: ENC_ALGS };
const setKey = (addr: string, portUc: number): string => `${addr} ${portUc}`;

export class PcscfStandin {
  readonly #o: StandinOptions;
  readonly #node = new SipNode();
  readonly #sets = new Map<string, StandinSet>();
  #unprotected!: SocketGroup;
  #protectedServer!: SocketGroup;
  readonly #clients: SocketGroup[] = [];
  #nextSpi: number;
  /** What the tests look at. */
  readonly log = { created: [] as TunnelParams[], deleted: [] as TunnelParams[], verifyMismatches: 0, forwardedToUe: 0 };

  private constructor(o: StandinOptions) {
    this.#o = o;
    this.#nextSpi = o.spiBase;
  }

  static async start(o: StandinOptions): Promise<PcscfStandin> {
    const p = new PcscfStandin(o);
    const both = (port: number, role: 'unprotected' | 'protected-server') => [
      { transport: 'udp' as const, addr: o.addr, port, role, listening: true },
      { transport: 'tcp' as const, addr: o.addr, port, role, listening: true },
    ];
    p.#unprotected = await p.#node.open(both(o.port, 'unprotected'), p.#onRequest);
    p.#protectedServer = await p.#node.open(both(o.serverPort, 'protected-server'), p.#onRequest);
    for (const port of o.clientPorts) {
      p.#clients.push(await p.#node.open([
        { transport: 'udp', addr: o.addr, port, role: 'protected-client', listening: true },
        { transport: 'tcp', addr: o.addr, port, role: 'protected-client', listening: false },
      ], p.#onRequest));
    }
    return p;
  }

  /** The SA sets it holds now. */
  sets(): StandinSet[] {
    return [...this.#sets.values()];
  }

  /** Removes every set and closes the sockets. */
  async close(): Promise<void> {
    for (const s of [...this.#sets.values()]) await this.#delete(s);
    await this.#node.close();
  }

  readonly #onRequest = (msg: SipMessage, rx: RxInfo, tx: ServerTransaction): void => {
    void this.#route(msg, rx, tx).catch(() => this.#node.reply(tx, 500, 'Stand-in Failure'));
  };

  async #route(msg: SipMessage, rx: RxInfo, tx: ServerTransaction): Promise<void> {
    if (rx.local.port === this.#o.serverPort) return this.#fromUeProtected(msg, rx, tx);
    if (rx.local.port !== this.#o.port) return this.#node.reply(tx, 403, 'Not On A Client Port');
    if (rx.remote.addr === this.#o.scscf.addr && rx.remote.port === this.#o.scscf.port) return this.#terminating(msg, tx);
    if (msg.method !== 'REGISTER') return this.#node.reply(tx, 403, 'Only REGISTER Unprotected');
    return this.#register(msg, rx, tx, undefined);
  }

  /** A request over the SAs: it must come from the port_uc of a set, to port_ps. */
  async #fromUeProtected(msg: SipMessage, rx: RxInfo, tx: ServerTransaction): Promise<void> {
    const set = this.#sets.get(setKey(rx.remote.addr, rx.remote.port));
    const back = symmetric(rx);
    if (set === undefined) return this.#node.reply(tx, 403, 'No Security Association', undefined, back);
    if (msg.method === 'REGISTER') {
      // TS 33.203 §7.2 / Annex H: Security-Verify mirrors the Security-Server; the REGISTER answering
      // the challenge repeats the Security-Client that was challenged.
      const verify = verifyMatchesServer(msg.fieldValues('security-verify'), set.server);
      const client = set.state === 'temporary' ? sameSecurityClient(set.client, msg.fieldValues('security-client')) : true;
      if (verify !== true || client !== true) {
        this.log.verifyMismatches++;
        return this.#node.reply(tx, 494, 'Security Agreement Required', undefined, back);
      }
      return this.#register(msg, rx, tx, set);
    }
    const ed = msg.edit();
    const route = msg.values('route')[0];
    if (route !== undefined && route.text.includes(`:${this.#o.serverPort}`)) ed.removeValue(route);
    const response = await this.#forward(ed, this.#o.scscf);
    this.#relay(tx, response, back);
  }

  async #register(msg: SipMessage, rx: RxInfo, tx: ServerTransaction, over: StandinSet | undefined): Promise<void> {
    const back = over === undefined ? undefined : symmetric(rx);
    const clientValues = msg.fieldValues('security-client');
    let offer: IpsecOffer | undefined;
    if (clientValues.length > 0) {
      const selected = selectOffer(parseSecurityHeader(clientValues), ALL_ALGORITHMS);
      if (selected instanceof NoOffer) return this.#node.reply(tx, 494, 'No Usable Offer', undefined, back);
      offer = selected.offer;
    }
    const ed = msg.edit();
    for (const f of [...msg.fields('security-client'), ...msg.fields('security-verify')]) ed.removeField(f);
    for (const v of [...msg.values('require'), ...msg.values('proxy-require')]) if (v.text.toLowerCase() === 'sec-agree') ed.removeValue(v);
    for (const f of msg.fields('authorization')) {
      ed.removeAuthParams(f, ['integrity-protected']);
      ed.appendToField(f, `, integrity-protected="${over === undefined ? 'no' : 'yes'}"`);
    }
    ed.addHeader('Path', `<sip:term@${uriHost(this.#o.addr)}:${this.#o.port};lr>`);
    const response = await this.#forward(ed, this.#o.scscf);
    if (response === undefined) return this.#node.reply(tx, 408, 'Request Timeout', undefined, back);

    if (response.status === 401 && offer !== undefined) return this.#challenge(tx, response, rx.remote.addr, offer, clientValues, back);
    this.#relay(tx, response, back);
    if (response.status < 200 || response.status >= 300 || over === undefined) return;
    // The 200 must leave over the SAs before they go. Node hands the datagram (or the TCP write)
    // to the kernel on a later tick, and the netlink worker runs in parallel: without waiting one
    // turn of the event loop the delete can win, and the 200 leaves unprotected and is dropped by
    // the UE's policy (what Kamailio's example configuration does, kamailio-behaviour.md §13).
    await new Promise((resolve) => setImmediate(resolve));
    const deregistration = msg.expires() === 0 || (msg.contacts() !== '*' && (msg.contacts() as readonly { expires?: number }[]).every((c) => c.expires === 0));
    for (const s of [...this.#sets.values()]) {
      if (s.params.ueAddr !== over.params.ueAddr || s.params.portUs !== over.params.portUs) continue;
      if (s === over && !deregistration) s.state = 'active';
      else await this.#delete(s);
    }
  }

  /** ipsec_create: the SAs first, then the 401 without ck / ik and with Security-Server. */
  async #challenge(tx: ServerTransaction, response: SipMessage, ueAddr: string, offer: IpsecOffer, client: readonly string[], back: Target | undefined): Promise<void> {
    if (this.#o.failChallengeWith !== undefined) return this.#node.reply(tx, this.#o.failChallengeWith, 'Service Unavailable', undefined, back);
    const www = response.fields('www-authenticate');
    const keys = extractAkaKeys(www[0]?.value ?? '');
    if (keys instanceof KeyError) return this.#node.reply(tx, 500, 'No AKA Keys', undefined, back);
    const previous = this.#sets.get(setKey(ueAddr, offer.portC));
    if (previous !== undefined) await this.#delete(previous);
    const others = this.sets().filter((s) => s.params.ueAddr === ueAddr && s.params.portUs === offer.portS);
    const portPc = others.some((s) => s.params.portPc === this.#o.clientPorts[0]) ? this.#o.clientPorts[1] : this.#o.clientPorts[0];
    const spiPc = this.#nextSpi;
    this.#nextSpi += 2;
    const params: TunnelParams = {
      family: ueAddr.includes(':') ? 6 : 4, pcscfAddr: this.#o.addr, ueAddr,
      spiUc: offer.spiC, spiUs: offer.spiS, spiPc, spiPs: spiPc + 1,
      portUc: offer.portC, portUs: offer.portS, portPc, portPs: this.#o.serverPort,
      alg: offer.alg, ealg: offer.ealg, ck: keys.ck, ik: keys.ik, marker: this.#o.marker,
    };
    const result = await this.#o.xfrm.submit(createOps(buildPcscfSaSet(params)));
    if (!result.ok) return this.#node.reply(tx, 503, 'SA Creation Failed', undefined, back);
    const server = buildSecurityServer({ spiPc, spiPs: spiPc + 1, portPc, portPs: this.#o.serverPort, alg: offer.algText, ealg: offer.ealgText });
    this.#sets.set(setKey(ueAddr, offer.portC), { params, server, client, state: 'temporary' });
    this.log.created.push(params);
    const ed = response.edit();
    ed.removeTopVia();
    for (const f of www) ed.removeAuthParams(f, ['ck', 'ik']);
    ed.addHeader('Supported', 'sec-agree');
    ed.addHeader('Security-Server', this.#o.editSecurityServer?.(server) ?? server);
    this.#node.respond(tx, ed.serialize(), 401, back);
  }

  /** A request from the core towards a UE: over the UE's active set, from port_pc to port_us. */
  async #terminating(msg: SipMessage, tx: ServerTransaction): Promise<void> {
    const ed = msg.edit();
    const route = msg.values('route')[0];
    if (route !== undefined && route.text.includes('term@')) ed.removeValue(route);
    const hop = nextHopOf(msg.requestUri);
    const set = hop === undefined ? undefined : this.sets().find((s) => s.state === 'active' && s.params.ueAddr === hop.addr && s.params.portUs === hop.port);
    if (hop === undefined || set === undefined) return this.#node.reply(tx, 480, 'Temporarily Unavailable');
    const client = this.#clients[this.#o.clientPorts.indexOf(set.params.portPc)]!;
    const response = await this.#forward(ed, { addr: set.params.ueAddr, port: set.params.portUs }, hop.transport, client, set.params.portPc);
    this.log.forwardedToUe++;
    this.#relay(tx, response, undefined);
  }

  /** Adds our Via and sends the request statefully; the final response, or undefined on a timeout. */
  async #forward(ed: MessageEditor, to: { addr: string; port: number }, transport: Transport = 'udp', from: SocketGroup = this.#unprotected, viaPort = this.#o.port): Promise<SipMessage | undefined> {
    const branch = newBranch();
    ed.prependVia(`SIP/2.0/${transport.toUpperCase()} ${uriHost(this.#o.addr)}:${viaPort};branch=${branch}`);
    ed.decrementMaxForwards();
    const bytes = ed.serialize();
    const method = bytes.toString('latin1', 0, bytes.indexOf(0x20));
    const outcome = await this.#node.request({ bytes, branch, method }, { transport, socketId: from.socket(transport)!.id, remote: to });
    return outcome.ok ? outcome.response : undefined;
  }

  #relay(tx: ServerTransaction, response: SipMessage | undefined, back: Target | undefined): void {
    if (response === undefined) return this.#node.reply(tx, 408, 'Request Timeout', undefined, back);
    const ed = response.edit();
    ed.removeTopVia();
    this.#node.respond(tx, ed.serialize(), response.status, back);
  }

  async #delete(s: StandinSet): Promise<void> {
    this.#sets.delete(setKey(s.params.ueAddr, s.params.portUc));
    await this.#o.xfrm.submit(deleteOps(saSetIds(s.params, 'pcscf')));
    this.log.deleted.push(s.params);
  }
}

/** Back to where a request came from, on the socket (or connection) it arrived on. */
function symmetric(rx: RxInfo): Target {
  return { transport: rx.transport, socketId: rx.socketId, remote: rx.remote, ...(rx.connId === undefined ? {} : { connId: rx.connId }) };
}
