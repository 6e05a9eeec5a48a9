// SPDX-License-Identifier: Apache-2.0
// POST /Bulk (RFC 7644 §3.7): bulkId references from a Group to Users
// created earlier (and later) in the same request, per-operation status,
// failOnErrors, and malformed BulkRequests (not an array, unknown method,
// bad path, unknown bulkId, too many operations).  Issue #9: a 1,000-op
// reference chain and thousands of references complete (while other
// connections keep being answered), too many references are refused before
// anything runs, every operation of a cycle fails on its own.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, uniq, qs, assertStatus, assertScimError, filterPath, CORE_USER, ENTERPRISE_USER, PATCH_OP,
  UUID_RE, SCIM_CT_RE,
} from './lib/harness.mjs';

const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

function userOp(bulkId, userName = `${uniq('b')}@example.com`) {
  return {
    method: 'POST', path: '/Users', bulkId,
    data: { schemas: [CORE_USER], userName, name: { givenName: 'B', familyName: 'U' }, active: true },
  };
}

// n users listed so that each one's manager is the next one: every operation
// waits for a later POST (the worst order for resolving references).
function managerChain(tag, n) {
  return Array.from({ length: n }, (_, i) => {
    const op = userOp(`${tag}${i}`);
    op.data.schemas.push(ENTERPRISE_USER);
    if (i + 1 < n) op.data[ENTERPRISE_USER] = { manager: { value: `bulkId:${tag}${i + 1}` } };
    return op;
  });
}

const idOf = (o) => o.location.split('/').pop();

function bulk(Operations, extra = {}) {
  return { schemas: [BULK_REQUEST], Operations, ...extra };
}

const res2text = (out) => JSON.stringify(out.filter((o) => !/^2/.test(o.status)).slice(0, 3));

