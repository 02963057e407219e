import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Milenage, opcFromOp } from '../../src/lab/milenage.js';
import { throwsLabInput } from './input-error.js';
import { ALL_SETS, hex } from './milenage-vectors.js';

for (const set of ALL_SETS) {
  test(`${set.name}: OPc, f1, f1*, f2, f3, f4, f5 and f5* match`, () => {
    const k = hex(set.k);
    const rand = hex(set.rand);
    assert.is(opcFromOp(k, hex(set.op)).toString('hex'), set.opc, 'OPc');

    const milenage = new Milenage(k, hex(set.opc));
    assert.is(milenage.f1(rand, hex(set.sqn), hex(set.amf)).toString('hex'), set.f1, 'f1');
    assert.is(milenage.f1star(rand, hex(set.sqn), hex(set.amf)).toString('hex'), set.f1star, 'f1*');
    const { res, ck, ik, ak } = milenage.f2345(rand);
    assert.is(res.toString('hex'), set.f2, 'f2');
    assert.is(ck.toString('hex'), set.f3, 'f3');
    assert.is(ik.toString('hex'), set.f4, 'f4');
    assert.is(ak.toString('hex'), set.f5, 'f5');
    assert.is(milenage.f5star(rand).toString('hex'), set.f5star, 'f5*');
  });
}

test('Milenage.fromOp derives OPc from OP and K', () => {
  const [set] = ALL_SETS;
  const milenage = Milenage.fromOp(hex(set!.k), hex(set!.op));
  assert.is(milenage.opc.toString('hex'), set!.opc);
  assert.is(milenage.f2345(hex(set!.rand)).res.toString('hex'), set!.f2);
});

test('one instance gives the same answers when called again and for other RANDs in between', () => {
  const [a, b] = [ALL_SETS[0]!, ALL_SETS[1]!];
  const milenage = new Milenage(hex(a.k), hex(a.opc));
  const first = milenage.f2345(hex(a.rand)).ck.toString('hex');
  milenage.f2345(hex(b.rand));
  milenage.f1(hex(b.rand), hex(b.sqn), hex(b.amf));
  assert.is(milenage.f2345(hex(a.rand)).ck.toString('hex'), first);
  assert.is(first, a.f3);
});

test('inputs of the wrong length or type are refused with ERR_LAB_LENGTH naming the input', () => {
  const k = Buffer.alloc(16);
  const milenage = new Milenage(k, Buffer.alloc(16));
  throwsLabInput(() => new Milenage(Buffer.alloc(15), Buffer.alloc(16)), 'ERR_LAB_LENGTH', 'K');
  throwsLabInput(() => new Milenage(k, Buffer.alloc(17)), 'ERR_LAB_LENGTH', 'OPc');
  throwsLabInput(() => new Milenage('00'.repeat(16) as unknown as Buffer, Buffer.alloc(16)), 'ERR_LAB_LENGTH', 'K');
  throwsLabInput(() => opcFromOp(k, Buffer.alloc(8)), 'ERR_LAB_LENGTH', 'OP');
  throwsLabInput(() => opcFromOp(Buffer.alloc(32), Buffer.alloc(16)), 'ERR_LAB_LENGTH', 'K');
  throwsLabInput(() => milenage.f2345(Buffer.alloc(15)), 'ERR_LAB_LENGTH', 'RAND');
  throwsLabInput(() => milenage.f5star(undefined as unknown as Buffer), 'ERR_LAB_LENGTH', 'RAND');
  throwsLabInput(() => milenage.f1(Buffer.alloc(16), Buffer.alloc(5), Buffer.alloc(2)), 'ERR_LAB_LENGTH', 'SQN');
  throwsLabInput(() => milenage.f1star(Buffer.alloc(16), Buffer.alloc(6), Buffer.alloc(3)), 'ERR_LAB_LENGTH', 'AMF');
});

test.run();
