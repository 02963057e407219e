// The UE's half of the security agreement: its Security-Client, the choice among Security-Server
// mechanisms, Security-Verify as the mirror of the Security-Server, and the SAs both ends derive.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPcscfSaSet, buildUeSaSet } from '../../src/ipsec/sa-set.js';
import { buildSecurityServer, Mismatch, OfferRejection, parseSecurityHeader, toIpsecOffer, verifyMatchesServer } from '../../src/secagree/index.js';
import { agreedTunnel, chooseSecurityServer, forgedSecurityVerifyValue, securityClientValue, securityVerifyValue, ServerProblem, type ChosenServer } from '../../src/lab/ue-security.js';

const UE = { spiUc: 11111, spiUs: 22222, portUc: 7062, portUs: 7061 };

function chosen(r: ChosenServer | ServerProblem): ChosenServer {
  if (r instanceof ServerProblem) throw new Error(r.message);
  return r;
}

test('Security-Client: one ipsec-3gpp offer per pair, each with the UE\'s SPIs and ports as spi-c/spi-s/port-c/port-s', () => {
  const v = securityClientValue([['hmac-sha-1-96', 'aes-cbc'], ['hmac-md5-96', 'null'], ['null', 'aes-gcm']], UE);
  const offers = parseSecurityHeader([v]).map((m, i) => toIpsecOffer(m, i));
  assert.is(offers.length, 3);
  for (const o of offers) {
    if (o instanceof OfferRejection) throw new Error(o.message);
    assert.equal([o.spiC, o.spiS, o.portC, o.portS, o.prot, o.mod], [11111, 22222, 7062, 7061, 'esp', 'trans']);
  }
  assert.equal(offers.map((o) => (o instanceof OfferRejection ? null : [o.alg, o.ealg])), [['hmac-sha-1-96', 'aes-cbc'], ['hmac-md5-96', 'null'], ['null', 'aes-gcm']]);
});

test('Security-Verify mirrors the Security-Server: the P-CSCF\'s check (RFC 3329 §2.3.1) accepts it', () => {
  const server = buildSecurityServer({ spiPc: 5000, spiPs: 5001, portPc: 5062, portPs: 5064, alg: 'hmac-sha-1-96', ealg: 'aes-cbc' });
  const c = chosen(chooseSecurityServer([server], [['hmac-sha-1-96', 'aes-cbc']]));
  assert.is(securityVerifyValue(c.values), server);
  assert.is(verifyMatchesServer([securityVerifyValue(c.values)], server), true);
  // Several header lines come back as one list, in order.
  const two = ['ipsec-3gpp;q=0.5;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4', 'ipsec-3gpp;q=0.9;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=5;spi-s=6;port-c=7;port-s=8'];
  assert.is(securityVerifyValue(chosen(chooseSecurityServer(two, [['hmac-sha-1-96', 'aes-cbc']])).values), two.join(', '));
});

test('a forged Security-Verify differs from the Security-Server only in spi-c, and the P-CSCF\'s check refuses it', () => {
  const server = buildSecurityServer({ spiPc: 5000, spiPs: 5001, portPc: 5062, portPs: 5064, alg: 'hmac-sha-1-96', ealg: 'aes-cbc' });
  const forged = forgedSecurityVerifyValue(chosen(chooseSecurityServer([server], [['hmac-sha-1-96', 'aes-cbc']])).values);
  assert.is(forged, server.replace('spi-c=5000', 'spi-c=5001'));
  assert.instance(verifyMatchesServer([forged], server), Mismatch);
});

test('the chosen mechanism: highest q among the pairs the UE offered; its SPIs and ports are the P-CSCF\'s', () => {
  const values = ['ipsec-3gpp;q=0.5;alg=hmac-md5-96;ealg=null;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;q=0.9;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=5;spi-s=6;port-c=7;port-s=8, ipsec-3gpp;q=1;alg=null;ealg=aes-gcm;spi-c=9;spi-s=10;port-c=11;port-s=12'];
  const c = chosen(chooseSecurityServer(values, [['hmac-md5-96', 'null'], ['hmac-sha-1-96', 'aes-cbc']]));
  assert.equal([c.alg, c.ealg, c.spiPc, c.spiPs, c.portPc, c.portPs], ['hmac-sha-1-96', 'aes-cbc', 5, 6, 7, 8]);
  const first = chosen(chooseSecurityServer(['ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;alg=hmac-md5-96;spi-c=5;spi-s=6;port-c=7;port-s=8'], [['hmac-md5-96', 'null']]));
  assert.is(first.spiPc, 1, 'ties go to the first; an absent ealg is null (Annex H)');
});

test('unusable Security-Servers are problems with a reason, never a choice', () => {
  const none = chooseSecurityServer([], [['hmac-sha-1-96', 'aes-cbc']]);
  assert.instance(none, ServerProblem);
  assert.is((none as ServerProblem).code, 'UE_NO_SECURITY_SERVER');
  for (const [values, why] of [
    [['ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4'], /was not offered/],
    [['ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;port-c=3;port-s=4'], /SPI_MISSING/],
    [['tls;q=1'], /no usable mechanism/],
    [['ipsec-3gpp;;'], /does not parse/],
  ] as const) {
    const p = chooseSecurityServer(values, [['hmac-sha-1-96', 'aes-cbc']]);
    assert.instance(p, ServerProblem);
    assert.is((p as ServerProblem).code, 'UE_SECURITY_SERVER_UNUSABLE');
    assert.match((p as ServerProblem).message, why);
  }
});

test('the agreed tunnel is the same for both ends: the UE\'s set is the P-CSCF\'s with every policy reversed', () => {
  const server = chosen(chooseSecurityServer([buildSecurityServer({ spiPc: 5000, spiPs: 5001, portPc: 5062, portPs: 5064, alg: 'hmac-sha-1-96', ealg: 'aes-cbc' })], [['hmac-sha-1-96', 'aes-cbc']]));
  const keys = { ck: Buffer.alloc(16, 1), ik: Buffer.alloc(16, 2) };
  const p = agreedTunnel(UE, server, { ueAddr: '10.0.0.2', pcscfAddr: '10.0.0.1' }, keys, 77);
  assert.equal(p, {
    family: 4, ueAddr: '10.0.0.2', pcscfAddr: '10.0.0.1', spiUc: 11111, spiUs: 22222, portUc: 7062, portUs: 7061,
    spiPc: 5000, spiPs: 5001, portPc: 5062, portPs: 5064, alg: 'hmac-sha-1-96', ealg: 'aes-cbc', ...keys, marker: 77,
  });
  const ue = buildUeSaSet(p);
  const pc = buildPcscfSaSet(p);
  assert.equal(ue.sas, pc.sas);
  assert.equal(ue.policies.map((x) => x.dir), ['out', 'in', 'in', 'out']);
  assert.equal(pc.policies.map((x) => x.dir), ['in', 'out', 'out', 'in']);
  assert.is(agreedTunnel(UE, server, { ueAddr: 'fd00::2', pcscfAddr: 'fd00::1' }, keys, 77).family, 6);
});

test.run();
