// SPDX-License-Identifier: Apache-2.0
// Discovery endpoints (RFC 7644 §4, RFC 7643 §5-7), the media type, and
// how POST treats client-supplied readOnly attributes (id, meta, groups)
// and password.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, http, filterPath, assertList, assertStatus, assertScimError, assert401, assertUserResource,
  CORE_USER, ENTERPRISE_USER, LIST_RESPONSE, SPC_SCHEMA, SCIM_CT_RE, UUID_RE,
} from './lib/harness.mjs';

const RT_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/* /ResourceTypes and /Schemas: a ListResponse (RFC 7644 §4); return the
 * resources. */
function resourcesOf(res, what) {
  assertStatus(res, 200, what);
  assert.match(res.headers.get('content-type') || '', SCIM_CT_RE, what);
  assert.ok(Array.isArray(res.body.schemas) && res.body.schemas.includes(LIST_RESPONSE),
    `${what} is a ListResponse: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.totalResults, res.body.Resources.length, what);
  return res.body.Resources;
}

describe('discovery', { timeout: 120_000 }, () => {
  let env;
  let scim;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
  });
  after(async () => { if (env) await env.cleanup(); });

  test('GET /healthz -> 200 "ok" without auth', async () => {
    const res = await http('GET', `${env.server.url}/healthz`);
    assertStatus(res, 200);
    assert.equal(res.text.trim(), 'ok');
  });

  // RFC 7644 §5 / RFC 7643 §5
  test('ServiceProviderConfig advertises what scimd supports', async () => {
    const res = await scim('GET', 'ServiceProviderConfig');
    assertStatus(res, 200);
    assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
    const spc = res.body;
    assert.ok(spc.schemas.includes(SPC_SCHEMA), JSON.stringify(spc.schemas));
    assert.equal(spc.patch.supported, true);
    assert.equal(spc.bulk.supported, true);
    assert.equal(spc.filter.supported, true);
    assert.equal(spc.filter.maxResults, 1000);
    assert.equal(spc.changePassword.supported, false);
    assert.equal(spc.sort.supported, true);
    assert.equal(spc.etag.supported, true);
    assert.ok(Array.isArray(spc.authenticationSchemes) && spc.authenticationSchemes.length > 0);
    assert.ok(spc.authenticationSchemes.some((a) => a.type === 'oauthbearertoken'), JSON.stringify(spc.authenticationSchemes));
    for (const a of spc.authenticationSchemes) {
      assert.equal(typeof a.name, 'string');
      assert.equal(typeof a.description, 'string');
    }
  });

  test('ResourceTypes lists User with the enterprise extension; ResourceTypes/User', async () => {
    const rts = resourcesOf(await scim('GET', 'ResourceTypes'), 'ResourceTypes');
    const user = rts.find((r) => r.id === 'User' || r.name === 'User');
    assert.ok(user, `User resource type: ${JSON.stringify(rts)}`);
    const check = (rt) => {
      assert.ok(rt.schemas.includes(RT_SCHEMA));
      assert.equal(rt.name, 'User');
      assert.equal(rt.endpoint, '/Users');
      assert.equal(rt.schema, CORE_USER);
      const ext = (rt.schemaExtensions || []).find((e) => e.schema === ENTERPRISE_USER);
      assert.ok(ext, 'enterprise extension listed');
      assert.equal(ext.required, false);
    };
    check(user);
    const one = await scim('GET', 'ResourceTypes/User');
    assertStatus(one, 200);
    assert.match(one.headers.get('content-type') || '', SCIM_CT_RE);
    check(one.body);
    assertScimError(await scim('GET', 'ResourceTypes/Nope'), 404);
  });

  test('Schemas has the core User (userName etc.) and the Enterprise User', async () => {
    const schemas = resourcesOf(await scim('GET', 'Schemas'), 'Schemas');
    const core = schemas.find((s) => s.id === CORE_USER);
    const ent = schemas.find((s) => s.id === ENTERPRISE_USER);
    assert.ok(core, 'core User schema');
    assert.ok(ent, 'Enterprise User schema');
    const attr = (s, n) => s.attributes.find((a) => a.name === n);
    const userName = attr(core, 'userName');
    assert.ok(userName, 'userName');
    assert.equal(userName.type, 'string');
    assert.equal(userName.required, true);
    assert.equal(userName.caseExact, false);
    assert.equal(userName.uniqueness, 'server');
    assert.equal(userName.multiValued, false);
    for (const n of ['name', 'displayName', 'emails', 'active', 'title', 'password', 'groups']) {
      assert.ok(attr(core, n), `core has ${n}`);
    }
    assert.equal(attr(core, 'active').type, 'boolean');
    assert.equal(attr(core, 'emails').multiValued, true);
    assert.equal(attr(core, 'emails').type, 'complex');
    assert.ok(attr(core, 'emails').subAttributes.some((a) => a.name === 'value'));
    assert.ok(attr(core, 'name').subAttributes.some((a) => a.name === 'givenName'));
    assert.equal(attr(core, 'password').returned, 'never');
    assert.equal(attr(core, 'password').mutability, 'writeOnly');
    assert.equal(attr(core, 'groups').mutability, 'readOnly');
    for (const n of ['employeeNumber', 'department', 'manager']) assert.ok(attr(ent, n), `enterprise has ${n}`);
    assert.ok(attr(ent, 'manager').subAttributes.some((a) => a.name === 'value'));
    for (const s of [core, ent]) {
      assert.ok(s.schemas?.includes(SCHEMA_SCHEMA) || s.meta?.resourceType === 'Schema', `schema resource shape of ${s.id}`);
    }
  });

  test('Schemas/<urn> returns one schema; an unknown urn -> 404', async () => {
    for (const urn of [CORE_USER, ENTERPRISE_USER]) {
      const res = await scim('GET', `Schemas/${urn}`);
      assertStatus(res, 200, urn);
      assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
      assert.equal(res.body.id, urn);
      assert.ok(Array.isArray(res.body.attributes) && res.body.attributes.length > 0);
    }
    assertScimError(await scim('GET', 'Schemas/urn:ietf:params:scim:schemas:core:2.0:Nope'), 404);
  });

  test('discovery endpoints require the bearer token', async () => {
    for (const p of ['ServiceProviderConfig', 'ResourceTypes', 'ResourceTypes/User', 'Schemas', `Schemas/${CORE_USER}`]) {
      assert401(await scim('GET', p, { token: null }), p);
    }
  });

  test('every response, including errors and lists, is application/scim+json; charset=utf-8', async () => {
    for (const [m, p] of [['GET', 'Users'], ['GET', 'Users/00000000-0000-4000-8000-000000000000'], ['GET', 'Nope'],
                          ['GET', filterPath('userName eq')], ['DELETE', 'Users']]) {
      const res = await scim(m, p);
      assert.match(res.headers.get('content-type') || '', SCIM_CT_RE, `${m} ${p} -> ${res.status}`);
    }
  });

  test('POST ignores client-supplied id and meta (readOnly)', async () => {
    const res = await scim('POST', 'Users', {
      body: {
        schemas: [CORE_USER],
        id: 'client-chosen-id',
        userName: 'readonly@disc.test',
        meta: {
          resourceType: 'Group', created: '2000-01-01T00:00:00.000Z', lastModified: '2000-01-01T00:00:00.000Z',
          location: 'http://evil.example/Users/x', version: 'W/"999"',
        },
      },
    });
    assertStatus(res, 201);
    const u = res.body;
    assertUserResource(u, env.base, 'readOnly ignored');
    assert.notEqual(u.id, 'client-chosen-id');
    assert.match(u.id, UUID_RE);
    assert.notEqual(u.meta.created, '2000-01-01T00:00:00.000Z');
    assert.notEqual(u.meta.version, 'W/"999"');
    assert.equal(u.meta.location, `${env.base}Users/${u.id}`);
    assert.equal(u.meta.resourceType, 'User');
    assertScimError(await scim('GET', 'Users/client-chosen-id'), 404);

    // PUT with a different id in the body does not move the resource
    const put = await scim('PUT', `Users/${u.id}`, {
      body: { schemas: [CORE_USER], id: '11111111-1111-4111-8111-111111111111', userName: 'readonly@disc.test', displayName: 'p' },
    });
    assertStatus(put, 200);
    assert.equal(put.body.id, u.id);
    assert.equal(put.body.meta.created, u.meta.created);
  });

  test('password is accepted but never returned; groups are derived (readOnly)', async () => {
    const res = await scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName: 'pw@disc.test', password: 'S3cret!pw', groups: [{ value: 'some-group-id', display: 'G' }] },
    });
    assertStatus(res, 201);
    assert.equal(res.body.password, undefined);
    assert.ok(!res.text.includes('S3cret!pw'));
    assert.ok(res.body.groups === undefined || (Array.isArray(res.body.groups) && res.body.groups.length === 0),
      `groups are derived, not taken from the request: ${JSON.stringify(res.body.groups)}`);
    for (const p of [`Users/${res.body.id}`, `Users/${res.body.id}?attributes=password`, filterPath('userName eq "pw@disc.test"'),
                     `Users?attributes=password,userName`]) {
      const r = await scim('GET', p);
      assertStatus(r, 200, p);
      assert.ok(!r.text.includes('S3cret!pw'), `${p} leaks the password`);
      assert.ok(!/"password"/.test(r.text), `${p} has a password attribute`);
    }
  });

  test('Location header equals meta.location; ETag equals meta.version', async () => {
    const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: 'hdr@disc.test' } });
    assertStatus(res, 201);
    assert.equal(res.headers.get('location'), res.body.meta.location);
    assert.equal(res.headers.get('etag'), res.body.meta.version);
    const g = await scim('GET', `Users/${res.body.id}`);
    assert.equal(g.headers.get('etag'), g.body.meta.version);
    const list = assertList(await scim('GET', filterPath('userName eq "hdr@disc.test"')));
    assert.equal(list[0].meta.version, res.body.meta.version);
    assert.equal(list[0].meta.location, res.body.meta.location);
  });
});
