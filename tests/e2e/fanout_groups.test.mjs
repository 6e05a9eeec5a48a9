// SPDX-License-Identifier: Apache-2.0
// What scimd sends downstream (issue #11), end to end with real parts: scimd
// serve, an IdP pushing over inbound SCIM, and the downstream fixture (a scimmy
// SCIM app with fault injection).
//
// Groups pushed to an app created with --push-groups: a granted group is
// created downstream (or, when one of that displayName exists, linked) and
// gets as members the remote accounts of its members, in PATCHes of at most 100
// member changes (the fixture enforces AWS's cap), only once those accounts
// exist; membership changes, a rename, the group's deletion upstream and a
// grant taken back follow (members out, group left; DELETEd when the app
// deletes on deprovision); a PUT-only app gets whole-group PUTs.
//
// Mirrored enterprise attributes: custom fields fed from the enterprise
// extension are sent under it, changes are PATCHed, the manager is named by
// the manager's remote id.
//
// Waits are "eventually, within N s" polls of the fixture's state, never timings.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cli, audit, startServer, scimClient, freshDb, uniq, assertStatus,
  CORE_USER, ENTERPRISE_USER, PATCH_OP,
} from './lib/harness.mjs';
import { startDownstream } from './lib/downstream.mjs';

const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const EVENTUALLY_MS = 30_000;
const MEMBER_CAP = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Poll fn until it returns a truthy value; fail with what after EVENTUALLY_MS. */
async function eventually(fn, what) {
  const deadline = Date.now() + EVENTUALLY_MS;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(150);
  }
  assert.fail(`not within ${EVENTUALLY_MS} ms: ${what} (last: ${JSON.stringify(last)})`);
}

/* A tenant with one IdP connection, a downstream fixture and one app on it;
 * w.stop() ends it all (also when setting up fails half-way). */
async function world(label, appArgs) {
  const w = {};
  w.stop = async () => {
    try {
      if (w.server) await w.server.stop();
    } finally {
      if (w.downstream) await w.downstream.stop();
      if (w.dir && !process.env.SCIMD_E2E_KEEP) rmSync(w.dir, { recursive: true, force: true });
    }
  };
  try {
    await setUp(w, label, appArgs);
  } catch (e) {
    await w.stop().catch(() => {});
    throw e;
  }
  return w;
}

async function setUp(w, label, appArgs) {
  w.dir = mkdtempSync(path.join(tmpdir(), `scimd-${label}-`));
  w.db = freshDb(w.dir);
  w.keyFile = path.join(w.dir, 'app.key');
  w.secret = `ds-${label}-${Math.random().toString(36).slice(2)}`;
  w.downstream = await startDownstream({ token: w.secret });
  await w.downstream.setFaults({ rules: [], maxMemberChanges: MEMBER_CAP });
  w.tenant = cli(w.db, 'tenant', 'create', uniq(`${label} `));
  w.server = await startServer({ db: w.db, args: ['--outbound-allow-private', '--key-file', w.keyFile,
                                                  '--outbound-retry-ms', '50'] });
  w.idp = cli(w.db, 'idp', 'create', '--tenant', w.tenant.id, '--name', 'Partner Okta', '--vendor', 'okta',
              '--public-url', w.server.url);
  const token = cli(w.db, 'token', 'create', '--idp', w.idp.id, '--name', 'e2e');
  w.scim = scimClient(`${w.server.url}/scim/v2/inbound/${w.idp.id}/`, token.token);
  const tokenFile = path.join(w.dir, 'app.token');
  writeFileSync(tokenFile, w.secret, { mode: 0o600 });
  w.app = cli(w.db, 'app', 'create', '--tenant', w.tenant.id, '--name', uniq('App '), '--scim-url',
              w.downstream.base, '--token-file', tokenFile, '--key-file', w.keyFile, ...appArgs);
  w.pushUser = async (userName, extra = {}) => {
    const res = await w.scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName, name: { givenName: 'Ada', familyName: 'Lovelace' },
              emails: [{ value: userName, type: 'work', primary: true }], active: true, ...extra },
    });
    assertStatus(res, 201, 'push user');
    return res.body;
  };
  w.pushGroup = async (displayName, members) => {
    const res = await w.scim('POST', 'Groups', {
      body: { schemas: [CORE_GROUP], displayName, members: members.map((value) => ({ value })) },
    });
    assertStatus(res, 201, 'push group');
    return res.body;
  };
  w.patchGroup = async (groupId, operations) => {
    const res = await w.scim('PATCH', `Groups/${groupId}`, { body: { schemas: [PATCH_OP], Operations: operations } });
    assert.ok(res.status === 200 || res.status === 204, `patch group: ${res.status} ${res.text}`);
  };
  w.patchUser = async (userId, operations) => {
    const res = await w.scim('PATCH', `Users/${userId}`, { body: { schemas: [PATCH_OP], Operations: operations } });
    assertStatus(res, 200, 'patch user');
  };
  /* Downstream resources with attr eq value (never more than one). */
  w.remoteFind = async (kind, attr, value) => {
    const res = await w.downstream.scim('GET', `/${kind}?filter=${encodeURIComponent(`${attr} eq "${value}"`)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.Resources.length <= 1, `duplicate downstream ${kind}: ${JSON.stringify(res.body)}`);
    return res.body.Resources[0] || null;
  };
  w.remoteUser = (userName) => w.remoteFind('Users', 'userName', userName);
  w.remoteGroup = (displayName) => w.remoteFind('Groups', 'displayName', displayName);
  /* Remote member ids of the remote group, sorted. */
  w.remoteMembers = async (remoteGroupId) => {
    const res = await w.downstream.scim('GET', `/Groups/${remoteGroupId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.members ?? []).map((m) => m.value).sort();
  };
  w.appEvents = (type) => audit(w.db, { tenant: w.tenant.id, type, limit: 100000 })
    .filter((e) => e.summary.app === w.app.id);
}

