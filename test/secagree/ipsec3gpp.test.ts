import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { OfferRejection, parseSecurityHeader, toIpsecOffer } from '../../src/secagree/index.js';
import type { IpsecOffer } from '../../src/secagree/index.js';

const BASE = 'spi-c=1111;spi-s=2222;port-c=31800;port-s=31900';

function offer(value: string, index = 0): IpsecOffer {
  const r = toIpsecOffer(parseSecurityHeader([value])[0]!, index);
  if (r instanceof OfferRejection) assert.unreachable(`${value} rejected: ${r.message}`);
  return r as IpsecOffer;
}

function rejection(value: string): OfferRejection {
  const r = toIpsecOffer(parseSecurityHeader([value])[0]!, 3);
  assert.instance(r, OfferRejection, value);
  assert.is((r as OfferRejection).index, 3);
  return r as OfferRejection;
}

test('a full offer: numbers, algorithms as written, defaults, q and index', () => {
  const o = offer(`ipsec-3gpp;q=0.5;prot=esp;mod=trans;${BASE};alg=HMAC-SHA-1-96;ealg=AES-CBC`, 4);
  assert.equal(o, {
    alg: 'hmac-sha-1-96', ealg: 'aes-cbc', prot: 'esp', mod: 'trans',
    spiC: 1111, spiS: 2222, portC: 31800, portS: 31900, q: 0.5,
    algText: 'HMAC-SHA-1-96', ealgText: 'AES-CBC', index: 4,
  });
});

test('absent ealg means null encryption, absent prot / mod mean esp / trans (Annex H)', () => {
  const o = offer(`ipsec-3gpp;alg=hmac-md5-96;${BASE}`);
  assert.is(o.ealg, 'null');
  assert.is(o.ealgText, 'null');
  assert.is(o.prot, 'esp');
  assert.is(o.mod, 'trans');
});

test('the largest SPI and port values and leading zeros are accepted', () => {
  const o = offer('ipsec-3gpp;alg=hmac-sha-1-96;spi-c=4294967295;spi-s=0000000001;port-c=65535;port-s=00001');
  assert.is(o.spiC, 4294967295);
  assert.is(o.spiS, 1);
  assert.is(o.portC, 65535);
  assert.is(o.portS, 1);
});

test('Rel-17 pairs: aes-gcm with alg null, aes-gmac with ealg null', () => {
  assert.is(offer(`ipsec-3gpp;alg=null;ealg=aes-gcm;${BASE}`).ealg, 'aes-gcm');
  assert.is(offer(`ipsec-3gpp;alg=aes-gmac;ealg=null;${BASE}`).alg, 'aes-gmac');
  assert.is(offer(`ipsec-3gpp;alg=aes-gmac;${BASE}`).ealg, 'null');
});

test('pairs TS 33.203 does not permit are refused', () => {
  for (const pair of ['alg=null;ealg=aes-cbc', 'alg=null', 'alg=hmac-sha-1-96;ealg=aes-gcm', 'alg=aes-gmac;ealg=aes-gcm', 'alg=aes-gmac;ealg=aes-cbc']) {
    assert.is(rejection(`ipsec-3gpp;${pair};${BASE}`).code, 'ALG_COMBINATION', pair);
  }
});

test('absent or unknown alg makes the offer unusable (Kamailio would use MD5)', () => {
  assert.is(rejection(`ipsec-3gpp;ealg=aes-cbc;${BASE}`).code, 'ALG_MISSING');
  const unknown = rejection(`ipsec-3gpp;alg=hmac-sha-256-128;${BASE}`);
  assert.is(unknown.code, 'ALG_UNKNOWN');
  assert.is(unknown.value, 'hmac-sha-256-128');
  assert.is(rejection(`ipsec-3gpp;alg;${BASE}`).code, 'ALG_UNKNOWN');
  assert.is(rejection(`ipsec-3gpp;alg="hmac-sha-1-96";${BASE}`).code, 'ALG_UNKNOWN');
});

test('unknown ealg, other prot or mod are refused', () => {
  assert.is(rejection(`ipsec-3gpp;alg=hmac-sha-1-96;ealg=blowfish;${BASE}`).code, 'EALG_UNKNOWN');
  assert.is(rejection(`ipsec-3gpp;alg=hmac-sha-1-96;ealg;${BASE}`).code, 'EALG_UNKNOWN');
  assert.is(rejection(`ipsec-3gpp;alg=hmac-sha-1-96;prot=ah;${BASE}`).code, 'PROT_UNSUPPORTED');
  assert.is(rejection(`ipsec-3gpp;alg=hmac-sha-1-96;mod=tun;${BASE}`).code, 'MOD_UNSUPPORTED');
  assert.is(rejection(`ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;${BASE}`).code, 'MOD_UNSUPPORTED');
});

test('each of spi-c, spi-s, port-c, port-s is required and range-checked', () => {
  const fields = { 'spi-c': '1111', 'spi-s': '2222', 'port-c': '31800', 'port-s': '31900' } as const;
  const build = (skip: string, replace?: string): string =>
    'ipsec-3gpp;alg=hmac-sha-1-96;' + Object.entries(fields)
      .filter(([k]) => k !== skip || replace !== undefined)
      .map(([k, v]) => `${k}=${k === skip ? replace : v}`).join(';');
  for (const name of Object.keys(fields)) {
    const spi = name.startsWith('spi');
    const missing = rejection(build(name));
    assert.is(missing.code, spi ? 'SPI_MISSING' : 'PORT_MISSING', name);
    assert.is(missing.param, name);
    const bad = spi ? ['0', '4294967296', '12345678901', 'x1', '-1'] : ['0', '65536', 'abc'];
    for (const value of bad) {
      const r = rejection(build(name, value));
      assert.is(r.code, spi ? 'BAD_SPI' : 'BAD_PORT', `${name}=${value}`);
      assert.is(r.value, value);
    }
  }
});

test('a repeated Annex H parameter is refused rather than one of its values picked', () => {
  const r = rejection(`ipsec-3gpp;alg=hmac-sha-1-96;${BASE};ALG=hmac-md5-96`);
  assert.is(r.code, 'DUPLICATE_PARAM');
  assert.is(r.param, 'ALG');
  assert.is(rejection(`ipsec-3gpp;alg=hmac-sha-1-96;${BASE};spi-c=5`).code, 'DUPLICATE_PARAM');
});

test('other mechanisms are not ipsec-3gpp offers; unknown parameters do not matter', () => {
  assert.is(rejection('tls;q=0.1').code, 'NOT_IPSEC_3GPP');
  assert.is(offer(`IPSEC-3GPP;x=1;alg=hmac-sha-1-96;${BASE};d-alg=md5`).alg, 'hmac-sha-1-96');
});

test.run();
