// Request ids (issue 15, item 2): X-Request-Id is taken from the client when
// it is visible ASCII of at most 128 characters, else scimd makes one; either
// way the response carries it, on SCIM answers, errors and probes alike.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { setup, http, assertStatus } from './lib/harness.mjs';

const GENERATED = /^[0-9a-f]{24}$/;

describe('X-Request-Id', () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.cleanup(); });

  test('a valid client id is echoed', async () => {
    for (const id of ['abc-123', 'f'.repeat(128), 'trace:0af7651916cd43dd8448eb211c80319c']) {
      const res = await env.scim('GET', 'Users?count=1', { headers: { 'X-Request-Id': id } });
      assertStatus(res, 200, id);
      assert.equal(res.headers.get('x-request-id'), id);
    }
    const refused = await env.scim('GET', 'Users', { token: 'scimd_wrong', headers: { 'X-Request-Id': 'on-401' } });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('x-request-id'), 'on-401', 'errors carry it too');
  });

  test('none, too long or with spaces or control bytes -> a new one, unique per request', async () => {
    const seen = new Set();
    for (const id of [undefined, 'x'.repeat(129), 'has space', 'tab\there']) {
      const res = await http('GET', `${env.server.url}/healthz`, { headers: id === undefined ? {} : { 'X-Request-Id': id } });
      assertStatus(res, 200, JSON.stringify(id));
      const got = res.headers.get('x-request-id');
      assert.match(got ?? '', GENERATED, `${JSON.stringify(id)} -> ${got}`);
      seen.add(got);
    }
    assert.equal(seen.size, 4, 'a new id per request');
  });
});