describe('Bulk', () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.cleanup(); });

  async function post(body) {
    const res = await env.scim('POST', 'Bulk', { body });
    return res;
  }

  function ops(res) {
    assertStatus(res, 200, 'bulk');
    assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
    assert.ok(res.body.schemas.includes(BULK_RESPONSE), res.text);
    assert.ok(Array.isArray(res.body.Operations), res.text);
    return res.body.Operations;
  }

  test('ServiceProviderConfig advertises bulk limits', async () => {
    const res = await env.scim('GET', 'ServiceProviderConfig');
    assertStatus(res, 200);
    assert.equal(res.body.bulk.supported, true);
    assert.equal(res.body.bulk.maxOperations, 1000);
    assert.equal(res.body.bulk.maxPayloadSize, 1048576);
  });

  test('users then a group that references them by bulkId', async () => {
    const res = await post(bulk([
      userOp('u1'),
      userOp('u2'),
      { method: 'POST', path: '/Groups', bulkId: 'g1',
        data: { schemas: [CORE_GROUP], displayName: uniq('Bulk group '),
                members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }] } },
      { method: 'PATCH', path: '/Users/bulkId:u2',
        data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] } },
    ]));
    const out = ops(res);
    assert.equal(out.length, 4, res.text);
    assert.deepEqual(out.map((o) => o.status), ['201', '201', '201', '200'], res.text);
    assert.deepEqual(out.map((o) => o.bulkId), ['u1', 'u2', 'g1', undefined]);
    const ids = out.map((o) => o.location.split('/').pop());
    for (const id of ids) assert.match(id, UUID_RE);
    assert.equal(out[0].location, `${env.base}Users/${ids[0]}`);
    assert.equal(out[2].location, `${env.base}Groups/${ids[2]}`);
    assert.match(out[0].version, /^W\/"[^"]+"$/);
    assert.equal(ids[3], ids[1], 'PATCH through bulkId touched u2');

    const g = await env.scim('GET', `Groups/${ids[2]}`);
    assertStatus(g, 200);
    assert.deepEqual(g.body.members.map((m) => m.value).sort(), [ids[0], ids[1]].sort());
    const u2 = await env.scim('GET', `Users/${ids[1]}`);
    assert.equal(u2.body.active, false);
  });

  test('a reference to a later POST waits for it', async () => {
    const res = await post(bulk([
      { method: 'POST', path: '/Groups', bulkId: 'g',
        data: { schemas: [CORE_GROUP], displayName: uniq('Forward '), members: [{ value: 'bulkId:late' }] } },
      userOp('late'),
    ]));
    const out = ops(res);
    assert.deepEqual(out.map((o) => o.status), ['201', '201'], res.text);
    const gid = out[0].location.split('/').pop();
    const uid = out[1].location.split('/').pop();
    const g = await env.scim('GET', `Groups/${gid}`);
    assert.deepEqual(g.body.members.map((m) => m.value), [uid]);
  });

  test('unknown bulkId fails that operation with 400 invalidValue; every operation of a cycle -> 409', async () => {
    const c1 = uniq('C1 ');
    const res = await post(bulk([
      { method: 'POST', path: '/Groups', bulkId: 'x',
        data: { schemas: [CORE_GROUP], displayName: uniq('Dangling '), members: [{ value: 'bulkId:nobody' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'c1',
        data: { schemas: [CORE_GROUP], displayName: c1, members: [{ value: 'bulkId:c2' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'c2',
        data: { schemas: [CORE_GROUP], displayName: uniq('C2 '), members: [{ value: 'bulkId:c1' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'self',
        data: { schemas: [CORE_GROUP], displayName: uniq('Self '), members: [{ value: 'bulkId:self' }] } },
      { method: 'PATCH', path: '/Groups/bulkId:c1',
        data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'never' }] } },
      userOp('fine'),
    ]));
    const out = ops(res);
    assert.equal(out.length, 6, res.text);
    assert.equal(out[0].status, '400', res.text);
    assert.equal(out[0].response.scimType, 'invalidValue');
    assert.equal(out[0].response.status, '400');
    assert.match(out[0].response.detail, /nobody/);
    for (const o of out.slice(1, 5)) {
      assert.equal(o.status, '409', res.text);
      assert.match(o.response.detail, /circular bulkId reference/, res.text);
    }
    assert.deepEqual(out.map((o) => o.bulkId), ['x', 'c1', 'c2', 'self', undefined, 'fine']);
    assert.equal(out[5].status, '201', 'an operation outside the cycle still runs');
    const groups = await env.scim('GET', `Groups?${qs({ filter: `displayName eq "${c1}"` })}`);
    assertStatus(groups, 200);
    assert.equal(groups.body.totalResults, 0, 'nothing of the cycle was created');
  });

  test('a repeated POST bulkId and a reference to a failed POST fail clearly', async () => {
    const taken = `${uniq('t')}@example.com`;
    ops(await post(bulk([userOp('first', taken)])));
    const res = await post(bulk([
      { method: 'PATCH', path: '/Users/bulkId:bad',
        data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] } },
      userOp('bad', taken),            // 409 uniqueness
      userOp('twice'),
      userOp('twice'),                 // the same bulkId again
      { method: 'POST', path: '/Users', bulkId: 42, data: { schemas: [CORE_USER], userName: uniq('n') } },
    ]));
    const out = ops(res);
    assert.deepEqual(out.map((o) => o.status), ['400', '409', '201', '400', '400'], res.text);
    assert.match(out[0].response.detail, /bulkId 'bad'.*failed/, res.text);
    assert.match(out[3].response.detail, /bulkId 'twice' is already used by operation 3/, res.text);
    assert.match(out[4].response.detail, /bulkId must be a non-empty string/, res.text);
  });

  test('a 1,000-operation reference chain completes while other connections are answered', async () => {
    const other = env.addIdp(env.tenant.id);
    const seen = ops(await other.scim('POST', 'Bulk', { body: bulk([userOp('o')]) }));
    const otherUser = idOf(seen[0]);
    let done = false;
    const big = post(bulk(managerChain('m', 1000))).finally(() => { done = true; });
    let answered = 0;
    while (!done) {
      const r = await other.scim('GET', `Users/${otherUser}`);
      assertStatus(r, 200, 'another connection during the Bulk');
      answered++;
    }
    assert.ok(answered >= 1);
    const out = ops(await big);
    assert.equal(out.length, 1000);
    assert.ok(out.every((o) => o.status === '201'), res2text(out));
    const ids = out.map(idOf);
    assert.equal(new Set(ids).size, 1000);
    for (const i of [0, 1, 500, 998, 999]) {
      const u = await env.scim('GET', `Users/${ids[i]}`);
      assertStatus(u, 200);
      const manager = u.body[ENTERPRISE_USER]?.manager?.value;
      assert.equal(manager, i < 999 ? ids[i + 1] : undefined, `manager of user ${i}`);
    }
  });

  test('thousands of references resolve to the right ids', async () => {
    const nGroups = 4, nUsers = 996;
    const groups = Array.from({ length: nGroups }, (_, g) => ({
      method: 'POST', path: '/Groups', bulkId: `g${g}`,
      data: { schemas: [CORE_GROUP], displayName: uniq(`Many ${g} `),
              members: Array.from({ length: nUsers }, (_, i) => ({ value: `bulkId:r${(i + g) % nUsers}` })) },
    }));
    const users = Array.from({ length: nUsers }, (_, i) => userOp(`r${i}`));
    const out = ops(await post(bulk([...groups, ...users])));
    assert.equal(out.length, nGroups + nUsers);
    assert.ok(out.every((o) => o.status === '201'), res2text(out));
    const userIds = out.slice(nGroups).map(idOf);
    for (let g = 0; g < nGroups; g++) {
      const res = await env.scim('GET', `Groups/${idOf(out[g])}`);
      assertStatus(res, 200);
      assert.deepEqual(res.body.members.map((m) => m.value).sort(), [...userIds].sort(), `members of group ${g}`);
    }
  });

  test('more bulkId references than allowed -> 413 before anything runs', async () => {
    const name = `${uniq('cap')}@example.com`;
    const res = await post(bulk([
      userOp('u', name),
      { method: 'POST', path: '/Groups', bulkId: 'g',
        data: { schemas: [CORE_GROUP], displayName: uniq('Cap '),
                members: Array.from({ length: 20001 }, () => ({ value: 'bulkId:u' })) } },
    ]));
    assertScimError(res, 413);
    assert.match(res.body.detail, /at most 20000 bulkId references/, res.text);
    const found = await env.scim('GET', filterPath(`userName eq "${name}"`));
    assertStatus(found, 200);
    assert.equal(found.body.totalResults, 0, 'the user before the references was not created');
  });

  test('per-operation errors, DELETE and failOnErrors', async () => {
    const taken = `${uniq('dup')}@example.com`;
    const first = ops(await post(bulk([userOp('a', taken)])));
    assert.equal(first[0].status, '201');
    const id = first[0].location.split('/').pop();

    const res = await post(bulk([
      userOp('dup', taken),                                    // 409 uniqueness
      { method: 'DELETE', path: `/Users/${id}` },              // 204
      { method: 'DELETE', path: `/Users/${id}` },              // 404
      userOp('after'),                                         // not run
    ], { failOnErrors: 2 }));
    const out = ops(res);
    assert.deepEqual(out.map((o) => o.status), ['409', '204', '404'], res.text);
    assert.equal(out[0].response.scimType, 'uniqueness');
    assert.equal((await env.scim('GET', `Users/${id}`)).status, 404);

    const all = ops(await post(bulk([userOp('e1', taken), userOp('e2', taken), userOp('ok')])));
    assert.deepEqual(all.map((o) => o.status), ['201', '409', '201'], 'no failOnErrors: all run');
  });

  test('malformed operations fail one by one', async () => {
    const res = await post(bulk([
      { method: 'FETCH', path: '/Users', data: {} },
      { method: 'POST', path: '/Widgets', data: {} },
      { method: 'PUT', path: '/Users', data: {} },
      { method: 'POST', path: '/Users' },
      'not an object',
      { method: 'GET', path: '/Users/x' },
    ]));
    const out = ops(res);
    assert.equal(out.length, 6, res.text);
    for (const o of out) {
      assert.equal(o.status, '400', res.text);
      assert.ok(['invalidValue', 'invalidSyntax'].includes(o.response.scimType), res.text);
    }
  });

  test('malformed BulkRequests are refused as a whole', async () => {
    assertScimError(await post({ schemas: [BULK_REQUEST], Operations: { method: 'POST' } }), 400, 'invalidSyntax');
    assertScimError(await post({ schemas: [BULK_REQUEST] }), 400, 'invalidSyntax');
    assertScimError(await post([1, 2]), 400, 'invalidSyntax');
    assertScimError(await post({ schemas: ['urn:nope'], Operations: [] }), 400, 'invalidSyntax');
    assertScimError(await post(bulk([], { failOnErrors: 'x' })), 400, 'invalidValue');
    assertScimError(await post(bulk([], { failOnErrors: 0 })), 400, 'invalidValue');
    const raw = await env.scim('POST', 'Bulk', { raw: '{"Operations": [' });
    assertScimError(raw, 400, 'invalidSyntax');
    const wrong = await env.scim('GET', 'Bulk');
    assertScimError(wrong, 405);
  });

  test('more than maxOperations -> 413', async () => {
    const many = Array.from({ length: 1001 }, () => ({ method: 'DELETE', path: '/Users/none' }));
    const res = await post(bulk(many));
    assertScimError(res, 413);
    const empty = ops(await post(bulk([])));
    assert.deepEqual(empty, []);
  });
});
