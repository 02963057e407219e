import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opcFromOp } from '../../src/lab/milenage.js';
import { impuKey, loadSubscriberFile, parseSubscriberFile, SubscriberStore } from '../../src/lab/subscribers.js';
import { throwsLabInput } from './input-error.js';
import { K, OPC } from './world.js';

const OP = 'cdc202d5123e20f62b6d676ac72cb318'; // TS 35.208 test set 1

test('an entry gives IMPI, IMPUs, K, OPc, SQN and AMF; the realm defaults to the first IMPU\'s domain', () => {
  const f = parseSubscriberFile({ subscribers: [{ impi: 'alice@ims.example', impu: ['sip:alice@ims.example', 'tel:+15550100'], k: K, opc: OPC, sqn: 32, amf: 'b9b9' }] });
  assert.is(f.realm, 'ims.example');
  const [s] = f.subscribers;
  assert.equal([s!.impi, s!.impus, s!.k.toString('hex'), s!.opc.toString('hex'), s!.sqn, s!.amf.toString('hex')],
    ['alice@ims.example', ['sip:alice@ims.example', 'tel:+15550100'], K, OPC, 32, 'b9b9']);
  const d = parseSubscriberFile({ realm: 'other.example', subscribers: [{ impi: 'a', impu: 'sip:a@x.example', k: K, opc: OPC }] });
  assert.equal([d.realm, d.subscribers[0]!.sqn, d.subscribers[0]!.amf.toString('hex'), d.subscribers[0]!.impus], ['other.example', 1, '8000', ['sip:a@x.example']]);
});

test('op instead of opc: OPc is computed (TS 35.206 §4.1), the test set\'s OPc', () => {
  const f = parseSubscriberFile({ subscribers: [{ impi: 'a', impu: 'sip:a@x.example', k: K, op: OP }] });
  assert.is(f.subscribers[0]!.opc.toString('hex'), OPC);
  assert.equal(f.subscribers[0]!.opc, opcFromOp(Buffer.from(K, 'hex'), Buffer.from(OP, 'hex')));
});

test('count expands {n} from first; every subscriber is its own', () => {
  const f = parseSubscriberFile({ subscribers: [{ impi: 'ue{n}@ims.example', impu: ['sip:ue{n}@ims.example', 'tel:+1555{n}'], k: K, opc: OPC, count: 3, first: 7 }] });
  assert.equal(f.subscribers.map((s) => [s.impi, ...s.impus]), [
    ['ue7@ims.example', 'sip:ue7@ims.example', 'tel:+15557'],
    ['ue8@ims.example', 'sip:ue8@ims.example', 'tel:+15558'],
    ['ue9@ims.example', 'sip:ue9@ims.example', 'tel:+15559'],
  ]);
  f.subscribers[0]!.sqn = 99;
  assert.is(f.subscribers[1]!.sqn, 1, 'SQNs are per subscriber');
});

test('bad entries are LabInputError ERR_LAB_CONFIG naming the field', () => {
  const ok = { impi: 'a', impu: 'sip:a@x.example', k: K, opc: OPC };
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, k: 'abc' }] }), 'ERR_LAB_CONFIG', 'subscribers[0].k');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, op: OP }] }), 'ERR_LAB_CONFIG', 'subscribers[0].opc');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, sqn: -1 }] }), 'ERR_LAB_CONFIG', 'subscribers[0].sqn');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, count: 2 }] }), 'ERR_LAB_CONFIG', 'subscribers[0].impi');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, kk: 1 }] }), 'ERR_LAB_CONFIG', 'subscribers[0].kk');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, impu: [] }] }), 'ERR_LAB_CONFIG', 'subscribers[0].impu');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [] }), 'ERR_LAB_CONFIG', 'subscribers');
  throwsLabInput(() => parseSubscriberFile([ok]), 'ERR_LAB_CONFIG', 'subscriber file');
  throwsLabInput(() => parseSubscriberFile({ subscribers: [{ ...ok, impu: 'tel:+1' }] }), 'ERR_LAB_CONFIG', 'realm');
});

test('a store finds subscribers by IMPI and by any IMPU (without parameters, case-insensitive); duplicates are refused', () => {
  const f = parseSubscriberFile({ subscribers: [{ impi: 'a@x', impu: ['sip:a@x.example', 'tel:+1'], k: K, opc: OPC }, { impi: 'b@x', impu: 'sip:b@x.example', k: K, opc: OPC }] });
  const store = new SubscriberStore(f.subscribers);
  assert.is(store.size, 2);
  assert.is(store.byImpi('b@x')?.impi, 'b@x');
  assert.is(store.byImpu('<SIP:A@X.EXAMPLE>;tag=1')?.impi, 'a@x');
  assert.is(store.byImpu('tel:+1')?.impi, 'a@x');
  assert.is(store.byImpu('sip:c@x.example'), undefined);
  assert.is(impuKey('<sip:a@x.example;user=phone>'), 'sip:a@x.example');
  throwsLabInput(() => new SubscriberStore([...f.subscribers, f.subscribers[0]!]), 'ERR_LAB_CONFIG', 'subscribers[2].impi');
});

test('files: YAML and JSON are read; a missing or broken file names itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-subs-'));
  try {
    writeFileSync(join(dir, 's.yaml'), `realm: ims.example\nsubscribers:\n  - impi: alice@ims.example\n    impu: sip:alice@ims.example\n    k: ${K}\n    opc: ${OPC}\n    sqn: 0x20\n`);
    writeFileSync(join(dir, 's.json'), JSON.stringify({ subscribers: [{ impi: 'bob@ims.example', impu: 'sip:bob@ims.example', k: K, opc: OPC }] }));
    writeFileSync(join(dir, 'bad.yaml'), 'subscribers: [\n');
    assert.is(loadSubscriberFile(join(dir, 's.yaml')).subscribers[0]!.sqn, 32);
    assert.is(loadSubscriberFile(join(dir, 's.json')).subscribers[0]!.impi, 'bob@ims.example');
    throwsLabInput(() => loadSubscriberFile(join(dir, 'bad.yaml')), 'ERR_LAB_CONFIG', join(dir, 'bad.yaml'));
    throwsLabInput(() => loadSubscriberFile(join(dir, 'none.yaml')), 'ERR_LAB_CONFIG', join(dir, 'none.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
