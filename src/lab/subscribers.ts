// The lab's subscribers: what the HSS holds for each (IMPI, its IMPUs, K, OPc, SQN, AMF), read from
// a JSON or YAML file or built from command-line flags. An entry with `count` stands for that many
// subscribers whose identities carry `{n}` (n = first, first + 1, ...), so one line of
// configuration serves a load test of thousands of UEs.
//
//   realm: ims.example                          # optional; default: the domain of the first IMPU
//   subscribers:
//     - impi: alice@ims.example
//       impu: [sip:alice@ims.example, tel:+15550100]   # or one string; the first is the default IMPU
//       k: 465b5ce8b199b49faa5f0a2ee238a6bc
//       opc: cd63cb71954a9f4e48a5994e37a02baf  # or op: ... (OPc is then computed, TS 35.206 §4.1)
//       sqn: 32                                # the next SQN the HSS uses; default 1
//       amf: "8000"                            # default 8000
//     - { impi: "ue{n}@ims.example", impu: "sip:ue{n}@ims.example", count: 1000, first: 1, k: ..., opc: ... }

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SQN_MAX } from './aka.js';
import { LabInputError } from './errors.js';
import { AMF_LENGTH, K_LENGTH, OP_LENGTH, opcFromOp } from './milenage.js';

export interface Subscriber {
  readonly impi: string;
  /** Public user identities of the implicit registration set; the first is the default one. */
  readonly impus: readonly string[];
  readonly k: Buffer;
  readonly opc: Buffer;
  /** The next SQN the HSS puts in a challenge for this subscriber. */
  sqn: number;
  readonly amf: Buffer;
}

export interface SubscriberFile {
  readonly realm: string;
  readonly subscribers: Subscriber[];
}

/** Most subscribers one entry may expand to: a bound on what a typo in `count` can allocate. */
const MAX_COUNT = 1_000_000;
const DEFAULT_AMF = '8000';

function fail(field: string, message: string): never {
  throw new LabInputError('ERR_LAB_CONFIG', field, message);
}

/** `text` with every `{n}` replaced by n. */
export function expandTemplate(text: string, n: number): string {
  return text.replaceAll('{n}', String(n));
}

/** Key material given as hex text: exactly `bytes` octets. */
export function hexKey(field: string, value: unknown, bytes: number): Buffer {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(value) || value.length !== 2 * bytes) {
    fail(field, `must be ${2 * bytes} hex digits`);
  }
  return Buffer.from(value, 'hex');
}

function sqnOf(field: string, value: unknown): number {
  if (value === undefined) return 1;
  const n = typeof value === 'string' && /^(?:0x)?[0-9a-fA-F]+$/.test(value) ? Number(value.startsWith('0x') ? value : `0x${value}`) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > SQN_MAX) fail(field, 'must be an integer in [0, 2^48) (a number, or hex text)');
  return n;
}

function stringOf(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(field, 'must be a non-empty string');
  return value;
}

function countOf(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_COUNT) fail(field, `must be an integer in [0, ${MAX_COUNT}]`);
  return value;
}

const ENTRY_KEYS = new Set(['impi', 'impu', 'k', 'opc', 'op', 'sqn', 'amf', 'count', 'first']);

