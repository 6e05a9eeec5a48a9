// SPDX-License-Identifier: Apache-2.0
// Production operations (issue 15), what the first round left out: the
// request id in the request's audit events (scimd audit, admin API); /metrics
// fed from the store (commit latency, group commit, pool, per-app fan-out
// queues, tokens about to expire), parsed with parse-prometheus-text-format;
// token expiry warnings (admin API, metric, one log line per token); and
// serve --trusted-proxy: X-Forwarded-For believed from a trusted proxy only,
// for allowlists, failed-authentication throttling and audit sources.
// Runs on SQLite, and on PostgreSQL when the Makefile starts one.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  setup, startServer, scimClient, http, cli, cliRaw, audit, freePort, assertStatus, CORE_USER, PATCH_OP, uniq,
  PG_URL, sleep, eventually,
} from './lib/harness.mjs';
import { connect, roundTrip } from './lib/rawhttp.mjs';

const require = createRequire(new URL('../fixtures/downstream/package.json', import.meta.url));
const parsePrometheus = require('parse-prometheus-text-format');


async function scrape(server, headers = {}) {
  const res = await http('GET', `${server.url}/metrics`, { headers });
  assertStatus(res, 200, 'GET /metrics');
  return Object.fromEntries(parsePrometheus(res.text).map((f) => [f.name, f]));
}

/* The samples of a family whose labels include want. */
function samples(families, name, want = {}) {
  const f = families[name];
  if (!f) return [];
  return f.metrics.filter((s) => Object.entries(want).every(([k, v]) => s.labels?.[k] === v));
}
function value(families, name, want = {}) {
  const s = samples(families, name, want);
  return s.length ? Number(s[0].value) : undefined;
}

const newUser = (scim, headers = {}) => scim('POST', 'Users', {
  body: { schemas: [CORE_USER], userName: `${uniq('ops')}@ops.test` }, headers,
});

