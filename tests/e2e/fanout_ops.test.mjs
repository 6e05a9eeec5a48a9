// SPDX-License-Identifier: Apache-2.0
// Operating downstream apps (issue #11): `scimd app test` (what an IdP's Test
// Connection checks), `scimd app resync` (full reconciliation that repairs
// accounts changed or deleted downstream by hand), the periodic reconciliation
// of `serve --reconcile-interval`, and `app retry --user` of a dead letter.
// Real parts: scimd serve, an IdP pushing over inbound SCIM, the scimmy
// downstream fixture.  Waits are "eventually, within N s" polls, never timings.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cli, cliRaw, audit, startServer, scimClient, freshDb, uniq, assertStatus, CORE_USER, PATCH_OP, sleep, CORE_GROUP, eventually as eventuallyWithin,
} from './lib/harness.mjs';
import { startDownstream } from './lib/downstream.mjs';

const EVENTUALLY_MS = 30_000;
const eventually = (fn, what, ms = EVENTUALLY_MS) => eventuallyWithin(fn, what, ms);

/* A temp dir, a database with a tenant, a key file and the downstream fixture. */
async function world(prefix) {
  const w = {};
  w.dir = mkdtempSync(path.join(tmpdir(), `scimd-${prefix}-`));
  w.db = freshDb(w.dir);
  w.keyFile = path.join(w.dir, 'app.key');
  w.secret = `ds-secret-${Math.random().toString(36).slice(2)}`;
  w.downstream = await startDownstream({ token: w.secret });
  w.tenant = cli(w.db, 'tenant', 'create', uniq('Ops '));
  w.tokenFile = (name, text) => {
    const f = path.join(w.dir, name);
    writeFileSync(f, `${text}\n`, { mode: 0o600 });
    return f;
  };
  w.app = (name, url, secret = w.secret) => cli(w.db, 'app', 'create', '--tenant', w.tenant.id, '--name', name,
                                               '--scim-url', url, '--token-file', w.tokenFile(`${name}.token`, secret),
                                               '--key-file', w.keyFile);
  w.close = async () => {
    try {
      if (w.server) await w.server.stop();
    } finally {
      await w.downstream.stop();
      if (!process.env.SCIMD_E2E_KEEP) rmSync(w.dir, { recursive: true, force: true });
    }
  };
  return w;
}

/* An IdP connection of w's tenant on w.server, and helpers to push through it. */
function idpOf(w) {
  const idp = cli(w.db, 'idp', 'create', '--tenant', w.tenant.id, '--name', uniq('Okta '), '--vendor', 'okta',
                  '--public-url', w.server.url);
  const token = cli(w.db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
  const scim = scimClient(`${w.server.url}/scim/v2/inbound/${idp.id}/`, token.token);
  return {
    scim,
    async user(userName, givenName = 'Ada') {
      const res = await scim('POST', 'Users', {
        body: { schemas: [CORE_USER], userName, name: { givenName, familyName: 'Lovelace' },
                emails: [{ value: userName, type: 'work', primary: true }], active: true },
      });
      assertStatus(res, 201, 'push user');
      return res.body;
    },
    async group(members) {
      const res = await scim('POST', 'Groups', {
        body: { schemas: [CORE_GROUP], displayName: uniq('Staff '), members: members.map((value) => ({ value })) },
      });
      assertStatus(res, 201, 'push group');
      return res.body;
    },
    async removeMember(groupId, userId) {
      const res = await scim('PATCH', `Groups/${groupId}`, {
        body: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] },
      });
      assert.ok(res.status === 200 || res.status === 204, `remove member: ${res.status} ${res.text}`);
    },
  };
}

/* The downstream account with this userName, or null (never two). */
async function remote(downstream, userName) {
  const res = await downstream.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.ok(res.body.Resources.length <= 1, `duplicate downstream accounts: ${JSON.stringify(res.body)}`);
  return res.body.Resources[0] || null;
}

