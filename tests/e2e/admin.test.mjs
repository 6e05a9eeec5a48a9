// SPDX-License-Identifier: Apache-2.0
// The admin API (/admin/api/v1/): sign-in and sessions (cookie flags, CSRF
// token, Origin, sign-out), throttled and audited failures, role limits
// between tenants, SCIM tokens minted and revoked through it and used on
// SCIM, admin API keys, users/groups/audit log pages, the one-time setup
// link, tenant configuration (IdP rename and kill switch, attribute mirroring,
// custom fields, extension schemas, roles), apps and grants, ETags with
// If-Match, and the OpenAPI document: valid by a third-party validator, and
// every route it lists exercised here.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Validator } from '../fixtures/downstream/node_modules/@seriousme/openapi-schema-validator/index.js';
import {
  setup, startServer, cli, cliRaw, audit, http, uniq, assertStatus, assert401, psql, PG_URL, CORE_USER, TOKEN_RE, PATCH_OP,
  TIME_RE, ENTERPRISE_USER, scimClient, sleep, CORE_GROUP, eventually,
} from './lib/harness.mjs';
import { startDownstream } from './lib/downstream.mjs';


/* Run one SQL statement on the test's database (to age a session without waiting). */
function sql(db, statement) {
  if (PG_URL) return psql(statement, db.replace(/^.*\//, ''));
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', db, statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 ${statement}: ${r.stderr}`);
  return r.stdout.trim();
}

const PASSWORD = 'correct horse battery staple';

describe('admin API', { timeout: 300_000 }, () => {
  let env; let api; let doc;
  let tenantB; let B; // another tenant and its connection
  let root; // super admin session {cookie, csrf}
  const hit = new Set(); // "METHOD /template" of every request made

  // Map a concrete path to its OpenAPI template, for the coverage check.
  const templateOf = (p) => {
    const bare = p.split('?')[0];
    for (const t of Object.keys(doc.paths)) {
      const re = new RegExp('^' + t.replace(/\{[^}]+\}/g, '[^/]+') + '$');
      if (re.test(bare)) return t;
    }
    return bare;
  };

  /* A request to the admin API.  auth: {cookie, csrf} (a session), {key}, or null. */
  const call = async (method, p, { auth = root, body, headers = {}, csrf = true } = {}) => {
    if (doc) hit.add(`${method} ${templateOf(p)}`);
    const h = { ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (auth && auth.cookie) {
      h.Cookie = auth.cookie;
      if (csrf && method !== 'GET') h['X-CSRF-Token'] = auth.csrf;
    }
    if (auth && auth.key) h.Authorization = `Bearer ${auth.key}`;
    const res = await http(method, `${api}${p}`, { body, headers: h });
    if (res.status >= 400) {
      assert.equal(typeof res.body?.error?.code, 'string', `error body with a code: ${res.text}`);
      assert.equal(typeof res.body.error.message, 'string');
    }
    return res;
  };
  /* The ETag of a GET: a quoted digest. */
  const etagOf = (res) => {
    const e = res.headers.get('etag');
    assert.match(e || '', /^"[0-9a-f]{24}"$/, `ETag of ${res.text}`);
    return e;
  };
  const STALE = '"000000000000000000000000"';
  /* Poll the tenant's re-derive job (started by a mapping change) until the server finished it. */
  const rederived = async (t, id) => {
    for (let i = 0; i < 600; i++) {
      const res = await call('GET', `/tenants/${t}/rederive`);
      assertStatus(res, 200, res.text);
      if (res.body.id === id && res.body.state !== 'running') {
        assert.equal(res.body.state, 'done', res.text);
        return res.body;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`re-derive job ${id} of tenant ${t} did not finish`);
  };
  const assertError = (res, status, code, what = '') => {
    assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
    assert.equal(res.body.error.code, code, what);
  };

  const makeAdmin = (email, ...args) => {
    const file = path.join(env.dir, `${uniq('pw')}.txt`);
    writeFileSync(file, `${PASSWORD}\n`);
    return cli(env.db, 'admin', 'create', '--email', email, '--password-file', file, ...args);
  };
  const signIn = async (email, password = PASSWORD) => {
    const res = await call('POST', '/session', { auth: null, body: { email, password } });
    assertStatus(res, 201, `sign in ${email}: ${res.text}`);
    const cookie = res.headers.get('set-cookie').split(';')[0];
    return { cookie, csrf: res.body.csrf_token, res };
  };

  before(async () => {
    env = await setup({ vendor: 'okta', tenantName: uniq('Tenant A ') });
    api = `${env.server.url}/admin/api/v1`;
    tenantB = cli(env.db, 'tenant', 'create', uniq('Tenant B '));
    B = env.addIdp(tenantB.id, 'entra');
    makeAdmin('root@admin.test', '--role', 'super');
    makeAdmin('alice@a.test', '--role', 'admin', '--tenant', env.tenant.id);
    makeAdmin('audrey@a.test', '--role', 'auditor', '--tenant', env.tenant.id);
    makeAdmin('throttled@a.test', '--role', 'admin', '--tenant', env.tenant.id);
    const res = await http('GET', `${api}/openapi.json`);
    assertStatus(res, 200);
    doc = res.body;
    hit.add('GET /openapi.json');
    root = await signIn('root@admin.test');
  });
  after(async () => { if (env) await env.cleanup(); });

  test('the OpenAPI document is valid OpenAPI 3.1 (third-party validator), served without sign-in', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const v = new Validator();
    const r = await v.validate(doc);
    assert.ok(r.valid, `OpenAPI errors: ${JSON.stringify(r.errors, null, 1)}`);
    assert.equal(v.version, '3.1');
  });

  test('sign-in: 201, session cookie HttpOnly + SameSite=Strict + Path=/admin (no Secure on http), CSRF token, audited', async () => {
    const s = await signIn('alice@a.test');
    const setCookie = s.res.headers.get('set-cookie');
    assert.match(setCookie, /^scimd_session=[0-9A-Za-z]{43};/);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\/admin(;|$)/);
    assert.doesNotMatch(setCookie, /Secure/, 'the public URL is http');
    assert.match(s.csrf, /^[0-9A-Za-z]{43}$/);
    assert.equal(s.res.body.admin.email, 'alice@a.test');
    assert.equal(s.res.body.admin.role, 'admin');
    assert.equal(s.res.body.admin.tenant_id, env.tenant.id);
    const me = await call('GET', '/session', { auth: s });
    assertStatus(me, 200);
    assert.equal(me.body.via, 'session');
    assert.equal(me.body.admin.email, 'alice@a.test');
    const ev = audit(env.db, { type: 'admin_login' }).filter((e) => e.subject_id === s.res.body.admin.id);
    assert.ok(ev.length >= 1, 'admin_login event');
    assert.ok(!JSON.stringify(ev).includes(PASSWORD), 'no password in events');
  });

  test('behind an https public URL the cookie is Secure, and Origin must be that URL', async () => {
    const other = await startServer({ db: env.db, publicUrl: 'https://admin.example.test' });
    try {
      const res = await http('POST', `${other.url}/admin/api/v1/session`, { body: { email: 'alice@a.test', password: PASSWORD } });
      assertStatus(res, 201, res.text);
      assert.match(res.headers.get('set-cookie'), /; Secure/);
      const bad = await http('POST', `${other.url}/admin/api/v1/session`, {
        body: { email: 'alice@a.test', password: PASSWORD }, headers: { Origin: other.url },
      });
      assertError(bad, 403, 'bad_origin');
      const good = await http('POST', `${other.url}/admin/api/v1/session`, {
        body: { email: 'alice@a.test', password: PASSWORD }, headers: { Origin: 'https://admin.example.test' },
      });
      assertStatus(good, 201, good.text);
    } finally {
      await other.stop();
    }
  });

  test('wrong password or unknown email -> 401 unauthorized, audited as admin_login_failed; no session', async () => {
    const before = audit(env.db, { type: 'admin_login_failed' }).length;
    const res = await call('POST', '/session', { auth: null, body: { email: 'alice@a.test', password: 'not the password' } });
    assertError(res, 401, 'unauthorized', 'wrong password');
    assert.equal(res.headers.get('set-cookie'), null);
    const res2 = await call('POST', '/session', { auth: null, body: { email: 'nobody@a.test', password: 'whatever it is' } });
    assertError(res2, 401, 'unauthorized', 'unknown email');
    assert.equal(res2.body.error.message, res.body.error.message, 'same answer for both');
    const failed = audit(env.db, { type: 'admin_login_failed' });
    assert.equal(failed.length, before + 2);
    assert.ok(!JSON.stringify(failed).includes('not the password'));
    assertError(await call('GET', '/session', { auth: null }), 401, 'unauthorized', 'no cookie');
    assertError(await call('GET', '/session', { auth: { cookie: 'scimd_session=forged' } }), 401, 'unauthorized');
    assertError(await call('POST', '/session', { auth: null, body: '[1]' }), 400, 'invalid_request');
  });

  test('throttling: after 5 failures an account is refused (429) even with the right password', async () => {
    for (let i = 0; i < 5; i++) {
      assertError(await call('POST', '/session', { auth: null, body: { email: 'throttled@a.test', password: `wrong ${i} password` } }),
        401, 'unauthorized', `failure ${i}`);
    }
    const res = await call('POST', '/session', { auth: null, body: { email: 'THROTTLED@a.test', password: PASSWORD } });
    assertError(res, 429, 'throttled', 'right password while locked');
    assert.equal(res.headers.get('set-cookie'), null);
    const ev = audit(env.db, { type: 'admin_login_failed' });
    assert.ok(ev.some((e) => e.summary?.reason === 'throttled'), 'the refused attempt is audited');
    // other accounts are unaffected
    await signIn('audrey@a.test');
  });

  test('sign-out ends the session: 204, cookie cleared, the old cookie no longer works, audited', async () => {
    const s = await signIn('alice@a.test');
    assertError(await call('DELETE', '/session', { auth: s, csrf: false }), 403, 'csrf_failed', 'sign-out needs the CSRF token');
    const res = await call('DELETE', '/session', { auth: s });
    assertStatus(res, 204);
    assert.match(res.headers.get('set-cookie'), /^scimd_session=;.*Max-Age=0/);
    assertError(await call('GET', '/session', { auth: s }), 401, 'unauthorized', 'after sign-out');
    const me = s.res.body.admin.id;
    assert.ok(audit(env.db, { type: 'admin_logout' }).some((e) => e.subject_id === me));
  });

  test('session expiry: 30 minutes idle or 12 hours after sign-in end the session (401)', async () => {
    const hashOf = async (s) => {
      const { createHash } = await import('node:crypto');
      return createHash('sha256').update(s.cookie.replace(/^scimd_session=/, '')).digest('hex');
    };
    const idle = await signIn('alice@a.test');
    assertStatus(await call('GET', '/session', { auth: idle }), 200);
    const old = new Date(Date.now() - 31 * 60 * 1000).toISOString();
    sql(env.db, `UPDATE admin_sessions SET last_seen_at = '${old}' WHERE id_hash = '${await hashOf(idle)}'`);
    assertError(await call('GET', '/session', { auth: idle }), 401, 'unauthorized', 'idle 31 minutes');

    const long = await signIn('alice@a.test');
    const past = new Date(Date.now() - 1000).toISOString();
    sql(env.db, `UPDATE admin_sessions SET expires_at = '${past}' WHERE id_hash = '${await hashOf(long)}'`);
    assertError(await call('GET', '/session', { auth: long }), 401, 'unauthorized', 'past its 12 hours');
    const row = sql(env.db, `SELECT expires_at FROM admin_sessions WHERE id_hash = '${await hashOf(idle)}'`);
    const hours = (Date.parse(row) - Date.parse(idle.res.headers.get('date') || new Date())) / 3600e3;
    assert.ok(hours > 11.9 && hours <= 12.01, `a session ends 12 h after sign-in (${hours} h)`);
  });

  test('CSRF: a write without the token, with a wrong token, or from another Origin is refused (403)', async () => {
    const body = { name: uniq('csrf idp '), vendor: 'generic', tenant_id: env.tenant.id };
    assertError(await call('POST', '/idps', { body, csrf: false }), 403, 'csrf_failed', 'no token');
    assertError(await call('POST', '/idps', { body, auth: { ...root, csrf: 'x'.repeat(43) } }), 403, 'csrf_failed', 'wrong token');
    assertError(await call('POST', '/idps', { body, headers: { Origin: 'http://evil.example' } }), 403, 'bad_origin', 'other origin');
    const ok = await call('POST', '/idps', { body, headers: { Origin: env.server.url } });
    assertStatus(ok, 201, ok.text);
    assert.equal(ok.body.scim_base_url, `${env.server.url}/scim/v2/inbound/${ok.body.id}/`);
  });

  test('tenants: super lists all and creates; an admin sees only its own and may not create', async () => {
    const all = await call('GET', '/tenants');
    assertStatus(all, 200);
    const ids = all.body.items.map((t) => t.id);
    assert.ok(ids.includes(env.tenant.id) && ids.includes(tenantB.id));
    const created = await call('POST', '/tenants', { body: { name: uniq('Tenant C ') } });
    assertStatus(created, 201, created.text);
    assertError(await call('POST', '/tenants', { body: { name: 'x', subdomain: created.body.subdomain } }), 409, 'conflict');
    assertError(await call('POST', '/tenants', { body: { name: '' } }), 400, 'invalid_request');
    const alice = await signIn('alice@a.test');
    const mine = await call('GET', '/tenants', { auth: alice });
    assert.deepEqual(mine.body.items.map((t) => t.id), [env.tenant.id]);
    assertError(await call('POST', '/tenants', { auth: alice, body: { name: 'nope' } }), 403, 'forbidden');
    // cursor pages of one
    const seen = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const page = await call('GET', `/tenants?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assertStatus(page, 200);
      seen.push(...page.body.items.map((t) => t.id));
      if (page.body.next_cursor === null) break;
      cursor = page.body.next_cursor;
    }
    assert.deepEqual(seen, ids.concat([created.body.id]));
    assertError(await call('GET', '/tenants?limit=0'), 400, 'invalid_request');
  });

  test("role limits: an admin of tenant A gets 404 for tenant B's objects; an auditor cannot write", async () => {
    const alice = await signIn('alice@a.test');
    assertError(await call('GET', `/idps/${B.idp.id}`, { auth: alice }), 404, 'not_found', "B's IdP");
    assertError(await call('GET', `/idps/${B.idp.id}/tokens`, { auth: alice }), 404, 'not_found', "B's tokens");
    assertError(await call('GET', `/idps/${B.idp.id}/groups`, { auth: alice }), 404, 'not_found', "B's groups");
    assertError(await call('POST', `/idps/${B.idp.id}/tokens`, { auth: alice, body: { name: 'x' } }), 404, 'not_found');
    assertError(await call('DELETE', `/tokens/${B.token.id}`, { auth: alice }), 404, 'not_found', "B's token");
    assertError(await call('GET', `/events?idp=${B.idp.id}`, { auth: alice }), 404, 'not_found');
    const idps = await call('GET', `/idps?tenant=${tenantB.id}`, { auth: alice });
    assertStatus(idps, 200);
    assert.ok(idps.body.items.every((i) => i.tenant_id === env.tenant.id), 'only its own tenant');
    assert.ok(idps.body.items.some((i) => i.id === env.idp.id));
    // B's SCIM token still works: nothing was revoked
    assertStatus(await B.scim('GET', 'Users'), 200);

    const audrey = await signIn('audrey@a.test');
    assertStatus(await call('GET', `/idps/${env.idp.id}`, { auth: audrey }), 200);
    assertStatus(await call('GET', `/idps/${env.idp.id}/tokens`, { auth: audrey }), 200);
    assertError(await call('POST', `/idps/${env.idp.id}/tokens`, { auth: audrey, body: { name: 'x' } }), 403, 'forbidden', 'auditor write');
    assertError(await call('POST', '/idps', { auth: audrey, body: { name: 'x', vendor: 'okta' } }), 403, 'forbidden');
    assertError(await call('DELETE', `/tokens/${env.token.id}`, { auth: audrey }), 403, 'forbidden');
    assertStatus(await env.scim('GET', 'Users'), 200);
  });

  test('SCIM tokens through the API: created (plaintext once), used on SCIM, listed with last use, revoked -> 401', async () => {
    const alice = await signIn('alice@a.test');
    const created = await call('POST', `/idps/${env.idp.id}/tokens`, { auth: alice, body: { name: 'from the API' } });
    assertStatus(created, 201, created.text);
    assert.match(created.body.token, TOKEN_RE);
    assert.equal(created.body.idp_id, env.idp.id);
    const bearer = { Authorization: `Bearer ${created.body.token}` };
    assertStatus(await http('GET', `${env.base}Users`, { headers: bearer }), 200);
    const list = await call('GET', `/idps/${env.idp.id}/tokens`, { auth: alice });
    assertStatus(list, 200);
    const row = list.body.items.find((t) => t.id === created.body.id);
    assert.ok(row, 'listed');
    assert.equal(row.token, undefined, 'never the secret');
    assert.match(row.created_at, TIME_RE);
    assert.match(row.last_used_at, TIME_RE);
    assert.equal(row.last_used_from, '127.0.0.1');
    assert.equal(row.revoked_at, null);
    assertStatus(await call('DELETE', `/tokens/${created.body.id}`, { auth: alice }), 204);
    assert401(await http('GET', `${env.base}Users`, { headers: bearer }), 'revoked token');
    assertError(await call('DELETE', `/tokens/${created.body.id}`, { auth: alice }), 409, 'conflict', 'twice');
    const ev = audit(env.db, { type: 'token_revoked' }).find((e) => e.subject_id === created.body.id);
    assert.ok(ev && ev.actor === `admin:${alice.res.body.admin.id}`, 'audited with the admin as actor');
  });

  test('admin API keys: Bearer scimd_admin_… works without CSRF; unknown keys -> 401', async () => {
    const k = cli(env.db, 'admin', 'key', 'create', '--name', 'automation', '--admin', 'root@admin.test');
    assert.match(k.key, /^scimd_admin_[0-9A-Za-z]{43}$/);
    const key = { key: k.key };
    const me = await call('GET', '/session', { auth: key });
    assertStatus(me, 200);
    assert.equal(me.body.via, 'api_key');
    const t = await call('POST', '/tenants', { auth: key, body: { name: uniq('Keyed ') } });
    assertStatus(t, 201, t.text);
    assertError(await call('GET', '/tenants', { auth: { key: `scimd_admin_${'x'.repeat(43)}` } }), 401, 'unauthorized');
    assertError(await call('GET', '/tenants', { auth: null, headers: { Authorization: 'Basic abc' } }), 401, 'unauthorized');
    const r = cliRaw(env.db, ['admin', 'key', 'create', '--name', 'x', '--admin', 'nobody@x.test']);
    assert.notEqual(r.status, 0);
  });

  test('users: search by name/email/userName, status filter, cursor pages, detail with IdP rows, groups and events', async () => {
    const mk = async (userName, given, active = true) => {
      const res = await env.scim('POST', 'Users', {
        body: { schemas: [CORE_USER], userName, active, name: { givenName: given, familyName: 'Admin' },
                emails: [{ value: userName, primary: true }], title: 'as sent' },
      });
      assertStatus(res, 201, res.text);
      return res.body;
    };
    const u1 = await mk('ada@a.test', 'Ada');
    const u2 = await mk('grace@a.test', 'Grace', false);
    await mk('linus@a.test', 'Linus');
    const g = await env.scim('POST', 'Groups', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineers', members: [{ value: u1.id }] } });
    assertStatus(g, 201, g.text);

    const t = env.tenant.id;
    const byName = await call('GET', `/users?tenant=${t}&q=GRACE`);
    assertStatus(byName, 200);
    assert.deepEqual(byName.body.items.map((u) => u.id), [u2.id]);
    const byEmail = await call('GET', `/users?tenant=${t}&q=ada@a`);
    assert.deepEqual(byEmail.body.items.map((u) => u.id), [u1.id]);
    const inactive = await call('GET', `/users?tenant=${t}&status=deactivated`);
    assert.deepEqual(inactive.body.items.map((u) => u.id), [u2.id]);
    assertError(await call('GET', `/users?tenant=${t}&status=odd`), 400, 'invalid_request');
    const seen = [];
    let cursor = null;
    do {
      const page = await call('GET', `/users?tenant=${t}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assertStatus(page, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((u) => u.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);

    const alice = await signIn('alice@a.test');
    const d = await call('GET', `/users/${u1.id}`, { auth: alice });
    assertStatus(d, 200);
    assert.equal(d.body.username, 'ada@a.test');
    assert.equal(d.body.email, 'ada@a.test');
    assert.equal(d.body.given_name, 'Ada');
    assert.equal(d.body.status, 'active');
    assert.equal(d.body.idp_rows.length, 1);
    assert.equal(d.body.idp_rows[0].idp_id, env.idp.id);
    assert.equal(d.body.idp_rows[0].resource.title, 'as sent', 'the row as received');
    assert.deepEqual(d.body.groups.map((x) => x.display_name), ['Engineers']);
    assert.ok(d.body.events.some((e) => e.type.startsWith('scim_user')), JSON.stringify(d.body.events.map((e) => e.type)));
    // B's admin view: tenant A's user does not exist
    const userB = await B.scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'bee@b.test' } });
    assertError(await call('GET', `/users/${userB.body.id}`, { auth: alice }), 404, 'not_found');
    const aliceList = await call('GET', `/users?tenant=${tenantB.id}`, { auth: alice });
    assert.ok(aliceList.body.items.every((u) => u.tenant_id === t), 'an admin lists only its own tenant');

    const groups = await call('GET', `/idps/${env.idp.id}/groups`, { auth: alice });
    assertStatus(groups, 200);
    assert.deepEqual(groups.body.items.map((x) => x.id), [g.body.id]);
    const members = await call('GET', `/idps/${env.idp.id}/groups/${g.body.id}/members`, { auth: alice });
    assertStatus(members, 200);
    assert.deepEqual(members.body.items.map((m) => [m.user_id, m.user.id, m.user.username, m.user.status]),
                     [[u1.id, u1.id, u1.userName, 'active']], 'each member with the user as the list shows it');
    assertError(await call('GET', `/idps/${env.idp.id}/groups/nope/members`, { auth: alice }), 404, 'not_found');
    const group = await call('GET', `/idps/${env.idp.id}/groups/${g.body.id}`, { auth: alice });
    assertStatus(group, 200);
    assert.equal(group.body.display_name, g.body.displayName);
    assertError(await call('GET', `/idps/${env.idp.id}/groups/nope`, { auth: alice }), 404, 'not_found');

    // a non-ASCII name is found as written, in any ASCII case of the rest
    const elodie = await mk('elodie@a.test', 'Élodie');
    for (const q of ['Élodie', 'ÉLODIE', 'lodie']) {
      const found = await call('GET', `/users?tenant=${t}&q=${encodeURIComponent(q)}`);
      assert.deepEqual(found.body.items.map((u) => u.id), [elodie.id], q);
    }
  });

  test('audit log: filters by tenant, IdP, type and subject; newest first; cursor pages', async () => {
    const byType = await call('GET', `/events?type=token_created&tenant=${env.tenant.id}`);
    assertStatus(byType, 200);
    assert.ok(byType.body.items.length >= 1);
    assert.ok(byType.body.items.every((e) => e.type === 'token_created' && e.tenant_id === env.tenant.id));
    const byIdp = await call('GET', `/events?idp=${B.idp.id}`);
    assert.ok(byIdp.body.items.length >= 1 && byIdp.body.items.every((e) => e.idp_id === B.idp.id));
    const bySubject = await call('GET', `/events?subject=${env.token.id}`);
    assert.ok(bySubject.body.items.every((e) => e.subject_id === env.token.id));
    const all = [];
    let cursor = null;
    for (let i = 0; i < 200; i++) {
      const page = await call('GET', `/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assertStatus(page, 200);
      all.push(...page.body.items.map((e) => e.seq));
      cursor = page.body.next_cursor;
      if (!cursor) break;
    }
    assert.ok(all.length > 7);
    for (let i = 1; i < all.length; i++) assert.ok(all[i] < all[i - 1], 'newest first, no repeats');
    assertError(await call('GET', '/events?cursor=garbage'), 400, 'invalid_cursor');
    // the live tail refuses a bad cursor before streaming (events_feed.test.mjs streams)
    assertError(await call('GET', '/events/stream?after=garbage'), 400, 'invalid_cursor');
    // an admin of tenant A sees only A's events
    const alice = await signIn('alice@a.test');
    const mine = await call('GET', `/events?tenant=${tenantB.id}&limit=200`, { auth: alice });
    assert.ok(mine.body.items.every((e) => e.tenant_id === env.tenant.id));
  });

  test('setup link: admin create without a password prints a link valid once', async () => {
    const r = cliRaw(env.db, ['admin', 'create', '--email', 'newbie@a.test', '--tenant', env.tenant.id,
                              '--public-url', env.server.url]);
    assert.equal(r.status, 0, r.stderr);
    const m = r.stdout.match(/(http:\/\/\S+\/admin\/setup#([0-9A-Za-z]{43}))/);
    assert.ok(m, r.stdout);
    assertError(await call('POST', '/session', { auth: null, body: { email: 'newbie@a.test', password: PASSWORD } }), 401, 'unauthorized', 'no password yet');
    assertError(await call('POST', '/setup', { auth: null, body: { token: m[2], password: 'short' } }), 400, 'invalid_request');
    assertStatus(await call('POST', '/setup', { auth: null, body: { token: m[2], password: PASSWORD } }), 204);
    assertError(await call('POST', '/setup', { auth: null, body: { token: m[2], password: PASSWORD } }), 404, 'not_found', 'used twice');
    await signIn('newbie@a.test');
    const list = cli(env.db, 'admin', 'list');
    assert.ok(list.find((a) => a.email === 'newbie@a.test').password_set);
    assert.ok(!JSON.stringify(list).includes('$argon2'), 'no hashes printed');
  });

  test('admin reset: a new setup link replaces a lost or expired one; using it ends the old sessions', async () => {
    makeAdmin('forgetful@a.test', '--role', 'admin', '--tenant', env.tenant.id);
    const before = await signIn('forgetful@a.test');
    const linkOf = (r) => {
      assert.equal(r.status, 0, r.stderr);
      const m = r.stdout.match(/admin forgetful@a\.test \(admin\) reset\nsetup link, valid until \S+ \(shown once\):\n(http:\/\/\S+\/admin\/setup#([0-9A-Za-z]{43}))/);
      assert.ok(m, r.stdout);
      return m[2];
    };
    const reset = ['admin', 'reset', '--email', 'FORGETFUL@a.test', '--public-url', env.server.url];
    const first = linkOf(cliRaw(env.db, reset, { json: false }));
    const second = linkOf(cliRaw(env.db, reset, { json: false }));
    assertError(await call('POST', '/setup', { auth: null, body: { token: first, password: PASSWORD } }), 404, 'not_found',
                'the earlier link is replaced');
    assertStatus(await call('GET', '/session', { auth: before }), 200, 'the old password and session work until the link is used');
    const NEW = `${PASSWORD} two`;
    assertStatus(await call('POST', '/setup', { auth: null, body: { token: second, password: NEW } }), 204);
    assert.equal((await call('GET', '/session', { auth: before })).status, 401, 'sessions of the old password ended');
    assertError(await call('POST', '/session', { auth: null, body: { email: 'forgetful@a.test', password: PASSWORD } }), 401,
                'unauthorized', 'old password');
    await signIn('forgetful@a.test', NEW);
    const ev = audit(env.db, { type: 'admin_setup_link_issued' });
    assert.equal(ev.length, 2);
    assert.ok(!JSON.stringify(ev).includes(second), 'the link is not in the audit log');
    const unknown = cliRaw(env.db, ['admin', 'reset', '--email', 'nobody@a.test'], { json: false });
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /no admin with email 'nobody@a\.test'/);
  });

  test('bad input: clear 4xx errors, never 5xx', async () => {
    const paths = ['/tenants', '/idps', `/idps/${env.idp.id}/tokens`, '/setup', '/session'];
    const post = (p, b) => call('POST', p, { auth: p === '/setup' || p === '/session' ? null : root, body: b,
                                             headers: { 'Content-Type': 'application/json' } });
    for (const b of ['', 'null', '{', '"x"', '[]', '{"name":7,"vendor":7,"email":7,"password":7,"token":7}',
                     `{"name":"${'x'.repeat(300)}","vendor":"okta","email":"x","password":"y","token":"z"}`,
                     '{"name":"a\\u0001b","vendor":"okta","email":"a\\u0000@b","password":"p","token":"t"}']) {
      for (const p of paths) {
        const res = await post(p, b);
        assert.ok(res.status >= 400 && res.status < 500, `${p} ${b}: ${res.status} ${res.text}`);
      }
    }
    assertError(await post('/idps', { tenant_id: 'nope', name: 'x', vendor: 'okta' }), 404, 'not_found');
    assertError(await post('/idps', { tenant_id: env.tenant.id, name: 'x', vendor: 'mystery' }), 400, 'invalid_request');
    for (const p of ['/users', '/users?tenant=nope', `/users/${'9'.repeat(40)}`, '/idps/x%00y', '/events?limit=-1',
                     '/events?cursor=99999999999999999999999', '/tenants?cursor=%01', `/idps/${env.idp.id}/groups?cursor=zzz`,
                     '/users?tenant=x&limit=201']) {
      const res = await call('GET', p);
      assert.ok(res.status < 500, `${p}: ${res.status} ${res.text}`);
    }
  });

  test('unknown endpoints and methods', async () => {
    assertError(await call('GET', '/nope'), 404, 'not_found');
    assertError(await call('PUT', '/tenants', { body: {} }), 405, 'method_not_allowed');
    assertError(await http('GET', `${env.server.url}/admin/api/v2/tenants`).then((r) => ({ ...r })), 404, 'not_found');
  });

  test('users list: q is a literal substring (% and _ match only themselves), filters combine with cursor pages', async () => {
    const t = env.tenant.id;
    for (const n of ['pct_1@list.test', 'pct-2@list.test', 'pct-3@list.test']) {
      assertStatus(await env.scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: n, active: n !== 'pct-3@list.test' } }), 201);
    }
    const under = await call('GET', `/users?tenant=${t}&q=${encodeURIComponent('pct_')}`);
    assert.deepEqual(under.body.items.map((u) => u.username), ['pct_1@list.test'], '_ is not a wildcard');
    const pct = await call('GET', `/users?tenant=${t}&q=${encodeURIComponent('%')}`);
    assert.deepEqual(pct.body.items, [], '% is not a wildcard');
    const seen = [];
    let cursor = null;
    do {
      const page = await call('GET', `/users?tenant=${t}&q=PCT&status=active&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assertStatus(page, 200);
      assert.ok(page.body.items.length <= 1);
      seen.push(...page.body.items.map((u) => u.username));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, ['pct_1@list.test', 'pct-2@list.test']);
    const byIdp = await call('GET', `/users?tenant=${t}&idp=${B.idp.id}&q=pct`);
    assert.deepEqual(byIdp.body.items, [], 'no rows of that connection');
    assertError(await call('GET', `/users?tenant=${t}&cursor=nonsense`), 400, 'invalid_cursor');
  });

  test('IdP connections: PATCH renames and disables, honouring If-Match (412 when stale); audited like the CLI', async () => {
    const alice = await signIn('alice@a.test');
    const x = env.addIdp(env.tenant.id, 'generic', uniq('to rename '));
    const got = await call('GET', `/idps/${x.idp.id}`, { auth: alice });
    assertStatus(got, 200);
    const etag = etagOf(got);
    assert.equal(got.body.disabled, false);
    const renamed = await call('PATCH', `/idps/${x.idp.id}`, { auth: alice, body: { name: 'Okta (production)' }, headers: { 'If-Match': etag } });
    assertStatus(renamed, 200, renamed.text);
    assert.equal(renamed.body.name, 'Okta (production)');
    assert.notEqual(etagOf(renamed), etag);
    assert.equal(etagOf(await call('GET', `/idps/${x.idp.id}`, { auth: alice })), etagOf(renamed));
    assertError(await call('PATCH', `/idps/${x.idp.id}`, { auth: alice, body: { disabled: true }, headers: { 'If-Match': etag } }),
      412, 'precondition_failed', 'stale ETag');
    assertStatus(await x.scim('GET', 'Users'), 200, 'the refused PATCH changed nothing');
    const off = await call('PATCH', `/idps/${x.idp.id}`, { auth: alice, body: { disabled: true }, headers: { 'If-Match': etagOf(renamed) } });
    assertStatus(off, 200, off.text);
    assert.equal(off.body.disabled, true);
    assert.equal((await x.scim('GET', 'Users')).status, 403, 'the kill switch holds');
    assertStatus(await call('PATCH', `/idps/${x.idp.id}`, { auth: alice, body: { disabled: false } }), 200);
    assertStatus(await x.scim('GET', 'Users'), 200);
    const listed = cli(env.db, 'idp', 'list', '--tenant', env.tenant.id).find((i) => i.id === x.idp.id);
    assert.equal(listed.name, 'Okta (production)', 'the CLI sees the new name');
    const ev = audit(env.db, { type: 'idp_renamed' }).find((e) => e.subject_id === x.idp.id);
    assert.deepEqual(ev.summary, { old: x.idp.name, new: 'Okta (production)' });
    assert.equal(ev.actor, `admin:${alice.res.body.admin.id}`);
    assert.ok(audit(env.db, { type: 'idp_disabled' }).some((e) => e.subject_id === x.idp.id));
    assert.ok(audit(env.db, { type: 'idp_enabled' }).some((e) => e.subject_id === x.idp.id));
    for (const body of [{ name: '' }, { disabled: 'yes' }, { vendor: 'okta' }, {}]) {
      assertError(await call('PATCH', `/idps/${x.idp.id}`, { auth: alice, body }), 400, 'invalid_request', JSON.stringify(body));
    }
    // the CLI's rename is the same directory function
    const viaCli = cli(env.db, 'idp', 'rename', '--idp', x.idp.id, '--name', 'Renamed by CLI');
    assert.equal(viaCli.name, 'Renamed by CLI');
    assert.equal((await call('GET', `/idps/${x.idp.id}`, { auth: alice })).body.name, 'Renamed by CLI');
  });

  test('mirroring and custom fields: show and set for the tenant and per IdP (users re-derived), ETags, same events as the CLI', async () => {
    const t = env.tenant.id;
    const mk = await env.scim('POST', 'Users', {
      body: { schemas: [CORE_USER, ENTERPRISE_USER], userName: 'mirror@a.test', displayName: 'Shown Name', nickName: 'Nick',
              [ENTERPRISE_USER]: { department: 'R&D' } },
    });
    assertStatus(mk, 201, mk.text);
    const shown = await call('GET', `/tenants/${t}/mirroring`);
    assertStatus(shown, 200);
    const etag = etagOf(shown);
    assert.equal(shown.body.fields.find((f) => f.field === 'display_name').path, 'displayName');

    const f = await call('POST', `/tenants/${t}/fields`, { body: { name: 'department' } });
    assertStatus(f, 201, f.text);
    assert.equal(f.body.type, 'string');
    assertError(await call('POST', `/tenants/${t}/fields`, { body: { name: 'department' } }), 409, 'conflict');
    assertError(await call('POST', `/tenants/${t}/fields`, { body: { name: 'Bad Name' } }), 400, 'invalid_request');
    assertError(await call('POST', `/tenants/${t}/fields`, { body: { name: 'n', type: 'blob' } }), 400, 'invalid_request');
    assertError(await call('POST', `/tenants/${t}/fields`, { body: { name: 'n', type: 7 } }), 400, 'invalid_request');
    // a field was declared since: the mapping read before is stale
    const path = `${ENTERPRISE_USER}:department`;
    assertError(await call('PUT', `/tenants/${t}/mirroring/department`, { body: { path }, headers: { 'If-Match': etag } }),
      412, 'precondition_failed');
    const now = await call('GET', `/tenants/${t}/mirroring`);
    const set = await call('PUT', `/tenants/${t}/mirroring/department`, { body: { path }, headers: { 'If-Match': etagOf(now) } });
    assertStatus(set, 202, set.text);
    assert.equal(set.body.job.state, 'running', set.text);
    assert.ok(set.body.job.total >= 1, set.text);
    assert.equal(set.body.mapping.fields.find((x) => x.field === 'department').path, path);
    assert.equal(etagOf(set), etagOf(await call('GET', `/tenants/${t}/mirroring`)), 'the answer carries the new ETag');
    const job = await rederived(t, set.body.job.id);
    assert.ok(job.done >= 1 && job.changed >= 1, JSON.stringify(job));
    assertError(await call('GET', `/tenants/${t}/rederive?job=nope`), 404, 'not_found');
    assert.equal((await call('GET', `/users/${mk.body.id}`)).body.custom_fields.department, 'R&D', 're-derived');
    const changed = audit(env.db, { type: 'mirroring_changed' }).filter((e) => e.tenant_id === t);
    assert.ok(changed.some((e) => e.summary.field === 'department' && e.actor === `admin:${root.res.body.admin.id}`));
    assert.ok(audit(env.db, { type: 'users_rederived' }).some((e) => e.tenant_id === t));

    // per IdP connection
    const idpSet = await call('PUT', `/idps/${env.idp.id}/mirroring/display_name`, { body: { path: 'nickName' } });
    assertStatus(idpSet, 202, idpSet.text);
    await rederived(t, idpSet.body.job.id);
    const viaIdp = await call('GET', `/idps/${env.idp.id}/mirroring`);
    assertStatus(viaIdp, 200);
    etagOf(viaIdp);
    const dn = viaIdp.body.fields.find((x) => x.field === 'display_name');
    assert.deepEqual([dn.path, dn.source], ['nickName', 'idp']);
    assert.equal((await call('GET', `/users/${mk.body.id}`)).body.display_name, 'Nick');
    assert.equal((await call('GET', `/tenants/${t}/mirroring`)).body.fields.find((x) => x.field === 'display_name').source,
      'default', 'the tenant-wide mapping is unchanged');
    assert.deepEqual(cli(env.db, 'mirror', 'show', '--tenant', t, '--idp', env.idp.id), viaIdp.body, 'the CLI shows the same');
    assertError(await call('PUT', `/idps/${env.idp.id}/mirroring/display_name`, { body: { path: 'displayName' }, headers: { 'If-Match': STALE } }),
      412, 'precondition_failed');
    for (const [p, body] of [['display_name', { path: 'noSuchAttribute' }], ['nofield', { path: 'displayName' }],
      ['display_name', {}], ['display_name', { path: 7 }], ['display_name', { path: 'name' }], ['display_name', { path: 'x', extra: 1 }]]) {
      assertError(await call('PUT', `/tenants/${t}/mirroring/${p}`, { body }), 400, 'invalid_request', `${p} ${JSON.stringify(body)}`);
    }
    assertStatus(await call('PUT', `/idps/${env.idp.id}/mirroring/display_name`, { body: { path: 'displayName' } }), 202);

    // fields: list, get with ETag, delete honouring If-Match
    const list = await call('GET', `/tenants/${t}/fields`);
    assert.deepEqual(list.body.items.map((x) => x.name), ['department']);
    const one = await call('GET', `/tenants/${t}/fields/department`);
    assertStatus(one, 200);
    assertError(await call('DELETE', `/tenants/${t}/fields/department`, { headers: { 'If-Match': STALE } }), 412, 'precondition_failed');
    assertStatus(await call('DELETE', `/tenants/${t}/fields/department`, { headers: { 'If-Match': etagOf(one) } }), 204);
    assertError(await call('GET', `/tenants/${t}/fields/department`), 404, 'not_found');
    assertError(await call('DELETE', `/tenants/${t}/fields/department`), 404, 'not_found');
    assert.equal((await call('GET', `/users/${mk.body.id}`)).body.custom_fields.department, undefined, 'values go with the field');
    assert.ok(!(await call('GET', `/tenants/${t}/mirroring`)).body.fields.some((x) => x.field === 'department'));
    assert.ok(audit(env.db, { type: 'custom_field_removed' }).some((e) => e.summary.name === 'department'));
    // the CLI's remove is the same function
    cli(env.db, 'field', 'add', '--tenant', t, '--name', 'cost_center');
    cli(env.db, 'field', 'remove', '--tenant', t, '--name', 'cost_center');
    assert.deepEqual((await call('GET', `/tenants/${t}/fields`)).body.items, []);
  });

  test('extension schemas through the API: declared, listed, in /Schemas, validated on SCIM', async () => {
    const t = env.tenant.id;
    const EXT = 'urn:example:params:scim:schemas:extension:adminapi:2.0:User';
    const made = await call('POST', `/tenants/${t}/schemas`, {
      body: { urn: EXT, attributes: [{ name: 'badge', type: 'integer' }, { name: 'site', type: 'string' }] },
    });
    assertStatus(made, 201, made.text);
    assert.equal(made.body.id, EXT);
    assert.deepEqual(made.body.attributes.map((a) => a.name).sort(), ['badge', 'site']);
    assertError(await call('POST', `/tenants/${t}/schemas`, { body: { urn: EXT, attributes: [{ name: 'x', type: 'string' }] } }), 409, 'conflict');
    for (const body of [{ urn: 'urn:example:x:User', attributes: [] }, { urn: 'urn:example:x:User', attributes: [{ name: 'a', type: 'blob' }] },
      { urn: 'urn:example:x:User', attributes: [{ name: 'a:b', type: 'string' }] }, { urn: 'not a urn', attributes: [{ name: 'a', type: 'string' }] },
      { attributes: [{ name: 'a', type: 'string' }] }, { urn: 'urn:example:x:User', attributes: 'a:string' }]) {
      assertError(await call('POST', `/tenants/${t}/schemas`, { body }), 400, 'invalid_request', JSON.stringify(body));
    }
    const list = await call('GET', `/tenants/${t}/schemas`);
    assertStatus(list, 200);
    assert.deepEqual(list.body.items.map((x) => x.id), [EXT]);
    const schemas = await env.scim('GET', 'Schemas');
    assert.ok(schemas.body.Resources.some((x) => x.id === EXT), 'in /Schemas');
    const ok = await env.scim('POST', 'Users', { body: { schemas: [CORE_USER, EXT], userName: 'badge@a.test', [EXT]: { badge: 7 } } });
    assertStatus(ok, 201, ok.text);
    const bad = await env.scim('POST', 'Users', { body: { schemas: [CORE_USER, EXT], userName: 'badge2@a.test', [EXT]: { badge: 'seven' } } });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(audit(env.db, { type: 'tenant_schema_added' }).some((e) => e.summary.urn === EXT));
  });

  test('roles through the API: create, map a group (members hold it), unmap, delete; ETags; same events as the CLI', async () => {
    const t = env.tenant.id;
    const u = (await env.scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'role-holder@a.test' } })).body;
    const g = (await env.scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'Editors', members: [{ value: u.id }] } })).body;
    const role = await call('POST', `/tenants/${t}/roles`, { body: { name: 'editor' } });
    assertStatus(role, 201, role.text);
    assert.deepEqual(role.body.groups, []);
    assertError(await call('POST', `/tenants/${t}/roles`, { body: { name: 'EDITOR' } }), 409, 'conflict');
    assertError(await call('POST', `/tenants/${t}/roles`, { body: { name: '' } }), 400, 'invalid_request');
    assertError(await call('POST', `/tenants/${t}/roles`, { body: { name: 'x', groups: [] } }), 400, 'invalid_request');
    const got = await call('GET', `/tenants/${t}/roles/${role.body.id}`);
    assertStatus(got, 200);
    const mapped = await call('PUT', `/tenants/${t}/roles/${role.body.id}/groups/${g.id}`, { headers: { 'If-Match': etagOf(got) } });
    assertStatus(mapped, 200, mapped.text);
    assert.deepEqual(mapped.body.groups.map((x) => x.id), [g.id]);
    assertError(await call('PUT', `/tenants/${t}/roles/${role.body.id}/groups/${g.id}`, { headers: { 'If-Match': etagOf(got) } }),
      412, 'precondition_failed', 'the role changed');
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, ['editor']);
    assert.ok(audit(env.db, { type: 'role_mapped' }).some((e) => e.subject_id === role.body.id));
    assert.equal((await call('GET', `/tenants/${t}/roles/editor`)).body.id, role.body.id, 'by name too');
    assert.ok((await call('GET', `/tenants/${t}/roles`)).body.items.some((r) => r.id === role.body.id));
    assertError(await call('PUT', `/tenants/${t}/roles/${role.body.id}/groups/no-such-group`), 404, 'not_found');

    const unmapped = await call('DELETE', `/tenants/${t}/roles/${role.body.id}/groups/${g.id}`, { headers: { 'If-Match': etagOf(mapped) } });
    assertStatus(unmapped, 200, unmapped.text);
    assert.deepEqual(unmapped.body.groups, []);
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, []);
    assertError(await call('DELETE', `/tenants/${t}/roles/${role.body.id}/groups/${g.id}`), 404, 'not_found', 'not mapped');
    const changes = audit(env.db, { type: 'user_roles_changed' }).filter((e) => e.subject_id === u.id).map((e) => e.summary);
    assert.ok(changes.some((c) => c.new.join() === 'editor'));
    assert.ok(changes.some((c) => c.old.join() === 'editor' && c.new.length === 0));
    assert.ok(audit(env.db, { type: 'role_unmapped' }).some((e) => e.subject_id === role.body.id));

    // mapped again (group by displayName, role by name); deleting the role takes it from its holders
    assertStatus(await call('PUT', `/tenants/${t}/roles/editor/groups/Editors`), 200);
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, ['editor']);
    assertError(await call('DELETE', `/tenants/${t}/roles/${role.body.id}`, { headers: { 'If-Match': STALE } }), 412, 'precondition_failed');
    assertStatus(await call('DELETE', `/tenants/${t}/roles/${role.body.id}`), 204);
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, []);
    assertError(await call('GET', `/tenants/${t}/roles/${role.body.id}`), 404, 'not_found');
    assert.ok(audit(env.db, { type: 'role_deleted' }).some((e) => e.subject_id === role.body.id));
    assert.equal(sql(env.db, `SELECT COUNT(*) FROM role_groups WHERE role_id = '${role.body.id}'`), '0');

    // the CLI's unmap and delete are the same functions
    const r2 = cli(env.db, 'role', 'create', '--tenant', t, '--name', 'viewer');
    cli(env.db, 'role', 'map', '--role', r2.id, '--group', g.id);
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, ['viewer']);
    cli(env.db, 'role', 'unmap', '--role', r2.id, '--group', g.id);
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, []);
    cli(env.db, 'role', 'delete', '--role', 'viewer', '--tenant', t);
    assertError(await call('GET', `/tenants/${t}/roles/viewer`), 404, 'not_found');
  });

  test('a deleted group takes its role mappings along (no role_groups rows left behind)', async () => {
    const t = env.tenant.id;
    const u = (await env.scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'doomed-member@a.test' } })).body;
    const g = (await env.scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: uniq('Doomed '), members: [{ value: u.id }] } })).body;
    const r = await call('POST', `/tenants/${t}/roles`, { body: { name: uniq('doomed-role-') } });
    assertStatus(await call('PUT', `/tenants/${t}/roles/${r.body.id}/groups/${g.id}`), 200);
    assert.equal(sql(env.db, `SELECT COUNT(*) FROM role_groups WHERE group_id = '${g.id}'`), '1');
    assertStatus(await env.scim('DELETE', `Groups/${g.id}`), 204);
    assert.equal(sql(env.db, `SELECT COUNT(*) FROM role_groups WHERE group_id = '${g.id}'`), '0');
    assert.deepEqual((await call('GET', `/tenants/${t}/roles/${r.body.id}`)).body.groups, []);
    assert.deepEqual((await call('GET', `/users/${u.id}`)).body.roles, [], 'the member lost the role');
  });

  test("role limits on configuration routes: an admin of tenant A gets 404 for tenant B's; an auditor cannot write", async () => {
    const alice = await signIn('alice@a.test');
    const audrey = await signIn('audrey@a.test');
    const tB = tenantB.id;
    const roleB = await call('POST', `/tenants/${tB}/roles`, { body: { name: 'b-role' } });
    assertStatus(roleB, 201, roleB.text);
    assertStatus(await call('POST', `/tenants/${tB}/fields`, { body: { name: 'b_field' } }), 201);
    for (const [m, p, b] of [['GET', `/tenants/${tB}/mirroring`], ['PUT', `/tenants/${tB}/mirroring/display_name`, { path: 'nickName' }],
      ['GET', `/idps/${B.idp.id}/mirroring`], ['PUT', `/idps/${B.idp.id}/mirroring/display_name`, { path: 'nickName' }],
      ['PATCH', `/idps/${B.idp.id}`, { disabled: true }],
      ['GET', `/tenants/${tB}/fields`], ['POST', `/tenants/${tB}/fields`, { name: 'x' }], ['GET', `/tenants/${tB}/fields/b_field`],
      ['DELETE', `/tenants/${tB}/fields/b_field`], ['GET', `/tenants/${tB}/schemas`],
      ['POST', `/tenants/${tB}/schemas`, { urn: 'urn:example:b:User', attributes: [{ name: 'a', type: 'string' }] }],
      ['GET', `/tenants/${tB}/roles`], ['POST', `/tenants/${tB}/roles`, { name: 'x' }], ['GET', `/tenants/${tB}/roles/${roleB.body.id}`],
      ['DELETE', `/tenants/${tB}/roles/${roleB.body.id}`], ['PUT', `/tenants/${tB}/roles/${roleB.body.id}/groups/x`],
      ['DELETE', `/tenants/${tB}/roles/${roleB.body.id}/groups/x`],
      ['GET', `/tenants/${env.tenant.id}/roles/${roleB.body.id}`], ['DELETE', `/tenants/${env.tenant.id}/roles/${roleB.body.id}`]]) {
      assertError(await call(m, p, { auth: alice, body: b }), 404, 'not_found', `${m} ${p}`);
    }
    assertStatus(await B.scim('GET', 'Users'), 200, "B's connection was not disabled");
    assertStatus(await call('GET', `/tenants/${tB}/roles/${roleB.body.id}`), 200, 'still there');
    assertStatus(await call('GET', `/tenants/${tB}/fields/b_field`), 200, 'still there');

    const t = env.tenant.id;
    for (const p of [`/tenants/${t}/mirroring`, `/idps/${env.idp.id}/mirroring`, `/tenants/${t}/fields`, `/tenants/${t}/schemas`, `/tenants/${t}/roles`]) {
      assertStatus(await call('GET', p, { auth: audrey }), 200, `auditor reads ${p}`);
    }
    const roleA = await call('POST', `/tenants/${t}/roles`, { body: { name: 'a-role' } });
    for (const [m, p, b] of [['PUT', `/tenants/${t}/mirroring/display_name`, { path: 'nickName' }],
      ['PUT', `/idps/${env.idp.id}/mirroring/display_name`, { path: 'nickName' }], ['PATCH', `/idps/${env.idp.id}`, { disabled: true }],
      ['POST', `/tenants/${t}/fields`, { name: 'x' }], ['DELETE', `/tenants/${t}/fields/x`],
      ['POST', `/tenants/${t}/schemas`, { urn: 'urn:example:a:User', attributes: [{ name: 'a', type: 'string' }] }],
      ['POST', `/tenants/${t}/roles`, { name: 'x' }], ['DELETE', `/tenants/${t}/roles/${roleA.body.id}`],
      ['PUT', `/tenants/${t}/roles/${roleA.body.id}/groups/Engineers`], ['DELETE', `/tenants/${t}/roles/${roleA.body.id}/groups/Engineers`]]) {
      assertError(await call(m, p, { auth: audrey, body: b }), 403, 'forbidden', `auditor ${m} ${p}`);
    }
    assertStatus(await env.scim('GET', 'Users'), 200, 'the connection was not disabled');
    assertStatus(await call('GET', `/tenants/${t}/roles/${roleA.body.id}`), 200);
    assertError(await call('GET', '/tenants/no-such-tenant/roles'), 404, 'not_found');
  });

  test('apps and grants through the API: credential taken, never answered; show, status counts, disable, grants, retry, delete', async () => {
    const secret = `ds-secret-${uniq('k')}`;
    const body = { name: 'Slack', scim_url: 'http://127.0.0.1:9/scim/v2', token: secret };
    if (PG_URL) {
      // SQLite keeps a default key beside its file; on PostgreSQL there is none unless given
      assertError(await call('POST', '/apps', { body: { ...body, tenant_id: env.tenant.id } }), 409, 'no_key_file');
    }
    // the same database served again with a key, allowed to reach the fixture on loopback
    await env.server.stop();
    env.server = await startServer({ db: env.db, args: ['--key-file', path.join(env.dir, 'scimd-app.key'), '--outbound-allow-private'] });
    api = `${env.server.url}/admin/api/v1`;
    const scim = scimClient(`${env.server.url}/scim/v2/inbound/${env.idp.id}/`, env.token.token);
    const scimB = scimClient(`${env.server.url}/scim/v2/inbound/${B.idp.id}/`, B.token.token);
    const downstream = await startDownstream({ token: secret });
    try {
      const alice = await signIn('alice@a.test');
      const as = { auth: alice };
      const mk = await call('POST', '/apps', { ...as, body: { ...body, scim_url: downstream.base } });
      assertStatus(mk, 201, mk.text);
      const app = mk.body;
      assert.ok(!mk.text.includes(secret), 'the credential is never answered');
      assert.deepEqual([app.tenant_id, app.state, app.auth, app.token], [env.tenant.id, 'enabled', 'bearer', undefined]);
      assert.ok(!JSON.stringify(audit(env.db, { type: 'app_created' })).includes(secret), 'nor audited');
      assert.ok(!sql(env.db, `SELECT credential FROM apps WHERE id = '${app.id}'`).includes(secret), 'nor stored in clear');
      assertError(await call('POST', '/apps', { ...as, body: { ...body, scim_url: downstream.base } }), 409, 'conflict', 'name taken');
      for (const bad of [{ name: 'x', scim_url: 'ftp://x' }, { name: 'x', scim_url: downstream.base },
        { name: 'x', scim_url: downstream.base, token: secret, basic_user: 'u', password: 'p' },
        { name: 'x', scim_url: downstream.base, token: 7 }, { name: 'x', scim_url: downstream.base, token: secret, put_only: 'yes' },
        { name: 'x', scim_url: `http://user:pw@${downstream.base.slice(7)}`, token: secret },
        { name: 'x', scim_url: downstream.base, token: secret, deprovision: 'shred' }]) {
        assertError(await call('POST', '/apps', { ...as, body: bad }), 400, 'invalid_request', JSON.stringify(bad));
      }
      assertError(await call('POST', '/apps', { ...as, body: { ...body, name: 'y', ca_file: '/etc/passwd' } }), 403, 'forbidden', 'ca_file: super only');
      const basic = await call('POST', '/apps', { ...as, body: { name: 'Basic app', scim_url: downstream.base, basic_user: 'svc', password: secret } });
      assertStatus(basic, 201, basic.text);
      assert.equal(basic.body.basic_user, 'svc');
      assert.ok(!basic.text.includes(secret));

      const list = await call('GET', '/apps', as);
      assert.deepEqual(list.body.items.map((a) => a.id), [app.id, basic.body.id]);
      const page1 = await call('GET', '/apps?limit=1', as);
      assert.deepEqual(page1.body.items.map((a) => a.id), [app.id]);
      const page2 = await call('GET', `/apps?limit=1&cursor=${encodeURIComponent(page1.body.next_cursor)}`, as);
      assert.deepEqual(page2.body.items.map((a) => a.id), [basic.body.id]);
      const shown = await call('GET', `/apps/${app.id}`, as);
      assertStatus(shown, 200);
      const etag = etagOf(shown);

      // a group granted: its member is provisioned downstream, and the status counts it
      const u = (await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'fan@a.test', emails: [{ value: 'fan@a.test', primary: true }] } })).body;
      const g = (await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: uniq('App users '), members: [{ value: u.id }] } })).body;
      const gr = await call('POST', `/apps/${app.id}/grants`, { ...as, body: { kind: 'group', subject_id: g.id } });
      assertStatus(gr, 201, gr.text);
      assert.deepEqual([gr.body.kind, gr.body.subject_id, gr.body.idp_id], ['group', g.id, env.idp.id]);
      assertError(await call('POST', `/apps/${app.id}/grants`, { ...as, body: { kind: 'group', subject_id: g.id } }), 409, 'conflict');
      assertError(await call('POST', `/apps/${app.id}/grants`, { ...as, body: { kind: 'team', subject_id: g.id } }), 400, 'invalid_request');
      assertError(await call('POST', `/apps/${app.id}/grants`, { ...as, body: { kind: 'user' } }), 400, 'invalid_request');
      assertError(await call('POST', `/apps/${app.id}/grants`, { ...as, body: { kind: 'user', subject_id: 'nobody' } }), 404, 'not_found');
      const grants = await call('GET', `/apps/${app.id}/grants`, as);
      assert.deepEqual(grants.body.items.map((x) => [x.kind, x.subject_id]), [['group', g.id]]);
      const status = await eventually(async () => {
        const s = await call('GET', `/apps/${app.id}/status`, as);
        return s.body.counts.linked === 1 ? s : null;
      }, 'the member linked downstream');
      assert.equal(status.body.state, 'enabled');
      assert.match(status.body.last_success_at, TIME_RE);
      const remote = await downstream.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "fan@a.test"')}`);
      assert.equal(remote.body.Resources.length, 1);
      const fan = await call('GET', `/users/${remote.body.Resources[0].externalId}`, as);
      assert.deepEqual(fan.body.apps.map((a) => [a.app_id, a.account?.remote_id, a.account?.active]),
                       [[app.id, remote.body.Resources[0].id, true]], "the user's account in the app");
      // a change the app refuses shows in the status, with the user, until it goes through
      await downstream.setFaults({ rules: [{ method: 'PATCH', path: '^/Users/', count: 2, status: 500, detail: 'boom' }] });
      assertStatus(await scim('PATCH', `Users/${u.id}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Fan Two' }] } }), 200);
      const failing = await eventually(async () => {
        const s = await call('GET', `/apps/${app.id}/status`, as);
        return s.body.failing_jobs.length ? s.body.failing_jobs : null;
      }, 'the failing change listed');
      assert.deepEqual(failing.map((j) => [j.subject_id, j.kind, j.dead]), [[u.id, 'user', false]]);
      assert.ok(failing[0].attempts >= 1 && /500|boom/.test(failing[0].last_error), JSON.stringify(failing));
      await eventually(async () => (await call('GET', `/apps/${app.id}/status`, as)).body.failing_jobs.length === 0, 'it went through');
      const granted = await call('GET', `/idps/${env.idp.id}/groups/${g.id}`, as);
      assert.deepEqual(granted.body.grants.map((a) => [a.app_id, a.name]), [[app.id, 'Slack']], 'the group shows the app it is granted to');
      assert.ok(Array.isArray(granted.body.roles));

      // disable / enable, honouring If-Match
      assertError(await call('PATCH', `/apps/${app.id}`, { ...as, body: { state: 'disabled' }, headers: { 'If-Match': STALE } }), 412, 'precondition_failed');
      const off = await call('PATCH', `/apps/${app.id}`, { ...as, body: { state: 'disabled' }, headers: { 'If-Match': etag } });
      assertStatus(off, 200, off.text);
      assert.equal(off.body.state, 'disabled');
      assertError(await call('PATCH', `/apps/${app.id}`, { ...as, body: { state: 'disabled' }, headers: { 'If-Match': etag } }), 412, 'precondition_failed', 'the old ETag');
      for (const bad of [{ state: 'paused' }, { name: 'x' }, {}]) {
        assertError(await call('PATCH', `/apps/${app.id}`, { ...as, body: bad }), 400, 'invalid_request', JSON.stringify(bad));
      }
      assertStatus(await call('PATCH', `/apps/${app.id}`, { ...as, body: { state: 'enabled' } }), 200);
      const retry = await call('POST', `/apps/${app.id}/retry`, { ...as, body: {} });
      assertStatus(retry, 200, retry.text);
      assert.equal(retry.body.retried, 0, 'no dead letters');
      assertError(await call('POST', `/apps/${app.id}/retry`, { ...as, body: { user_id: 7 } }), 400, 'invalid_request');
      // a resync queues the granted member again and answers at once; the queue drains
      const resync = await call('POST', `/apps/${app.id}/resync`, { ...as, body: {} });
      assertStatus(resync, 202, resync.text);
      assert.equal(resync.body.queued, 1);
      // nothing held: nothing to allow (fanout.test.mjs holds and allows)
      assertError(await call('POST', `/apps/${app.id}/allow-deprovisions`, { ...as, body: {} }), 409, 'conflict');
      assert.ok(audit(env.db, { type: 'app_resync_started' }).some((e) => e.actor === `admin:${alice.res.body.admin.id}`));
      for (let i = 0; i < 100; i++) {
        if ((await call('GET', `/apps/${app.id}/status`, as)).body.counts.pending === 0) break;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      assert.equal((await call('GET', `/apps/${app.id}/status`, as)).body.counts.pending, 0, 'drained');

      assertStatus(await call('DELETE', `/apps/${app.id}/grants/group/${g.id}`, as), 204);
      assertError(await call('DELETE', `/apps/${app.id}/grants/group/${g.id}`, as), 404, 'not_found', 'twice');
      const cur = await call('GET', `/apps/${app.id}`, as);
      assertError(await call('DELETE', `/apps/${app.id}`, { ...as, headers: { 'If-Match': etag } }), 412, 'precondition_failed');
      assertStatus(await call('DELETE', `/apps/${app.id}`, { ...as, headers: { 'If-Match': etagOf(cur) } }), 204);
      assertError(await call('GET', `/apps/${app.id}`, as), 404, 'not_found');
      const me = `admin:${alice.res.body.admin.id}`;
      for (const type of ['app_created', 'app_disabled', 'app_enabled', 'app_grant_added', 'app_grant_removed', 'app_deleted']) {
        assert.ok(audit(env.db, { type }).some((e) => e.actor === me), `${type} by the admin`);
      }

      // role limits: an admin of tenant A never sees tenant B's app; an auditor cannot write
      const appB = await call('POST', '/apps', { body: { ...body, name: 'B app', tenant_id: tenantB.id, scim_url: downstream.base } });
      assertStatus(appB, 201, appB.text);
      assert.equal(appB.body.tenant_id, tenantB.id);
      for (const [m, p, b] of [['GET', `/apps/${appB.body.id}`], ['GET', `/apps/${appB.body.id}/status`], ['GET', `/apps/${appB.body.id}/grants`],
        ['PATCH', `/apps/${appB.body.id}`, { state: 'disabled' }], ['DELETE', `/apps/${appB.body.id}`], ['POST', `/apps/${appB.body.id}/retry`, {}],
        ['POST', `/apps/${appB.body.id}/resync`, {}],
        ['POST', `/apps/${appB.body.id}/grants`, { kind: 'group', subject_id: g.id }], ['DELETE', `/apps/${appB.body.id}/grants/group/${g.id}`]]) {
        assertError(await call(m, p, { ...as, body: b }), 404, 'not_found', `${m} ${p}`);
      }
      assert.deepEqual((await call('GET', `/apps?tenant=${tenantB.id}`, as)).body.items.map((a) => a.id), [basic.body.id], 'only its own tenant');
      assertError(await call('POST', `/apps/${basic.body.id}/grants`, { ...as, body: { kind: 'group', subject_id: (await scimB('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'B group' } })).body.id } }),
        404, 'not_found', "B's group granted to A's app");
      const audrey = await signIn('audrey@a.test');
      const ro = { auth: audrey };
      assertStatus(await call('GET', `/apps/${basic.body.id}`, ro), 200);
      assertStatus(await call('GET', `/apps/${basic.body.id}/status`, ro), 200);
      for (const [m, p, b] of [['POST', '/apps', { ...body, name: 'z' }], ['PATCH', `/apps/${basic.body.id}`, { state: 'disabled' }],
        ['DELETE', `/apps/${basic.body.id}`], ['POST', `/apps/${basic.body.id}/retry`, {}], ['POST', `/apps/${basic.body.id}/resync`, {}],
        ['POST', `/apps/${basic.body.id}/grants`, { kind: 'user', subject_id: u.id }], ['DELETE', `/apps/${basic.body.id}/grants/user/${u.id}`]]) {
        assertError(await call(m, p, { ...ro, body: b }), 403, 'forbidden', `auditor ${m} ${p}`);
      }
    } finally {
      await downstream.stop();
    }
  });

  test('webhooks through the API: secret answered once, detail with counts and log, disable, replay, delete, role limits', async () => {
    const alice = await signIn('alice@a.test');
    const as = { auth: alice };
    const mk = await call('POST', '/webhooks', { ...as, body: { url: 'http://127.0.0.1:9/hook', events: 'scim_user_*' } });
    assertStatus(mk, 201, mk.text);
    const hook = mk.body;
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/=]+$/);
    assert.deepEqual([hook.tenant_id, hook.format, hook.delivery, hook.state], [env.tenant.id, 'json', 'push', 'enabled']);
    const shown = await call('GET', `/webhooks/${hook.id}`, as);
    assertStatus(shown, 200);
    assert.equal(shown.body.secret, undefined, 'never the secret again');
    assert.ok(!shown.text.includes(hook.secret) && !JSON.stringify(audit(env.db, {})).includes(hook.secret));
    assert.deepEqual(Object.keys(shown.body.counts).sort(), ['dead', 'pending']);
    assert.ok(Array.isArray(shown.body.deliveries) && Array.isArray(shown.body.dead_letters));
    const list = await call('GET', `/webhooks?tenant=${env.tenant.id}`, as);
    assert.ok(list.body.items.some((w) => w.id === hook.id && w.secret === undefined));

    const poll = await call('POST', '/webhooks', { ...as, body: { poll: true, format: 'set' } });
    assertStatus(poll, 201, poll.text);
    assert.equal(poll.body.delivery, 'poll');
    assert.match(poll.body.poll_token, TOKEN_RE);
    assert.ok(poll.body.poll_url.endsWith(`/events/v1/poll/${poll.body.id}`));
    for (const bad of [{}, { url: 'http://x.test/h', poll: true, format: 'set' }, { url: 7 }, { poll: 'yes' }, { url: 'ftp://x.test/h' }]) {
      const res = await call('POST', '/webhooks', { ...as, body: bad });
      assert.ok(res.status === 400, `${JSON.stringify(bad)}: ${res.status} ${res.text}`);
    }

    // disable / enable with If-Match; replay; delete
    const etag = shown.headers.get('etag');
    assert.ok(etag);
    assertError(await call('PATCH', `/webhooks/${hook.id}`, { ...as, body: { state: 'disabled' }, headers: { 'If-Match': STALE } }), 412, 'precondition_failed');
    const off = await call('PATCH', `/webhooks/${hook.id}`, { ...as, body: { state: 'disabled' }, headers: { 'If-Match': etag } });
    assertStatus(off, 200, off.text);
    assert.equal(off.body.state, 'disabled');
    assertError(await call('PATCH', `/webhooks/${hook.id}`, { ...as, body: { url: 'x' } }), 400, 'invalid_request');
    const replay = await call('POST', `/webhooks/${hook.id}/replay`, { ...as, body: { dead: true } });
    assertStatus(replay, 200, replay.text);
    assert.equal(replay.body.queued, 0);
    assertError(await call('POST', `/webhooks/${hook.id}/replay`, { ...as, body: {} }), 400, 'invalid_request');

    // role limits: tenant B's subscription is invisible to A's admin; an auditor cannot write
    const hookB = await call('POST', '/webhooks', { body: { tenant_id: tenantB.id, poll: true, format: 'set' } });
    assertStatus(hookB, 201, hookB.text);
    for (const [m, p, b] of [['GET', `/webhooks/${hookB.body.id}`], ['PATCH', `/webhooks/${hookB.body.id}`, { state: 'disabled' }],
      ['DELETE', `/webhooks/${hookB.body.id}`], ['POST', `/webhooks/${hookB.body.id}/replay`, { dead: true }]]) {
      assertError(await call(m, p, { ...as, body: b }), 404, 'not_found', `${m} ${p}`);
    }
    assert.ok((await call('GET', '/webhooks', as)).body.items.every((w) => w.tenant_id === env.tenant.id), 'only its own tenant');
    const ro = { auth: await signIn('audrey@a.test') };
    assertStatus(await call('GET', `/webhooks/${hook.id}`, ro), 200);
    for (const [m, p, b] of [['POST', '/webhooks', { poll: true, format: 'set' }], ['PATCH', `/webhooks/${hook.id}`, { state: 'enabled' }],
      ['DELETE', `/webhooks/${hook.id}`], ['POST', `/webhooks/${hook.id}/replay`, { dead: true }]]) {
      assertError(await call(m, p, { ...ro, body: b }), 403, 'forbidden', `auditor ${m} ${p}`);
    }
    const cur = await call('GET', `/webhooks/${hook.id}`, as);
    assertStatus(await call('DELETE', `/webhooks/${hook.id}`, { ...as, headers: { 'If-Match': cur.headers.get('etag') } }), 204);
    assertError(await call('GET', `/webhooks/${hook.id}`, as), 404, 'not_found');
    const me = `admin:${alice.res.body.admin.id}`;
    for (const type of ['webhook_created', 'webhook_disabled', 'webhook_replayed', 'webhook_deleted']) {
      assert.ok(audit(env.db, { type }).some((e) => e.actor === me), `${type} by the admin`);
    }
  });

  test('If-Match is checked inside the change: of PATCHes sent at once with one ETag, exactly one lands, the others get 412', async () => {
    const alice = await signIn('alice@a.test');
    const as = { auth: alice };
    const x = env.addIdp(env.tenant.id, 'generic', uniq('raced '));
    const app = await call('POST', '/apps', { ...as, body: { name: uniq('Raced app '), scim_url: 'http://127.0.0.1:9/scim/v2', token: 'raced-secret' } });
    assertStatus(app, 201, app.text);
    const hook = await call('POST', '/webhooks', { ...as, body: { poll: true, format: 'set' } });
    assertStatus(hook, 201, hook.text);
    const AT_ONCE = 4;
    const objects = [
      { path: `/idps/${x.idp.id}`, body: (round, i) => ({ name: `Raced ${round}.${i}` }), shows: (res, b) => res.body.name === b.name },
      { path: `/apps/${app.body.id}`, body: (round) => ({ state: round % 2 ? 'enabled' : 'disabled' }), shows: (res, b) => res.body.state === b.state },
      { path: `/webhooks/${hook.body.id}`, body: (round) => ({ state: round % 2 ? 'enabled' : 'disabled' }), shows: (res, b) => res.body.state === b.state },
    ];
    for (const o of objects) {
      for (let round = 0; round < 4; round++) {
        const before = await call('GET', o.path, as);
        assertStatus(before, 200, before.text);
        const bodies = Array.from({ length: AT_ONCE }, (_, i) => o.body(round, i));
        const answers = await Promise.all(bodies.map((body) =>
          call('PATCH', o.path, { ...as, body, headers: { 'If-Match': etagOf(before) } })));
        const won = answers.filter((res) => res.status === 200);
        assert.equal(won.length, 1, `${o.path} round ${round}: ${answers.map((res) => `${res.status} ${res.text}`).join(' | ')}`);
        for (const res of answers.filter((a) => a !== won[0])) assertError(res, 412, 'precondition_failed', `${o.path} round ${round}`);
        const after = await call('GET', o.path, as);
        assert.ok(o.shows(after, bodies[answers.indexOf(won[0])]), `the one that landed is what GET shows: ${after.text}`);
        assert.equal(etagOf(after), etagOf(won[0]));
      }
    }
    assertStatus(await call('DELETE', `/apps/${app.body.id}`, as), 204);
    assertStatus(await call('DELETE', `/webhooks/${hook.body.id}`, as), 204);
  });

  test('every route of the OpenAPI document was exercised', () => {
    const missing = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops)) {
        if (!hit.has(`${m.toUpperCase()} ${p}`)) missing.push(`${m.toUpperCase()} ${p}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  // Last: it locks out this client address for every account.
  test('throttling per source address: 20 failures lock the address for every account', async () => {
    for (let i = 0; i < 20; i++) {
      await call('POST', '/session', { auth: null, body: { email: `spray${i}@a.test`, password: 'guess guess guess' } });
    }
    const res = await call('POST', '/session', { auth: null, body: { email: 'root@admin.test', password: PASSWORD } });
    assertError(res, 429, 'throttled', 'locked address');
  });
});
