// CK and IK from the S-CSCF's 401 (TS 33.203 §7.2 / TS 24.229: the S-CSCF hands the IMS AKA keys to
// the P-CSCF as the "ck" and "ik" auth-params of WWW-Authenticate; the P-CSCF takes them out before
// the 401 goes to the UE). Kamailio leaves this to a regex in the routing script and finds the
// keys by name prefix; here the value is read with the RFC 7235 / RFC 3261 challenge grammar:
//
//   WWW-Authenticate = 1#challenge
//   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param       = token BWS "=" BWS ( token / quoted-string )
//
// so a "ck=" inside another parameter's quoted-string is never taken for the key, several
// challenges in one value are told apart, and the rest of the value keeps every byte. The keys are
// accepted quoted (the usual form) or as a bare token, since auth-param allows both.

import { equalsIgnoreCase, isWhitespace, scanQuotedString, scanToken, skipWhitespace } from './lexical.js';

export type KeyErrorCode =
  | 'AKA_BAD_SYNTAX'
  | 'AKA_CK_MISSING'
  | 'AKA_IK_MISSING'
  | 'AKA_KEYS_SPLIT'
  | 'AKA_KEY_DUPLICATE'
  | 'AKA_KEY_NOT_HEX'
  | 'AKA_KEY_LENGTH';

export class KeyError {
  constructor(
    readonly code: KeyErrorCode,
    /** 0-based challenge the problem is in; -1 when it concerns the whole value. */
    readonly challenge: number,
    readonly param: 'ck' | 'ik' | null,
    readonly detail: string,
    /**
     * The value with every ck and ik auth-param removed, when the value could be read: even a 401
     * whose keys are unusable must not carry them further (DESIGN.md invariant 2).
     */
    readonly stripped: string | null,
  ) {}

  get message(): string {
    const where = this.challenge < 0 ? '' : ` (challenge ${this.challenge})`;
    return `${this.code}${where}: ${this.detail}`;
  }
}

export interface AkaKeys {
  ck: Buffer;
  ik: Buffer;
  /** The value without the ck and ik auth-params and their separators; every other byte kept. */
  stripped: string;
  /** 0-based index of the challenge that carried the keys. */
  challenge: number;
}

/** One challenge's scheme (with any token68) or one auth-param, as a span of the value. */
interface Item {
  start: number;
  end: number;
  challenge: number;
  param: boolean;
}

interface KeyParam {
  item: number;
  valueStart: number;
  valueEnd: number;
}

const KEY_HEX_DIGITS = 32;

/** Never throws: every problem is a {@link KeyError}. */
export function extractAkaKeys(wwwAuthenticateValue: string): AkaKeys | KeyError {
  const v = wwwAuthenticateValue;
  const items: Item[] = [];
  const cks: KeyParam[] = [];
  const iks: KeyParam[] = [];
  const bad = scan(v, items, cks, iks);
  if (bad !== null) return bad;

  const stripped = cks.length + iks.length === 0 ? v : strip(v, items, cks, iks);
  const fail = (code: KeyErrorCode, k: KeyParam | null, param: 'ck' | 'ik' | null, detail: string): KeyError =>
    new KeyError(code, k === null ? -1 : items[k.item]!.challenge, param, detail, stripped);

  if (cks.length > 1) return fail('AKA_KEY_DUPLICATE', cks[1]!, 'ck', 'ck appears more than once');
  if (iks.length > 1) return fail('AKA_KEY_DUPLICATE', iks[1]!, 'ik', 'ik appears more than once');
  const ck = cks[0];
  const ik = iks[0];
  if (ck === undefined) return fail('AKA_CK_MISSING', ik ?? null, 'ck', 'no ck auth-param');
  if (ik === undefined) return fail('AKA_IK_MISSING', ck, 'ik', 'no ik auth-param');
  if (items[ck.item]!.challenge !== items[ik.item]!.challenge) {
    return fail('AKA_KEYS_SPLIT', ik, 'ik', `ck is in challenge ${items[ck.item]!.challenge}, ik in challenge ${items[ik.item]!.challenge}`);
  }
  const ckProblem = keyProblem(v, ck);
  if (ckProblem !== null) return fail(ckProblem, ck, 'ck', describeKey(ck));
  const ikProblem = keyProblem(v, ik);
  if (ikProblem !== null) return fail(ikProblem, ik, 'ik', describeKey(ik));
  return {
    ck: Buffer.from(v.slice(ck.valueStart, ck.valueEnd), 'hex'),
    ik: Buffer.from(v.slice(ik.valueStart, ik.valueEnd), 'hex'),
    stripped,
    challenge: items[ck.item]!.challenge,
  };
}

