// Every configuration key with its default and what it allows. config/example.yaml documents the
// same keys for people; keep the two in step.

import { availableParallelism } from 'node:os';
import { AUTH_ALGS, ENC_ALGS } from '../ipsec/algorithms.js';
import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';
import { addressList, bool, hostOrEmpty, hostPortOrEmpty, int, ipv4OrEmpty, ipv6OrEmpty, listenerList, name, nameList, nextHopUri, oneOf } from './leaves.js';
import type { Leaf } from './leaves.js';
import { LOG_LEVELS, WORKER_SCHEDULING } from './types.js';
import type { Config } from './types.js';

/** A section maps each key of its part of Config to a leaf or a nested section. */
export type Section<T> = {
  readonly [K in keyof T]-?: T[K] extends readonly unknown[] ? Leaf<T[K]> : T[K] extends object ? Section<T[K]> : Leaf<T[K]>;
};

export type Node = Leaf<unknown> | { readonly [key: string]: Node };

export function isLeaf(n: Node): n is Leaf<unknown> {
  return (n as Leaf<unknown>).kind === 'leaf';
}

const U32_MAX = 0xffffffff;
const STATUS = 'a SIP status code from 400 to 699';

/**
 * workers.pool_size when the configuration does not say: a worker for every CPU but the one the
 * main thread's I/O needs, and none on a single CPU, where a worker would only take turns with the
 * main thread. On 2 CPUs shared with SIPp (bench/register.ts) one worker beat two: the second only
 * added hand-offs and a thread competing with the main thread for the CPUs.
 */
export function defaultPoolSize(cpus: number): number {
  return Math.min(256, Math.max(0, cpus - 1));
}

export const SCHEMA: Section<Config> = {
  // The ten parameters of Kamailio's ims_ipsec_pcscf, same names and defaults (admin guide), except
  // ipsec_server_port: see config/example.yaml for why its default is 5064.
  ipsec_listen_addr: ipv4OrEmpty(''),
  ipsec_listen_addr6: ipv6OrEmpty(''),
  ipsec_client_port: int(1, 65535, 5062),
  ipsec_server_port: int(1, 65535, 5064),
  ipsec_max_connections: int(1, 65535, 2),
  ipsec_reuse_server_port: oneOf<0 | 1>([0, 1], 1),
  ipsec_spi_id_start: int(1, U32_MAX - 2, 100),
  ipsec_spi_id_range: int(2, 2 ** 31, 1000),
  ipsec_preferred_alg: oneOf<AuthAlg | ''>(['', ...AUTH_ALGS], ''),
  ipsec_preferred_ealg: oneOf<EncAlg | ''>(['', ...ENC_ALGS], ''),
  sip: {
    listen: listenerList([
      { transport: 'udp', address: '0.0.0.0', port: 5060, side: 'both', advertise: '' },
      { transport: 'tcp', address: '0.0.0.0', port: 5060, side: 'both', advertise: '' },
    ]),
    advertised_host: hostOrEmpty(''),
    next_hop: nextHopUri(),
    trusted_peers: addressList([]),
    unregistered_status: int(400, 699, 403, STATUS),
    timers: {
      t1_ms: int(1, 60_000, 500),
      t2_ms: int(1, 600_000, 4000),
      t4_ms: int(1, 600_000, 5000),
    },
    tcp: {
      idle_timeout_s: int(1, 604_800, 3600),
      max_connections: int(1, 1_048_576, 65_536),
      connect_timeout_ms: int(1, 600_000, 3000),
    },
    limits: {
      max_udp_bytes: int(512, 65_535, 65_535),
      max_tcp_message_bytes: int(512, 16_777_216, 65_536),
      max_headers: int(1, 10_000, 200),
      max_line_bytes: int(64, 16_777_216, 16_384),
    },
  },
  security: {
    require_sec_agree: bool(false),
    allowed_algorithms: nameList(AUTH_ALGS, ['hmac-sha-1-96', 'hmac-md5-96', 'aes-gmac', 'null']),
    allowed_encryption: nameList(ENC_ALGS, ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null']),
    disable_deprecated_algorithms: bool(false),
    xfrm_user_marker: int(1, U32_MAX, 143_956_232),
    temporary_sa_timeout_s: int(1, 3600, 30),
    create_failure_status: int(400, 699, 503, STATUS),
    teardown_delay_ms: int(0, 60_000, 1000),
    // 0x400: replies leave the way the request came (TS 33.203 §7.1); src/ipsec/forward.ts.
    forward_flags: int(0, 2 ** 31 - 1, 0x400, 'an integer from 0 to 2147483647 (ipsec_forward flags, the whole integer)'),
  },
  workers: {
    pool_size: int(0, 256, defaultPoolSize(availableParallelism())),
    batch_max: int(1, 4096, 64),
    handoff_min: int(1, 4096, 16),
    scheduling: oneOf(WORKER_SCHEDULING, 'batch'),
    max_in_flight: int(1, 1_048_576, 8192),
  },
  contacts: {
    capacity: int(16, 16_777_216, 20_000),
    domain: name('location'),
  },
  netlink: {
    queue_max: int(1, 1_048_576, 4096),
    timeout_ms: int(1, 600_000, 2000),
  },
  http: {
    listen: hostPortOrEmpty('127.0.0.1:9090'),
  },
  log: {
    level: oneOf(LOG_LEVELS, 'info'),
  },
  shutdown: {
    grace_s: int(0, 3600, 5),
  },
};