describe('scimd app test', () => {
  let w;
  before(async () => { w = await world('apptest'); });
  after(async () => { await w.close(); });

  const test_ = (app, ...flags) => cliRaw(w.db, ['app', 'test', app.id, '--key-file', w.keyFile, ...flags]);

  test('a working downstream passes every step and exits 0', async () => {
    const app = w.app('Good', w.downstream.base);
    const r = test_(app, '--outbound-allow-private');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.result, 'ok');
    assert.deepEqual(out.steps.map((s) => [s.step, s.result]),
      [['address', 'ok'], ['ServiceProviderConfig', 'ok'], ['user lookup', 'ok']]);
    // the lookup is for a name nobody has, and nothing is written downstream
    const log = await w.downstream.log();
    const lookups = log.filter((e) => e.method === 'GET' && /^\/Users/.test(e.path));
    assert.ok(lookups.some((e) => /^userName eq "scimd-test-[^"]+"$/.test(e.query?.filter || '')),
      JSON.stringify(lookups));
    assert.ok(!log.some((e) => e.method !== 'GET'), 'app test must not write downstream');
    // without --json: each step on a line of its own
    const plain = cliRaw(w.db, ['app', 'test', app.id, '--key-file', w.keyFile, '--outbound-allow-private'],
                         { json: false });
    assert.equal(plain.status, 0);
    assert.match(plain.stdout, /ok\s+ServiceProviderConfig/);
    assert.match(plain.stdout, /connection works/);
  });

  test('a bad token is reported as bad credentials (401), exit 5, the token never shown', async () => {
    const wrong = `wrong-${Math.random().toString(36).slice(2)}`;
    const app = w.app('BadToken', w.downstream.base, wrong);
    const r = test_(app, '--outbound-allow-private');
    assert.equal(r.status, 5, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.result, 'bad credentials');
    assert.equal(out.steps.at(-1).http_status, 401);
    assert.ok(!(r.stdout + r.stderr).includes(wrong), 'the token must not be printed');
  });

  test('a URL that is not a SCIM service provider is reported, exit 6', async () => {
    const app = w.app('NotScim', `http://127.0.0.1:${w.downstream.port}/nothing`);
    const r = test_(app, '--outbound-allow-private');
    assert.equal(r.status, 6, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).result, 'not a SCIM service provider');
  });

  test('a private address is refused without --outbound-allow-private, nothing contacted, exit 3', async () => {
    const app = w.app('Private', w.downstream.base);
    await w.downstream.clearLog();
    const r = test_(app);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.result, 'address refused');
    assert.match(out.steps[0].detail, /loopback/);
    assert.match(out.steps[0].detail, /--outbound-allow-private/);
    assert.deepEqual(await w.downstream.log(), [], 'no request may reach a refused address');
  });

  test('a downstream that is down is unreachable, exit 4', async () => {
    const app = w.app('Down', 'http://127.0.0.1:1/scim/v2');
    const r = test_(app, '--outbound-allow-private');
    assert.equal(r.status, 4, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).result, 'unreachable');
  });

  test('an unknown app is a clear error', () => {
    const r = cliRaw(w.db, ['app', 'test', 'no-such-app', '--key-file', w.keyFile]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no app 'no-such-app'/);
  });
});

describe('scimd app resync', () => {
  let w, idp, app, group, users;
  before(async () => {
    w = await world('resync');
    w.server = await startServer({ db: w.db, args: ['--outbound-allow-private', '--key-file', w.keyFile,
                                                    '--reconcile-interval', '0', '--outbound-retry-ms', '1'] });
    idp = idpOf(w);
    app = w.app('Slack', w.downstream.base);
    users = [];
    for (const n of ['ann', 'ben', 'cat', 'dan']) users.push(await idp.user(`${uniq(n)}@example.com`));
    group = await idp.group(users.map((u) => u.id));
    cli(w.db, 'grant', 'add', '--app', app.id, '--group', group.id);
    for (const u of users) await eventually(async () => (await remote(w.downstream, u.userName))?.active, `${u.userName} provisioned`);
  });
  after(async () => { await w.close(); });

  test('repairs accounts deleted, changed or reactivated downstream by hand; leaves the rest alone', async () => {
    const [ann, ben, cat, dan] = users;
    const annBefore = await remote(w.downstream, ann.userName);
    const benBefore = await remote(w.downstream, ben.userName);
    const catBefore = await remote(w.downstream, cat.userName);
    // dan leaves the group: deactivated downstream; then someone switches him on again by hand
    await idp.removeMember(group.id, dan.id);
    await eventually(async () => (await remote(w.downstream, dan.userName))?.active === false, 'dan deactivated');
    const danBefore = await remote(w.downstream, dan.userName);
    assert.equal((await w.downstream.scim('DELETE', `/Users/${annBefore.id}`)).status, 204);
    const hacked = await w.downstream.scim('PATCH', `/Users/${benBefore.id}`, {
      schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { name: { givenName: 'Mallory', familyName: 'X' }, active: false } }],
    });
    assert.equal(hacked.status, 200, JSON.stringify(hacked.body));
    assert.equal((await w.downstream.scim('PATCH', `/Users/${danBefore.id}`, {
      schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }],
    })).status, 200);
    await w.downstream.clearLog();

    const summary = cli(w.db, 'app', 'resync', app.id);
    assert.equal(summary.users, 4, JSON.stringify(summary));
    assert.equal(summary.dead, 0);

    const annNow = await remote(w.downstream, ann.userName);
    assert.ok(annNow, 'the deleted account is created again');
    assert.equal(annNow.externalId, ann.id);
    assert.equal(annNow.active, true);
    const benNow = await remote(w.downstream, ben.userName);
    assert.equal(benNow.id, benBefore.id, 'the changed account is repaired in place');
    assert.equal(benNow.name.givenName, 'Ada');
    assert.equal(benNow.active, true);
    const danNow = await remote(w.downstream, dan.userName);
    assert.equal(danNow.id, danBefore.id);
    assert.equal(danNow.active, false, 'lost access stays deprovisioned');
    // cat's account held what scimd sends: it was only read
    const writes = (await w.downstream.log()).filter((e) => e.method !== 'GET');
    assert.ok(!writes.some((e) => e.path.includes(catBefore.id)), JSON.stringify(writes));
    assert.equal((await remote(w.downstream, cat.userName)).id, catBefore.id);

    const started = audit(w.db, { tenant: w.tenant.id, type: 'app_resync_started' });
    assert.ok(started.some((e) => e.subject_id === app.id && e.summary.users === 4 && e.summary.reason === 'admin'),
      JSON.stringify(started));
    assert.equal(cli(w.db, 'app', 'show', app.id).counts.pending, 0);
  });

  test('--no-wait only queues; without a TTY progress comes as plain lines', async () => {
    const queued = cli(w.db, 'app', 'resync', app.id, '--no-wait');
    assert.deepEqual(queued, { app: app.id, queued: 4 });
    const r = cliRaw(w.db, ['app', 'resync', app.id], { json: false });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^resync: \d+\/4 users done/m);
    assert.match(r.stdout, /done in \d+s: 4 user\(s\) checked/);
    assert.ok(!r.stdout.includes('\r'), 'no terminal control codes when not a TTY');
  });

  test('a disabled app is refused with a clear message', () => {
    assert.deepEqual(cli(w.db, 'app', 'disable', app.id), { id: app.id, state: 'disabled' });
    const r = cliRaw(w.db, ['app', 'resync', app.id]);
    assert.equal(cliRaw(w.db, ['app', 'enable', app.id], { json: false }).stdout, `app ${app.id} enabled\n`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /disabled; enable it first/);
  });

  test('a dead letter shows in app show and comes back with app retry --user', async () => {
    await w.downstream.setFaults({ rules: [{ method: 'POST', path: '^/Users$', status: 500 }] });
    const eve = await idp.user(`${uniq('eve')}@example.com`, 'Eve');
    cli(w.db, 'grant', 'add', '--app', app.id, '--user', eve.id);
    const shown = await eventually(async () => {
      const s = cli(w.db, 'app', 'show', app.id);
      return s.counts.dead === 1 && s;
    }, 'eve dead-lettered');
    assert.match(shown.last_error, /create user/);
    assert.equal(cli(w.db, 'app', 'retry', app.id, '--user', users[0].id).retried, 0);
    await w.downstream.setFaults({ rules: [] });
    assert.equal(cli(w.db, 'app', 'retry', app.id, '--user', eve.id).retried, 1);
    await eventually(async () => (await remote(w.downstream, eve.userName))?.active, 'eve provisioned after retry');
    assert.equal(cli(w.db, 'app', 'show', app.id).counts.dead, 0);
  });
});

