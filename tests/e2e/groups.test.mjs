// SPDX-License-Identifier: Apache-2.0
// SCIM Groups: Okta's Push Groups sequence, Entra's group provisioning
// sequence, the Users' derived `groups` attribute, memberships across user
// deactivation and delete/revive, cross-connection isolation, bad input, and
// POST /.search (RFC 7644 §3.4.3) for Users and Groups.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, audit, qs, uniq, assertList, assertStatus, assertScimError,
  CORE_USER, PATCH_OP, UUID_RE, TIME_RE, SCIM_CT_RE, LIST_RESPONSE,
} from './lib/harness.mjs';

const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

async function createUser(scim, userName = `${uniq('g')}@example.com`, extra = {}) {
  const res = await scim('POST', 'Users', {
    body: { schemas: [CORE_USER], userName, name: { givenName: 'G', familyName: 'U' },
            emails: [{ value: userName, type: 'work', primary: true }], active: true, ...extra },
  });
  assertStatus(res, 201, 'create user');
  return res.body;
}

function memberIds(group) {
  return (group.members || []).map((m) => m.value).sort();
}

function assertGroupResource(g, base, what = '') {
  const ctx = `${what}: ${JSON.stringify(g).slice(0, 1500)}`;
  assert.ok(Array.isArray(g.schemas) && g.schemas.includes(CORE_GROUP), `Group schema ${ctx}`);
  assert.match(g.id, UUID_RE, `id ${ctx}`);
  assert.equal(typeof g.displayName, 'string', ctx);
  assert.equal(g.meta.resourceType, 'Group', ctx);
  assert.match(g.meta.created, TIME_RE, ctx);
  assert.match(g.meta.lastModified, TIME_RE, ctx);
  assert.match(g.meta.version, /^W\/"[^"]+"$/, ctx);
  if (base) assert.equal(g.meta.location, `${base}Groups/${g.id}`, ctx);
}

const patch = (...ops) => ({ schemas: [PATCH_OP], Operations: ops });

