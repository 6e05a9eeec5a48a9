// SPDX-License-Identifier: Apache-2.0
// Cursor pagination (RFC 9865) for Users and Groups: a full walk while
// another client creates and deletes users sees every user that existed
// throughout exactly once; previousCursor walks back; the SPC advertises
// it; forged, garbage and misused cursors are refused.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, cli, uniq, qs, assertList, assertStatus, assertScimError, CORE_USER,
} from './lib/harness.mjs';

const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

function userData(userName = `${uniq('c')}@example.com`) {
  return { schemas: [CORE_USER], userName, name: { givenName: 'C', familyName: 'W' }, active: true };
}

/* Create n users through Bulk; returns their ids. */
async function createUsers(scim, n) {
  const ids = [];
  for (let done = 0; done < n; done += 250) {
    const k = Math.min(250, n - done);
    const res = await scim('POST', 'Bulk', {
      body: { schemas: [BULK_REQUEST],
              Operations: Array.from({ length: k }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: userData() })) },
    });
    assertStatus(res, 200, 'bulk create');
    for (const o of res.body.Operations) {
      assert.equal(o.status, '201', JSON.stringify(o));
      ids.push(o.location.split('/').pop());
    }
  }
  return ids;
}

/* Walk a list with cursors; returns [ids in order, pages]. */
async function walk(scim, endpoint, count, extra = {}, between = async () => {}) {
  const seen = [];
  let cursor = '';
  let pages = 0;
  for (;;) {
    const res = await scim('GET', `${endpoint}?${qs({ cursor, count, ...extra })}`);
    const items = assertList(res, `${endpoint} page ${pages}`);
    assert.equal(res.body.itemsPerPage, items.length);
    if (pages === 0) assert.equal(res.body.previousCursor, undefined, 'no previousCursor on the first page');
    else if (items.length > 0) assert.equal(typeof res.body.previousCursor, 'string');
    seen.push(...items.map((r) => r.id));
    pages += 1;
    await between();
    if (res.body.nextCursor === undefined) break;
    assert.match(res.body.nextCursor, /^[A-Za-z0-9_-]+$/);
    assert.ok(items.length === count, 'a page before the last one is full');
    cursor = res.body.nextCursor;
    assert.ok(pages < 10000, 'walk terminates');
  }
  return [seen, pages];
}

