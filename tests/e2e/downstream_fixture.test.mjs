// SPDX-License-Identifier: Apache-2.0
// The downstream SCIM fixture itself (tests/fixtures/downstream/server.mjs): that it
// behaves as a spec-correct app would (create, lookup by `userName eq` /
// `externalId eq`, PATCH, PUT, DELETE, uniqueness, auth) and that every injected
// fault does what it says, so the outbound tests built on it can trust it.
// Needs no scimd binary.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startDownstream } from './lib/downstream.mjs';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

let ds;
before(async () => { ds = await startDownstream(); });
after(async () => { await ds?.stop(); });
beforeEach(async () => { await ds.reset(); });

const user = (userName, extra = {}) => ({
  schemas: [CORE_USER], userName, active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: `${userName.replace(/"/g, '')}`, type: 'work', primary: true }],
  ...extra,
});
const eqFilter = (attr, value) => `?filter=${encodeURIComponent(`${attr} eq ${JSON.stringify(value)}`)}`;

async function createUser(userName, extra) {
  const r = await ds.scim('POST', '/Users', user(userName, extra));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

test('create, get by id, and look up by userName (any case) and externalId (exact)', async () => {
  const u = await createUser('ada@example.com', {
    externalId: 'scimd-1',
    [ENTERPRISE]: { department: 'R&D' },
    schemas: [CORE_USER, ENTERPRISE],
  });
  assert.match(u.id, /^[0-9a-f-]{36}$/);
  assert.equal(u[ENTERPRISE].department, 'R&D');

  const got = await ds.scim('GET', `/Users/${u.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.userName, 'ada@example.com');
  assert.match(got.headers.get('content-type'), /application\/scim\+json/);

  const byName = await ds.scim('GET', `/Users${eqFilter('userName', 'ADA@example.COM')}`);
  assert.equal(byName.status, 200);
  assert.equal(byName.body.totalResults, 1);
  assert.equal(byName.body.Resources[0].id, u.id);

  const byExt = await ds.scim('GET', `/Users${eqFilter('externalId', 'scimd-1')}`);
  assert.equal(byExt.body.totalResults, 1);
  const byExtCase = await ds.scim('GET', `/Users${eqFilter('externalId', 'SCIMD-1')}`);
  assert.equal(byExtCase.body.totalResults, 0, 'externalId is caseExact');

  const none = await ds.scim('GET', `/Users${eqFilter('userName', 'nobody@example.com')}`);
  assert.equal(none.status, 200);
  assert.equal(none.body.totalResults, 0);
  assert.deepEqual(none.body.Resources, []);

  const missing = await ds.scim('GET', '/Users/00000000-0000-0000-0000-000000000000');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body.schemas, [ERROR_SCHEMA]);
});

test('a userName with a quote and a backslash is found by its JSON-escaped filter literal', async () => {
  const name = 'o"brien\\x@example.com';
  const u = await createUser(name);
  const r = await ds.scim('GET', `/Users${eqFilter('userName', name)}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.totalResults, 1);
  assert.equal(r.body.Resources[0].id, u.id);
});

test('a second create with the same userName in another case is 409 uniqueness', async () => {
  await createUser('dup@example.com');
  const r = await ds.scim('POST', '/Users', user('DUP@example.com'));
  assert.equal(r.status, 409);
  assert.equal(r.body.scimType, 'uniqueness');
});

test('PATCH, PUT and DELETE change the stored user', async () => {
  const u = await createUser('grace@example.com');
  const p = await ds.scim('PATCH', `/Users/${u.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'active', value: false },
                 { op: 'replace', path: 'name.givenName', value: 'Grace' }],
  });
  assert.ok(p.status === 200 || p.status === 204, `PATCH -> ${p.status}`);
  let got = await ds.scim('GET', `/Users/${u.id}`);
  assert.equal(got.body.active, false);
  assert.equal(got.body.name.givenName, 'Grace');

  const put = await ds.scim('PUT', `/Users/${u.id}`, user('grace.h@example.com', { active: true }));
  assert.equal(put.status, 200);
  got = await ds.scim('GET', `/Users/${u.id}`);
  assert.equal(got.body.userName, 'grace.h@example.com');
  assert.equal(got.body.active, true);

  const del = await ds.scim('DELETE', `/Users/${u.id}`);
  assert.equal(del.status, 204);
  assert.equal((await ds.scim('GET', `/Users/${u.id}`)).status, 404);
  assert.equal((await ds.scim('PATCH', `/Users/${u.id}`, {
    schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }],
  })).status, 404);
});

test('groups: create, look up by displayName, add and remove members by PATCH', async () => {
  const a = await createUser('a@example.com');
  const b = await createUser('b@example.com');
  const g = await ds.scim('POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'Engineering' });
  assert.equal(g.status, 201);
  const dup = await ds.scim('POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'engineering' });
  assert.equal(dup.status, 409);

  const found = await ds.scim('GET', `/Groups${eqFilter('displayName', 'Engineering')}`);
  assert.equal(found.body.totalResults, 1);
  assert.equal(found.body.Resources[0].id, g.body.id);

  const add = await ds.scim('PATCH', `/Groups/${g.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'add', path: 'members', value: [{ value: a.id }, { value: b.id }] }],
  });
  assert.ok(add.status === 200 || add.status === 204);
  let got = await ds.scim('GET', `/Groups/${g.body.id}`);
  assert.deepEqual(got.body.members.map((m) => m.value).sort(), [a.id, b.id].sort());

  const rm = await ds.scim('PATCH', `/Groups/${g.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'remove', path: `members[value eq "${a.id}"]` }],
  });
  assert.ok(rm.status === 200 || rm.status === 204);
  got = await ds.scim('GET', `/Groups/${g.body.id}`);
  assert.deepEqual(got.body.members.map((m) => m.value), [b.id]);
});

test('requests without the right credentials are 401; basic auth works when configured', async () => {
  const none = await fetch(`${ds.base}/Users`);
  assert.equal(none.status, 401);
  const wrong = await ds.scim('GET', '/Users', undefined, { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);

  const basic = await startDownstream({ basic: 'scimd:s3cret' });
  try {
    const ok = await fetch(`${basic.base}/Users`, {
      headers: { authorization: `Basic ${Buffer.from('scimd:s3cret').toString('base64')}` },
    });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${basic.base}/Users`, {
      headers: { authorization: `Basic ${Buffer.from('scimd:wrong').toString('base64')}` },
    });
    assert.equal(bad.status, 401);
  } finally {
    await basic.stop();
  }
});