describe('fan-out: groups pushed to an app (--push-groups)', { timeout: 300_000 }, () => {
  let w, ada, bob, eng, engRemote;

  before(async () => { w = await world('groups', ['--push-groups']); });
  after(async () => { if (w) await w.stop(); });

  /* The remote ids of users (by userName), once all exist. */
  async function remoteIds(users) {
    const ids = [];
    for (const u of users) ids.push((await eventually(() => w.remoteUser(u.userName), `${u.userName} downstream`)).id);
    return ids.sort();
  }

  test('a granted group is created downstream with its members, after their accounts', async () => {
    assert.equal(w.app.push_groups, true);
    ada = await w.pushUser(`${uniq('ada')}@example.com`);
    bob = await w.pushUser(`${uniq('bob')}@example.com`);
    eng = await w.pushGroup(uniq('Engineering '), [ada.id, bob.id]);
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', eng.id);
    const want = await remoteIds([ada, bob]);
    const group = await eventually(async () => {
      const g = await w.remoteGroup(eng.displayName);
      return g && (await w.remoteMembers(g.id)).length === 2 && g;
    }, 'group downstream with both members');
    engRemote = group.id;
    assert.equal(group.externalId, eng.id, 'scimd\'s group id is the externalId');
    assert.deepEqual(await w.remoteMembers(engRemote), want);
    // every member value sent was an account that existed: users before groups
    const log = await w.downstream.log();
    const created = new Set(log.filter((r) => r.method === 'POST' && r.path === '/Users' && r.status === 201)
      .map((r) => r.seq));
    const groupCreate = log.find((r) => r.method === 'POST' && r.path === '/Groups');
    assert.ok(groupCreate, 'the group was created');
    assert.equal(groupCreate.body.members, undefined, 'created empty');
    assert.ok(created.size >= 2);
    assert.ok(log.every((r) => r.status < 400), `no failed request: ${JSON.stringify(log.filter((r) => r.status >= 400))}`);
    const pushed = w.appEvents('app_group_pushed').filter((e) => e.subject_id === eng.id);
    assert.ok(pushed.some((e) => e.summary.action === 'created' && e.summary.remote_id === engRemote), JSON.stringify(pushed));
    assert.equal(pushed.reduce((n, e) => n + (e.summary.added ?? 0), 0), 2, 'two members added in all');
    const shown = cli(w.db, 'app', 'show', w.app.id);
    assert.equal(shown.counts.groups, 1, 'app show counts the pushed group');
    assert.equal(shown.push_groups, true);
  });

  test('membership add and remove follow; a removed user leaves the downstream group', async () => {
    const carol = await w.pushUser(`${uniq('carol')}@example.com`);
    await w.patchGroup(eng.id, [{ op: 'add', path: 'members', value: [{ value: carol.id }] }]);
    const [carolRemote] = await remoteIds([carol]);
    await eventually(async () => (await w.remoteMembers(engRemote)).includes(carolRemote), 'carol added');
    await w.patchGroup(eng.id, [{ op: 'remove', path: `members[value eq "${bob.id}"]` }]);
    const bobRemote = (await w.remoteUser(bob.userName)).id;
    await eventually(async () => !(await w.remoteMembers(engRemote)).includes(bobRemote), 'bob removed from the group');
    await eventually(async () => (await w.remoteUser(bob.userName))?.active === false, 'bob deactivated (no access left)');
    assert.equal((await w.remoteMembers(engRemote)).length, 2);
    // a member who loses access (deactivated upstream) leaves the group too
    await w.patchUser(carol.id, [{ op: 'replace', path: 'active', value: false }]);
    await eventually(async () => !(await w.remoteMembers(engRemote)).includes(carolRemote), 'deactivated carol removed');
    await w.patchUser(carol.id, [{ op: 'replace', path: 'active', value: true }]);
    await eventually(async () => (await w.remoteMembers(engRemote)).includes(carolRemote), 'reactivated carol back');
  });

  test('a rename is a displayName PATCH of the same remote group', async () => {
    const name = uniq('Platform ');
    await w.patchGroup(eng.id, [{ op: 'replace', path: 'displayName', value: name }]);
    const g = await eventually(() => w.remoteGroup(name), 'renamed downstream');
    assert.equal(g.id, engRemote);
    assert.equal(await w.remoteGroup(eng.displayName), null, 'old name gone');
    const log = await w.downstream.log();
    assert.ok(log.some((r) => r.method === 'PATCH' && r.path === `/Groups/${engRemote}` &&
      r.body.Operations.some((op) => op.path === 'displayName' && op.value === name)), 'sent a displayName PATCH');
    eng.displayName = name;
  });

  test('a group of the same displayName downstream is linked, not duplicated', async () => {
    const name = uniq('Design ');
    const pre = await w.downstream.scim('POST', '/Groups', { schemas: [CORE_GROUP], displayName: name });
    assert.equal(pre.status, 201, JSON.stringify(pre.body));
    const dee = await w.pushUser(`${uniq('dee')}@example.com`);
    const design = await w.pushGroup(name, [dee.id]);
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', design.id);
    const [deeRemote] = await remoteIds([dee]);
    await eventually(async () => (await w.remoteMembers(pre.body.id)).includes(deeRemote), 'member added to the existing group');
    assert.equal((await w.remoteGroup(name)).id, pre.body.id, 'one group, the existing one');
    const pushed = w.appEvents('app_group_pushed').filter((e) => e.subject_id === design.id);
    assert.ok(pushed.some((e) => e.summary.action === 'linked'), JSON.stringify(pushed));
    assert.ok(!pushed.some((e) => e.summary.action === 'created'));
  });

  test('a group deleted upstream takes scimd\'s members out of the remote group', async () => {
    const gus = await w.pushUser(`${uniq('gus')}@example.com`);
    const temp = await w.pushGroup(uniq('Temp '), [gus.id]);
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', temp.id);
    const [gusRemote] = await remoteIds([gus]);
    const g = await eventually(async () => {
      const r = await w.remoteGroup(temp.displayName);
      return r && (await w.remoteMembers(r.id)).includes(gusRemote) && r;
    }, 'pushed');
    const res = await w.scim('DELETE', `Groups/${temp.id}`);
    assertStatus(res, 204, 'delete group upstream');
    await eventually(async () => (await w.remoteMembers(g.id)).length === 0, 'member removed downstream');
    await eventually(async () => (await w.remoteUser(gus.userName))?.active === false, 'gus deactivated');
  });

  test('a group of more than 100 members reaches an app that caps member changes at 100', async () => {
    const n = 150;
    const users = [];
    for (let i = 0; i < n; i++) users.push(await w.pushUser(`${uniq(`m${i}-`)}@example.com`));
    const big = await w.pushGroup(uniq('Everyone '), users.map((u) => u.id));
    await w.downstream.clearLog();
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', big.id);
    const g = await eventually(async () => {
      const r = await w.remoteGroup(big.displayName);
      return r && (await w.remoteMembers(r.id)).length === n && r;
    }, `${n} members downstream`);
    const log = await w.downstream.log();
    const groupWrites = log.filter((r) => r.path.startsWith('/Groups') && ['POST', 'PUT', 'PATCH'].includes(r.method));
    assert.ok(groupWrites.length >= 3, 'create plus at least two member PATCHes');
    for (const r of groupWrites) {
      const changes = r.method === 'PATCH'
        ? r.body.Operations.reduce((k, op) => k + (Array.isArray(op.value) ? op.value.length : 1), 0)
        : (r.body.members ?? []).length;
      assert.ok(changes <= MEMBER_CAP, `${r.method} with ${changes} member changes`);
      assert.ok(r.status < 400, `${r.method} ${r.path} -> ${r.status}`);
    }
    assert.deepEqual(await w.remoteMembers(g.id), await remoteIds(users));
    assert.equal(cli(w.db, 'app', 'show', w.app.id).counts.dead, 0);
  });

  test('a grant taken back takes scimd\'s members out and leaves the group', async () => {
    cli(w.db, 'grant', 'remove', '--app', w.app.id, '--group', eng.id);
    await eventually(async () => (await w.remoteMembers(engRemote)).length === 0, 'members removed');
    assert.equal((await w.remoteGroup(eng.displayName))?.id, engRemote, 'the group stays');
    await eventually(() => w.appEvents('app_group_pushed')
      .some((e) => e.subject_id === eng.id && e.summary.action === 'released'), 'released recorded');
    await eventually(async () => (await w.remoteUser(ada.userName))?.active === false, 'ada deactivated');
  });

  test('a failing group request is audited as app_request_failed and retried', async () => {
    const erin = await w.pushUser(`${uniq('erin')}@example.com`);
    const ops = await w.pushGroup(uniq('Ops '), [erin.id]);
    await w.downstream.setFaults({ rules: [{ method: 'POST', path: '^/Groups$', count: 2, status: 500 }],
                                   maxMemberChanges: MEMBER_CAP });
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', ops.id);
    const [erinRemote] = await remoteIds([erin]);
    const g = await eventually(async () => {
      const r = await w.remoteGroup(ops.displayName);
      return r && (await w.remoteMembers(r.id)).includes(erinRemote) && r;
    }, 'group pushed after the failures');
    assert.ok(g);
    const failures = w.appEvents('app_request_failed').filter((e) => e.subject_id === ops.id);
    assert.equal(failures.length, 2, JSON.stringify(failures));
    assert.equal(failures[0].summary.status, 500);
    assert.equal(failures[0].summary.request, 'create group');
  });
});

