// The IPsec counters, in the P-CSCF's SharedCounters (src/pcscf/metrics.ts appends these families
// to PCSCF_METRICS): the workers count what they decide (Security-Verify mismatches, protected-port
// rejects, sets they could not ask for), the main thread what the kernel did (sets created and
// removed, failures). Gauges of state (SAs installed, SPI pairs in use) are read at scrape time.

import type { XfrmWhy } from '../engine/plan.js';
import type { MismatchCode } from '../secagree/index.js';
import type { MetricCell, MetricSpec, SharedCounters } from '../shared/counters.js';

/** Why ipsecCreate gave no 401 (security.create_failure_status instead). */
export type CreateFailure =
  | 'aka_keys' // the 401 carries no usable ck / ik
  | 'no_offer' // the REGISTER's Security-Client has no usable offer any more
  | 'no_address' // no ipsec_listen_addr(6) of the UE's address family
  | 'no_binding' // the binding the set was for is gone
  | 'spi_exhausted' // every SPI pair is in use (ipsec_spi_id_range / 2)
  | 'kernel' // the kernel refused an SA or policy (errno in the log and pcscf_netlink_errors_total)
  | 'netlink' // the netlink queue was full, or the worker timed out or is gone
  | 'binding_changed' // the binding changed address or vanished while the kernel worked
  | 'undelivered'; // the 401 could not be sent (its transaction ended meanwhile)

export const CREATE_FAILURES: readonly CreateFailure[] = [
  'aka_keys', 'no_offer', 'no_address', 'no_binding', 'spi_exhausted', 'kernel', 'netlink', 'binding_changed', 'undelivered',
];

const MISMATCH_CODES: readonly MismatchCode[] = ['MISSING', 'UNPARSABLE', 'MECHANISM_COUNT', 'MECHANISM_NAME', 'PARAM_MISSING', 'PARAM_EXTRA', 'PARAM_VALUE'];
/** Security-Client of the REGISTER over a new set differs from the one that asked for it. */
const CHANGED = 'CHANGED';

export const XFRM_WHYS: readonly XfrmWhy[] = [
  'register', 'superseded', 'replaced', 'refused', 'deregistered', 'expired', 'temporary', 'moved', 'unprotected', 'admin', 'undo',
];

export const IPSEC_METRICS: readonly MetricSpec[] = [
  {
    name: 'pcscf_security_verify_mismatches_total',
    help: 'Protected REGISTERs refused (494) because Security-Verify differs from the Security-Server sent, or Security-Client from the first one (RFC 3329 §2.3.1, TS 33.203 Annex H), by header and difference',
    kind: 'counter',
    labels: { header: ['verify', 'client'], code: [...MISMATCH_CODES.map((c) => c.toLowerCase()), CHANGED.toLowerCase()] },
  },
  {
    name: 'pcscf_protected_port_rejects_total',
    help: 'Messages on a protected port that did not come over an SA set of ours (requests answered 403, responses dropped), and requests of IPsec UEs outside their SAs',
    kind: 'counter',
    labels: { kind: ['request', 'response', 'unprotected'] },
  },
  {
    name: 'pcscf_ipsec_create_failures_total',
    help: 'Challenges answered with security.create_failure_status instead of a 401 with Security-Server, by reason',
    kind: 'counter',
    labels: { reason: CREATE_FAILURES },
  },
  {
    name: 'pcscf_ipsec_sets_created_total',
    help: 'SA sets (4 SAs and 4 policies) the kernel acknowledged and the P-CSCF announced',
    kind: 'counter',
  },
  {
    name: 'pcscf_ipsec_sets_removed_total',
    help: 'SA sets removed from the kernel, by why (temporary: never confirmed within security.temporary_sa_timeout_s)',
    kind: 'counter',
    labels: { why: XFRM_WHYS },
  },
  {
    name: 'pcscf_ipsec_teardown_failures_total',
    help: 'Deletes of SAs or policies that failed and are retried (their SPI pair stays allocated until they succeed)',
    kind: 'counter',
  },
];

function cells<K extends string>(counters: SharedCounters, name: string, label: string, values: readonly K[]): Record<K, MetricCell> {
  const out = {} as Record<K, MetricCell>;
  for (const v of values) out[v] = counters.cell(name, { [label]: v });
  return out;
}

/** The cells of IPSEC_METRICS, resolved once. */
export class IpsecMetrics {
  private readonly verify = new Map<string, MetricCell>();
  private readonly rejects: Record<'request' | 'response' | 'unprotected', MetricCell>;
  private readonly failures: Record<CreateFailure, MetricCell>;
  private readonly created: MetricCell;
  private readonly removed: Record<XfrmWhy, MetricCell>;
  private readonly teardownFailures: MetricCell;

  constructor(private readonly counters: SharedCounters) {
    for (const header of ['verify', 'client']) {
      for (const code of [...MISMATCH_CODES, CHANGED]) {
        this.verify.set(`${header} ${code}`, counters.cell('pcscf_security_verify_mismatches_total', { header, code: code.toLowerCase() }));
      }
    }
    this.rejects = cells(counters, 'pcscf_protected_port_rejects_total', 'kind', ['request', 'response', 'unprotected']);
    this.failures = cells(counters, 'pcscf_ipsec_create_failures_total', 'reason', CREATE_FAILURES);
    this.created = counters.cell('pcscf_ipsec_sets_created_total');
    this.removed = cells(counters, 'pcscf_ipsec_sets_removed_total', 'why', XFRM_WHYS);
    this.teardownFailures = counters.cell('pcscf_ipsec_teardown_failures_total');
  }

  verifyMismatch(header: 'verify' | 'client', code: MismatchCode | typeof CHANGED): void {
    this.counters.inc(this.verify.get(`${header} ${code}`)!);
  }

  protectedReject(kind: 'request' | 'response' | 'unprotected'): void {
    this.counters.inc(this.rejects[kind]);
  }

  createFailed(reason: CreateFailure): void {
    this.counters.inc(this.failures[reason]);
  }

  setCreated(): void {
    this.counters.inc(this.created);
  }

  setRemoved(why: XfrmWhy): void {
    this.counters.inc(this.removed[why]);
  }

  teardownFailed(): void {
    this.counters.inc(this.teardownFailures);
  }
}
