// The P-CSCF as one running service: local sockets, shared state, the P-CSCF logic (pool or
// inline), the transaction layer, the IPsec side (netlink worker and executor) and the operator's
// HTTP endpoint, wired together in the main thread. main.ts only parses the command line, logs,
// and turns signals into stop().
//
//   socket --bytes--> Transports --(bytes, rx)--> parse --SipMessage--> ProxyCore.receive
//   ProxyCore --Inbound--> Dispatcher --batch--> logic --plans--> IpsecExecutor (kernel work)
//                                                                 --> ProxyCore.apply --> Transports.send
//
// IPsec start-up (probe, removal of our leftovers) comes before any socket opens; its shutdown
// (removal of everything ours) after the drain.

import { ipsecEnabled, type Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { HttpApi } from '../http/server.js';
import type { HttpReply } from '../http/server.js';
import { ipsecDestroy, ipsecDestroyByContact, IpsecExecutor, isProtected, isTemporary, sameWay, startIpsec, stopIpsec } from '../ipsec/index.js';
import type { IpsecRuntime } from '../ipsec/index.js';
import { Metrics } from '../metrics/registry.js';
import { PCSCF_METRICS, PcscfContext, removeExpired } from '../pcscf/index.js';
import type { Binding, SaSet } from '../shared/binding.js';
import { ContactTable } from '../shared/contact-table.js';
import { SharedCounters } from '../shared/counters.js';
import { buildErrorFromRaw, buildResponse, parseMessage, SipError, type SipLimits, type SipMessage } from '../sip/index.js';
import { ProxyCore, TimerQueue } from '../transaction/index.js';
import { responseTarget } from '../transaction/response-target.js';
import { planSockets, sipLimitsOf, SocketTable, transportOptions, Transports, type LocalSocket } from '../transport/index.js';
import { Dispatcher, type Logic } from './dispatcher.js';
import { InlineLogic, PoolLogic, type PoolStats, type WorkerInit } from './logic.js';
import { EngineMetrics } from './metrics.js';
import type { Inbound, LogEvent, RxInfo, Target } from './plan.js';

export interface Service {
  readonly sockets: readonly LocalSocket[];
  /** The bound port of the HTTP endpoint, when enabled. */
  readonly httpPort: number | undefined;
  /** Stops accepting, lets transactions finish within shutdown.grace_s, releases everything. */
  stop(): Promise<void>;
}

/** How often expired and abandoned bindings are swept from the contact table. */
const EXPIRY_SWEEP_MS = 1000;
const RETRY_AFTER_S = '5';

export async function startService(config: Config, log: Logger): Promise<Service> {
  const logEvent = (e: LogEvent): void => log[e.level](e.fields ?? {}, e.msg);
  const ipsec = ipsecEnabled(config) ? await startIpsec(config, logEvent) : undefined;
  try {
    return await startWith(config, log, logEvent, ipsec);
  } catch (e) {
    if (ipsec !== undefined) await stopIpsec(ipsec.client, logEvent);
    throw e;
  }
}

/** A binding for the operator: its SA sets without their digests, each marked temporary or established. */
function bindingView(b: Binding): object {
  const { sa, previousSa, ...rest } = b;
  const view = (s: SaSet | undefined, temporary: boolean): object | undefined => {
    if (s === undefined) return undefined;
    const { clientDigest: _, ...numbers } = s;
    return { ...numbers, state: temporary ? 'temporary' : 'established' };
  };
  return { ...rest, sa: view(sa, isTemporary(b)), previousSa: view(previousSa, false) };
}

async function startWith(config: Config, log: Logger, logEvent: (e: LogEvent) => void, ipsec: IpsecRuntime | undefined): Promise<Service> {
  const sockets = planSockets(config);
  const socketTable = new SocketTable(sockets);
  const contacts = ContactTable.create({ capacity: config.contacts.capacity });
  const pcscfCounters = SharedCounters.create(PCSCF_METRICS);
  const engine = new EngineMetrics();
  // The main thread's own context, for the expiry sweep, the IPsec executor and the admin API (the
  // pool workers build theirs from `init`).
  const shared = ipsec === undefined ? {} : { spis: ipsec.spis, ports: ipsec.ports };
  const mainCtx = new PcscfContext({ config, sockets: socketTable, contacts, counters: pcscfCounters, log: logEvent, ...shared });
  const init: WorkerInit = {
    config, sockets, contacts: contacts.buffer, counters: pcscfCounters.buffer,
    ...(ipsec === undefined ? {} : { spis: ipsec.spis.buffer, ports: ipsec.ports.buffer }),
  };
  const logic: Logic & { stats?(): PoolStats; utilizationSinceLast?(): number } =
    config.workers.pool_size === 0 ? new InlineLogic(init) : await PoolLogic.start(init, config.workers.pool_size);
  const executor = ipsec === undefined ? undefined : new IpsecExecutor({
    xfrm: ipsec.client,
    ipsec: mainCtx.ipsec!,
    deliver: (id, plan) => proxy.apply(id, plan),
    outcomes: { relayed: (status) => mainCtx.metrics.relayedResponse(status), refused: () => mainCtx.metrics.rejected('REGISTER', 'ipsec_unavailable') },
    log: logEvent,
    teardownDelayMs: config.security.teardown_delay_ms,
  });

  const limits = sipLimitsOf(config);
  const metrics = new Metrics();
  const batchSize = metrics.histogram('pcscf_pool_batch_size', 'Messages per batch handed to the P-CSCF logic.', [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]);
  const batchSeconds = metrics.histogram('pcscf_pool_batch_seconds', 'Time from handing a batch to the logic to having its plans.', [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5]);

  // Transports and the proxy core refer to each other; the core sends nothing before open() resolved.
  let transports: Transports | undefined;
  const dispatcher = new Dispatcher(logic, {
    batchMax: config.workers.batch_max,
    handoffMin: config.workers.handoff_min,
    maxInFlight: config.workers.max_in_flight,
    ...(config.workers.pool_size === 0 ? {} : { inline: new InlineLogic(init) }),
  }, {
    apply: (id, plan) => (executor === undefined ? proxy.apply(id, plan) : executor.apply(id, plan)),
    events: (events) => { for (const e of events) logEvent(e); },
    failed: (messages, error) => {
      log.error({ err: error, messages: messages.length }, 'the P-CSCF logic failed on a batch');
      for (const m of messages) {
        engine.counters.inc(engine.logicFailures);
        answerLocally(m, 500, 'Server Internal Error');
      }
    },
    batchDone: (size, ms, thread) => {
      engine.counters.add(thread === 'main' ? engine.decidedInMain : engine.decidedInWorker, size);
      batchSize.observe(size);
      batchSeconds.observe(ms / 1000);
    },
  });

  /** Answers a request with a status of the main thread's own (overload, logic failure); other messages are dropped. */
  function answerLocally(m: Inbound, status: number, reason: string, headers: [string, string][] = []): void {
    if (m.kind !== 'request' || m.id === 0) {
      proxy.apply(m.id, { kind: 'drop', reason: `${status} ${reason}` });
      return;
    }
    const request = parseMessage(Buffer.from(m.bytes), { limits, framing: m.rx.transport === 'udp' ? 'datagram' : 'stream' });
    proxy.apply(m.id, { kind: 'reply', status, bytes: buildResponse(request, status, reason, { headers }) });
  }

  const proxy: ProxyCore = new ProxyCore({
    send: (bytes, target, onError) => {
      engine.message('out', target.transport, bytes);
      transports!.send(bytes, target, onError);
    },
    decide: (m) => {
      // Overload: refuse new requests at once rather than queue them behind minutes of work;
      // responses and stateless messages still go through, they finish work already accepted.
      if (m.kind === 'request' && m.id !== 0 && dispatcher.overloaded()) {
        engine.counters.inc(engine.overload);
        answerLocally(m, 503, 'Service Unavailable', [['Retry-After', RETRY_AFTER_S]]);
        return;
      }
      dispatcher.enqueue(m);
    },
    timers: new TimerQueue(),
    t1Ms: config.sip.timers.t1_ms,
    t2Ms: config.sip.timers.t2_ms,
    t4Ms: config.sip.timers.t4_ms,
    onEvent: (e) => engine.txEvent(e),
    // A request that came over an SA is answered over it: the responses the proxy writes itself
    // (408, 487, 500, 503) go back the way the request came, like the ones the logic relays.
    ...(ipsec === undefined ? {} : {
      responseTarget: (request: SipMessage, rx: RxInfo): Target => (isProtected(socketTable, rx.socketId) ? sameWay(rx) : responseTarget(request, rx)),
    }),
  });

  transports = await Transports.open(sockets, transportOptions(config), {
    onMessage: (bytes, rx) => receive(bytes, rx, limits),
    onStreamError: (rx, err) => {
      engine.malformed(rx.transport, true);
      log.debug({ remote: rx.remote, code: err.code, reason: err.reason }, 'TCP stream unusable, connection closed');
    },
    onCallbackError: (err) => log.error({ err }, 'a transport callback threw'),
  }).catch(async (e: unknown) => {
    await logic.close();
    throw e;
  });

  function receive(bytes: Buffer, rx: RxInfo, sipLimits: SipLimits): void {
    engine.message('in', rx.transport, bytes);
    let msg;
    try {
      msg = parseMessage(bytes, { limits: sipLimits, framing: rx.transport === 'udp' ? 'datagram' : 'stream' });
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      const request = !(bytes.length > 4 && bytes.toString('latin1', 0, 4) === 'SIP/');
      engine.malformed(rx.transport, request);
      // RFC 3261 §16.3 / RFC 4475: a malformed request gets its error status back (to where it came
      // from: the Via of a broken message cannot be trusted for routing) when it has the headers a
      // response needs; a response, or a request without them, is dropped.
      const reply = request ? buildErrorFromRaw(bytes, e) : undefined;
      log.debug({ remote: rx.remote, code: e.code, reason: e.reason, header: e.header },
        reply !== undefined ? `malformed request answered ${e.status}` : `malformed ${request ? 'request' : 'response'} dropped`);
      if (reply !== undefined) {
        engine.message('out', rx.transport, reply);
        transports!.send(reply, { transport: rx.transport, socketId: rx.socketId, remote: rx.remote, ...(rx.connId === undefined ? {} : { connId: rx.connId }) });
      }
      return;
    }
    proxy.receive(msg, rx);
  }

  const sweep = setInterval(() => {
    const removed = removeExpired(mainCtx, executor === undefined ? undefined : (id) => executor.creating(id));
    if (removed > 0) log.debug({ removed }, 'expired bindings removed');
    if (executor === undefined) return;
    const notes = mainCtx.ipsec!.takeTeardown();
    if (notes !== undefined) executor.teardown(notes);
    executor.retryDue();
  }, EXPIRY_SWEEP_MS);

  metrics.exportShared(pcscfCounters);
  metrics.exportShared(engine.counters);
  metrics.gauge('pcscf_bindings', 'Bindings in the contact table (pending and registered).', () => contacts.size);
  metrics.gauge('pcscf_bindings_capacity', 'Bindings the contact table can hold (contacts.capacity).', () => config.contacts.capacity);
  metrics.labelledGauge('pcscf_transactions', 'Live transactions.', ['side'], () => {
    const s = proxy.stats();
    return [[{ side: 'server' }, s.serverTx], [{ side: 'client' }, s.clientTx]];
  });
  metrics.gauge('pcscf_pool_in_flight', 'Messages waiting for or being decided by the P-CSCF logic.', () => dispatcher.inFlight);
  metrics.gauge('pcscf_pool_utilization', 'Share of the pool workers\' time spent deciding since the previous scrape (0..1; 0 when inline).',
    () => logic.utilizationSinceLast?.() ?? 0);
  metrics.gauge('pcscf_tcp_connections', 'Open TCP connections.', () => transports!.stats().connections.open);
  metrics.counterFrom('pcscf_transport_bytes_total', 'Octets received and sent, by transport.', ['transport', 'direction'], () => {
    const s = transports!.stats();
    return [[{ transport: 'udp', direction: 'in' }, s.udp.bytesIn], [{ transport: 'udp', direction: 'out' }, s.udp.bytesOut],
      [{ transport: 'tcp', direction: 'in' }, s.tcp.bytesIn], [{ transport: 'tcp', direction: 'out' }, s.tcp.bytesOut]];
  });
  metrics.counterFrom('pcscf_tcp_connections_closed_total', 'TCP connections closed, by reason.', ['reason'],
    () => Object.entries(transports!.stats().connections.closed).map(([reason, n]) => [{ reason }, n]));
  metrics.counterFrom('pcscf_transport_send_errors_total', 'Sends that failed, by transport error code.', ['code'],
    () => Object.entries(transports!.stats().sendErrors).map(([code, n]) => [{ code }, n]));
  if (ipsec !== undefined && executor !== undefined) ipsecMetrics(metrics, ipsec, executor);

  let draining = false;
  const http = new HttpApi()
    .route('GET', '/metrics', async () => ({ status: 200, body: await metrics.text(), contentType: metrics.contentType }))
    .route('GET', '/health', () => ({
      status: draining ? 503 : 200,
      body: { status: draining ? 'draining' : 'ok', bindings: contacts.size, transactions: proxy.stats(), inFlight: dispatcher.inFlight },
    }))
    .route('GET', '/admin/bindings', (q) => {
      const limit = Math.min(Number(q.get('limit') ?? 1000) || 1000, 100_000);
      const aor = q.get('aor');
      const list = [];
      for (const [id, b] of contacts.entries()) {
        if (aor !== null && b.aor !== aor) continue;
        list.push({ id, ...bindingView(b) });
        if (list.length >= limit) break;
      }
      return { status: 200, body: { bindings: list, total: contacts.size } };
    })
    .route('DELETE', '/admin/bindings', (q) => destroy(q))
    .route('GET', '/admin/status', () => ({
      status: 200,
      body: {
        status: draining ? 'draining' : 'ok',
        bindings: { size: contacts.size, capacity: config.contacts.capacity },
        transactions: proxy.stats(),
        pool: logic.stats?.() ?? { threads: 0, inline: true },
        dispatcher: { inFlight: dispatcher.inFlight, overloaded: dispatcher.overloaded() },
        ipsec: ipsec === undefined ? { enabled: false } : {
          enabled: true,
          kernel: ipsec.capabilities,
          netlink: ipsec.client.stats(),
          executor: executor!.stats(),
          spiPairs: { inUse: ipsec.spis.inUse, capacity: ipsec.spis.capacity, exhausted: ipsec.spis.exhaustedCount },
        },
      },
    }));

  /**
   * DELETE /admin/bindings?aor=<AOR>: ipsecDestroy; with &host=<address>&port=<port>:
   * ipsecDestroyByContact. The bindings go at once; their SAs right after.
   */
  function destroy(q: URLSearchParams): HttpReply {
    const ctx = mainCtx.ipsec;
    if (ctx === undefined || executor === undefined) return { status: 409, body: { error: 'IPsec is disabled (ipsec_listen_addr and ipsec_listen_addr6 are "")' } };
    const aor = q.get('aor');
    const host = q.get('host');
    const port = q.get('port');
    if (aor === null || aor === '') return { status: 400, body: { error: 'aor is required' } };
    if ((host === null) !== (port === null)) return { status: 400, body: { error: 'host and port go together' } };
    const portNumber = Number(port);
    if (port !== null && !(Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535)) return { status: 400, body: { error: 'port must be 1-65535' } };
    const removed = host === null ? ipsecDestroy(ctx, ctx.domain, aor) : ipsecDestroyByContact(ctx, ctx.domain, aor, host, portNumber);
    const notes = ctx.takeTeardown();
    if (notes !== undefined) executor.teardown(notes);
    return { status: 200, body: { removed } };
  }
  let httpPort: number | undefined;
  if (config.http.listen !== '') {
    try {
      httpPort = await http.listen(config.http.listen);
    } catch (e) {
      clearInterval(sweep);
      await Promise.all([transports.close(), logic.close()]);
      await executor?.idle();
      throw e;
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    draining = true;
    await transports!.stopAccepting();
    await proxy.drain(config.shutdown.grace_s * 1000, Number(RETRY_AFTER_S));
    clearInterval(sweep);
    await Promise.all([transports!.close(), logic.close(), http.close()]);
    if (ipsec !== undefined) {
      await executor!.idle();
      await stopIpsec(ipsec.client, logEvent);
    }
  })());

  return { sockets, httpPort, stop };
}

