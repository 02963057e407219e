import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpApi } from '../../src/http/server.js';
import { Metrics } from '../../src/metrics/registry.js';
import { SharedCounters } from '../../src/shared/counters.js';

test('routes answer, unknown paths 404, wrong methods 405, a throwing handler 500; close frees the port', async () => {
  const api = new HttpApi()
    .route('GET', '/health', () => ({ status: 200, body: { status: 'ok' } }))
    .route('GET', '/boom', () => { throw new Error('kaput'); });
  const port = await api.listen('127.0.0.1:0');
  const get = async (path: string, method = 'GET') => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
  };
  assert.equal(JSON.parse((await get('/health')).body), { status: 'ok' });
  assert.is((await get('/nope')).status, 404);
  const wrong = await get('/health', 'DELETE');
  assert.is(wrong.status, 405);
  assert.equal(JSON.parse(wrong.body).allowed, ['GET']);
  const boom = await get('/boom');
  assert.is(boom.status, 500);
  assert.match(boom.body, 'kaput');
  await api.close();
  const again = new HttpApi();
  assert.is(await again.listen(`127.0.0.1:${port}`), port, 'the port is free again');
  await again.close();
});

test('shared counters and gauges appear in the Prometheus text with their labels and current values', async () => {
  const counters = SharedCounters.create([
    { name: 'pcscf_test_messages_total', help: 'messages', kind: 'counter', labels: { method: ['REGISTER', 'INVITE'] } },
    { name: 'pcscf_test_depth', help: 'depth', kind: 'gauge' },
  ]);
  const metrics = new Metrics();
  metrics.exportShared(counters);
  let size = 3;
  metrics.gauge('pcscf_test_size', 'size', () => size);
  counters.add(counters.cell('pcscf_test_messages_total', { method: 'INVITE' }), 5);
  counters.set(counters.cell('pcscf_test_depth'), 9);
  let text = await metrics.text();
  assert.match(text, /pcscf_test_messages_total\{method="INVITE"\} 5\n/);
  assert.match(text, /pcscf_test_messages_total\{method="REGISTER"\} 0\n/);
  assert.match(text, /pcscf_test_depth 9\n/);
  assert.match(text, /pcscf_test_size 3\n/);
  assert.match(text, /process_cpu_user_seconds_total/);
  // A second scrape sees the new values and does not double-count the old ones.
  counters.inc(counters.cell('pcscf_test_messages_total', { method: 'INVITE' }));
  size = 4;
  text = await metrics.text();
  assert.match(text, /pcscf_test_messages_total\{method="INVITE"\} 6\n/);
  assert.match(text, /pcscf_test_size 4\n/);
});

test.run();
