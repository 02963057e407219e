// Comma-separated lists (RFC 3261 §7.3.1): splitting a header value into its items, and removing
// items while every other octet stays where and as it was.

import { skipWs, trimEnd } from './chars.js';

/**
 * Appends to `out` a [start, end) pair per item of the list s[start, end), each trimmed of
 * whitespace. Commas inside quoted strings (with their quoted-pairs) and inside <...> do not split.
 * An empty or all-whitespace range has no item; empty items between commas are kept.
 */
export function splitList(s: string, start: number, end: number, out: number[]): number[] {
  const first = skipWs(s, start, end);
  if (first === end) return out;
  let itemStart = first;
  let quoted = false;
  let angle = false;
  for (let i = first; i < end; i++) {
    const c = s.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (c === 0x2c && !angle) {
      out.push(itemStart, trimEnd(s, itemStart, i));
      itemStart = skipWs(s, i + 1, end);
      i = itemStart - 1;
    }
  }
  out.push(itemStart, trimEnd(s, itemStart, end));
  return out;
}

/**
 * The [start, end) ranges to delete so that only the kept items of a list remain, each kept item
 * keeping the separator that preceded it unless it becomes the first: "A, B, C" less B gives
 * "A, C", less A gives "B, C", less C gives "A, B". `items` holds [start, end) pairs in order;
 * at least one item must be kept (otherwise the caller removes the whole list).
 */
export function removalRanges(items: readonly number[], keep: readonly boolean[]): number[] {
  const out: number[] = [];
  const n = items.length / 2;
  let cursor = items[0]!;
  let emitted = false;
  for (let k = 0; k < n; k++) {
    if (!keep[k]) continue;
    const from = emitted ? items[2 * k - 1]! : items[2 * k]!;
    if (from > cursor) out.push(cursor, from);
    cursor = items[2 * k + 1]!;
    emitted = true;
  }
  const last = items[2 * n - 1]!;
  if (last > cursor) out.push(cursor, last);
  return out;
}
