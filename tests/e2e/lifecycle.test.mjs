// SPDX-License-Identifier: Apache-2.0
// The lifecycle rules of spec.md ("Lifecycle", DESIGN.md §1): merge by
// externalId, userName uniqueness, adoption of existing tenant users,
// soft delete, deactivation/reactivation, ETags, PATCH atomicity, and the
// list/filter/pagination surface.  One server; every test uses its own
// user names so tests do not depend on each other.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, cli, audit, filterPath, qs, uniq, assertList, assertStatus, assertScimError,
  assertUserResource, assertSubsequence, CORE_USER, PATCH_OP,
} from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('lifecycle', { timeout: 300_000 }, () => {
  let env;
  let scim;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
  });
  after(async () => { if (env) await env.cleanup(); });

  const newUser = (over = {}) => {
    const n = uniq('lc');
    return {
      schemas: [CORE_USER],
      userName: `${n}@life.test`,
      name: { givenName: 'Given', familyName: n },
      emails: [{ value: `${n}@life.test`, type: 'work', primary: true }],
      ...over,
    };
  };
  const create = async (body) => {
    const res = await scim('POST', 'Users', { body });
    assertStatus(res, 201, `create ${body.userName}`);
    assertUserResource(res.body, env.base, 'created');
    return res.body;
  };
  const patch = (id, ops, headers) => scim('PATCH', `Users/${id}`,
    { body: { schemas: [PATCH_OP], Operations: ops }, headers });
  const setActive = async (id, active) => {
    const res = await patch(id, [{ op: 'replace', path: 'active', value: active }]);
    assertStatus(res, 200, `set active ${active}`);
    assert.equal(res.body.active, active);
    return res.body;
  };
  const tenantUsers = () => cli(env.db, 'user', 'list', '--tenant', env.tenant.id);
  const eventsAbout = (id) => audit(env.db, { idp: env.idp.id }).filter((e) => e.subject_id === id);

  describe('merge by externalId', () => {
    test('POST with a known externalId -> 201, same id, row updated, scim_user_merged', async () => {
      const ext = uniq('ext-');
      const first = await create(newUser({ externalId: ext }));
      const count = tenantUsers().length;
      const again = { ...newUser({ externalId: ext }), userName: first.userName,
                      name: { givenName: 'Merged', familyName: 'Again' } };
      const res = await scim('POST', 'Users', { body: again });
      assertStatus(res, 201, 'merge');
      assert.equal(res.body.id, first.id, 'merge keeps the id');
      assert.equal(res.body.name.givenName, 'Merged', 'row updated from the POST');
      assert.equal(res.body.active, true);
      assert.equal(res.body.meta.created, first.meta.created);
      assert.notEqual(res.body.meta.version, first.meta.version);
      assert.equal(res.headers.get('location'), `${env.base}Users/${first.id}`);
      const get = await scim('GET', `Users/${first.id}`);
      assert.equal(get.body.name.givenName, 'Merged');
      assert.equal(tenantUsers().length, count, 'no new tenant user');
      const types = eventsAbout(first.id).map((e) => e.type);
      assert.ok(types.includes('scim_user_merged'), JSON.stringify(types));
      assert.ok(!types.includes('scim_user_reactivated'), 'it was active: no reactivation event');
      assert.equal(cli(env.db, 'user', 'show', first.id).given_name, 'Merged');
    });

    test('merge with a different userName updates the userName of the same user', async () => {
      const ext = uniq('ext-');
      const first = await create(newUser({ externalId: ext }));
      const renamed = newUser({ externalId: ext });
      const res = await scim('POST', 'Users', { body: renamed });
      assertStatus(res, 201, 'merge rename');
      assert.equal(res.body.id, first.id);
      assert.equal(res.body.userName, renamed.userName);
      assert.equal(cli(env.db, 'user', 'show', first.id).username, renamed.userName);
    });

    test('merge revives a deactivated user: same id, active, merged + reactivated', async () => {
      const ext = uniq('ext-');
      const first = await create(newUser({ externalId: ext }));
      await setActive(first.id, false);
      assert.equal(cli(env.db, 'user', 'show', first.id).status, 'deactivated');
      const res = await scim('POST', 'Users', { body: { ...newUser({ externalId: ext }), userName: first.userName } });
      assertStatus(res, 201, 'merge deactivated');
      assert.equal(res.body.id, first.id);
      assert.equal(res.body.active, true);
      assert.equal(cli(env.db, 'user', 'show', first.id).status, 'active');
      const types = eventsAbout(first.id).map((e) => e.type);
      assertSubsequence(types, ['scim_user_created', 'scim_user_deactivated', 'scim_user_merged', 'scim_user_reactivated'],
        'events of the revived user');
    });

    test('merge revives a deleted user: same id and created, GET works again', async () => {
      const ext = uniq('ext-');
      const first = await create(newUser({ externalId: ext }));
      const count = tenantUsers().length;
      assertStatus(await scim('DELETE', `Users/${first.id}`), 204);
      assertScimError(await scim('GET', `Users/${first.id}`), 404);
      const res = await scim('POST', 'Users', { body: { ...newUser({ externalId: ext }), userName: first.userName } });
      assertStatus(res, 201, 'merge deleted');
      assert.equal(res.body.id, first.id, 'the deleted user comes back with its id');
      assert.equal(res.body.active, true);
      assert.equal(res.body.meta.created, first.meta.created);
      const get = await scim('GET', `Users/${first.id}`);
      assertStatus(get, 200, 'GET after revive');
      assert.equal(get.body.active, true);
      const found = assertList(await scim('GET', filterPath(`externalId eq "${ext}"`)));
      assert.equal(found.length, 1);
      assert.equal(found[0].id, first.id);
      assert.equal(tenantUsers().length, count);
      const shown = cli(env.db, 'user', 'show', first.id);
      assert.equal(shown.status, 'active');
      assert.equal(shown.idp_rows[0].deleted, false);
      const types = eventsAbout(first.id).map((e) => e.type);
      assertSubsequence(types, ['scim_user_created', 'scim_user_deleted', 'scim_user_merged', 'scim_user_reactivated'],
        'events of the revived user');
    });
  });

  describe('userName uniqueness', () => {
    const expectConflict = async (body, what) => {
      const count = tenantUsers().length;
      const res = await scim('POST', 'Users', { body });
      assertScimError(res, 409, 'uniqueness', what);
      assert.equal(tenantUsers().length, count, `${what}: no user created`);
    };

    test('same userName, different case, no externalId -> 409 + scim_conflict', async () => {
      const first = await create(newUser());
      const nConflicts = audit(env.db, { idp: env.idp.id, type: 'scim_conflict' }).length;
      await expectConflict({ ...newUser(), userName: first.userName.toUpperCase() }, 'upper-cased userName');
      const conflicts = audit(env.db, { idp: env.idp.id, type: 'scim_conflict' });
      assert.equal(conflicts.length, nConflicts + 1, 'one scim_conflict event');
      assert.equal(conflicts.at(-1).actor, `token:${env.token.id}`);
    });

    test('same userName with a new externalId -> 409 (existing has none, or another one)', async () => {
      const a = await create(newUser());
      await expectConflict({ ...newUser({ externalId: uniq('ext-') }), userName: a.userName }, 'new ext vs none');
      const b = await create(newUser({ externalId: uniq('ext-') }));
      await expectConflict({ ...newUser({ externalId: uniq('ext-') }), userName: b.userName.toUpperCase() }, 'ext vs ext');
    });

    test('userName of a deactivated user -> 409', async () => {
      const a = await create(newUser({ externalId: uniq('ext-') }));
      await setActive(a.id, false);
      await expectConflict({ ...newUser(), userName: a.userName }, 'deactivated, no ext');
      await expectConflict({ ...newUser({ externalId: uniq('ext-') }), userName: a.userName }, 'deactivated, new ext');
      const get = await scim('GET', `Users/${a.id}`);
      assert.equal(get.body.active, false, 'the conflict did not reactivate it');
    });

    test('userName of a deleted user (no externalId match) is free again', async () => {
      const a = await create(newUser());
      assertStatus(await scim('DELETE', `Users/${a.id}`), 204);
      const res = await scim('POST', 'Users', { body: { ...newUser(), userName: a.userName } });
      assertStatus(res, 201, 'reuse deleted userName');
    });

    test('PUT/PATCH renaming onto another user\'s userName -> 409 uniqueness', async () => {
      const a = await create(newUser());
      const b = await create(newUser());
      const r1 = await patch(b.id, [{ op: 'replace', path: 'userName', value: a.userName.toUpperCase() }]);
      assertScimError(r1, 409, 'uniqueness', 'PATCH rename');
      const r2 = await scim('PUT', `Users/${b.id}`, { body: { schemas: [CORE_USER], userName: a.userName } });
      assertScimError(r2, 409, 'uniqueness', 'PUT rename');
      const get = await scim('GET', `Users/${b.id}`);
      assert.equal(get.body.userName, b.userName);
    });
  });

  describe('adoption of existing tenant users', () => {
    test('admin-created user (no binding) is adopted by email: same id, scim_managed', async () => {
      const n = uniq('adm');
      const email = `${n}@adopt.test`;
      const admin = cli(env.db, 'user', 'create', '--tenant', env.tenant.id, '--email', email,
                        '--username', n, '--given-name', 'Ada', '--family-name', 'Admin');
      assert.equal(admin.scim_managed, false);
      assert.equal(admin.idp_id, null);
      const count = tenantUsers().length;
      const res = await scim('POST', 'Users', {
        body: {
          schemas: [CORE_USER],
          userName: `${n.toUpperCase()}@ADOPT.TEST`,
          emails: [{ value: email.toUpperCase(), type: 'work', primary: true }],
          name: { givenName: 'Ada', familyName: 'Admin' },
        },
      });
      assertStatus(res, 201, 'adopt');
      assert.equal(res.body.id, admin.id, 'adopted: the SCIM id is the existing user id');
      assert.equal(tenantUsers().length, count, 'no duplicate user');
      const shown = cli(env.db, 'user', 'show', admin.id);
      assert.equal(shown.scim_managed, true);
      assert.equal(shown.created_at, admin.created_at);
      assert.equal(shown.idp_rows.length, 1);
      assert.equal(shown.idp_rows[0].idp_id, env.idp.id);
      assert.equal(shown.idp_rows[0].resource.id, admin.id);
      const types = eventsAbout(admin.id).map((e) => e.type);
      assert.ok(types.includes('scim_user_adopted'), JSON.stringify(types));
      assert.ok(!types.includes('scim_user_created'), JSON.stringify(types));
    });

    test('admin-created user is adopted by username match (userName not an email)', async () => {
      const n = uniq('adu');
      const admin = cli(env.db, 'user', 'create', '--tenant', env.tenant.id, '--email', `${n}@elsewhere.test`,
                        '--username', n);
      const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: n.toUpperCase() } });
      assertStatus(res, 201, 'adopt by username');
      assert.equal(res.body.id, admin.id);
      assert.equal(cli(env.db, 'user', 'show', admin.id).scim_managed, true);
    });

    test('adoption by userName that looks like an email matching the user email', async () => {
      const n = uniq('ade');
      const admin = cli(env.db, 'user', 'create', '--tenant', env.tenant.id, '--email', `${n}@mail.test`,
                        '--username', `${n}-handle`);
      const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: `${n}@Mail.Test` } });
      assertStatus(res, 201, 'adopt by userName-as-email');
      assert.equal(res.body.id, admin.id);
    });

    test('sign-in-created user bound to THIS connection is adopted', async () => {
      const n = uniq('jit');
      const email = `${n}@jit.test`;
      const jit = cli(env.db, 'user', 'create', '--tenant', env.tenant.id, '--email', email,
                      '--username', n, '--idp', env.idp.id);
      assert.equal(jit.idp_id, env.idp.id);
      assert.equal(jit.scim_managed, false);
      const count = tenantUsers().length;
      const res = await scim('POST', 'Users', {
        body: { schemas: [CORE_USER], userName: email, emails: [{ value: email, type: 'work', primary: true }] },
      });
      assertStatus(res, 201, 'adopt JIT');
      assert.equal(res.body.id, jit.id);
      assert.equal(tenantUsers().length, count);
      const shown = cli(env.db, 'user', 'show', jit.id);
      assert.equal(shown.scim_managed, true);
      assert.equal(shown.idp_id, env.idp.id);
      assert.ok(eventsAbout(jit.id).some((e) => e.type === 'scim_user_adopted'));
    });

    test('user bound to ANOTHER connection is never adopted: 409, no duplicate', async () => {
      const other = env.addIdp(env.tenant.id, 'entra');
      const n = uniq('oth');
      const email = `${n}@other.test`;
      const bound = cli(env.db, 'user', 'create', '--tenant', env.tenant.id, '--email', email,
                        '--username', n, '--idp', other.idp.id);
      const count = tenantUsers().length;
      const nConflicts = audit(env.db, { idp: env.idp.id, type: 'scim_conflict' }).length;
      for (const body of [
        { schemas: [CORE_USER], userName: email, emails: [{ value: email, type: 'work', primary: true }] },
        { schemas: [CORE_USER], userName: n },
        { schemas: [CORE_USER], userName: `x-${n}`, emails: [{ value: email.toUpperCase(), primary: true }] },
      ]) {
        const res = await scim('POST', 'Users', { body });
        assertScimError(res, 409, 'uniqueness', `takeover attempt ${JSON.stringify(body)}`);
        assert.match(res.body.detail || '', /identity provider/i, 'detail says it belongs to another identity provider');
      }
      assert.equal(tenantUsers().length, count, 'no duplicate user was created');
      const shown = cli(env.db, 'user', 'show', bound.id);
      assert.equal(shown.scim_managed, false);
      assert.equal(shown.idp_id, other.idp.id);
      assert.equal(shown.idp_rows.length, 0);
      assert.equal(audit(env.db, { idp: env.idp.id, type: 'scim_conflict' }).length, nConflicts + 3);
      const r = await scim('GET', filterPath(`userName eq "${email}"`));
      assert.equal(assertList(r).length, 0, 'nothing visible on this connection');
    });

    test('a user already SCIM-managed by another connection is not adopted either', async () => {
      const other = env.addIdp(env.tenant.id, 'generic');
      const n = uniq('mgd');
      const email = `${n}@managed.test`;
      const r1 = await other.scim('POST', 'Users', {
        body: { schemas: [CORE_USER], userName: email, emails: [{ value: email, type: 'work', primary: true }] },
      });
      assertStatus(r1, 201);
      const r2 = await scim('POST', 'Users', {
        body: { schemas: [CORE_USER], userName: email, emails: [{ value: email, type: 'work', primary: true }] },
      });
      // not adopted: either a separate user or a conflict, never the same id
      assert.ok(r2.status === 201 || r2.status === 409, `got ${r2.status}: ${r2.text}`);
      if (r2.status === 201) assert.notEqual(r2.body.id, r1.body.id, 'must not take over another connection\'s user');
      else assertScimError(r2, 409, 'uniqueness', 'same email as another connection\'s SCIM user');
      const shown = cli(env.db, 'user', 'show', r1.body.id);
      assert.deepEqual(shown.idp_rows.map((r) => r.idp_id), [other.idp.id]);
    });
  });

  describe('delete, deactivate, reactivate', () => {
    test('DELETE is soft: 404 over SCIM, 404 for PUT/PATCH/DELETE, record kept as deleted', async () => {
      const u = await create(newUser({ externalId: uniq('ext-') }));
      const res = await scim('DELETE', `Users/${u.id}`);
      assertStatus(res, 204);
      assert.equal(res.text, '');
      assertScimError(await scim('GET', `Users/${u.id}`), 404);
      assertScimError(await scim('PUT', `Users/${u.id}`, { body: { schemas: [CORE_USER], userName: u.userName } }), 404);
      assertScimError(await patch(u.id, [{ op: 'replace', path: 'displayName', value: 'x' }]), 404);
      assertScimError(await scim('DELETE', `Users/${u.id}`), 404);
      assert.equal(assertList(await scim('GET', filterPath(`userName eq "${u.userName}"`))).length, 0);
      assert.equal(assertList(await scim('GET', filterPath(`id eq "${u.id}"`))).length, 0);
      const shown = cli(env.db, 'user', 'show', u.id);
      assert.equal(shown.status, 'deleted');
      assert.equal(shown.username, u.userName);
      assert.equal(shown.idp_rows.length, 1);
      assert.equal(shown.idp_rows[0].deleted, true);
      const types = eventsAbout(u.id).map((e) => e.type);
      assert.ok(types.includes('scim_user_deleted'));
    });

    test('deactivated user stays visible with active:false, in lists and filters', async () => {
      const u = await create(newUser());
      await setActive(u.id, false);
      const get = await scim('GET', `Users/${u.id}`);
      assertStatus(get, 200);
      assert.equal(get.body.active, false);
      const byName = assertList(await scim('GET', filterPath(`userName eq "${u.userName}"`)));
      assert.equal(byName.length, 1);
      assert.equal(byName[0].active, false);
      const inactive = assertList(await scim('GET', filterPath(`active eq false and userName eq "${u.userName}"`)));
      assert.equal(inactive.length, 1);
      const all = assertList(await scim('GET', 'Users?count=1000'));
      assert.ok(all.some((x) => x.id === u.id && x.active === false), 'in the unfiltered list');
      const shown = cli(env.db, 'user', 'show', u.id);
      assert.equal(shown.status, 'deactivated');
      const types = eventsAbout(u.id).map((e) => e.type);
      assert.ok(types.includes('scim_user_deactivated'));
    });

    test('reactivation (PUT active true) keeps id and created timestamp', async () => {
      const body = newUser({ externalId: uniq('ext-'), active: true });
      const u = await create(body);
      await sleep(5);
      let res = await scim('PUT', `Users/${u.id}`, { body: { ...body, active: false } });
      assertStatus(res, 200, 'PUT active false');
      assert.equal(res.body.active, false);
      assert.equal(cli(env.db, 'user', 'show', u.id).status, 'deactivated');
      await sleep(5);
      res = await scim('PUT', `Users/${u.id}`, { body: { ...body, active: true } });
      assertStatus(res, 200, 'PUT active true');
      assert.equal(res.body.active, true);
      assert.equal(res.body.id, u.id);
      assert.equal(res.body.meta.created, u.meta.created);
      assert.ok(res.body.meta.lastModified > u.meta.lastModified);
      const shown = cli(env.db, 'user', 'show', u.id);
      assert.equal(shown.status, 'active');
      const types = eventsAbout(u.id).map((e) => e.type);
      assertSubsequence(types, ['scim_user_created', 'scim_user_deactivated', 'scim_user_reactivated']);
    });

    test('removing active never reactivates: PATCH 400 invalidValue, PUT without it keeps the state', async () => {
      const u = await create(newUser());
      await setActive(u.id, false);
      const attempts = [
        [{ op: 'remove', path: 'active' }],
        [{ op: 'Remove', path: `${CORE_USER}:active` }], // Entra spelling, URN-qualified
        [{ op: 'replace', path: 'active', value: null }],
        [{ op: 'replace', value: { active: null } }],
        [{ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'remove', path: 'ACTIVE' }],
      ];
      for (const ops of attempts) {
        const res = await patch(u.id, ops);
        assertScimError(res, 400, 'invalidValue', JSON.stringify(ops));
        assert.match(res.body.detail, /'active' cannot be removed/, res.text);
      }
      const get = await scim('GET', `Users/${u.id}`);
      assert.equal(get.body.active, false, 'still deactivated');
      assert.notEqual(get.body.displayName, 'Changed', 'the whole PATCH was refused');
      assert.equal(cli(env.db, 'user', 'show', u.id).status, 'deactivated');
      // a PUT that leaves "active" out does not assert it either (RFC 7644 §3.5.1)
      const { active, ...withoutActive } = { ...get.body, displayName: 'Put Without Active' };
      delete withoutActive.meta;
      const put = await scim('PUT', `Users/${u.id}`, { body: withoutActive });
      assertStatus(put, 200, 'PUT without active');
      assert.equal(put.body.active, false, 'PUT without active keeps the user deactivated');
      assert.equal(cli(env.db, 'user', 'show', u.id).status, 'deactivated');
      const types = eventsAbout(u.id).map((e) => e.type);
      assert.ok(!types.includes('scim_user_reactivated'), `no reactivation: ${types}`);
    });

    test('active defaults to true on create; PUT without "active" still renders a boolean', async () => {
      const body = newUser();
      const u = await create(body);
      assert.equal(u.active, true, 'active defaults to true on create');
      const res = await scim('PUT', `Users/${u.id}`, { body: { ...body, displayName: 'No Active Given' } });
      assertStatus(res, 200);
      assert.equal(typeof res.body.active, 'boolean');
    });
  });

  describe('ETags and versions', () => {
    test('ETag equals meta.version; GET does not change it; updates do', async () => {
      const u = await create(newUser());
      const g1 = await scim('GET', `Users/${u.id}`);
      assert.equal(g1.headers.get('etag'), u.meta.version);
      const g2 = await scim('GET', `Users/${u.id}`);
      assert.equal(g2.body.meta.version, u.meta.version, 'reading does not bump the version');
      const p = await patch(u.id, [{ op: 'replace', path: 'displayName', value: 'v2' }]);
      assertStatus(p, 200);
      assert.notEqual(p.body.meta.version, u.meta.version);
      assert.equal(p.headers.get('etag'), p.body.meta.version);
    });

    test('If-Match: stale -> 412 and nothing changes; current -> 200; "*" -> 200', async () => {
      const u = await create(newUser());
      const p = await patch(u.id, [{ op: 'replace', path: 'displayName', value: 'second' }]);
      assertStatus(p, 200);
      const stale = u.meta.version;
      const cur = p.body.meta.version;

      let r = await patch(u.id, [{ op: 'replace', path: 'displayName', value: 'stale write' }], { 'If-Match': stale });
      assertScimError(r, 412, undefined, 'PATCH with stale If-Match');
      r = await scim('PUT', `Users/${u.id}`, {
        body: { schemas: [CORE_USER], userName: u.userName, displayName: 'stale put' }, headers: { 'If-Match': stale },
      });
      assertScimError(r, 412, undefined, 'PUT with stale If-Match');
      r = await scim('DELETE', `Users/${u.id}`, { headers: { 'If-Match': stale } });
      assertScimError(r, 412, undefined, 'DELETE with stale If-Match');
      const g = await scim('GET', `Users/${u.id}`);
      assertStatus(g, 200);
      assert.equal(g.body.displayName, 'second');
      assert.equal(g.body.meta.version, cur);

      r = await patch(u.id, [{ op: 'replace', path: 'displayName', value: 'third' }], { 'If-Match': cur });
      assertStatus(r, 200, 'PATCH with current If-Match');
      assert.equal(r.body.displayName, 'third');
      assert.notEqual(r.body.meta.version, cur);
      r = await patch(u.id, [{ op: 'replace', path: 'displayName', value: 'fourth' }], { 'If-Match': '*' });
      assertStatus(r, 200, 'PATCH with If-Match *');
      assert.equal(r.body.displayName, 'fourth');
    });
  });

  describe('PATCH atomicity', () => {
    const cases = [
      ['last op has an unknown path', { op: 'replace', path: 'noSuchAttribute', value: 'x' }, 400, 'invalidPath'],
      ['last op sets active to "maybe"', { op: 'replace', path: 'active', value: 'maybe' }, 400, 'invalidValue'],
      ['last op is remove without a path', { op: 'remove' }, 400, 'noTarget'],
      ['last op has an unknown op', { op: 'frobnicate', path: 'displayName', value: 'x' }, 400, 'invalidSyntax'],
    ];
    for (const [name, bad, status, scimType] of cases) {
      test(`a batch whose ${name} changes nothing (${status} ${scimType})`, async () => {
        const u = await create(newUser({ displayName: 'Original' }));
        const before = (await scim('GET', `Users/${u.id}`)).body;
        const res = await patch(u.id, [
          { op: 'replace', path: 'displayName', value: 'Changed' },
          { op: 'replace', path: 'name.givenName', value: 'Changed' },
          { op: 'replace', path: 'active', value: false },
          bad,
        ]);
        assertScimError(res, status, scimType, name);
        const afterGet = (await scim('GET', `Users/${u.id}`)).body;
        assert.deepEqual(afterGet, before, 'resource unchanged');
        const shown = cli(env.db, 'user', 'show', u.id);
        assert.equal(shown.status, 'active');
        assert.equal(shown.display_name, 'Original');
        const evs = eventsAbout(u.id).map((e) => e.type);
        assert.ok(!evs.includes('scim_user_updated') && !evs.includes('scim_user_deactivated'),
          `no update event for a failed batch: ${JSON.stringify(evs)}`);
        const failed = audit(env.db, { idp: env.idp.id, type: 'scim_request_failed' }).at(-1);
        assert.ok(failed, 'scim_request_failed written');
        assert.equal(String(failed.summary.status), String(status));
        assert.equal(failed.summary.scimType, scimType);
      });
    }
  });

  describe('list, filter, pagination', () => {
    const P = uniq('pg').toLowerCase();
    const names = [];
    const users = {};
    let maxLastModified;

    before(async () => {
      for (let i = 0; i < 12; i++) {
        const nn = String(i).padStart(2, '0');
        const userName = `${P}-${nn}@pager.test`;
        names.push(userName);
        const even = i % 2 === 0;
        const body = {
          schemas: [CORE_USER],
          userName: i === 3 ? userName.toUpperCase() : userName, // stored as sent; filters ignore case
          displayName: `Pager ${nn}`,
          name: { givenName: `G${nn}`, familyName: 'Pager' },
          emails: even
            ? [{ value: `${P}-${nn}@xco.test`, type: 'work', primary: true }, { value: `${P}-${nn}@home.test`, type: 'home' }]
            : [{ value: `${P}-${nn}@work.test`, type: 'work', primary: true }, { value: `${P}-${nn}@xco.test`, type: 'home' }],
          externalId: `ext-${P}-${nn}`,
        };
        const res = await scim('POST', 'Users', { body });
        assertStatus(res, 201, `create ${userName}`);
        users[nn] = res.body;
      }
      maxLastModified = Object.values(users).map((u) => u.meta.lastModified).sort().at(-1);
    });

    const list = async (params, what) => {
      const res = await scim('GET', 'Users?' + qs(params));
      const items = assertList(res, what || JSON.stringify(params));
      return { res, items, body: res.body };
    };
    const scoped = (f) => (f ? `userName sw "${P}-" and (${f})` : `userName sw "${P}-"`);
    const unames = (items) => items.map((u) => u.userName.toLowerCase());

    test('pagination with sortBy=userName: startIndex/count/totalResults/itemsPerPage', async () => {
      let r = await list({ filter: scoped(), sortBy: 'userName', startIndex: 1, count: 5 });
      assert.equal(r.body.totalResults, 12);
      assert.equal(r.body.startIndex, 1);
      assert.equal(r.body.itemsPerPage, 5);
      assert.deepEqual(unames(r.items), names.slice(0, 5));
      r = await list({ filter: scoped(), sortBy: 'userName', startIndex: 6, count: 5 });
      assert.equal(r.body.startIndex, 6);
      assert.deepEqual(unames(r.items), names.slice(5, 10));
      r = await list({ filter: scoped(), sortBy: 'userName', startIndex: 11, count: 5 });
      assert.equal(r.body.totalResults, 12);
      assert.equal(r.body.itemsPerPage, 2);
      assert.deepEqual(unames(r.items), names.slice(10));
      r = await list({ filter: scoped(), sortBy: 'userName', startIndex: 13, count: 5 });
      assert.equal(r.body.totalResults, 12);
      assert.equal(r.items.length, 0);
    });

    test('sortOrder=descending and sortBy on a sub-attribute', async () => {
      let r = await list({ filter: scoped(), sortBy: 'userName', sortOrder: 'descending', count: 3 });
      assert.deepEqual(unames(r.items), [...names].reverse().slice(0, 3));
      r = await list({ filter: scoped(), sortBy: 'name.givenName', sortOrder: 'ascending', count: 2 });
      assert.deepEqual(r.items.map((u) => u.name.givenName), ['G00', 'G01']);
    });

    test('count=0 -> totalResults only; startIndex < 1 treated as 1; large count capped, all returned', async () => {
      let r = await list({ filter: scoped(), count: 0 });
      assert.equal(r.body.totalResults, 12);
      assert.equal(r.body.itemsPerPage, 0);
      // RFC 7644 §3.4.2: Resources is required when totalResults is non-zero
      assert.deepEqual(r.body.Resources, [], `count=0 returns Resources: []: ${r.res.text.slice(0, 300)}`);
      // the same with a sort the store cannot do (in-memory path) and with nothing matching
      r = await list({ filter: scoped(), sortBy: 'name.givenName', count: 0 });
      assert.equal(r.body.totalResults, 12);
      assert.deepEqual(r.body.Resources, []);
      r = await list({ filter: scoped('displayName eq "nobody"'), count: 0 });
      assert.equal(r.body.totalResults, 0);
      assert.deepEqual(r.body.Resources, []);
      for (const si of [0, -5]) {
        r = await list({ filter: scoped(), sortBy: 'userName', startIndex: si, count: 2 });
        assert.equal(r.body.startIndex, 1, `startIndex=${si}`);
        assert.deepEqual(unames(r.items), names.slice(0, 2));
      }
      r = await list({ filter: scoped(), count: 5000 });
      assert.equal(r.items.length, 12);
      assert.ok(r.body.itemsPerPage <= 1000);
    });

    test('default count is 100 and the page is consistent with totalResults', async () => {
      const r = await list({});
      assert.ok(r.body.totalResults >= 12);
      assert.equal(r.items.length, Math.min(100, r.body.totalResults));
      assert.equal(r.body.itemsPerPage, r.items.length);
    });

    test('attributes= and excludedAttributes= project the resources', async () => {
      let r = await list({ filter: scoped(), attributes: 'userName', count: 3 });
      for (const u of r.items) {
        assert.ok(u.id, 'id is always returned');
        assert.ok(u.userName);
        assert.equal(u.name, undefined, 'name not requested');
        assert.equal(u.emails, undefined, 'emails not requested');
        assert.equal(u.displayName, undefined);
      }
      r = await list({ filter: scoped(), attributes: 'name.givenName,emails', count: 3 });
      for (const u of r.items) {
        assert.ok(u.id);
        assert.ok(u.name?.givenName);
        assert.equal(u.name.familyName, undefined, 'only the requested sub-attribute');
        assert.ok(Array.isArray(u.emails));
        assert.equal(u.displayName, undefined);
      }
      r = await list({ filter: scoped(), excludedAttributes: 'emails,name', count: 3 });
      for (const u of r.items) {
        assert.ok(u.id && u.userName && u.displayName);
        assert.equal(u.emails, undefined);
        assert.equal(u.name, undefined);
      }
      const one = await scim('GET', `Users/${users['04'].id}?attributes=displayName`);
      assertStatus(one, 200);
      assert.equal(one.body.id, users['04'].id);
      assert.equal(one.body.displayName, 'Pager 04');
      assert.equal(one.body.emails, undefined);
      const ex = await scim('GET', `Users/${users['04'].id}?excludedAttributes=displayName`);
      assert.equal(ex.body.displayName, undefined);
      assert.equal(ex.body.userName, names[4]);
    });

    test('userName eq is case-insensitive; attribute names are case-insensitive', async () => {
      for (const f of [`userName eq "${names[3].toUpperCase()}"`, `userName eq "${names[3]}"`,
                       `USERNAME eq "${names[3]}"`, `username EQ "${names[3].toUpperCase()}"`,
                       `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "${names[3]}"`]) {
        const { items } = await list({ filter: f }, f);
        assert.equal(items.length, 1, f);
        assert.equal(items[0].id, users['03'].id, f);
      }
    });

    test('emails[type eq "work" and value co "@xco"] matches within one email value', async () => {
      const { items, body } = await list({ filter: scoped('emails[type eq "work" and value co "@xco"]'), sortBy: 'userName' });
      assert.equal(body.totalResults, 6);
      assert.deepEqual(unames(items), names.filter((_, i) => i % 2 === 0));
      const { items: home } = await list({ filter: scoped('emails[type eq "home" and value co "@xco"]'), sortBy: 'userName' });
      assert.deepEqual(unames(home), names.filter((_, i) => i % 2 === 1));
      const { items: any } = await list({ filter: scoped('emails co "@xco"') });
      assert.equal(any.length, 12);
      const { items: byValue } = await list({ filter: `emails.value eq "${P}-05@work.test"` });
      assert.deepEqual(byValue.map((u) => u.id), [users['05'].id]);
    });

    test('meta.lastModified gt finds only the users changed since', async () => {
      await sleep(10);
      const p = await patch(users['05'].id, [{ op: 'replace', path: 'displayName', value: 'Pager 05 changed' }]);
      assertStatus(p, 200);
      assert.ok(p.body.meta.lastModified > maxLastModified);
      const { items } = await list({ filter: scoped(`meta.lastModified gt "${maxLastModified}"`) });
      assert.deepEqual(items.map((u) => u.id), [users['05'].id]);
      const { items: old } = await list({ filter: scoped(`meta.lastModified le "${maxLastModified}"`) });
      assert.equal(old.length, 11);
    });

    test('and / or / not / grouping / comparison operators', async () => {
      const cases = [
        [`userName eq "${names[1]}" or userName eq "${names[2]}"`, [1, 2]],
        [scoped(`not (userName eq "${names[1]}")`), names.map((_, i) => i).filter((i) => i !== 1)],
        [scoped(`userName gt "${P}-09@pager.test"`), [10, 11]],
        [scoped(`userName ge "${P}-10@pager.test"`), [10, 11]],
        [scoped(`userName lt "${P}-01@pager.test"`), [0]],
        [scoped(`userName ew "-07@pager.test"`), [7]],
        [scoped(`displayName co "ager 1"`), [10, 11]],
        [scoped(`externalId eq "ext-${P}-08" or (name.givenName eq "G09" and not (displayName eq "nope"))`), [8, 9]],
        [scoped(`(userName eq "${names[0]}" or userName eq "${names[4]}") and emails[type eq "work"]`), [0, 4]],
        [scoped('title pr'), []],
        [scoped('displayName pr'), names.map((_, i) => i)],
        [`userName eq "${names[6]}" and active eq true`, [6]],
      ];
      for (const [f, idx] of cases) {
        const { items } = await list({ filter: f, sortBy: 'userName' }, f);
        assert.deepEqual(unames(items), idx.map((i) => names[i]), f);
      }
    });

    test('active eq false lists only deactivated users', async () => {
      await setActive(users['07'].id, false);
      const { items } = await list({ filter: scoped('active eq false') });
      assert.deepEqual(items.map((u) => u.id), [users['07'].id]);
      const { items: act } = await list({ filter: scoped('active eq true') });
      assert.equal(act.length, 11);
    });
  });
});
