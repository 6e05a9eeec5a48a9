// Rate limits and failed-authentication throttling (issue 15, item 3): a
// token or connection over its bucket gets 429 with Retry-After and a SCIM
// error; an Entra-style sync at the default limits never does; a flood of
// 10,000 bad tokens from one address grows the audit log by a bounded number
// of rows (one recorded failure, then summaries with counts) while other
// clients keep being served.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import {
  setup, startServer, scimClient, audit, cli, cliRaw, assertStatus, assertList, CORE_USER, PATCH_OP,
  ERROR_SCHEMA, uniq,
} from './lib/harness.mjs';

/* Restart env's server with args; base and scim follow it. */
async function restart(env, args, { limits = false } = {}) {
  await env.server.stop();
  env.server = await startServer({ db: env.db, args, limits });
  env.base = `${env.server.url}/scim/v2/inbound/${env.idp.id}/`;
  env.scim = scimClient(env.base, env.token.token);
}

function assert429(res, detailRe, what) {
  assert.equal(res.status, 429, `${what}: ${res.status} ${res.text}`);
  const retry = res.headers.get('retry-after');
  assert.match(retry ?? '', /^[1-9][0-9]*$/, `${what}: Retry-After in seconds, got ${retry}`);
  assert.deepEqual(res.body.schemas, [ERROR_SCHEMA], what);
  assert.equal(res.body.status, '429', what);
  assert.equal(res.body.scimType, undefined, `${what}: no scimType`);
  assert.match(res.body.detail, detailRe, what);
}

/* Send GETs until the first 429 (at most max); returns [successes, the 429]. */
async function untilLimited(scim, path, max, opts = {}) {
  for (let i = 0; i < max; i++) {
    const res = await scim('GET', path, opts);
    if (res.status === 429) return [i, res];
    assertStatus(res, 200, `request ${i}`);
  }
  return [max, null];
}

describe('rate limits', () => {
  let env;
  before(async () => { env = await setup({ vendor: 'entra' }); });
  after(async () => { await env?.cleanup(); });

  test('a token over its burst gets 429 with Retry-After and a SCIM error; another connection is served', async () => {
    await restart(env, ['--token-rate', '1/5']);
    const other = env.addIdp(env.tenant.id);
    const [ok, res] = await untilLimited(env.scim, 'Users?count=1', 50);
    assert.ok(ok >= 5, `the burst of 5 is served first (served ${ok})`);
    assert429(res, /too many requests with this token/, 'over the token burst');
    assertStatus(await other.scim('GET', 'Users?count=1'), 200, 'another connection\'s token');
  });

  test('a connection over its burst gets 429, whichever of its tokens asks', async () => {
    await restart(env, ['--conn-rate', '1/4']);
    const second = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'rotation');
    let served = 0;
    let limited = null;
    for (let i = 0; i < 50 && !limited; i++) {
      const res = await env.scim('GET', 'Users?count=1', { token: i % 2 ? second.token : env.token.token });
      if (res.status === 429) limited = res;
      else { assertStatus(res, 200, `request ${i}`); served++; }
    }
    assert.ok(served >= 4, `the burst of 4 is served first (served ${served})`);
    assert429(limited, /too many requests on this connection/, 'over the connection burst');
  });

  test('an Entra-style initial sync at the default limits never sees a 429', async () => {
    await restart(env, [], { limits: true }); // the defaults, nothing turned off
    const scim = env.scim;
    const statuses = new Map();
    const count = (res) => statuses.set(res.status, (statuses.get(res.status) || 0) + 1);
    const tag = uniq('sync');
    // per user, what Entra sends: look up by userName, create, then patch (4 in flight at once)
    const ids = [];
    for (let batch = 0; batch < 30; batch++) {
      await Promise.all([0, 1, 2, 3].map(async (k) => {
        const userName = `${tag}-${batch}-${k}@entra.test`;
        count(await scim('GET', 'Users?filter=' + encodeURIComponent(`userName eq "${userName}"`)));
        const created = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName, active: true } });
        count(created);
        ids.push(created.body.id);
        count(await scim('PATCH', `Users/${created.body.id}`, {
          body: { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'E' }] },
        }));
      }));
    }
    const group = await scim('POST', 'Groups', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: tag } });
    count(group);
    for (const id of ids) {
      count(await scim('PATCH', `Groups/${group.body.id}`, {
        body: { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }] },
      }));
    }
    assert.equal(statuses.get(429), undefined, `statuses: ${JSON.stringify([...statuses])}`);
    assert.equal(assertList(await scim('GET', 'Users?count=1')).length, 1);
  });
});

/* A keep-alive client bound to source address local (127.0.0.x). */
function clientFrom(local, url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16, localAddress: local });
  const u = new URL(url);
  const get = (path, headers) => new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
  return { get, close: () => agent.destroy() };
}

