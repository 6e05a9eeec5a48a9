// SPDX-License-Identifier: Apache-2.0
// The HTTP edge: /readyz, bytes in path segments that are not UTF-8, the
// bearer credential as IdP admins paste it (and as attackers forge it), and
// requests refused on their head (413 on Content-Length, 414/431 for long
// URLs and heads) with SCIM error bodies.  Runs on both stores.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, audit, http, psql, assertStatus, assertScimError, assert401, assertList, CORE_USER, PATCH_OP,
  ERROR_SCHEMA, SCIM_CT_RE, PG_URL,
} from './lib/harness.mjs';
import { exchange } from './lib/rawhttp.mjs';

const MIB = 1024 * 1024;

describe('HTTP edge', { timeout: 120_000 }, () => {
  let env;
  let scim;
  let basePath; // /scim/v2/inbound/<idp>/

  before(async () => {
    env = await setup({ vendor: 'entra' });
    scim = env.scim;
    basePath = new URL(env.base).pathname;
  });
  after(async () => { if (env) await env.cleanup(); });

  /* One raw request with Connection: close; returns the parsed response. */
  async function raw(method, path, headerLines = [], body = '') {
    const head = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${env.server.port}`, 'Connection: close',
                  ...headerLines];
    const req = Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), Buffer.from(body)]);
    const { response } = await exchange(env.server.port, req);
    assert.ok(response, `no response to ${method} ${path}`);
    return { ...response, headers: new Headers(response.headers) };
  }
  const authLine = (value) => Buffer.concat([Buffer.from('Authorization: '), Buffer.from(value, 'latin1')]).toString('latin1');

  test('GET /readyz -> 200 while the database answers', async () => {
    const res = await http('GET', `${env.server.url}/readyz`);
    assertStatus(res, 200, 'readyz');
    assert.match(res.text, /ready/);
    assertStatus(await http('GET', `${env.server.url}/healthz`), 200, 'healthz');
  });

  describe('bytes that are not UTF-8 in path segments', () => {
    const badSegments = ['%FF', '%C3%28', '%ED%A0%80', '%F4%90%80%80', 'ab%FFcd', '%01', '%7F'];

    test('connection segment -> 401 and a scim_auth_failed event, whatever the bearer', async () => {
      const before = audit(env.db, { type: 'scim_auth_failed' }).length;
      let requests = 0;
      for (const seg of [...badSegments, `${env.idp.id}%FF`]) {
        for (const token of [env.token.token, 'garbage']) {
          for (const [method, p] of [['GET', 'Users'], ['POST', 'Users'], ['GET', 'ServiceProviderConfig']]) {
            const res = await http(method, `${env.server.url}/scim/v2/inbound/${seg}/${p}`, {
              headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
              body: method === 'POST' ? { schemas: [CORE_USER], userName: 'x@edge.test' } : undefined,
            });
            assert401(res, `${method} inbound/${seg}/${p}`);
            requests++;
          }
        }
      }
      const evs = audit(env.db, { type: 'scim_auth_failed' });
      assert.equal(evs.length - before, requests, 'every refused request is audited');
      assert.equal(assertList(await scim('GET', 'Users?filter=' + encodeURIComponent('userName eq "x@edge.test"'))).length, 0,
        'nothing was created');
    });

    test('resource id -> 404 on every method; writes keep their failure event', async () => {
      const before = audit(env.db, { idp: env.idp.id, type: 'scim_request_failed' }).length;
      let writes = 0;
      for (const seg of badSegments) {
        for (const type of ['Users', 'Groups']) {
          assertScimError(await scim('GET', `${type}/${seg}`), 404, undefined, `GET ${type}/${seg}`);
          const put = type === 'Users' ? { schemas: [CORE_USER], userName: 'put@edge.test' }
            : { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'g' };
          assertScimError(await scim('PUT', `${type}/${seg}`, { body: put }), 404, undefined, `PUT ${type}/${seg}`);
          assertScimError(await scim('PATCH', `${type}/${seg}`, {
            body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'p' }] },
          }), 404, undefined, `PATCH ${type}/${seg}`);
          assertScimError(await scim('DELETE', `${type}/${seg}`), 404, undefined, `DELETE ${type}/${seg}`);
          writes += 3;
        }
      }
      const evs = audit(env.db, { idp: env.idp.id, type: 'scim_request_failed' });
      assert.equal(evs.length - before, writes, 'one scim_request_failed per refused write');
      const last = evs.at(-1);
      assert.equal(last.summary.status, 404, JSON.stringify(last));
      assert.match(last.subject_id, /^[\x21-\x7e]+$/, `subject recorded percent-encoded: ${JSON.stringify(last)}`);
      assert.doesNotMatch(env.server.stderr(), /out of memory|could not record/, 'no lost failure events');
    });
  });

  describe('bearer credential', () => {
    test('a valid token with spaces or tabs around it is accepted', async () => {
      const t = env.token.token;
      for (const value of [`Bearer ${t} `, `Bearer ${t}\t`, `Bearer ${t} \t  `, `Bearer  \t${t}`, `bearer ${t}`,
                           `BEARER\t${t}`]) {
        const res = await raw('GET', `${basePath}Users?count=1`, [authLine(value)]);
        assertStatus(res, 200, `Authorization: ${JSON.stringify(value)}`);
      }
    });

    test('a NUL, a control byte or a space inside the credential -> 401, audited', async () => {
      const t = env.token.token;
      const before = audit(env.db, { type: 'scim_auth_failed' }).length;
      const forged = [`Bearer ${t}\0junk`, `Bearer ${t}\0`, `Bearer ${t}\x01`, `Bearer ${t.slice(0, 20)}\0${t.slice(20)}`,
                      `Bearer ${t} junk`, `Bearer\0${t}`, `Bearer ${t}\xff`];
      for (const value of forged) {
        const res = await raw('GET', `${basePath}Users`, [authLine(value)]);
        if (res.status === 400) continue; // refused by the HTTP parser itself: also never accepted
        assert401(res, `Authorization: ${JSON.stringify(value)}`);
      }
      const evs = audit(env.db, { type: 'scim_auth_failed' });
      assert.ok(evs.length > before, 'refusals are audited');
      assert.ok(!JSON.stringify(evs).includes(t), 'never the token');
    });
  });

  describe('refused on the head, with a SCIM error body', () => {
    test('Content-Length over 1 MiB -> 413 before any body byte is sent', async () => {
      for (const p of [`${basePath}Users`, `${basePath}Bulk`, '/healthz']) {
        // no body follows: a server that waited for it would never answer
        const res = await raw('POST', p, [authLine(`Bearer ${env.token.token}`), 'Content-Type: application/scim+json',
                                          `Content-Length: ${MIB + 1}`]);
        assertScimError(res, 413, undefined, `POST ${p}`);
      }
    });

    test('a 2 MiB body sent with fetch -> 413', async () => {
      const res = await scim('POST', 'Users', { raw: '{"userName":"' + 'a'.repeat(2 * MIB) + '"}' });
      assertScimError(res, 413, undefined, '2 MiB');
    });

    test('a URL over 16 KiB -> 414 SCIM error', async () => {
      for (const size of [20 * 1024, 40 * 1024]) {
        const filter = 'userName eq "' + 'a'.repeat(size) + '"';
        const res = await scim('GET', 'Users?filter=' + encodeURIComponent(filter));
        assertScimError(res, 414, undefined, `${size} bytes of filter`);
        assertScimError(await scim('GET', 'Users/' + 'b'.repeat(size)), 414, undefined, `${size} bytes of path`);
      }
    });

    test('headers over 32 KiB -> 431 SCIM error', async () => {
      for (const size of [36 * 1024, 50 * 1024]) {
        const res = await raw('GET', `${basePath}Users`, [authLine(`Bearer ${env.token.token}`), `X-Padding: ${'p'.repeat(size)}`]);
        assertScimError(res, 431, undefined, `${size} bytes of headers`);
        assert.match(res.headers.get('content-type') || '', SCIM_CT_RE);
        assert.deepEqual(res.body.schemas, [ERROR_SCHEMA]);
      }
      // many headers add up the same way
      const many = Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'v'.repeat(110)}`);
      assertScimError(await raw('GET', `${basePath}Users`, many), 431, undefined, '300 headers');
    });

    test('the server still serves normally afterwards', async () => {
      assertStatus(await scim('GET', 'ServiceProviderConfig'), 200);
      assertStatus(await http('GET', `${env.server.url}/readyz`), 200);
    });
  });

  // last: takes the database away (PostgreSQL only; a SQLite file stays readable while open)
  test('GET /readyz -> 503 once the database is gone; /healthz stays 200', { skip: !PG_URL && 'PostgreSQL only' }, async () => {
    const name = new URL(env.db).pathname.slice(1);
    psql(`DROP DATABASE ${name} WITH (FORCE)`);
    const res = await http('GET', `${env.server.url}/readyz`, { allow5xx: true });
    assert.equal(res.status, 503, `readyz without a database: ${res.status} ${res.text}`);
    assert.match(res.text, /not ready/);
    assertStatus(await http('GET', `${env.server.url}/healthz`), 200, 'the process is still alive');
  });
});
