// The messages between XfrmClient (main thread) and the netlink worker. Structured-clone data only.

import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';
import type { GroupResult, OpResult, XfrmPolicy, XfrmSa, XfrmSaId } from './xfrm-types.js';

export interface WorkerInit {
  netns?: string;
  marker: number;
  timeoutMs: number;
  batchMax: number;
  peerPortId?: number;
  bufferBytes?: number;
  stats: SharedArrayBuffer;
}

export interface AlgorithmCheck {
  alg: AuthAlg;
  ealg: EncAlg;
  /** The kernel crypto algorithms the pair needs. */
  kernelNames: string[];
  ok: boolean;
  errnoName?: string;
  message: string;
}

export interface KernelCapabilities {
  /** An ESP SA can be created for IPv4 / IPv6 (esp4 / esp6 present). */
  esp: { ipv4: boolean; ipv6: boolean };
  algorithms: AlgorithmCheck[];
  /** ESP for both families and every requested algorithm pair works. */
  ok: boolean;
  /** One paragraph for the operator: what is missing and how to check. */
  message: string;
}

export type AlgPair = readonly [AuthAlg, EncAlg];

/** A failure travelling back from the worker: SyscallError or NetlinkRequestError fields. */
export interface WireError {
  code: string;
  message: string;
  op?: string;
  errno?: number;
  errnoName?: string;
}

export type ToWorker =
  /**
   * Groups encoded by the client, all in one transferred buffer: `groups` holds pairs
   * (id, number of messages); each group's messages follow the previous group's.
   */
  | { kind: 'submit'; groups: number[]; bytes: ArrayBuffer; length: number }
  | { kind: 'dump'; id: number; what: 'sa' | 'policy'; ours: boolean }
  | { kind: 'getSa'; id: number; sa: XfrmSaId }
  | { kind: 'deleteOurs'; id: number }
  | { kind: 'probe'; id: number; pairs: AlgPair[] }
  | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready'; portId: number; sendBufferBytes: number; receiveBufferBytes: number }
  | { kind: 'startFailed'; error: WireError }
  /**
   * Results of the groups settled by one batch: ids of those that fully succeeded, the rest in
   * full; and the submit buffers whose groups are all settled, transferred back for reuse.
   */
  | { kind: 'groups'; ok: number[]; failed: { id: number; result: GroupResult }[]; recycled: ArrayBuffer[] }
  | { kind: 'dump'; id: number; sas?: XfrmSa[]; policies?: XfrmPolicy[] }
  | { kind: 'sa'; id: number; sa: XfrmSa | undefined }
  | { kind: 'deleted'; id: number; sas: number; policies: number; errors: OpResult[] }
  | { kind: 'probe'; id: number; capabilities: KernelCapabilities }
  | { kind: 'failed'; id: number; error: WireError }
  | { kind: 'closed' };
