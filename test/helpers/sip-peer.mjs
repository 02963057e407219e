// A raw SIP peer for the integration tests, run with plain node inside a network namespace
// (`ip netns exec NS node sip-peer.mjs`) and driven by test/helpers/sip-peer.ts over stdin/stdout,
// one JSON object per line (protocol: test/helpers/peer-process.ts). It sends exact bytes (the
// RFC 4475 messages, retransmissions, malformed requests) and records every message it receives;
// as a sink it can answer requests with a fixed status per method. Commands:
//   {id, cmd: 'bind', name, transport: 'udp'|'tcp', addr, port}   a UDP socket, or a TCP listener
//   {id, cmd: 'send', name, remote, rport, data}                  one datagram (data: base64) from UDP socket `name`
//   {id, cmd: 'tcpSend', name, local, remote, rport, data}        a new TCP connection from local, the bytes written on
//                                                                 it; what comes back is recorded under `name`
//   {id, cmd: 'answer', name, statuses}                           answer each request received on `name` (never an ACK)
//                                                                 with statuses[METHOD] ?? statuses['*'] (none: no answer)
//   {id, cmd: 'log', since}                                       entries with seq > since
//   {id, cmd: 'last'}                                             the seq of the last entry (0: none yet)
//   {id, cmd: 'wait', since, match, timeoutMs}                    the first entry with seq > since whose text matches
//                                                                 the regular expression `match` (flag m), or error 'timeout'
// Entries: {seq, name, transport, from: 'addr:port', text} with text the message as latin1.
// Exits when stdin closes.
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

const sockets = new Map();
const listeners = [];
const connections = new Set();
const entries = [];
const waiters = [];
const answering = new Map();
let seq = 0;
let tags = 0;

const answer = (m) => process.stdout.write(JSON.stringify(m) + '\n');

const PHRASES = { 100: 'Trying', 180: 'Ringing', 200: 'OK', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 480: 'Temporarily Unavailable', 486: 'Busy Here', 500: 'Server Internal Error' };
// Header fields a response copies from its request (RFC 3261 §8.2.6.2), long and compact names.
const COPIED = /^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:/i;
const TO = /^(to|t)[ \t]*:/i;
const CONTACT_OR_EXPIRES = /^(contact|m|expires)[ \t]*:/i;

/** Header lines with their continuation lines joined to them (kept as they were, CRLFs included). */
function headerFields(head) {
  const fields = [];
  for (const line of head.split('\r\n').slice(1)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) fields[fields.length - 1] += '\r\n' + line;
    else fields.push(line);
  }
  return fields;
}

/** The response to a request: the copied fields, a To tag when it had none; a 2xx to REGISTER echoes Contact and Expires. */
function responseTo(text, status) {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const method = head.slice(0, head.indexOf(' '));
  const lines = [`SIP/2.0 ${status} ${PHRASES[status] ?? 'Status'}`];
  for (const field of headerFields(head)) {
    if (COPIED.test(field)) lines.push(TO.test(field) && !/;\s*tag=/i.test(field) ? `${field};tag=sink${++tags}` : field);
    else if (method === 'REGISTER' && status < 300 && CONTACT_OR_EXPIRES.test(field)) lines.push(field);
  }
  lines.push('Content-Length: 0', '', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

function record(name, transport, from, buf, reply) {
  const text = buf.toString('latin1');
  const entry = { seq: ++seq, name, transport, from, text };
  entries.push(entry);
  for (let i = waiters.length - 1; i >= 0; i--) {
    const w = waiters[i];
    if (entry.seq > w.since && w.re.test(text)) {
      waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(entry);
    }
  }
  const statuses = answering.get(name);
  if (statuses === undefined || text.startsWith('SIP/2.0 ')) return;
  const method = text.slice(0, text.indexOf(' '));
  const status = statuses[method] ?? statuses['*'];
  if (method !== 'ACK' && status !== undefined) reply(responseTo(text, status));
}

/** Splits a TCP byte stream into SIP messages by Content-Length (absent: 0). */
function framer(onMessage) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
      const total = end + 4 + (cl ? Number(cl[1]) : 0);
      if (buf.length < total) return;
      onMessage(buf.subarray(0, total));
      buf = buf.subarray(total);
    }
  };
}

function attach(conn, name) {
  connections.add(conn);
  const from = `${conn.remoteAddress}:${conn.remotePort}`;
  conn.on('data', framer((m) => record(name, 'tcp', from, m, (r) => conn.write(r))));
  conn.on('error', () => {});
  conn.on('close', () => connections.delete(conn));
}

const family = (addr) => (addr.includes(':') ? 'udp6' : 'udp4');

const commands = {
  bind({ name, transport, addr, port }) {
    return new Promise((resolve, reject) => {
      if (transport === 'udp') {
        const s = dgram.createSocket(family(addr));
        s.on('message', (m, r) => record(name, 'udp', `${r.address}:${r.port}`, m, (reply) => s.send(reply, r.port, r.address)));
        s.once('error', reject);
        s.bind(port, addr, () => {
          s.off('error', reject);
          s.on('error', () => {});
          sockets.set(name, s);
          resolve('bound');
        });
      } else {
        const l = net.createServer((c) => attach(c, name));
        l.once('error', reject);
        l.listen(port, addr, () => {
          l.off('error', reject);
          l.on('error', () => {});
          listeners.push(l);
          resolve('bound');
        });
      }
    });
  },
  send({ name, remote, rport, data }) {
    const s = sockets.get(name);
    if (s === undefined) return Promise.reject(new Error(`no UDP socket ${name}`));
    return new Promise((resolve, reject) => s.send(Buffer.from(data, 'base64'), rport, remote, (e) => (e ? reject(e) : resolve('sent'))));
  },
  tcpSend({ name, local, remote, rport, data }) {
    return new Promise((resolve, reject) => {
      const c = net.connect({ host: remote, port: rport, localAddress: local });
      c.once('error', reject);
      c.once('connect', () => {
        attach(c, name);
        c.write(Buffer.from(data, 'base64'), () => resolve('sent'));
      });
    });
  },
  answer({ name, statuses }) {
    answering.set(name, statuses);
    return Promise.resolve('answering');
  },
  log({ since }) {
    return Promise.resolve(entries.filter((e) => e.seq > since));
  },
  last() {
    return Promise.resolve(seq);
  },
  wait({ since, match, timeoutMs }) {
    const re = new RegExp(match, 'm');
    const found = entries.find((e) => e.seq > since && re.test(e.text));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { since, re, resolve, timer: setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error('timeout')); }, timeoutMs) };
      waiters.push(w);
    });
  },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  const run = commands[m.cmd];
  (run === undefined ? Promise.reject(new Error(`unknown command ${m.cmd}`)) : run(m)).then(
    (reply) => answer({ id: m.id, ok: true, reply }),
    (e) => answer({ id: m.id, ok: false, error: e.code ?? e.message }),
  );
}).on('close', () => {
  for (const s of sockets.values()) s.close();
  for (const l of listeners) l.close();
  for (const c of connections) c.destroy();
  process.exit(0);
});
answer({ id: 0, ok: true, reply: 'ready' });
