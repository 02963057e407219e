import { stringify } from 'yaml';

import type { Config } from './types.js';

/** The effective configuration as YAML (what --print-config shows); loading it back gives the same Config. */
export function formatConfig(c: Config): string {
  return `# effective configuration (defaults, file and PCSCF_* environment merged)\n${stringify(c, { lineWidth: 0 })}`;
}
