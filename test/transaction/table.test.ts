// Matching (RFC 3261 §17.1.3, §17.2.3 with the RFC 2543 fallback, §9.2 for CANCEL), on the table
// alone, with transactions that are created but never started.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Target } from '../../src/engine/plan.js';
import { InviteClientTransaction } from '../../src/transaction/invite-client.js';
import { InviteServerTransaction } from '../../src/transaction/invite-server.js';
import { NonInviteClientTransaction } from '../../src/transaction/non-invite-client.js';
import { NonInviteServerTransaction } from '../../src/transaction/non-invite-server.js';
import { TransactionTable, cookieBranch, legacyKey } from '../../src/transaction/table.js';
import { TimerQueue } from '../../src/transaction/timer-queue.js';
import { type ClientTransactionUser, type ServerTransaction, type ServerTransactionUser, durations } from '../../src/transaction/transaction.js';
import { FakeTime, parse, request, respond, rxFrom, sip } from './support.js';

const time = new FakeTime();
const host: ServerTransactionUser & ClientTransactionUser = {
  timers: new TimerQueue(time, time),
  durations: durations(500, 4000, 5000),
  send: () => {},
  serverFailed: () => {},
  serverTerminated: () => {},
  clientResponse: () => {},
  clientFailed: () => {},
  clientTimerC: () => {},
  clientTerminated: () => {},
};

let ids = 0;
function server(bytes: Buffer): ServerTransaction {
  const msg = parse(bytes);
  const branch = cookieBranch(msg);
  const args = [host, msg, rxFrom('192.0.2.1', 5060), ++ids, branch ?? legacyKey(msg), branch === undefined] as const;
  return msg.method === 'INVITE' ? new InviteServerTransaction(...args) : new NonInviteServerTransaction(...args);
}

function table(...txs: ServerTransaction[]): TransactionTable {
  const t = new TransactionTable();
  for (const tx of txs) t.addServer(tx);
  return t;
}

const match = (t: TransactionTable, bytes: Buffer): ServerTransaction | undefined => t.matchRequest(parse(bytes));

test('magic cookie: branch, sent-by and method identify the transaction', () => {
  const invite = server(request({ method: 'INVITE', branch: 'z9hG4bKa' }));
  const message = server(request({ method: 'MESSAGE', branch: 'z9hG4bKm' }));
  const t = table(invite, message);
  assert.is(match(t, request({ method: 'INVITE', branch: 'z9hG4bKa' })), invite, 'retransmission');
  assert.is(match(t, request({ method: 'INVITE', branch: 'z9hG4bKa', sentBy: '192.0.2.1' })), invite, 'port 5060 is the default of sent-by');
  assert.is(match(t, request({ method: 'INVITE', branch: 'z9hG4bKa', sentBy: '192.0.2.2:5060' })), undefined, 'other sent-by host');
  assert.is(match(t, request({ method: 'INVITE', branch: 'z9hG4bKa', sentBy: '192.0.2.1:5070' })), undefined, 'other sent-by port');
  assert.is(match(t, request({ method: 'INVITE', branch: 'z9hG4bKb' })), undefined, 'other branch');
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKa' })), undefined, 'other method, same branch');
  // Fields outside the rule do not matter with the cookie (a retransmission could not differ, a
  // new transaction has a new branch).
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKm', callId: 'other', seq: 9, uri: 'sip:x@y' })), message);
});

test('sent-by hosts compare case-insensitively', () => {
  const tx = server(request({ method: 'MESSAGE', branch: 'z9hG4bKh', sentBy: 'UE.ims.example.net:5060' }));
  const t = table(tx);
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKh', sentBy: 'ue.IMS.example.NET' })), tx);
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKh', sentBy: 'ue.ims.example.neu' })), undefined);
});

test('ACK matches the INVITE transaction of its branch, never a non-INVITE one', () => {
  const invite = server(request({ method: 'INVITE', branch: 'z9hG4bKa' }));
  const bye = server(request({ method: 'BYE', branch: 'z9hG4bKb' }));
  const t = table(invite, bye);
  assert.is(match(t, request({ method: 'ACK', branch: 'z9hG4bKa' })), invite);
  assert.is(match(t, request({ method: 'ACK', branch: 'z9hG4bKb' })), undefined);
  assert.is(match(t, request({ method: 'ACK', branch: 'z9hG4bKa', sentBy: '192.0.2.9:5060' })), undefined);
});

test('CANCEL: its own transaction for retransmissions, and the one it cancels (§9.2)', () => {
  const invite = server(request({ method: 'INVITE', branch: 'z9hG4bKa' }));
  const t = table(invite);
  const cancel = request({ method: 'CANCEL', branch: 'z9hG4bKa' });
  assert.is(t.matchCancelled(parse(cancel)), invite);
  assert.is(match(t, cancel), undefined, 'no CANCEL transaction yet');
  const own = server(cancel);
  t.addServer(own);
  assert.is(match(t, cancel), own);
  assert.is(t.matchCancelled(parse(cancel)), invite, 'the CANCEL transaction is never the one cancelled');
  assert.is(t.matchCancelled(parse(request({ method: 'CANCEL', branch: 'z9hG4bKa', sentBy: '192.0.2.3' }))), undefined);
  assert.is(t.matchCancelled(parse(request({ method: 'CANCEL', branch: 'z9hG4bKz' }))), undefined);
});

