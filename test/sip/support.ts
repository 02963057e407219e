// Helpers shared by the SIP test suites.

import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { SipError, type SipErrorCode } from '../../src/sip/index.js';

/** A message written with LF line ends, as the CRLF octets SIP wants (latin1: one code unit per octet). */
export function sip(text: string, body?: Buffer): Buffer {
  const head = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
  return body === undefined ? head : Buffer.concat([head, body]);
}

export const RFC4475_DIR = new URL('../../../shared/testdata/rfc4475/', import.meta.url);
export const CORPUS_DIR = new URL('./corpus/', import.meta.url);

export function rfc4475(name: string): Buffer {
  return readFileSync(new URL(`${name}.dat`, RFC4475_DIR));
}

export function corpus(name: string): Buffer {
  return readFileSync(new URL(`${name}.sip`, CORPUS_DIR));
}

/** Asserts that fn throws a SipError with this status (and code, when given); returns it. */
export function throwsSip(fn: () => unknown, status: number, code?: SipErrorCode): SipError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SipError)) throw new assert.Assertion({ message: `expected a SipError, got ${String(e)}`, operator: 'throws', expects: 'SipError', actual: e });
    assert.is(e.status, status, `status of "${e.message}"`);
    if (code !== undefined) assert.is(e.code, code, `code of "${e.message}"`);
    return e;
  }
  throw new assert.Assertion({ message: `expected a SipError ${status}, nothing was thrown`, operator: 'throws', expects: status, actual: undefined });
}

/** Byte-exact comparison that prints both sides as text on failure. */
export function sameBytes(actual: Buffer, expected: Buffer, what = 'message'): void {
  if (!actual.equals(expected)) {
    assert.fixture(actual.toString('latin1'), expected.toString('latin1'), `${what} differs`);
    assert.ok(false, `${what} differs in octets that print the same`);
  }
}
