// `npm run demo`: one IMS registration over real IPsec ESP, shown step by step.
//
// Builds the three-namespace lab (UE <-> P-CSCF <-> core, test/helpers/lab-net.ts), starts the
// P-CSCF (`node dist/main.js`) with config/demo.yaml, the lab S-CSCF in the core namespace and the
// lab UE in the UE namespace (src/lab/, both compiled), then: the UE registers with IMS AKA and the
// ipsec-3gpp security agreement (RFC 3329, TS 33.203), the P-CSCF's SAs are listed as the kernel
// shows them, a MESSAGE goes each way over the SAs (their packet counters move), the UE
// de-registers and the SAs are shown gone.
//
// Needs root (network namespaces, XFRM). Runs on this host when its kernel has ESP, otherwise in
// the ESP VM (scripts/esp-kernel.ts); with neither it says what is missing and exits 1. Everything
// it creates (namespaces, processes, SAs) is removed at the end, on failure and on Ctrl-C.
//
//   npm run demo            (or: sudo npx tsx scripts/demo.ts)

import type { LabProcess as LabProcessT } from '../test/helpers/lab-process.js';
import type { PcscfProcess as PcscfProcessT } from '../test/helpers/pcscf-process.js';
import { relaunchInEspKernel, ROOT } from './esp-kernel.js';

await relaunchInEspKernel({ what: 'The demo', vmTimeoutS: 600 });

// Imported only where the demo runs: the namespace helper takes over SIGINT to clean up.
const { readFileSync } = await import('node:fs');
const { join } = await import('node:path');
const { parse } = await import('yaml');
const { createLabNet } = await import('../test/helpers/lab-net.js');
const { LabProcess } = await import('../test/helpers/lab-process.js');
const { PcscfProcess } = await import('../test/helpers/pcscf-process.js');
const { parsePolicies, parseStates } = await import('../test/helpers/iproute.js');

const IMPI = 'alice@ims.example';
const IMPU = 'sip:alice@ims.example';
// TS 35.208 test set 1: K and OPc of the lab subscriber (a lab, so the keys may be public).
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
// Upper bounds for a failing step (the VM is 7-11x slower than a host), not what a step takes.
const STEP_MS = 60_000;

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
let stepNo = 0;
const step = (title: string): void => console.log(`\n${bold(`${++stepNo}. ${title}`)}`);
const say = (s: string): void => console.log(`   ${s}`);
const block = (text: string): void => console.log(text.trim() === '' ? '     (empty)' : text.trimEnd().split('\n').map((l) => `     ${l}`).join('\n'));

const net = createLabNet('demo');
const { addr } = net;
const dist = (file: string): string[] => [process.execPath, join(ROOT, 'dist', 'lab', file)];

// config/demo.yaml, with the lab's addresses written in (the file carries the same, for the reader).
const config = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, unknown>;
config['ipsec_listen_addr'] = addr.pcscfUe4;
config['sip'] = {
  ...(config['sip'] as Record<string, unknown>),
  listen: ['udp', 'tcp'].flatMap((transport) => [
    { transport, address: addr.pcscfUe4, port: 5060, side: 'access' },
    { transport, address: addr.pcscfCore4, port: 5060, side: 'core' },
  ]),
  next_hop: `sip:${addr.core4}:5060;transport=udp`,
  trusted_peers: [addr.core4],
};