/** The subscribers of one entry of the file (several when it has `count`). */
function entrySubscribers(entry: unknown, where: string): Subscriber[] {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(where, 'must be a mapping');
  const e = entry as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!ENTRY_KEYS.has(key)) fail(`${where}.${key}`, `unknown key (known: ${[...ENTRY_KEYS].join(', ')})`);
  const impi = stringOf(`${where}.impi`, e['impi']);
  const impuList = Array.isArray(e['impu']) ? e['impu'] : [e['impu']];
  if (impuList.length === 0) fail(`${where}.impu`, 'needs at least one public user identity');
  const impus = impuList.map((u, i) => stringOf(`${where}.impu[${i}]`, u));
  const k = hexKey(`${where}.k`, e['k'], K_LENGTH);
  if ((e['opc'] === undefined) === (e['op'] === undefined)) fail(`${where}.opc`, 'give exactly one of opc and op');
  const opc = e['opc'] !== undefined ? hexKey(`${where}.opc`, e['opc'], OP_LENGTH) : opcFromOp(k, hexKey(`${where}.op`, e['op'], OP_LENGTH));
  const sqn = sqnOf(`${where}.sqn`, e['sqn']);
  const amf = hexKey(`${where}.amf`, e['amf'] ?? DEFAULT_AMF, AMF_LENGTH);
  const count = e['count'] === undefined ? undefined : countOf(`${where}.count`, e['count'], 1);
  if (count === undefined) return [{ impi, impus, k, opc, sqn, amf }];
  const first = countOf(`${where}.first`, e['first'], 1);
  if (!impi.includes('{n}')) fail(`${where}.impi`, 'an entry with count needs {n} in impi, so that every subscriber is distinct');
  const out: Subscriber[] = [];
  for (let n = first; n < first + count; n++) {
    out.push({ impi: expandTemplate(impi, n), impus: impus.map((u) => expandTemplate(u, n)), k, opc, sqn, amf });
  }
  return out;
}

/** The domain of a SIP URI's host part (the realm a subscriber file defaults to). */
export function domainOf(uri: string): string | undefined {
  return /^sips?:(?:[^@;?]*@)?(\[[^\]]+\]|[^:;?>]+)/i.exec(uri)?.[1];
}

/** Checks a parsed subscriber file (the value of a JSON or YAML document). Throws LabInputError ERR_LAB_CONFIG. */
export function parseSubscriberFile(doc: unknown): SubscriberFile {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('subscriber file', 'must be a mapping with a "subscribers" list');
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) if (key !== 'realm' && key !== 'subscribers') fail(key, 'unknown key (known: realm, subscribers)');
  if (!Array.isArray(d['subscribers'])) fail('subscribers', 'must be a list');
  const subscribers = d['subscribers'].flatMap((e, i) => entrySubscribers(e, `subscribers[${i}]`));
  if (subscribers.length === 0) fail('subscribers', 'is empty');
  const realm = d['realm'] === undefined ? domainOf(subscribers[0]!.impus[0]!) : stringOf('realm', d['realm']);
  if (realm === undefined) fail('realm', 'not given, and the first IMPU is not a SIP URI to take it from');
  return { realm, subscribers };
}

/** Reads a subscriber file (JSON is YAML too). Throws LabInputError ERR_LAB_CONFIG, naming the file. */
export function loadSubscriberFile(path: string): SubscriberFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail(path, `cannot be read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    fail(path, `is not JSON or YAML: ${(e as Error).message}`);
  }
  return parseSubscriberFile(doc);
}

/** A public identity as a lookup key: the URI without parameters or angle brackets, in lower case. */
export function impuKey(uri: string): string {
  const bare = uri.startsWith('<') && uri.includes('>') ? uri.slice(1, uri.indexOf('>')) : uri;
  const end = bare.search(/[;?]/);
  return (end < 0 ? bare : bare.slice(0, end)).toLowerCase();
}

/** The HSS side of the lab: subscribers by private and by public identity. */
export class SubscriberStore {
  readonly #byImpi = new Map<string, Subscriber>();
  readonly #byImpu = new Map<string, Subscriber>();

  constructor(subscribers: readonly Subscriber[]) {
    for (const [i, s] of subscribers.entries()) {
      if (this.#byImpi.has(s.impi)) fail(`subscribers[${i}].impi`, `${s.impi} appears twice`);
      this.#byImpi.set(s.impi, s);
      for (const u of s.impus) {
        const key = impuKey(u);
        if (this.#byImpu.has(key)) fail(`subscribers[${i}].impu`, `${u} belongs to two subscribers`);
        this.#byImpu.set(key, s);
      }
    }
  }

  get size(): number {
    return this.#byImpi.size;
  }

  byImpi(impi: string): Subscriber | undefined {
    return this.#byImpi.get(impi);
  }

  byImpu(uri: string): Subscriber | undefined {
    return this.#byImpu.get(impuKey(uri));
  }
}
