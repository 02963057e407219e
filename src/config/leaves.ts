// Validators for the configuration's leaf values. Each leaf knows its default (none = required),
// a description of what it allows, and how to check a value; a failed check records a problem
// naming the key, the value and what is allowed.

import { isIPv4, isIPv6 } from 'node:net';

import { problem } from './errors.js';
import type { ConfigProblem } from './errors.js';
import { isIpLiteral, isIpOrCidr, parseHostPort, parseNextHop, sipHost } from './net-syntax.js';
import { LISTENER_SIDES } from './types.js';
import type { Listener, ListenerSide } from './types.js';
import { suggest } from './suggest.js';

export interface Leaf<T> {
  readonly kind: 'leaf';
  /** Absent: the key is required. */
  readonly default?: T;
  readonly allowed: string;
  /** The accepted (possibly normalized) value, or undefined after recording problems. */
  check(value: unknown, key: string, problems: ConfigProblem[]): T | undefined;
}

function leaf<T>(allowed: string, def: T | undefined, accept: (v: unknown) => T | undefined): Leaf<T> {
  const node: Leaf<T> = {
    kind: 'leaf',
    allowed,
    check(value, key, problems) {
      const ok = accept(value);
      if (ok === undefined) problems.push(problem(key, value, allowed));
      return ok;
    },
  };
  return def === undefined ? node : { ...node, default: def };
}

export function int(min: number, max: number, def: number, allowed = `an integer from ${min} to ${max}`): Leaf<number> {
  return leaf(allowed, def, (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? v : undefined));
}

export function bool(def: boolean): Leaf<boolean> {
  return leaf('true or false', def, (v) => (typeof v === 'boolean' ? v : undefined));
}

export function oneOf<T extends string | number>(values: readonly T[], def: T): Leaf<T> {
  const allowed = values.map((x) => JSON.stringify(x)).join(' | ');
  const node = leaf(allowed, def, (v) => values.find((x) => x === v));
  if (!values.includes('null' as T)) return node;
  // An unquoted null in YAML is no value at all; say so rather than guess what was meant.
  return {
    ...node,
    check(value, key, problems) {
      if (value !== null) return node.check(value, key, problems);
      problems.push(problem(key, value, allowed, 'is a YAML null: write "null" in quotes for the null algorithm, or "" for none'));
      return undefined;
    },
  };
}

export function ipv4OrEmpty(def: string): Leaf<string> {
  return leaf('"" (disabled) or an IPv4 literal', def, (v) => (typeof v === 'string' && (v === '' || isIPv4(v)) ? v : undefined));
}

export function ipv6OrEmpty(def: string): Leaf<string> {
  return leaf('"" (disabled) or an IPv6 literal without brackets', def, (v) => (typeof v === 'string' && (v === '' || isIPv6(v)) ? v : undefined));
}

/** A name such as Kamailio's usrloc domain ("location"): letters, digits, "_", "-" and ".". */
export function name(def: string): Leaf<string> {
  return leaf('a name of letters, digits, "_", "-" and "." (1 to 64 characters)', def, (v) =>
    typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? v : undefined);
}

export function hostOrEmpty(def: string): Leaf<string> {
  return leaf('"" (derive it) or a hostname, IPv4 literal or IPv6 literal', def, (v) => {
    if (typeof v !== 'string') return undefined;
    return v === '' ? v : (sipHost(v) ?? undefined);
  });
}

export function nextHopUri(): Leaf<string> {
  return leaf('a SIP URI sip:<IPv4 or [IPv6]>:<port> with an optional ;transport=udp|tcp', undefined, (v) =>
    typeof v === 'string' && parseNextHop(v) !== null ? v : undefined);
}

export function hostPortOrEmpty(def: string): Leaf<string> {
  return leaf('"" (disabled) or host:port with an IPv4 literal, [IPv6] literal or hostname and a port 1-65535', def, (v) =>
    typeof v === 'string' && (v === '' || parseHostPort(v) !== null) ? v : undefined);
}