describe('periodic reconciliation (serve --reconcile-interval)', () => {
  let w;
  before(async () => {
    w = await world('reconcile');
    w.server = await startServer({ db: w.db, args: ['--outbound-allow-private', '--key-file', w.keyFile,
                                                    '--reconcile-interval', '2s'] });
  });
  after(async () => { await w.close(); });

  test('an account deleted and one changed downstream by hand are put right without anyone asking', async () => {
    const idp = idpOf(w);
    const app = w.app('GitHub', w.downstream.base);
    const a = await idp.user(`${uniq('fay')}@example.com`, 'Fay');
    const b = await idp.user(`${uniq('gus')}@example.com`, 'Gus');
    const group = await idp.group([a.id, b.id]);
    cli(w.db, 'grant', 'add', '--app', app.id, '--group', group.id);
    const ra = await eventually(async () => remote(w.downstream, a.userName), 'fay provisioned');
    const rb = await eventually(async () => remote(w.downstream, b.userName), 'gus provisioned');
    assert.equal((await w.downstream.scim('DELETE', `/Users/${ra.id}`)).status, 204);
    assert.equal((await w.downstream.scim('PATCH', `/Users/${rb.id}`, {
      schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { name: { givenName: 'Hacked', familyName: 'X' }, active: false } }],
    })).status, 200);
    await eventually(async () => (await remote(w.downstream, a.userName))?.externalId === a.id, 'fay back downstream');
    const gus = await eventually(async () => {
      const r = await remote(w.downstream, b.userName);
      return r && r.active === true && r.name.givenName === 'Gus' && r;
    }, 'gus repaired');
    assert.equal(gus.id, rb.id);
    const scheduled = audit(w.db, { tenant: w.tenant.id, type: 'app_resync_started' })
      .filter((e) => e.subject_id === app.id && e.summary.reason === 'scheduled');
    assert.ok(scheduled.length >= 1);
    assert.equal(scheduled[0].actor, `app:${app.id}`);
  });

  test('a bad --reconcile-interval stops serve with a clear message', () => {
    const r = cliRaw(null, ['serve', '--db', w.db, '--reconcile-interval', 'hourly', '--listen', '127.0.0.1:1'],
                     { json: false });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /reconcile-interval/);
    assert.match(r.stderr, /0 \(off\) or a duration/);
  });
});