describe('fan-out: a group pushed to an app that deletes on deprovision', { timeout: 120_000 }, () => {
  let w;
  before(async () => { w = await world('groups-del', ['--push-groups', '--deprovision', 'delete']); });
  after(async () => { if (w) await w.stop(); });

  test('a grant taken back DELETEs the remote group', async () => {
    const fay = await w.pushUser(`${uniq('fay')}@example.com`);
    const team = await w.pushGroup(uniq('Team '), [fay.id]);
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', team.id);
    const g = await eventually(async () => {
      const r = await w.remoteGroup(team.displayName);
      return r && (await w.remoteMembers(r.id)).length === 1 && r;
    }, 'pushed');
    cli(w.db, 'grant', 'remove', '--app', w.app.id, '--group', team.id);
    await eventually(async () => (await w.remoteGroup(team.displayName)) === null, 'group deleted downstream');
    await eventually(async () => (await w.remoteUser(fay.userName)) === null, 'user deleted downstream');
    const log = await w.downstream.log();
    assert.ok(log.some((r) => r.method === 'DELETE' && r.path === `/Groups/${g.id}`));
    assert.ok(w.appEvents('app_group_pushed').some((e) => e.subject_id === team.id && e.summary.action === 'deleted'));
  });
});

describe('fan-out: a group pushed to a PUT-only app', { timeout: 120_000 }, () => {
  let w;
  before(async () => {
    w = await world('groups-put', ['--push-groups', '--put-only']);
    await w.downstream.setFaults({ rules: [], putOnly: true, maxMemberChanges: MEMBER_CAP });
  });
  after(async () => { if (w) await w.stop(); });

  test('membership and renames go as PUTs of the whole group, never PATCH', async () => {
    const hal = await w.pushUser(`${uniq('hal')}@example.com`);
    const ivy = await w.pushUser(`${uniq('ivy')}@example.com`);
    const team = await w.pushGroup(uniq('Crew '), [hal.id, ivy.id]);
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--group', team.id);
    const g = await eventually(async () => {
      const r = await w.remoteGroup(team.displayName);
      return r && (await w.remoteMembers(r.id)).length === 2 && r;
    }, 'pushed with both members');
    await w.patchGroup(team.id, [{ op: 'remove', path: `members[value eq "${ivy.id}"]` },
                                 { op: 'replace', path: 'displayName', value: `${team.displayName} 2` }]);
    const halRemote = (await w.remoteUser(hal.userName)).id;
    await eventually(async () => {
      const r = await w.remoteGroup(`${team.displayName} 2`);
      return r && r.id === g.id && JSON.stringify(await w.remoteMembers(r.id)) === JSON.stringify([halRemote]);
    }, 'renamed, ivy out');
    const log = await w.downstream.log();
    assert.ok(log.some((r) => r.method === 'PUT' && r.path === `/Groups/${g.id}`), 'sent a PUT');
    assert.ok(!log.some((r) => r.method === 'PATCH'), 'never a PATCH');
  });
});

