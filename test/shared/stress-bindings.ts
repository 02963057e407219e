// Bindings for the multi-threaded stress test. Every field is a function of (owner thread, serial,
// version), and the version is written into many fields (numbers, strings of varying length, list
// lengths, key bytes, SA fields), so a reader that mixed two versions of one record, or read a
// string of another record's blob, finds fields that disagree: isConsistent() detects a torn read.

import { isDeepStrictEqual } from 'node:util';
import type { Binding, SaSet } from '../../src/shared/binding.js';

const STATES = ['pending', 'registered', 'deregistering'] as const;
const EPOCH = 1_000_000_000;

export function stressAddr(tid: number, serial: number): string {
  return `10.${tid}.${(serial >>> 8) & 255}.${serial & 255}`;
}

export function stressAor(tid: number, serial: number): string {
  return `sip:t${tid}s${serial}@stress.test`;
}

export function stressSa(version: number, spiPc: number): SaSet {
  const b = version & 255;
  return {
    spiUc: version, spiUs: version + 1, portUc: 20000 + 2 * (version % 5000), portUs: 20001 + 2 * (version % 5000),
    spiPc, spiPs: spiPc + 1, portPc: 5100 + (version % 10), portPs: 6100 + (version % 10),
    alg: version % 2 === 0 ? 'hmac-sha-1-96' : 'hmac-md5-96', ealg: version % 3 === 0 ? 'null' : 'aes-cbc',
    clientDigest: Uint8Array.from({ length: 32 }, (_, i) => (i < 16 ? b : 255 - b)),
    createdAt: version, confirmedAt: version / 2,
  };
}

export function stressBinding(tid: number, serial: number, version: number, sa?: SaSet, previousSa?: SaSet): Binding {
  const aor = stressAor(tid, serial);
  const addr = stressAddr(tid, serial);
  const b: Binding = {
    state: STATES[version % 3]!,
    aor,
    contactUri: `<sip:t${tid}s${serial}@${addr}:5062>;v=${version};pad=${'x'.repeat(version % 97)}`,
    contactHost: addr,
    contactPort: 5062,
    receivedAddr: addr,
    receivedPort: 5060,
    transport: version % 2 === 0 ? 'udp' : 'tcp',
    viaHost: `via${version}.t${tid}.stress.test`,
    viaPort: 1 + (version % 60000),
    expiresAt: EPOCH + version,
    path: `<sip:p${version}@pcscf.stress.test;lr>`,
    serviceRoute: Array.from({ length: version % 5 }, (_, i) => `<sip:sr${version}.${i}@scscf.stress.test;lr>`),
    associatedUris: [aor, `tel:+${version}`],
    createdAt: serial,
    updatedAt: version,
  };
  if (sa !== undefined) b.sa = sa;
  if (previousSa !== undefined) b.previousSa = previousSa;
  return b;
}

export function versionOf(b: Binding): number {
  return b.expiresAt - EPOCH;
}

/** True when every field of `b` agrees with the version in its expiresAt. */
export function isConsistent(b: Binding): boolean {
  const m = /^sip:(?:t(\d+)s(\d+)|hot(\d+))@stress\.test$/.exec(b.aor);
  if (m === null) return false;
  if (m[3] !== undefined) return isDeepStrictEqual(b, hotBinding(Number(m[3]), versionOf(b)));
  const version = versionOf(b);
  if (b.sa !== undefined && !isDeepStrictEqual(b.sa, stressSa(version, b.sa.spiPc))) return false;
  if (b.previousSa !== undefined) {
    const p = b.previousSa;
    if (p.spiUc >= version || !isDeepStrictEqual(p, stressSa(p.spiUc, p.spiPc))) return false;
  }
  return isDeepStrictEqual(b, stressBinding(Number(m[1]), Number(m[2]), version, b.sa, b.previousSa));
}

/** The SPI pairs of hot binding i: its SA set alternates between them, so both stay in the index
 * (one as the current set, one as the previous) through every update. Outside the stress pool. */
export function hotSpis(i: number): [number, number] {
  return [0xf000_0000 + 4 * i, 0xf000_0002 + 4 * i];
}

/** The bindings every thread updates at once. The version counts successful updates, so lost
 * updates show as a missing count at the end; each update swaps the current and previous SA sets
 * and rewrites every string. */
export function hotBinding(i: number, version: number): Binding {
  const [a, b] = hotSpis(i);
  const [cur, prev] = version % 2 === 0 ? [a, b] : [b, a];
  return {
    state: 'registered', aor: `sip:hot${i}@stress.test`,
    contactUri: `<sip:hot${i}@192.0.2.${i}>;v=${version};${'y'.repeat(version % 61)}`, contactHost: `192.0.2.${i}`, contactPort: 5060,
    receivedAddr: `192.0.2.${i}`, receivedPort: 5060, transport: 'udp', viaHost: `hot${version}.stress.test`, viaPort: 5060,
    expiresAt: EPOCH + version, path: '', serviceRoute: [], associatedUris: [`tel:+${version}`], createdAt: 0, updatedAt: version,
    sa: stressSa(version, cur), previousSa: stressSa(version + 1, prev),
  };
}

/** A cheaper isConsistent for hot binding i, for the tight read loop (no full rebuild). */
export function hotConsistent(b: Binding, i: number): boolean {
  const v = versionOf(b);
  const [a, c] = hotSpis(i);
  const [cur, prev] = v % 2 === 0 ? [a, c] : [c, a];
  return b.updatedAt === v && b.viaHost === `hot${v}.stress.test` && b.associatedUris[0] === `tel:+${v}` &&
    b.contactUri.length === `<sip:hot${i}@192.0.2.${i}>;v=${v};`.length + (v % 61) && b.contactUri.includes(`;v=${v};`) &&
    b.sa?.spiPc === cur && b.sa.spiUc === v && b.sa.clientDigest[0] === (v & 255) && b.sa.clientDigest[15] === (v & 255) && b.sa.createdAt === v &&
    b.previousSa?.spiPc === prev && b.previousSa.spiUc === v + 1 && b.previousSa.clientDigest[23] === (255 - ((v + 1) & 255));
}
