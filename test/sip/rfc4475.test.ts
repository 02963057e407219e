// The 49 torture messages of RFC 4475, exact bytes, each checked against what the RFC expects of a
// stateful proxy receiving it over UDP (../shared/testdata/rfc4475/index.tsv): valid messages parse
// and their accessors give the RFC's values; invalid requests give a SipError with the status to
// answer; invalid responses give a SipError (they are dropped).

import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type SipMessage, type SipUri, isSipUri, parseMessage, parseUri, unescapeUri, uriParam } from '../../src/sip/index.js';
import { RFC4475_DIR, rfc4475, throwsSip } from './support.js';

const index = readFileSync(new URL('index.tsv', RFC4475_DIR), 'latin1').trim().split('\n').slice(1).map((l) => l.split('\t'));

const ok = (name: string): SipMessage => parseMessage(rfc4475(name));
const sipUri = (text: string): SipUri => {
  const u = parseUri(text);
  assert.ok(isSipUri(u), `${text} is a SIP URI`);
  return u;
};

/** What each case must do; every case of index.tsv has exactly one entry. */
const cases: Record<string, () => void> = {
  // 3.1.1 valid messages
  wsinv() {
    const m = ok('wsinv');
    assert.is(m.method, 'INVITE');
    assert.is(m.maxForwards(), 68);
    assert.equal(m.cseq(), { seq: 9, method: 'INVITE' });
    assert.is(m.to().tag, '1918181833n');
    assert.is(m.from().tag, '98asjd8');
    assert.is(m.from().displayName, 'J Rosenberg \\"');
    assert.is(m.vias().length, 3);
    assert.equal(m.vias().map((v) => [v.protocol, v.transport, v.host, v.branch]), [
      ['SIP/2.0', 'UDP', '192.0.2.2', '390skdjuw'],
      ['SIP/2.0', 'TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['SIP/2.0', 'UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.is(m.first('newfangledheader')!.value, 'newfangled value continued newfangled value');
    assert.is(m.first('UnknownHeaderWithUnusualValue')!.value, ';;,,;;,;');
    assert.is(m.first('subject')!.value, '');
    const contacts = m.contacts();
    assert.ok(contacts !== '*' && contacts.length === 1);
    assert.is(contacts[0]!.displayName, 'Quoted string ""');
    assert.is(contacts[0]!.q, 0.33);
    assert.equal(contacts[0]!.params.map((p) => [p.name, p.value]), [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    assert.is(m.routes()[0]!.uri, 'sip:services.example.com;lr;unknownwith=value;unknown-no-value');
    assert.is(uriParam(m.requestUriParsed(), 'unknownparam'), null);
    assert.is(m.body.length, 150);
  },
  intmeth() {
    const m = ok('intmeth');
    assert.is(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.is(m.cseq().method, m.method);
    const ruri = m.requestUriParsed() as SipUri;
    assert.is(ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.is(ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.is(ruri.host, 'example.com');
    assert.is(m.to().displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.is(m.from().displayName, "token1~` token2'+_ token3*%!.-");
    assert.is(m.from().tag, "_token~1'+`*%!-.");
    assert.is(m.callId(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert.is(m.topVia().branch, "z9hG4bK-.!%66*_+`'~");
    // UTF-8 octets arrive as latin1 code units and go back to the same octets.
    const ext = m.first("extensionHeader-!.%*+_`'~")!;
    assert.is(Buffer.from(ext.value, 'latin1').toString('utf8'), '\uFEFF\u5927\u505C\u96FB');
  },
  esc01() {
    const m = ok('esc01');
    const ruri = m.requestUriParsed() as SipUri;
    assert.is(ruri.user, 'sips%3Auser%40example.com');
    assert.is(unescapeUri(ruri.user!), 'sips:user@example.com');
    assert.is(ruri.host, 'example.net');
    assert.is(m.to().uri, 'sip:%75se%72@example.com');
    assert.is(unescapeUri(sipUri(m.to().uri).user!), 'user');
    assert.is(unescapeUri(sipUri(m.from().uri).user!), 'I have spaces');
    const contacts = m.contacts();
    assert.ok(contacts !== '*');
    const c = sipUri(contacts[0]!.uri);
    // Escaped parameter names are not unescaped implicitly: "%6C%72" is not "lr" until asked.
    assert.is(uriParam(c, 'lr'), undefined);
    assert.is(uriParam(c, '%6C%72'), null);
    assert.is(unescapeUri(c.params[1]!.name), 'name');
    assert.is(unescapeUri(c.params[1]!.value!), 'value%41');
    assert.is(m.first('c')!.value, 'application/sdp');
  },
  escnull() {
    const m = ok('escnull');
    assert.is(sipUri(m.to().uri).user, 'null-%00-null');
    assert.is(unescapeUri('null-%00-null'), 'null-\x00-null');
    const contacts = m.contacts();
    assert.ok(contacts !== '*');
    assert.equal(contacts.map((c) => sipUri(c.uri).user), ['%00', '%00%00']);
    assert.is(m.contentLength(), 0);
  },
  esc02() {
    const m = ok('esc02');
    assert.is(m.method, 'RE%47IST%45R');
    assert.is(m.cseq().method, 'RE%47IST%45R');
    assert.is(m.to().displayName, '%Z%45');
    assert.is(m.topVia().branch, 'z9hG4bK209%fzsnel234');
    const contacts = m.contacts();
    assert.ok(contacts !== '*');
    // "C%6Fntact" is another header, not Contact.
    assert.equal(contacts.map((c) => c.uri), ['sip:alias1@host1.example.com', 'sip:alias3@host3.example.com']);
    assert.is(m.first('C%6Fntact')!.value, '<sip:alias2@host2.example.com>');
  },
  lwsdisp() {
    const m = ok('lwsdisp');
    assert.is(m.from().displayName, 'caller');
    assert.is(m.from().uri, 'sip:caller@example.com');
    assert.is(m.from().tag, '323');
  },
  longreq() {
    const m = ok('longreq');
    assert.is(m.raw.length, 3515);
    assert.is(m.vias().length, 34);
    assert.is(m.topVia().host, 'sip33.example.com');
    assert.is(m.vias()[33]!.received, '192.0.2.5');
    assert.match(m.vias()[33]!.branch!, /^verylong(?:long)+branchvalue$/);
    assert.is(m.to().displayName, 'I have a user name of extremeextremeextremeextremeextremeextremeextremeextremeextremeextreme proportion');
    assert.is(sipUri(m.to().uri).port, 6000);
    assert.is(m.from().params.length, 3);
    assert.is(m.contentLength(), 150);
  },
  dblreq() {
    const m = ok('dblreq');
    assert.is(m.method, 'REGISTER');
    assert.is(m.body.length, 0);
    assert.ok(m.raw.length < rfc4475('dblreq').length, 'the trailing INVITE is not part of the message');
    assert.ok(!m.raw.toString('latin1').includes('INVITE'));
  },
  semiuri() {
    const m = ok('semiuri');
    const ruri = m.requestUriParsed() as SipUri;
    assert.is(ruri.user, 'user;par=u%40example.net');
    assert.is(ruri.host, 'example.com');
    assert.is(ruri.params.length, 0);
    assert.is(m.values('accept').length, 6);
  },
  transports() {
    const m = ok('transports');
    assert.equal(m.vias().map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  },
  mpart01() {
    const m = ok('mpart01');
    assert.is(m.body.length, 553);
    const raw = rfc4475('mpart01');
    assert.ok(m.body.equals(raw.subarray(raw.length - 553)), 'body octets as sent');
    assert.is(m.topVia().rport, null);
    assert.is(m.topVia().port, 5070);
    assert.is(m.first('content-type')!.value, 'multipart/mixed;boundary=7a9cbec02ceef655');
  },
  unreason() {
    const m = ok('unreason');
    assert.is(m.status, 200);
    assert.is(Buffer.from(m.reasonPhrase, 'latin1').toString('utf8').slice(0, 13), '= 2**3 * 5**2');
    assert.is(m.method, 'INVITE');
    assert.is(m.body.length, 154);
  },
  noreason() {
    const m = ok('noreason');
    assert.is(m.status, 100);
    assert.is(m.reasonPhrase, '');
  },

  // 3.1.2 invalid messages
  badinv01: () => void throwsSip(() => ok('badinv01'), 400, 'SIP_BAD_HEADER'),
  clerr: () => void throwsSip(() => ok('clerr'), 400, 'SIP_BAD_CONTENT_LENGTH'),
  ncl: () => void throwsSip(() => ok('ncl'), 400, 'SIP_BAD_CONTENT_LENGTH'),
  scalar02() {
    const e = throwsSip(() => ok('scalar02'), 400, 'SIP_BAD_HEADER');
    assert.is(e.header, 'CSeq');
  },
  scalarlg: () => void throwsSip(() => ok('scalarlg'), 400, 'SIP_BAD_HEADER'),
  quotbal() {
    const e = throwsSip(() => ok('quotbal'), 400, 'SIP_BAD_HEADER');
    assert.is(e.header, 'To');
  },
  ltgtruri: () => void throwsSip(() => ok('ltgtruri'), 400, 'SIP_BAD_URI'),
  lwsruri: () => void throwsSip(() => ok('lwsruri'), 400, 'SIP_BAD_URI'),
  lwsstart: () => void throwsSip(() => ok('lwsstart'), 400, 'SIP_BAD_URI'),
  trws: () => void throwsSip(() => ok('trws'), 400, 'SIP_BAD_START_LINE'),
  escruri: () => void throwsSip(() => ok('escruri'), 400, 'SIP_BAD_URI'),
  baddate() {
    // FWD is the expected outcome: a proxy does not read Date.
    const m = ok('baddate');
    assert.is(m.first('date')!.value, 'Fri, 01 Jan 2010 16:00:00 EST');
  },
  regbadct() {
    // The message frames and routes; the Contact a registrar would store is the 400.
    const m = ok('regbadct');
    const e = throwsSip(() => m.contacts(), 400, 'SIP_BAD_HEADER');
    assert.is(e.header, 'Contact');
  },
  badaspec() {
    const e = throwsSip(() => ok('badaspec'), 400, 'SIP_BAD_HEADER');
    assert.is(e.header, 'To');
  },
  baddn() {
    // The archive bytes lack the empty line that ends the header section (see the README).
    throwsSip(() => ok('baddn'), 400, 'SIP_INCOMPLETE');
    const e = throwsSip(() => parseMessage(readFileSync(new URL('extras/baddn.fixed.dat', RFC4475_DIR))), 400, 'SIP_BAD_HEADER');
    assert.is(e.header, 'From');
  },
  badvers: () => void throwsSip(() => ok('badvers'), 505, 'SIP_BAD_VERSION'),
  mismatch01: () => void throwsSip(() => ok('mismatch01'), 400, 'SIP_CSEQ_MISMATCH'),
  mismatch02: () => void throwsSip(() => ok('mismatch02'), 400, 'SIP_CSEQ_MISMATCH'),
  bigcode: () => void throwsSip(() => ok('bigcode'), 400, 'SIP_BAD_START_LINE'),

  // 3.2 transaction layer
  badbranch() {
    // Parsed (the RFC allows falling back to RFC 2543 matching); the transaction layer sees the
    // bare magic cookie and decides.
    assert.is(ok('badbranch').topVia().branch, 'z9hG4bK');
  },

  // 3.3 application layer
  insuf() {
    const e = throwsSip(() => ok('insuf'), 400, 'SIP_MISSING_HEADER');
    assert.ok(['From', 'To', 'Call-ID'].includes(e.header!));
  },
  unkscm: () => void throwsSip(() => ok('unkscm'), 416, 'SIP_UNSUPPORTED_URI_SCHEME'),
  novelsc: () => void throwsSip(() => ok('novelsc'), 416, 'SIP_UNSUPPORTED_URI_SCHEME'),
  unksm2() {
    const m = ok('unksm2');
    assert.is(m.to().uri, 'isbn:2983792873');
    assert.is(m.from().uri, 'http://www.example.com');
    const contacts = m.contacts();
    assert.ok(contacts !== '*');
    assert.is(contacts[0]!.uri, 'name:John_Smith');
    assert.is(parseUri(contacts[0]!.uri).scheme, 'name');
  },
  bext01() {
    // Parsed; a proxy answers 420 listing the Proxy-Require tags it does not support.
    const m = ok('bext01');
    assert.equal(m.optionTags('proxy-require'), ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
    assert.equal(m.optionTags('require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.is(m.topVia().transport, 'TLS');
  },
  invut() {
    const m = ok('invut');
    assert.is(m.first('content-type')!.value, 'application/unknownformat');
    assert.is(m.body.toString('latin1'), '<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
  },
  regaut01() {
    const m = ok('regaut01');
    const [auth] = m.credentials('authorization');
    assert.is(auth!.scheme, 'NoOneKnowsThisScheme');
    assert.equal(auth!.params.map((p) => [p.name, p.value, p.quoted]), [['opaque-data', 'here', false]]);
    assert.is(m.head.slice(auth!.params[0]!.start, auth!.params[0]!.end), 'opaque-data=here');
  },
  multi01: () => void throwsSip(() => ok('multi01'), 400, 'SIP_DUPLICATE_HEADER'),
  mcl01: () => void throwsSip(() => ok('mcl01'), 400, 'SIP_BAD_CONTENT_LENGTH'),
  bcast() {
    // Well-formed; the proxy drops it rather than route to 255.255.255.255.
    const m = ok('bcast');
    assert.is(m.vias()[1]!.host, '255.255.255.255');
    assert.is(m.vias()[1]!.hostKind, 'ipv4');
  },
  zeromf() {
    // Parsed; the proxy answers 483 (RFC 3261 §16.3 item 3).
    assert.is(ok('zeromf').maxForwards(), 0);
  },
  cparam01() {
    const contacts = ok('cparam01').contacts();
    assert.ok(contacts !== '*');
    assert.is(contacts[0]!.uri, 'sip:+19725552222@gw1.example.net');
    assert.equal(contacts[0]!.params, [{ name: 'unknownparam', value: null }]);
    assert.equal(sipUri(contacts[0]!.uri).params, []);
  },
  cparam02() {
    const contacts = ok('cparam02').contacts();
    assert.ok(contacts !== '*');
    assert.equal(contacts[0]!.params, []);
    assert.is(uriParam(sipUri(contacts[0]!.uri), 'unknownparam'), null);
  },
  regescrt() {
    const contacts = ok('regescrt').contacts();
    assert.ok(contacts !== '*');
    const uri = sipUri(contacts[0]!.uri);
    assert.is(uri.headers, 'Route=%3Csip:sip.example.com%3E');
    assert.is(unescapeUri(uri.headers), 'Route=<sip:sip.example.com>');
  },
  sdp01() {
    const m = ok('sdp01');
    assert.is(m.first('accept')!.value, 'text/nobodyKnowsThis');
    assert.is(m.body.length, 150);
  },

  // 3.4 backward compatibility
  inv2543() {
    const m = ok('inv2543');
    assert.is(m.body.length, 105);
    assert.is(m.contentLength(), 105);
    assert.is(m.maxForwards(), undefined);
    assert.is(m.topVia().branch, undefined);
    assert.is(m.from().tag, undefined);
    assert.is(m.recordRoutes()[0]!.uri, 'sip:UserB@example.com;maddr=ss1.example.com');
  },
};

test('index.tsv lists the 49 cases and each has a check here', () => {
  assert.is(index.length, 49);
  assert.equal(index.map((r) => r[0]).sort(), Object.keys(cases).sort());
});

for (const row of index) {
  const [name, section, , , expected, alsoOk] = row as [string, string, string, string, string, string];
  test(`${section} ${name} (expected ${expected}, also ${alsoOk})`, cases[name]!);
}

test.run();
