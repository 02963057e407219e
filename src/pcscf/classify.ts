// Which side a request comes from: a source address inside `sip.trusted_peers` is a node of the IMS
// core (I-CSCF, S-CSCF, AS), anything else is a UE (TS 24.229 §5.2: the P-CSCF is the UE's first
// hop; requests from the core towards a UE are "terminating"). What arrives on a protected port
// always comes from the UE that owns the SA (decide.ts).
//
// One check per message, so the matcher works on numbers: IPv4 networks as (address, mask) pairs
// of 32-bit words, IPv6 networks as four words each. node:net's BlockList does the same job at
// ~1.7 us per check (measured here), about the cost of a whole decision, hence this.

export type Side = 'ue' | 'core';

const V4_MAPPED_PREFIX = '::ffff:';

/** An IPv4 literal as an unsigned 32-bit number, or -1. */
export function ipv4ToNumber(s: string, start = 0, end = s.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 3 || (digits > 0 && part === 0)) return -1; // at most 3 digits, no leading zero
      part = part * 10 + (c - 0x30);
      digits++;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/** Fills `out` with the eight 16-bit groups of an IPv6 literal (brackets and zone not allowed); false when it is not one. */
export function ipv6ToGroups(s: string, out: Uint16Array): boolean {
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let elided = false;
  let i = 0;
  if (s.startsWith('::')) {
    elided = true;
    groups = tail;
    i = 2;
  }
  while (i < s.length) {
    let j = i;
    let value = 0;
    while (j < s.length && j - i < 5) {
      const c = s.charCodeAt(j);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) break;
      value = value * 16 + d;
      j++;
    }
    if (j < s.length && s.charCodeAt(j) === 0x2e) {
      const v4 = ipv4ToNumber(s, i, s.length);
      if (v4 < 0) return false;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = s.length;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups.push(value);
    if (j === s.length) {
      i = j;
      break;
    }
    if (s.charCodeAt(j) !== 0x3a) return false;
    if (s.charCodeAt(j + 1) === 0x3a) {
      if (elided) return false;
      elided = true;
      groups = tail;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === s.length) return false;
    }
  }
  const total = head.length + tail.length;
  if (elided ? total > 7 : total !== 8) return false;
  out.fill(0);
  for (let k = 0; k < head.length; k++) out[k] = head[k]!;
  for (let k = 0; k < tail.length; k++) out[8 - tail.length + k] = tail[k]!;
  return true;
}

/** The set of core addresses: `sip.trusted_peers` (IP literals and CIDRs, validated by the configuration). */
export class TrustedPeers {
  /** [network, mask] pairs, unsigned. */
  private readonly v4: number[] = [];
  /** Per network: 8 groups of the address, then the prefix length. */
  private readonly v6: Uint16Array[] = [];
  private readonly v6Prefix: number[] = [];
  private readonly groups = new Uint16Array(8);

  constructor(peers: readonly string[]) {
    for (const peer of peers) {
      const slash = peer.indexOf('/');
      const addr = slash < 0 ? peer : peer.slice(0, slash);
      const v4 = ipv4ToNumber(addr);
      if (v4 >= 0) {
        const bits = slash < 0 ? 32 : Number(peer.slice(slash + 1));
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        this.v4.push((v4 & mask) >>> 0, mask);
      } else if (ipv6ToGroups(addr, this.groups)) {
        this.v6.push(this.groups.slice());
        this.v6Prefix.push(slash < 0 ? 128 : Number(peer.slice(slash + 1)));
      }
    }
  }

  /** Whether `addr` (an IP literal as the transport reports it; IPv4-mapped IPv6 counts as IPv4) is a core node. */
  has(addr: string): boolean {
    const v4 = ipv4ToNumber(addr.startsWith(V4_MAPPED_PREFIX) ? addr.slice(V4_MAPPED_PREFIX.length) : addr);
    if (v4 >= 0) {
      for (let k = 0; k < this.v4.length; k += 2) if (((v4 & this.v4[k + 1]!) >>> 0) === this.v4[k]) return true;
      return false;
    }
    if (this.v6.length === 0 || !ipv6ToGroups(addr, this.groups)) return false;
    for (let k = 0; k < this.v6.length; k++) if (prefixMatches(this.groups, this.v6[k]!, this.v6Prefix[k]!)) return true;
    return false;
  }

  sideOf(addr: string): Side {
    return this.has(addr) ? 'core' : 'ue';
  }
}

function prefixMatches(addr: Uint16Array, net: Uint16Array, bits: number): boolean {
  let g = 0;
  for (; bits >= 16; bits -= 16, g++) if (addr[g] !== net[g]) return false;
  if (bits === 0) return true;
  const mask = (0xffff << (16 - bits)) & 0xffff;
  return (addr[g]! & mask) === (net[g]! & mask);
}