describe('failed authentications', () => {
  let env;
  before(async () => { env = await setup({ vendor: 'okta' }); });
  after(async () => { await env?.cleanup(); });

  test('10,000 bad tokens from one address: throttled, a bounded audit, other clients served', async () => {
    await restart(env, ['--auth-fail-limit', '20/60']);
    const path = `/scim/v2/inbound/${env.idp.id}/Users?count=1`;
    const before = audit(env.db, { type: 'scim_auth_failed' }).length;
    const attacker = clientFrom('127.0.0.2', env.server.url);
    const statuses = new Map();
    let retryAfterMissing = 0;
    const FLOOD = 10_000;
    let sent = 0;
    let legit = 0;
    const worker = async () => {
      while (sent < FLOOD) {
        sent++;
        const res = await attacker.get(path, { Authorization: `Bearer scimd_bad${sent}` });
        statuses.set(res.status, (statuses.get(res.status) || 0) + 1);
        if (res.status === 429 && !/^[1-9][0-9]*$/.test(res.headers['retry-after'] ?? '')) retryAfterMissing++;
        if (sent % 1000 === 0) {
          // the rightful client, from another address, is served meanwhile
          assertStatus(await env.scim('GET', 'Users?count=1'), 200, `legit request during the flood (${sent})`);
          legit++;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    attacker.close();
    assert.equal((statuses.get(401) || 0) + (statuses.get(429) || 0), FLOOD, JSON.stringify([...statuses]));
    assert.ok((statuses.get(401) || 0) >= 20, `the first 20 failures are answered 401: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(429) || 0) >= FLOOD - 100, `the rest is refused with 429: ${JSON.stringify([...statuses])}`);
    assert.equal(retryAfterMissing, 0, 'every 429 has Retry-After');
    assert.ok(legit >= 9, 'legit requests ran during the flood');

    // one recorded failure per window, plus those already in flight beside it (16 workers)
    const BOUND = 16 + 2;
    const during = audit(env.db, { type: 'scim_auth_failed' }).length - before;
    assert.ok(during >= 1 && during <= BOUND, `audit rows during the flood: ${during}`);

    // the rest of the window is summarised when it ends, or at the latest on shutdown
    await env.server.stop();
    const evs = audit(env.db, { type: 'scim_auth_failed' }).slice(before);
    assert.ok(evs.length <= BOUND, `audit rows for 10,000 failures: ${evs.length}`);
    const summaries = evs.filter((e) => e.summary.reason === 'repeated failed authentications');
    assert.ok(summaries.length >= 1, JSON.stringify(evs));
    const counted = summaries.reduce((n, e) => n + e.summary.count, 0);
    assert.equal(counted + (evs.length - summaries.length), FLOOD, `every failure is accounted for: ${JSON.stringify(evs)}`);
    for (const e of summaries) {
      assert.equal(e.source, '127.0.0.2', JSON.stringify(e));
      assert.equal(e.idp_id, env.idp.id, JSON.stringify(e));
      assert.ok(e.summary.refused <= e.summary.count, JSON.stringify(e));
    }
    env.server = await startServer({ db: env.db });
  });

  test('a valid token from a throttled address waits for the window too (429, no store)', async () => {
    await restart(env, ['--auth-fail-limit', '3/60']);
    const path = `/scim/v2/inbound/${env.idp.id}/Users?count=1`;
    const c = clientFrom('127.0.0.3', env.server.url);
    for (let i = 0; i < 3; i++) assert.equal((await c.get(path, { Authorization: 'Bearer scimd_nope' })).status, 401);
    const res = await c.get(path, { Authorization: `Bearer ${env.token.token}` });
    c.close();
    assert.equal(res.status, 429, res.text);
    assert.match(JSON.parse(res.text).detail, /too many failed authentications from this address/);
    assertStatus(await env.scim('GET', 'Users?count=1'), 200, 'the same token from another address');
  });
});

describe('limit settings', () => {
  test('a malformed rate or window is a usage error naming the flag or variable, before serving', () => {
    const cases = [
      [['--token-rate', 'fast'], {}, /--token-rate wants N or N\/M/],
      [['--conn-rate', '10/'], {}, /--conn-rate wants N or N\/M/],
      [['--auth-fail-limit', '5/0'], {}, /--auth-fail-limit wants a window of at least 1 s/],
      [[], { SCIMD_TOKEN_RATE: '-1' }, /SCIMD_TOKEN_RATE wants N or N\/M/],
    ];
    for (const [args, env, re] of cases) {
      const r = cliRaw(null, ['serve', '--db', ':memory:', '--listen', '127.0.0.1:1', ...args], { json: false, env });
      assert.equal(r.status, 2, `${args} ${JSON.stringify(env)}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
