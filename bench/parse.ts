// SIP layer throughput on the IMS corpus, one core (each case runs alone in a fresh process, so
// one case's JIT state does not slow another). Rates are operations per second of CPU time used
// by the process (process.cpuUsage), which stays meaningful when other work shares the machine;
// the figure is the median of the timed rounds, with their spread.
//
//   (a)  the initial REGISTER as a P-CSCF worker reads it: indexMessage (the main thread validated
//        these bytes already) and the selection of its Security-Client offer (parseSecurityHeader
//        over the field values, selectOffer with the default configuration's policy), as
//        src/pcscf/sec-agree.ts does: the bar, 300,000/s on one core;
//   (a') the same with the main thread's parse (parseMessage: indexMessage + validate(), which
//        parses Request-URI, Via, From, To and Max-Forwards), also reading the Contacts;
//   (b)  index the 401 and make the worker's edits: remove its Via, take ck and ik out of
//        WWW-Authenticate (extractAkaKeys, the value written back without them), add
//        Supported: sec-agree and the Security-Server built for the selected offer, serialize;
//   calibration: a minimal lazy parser (header names lower-cased into a Map of value strings, no
//        validation, no folding, no compact forms), the kind of parser the brief's "~870,000
//        parses/s on this machine" refers to: it shows how fast this machine runs today.
//
//   npx tsx bench/parse.ts [--seconds-per-round S] [--rounds R]

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, selectionPolicyOf } from '../src/config/index.js';
import { KeyError, NoOffer, buildSecurityServer, extractAkaKeys, parseSecurityHeader, selectOffer } from '../src/secagree/index.js';
import { type SipMessage, indexMessage, parseMessage } from '../src/sip/index.js';

const corpus = (name: string): Buffer => readFileSync(new URL(`../test/sip/corpus/${name}.sip`, import.meta.url));
const register = corpus('register-initial');
const challenge = corpus('register-401');
// Only the selection policy is read; the two SIP settings are what loading requires.
const policy = selectionPolicyOf(loadConfig({
  argv: [],
  env: { PCSCF_SIP__NEXT_HOP: 'sip:10.0.0.20:5060', PCSCF_SIP__ADVERTISED_HOST: 'pcscf.ims.example.net' },
}));

let sink = 0;

/** The Security-Client selection of src/pcscf/sec-agree.ts: every field's value, one list of mechanisms, one offer. */
function selectSecurityClient(m: SipMessage): void {
  const selected = selectOffer(parseSecurityHeader(m.fieldValues('security-client')), policy);
  if (selected instanceof NoOffer) throw new Error(`no offer selected: ${selected.message}`);
  sink += selected.offer.spiC;
}

const offer = selectOffer(parseSecurityHeader(parseMessage(register).fieldValues('security-client')), policy);
if (offer instanceof NoOffer) throw new Error(offer.message);

const cases: Record<string, { label: string; key: string; run: () => void }> = {
  a: {
    label: '(a)  REGISTER: index (worker) + Security-Client selection',
    key: 'parse_register_select_per_s',
    run() {
      selectSecurityClient(indexMessage(register));
    },
  },
  a2: {
    label: "(a') REGISTER: parse + validate (main thread) + selection + Contacts",
    key: 'parse_register_select_contacts_per_s',
    run() {
      const m = parseMessage(register);
      selectSecurityClient(m);
      sink += m.topVia().host.length + m.from().uri.length + m.to().uri.length + m.callId().length + m.cseq().seq;
      const contacts = m.contacts();
      if (contacts !== '*') sink += contacts[0]!.uri.length + (contacts[0]!.expires ?? 0);
    },
  },
  b: {
    label: '(b)  401: index + remove Via + extract ck, ik + add Supported, Security-Server + serialize',
    key: 'edit_401_per_s',
    run() {
      const m = indexMessage(challenge);
      const ed = m.edit();
      ed.removeTopVia();
      const www = m.first('www-authenticate')!;
      const keys = extractAkaKeys(www.value);
      if (keys instanceof KeyError) throw new Error(keys.message);
      ed.replaceField(www, keys.stripped);
      ed.addHeader('Supported', 'sec-agree');
      ed.addHeader('Security-Server', buildSecurityServer({
        spiPc: 1001, spiPs: 1002, portPc: 5100, portPs: 6100, alg: offer.offer.algText, ealg: offer.offer.ealgText,
      }));
      sink += ed.serialize().length + keys.ck[0]!;
    },
  },
  calibration: {
    label: 'calibration: minimal lazy parser (Map of lower-cased names, no checks)',
    key: 'calibration_minimal_lazy_per_s',
    run() {
      const text = register.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const headers = new Map<string, string[]>();
      for (let pos = text.indexOf('\r\n') + 2; pos < end;) {
        const nl = text.indexOf('\r\n', pos);
        const colon = text.indexOf(':', pos);
        const name = text.slice(pos, colon).trim().toLowerCase();
        const value = text.slice(colon + 1, nl).trim();
        const list = headers.get(name);
        if (list === undefined) headers.set(name, [value]);
        else list.push(value);
        pos = nl + 2;
      }
      sink += headers.size;
    },
  },
};

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Runs one case in this process and prints "rates r1 r2 ..." (operations per CPU-second). */
function runCase(name: string, rounds: number, seconds: number): void {
  const { run } = cases[name]!;
  const batch = 2000;
  const warmEnd = Date.now() + 1000 * seconds;
  while (Date.now() < warmEnd) for (let i = 0; i < batch; i++) run();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    let n = 0;
    let used = 0;
    while (used < seconds * 1e6) {
      for (let i = 0; i < batch; i++) run();
      n += batch;
      const u = process.cpuUsage(start);
      used = u.user + u.system;
    }
    rates.push(n / (used / 1e6));
  }
  console.log(`rates ${rates.map(Math.round).join(' ')} ${sink > 0 ? '' : '!'}`);
}

const only = process.argv.indexOf('--case');
const rounds = option('--rounds', 7);
const seconds = option('--seconds-per-round', 0.5);
if (only > 0) {
  runCase(process.argv[only + 1]!, rounds, seconds);
} else {
  console.log(`node ${process.version}; each case alone in a fresh process; ${rounds} rounds of ${seconds} s of CPU after ${seconds} s of warm-up`);
  console.log(`register-initial.sip ${register.length} octets, register-401.sip ${challenge.length} octets`);
  const self = fileURLToPath(import.meta.url);
  const machine: string[] = [];
  for (const [name, c] of Object.entries(cases)) {
    const out = execFileSync(process.execPath, [...process.execArgv, self, '--case', name, '--rounds', String(rounds), '--seconds-per-round', String(seconds)], { encoding: 'utf8' });
    const rates = /rates ([\d ]+)/.exec(out)![1]!.trim().split(' ').map(Number).sort((x, y) => x - y);
    const median = rates[Math.floor(rates.length / 2)]!;
    const k = (x: number): string => `${Math.round(x / 1000)}k`;
    console.log(`${c.label.padEnd(92)} ${Math.round(median).toLocaleString('en-US').padStart(10)} /s  (rounds ${k(rates[0]!)}..${k(rates.at(-1)!)})`);
    machine.push(`${c.key}=${Math.round(median)}`);
  }
  for (const line of machine) console.log(line);
}
