// MessageEditor: every untouched octet is kept; Content-Length always matches the body.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type SipMessage, parseMessage } from '../../src/sip/index.js';
import { sameBytes, sip, throwsSip } from './support.js';

const BASE = `INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b.example.com;branch=z9hG4bKb
Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKc;rport
Max-Forwards: 70
Route: <sip:r1@example.com;lr>, <sip:r2@example.com;lr>,
  <sip:r3@example.com;lr>
To: <sip:bob@example.com>
From: <sip:alice@example.com>;tag=1
Call-ID: c1@example.com
CSeq: 1 INVITE
Subject:
Content-Type: text/plain
l: 5

hello`;

const base = (text = BASE): SipMessage => parseMessage(sip(text));
/** The expected message: BASE with a replacement applied to its text. */
const expect = (from: string, to: string, text = BASE): Buffer => {
  assert.ok(text.includes(from), `the test's text contains ${JSON.stringify(from)}`);
  return sip(text.replace(from, to));
};

test('no edit: the same octets', () => {
  const m = base();
  sameBytes(m.edit().serialize(), m.raw);
});

test('removeField removes the field with its continuation lines', () => {
  const m = base();
  const ed = m.edit();
  ed.removeField(m.first('route')!);
  sameBytes(ed.serialize(), expect('Route: <sip:r1@example.com;lr>, <sip:r2@example.com;lr>,\n  <sip:r3@example.com;lr>\n', ''));
});

test('replaceField keeps the name as spelled; an empty value gets a separating space', () => {
  const m = base();
  const ed = m.edit();
  ed.replaceField(m.first('subject')!, 'lunch');
  ed.replaceField(m.first('route')!, '<sip:only@example.com;lr>');
  sameBytes(ed.serialize(), sip(BASE.replace('Subject:', 'Subject: lunch')
    .replace('Route: <sip:r1@example.com;lr>, <sip:r2@example.com;lr>,\n  <sip:r3@example.com;lr>', 'Route: <sip:only@example.com;lr>')));
});

test('removeValue: first, middle or last value of a line, across a fold; all values remove the line', () => {
  const routes = (indices: number[]): Buffer => {
    const m = base();
    const ed = m.edit();
    const values = m.values('route');
    for (const i of indices) ed.removeValue(values[i]!);
    return ed.serialize();
  };
  const line = 'Route: <sip:r1@example.com;lr>, <sip:r2@example.com;lr>,\n  <sip:r3@example.com;lr>\n';
  sameBytes(routes([0]), expect(line, 'Route: <sip:r2@example.com;lr>,\n  <sip:r3@example.com;lr>\n'));
  sameBytes(routes([1]), expect(line, 'Route: <sip:r1@example.com;lr>,\n  <sip:r3@example.com;lr>\n'));
  sameBytes(routes([2]), expect(line, 'Route: <sip:r1@example.com;lr>, <sip:r2@example.com;lr>\n'));
  sameBytes(routes([0, 2]), expect(line, 'Route: <sip:r2@example.com;lr>\n'));
  sameBytes(routes([0, 1, 2]), expect(line, ''));
});

test('replaceValue replaces one value', () => {
  const m = base();
  const ed = m.edit();
  ed.replaceValue(m.values('route')[1]!, '<sip:new@example.com;lr>');
  sameBytes(ed.serialize(), expect('<sip:r2@example.com;lr>', '<sip:new@example.com;lr>'));
});

test('addHeader: default after the last header, before or after a field, on top', () => {
  const m = base();
  const ed = m.edit();
  ed.addHeader('X-End', '1');
  ed.addHeader('X-Before-To', '2', { before: m.first('to')! });
  ed.addHeader('X-After-To', '3', { after: m.first('to')! });
  ed.addHeader('X-Top-1', '4', { top: true });
  ed.addHeader('X-Top-2', '5', { top: true });
  sameBytes(ed.serialize(), sip(BASE
    .replace('SIP/2.0\nVia:', 'SIP/2.0\nX-Top-2: 5\nX-Top-1: 4\nVia:')
    .replace('To: <sip:bob@example.com>\n', 'X-Before-To: 2\nTo: <sip:bob@example.com>\nX-After-To: 3\n')
    .replace('l: 5\n', 'l: 5\nX-End: 1\n')));
});

test('prependVia: above the first Via; the last prepended ends up on top', () => {
  const m = base();
  const ed = m.edit();
  ed.prependVia('SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1');
  ed.prependVia('SIP/2.0/TCP p2.example.com;branch=z9hG4bKp2');
  const out = parseMessage(ed.serialize());
  assert.equal(out.vias().map((v) => v.host), ['p2.example.com', 'p1.example.com', 'a.example.com', 'b.example.com', 'c.example.com']);
  sameBytes(ed.serialize(), expect('Via: SIP/2.0/UDP a.', 'Via: SIP/2.0/TCP p2.example.com;branch=z9hG4bKp2\nVia: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\nVia: SIP/2.0/UDP a.'));
});

