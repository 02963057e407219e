// Drives test/helpers/net-peer.mjs running inside a namespace: UDP/TCP echo servers and clients
// bound to the exact addresses and ports a test needs.

import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';
import { PeerProcess, type PeerAnswer } from './peer-process.js';

const PEER = fileURLToPath(new URL('./net-peer.mjs', import.meta.url));

export interface Exchange {
  local: string;
  lport: number;
  remote: string;
  rport: number;
  payload: string;
  timeoutMs: number;
}

type Answer = PeerAnswer<string>;

export class NetPeer {
  private constructor(private readonly peer: PeerProcess) {}

  static async start(ns: Netns): Promise<NetPeer> {
    return new NetPeer(await PeerProcess.start(ns, PEER));
  }

  listen(addr: string, port: number): Promise<Answer> {
    return this.peer.request({ cmd: 'listen', addr, port });
  }

  /** One UDP datagram from local:lport to remote:rport; the answer carries the echo or the error ('timeout'). */
  udp(x: Exchange): Promise<Answer> {
    return this.peer.request({ cmd: 'udp', ...x });
  }

  tcp(x: Exchange): Promise<Answer> {
    return this.peer.request({ cmd: 'tcp', ...x });
  }

  close(): void {
    this.peer.close();
  }
}
