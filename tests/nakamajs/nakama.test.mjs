// The real @heroiclabs/nakama-js 2.8.0 client against a running Warden.
// run.sh builds and starts the server and sets NAKAMAJS_URL,
// NAKAMAJS_SERVER_KEY and NAKAMAJS_HTTP_KEY.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@heroiclabs/nakama-js';

const url = new URL(required('NAKAMAJS_URL'));
const serverKey = required('NAKAMAJS_SERVER_KEY');
const httpKey = required('NAKAMAJS_HTTP_KEY');
const client = new Client(serverKey, url.hostname, url.port, false);
const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run this suite with run.sh`);
  return v;
}

// rejectsWith checks that promise rejects the way nakama-js does on a
// non-2xx answer: with the fetch Response, here of status and gRPC code.
async function rejectsWith(promise, status, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Response, `want a rejection with a Response, got ${err}`);
  assert.equal(err.status, status);
  assert.equal((await err.json()).code, code);
}

// nodes is how many Warden nodes answer at NAKAMAJS_URL: 1, or the
// round-robin balancer's count in run-cluster.sh (NAKAMAJS_NODES).
const nodes = Number(process.env.NAKAMAJS_NODES || '1');

// revoked checks that call's request is refused with status and code by
// every node. One node refuses at once. Behind a round-robin balancer, a
// node hears another's logout by notification, milliseconds later, so the
// check asks until `nodes` requests in a row (one per node) are refused,
// and fails if that takes more than 2 s.
async function revoked(call, status, code) {
  if (nodes === 1) return rejectsWith(call(), status, code);
  const deadline = Date.now() + 2000;
  for (let inRow = 0; inRow < nodes; ) {
    assert.ok(Date.now() < deadline, `${nodes} nodes did not all refuse the logged-out session within 2 s`);
    try {
      await call();
      inRow = 0;
    } catch (err) {
      assert.ok(err instanceof Response, `want a rejection with a Response, got ${err}`);
      assert.equal(err.status, status);
      assert.equal((await err.json()).code, code);
      inRow++;
    }
  }
}

// login authenticates a new custom ID for one test.
function login(name) {
  return client.authenticateCustom(`custom-${name}-${run}`, true, `${name}${run}`);
}

before(async () => {
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      if ((await fetch(new URL('/healthcheck', url))).ok) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

test('authenticateCustom creates the account, then finds it', async () => {
  const first = await login('custom');
  assert.equal(first.created, true);
  assert.match(first.user_id, uuid);
  assert.equal(first.username, `custom${run}`);
  assert.ok(first.refresh_token);
  const lifetime = first.expires_at - Date.now() / 1000;
  assert.ok(lifetime > 7100 && lifetime <= 7200, `session lifetime ${lifetime} s`);
  const again = await client.authenticateCustom(`custom-custom-${run}`);
  assert.equal(again.created, false);
  assert.equal(again.user_id, first.user_id);
  await rejectsWith(client.authenticateCustom(`custom-nobody-${run}`, false), 404, 5);
  await rejectsWith(client.authenticateCustom(`custom-other-${run}`, true, `custom${run}`), 409, 6);
  await rejectsWith(new Client('wrong-key', url.hostname, url.port).authenticateCustom(`custom-custom-${run}`), 401, 16);
});

test('authenticateDevice', async () => {
  const s = await client.authenticateDevice(`device-${run}-0123456789`, true, `device${run}`);
  assert.equal(s.created, true);
  assert.equal(s.username, `device${run}`);
  const again = await client.authenticateDevice(`device-${run}-0123456789`);
  assert.equal(again.created, false);
  assert.equal(again.user_id, s.user_id);
  await rejectsWith(client.authenticateDevice('short'), 400, 3);
});

test('authenticateEmail', async () => {
  const email = `mail-${run}@example.com`;
  const s = await client.authenticateEmail(email, 'correct-horse', true, `mail${run}`);
  assert.equal(s.created, true);
  const again = await client.authenticateEmail(email, 'correct-horse');
  assert.equal(again.created, false);
  assert.equal(again.user_id, s.user_id);
  await rejectsWith(client.authenticateEmail(email, 'wrong-horse'), 401, 16);
  await rejectsWith(client.authenticateEmail(email, 'short'), 400, 3);
});

test('rpc echo returns the object', async () => {
  const session = await login('echo');
  const input = { a: 1, s: 'héllo <&> "quoted"', nested: { list: [1, 2, 3], empty: {} } };
  const res = await client.rpc(session, 'echo', input);
  assert.deepEqual(res.payload, input);
});

test('rpc whoami returns the caller', async () => {
  const session = await login('whoami');
  const res = await client.rpc(session, 'whoami', {});
  assert.deepEqual(res.payload, { user_id: session.user_id, username: session.username });
});

test('a server-only RPC is refused to a session with 403', async () => {
  const session = await login('serveronly');
  await rejectsWith(client.rpc(session, 'server_rpc_flagged', {}), 403, 7);
});

test('rpcHttpKey delivers its payload', async () => {
  const input = { b: 2, list: ['x', 'y'] };
  const res = await client.rpcHttpKey(httpKey, 'echo', input);
  assert.deepEqual(res.payload, input);
  const who = await client.rpcHttpKey(httpKey, 'whoami');
  assert.deepEqual(who.payload, { user_id: null, username: null });
  await rejectsWith(client.rpcHttpKey('wrong-key', 'echo', input), 401, 16);
});

test('sessionRefresh issues a new token for the same user', async () => {
  const session = await login('refresh');
  const { token, user_id: userID } = session;
  const refreshed = await client.sessionRefresh(session, { tier: 'gold' });
  assert.equal(refreshed, session);
  assert.notEqual(session.token, token);
  assert.equal(session.user_id, userID);
  assert.deepEqual(session.vars, { tier: 'gold' });
  const res = await client.rpc(session, 'whoami', {});
  assert.equal(res.payload.user_id, userID);
});

test('getAccount shows who is logged in', async () => {
  const session = await client.authenticateDevice(`device-acct-${run}`, true, `acct${run}`);
  const account = await client.getAccount(session);
  assert.equal(account.user.id, session.user_id);
  assert.equal(account.user.username, `acct${run}`);
  assert.ok(Date.parse(account.user.create_time) > 0, account.user.create_time);
  assert.deepEqual(account.devices, [{ id: `device-acct-${run}` }]);
  assert.deepEqual(JSON.parse(account.wallet), {});
  const custom = await client.getAccount(await login('acctcustom'));
  assert.equal(custom.custom_id, `custom-acctcustom-${run}`);
});

test('sessionLogout revokes the tokens', async () => {
  const session = await login('logout');
  assert.equal((await client.rpc(session, 'echo', { ok: true })).payload.ok, true);
  assert.equal(await client.sessionLogout(session, session.token, session.refresh_token), true);
  await revoked(() => client.rpc(session, 'echo', { ok: true }), 401, 16);
  await revoked(() => client.getAccount(session), 401, 16);
  await revoked(() => client.sessionRefresh(session), 401, 16);
  const again = await login('logout');
  assert.equal((await client.rpc(again, 'echo', { ok: true })).payload.ok, true);
});
