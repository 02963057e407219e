// Builders: responses (RFC 3261 §8.2.6), best-effort errors, CANCEL (§9.1), ACK for non-2xx (§17.1.1.3).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipError, buildAckForNon2xx, buildCancel, buildErrorFromRaw, buildResponse, parseMessage } from '../../src/sip/index.js';
import { corpus, rfc4475, sameBytes, sip, throwsSip } from './support.js';

const REQUEST = `INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received=192.0.2.1
v: SIP/2.0/TCP
 b.example.com;branch=z9hG4bKb
Max-Forwards: 69
Route: <sip:r1@example.com;lr>
Route: <sip:r2@example.com;lr>
To: "Bob" <sip:bob@example.com>
f: <sip:alice@example.com>;tag=a1
Call-ID: c1@example.com
CSeq: 7 INVITE
Content-Type: application/sdp
Content-Length: 3

v=0`;

const invite = parseMessage(sip(REQUEST));

test('buildResponse copies Via, From, Call-ID and CSeq lines exactly and tags To', () => {
  const out = buildResponse(invite, 486, 'Busy Here', { toTag: 'b7' });
  sameBytes(out, sip(`SIP/2.0 486 Busy Here
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received=192.0.2.1
v: SIP/2.0/TCP
 b.example.com;branch=z9hG4bKb
f: <sip:alice@example.com>;tag=a1
To: "Bob" <sip:bob@example.com>;tag=b7
Call-ID: c1@example.com
CSeq: 7 INVITE
Content-Length: 0

`));
  const r = parseMessage(out);
  assert.is(r.status, 486);
  assert.equal(r.vias().map((v) => v.branch), invite.vias().map((v) => v.branch));
});

test('buildResponse: a fresh random tag, none on a 100, the request tag kept', () => {
  const a = parseMessage(buildResponse(invite, 404, 'Not Found')).to().tag!;
  const b = parseMessage(buildResponse(invite, 404, 'Not Found')).to().tag!;
  assert.match(a, /^[0-9a-f]{12}$/);
  assert.is.not(a, b);
  assert.is(parseMessage(buildResponse(invite, 100, 'Trying')).to().tag, undefined);
  const tagged = parseMessage(sip(REQUEST.replace('To: "Bob" <sip:bob@example.com>', 'To: <sip:bob@example.com>;tag=known')));
  assert.is(parseMessage(buildResponse(tagged, 200, 'OK', { toTag: 'other' })).to().tag, 'known');
});

test('buildResponse: extra headers and a body with its Content-Length', () => {
  const body = Buffer.from('v=0\r\n');
  const out = parseMessage(buildResponse(invite, 200, 'OK', { toTag: 't', headers: [['Supported', 'sec-agree'], ['Content-Type', 'application/sdp']], body }));
  assert.equal(out.optionTags('supported'), ['sec-agree']);
  assert.is(out.first('content-type')!.value, 'application/sdp');
  assert.ok(out.body.equals(body));
  assert.is(out.contentLength(), 5);
});

test('buildResponse refuses a response, a bad status, header injection', () => {
  const response = parseMessage(buildResponse(invite, 200, 'OK'));
  throwsSip(() => buildResponse(response, 200, 'OK'), 500, 'SIP_BAD_ARGUMENT');
  for (const status of [99, 700, 200.5, Number.NaN]) throwsSip(() => buildResponse(invite, status, 'X'), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => buildResponse(invite, 400, 'Bad\r\nX: y'), 500);
  throwsSip(() => buildResponse(invite, 400, 'Bad', { headers: [['X', 'a\r\nY: b']] }), 500);
  throwsSip(() => buildResponse(invite, 400, 'Bad', { headers: [['X Y', 'a']] }), 500);
  throwsSip(() => buildResponse(invite, 400, 'Bad', { toTag: 'a;b' }), 500);
});

