// StreamFramer: TCP byte stream -> messages by Content-Length (RFC 3261 §18.3), keep-alives (RFC 5626 §3.5.1).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Framed, SipError, StreamFramer, parseMessage } from '../../src/sip/index.js';
import { corpus, sip } from './support.js';

const A = corpus('invite-mo');
const B = corpus('register-200');
const C = corpus('message-mo');

/** The error that ends `out`, checked to be its only non-message frame with the status and code. */
function failsWith(out: Framed[], status: number, code: string): SipError {
  const last = out.at(-1);
  assert.ok(last !== undefined && last.kind === 'error', 'the push ends with an error frame');
  assert.is(last.error.status, status);
  assert.is(last.error.code, code);
  return last.error;
}

const messages = (out: Framed[]): Buffer[] => out.map((f) => {
  assert.is(f.kind, 'message');
  return (f as { bytes: Buffer }).bytes;
});

test('one message in one chunk, several in one chunk', () => {
  assert.ok(messages(new StreamFramer().push(A))[0]!.equals(A));
  const out = messages(new StreamFramer().push(Buffer.concat([A, B, C])));
  assert.is(out.length, 3);
  assert.ok(out[0]!.equals(A) && out[1]!.equals(B) && out[2]!.equals(C));
  for (const m of out) parseMessage(m, { framing: 'stream' });
});

test('a message cut anywhere, down to one octet at a time', () => {
  const stream = Buffer.concat([A, B]);
  for (const cut of [1, A.length - 1, A.length, A.length + 1, A.indexOf('\r\n\r\n') + 2, stream.length - 1]) {
    const f = new StreamFramer();
    const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
    assert.equal(messages(out).map((m) => m.length), [A.length, B.length], `cut at ${cut}`);
  }
  const f = new StreamFramer();
  const out: Framed[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...f.push(stream.subarray(i, i + 1)));
  assert.ok(Buffer.concat(messages(out)).equals(stream));
});

test('CRLFCRLF between messages is a keep-alive; a lone CRLF before a message is skipped', () => {
  const f = new StreamFramer();
  const out = f.push(Buffer.concat([Buffer.from('\r\n\r\n'), A, Buffer.from('\r\n'), B, Buffer.from('\r\n\r\n\r\n\r\n')]));
  assert.equal(out.map((x) => x.kind), ['keepalive', 'message', 'message', 'keepalive', 'keepalive']);
  const g = new StreamFramer();
  assert.equal(g.push(Buffer.from('\r\n\r')), []);
  assert.equal(g.push(Buffer.from('\n')).map((x) => x.kind), ['keepalive']);
  assert.equal(g.push(Buffer.from('\r')), []);
  assert.equal(messages(g.push(Buffer.concat([Buffer.from('\n'), A]))).map((m) => m.length), [A.length]);
});

test('the body may hold an empty line; the Content-Length may be compact or folded', () => {
  const body = Buffer.from('a\r\n\r\nb');
  const one = sip(`MESSAGE sip:a@b SIP/2.0\nl:\n  ${body.length}\nVia: SIP/2.0/UDP h\n\n`, body);
  const two = sip('OPTIONS sip:a@b SIP/2.0\ncontent-LENGTH : 0\n\n');
  const out = messages(new StreamFramer().push(Buffer.concat([one, two])));
  assert.ok(out[0]!.equals(one) && out[1]!.equals(two));
});

test('the messages returned are copies: the caller may reuse its buffer', () => {
  const chunk = Buffer.from(A);
  const [m] = messages(new StreamFramer().push(chunk));
  chunk.fill(0);
  assert.ok(m!.equals(A));
});

test('no Content-Length, a bad one, two of them: the stream is unusable from then on', () => {
  const f = new StreamFramer();
  const e = failsWith(f.push(sip('OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\n')), 400, 'SIP_MISSING_HEADER');
  assert.is(e.header, 'Content-Length');
  const later = f.push(A);
  assert.is(later.length, 1);
  assert.is(failsWith(later, 400, 'SIP_MISSING_HEADER'), e);
  failsWith(new StreamFramer().push(sip('OPTIONS sip:a@b SIP/2.0\nContent-Length: 1x\n\n')), 400, 'SIP_BAD_CONTENT_LENGTH');
  failsWith(new StreamFramer().push(sip('OPTIONS sip:a@b SIP/2.0\nContent-Length: -1\n\n')), 400, 'SIP_BAD_CONTENT_LENGTH');
  failsWith(new StreamFramer().push(sip('OPTIONS sip:a@b SIP/2.0\nContent-Length:\n\n')), 400, 'SIP_BAD_CONTENT_LENGTH');
  failsWith(new StreamFramer().push(sip('OPTIONS sip:a@b SIP/2.0\nl: 0\nContent-Length: 0\n\n')), 400, 'SIP_BAD_CONTENT_LENGTH');
});

test('messages completed before an unframeable one in the same read are delivered, then the error', () => {
  const out = new StreamFramer().push(Buffer.concat([A, B, sip('OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\n')]));
  assert.equal(out.map((x) => x.kind), ['message', 'message', 'error']);
  assert.ok(messages(out.slice(0, 2))[1]!.equals(B));
  failsWith(out, 400, 'SIP_MISSING_HEADER');
});

test('size limit: a header section without end, or a Content-Length, beyond the limit', () => {
  const limits = { maxDatagramBytes: 65535, maxStreamMessageBytes: 1000, maxHeaders: 256, maxLineBytes: 8192 };
  const f = new StreamFramer(limits);
  assert.equal(f.push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'a'.repeat(900)}`)), []);
  failsWith(f.push(Buffer.from('a'.repeat(200))), 513, 'SIP_TOO_LARGE');
  failsWith(new StreamFramer(limits).push(sip('OPTIONS sip:a@b SIP/2.0\nContent-Length: 990\n\n')), 513, 'SIP_TOO_LARGE');
  failsWith(new StreamFramer(limits).push(sip(`OPTIONS sip:a@b SIP/2.0\nContent-Length: ${'9'.repeat(30)}\n\n`)), 513, 'SIP_TOO_LARGE');
  assert.is(messages(new StreamFramer(limits).push(sip('OPTIONS sip:a@b SIP/2.0\nContent-Length: 900\n\n', Buffer.alloc(900)))).length, 1);
});

test('a 64 KiB message arriving one octet at a time is framed in linear time', () => {
  const body = Buffer.alloc(60000, 0x61);
  const big = sip(`MESSAGE sip:a@b SIP/2.0\nContent-Length: ${body.length}\n\n`, body);
  const f = new StreamFramer();
  let out: Framed[] = [];
  for (let i = 0; i < big.length; i++) out = out.concat(f.push(big.subarray(i, i + 1)));
  assert.is(out.length, 1);
  assert.ok(messages(out)[0]!.equals(big));
});

test('garbage after a keep-alive is a stream without Content-Length', () => {
  const out = new StreamFramer().push(Buffer.from('\r\n\r\nGARBAGE\r\n\r\n'));
  assert.equal(out.map((x) => x.kind), ['keepalive', 'error']);
  failsWith(out, 400, 'SIP_MISSING_HEADER');
});

test.run();