describe('operations', { timeout: 240_000 }, () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.cleanup(); });

  test('the request id is stored with every audit event of the request: scimd audit and the admin API', async () => {
    const created = await newUser(env.scim, { 'X-Request-Id': 'ops-trace-0001' });
    assertStatus(created, 201);
    const generated = await newUser(env.scim);
    assertStatus(generated, 201);
    const id = generated.headers.get('x-request-id');
    assert.match(id, /^[0-9a-f]{24}$/);

    const events = audit(env.db, { idp: env.idp.id });
    const of = (rid) => events.filter((e) => e.request_id === rid).map((e) => e.type);
    assert.deepEqual(of('ops-trace-0001'), ['scim_user_received', 'scim_user_created']);
    assert.deepEqual(of(id), ['scim_user_received', 'scim_user_created'], 'the generated id too');
    // written by the CLI, not a request
    const minted = audit(env.db, { type: 'token_created' }).find((e) => e.subject_id === env.token.id);
    assert.equal(minted.request_id, null);
    // a failed write keeps its request id on the failure event
    const conflict = await env.scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName: created.body.userName }, headers: { 'X-Request-Id': 'ops-conflict' },
    });
    assert.equal(conflict.status, 409);
    assert.ok(audit(env.db, { type: 'scim_conflict' }).some((e) => e.request_id === 'ops-conflict'));

    // text output
    const text = cliRaw(env.db, ['audit', '--idp', env.idp.id], { json: false });
    assert.equal(text.status, 0);
    assert.match(text.stdout, /scim_user_created .* req=ops-trace-0001/);

    // admin API events carry it
    const pw = path.join(env.dir, 'pw.txt');
    writeFileSync(pw, 'correct horse battery staple 42\n');
    cli(env.db, 'admin', 'create', '--email', 'ops@admin.test', '--role', 'super', '--password-file', pw);
    const key = cli(env.db, 'admin', 'key', 'create', '--name', 'ops', '--admin', 'ops@admin.test').key;
    const res = await http('GET', `${env.server.url}/admin/api/v1/events?limit=100`,
                           { headers: { Authorization: `Bearer ${key}` } });
    assertStatus(res, 200, res.text);
    const rows = res.body.items ?? res.body.data ?? res.body;
    assert.ok(Array.isArray(rows), `event list: ${res.text.slice(0, 300)}`);
    const apiEvent = rows.find((e) => e.type === 'scim_user_created' && e.request_id === 'ops-trace-0001');
    assert.ok(apiEvent, 'GET /admin/api/v1/events shows request_id');
    env.adminKey = key;

    // an operator with the id from a log line or a response header finds exactly that request's events
    const rid = `trace-${uniq('rq')}`;
    const traced = await env.scim('PATCH', `Users/${created.body.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Traced' }] },
      headers: { 'X-Request-Id': rid },
    });
    assertStatus(traced, 200, traced.text);
    assert.equal(traced.headers.get('x-request-id'), rid);
    assertStatus(await newUser(env.scim, { 'X-Request-Id': `${rid}-other` }), 201); // a prefix is not a match
    const expected = audit(env.db, { idp: env.idp.id }).filter((e) => e.request_id === rid);
    assert.ok(expected.length >= 1, 'the write was audited');
    const ids = (rows) => rows.map((e) => e.id);
    const byCli = cli(env.db, 'audit', '--request-id', rid);
    assert.deepEqual(ids(byCli), ids(expected), 'scimd audit --request-id');
    assert.ok(byCli.every((e) => e.request_id === rid && e.subject_id === created.body.id));
    const feed = cli(env.db, 'audit', '--request-id', rid, '--after', '');
    assert.ok(feed.events.every((e) => e.request_id === rid), 'the feed takes the filter too');
    if (!PG_URL) assert.deepEqual(ids(feed.events), ids(expected)); // PostgreSQL holds back the newest 10 s
    const lines = cliRaw(env.db, ['audit', '--request-id', rid], { json: false });
    assert.equal(lines.status, 0, lines.stderr);
    assert.equal(lines.stdout.trim().split('\n').length, expected.length);
    assert.deepEqual(cli(env.db, 'audit', '--request-id', 'no-such-request'), []);
    const byApi = await http('GET', `${env.server.url}/admin/api/v1/events?request_id=${encodeURIComponent(rid)}`,
                             { headers: { Authorization: `Bearer ${key}` } });
    assertStatus(byApi, 200, byApi.text);
    const apiRows = byApi.body.items ?? byApi.body.data ?? byApi.body;
    assert.deepEqual(new Set(ids(apiRows)), new Set(ids(expected)), '/events?request_id=');
    const tooLong = await http('GET', `${env.server.url}/admin/api/v1/events?request_id=${'x'.repeat(300)}`,
                               { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(tooLong.status, 400, 'a filter too long is a clear 400');
  });

  test('/metrics: store commit latency, group commit (SQLite), pool; counts follow the writes', async () => {
    await env.server.stop();
    env.server = await startServer({ db: env.db, args: ['--db-pool', '3'] });
    env.scim = scimClient(`${env.server.url}/scim/v2/inbound/${env.idp.id}/`, env.token.token);
    const before = await scrape(env.server);
    const writes = 5;
    for (let i = 0; i < writes; i++) assertStatus(await newUser(env.scim), 201);
    await Promise.all(Array.from({ length: 12 }, () => env.scim('GET', 'Users?count=2')));
    const after = await scrape(env.server);

    const count = (f) => Number(f.scimd_store_commit_duration_seconds.metrics[0].count);
    assert.ok(count(after) - count(before) >= writes,
              `at least one commit per write: ${count(before)} -> ${count(after)}`);
    const hist = after.scimd_store_commit_duration_seconds;
    assert.equal(hist.type, 'HISTOGRAM');
    const b = hist.metrics[0].buckets;
    const bounds = Object.keys(b).filter((k) => k !== '+Inf').map(Number).sort((x, y) => x - y);
    let prev = 0;
    for (const le of bounds) {
      assert.ok(Number(b[String(le)]) >= prev, 'cumulative buckets');
      prev = Number(b[String(le)]);
    }
    assert.equal(Number(hist.metrics[0].count), count(after));
    assert.ok(Number(b['+Inf'] ?? hist.metrics[0].count) >= prev);

    if (PG_URL) {
      assert.equal(after.scimd_store_group_commit_transactions, undefined, 'no group commit on PostgreSQL');
    } else {
      const g = after.scimd_store_group_commit_transactions;
      assert.equal(g.type, 'HISTOGRAM');
      assert.ok(Number(g.metrics[0].count) >= writes, 'batches');
      assert.ok(Number(g.metrics[0].sum) >= Number(g.metrics[0].count), 'transactions >= batches');
    }
    assert.equal(value(after, 'scimd_store_pool_connections', { state: 'max' }), 3, '--db-pool 3');
    const open = value(after, 'scimd_store_pool_connections', { state: 'open' });
    assert.ok(open >= 1 && open <= 3, `open connections ${open}`);
    assert.ok(value(after, 'scimd_store_pool_waits_total') >= 0);
    assert.ok(value(after, 'scimd_store_pool_wait_seconds_total') >= 0);
    assert.equal(value(after, 'scimd_store_up'), 1);
  });

  test('/metrics: per-app fan-out queue (dead letters match scimd app show), tokens expiring', async () => {
    // an app nobody answers: every call fails fast and its job dead-letters
    const closed = await freePort();
    const tokenFile = path.join(env.dir, 'app.token');
    writeFileSync(tokenFile, 'downstream-secret\n', { mode: 0o600 });
    const keyFile = path.join(env.dir, 'app.key');
    const soon = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'rotate me', '--expires-in', '3d');
    const later = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'fine', '--expires-in', '90d');
    await env.server.stop();
    env.server = await startServer({
      db: env.db, args: ['--outbound-allow-private', '--key-file', keyFile, '--outbound-retry-ms', '1'],
    });
    env.scim = scimClient(`${env.server.url}/scim/v2/inbound/${env.idp.id}/`, env.token.token);
    const name = 'Broken "app"\\';
    const app = cli(env.db, 'app', 'create', '--tenant', env.tenant.id, '--name', name,
                    '--scim-url', `http://127.0.0.1:${closed}/scim/v2`, '--token-file', tokenFile,
                    '--key-file', keyFile);
    const user = await newUser(env.scim);
    assertStatus(user, 201);
    cli(env.db, 'grant', 'add', '--app', app.id, '--user', user.body.id);

    const labels = { tenant: env.tenant.id, app: app.id };
    const m = await eventually(async () => {
      const f = await scrape(env.server);
      return value(f, 'scimd_app_dead_letters', labels) === 1 ? f : null;
    }, 'the job dead-letters and /metrics shows it');
    const shown = cli(env.db, 'app', 'show', app.id);
    assert.equal(shown.counts.dead, 1);
    assert.equal(value(m, 'scimd_app_jobs_pending', labels), shown.counts.pending);
    assert.equal(value(m, 'scimd_app_jobs_retrying', labels), shown.counts.failing);
    assert.equal(samples(m, 'scimd_app_dead_letters', labels)[0].labels.name, name, 'quotes and backslashes escaped');
    assert.equal(value(m, 'scimd_app_enabled', labels), 1);
    assert.equal(value(m, 'scimd_app_requests_in_flight', labels), 0, 'the engine tried it and has nothing in flight now');
    assert.equal(value(m, 'scimd_app_oldest_pending_job_age_seconds', labels) >= 0, true);
    assert.equal(samples(m, 'scimd_app_last_success_timestamp_seconds', labels).length, 0, 'never succeeded');
    cli(env.db, 'app', 'disable', app.id);
    assert.equal(value(await scrape(env.server), 'scimd_app_enabled', labels), 0);

    // a webhook nobody answers: its waiting messages show per subscription
    const hook = cli(env.db, 'webhook', 'create', '--tenant', env.tenant.id, '--url', `http://127.0.0.1:${closed}/hook`,
                     '--key-file', keyFile);
    assertStatus(await newUser(env.scim), 201); // an event for it
    const hookLabels = { tenant: env.tenant.id, webhook: hook.id };
    const h = await eventually(async () => {
      const f = await scrape(env.server);
      return value(f, 'scimd_webhook_messages_pending', hookLabels) >= 1 ? f : null;
    }, 'the undelivered message shows in /metrics');
    assert.equal(value(h, 'scimd_webhook_enabled', hookLabels), 1);
    assert.equal(value(h, 'scimd_webhook_dead_letters', hookLabels), 0);
    assert.equal(samples(h, 'scimd_webhook_last_success_timestamp_seconds', hookLabels).length, 0, 'never delivered');

    // tokens: one expires within 14 days
    assert.equal(value(m, 'scimd_tokens_expiring_soon'), 1);
    assert.equal(value(m, 'scimd_token_next_expiry_timestamp_seconds'), Date.parse(soon.expires_at) / 1000);

    // the admin API's token list says which
    const res = await http('GET', `${env.server.url}/admin/api/v1/idps/${env.idp.id}/tokens`,
                           { headers: { Authorization: `Bearer ${env.adminKey}` } });
    assertStatus(res, 200, res.text);
    const rows = res.body.items ?? res.body.data ?? res.body;
    const byId = Object.fromEntries(rows.map((t) => [t.id, t]));
    assert.equal(byId[soon.id].expires_soon, true);
    assert.equal(byId[soon.id].expired, false);
    assert.equal(byId[soon.id].expires_at, soon.expires_at);
    assert.equal(byId[later.id].expires_soon, false);
    assert.equal(byId[env.token.id].expires_at, null);
    assert.equal(byId[env.token.id].last_used_from, '127.0.0.1');
    // and so does token list
    const listed = cli(env.db, 'token', 'list', '--idp', env.idp.id);
    assert.equal(listed.find((t) => t.id === soon.id).expires_soon, true);

    // the log warns once about the token that expires soon, never about the other
    await eventually(() => env.server.stderr().includes(`token ${soon.id} ('rotate me')`), 'expiry warning logged');
    const warnings = env.server.stderr().split('\n').filter((l) => l.includes(`token ${soon.id}`));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /warn .*expires at .* rotate it/);
    assert.ok(!env.server.stderr().includes(`token ${later.id}`));
    assert.ok(!env.server.stderr().includes(soon.token), 'never the secret');
  });
});

