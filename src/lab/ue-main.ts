#!/usr/bin/env node
// The lab UE from the command line, meant to run inside the UE's network namespace
// (`ip netns exec ue node dist/lab/ue-main.js ...`): its SAs go into that namespace's kernel through
// its own netlink worker. Events are JSON lines on stdout, commands JSON lines on stdin. With
// --count it is a load generator: that many UEs, registered at --rate per second, one
// `load-sample` event each and a `load-done` summary.
// It stops on {"cmd":"quit"}, at the end of stdin, or on SIGTERM / SIGINT, removing its SAs.

import { isIP } from 'node:net';
import { XfrmClient } from '../netlink/client.js';
import { isValidAlgPair } from '../ipsec/algorithms.js';
import { authAlgOf, encAlgOf } from '../secagree/index.js';
import { commandString, emit, errorEvent, intFlag, parseFlags, readCommands, runMain, type CommandInput, type LabCommand } from './cli.js';
import { LabInputError } from './errors.js';
import { percentile, registerMany, slotOf } from './load.js';
import { SipNode } from './sip-node.js';
import { expandTemplate, hexKey } from './subscribers.js';
import { LAB_UE_MARKER, Ue, type UeOptions } from './ue.js';
import type { AlgPair } from './ue-security.js';
import { K_LENGTH, OP_LENGTH, opcFromOp } from './milenage.js';

const USAGE = `usage: ue-main --impi ID --impu URI --k HEX (--opc HEX | --op HEX) --addr IP --pcscf IP
               [--pcscf-port N] [--transport udp|tcp] [--ports BASE] [--spi BASE] [--offer ALG/EALG]...
               [--home DOMAIN] [--sqn-ms N] [--expires S] [--marker N] [--register]
               [--count N --rate R [--first N]]

  A UE for the IMS lab: IMS AKA registration through the P-CSCF with the ipsec-3gpp security
  agreement, its own 4 SAs and 4 policies installed in this network namespace, MESSAGE both ways,
  re-registration (new SAs, TS 33.203 §7.4) and de-registration.

  --ports BASE   unprotected port BASE, port_us BASE+1, port_uc BASE+2 / BASE+3 (default 5060)
  --spi BASE     the UE's SPIs BASE .. BASE+3 (default 10000)
  --offer        an ipsec-3gpp mechanism to offer, e.g. hmac-sha-1-96/aes-cbc (repeatable; that is the default)
  --register     register at start
  --count N      load generator: N UEs (identities with {n}, n from --first, default 1), each with
                 its own 4 ports and 4 SPIs after the previous one's, registered at --rate per second

  stdin commands (JSON lines): {"cmd":"register"} {"cmd":"reregister"} {"cmd":"deregister"}
    {"cmd":"register","forge":"security-verify"} (a test of the P-CSCF: a Security-Verify it must refuse)
    {"cmd":"message","to":"sip:bob@ims.example","text":"hi"} {"cmd":"status"} {"cmd":"quit"}
  stdout events: ready, security-client, challenged, resynchronising, security-server, sas-installed, registered,
    reregistered, deregistered, sas-removed, message-received, message-answered, status,
    load-sample, load-done, error (code, reason, status / errno when known), stopped
`;

const FLAGS = {
  impi: { type: 'string' },
  impu: { type: 'string' },
  k: { type: 'string' },
  opc: { type: 'string' },
  op: { type: 'string' },
  'sqn-ms': { type: 'string' },
  home: { type: 'string' },
  addr: { type: 'string' },
  pcscf: { type: 'string' },
  'pcscf-port': { type: 'string' },
  transport: { type: 'string' },
  ports: { type: 'string' },
  spi: { type: 'string' },
  offer: { type: 'string', multiple: true },
  expires: { type: 'string' },
  marker: { type: 'string' },
  register: { type: 'boolean' },
  count: { type: 'string' },
  rate: { type: 'string' },
  first: { type: 'string' },
} as const;

function required(name: string, value: string | undefined): string {
  if (value === undefined) throw new LabInputError('ERR_LAB_CONFIG', `--${name}`, 'is required');
  return value;
}

function ipFlag(name: string, value: string | undefined): string {
  const v = required(name, value);
  if (isIP(v) === 0) throw new LabInputError('ERR_LAB_CONFIG', `--${name}`, 'must be an IP literal');
  return v;
}

function offerFlag(text: string): AlgPair {
  const [a, e] = text.split('/');
  const alg = a === undefined ? null : authAlgOf(a);
  const ealg = e === undefined ? null : encAlgOf(e);
  if (alg === null || ealg === null || !isValidAlgPair(alg, ealg)) throw new LabInputError('ERR_LAB_CONFIG', '--offer', `${JSON.stringify(text)} is not a usable alg/ealg pair`);
  return [alg, ealg];
}

