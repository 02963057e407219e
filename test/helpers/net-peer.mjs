// A UDP/TCP test peer driven over stdin/stdout, one JSON object per line, meant to run inside a
// network namespace (`ip netns exec NS node net-peer.mjs`). Plain JavaScript so it starts with
// plain node (tsx costs seconds in the ESP VM). Commands (each answered with the same id):
//   {id, cmd: 'listen', addr, port}                         UDP + TCP echo ("ack:" + payload) on addr:port
//   {id, cmd: 'udp', local, lport, remote, rport, payload, timeoutMs}   send one datagram, wait for the reply
//   {id, cmd: 'tcp', local, lport, remote, rport, payload, timeoutMs}   connect, send, wait for the reply
// Answers: {id, ok: true, reply} or {id, ok: false, error}. Exits when stdin closes.
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

const servers = [];
const answer = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const family = (addr) => (addr.includes(':') ? 'udp6' : 'udp4');

function listen({ addr, port }) {
  return new Promise((resolve, reject) => {
    const u = dgram.createSocket(family(addr));
    u.on('message', (m, r) => u.send(Buffer.concat([Buffer.from('ack:'), m]), r.port, r.address));
    u.once('error', reject);
    u.bind(port, addr, () => {
      const t = net.createServer((c) => {
        c.on('data', (d) => c.end(Buffer.concat([Buffer.from('ack:'), d])));
        c.on('error', () => {});
      });
      t.once('error', reject);
      t.listen(port, addr, () => {
        servers.push(u, t);
        resolve('listening');
      });
    });
  });
}

function udp({ local, lport, remote, rport, payload, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: family(local), reuseAddr: true });
    const timer = setTimeout(() => { s.close(); reject(new Error('timeout')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(String(m)); });
    s.on('error', (e) => { clearTimeout(timer); s.close(); reject(e); });
    s.bind(lport, local, () => s.send(payload, rport, remote));
  });
}

function tcp({ local, lport, remote, rport, payload, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: remote, port: rport, localAddress: local, localPort: lport });
    const timer = setTimeout(() => { c.destroy(); reject(new Error('timeout')); }, timeoutMs);
    let got = '';
    c.on('connect', () => c.write(payload));
    c.on('data', (d) => { got += d; });
    c.on('end', () => { clearTimeout(timer); c.destroy(); resolve(got); });
    c.on('error', (e) => { clearTimeout(timer); c.destroy(); reject(e); });
  });
}

const commands = { listen, udp, tcp };
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  commands[m.cmd](m).then(
    (reply) => answer({ id: m.id, ok: true, reply }),
    (e) => answer({ id: m.id, ok: false, error: e.code ?? e.message }),
  );
}).on('close', () => {
  for (const s of servers) s.close();
  process.exit(0);
});
answer({ id: 0, ok: true, reply: 'ready' });
