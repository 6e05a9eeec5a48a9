// SPDX-License-Identifier: Apache-2.0
// Retention (issue #15 item 5): `scimd purge --deleted-before AGE` erases the
// personal data of users soft-deleted before the cutoff (their IdP rows,
// canonical and custom fields, roles, email index, group memberships) and keeps a pseudonymous
// audit trail; --dry-run changes nothing and says what would go.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, cli, cliRaw, audit, filterPath, uniq, assertStatus, assertList, startServer, CORE_USER,
  ENTERPRISE_USER,
} from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe('purge', { timeout: 120_000 }, () => {
  let env;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    // a custom field mirrored from the enterprise extension: personal data too
    cli(env.db, 'field', 'add', '--tenant', env.tenant.id, '--name', 'department');
    const r = cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, '--field', 'department',
                              '--path', `${ENTERPRISE_USER}:department`]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => { if (env) await env.cleanup(); });

  const newUser = () => {
    const n = uniq('pg');
    return { schemas: [CORE_USER], userName: `${n}@purge.test`, externalId: `ext-${n}`,
             name: { givenName: 'Grace', familyName: `Hopper-${n}` },
             emails: [{ value: `${n}@mail.purge.test`, type: 'work', primary: true }] };
  };
  const create = async (body) => {
    const res = await env.scim('POST', 'Users', { body });
    assertStatus(res, 201);
    return res.body;
  };

  test('dry run lists and changes nothing; the real run erases; audit keeps ids without values', async () => {
    const goneBody = { ...newUser(), [ENTERPRISE_USER]: { department: 'Research' } };
    goneBody.schemas = [CORE_USER, ENTERPRISE_USER];
    const gone = await create(goneBody);
    assert.equal(cli(env.db, 'user', 'show', gone.id).custom_fields.department, 'Research');
    const kept = await create(newUser());
    const recent = await create(newUser());
    const group = await env.scim('POST', 'Groups', { body: { schemas: [GROUP], displayName: uniq('Team '),
      members: [{ value: gone.id }, { value: kept.id }] } });
    assertStatus(group, 201);
    assertStatus(await env.scim('DELETE', `Users/${gone.id}`), 204);
    // deleted before the next whole second, which the cutoff of "0s" is
    await sleep(1100 - (Date.now() % 1000));

    const young = cli(env.db, 'purge', '--deleted-before', '90d');
    assert.equal(young.users, 0, 'nothing was deleted 90 days ago');

    const dry = cli(env.db, 'purge', '--deleted-before', '0s', '--dry-run');
    assert.equal(dry.dry_run, true);
    assert.deepEqual(dry.user_ids, [gone.id]);
    assert.equal(dry.users, 1);
    assert.equal(dry.idp_rows, 1);
    assert.equal(dry.group_memberships, 1);
    assert.ok(dry.email_index_entries >= 1);
    assert.equal(dry.custom_fields_and_roles, 1, 'the department value');
    const still = cli(env.db, 'user', 'show', gone.id);
    assert.equal(still.username, goneBody.userName, 'a dry run changes nothing');
    assert.equal(still.idp_rows.length, 1);
    assert.equal(audit(env.db, { type: 'users_purged' }).length, 0, 'a dry run records nothing');

    // deleted after the cutoff of this run: kept
    assertStatus(await env.scim('DELETE', `Users/${recent.id}`), 204);
    const run = cliRaw(env.db, ['purge', '--deleted-before', '0s'], { json: false });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /erased 1 users deleted before .*: 1 IdP rows, 1 group memberships/);

    const erased = cli(env.db, 'user', 'show', gone.id);
    assert.equal(erased.status, 'erased');
    for (const k of ['username', 'email', 'given_name', 'family_name', 'display_name'])
      assert.equal(erased[k], null, `${k} is erased`);
    assert.equal(erased.custom_fields.department, undefined, 'custom field values are erased');
    assert.deepEqual(erased.idp_rows, [], 'the IdP row (document, externalId, userName) is gone');
    assertStatus(await env.scim('GET', `Users/${gone.id}`), 404);
    assert.equal(assertList(await env.scim('GET', filterPath(`emails.value eq "${goneBody.emails[0].value}"`))).length, 0);
    const g = await env.scim('GET', `Groups/${group.body.id}`);
    assertStatus(g, 200);
    assert.deepEqual(g.body.members.map((m) => m.value), [kept.id], 'membership erased, group kept');
    assert.equal(cli(env.db, 'user', 'show', kept.id).status, 'active', 'live users untouched');
    assert.equal(cli(env.db, 'user', 'show', recent.id).status, 'deleted', 'recently deleted kept');

    const events = audit(env.db);
    const purged = events.filter((e) => e.type === 'users_purged');
    assert.equal(purged.length, 1);
    assert.ok(JSON.stringify(purged[0]).includes(gone.id), 'users_purged names the ids');
    const types = events.filter((e) => e.subject_id === gone.id).map((e) => e.type);
    for (const t of ['scim_user_created', 'scim_user_deleted'])
      assert.ok(types.includes(t), `the trail of ${gone.id} keeps ${t}`);
    const all = JSON.stringify(events);
    for (const v of [goneBody.userName, goneBody.emails[0].value, goneBody.name.familyName, goneBody.externalId])
      assert.ok(!all.includes(v), `no event holds '${v}'`);

    // the externalId is free again: a new user, not the erased one
    const again = await create(goneBody);
    assert.notEqual(again.id, gone.id);
    const second = cli(env.db, 'purge', '--deleted-before', '0s');
    assert.ok(!second.user_ids.includes(gone.id), 'erased users are not erased twice');
  });

  test('--tenant limits the purge; bad input is a usage error', async () => {
    const other = cli(env.db, 'tenant', 'create', uniq('Other '));
    const r = cli(env.db, 'purge', '--deleted-before', '0s', '--tenant', other.id, '--dry-run');
    assert.equal(r.users, 0);
    assert.equal(cliRaw(env.db, ['purge', '--deleted-before', 'soon']).status, 2);
    assert.equal(cliRaw(env.db, ['purge']).status, 2);
    const missing = cliRaw(env.db, ['purge', '--deleted-before', '1d', '--tenant', 'no-such-tenant']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no tenant/);
  });

  test('serve --purge-after runs the purge at start (and then daily); a bad age stops serve', async () => {
    const u = await create(newUser());
    assertStatus(await env.scim('DELETE', `Users/${u.id}`), 204);
    await sleep(1100 - (Date.now() % 1000));
    const second = await startServer({ db: env.db, args: ['--purge-after', '0s'] });
    try {
      let status;
      for (let i = 0; i < 100 && status !== 'erased'; i++) {
        status = cli(env.db, 'user', 'show', u.id).status;
        if (status !== 'erased') await sleep(50);
      }
      assert.equal(status, 'erased');
      const ev = audit(env.db, { type: 'users_purged' }).find((e) => JSON.stringify(e).includes(u.id));
      assert.equal(ev.actor, 'purge-after');
    } finally {
      await second.stop();
    }
    const bad = cliRaw(null, ['serve', '--db', env.db, '--purge-after', 'daily', '--listen', '127.0.0.1:1'], { json: false });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /purge-after/);
  });
});
