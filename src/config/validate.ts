// From the merged input (file + environment) to a checked Config: every key against the schema,
// then the rules that involve several keys. All problems are collected, none stops the others.

import { isDeprecatedAuth, isDeprecatedEnc, isValidAlgPair } from '../ipsec/algorithms.js';
import { problem } from './errors.js';
import type { ConfigProblem } from './errors.js';
import { isMapping, unknownKey } from './leaves.js';
import { isWildcard, sipHost } from './net-syntax.js';
import { SCHEMA, isLeaf } from './schema.js';
import type { Node } from './schema.js';
import { ipsecEnabled } from './types.js';
import type { Config } from './types.js';

/**
 * The Config when `problems` is still empty afterwards. Otherwise the keys that failed are
 * undefined in what it returns, and only the cross-key rules whose keys all passed have run.
 */
export function validate(input: Record<string, unknown>, problems: ConfigProblem[]): Config {
  const config = walk(SCHEMA as unknown as Node, input, '', problems) as Config;
  checkAcrossKeys(config, problems);
  return config;
}

function known(...values: unknown[]): boolean {
  return values.every((v) => v !== undefined);
}

function walk(node: Node, input: unknown, path: string, problems: ConfigProblem[]): unknown {
  if (isLeaf(node)) {
    if (input === undefined && node.default !== undefined) return node.default;
    if (input === undefined) {
      problems.push(problem(path, undefined, node.allowed, 'is required'));
      return undefined;
    }
    return node.check(input, path, problems);
  }
  const section = node as { readonly [key: string]: Node };
  const keys = Object.keys(section);
  let given: Record<string, unknown> = {};
  if (isMapping(input)) given = input;
  else if (input !== undefined && input !== null) problems.push(problem(path, input, `a mapping with the keys ${keys.join(', ')}`, 'is not a mapping'));
  for (const k of Object.keys(given)) {
    if (!keys.includes(k)) problems.push(unknownKey(join(path, k), given[k], k, keys));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = walk(section[k]!, given[k], join(path, k), problems);
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function checkAcrossKeys(c: Config, problems: ConfigProblem[]): void {
  const ipsecKnown = known(c.ipsec_listen_addr, c.ipsec_listen_addr6);
  if (known(c.ipsec_client_port, c.ipsec_server_port, c.ipsec_max_connections)) {
    checkProtectedPorts(c, problems);
    if (ipsecKnown && known(c.sip.listen)) checkListeners(c, problems);
  }
  if (known(c.ipsec_spi_id_start, c.ipsec_spi_id_range)) checkSpiRange(c, problems);
  const s = c.security;
  if (known(c.ipsec_preferred_alg, c.ipsec_preferred_ealg, s.allowed_algorithms, s.allowed_encryption, s.disable_deprecated_algorithms)) {
    checkAlgorithms(c, problems);
  }
  if (known(c.sip.timers.t1_ms, c.sip.timers.t2_ms) && c.sip.timers.t2_ms < c.sip.timers.t1_ms) {
    problems.push(problem('sip.timers.t2_ms', c.sip.timers.t2_ms, `an integer not below sip.timers.t1_ms (${c.sip.timers.t1_ms})`, 'is below T1'));
  }
  if (known(c.workers.batch_max, c.workers.handoff_min) && c.workers.handoff_min > c.workers.batch_max) {
    problems.push(problem('workers.handoff_min', c.workers.handoff_min, `an integer from 1 to workers.batch_max (${c.workers.batch_max})`, 'is above batch_max'));
  }
  if (ipsecKnown && c.security.require_sec_agree === true && !ipsecEnabled(c)) {
    problems.push(problem('security.require_sec_agree', true, 'false while ipsec_listen_addr and ipsec_listen_addr6 are both "" (IPsec disabled)',
      'asks for sec-agree with IPsec disabled'));
  }
  const advertisedExplicitly = c.sip.advertised_host !== '';
  if (c.sip.advertised_host === '' && ipsecKnown && known(c.sip.listen)) {
    const derived = deriveAdvertisedHost(c);
    if (derived === null) {
      problems.push(problem('sip.advertised_host', '', 'a hostname or IP literal, required when every sip.listen address is a wildcard and ipsec_listen_addr / ipsec_listen_addr6 are ""',
        'cannot be derived'));
    } else {
      (c.sip as { advertised_host: string }).advertised_host = derived;
    }
  }
  if (known(c.sip.listen)) {
    // A listener's own name wins; then an explicit sip.advertised_host; then its specific address;
    // a wildcard listener falls back on the derived sip.advertised_host.
    for (const l of c.sip.listen) {
      if (l.advertise !== '') continue;
      (l as { advertise: string }).advertise = advertisedExplicitly || isWildcard(l.address) ? c.sip.advertised_host : sipHost(l.address)!;
    }
    for (const side of ['access', 'core'] as const) {
      if (!c.sip.listen.some((l) => l.side === side || l.side === 'both')) {
        problems.push(problem('sip.listen', c.sip.listen.map((l) => `${l.transport}:${l.address}:${l.port} (${l.side})`).join(', '),
          `at least one listener whose side is "${side}" or "both"`, `has no listener towards the ${side === 'access' ? 'UEs' : 'IMS core'}`));
      }
    }
  }
}

// The two protected port ranges [port, port + ipsec_max_connections) must fit in 1-65535 and be
// disjoint: a port in both would belong to two different SA pairs (Kamailio's own defaults
// 5062 / 5063 / 2 overlap on 5063).
function checkProtectedPorts(c: Config, problems: ConfigProblem[]): void {
  const max = c.ipsec_max_connections;
  let fits = true;
  for (const key of ['ipsec_client_port', 'ipsec_server_port'] as const) {
    if (c[key] + max - 1 > 65535) {
      problems.push(problem('ipsec_max_connections', max, `at most ${65536 - c[key]} so that ${key} + ipsec_max_connections - 1 <= 65535`, `makes the ${key} range pass 65535`));
      fits = false;
    }
  }
  if (!fits) return;
  const client = c.ipsec_client_port;
  const server = c.ipsec_server_port;
  if (client < server + max && server < client + max) {
    problems.push(problem('ipsec_server_port', server,
      `a port outside ${client - max + 1}..${client + max - 1}, so that [${server}, ${server + max}) does not overlap the client range [${client}, ${client + max})`,
      `makes the server port range overlap the client port range`));
  }
}

function checkSpiRange(c: Config, problems: ConfigProblem[]): void {
  if (c.ipsec_spi_id_start + c.ipsec_spi_id_range > 0xffffffff) {
    problems.push(problem('ipsec_spi_id_range', c.ipsec_spi_id_range,
      `at most ${0xffffffff - c.ipsec_spi_id_start} so that ipsec_spi_id_start + ipsec_spi_id_range fits in 32 bits`, 'is too large'));
  }
}

function checkAlgorithms(c: Config, problems: ConfigProblem[]): void {
  const s = c.security;
  const auth = s.allowed_algorithms.filter((a) => !(s.disable_deprecated_algorithms && isDeprecatedAuth(a)));
  const enc = s.allowed_encryption.filter((e) => !(s.disable_deprecated_algorithms && isDeprecatedEnc(e)));
  const usableNote = s.disable_deprecated_algorithms ? ' minus the deprecated ones' : '';
  if (c.ipsec_preferred_alg !== '' && !auth.includes(c.ipsec_preferred_alg)) {
    problems.push(problem('ipsec_preferred_alg', c.ipsec_preferred_alg, `"" or one of security.allowed_algorithms${usableNote}: ${auth.join(', ') || '(none)'}`,
      'is not an allowed algorithm'));
  }
  if (c.ipsec_preferred_ealg !== '' && !enc.includes(c.ipsec_preferred_ealg)) {
    problems.push(problem('ipsec_preferred_ealg', c.ipsec_preferred_ealg, `"" or one of security.allowed_encryption${usableNote}: ${enc.join(', ') || '(none)'}`,
      'is not an allowed encryption algorithm'));
  }
  if (!auth.some((a) => enc.some((e) => isValidAlgPair(a, e)))) {
    problems.push(problem('security.allowed_algorithms', s.allowed_algorithms,
      `lists that, with security.allowed_encryption${usableNote}, leave at least one pair TS 33.203 permits (aes-gcm needs alg null, aes-gmac needs ealg null)`,
      'leaves no usable algorithm pair'));
  }
}

// An unprotected listener on a protected port of the same address would take the UE's ESP-protected
// traffic away from the protected socket.
function checkListeners(c: Config, problems: ConfigProblem[]): void {
  const seen = new Set<string>();
  const max = c.ipsec_max_connections;
  c.sip.listen.forEach((l, i) => {
    const id = `${l.transport} ${l.address} ${l.port}`;
    // A copy: the listener itself is completed later (its advertised host).
    if (seen.has(id)) problems.push(problem(`sip.listen[${i}]`, { ...l }, 'each transport/address/port once', 'is listed twice'));
    seen.add(id);
    const sharesAddress = isWildcard(l.address) || l.address === c.ipsec_listen_addr || l.address === c.ipsec_listen_addr6;
    if (!ipsecEnabled(c) || !sharesAddress) return;
    for (const base of [c.ipsec_client_port, c.ipsec_server_port]) {
      if (l.port >= base && l.port < base + max) {
        problems.push(problem(`sip.listen[${i}].port`, l.port, `a port outside the protected ranges [${c.ipsec_client_port}, ${c.ipsec_client_port + max}) and [${c.ipsec_server_port}, ${c.ipsec_server_port + max})`,
          'is a protected port'));
      }
    }
  });
}

/** The first unprotected listener with a specific address, else the IPv4, else the IPv6 protected address. */
function deriveAdvertisedHost(c: Config): string | null {
  const specific = c.sip.listen.find((l) => !isWildcard(l.address));
  if (specific !== undefined) return sipHost(specific.address);
  if (c.ipsec_listen_addr !== '') return c.ipsec_listen_addr;
  if (c.ipsec_listen_addr6 !== '') return sipHost(c.ipsec_listen_addr6);
  return null;
}