describe('Okta Push Groups sequence', { timeout: 120_000 }, () => {
  let env;
  let scim;
  let users;
  let group;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
    users = [];
    for (let i = 0; i < 3; i++) users.push(await createUser(scim));
  });
  after(async () => { if (env) await env.cleanup(); });

  // Okta "SCIM 2.0 protocol reference", "Create groups": POST /Groups with
  // displayName and an empty members array -> 201 with the group.
  test('POST /Groups -> 201, Location, ETag', async () => {
    const res = await scim('POST', 'Groups', {
      body: { schemas: [CORE_GROUP], displayName: 'Test SCIMv2', members: [] },
    });
    assertStatus(res, 201, 'create group');
    assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
    group = res.body;
    assertGroupResource(group, env.base, 'created group');
    assert.equal(group.displayName, 'Test SCIMv2');
    assert.equal(res.headers.get('location'), `${env.base}Groups/${group.id}`);
    assert.equal(res.headers.get('etag'), group.meta.version);
    assert.deepEqual(memberIds(group), []);
  });

  // Okta "SCIM 2.0 protocol reference", "Update a specific group membership":
  // PATCH add with a members value array; Okta expects 204 (or 200).
  test('PATCH add members -> 204; GET shows them', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'add', path: 'members',
                    value: users.map((u) => ({ value: u.id, display: u.userName })) }),
    });
    assertStatus(res, 204, 'add members');
    const got = await scim('GET', `Groups/${group.id}`);
    assertStatus(got, 200);
    assert.deepEqual(memberIds(got.body), users.map((u) => u.id).sort());
    for (const m of got.body.members) assert.equal(m.$ref, `${env.base}Users/${m.value}`);
    assert.equal(got.headers.get('etag'), got.body.meta.version);
    assert.notEqual(got.body.meta.version, group.meta.version, 'membership change bumps the version');
  });

  // Okta "Update a specific group name": {"op":"replace","value":{"id":..,"displayName":..}}
  test('PATCH replace displayName with Okta\'s no-path value -> 204', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'replace', value: { id: group.id, displayName: 'Renamed SCIMv2' } }),
    });
    assertStatus(res, 204, 'rename');
    const got = await scim('GET', `Groups/${group.id}`);
    assert.equal(got.body.displayName, 'Renamed SCIMv2');
    assert.equal(memberIds(got.body).length, 3, 'rename keeps the members');
  });

  // Okta: remove one member with path members[value eq "<id>"]
  test('PATCH remove members[value eq "id"] -> 204', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'remove', path: `members[value eq "${users[0].id}"]` }),
    });
    assertStatus(res, 204, 'remove member');
    const got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), [users[1].id, users[2].id].sort());
  });

  test('PATCH with attributes -> 200 with the resource (RFC 7644 §3.5.2)', async () => {
    const res = await scim('PATCH', `Groups/${group.id}?attributes=displayName`, {
      body: patch({ op: 'replace', path: 'displayName', value: 'With Body' }),
    });
    assertStatus(res, 200, 'patch with attributes');
    assert.equal(res.body.displayName, 'With Body');
    assert.equal(res.body.members, undefined, 'attributes=displayName leaves members out');
  });

  // Okta (older integrations) replace the group with PUT: displayName and the whole member set.
  test('PUT replaces displayName and members', async () => {
    const res = await scim('PUT', `Groups/${group.id}`, {
      body: { schemas: [CORE_GROUP], id: group.id, displayName: 'Put Name',
              members: [{ value: users[0].id }, { value: users[2].id }] },
    });
    assertStatus(res, 200, 'put');
    assertGroupResource(res.body, env.base, 'put result');
    assert.equal(res.body.displayName, 'Put Name');
    assert.deepEqual(memberIds(res.body), [users[0].id, users[2].id].sort());
    const events = audit(env.db, { idp: env.idp.id, type: 'scim_group_members_changed' });
    const last = events[events.length - 1];
    assert.deepEqual(last.summary.added, [users[0].id]);
    assert.deepEqual(last.summary.removed, [users[1].id]);
  });

  test('If-Match with a stale version -> 412', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      headers: { 'If-Match': 'W/"1"' },
      body: patch({ op: 'replace', path: 'displayName', value: 'nope' }),
    });
    assertScimError(res, 412);
  });

  test('DELETE -> 204, then 404 on GET, PATCH, DELETE', async () => {
    assertStatus(await scim('DELETE', `Groups/${group.id}`), 204, 'delete');
    assertScimError(await scim('GET', `Groups/${group.id}`), 404);
    assertScimError(await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'replace', path: 'displayName', value: 'x' }) }), 404);
    assertScimError(await scim('DELETE', `Groups/${group.id}`), 404);
    const u = await scim('GET', `Users/${users[0].id}`);
    assert.equal(u.body.groups, undefined, 'a deleted group is gone from the user');
  });

  test('events: received, created, updated, members_changed, deleted', async () => {
    const types = audit(env.db, { idp: env.idp.id }).map((e) => e.type);
    for (const t of ['scim_group_received', 'scim_group_created', 'scim_group_updated',
                     'scim_group_members_changed', 'scim_group_deleted']) {
      assert.ok(types.includes(t), `${t} in ${types.join(',')}`);
    }
    const updated = audit(env.db, { idp: env.idp.id, type: 'scim_group_updated' });
    assert.ok(updated.some((e) => e.summary.changed.includes('displayName')));
  });
});