test('fault: 429 with Retry-After in seconds, for count requests, then normal service', async () => {
  await ds.setFaults({ rules: [{ method: 'POST', path: '^/Users$', status: 429, retryAfter: 7, count: 2 }] });
  for (let i = 0; i < 2; i++) {
    const r = await ds.scim('POST', '/Users', user('rl@example.com'));
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.deepEqual(r.body.schemas, [ERROR_SCHEMA]);
  }
  assert.equal((await ds.scim('POST', '/Users', user('rl@example.com'))).status, 201);
  assert.equal((await ds.faults()).rules[0].count, 0);
  const r = await ds.scim('GET', '/Users');
  assert.equal(r.body.totalResults, 1, 'the refused creates wrote nothing');
});

test('fault: 429 with Retry-After as an HTTP date in the future', async () => {
  await ds.setFaults({ rules: [{ status: 429, retryAfterDate: 120, count: 1 }] });
  const r = await ds.scim('GET', '/Users');
  assert.equal(r.status, 429);
  const header = r.headers.get('retry-after');
  assert.match(header, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
  const ahead = (Date.parse(header) - Date.now()) / 1000;
  assert.ok(ahead > 60 && ahead <= 121, `Retry-After date is ${ahead}s ahead`);
});

test('fault: 429 without Retry-After, and 500 / 503 with SCIM error bodies', async () => {
  await ds.setFaults({ rules: [
    { path: '^/Users$', method: 'GET', status: 429, count: 1 },
    { path: '^/Users$', method: 'GET', status: 500, count: 1 },
    { path: '^/Users$', method: 'GET', status: 503, retryAfter: 1, count: 1 },
  ] });
  const a = await ds.scim('GET', '/Users');
  assert.equal(a.status, 429);
  assert.equal(a.headers.get('retry-after'), null);
  const b = await ds.scim('GET', '/Users');
  assert.equal(b.status, 500);
  assert.equal(b.body.status, '500');
  const c = await ds.scim('GET', '/Users');
  assert.equal(c.status, 503);
  assert.equal(c.headers.get('retry-after'), '1');
  assert.equal((await ds.scim('GET', '/Users')).status, 200);
});

test('fault: added latency delays the answer and then serves it', async () => {
  await ds.setFaults({ rules: [{ path: '^/Users$', latencyMs: 300, count: 1 }] });
  const t0 = Date.now();
  const r = await ds.scim('GET', '/Users');
  const waited = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.ok(waited >= 250, `answered after ${waited} ms, before the injected 300 ms`);
  assert.equal((await ds.faults()).rules[0].count, 0);
});

test('fault: 409 on create with a scimType, and 404 on update of an existing user', async () => {
  const u = await createUser('x@example.com');
  await ds.setFaults({ rules: [
    { method: 'POST', path: '^/Users$', status: 409, scimType: 'uniqueness', count: 1 },
    { method: ['PATCH', 'PUT'], path: '^/Users/', status: 404, count: 2 },
  ] });
  const c = await ds.scim('POST', '/Users', user('y@example.com'));
  assert.equal(c.status, 409);
  assert.equal(c.body.scimType, 'uniqueness');
  const p = await ds.scim('PATCH', `/Users/${u.id}`, {
    schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }],
  });
  assert.equal(p.status, 404);
  const put = await ds.scim('PUT', `/Users/${u.id}`, user('x@example.com'));
  assert.equal(put.status, 404);
  assert.equal((await ds.scim('GET', `/Users/${u.id}`)).body.active, true, 'nothing was written');
});