describe('fan-out: mirrored enterprise attributes', { timeout: 120_000 }, () => {
  let w;
  before(async () => {
    w = await world('enterprise', []);
    for (const [field, attr] of [['department', 'department'], ['employee_number', 'employeeNumber'],
                                 ['manager_id', 'manager.value']]) {
      cli(w.db, 'field', 'add', '--tenant', w.tenant.id, '--name', field);
      cli(w.db, 'mirror', 'set', '--tenant', w.tenant.id, '--field', field, '--path', `${ENTERPRISE_USER}:${attr}`);
    }
  });
  after(async () => { if (w) await w.stop(); });

  test('are sent under the enterprise extension; changes are PATCHed; the manager is the remote id', async () => {
    const boss = await w.pushUser(`${uniq('boss')}@example.com`);
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--user', boss.id);
    const bossRemote = await eventually(() => w.remoteUser(boss.userName), 'boss downstream');
    const emp = await w.pushUser(`${uniq('emp')}@example.com`, {
      schemas: [CORE_USER, ENTERPRISE_USER],
      [ENTERPRISE_USER]: { department: 'Research', employeeNumber: '701', manager: { value: boss.id } },
    });
    cli(w.db, 'grant', 'add', '--app', w.app.id, '--user', emp.id);
    const acct = await eventually(async () => {
      const a = await w.remoteUser(emp.userName);
      return a?.[ENTERPRISE_USER] && a;
    }, 'enterprise attributes downstream');
    assert.ok(acct.schemas.includes(ENTERPRISE_USER), JSON.stringify(acct.schemas));
    assert.equal(acct[ENTERPRISE_USER].department, 'Research');
    assert.equal(acct[ENTERPRISE_USER].employeeNumber, '701');
    assert.equal(acct[ENTERPRISE_USER].manager?.value, bossRemote.id, 'manager as the app knows them');

    await w.downstream.clearLog();
    await w.patchUser(emp.id, [{ op: 'replace', path: `${ENTERPRISE_USER}:department`, value: 'Sales' }]);
    const changed = await eventually(async () => {
      const a = await w.remoteUser(emp.userName);
      return a?.[ENTERPRISE_USER]?.department === 'Sales' && a;
    }, 'department PATCHed downstream');
    assert.equal(changed.id, acct.id);
    assert.equal(changed[ENTERPRISE_USER].employeeNumber, '701', 'the rest kept');
    const patches = (await w.downstream.log()).filter((r) => r.method === 'PATCH' && r.path === `/Users/${acct.id}`);
    assert.equal(patches.length, 1, JSON.stringify(patches));
    assert.deepEqual(patches[0].body.Operations, [
      { op: 'replace', value: { [ENTERPRISE_USER]: { department: 'Sales' } } },
    ], 'only the changed attribute');

    // an attribute no longer sent upstream is removed downstream by its path
    await w.patchUser(emp.id, [{ op: 'remove', path: `${ENTERPRISE_USER}:employeeNumber` }]);
    await eventually(async () => {
      const a = await w.remoteUser(emp.userName);
      return a && a[ENTERPRISE_USER] && a[ENTERPRISE_USER].employeeNumber === undefined;
    }, 'employeeNumber removed downstream');
  });
});
