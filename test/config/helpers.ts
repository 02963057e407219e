import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as assert from 'uvu/assert';

import { ConfigError, loadConfig } from '../../src/config/index.js';
import type { Config, ConfigProblem } from '../../src/config/index.js';
import { renderValue } from '../../src/config/errors.js';

/** The smallest valid input: next_hop is required and advertised_host cannot be derived from the defaults. */
export const MINIMAL = 'sip:\n  next_hop: "sip:10.0.0.20:5060"\n  advertised_host: pcscf.example.net\n';

/** Loads `yaml` from a temporary file (removed afterwards) with the given environment. */
export function loadYaml(yaml: string, env: NodeJS.ProcessEnv = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), `pcscf-config-test-${process.pid}-`));
  try {
    const file = join(dir, 'pcscf.yaml');
    writeFileSync(file, yaml);
    return loadConfig({ argv: ['--config', file], env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function loadError(yaml: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadYaml(yaml, env);
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.is((e as ConfigError).code, 'CONFIG_INVALID');
    return e as ConfigError;
  }
  assert.unreachable(`accepted:\n${yaml}\n${JSON.stringify(env)}`);
  throw new Error('unreachable');
}

/** The problem reported for `key`; checks that its message names the key, the value and what is allowed. */
export function problemFor(err: ConfigError, key: string, value?: unknown): ConfigProblem {
  const p = err.problems.find((x) => x.key === key);
  if (p === undefined) assert.unreachable(`no problem for ${key}; got:\n${err.message}`);
  const found = p as ConfigProblem;
  if (value !== undefined) assert.equal(found.value, value, key);
  assert.ok(found.allowed.length > 0, key);
  assert.ok(found.message.includes(key), `${found.message} names ${key}`);
  assert.ok(found.message.includes(renderValue(found.value)), `${found.message} names the value`);
  assert.ok(found.message.includes(found.allowed), `${found.message} names what is allowed`);
  assert.ok(err.message.includes(found.message), 'the error message carries every problem');
  return found;
}
