// Header parameters: *( SEMI generic-param ), generic-param = token [ EQUAL gen-value ],
// gen-value = token / host / quoted-string (RFC 3261 §25.1). Used by Via, name-addr, Contact.

import { GENVALUE, TOKEN, equalsLower, scan, scanQuoted, skipWs, unfold } from './chars.js';
import { badHeader } from './errors.js';

/** A parameter as written: `value` is null for a flag such as `lr` or `rport`; a quoted value keeps its quotes. */
export interface Param {
  name: string;
  value: string | null;
}

/**
 * Parses the parameters that start at i (each introduced by ";"), appending them to `out` and,
 * when `spans` is given, the [start, end) of each parameter's text (name through value). Returns
 * the index of the first non-whitespace octet that does not start a parameter (end when all was read).
 */
export function parseParams(s: string, i: number, end: number, out: Param[], header: string, spans?: number[]): number {
  for (;;) {
    const semi = skipWs(s, i, end);
    if (semi >= end || s.charCodeAt(semi) !== 0x3b) return semi;
    const nameStart = skipWs(s, semi + 1, end);
    const nameEnd = scan(s, nameStart, end, TOKEN);
    if (nameEnd === nameStart) throw badHeader(header, `Invalid ${header} parameter`);
    let paramEnd = nameEnd;
    let value: string | null = null;
    const eq = skipWs(s, nameEnd, end);
    if (eq < end && s.charCodeAt(eq) === 0x3d) {
      const vs = skipWs(s, eq + 1, end);
      paramEnd = s.charCodeAt(vs) === 0x22 ? scanQuoted(s, vs, end) : scan(s, vs, end, GENVALUE);
      if (paramEnd <= vs) throw badHeader(header, `Invalid ${header} parameter`);
      value = unfold(s.slice(vs, paramEnd));
    }
    out.push({ name: s.slice(nameStart, nameEnd), value });
    spans?.push(nameStart, paramEnd);
    i = paramEnd;
  }
}

/** The value of parameter `name` (case-insensitive): undefined when absent, null for a flag. */
export function getParam(params: readonly Param[], name: string): string | null | undefined {
  const lower = name.toLowerCase();
  for (const p of params) if (equalsLower(p.name, 0, p.name.length, lower)) return p.value;
  return undefined;
}
