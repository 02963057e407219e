// Carving one SharedArrayBuffer into the regions of a structure, and the self-describing header
// that lets a worker attach() to it with nothing but the buffer.
//
// Header: word 0 = magic (names the structure), word 1 = layout version, then the structure's
// parameters. attach() refuses a buffer whose magic or version differs, so a worker built from
// another revision of this code cannot misread the layout.

import { SharedStateError } from './errors.js';

const LAYOUT_VERSION = 1;
const HEADER_FIXED = 2;

/** Hands out byte offsets in order, 8-byte aligned (so BigInt64Array views are legal) or more. */
export class RegionPlanner {
  private end = 0;
  take(bytes: number, align = 8): number {
    const at = Math.ceil(this.end / align) * align;
    this.end = at + Math.ceil(bytes / 8) * 8;
    return at;
  }
  get byteLength(): number {
    return this.end;
  }
}

export function headerBytes(paramCount: number): number {
  return (HEADER_FIXED + paramCount) * 4;
}

export function writeHeader(buffer: SharedArrayBuffer, magic: number, params: readonly number[]): void {
  const h = new Int32Array(buffer, 0, HEADER_FIXED + params.length);
  h[0] = magic;
  h[1] = LAYOUT_VERSION;
  for (let i = 0; i < params.length; i++) h[HEADER_FIXED + i] = params[i]!;
}

/** Reads the parameters written by writeHeader, after checking that the buffer is the named structure. */
export function readHeader(buffer: unknown, magic: number, paramCount: number, what: string): number[] {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < headerBytes(paramCount)) {
    throw new SharedStateError('BAD_SHARED_BUFFER', `${what}: expected the SharedArrayBuffer made by ${what}.create()`);
  }
  const h = new Int32Array(buffer, 0, HEADER_FIXED + paramCount);
  if (h[0] !== magic || h[1] !== LAYOUT_VERSION) {
    throw new SharedStateError('BAD_SHARED_BUFFER', `${what}: buffer has magic 0x${(h[0]! >>> 0).toString(16)} version ${h[1]}, expected 0x${(magic >>> 0).toString(16)} version ${LAYOUT_VERSION}`);
  }
  return Array.from(h.subarray(HEADER_FIXED));
}

/** A four-character tag as an int32, e.g. magic('SPIA'). */
export function magic(tag: string): number {
  return (tag.charCodeAt(0) | (tag.charCodeAt(1) << 8) | (tag.charCodeAt(2) << 16) | (tag.charCodeAt(3) << 24)) | 0;
}

export function requireInteger(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SharedStateError('BAD_OPTIONS', `${what} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
