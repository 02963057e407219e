// Drives test/helpers/sip-peer.mjs inside a namespace: exact SIP bytes sent from bound UDP sockets
// or new TCP connections, every message received recorded, requests optionally answered.

import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';
import { PeerProcess } from './peer-process.js';

const SCRIPT = fileURLToPath(new URL('./sip-peer.mjs', import.meta.url));

export interface Received {
  /** Rises by one per message received, over all sockets. */
  seq: number;
  /** The socket (or listener) it arrived on, as named at bind(). */
  name: string;
  transport: 'udp' | 'tcp';
  /** `addr:port` of the sender. */
  from: string;
  /** The message as latin1. */
  text: string;
}

export class SipPeer {
  private constructor(private readonly peer: PeerProcess) {}

  static async start(ns: Netns): Promise<SipPeer> {
    return new SipPeer(await PeerProcess.start(ns, SCRIPT));
  }

  /** A UDP socket or a TCP listener on addr:port, named for send() and the log. */
  async bind(name: string, transport: 'udp' | 'tcp', addr: string, port: number): Promise<void> {
    await this.peer.call({ cmd: 'bind', name, transport, addr, port });
  }

  async send(name: string, remote: string, rport: number, data: Uint8Array | string): Promise<void> {
    await this.peer.call({ cmd: 'send', name, remote, rport, data: Buffer.from(data as Uint8Array).toString('base64') });
  }

  /** Opens a TCP connection from `local`, writes `data`; what comes back on it is logged under `name`. */
  async tcpSend(name: string, local: string, remote: string, rport: number, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    await this.peer.call({ cmd: 'tcpSend', name, local, remote, rport, data: bytes.toString('base64') });
  }

  /** Answers requests arriving on `name` (never an ACK): statuses by method, '*' for the others. */
  async answer(name: string, statuses: Readonly<Record<string, number>>): Promise<void> {
    await this.peer.call({ cmd: 'answer', name, statuses });
  }

  /** Everything received after `since` (a seq; 0 for all). */
  log(since = 0): Promise<Received[]> {
    return this.peer.call({ cmd: 'log', since });
  }

  /** The first message after `since` matching `match` (a regular expression, flag m); undefined after `timeoutMs`. */
  async wait(match: RegExp | string, since: number, timeoutMs: number): Promise<Received | undefined> {
    const a = await this.peer.request<Received>({ cmd: 'wait', since, match: typeof match === 'string' ? match : match.source, timeoutMs });
    if (a.ok) return a.reply;
    if (a.error === 'timeout') return undefined;
    throw new Error(`sip-peer wait failed: ${a.error}`);
  }

  /** The seq of the last message received so far. */
  last(): Promise<number> {
    return this.peer.call({ cmd: 'last' });
  }

  close(): void {
    this.peer.close();
  }
}
