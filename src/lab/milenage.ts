// MILENAGE, the example algorithm set for the 3GPP authentication and key generation functions
// f1, f1*, f2, f3, f4, f5 and f5* (3GPP TS 35.206 §4), with AES-128 as the kernel function E[.]K
// (TS 35.206 §3). Byte strings are big-endian bit strings: bit 0 is the top bit of octet 0.

import { createCipheriv, type Cipher } from 'node:crypto';
import { expectBytes } from './errors.js';

export const K_LENGTH = 16;
export const OP_LENGTH = 16;
export const RAND_LENGTH = 16;
export const SQN_LENGTH = 6;
export const AMF_LENGTH = 2;
export const MAC_LENGTH = 8;
export const RES_LENGTH = 8;
export const AK_LENGTH = 6;

const BLOCK = 16;

// TS 35.206 §4.1: the rotations r1..r5 (in bits, all multiples of 8) and the constants c1..c5,
// which are zero except for their last octet.
const R_OCTETS = [64 / 8, 0 / 8, 32 / 8, 64 / 8, 96 / 8] as const;
const C_LAST_OCTET = [0x00, 0x01, 0x02, 0x04, 0x08] as const;

/** What f2, f3, f4 and f5 produce from one RAND (TS 35.206 §4.1). */
export interface F2345 {
  /** f2: RES, 64 bits (OUT2 bits 64..127). */
  readonly res: Buffer;
  /** f3: CK, 128 bits (OUT3). */
  readonly ck: Buffer;
  /** f4: IK, 128 bits (OUT4). */
  readonly ik: Buffer;
  /** f5: AK, 48 bits (OUT2 bits 0..47). */
  readonly ak: Buffer;
}

/** OPc = OP xor E[OP]K (TS 35.206 §4.1). */
export function opcFromOp(k: Uint8Array, op: Uint8Array): Buffer {
  expectBytes('K', k, K_LENGTH);
  expectBytes('OP', op, OP_LENGTH);
  const opc = encryptBlock(aes(k), op);
  xorInto(opc, op);
  return opc;
}

/** The MILENAGE functions for one subscriber, keyed by K and OPc. */
export class Milenage {
  readonly opc: Buffer;
  readonly #cipher: Cipher;

  constructor(k: Uint8Array, opc: Uint8Array) {
    expectBytes('K', k, K_LENGTH);
    this.opc = Buffer.from(expectBytes('OPc', opc, OP_LENGTH));
    this.#cipher = aes(k);
  }

  /** For an operator that provisions OP rather than OPc. */
  static fromOp(k: Uint8Array, op: Uint8Array): Milenage {
    return new Milenage(k, opcFromOp(k, op));
  }

  /** f1: the network authentication code MAC-A (OUT1 bits 0..63). */
  f1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    return this.#out1(rand, sqn, amf).subarray(0, MAC_LENGTH);
  }

  /** f1*: the resynchronisation authentication code MAC-S (OUT1 bits 64..127). */
  f1star(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    return this.#out1(rand, sqn, amf).subarray(MAC_LENGTH, 2 * MAC_LENGTH);
  }

  /** f2, f3, f4 and f5, which share TEMP and OUT2. */
  f2345(rand: Uint8Array): F2345 {
    const temp = this.#temp(rand);
    const out2 = this.#out(temp, 2);
    return {
      res: out2.subarray(BLOCK - RES_LENGTH),
      ck: this.#out(temp, 3),
      ik: this.#out(temp, 4),
      ak: out2.subarray(0, AK_LENGTH),
    };
  }

  /** f5*: the resynchronisation anonymity key AK* (OUT5 bits 0..47). */
  f5star(rand: Uint8Array): Buffer {
    return this.#out(this.#temp(rand), 5).subarray(0, AK_LENGTH);
  }

  // TEMP = E[RAND xor OPc]K
  #temp(rand: Uint8Array): Buffer {
    expectBytes('RAND', rand, RAND_LENGTH);
    const x = Buffer.from(rand);
    xorInto(x, this.opc);
    return encryptBlock(this.#cipher, x);
  }

  // IN1 = SQN || AMF || SQN || AMF;
  // OUT1 = E[TEMP xor rot(IN1 xor OPc, r1) xor c1]K xor OPc
  #out1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Buffer {
    expectBytes('SQN', sqn, SQN_LENGTH);
    expectBytes('AMF', amf, AMF_LENGTH);
    const temp = this.#temp(rand);
    const in1 = Buffer.allocUnsafe(BLOCK);
    in1.set(sqn, 0);
    in1.set(amf, SQN_LENGTH);
    in1.copyWithin(BLOCK / 2, 0, BLOCK / 2);
    const block = this.#rotatedXorOpc(in1, 1);
    xorInto(block, temp);
    return this.#finish(block);
  }

  // OUTi = E[rot(TEMP xor OPc, ri) xor ci]K xor OPc, for i = 2..5
  #out(temp: Buffer, i: 2 | 3 | 4 | 5): Buffer {
    return this.#finish(this.#rotatedXorOpc(temp, i));
  }

  // rot(x xor OPc, ri) xor ci. rot(x, r) rotates x by r bits towards the most significant bit:
  // bit j of the result is bit (j + r) mod 128 of x.
  #rotatedXorOpc(x: Buffer, i: 1 | 2 | 3 | 4 | 5): Buffer {
    const shift = R_OCTETS[i - 1]!;
    const out = Buffer.allocUnsafe(BLOCK);
    for (let j = 0; j < BLOCK; j++) {
      const from = (j + shift) % BLOCK;
      out[j] = x[from]! ^ this.opc[from]!;
    }
    out[BLOCK - 1]! ^= C_LAST_OCTET[i - 1]!;
    return out;
  }

  #finish(block: Buffer): Buffer {
    const out = encryptBlock(this.#cipher, block);
    xorInto(out, this.opc);
    return out;
  }
}

// AES-128 in ECB mode without padding is the bare block function: each 16-octet update() is one
// E[.]K, and the cipher keeps no state between blocks, so one cipher serves every call.
function aes(k: Uint8Array): Cipher {
  const cipher = createCipheriv('aes-128-ecb', k, null);
  cipher.setAutoPadding(false);
  return cipher;
}

function encryptBlock(cipher: Cipher, block: Uint8Array): Buffer {
  return cipher.update(block);
}

function xorInto(target: Buffer, other: Uint8Array): void {
  for (let j = 0; j < target.length; j++) target[j]! ^= other[j]!;
}