describe('Entra group provisioning sequence', { timeout: 120_000 }, () => {
  let env;
  let scim;
  let users;
  let group;
  const name = 'Entra Group 1';

  before(async () => {
    env = await setup({ vendor: 'entra' });
    scim = env.scim;
    users = [];
    for (let i = 0; i < 4; i++) users.push(await createUser(scim));
  });
  after(async () => { if (env) await env.cleanup(); });

  // Microsoft "Tutorial: Develop and plan provisioning for a SCIM endpoint",
  // "Get Group by displayName": GET /Groups?excludedAttributes=members&filter=displayName eq "..."
  test('lookup by displayName with excludedAttributes=members -> empty', async () => {
    const res = await scim('GET', `Groups?${qs({ excludedAttributes: 'members', filter: `displayName eq "${name}"` })}`);
    const items = assertList(res);
    assert.equal(res.body.totalResults, 0);
    assert.equal(items.length, 0);
  });

  // Microsoft tutorial, "Create Group": POST with externalId and members.
  test('POST /Groups with members -> 201', async () => {
    const res = await scim('POST', 'Groups', {
      body: { schemas: [CORE_GROUP], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
              displayName: name, members: [{ value: users[0].id }], meta: { resourceType: 'Group' } },
    });
    assertStatus(res, 201);
    group = res.body;
    assertGroupResource(group, env.base);
    assert.equal(group.externalId, '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159');
    assert.deepEqual(memberIds(group), [users[0].id]);
  });

  test('lookup again: found, members excluded; members.value and members[value eq] filters', async () => {
    let res = await scim('GET', `Groups?${qs({ excludedAttributes: 'members', filter: `displayName eq "${name.toUpperCase()}"` })}`);
    let items = assertList(res);
    assert.equal(items.length, 1);
    assert.equal(items[0].id, group.id);
    assert.equal(items[0].members, undefined);
    res = await scim('GET', `Groups/${group.id}?excludedAttributes=members`);
    assertStatus(res, 200);
    assert.equal(res.body.members, undefined);
    res = await scim('GET', `Groups?${qs({ filter: `members.value eq "${users[0].id}"` })}`);
    assert.deepEqual(assertList(res).map((g) => g.id), [group.id]);
    res = await scim('GET', `Groups?${qs({ filter: `members[value eq "${users[1].id}"]` })}`);
    assert.equal(assertList(res).length, 0);
    res = await scim('GET', `Groups?${qs({ filter: `externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`, attributes: 'displayName' })}`);
    items = assertList(res);
    assert.equal(items.length, 1);
    assert.equal(items[0].displayName, name);
  });

  // Microsoft tutorial, "Update Group [Add Members]": capitalised "Add".
  test('PATCH "Add" members -> 204', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: users[1].id }, { value: users[2].id }, { value: users[3].id }] }),
    });
    assertStatus(res, 204);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), users.map((u) => u.id).sort());
  });

  // Microsoft tutorial, "Update Group [Remove Members]": path members with a value array.
  test('PATCH "Remove" members with a value array -> 204', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: users[1].id }] }),
    });
    assertStatus(res, 204);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), [users[0].id, users[2].id, users[3].id].sort());
  });

  // Entra's flagged (RFC-compliant) mode: path members[value eq "id"].
  test('PATCH "Remove" members[value eq "id"] -> 204', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'Remove', path: `members[value eq "${users[2].id}"]` }),
    });
    assertStatus(res, 204);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), [users[0].id, users[3].id].sort());
  });

  // Microsoft tutorial, "Update Group [Non-member attributes]": Replace displayName.
  test('PATCH "Replace" displayName with a path -> 204', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }),
    });
    assertStatus(res, 204);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.equal(got.body.displayName, '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName');
  });

  test('several operations in one PATCH are atomic', async () => {
    const before = await scim('GET', `Groups/${group.id}`);
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch(
        { op: 'add', path: 'members', value: [{ value: users[1].id }] },
        { op: 'replace', path: 'displayName', value: 'should not stick' },
        { op: 'add', path: 'members', value: [{ value: '00000000-0000-4000-8000-000000000000' }] },
      ),
    });
    assertScimError(res, 400, 'invalidValue');
    const after = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(after.body, before.body, 'nothing changed');
  });

  test('remove all members (remove with path members, no value)', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'remove', path: 'members' }) });
    assertStatus(res, 204);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), []);
    const ev = audit(env.db, { idp: env.idp.id, type: 'scim_group_members_changed' });
    const last = ev[ev.length - 1];
    assert.deepEqual(last.summary.removed.sort(), [users[0].id, users[3].id].sort());
    assert.equal(last.summary.removed_count, 2);
  });

  test('replace members with a no-path value carrying members', async () => {
    const res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'replace', value: { members: [{ value: users[2].id }], displayName: 'np' } }),
    });
    assertStatus(res, 204);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), [users[2].id]);
    assert.equal(got.body.displayName, 'np');
  });

  test('"Members" in another case and replace of members with null (unassign: no members)', async () => {
    let res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'add', value: { Members: [{ Value: users[1].id }] } }),
    });
    assertStatus(res, 204);
    let got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body).sort(), [users[1].id, users[2].id].sort(), 'the members went to the rows');
    res = await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'replace', path: 'members', value: null }) });
    assertStatus(res, 204);
    got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), []);
    res = await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'add', path: 'members[value eq "x"]', value: [{ value: users[1].id }] }) });
    assertScimError(res, 400, 'invalidPath');
    // members under the core schema URN of a no-path value reach the rows too (found by group_patch_fuzz)
    res = await scim('PATCH', `Groups/${group.id}`, {
      body: patch({ op: 'replace', value: { [CORE_GROUP]: { members: [{ value: users[2].id }] } } }),
    });
    assertStatus(res, 204);
    got = await scim('GET', `Groups/${group.id}`);
    assert.deepEqual(memberIds(got.body), [users[2].id]);
  });

  // Microsoft tutorial, "Delete Group".
  test('DELETE -> 204, then 404', async () => {
    assertStatus(await scim('DELETE', `Groups/${group.id}`), 204);
    assertScimError(await scim('GET', `Groups/${group.id}`), 404);
  });

  test('externalId already used by a group of this connection -> 409 uniqueness', async () => {
    const body = { schemas: [CORE_GROUP], displayName: 'dup', externalId: 'ext-dup' };
    assertStatus(await scim('POST', 'Groups', { body }), 201);
    assertScimError(await scim('POST', 'Groups', { body }), 409, 'uniqueness');
  });
});

