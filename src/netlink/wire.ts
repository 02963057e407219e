// Fixed-width integers into a Buffer for the encoders, which write some thirty of them per op:
// byte stores behind one range check each. Buffer's writeUInt32LE and kin cost ~3x as much
// (argument validation, then the stores), and Buffer.fill is a call into C++: together they were
// a third of the time to encode a policy. Out-of-range values throw RangeError, as Buffer's do;
// the op encoders turn it into XfrmRecordError.

function outOfRange(value: number, type: string): never {
  throw new RangeError(`${String(value)} is out of range for ${type}`);
}

export function writeU8(buf: Buffer, off: number, v: number): void {
  if ((v & 0xff) !== v) outOfRange(v, 'u8');
  buf[off] = v;
}

export function writeU16LE(buf: Buffer, off: number, v: number): void {
  if ((v & 0xffff) !== v) outOfRange(v, 'u16');
  buf[off] = v;
  buf[off + 1] = v >>> 8;
}

export function writeU16BE(buf: Buffer, off: number, v: number): void {
  if ((v & 0xffff) !== v) outOfRange(v, 'u16');
  buf[off] = v >>> 8;
  buf[off + 1] = v;
}

export function writeU32LE(buf: Buffer, off: number, v: number): void {
  if (v >>> 0 !== v) outOfRange(v, 'u32');
  buf[off] = v;
  buf[off + 1] = v >>> 8;
  buf[off + 2] = v >>> 16;
  buf[off + 3] = v >>> 24;
}

export function writeU32BE(buf: Buffer, off: number, v: number): void {
  if (v >>> 0 !== v) outOfRange(v, 'u32');
  buf[off] = v >>> 24;
  buf[off + 1] = v >>> 16;
  buf[off + 2] = v >>> 8;
  buf[off + 3] = v;
}

export function writeI32LE(buf: Buffer, off: number, v: number): void {
  if ((v | 0) !== v) outOfRange(v, 'i32');
  buf[off] = v;
  buf[off + 1] = v >>> 8;
  buf[off + 2] = v >>> 16;
  buf[off + 3] = v >>> 24;
}

/** Zeroes `buf[from, to)`: the few bytes of padding and reserved fields of each op. */
export function zeroBytes(buf: Buffer, from: number, to: number): void {
  for (let p = from; p < to; p++) buf[p] = 0;
}
