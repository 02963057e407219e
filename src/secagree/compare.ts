// Semantic comparison of two Sec-Agree header lists, for the two checks TS 33.203 §7.2 / Annex H
// and RFC 3329 §2.3.1 ask of the P-CSCF on the protected REGISTER: its Security-Verify must mirror
// the Security-Server that was sent, and its Security-Client must equal the first one.
//
// "Equal" ignores what the grammar lets a sender vary: parameter order, whitespace, the case of
// mechanism names, parameter names and token values, leading zeros of numbers (spi-c=0123 is 123)
// and the spelling of q (0.1 is 0.100). For ipsec-3gpp an absent ealg, prot or mod equals its Annex
// H default (null, esp, trans). Mechanisms must come in the same order: reordering a list is a
// change of preference, which is what the bidding-down check exists to catch. Quoted strings are
// compared byte for byte.

import { createHash } from 'node:crypto';

import { SecAgreeError } from './errors.js';
import { isQValue, parseSecurityHeader } from './grammar.js';
import type { SecMechanism } from './grammar.js';
import { equalsIgnoreCase, scanToken } from './lexical.js';

export type MismatchCode =
  | 'MISSING'
  | 'UNPARSABLE'
  | 'MECHANISM_COUNT'
  | 'MECHANISM_NAME'
  | 'PARAM_MISSING'
  | 'PARAM_EXTRA'
  | 'PARAM_VALUE';

/** How the received list differs from the expected one; `index` is the mechanism's position. */
export class Mismatch {
  constructor(
    readonly code: MismatchCode,
    readonly index: number,
    readonly param: string | null,
    readonly expected: string | null,
    readonly actual: string | null,
  ) {}

  get message(): string {
    const where = this.index < 0 ? '' : ` in mechanism ${this.index}`;
    const which = this.param === null ? '' : ` parameter ${this.param}`;
    return `${this.code}${where}${which}: expected ${this.expected ?? '(none)'}, got ${this.actual ?? '(none)'}`;
  }
}

/** RFC 3329 §2.3.1: the Security-Verify lines of a request must mirror the Security-Server sent. */
export function verifyMatchesServer(verifyValues: readonly string[], sentServerValue: string): true | Mismatch {
  return compareLists([sentServerValue], verifyValues);
}

/** TS 33.203 Annex H: the Security-Client of the protected REGISTER must equal the first one. */
export function sameSecurityClient(first: readonly string[], second: readonly string[]): true | Mismatch {
  return compareLists(first, second);
}

/**
 * A digest that two Sec-Agree lists share exactly when they compare equal here: SHA-256 of their
 * canonical form (the normalisation above, as JSON). What a P-CSCF keeps of the first
 * Security-Client to check the second one against (TS 33.203 Annex H) without keeping its text.
 */
export function securityListDigest(values: readonly string[]): Buffer | Mismatch {
  if (values.length === 0) return new Mismatch('MISSING', -1, null, null, null);
  const list = parseOrMismatch(values, 'actual');
  if (list instanceof Mismatch) return list;
  const canonical = list.map((m) => {
    const name = m.name.toLowerCase();
    return [name, normalizedParams(m, name === 'ipsec-3gpp').map((p) => [p.name, p.value])];
  });
  return createHash('sha256').update(JSON.stringify(canonical)).digest();
}

function compareLists(expectedValues: readonly string[], actualValues: readonly string[]): true | Mismatch {
  const expected = parseOrMismatch(expectedValues, 'expected');
  if (expected instanceof Mismatch) return expected;
  if (actualValues.length === 0) return new Mismatch('MISSING', -1, null, expectedValues.join(', '), null);
  const actual = parseOrMismatch(actualValues, 'actual');
  if (actual instanceof Mismatch) return actual;
  if (expected.length !== actual.length) {
    return new Mismatch('MECHANISM_COUNT', -1, null, String(expected.length), String(actual.length));
  }
  for (let i = 0; i < expected.length; i++) {
    const difference = compareMechanisms(expected[i]!, actual[i]!, i);
    if (difference !== null) return difference;
  }
  return true;
}

function parseOrMismatch(values: readonly string[], side: 'expected' | 'actual'): SecMechanism[] | Mismatch {
  try {
    return parseSecurityHeader(values);
  } catch (e) {
    if (!(e instanceof SecAgreeError)) throw e;
    const text = `${e.code}: ${e.message}`;
    return new Mismatch('UNPARSABLE', -1, null, side === 'expected' ? text : null, side === 'actual' ? text : null);
  }
}

interface Normalized {
  name: string;
  value: string | null;
}

function compareMechanisms(e: SecMechanism, a: SecMechanism, index: number): Mismatch | null {
  if (!equalsIgnoreCase(a.name, e.name.toLowerCase())) return new Mismatch('MECHANISM_NAME', index, null, e.name, a.name);
  const ipsec = equalsIgnoreCase(e.name, 'ipsec-3gpp');
  const ep = normalizedParams(e, ipsec);
  const ap = normalizedParams(a, ipsec);
  let i = 0;
  let j = 0;
  while (i < ep.length || j < ap.length) {
    const x = ep[i];
    const y = ap[j];
    if (y === undefined || (x !== undefined && x.name < y.name)) return new Mismatch('PARAM_MISSING', index, x!.name, x!.value, null);
    if (x === undefined || y.name < x.name) return new Mismatch('PARAM_EXTRA', index, y.name, null, y.value);
    if (x.value !== y.value) return new Mismatch('PARAM_VALUE', index, x.name, x.value, y.value);
    i++;
    j++;
  }
  return null;
}

const IPSEC_DEFAULTS: readonly Normalized[] = [
  { name: 'ealg', value: 'null' },
  { name: 'prot', value: 'esp' },
  { name: 'mod', value: 'trans' },
];

function normalizedParams(m: SecMechanism, ipsec: boolean): Normalized[] {
  const out: Normalized[] = [];
  for (const p of m.params) {
    const name = p.name.toLowerCase();
    out.push({ name, value: p.value === null ? null : normalizedValue(name, p.value) });
  }
  if (ipsec) {
    for (const d of IPSEC_DEFAULTS) if (!out.some((p) => p.name === d.name)) out.push(d);
  }
  return out.sort(byNameThenValue);
}

function byNameThenValue(x: Normalized, y: Normalized): number {
  if (x.name !== y.name) return x.name < y.name ? -1 : 1;
  const xv = x.value ?? '';
  const yv = y.value ?? '';
  return xv === yv ? 0 : xv < yv ? -1 : 1;
}

function normalizedValue(name: string, value: string): string {
  if (name === 'q' && isQValue(value)) return String(Number(value));
  if (isDigits(value)) return value.replace(/^0+(?=\d)/, '');
  return scanToken(value, 0) === value.length ? value.toLowerCase() : value;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return s.length > 0;
}
