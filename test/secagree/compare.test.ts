import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Mismatch, buildSecurityServer, sameSecurityClient, securityListDigest, verifyMatchesServer } from '../../src/secagree/index.js';

const SENT = buildSecurityServer({ spiPc: 1000, spiPs: 1001, portPc: 5062, portPs: 5064, alg: 'hmac-sha-1-96', ealg: 'aes-cbc' });

function mismatch(r: true | Mismatch): Mismatch {
  assert.instance(r, Mismatch);
  return r as Mismatch;
}

test('the same value, or the same split over lines, matches', () => {
  assert.is(verifyMatchesServer([SENT], SENT), true);
  const client = ['ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4'];
  assert.is(sameSecurityClient(client, client[0]!.split(', ')), true);
});

test('reordered parameters, whitespace, case, leading zeros and q spelling still match', () => {
  const verify = ' IPSEC-3GPP ; ealg = AES-CBC;alg=Hmac-Sha-1-96;port-s=05064 ;port-c=5062;spi-s=0001001;spi-c=1000;mod=TRANS;prot=esp;Q=0.100';
  assert.is(verifyMatchesServer([verify], SENT), true);
});

test('Annex H defaults: an omitted ealg equals ealg=null, omitted prot / mod equal esp / trans', () => {
  const sent = buildSecurityServer({ spiPc: 1, spiPs: 2, portPc: 3, portPs: 4, alg: 'hmac-sha-1-96', ealg: '' });
  assert.is(verifyMatchesServer(['ipsec-3gpp;q=0.1;spi-c=1;spi-s=2;port-c=3;port-s=4;alg=hmac-sha-1-96'], sent), true);
  const m = mismatch(verifyMatchesServer([SENT.replace(';ealg=aes-cbc', '')], SENT));
  assert.equal([m.code, m.param, m.expected, m.actual], ['PARAM_VALUE', 'ealg', 'aes-cbc', 'null']);
});

test('each parameter that differs is reported by name, with both values', () => {
  const changes: [string, string, string, string][] = [
    ['q=0.1', 'q=0.2', 'q', '0.2'],
    ['prot=esp', 'prot=ah', 'prot', 'ah'],
    ['mod=trans', 'mod=tun', 'mod', 'tun'],
    ['spi-c=1000', 'spi-c=1002', 'spi-c', '1002'],
    ['spi-s=1001', 'spi-s=1000', 'spi-s', '1000'],
    ['port-c=5062', 'port-c=5063', 'port-c', '5063'],
    ['port-s=5064', 'port-s=5065', 'port-s', '5065'],
    ['alg=hmac-sha-1-96', 'alg=hmac-md5-96', 'alg', 'hmac-md5-96'],
    ['ealg=aes-cbc', 'ealg=null', 'ealg', 'null'],
  ];
  for (const [from, to, param, actual] of changes) {
    const m = mismatch(verifyMatchesServer([SENT.replace(from, to)], SENT));
    assert.is(m.code, 'PARAM_VALUE', from);
    assert.is(m.index, 0);
    assert.is(m.param, param);
    assert.is(m.expected, from.split('=')[1]);
    assert.is(m.actual, actual);
  }
});

test('missing and extra parameters, other mechanism names and counts', () => {
  let m = mismatch(verifyMatchesServer([SENT.replace(';spi-s=1001', '')], SENT));
  assert.equal([m.code, m.param, m.expected, m.actual], ['PARAM_MISSING', 'spi-s', '1001', null]);
  m = mismatch(verifyMatchesServer([`${SENT};x=1`], SENT));
  assert.equal([m.code, m.param, m.expected, m.actual], ['PARAM_EXTRA', 'x', null, '1']);
  m = mismatch(verifyMatchesServer([SENT.replace('ipsec-3gpp', 'tls')], SENT));
  assert.equal([m.code, m.expected, m.actual], ['MECHANISM_NAME', 'ipsec-3gpp', 'tls']);
  m = mismatch(verifyMatchesServer([SENT, 'tls'], SENT));
  assert.equal([m.code, m.expected, m.actual], ['MECHANISM_COUNT', '1', '2']);
});

test('no Security-Verify, or one that does not parse, is a mismatch and never an exception', () => {
  assert.is(mismatch(verifyMatchesServer([], SENT)).code, 'MISSING');
  const m = mismatch(verifyMatchesServer(['ipsec-3gpp;;'], SENT));
  assert.is(m.code, 'UNPARSABLE');
  assert.match(m.actual ?? '', 'SECAGREE_BAD_SYNTAX');
});

test('quoted values compare byte for byte', () => {
  assert.is(sameSecurityClient(['digest;d-ver="ABC"'], ['digest;d-ver="ABC"']), true);
  assert.is(mismatch(sameSecurityClient(['digest;d-ver="ABC"'], ['digest;d-ver="abc"'])).code, 'PARAM_VALUE');
});

test('a second Security-Client that reorders or drops offers differs from the first (bidding down)', () => {
  const a = 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4';
  const b = 'ipsec-3gpp;alg=hmac-md5-96;ealg=null;spi-c=1;spi-s=2;port-c=3;port-s=4';
  let m = mismatch(sameSecurityClient([`${a}, ${b}`], [`${b}, ${a}`]));
  assert.equal([m.code, m.index, m.param], ['PARAM_VALUE', 0, 'alg']);
  m = mismatch(sameSecurityClient([`${a}, ${b}`], [b]));
  assert.is(m.code, 'MECHANISM_COUNT');
  assert.is(sameSecurityClient([`${a}, ${b}`], [a, b]), true);
});

test('securityListDigest: equal for lists sameSecurityClient finds equal, different otherwise', () => {
  const first = ['ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4'];
  const digest = (v: string[]): string => Buffer.from(securityListDigest(v) as Buffer).toString('hex');
  const same = [['IPSEC-3GPP; port-s=04;port-c=3;spi-s=2;spi-c=1;ealg=AES-CBC;alg=hmac-sha-1-96;prot=esp', 'ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4;ealg=null']];
  const different = [
    [first[0]!.split(', ')[0]!],
    [first[0]!.split(', ').reverse().join(', ')],
    [first[0]!.replace('ealg=aes-cbc', 'ealg=null')],
    [`${first[0]!}, tls`],
  ];
  for (const v of same) {
    assert.is(sameSecurityClient(first, v), true);
    assert.is(digest(v), digest(first));
  }
  for (const v of different) {
    assert.instance(sameSecurityClient(first, v), Mismatch);
    assert.is.not(digest(v), digest(first), v.join());
  }
  assert.is(digest(first).length, 64);
  assert.is(mismatch(securityListDigest([]) as Mismatch).code, 'MISSING');
  assert.is(mismatch(securityListDigest(['ipsec-3gpp;;']) as Mismatch).code, 'UNPARSABLE');
});

test.run();
