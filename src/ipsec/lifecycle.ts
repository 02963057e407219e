// Start-up and shutdown of the IPsec side (DESIGN.md invariant 4, kamailio-behaviour.md §8.6):
// before any socket opens, the netlink worker starts, the kernel is probed for ESP and the
// negotiable algorithms, and whatever a previous run left in the kernel with our marker is
// removed (nothing else: another owner's SAs and policies keep theirs); after the shutdown drain,
// everything with our marker is removed again. A kernel without ESP for a configured family
// stops the start with a message that says what is missing and how to check.

import type { Config } from '../config/index.js';
import type { LogEvent } from '../engine/plan.js';
import { XfrmClient, type KernelCapabilities } from '../netlink/client.js';
import { ProtectedPorts } from '../shared/protected-ports.js';
import { SpiAllocator } from '../shared/spi-allocator.js';
import { isDeprecatedAuth, isDeprecatedEnc, VALID_ALG_PAIRS, type AuthAlg, type EncAlg } from './algorithms.js';
import { IpsecError } from './errors.js';

export interface IpsecRuntime {
  readonly client: XfrmClient;
  readonly spis: SpiAllocator;
  readonly ports: ProtectedPorts;
  readonly capabilities: KernelCapabilities;
}

export interface IpsecStartOptions {
  /** Run the netlink worker in this network namespace (tests). */
  readonly netns?: string;
}

/** The algorithm pairs the configuration lets a UE negotiate. */
export function allowedPairs(config: Config): (readonly [AuthAlg, EncAlg])[] {
  const s = config.security;
  return VALID_ALG_PAIRS.filter(([alg, ealg]) => s.allowed_algorithms.includes(alg) && s.allowed_encryption.includes(ealg)
    && !(s.disable_deprecated_algorithms && (isDeprecatedAuth(alg) || isDeprecatedEnc(ealg))));
}

function kernelMessage(config: Config, caps: KernelCapabilities): string | undefined {
  const missing: string[] = [];
  if (config.ipsec_listen_addr !== '' && !caps.esp.ipv4) missing.push(`IPv4 (ipsec_listen_addr ${config.ipsec_listen_addr})`);
  if (config.ipsec_listen_addr6 !== '' && !caps.esp.ipv6) missing.push(`IPv6 (ipsec_listen_addr6 ${config.ipsec_listen_addr6})`);
  if (missing.length === 0 && caps.algorithms.some((a) => a.ok)) return undefined;
  const what = missing.length > 0 ? `ESP for ${missing.join(' and ')}` : 'any of the algorithm pairs the configuration allows';
  return [
    `IPsec is enabled, but this kernel cannot create ${what}.`,
    caps.message,
    "The algorithms the kernel knows are listed in /proc/crypto (grep -E '^name' /proc/crypto).",
    'To run without IPsec, set ipsec_listen_addr and ipsec_listen_addr6 to "".',
  ].join('\n');
}

/** Starts the netlink worker, checks the kernel, removes our leftovers, creates the SPI pool and port cursors. */
export async function startIpsec(config: Config, log: (e: LogEvent) => void, o: IpsecStartOptions = {}): Promise<IpsecRuntime> {
  let client: XfrmClient;
  try {
    client = await XfrmClient.start({
      marker: config.security.xfrm_user_marker,
      queueMax: config.netlink.queue_max,
      timeoutMs: config.netlink.timeout_ms,
      ...(o.netns === undefined ? {} : { netns: o.netns }),
    });
  } catch (e) {
    throw new IpsecError('IPSEC_NETLINK_FAILED',
      `IPsec is enabled, but the XFRM netlink socket could not be opened (${e instanceof Error ? e.message : String(e)}): ` +
      'the P-CSCF needs CAP_NET_ADMIN (run it as root, or grant the capability).', { cause: e });
  }
  try {
    const capabilities = await client.probe(allowedPairs(config));
    const problem = kernelMessage(config, capabilities);
    if (problem !== undefined) throw new IpsecError('IPSEC_KERNEL_UNSUPPORTED', problem);
    for (const a of capabilities.algorithms) {
      if (!a.ok) log({ level: 'warn', msg: 'an allowed algorithm pair does not work on this kernel; offers of it get security.create_failure_status', fields: { alg: a.alg, ealg: a.ealg, detail: a.message } });
    }
    const removed = await client.deleteOurs();
    if (removed.sas + removed.policies > 0 || removed.errors.length > 0) {
      log({ level: removed.errors.length > 0 ? 'warn' : 'info', msg: 'removed SAs and policies a previous run left with our marker', fields: {
        sas: removed.sas, policies: removed.policies, errors: removed.errors.length, marker: config.security.xfrm_user_marker,
      } });
    }
    const spis = SpiAllocator.create({ spiStart: config.ipsec_spi_id_start, spiRange: config.ipsec_spi_id_range });
    const ports = ProtectedPorts.create({ clientPort: config.ipsec_client_port, serverPort: config.ipsec_server_port, maxConnections: config.ipsec_max_connections });
    return { client, spis, ports, capabilities };
  } catch (e) {
    await client.close();
    if (e instanceof IpsecError) throw e;
    throw new IpsecError('IPSEC_NETLINK_FAILED', `IPsec start-up failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Removes everything with our marker and stops the netlink worker (after the shutdown drain). */
export async function stopIpsec(client: XfrmClient, log: (e: LogEvent) => void): Promise<void> {
  try {
    const removed = await client.deleteOurs();
    log({ level: removed.errors.length > 0 ? 'warn' : 'info', msg: 'removed our SAs and policies', fields: { sas: removed.sas, policies: removed.policies, errors: removed.errors.length } });
  } catch (e) {
    log({ level: 'error', msg: 'the final cleanup of our SAs and policies failed', fields: { error: e instanceof Error ? e.message : String(e) } });
  } finally {
    await client.close();
  }
}