test('clients reusing a branch: chained, each found by its sent-by, removed alone', () => {
  const a = server(request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.1' }));
  const b = server(request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.2' }));
  const c = server(request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.3' }));
  const t = table(a, b, c);
  assert.is(t.serverCount, 3);
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.2' })), b);
  t.removeServer(b);
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.2' })), undefined);
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.1' })), a);
  assert.is(match(t, request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.3' })), c);
  t.removeServer(a);
  t.removeServer(c);
  t.removeServer(c);
  assert.is(t.serverCount, 0);
  assert.equal(t.servers(), []);
});

test('RFC 2543 fallback: INVITE retransmission by Request-URI, To tag, From tag, Call-ID, CSeq, top Via', () => {
  const spec = { method: 'INVITE', branch: '', uri: 'sip:bob@ims.example.net', callId: 'c2543', seq: 5, fromTag: 'f1' };
  const invite = server(request(spec));
  assert.ok(invite.legacy);
  const t = table(invite);
  assert.is(match(t, request(spec)), invite);
  assert.is(match(t, request({ ...spec, branch: '1234' })), undefined, 'a branch without the cookie is part of the top Via');
  assert.is(match(t, request({ ...spec, uri: 'sip:carol@ims.example.net' })), undefined, 'Request-URI');
  assert.is(match(t, request({ ...spec, toTag: 'x' })), undefined, 'To tag');
  assert.is(match(t, request({ ...spec, fromTag: 'f2' })), undefined, 'From tag');
  assert.is(match(t, request({ ...spec, callId: 'other' })), undefined, 'Call-ID');
  assert.is(match(t, request({ ...spec, seq: 6 })), undefined, 'CSeq');
  assert.is(match(t, request({ ...spec, sentBy: '192.0.2.1:5062' })), undefined, 'top Via');
  assert.is(match(t, request({ ...spec, branch: 'z9hG4bKa' })), undefined, 'a cookie request never matches an RFC 2543 transaction');
});

test('RFC 2543 fallback: the ACK matches with the To tag of the response the transaction sent', () => {
  const spec = { method: 'INVITE', branch: '', callId: 'c2543-ack', seq: 5 };
  const inviteBytes = request(spec);
  const invite = server(inviteBytes);
  const t = table(invite);
  const ack = (toTag: string): Buffer => request({ ...spec, method: 'ACK', toTag });
  assert.is(match(t, ack('r1')), undefined, 'no final response sent: nothing to acknowledge');
  invite.ackToTag = parse(respond(inviteBytes, 486, 'r1')).to().tag;
  assert.is(match(t, ack('r1')), invite);
  assert.is(match(t, ack('r2')), undefined, 'an ACK for another response (a 2xx forwarded from elsewhere)');
});

test('RFC 2543 fallback: other methods include the CSeq method; CANCEL finds the INVITE', () => {
  const spec = { method: 'MESSAGE', branch: '', callId: 'c2543-m', seq: 3, toTag: 't' };
  const message = server(request(spec));
  const inviteSpec = { method: 'INVITE', branch: '', callId: 'c2543-i', seq: 3 };
  const invite = server(request(inviteSpec));
  const t = table(message, invite);
  assert.is(match(t, request(spec)), message);
  assert.is(match(t, request({ ...spec, method: 'INFO' })), undefined);
  assert.is(t.matchCancelled(parse(request({ ...inviteSpec, method: 'CANCEL' }))), invite);
  assert.is(t.matchCancelled(parse(request({ ...inviteSpec, method: 'CANCEL', toTag: 'zz' }))), undefined, 'a CANCEL carries the To of the request it cancels');
});

const TARGET: Target = { transport: 'udp', socketId: 0, remote: { addr: '198.51.100.7', port: 5060 } };

test('responses: top Via branch and CSeq method (§17.1.3); an INVITE and its CANCEL share the branch', () => {
  const t = new TransactionTable();
  const inviteBytes = sip('INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: r1\nCSeq: 1 INVITE\nContent-Length: 0\n\n');
  const invite = new InviteClientTransaction(host, 'z9hG4bKp1', 'INVITE', inviteBytes, TARGET, 1, {});
  const cancel = new NonInviteClientTransaction(host, 'z9hG4bKp1', 'CANCEL', inviteBytes, TARGET, 0, {});
  assert.ok(t.addClient(invite));
  assert.ok(t.addClient(cancel));
  assert.not.ok(t.addClient(new NonInviteClientTransaction(host, 'z9hG4bKp1', 'CANCEL', inviteBytes, TARGET, 0, {})), 'same branch and method');
  const res = (cseq: string, branch = 'z9hG4bKp1'): Buffer => sip(`SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.10;branch=${branch}\nVia: SIP/2.0/UDP 192.0.2.1\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: r1\nCSeq: ${cseq}\nContent-Length: 0\n\n`);
  assert.is(t.matchResponse(parse(res('1 INVITE'))), invite);
  assert.is(t.matchResponse(parse(res('1 CANCEL'))), cancel);
  assert.is(t.matchResponse(parse(res('1 BYE'))), undefined);
  assert.is(t.matchResponse(parse(res('1 INVITE', 'z9hG4bKp2'))), undefined);
  t.removeClient(invite);
  assert.is(t.matchResponse(parse(res('1 INVITE'))), undefined);
  assert.is(t.matchResponse(parse(res('1 CANCEL'))), cancel);
  assert.is(t.clientCount, 1);
  const noBranch = sip('SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.10\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: r1\nCSeq: 1 CANCEL\nContent-Length: 0\n\n');
  assert.is(t.matchResponse(parse(noBranch)), undefined);
});

test.run();