describe('serve --trusted-proxy', { timeout: 240_000 }, () => {
  let env; let proxied; let scim;
  const XFF = (v) => ({ 'X-Forwarded-For': v });

  before(async () => {
    env = await setup();
    // this server believes 127.0.0.1 (the test) is a proxy; env.server does not
    proxied = await startServer({
      db: env.db, args: ['--trusted-proxy', '10.0.0.0/8, 127.0.0.1', '--auth-fail-limit', '3/600'],
    });
    scim = scimClient(`${proxied.url}/scim/v2/inbound/${env.idp.id}/`, env.token.token);
  });
  after(async () => {
    try { await proxied?.stop(); } finally { await env?.cleanup(); }
  });

  test('a bad list is refused at start, naming the flag', () => {
    for (const bad of ['10.0.0.1/8', 'proxy.internal', '10.0.0.0/33']) {
      const r = cliRaw(env.db, ['serve', '--listen', '127.0.0.1:1', '--trusted-proxy', bad], { json: false });
      assert.notEqual(r.status, 0, bad);
      assert.match(r.stderr, /trusted-proxy/, `${bad}: ${r.stderr}`);
    }
  });

  test('the IP allowlist sees the forwarded client; X-Forwarded-For from an untrusted peer is ignored', async () => {
    cli(env.db, 'idp', 'allowlist', '--idp', env.idp.id, '--cidr', '198.51.100.0/24');
    try {
      assertStatus(await scim('GET', 'Users?count=1', { headers: XFF('198.51.100.7') }), 200, 'allowed client');
      // the client wrote the left entry itself; the proxy appended what it saw
      assertStatus(await scim('GET', 'Users?count=1', { headers: XFF('203.0.113.5, 198.51.100.7') }), 200);
      assertStatus(await scim('GET', 'Users?count=1', { headers: XFF('198.51.100.7, 10.1.2.3') }), 200,
                   'a chain of trusted proxies');
      const refused = await scim('GET', 'Users?count=1', { headers: XFF('198.51.100.7, 203.0.113.5') });
      assert.equal(refused.status, 403);
      assert.match(refused.body.detail, /203\.0\.113\.5 is not in this connection's IP allowlist/);
      const garbage = await scim('GET', 'Users?count=1', { headers: XFF('198.51.100.7, nonsense') });
      assert.equal(garbage.status, 403, 'not an address: the proxy (127.0.0.1) is the client');
      assert.match(garbage.body.detail, /127\.0\.0\.1 is not/);
      // the same header to a server that trusts nobody changes nothing
      const direct = await env.scim('GET', 'Users?count=1', { headers: XFF('198.51.100.7') });
      assert.equal(direct.status, 403);
      assert.match(direct.body.detail, /127\.0\.0\.1 is not/);
      // audit: the write's events come from the forwarded client
      const res = await scim('POST', 'Users', {
        body: { schemas: [CORE_USER], userName: `${uniq('fw')}@ops.test` },
        headers: { ...XFF('198.51.100.42'), 'X-Request-Id': 'fw-write' },
      });
      assertStatus(res, 201);
      const ev = audit(env.db, { idp: env.idp.id }).filter((e) => e.request_id === 'fw-write');
      assert.deepEqual(ev.map((e) => e.source), ['198.51.100.42', '198.51.100.42']);
      const denied = audit(env.db, { type: 'scim_access_denied' }).map((e) => e.source);
      assert.ok(denied.includes('203.0.113.5'), `denials recorded with the client: ${denied}`);
    } finally {
      cli(env.db, 'idp', 'allowlist', '--idp', env.idp.id, '--clear');
    }
  });

  test('failed-authentication throttling is per forwarded client, and audited with its address', async () => {
    const bad = XFF('203.0.113.9');
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await scim('GET', 'Users', { token: 'scimd_wrong', headers: bad })).status);
    assert.deepEqual(statuses.slice(0, 3), [401, 401, 401]);
    assert.equal(statuses[4], 429, `throttled after 3: ${statuses}`);
    // even its good token is refused now; another client behind the same proxy is not
    assert.equal((await scim('GET', 'Users?count=1', { headers: bad })).status, 429);
    assertStatus(await scim('GET', 'Users?count=1', { headers: XFF('203.0.113.10') }), 200);
    assertStatus(await scim('GET', 'Users?count=1'), 200, 'the proxy itself, no header');
    const failed = audit(env.db, { type: 'scim_auth_failed' });
    assert.ok(failed.some((e) => e.source === '203.0.113.9'), JSON.stringify(failed.map((e) => e.source)));
  });

  test('/metrics on the main listener: only to a loopback client, judged after X-Forwarded-For', async () => {
    assertStatus(await http('GET', `${proxied.url}/metrics`), 200, 'the proxy host itself');
    const outside = await http('GET', `${proxied.url}/metrics`, { headers: XFF('203.0.113.77') });
    assert.equal(outside.status, 404, 'a client behind the proxy does not see it');
  });

  test('--max-conns-per-ip spares the trusted proxies and still caps everyone else', async () => {
    const server = await startServer({ db: env.db, args: ['--trusted-proxy', '127.0.0.1', '--max-conns-per-ip', '2'] });
    const sockets = [];
    const health = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`;
    try {
      for (let i = 0; i < 5; i++) {
        const s = await connect(server.port);
        sockets.push(s);
        assertStatus(await roundTrip(s, health), 200, `proxy connection ${i + 1}`);
      }
      for (let i = 0; i < 2; i++) {
        const s = await connect(server.port, { localAddress: '127.0.0.2' });
        sockets.push(s);
        assertStatus(await roundTrip(s, health), 200, `client connection ${i + 1}`);
      }
      const over = await connect(server.port, { localAddress: '127.0.0.2' });
      over.on('error', () => {});
      sockets.push(over);
      await assert.rejects(roundTrip(over, health, { timeoutMs: 10_000 }), /closed before a response/,
                           'the third connection from 127.0.0.2 is closed unanswered');
      // a slot freed is usable again
      sockets[5].destroy();
      let served = false;
      for (let attempt = 0; attempt < 50 && !served; attempt++) {
        const s = await connect(server.port, { localAddress: '127.0.0.2' });
        s.on('error', () => {});
        sockets.push(s);
        try {
          assertStatus(await roundTrip(s, health, { timeoutMs: 10_000 }), 200);
          served = true;
        } catch (e) {
          if (!/closed before a response/.test(e.message)) throw e;
          await sleep(100);
        }
      }
      assert.ok(served, 'served again once a connection of 127.0.0.2 closed');
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });
});