function scan(v: string, items: Item[], cks: KeyParam[], iks: KeyParam[]): KeyError | null {
  let challenge = -1;
  const syntax = (pos: number, what: string): KeyError => new KeyError('AKA_BAD_SYNTAX', challenge, null, `${what} at offset ${pos}`, null);
  let pos = skipWhitespace(v, 0);
  if (pos === v.length) return syntax(pos, 'empty value');
  // Right after a scheme (no comma): only its first auth-param may follow.
  let afterScheme = false;
  while (pos < v.length) {
    const start = pos;
    pos = scanToken(v, pos);
    if (pos === start) return syntax(pos, 'expected an auth-scheme or auth-param name');
    const nameEnd = pos;
    const afterName = skipWhitespace(v, pos);
    const isParam = challenge >= 0 && v.charCodeAt(afterName) === 0x3d /* = */;
    if (afterScheme && !isParam) return syntax(start, 'expected an auth-param after the auth-scheme');
    afterScheme = false;
    if (isParam) {
      const valueAt = skipWhitespace(v, afterName + 1);
      let end: number;
      let valueStart = valueAt;
      let valueEnd: number;
      if (v.charCodeAt(valueAt) === 0x22 /* " */) {
        end = scanQuotedString(v, valueAt);
        if (end < 0) return syntax(valueAt, 'unterminated quoted-string');
        valueStart = valueAt + 1;
        valueEnd = end - 1;
      } else {
        end = scanToken(v, valueAt);
        if (end === valueAt) return syntax(valueAt, 'expected an auth-param value');
        valueEnd = end;
      }
      const item = items.length;
      items.push({ start, end, challenge, param: true });
      if (nameEnd - start === 2) {
        const name = v.slice(start, nameEnd);
        if (equalsIgnoreCase(name, 'ck')) cks.push({ item, valueStart, valueEnd });
        else if (equalsIgnoreCase(name, 'ik')) iks.push({ item, valueStart, valueEnd });
      }
      pos = skipWhitespace(v, end);
    } else {
      challenge++;
      let end = nameEnd;
      pos = afterName;
      if (pos < v.length && v.charCodeAt(pos) !== 0x2c /* , */) {
        if (pos === nameEnd) return syntax(pos, 'expected a space after the auth-scheme');
        const t68 = token68End(v, pos);
        if (t68 > 0) {
          end = t68;
          pos = skipWhitespace(v, t68);
        }
      }
      items.push({ start, end, challenge, param: false });
      // The first auth-param follows the scheme without a comma.
      if (pos < v.length && v.charCodeAt(pos) !== 0x2c) {
        afterScheme = true;
        continue;
      }
    }
    if (pos === v.length) break;
    if (v.charCodeAt(pos) !== 0x2c) return syntax(pos, 'expected ","');
    // RFC 7230 §7: empty list elements are ignored.
    while (pos < v.length && (v.charCodeAt(pos) === 0x2c || isWhitespace(v.charCodeAt(pos)))) pos++;
  }
  return null;
}

// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and only when the
// challenge ends there; otherwise the text is the challenge's first auth-param. Returns its end or -1.
function token68End(v: string, pos: number): number {
  let i = pos;
  while (i < v.length && isToken68Char(v.charCodeAt(i))) i++;
  if (i === pos) return -1;
  while (i < v.length && v.charCodeAt(i) === 0x3d) i++;
  const next = skipWhitespace(v, i);
  return next === v.length || v.charCodeAt(next) === 0x2c ? i : -1;
}

function isToken68Char(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2b || c === 0x2f;
}

/**
 * Removes the key params with their separators. A removed param followed by a kept param of the
 * same challenge goes with the separator after it ("ck=.., " before "nonce=.."); otherwise with the
 * separator before it (", ik=.." at the end, or before the next challenge, whose comma stays).
 */
function strip(v: string, items: Item[], cks: KeyParam[], iks: KeyParam[]): string {
  const removed = new Uint8Array(items.length);
  for (const k of cks) removed[k.item] = 1;
  for (const k of iks) removed[k.item] = 1;
  let out = '';
  let resume = 0;
  // Cuts come in item order and their starts never decrease; overlapping ones merge.
  for (let i = 0; i < items.length; i++) {
    if (removed[i] !== 1) continue;
    const p = items[i]!;
    let next = i + 1;
    while (next < items.length && removed[next] === 1) next++;
    const nextItem = items[next];
    let from: number;
    let to: number;
    if (nextItem !== undefined && nextItem.param && nextItem.challenge === p.challenge) {
      from = p.start;
      to = nextItem.start;
    } else {
      let prev = i - 1;
      while (removed[prev] === 1) prev--;
      from = items[prev]!.end;
      to = p.end;
    }
    if (from > resume) out += v.slice(resume, from);
    resume = Math.max(resume, to);
  }
  return out + v.slice(resume);
}

function keyProblem(v: string, k: KeyParam): 'AKA_KEY_NOT_HEX' | 'AKA_KEY_LENGTH' | null {
  for (let i = k.valueStart; i < k.valueEnd; i++) {
    const c = v.charCodeAt(i);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (!hex) return 'AKA_KEY_NOT_HEX';
  }
  return k.valueEnd - k.valueStart === KEY_HEX_DIGITS ? null : 'AKA_KEY_LENGTH';
}

// The key itself is never put into an error text: only its length.
function describeKey(k: KeyParam): string {
  return `the value has ${k.valueEnd - k.valueStart} characters; ${KEY_HEX_DIGITS} hex digits are required`;
}
