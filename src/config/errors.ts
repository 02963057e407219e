/** One thing wrong with the configuration: the key path, the value found and what is allowed. */
export interface ConfigProblem {
  /** Key path such as `sip.timers.t1_ms`, `sip.listen[1].port`, or the environment variable or option. */
  key: string;
  value: unknown;
  allowed: string;
  /** Names the key, the value and what is allowed. */
  message: string;
}

/** Every problem found while loading the configuration; `key`, `value`, `allowed` are the first one's. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const first = problems[0];
    if (first === undefined) throw new RangeError('ConfigError needs at least one problem');
    super(problems.length === 1
      ? `invalid configuration: ${first.message}`
      : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    this.key = first.key;
    this.value = first.value;
    this.allowed = first.allowed;
    this.problems = problems;
  }
}

export function problem(key: string, value: unknown, allowed: string, reason?: string): ConfigProblem {
  const why = reason === undefined ? 'is not allowed' : reason;
  return { key, value, allowed, message: `${key}: ${renderValue(value)} ${why} (allowed: ${allowed})` };
}

export function renderValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
