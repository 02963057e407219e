#!/usr/bin/env node
// The pcscf command: loads the configuration, starts the service, stops it cleanly on SIGTERM /
// SIGINT (exit 0), and reports start-up failures with a message and a non-zero exit status.
//
//   pcscf --config <file> [--print-config | --check-config]
//
// Exit status: 0 stopped cleanly (or configuration printed / valid), 1 start-up failed, 2 usage
// or configuration error.

import { ConfigError, formatConfig, loadConfig } from './config/index.js';
import { startService } from './engine/service.js';
import { IpsecError } from './ipsec/errors.js';
import { createLogger } from './log.js';

const USAGE = `usage: pcscf --config <file> [--print-config | --check-config]

  --config <file>   YAML configuration (see config/example.yaml); PCSCF_* environment
                    variables override it (PCSCF_SIP__NEXT_HOP=... for sip.next_hop)
  --print-config    print the effective configuration and exit
  --check-config    check the configuration and exit (status 0 when valid)
`;

async function main(argv: readonly string[]): Promise<number> {
  let mode: 'run' | 'print' | 'check' = 'run';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--print-config') mode = 'print';
    else if (arg === '--check-config') mode = 'check';
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

  let config;
  try {
    config = loadConfig({ argv, env: process.env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (mode === 'print') {
    process.stdout.write(formatConfig(config));
    return 0;
  }
  if (mode === 'check') {
    process.stdout.write('configuration is valid\n');
    return 0;
  }

  const log = createLogger(config.log.level);
  let service;
  try {
    service = await startService(config, log);
  } catch (e) {
    log.fatal({ err: e }, 'the P-CSCF could not start');
    // What the operator must fix (a kernel without ESP, no CAP_NET_ADMIN) also as plain text.
    if (e instanceof IpsecError) process.stderr.write(`${e.message}\n`);
    return 1;
  }
  log.info({
    sockets: service.sockets.map((s) => `${s.transport}:${s.local.addr}:${s.local.port}${s.listening ? '' : ' (outbound)'} ${s.role}`),
    http: service.httpPort,
    workers: config.workers.pool_size,
  }, 'P-CSCF started');

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal, graceSeconds: config.shutdown.grace_s }, 'stopping');
      // A second signal means "now": skip the grace period.
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await service.stop();
  log.info('stopped');
  return 0;
}

process.exit(await main(process.argv.slice(2)));