describe('Users\' groups attribute and membership lifecycle', { timeout: 120_000 }, () => {
  let env;
  let scim;
  let alice;
  let bob;
  let g1;
  let g2;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
    alice = await createUser(scim);
    bob = await createUser(scim);
    let res = await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'Engineering', members: [{ value: alice.id }] } });
    assertStatus(res, 201);
    g1 = res.body;
    res = await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'Everyone', members: [{ value: alice.id }, { value: bob.id }] } });
    assertStatus(res, 201);
    g2 = res.body;
  });
  after(async () => { if (env) await env.cleanup(); });

  test('GET /Users/{id} carries groups derived from membership', async () => {
    const res = await scim('GET', `Users/${alice.id}`);
    assertStatus(res, 200);
    const groups = res.body.groups.map((g) => g.value).sort();
    assert.deepEqual(groups, [g1.id, g2.id].sort());
    const eng = res.body.groups.find((g) => g.value === g1.id);
    assert.equal(eng.display, 'Engineering');
    assert.equal(eng.$ref, `${env.base}Groups/${g1.id}`);
  });

  test('user lists carry groups too; users in no group have none', async () => {
    const carol = await createUser(scim);
    const res = await scim('GET', 'Users?count=100');
    const items = assertList(res);
    const byId = Object.fromEntries(items.map((u) => [u.id, u]));
    assert.equal(byId[alice.id].groups.length, 2);
    assert.equal(byId[bob.id].groups.length, 1);
    assert.equal(byId[carol.id].groups, undefined);
    const projected = assertList(await scim('GET', `Users?${qs({ filter: `userName eq "${bob.userName}"`, attributes: 'groups' })}`));
    assert.deepEqual(projected[0].groups.map((g) => g.value), [g2.id]);
  });

  test('deactivated user keeps its memberships; back unchanged on reactivation', async () => {
    let res = await scim('PATCH', `Users/${bob.id}`, { body: patch({ op: 'replace', value: { active: false } }) });
    assertStatus(res, 200);
    res = await scim('GET', `Groups/${g2.id}`);
    assert.ok(memberIds(res.body).includes(bob.id), 'deactivated users stay members');
    res = await scim('PATCH', `Users/${bob.id}`, { body: patch({ op: 'replace', value: { active: true } }) });
    assertStatus(res, 200);
    assert.deepEqual(res.body.groups.map((g) => g.value), [g2.id], 'PATCH answers with groups too');
    res = await scim('PUT', `Users/${bob.id}`, { body: { ...res.body, displayName: 'Bob' } });
    assertStatus(res, 200);
    assert.deepEqual(res.body.groups.map((g) => g.value), [g2.id], 'PUT ignores the readOnly groups sent back');
    res = await scim('GET', `Users/${bob.id}`);
    assert.deepEqual(res.body.groups.map((g) => g.value), [g2.id]);
  });

  test('deleted user leaves rendered members; revived by externalId it is back', async () => {
    const ext = uniq('ext');
    const dave = await createUser(scim, `${uniq('d')}@example.com`, { externalId: ext });
    assertStatus(await scim('PATCH', `Groups/${g1.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: dave.id }] }) }), 204);
    assertStatus(await scim('DELETE', `Users/${dave.id}`), 204);
    let res = await scim('GET', `Groups/${g1.id}`);
    assert.ok(!memberIds(res.body).includes(dave.id), 'a deleted user is not shown as a member');
    res = await scim('GET', `Groups?${qs({ filter: `members.value eq "${dave.id}"` })}`);
    assert.equal(assertList(res).length, 0, 'nor found by members.value');
    // adding a deleted user is adding an unknown user
    assertScimError(await scim('PATCH', `Groups/${g1.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: dave.id }] }) }), 400, 'invalidValue');
    res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: dave.userName, externalId: ext } });
    assertStatus(res, 201);
    assert.equal(res.body.id, dave.id);
    res = await scim('GET', `Groups/${g1.id}`);
    assert.ok(memberIds(res.body).includes(dave.id), 'revived user is a member again');
    res = await scim('GET', `Users/${dave.id}`);
    assert.deepEqual(res.body.groups.map((g) => g.value), [g1.id]);
  });
});

