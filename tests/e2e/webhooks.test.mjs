// SPDX-License-Identifier: Apache-2.0
// Webhooks and event streams (issue #13), end to end with real parts: scimd
// serve, an IdP pushing over inbound SCIM, and a real receiver in this file.
// Receivers verify with third-party code as a subscriber would: npm
// `standardwebhooks` for the `json` format (with the secret `webhook create`
// printed once), npm `jose` for SETs against the JWKS fetched from scimd's
// /.well-known/jwks.json, checking the RFC 9967 claims.  Covered: at least
// once and in order per subject while the receiver is down for a while; kill
// -9 mid-delivery re-sends with the same webhook-id / txn; RFC 8936 poll with
// acks, setErrs, maxEvents and a long poll; 410 disables; secrets never show.
//
// Waits are "eventually, within N s" polls of what the receiver got, never timings.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cli, cliRaw, audit, startServer, scimClient, freshDb, uniq, assertStatus, http, freePort,
  CORE_USER, PATCH_OP, PG_URL, psql,
} from './lib/harness.mjs';

const require = createRequire(new URL('../fixtures/downstream/package.json', import.meta.url));
const { Webhook } = require('standardwebhooks');
const { createLocalJWKSet, jwtVerify, decodeJwt } = require('jose');

const PROV = 'urn:ietf:params:scim:event:prov:';
const EVENTUALLY_MS = 40_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function eventually(fn, what) {
  const deadline = Date.now() + EVENTUALLY_MS;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  assert.fail(`not within ${EVENTUALLY_MS} ms: ${what} (last: ${JSON.stringify(last)?.slice(0, 500)})`);
}

/*
 * A webhook receiver on loopback.  Each path has a mode: 'ok' (204, or 202
 * for SETs), 'hold' (read the request, never answer), 'gone' (410),
 * 'reject' (400 with an RFC 8935 error body), 'busy' (one 429 with
 * Retry-After: 1, then 'ok').  stop()/start() take it off
 * and on the network on the same port.  Every request is kept in order.
 */
