// ipsecForward's flags against kamailio-behaviour.md §7.3, with the clamping of the port choices no
// SA covers (src/ipsec/forward.ts), and the property behind it: whatever the flags, transport and
// Via, a message to a UE leaves on one of the two flows its set covers towards it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { RxInfo, Target, Transport } from '../../src/engine/plan.js';
import { IpsecError, ipsecForward } from '../../src/ipsec/index.js';
import type { Binding, SaSet } from '../../src/shared/binding.js';
import { parseVia } from '../../src/sip/index.js';
import { UE_AT, UE_PC, UE_PS, ipsecHarness, type IpsecHarness } from './fixtures.js';

const h = ipsecHarness();
const ctx = h.ctx.ipsec!;
const SET: SaSet = {
  spiUc: 1111, spiUs: 2222, spiPc: 100, spiPs: 101, portUc: UE_PC, portUs: UE_PS, portPc: 5100, portPs: 6100,
  alg: 'hmac-sha-1-96', ealg: 'aes-cbc', clientDigest: new Uint8Array(32), createdAt: 0, confirmedAt: 1,
};

function binding(transport: Transport): Binding {
  return {
    state: 'registered', aor: 'sip:alice@ims.example.net', contactUri: `<sip:alice@10.45.0.7:${UE_PS}>`, contactHost: '10.45.0.7', contactPort: UE_PS,
    receivedAddr: '10.45.0.7', receivedPort: UE_PC, transport, viaHost: '10.45.0.7', viaPort: UE_PC, expiresAt: 1e10, path: '',
    serviceRoute: [], associatedUris: [], sa: SET, createdAt: 0, updatedAt: 0,
  };
}

function requestRx(transport: Transport): RxInfo {
  return { ...h.protectedRx(UE_AT(UE_PC), 6100, transport), ...(transport === 'tcp' ? { connId: 7 } : {}) };
}

const via = (port: number, transport = 'UDP') => parseVia(`SIP/2.0/${transport} 10.45.0.7:${port};branch=z9hG4bKx`, 0, `SIP/2.0/${transport} 10.45.0.7:${port};branch=z9hG4bKx`.length);

function reply(flags: number, viaPort: number, transport: Transport = 'udp'): Target | undefined {
  return ipsecForward(ctx, 'location', flags, { kind: 'reply', rx: requestRx(transport), via: via(viaPort, transport.toUpperCase()), set: SET });
}

function request(flags: number, transport: Transport, nextHopTransport: Transport = 'udp') {
  return ipsecForward(ctx, 'location', flags, { kind: 'request', binding: binding(transport), nextHopTransport });
}

/** (local port, transport) -> remote port, as a short string. */
function flow(t: Target | undefined, x: IpsecHarness = h): string {
  if (t === undefined) return 'none';
  const s = x.ctx.sockets.byId(t.socketId)!;
  return `${t.transport} ${s.local.port}->${t.remote.port}${t.reuseOnly === true ? ' reuse' : ''}${t.connId === undefined ? '' : ` conn ${t.connId}`}`;
}

test('replies over UDP (§7.3 replies table), with port_pc -> port_uc clamped to port_ps -> port_uc', () => {
  const cases: [number, number, string, string][] = [
    [0, UE_PC, 'udp 5100->5064', 'no 0x100: port_pc -> port_us'],
    [0, 5099, 'udp 5100->5064', 'no 0x100: the Via does not matter'],
    [0x100, UE_PS, 'udp 5100->5064', '0x100, Via port_us: port_pc -> port_us'],
    [0x100, UE_PC, 'udp 6100->5062', '0x100, Via port_uc: Kamailio port_pc -> port_uc (no SA), clamped to port_ps -> port_uc'],
    [0x100, 5099, 'udp 5100->5064', '0x100, Via neither: port_pc -> port_us'],
    [0x400, UE_PS, 'udp 6100->5062', '0x400: the way the request came'],
    [0x400 | 0x100, UE_PS, 'udp 6100->5062', '0x400 wins over 0x100'],
    [0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x80, UE_PS, 'udp 5100->5064', 'the search / $du flags change nothing'],
    [0x200 | 0x40, UE_PC, 'udp 5100->5064', '0x200 and 0x40 are for requests'],
  ];
  for (const [flags, viaPort, expected, why] of cases) assert.is(flow(reply(flags, viaPort)), expected, why);
});

test('replies over TCP go back on the UE\'s connection whatever the flags', () => {
  for (const flags of [0, 0x100, 0x400, 0x40, 0x7ff]) assert.is(flow(reply(flags, UE_PS, 'tcp')), 'tcp 6100->5062 reuse conn 7', `flags ${flags}`);
});