/** The IPsec gauges and the netlink worker's statistics. */
function ipsecMetrics(metrics: Metrics, ipsec: IpsecRuntime, executor: IpsecExecutor): void {
  const sets = (): number => executor.stats().setsInstalled;
  metrics.gauge('pcscf_ipsec_sas', 'ESP SAs of ours in the kernel (4 per SA set).', () => 4 * sets());
  metrics.gauge('pcscf_ipsec_policies', 'XFRM policies of ours in the kernel (4 per SA set).', () => 4 * sets());
  metrics.gauge('pcscf_ipsec_teardowns_retrying', 'SA set removals waiting for a retry after a failed delete.', () => executor.stats().retrying);
  metrics.gauge('pcscf_spi_pairs_in_use', 'SPI pairs allocated (one per SA set).', () => ipsec.spis.inUse);
  metrics.gauge('pcscf_spi_pairs_capacity', 'SPI pairs in the pool (ipsec_spi_id_range / 2).', () => ipsec.spis.capacity);
  metrics.counterFrom('pcscf_spi_pool_exhausted_total', 'SPI pair requests that found the pool empty.', [], () => [[{}, ipsec.spis.exhaustedCount]]);
  metrics.gauge('pcscf_netlink_queue_depth', 'XFRM ops submitted and not yet answered by the kernel.', () => ipsec.client.stats().queueDepth);
  metrics.counterFrom('pcscf_netlink_ops_total', 'XFRM ops sent to the kernel, and how many failed.', ['result'], () => {
    const s = ipsec.client.stats();
    return [[{ result: 'ok' }, s.ops - s.opsFailed], [{ result: 'failed' }, s.opsFailed]];
  });
  metrics.counterFrom('pcscf_netlink_errors_total', 'XFRM ops the kernel refused or that failed, by errno name.', ['errno'],
    () => Object.entries(ipsec.client.stats().errors).map(([errno, n]) => [{ errno }, n]));
  metrics.counterFrom('pcscf_netlink_timeouts_total', 'Batches the kernel did not answer within netlink.timeout_ms.', [], () => [[{}, ipsec.client.stats().timeouts]]);
  metrics.counterFrom('pcscf_netlink_rollbacks_total', 'Groups of ops rolled back because one of their ops failed.', [], () => [[{}, ipsec.client.stats().rollbacks]]);
  metrics.histogramFrom('pcscf_netlink_batch_ops', 'XFRM ops per datagram sent to the kernel.', () => {
    const s = ipsec.client.stats();
    return { buckets: s.opsPerBatch, sum: s.ops, count: s.batches };
  });
  metrics.histogramFrom('pcscf_netlink_batch_seconds', 'Kernel round trip of one batch, from sendto to its last acknowledgement.', () => {
    const l = ipsec.client.stats().kernelLatencyUs;
    return { buckets: l.buckets.map((b) => ({ le: b.le / 1e6, count: b.count })), sum: l.sum / 1e6, count: l.count };
  });
}
