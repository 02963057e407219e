// Torture cases of our own, in the spirit of RFC 4475: escapes, odd whitespace and folding, long
// values, unknown schemes, missing mandatory headers, wrong Content-Length, octets that are not
// UTF-8, IPv6, compact forms, headers repeated on several lines, several values per line, quoted
// commas, limits.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type SipLimits, DEFAULT_SIP_LIMITS, SipError, indexMessage, parseMessage } from '../../src/sip/index.js';
import { sip, throwsSip } from './support.js';

const HEADERS = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@192.0.2.1',
  'CSeq: 314159 OPTIONS',
  'Content-Length: 0',
];

/** An OPTIONS request: `change` maps a header prefix to its replacement line(s) ('' removes it); `extra` lines are added. */
function request(change: Record<string, string> = {}, extra: string[] = [], startLine = 'OPTIONS sip:bob@example.com SIP/2.0'): Buffer {
  const lines = HEADERS.map((h) => {
    const key = Object.keys(change).find((k) => h.startsWith(`${k}:`));
    return key === undefined ? h : change[key]!;
  }).filter((h) => h !== '');
  return sip(`${[startLine, ...lines, ...extra].join('\n')}\n\n`);
}

const Start = suite('start line');

Start('request line', () => {
  const m = parseMessage(request());
  assert.ok(m.isRequest);
  assert.is(m.method, 'OPTIONS');
  assert.is(m.requestUri, 'sip:bob@example.com');
  assert.is(m.status, 0);
});

Start('SIP-Version is case-insensitive; other versions are 505, other protocols 400', () => {
  assert.is(parseMessage(request({}, [], 'OPTIONS sip:bob@example.com sip/2.0')).method, 'OPTIONS');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:bob@example.com SIP/2.1')), 505, 'SIP_BAD_VERSION');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:bob@example.com HTTP/1.1')), 400, 'SIP_BAD_START_LINE');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:bob@example.com')), 400);
});

Start('methods are case-sensitive tokens and must match CSeq', () => {
  const m = parseMessage(request({ CSeq: 'CSeq: 1 options' }, [], 'options sip:bob@example.com SIP/2.0'));
  assert.is(m.method, 'options');
  throwsSip(() => parseMessage(request({}, [], 'options sip:bob@example.com SIP/2.0')), 400, 'SIP_CSEQ_MISMATCH');
  throwsSip(() => parseMessage(request({}, [], 'OPT"IONS sip:bob@example.com SIP/2.0')), 400, 'SIP_BAD_START_LINE');
});

Start('Request-URI: tab inside, angle brackets, headers component', () => {
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:bob@exa\tmple.com SIP/2.0')), 400);
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS <sip:bob@example.com> SIP/2.0')), 400, 'SIP_BAD_URI');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:bob@example.com?Subject=x SIP/2.0')), 400, 'SIP_BAD_URI');
});

Start('Request-URI schemes: sip, sips, tel and urn are routable, others 416', () => {
  for (const uri of ['sips:bob@example.com', 'tel:+15551234567', 'urn:service:sos', 'SIP:bob@example.com']) {
    assert.is(parseMessage(request({}, [], `OPTIONS ${uri} SIP/2.0`)).requestUri, uri);
  }
  assert.is(parseMessage(request({}, [], 'OPTIONS SIP:bob@example.com SIP/2.0')).requestUriParsed().scheme, 'sip');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS mailto:bob@example.com SIP/2.0')), 416, 'SIP_UNSUPPORTED_URI_SCHEME');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS http://example.com/ SIP/2.0')), 416);
});

Start('escaped Request-URI: escapes kept as written, malformed escapes refused', () => {
  const m = parseMessage(request({}, [], 'OPTIONS sip:%61lice%40home@example.com SIP/2.0'));
  const uri = m.requestUriParsed();
  assert.ok('user' in uri && uri.user === '%61lice%40home');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:%6@example.com SIP/2.0')), 400, 'SIP_BAD_URI');
  throwsSip(() => parseMessage(request({}, [], 'OPTIONS sip:%GGx@example.com SIP/2.0')), 400, 'SIP_BAD_URI');
});

