// Choice of the P-CSCF protected ports (port_pc, port_ps) for a new SA set.
//
// The ports are shared by many UEs: the kernel tells SAs apart by the UE's address and ports and
// by SPI, so a port is never "taken". Each is picked round-robin from its range,
// [ipsec_client_port, +ipsec_max_connections) and [ipsec_server_port, +ipsec_max_connections),
// with one shared cursor per range (Atomics.add: each caller gets its own ticket, no lock).
// The cursor is a u32 ticket reduced modulo the range size; when it wraps after 2^32 choices the
// sequence restarts at the range's start, which only perturbs the rotation once.
//
// Re-registration (TS 33.203 §7.4): the new SA set keeps the old port_ps, so the UE keeps sending
// to the same server port, and gets a port_pc different from the old one whenever the range has
// more than one port, so the old and new SA sets never share a client-side selector. Without
// reuse (ipsec_reuse_server_port = 0) the server port also differs from the old one.

import { SharedStateError } from './errors.js';
import { headerBytes, magic, readHeader, RegionPlanner, requireInteger, writeHeader } from './shared-layout.js';

export interface ProtectedPortOptions {
  /** ipsec_client_port: first P-CSCF protected client port (port_pc). */
  readonly clientPort: number;
  /** ipsec_server_port: first P-CSCF protected server port (port_ps). */
  readonly serverPort: number;
  /** ipsec_max_connections: size of each range. */
  readonly maxConnections: number;
}

export interface PortPair {
  readonly portPc: number;
  readonly portPs: number;
}

const MAGIC = magic('PPRT');
const CLIENT = 0;
const SERVER = 1;

export class ProtectedPorts {
  private readonly cursors: Int32Array;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly clientPort: number,
    readonly serverPort: number,
    readonly maxConnections: number,
  ) {
    this.cursors = new Int32Array(buffer, layout().cursors, 2);
  }

  static create(options: ProtectedPortOptions): ProtectedPorts {
    const n = requireInteger('ipsec_max_connections', options?.maxConnections, 1, 65535);
    const client = requireInteger('ipsec_client_port', options?.clientPort, 1, 65536 - n);
    const server = requireInteger('ipsec_server_port', options?.serverPort, 1, 65536 - n);
    if (Math.abs(client - server) < n) {
      throw new SharedStateError('PORT_RANGES_OVERLAP',
        `protected client ports [${client}, ${client + n - 1}] and server ports [${server}, ${server + n - 1}] overlap: ` +
        `set ipsec_client_port and ipsec_server_port at least ipsec_max_connections (${n}) apart`);
    }
    const buffer = new SharedArrayBuffer(layout().byteLength);
    writeHeader(buffer, MAGIC, [client, server, n]);
    return new ProtectedPorts(buffer, client, server, n);
  }

  static attach(buffer: SharedArrayBuffer): ProtectedPorts {
    const [client, server, n] = readHeader(buffer, MAGIC, 3, 'ProtectedPorts') as [number, number, number];
    return new ProtectedPorts(buffer, client, server, n);
  }

  /**
   * Ports for a new SA set. `previous` is the set being replaced on re-registration; with
   * `reuseServerPort` (ipsec_reuse_server_port) its port_ps is kept when it still lies in the
   * configured server range.
   */
  choose(previous?: PortPair, reuseServerPort = true): PortPair {
    const keepServer = previous !== undefined && reuseServerPort && this.inRange(previous.portPs, this.serverPort);
    const portPs = keepServer ? previous.portPs : this.next(SERVER, this.serverPort, previous?.portPs);
    const portPc = this.next(CLIENT, this.clientPort, previous?.portPc);
    return { portPc, portPs };
  }

  private next(which: number, first: number, avoid: number | undefined): number {
    const n = this.maxConnections;
    let i = (Atomics.add(this.cursors, which, 1) >>> 0) % n;
    if (first + i === avoid && n > 1) i = (i + 1) % n;
    return first + i;
  }

  private inRange(port: number, first: number): boolean {
    return port >= first && port < first + this.maxConnections;
  }
}

function layout(): { cursors: number; byteLength: number } {
  const plan = new RegionPlanner();
  plan.take(headerBytes(3));
  const cursors = plan.take(8);
  return { cursors, byteLength: plan.byteLength };
}