const xfrmStates = (ns: typeof net.ue): ReturnType<typeof parseStates> => parseStates(ns.ip('-s', '-d', 'xfrm', 'state', 'list'));
const xfrmPolicies = (ns: typeof net.ue): ReturnType<typeof parsePolicies> => parsePolicies(ns.ip('xfrm', 'policy', 'list'));

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let pcscf: PcscfProcessT | undefined;
let scscf: LabProcessT | undefined;
let ue: LabProcessT | undefined;
let status = 0;
try {
  step('The lab: three network namespaces linked by veth pairs');
  say(`UE        ${net.ue.name}: ${addr.ue4}`);
  say(`P-CSCF    ${net.pcscf.name}: ${addr.pcscfUe4} (UE side, IPsec)  ${addr.pcscfCore4} (core side)`);
  say(`S-CSCF    ${net.core.name}: ${addr.core4}`);

  step('Start the P-CSCF (config/demo.yaml), the lab S-CSCF and the lab UE');
  pcscf = await PcscfProcess.start(net.pcscf, { config, entry: 'dist', readyTimeoutMs: 3 * STEP_MS });
  say(`P-CSCF pid ${pcscf.pid}: SIP on ${addr.pcscfUe4}:5060 and ${addr.pcscfCore4}:5060, protected ports ${String(config['ipsec_client_port'])} (client) / ${String(config['ipsec_server_port'])} (server)`);
  scscf = LabProcess.start(net.core.name, [...dist('scscf-main.js'), '--addr', addr.core4, '--port', '5060', '--impi', IMPI, '--impu', IMPU, '--k', K, '--opc', OPC], 'S-CSCF');
  await scscf.waitFor((e) => e.event === 'listening', STEP_MS, 0);
  say(`S-CSCF listening on ${addr.core4}:5060 (IMS AKA with MILENAGE, subscriber ${IMPI})`);
  ue = LabProcess.start(net.ue.name, [...dist('ue-main.js'), '--impi', IMPI, '--impu', IMPU, '--k', K, '--opc', OPC,
    '--addr', addr.ue4, '--pcscf', addr.pcscfUe4, '--transport', 'udp'], 'UE');
  await ue.waitFor((e) => e.event === 'ready', STEP_MS, 0);
  say(`UE ${IMPU} ready on ${addr.ue4}`);

  step('Register: REGISTER -> 401 (AKA challenge, SAs created) -> protected REGISTER -> 200');
  const from = ue.events.length;
  const registered = await ue.command({ cmd: 'register' }, 'registered', STEP_MS);
  const ev = (name: string): Record<string, unknown> => ue!.events.slice(from).find((e) => e.event === name)!;
  say(`Security-Client (UE -> P-CSCF, in the first REGISTER):`);
  say(`  ${String(ev('security-client')['value'])}`);
  say(`Security-Server (P-CSCF -> UE, in the 401, sent once the kernel held the SAs):`);
  say(`  ${String(ev('security-server')['value'])}`);
  const sas = ev('sas-installed');
  say(`The UE installed its side: SPIs ${[sas['spiUc'], sas['spiUs'], sas['spiPc'], sas['spiPs']].join(', ')}, and sent the protected REGISTER from port ${String(sas['portUc'])} to ${String(sas['portPs'])}`);
  say(`200 OK: registered for ${String(registered['expires'])} s, Service-Route ${JSON.stringify(registered['serviceRoute'])}`);

  step(`The P-CSCF's SAs: ip xfrm state (in ${net.pcscf.name})`);
  block(net.pcscf.ip('xfrm', 'state'));
  say(`and its ${xfrmPolicies(net.pcscf).length} policies (ip xfrm policy):`);
  block(xfrmPolicies(net.pcscf).map((p) => `dir ${p.dir.padEnd(3)}  ${p.src} port ${p.sport ?? 'any'} -> ${p.dst} port ${p.dport ?? 'any'}, ${p.proto ?? 'UDP and TCP'}: ESP required (reqid ${p.tmpls.map((t) => t.reqid).join(',')})`).join('\n'));

  step('MESSAGE from the UE to sip:bob@ims.example (UE -> SA -> P-CSCF -> S-CSCF)');
  const mark = scscf.events.length;
  const answered = await ue.command({ cmd: 'message', to: 'sip:bob@ims.example', text: 'Hello from alice, over ESP' }, 'message-answered', STEP_MS);
  const got = await scscf.waitFor((e) => e.event === 'message-received', STEP_MS, mark);
  say(`S-CSCF received: "${String(got['text'])}" from ${String(got['from'])}; the UE got ${String(answered['status'])} ${String(answered['reason'])}`);

  step(`MESSAGE from the core to ${IMPU} (S-CSCF -> P-CSCF -> SA -> UE)`);
  const ueMark = ue.events.length;
  const sent = await scscf.command({ cmd: 'message', to: IMPU, text: 'Hello alice, from the network' }, 'message-answered', STEP_MS);
  const delivered = await ue.waitFor((e) => e.event === 'message-received', STEP_MS, ueMark);
  say(`UE received: "${String(delivered['text'])}" from ${String(delivered['from'])}; the S-CSCF got ${String(sent['status'])} ${String(sent['reason'])}`);
  say('Packets per SA in the P-CSCF (ip -s xfrm state): every one moved, so all of it went over ESP');
  block(xfrmStates(net.pcscf).map((s) => `${s.src} -> ${s.dst}  spi 0x${s.spi.toString(16).padStart(8, '0')}  ${s.packets} packets`).join('\n'));
  const idle = xfrmStates(net.pcscf).filter((s) => s.packets === 0);
  if (idle.length > 0) throw new Error(`SAs that carried nothing: ${idle.map((s) => s.spi).join(', ')}`);

  step('De-register: REGISTER Expires: 0 over the SAs -> 200 over the SAs -> SAs removed');
  await ue.command({ cmd: 'deregister' }, 'deregistered', STEP_MS);
  say('The UE is de-registered (its own SAs removed in its namespace).');
  await until('the P-CSCF removing the SAs', () => xfrmStates(net.pcscf).length === 0 && xfrmPolicies(net.pcscf).length === 0);
  say(`ip xfrm state in ${net.pcscf.name}:`);
  block(net.pcscf.ip('xfrm', 'state'));
  say(`ip xfrm policy in ${net.pcscf.name}:`);
  block(net.pcscf.ip('xfrm', 'policy'));
  say(`ip xfrm state in ${net.ue.name}:`);
  block(net.ue.ip('xfrm', 'state'));
  say('No SA and no policy left.');
} catch (e) {
  status = 1;
  console.error(`\nThe demo failed: ${e instanceof Error ? e.message : String(e)}`);
  if (pcscf !== undefined) console.error(`P-CSCF log (end):\n${pcscf.log.slice(-3000)}`);
} finally {
  step('Clean up: stop the UE, the S-CSCF and the P-CSCF, delete the namespaces');
  if (ue !== undefined) await ue.close(STEP_MS);
  if (scscf !== undefined) await scscf.close(STEP_MS);
  if (pcscf !== undefined) {
    const exit = await pcscf.stop('SIGTERM', STEP_MS);
    say(`P-CSCF exited with ${exit.code ?? exit.signal}`);
  }
  net.delete();
  say(status === 0 ? 'Done.' : 'Done (with the failure above).');
}
process.exitCode = status;