test('buildErrorFromRaw answers requests that did not parse', () => {
  const check = (name: string, status: number): void => {
    const bytes = rfc4475(name);
    let err: SipError | undefined;
    try {
      parseMessage(bytes);
    } catch (e) {
      err = e as SipError;
    }
    assert.ok(err instanceof SipError, `${name} fails to parse`);
    const out = buildErrorFromRaw(bytes, err!);
    assert.ok(out !== undefined, `${name} gets an answer`);
    const r = parseMessage(out!);
    assert.is(r.status, status);
    assert.is(r.reasonPhrase, err!.reason);
    assert.ok(r.to().tag !== undefined);
    assert.is(r.callId(), bytes.toString('latin1').match(/^Call-ID: *(\S+)/im)![1]);
  };
  check('badvers', 505);
  check('mismatch01', 400);
  check('unkscm', 416);
  check('clerr', 400);
  check('escruri', 400);
  check('trws', 400);
  // The CSeq is copied even when it is the fault (the answer is then as unreadable as the request).
  const scalar = buildErrorFromRaw(rfc4475('scalar02'), new SipError('SIP_BAD_HEADER', 400, 'CSeq number too large', 'CSeq'))!.toString('latin1');
  assert.ok(scalar.startsWith('SIP/2.0 400 CSeq number too large\r\n') && scalar.includes('\r\nCSeq: 36893488147419103232 REGISTER\r\n'));
  const raw = rfc4475('badvers');
  const err = new SipError('SIP_BAD_VERSION', 505, 'Version Not Supported');
  const out = buildErrorFromRaw(raw, err)!.toString('latin1');
  assert.ok(out.includes('\r\nVia:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n'), 'Via copied as written');
});

test('buildErrorFromRaw drops what cannot be answered', () => {
  const err = new SipError('SIP_BAD_HEADER', 400, 'Bad Request');
  assert.is(buildErrorFromRaw(rfc4475('insuf'), err), undefined);
  assert.is(buildErrorFromRaw(rfc4475('bigcode'), err), undefined);
  assert.is(buildErrorFromRaw(Buffer.alloc(0), err), undefined);
  assert.is(buildErrorFromRaw(Buffer.from('garbage without lines'), err), undefined);
  assert.is(buildErrorFromRaw(sip(REQUEST.replace('INVITE sip:bob@example.com SIP/2.0', 'ACK sip:bob@example.com SIP/2.0').replace('7 INVITE', '7 ACK')), err), undefined);
  const lf = Buffer.from(sip(REQUEST).toString('latin1').replace(';tag=a1\r\n', ';tag=a1\nX: y\r\n'), 'latin1');
  assert.is(buildErrorFromRaw(lf, err), undefined, 'a From line holding a bare LF is not copied, so there is no answer');
  const bare = Buffer.from(sip(REQUEST).toString('latin1').replace('Call-ID: c1@example.com\r\n', 'Call-ID: c1@exa\rmple.com\r\n'), 'latin1');
  assert.is(buildErrorFromRaw(bare, err), undefined, 'a Call-ID holding a bare CR is not copied, so there is no answer');
});

test('buildCancel (RFC 3261 §9.1)', () => {
  sameBytes(buildCancel(invite), sip(`CANCEL sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1
Max-Forwards: 70
Route: <sip:r1@example.com;lr>
Route: <sip:r2@example.com;lr>
f: <sip:alice@example.com>;tag=a1
To: "Bob" <sip:bob@example.com>
Call-ID: c1@example.com
CSeq: 7 CANCEL
Content-Length: 0

`));
  throwsSip(() => buildCancel(parseMessage(corpus('message-mo'))), 500, 'SIP_BAD_ARGUMENT');
});

test('buildAckForNon2xx (RFC 3261 §17.1.1.3)', () => {
  const response = parseMessage(buildResponse(invite, 486, 'Busy Here', { toTag: 'b7' }));
  sameBytes(buildAckForNon2xx(invite, response), sip(`ACK sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1
Max-Forwards: 70
Route: <sip:r1@example.com;lr>
Route: <sip:r2@example.com;lr>
f: <sip:alice@example.com>;tag=a1
To: "Bob" <sip:bob@example.com>;tag=b7
Call-ID: c1@example.com
CSeq: 7 ACK
Content-Length: 0

`));
  throwsSip(() => buildAckForNon2xx(invite, parseMessage(buildResponse(invite, 200, 'OK'))), 500, 'SIP_BAD_ARGUMENT');
  throwsSip(() => buildAckForNon2xx(invite, invite), 500, 'SIP_BAD_ARGUMENT');
});

test.run();