async function startReceiver() {
  const port = await freePort();
  const got = [];
  const modes = new Map();
  const held = [];
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const mode = modes.get(req.url) || 'ok';
      got.push({ path: req.url, headers: req.headers, body, mode });
      if (mode === 'hold') { held.push(res); return; }
      if (mode === 'gone') { res.writeHead(410).end(); return; }
      if (mode === 'busy') { modes.set(req.url, 'ok'); res.writeHead(429, { 'Retry-After': '1' }).end(); return; }
      if (mode === 'reject') {
        res.writeHead(400, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ err: 'invalid_key', description: 'unknown kid' }));
        return;
      }
      res.writeHead(req.headers['content-type'] === 'application/secevent+jwt' ? 202 : 204).end();
    });
  };
  let server;
  const start = () => new Promise((resolve, reject) => {
    server = createServer(handler);
    server.on('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await start();
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    got,
    on: (p) => got.filter((r) => r.path === p),
    mode: (p, m) => modes.set(p, m),
    start,
    async stop() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('webhooks and event streams', () => {
  let dir, db, keyFile, server, receiver, tenant, idp, token, scim, jwks;
  const serveArgs = () => ['--outbound-allow-private', '--key-file', keyFile, '--webhook-retry-ms', '50'];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-webhooks-'));
    db = freshDb(dir);
    keyFile = path.join(dir, 'scimd.key');
    receiver = await startReceiver();
    tenant = cli(db, 'tenant', 'create', uniq('Hooks '));
    server = await startServer({ db, args: serveArgs() });
    idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'Okta', '--vendor', 'okta',
              '--public-url', server.url);
    token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
    scim = scimClient(`${server.url}/scim/v2/inbound/${idp.id}/`, token.token);
    jwks = (await http('GET', `${server.url}/.well-known/jwks.json`)).body;
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (receiver) await receiver.stop();
      if (dir && !process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  });

  const createWebhook = (...args) =>
    cli(db, 'webhook', 'create', '--tenant', tenant.id, '--key-file', keyFile, '--public-url', server.url, ...args);

  async function pushUser(userName, extra = {}) {
    const res = await scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName, name: { givenName: 'Ada', familyName: 'Lovelace' },
              emails: [{ value: userName, type: 'work', primary: true }], active: true, ...extra },
    });
    assertStatus(res, 201, 'push user');
    return res.body;
  }

  async function patchUser(id, operations) {
    const res = await scim('PATCH', `Users/${id}`, { body: { schemas: [PATCH_OP], Operations: operations } });
    assertStatus(res, 200, 'patch user');
  }

  const events = (type) => audit(db, { tenant: tenant.id, type });

  /* The json messages a path got, verified with the secret (throws if any is not genuine). */
  function verifiedJson(p, secret) {
    const wh = new Webhook(secret);
    return receiver.on(p).map((r) => ({ ...wh.verify(r.body, r.headers), msgId: r.headers['webhook-id'] }));
  }

  async function verifiedSets(p, aud) {
    const keys = createLocalJWKSet(jwks);
    const out = [];
    for (const r of receiver.on(p)) {
      assert.equal(r.headers['content-type'], 'application/secevent+jwt');
      const { payload, protectedHeader } = await jwtVerify(r.body, keys, {
        issuer: server.url, audience: aud, typ: 'secevent+jwt', algorithms: ['RS256'],
      });
      assert.equal(protectedHeader.typ, 'secevent+jwt');
      out.push(payload);
    }
    return out;
  }

  test('json: every event of the tenant arrives signed per Standard Webhooks, secret shown once', async () => {
    const hook = createWebhook('--url', receiver.url('/json'), '--events', 'scim_user_*');
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(hook.format, 'json');
    assert.equal(hook.delivery, 'push');
    const user = await pushUser(`${uniq('ada')}@example.com`);
    await patchUser(user.id, [{ op: 'replace', path: 'name.givenName', value: 'Augusta' }]);
    const got = await eventually(() => {
      const m = verifiedJson('/json', hook.secret);
      return m.some((x) => x.type === 'scim_user_updated') && m;
    }, 'the created and updated events arrive');
    const created = got.find((m) => m.type === 'scim_user_created');
    assert.equal(created.subject, user.id);
    assert.equal(created.tenant, tenant.id);
    assert.equal(created.idp, idp.id);
    assert.equal(created.id, created.msgId, 'the event id is the webhook-id');
    const auditIds = events('scim_user_created').filter((e) => e.subject_id === user.id).map((e) => e.id);
    assert.deepEqual(auditIds, [created.id]);
    assert.deepEqual(got.find((m) => m.type === 'scim_user_updated').data.changed, ['name']);
    assert.ok(got.every((m) => m.type.startsWith('scim_user_')), 'the --events filter holds');
    assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`)
      .verify(receiver.on('/json')[0].body, receiver.on('/json')[0].headers), /signature/i);

    // the secret never shows again: not in show/list, the audit log, or the database file
    const shown = cliRaw(db, ['webhook', 'show', hook.id]);
    const listed = cliRaw(db, ['webhook', 'list', '--tenant', tenant.id]);
    for (const text of [shown.stdout, listed.stdout, JSON.stringify(audit(db, { tenant: tenant.id }))])
      assert.ok(!text.includes(hook.secret.slice(6)), 'the secret is never printed again');
    const show = JSON.parse(shown.stdout);
    assert.equal(show.state, 'enabled');
    assert.ok(show.deliveries.length >= 2);
    const d = show.deliveries[0];
    assert.equal(d.outcome, 'delivered');
    assert.equal(d.status, 204);
    assert.equal(d.attempt, 1);
    assert.equal(typeof d.latency_ms, 'number');
    assert.ok(show.last_success_at);
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('PostgreSQL: an event whose transaction stays open past the 10 s settle window is still delivered, once',
       { skip: !PG_URL && 'PostgreSQL only' }, async (t) => {
    const hook = createWebhook('--url', receiver.url('/late'));
    // a transaction takes a seq and stays open (as a slow write would)
    const held = spawn('psql', [db, '-v', 'ON_ERROR_STOP=1', '-Atq'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = ''; let errText = '';
    held.stdout.on('data', (d) => { out += d; });
    held.stderr.on('data', (d) => { errText += d; });
    const exited = new Promise((resolve) => { held.once('exit', resolve); });
    t.after(() => { if (held.exitCode === null) held.kill(); });
    const heldId = uniq('held');
    held.stdin.write("SET application_name = 'scimd-held-webhook';\nBEGIN;\n" +
      `INSERT INTO events (tenant_id, id, at, type, actor) VALUES ('${tenant.id}', '${heldId}', ` +
      `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'held_event', 'psql') RETURNING seq;\n`);
    await eventually(() => /^\d+$/m.test(out), `the held insert (${errText})`);
    // later events commit and are delivered meanwhile
    const user = await pushUser(`${uniq('late')}@example.com`);
    await eventually(() => verifiedJson('/late', hook.secret).some((m) => m.type === 'scim_user_created' && m.subject === user.id),
                     'the later event is delivered');
    // past the settle window the subscription's position must still not pass the open transaction
    await sleep(11_000);
    assert.equal(psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scimd-held-webhook' AND state = 'idle in transaction'`), '1');
    held.stdin.end('COMMIT;\n');
    assert.equal(await exited, 0, errText);
    const got = await eventually(() => {
      const m = verifiedJson('/late', hook.secret);
      return m.some((x) => x.id === heldId) && m;
    }, 'the held event is delivered once it commits');
    assert.equal(got.filter((m) => m.id === heldId).length, 1, 'once');
    assert.equal(new Set(got.map((m) => m.id)).size, got.length, 'no event twice');
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('set: RFC 8935 push of SETs that jose verifies with the JWKS, RFC 9967 claims', async () => {
    const res = await http('GET', `${server.url}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/jwk-set\+json/);
    assert.deepEqual(JSON.parse(res.text), jwks);
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].d, undefined, 'no private part is published');

    const aud = receiver.url('/set');
    const hook = createWebhook('--url', aud, '--format', 'set');
    assert.equal(hook.secret, undefined, 'SETs are signed with the published key: nothing secret');
    const user = await pushUser(`${uniq('grace')}@example.com`, { externalId: uniq('ext') });
    await patchUser(user.id, [{ op: 'replace', path: 'active', value: false }]);
    const sets = await eventually(async () => {
      const s = await verifiedSets('/set', aud);
      return s.some((x) => x.events[`${PROV}deactivate`]) && s;
    }, 'the create and deactivate SETs arrive');
    const create = sets.find((s) => s.events[`${PROV}create:notice`]);
    assert.deepEqual(create.sub_id, { format: 'scim', uri: `/Users/${user.id}` });
    assert.equal(create.aud, aud);
    const created = events('scim_user_created').find((e) => e.subject_id === user.id);
    assert.equal(create.txn, created.id, 'txn is the scimd event id');
    assert.ok(create.jti && create.iat);
    assert.equal(new Set(sets.map((s) => s.jti)).size, sets.length, 'every SET has its own jti');
    for (const s of sets)
      assert.equal(Object.keys(s.events).length, 1, 'one event per SET');
    assert.ok(sets.every((s) => Object.keys(s.events)[0].startsWith(PROV)), 'only SCIM provisioning events');
    const show = cli(db, 'webhook', 'show', hook.id);
    assert.equal(show.deliveries[0].status, 202);
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('receiver down for a while: every event arrives afterwards, in order per subject, none lost', async () => {
    const hook = createWebhook('--url', receiver.url('/down'), '--events', 'scim_user_created,scim_user_updated');
    const users = [];
    await receiver.stop();
    for (let i = 0; i < 3; i++) {
      const u = await pushUser(`${uniq('down')}@example.com`);
      users.push(u);
      for (const name of ['B', 'C', 'D'])
        await patchUser(u.id, [{ op: 'replace', path: 'name.givenName', value: `${name}${i}` }]);
    }
    await eventually(() => {
      const show = cli(db, 'webhook', 'show', hook.id);
      return show.deliveries.some((d) => d.outcome === 'failed' && d.status === 0) && show.failing_since;
    }, 'failed attempts are in the delivery log');
    await sleep(1000);
    await receiver.start();
    const want = audit(db, { tenant: tenant.id })
      .filter((e) => users.some((u) => u.id === e.subject_id) &&
                     ['scim_user_created', 'scim_user_updated'].includes(e.type))
      .map((e) => e.id);
    assert.equal(want.length, 12);
    const got = await eventually(() => {
      const m = verifiedJson('/down', hook.secret);
      return want.every((id) => m.some((x) => x.id === id)) && m;
    }, 'all 12 events arrive once the receiver is back');
    for (const u of users) {
      const mine = got.filter((m) => m.subject === u.id);
      const firstSeen = [...new Set(mine.map((m) => m.id))];
      const inLog = want.filter((id) => mine.some((m) => m.id === id));
      assert.deepEqual(firstSeen, inLog, `events of ${u.id} arrive in the order they happened`);
    }
    const show = cli(db, 'webhook', 'show', hook.id);
    assert.equal(show.failing_since, null, 'a success ends the failure streak');
    assert.equal(show.counts.dead, 0);
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('kill -9 mid-delivery: the message comes again after restart with the same webhook-id and txn', async () => {
    const json = createWebhook('--url', receiver.url('/held-json'), '--events', 'scim_user_created');
    const aud = receiver.url('/held-set');
    const set = createWebhook('--url', aud, '--format', 'set', '--events', 'scim_user_created');
    receiver.mode('/held-json', 'hold');
    receiver.mode('/held-set', 'hold');
    const user = await pushUser(`${uniq('kill')}@example.com`);
    await eventually(() => receiver.on('/held-json').length >= 1 && receiver.on('/held-set').length >= 1,
      'both requests are in flight at the receiver');
    server.child.kill('SIGKILL');
    const how = await server.stop({ check: false });
    assert.equal(how.signal, 'SIGKILL');
    receiver.mode('/held-json', 'ok');
    receiver.mode('/held-set', 'ok');
    server = await startServer({ db, args: serveArgs() });
    scim = scimClient(`${server.url}/scim/v2/inbound/${idp.id}/`, token.token);
    const again = await eventually(() => receiver.on('/held-json').length >= 2 && receiver.on('/held-set').length >= 2,
      'both are sent again after the restart');
    assert.ok(again);
    const [first, second] = receiver.on('/held-json');
    assert.equal(second.headers['webhook-id'], first.headers['webhook-id'], 'same webhook-id');
    const m = new Webhook(json.secret).verify(second.body, second.headers);
    assert.equal(m.subject, user.id);
    const [s1, s2] = receiver.on('/held-set').map((r) => decodeJwt(r.body));
    assert.equal(s2.txn, s1.txn, 'same txn');
    assert.equal(s2.jti, s1.jti, 'a retransmission keeps its jti');
    const { payload } = await jwtVerify(receiver.on('/held-set')[1].body, createLocalJWKSet(jwks), {
      issuer: server.url, audience: aud, typ: 'secevent+jwt' });
    assert.equal(payload.sub_id.uri, `/Users/${user.id}`, 'signed with the same key after the restart');
    cli(db, 'webhook', 'delete', json.id);
    cli(db, 'webhook', 'delete', set.id);
  });

  test('410 Gone disables the subscription; enabling it delivers what waited', async () => {
    const hook = createWebhook('--url', receiver.url('/gone'), '--events', 'scim_user_created');
    receiver.mode('/gone', 'gone');
    const user = await pushUser(`${uniq('gone')}@example.com`);
    const show = await eventually(() => {
      const s = cli(db, 'webhook', 'show', hook.id);
      return s.state === 'disabled' && s;
    }, 'the subscription is disabled');
    assert.match(show.disabled_reason, /410/);
    assert.equal(show.deliveries[0].outcome, 'gone');
    assert.equal(show.counts.pending, 1, 'the message waits, not lost');
    assert.ok(events('webhook_disabled').some((e) => e.subject_id === hook.id && /410/.test(e.summary.reason)));
    receiver.mode('/gone', 'ok');
    cli(db, 'webhook', 'enable', hook.id);
    await eventually(() => receiver.on('/gone').some((r) => r.mode === 'ok' &&
      JSON.parse(r.body).subject === user.id), 'delivered after enable');
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('429 with Retry-After pauses the subscription without counting an attempt', async () => {
    const hook = createWebhook('--url', receiver.url('/busy'), '--events', 'scim_user_created');
    receiver.mode('/busy', 'busy');
    const user = await pushUser(`${uniq('busy')}@example.com`);
    const paused = await eventually(() => {
      const s = cli(db, 'webhook', 'show', hook.id);
      return s.paused_until && s;
    }, 'the subscription is paused');
    assert.equal(paused.deliveries[0].outcome, 'paused');
    assert.equal(paused.deliveries[0].status, 429);
    await eventually(() => receiver.on('/busy').length === 2, 'sent again after Retry-After');
    const [first, second] = receiver.on('/busy');
    assert.equal(second.headers['webhook-id'], first.headers['webhook-id']);
    assert.equal(JSON.parse(second.body).subject, user.id);
    const show = await eventually(() => {
      const s = cli(db, 'webhook', 'show', hook.id);
      return s.deliveries[0].outcome === 'delivered' && s;
    }, 'the delivery is logged');
    assert.equal(show.deliveries[0].attempt, 1, 'the pause was not a failed attempt');
    assert.equal(show.failing_since, null);
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('two nodes on one PostgreSQL database: each event is sent once, by the node holding the lease',
    { skip: !PG_URL && 'PostgreSQL only (SCIMD_TEST_PG)' }, async () => {
      const other = await startServer({ db, args: serveArgs() });
      try {
        const hook = createWebhook('--url', receiver.url('/nodes'), '--events', 'scim_user_created');
        const users = [];
        for (let i = 0; i < 10; i++) users.push(await pushUser(`${uniq('node')}@example.com`));
        await eventually(() => users.every((u) => receiver.on('/nodes').some((r) => JSON.parse(r.body).subject === u.id)),
          'every event arrives');
        await sleep(1500); /* time for a second copy, if a second node were sending too */
        const ids = receiver.on('/nodes').map((r) => r.headers['webhook-id']);
        assert.equal(new Set(ids).size, ids.length, `no event was sent twice: ${ids.length} requests`);
        cli(db, 'webhook', 'delete', hook.id);
      } finally {
        await other.stop();
      }
    });

  test('set push: a 400 with an RFC 8935 error is permanent (dead letter), replayable', async () => {
    const aud = receiver.url('/reject');
    const hook = createWebhook('--url', aud, '--format', 'set', '--events', 'scim_user_created');
    receiver.mode('/reject', 'reject');
    const user = await pushUser(`${uniq('rej')}@example.com`);
    const show = await eventually(() => {
      const s = cli(db, 'webhook', 'show', hook.id);
      return s.counts.dead === 1 && s;
    }, 'a dead letter');
    assert.equal(receiver.on('/reject').length, 1, 'never retried');
    assert.match(show.dead_letters[0].last_error, /invalid_key: unknown kid/);
    assert.equal(show.dead_letters[0].subject, user.id);
    assert.equal(show.state, 'enabled', 'the receiver answered: the subscription stays');
    receiver.mode('/reject', 'ok');
    const r = cli(db, 'webhook', 'replay', hook.id, '--dead');
    assert.equal(r.queued, 1);
    await eventually(() => receiver.on('/reject').length === 2, 'the dead letter is sent again');
    const replayedFrom = cli(db, 'webhook', 'replay', hook.id, '--from', show.dead_letters[0].event);
    assert.equal(replayedFrom.queued, 1, 'replay --from queues every taken event from there on');
    await eventually(() => receiver.on('/reject').length === 3, 'replayed');
    const bad = cliRaw(db, ['webhook', 'replay', hook.id, '--from', 'no-such-event']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no event 'no-such-event'/);
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('RFC 8936 poll: bearer, maxEvents, moreAvailable, acks, setErrs, long poll', async () => {
    const hook = createWebhook('--poll', '--format', 'set', '--events', 'scim_user_created');
    assert.match(hook.poll_token, /^scimd_[0-9A-Za-z]{48}$/);
    const pollUrl = `${server.url}/events/v1/poll/${hook.id}`;
    assert.equal(hook.poll_url, pollUrl);
    const poll = (body, token = hook.poll_token) => http('POST', pollUrl, {
      body: JSON.stringify(body), timeoutMs: 60_000,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    });
    const denied = await poll({ returnImmediately: true }, 'scimd_wrong');
    assert.equal(denied.status, 401);
    const unknown = await http('POST', `${server.url}/events/v1/poll/${uniq('x')}`,
      { body: '{}', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${hook.poll_token}` } });
    assert.equal(unknown.status, 401, 'an unknown id looks like a wrong bearer');
    const bad = await poll({ maxEvents: -1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.err, 'invalid_request');

    const a = await pushUser(`${uniq('pa')}@example.com`);
    const b = await pushUser(`${uniq('pb')}@example.com`);
    const keys = createLocalJWKSet(jwks);
    const claims = async (sets) => Promise.all(Object.entries(sets).map(async ([jti, token]) => {
      const { payload } = await jwtVerify(token, keys, { issuer: server.url, audience: hook.audience, typ: 'secevent+jwt' });
      assert.equal(payload.jti, jti);
      return payload;
    }));
    await eventually(() => cli(db, 'webhook', 'show', hook.id).counts.pending === 2, 'both SETs are queued');
    const first = (await poll({ maxEvents: 1, returnImmediately: true })).body;
    assert.equal(Object.keys(first.sets).length, 1);
    assert.equal(first.moreAvailable, true);
    const [ca] = await claims(first.sets);
    assert.equal(ca.sub_id.uri, `/Users/${a.id}`, 'oldest first');

    // acknowledge it, reject the next with an error, then nothing is left
    const second = await poll({ ack: [ca.jti], maxEvents: 1, returnImmediately: true });
    assert.equal(second.status, 200);
    const [cb] = await claims(second.body.sets);
    assert.equal(cb.sub_id.uri, `/Users/${b.id}`);
    assert.equal(second.body.moreAvailable, false);
    const third = await poll({ setErrs: { [cb.jti]: { err: 'invalid_audience', description: 'not ours' } },
                               returnImmediately: true });
    assert.deepEqual(third.body, { sets: {}, moreAvailable: false });
    const show = cli(db, 'webhook', 'show', hook.id);
    assert.equal(show.counts.dead, 1);
    assert.match(show.dead_letters[0].last_error, /invalid_audience: not ours/);
    assert.ok(show.deliveries.some((d) => d.outcome === 'acked'));

    // long poll: waits for the next event and answers with it (a long poll may
    // also end empty after its 20 s on a very slow machine: then poll again)
    const waiting = poll({ maxEvents: 10 });
    await sleep(300);
    const c = await pushUser(`${uniq('pc')}@example.com`);
    let long = await waiting;
    while (long.status === 200 && Object.keys(long.body.sets).length === 0)
      long = await poll({ maxEvents: 10 });
    assert.equal(long.status, 200);
    const got = await claims(long.body.sets);
    assert.deepEqual(got.map((x) => x.sub_id.uri), [`/Users/${c.id}`]);

    // not acknowledged: handed out again later with the same jti (at least once)
    assert.equal(Object.keys((await poll({ returnImmediately: true })).body.sets).length, 0,
      'a SET handed out is not offered again at once');
    cli(db, 'webhook', 'disable', hook.id);
    assert.equal((await poll({ returnImmediately: true })).status, 403);
    cli(db, 'webhook', 'delete', hook.id);
  });

  test('bad input: clear CLI errors', () => {
    const cases = [
      [['--url', 'ftp://x.example/'], /url must be http\(s\):\/\/host/],
      [['--url', 'https://user:pw@x.example/'], /must not carry credentials/],
      [['--url', 'https://x.example/', '--format', 'xml'], /format must be json or set/],
      [['--poll'], /only the set format can be polled/],
      [['--url', 'https://x.example/', '--events', 'Scim User'], /events must be event types/],
    ];
    for (const [args, re] of cases) {
      const r = cliRaw(db, ['webhook', 'create', '--tenant', tenant.id, '--key-file', keyFile, ...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const none = cliRaw(db, ['webhook', 'show', 'nope']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no webhook 'nope'/);
  });
});
