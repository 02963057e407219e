// IP address text <-> the 4 or 16 network-order bytes the kernel stores (xfrm_address_t holds
// either). Text out is what inet_ntop prints (RFC 5952), so it compares equal to iproute2 output.

import { XfrmRecordError } from './errors.js';

/** Writes IPv4 `text` as 4 bytes at `off`; throws XfrmRecordError naming `field` when it is not one. */
export function writeIPv4(buf: Buffer, off: number, text: string, field: string): void {
  // By hand rather than a regex: this runs for every address of every op.
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && value <= 255 && part < 4) {
      buf[off + part++] = value;
      value = 0;
      digits = 0;
    } else {
      part = -1;
      break;
    }
  }
  if (part !== 4) throw new XfrmRecordError(field, `not an IPv4 address: ${JSON.stringify(text)}`);
}

/** Writes IPv6 `text` (with `::` and an optional dotted IPv4 tail) as 16 bytes at `off`. */
export function writeIPv6(buf: Buffer, off: number, text: string, field: string): void {
  const bad = (): never => { throw new XfrmRecordError(field, `not an IPv6 address: ${JSON.stringify(text)}`); };
  let tail = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    // A dotted IPv4 tail stands for the last two groups.
    const v4 = Buffer.alloc(4);
    writeIPv4(v4, 0, text.slice(lastColon + 1), field);
    tail = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = tail.split('::');
  if (halves.length > 2) bad();
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad();
    return parseInt(g, 16);
  }));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  let groups = head;
  if (halves.length === 2) {
    if (head.length + rest.length > 7) bad();
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else if (head.length !== 8) {
    bad();
  }
  for (let i = 0; i < 8; i++) buf.writeUInt16BE(groups[i]!, off + 2 * i);
}

export function readIPv4(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function readIPv6(buf: Buffer, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(off + 2 * i));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${readIPv4(buf, off + 12)}`;
  }
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
