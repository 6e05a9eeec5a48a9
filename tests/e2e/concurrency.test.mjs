// SPDX-License-Identifier: Apache-2.0
// Concurrency: 64 clients at once against one server, as IdPs running
// parallel provisioning jobs do.  Checked:
//   - creates, PATCHes and DELETEs of distinct users: every acknowledged
//     change is there with its audit event, nothing else is;
//   - clients racing to create the same externalId: one user, the others
//     merge into it (201 with the same id);
//   - clients racing to create the same userName with different
//     externalIds: one user, the others get 409 uniqueness;
//   - clients racing PATCHes on one user: no lost update (every added email
//     is there, every If-Match read-modify-write landed exactly once, the
//     version counts every change);
//   - a DELETE racing PATCHes: the user ends deleted, every PATCH either
//     landed before it or got 404;
//   - and nobody ever sees a 5xx (the harness fails on one) or a busy
//     database.
// Backend-neutral: the same assertions hold on SQLite and PostgreSQL.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, audit, filterPath, assertList, assertStatus, assertScimError, assertUserResource,
  CORE_USER, PATCH_OP,
} from './lib/harness.mjs';

const CLIENTS = 64;
const ROUNDS = 3;         // users each client creates in the first test
const RACE_KEYS = 8;      // distinct keys raced on by CLIENTS / RACE_KEYS clients each
const RMW_CLIENTS = 16;   // of CLIENTS in the PATCH race: If-Match read-modify-write
const RMW_ATTEMPTS = 400; // 412 retries before a read-modify-write client gives up

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const range = (n) => Array.from({ length: n }, (_, i) => i);

