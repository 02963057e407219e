// Loads and checks the configuration, and prints it with --print-config:
//   npx tsx src/config/cli.ts --config pcscf.yaml [--print-config]
// Exit status 0 when valid, 2 on a usage or configuration error.

import { ConfigError } from './errors.js';
import { formatConfig } from './format.js';
import { loadConfig } from './load.js';

const USAGE = 'usage: cli.ts [--config <file>] [--print-config]\n';

function main(argv: readonly string[]): number {
  let print = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--print-config') print = true;
    else if (arg === '--config') i++;
    else if (arg.startsWith('--config=')) continue;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
      return 2;
    }
  }
  try {
    const config = loadConfig({ argv, env: process.env });
    process.stdout.write(print ? formatConfig(config) : 'configuration is valid\n');
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
