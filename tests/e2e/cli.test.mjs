// SPDX-License-Identifier: Apache-2.0
// The admin CLI as an operator uses it: JSON shapes of tenant/idp/token/user
// commands, admin audit events, `serve --demo`, and `audit --follow`.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BIN, cli, cliRaw, freshDb, audit, startServer, scimClient, assertList, assertStatus, assert401,
  CORE_USER, UUID_RE, TIME_RE, TOKEN_RE,
} from './lib/harness.mjs';

describe('CLI', { timeout: 180_000 }, () => {
  let dir;
  let db;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-cli-'));
    db = freshDb(dir);
  });
  after(() => { if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true }); });

  let tenant; let idp; let token; let user;

  test('tenant create / list', () => {
    tenant = cli(db, 'tenant', 'create', 'Acme Widgets Inc');
    assert.match(tenant.id, UUID_RE);
    assert.equal(tenant.name, 'Acme Widgets Inc');
    assert.match(tenant.subdomain, /^[a-z0-9-]+$/, `subdomain is a slug: ${tenant.subdomain}`);
    assert.match(tenant.subdomain, /acme/);
    assert.match(tenant.created_at, TIME_RE);
    const t2 = cli(db, 'tenant', 'create', 'Other', '--subdomain', 'other-co');
    assert.equal(t2.subdomain, 'other-co');
    const list = cli(db, 'tenant', 'list');
    assert.deepEqual(list.map((t) => t.id).sort(), [tenant.id, t2.id].sort());
  });

  test('idp create by tenant id, name and subdomain; scim_base_url; idp list', () => {
    idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'Okta prod', '--vendor', 'okta',
              '--public-url', 'https://scim.example.com');
    assert.match(idp.id, UUID_RE);
    assert.equal(idp.tenant_id, tenant.id);
    assert.equal(idp.name, 'Okta prod');
    assert.equal(idp.vendor, 'okta');
    assert.match(idp.created_at, TIME_RE);
    assert.equal(idp.scim_base_url, `https://scim.example.com/scim/v2/inbound/${idp.id}/`);
    const byName = cli(db, 'idp', 'create', '--tenant', tenant.name, '--name', 'Entra', '--vendor', 'entra');
    assert.equal(byName.tenant_id, tenant.id);
    assert.equal(byName.scim_base_url, `http://127.0.0.1:8080/scim/v2/inbound/${byName.id}/`, 'default public url');
    const bySub = cli(db, 'idp', 'create', '--tenant', tenant.subdomain, '--name', 'Generic', '--vendor', 'generic');
    assert.equal(bySub.tenant_id, tenant.id);
    for (const v of ['onelogin', 'ping', 'jumpcloud']) {
      assert.equal(cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', v, '--vendor', v).vendor, v);
    }
    const list = cli(db, 'idp', 'list', '--tenant', tenant.id);
    assert.equal(list.length, 6);
    assert.ok(list.some((i) => i.id === idp.id && i.scim_base_url));
  });

  test('token create / list: format, prefix, never the secret in list', () => {
    token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'primary');
    assert.match(token.id, UUID_RE);
    assert.equal(token.idp_id, idp.id);
    assert.equal(token.name, 'primary');
    assert.match(token.token, TOKEN_RE);
    assert.equal(token.prefix, token.token.slice(0, 10));
    assert.match(token.created_at, TIME_RE);
    const t2 = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'secondary');
    assert.notEqual(t2.token, token.token);
    const list = cli(db, 'token', 'list', '--idp', idp.id);
    assert.equal(list.length, 2);
    for (const t of list) {
      for (const k of ['created_at', 'id', 'idp_id', 'last_used_at', 'name', 'prefix', 'revoked_at']) {
        assert.ok(k in t, `token list entry has ${k}: ${JSON.stringify(t)}`);
      }
      for (const k of Object.keys(t)) assert.ok(!/^token$|hash|secret/i.test(k), `token list exposes ${k}`);
      assert.equal(t.last_used_at, null);
      assert.equal(t.revoked_at, null);
    }
    assert.ok(!JSON.stringify(list).includes(token.token.slice(10)));
    const r = cliRaw(db, ['token', 'revoke', t2.id]);
    assert.equal(r.status, 0, r.stderr);
    const after = cli(db, 'token', 'list', '--idp', idp.id);
    assert.match(after.find((t) => t.id === t2.id).revoked_at, TIME_RE);
  });

  test('user create / list / show', () => {
    user = cli(db, 'user', 'create', '--tenant', tenant.id, '--email', 'ann@acme.test', '--username', 'ann',
               '--given-name', 'Ann', '--family-name', 'Acme');
    assert.match(user.id, UUID_RE);
    assert.equal(user.tenant_id, tenant.id);
    assert.equal(user.username, 'ann');
    assert.equal(user.email, 'ann@acme.test');
    assert.equal(user.given_name, 'Ann');
    assert.equal(user.family_name, 'Acme');
    assert.equal(user.status, 'active');
    assert.equal(user.idp_id, null);
    assert.equal(user.scim_managed, false);
    assert.match(user.created_at, TIME_RE);
    assert.match(user.updated_at, TIME_RE);
    for (const k of ['display_name']) assert.ok(k in user, `user has ${k}`);
    const jit = cli(db, 'user', 'create', '--tenant', tenant.subdomain, '--email', 'bob@acme.test', '--username', 'bob',
                    '--idp', idp.id);
    assert.equal(jit.idp_id, idp.id);
    assert.equal(jit.scim_managed, false);
    const list = cli(db, 'user', 'list', '--tenant', tenant.id);
    assert.deepEqual(list.map((u) => u.id).sort(), [user.id, jit.id].sort());
    const shown = cli(db, 'user', 'show', user.id);
    assert.equal(shown.id, user.id);
    assert.deepEqual(shown.idp_rows, []);
    assert.deepEqual(cli(db, 'user', 'list', '--tenant', tenant.id, '--idp', idp.id), [],
      'no SCIM rows yet for this idp');
  });

  test('admin actions are audited with actor "cli"', () => {
    const evs = audit(db);
    const types = evs.map((e) => e.type);
    for (const t of ['tenant_created', 'idp_created', 'token_created', 'token_revoked', 'user_created']) {
      assert.ok(types.includes(t), `${t} in ${JSON.stringify(types)}`);
    }
    for (const e of evs) {
      assert.equal(e.actor, 'cli');
      assert.equal(typeof e.seq, 'number');
      assert.match(e.id, UUID_RE);
      assert.match(e.at, TIME_RE);
      assert.ok('summary' in e && 'source' in e && 'subject_id' in e && 'idp_id' in e && 'tenant_id' in e, JSON.stringify(e));
    }
    assert.ok(!JSON.stringify(evs).includes(token.token.slice(10)), 'no token secret in events');
    assert.equal(audit(db, { type: 'user_created' }).length, 2);
    assert.equal(audit(db, { limit: 2 }).length, 2, '--limit');
    const last2 = audit(db, { limit: 2 });
    assert.deepEqual(last2.map((e) => e.seq), evs.slice(-2).map((e) => e.seq), '--limit keeps the most recent, oldest first');
    const tEvents = audit(db, { tenant: tenant.id });
    assert.ok(tEvents.every((e) => e.tenant_id === tenant.id));
  });

  test('SCIMD_DB environment variable is the default database', () => {
    const r = cliRaw(null, ['tenant', 'list'], { env: { SCIMD_DB: db } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).length, 2);
  });

  test('serve --demo on an empty db creates the demo tenant/IdP and prints a working base URL and token', async () => {
    const demoDb = freshDb(dir, 'demo.db');
    let server = await startServer({ db: demoDb, args: ['--demo'] });
    let out;
    try {
      out = server.stdout();
      const tok = out.match(/scimd_[0-9A-Za-z]{48}/)?.[0];
      const base = out.match(/https?:\/\/\S+\/scim\/v2\/inbound\/[0-9a-f-]{36}\//)?.[0];
      assert.ok(tok, `token printed: ${out}`);
      assert.ok(base, `base URL printed: ${out}`);
      assert.ok(base.startsWith(server.url), `base URL uses --public-url: ${base}`);
      const scim = scimClient(base, tok);
      assertList(await scim('GET', 'Users'));
      const c = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'demo@demo.test' } });
      assertStatus(c, 201);
      const tenants = cli(demoDb, 'tenant', 'list');
      assert.equal(tenants.length, 1);
      assert.equal(tenants[0].name, 'Demo');
      assert.equal(tenants[0].subdomain, 'demo');
      const idps = cli(demoDb, 'idp', 'list');
      assert.equal(idps.length, 1);
      assert.equal(idps[0].name, 'Demo Okta');
      assert.equal(idps[0].vendor, 'okta');
      await server.stop();

      // second --demo start: same tenant/IdP, a fresh token
      server = await startServer({ db: demoDb, args: ['--demo'] });
      const out2 = server.stdout();
      const tok2 = out2.match(/scimd_[0-9A-Za-z]{48}/)?.[0];
      assert.ok(tok2, `token printed again: ${out2}`);
      assert.notEqual(tok2, tok);
      assert.equal(cli(demoDb, 'tenant', 'list').length, 1);
      assert.equal(cli(demoDb, 'idp', 'list').length, 1);
      const base2 = `${server.url}/scim/v2/inbound/${idps[0].id}/`;
      const list = assertList(await scimClient(base2, tok2)('GET', 'Users'));
      assert.deepEqual(list.map((u) => u.userName), ['demo@demo.test'], 'data survived the restart');
      assert.equal(cli(demoDb, 'token', 'list', '--idp', idps[0].id).length, 2);
    } finally {
      await server.stop();
    }
  });

  test('audit --follow prints new events as they happen', async () => {
    const server = await startServer({ db });
    const follower = spawn(BIN, ['audit', '--follow', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    follower.stdout.setEncoding('utf8');
    follower.stdout.on('data', (d) => { out += d; });
    follower.stderr.on('data', (d) => { err += d; });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const scim = scimClient(`${server.url}/scim/v2/inbound/${idp.id}/`, token.token);
      const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'follow@acme.test' } });
      assertStatus(res, 201);
      const deadline = Date.now() + 10_000;
      while (!/scim_user_created/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /scim_user_created/, `--follow output: ${out}\nstderr: ${err}`);
      const line = out.split('\n').find((l) => l.includes('scim_user_created'));
      assert.ok(!line.includes(token.token), 'no token in the follow line');
      assert401(await scim('GET', 'Users', { token: 'scimd_bogus' }));
    } finally {
      follower.kill('SIGTERM');
      await new Promise((r) => (follower.exitCode !== null || follower.signalCode ? r() : follower.on('exit', r)));
      await server.stop();
    }
  });
});