Start('status line', () => {
  const ok = (line: string): ReturnType<typeof parseMessage> =>
    parseMessage(sip(`${line}\n${HEADERS.filter((h) => !h.startsWith('Max-Forwards')).join('\n')}\n\n`));
  const m = ok('SIP/2.0 180 Ringing');
  assert.ok(!m.isRequest);
  assert.is(m.status, 180);
  assert.is(m.reasonPhrase, 'Ringing');
  assert.is(m.method, 'OPTIONS');
  assert.is(m.requestUri, '');
  assert.is(ok('SIP/2.0 200').reasonPhrase, '');
  assert.is(ok('SIP/2.0 200 ').reasonPhrase, '');
  assert.is(ok('SIP/2.0 503 Service  Unavailable ').reasonPhrase, 'Service  Unavailable ');
  for (const bad of ['SIP/2.0 099 Low', 'SIP/2.0 700 High', 'SIP/2.0 20 Short', 'SIP/2.0 2000 Long', 'SIP/2.0 2x0 Bad', 'SIP/2.0  200 OK']) {
    throwsSip(() => ok(bad), 400, 'SIP_BAD_START_LINE');
  }
  throwsSip(() => ok('SIP/3.0 200 OK'), 505);
  assert.throws(() => ok('SIP/2.0 200 OK').requestUriParsed(), (e: unknown) => e instanceof SipError && e.code === 'SIP_BAD_ARGUMENT');
});

const Lines = suite('header lines');

Lines('names: case-insensitive, compact forms equal long forms, spelling kept', () => {
  const m = parseMessage(sip(`INVITE sip:bob@example.com SIP/2.0
v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
VIA: SIP/2.0/TCP b.example.com;branch=z9hG4bK2
t: <sip:bob@example.com>
f: <sip:alice@example.com>;tag=1
i: abc@192.0.2.1
cseq: 1 INVITE
MAX-FORWARDS: 10
m: <sip:alice@192.0.2.1>
k: 100rel
c: application/sdp
l: 4

v=0
`));
  assert.equal(m.fields('Via').map((f) => [f.name, f.canonical]), [['v', 'via'], ['VIA', 'via']]);
  assert.is(m.fields('v').length, 2);
  assert.is(m.first('content-length')!.name, 'l');
  assert.is(m.first('L')!.canonical, 'content-length');
  assert.is(m.maxForwards(), 10);
  assert.equal(m.optionTags('supported'), ['100rel']);
  assert.ok(m.has('Contact') && m.has('m') && !m.has('Route'));
  assert.is(m.first('route'), undefined);
  assert.is(m.body.toString('latin1'), 'v=0\r');
});

Lines('whitespace: none or tabs around the colon, leading and trailing whitespace trimmed', () => {
  const m = parseMessage(request({ 'Max-Forwards': 'Max-Forwards\t :\t  69  \t', 'Call-ID': 'Call-ID:a84b@h' }, ['Subject:', 'X-Empty :   ']));
  assert.is(m.maxForwards(), 69);
  assert.is(m.callId(), 'a84b@h');
  assert.is(m.first('subject')!.value, '');
  assert.is(m.first('x-empty')!.value, '');
  const f = m.first('max-forwards')!;
  assert.is(m.head.slice(f.valueStart, f.valueEnd), '69');
  assert.is(m.head.slice(f.start, f.end), 'Max-Forwards\t :\t  69  \t\r\n');
});

Lines('folding: continuation lines join the field, folds read as one SP', () => {
  const m = parseMessage(request(
    { From: 'From: "Alice"\n\t<sip:alice@example.com>\n   ;tag=1928301774', Via: 'Via: SIP/2.0/UDP\n 192.0.2.1:5060\n ;branch=z9hG4bK776asdhds' },
    ['Subject: first line\n second line\n\tthird line', 'X-Late:\n  value on the next line'],
  ));
  assert.is(m.from().tag, '1928301774');
  assert.is(m.from().displayName, 'Alice');
  assert.is(m.topVia().host, '192.0.2.1');
  assert.is(m.first('subject')!.value, 'first line second line third line');
  const late = m.first('x-late')!;
  assert.is(late.value, 'value on the next line');
  assert.is(m.head.slice(late.valueStart, late.valueEnd), 'value on the next line');
  assert.ok(m.head.slice(late.start, late.end).endsWith('line\r\n'));
});

Lines('a continuation line before any header, a line without colon, a bad name: 400', () => {
  throwsSip(() => parseMessage(sip(`OPTIONS sip:bob@example.com SIP/2.0\n continued\n${HEADERS.join('\n')}\n\n`)), 400, 'SIP_BAD_HEADER');
  throwsSip(() => parseMessage(request({}, ['NoColonHere'])), 400, 'SIP_BAD_HEADER');
  throwsSip(() => parseMessage(request({}, [': no name'])), 400, 'SIP_BAD_HEADER');
  throwsSip(() => parseMessage(request({}, ['Bad Name: x'])), 400, 'SIP_BAD_HEADER');
  throwsSip(() => parseMessage(request({}, ['Bad"Name: x'])), 400, 'SIP_BAD_HEADER');
});