test('removeTopVia: the first value of a multi-value line, or the whole line', () => {
  let m = base();
  let ed = m.edit();
  ed.removeTopVia();
  sameBytes(ed.serialize(), expect('Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b', 'Via: SIP/2.0/UDP b'));
  m = parseMessage(ed.serialize());
  ed = m.edit();
  ed.removeTopVia();
  m = parseMessage(ed.serialize());
  assert.equal(m.vias().map((v) => v.host), ['c.example.com']);
  assert.is(m.first('via')!.value, 'SIP/2.0/UDP c.example.com;branch=z9hG4bKc;rport');
});

test('addViaParams: to the top Via as received; an existing parameter is replaced where it stands', () => {
  const text = BASE.replace('Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b.example.com;branch=z9hG4bKb\n', '');
  let m = base(text);
  let ed = m.edit();
  ed.addViaParams(';received=192.0.2.1;rport=5060');
  sameBytes(ed.serialize(), expect(';branch=z9hG4bKc;rport\n', ';branch=z9hG4bKc;rport=5060;received=192.0.2.1\n', text));
  m = base();
  ed = m.edit();
  ed.addViaParams(';received=192.0.2.1');
  sameBytes(ed.serialize(), expect('branch=z9hG4bKa,', 'branch=z9hG4bKa;received=192.0.2.1,'));
  m = parseMessage(sip(text.replace(';rport', ';received=10.0.0.1;rport=1')));
  ed = m.edit();
  ed.addViaParams(';RECEIVED=192.0.2.1;rport=5060');
  assert.is(parseMessage(ed.serialize()).topVia().raw, 'SIP/2.0/UDP c.example.com;branch=z9hG4bKc;RECEIVED=192.0.2.1;rport=5060');
  for (const bad of ['received=1', ';', ';a b', ';x\r\ny', ';a="b']) throwsSip(() => base().edit().addViaParams(bad), 500, 'SIP_BAD_ARGUMENT');
});

test('decrementMaxForwards: minus one, 70 when absent (RFC 3261 §16.6), refused at 0', () => {
  let ed = base().edit();
  ed.decrementMaxForwards();
  sameBytes(ed.serialize(), expect('Max-Forwards: 70', 'Max-Forwards: 69'));
  const text = BASE.replace('Max-Forwards: 70\n', '');
  ed = base(text).edit();
  ed.decrementMaxForwards();
  sameBytes(ed.serialize(), expect('l: 5\n', 'l: 5\nMax-Forwards: 70\n', text));
  throwsSip(() => base(BASE.replace('Max-Forwards: 70', 'Max-Forwards: 0')).edit().decrementMaxForwards(), 500, 'SIP_BAD_ARGUMENT');
});