/** UE i's options from the flags (i > 0 only in load mode). */
function optionsFrom(f: ReturnType<typeof parseFlags<typeof FLAGS>>): (i: number) => UeOptions {
  const k = hexKey('--k', required('k', f.k), K_LENGTH);
  if ((f.opc === undefined) === (f.op === undefined)) throw new LabInputError('ERR_LAB_CONFIG', '--opc', 'give exactly one of --opc and --op');
  const opc = f.opc !== undefined ? hexKey('--opc', f.opc, OP_LENGTH) : opcFromOp(k, hexKey('--op', f.op, OP_LENGTH));
  const transport = f.transport ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp') throw new LabInputError('ERR_LAB_CONFIG', '--transport', 'must be udp or tcp');
  const impi = required('impi', f.impi);
  const impu = required('impu', f.impu);
  const plan = { portBase: intFlag('ports', f.ports, 5060, 1, 65532), spiBase: intFlag('spi', f.spi, 10000, 256, 0xfffffffc) };
  const first = intFlag('first', f.first, 1);
  const common = {
    k, opc, addr: ipFlag('addr', f.addr), transport,
    pcscf: { addr: ipFlag('pcscf', f.pcscf), port: intFlag('pcscf-port', f['pcscf-port'], 5060, 1, 65535) },
    offers: (f.offer ?? ['hmac-sha-1-96/aes-cbc']).map(offerFlag),
    expires: intFlag('expires', f.expires, 600, 0),
    marker: intFlag('marker', f.marker, LAB_UE_MARKER, 1, 0xffffffff),
    ...(f.home === undefined ? {} : { home: f.home }),
    ...(f['sqn-ms'] === undefined ? {} : { sqnMs: intFlag('sqn-ms', f['sqn-ms'], 0, 0, 2 ** 48 - 1) }),
  } as const;
  return (i) => {
    const slot = slotOf(i, plan);
    if (slot.ports.clients[1] > 65535) throw new LabInputError('ERR_LAB_CONFIG', '--ports', `UE ${i} would need ports above 65535`);
    return { ...common, impi: expandTemplate(impi, first + i), impu: expandTemplate(impu, first + i), ports: slot.ports, spiBase: slot.spiBase };
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, FLAGS);
  const options = optionsFrom(f);
  const count = f.count === undefined ? undefined : intFlag('count', f.count, 1, 1, 16000);
  const first = options(0);
  const xfrm = await XfrmClient.start({ marker: first.marker });
  const node = new SipNode();
  let input: CommandInput | undefined;
  const ues: Ue[] = [];
  try {
    if (count !== undefined) {
      const rate = intFlag('rate', f.rate, 100, 1);
      emit({ event: 'ready', count, rate });
      const result = await registerMany({ count, ratePerSecond: rate, ue: options, xfrm, node, onSample: (s) => emit({ event: 'load-sample', ...s }) });
      ues.push(...result.ues);
      const ok = result.samples.filter((s) => s.ok);
      const ms = (pick: (s: (typeof ok)[number]) => number | undefined): { p50: number; p99: number } => {
        const v = ok.map(pick).filter((x): x is number => x !== undefined);
        return { p50: percentile(v, 50), p99: percentile(v, 99) };
      };
      emit({
        event: 'load-done', count, ok: ok.length, failed: count - ok.length, elapsedMs: result.elapsedMs,
        registrationsPerSecond: ok.length / (result.elapsedMs / 1000), challengeMs: ms((s) => s.challengedAfterMs), registerMs: ms((s) => s.registeredAfterMs),
      });
    } else {
      const ue = new Ue(first, { xfrm, node, onEvent: emit });
      ues.push(ue);
      emit({ event: 'ready', impu: first.impu, addr: first.addr, transport: first.transport ?? 'udp', ports: first.ports, spiBase: first.spiBase });
      if (f.register === true) await ue.register().catch((e: unknown) => emit(errorEvent('register', e)));
    }
    const handle = async (cmd: LabCommand): Promise<void> => {
      const ue = ues[0]!;
      switch (cmd.cmd) {
        case 'register': await ue.register({ forgeSecurityVerify: cmd['forge'] === 'security-verify' }); return;
        case 'reregister': await ue.reregister(); return;
        case 'deregister': await ue.deregister(); return;
        case 'message': await ue.sendMessage(commandString(cmd, 'to'), commandString(cmd, 'text')); return;
        case 'status': emit({ event: 'status', registered: ues.filter((u) => u.registered).length, tunnel: ue.tunnel === undefined ? null : { ...ue.tunnel, ck: undefined, ik: undefined } }); return;
        case 'quit': input?.close(); return;
        default: throw new LabInputError('ERR_LAB_CONFIG', 'cmd', `unknown command ${JSON.stringify(cmd.cmd)} (register, reregister, deregister, message, status, quit)`);
      }
    };
    input = readCommands(handle);
    await input.done;
  } finally {
    input?.close();
    // Every SA this process installed goes, whatever happened.
    for (const ue of ues) await ue.close().catch((e: unknown) => emit(errorEvent('close', e)));
    await node.close();
    await xfrm.close();
  }
  emit({ event: 'stopped' });
  return 0;
}

runMain(USAGE, main);
