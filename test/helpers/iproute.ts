// Reads what `ip -s -d xfrm policy|state list` prints into plain fields, so tests can compare
// the kernel's view (through iproute2, not through our decoder) with our records.

export interface IpPolicy {
  src: string;
  dst: string;
  proto?: string;
  sport?: number;
  dport?: number;
  uid: number;
  dir: string;
  action: string;
  priority: number;
  tmpls: { src: string; dst: string; proto: string; spi: number; reqid: number; mode: string; level: string }[];
}

export interface IpState {
  src: string;
  dst: string;
  proto: string;
  spi: number;
  reqid: number;
  mode: string;
  replayWindow: number;
  auth?: { name: string; key: string; bits: number; trunc: number };
  enc?: { name: string; key: string; bits: number };
  aead?: { name: string; key: string; bits: number; icv: number };
  sel: { src: string; dst: string; proto?: string; sport?: number; dport?: number; uid: number };
  bytes: number;
  packets: number;
}

/** Splits at lines that start a new entry ("src ..." at column 0). */
function blocks(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('src ')) out.push(line);
    else if (out.length > 0 && line.trim() !== '') out[out.length - 1] += '\n' + line;
  }
  return out;
}

const num = (re: RegExp, s: string): number | undefined => {
  const m = re.exec(s);
  return m ? Number(m[1]) : undefined;
};

function selectorFields(line: string): { src: string; dst: string; proto?: string; sport?: number; dport?: number; uid: number } {
  const m = /src (\S+) dst (\S+)/.exec(line)!;
  const proto = /\bproto (\S+)/.exec(line)?.[1];
  return {
    src: m[1]!, dst: m[2]!,
    ...(proto !== undefined ? { proto } : {}),
    ...(num(/\bsport (\d+)/, line) !== undefined ? { sport: num(/\bsport (\d+)/, line)! } : {}),
    ...(num(/\bdport (\d+)/, line) !== undefined ? { dport: num(/\bdport (\d+)/, line)! } : {}),
    uid: num(/\buid (\d+)/, line) ?? 0,
  };
}

export function parsePolicies(text: string): IpPolicy[] {
  return blocks(text).map((b) => {
    const lines = b.split('\n');
    const sel = selectorFields(lines[0]!);
    const tmpls: IpPolicy['tmpls'] = [];
    for (let i = 0; i < lines.length; i++) {
      const t = /^\s+tmpl src (\S+) dst (\S+)/.exec(lines[i]!);
      if (!t) continue;
      const body = lines.slice(i + 1, i + 3).join(' ');
      tmpls.push({
        src: t[1]!, dst: t[2]!, proto: /proto (\S+)/.exec(body)![1]!, spi: parseInt(/spi 0x([0-9a-f]+)/.exec(body)?.[1] ?? '0', 16),
        reqid: num(/reqid (\d+)/, body) ?? 0, mode: /mode (\S+)/.exec(body)![1]!, level: /level (\S+)/.exec(body)?.[1] ?? 'required',
      });
    }
    return {
      src: sel.src, dst: sel.dst, ...(sel.proto !== undefined ? { proto: sel.proto } : {}),
      ...(sel.sport !== undefined ? { sport: sel.sport } : {}), ...(sel.dport !== undefined ? { dport: sel.dport } : {}),
      uid: sel.uid, dir: /\bdir (\S+)/.exec(b)![1]!, action: /\baction (\S+)/.exec(b)?.[1] ?? 'allow',
      priority: num(/\bpriority (\d+)/, b) ?? 0, tmpls,
    };
  });
}

export function parseStates(text: string): IpState[] {
  return blocks(text).map((b) => {
    const head = /^src (\S+) dst (\S+)/.exec(b)!;
    const id = /proto (\S+) spi 0x([0-9a-f]+)\(\d+\) reqid (\d+)\(0x[0-9a-f]+\) mode (\S+)/.exec(b)!;
    const auth = /auth-trunc (\S+) 0x([0-9a-f]*) \((\d+) bits\) (\d+)/.exec(b);
    // A zero-length key (ecb(cipher_null)) prints without the 0x... and bit count.
    const enc = /\benc (\S+)[ \t]*(?:0x([0-9a-f]*))?[ \t]*(?:\((\d+) bits\))?/.exec(b);
    const aead = /\baead (\S+) 0x([0-9a-f]*) \((\d+) bits\) (\d+)/.exec(b);
    const selLine = /\n\s+sel (.*)/.exec(b)![1]!;
    const cur = /lifetime current:\n\s+(\d+)\(bytes\), (\d+)\(packets\)/.exec(b);
    return {
      src: head[1]!, dst: head[2]!, proto: id[1]!, spi: parseInt(id[2]!, 16), reqid: Number(id[3]), mode: id[4]!,
      replayWindow: num(/replay-window (\d+)/, b) ?? 0,
      ...(auth ? { auth: { name: auth[1]!, key: auth[2]!, bits: Number(auth[3]), trunc: Number(auth[4]) } } : {}),
      ...(enc ? { enc: { name: enc[1]!, key: enc[2] ?? '', bits: Number(enc[3] ?? 0) } } : {}),
      ...(aead ? { aead: { name: aead[1]!, key: aead[2]!, bits: Number(aead[3]), icv: Number(aead[4]) } } : {}),
      sel: selectorFields(selLine),
      bytes: Number(cur?.[1] ?? 0), packets: Number(cur?.[2] ?? 0),
    };
  });
}

/** /proc/net/xfrm_stat ("XfrmInTmplMismatch 3" per line) as counters. */
export function parseXfrmStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}
