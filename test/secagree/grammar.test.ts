import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { SecAgreeError, parseSecurityHeader } from '../../src/secagree/index.js';

function rejects(values: string[], code: string): SecAgreeError {
  try {
    parseSecurityHeader(values);
  } catch (e) {
    assert.instance(e, SecAgreeError);
    const err = e as SecAgreeError;
    assert.is(err.code, code);
    assert.is(err.status, 400);
    return err;
  }
  assert.unreachable(`${JSON.stringify(values)} was accepted`);
  throw new Error('unreachable');
}

test('one mechanism: name, parameters in order, raw text', () => {
  const [m, ...rest] = parseSecurityHeader(['ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1234;spi-s=5678;port-c=5062;port-s=5064']);
  assert.is(rest.length, 0);
  assert.is(m!.name, 'ipsec-3gpp');
  assert.equal(m!.params, [
    { name: 'alg', value: 'hmac-sha-1-96' },
    { name: 'spi-c', value: '1234' },
    { name: 'spi-s', value: '5678' },
    { name: 'port-c', value: '5062' },
    { name: 'port-s', value: '5064' },
  ]);
  assert.is(m!.raw, 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1234;spi-s=5678;port-c=5062;port-s=5064');
  assert.is(m!.q, undefined);
});

test('several mechanisms per header and several header lines, in order', () => {
  const ms = parseSecurityHeader([
    'ipsec-3gpp;alg=hmac-md5-96;ealg=des-ede3-cbc, ipsec-3gpp;alg=hmac-sha-1-96',
    'digest;d-alg=md5 ,tls;q=0.2',
  ]);
  assert.equal(ms.map((m) => m.name), ['ipsec-3gpp', 'ipsec-3gpp', 'digest', 'tls']);
  assert.is(ms[1]!.raw, 'ipsec-3gpp;alg=hmac-sha-1-96');
  assert.is(ms[2]!.raw, 'digest;d-alg=md5');
  assert.is(ms[3]!.q, 0.2);
});

test('no header line gives no mechanism', () => {
  assert.equal(parseSecurityHeader([]), []);
});

test('whitespace and line folding around separators are allowed and left out of names and values', () => {
  const [m] = parseSecurityHeader([' ipsec-3gpp ;\talg = hmac-sha-1-96 ;\r\n prot=esp , tls ']);
  assert.equal(m!.params, [{ name: 'alg', value: 'hmac-sha-1-96' }, { name: 'prot', value: 'esp' }]);
  assert.is(m!.raw, 'ipsec-3gpp ;\talg = hmac-sha-1-96 ;\r\n prot=esp');
});

test('unknown parameters are kept in order, with and without a value', () => {
  const [m] = parseSecurityHeader(['ipsec-3gpp;x-vendor=1;flag;alg=null;Another=Value']);
  assert.equal(m!.params, [
    { name: 'x-vendor', value: '1' },
    { name: 'flag', value: null },
    { name: 'alg', value: 'null' },
    { name: 'Another', value: 'Value' },
  ]);
});

test('quoted strings may hold commas, semicolons and escaped quotes', () => {
  const ms = parseSecurityHeader(['digest;d-ver="a,b;c\\"d";q=0.5, tls']);
  assert.is(ms.length, 2);
  assert.equal(ms[0]!.params[0], { name: 'd-ver', value: '"a,b;c\\"d"' });
  assert.is(ms[0]!.q, 0.5);
});

test('an IPv6 reference is a parameter value', () => {
  const [m] = parseSecurityHeader(['x;addr=[2001:db8::1];y=2']);
  assert.equal(m!.params[0], { name: 'addr', value: '[2001:db8::1]' });
});

test('q values: every form the qvalue ABNF allows', () => {
  const forms: [string, number][] = [['0', 0], ['0.', 0], ['0.5', 0.5], ['0.123', 0.123], ['1', 1], ['1.', 1], ['1.000', 1]];
  for (const [text, value] of forms) assert.is(parseSecurityHeader([`tls;q=${text}`])[0]!.q, value, text);
  assert.is(parseSecurityHeader(['tls;Q=0.7'])[0]!.q, 0.7);
});

test('q values outside the ABNF are rejected', () => {
  for (const text of ['1.5', '1.001', '2', '0.1234', '-0.1', '.5', 'abc', '01']) rejects([`tls;q=${text}`], 'SECAGREE_BAD_QVALUE');
  rejects(['tls;q'], 'SECAGREE_BAD_QVALUE');
  rejects(['tls;q=0.1;q=0.2'], 'SECAGREE_BAD_QVALUE');
});

test('malformed values: each error names the line and the offset', () => {
  const cases: [string[], number, number][] = [
    [[''], 0, 0],
    [['   '], 0, 3],
    [['tls', ';alg=x'], 1, 0],
    [['ipsec-3gpp;'], 0, 11],
    [['ipsec-3gpp;alg='], 0, 15],
    [['ipsec-3gpp;=x'], 0, 11],
    [['tls,'], 0, 4],
    [['tls,,digest'], 0, 4],
    [['tls digest'], 0, 4],
    [['tls;a="unterminated'], 0, 6],
    [['tls;a=[2001:db8::1'], 0, 6],
    [['tls;a=b@c'], 0, 7],
    [['t\u00e9ls'], 0, 1],
  ];
  for (const [values, line, offset] of cases) {
    const err = rejects(values, 'SECAGREE_BAD_SYNTAX');
    assert.is(err.line, line, JSON.stringify(values));
    assert.is(err.offset, offset, JSON.stringify(values));
  }
});

test.run();