test('setRequestUri', () => {
  const ed = base().edit();
  ed.setRequestUri('sip:bob@[2001:db8::2]:5063;transport=tcp');
  sameBytes(ed.serialize(), expect('INVITE sip:bob@example.com SIP/2.0', 'INVITE sip:bob@[2001:db8::2]:5063;transport=tcp SIP/2.0'));
  throwsSip(() => base().edit().setRequestUri('sip:a b'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => base().edit().setRequestUri('not a uri'), 500, 'SIP_BAD_ARGUMENT');
  const response = parseMessage(sip('SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\nTo: <sip:a@b>\nFrom: <sip:a@b>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n\n'));
  throwsSip(() => response.edit().setRequestUri('sip:x@y'), 500, 'SIP_BAD_ARGUMENT');
});

test('setBody: Content-Length follows (compact form kept), Content-Type set, replaced or removed', () => {
  let ed = base().edit();
  ed.setBody(Buffer.from('hello, world'));
  sameBytes(ed.serialize(), expect('l: 5\n\nhello', 'l: 12\n\nhello, world'));
  ed = base().edit();
  ed.setBody(Buffer.from('v=0\r\n'), 'application/sdp');
  sameBytes(ed.serialize(), expect('Content-Type: text/plain\nl: 5\n\nhello', 'Content-Type: application/sdp\nl: 5\n\nv=0\r\n'));
  ed = base().edit();
  ed.setBody(Buffer.alloc(0));
  sameBytes(ed.serialize(), expect('Content-Type: text/plain\nl: 5\n\nhello', 'l: 0\n\n'));
  const bare = BASE.replace('Content-Type: text/plain\n', '');
  ed = base(bare).edit();
  ed.setBody(Buffer.from('{}'), 'application/json');
  sameBytes(ed.serialize(), expect('l: 5\n\nhello', 'l: 2\nContent-Type: application/json\n\n{}', bare));
});

test('a message without Content-Length gets one; a removed one comes back with the right value', () => {
  const text = BASE.replace('l: 5\n', '');
  const m = parseMessage(sip(text));
  assert.is(m.contentLengthField, -1);
  sameBytes(m.edit().serialize(), expect('Content-Type: text/plain\n', 'Content-Type: text/plain\nContent-Length: 5\n', text));
  const with5 = base();
  const ed = with5.edit();
  ed.removeField(with5.first('content-length')!);
  ed.setBody(Buffer.from('hi'));
  sameBytes(ed.serialize(), expect('l: 5\n\nhello', 'Content-Length: 2\n\nhi'));
});

test('removeAuthParams: first, middle, last, all; nothing to remove changes nothing', () => {
  const text = BASE.replace('Subject:\n', 'WWW-Authenticate: Digest realm="r", ck="c", nonce="n", ik="i"\n');
  const strip = (names: string[]): Buffer => {
    const m = base(text);
    const ed = m.edit();
    ed.removeAuthParams(m.first('www-authenticate')!, names);
    return ed.serialize();
  };
  const header = 'WWW-Authenticate: Digest realm="r", ck="c", nonce="n", ik="i"';
  sameBytes(strip(['CK', 'ik']), expect(header, 'WWW-Authenticate: Digest realm="r", nonce="n"', text));
  sameBytes(strip(['realm']), expect(header, 'WWW-Authenticate: Digest ck="c", nonce="n", ik="i"', text));
  sameBytes(strip(['realm', 'ck', 'nonce', 'ik']), expect(header, 'WWW-Authenticate: Digest', text));
  sameBytes(strip(['opaque']), sip(text));
});

test('appendToField', () => {
  const m = base();
  const ed = m.edit();
  ed.appendToField(m.first('from')!, ';x=1');
  sameBytes(ed.serialize(), expect(';tag=1\n', ';tag=1;x=1\n'));
});

test('serialize can run again, after more edits too', () => {
  const m = base();
  const ed = m.edit();
  ed.removeTopVia();
  const first = ed.serialize();
  sameBytes(ed.serialize(), first);
  ed.addHeader('X', 'y');
  sameBytes(ed.serialize(), Buffer.from(first.toString('latin1').replace('l: 5\r\n', 'l: 5\r\nX: y\r\n'), 'latin1'));
});

test('edits that overlap or touch the same value twice are refused', () => {
  const m = base();
  const conflict = (fn: (ed: ReturnType<SipMessage['edit']>) => void): void => {
    const ed = m.edit();
    try {
      fn(ed);
      ed.serialize();
    } catch (e) {
      assert.is((e as { code?: string }).code, 'SIP_EDIT_CONFLICT');
      return;
    }
    assert.unreachable('no conflict reported');
  };
  conflict((ed) => { ed.replaceField(m.first('to')!, 'a'); ed.replaceField(m.first('to')!, 'b'); });
  conflict((ed) => { ed.removeValue(m.values('route')[0]!); ed.removeValue(m.values('route')[0]!); });
  conflict((ed) => { ed.replaceField(m.first('route')!, 'a'); ed.removeValue(m.values('route')[1]!); });
  conflict((ed) => { ed.removeTopVia(); ed.addViaParams(';received=192.0.2.1'); });
  conflict((ed) => { ed.replaceField(m.first('content-length')!, '7'); });
  conflict((ed) => { ed.replaceValue(m.values('route')[0]!, 'x'); ed.appendToField(m.first('route')!, 'y'); ed.replaceField(m.first('route')!, 'z'); });
});

test('a field that is removed can still have others added around it', () => {
  const m = base();
  const ed = m.edit();
  const to = m.first('to')!;
  ed.removeField(to);
  ed.addHeader('To', '<sip:carol@example.com>', { before: to });
  sameBytes(ed.serialize(), expect('To: <sip:bob@example.com>', 'To: <sip:carol@example.com>'));
});

test('values from another message, and text that would break the message, are refused', () => {
  const m = base();
  const other = base(BASE.replace('Max-Forwards: 70\n', 'X-Pad: padding\nMax-Forwards: 70\n'));
  throwsSip(() => m.edit().removeField(other.first('to')!), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().removeValue(other.values('route')[0]!), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().addHeader('Bad Name', 'x'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().addHeader('X', 'a\r\nInjected: yes'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().replaceField(m.first('to')!, 'a\nb'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().addHeader('X', '\u20ac'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().prependVia('not a via'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => m.edit().setBody(Buffer.alloc(1), 'text/\r\nplain'), 500, 'SIP_BAD_ARGUMENT');
});

test('edited messages parse again with what was written', () => {
  const m = base();
  const ed = m.edit();
  ed.removeTopVia();
  ed.prependVia('SIP/2.0/UDP p.example.com;branch=z9hG4bKp');
  ed.removeValue(m.values('route')[0]!);
  ed.decrementMaxForwards();
  ed.setBody(Buffer.from('bye'));
  const out = parseMessage(ed.serialize());
  assert.equal(out.vias().map((v) => v.host), ['p.example.com', 'b.example.com', 'c.example.com']);
  assert.equal(out.routes().map((r) => r.uri), ['sip:r2@example.com;lr', 'sip:r3@example.com;lr']);
  assert.is(out.maxForwards(), 69);
  assert.is(out.body.toString(), 'bye');
  assert.is(out.contentLength(), 3);
});

test.run();
