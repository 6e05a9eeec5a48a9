// SPDX-License-Identifier: Apache-2.0
// Group-to-role mapping (issue #12, seed 004): roles of a tenant, granted to
// the live members of mapped groups; a user's roles follow every membership
// change (group POST/PATCH/PUT/DELETE, user deactivate/delete/reactivate),
// each change leaving a user_roles_changed event with the old and new lists.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, cli, cliRaw, audit, uniq, assertStatus, CORE_USER, PATCH_OP,
} from './lib/harness.mjs';

const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const patch = (...ops) => ({ schemas: [PATCH_OP], Operations: ops });

async function createUser(scim) {
  const userName = `${uniq('r')}@example.com`;
  const res = await scim('POST', 'Users', {
    body: { schemas: [CORE_USER], userName, emails: [{ value: userName, primary: true }] } });
  assertStatus(res, 201, 'create user');
  return res.body;
}

async function createGroup(scim, displayName, members = []) {
  const res = await scim('POST', 'Groups', {
    body: { schemas: [CORE_GROUP], displayName, members: members.map((id) => ({ value: id })) } });
  assertStatus(res, 201, 'create group');
  return res.body;
}

const summaryOf = (e) => (typeof e.summary === 'string' ? JSON.parse(e.summary) : e.summary);

describe('roles follow group membership', { timeout: 120_000 }, () => {
  let env;
  let editors;
  let admins;
  let alice;
  let bob;
  let roleEditor;
  let roleAdmin;

  const rolesOf = (user) => cli(env.db, 'user', 'show', user.id).roles;
  const roleEvents = (user) => audit(env.db, { tenant: env.tenant.id, type: 'user_roles_changed' })
    .filter((e) => e.subject_id === user.id).map(summaryOf);

  before(async () => {
    env = await setup({ vendor: 'okta' });
    alice = await createUser(env.scim);
    bob = await createUser(env.scim);
    editors = await createGroup(env.scim, 'Editors', [alice.id]);
    admins = await createGroup(env.scim, 'Admins');
    roleEditor = cli(env.db, 'role', 'create', '--tenant', env.tenant.id, '--name', 'editor');
    roleAdmin = cli(env.db, 'role', 'create', '--tenant', env.tenant.id, '--name', 'admin');
  });
  after(async () => { if (env) await env.cleanup(); });

  test('mapping a group grants its current members the role', () => {
    assert.deepEqual(rolesOf(alice), []);
    cli(env.db, 'role', 'map', '--role', roleEditor.id, '--group', editors.id);
    // by name within the tenant, and the group by displayName
    cli(env.db, 'role', 'map', '--tenant', env.tenant.id, '--role', 'admin', '--group', 'Admins');
    assert.deepEqual(rolesOf(alice), ['editor']);
    assert.deepEqual(rolesOf(bob), []);
    assert.deepEqual(roleEvents(alice), [{ old: [], new: ['editor'] }]);

    const list = cli(env.db, 'role', 'list', '--tenant', env.tenant.id);
    assert.deepEqual(list.map((r) => [r.name, r.groups.map((g) => g.displayName)]),
      [['admin', ['Admins']], ['editor', ['Editors']]]);
  });

  test('PATCH add / remove members adds and removes roles, with events', async () => {
    let r = await env.scim('PATCH', `Groups/${admins.id}`, {
      body: patch({ op: 'add', path: 'members', value: [{ value: alice.id }, { value: bob.id }] }) });
    assert.ok([200, 204].includes(r.status), r.text);
    assert.deepEqual(rolesOf(alice), ['admin', 'editor']);
    assert.deepEqual(rolesOf(bob), ['admin']);
    assert.deepEqual(roleEvents(alice).at(-1), { old: ['editor'], new: ['admin', 'editor'] });

    r = await env.scim('PATCH', `Groups/${admins.id}`, {
      body: patch({ op: 'remove', path: `members[value eq "${alice.id}"]` }) });
    assert.ok([200, 204].includes(r.status), r.text);
    assert.deepEqual(rolesOf(alice), ['editor']);
    assert.deepEqual(roleEvents(alice).at(-1), { old: ['admin', 'editor'], new: ['editor'] });
    assert.deepEqual(rolesOf(bob), ['admin']);
  });

  test('PUT replacing members moves the role', async () => {
    const r = await env.scim('PUT', `Groups/${editors.id}`, {
      body: { schemas: [CORE_GROUP], displayName: 'Editors', members: [{ value: bob.id }] } });
    assertStatus(r, 200, 'PUT group');
    assert.deepEqual(rolesOf(alice), []);
    assert.deepEqual(rolesOf(bob), ['admin', 'editor']);
  });

  test('deactivation drops roles, reactivation restores them; delete drops them', async () => {
    let r = await env.scim('PATCH', `Users/${bob.id}`, {
      body: patch({ op: 'replace', path: 'active', value: false }) });
    assertStatus(r, 200, 'deactivate');
    assert.deepEqual(rolesOf(bob), []);
    assert.deepEqual(roleEvents(bob).at(-1), { old: ['admin', 'editor'], new: [] });

    r = await env.scim('PATCH', `Users/${bob.id}`, {
      body: patch({ op: 'replace', path: 'active', value: true }) });
    assertStatus(r, 200, 'reactivate');
    assert.deepEqual(rolesOf(bob), ['admin', 'editor']);

    r = await env.scim('DELETE', `Users/${bob.id}`);
    assertStatus(r, 204, 'delete');
    assert.deepEqual(rolesOf(bob), []);
  });

  test('deleting a group removes the roles it granted', async () => {
    const carol = await createUser(env.scim);
    const temp = await createGroup(env.scim, uniq('Temp '), [carol.id]);
    const role = cli(env.db, 'role', 'create', '--tenant', env.tenant.id, '--name', 'temp');
    cli(env.db, 'role', 'map', '--role', role.id, '--group', temp.id);
    assert.deepEqual(rolesOf(carol), ['temp']);
    const r = await env.scim('DELETE', `Groups/${temp.id}`);
    assertStatus(r, 204, 'delete group');
    assert.deepEqual(rolesOf(carol), []);
    assert.deepEqual(roleEvents(carol).at(-1), { old: ['temp'], new: [] });
  });

  test('bad role input is refused', async () => {
    const dup = cliRaw(env.db, ['role', 'create', '--tenant', env.tenant.id, '--name', 'EDITOR']);
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /already has a role/);
    const noGroup = cliRaw(env.db, ['role', 'map', '--role', roleEditor.id, '--group', 'nope']);
    assert.notEqual(noGroup.status, 0);
    assert.match(noGroup.stderr, /no group 'nope'/);
    const noRole = cliRaw(env.db, ['role', 'map', '--role', 'ghost', '--group', editors.id]);
    assert.notEqual(noRole.status, 0);
    assert.match(noRole.stderr, /no role 'ghost'/);
    // a group of another tenant cannot be mapped
    const t2 = cli(env.db, 'tenant', 'create', uniq('Other '));
    const other = env.addIdp(t2.id, 'generic');
    const foreign = await createGroup(other.scim, uniq('Foreign '));
    const cross = cliRaw(env.db, ['role', 'map', '--role', roleEditor.id, '--group', foreign.id]);
    assert.notEqual(cross.status, 0);
    assert.match(cross.stderr, /no group/);
  });
});
