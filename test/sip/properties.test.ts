// Properties (fast-check): (1) a valid message parsed then serialized without edits is the same
// octets, and reads back what was written; (2) no input (random octets, mutated valid messages)
// makes the parser, an accessor, the editor, the error builder or the framer throw anything but a
// SipError, and the validated accessors never throw once parsed; indexing then validating accepts
// and refuses exactly what parseMessage does, with the same error; (3) the framer cuts the same
// messages whatever the chunking of the stream.

import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Framed, type SipMessage, SipError, StreamFramer, buildErrorFromRaw, indexMessage, parseMessage } from '../../src/sip/index.js';

const RUNS = 400;

const chars = (set: string) => fc.constantFrom(...set.split(''));
const str = (set: string, minLength: number, maxLength: number) => fc.string({ unit: chars(set), minLength, maxLength });
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const token = str(`${ALNUM}-.!%*_+\`'~`, 1, 12);
const label = fc.tuple(str('abcdefghijklmnopqrstuvwxyz', 1, 1), str(`${ALNUM.slice(0, 36)}`, 0, 8)).map(([a, b]) => a + b);
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => `[${g.map((x) => x.toString(16)).join(':')}]`);
const host = fc.oneof(domain, ipv4, ipv6);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }).map((p) => (p === undefined ? '' : `:${p}`));
const userPart = str(`${ALNUM}-_.!~*'()&=+$,;?/`, 1, 12);
const uriParam = fc.tuple(str(`${ALNUM}-_.!~*'()[]/:&+$`, 1, 8), fc.option(str(`${ALNUM}-_.!~*'()[]/:&+$`, 1, 8), { nil: undefined }))
  .map(([n, v]) => (v === undefined ? n : `${n}=${v}`));
const sipUri = fc.tuple(fc.constantFrom('sip', 'sips', 'SIP'), fc.option(userPart, { nil: undefined }), host, port, fc.array(uriParam, { maxLength: 3 }))
  .map(([scheme, user, h, p, params]) => `${scheme}:${user === undefined ? '' : `${user}@`}${h}${p}${params.map((x) => `;${x}`).join('')}`);
