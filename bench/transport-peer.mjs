// The other process of bench/transport.ts (plain JavaScript: it starts in milliseconds). One job
// per run, given as JSON in argv[2]; it prints one JSON line when it is ready and one with its
// result, then exits.
//   {job: 'udp-send', addr, port, n, size}       burst n datagrams of `size` octets
//   {job: 'udp-recv', addr, n}                   count datagrams on an ephemeral port until n or 1 s idle
//   {job: 'tcp-send', addr, port, n, size}       connect, write n framed messages as fast as the socket takes them
//   {job: 'tcp-recv', addr, n, size}             listen on an ephemeral port, count n * size octets from one connection
import dgram from 'node:dgram';
import net from 'node:net';

const job = JSON.parse(process.argv[2]);
const say = (m) => process.stdout.write(JSON.stringify(m) + '\n');

/** A SIP request of exactly `size` octets with a correct Content-Length. */
function message(size, i) {
  const head = (len) => `REGISTER sip:ims.example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK${i}\r\n` +
    `From: <sip:ue@ims.example.net>;tag=1\r\nTo: <sip:ue@ims.example.net>\r\nCall-ID: bench-${i}\r\nCSeq: 1 REGISTER\r\n` +
    `Content-Length: ${len}\r\n\r\n`;
  let len = Math.max(0, size - head(0).length);
  while (head(len).length + len > size && len > 0) len--;
  return Buffer.from(head(len) + 'x'.repeat(len), 'latin1');
}

/** Counts arrivals; reports the span from the first to the last. */
function counter(n, unit, done) {
  let count = 0;
  let first = 0;
  let last = 0;
  let idle;
  const finish = () => {
    clearTimeout(idle);
    done();
    say({ received: count, seconds: (last - first) / 1000 });
    process.exit(0);
  };
  return (k) => {
    const now = performance.now();
    if (count === 0) first = now;
    count += k;
    last = now;
    clearTimeout(idle);
    if (count >= n * unit) finish();
    else idle = setTimeout(finish, 1000);
  };
}

if (job.job === 'udp-send') {
  const s = dgram.createSocket(job.addr.includes(':') ? 'udp6' : 'udp4');
  s.bind(0, job.addr, async () => {
    say({ ready: true });
    const msg = message(job.size, 0);
    const start = performance.now();
    for (let i = 0; i < job.n; i++) {
      s.send(msg, job.port, job.addr);
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    say({ sent: job.n, seconds: (performance.now() - start) / 1000 });
    s.close();
  });
} else if (job.job === 'udp-recv') {
  const s = dgram.createSocket({ type: job.addr.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
  const count = counter(job.n, 1, () => s.close());
  s.on('message', () => count(1));
  s.bind(0, job.addr, () => say({ ready: true, port: s.address().port }));
} else if (job.job === 'tcp-send') {
  const msgs = Buffer.concat(Array.from({ length: 64 }, (_, i) => message(job.size, i)));
  const c = net.connect({ host: job.addr, port: job.port }, async () => {
    say({ ready: true });
    const start = performance.now();
    for (let i = 0; i < job.n; i += 64) {
      if (!c.write(msgs)) await new Promise((r) => c.once('drain', r));
    }
    say({ sent: job.n, seconds: (performance.now() - start) / 1000 });
    c.end();
  });
  c.on('error', () => process.exit(1));
} else if (job.job === 'tcp-recv') {
  const server = net.createServer((c) => {
    const count = counter(job.n, job.size, () => c.destroy());
    c.on('data', (d) => count(d.length));
  });
  server.listen(0, job.addr, () => say({ ready: true, port: server.address().port }));
}