Lines('bare CR or LF anywhere in the header section: 400', () => {
  const good = request().toString('latin1');
  throwsSip(() => parseMessage(Buffer.from(good.replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\n'), 'latin1')), 400);
  throwsSip(() => parseMessage(Buffer.from(good.replace('Max-Forwards: 70', 'Max-Forwards: 7\r0'), 'latin1')), 400);
  throwsSip(() => parseMessage(Buffer.from(good.replace('OPTIONS sip:bob@example.com SIP/2.0\r\n', 'OPTIONS sip:bob@example.com SIP/2.0\n'), 'latin1')), 400);
  throwsSip(() => parseMessage(Buffer.from(good.replace('SIP/2.0\r\n', 'SIP/2.0\r\r\n'), 'latin1')), 400);
});

Lines('no empty line ends the header section, or no bytes at all: 400', () => {
  throwsSip(() => parseMessage(Buffer.from(request().toString('latin1').slice(0, -2), 'latin1')), 400, 'SIP_INCOMPLETE');
  throwsSip(() => parseMessage(Buffer.alloc(0)), 400, 'SIP_INCOMPLETE');
  throwsSip(() => parseMessage(Buffer.from('\r\n\r\n')), 400);
});

Lines('octets that are not UTF-8 are carried as latin1 code units and come back unchanged', () => {
  const head = request({ 'Content-Length': 'Content-Length: 4' }, ['X-Bytes: a\u00ff\u00fe\u0080z']);
  const body = Buffer.from([0xff, 0x00, 0xc3, 0x28]);
  const bytes = Buffer.concat([head, body]);
  const m = parseMessage(bytes);
  const v = m.first('x-bytes')!.value;
  assert.ok(Buffer.from(v, 'latin1').equals(Buffer.from([0x61, 0xff, 0xfe, 0x80, 0x7a])));
  assert.ok(m.body.equals(body));
  assert.ok(m.edit().serialize().equals(bytes));
});

Lines('one header on several lines and several values on one line keep their order', () => {
  const m = parseMessage(request({ Via: 'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/TCP b.example.com;branch=z9hG4bKb\nv: SIP/2.0/TLS c.example.com;branch=z9hG4bKc' },
    ['Route: <sip:r1@example.com;lr>, <sip:r2@example.com;lr>', 'Route: <sip:r3@example.com;lr>']));
  assert.equal(m.vias().map((v) => v.host), ['a.example.com', 'b.example.com', 'c.example.com']);
  assert.equal(m.routes().map((r) => r.uri), ['sip:r1@example.com;lr', 'sip:r2@example.com;lr', 'sip:r3@example.com;lr']);
  const values = m.values('route');
  assert.equal(values.map((v) => [v.field.index, v.index]), [[values[0]!.field.index, 0], [values[0]!.field.index, 1], [values[2]!.field.index, 0]]);
  for (const v of values) assert.is(m.head.slice(v.start, v.end), v.text);
});

Lines('commas inside quoted strings and angle brackets do not split values', () => {
  const m = parseMessage(request({}, [
    'Contact: "Doe, John" <sip:john@example.com>;q=0.5, <sip:j,k@example.com>',
    'Accept-Contact: *;+g.3gpp.icsi-ref="a,b";explicit',
    'X-Quoted: "a \\"quoted, comma\\"", plain',
  ]));
  const contacts = m.contacts();
  assert.ok(contacts !== '*');
  assert.equal(contacts.map((c) => [c.displayName, c.uri]), [['Doe, John', 'sip:john@example.com'], [undefined, 'sip:j,k@example.com']]);
  assert.is(m.values('accept-contact').length, 1);
  assert.equal(m.values('x-quoted').map((v) => v.text), ['"a \\"quoted, comma\\""', 'plain']);
  assert.equal(m.values('allow'), []);
});

Lines('long values are fine up to the line limit', () => {
  const long = 'x'.repeat(7000);
  const m = parseMessage(request({}, [`X-Long: ${long}`, `Subject: ${'y'.repeat(3000)}\n ${'z'.repeat(3000)}`]));
  assert.is(m.first('x-long')!.value, long);
  assert.is(m.first('subject')!.value.length, 6001);
  throwsSip(() => parseMessage(request({}, [`X-Long: ${'x'.repeat(9000)}`])), 513, 'SIP_LINE_TOO_LONG');
  throwsSip(() => parseMessage(request({}, [`X-Folded: ${'x'.repeat(5000)}\n ${'x'.repeat(5000)}`])), 513, 'SIP_LINE_TOO_LONG');
  throwsSip(() => parseMessage(request({}, [], `OPTIONS sip:${'b'.repeat(9000)}@example.com SIP/2.0`)), 513, 'SIP_LINE_TOO_LONG');
});

const Mandatory = suite('mandatory and single-valued headers');

Mandatory('each of Via, From, To, Call-ID and CSeq is mandatory; Max-Forwards is not', () => {
  for (const [prefix, header] of [['Via', 'Via'], ['From', 'From'], ['To', 'To'], ['Call-ID', 'Call-ID'], ['CSeq', 'CSeq']] as const) {
    const e = throwsSip(() => parseMessage(request({ [prefix]: '' })), 400, 'SIP_MISSING_HEADER');
    assert.is(e.header, header);
  }
  assert.is(parseMessage(request({ 'Max-Forwards': '' })).maxForwards(), undefined);
});

Mandatory('single-valued headers appear once', () => {
  for (const line of ['From: <sip:x@example.com>;tag=2', 'To: <sip:y@example.com>', 'Call-ID: other', 'CSeq: 2 OPTIONS', 'Max-Forwards: 5']) {
    throwsSip(() => parseMessage(request({}, [line])), 400, 'SIP_DUPLICATE_HEADER');
  }
  throwsSip(() => parseMessage(request({}, ['l: 0'])), 400, 'SIP_BAD_CONTENT_LENGTH');
});

Mandatory('scalar values: CSeq, Max-Forwards, Call-ID', () => {
  assert.equal(parseMessage(request({ CSeq: 'CSeq: 4294967295 OPTIONS' })).cseq(), { seq: 4294967295, method: 'OPTIONS' });
  assert.equal(parseMessage(request({ CSeq: 'CSeq:\t0007\tOPTIONS' })).cseq(), { seq: 7, method: 'OPTIONS' });
  for (const bad of ['CSeq: 4294967296 OPTIONS', 'CSeq: OPTIONS', 'CSeq: 1', 'CSeq: 1 OPTIONS extra', 'CSeq: -1 OPTIONS', 'CSeq: 1OPTIONS']) {
    assert.is(throwsSip(() => parseMessage(request({ CSeq: bad })), 400).header, 'CSeq');
  }
  assert.is(parseMessage(request({ 'Max-Forwards': 'Max-Forwards: 255' })).maxForwards(), 255);
  assert.is(parseMessage(request({ 'Max-Forwards': 'Max-Forwards: 0' })).maxForwards(), 0);
  for (const bad of ['Max-Forwards: 256', 'Max-Forwards: -1', 'Max-Forwards:', 'Max-Forwards: 7 0', 'Max-Forwards: 0x10']) {
    assert.is(throwsSip(() => parseMessage(request({ 'Max-Forwards': bad })), 400).header, 'Max-Forwards');
  }
  assert.is(parseMessage(request({ 'Call-ID': 'Call-ID: abc==@host' })).callId(), 'abc==@host');
  for (const bad of ['Call-ID:', 'Call-ID: a b']) {
    assert.is(throwsSip(() => parseMessage(request({ 'Call-ID': bad })), 400).header, 'Call-ID');
  }
});

Mandatory('indexMessage leaves Request-URI, Via, From, To, Max-Forwards and the names to their accessors and validate()', () => {
  const cases: [Buffer, () => unknown, number, string][] = [];
  const add = (bytes: Buffer, read: (m: ReturnType<typeof indexMessage>) => unknown, status: number, code: string): void => {
    cases.push([bytes, () => read(indexMessage(bytes)), status, code]);
  };
  add(request({ Via: 'Via: SIP/2.0/UDP' }), (m) => m.topVia(), 400, 'SIP_BAD_HEADER');
  add(request({ From: 'From: <sip:alice@example.com' }), (m) => m.from(), 400, 'SIP_BAD_HEADER');
  add(request({ To: 'To: bob' }), (m) => m.to(), 400, 'SIP_BAD_HEADER');
  add(request({ 'Max-Forwards': 'Max-Forwards: 300' }), (m) => m.maxForwards(), 400, 'SIP_BAD_HEADER');
  add(request({}, [], 'OPTIONS mailto:bob@example.com SIP/2.0'), (m) => m.requestUriParsed(), 416, 'SIP_UNSUPPORTED_URI_SCHEME');
  // Taken on trust by indexing, checked by validate(): header names are tokens, a CR ends a line.
  add(request({}, ['Bad Name: x']), (m) => m.validate(), 400, 'SIP_BAD_HEADER');
  add(Buffer.from(request().toString('latin1').replace('Max-Forwards: 70', 'Max-Forwards: 7\r0'), 'latin1'), (m) => m.validate(), 400, 'SIP_BAD_HEADER');
  for (const [bytes, read, status, code] of cases) {
    const m = indexMessage(bytes);
    assert.is(m.callId(), 'a84b4c76e66710@192.0.2.1');
    assert.is(m.method, 'OPTIONS');
    assert.is(throwsSip(read, status).code, code);
    assert.is(throwsSip(() => m.validate(), status).code, code);
    assert.is(throwsSip(() => parseMessage(bytes), status).code, code);
  }
  const m = indexMessage(request());
  assert.is(m.validate(), m);
  assert.is(m.topVia().branch, 'z9hG4bK776asdhds');
});

const Length = suite('Content-Length and the body');

Length('datagram: a shorter Content-Length cuts the message, extra octets are ignored', () => {
  const bytes = Buffer.concat([request({ 'Content-Length': 'Content-Length: 3' }), Buffer.from('abcdef')]);
  const m = parseMessage(bytes);
  assert.is(m.body.toString(), 'abc');
  assert.is(m.raw.length, bytes.length - 3);
  assert.is(m.contentLength(), 3);
});

Length('datagram: without Content-Length the body is the rest of the datagram', () => {
  const bytes = Buffer.concat([request({ 'Content-Length': '' }), Buffer.from('rest')]);
  const m = parseMessage(bytes);
  assert.is(m.body.toString(), 'rest');
  assert.is(m.contentLength(), 4);
  assert.is(m.contentLengthField, -1);
});

Length('a Content-Length larger than the message, negative or not a number: 400', () => {
  for (const value of ['5', '-1', 'abc', '', '1 2', '99999999999999999999']) {
    throwsSip(() => parseMessage(Buffer.concat([request({ 'Content-Length': `Content-Length: ${value}` }), Buffer.from('abc')])), 400, 'SIP_BAD_CONTENT_LENGTH');
  }
});

Length('stream: Content-Length is mandatory and must match the octets exactly', () => {
  const body = Buffer.from('abc');
  assert.is(parseMessage(Buffer.concat([request({ 'Content-Length': 'Content-Length: 3' }), body]), { framing: 'stream' }).body.toString(), 'abc');
  throwsSip(() => parseMessage(Buffer.concat([request({ 'Content-Length': 'Content-Length: 2' }), body]), { framing: 'stream' }), 400, 'SIP_BAD_CONTENT_LENGTH');
  const e = throwsSip(() => parseMessage(Buffer.concat([request({ 'Content-Length': '' }), body]), { framing: 'stream' }), 400, 'SIP_MISSING_HEADER');
  assert.is(e.header, 'Content-Length');
});

Length('a body holding an empty line and binary octets', () => {
  const body = Buffer.from('line\r\n\r\n\x00\xff\r\nend', 'latin1');
  const m = parseMessage(Buffer.concat([request({ 'Content-Length': `Content-Length: ${body.length}` }), body]));
  assert.ok(m.body.equals(body));
  assert.is(m.bodyStart, m.head.length);
});

const Limits = suite('limits');

Limits('hundreds of header fields: every one indexed', () => {
  const vias = Array.from({ length: 200 }, (_, i) => `Via: SIP/2.0/UDP h${i}.example.com;branch=z9hG4bK${i}`);
  const bytes = Buffer.concat([request({ Via: vias.join('\n'), 'Content-Length': 'Content-Length: 2' }, ['X-Last: end']), Buffer.from('ab')]);
  const m = parseMessage(bytes);
  assert.is(m.fieldCount, 207);
  assert.equal(m.vias().map((v) => v.host), vias.map((_, i) => `h${i}.example.com`));
  assert.is(m.first('x-last')!.value, 'end');
  assert.is(m.body.toString(), 'ab');
  assert.is(m.contentLength(), 2);
});

Limits('defaults', () => {
  assert.equal({ ...DEFAULT_SIP_LIMITS }, { maxDatagramBytes: 65535, maxStreamMessageBytes: 65536, maxHeaders: 256, maxLineBytes: 8192 });
  assert.ok(Object.isFrozen(DEFAULT_SIP_LIMITS));
});

Limits('message size, header count and line length are configurable', () => {
  const limits: SipLimits = { maxDatagramBytes: 400, maxStreamMessageBytes: 300, maxHeaders: 9, maxLineBytes: 80 };
  const small = request();
  assert.ok(small.length < 300);
  assert.is(parseMessage(small, { limits }).fieldCount, 7);
  throwsSip(() => parseMessage(Buffer.concat([small, Buffer.alloc(200)]), { limits }), 513, 'SIP_TOO_LARGE');
  throwsSip(() => parseMessage(small, { limits: { ...limits, maxStreamMessageBytes: 100 }, framing: 'stream' }), 513, 'SIP_TOO_LARGE');
  assert.is(parseMessage(request({}, ['A: 1', 'B: 2']), { limits }).fieldCount, 9);
  throwsSip(() => parseMessage(request({}, ['A: 1', 'B: 2', 'C: 3']), { limits }), 513, 'SIP_TOO_MANY_HEADERS');
  throwsSip(() => parseMessage(request({}, [`X: ${'a'.repeat(80)}`]), { limits }), 513, 'SIP_LINE_TOO_LONG');
  throwsSip(() => parseMessage(Buffer.alloc(65536, 0x41)), 513, 'SIP_TOO_LARGE');
});

const Lazy = suite('headers parsed on first access');

Lazy('malformed optional headers fail only when read, with a 400', () => {
  const m = parseMessage(request({}, ['Route: sip:no-brackets@example.com', 'Expires: soon', 'Require: a b', 'Contact: <sip:x@example.com>;q=2', 'WWW-Authenticate: Digest realm']));
  assert.is(throwsSip(() => m.routes(), 400).header, 'Route');
  assert.is(throwsSip(() => m.expires(), 400).header, 'Expires');
  assert.is(throwsSip(() => m.optionTags('require'), 400).header, 'Require');
  assert.is(throwsSip(() => m.contacts(), 400).header, 'Contact');
  assert.is(throwsSip(() => m.challenges('www-authenticate'), 400).header, 'WWW-Authenticate');
  assert.is(m.callId(), 'a84b4c76e66710@192.0.2.1');
});

Lazy('Expires: absent, a number, above 2^32-1 (read as 2^32-1), twice', () => {
  assert.is(parseMessage(request()).expires(), undefined);
  assert.is(parseMessage(request({}, ['Expires: 0600'])).expires(), 600);
  assert.is(parseMessage(request({}, [`Expires: ${'9'.repeat(40)}`])).expires(), 4294967295);
  throwsSip(() => parseMessage(request({}, ['Expires: 1', 'Expires: 2'])).expires(), 400, 'SIP_DUPLICATE_HEADER');
});

Lazy('Contact: "*" alone, "*" with others, compact and long forms together', () => {
  assert.is(parseMessage(request({}, ['Contact: *'])).contacts(), '*');
  throwsSip(() => parseMessage(request({}, ['Contact: *', 'm: <sip:a@example.com>'])).contacts(), 400);
  const contacts = parseMessage(request({}, ['Contact: <sip:a@example.com>', 'm: <sip:b@example.com>;expires=30'])).contacts();
  assert.ok(contacts !== '*');
  assert.equal(contacts.map((c) => [c.uri, c.expires]), [['sip:a@example.com', undefined], ['sip:b@example.com', 30]]);
  assert.equal(parseMessage(request()).contacts(), []);
});

Lazy('option tags skip empty list items', () => {
  assert.equal(parseMessage(request({}, ['Supported: timer, ,100rel,', 'k: path'])).optionTags('supported'), ['timer', '100rel', 'path']);
});

Lazy('every accessor of a parsed message can be called twice with the same result', () => {
  const m = parseMessage(request({}, ['Route: <sip:r@example.com;lr>', 'Contact: <sip:c@example.com>']));
  assert.is(m.routes(), m.routes());
  assert.is(m.contacts(), m.contacts());
  assert.is(m.fieldAt(0), m.first('via'));
  assert.is(m.allFields().length, m.fieldCount);
  throwsSip(() => m.fieldAt(m.fieldCount), 500, 'SIP_BAD_ARGUMENT');
});

Start.run();
Lines.run();
Mandatory.run();
Length.run();
Limits.run();
Lazy.run();
