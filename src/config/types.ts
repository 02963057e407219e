import type { Transport } from '../engine/plan.js';
import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';

// Field names are the YAML keys (snake_case), so a Kamailio user finds the module's parameter names.

/** Which network a listener faces: UEs (the Gm access side), the IMS core, or both. */
export type ListenerSide = 'access' | 'core' | 'both';
export const LISTENER_SIDES: readonly ListenerSide[] = ['access', 'core', 'both'];

export interface Listener {
  readonly transport: Transport;
  readonly address: string;
  readonly port: number;
  readonly side: ListenerSide;
  /** Host written in the Via, Path and Record-Route of messages through this listener; never "" once loaded. */
  readonly advertise: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** How pool worker threads are scheduled: SCHED_BATCH, or as the main thread (SCHED_OTHER). */
export const WORKER_SCHEDULING = ['batch', 'normal'] as const;
export type WorkerScheduling = (typeof WORKER_SCHEDULING)[number];

export interface Config {
  readonly ipsec_listen_addr: string;
  readonly ipsec_listen_addr6: string;
  readonly ipsec_client_port: number;
  readonly ipsec_server_port: number;
  readonly ipsec_max_connections: number;
  readonly ipsec_reuse_server_port: 0 | 1;
  readonly ipsec_spi_id_start: number;
  readonly ipsec_spi_id_range: number;
  readonly ipsec_preferred_alg: AuthAlg | '';
  readonly ipsec_preferred_ealg: EncAlg | '';
  readonly sip: {
    readonly listen: readonly Listener[];
    /** Never "" once loaded: an empty setting is replaced by the derived host. */
    readonly advertised_host: string;
    readonly next_hop: string;
    readonly trusted_peers: readonly string[];
    readonly unregistered_status: number;
    readonly timers: { readonly t1_ms: number; readonly t2_ms: number; readonly t4_ms: number };
    readonly tcp: { readonly idle_timeout_s: number; readonly max_connections: number; readonly connect_timeout_ms: number };
    readonly limits: {
      readonly max_udp_bytes: number;
      readonly max_tcp_message_bytes: number;
      readonly max_headers: number;
      readonly max_line_bytes: number;
    };
  };
  readonly security: {
    readonly require_sec_agree: boolean;
    readonly allowed_algorithms: readonly AuthAlg[];
    readonly allowed_encryption: readonly EncAlg[];
    readonly disable_deprecated_algorithms: boolean;
    readonly xfrm_user_marker: number;
    readonly temporary_sa_timeout_s: number;
    readonly create_failure_status: number;
    readonly teardown_delay_ms: number;
    readonly forward_flags: number;
  };
  readonly workers: { readonly pool_size: number; readonly batch_max: number; readonly handoff_min: number; readonly scheduling: WorkerScheduling; readonly max_in_flight: number };
  readonly contacts: { readonly capacity: number; readonly domain: string };
  readonly netlink: { readonly queue_max: number; readonly timeout_ms: number };
  readonly http: { readonly listen: string };
  readonly log: { readonly level: LogLevel };
  readonly shutdown: { readonly grace_s: number };
}

/** IPsec is off when neither protected listen address is set (as in Kamailio, where each empty address disables its family). */
export function ipsecEnabled(c: Pick<Config, 'ipsec_listen_addr' | 'ipsec_listen_addr6'>): boolean {
  return c.ipsec_listen_addr !== '' || c.ipsec_listen_addr6 !== '';
}
