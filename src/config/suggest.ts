/**
 * The known name closest to `name` (Levenshtein), when it is close enough to be a likely typo; a
 * name that lacks only a suffix such as "_ms" counts as one edit away.
 */
export function suggest(name: string, known: readonly string[]): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(lower.length / 3)));
  for (const candidate of known) {
    const known = candidate.toLowerCase();
    const d = known.startsWith(`${lower}_`) ? 1 : distance(lower, known);
    if (d <= bestDistance && (best === null || d < bestDistance)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}
