import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { NoOffer, parseSecurityHeader, selectOffer } from '../../src/secagree/index.js';
import type { Selected, SelectionPolicy } from '../../src/secagree/index.js';

const ALL: SelectionPolicy = {
  allowedAuth: ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'],
  allowedEnc: ['des-ede3-cbc', 'aes-cbc', 'aes-gcm', 'null'],
};

// Distinct SPIs and ports per offer, so that a mix of two offers would show.
function mech(n: number, algs: string): string {
  return `ipsec-3gpp;${algs};spi-c=${n}01;spi-s=${n}02;port-c=${n}003;port-s=${n}004`;
}

function select(values: string[], policy: SelectionPolicy): Selected {
  const r = selectOffer(parseSecurityHeader(values), policy);
  if (r instanceof NoOffer) assert.unreachable(r.message);
  return r as Selected;
}

function none(values: string[], policy: SelectionPolicy): NoOffer {
  const r = selectOffer(parseSecurityHeader(values), policy);
  assert.instance(r, NoOffer);
  return r as NoOffer;
}

// A Samsung-like list: the same SPIs and ports with three algorithm pairs.
const UE = [
  `${mech(1, 'alg=hmac-md5-96;ealg=des-ede3-cbc')}, ${mech(2, 'alg=hmac-md5-96;ealg=aes-cbc')}`,
  `${mech(3, 'alg=hmac-sha-1-96;ealg=aes-cbc')}, ${mech(4, 'alg=hmac-sha-1-96;ealg=null')}`,
];

test('without preferences the last usable offer wins, whole', () => {
  const { offer, preferred } = select(UE, ALL);
  assert.is(preferred, false);
  assert.is(offer.index, 3);
  assert.equal([offer.alg, offer.ealg, offer.spiC, offer.spiS, offer.portC, offer.portS], ['hmac-sha-1-96', 'null', 401, 402, 4003, 4004]);
});

test('with a preferred alg the last offer with that alg wins, with its own ealg, SPIs and ports', () => {
  const { offer, preferred } = select(UE, { ...ALL, preferredAlg: 'hmac-md5-96' });
  assert.is(preferred, true);
  assert.equal([offer.index, offer.alg, offer.ealg, offer.spiC, offer.portS], [1, 'hmac-md5-96', 'aes-cbc', 201, 2004]);
});

test('with a preferred ealg only', () => {
  const { offer } = select(UE, { ...ALL, preferredEalg: 'des-ede3-cbc' });
  assert.equal([offer.index, offer.alg, offer.ealg, offer.spiS], [0, 'hmac-md5-96', 'des-ede3-cbc', 102]);
});

test('with both preferences the offer must match both; never alg of one offer with ealg of another', () => {
  // Kamailio stops on the preferred alg of offer 0 and keeps the ealg parsed last, mixing offers.
  const values = [`${mech(1, 'ealg=aes-cbc;alg=hmac-sha-1-96')}, ${mech(2, 'alg=hmac-md5-96;ealg=null')}, ${mech(3, 'alg=hmac-sha-1-96;ealg=null')}`];
  const { offer } = select(values, { ...ALL, preferredAlg: 'hmac-sha-1-96', preferredEalg: 'aes-cbc' });
  assert.equal([offer.index, offer.alg, offer.ealg, offer.spiC, offer.portC], [0, 'hmac-sha-1-96', 'aes-cbc', 101, 1003]);
});

test('a preference no offer matches falls back to the last usable offer', () => {
  const r = select(UE, { ...ALL, preferredAlg: 'aes-gmac' });
  assert.is(r.preferred, false);
  assert.is(r.offer.index, 3);
});

test('an absent ealg matches a preferred ealg of null', () => {
  const values = [`${mech(1, 'alg=hmac-sha-1-96')}, ${mech(2, 'alg=hmac-sha-1-96;ealg=aes-cbc')}`];
  assert.is(select(values, { ...ALL, preferredEalg: 'null' }).offer.index, 0);
});

test('the allow-lists restrict the choice; unusable offers are skipped, not mixed in', () => {
  const r = select(UE, { ...ALL, allowedEnc: ['aes-cbc', 'des-ede3-cbc'] });
  assert.is(r.offer.index, 2);
  const md5Only = select(UE, { ...ALL, allowedAuth: ['hmac-md5-96'] });
  assert.is(md5Only.offer.index, 1);
  const values = [`${mech(1, 'alg=hmac-sha-1-96')}, ${mech(2, 'ealg=aes-cbc')}`];
  assert.is(select(values, ALL).offer.index, 0);
});

test('the deprecated switch removes hmac-md5-96 and des-ede3-cbc even when allowed', () => {
  const values = [`${mech(1, 'alg=hmac-sha-1-96;ealg=des-ede3-cbc')}, ${mech(2, 'alg=hmac-md5-96;ealg=aes-cbc')}, ${mech(3, 'alg=hmac-sha-1-96;ealg=aes-cbc')}`];
  assert.is(select(values, ALL).offer.index, 2);
  const onlyDeprecated = values[0]!.split(', ').slice(0, 2).join(', ');
  assert.is(select([onlyDeprecated], ALL).offer.index, 1);
  const r = none([onlyDeprecated], { ...ALL, disableDeprecated: true });
  assert.is(r.code, 'ALG_DEPRECATED');
  assert.equal(r.rejections.map((x) => x.code), ['EALG_DEPRECATED', 'ALG_DEPRECATED']);
});

test('Rel-17 offers are selected when allowed', () => {
  const values = [`${mech(1, 'alg=hmac-sha-1-96;ealg=aes-cbc')}, ${mech(2, 'alg=null;ealg=aes-gcm')}, ${mech(3, 'alg=aes-gmac')}`];
  assert.is(select(values, ALL).offer.alg, 'aes-gmac');
  assert.is(select(values, { ...ALL, preferredEalg: 'aes-gcm' }).offer.index, 1);
  assert.is(select(values, { ...ALL, allowedAuth: ['hmac-sha-1-96', 'aes-gmac'] }).offer.index, 2);
  assert.is(select(values, { ...ALL, allowedEnc: ['aes-cbc', 'aes-gcm'] }).offer.index, 1);
});

test('no usable offer: a reason code, and every refused ipsec-3gpp offer', () => {
  assert.is(none(['tls;q=0.2, digest'], ALL).code, 'NO_IPSEC_OFFER');
  const empty = selectOffer([], ALL);
  assert.instance(empty, NoOffer);
  assert.is((empty as NoOffer).code, 'NO_IPSEC_OFFER');
  const r = none([`${mech(1, 'alg=hmac-sha-1-96;spi-c=0')}, tls, ${mech(3, 'alg=aes-gmac')}`], { ...ALL, allowedAuth: ['hmac-sha-1-96'] });
  assert.is(r.code, 'ALG_NOT_ALLOWED');
  assert.equal(r.rejections.map((x) => [x.code, x.index]), [['DUPLICATE_PARAM', 0], ['ALG_NOT_ALLOWED', 2]]);
  assert.is(none([mech(1, 'alg=hmac-sha-1-96;ealg=aes-gcm')], ALL).code, 'ALG_COMBINATION');
  assert.is(none([mech(1, 'alg=hmac-sha-1-96;ealg=aes-cbc')], { ...ALL, allowedEnc: ['null'] }).code, 'EALG_NOT_ALLOWED');
});

test.run();