test('fault: afterWrite applies the write and loses the answer (a retried create then meets 409)', async () => {
  await ds.setFaults({ rules: [{ method: 'POST', path: '^/Users$', status: 429, retryAfter: 1, afterWrite: true, count: 1 }] });
  const first = await ds.scim('POST', '/Users', user('lost@example.com'));
  assert.equal(first.status, 429);
  assert.equal(first.headers.get('retry-after'), '1');
  const retry = await ds.scim('POST', '/Users', user('lost@example.com'));
  assert.equal(retry.status, 409);
  assert.equal(retry.body.scimType, 'uniqueness');
  const found = await ds.scim('GET', `/Users${eqFilter('userName', 'lost@example.com')}`);
  assert.equal(found.body.totalResults, 1);
});

test('fault: drop closes the connection without an answer', async () => {
  await ds.setFaults({ rules: [{ status: 500, drop: true, count: 1 }] });
  await assert.rejects(ds.scim('GET', '/Users'));
  assert.equal((await ds.scim('GET', '/Users')).status, 200);
});

test('putOnly: PATCH is refused (405, or the configured status) while PUT works', async () => {
  const u = await createUser('p@example.com');
  await ds.setFaults({ putOnly: true });
  const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
  assert.equal((await ds.scim('PATCH', `/Users/${u.id}`, patch)).status, 405);
  await ds.setFaults({ putOnly: true, patchStatus: 501 });
  assert.equal((await ds.scim('PATCH', `/Users/${u.id}`, patch)).status, 501);
  const put = await ds.scim('PUT', `/Users/${u.id}`, user('p@example.com', { active: false }));
  assert.equal(put.status, 200);
  assert.equal(put.body.active, false);
});

test('maxMemberChanges: a group PATCH or POST over the cap is 400, at the cap it works', async () => {
  await ds.setFaults({ maxMemberChanges: 100 });
  const members = (n) => Array.from({ length: n }, (_, i) => ({ value: `m-${i}` }));
  const big = await ds.scim('POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'big', members: members(101) });
  assert.equal(big.status, 400);
  const g = await ds.scim('POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'g' });
  assert.equal(g.status, 201);
  const over = await ds.scim('PATCH', `/Groups/${g.body.id}`, {
    schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members(101) }],
  });
  assert.equal(over.status, 400);
  assert.match(over.body.detail, /101 > 100/);
  const atCap = await ds.scim('PATCH', `/Groups/${g.body.id}`, {
    schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members(100) }],
  });
  assert.ok(atCap.status === 200 || atCap.status === 204, `PATCH of 100 -> ${atCap.status}`);
  assert.equal((await ds.scim('GET', `/Groups/${g.body.id}`)).body.members.length, 100);
});

test('the request log shows what was sent, with the auth scheme but never the credential', async () => {
  await ds.scim('POST', '/Users', user('log@example.com'), { headers: { 'user-agent': 'scimd/test' } });
  await ds.scim('GET', `/Users${eqFilter('userName', 'log@example.com')}`);
  const log = await ds.log();
  assert.equal(log.length, 2);
  assert.equal(log[0].method, 'POST');
  assert.equal(log[0].path, '/Users');
  assert.equal(log[0].auth, 'Bearer');
  assert.equal(log[0].userAgent, 'scimd/test');
  assert.equal(log[0].body.userName, 'log@example.com');
  assert.equal(log[0].status, 201);
  assert.equal(log[1].query.filter, 'userName eq "log@example.com"');
  assert.ok(!JSON.stringify(log).includes(ds.token), 'the token is not in the log');
  await ds.clearLog();
  assert.deepEqual(await ds.log(), []);
});