describe('cursor pagination', () => {
  let env;
  let stable;
  before(async () => {
    env = await setup();
    stable = await createUsers(env.scim, 500);
  });
  after(async () => { await env?.cleanup(); });

  test('ServiceProviderConfig advertises pagination', async () => {
    const res = await env.scim('GET', 'ServiceProviderConfig');
    assertStatus(res, 200);
    assert.deepEqual(res.body.pagination, {
      cursor: true, index: true, defaultPaginationMethod: 'index',
      defaultPageSize: 100, maxPageSize: 1000, cursorTimeout: 600,
    });
  });

  test('a walk while another client creates and deletes sees every stable user exactly once', async () => {
    const churn = await createUsers(env.scim, 60);
    let stop = false;
    let mutations = 0;
    const mutator = (async () => {
      let i = 0;
      while (!stop) {
        if (i % 2 === 0) {
          const res = await env.scim('POST', 'Users', { body: userData() });
          assertStatus(res, 201);
          churn.push(res.body.id);
        } else if (churn.length > 0) {
          const id = churn.splice(Math.floor(Math.random() * churn.length), 1)[0];
          assertStatus(await env.scim('DELETE', `Users/${id}`), 204);
        }
        i += 1;
        mutations += 1;
      }
    })();
    let seen;
    let pages;
    try {
      // a short pause between pages lets the mutator interleave
      [seen, pages] = await walk(env.scim, 'Users', 23, {}, () => new Promise((r) => setTimeout(r, 5)));
    } finally {
      stop = true;
      await mutator;
    }
    assert.ok(mutations > 5, `the mutator ran (${mutations})`);
    assert.ok(pages > 20, `pages ${pages}`);
    assert.equal(new Set(seen).size, seen.length, 'no user twice');
    const seenSet = new Set(seen);
    for (const id of stable) assert.ok(seenSet.has(id), `stable user ${id} missed`);
    const sorted = [...seen].sort();
    assert.deepEqual(seen, sorted, 'id order');
  });

  test('POST .search walks with cursors too, with a filter and a projection', async () => {
    const seen = [];
    let cursor = '';
    for (let i = 0; i < 1000; i += 1) {
      const res = await env.scim('POST', 'Users/.search', {
        body: { schemas: [SEARCH_REQUEST], cursor, count: 100, filter: 'active eq true', attributes: ['userName'] },
      });
      const items = assertList(res, '.search');
      for (const r of items) assert.equal(r.name, undefined, 'projected');
      seen.push(...items.map((r) => r.id));
      if (res.body.nextCursor === undefined) break;
      cursor = res.body.nextCursor;
    }
    assert.equal(new Set(seen).size, seen.length);
    for (const id of stable) assert.ok(seen.includes(id));
  });

  test('an in-memory filter pages by cursor as well', async () => {
    // name.givenName is not an indexed attribute: the filter runs in memory
    const [seen] = await walk(env.scim, 'Users', 50, { filter: 'name.givenName eq "C"' });
    assert.equal(new Set(seen).size, seen.length);
    for (const id of stable) assert.ok(seen.includes(id));
    assert.deepEqual(seen, [...seen].sort());
  });

  test('previousCursor walks back to the same pages', async () => {
    const p1 = await env.scim('GET', `Users?${qs({ cursor: '', count: 10 })}`);
    const p2 = await env.scim('GET', `Users?${qs({ cursor: p1.body.nextCursor, count: 10 })}`);
    const p3 = await env.scim('GET', `Users?${qs({ cursor: p2.body.nextCursor, count: 10 })}`);
    const back = await env.scim('GET', `Users?${qs({ cursor: p3.body.previousCursor, count: 10 })}`);
    assert.deepEqual(assertList(back).map((r) => r.id), assertList(p2).map((r) => r.id));
    const back2 = await env.scim('GET', `Users?${qs({ cursor: back.body.previousCursor, count: 10 })}`);
    assert.deepEqual(assertList(back2).map((r) => r.id), assertList(p1).map((r) => r.id));
    assert.equal(back2.body.previousCursor, undefined, 'nothing before the first page');
    const fwd = await env.scim('GET', `Users?${qs({ cursor: back2.body.nextCursor, count: 10 })}`);
    assert.deepEqual(assertList(fwd).map((r) => r.id), assertList(p2).map((r) => r.id));
  });

  test('count=0 and totalResults', async () => {
    const res = await env.scim('GET', `Users?${qs({ cursor: '', count: 0 })}`);
    assertList(res);
    assert.deepEqual(res.body.Resources, [], 'count=0: Resources is [] when totalResults > 0');
    assert.ok(res.body.totalResults >= 500);
    const page = await env.scim('GET', `Users?${qs({ cursor: '', count: 5 })}`);
    assert.ok(page.body.totalResults >= 500, 'totalResults counts every match');
    // later pages carry the total counted on the first (no recount per page)
    const next = await env.scim('GET', `Users?${qs({ cursor: page.body.nextCursor, count: 5 })}`);
    assertList(next);
    assert.equal(next.body.totalResults, page.body.totalResults, 'the walk reports one total');
    const back = await env.scim('GET', `Users?${qs({ cursor: next.body.previousCursor, count: 5 })}`);
    assert.equal(back.body.totalResults, page.body.totalResults, 'previousCursor pages too');
  });

  test('forged, garbage and misused cursors', async () => {
    const good = (await env.scim('GET', `Users?${qs({ cursor: '', count: 2 })}`)).body.nextCursor;
    const flip = good[5] === 'A' ? 'B' : 'A';
    const forged = good.slice(0, 5) + flip + good.slice(6);
    for (const cursor of [forged, 'garbage', 'djE6YTp4OjE', good + 'A', '=', 'x'.repeat(300)]) {
      assertScimError(await env.scim('GET', `Users?${qs({ cursor, count: 2 })}`), 400, 'invalidCursor', cursor);
      assertScimError(await env.scim('GET', `Groups?${qs({ cursor, count: 2 })}`), 400, 'invalidCursor', cursor);
    }
    const search = await env.scim('POST', 'Users/.search', { body: { schemas: [SEARCH_REQUEST], cursor: 'nope' } });
    assertScimError(search, 400, 'invalidCursor');
    assertScimError(await env.scim('GET', `Users?${qs({ cursor: good, startIndex: 3 })}`), 400, 'invalidValue');
    assertScimError(await env.scim('GET', `Users?${qs({ cursor: '', sortBy: 'userName' })}`), 400, 'invalidValue');
    // a cursor of this server from a restart ago or another node is just as unknown: not tested here
  });

  test('a cursor is bound to the connection, resource type and query that issued it', async () => {
    const filter = 'userName sw "c"';
    const page = await env.scim('GET', `Users?${qs({ cursor: '', count: 3, filter })}`);
    assertList(page);
    const next = page.body.nextCursor;
    assert.equal(typeof next, 'string');
    // the same list, spelled differently (case, spaces, parentheses, GET or .search), still walks on
    for (const f of [filter, 'USERNAME SW "c"', `(( ${CORE_USER}:userName   sw "c" ))`]) {
      assertList(await env.scim('GET', `Users?${qs({ cursor: next, count: 3, filter: f })}`), f);
    }
    const viaSearch = await env.scim('POST', 'Users/.search', { body: { schemas: [SEARCH_REQUEST], cursor: next, count: 3, filter } });
    assert.equal(viaSearch.body.totalResults, page.body.totalResults);
    // anything else refuses it: another filter, none, another resource type, another connection, another tenant
    const misuse = [
      ['another filter', env.scim, `Users?${qs({ cursor: next, count: 3, filter: 'userName sw "d"' })}`],
      ['no filter', env.scim, `Users?${qs({ cursor: next, count: 3 })}`],
      ['sortOrder', env.scim, `Users?${qs({ cursor: next, count: 3, filter, sortOrder: 'descending' })}`],
      ['Groups', env.scim, `Groups?${qs({ cursor: next, count: 3 })}`],
    ];
    const sibling = env.addIdp(env.tenant.id);
    assertStatus(await sibling.scim('POST', 'Users', { body: userData() }), 201);
    misuse.push(['another connection', sibling.scim, `Users?${qs({ cursor: next, count: 3, filter })}`]);
    const tenant2 = cli(env.db, 'tenant', 'create', uniq('Other '));
    const stranger = env.addIdp(tenant2.id);
    misuse.push(['another tenant', stranger.scim, `Users?${qs({ cursor: next, count: 3, filter })}`]);
    for (const [what, client, path] of misuse) {
      const res = await client('GET', path);
      assertScimError(res, 400, 'invalidCursor', what);
      assert.match(res.body.detail, /another list/, `${what}: ${res.text}`);
    }
    const search = await sibling.scim('POST', 'Users/.search', { body: { schemas: [SEARCH_REQUEST], cursor: next, filter } });
    assertScimError(search, 400, 'invalidCursor', '.search on another connection');
    // a Groups cursor is refused by Users
    const groups = [];
    for (const name of ['Bound A', 'Bound B']) {
      const res = await env.scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: uniq(name) } });
      assertStatus(res, 201);
      groups.push(res.body.id);
    }
    const g = await env.scim('GET', `Groups?${qs({ cursor: '', count: 1 })}`);
    assert.equal(typeof g.body.nextCursor, 'string');
    assertList(await env.scim('GET', `Groups?${qs({ cursor: g.body.nextCursor, count: 1 })}`));
    assertScimError(await env.scim('GET', `Users?${qs({ cursor: g.body.nextCursor, count: 1 })}`), 400, 'invalidCursor', 'Groups cursor on Users');
    for (const id of groups) assertStatus(await env.scim('DELETE', `Groups/${id}`), 204); // the groups walk counts its own
  });

  test('groups walk', async () => {
    const ops = Array.from({ length: 45 }, (_, i) => ({
      method: 'POST', path: '/Groups', bulkId: `g${i}`,
      data: { schemas: [CORE_GROUP], displayName: uniq(`Walk ${i} `), members: [{ value: stable[i] }] },
    }));
    const res = await env.scim('POST', 'Bulk', { body: { schemas: [BULK_REQUEST], Operations: ops } });
    assertStatus(res, 200);
    const gids = res.body.Operations.map((o) => o.location.split('/').pop());
    const [seen, pages] = await walk(env.scim, 'Groups', 10, { excludedAttributes: 'members' });
    assert.equal(pages, 5);
    assert.deepEqual(seen, [...gids].sort());
    const [filtered] = await walk(env.scim, 'Groups', 4, { filter: `members.value eq "${stable[3]}" or displayName sw "Walk"` });
    assert.deepEqual(filtered, [...gids].sort());
  });
});
