// Bindings with typical IMS strings (the sizes the brief's 1 KiB budget is about).

import type { Binding, SaSet } from '../../src/shared/binding.js';

export function typicalSa(spiPc: number, overrides: Partial<SaSet> = {}): SaSet {
  return {
    spiUc: 0x5a3c_1001, spiUs: 0x5a3c_1002, portUc: 31800, portUs: 31801,
    spiPc, spiPs: spiPc + 1, portPc: 5100, portPs: 6100,
    alg: 'hmac-sha-1-96', ealg: 'aes-cbc',
    clientDigest: Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i),
    createdAt: 1_767_225_600, confirmedAt: 0,
    ...overrides,
  };
}

/** The n-th UE of a typical IMS deployment: an MSISDN AOR, a Contact with +sip.instance and
 * feature tags, a Path, two Service-Route entries, two P-Associated-URIs. */
export function typicalBinding(n = 0, overrides: Partial<Binding> = {}): Binding {
  const msisdn = `+49170${String(1234567 + n).padStart(7, '0')}`;
  const ip = `10.${45 + ((n >>> 16) & 127)}.${(n >>> 8) & 255}.${n & 255}`;
  return {
    state: 'registered',
    aor: `sip:${msisdn}@ims.mnc001.mcc262.3gppnetwork.org`,
    contactUri: `<sip:${msisdn}@${ip}:5060>;+sip.instance="<urn:gsma:imei:35399306-${String(129823 + n).padStart(6, '0')}-0>";` +
      '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";+g.3gpp.smsip;audio;video',
    contactHost: ip,
    contactPort: 5060,
    receivedAddr: ip,
    receivedPort: 5060,
    transport: 'udp',
    viaHost: ip,
    viaPort: 5060,
    expiresAt: 1_767_229_200,
    path: '<sip:term@pcscf.ims.mnc001.mcc262.3gppnetwork.org;lr>',
    serviceRoute: ['<sip:orig@scscf.ims.mnc001.mcc262.3gppnetwork.org:6060;lr>', '<sip:orig@icscf.ims.mnc001.mcc262.3gppnetwork.org;lr>'],
    associatedUris: [`sip:${msisdn}@ims.mnc001.mcc262.3gppnetwork.org`, `tel:${msisdn}`],
    sa: typicalSa(0x1000 + 2 * n),
    createdAt: 1_767_225_600,
    updatedAt: 1_767_225_600,
    ...overrides,
  };
}