test('requests (§7.3 requests table): port_pc -> port_us; 0x40 over TCP: the UE\'s connection to port_ps; 0x100: the Request-URI\'s transport', () => {
  const cases: [number, Transport, Transport, string, string][] = [
    [0, 'udp', 'udp', 'udp 5100->5064', 'UDP'],
    [0, 'tcp', 'udp', 'tcp 5100->5064', 'TCP: a connection bound to port_pc'],
    [0x40, 'udp', 'udp', 'udp 5100->5064', '0x40 only for TCP'],
    [0x40, 'tcp', 'udp', 'tcp 6100->5062 reuse', '0x40 TCP: port_ps -> port_uc, never a new connection'],
    [0x100, 'udp', 'tcp', 'tcp 5100->5064', '0x100: transport of the next hop'],
    [0x100, 'tcp', 'udp', 'udp 5100->5064', '0x100: even when the UE registered over TCP'],
    [0x100 | 0x40, 'udp', 'tcp', 'tcp 6100->5062 reuse', '0x100 then 0x40'],
    [0x200, 'udp', 'udp', 'udp 5100->5064', '0x200: the UDP socket exists'],
    [0x400 | 0x01 | 0x80, 'udp', 'udp', 'udp 5100->5064', 'reply and $du flags change nothing'],
  ];
  for (const [flags, registered, nextHop, expected, why] of cases) {
    const r = request(flags, registered, nextHop);
    assert.is(flow(r?.target), expected, why);
    assert.is(h.ctx.sockets.byId(r!.recordRoute.id)!.local.port, 6100, `${why}: Record-Route on port_ps`);
    assert.is(r!.recordRoute.transport, r!.target.transport);
  }
});

test('the established set is used while a new one is temporary; no set, no target', () => {
  const newer: SaSet = { ...SET, spiPc: 102, spiPs: 103, portPc: 5101, portUc: 5066, confirmedAt: 0 };
  assert.is(flow(ipsecForward(ctx, 'location', 0, { kind: 'request', binding: { ...binding('udp'), sa: newer, previousSa: SET }, nextHopTransport: 'udp' })?.target), 'udp 5100->5064');
  assert.is(flow(ipsecForward(ctx, 'location', 0, { kind: 'request', binding: { ...binding('udp'), sa: newer }, nextHopTransport: 'udp' })?.target), 'udp 5101->5064');
  assert.is(ipsecForward(ctx, 'location', 0, { kind: 'request', binding: { ...binding('udp'), sa: undefined }, nextHopTransport: 'udp' }), undefined);
});

test('every flag combination, transport and Via port: only the two flows the set covers towards the UE', () => {
  const covered = new Set([`${SET.portPc}->${SET.portUs}`, `${SET.portPs}->${SET.portUc}`]);
  const ports = (t: Target | undefined): string => `${h.ctx.sockets.byId(t!.socketId)!.local.port}->${t!.remote.port}`;
  for (let flags = 0; flags < 0x800; flags++) {
    for (const transport of ['udp', 'tcp'] as const) {
      for (const viaPort of [UE_PC, UE_PS, 5060, 5099]) assert.ok(covered.has(ports(reply(flags, viaPort, transport))), `reply flags ${flags} ${transport} via ${viaPort}`);
      for (const nextHop of ['udp', 'tcp'] as const) assert.ok(covered.has(ports(request(flags, transport, nextHop)?.target)), `request flags ${flags} ${transport} ${nextHop}`);
    }
  }
});

test('an unknown domain or flags that are not a non-negative integer: a typed error', () => {
  for (const [domain, flags, code] of [['usrloc', 0, 'IPSEC_UNKNOWN_DOMAIN'], ['location', -1, 'IPSEC_BAD_FLAGS'], ['location', 1.5, 'IPSEC_BAD_FLAGS']] as const) {
    try {
      ipsecForward(ctx, domain, flags, { kind: 'request', binding: binding('udp'), nextHopTransport: 'udp' });
      assert.unreachable(`${domain} ${flags}`);
    } catch (e) {
      assert.instance(e, IpsecError);
      assert.is((e as IpsecError).code, code);
    }
  }
  const other = ipsecHarness({ PCSCF_CONTACTS__DOMAIN: 'usrloc' });
  assert.ok(ipsecForward(other.ctx.ipsec!, 'usrloc', 0, { kind: 'request', binding: binding('udp'), nextHopTransport: 'udp' }) !== undefined);
});

test.run();