const spaces = fc.constantFrom('', ' ', '  ', '\t');
/** Text of a header value: printable ASCII and latin1 octets above 0x7f, trimmed, never empty. */
const valueText = fc.string({ unit: fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
const displayName = fc.oneof(
  fc.constant(''),
  token.map((t) => `${t} `),
  str(`${ALNUM} ,;:<>@`, 0, 10).map((t) => `"${t}" `),
);
const nameAddr = fc.tuple(displayName, sipUri, fc.option(token, { nil: undefined }))
  .map(([d, u, tag]) => `${d}<${u}>${tag === undefined ? '' : `;tag=${tag}`}`);
const via = fc.tuple(fc.constantFrom('UDP', 'TCP', 'tls', 'SCTP'), host, port, token, fc.boolean(), spaces)
  .map(([t, h, p, b, rport, sp]) => `SIP/2.0/${t} ${h}${p}${sp};${sp}branch=z9hG4bK${b}${rport ? ';rport' : ''}`);
const spell = (long: string, compact?: string) => fc.constantFrom(...[long, long.toLowerCase(), long.toUpperCase(), ...(compact === undefined ? [] : [compact, compact.toUpperCase()])]);
/** Names that the generator uses for extra headers: none of the headers parseMessage validates. */
const extraName = token.filter((n) => !['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'max-forwards', 'content-length', 'l'].includes(n.toLowerCase()));

interface Generated {
  bytes: Buffer;
  /** Name and value (folds made one SP) of every header field, in order. */
  fields: [string, string][];
  callId: string;
  seq: number;
  method: string;
  vias: number;
  body: Buffer;
}

const line = (name: string, sp1: string, sp2: string, value: string): string => `${name}${sp1}:${sp2}${value}\r\n`;
/** Folds a value at one of its spaces, if it has one (RFC 3261 §7.3.1). */
const fold = (value: string, yes: boolean): string => (yes ? value.replace(' ', '\r\n ') : value);

const message: fc.Arbitrary<Generated> = fc.record({
  request: fc.boolean(),
  method: fc.oneof(fc.constantFrom('INVITE', 'REGISTER', 'OPTIONS', 'MESSAGE', 'BYE'), token),
  ruri: sipUri,
  status: fc.integer({ min: 100, max: 699 }),
  reason: str(`${ALNUM} `, 0, 12),
  viaLines: fc.array(fc.array(via, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  from: nameAddr,
  to: nameAddr,
  callId: fc.tuple(token, fc.option(domain, { nil: undefined })).map(([a, b]) => (b === undefined ? a : `${a}@${b}`)),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  maxForwards: fc.option(fc.nat(255), { nil: undefined }),
  // Mostly a few extra headers, sometimes more than 64 (the parser's first index size) or 128.
  extra: fc.oneof({ weight: 4, arbitrary: fc.array(fc.tuple(extraName, valueText), { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(extraName, valueText), { minLength: 60, maxLength: 140 }) }),
  names: fc.record({ via: spell('Via', 'v'), from: spell('From', 'f'), to: spell('To', 't'), callId: spell('Call-ID', 'i'), cseq: spell('CSeq'), mf: spell('Max-Forwards'), cl: spell('Content-Length', 'l') }),
  sp: fc.tuple(spaces, fc.constantFrom(' ', '', '  ')),
  folded: fc.boolean(),
  body: fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
  order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
}).map((g) => {
  const [s1, s2] = g.sp;
  const startLine = g.request ? `${g.method} ${g.ruri} SIP/2.0\r\n` : `SIP/2.0 ${g.status} ${g.reason}\r\n`;
  const fields = [
    ...g.viaLines.map((vs) => line(g.names.via, s1, s2, fold(vs.join(', '), g.folded))),
    line(g.names.from, s1, s2, fold(g.from, g.folded)),
    line(g.names.to, s1, s2, g.to),
    line(g.names.callId, s1, s2, g.callId),
    line(g.names.cseq, s1, s2, `${g.seq} ${g.method}`),
    ...(g.maxForwards === undefined ? [] : [line(g.names.mf, s1, s2, String(g.maxForwards))]),
    ...g.extra.map(([n, v]) => line(n, s1, s2, fold(v, g.folded))),
    line(g.names.cl, s1, s2, String(g.body.length)),
  ];
  // Shuffle the header fields (their order does not matter, except among the Via lines).
  const keyed = fields.map((f, k) => ({ f, key: f.toLowerCase().startsWith(g.names.via.toLowerCase()) ? -1 : (g.order[k % 12]! + k) }));
  keyed.sort((a, b) => (a.key === -1 || b.key === -1 ? 0 : a.key - b.key));
  const head = startLine + keyed.map((x) => x.f).join('') + '\r\n';
  const fieldsInOrder = keyed.map((x) => {
    const [, name, value] = /^([^ \t:]+)[ \t]*:[ \t]*([\s\S]*?)\r\n$/.exec(x.f)!;
    return [name!, value!.replace(/[ \t]*\r\n[ \t]*/g, ' ')] as [string, string];
  });
  return {
    bytes: Buffer.concat([Buffer.from(head, 'latin1'), g.body]),
    fields: fieldsInOrder,
    callId: g.callId,
    seq: g.seq,
    method: g.method,
    vias: g.viaLines.flat().length,
    body: g.body,
  };
});

test('(1) valid messages: parse then serialize without edits gives the same octets', () => {
  fc.assert(fc.property(message, (g) => {
    const m = parseMessage(g.bytes);
    assert.ok(m.edit().serialize().equals(g.bytes));
    assert.equal(m.allFields().map((f) => [f.name, f.value]), g.fields);
    assert.is(m.callId(), g.callId);
    assert.equal(m.cseq(), { seq: g.seq, method: g.method });
    assert.is(m.vias().length, g.vias);
    assert.ok(m.body.equals(g.body));
    assert.ok(parseMessage(g.bytes, { framing: 'stream' }).raw.equals(g.bytes));
  }), { numRuns: RUNS });
});

/** Calls every accessor and a few edits; only SipErrors may come out, and the validated accessors must not throw. */
function exercise(m: SipMessage): void {
  m.vias(); m.topVia(); m.from(); m.to(); m.callId(); m.cseq(); m.maxForwards(); m.contentLength();
  void m.body;
  const lazy: (() => unknown)[] = [
    () => m.requestUriParsed(), () => m.contacts(), () => m.expires(), () => m.routes(), () => m.recordRoutes(), () => m.paths(),
    () => m.serviceRoutes(), () => m.optionTags('require'), () => m.optionTags('supported'), () => m.challenges('www-authenticate'),
    () => m.credentials('authorization'), () => m.allFields().map((f) => m.values(f.name)),
    () => { const ed = m.edit(); ed.removeTopVia(); ed.addViaParams(';received=192.0.2.1;rport=1'); ed.prependVia('SIP/2.0/UDP p.example.com;branch=z9hG4bKp'); return parseMessage(ed.serialize()); },
    () => { const ed = m.edit(); ed.decrementMaxForwards(); ed.setBody(Buffer.from('x'), 'text/plain'); return parseMessage(ed.serialize()); },
    () => { const ed = m.edit(); for (const f of m.fields('www-authenticate')) ed.removeAuthParams(f, ['ck', 'ik']); return ed.serialize(); },
  ];
  for (const fn of lazy) {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
    }
  }
}

/** The SipError fn throws (anything else fails the test), or undefined. */
function sipErrorOf(fn: () => unknown): SipError | undefined {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    return e;
  }
  return undefined;
}

function parseOrSipError(bytes: Buffer): void {
  let m: SipMessage | undefined;
  const indexed = sipErrorOf(() => {
    // Before validate(), each lazy accessor may throw, but only a SipError.
    const lazy = indexMessage(bytes);
    for (const read of [() => lazy.vias(), () => lazy.from(), () => lazy.to(), () => lazy.maxForwards(), () => lazy.requestUriParsed()]) sipErrorOf(read);
    indexMessage(bytes).validate();
  });
  try {
    m = parseMessage(bytes);
    assert.is(indexed, undefined, 'parseMessage accepted what indexMessage + validate() refused');
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    assert.is(indexed?.code, e.code, 'indexMessage + validate() refuses with the error of parseMessage');
    // The answer copies the request's lines as they are, so it need not parse; it must be one message.
    const answer = buildErrorFromRaw(bytes, e)?.toString('latin1');
    if (answer !== undefined) assert.ok(answer.startsWith(`SIP/2.0 ${e.status} `) && answer.endsWith('Content-Length: 0\r\n\r\n'));
  }
  if (m !== undefined) exercise(m);
  // The framer never throws; a stream it cannot frame ends with one error frame holding a SipError.
  const framed = new StreamFramer().push(bytes);
  framed.forEach((f, i) => {
    if (f.kind === 'error') assert.ok(f.error instanceof SipError && i === framed.length - 1);
  });
}

test('(2) random octets: only SipErrors', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => parseOrSipError(Buffer.from(b))), { numRuns: RUNS });
  const sipish = fc.array(fc.oneof(
    fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', '\r\n', '\r', '\n', ':', ';', ',', '"', '<', '>', '\\', ' ', '\t', 'Via', 'v', 'From', 'To', 'Call-ID',
      'CSeq', 'l', 'Content-Length', 'Contact', 'Route', 'WWW-Authenticate', 'Digest', 'tag=', 'branch=', 'sip:', '[::1]', '%', '=', '1', '*'),
    str(ALNUM, 1, 4),
  ), { maxLength: 80 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));
  fc.assert(fc.property(sipish, parseOrSipError), { numRuns: RUNS * 2 });
});

test('(2) mutated valid messages: only SipErrors, validated accessors never throw', () => {
  const mutation = fc.oneof(
    fc.tuple(fc.constant('set' as const), fc.nat(), fc.nat(255)),
    fc.tuple(fc.constant('insert' as const), fc.nat(), fc.constantFrom(0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x00, 0xff, 0x5c)),
    fc.tuple(fc.constant('delete' as const), fc.nat(), fc.integer({ min: 1, max: 8 })),
  );
  fc.assert(fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 4 }), (g, ms) => {
    let b = g.bytes;
    for (const [kind, at, x] of ms) {
      const i = at % (b.length + 1);
      if (kind === 'set' && b.length > 0) b = Buffer.concat([b.subarray(0, i % b.length), Buffer.from([x]), b.subarray((i % b.length) + 1)]);
      if (kind === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([x]), b.subarray(i)]);
      if (kind === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + x)]);
    }
    parseOrSipError(b);
  }), { numRuns: RUNS * 2 });
});

const keepalive = fc.constant(Buffer.from('\r\n\r\n'));

test('(3) the framer gives the same messages whatever the chunking', () => {
  const stream = fc.array(fc.oneof({ weight: 4, arbitrary: message.map((g) => g.bytes) }, { weight: 1, arbitrary: keepalive }), { minLength: 1, maxLength: 6 });
  fc.assert(fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), (parts, cuts) => {
    const all = Buffer.concat(parts);
    const whole = new StreamFramer().push(all);
    assert.equal(whole.map((f) => f.kind), parts.map((p) => (p.toString('latin1') === '\r\n\r\n' ? 'keepalive' : 'message')));
    const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
    const f = new StreamFramer();
    const chunked: Framed[] = [];
    let from = 0;
    for (const p of [...points, all.length]) {
      chunked.push(...f.push(all.subarray(from, p)));
      from = p;
    }
    assert.is(chunked.length, whole.length);
    chunked.forEach((c, k) => {
      const w = whole[k]!;
      assert.is(c.kind, w.kind);
      if (c.kind === 'message' && w.kind === 'message') assert.ok(c.bytes.equals(w.bytes));
    });
  }), { numRuns: RUNS });
});

test.run();
