// SPDX-License-Identifier: Apache-2.0
// Attribute mirroring (issue #12, seeds 001-003): custom canonical fields,
// the tenant mapping and its per-connection override, re-derivation of
// existing users when the mapping changes (in the background, with progress,
// resuming after kill -9), and a tenant's own SCIM extension schema (in
// /Schemas and /ResourceTypes, validated like the built-in ones).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  setup, startServer, scimClient, http, cli, cliRaw, audit, uniq, assertStatus, assertScimError, CORE_USER, ENTERPRISE_USER, PATCH_OP,
} from './lib/harness.mjs';

const DEPT = `${ENTERPRISE_USER}:department`;
const EXT = 'urn:example:params:scim:schemas:extension:acme:2.0:User';

async function createUser(scim, extra = {}) {
  const userName = `${uniq('m')}@example.com`;
  const res = await scim('POST', 'Users', {
    body: { schemas: [CORE_USER, ENTERPRISE_USER], userName, displayName: 'Ada L',
            name: { givenName: 'Ada', familyName: 'Lovelace' },
            emails: [{ value: userName, type: 'work', primary: true }], ...extra },
  });
  assertStatus(res, 201, 'create user');
  return res.body;
}

const show = (env, id) => cli(env.db, 'user', 'show', id);

describe('attribute mirroring', { timeout: 120_000 }, () => {
  let env;
  before(async () => { env = await setup({ vendor: 'okta' }); });
  after(async () => { if (env) await env.cleanup(); });

  test('defaults are the built-in mapping; mirror show says so', () => {
    const map = cli(env.db, 'mirror', 'show', '--tenant', env.tenant.id);
    const byField = Object.fromEntries(map.fields.map((f) => [f.field, f]));
    assert.equal(byField.username.path, 'userName');
    assert.equal(byField.email.path, 'emails.value');
    assert.equal(byField.given_name.path, 'name.givenName');
    assert.equal(byField.display_name.source, 'default');
  });

  test('mapping change re-derives existing users: department becomes a custom field', async () => {
    const users = [];
    for (const dept of ['Sales', 'Research']) {
      users.push(await createUser(env.scim, { [ENTERPRISE_USER]: { department: dept, employeeNumber: '42' } }));
    }
    assert.equal(show(env, users[0].id).custom_fields.department, undefined, 'no field before it exists');

    const field = cli(env.db, 'field', 'add', '--tenant', env.tenant.id, '--name', 'department');
    assert.equal(field.type, 'string');
    const r = cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, '--field', 'department', '--path', DEPT]);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.ok(res.users >= 2, JSON.stringify(res));
    assert.ok(res.changed >= 2, JSON.stringify(res));
    assert.match(r.stderr, /re-derived \d+ of \d+ users/, 'progress printed');

    assert.equal(show(env, users[0].id).custom_fields.department, 'Sales');
    assert.equal(show(env, users[1].id).custom_fields.department, 'Research');
    // the IdP row is unchanged: the attribute is still returned to the IdP
    const got = await env.scim('GET', `Users/${users[0].id}`);
    assert.equal(got.body[ENTERPRISE_USER].department, 'Sales');

    const changed = audit(env.db, { tenant: env.tenant.id, type: 'mirroring_changed' });
    assert.equal(changed.length, 1);
    const summary = typeof changed[0].summary === 'string' ? JSON.parse(changed[0].summary) : changed[0].summary;
    assert.equal(summary.field, 'department');
    assert.equal(summary.path, DEPT);
    assert.equal(audit(env.db, { tenant: env.tenant.id, type: 'users_rederived' }).length, 1);

    // later writes keep following the mapping
    const p = await env.scim('PATCH', `Users/${users[0].id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: DEPT, value: 'Marketing' }] },
    });
    assertStatus(p, 200, 'patch department');
    assert.equal(show(env, users[0].id).custom_fields.department, 'Marketing');
    // new users get it at creation
    const fresh = await createUser(env.scim, { [ENTERPRISE_USER]: { department: 'Ops' } });
    assert.equal(show(env, fresh.id).custom_fields.department, 'Ops');
  });

  test('a built-in field remapped; an IdP override beats the tenant mapping', async () => {
    const other = env.addIdp(env.tenant.id, 'generic');
    const a = await createUser(env.scim, { nickName: 'Countess', [ENTERPRISE_USER]: { employeeNumber: 'E-1' } });
    const b = await createUser(other.scim, { nickName: 'Babbage', [ENTERPRISE_USER]: { employeeNumber: 'E-2' } });

    cli(env.db, 'mirror', 'set', '--tenant', env.tenant.id, '--field', 'display_name', '--path', 'nickName');
    cli(env.db, 'field', 'add', '--tenant', env.tenant.id, '--name', 'employee_number');
    cli(env.db, 'mirror', 'set', '--tenant', env.tenant.id, '--field', 'employee_number',
        '--path', `${ENTERPRISE_USER}:employeeNumber`);
    cli(env.db, 'mirror', 'set', '--tenant', env.tenant.id, '--idp', other.idp.id,
        '--field', 'display_name', '--path', 'name.familyName');

    assert.equal(show(env, a.id).display_name, 'Countess', 'tenant mapping');
    assert.equal(show(env, b.id).display_name, 'Lovelace', 'IdP override');
    assert.equal(show(env, a.id).custom_fields.employee_number, 'E-1');
    assert.equal(show(env, b.id).custom_fields.employee_number, 'E-2');

    const map = cli(env.db, 'mirror', 'show', '--tenant', env.tenant.id, '--idp', other.idp.id);
    const dn = map.fields.find((f) => f.field === 'display_name');
    assert.deepEqual([dn.path, dn.source], ['name.familyName', 'idp']);
    const tenantMap = cli(env.db, 'mirror', 'show', '--tenant', env.tenant.id);
    const dn2 = tenantMap.fields.find((f) => f.field === 'display_name');
    assert.deepEqual([dn2.path, dn2.source], ['nickName', 'tenant']);

    // the text form of user show prints the canonical fields, custom ones included
    const text = cliRaw(env.db, ['user', 'show', a.id], { json: false });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /display name: Countess/);
    assert.match(text.stdout, /employee_number\s+E-1/);
  });

  test('bad mapping input is refused with a clear message', () => {
    const cases = [
      [['--field', 'nosuch', '--path', 'userName'], /no field 'nosuch'/],
      [['--field', 'display_name', '--path', 'noSuchAttr'], /unknown attribute|noSuchAttr/],
      [['--field', 'display_name', '--path', 'name'], /complex/],
      [['--field', 'display_name', '--path', 'userName', '--idp', 'nope'], /no IdP connection/],
    ];
    for (const [args, re] of cases) {
      const r = cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, ...args]);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    const dup = cliRaw(env.db, ['field', 'add', '--tenant', env.tenant.id, '--name', 'department']);
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /already has a field/);
    const bad = cliRaw(env.db, ['field', 'add', '--tenant', env.tenant.id, '--name', 'Bad Name']);
    assert.notEqual(bad.status, 0);
    const builtin = cliRaw(env.db, ['field', 'add', '--tenant', env.tenant.id, '--name', 'email']);
    assert.notEqual(builtin.status, 0);
  });
});

describe('tenant extension schema', { timeout: 120_000 }, () => {
  let env;
  before(async () => { env = await setup({ vendor: 'entra' }); });
  after(async () => { if (env) await env.cleanup(); });

  test('declared schema: in /Schemas and /ResourceTypes, accepted, validated, mirrorable', async () => {
    cli(env.db, 'schema', 'add', '--tenant', env.tenant.id, '--urn', EXT,
        '--attr', 'badge:integer,site:string,contractor:boolean');

    const schemas = await env.scim('GET', 'Schemas');
    assertStatus(schemas, 200, 'Schemas');
    const ext = schemas.body.Resources.find((s) => s.id === EXT);
    assert.ok(ext, `tenant schema listed: ${JSON.stringify(schemas.body.Resources.map((s) => s.id))}`);
    assert.deepEqual(ext.attributes.map((a) => [a.name, a.type]),
      [['badge', 'integer'], ['site', 'string'], ['contractor', 'boolean']]);
    const one = await env.scim('GET', `Schemas/${EXT}`);
    assertStatus(one, 200, 'Schemas/{urn}');
    const rts = await env.scim('GET', 'ResourceTypes');
    const userRt = rts.body.Resources.find((r) => r.id === 'User');
    assert.ok(userRt.schemaExtensions.some((e) => e.schema === EXT && e.required === false),
      JSON.stringify(userRt.schemaExtensions));
    const rt = await env.scim('GET', 'ResourceTypes/User');
    assert.ok(rt.body.schemaExtensions.some((e) => e.schema === EXT));

    const u = await createUser(env.scim, { [EXT]: { badge: 7, site: 'Lyon', contractor: 'True' } });
    assert.deepEqual(u[EXT], { badge: 7, site: 'Lyon', contractor: true });
    assert.ok(u.schemas.includes(EXT), JSON.stringify(u.schemas));

    // wrong type and unknown attribute: 400 invalidValue, nothing stored
    const wrong = await env.scim('POST', 'Users', {
      body: { schemas: [CORE_USER, EXT], userName: `${uniq('w')}@example.com`, [EXT]: { badge: 'seven' } } });
    assertScimError(wrong, 400, 'invalidValue', 'wrong type');
    const unknown = await env.scim('POST', 'Users', {
      body: { schemas: [CORE_USER, EXT], userName: `${uniq('w')}@example.com`, [EXT]: { floor: 3 } } });
    assertScimError(unknown, 400, 'invalidValue', 'unknown attribute');
    const patched = await env.scim('PATCH', `Users/${u.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${EXT}:badge`, value: 'x' }] } });
    assertScimError(patched, 400, 'invalidValue', 'PATCH wrong type');
    const put = await env.scim('PUT', `Users/${u.id}`, {
      body: { schemas: [CORE_USER, EXT], userName: u.userName, [EXT]: { site: 'Paris', badge: 8 } } });
    assertStatus(put, 200, 'PUT with the extension');
    assert.equal(put.body[EXT].site, 'Paris');

    // mirrorable into a typed custom field
    cli(env.db, 'field', 'add', '--tenant', env.tenant.id, '--name', 'badge', '--type', 'integer');
    cli(env.db, 'mirror', 'set', '--tenant', env.tenant.id, '--field', 'badge', '--path', `${EXT}:badge`);
    assert.equal(show(env, u.id).custom_fields.badge, 8);

    const listed = cli(env.db, 'schema', 'list', '--tenant', env.tenant.id);
    assert.deepEqual(listed.map((s) => s.id), [EXT]);
  });

  test('another tenant does not see the schema', async () => {
    const t2 = cli(env.db, 'tenant', 'create', uniq('Other '));
    const other = env.addIdp(t2.id, 'generic');
    const schemas = await other.scim('GET', 'Schemas');
    assert.ok(!schemas.body.Resources.some((s) => s.id === EXT));
    const miss = await other.scim('GET', `Schemas/${EXT}`);
    assertScimError(miss, 404, undefined, 'schema of another tenant');
  });

  test('bad schema declarations are refused', () => {
    const bad = [
      ['urn:ietf:params:scim:schemas:core:2.0:User', 'a:string'],
      ['not-a-urn', 'a:string'],
      [EXT + 'x', 'a:float'],
      [EXT + 'y', 'a:string,a:integer'],
      [EXT + 'z', '1a:string'],
      [EXT, 'b:string'],
    ];
    for (const [urn, attrs] of bad) {
      const r = cliRaw(env.db, ['schema', 'add', '--tenant', env.tenant.id, '--urn', urn, '--attr', attrs]);
      assert.notEqual(r.status, 0, `${urn} ${attrs}`);
      assert.match(r.stderr, /scimd: /);
    }
  });
});

describe('re-derivation in the background', { timeout: 240_000 }, () => {
  const USERS = 300;
  // small, paced batches: the job lasts long enough to be watched and killed
  const args = ['--rederive-batch', '10', '--rederive-pause-ms', '100'];
  let env;
  let key;
  const ids = [];
  before(async () => {
    env = await setup({ vendor: 'okta', args });
    const pw = path.join(env.dir, 'pw.txt');
    writeFileSync(pw, 'correct horse battery staple\n');
    cli(env.db, 'admin', 'create', '--email', 'root@rederive.test', '--role', 'super', '--password-file', pw);
    key = cli(env.db, 'admin', 'key', 'create', '--name', 'rederive', '--admin', 'root@rederive.test').key;
    for (let i = 0; i < USERS; i += 25) {
      const batch = [];
      for (let n = i; n < Math.min(USERS, i + 25); n++) {
        batch.push(env.scim('POST', 'Users', {
          body: { schemas: [CORE_USER, ENTERPRISE_USER], userName: `bg${n}@example.com`, [ENTERPRISE_USER]: { department: `d${n}` } },
        }));
      }
      for (const res of await Promise.all(batch)) {
        assertStatus(res, 201, res.text);
        ids.push(res.body.id);
      }
    }
    cli(env.db, 'field', 'add', '--tenant', env.tenant.id, '--name', 'dept');
  });
  after(async () => { if (env) await env.cleanup(); });

  const progress = async () => {
    const res = await http('GET', `${env.server.url}/admin/api/v1/tenants/${env.tenant.id}/rederive`,
      { headers: { Authorization: `Bearer ${key}` } });
    assertStatus(res, 200, res.text);
    return res.body;
  };
  const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

  test('a mapping change answers at once; the server re-derives in batches with visible progress; resumes after kill -9', async () => {
    const r = cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, '--field', 'dept', '--path', DEPT, '--no-wait']);
    assert.equal(r.status, 0, r.stderr);
    const started = JSON.parse(r.stdout).job;
    assert.equal(started.state, 'running');
    assert.equal(started.total, USERS);
    assert.equal(started.done, 0, 'the change itself re-derives nobody');
    // the job walks users by id; the one with the greatest id comes in the last batch, seconds away
    const lastInOrder = [...ids].sort().at(-1);
    assert.equal(show(env, lastInOrder).custom_fields.dept, undefined, 'not yet re-derived');

    // progress, part way
    let seen = await progress();
    for (let i = 0; i < 600 && !(seen.done > 0); i++) {
      await sleep(20);
      seen = await progress();
    }
    assert.equal(seen.id, started.id);
    assert.equal(seen.state, 'running', JSON.stringify(seen));
    assert.ok(seen.done > 0 && seen.done < USERS, `part way: ${JSON.stringify(seen)}`);

    // a SCIM write meanwhile derives with the new mapping by itself
    const late = await env.scim('POST', 'Users', {
      body: { schemas: [CORE_USER, ENTERPRISE_USER], userName: 'late@example.com', [ENTERPRISE_USER]: { department: 'late' } },
    });
    assertStatus(late, 201, late.text);
    assert.equal(show(env, late.body.id).custom_fields.dept, 'late');

    // kill -9 mid-job, then start again on the same database
    const exited = new Promise((resolve) => env.server.child.once('exit', (code, signal) => resolve({ code, signal })));
    env.server.child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    const atKill = cli(env.db, 'mirror', 'progress', '--tenant', env.tenant.id).job;
    assert.equal(atKill.state, 'running', JSON.stringify(atKill));
    assert.ok(atKill.done > 0 && atKill.done < USERS, JSON.stringify(atKill));
    env.server = await startServer({ db: env.db, args });

    let last = atKill.done;
    let end = await progress();
    for (let i = 0; i < 1200 && end.state === 'running'; i++) {
      assert.ok(end.done >= last, `never back to the start: ${end.done} after ${last}`);
      last = end.done;
      await sleep(50);
      end = await progress();
    }
    assert.equal(end.state, 'done', JSON.stringify(end));
    assert.equal(end.id, started.id);
    assert.equal(end.done, USERS + 1, 'every user once, the late one included: resumed, not restarted');
    assert.equal(end.changed, USERS, 'the late user already had its value');
    assert.equal(end.total, USERS + 1);
    assert.ok(end.finished_at);
    for (const n of [0, 1, 137, USERS - 1]) {
      assert.equal(show(env, ids[n]).custom_fields.dept, `d${n}`, `user ${n}`);
    }
    const done = audit(env.db, { tenant: env.tenant.id, type: 'users_rederived' });
    assert.equal(done.length, 1);
    assert.deepEqual(done[0].summary, { job_id: started.id, users: USERS + 1, changed: USERS, failed: 0 });
    assert.equal(end.failed, 0);
    const changed = audit(env.db, { tenant: env.tenant.id, type: 'mirroring_changed' });
    assert.equal(changed.at(-1).summary.rederive_job, started.id);
  });

  test('a newer change supersedes the running job; the CLI follows the server and prints progress', async () => {
    const first = JSON.parse(cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, '--field', 'dept',
      '--path', 'userName', '--no-wait']).stdout).job;
    const r = cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, '--field', 'dept', '--path', DEPT]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.job.state, 'done');
    assert.notEqual(out.job.id, first.id);
    assert.equal(out.users, USERS + 1);
    assert.match(r.stderr, new RegExp(`re-derived ${USERS + 1} of ${USERS + 1} users`), 'progress printed');
    const old = cli(env.db, 'mirror', 'progress', '--tenant', env.tenant.id, '--job', first.id).job;
    assert.equal(old.state, 'superseded');
    assert.equal(show(env, ids[5]).custom_fields.dept, 'd5', 'the newest mapping holds');
    const text = cliRaw(env.db, ['mirror', 'progress', '--tenant', env.tenant.id], { json: false });
    assert.match(text.stdout, new RegExp(`${USERS + 1} users re-derived, \\d+ changed`));
    const miss = await http('GET', `${env.server.url}/admin/api/v1/tenants/${env.tenant.id}/rederive?job=nope`,
      { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(miss.status, 404);
  });

  test('a user whose re-derive keeps failing is skipped after bounded attempts, counted, audited; the job ends', async () => {
    // a title longer than any indexed value may be: mapped to email, that user can never be written
    const scim = scimClient(`${env.server.url}/scim/v2/inbound/${env.idp.id}/`, env.token.token); // the restarted server
    const bad = await scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName: 'toolong@example.com', title: 't'.repeat(2000) },
    });
    assertStatus(bad, 201, bad.text);
    const r = cliRaw(env.db, ['mirror', 'set', '--tenant', env.tenant.id, '--field', 'email', '--path', 'title', '--no-wait']);
    assert.equal(r.status, 0, r.stderr);
    const started = JSON.parse(r.stdout).job;
    let end = await progress();
    for (let i = 0; i < 1200 && end.state === 'running'; i++) {
      await sleep(50);
      end = await progress();
    }
    assert.equal(end.id, started.id);
    assert.equal(end.state, 'done', `the job ends: ${JSON.stringify(end)}`);
    assert.equal(end.failed, 1, JSON.stringify(end));
    assert.equal(end.done, USERS + 2, 'every other user was re-derived');
    const failed = audit(env.db, { tenant: env.tenant.id, type: 'rederive_user_failed' });
    assert.equal(failed.length, 1);
    assert.equal(failed[0].subject_id, bad.body.id);
    assert.equal(failed[0].summary.job_id, started.id);
    assert.equal(failed[0].summary.attempts, 5);
    assert.equal(failed[0].summary.error, 'invalid value');
    const rederived = audit(env.db, { tenant: env.tenant.id, type: 'users_rederived' }).at(-1);
    assert.deepEqual(rederived.summary, { job_id: started.id, users: USERS + 2, changed: rederived.summary.changed, failed: 1 });
    const cliJob = cli(env.db, 'mirror', 'progress', '--tenant', env.tenant.id).job;
    assert.equal(cliJob.failed, 1);
    const text = cliRaw(env.db, ['mirror', 'progress', '--tenant', env.tenant.id], { json: false });
    assert.match(text.stdout, /1 failed and skipped/);
    assert.equal(show(env, ids[7]).email, 'bg7@example.com', 'the others were still re-derived');
    assert.notEqual(show(env, bad.body.id).email?.length, 2000, 'the failing user kept its old email');
  });
});