/** A list leaf: `min` entries at least, each checked by `entry`, which records its own problems. */
function list<T>(
  allowed: string,
  def: readonly T[],
  min: number,
  entry: (value: unknown, at: string, problems: ConfigProblem[], accepted: readonly T[]) => T | undefined,
): Leaf<readonly T[]> {
  return {
    kind: 'leaf',
    allowed,
    default: def,
    check(value, key, problems) {
      if (!Array.isArray(value)) return fail(problems, key, value, allowed, 'is not a list');
      if (value.length < min) return fail(problems, key, value, allowed, value.length === 0 ? 'is empty' : 'has too few entries');
      const out: T[] = [];
      const before = problems.length;
      value.forEach((v: unknown, i) => {
        const accepted = entry(v, `${key}[${i}]`, problems, out);
        if (accepted !== undefined) out.push(accepted);
      });
      return problems.length === before ? out : undefined;
    },
  };
}

/** A list of distinct names from `names`, one at least. */
export function nameList<T extends string>(names: readonly T[], def: readonly T[]): Leaf<readonly T[]> {
  const allowed = `a list of distinct values from [${names.join(', ')}], at least 1`;
  return list(allowed, def, 1, (v, at, problems, accepted) => {
    // In a list of algorithm names an unquoted YAML null can only mean the algorithm "null".
    const name = names.find((n) => n === (v === null ? 'null' : v));
    if (name === undefined) {
      const hint = typeof v === 'string' ? suggest(v, names) : null;
      problems.push(problem(at, v, allowed, hint === null ? undefined : `is unknown (did you mean "${hint}"?)`));
    } else if (accepted.includes(name)) {
      problems.push(problem(at, v, allowed, 'is listed twice'));
    } else {
      return name;
    }
    return undefined;
  });
}

export function addressList(def: readonly string[]): Leaf<readonly string[]> {
  const allowed = 'a list of IPv4 / IPv6 addresses or CIDRs (address/prefix)';
  return list(allowed, def, 0, (v, at, problems) => {
    if (typeof v === 'string' && isIpOrCidr(v)) return v;
    problems.push(problem(at, v, allowed));
    return undefined;
  });
}

const LISTENER_KEYS = ['transport', 'address', 'port', 'side', 'advertise'] as const;

export function listenerList(def: readonly Listener[]): Leaf<readonly Listener[]> {
  const allowed = 'a non-empty list of { transport: udp | tcp, address: <IPv4 or IPv6 literal>, port: 1-65535, side?: access | core | both, advertise?: <host> }';
  return list(allowed, def, 1, (entry, at, problems) => {
    if (!isMapping(entry)) {
      problems.push(problem(at, entry, allowed, 'is not a mapping'));
      return undefined;
    }
    const before = problems.length;
    for (const k of Object.keys(entry)) {
      if (!(LISTENER_KEYS as readonly string[]).includes(k)) problems.push(unknownKey(`${at}.${k}`, entry[k], k, LISTENER_KEYS));
    }
    const { transport, address, port, side = 'both', advertise = '' } = entry;
    if (transport !== 'udp' && transport !== 'tcp') problems.push(problem(`${at}.transport`, transport, '"udp" | "tcp"'));
    if (typeof address !== 'string' || !isIpLiteral(address)) problems.push(problem(`${at}.address`, address, 'an IPv4 or IPv6 literal (0.0.0.0 or :: for every address)'));
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) problems.push(problem(`${at}.port`, port, 'an integer from 1 to 65535'));
    if (!(LISTENER_SIDES as readonly unknown[]).includes(side)) problems.push(problem(`${at}.side`, side, '"access" | "core" | "both"'));
    const host = typeof advertise === 'string' ? (advertise === '' ? '' : sipHost(advertise)) : null;
    if (host === null) problems.push(problem(`${at}.advertise`, advertise, 'a hostname, IPv4 literal or IPv6 literal'));
    if (problems.length !== before) return undefined;
    // "" = not given: validate() fills in sip.advertised_host or the listener's address.
    return { transport: transport as Listener['transport'], address: address as string, port: port as number, side: side as ListenerSide, advertise: host! };
  });
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function unknownKey(key: string, value: unknown, name: string, known: readonly string[]): ConfigProblem {
  const hint = suggest(name, known);
  const reason = hint === null ? 'is set under an unknown key' : `is set under an unknown key (did you mean "${hint}"?)`;
  return problem(key, value, `the keys ${known.join(', ')}`, reason);
}

function fail(problems: ConfigProblem[], key: string, value: unknown, allowed: string, reason: string): undefined {
  problems.push(problem(key, value, allowed, reason));
  return undefined;
}
