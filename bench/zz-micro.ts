import { readFileSync } from 'node:fs';
const register = readFileSync(new URL('../test/sip/corpus/register-initial.sip', import.meta.url));
const CRLFCRLF = Buffer.from('\r\n\r\n');
function time(name: string, fn: () => number): void {
  let sink = 0;
  for (let i = 0; i < 200000; i++) sink += fn();
  const t = process.hrtime.bigint();
  const N = 1000000;
  for (let i = 0; i < N; i++) sink += fn();
  const ns = Number(process.hrtime.bigint() - t) / N;
  console.log(name.padEnd(30), ns.toFixed(0), 'ns', sink > 0 ? '' : '!');
}
time('indexOf CRLFCRLF', () => register.indexOf(CRLFCRLF));
time('toString latin1', () => register.toString('latin1', 0, 1188).length);
time('latin1Slice', () => (register as any).latin1Slice(0, 1188).length);
const head = register.toString('latin1');
time('lines via indexOf \\n', () => { let n = 0; for (let p = 0; p < head.length;) { const nl = head.indexOf('\n', p); if (nl < 0) break; n++; p = nl + 1; } return n; });
time('lines via indexOf \\n and \\r', () => { let n = 0; for (let p = 0; p < head.length;) { const nl = head.indexOf('\n', p); if (nl < 0) break; if (head.indexOf('\r', p) !== nl - 1) n--; n++; p = nl + 1; } return n; });
time('lines via charCodeAt scan', () => { let n = 0; for (let i = 0; i < head.length; i++) if (head.charCodeAt(i) === 10) n++; return n; });
time('buffer scan', () => { let n = 0; for (let i = 0; i < register.length; i++) if (register[i] === 10) n++; return n; });