describe('64 clients at once', { timeout: 120_000 }, () => {
  let env;
  let scim;
  const seen = []; // every response, to look for a busy database at the end

  before(async () => {
    env = await setup({ vendor: 'generic' });
    scim = async (method, path, opts) => {
      const res = await env.scim(method, path, opts);
      seen.push(`${method} ${path} -> ${res.status} ${res.text.slice(0, 300)}`);
      return res;
    };
  });
  after(async () => { if (env) await env.cleanup(); });

  const userBody = (userName, externalId, over = {}) => ({
    schemas: [CORE_USER], userName, externalId,
    name: { givenName: 'Con', familyName: 'Current' },
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
    ...over,
  });
  const patchOps = (ops, headers) => ({ body: { schemas: [PATCH_OP], Operations: ops }, headers });
  const events = (type) => audit(env.db, { idp: env.idp.id, type, limit: 100_000 });

  test('creates, PATCHes and DELETEs of distinct users: all acknowledged, nothing else', async () => {
    const done = []; // {id, userName, deleted}
    await Promise.all(range(CLIENTS).map(async (n) => {
      for (let k = 0; k < ROUNDS; k++) {
        const userName = `c${n}-${k}@conc.test`;
        let res = await scim('POST', 'Users', { body: userBody(userName, `cx-${n}-${k}`) });
        assertStatus(res, 201, `POST ${userName}`);
        const { id } = res.body;
        res = await scim('PATCH', `Users/${id}`, patchOps([
          { op: 'replace', path: 'displayName', value: `D ${n} ${k}` },
          { op: 'add', path: 'emails', value: [{ value: `second-${n}-${k}@conc.test`, type: 'home' }] },
        ]));
        assertStatus(res, 200, `PATCH ${userName}`);
        const deleted = (n + k) % 3 === 0;
        if (deleted) assertStatus(await scim('DELETE', `Users/${id}`), 204, `DELETE ${userName}`);
        done.push({ id, userName, n, k, deleted });
      }
    }));
    assert.equal(done.length, CLIENTS * ROUNDS);

    await Promise.all(done.map(async (u) => {
      const res = await scim('GET', `Users/${u.id}`);
      if (u.deleted) {
        assertScimError(res, 404, undefined, `deleted ${u.userName}`);
        return;
      }
      assertStatus(res, 200, `GET ${u.userName}`);
      assertUserResource(res.body, env.base, u.userName);
      assert.equal(res.body.userName, u.userName);
      assert.equal(res.body.displayName, `D ${u.n} ${u.k}`);
      assert.deepEqual(res.body.emails.map((e) => e.value).sort(),
        [u.userName, `second-${u.n}-${u.k}@conc.test`].sort(), `emails of ${u.userName}`);
    }));

    const live = done.filter((u) => !u.deleted);
    const listed = assertList(await scim('GET', 'Users?count=1000'), 'list');
    assert.deepEqual(listed.map((u) => u.id).sort(), live.map((u) => u.id).sort(), 'listed users');

    const created = events('scim_user_created').map((e) => e.subject_id);
    assert.deepEqual(created.sort(), done.map((u) => u.id).sort(), 'one scim_user_created per user');
    const deleted = events('scim_user_deleted').map((e) => e.subject_id);
    assert.deepEqual(deleted.sort(), done.filter((u) => u.deleted).map((u) => u.id).sort(),
      'one scim_user_deleted per deleted user');
  });

  test('clients racing to create one externalId end with one user (the others merge)', async () => {
    const results = await Promise.all(range(CLIENTS).map(async (n) => {
      const key = n % RACE_KEYS;
      const res = await scim('POST', 'Users', { body: userBody(`same-ext-${key}@conc.test`, `same-ext-${key}`) });
      return { key, res };
    }));
    for (let key = 0; key < RACE_KEYS; key++) {
      const mine = results.filter((r) => r.key === key);
      for (const { res } of mine) assertStatus(res, 201, `racing POST of externalId same-ext-${key}`);
      const ids = new Set(mine.map(({ res }) => res.body.id));
      assert.equal(ids.size, 1, `one id for externalId same-ext-${key}: ${[...ids].join(', ')}`);
      const found = assertList(await scim('GET', filterPath(`externalId eq "same-ext-${key}"`)));
      assert.equal(found.length, 1, `users with externalId same-ext-${key}`);
      assert.equal(found[0].id, [...ids][0]);
      const byName = assertList(await scim('GET', filterPath(`userName eq "same-ext-${key}@conc.test"`)));
      assert.equal(byName.length, 1);
    }
    const racedIds = new Set(results.map(({ res }) => res.body.id));
    const created = events('scim_user_created').filter((e) => racedIds.has(e.subject_id));
    assert.equal(created.length, RACE_KEYS, 'exactly one scim_user_created per raced externalId');
    const merged = events('scim_user_merged').filter((e) => racedIds.has(e.subject_id));
    assert.equal(merged.length, CLIENTS - RACE_KEYS, 'every other POST merged');
  });

  test('clients racing to create one userName: one wins, the others get 409 uniqueness', async () => {
    const results = await Promise.all(range(CLIENTS).map(async (n) => {
      const key = n % RACE_KEYS;
      const res = await scim('POST', 'Users', { body: userBody(`same-name-${key}@conc.test`, `own-ext-${n}`) });
      return { key, res };
    }));
    for (let key = 0; key < RACE_KEYS; key++) {
      const mine = results.filter((r) => r.key === key);
      const won = mine.filter(({ res }) => res.status === 201);
      assert.equal(won.length, 1, `one 201 for userName same-name-${key}: ${mine.map(({ res }) => res.status).join(' ')}`);
      for (const { res } of mine.filter(({ res: r }) => r.status !== 201)) {
        assertScimError(res, 409, 'uniqueness', `losing POST of same-name-${key}`);
      }
      const found = assertList(await scim('GET', filterPath(`userName eq "same-name-${key}@conc.test"`)));
      assert.equal(found.length, 1, `users named same-name-${key}`);
      assert.equal(found[0].id, won[0].res.body.id);
    }
  });

  test('racing PATCHes on one user lose no update', async () => {
    let res = await scim('POST', 'Users', { body: userBody('shared@conc.test', 'shared') });
    assertStatus(res, 201);
    const { id } = res.body;
    const start = Number(res.body.meta.version.match(/"(\d+)"/)[1]);
    const adders = range(CLIENTS - RMW_CLIENTS);
    const rmw = range(RMW_CLIENTS);
    let retries = 0;

    await Promise.all([
      ...adders.map(async (n) => {
        const r = await scim('PATCH', `Users/${id}`, patchOps([
          { op: 'add', path: 'emails', value: [{ value: `add-${n}@conc.test`, type: 'other' }] },
        ]));
        assertStatus(r, 200, `PATCH add email ${n}`);
      }),
      // read-modify-write of nickName under If-Match: a lost update would drop a token
      ...rmw.map(async (n) => {
        for (let attempt = 0; attempt < RMW_ATTEMPTS; attempt++) {
          const got = await scim('GET', `Users/${id}`);
          assertStatus(got, 200);
          const tokens = (got.body.nickName || '').split(' ').filter(Boolean);
          const r = await scim('PATCH', `Users/${id}`, patchOps(
            [{ op: 'replace', path: 'nickName', value: [...tokens, `t${n}`].join(' ') }],
            { 'If-Match': got.headers.get('etag') }));
          if (r.status === 200) return;
          assertScimError(r, 412, undefined, `If-Match PATCH ${n}`);
          retries += 1;
          await sleep(Math.random() * 10);
        }
        assert.fail(`read-modify-write ${n} did not land in ${RMW_ATTEMPTS} attempts`);
      }),
    ]);

    res = await scim('GET', `Users/${id}`);
    assertStatus(res, 200);
    const emails = res.body.emails.map((e) => e.value).sort();
    assert.deepEqual(emails, ['shared@conc.test', ...adders.map((n) => `add-${n}@conc.test`)].sort(),
      'every added email is there');
    const tokens = res.body.nickName.split(' ').filter(Boolean);
    assert.deepEqual([...tokens].sort(), rmw.map((n) => `t${n}`).sort(),
      `every read-modify-write landed exactly once (${retries} retries on 412)`);
    assert.equal(res.body.meta.version, `W/"${start + CLIENTS}"`, 'one version per change');
  });

  test('a DELETE racing PATCHes: the user ends deleted, each PATCH landed before it or got 404', async () => {
    const users = await Promise.all(range(RACE_KEYS).map(async (key) => {
      const res = await scim('POST', 'Users', { body: userBody(`doomed-${key}@conc.test`, `doomed-${key}`) });
      assertStatus(res, 201);
      return res.body.id;
    }));
    const per = CLIENTS / RACE_KEYS;
    const results = await Promise.all(range(CLIENTS).map(async (n) => {
      const id = users[n % RACE_KEYS];
      if (Math.floor(n / RACE_KEYS) === Math.floor(per / 2)) {
        return { id, del: true, res: await scim('DELETE', `Users/${id}`) };
      }
      return {
        id,
        del: false,
        res: await scim('PATCH', `Users/${id}`, patchOps([{ op: 'replace', path: 'title', value: `v${n}` }])),
      };
    }));
    for (const id of users) {
      const mine = results.filter((r) => r.id === id);
      for (const { del, res } of mine) {
        if (del) assertStatus(res, 204, 'the DELETE');
        else if (res.status !== 200) assertScimError(res, 404, undefined, 'a PATCH after the DELETE');
      }
      assertScimError(await scim('GET', `Users/${id}`), 404, undefined, 'deleted user');
    }
    const deleted = events('scim_user_deleted').filter((e) => users.includes(e.subject_id));
    assert.equal(deleted.length, RACE_KEYS, 'one scim_user_deleted per user');
  });

  test('nobody saw a busy database', async () => {
    const busy = seen.filter((s) => /database is locked|busy|unavailable/i.test(s));
    assert.deepEqual(busy, [], 'responses mentioning a busy database');
    assert.doesNotMatch(env.server.stderr(), /database is locked|SQLITE_BUSY/i, 'server log');
  });
});
