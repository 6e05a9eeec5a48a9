// SPDX-License-Identifier: Apache-2.0
// Okta's documented provisioning sequence against one IdP connection
// (vendor okta), checked the way an Okta admin would notice it: status codes,
// bodies, headers, and what `scimd user show` / `scimd audit` report.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, cli, audit, filterPath, qs, assertList, assertStatus, assertScimError,
  assertUserResource, assertSubsequence, CORE_USER, PATCH_OP, SCIM_CT_RE, LIST_RESPONSE,
} from './lib/harness.mjs';

describe('Okta provisioning sequence', { timeout: 120_000 }, () => {
  let env;
  let scim;
  let user; // the resource as created
  const userName = 'test.user@okta.local';
  const password = '1mz050nq';
  const externalId = '00ujl29u0le5T6Aj10h7';
  const writes = []; // state-changing requests sent, for the audit check

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
  });
  after(async () => { if (env) await env.cleanup(); });

  // Okta SCIM 2.0 reference, "Okta and SCIM Version 2.0"
  // (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20) and
  // the Runscope "Okta SCIM 2.0 Tests" spec test ("Test API Credentials"):
  // after saving the integration Okta sends GET /Users?startIndex=1&count=2
  // and expects 200 with a ListResponse whose counters are numbers.
  test('Test Connector: GET /Users?startIndex=1&count=2 -> 200 ListResponse', async () => {
    const res = await scim('GET', 'Users?startIndex=1&count=2');
    const items = assertList(res, 'test connector');
    assert.equal(typeof res.body.itemsPerPage, 'number');
    assert.equal(typeof res.body.startIndex, 'number');
    assert.equal(res.body.startIndex, 1);
    assert.equal(res.body.totalResults, 0);
    assert.equal(items.length, 0);
  });

  // Okta SCIM 2.0 reference, "Create users": before creating, Okta checks
  // whether the user exists with
  // GET /scim/v2/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100
  test('existence check: userName eq "..." &startIndex=1&count=100 -> empty list', async () => {
    const res = await scim('GET', filterPath(`userName eq "${userName}"`, { startIndex: 1, count: 100 }));
    const items = assertList(res, 'lookup before create');
    assert.equal(res.body.totalResults, 0);
    assert.equal(items.length, 0);
    assert.deepEqual(res.body.schemas, [LIST_RESPONSE]);
  });

  // Okta SCIM 2.0 reference, "Create the user": the POST body Okta sends
  // (password included; the server must never echo it back).
  test('create: POST /Users with Okta\'s body -> 201, Location, ETag, no password', async () => {
    const body = {
      schemas: [CORE_USER],
      userName,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId,
      groups: [],
      password,
      active: true,
    };
    writes.push('POST create');
    const res = await scim('POST', 'Users', { body });
    assertStatus(res, 201, 'create');
    assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
    user = res.body;
    assertUserResource(user, env.base, 'created');
    assert.equal(user.userName, userName);
    assert.equal(user.externalId, externalId);
    assert.equal(user.active, true);
    assert.deepEqual(user.name, { givenName: 'Test', familyName: 'User' });
    assert.equal(user.displayName, 'Test User');
    assert.equal(user.locale, 'en-US');
    assert.equal(user.emails.length, 1);
    assert.equal(user.emails[0].value, userName);
    assert.equal(user.emails[0].type, 'work');
    assert.equal(user.emails[0].primary, true);
    assert.ok(!JSON.stringify(user).includes(password), 'password must not be returned');
    assert.equal(res.headers.get('location'), `${env.base}Users/${user.id}`);
    assert.equal(res.headers.get('etag'), user.meta.version);
    assert.equal(user.meta.created, user.meta.lastModified);
  });

  test('lookup after create finds it (Okta then links by id)', async () => {
    const res = await scim('GET', filterPath(`userName eq "${userName}"`, { startIndex: 1, count: 100 }));
    const items = assertList(res);
    assert.equal(res.body.totalResults, 1);
    assert.equal(items.length, 1);
    assert.equal(items[0].id, user.id);
    assert.equal(items[0].userName, userName);
    assert.equal(items[0].password, undefined);
  });

  // Okta SCIM 2.0 reference, "Retrieve a specific user": GET /Users/{id}.
  test('GET /Users/{id} returns the created resource', async () => {
    const res = await scim('GET', `Users/${user.id}`);
    assertStatus(res, 200);
    assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
    assert.deepEqual(res.body, user, 'GET must return what POST returned');
    assert.equal(res.headers.get('etag'), user.meta.version);
  });

  // Runscope Okta SCIM 2.0 spec test: "Get user that does not exist" -> 404.
  test('GET /Users/<random uuid> -> 404 SCIM error', async () => {
    const res = await scim('GET', 'Users/010f8e6a-4f0e-4a1e-9c7f-5d0a6b0c2e11');
    assertScimError(res, 404);
  });

  // Okta SCIM 2.0 reference, "Update a specific user (PUT)": Okta sends the
  // whole user back, including id and meta, with the changed profile.
  test('profile update: PUT full user as Okta sends it -> 200, version changes', async () => {
    const body = {
      schemas: [CORE_USER],
      id: user.id,
      userName,
      name: { givenName: 'Another', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Another User',
      locale: 'en-US',
      externalId,
      groups: [],
      password,
      active: true,
      meta: { resourceType: 'User', created: user.meta.created, lastModified: user.meta.lastModified },
    };
    writes.push('PUT profile');
    const res = await scim('PUT', `Users/${user.id}`, { body });
    assertStatus(res, 200, 'PUT');
    assertUserResource(res.body, env.base, 'after PUT');
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.name.givenName, 'Another');
    assert.equal(res.body.displayName, 'Another User');
    assert.equal(res.body.active, true);
    assert.equal(res.body.meta.created, user.meta.created);
    assert.notEqual(res.body.meta.version, user.meta.version, 'meta.version must change on update');
    assert.ok(res.body.meta.lastModified >= user.meta.lastModified);
    assert.equal(res.headers.get('etag'), res.body.meta.version);
    assert.ok(!res.text.includes(password));
    user = res.body;

    const shown = cli(env.db, 'user', 'show', user.id);
    assert.equal(shown.given_name, 'Another');
    assert.equal(shown.display_name, 'Another User');
    assert.equal(shown.email, userName);
    assert.equal(shown.scim_managed, true);
    assert.equal(shown.status, 'active');
  });

  // Okta SCIM 2.0 reference, "Update a specific user (PATCH)": Okta's PATCH
  // uses op "replace" with no path and a value object.  A pathed replace
  // (RFC 7644 §3.5.2.3) is sent too.
  test('profile update: PATCH replace (no path, value object) and pathed replace', async () => {
    writes.push('PATCH profile');
    let res = await scim('PATCH', `Users/${user.id}`, {
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', value: { displayName: 'Patched User', name: { givenName: 'Patched', familyName: 'User' } } }],
      },
    });
    assertStatus(res, 200, 'PATCH no-path');
    assertUserResource(res.body, env.base, 'after PATCH');
    assert.equal(res.body.displayName, 'Patched User');
    assert.equal(res.body.name.givenName, 'Patched');
    assert.equal(res.body.userName, userName);
    assert.equal(res.body.active, true);
    assert.notEqual(res.body.meta.version, user.meta.version);
    assert.equal(res.headers.get('etag'), res.body.meta.version);
    user = res.body;

    writes.push('PATCH pathed');
    res = await scim('PATCH', `Users/${user.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.familyName', value: 'Userson' }] },
    });
    assertStatus(res, 200, 'PATCH pathed');
    assert.equal(res.body.name.familyName, 'Userson');
    assert.equal(res.body.name.givenName, 'Patched');
    user = res.body;
    const get = await scim('GET', `Users/${user.id}`);
    assert.deepEqual(get.body, user);
  });

  // Okta SCIM 2.0 reference, "Update a specific user (PATCH)" / deprovisioning:
  // {"schemas":[PatchOp],"Operations":[{"op":"replace","value":{"active":false}}]}
  test('deactivate: PATCH {"op":"replace","value":{"active":false}} -> 200 active:false, still visible', async () => {
    writes.push('PATCH deactivate');
    const res = await scim('PATCH', `Users/${user.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] },
    });
    assertStatus(res, 200, 'deactivate');
    assert.equal(res.body.active, false);
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.displayName, 'Patched User', 'deactivation changes nothing else');
    user = res.body;

    const get = await scim('GET', `Users/${user.id}`);
    assertStatus(get, 200, 'deactivated user stays visible');
    assert.equal(get.body.active, false);
    const list = await scim('GET', filterPath(`userName eq "${userName}"`, { startIndex: 1, count: 100 }));
    const items = assertList(list);
    assert.equal(items.length, 1);
    assert.equal(items[0].active, false);

    const shown = cli(env.db, 'user', 'show', user.id);
    assert.equal(shown.status, 'deactivated');
    assert.equal(shown.idp_rows.length, 1);
    assert.equal(shown.idp_rows[0].active, false);
    assert.equal(shown.idp_rows[0].deleted, false);
  });

  // Okta SCIM 2.0 reference: reactivation is the same PATCH with active:true.
  test('reactivate: PATCH {"op":"replace","value":{"active":true}} -> same id, active', async () => {
    writes.push('PATCH reactivate');
    const res = await scim('PATCH', `Users/${user.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] },
    });
    assertStatus(res, 200, 'reactivate');
    assert.equal(res.body.active, true);
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.meta.created, user.meta.created);
    user = res.body;
    const shown = cli(env.db, 'user', 'show', user.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.id, user.id);
  });

  // Runscope "Okta SCIM 2.0 Tests" spec test: "Create the same user again"
  // expects 409 (its body carries no externalId).  The doc's uniqueness
  // error is a 409 with scimType "uniqueness" (RFC 7644 §3.3).
  test('duplicate POST (same userName, no externalId) -> 409 uniqueness, no new user', async () => {
    const before = cli(env.db, 'user', 'list', '--tenant', env.tenant.id);
    writes.push('POST duplicate');
    const res = await scim('POST', 'Users', {
      body: {
        schemas: [CORE_USER],
        userName,
        name: { givenName: 'Test', familyName: 'User' },
        emails: [{ primary: true, value: userName, type: 'work' }],
        displayName: 'Test User',
        active: true,
      },
    });
    assertScimError(res, 409, 'uniqueness', 'duplicate POST');
    const afterList = cli(env.db, 'user', 'list', '--tenant', env.tenant.id);
    assert.equal(afterList.length, before.length);
    const get = await scim('GET', `Users/${user.id}`);
    assert.deepEqual(get.body, user, 'the conflict left the user untouched');
  });

  test('every step is in `scimd audit` with the right types, actor and subject', () => {
    const events = audit(env.db, { idp: env.idp.id });
    const scimEvents = events.filter((e) => e.type.startsWith('scim_'));
    const types = scimEvents.map((e) => e.type);
    assert.equal(types.filter((t) => t === 'scim_user_received').length, writes.length,
      `one scim_user_received per write (${writes.join(', ')}); got ${JSON.stringify(types)}`);
    assertSubsequence(types, [
      'scim_user_received', 'scim_user_created',
      'scim_user_received', 'scim_user_updated',
      'scim_user_received', 'scim_user_updated',
      'scim_user_received', 'scim_user_updated',
      'scim_user_received', 'scim_user_deactivated',
      'scim_user_received', 'scim_user_reactivated',
      'scim_user_received', 'scim_conflict',
    ], 'audit order');
    for (const e of scimEvents) {
      assert.equal(e.actor, `token:${env.token.id}`, `actor of ${e.type}`);
      assert.equal(e.idp_id, env.idp.id);
      assert.equal(e.tenant_id, env.tenant.id);
      assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    for (const t of ['scim_user_created', 'scim_user_updated', 'scim_user_deactivated', 'scim_user_reactivated']) {
      const evs = scimEvents.filter((e) => e.type === t);
      assert.ok(evs.length > 0, t);
      for (const e of evs) assert.equal(e.subject_id, user.id, `subject of ${t}`);
    }
    // seq strictly increasing, oldest first
    for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq, 'seq order');
    // updated summary names attributes, never values
    const upd = scimEvents.filter((e) => e.type === 'scim_user_updated');
    const firstUpd = JSON.stringify(upd[0].summary);
    assert.match(firstUpd, /name|displayName/, `summary lists changed attribute names: ${firstUpd}`);
    for (const e of upd) {
      const s = JSON.stringify(e.summary);
      assert.ok(!s.includes('Another') && !s.includes('Patched') && !s.includes('Userson'),
        `summary must not contain values: ${s}`);
    }
    const all = JSON.stringify(events);
    assert.ok(!all.includes(env.token.token), 'events never contain the token');
    assert.ok(!all.includes(password), 'events never contain the password');
  });
});
