#!/usr/bin/env node
// The lab S-CSCF from the command line. Events are JSON lines on stdout, commands JSON lines on
// stdin; it stops on {"cmd":"quit"}, at the end of stdin, or on SIGTERM / SIGINT.

import { commandString, emit, intFlag, parseFlags, readCommands, runMain, type CommandInput, type LabCommand } from './cli.js';
import { LabInputError } from './errors.js';
import { Scscf } from './scscf.js';
import { domainOf, loadSubscriberFile, parseSubscriberFile, SubscriberStore, type SubscriberFile } from './subscribers.js';

const USAGE = `usage: scscf-main --addr IP [--port N] (--subscribers FILE | --impi ID --impu URI... --k HEX (--opc HEX | --op HEX) [--sqn N] [--amf HEX])
                  [--realm DOMAIN] [--expires S] [--max-expires S]

  A registrar / S-CSCF for the IMS lab: IMS AKA (MILENAGE) challenges with ck and ik for the
  P-CSCF, 200 with Path, Service-Route and P-Associated-URI, MESSAGE both ways. UDP and TCP on
  --addr:--port (default 5060). Subscribers come from a JSON / YAML file (see src/lab/subscribers.ts)
  or from the flags for one subscriber.

  stdin commands (JSON lines):
    {"cmd":"message","to":"sip:alice@ims.example","text":"hi"[,"from":"sip:bob@ims.example"]}
    {"cmd":"bindings","impu":"sip:alice@ims.example"}
    {"cmd":"quit"}
  stdout events: listening, challenged, resynchronised, registered, deregistered, rejected,
    message-received, message-answered, message-failed, bindings, error, stopped
`;

const FLAGS = {
  addr: { type: 'string' },
  port: { type: 'string' },
  subscribers: { type: 'string' },
  impi: { type: 'string' },
  impu: { type: 'string', multiple: true },
  k: { type: 'string' },
  opc: { type: 'string' },
  op: { type: 'string' },
  sqn: { type: 'string' },
  amf: { type: 'string' },
  realm: { type: 'string' },
  expires: { type: 'string' },
  'max-expires': { type: 'string' },
} as const;

function subscribersFrom(f: ReturnType<typeof parseFlags<typeof FLAGS>>): SubscriberFile {
  if (f.subscribers !== undefined) {
    if (f.impi !== undefined) throw new LabInputError('ERR_LAB_CONFIG', '--impi', 'give either --subscribers or the flags of one subscriber');
    return loadSubscriberFile(f.subscribers);
  }
  const entry = { impi: f.impi, impu: f.impu, k: f.k, ...(f.opc === undefined ? {} : { opc: f.opc }), ...(f.op === undefined ? {} : { op: f.op }), ...(f.sqn === undefined ? {} : { sqn: intFlag('sqn', f.sqn, 1) }), ...(f.amf === undefined ? {} : { amf: f.amf }) };
  return parseSubscriberFile({ subscribers: [entry] });
}

async function main(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, FLAGS);
  if (f.addr === undefined) throw new LabInputError('ERR_LAB_CONFIG', '--addr', 'is required');
  const file = subscribersFrom(f);
  const realm = f.realm ?? file.realm;
  if (domainOf(`sip:${realm}`) === undefined) throw new LabInputError('ERR_LAB_CONFIG', '--realm', 'must be a domain');
  const scscf = await Scscf.start({
    addr: f.addr, port: intFlag('port', f.port, 5060, 1, 65535), realm, subscribers: new SubscriberStore(file.subscribers),
    defaultExpires: intFlag('expires', f.expires, 600, 1), maxExpires: intFlag('max-expires', f['max-expires'], 7200, 1),
  }, emit);

  let input: CommandInput | undefined;
  const handle = async (cmd: LabCommand): Promise<void> => {
    switch (cmd.cmd) {
      case 'message': {
        const from = typeof cmd['from'] === 'string' ? cmd['from'] : undefined;
        await scscf.sendMessage(commandString(cmd, 'to'), commandString(cmd, 'text'), from);
        return;
      }
      case 'bindings': {
        const impu = commandString(cmd, 'impu');
        emit({ event: 'bindings', impu, contacts: scscf.bindings(impu) });
        return;
      }
      case 'quit': input?.close(); return;
      default: throw new LabInputError('ERR_LAB_CONFIG', 'cmd', `unknown command ${JSON.stringify(cmd.cmd)} (message, bindings, quit)`);
    }
  };
  input = readCommands(handle);
  await input.done;
  input.close();
  await scscf.close();
  emit({ event: 'stopped' });
  return 0;
}

runMain(USAGE, main);
