// SPDX-License-Identifier: Apache-2.0
// Token lifecycle and connection access (issue #15 item 4): expiry with a
// clear 401, rotation with an overlap, expiry warnings and the last-used
// address in `token list`, the per-connection IP allowlist (403 from other
// addresses) and the kill switch (`idp disable`: 403 on every call, data
// kept, `idp enable` restores).  Changes are made by the CLI, a separate
// process, while the server runs: they must hold from its next request, on
// SQLite and on PostgreSQL (where the server caches IdP rows).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, cli, cliRaw, audit, scimClient, startServer, uniq, assertStatus, assertScimError, assert401,
  CORE_USER, TOKEN_RE, TIME_RE,
} from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('token lifecycle and connection access', { timeout: 120_000 }, () => {
  let env;

  before(async () => { env = await setup({ vendor: 'okta' }); });
  after(async () => { if (env) await env.cleanup(); });

  const newUser = () => {
    const n = uniq('tk');
    return { schemas: [CORE_USER], userName: `${n}@tokens.test`, externalId: n,
             emails: [{ value: `${n}@tokens.test`, primary: true }] };
  };
  const tokens = (idp) => cli(env.db, 'token', 'list', '--idp', idp);

  test('a token created with --expires-in works until then, then gets 401 "token expired", audited', async () => {
    const t = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'short', '--expires-in', '2s');
    assert.match(t.token, TOKEN_RE);
    assert.match(t.expires_at, TIME_RE);
    const scim = scimClient(env.base, t.token);
    assertStatus(await scim('GET', 'Users?count=1'), 200, 'before expiry');
    const listed = tokens(env.idp.id).find((x) => x.id === t.id);
    assert.equal(listed.expires_soon, true, 'expiring within 14 days is flagged');
    assert.equal(listed.expired, false);
    const until = Date.parse(t.expires_at);
    while (Date.now() <= until + 50) await sleep(100);
    const res = await scim('GET', 'Users?count=1');
    assert401(res, 'after expiry');
    assert.equal(res.body.detail, 'token expired');
    assert.equal(tokens(env.idp.id).find((x) => x.id === t.id).expired, true);
    const failed = audit(env.db, { type: 'scim_auth_failed' });
    assert.ok(failed.some((e) => JSON.stringify(e).includes('token expired')), 'expiry is audited');
  });

  test('bad durations are usage errors', () => {
    for (const bad of ['0d', '90', 'd', '1w', '-1h', '9999999999d']) {
      const r = cliRaw(env.db, ['token', 'create', '--idp', env.idp.id, '--name', 'x', '--expires-in', bad]);
      assert.equal(r.status, 2, `--expires-in ${bad}: ${r.stderr}`);
    }
  });

  test('token list shows expires_at (null when never), expires_soon, and the last-used address', async () => {
    const long = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'long', '--expires-in', '90d');
    const never = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'never');
    assertStatus(await scimClient(env.base, never.token)('GET', 'Users?count=1'), 200);
    const list = tokens(env.idp.id);
    const l = list.find((x) => x.id === long.id);
    const n = list.find((x) => x.id === never.id);
    assert.equal(l.expires_soon, false, '90 days away is not soon');
    assert.match(l.expires_at, TIME_RE);
    assert.ok(Date.parse(l.expires_at) - Date.now() > 89 * 86400_000);
    assert.equal(n.expires_at, null);
    assert.equal(n.expires_soon, false);
    assert.match(n.last_used_at, TIME_RE);
    assert.equal(n.last_used_from, '127.0.0.1');
    const text = cliRaw(env.db, ['token', 'list', '--idp', env.idp.id], { json: false }).stdout;
    assert.match(text, /from 127\.0\.0\.1/);
  });

  test('rotate: the new token is printed once, the old one works during the overlap, then 401', async () => {
    const old = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'Okta production');
    const rotated = cli(env.db, 'token', 'rotate', old.id, '--overlap', '2s');
    assert.match(rotated.token, TOKEN_RE);
    assert.notEqual(rotated.id, old.id);
    assert.equal(rotated.name, 'Okta production (rotated)');
    assert.equal(rotated.idp_id, env.idp.id);
    const oldScim = scimClient(env.base, old.token);
    const newScim = scimClient(env.base, rotated.token);
    assertStatus(await oldScim('GET', 'Users?count=1'), 200, 'old token during the overlap');
    assertStatus(await newScim('POST', 'Users', { body: newUser() }), 201, 'new token');
    const until = Date.parse(tokens(env.idp.id).find((x) => x.id === old.id).expires_at);
    assert.ok(until - Date.now() <= 2500, 'the old token ends with the overlap');
    while (Date.now() <= until + 50) await sleep(100);
    const res = await oldScim('GET', 'Users?count=1');
    assert401(res, 'old token after the overlap');
    assert.equal(res.body.detail, 'token expired');
    assertStatus(await newScim('GET', 'Users?count=1'), 200, 'new token after the overlap');
    const ev = audit(env.db, { type: 'token_rotated' }).find((e) => e.subject_id === old.id);
    assert.ok(ev, 'token_rotated is audited');
    assert.ok(JSON.stringify(ev).includes(rotated.id), 'the event names the successor');
    assert.ok(!JSON.stringify(audit(env.db)).includes(rotated.token), 'no plaintext in the audit log');
    // a revoked token cannot be rotated
    cli(env.db, 'token', 'revoke', rotated.id);
    const r = cliRaw(env.db, ['token', 'rotate', rotated.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /revoked/);
  });

  test('allowlist: 10.0.0.0/8 refuses 127.0.0.1 with 403; adding 127.0.0.1/32 accepts it; --clear', async () => {
    const other = env.addIdp(env.tenant.id, 'generic');
    assertStatus(await other.scim('POST', 'Users', { body: newUser() }), 201);
    const set = cli(env.db, 'idp', 'allowlist', '--idp', other.idp.id, '--cidr', '10.0.0.0/8, 2001:db8::/32');
    assert.equal(set.allowlist, '10.0.0.0/8,2001:db8::/32');
    const res = await other.scim('GET', 'Users?count=1');
    assertScimError(res, 403);
    assert.match(res.body.detail, /127\.0\.0\.1 is not in this connection's IP allowlist/);
    const denied = audit(env.db, { type: 'scim_access_denied', idp: other.idp.id });
    assert.ok(denied.length >= 1, 'the refusal is audited');
    assert.equal(denied.at(-1).source, '127.0.0.1');
    assertStatus(await env.scim('GET', 'Users?count=1'), 200, 'other connections are not affected');

    cli(env.db, 'idp', 'allowlist', '--idp', other.idp.id, '--cidr', '10.0.0.0/8,127.0.0.1/32');
    assertStatus(await other.scim('GET', 'Users?count=1'), 200, 'allowed address');
    cli(env.db, 'idp', 'allowlist', '--idp', other.idp.id, '--clear');
    assertStatus(await other.scim('GET', 'Users?count=1'), 200, 'cleared');
    assert.equal(cli(env.db, 'idp', 'list').find((i) => i.id === other.idp.id).allowlist, null);

    for (const bad of ['10.0.0.1/8', '300.0.0.0/8', '10.0.0.0/33', 'nope', '', '2001:db8::/129']) {
      const r = cliRaw(env.db, ['idp', 'allowlist', '--idp', other.idp.id, '--cidr', bad]);
      assert.equal(r.status, 2, `--cidr '${bad}' is refused: ${r.stderr}`);
    }
  });

  test('kill switch: idp disable -> 403 on every call, data intact; idp enable restores', async () => {
    const conn = env.addIdp(env.tenant.id, 'entra');
    const created = await conn.scim('POST', 'Users', { body: newUser() });
    assertStatus(created, 201);
    const id = created.body.id;

    const off = cli(env.db, 'idp', 'disable', '--idp', conn.idp.id);
    assert.equal(off.changed, true);
    for (const [method, path, body] of [['GET', `Users/${id}`], ['GET', 'Users?count=5'],
      ['POST', 'Users', newUser()], ['DELETE', `Users/${id}`], ['GET', 'ServiceProviderConfig']]) {
      const res = await conn.scim(method, path, { body });
      assertScimError(res, 403, undefined, `${method} ${path} while disabled`);
      assert.equal(res.body.detail, 'this connection is disabled');
    }
    assertStatus(await env.scim('GET', 'Users?count=1'), 200, 'other connections keep working');
    assert.equal(cli(env.db, 'idp', 'list').find((i) => i.id === conn.idp.id).disabled, true);
    const bad = await conn.scim('GET', 'Users?count=1', { token: 'scimd_nope' });
    assert401(bad, 'an unknown token is still 401, not 403');

    assert.equal(cli(env.db, 'idp', 'disable', '--idp', conn.idp.id).changed, false, 'idempotent');
    cli(env.db, 'idp', 'enable', '--idp', conn.idp.id);
    const back = await conn.scim('GET', `Users/${id}`);
    assertStatus(back, 200, 'enabled again');
    assert.equal(back.body.userName, created.body.userName, 'nothing stored was lost');
    const types = audit(env.db, { idp: conn.idp.id }).map((e) => e.type);
    assert.ok(types.includes('idp_disabled') && types.includes('idp_enabled'));
    assert.ok(types.includes('scim_access_denied'));
  });

  test('refusals from outside the allowlist are throttled and aggregated like failed authentications', async () => {
    const conn = env.addIdp(env.tenant.id, 'generic');
    cli(env.db, 'idp', 'allowlist', '--idp', conn.idp.id, '--cidr', '10.0.0.0/8');
    const server = await startServer({ db: env.db, args: ['--auth-fail-limit', '3/60'] });
    const before = audit(env.db, { type: 'scim_access_denied', idp: conn.idp.id }).length;
    const beforeSummaries = audit(env.db, { type: 'scim_auth_failed' }).length;
    const scim = scimClient(`${server.url}/scim/v2/inbound/${conn.idp.id}/`, conn.token.token);
    const statuses = [];
    try {
      for (let i = 0; i < 10; i++) statuses.push((await scim('GET', 'Users?count=1')).status);
    } finally {
      await server.stop();
    }
    assert.deepEqual(statuses, [403, 403, 403, 429, 429, 429, 429, 429, 429, 429]);
    const recorded = audit(env.db, { type: 'scim_access_denied', idp: conn.idp.id }).length - before;
    assert.equal(recorded, 1, 'only the first refusal of the window is a row of its own');
    const summaries = audit(env.db, { type: 'scim_auth_failed' }).slice(beforeSummaries);
    assert.equal(summaries.length, 1, 'the rest is one summary event, written at stop');
    assert.match(JSON.stringify(summaries[0]), /repeated failed authentications/);
  });
});