describe('Groups: isolation, bad input and .search', { timeout: 120_000 }, () => {
  let env;
  let scim;
  let other;
  let user;
  let otherUser;
  let group;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
    other = env.addIdp(env.tenant.id, 'entra');
    user = await createUser(scim);
    otherUser = await createUser(other.scim);
    const res = await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'Mine', members: [{ value: user.id }] } });
    assertStatus(res, 201);
    group = res.body;
  });
  after(async () => { if (env) await env.cleanup(); });

  test('another connection\'s token sees no group', async () => {
    assertScimError(await other.scim('GET', `Groups/${group.id}`), 404);
    assertScimError(await other.scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'x' }) }), 404);
    assertScimError(await other.scim('DELETE', `Groups/${group.id}`), 404);
    const res = await other.scim('GET', 'Groups');
    assert.equal(assertList(res).length, 0);
    assertScimError(await scim('GET', `Groups/${group.id}`, { token: other.token.token }), 401);
  });

  test('member ids of another connection -> 400 invalidValue naming them', async () => {
    const res = await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'X', members: [{ value: otherUser.id }] } });
    assertScimError(res, 400, 'invalidValue');
    assert.ok(res.body.detail.includes(otherUser.id), res.body.detail);
    const p = await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: otherUser.id }, { value: 'no-such-user' }] }) });
    assertScimError(p, 400, 'invalidValue');
    assert.ok(p.body.detail.includes('no-such-user'), p.body.detail);
    const events = audit(env.db, { idp: env.idp.id, type: 'scim_request_failed' });
    assert.ok(events.length >= 2);
  });

  test('bad input', async () => {
    assertScimError(await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], members: [] } }), 400, 'invalidValue');
    assertScimError(await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'x', members: [{ display: 'no value' }] } }), 400, 'invalidValue');
    assertScimError(await scim('POST', 'Groups', { raw: '{"displayName":', contentType: 'application/scim+json' }), 400, 'invalidSyntax');
    assertScimError(await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'remove', path: 'members[display eq "x"]' }) }), 400, 'invalidPath');
    assertScimError(await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'remove', path: 'members[value eq' }) }), 400, 'invalidPath');
    assertScimError(await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'frobnicate', path: 'displayName', value: 'x' }) }), 400, 'invalidSyntax');
    assertScimError(await scim('PATCH', `Groups/${group.id}`, { body: patch({ op: 'replace', path: 'displayName', value: '' }) }), 400, 'invalidValue');
    assertScimError(await scim('GET', `Groups?${qs({ filter: 'displayName eq' })}`), 400, 'invalidFilter');
    assertScimError(await scim('GET', `Groups?${qs({ filter: 'userName eq "x"' })}`), 400, 'invalidFilter');
    assertScimError(await scim('GET', 'Groups/00000000-0000-4000-8000-000000000000'), 404);
    assertScimError(await scim('PUT', 'Groups'), 405);
    const got = await scim('GET', `Groups/${group.id}`);
    assert.equal(got.body.displayName, 'Mine');
    assert.deepEqual(memberIds(got.body), [user.id]);
  });

  test('replace on path members replaces the set; filters the store cannot index still work', async () => {
    const a = await createUser(scim);
    const b = await createUser(scim);
    const res = await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'Swap', members: [{ value: a.id }] } });
    assertStatus(res, 201);
    const g = res.body;
    assertStatus(await scim('PATCH', `Groups/${g.id}`, { body: patch({ op: 'replace', path: 'members', value: [{ value: b.id }, { value: b.id }] }) }), 204);
    let got = await scim('GET', `Groups/${g.id}`);
    assert.deepEqual(memberIds(got.body), [b.id]);
    // members.type is not indexed: evaluated in memory over the rendered members
    let items = assertList(await scim('GET', `Groups?${qs({ filter: `displayName eq "Swap" and members[type eq "User" and value eq "${b.id}"]` })}`));
    assert.deepEqual(items.map((x) => x.id), [g.id]);
    items = assertList(await scim('GET', `Groups?${qs({ filter: `displayName eq "Swap" and members[type eq "User" and value eq "${a.id}"]` })}`));
    assert.equal(items.length, 0);
    got = await scim('GET', `Groups?${qs({ filter: 'members[type eq "User"]', count: 0 })}`);
    assertStatus(got, 200);
    assert.equal(got.body.totalResults, 2, 'Mine and Swap have members');
    assert.deepEqual(got.body.Resources, [], 'count=0: Resources is [] when totalResults > 0 (RFC 7644 §3.4.2)');
    assertStatus(await scim('DELETE', `Groups/${g.id}`), 204);
  });

  test('list paging and sorting', async () => {
    for (const n of ['b-group', 'a-group', 'c-group']) {
      assertStatus(await scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: n } }), 201);
    }
    const res = await scim('GET', `Groups?${qs({ sortBy: 'displayName', startIndex: 2, count: 2, excludedAttributes: 'members' })}`);
    const items = assertList(res);
    assert.equal(res.body.totalResults, 4);
    assert.deepEqual(items.map((g) => g.displayName), ['b-group', 'c-group']);
    const sw = assertList(await scim('GET', `Groups?${qs({ filter: 'displayName sw "a-" or displayName co "ine"' })}`));
    assert.deepEqual(sw.map((g) => g.displayName).sort(), ['Mine', 'a-group']);
  });

  test('POST /Users/.search and /Groups/.search', async () => {
    let res = await scim('POST', 'Users/.search', {
      body: { schemas: [SEARCH_REQUEST], filter: `userName eq "${user.userName}"`, attributes: ['userName', 'groups'], startIndex: 1, count: 10 },
    });
    let items = assertList(res, 'users .search');
    assert.deepEqual(res.body.schemas, [LIST_RESPONSE]);
    assert.equal(items.length, 1);
    assert.equal(items[0].id, user.id);
    assert.equal(items[0].emails, undefined);
    assert.deepEqual(items[0].groups.map((g) => g.value), [group.id]);
    res = await scim('POST', 'Groups/.search', {
      body: { schemas: [SEARCH_REQUEST], filter: 'displayName eq "Mine"', excludedAttributes: ['members'] },
    });
    items = assertList(res, 'groups .search');
    assert.equal(items.length, 1);
    assert.equal(items[0].members, undefined);
    res = await scim('POST', 'Groups/.search', { body: { schemas: [SEARCH_REQUEST], sortBy: 'displayName', sortOrder: 'descending', count: 1 } });
    items = assertList(res);
    assert.equal(res.body.totalResults, 4);
    assert.equal(items[0].displayName, 'Mine');
    // count=0 asks for the total only: Resources is [] (required when totalResults > 0)
    for (const type of ['Users', 'Groups']) {
      res = await scim('POST', `${type}/.search`, { body: { schemas: [SEARCH_REQUEST], count: 0 } });
      assertList(res, `${type} .search count=0`);
      assert.ok(res.body.totalResults > 0, `${type} .search count=0 total`);
      assert.equal(res.body.itemsPerPage, 0);
      assert.deepEqual(res.body.Resources, [], `${type} .search count=0: ${res.text}`);
    }
    assertScimError(await scim('POST', 'Users/.search', { body: { filter: 'userName eq' } }), 400, 'invalidFilter');
    assertScimError(await scim('POST', 'Users/.search', { body: { count: 'ten' } }), 400, 'invalidValue');
    assertScimError(await scim('POST', 'Users/.search', { body: { attributes: 'userName', sortOrder: 'sideways' } }), 400, 'invalidValue');
    assertScimError(await scim('POST', 'Groups/.search', { raw: '[1,', contentType: 'application/scim+json' }), 400, 'invalidSyntax');
    assertScimError(await scim('GET', 'Users/.search'), 404);
  });
});
