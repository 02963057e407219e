// loadConfig: defaults, then the YAML file named by --config, then PCSCF_* environment overrides.
//
// An environment variable names a key path in upper case with "__" between levels:
// PCSCF_IPSEC_LISTEN_ADDR=10.0.0.1, PCSCF_SIP__NEXT_HOP=sip:10.0.0.5:5060,
// PCSCF_SECURITY__ALLOWED_ALGORITHMS='[hmac-sha-1-96, aes-gmac]'. The value is read as a YAML
// scalar or flow collection; an empty value is the empty string.

import { readFileSync } from 'node:fs';

import { parseDocument } from 'yaml';

import { ConfigError, problem } from './errors.js';
import type { ConfigProblem } from './errors.js';
import { isMapping } from './leaves.js';
import { SCHEMA, isLeaf } from './schema.js';
import type { Node } from './schema.js';
import { suggest } from './suggest.js';
import type { Config } from './types.js';
import { validate } from './validate.js';

export interface LoadOptions {
  /** Used when argv has no --config. */
  file?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments (without node and the script); only --config is read here. Defaults to process.argv.slice(2). */
  argv?: readonly string[];
}

const ENV_PREFIX = 'PCSCF_';

/** Throws {@link ConfigError} listing every problem found. The result is deeply frozen. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const problems: ConfigProblem[] = [];
  const file = configFileFrom(opts.argv ?? process.argv.slice(2), problems) ?? opts.file;
  const input = file === undefined ? {} : readYamlFile(file, problems);
  // Without the file's content every other finding would be noise.
  if (problems.length > 0) throw new ConfigError(problems);
  applyEnvironment(input, opts.env ?? process.env, problems);
  const config = validate(input, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function configFileFrom(argv: readonly string[], problems: ConfigProblem[]): string | undefined {
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--config=')) {
      file = arg.slice('--config='.length);
    } else if (arg === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        problems.push(problem('--config', next, 'a path to a YAML file', 'is missing its file name'));
        return undefined;
      }
      file = next;
      i++;
    }
  }
  if (file === '') problems.push(problem('--config', file, 'a path to a YAML file', 'is empty'));
  return file === '' ? undefined : file;
}

function readYamlFile(file: string, problems: ConfigProblem[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    problems.push(problem('--config', file, 'a readable YAML file', `cannot be read (${reason})`));
    return {};
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) problems.push(problem('--config', file, 'a valid YAML file', `has a YAML error: ${err.message.split('\n')[0]}`));
    return {};
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  if (!isMapping(data)) {
    problems.push(problem('--config', file, 'a YAML file whose top level is a mapping', 'does not hold a mapping'));
    return {};
  }
  return data;
}

interface EnvKey {
  name: string;
  path: string[];
}

function envKeys(node: Node, path: string[], out: EnvKey[]): EnvKey[] {
  if (isLeaf(node)) {
    out.push({ name: ENV_PREFIX + path.map((p) => p.toUpperCase()).join('__'), path });
    return out;
  }
  for (const [k, child] of Object.entries(node as { readonly [key: string]: Node })) envKeys(child, [...path, k], out);
  return out;
}

const ENV_KEYS = envKeys(SCHEMA as unknown as Node, [], []);

function applyEnvironment(input: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const key = ENV_KEYS.find((k) => k.name === name);
    if (key === undefined) {
      const hint = suggest(name, ENV_KEYS.map((k) => k.name));
      problems.push(problem(name, raw, 'PCSCF_ followed by a key path in upper case, levels joined by "__" (e.g. PCSCF_SIP__NEXT_HOP)',
        hint === null ? 'names no configuration key' : `names no configuration key (did you mean ${hint}?)`));
      continue;
    }
    const value = parseEnvValue(name, raw, problems);
    if (value !== undefined) setPath(input, key.path, value);
  }
}

function parseEnvValue(name: string, raw: string, problems: ConfigProblem[]): unknown {
  if (raw.trim() === '') return '';
  const doc = parseDocument(raw);
  if (doc.errors.length > 0) {
    problems.push(problem(name, raw, 'a YAML scalar or flow sequence / mapping', `is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`));
    return undefined;
  }
  return doc.toJS();
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = at[k];
    if (next === undefined || next === null) at[k] = {};
    // A section the file set to something else is left for validation to report.
    else if (!isMapping(next)) return;
    at = at[k] as Record<string, unknown>;
  }
  at[path[path.length - 1]!] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
