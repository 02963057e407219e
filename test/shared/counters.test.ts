import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedCounters } from '../../src/shared/counters.js';
import type { MetricCell, MetricSpec } from '../../src/shared/counters.js';
import { throwsCode } from './throws-code.js';

const specs: MetricSpec[] = [
  { name: 'sip_messages_total', help: 'SIP messages', kind: 'counter', labels: { direction: ['in', 'out'], method: ['REGISTER', 'INVITE', 'other'] } },
  { name: 'spi_pairs_in_use', help: 'SPI pairs held', kind: 'gauge' },
];

test('labelled cells are independent and exported with their labels', () => {
  const m = SharedCounters.create(specs);
  const inInvite = m.cell('sip_messages_total', { direction: 'in', method: 'INVITE' });
  const outOther = m.cell('sip_messages_total', { method: 'other', direction: 'out' });
  m.inc(inInvite);
  m.inc(inInvite);
  m.add(outOther, 5);
  assert.is(m.read(inInvite), 2);
  assert.is(m.read(outOther), 5);
  const [messages, spis] = m.collect();
  assert.is(messages!.name, 'sip_messages_total');
  assert.is(messages!.kind, 'counter');
  assert.is(messages!.samples.length, 6);
  assert.equal(messages!.samples.filter((s) => s.value > 0), [
    { labels: { direction: 'in', method: 'INVITE' }, value: 2 },
    { labels: { direction: 'out', method: 'other' }, value: 5 },
  ]);
  assert.equal(spis!.samples, [{ labels: {}, value: 0 }]);
});

test('values stay exact past 2^32 up to 2^53', () => {
  const m = SharedCounters.create(specs);
  const c = m.cell('sip_messages_total', { direction: 'in', method: 'REGISTER' });
  m.add(c, 2 ** 52);
  m.add(c, 2 ** 52 - 1);
  m.inc(c);
  assert.is(m.read(c), 2 ** 53);
});

test('gauges go up, down and can be set; counters only go up', () => {
  const m = SharedCounters.create(specs);
  const g = m.cell('spi_pairs_in_use');
  m.set(g, 10);
  m.add(g, -3);
  assert.is(m.read(g), 7);
  const c = m.cell('sip_messages_total', { direction: 'out', method: 'INVITE' });
  throwsCode(() => m.add(c, -1), 'METRIC_INVALID');
  throwsCode(() => m.set(c, 4), 'METRIC_INVALID');
  throwsCode(() => m.add(g, 1.5), 'METRIC_INVALID');
  throwsCode(() => m.add(g, 2 ** 60), 'METRIC_INVALID');
  assert.is(m.read(c), 0);
});

test('undeclared metrics, labels, values and cells are refused', () => {
  const m = SharedCounters.create(specs);
  throwsCode(() => m.cell('nope'), 'METRIC_UNKNOWN');
  throwsCode(() => m.cell('sip_messages_total', { direction: 'in' }), 'METRIC_UNKNOWN');
  throwsCode(() => m.cell('sip_messages_total', { direction: 'in', method: 'BYE' }), 'METRIC_UNKNOWN');
  throwsCode(() => m.cell('sip_messages_total', { direction: 'in', method: 'INVITE', extra: 'x' }), 'METRIC_UNKNOWN');
  throwsCode(() => m.inc(7 as MetricCell), 'METRIC_UNKNOWN');
  throwsCode(() => m.read(-1 as MetricCell), 'METRIC_UNKNOWN');
  throwsCode(() => m.cell('sip_messages_total', null as unknown as Record<string, string>), 'METRIC_UNKNOWN');
});

test('invalid declarations are refused', () => {
  throwsCode(() => SharedCounters.create([{ name: 'bad name', help: '', kind: 'counter' }]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create([specs[1]!, specs[1]!]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create([{ name: 'x', help: '', kind: 'counter', labels: { method: [] } }]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create([{ name: 'x', help: '', kind: 'counter', labels: { method: ['A', 'A'] } }]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create([{ name: 'x', help: '', kind: 'histogram' as 'counter' }]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create(null as unknown as MetricSpec[]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create([null as unknown as MetricSpec]), 'BAD_OPTIONS');
  throwsCode(() => SharedCounters.create([{ name: 'x', help: '', kind: 'gauge', labels: 'method' as unknown as Record<string, string[]> }]), 'BAD_OPTIONS');
});

test('attach reads the declarations from the buffer and shares the cells', () => {
  const m = SharedCounters.create(specs);
  const n = SharedCounters.attach(m.buffer);
  const labels = { direction: 'out', method: 'REGISTER' };
  n.inc(n.cell('sip_messages_total', labels));
  assert.is(m.read(m.cell('sip_messages_total', labels)), 1);
  assert.equal(n.collect().map((f) => f.name), ['sip_messages_total', 'spi_pairs_in_use']);
  throwsCode(() => SharedCounters.attach(new SharedArrayBuffer(16)), 'BAD_SHARED_BUFFER');
});

test.run();
