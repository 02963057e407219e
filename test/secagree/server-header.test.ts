import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { SecAgreeError, buildSecurityServer } from '../../src/secagree/index.js';

const P = { spiPc: 1000, spiPs: 1001, portPc: 5062, portPs: 5064, alg: 'hmac-sha-1-96', ealg: 'aes-cbc' };

test('exact bytes of kamailio-behaviour.md §5.3', () => {
  assert.is(buildSecurityServer(P),
    'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=1000;spi-s=1001;port-c=5062;port-s=5064;alg=hmac-sha-1-96;ealg=aes-cbc');
});

test('SPIs are written unsigned, algorithms as the UE spelled them, an omitted ealg as null', () => {
  assert.is(buildSecurityServer({ ...P, spiPc: 4294967295, spiPs: 2147483648, alg: 'HMAC-MD5-96', ealg: '' }),
    'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=4294967295;spi-s=2147483648;port-c=5062;port-s=5064;alg=HMAC-MD5-96;ealg=null');
});

test('values that would not make a valid header are refused with a typed error', () => {
  const bad: Partial<typeof P>[] = [
    { spiPc: 0 }, { spiPs: 4294967296 }, { spiPc: 1.5 }, { portPc: 0 }, { portPs: 65536 }, { portPs: Number.NaN },
    { alg: '' }, { alg: 'hmac;x=1' }, { ealg: 'aes-cbc\r\nVia: evil' }, { alg: 'a b' },
  ];
  for (const change of bad) {
    try {
      buildSecurityServer({ ...P, ...change });
      assert.unreachable(JSON.stringify(change));
    } catch (e) {
      assert.instance(e, SecAgreeError);
      assert.is((e as SecAgreeError).code, 'SECAGREE_BAD_BUILD_INPUT');
    }
  }
});

test.run();
