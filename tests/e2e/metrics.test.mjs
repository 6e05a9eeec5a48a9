// Prometheus /metrics (issue 15, item 2), parsed with a third-party parser
// (parse-prometheus-text-format, pinned in tests/fixtures/downstream): after
// a known mix of requests the counters match it, routes are templates (never
// raw ids), latency histograms are consistent, rate-limit refusals are
// counted, and /metrics needs no token but is served only on loopback or on
// its own --metrics-listen listener.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { setup, startServer, scimClient, http, cli, freePort, assertStatus, CORE_USER, uniq } from './lib/harness.mjs';

const require = createRequire(new URL('../fixtures/downstream/package.json', import.meta.url));
const parsePrometheus = require('parse-prometheus-text-format');

async function scrape(url) {
  const res = await http('GET', url);
  assertStatus(res, 200, 'GET /metrics');
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheus(res.text);
  return Object.fromEntries(families.map((f) => [f.name, f]));
}

/* The value of the sample of family whose labels include want (0 when none). */
function value(families, name, want) {
  const f = families[name];
  if (!f) return 0;
  const m = f.metrics.find((s) => Object.entries(want).every(([k, v]) => s.labels?.[k] === v));
  return m ? Number(m.value) : 0;
}

describe('/metrics', () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.cleanup(); });

  test('counters match a known mix of requests; routes are templates', async () => {
    await env.server.stop();
    env.server = await startServer({ db: env.db, args: ['--token-rate', '1/3'] });
    env.base = `${env.server.url}/scim/v2/inbound/${env.idp.id}/`;
    env.scim = scimClient(env.base, env.token.token);
    const before = await scrape(`${env.server.url}/metrics`);
    assert.equal(value(before, 'scimd_build_info', {}), 1);
    assert.match(before.scimd_build_info.metrics[0].labels.version, /^\d+\.\d+\.\d+/);

    // token A: three requests, its whole burst
    const created = await env.scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: `${uniq('m')}@metrics.test` } });
    assertStatus(created, 201);
    const id = created.body.id;
    assertStatus(await env.scim('GET', `Users/${id}`), 200);
    assertStatus(await env.scim('GET', `Users/${id}`), 200);
    assert.equal((await env.scim('GET', 'Users', { token: 'scimd_wrong' })).status, 401);
    // token B: a 404, then more than the rest of its burst
    const b = cli(env.db, 'token', 'create', '--idp', env.idp.id, '--name', 'b').token;
    assert.equal((await env.scim('GET', 'Users/does-not-exist', { token: b })).status, 404);
    let limited = 0;
    for (let i = 0; i < 10; i++) {
      const r = await env.scim('GET', 'ServiceProviderConfig', { token: b });
      if (r.status === 429) limited++;
      else assertStatus(r, 200);
    }
    assert.ok(limited >= 1, 'the token burst of 3 runs out');
    const served = 10 - limited;

    const after = await scrape(`${env.server.url}/metrics`);
    const delta = (labels) => value(after, 'scimd_http_requests_total', labels) -
                              value(before, 'scimd_http_requests_total', labels);
    assert.equal(delta({ route: '/Users', method: 'POST', status: '201' }), 1);
    assert.equal(delta({ route: '/Users/{id}', method: 'GET', status: '200' }), 2);
    assert.equal(delta({ route: '/Users/{id}', method: 'GET', status: '404' }), 1);
    assert.equal(delta({ route: '/Users', method: 'GET', status: '401' }), 1);
    assert.equal(delta({ route: '/ServiceProviderConfig', method: 'GET', status: '200' }), served);
    assert.equal(delta({ route: '/ServiceProviderConfig', method: 'GET', status: '429' }), limited);
    assert.equal(delta({ route: '/metrics', method: 'GET', status: '200' }), 1, 'the first scrape');
    assert.equal(value(after, 'scimd_rate_limited_total', { limit: 'token' }) -
                 value(before, 'scimd_rate_limited_total', { limit: 'token' }), limited);

    const text = (await http('GET', `${env.server.url}/metrics`)).text;
    assert.ok(!text.includes(id), 'no raw ids in labels');
    assert.ok(!text.includes('does-not-exist'));
    assert.ok(!text.includes(env.idp.id), 'no connection ids either');

    // histograms: buckets cumulative, +Inf = count, count = the requests of that route.
    // The parser folds every labelled histogram into one (a limitation of
    // parse-prometheus-text-format 1.1.1), so the series are read untyped.
    assert.equal(after.scimd_http_request_duration_seconds.type, 'HISTOGRAM');
    const untyped = {};
    for (const f of parsePrometheus(text.replace(/^# TYPE scimd_http_request_duration_seconds histogram$/m, ''))) {
      (untyped[f.name] ??= { ...f, metrics: [] }).metrics.push(...f.metrics); // bucket/sum/count lines alternate
    }
    const sel = { route: '/Users/{id}', method: 'GET' };
    const buckets = untyped.scimd_http_request_duration_seconds_bucket.metrics
      .filter((m) => m.labels.route === sel.route && m.labels.method === sel.method);
    const count = value(untyped, 'scimd_http_request_duration_seconds_count', sel);
    assert.equal(count, value(after, 'scimd_http_requests_total', { ...sel, status: '200' }) +
                        value(after, 'scimd_http_requests_total', { ...sel, status: '404' }));
    assert.equal(Number(buckets.find((m) => m.labels.le === '+Inf').value), count);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(Number(buckets[i].value) >= Number(buckets[i - 1].value), 'cumulative buckets');
    }
    assert.ok(value(untyped, 'scimd_http_request_duration_seconds_sum', sel) > 0);
    assert.ok(value(after, 'scimd_http_open_connections', {}) >= 1, 'this scrape\'s connection is open');
  });

  test('--metrics-listen: /metrics there, without a token, and only there', async () => {
    await env.server.stop();
    const port = await freePort();
    env.server = await startServer({ db: env.db, args: ['--metrics-listen', `127.0.0.1:${port}`] });
    const families = await scrape(`http://127.0.0.1:${port}/metrics`);
    assert.equal(value(families, 'scimd_build_info', {}), 1);
    assert.equal((await http('GET', `${env.server.url}/metrics`)).status, 404, 'not on the main listener');
    const scimThere = await http('GET', `http://127.0.0.1:${port}/scim/v2/inbound/${env.idp.id}/Users`,
                                 { headers: { Authorization: `Bearer ${env.token.token}` } });
    assert.equal(scimThere.status, 404, 'the metrics listener serves nothing else');
  });
});
