// SPDX-License-Identifier: Apache-2.0
// Several scimd nodes on one database behave as one service.
//
// On both backends (two processes can share one SQLite file, too):
//   - nodes started at the same moment on an empty database apply each
//     migration exactly once and all come up;
//   - what one node writes, the other serves; a pagination cursor from one
//     node is accepted by the other (the signing key lives in the database);
//   - two nodes creating the same externalId at the same moment end with one
//     user, never two, and no 5xx;
//   - a mirroring change's re-derive job is worked by one node at a time:
//     every user exactly once, one users_rederived event.
// On PostgreSQL only, with a cluster of the test's own (so no other test file
// sees the outage): PostgreSQL restarts under load; requests in flight fail
// with 503 and a SCIM error body, nothing half-written remains, and scimd
// recovers without being restarted.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BIN, PG_URL, freshDb, cli, audit, startServer, scimClient, http, qs, assertList, uniq,
  CORE_USER, ERROR_SCHEMA,
} from './lib/harness.mjs';

const RACES = 40;

/* Like the harness's cli(), for outputs beyond spawnSync's default 1 MiB. */
function cliBig(db, ...args) {
  const r = spawnSync(BIN, [...args, '--db', db, '--json'],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 512 * 1024 * 1024 });
  assert.equal(r.status, 0, `scimd ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Tenant, IdP, token on db; one server per entry of `nodes` started together. */
async function cluster(db, nodes) {
  const tenant = cli(db, 'tenant', 'create', uniq('Tenant '));
  const servers = await Promise.all(Array.from({ length: nodes }, () => startServer({ db })));
  const idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'okta', '--vendor', 'okta');
  const token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
  const clients = servers.map((s) => scimClient(`${s.url}/scim/v2/inbound/${idp.id}/`, token.token));
  return { tenant, idp, token, servers, clients };
}

function user(userName, externalId) {
  return {
    schemas: [CORE_USER], userName, externalId, active: true,
    name: { givenName: 'Race', familyName: 'Condition' },
    emails: [{ value: `${userName}`, type: 'work', primary: true }],
  };
}

describe('several nodes on one database', { timeout: 120_000 }, () => {
  let dir;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-multi-')); });
  after(() => { if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true }); });

  test('nodes starting at once on an empty database apply each migration once', async () => {
    const db = freshDb(dir, 'migrate.db');
    const servers = await Promise.all([1, 2, 3].map(() => startServer({ db })));
    try {
      const applied = servers.flatMap((s) => [...s.stderr().matchAll(/applied migration (\S+)/g)].map((m) => m[1]));
      assert.ok(applied.length > 0, 'some node applied the migrations');
      assert.equal(new Set(applied).size, applied.length,
        `each migration applied by exactly one node: ${applied.join(', ')}`);
      for (const s of servers) {
        const r = await http('GET', `${s.url}/healthz`);
        assert.equal(r.status, 200);
      }
      const t = cli(db, 'tenant', 'create', 'After concurrent start');
      assert.ok(cli(db, 'tenant', 'list').some((x) => x.id === t.id));
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  test('what one node writes the other serves, cursors included', async () => {
    const db = freshDb(dir, 'share.db');
    const c = await cluster(db, 2);
    try {
      const [a, b] = c.clients;
      const ids = [];
      for (let i = 0; i < 7; i++) {
        const r = await a('POST', 'Users', { body: user(uniq('share') + '@example.com', uniq('ext')) });
        assert.equal(r.status, 201, r.text);
        ids.push(r.body.id);
      }
      const got = await b('GET', `Users/${ids[3]}`);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.id, ids[3]);

      // a cursor handed out by node a walks on node b
      const first = await a('GET', `Users?${qs({ cursor: '', count: 3 })}`);
      assertList(first);
      assert.ok(first.body.nextCursor, 'first page has a nextCursor');
      const seen = first.body.Resources.map((u) => u.id);
      let next = first.body.nextCursor;
      for (let hop = 0; next && hop < 10; hop++) {
        const page = await (hop % 2 === 0 ? b : a)('GET', `Users?${qs({ cursor: next, count: 3 })}`);
        assert.equal(page.status, 200, `cursor from the other node accepted: ${page.text}`);
        seen.push(...page.body.Resources.map((u) => u.id));
        next = page.body.nextCursor;
      }
      assert.deepEqual([...seen].sort(), [...ids].sort(), 'the walk across nodes sees every user once');

      // a PATCH on b, read back on a
      const p = await b('PATCH', `Users/${ids[0]}`, {
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
                Operations: [{ op: 'replace', path: 'active', value: false }] },
      });
      assert.equal(p.status, 200, p.text);
      const back = await a('GET', `Users/${ids[0]}`);
      assert.equal(back.body.active, false);
    } finally {
      await Promise.all(c.servers.map((s) => s.stop()));
    }
  });

  test('two nodes creating the same externalId at the same moment end with one user', async () => {
    const db = freshDb(dir, 'race.db');
    const c = await cluster(db, 2);
    try {
      const [a, b] = c.clients;
      for (let i = 0; i < RACES; i++) {
        const userName = `${uniq('race')}@example.com`;
        const externalId = uniq('ext');
        const body = user(userName, externalId);
        const [ra, rb] = await Promise.all([a('POST', 'Users', { body }), b('POST', 'Users', { body })]);
        const ok = [ra, rb].filter((r) => r.status === 200 || r.status === 201);
        assert.ok(ok.length >= 1, `at least one create succeeds: ${ra.status} ${rb.status}`);
        for (const r of [ra, rb]) {
          assert.ok([200, 201, 409].includes(r.status), `create answered ${r.status}: ${r.text}`);
          if (r.status === 409) assert.equal(r.body.scimType, 'uniqueness', r.text);
        }
        assert.equal(new Set(ok.map((r) => r.body.id)).size, 1, 'every success names the same user');
        for (const client of [a, b]) {
          const list = await client('GET', `Users?${qs({ filter: `externalId eq "${externalId}"` })}`);
          assertList(list);
          assert.equal(list.body.totalResults, 1, `one user for ${externalId}`);
        }
      }
      const users = cli(db, 'user', 'list', '--tenant', c.tenant.id);
      assert.equal(users.length, RACES, 'one canonical user per raced externalId');
      const created = audit(db, { idp: c.idp.id, type: 'scim_user_created', limit: 10_000 });
      assert.equal(created.length, RACES, 'one scim_user_created event per user');
    } finally {
      await Promise.all(c.servers.map((s) => s.stop()));
    }
  });
});

describe('re-derive job on several nodes', { timeout: 120_000 }, () => {
  test('two nodes working the same tenant re-derive every user exactly once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-multi-'));
    const db = freshDb(dir, 'rederive.db');
    const args = ['--rederive-batch', '5', '--rederive-pause-ms', '20'];
    const tenant = cli(db, 'tenant', 'create', uniq('Tenant '));
    const servers = await Promise.all([startServer({ db, args }), startServer({ db, args })]);
    try {
      const idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'okta', '--vendor', 'okta');
      const token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
      const client = scimClient(`${servers[0].url}/scim/v2/inbound/${idp.id}/`, token.token);
      const N = 60;
      for (let i = 0; i < N; i += 20) {
        const made = await Promise.all(Array.from({ length: 20 }, (_, k) => client('POST', 'Users',
          { body: user(`${uniq('rd')}@example.com`, `rd-${i + k}`) })));
        for (const r of made) assert.equal(r.status, 201, r.text);
      }
      const set = spawnSync(BIN, ['mirror', 'set', '--tenant', tenant.id, '--field', 'display_name',
        '--path', 'externalId', '--no-wait', '--db', db, '--json'], { encoding: 'utf8' });
      assert.equal(set.status, 0, set.stderr);
      const id = JSON.parse(set.stdout).job.id;
      let job;
      for (let i = 0; i < 1200; i++) {
        job = cli(db, 'mirror', 'progress', '--tenant', tenant.id, '--job', id).job;
        if (job.state !== 'running') break;
        await sleep(50);
      }
      assert.equal(job.state, 'done', JSON.stringify(job));
      assert.deepEqual([job.done, job.changed, job.total], [N, N, N], 'each user once');
      const done = audit(db, { tenant: tenant.id, type: 'users_rederived' });
      assert.equal(done.length, 1);
      const names = cli(db, 'user', 'list', '--tenant', tenant.id).map((u) => u.display_name).sort();
      assert.deepEqual(names, Array.from({ length: N }, (_, k) => `rd-${k}`).sort());
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL restarts under load', { skip: !PG_URL && 'runs on PostgreSQL only', timeout: 180_000 }, () => {
  const CLIENTS = 16;
  let pgdir;
  let url;
  before(() => {
    pgdir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-pgrestart-'));
    const r = spawnSync('sh', ['tools/pg-cluster.sh', 'start', pgdir, 'fast'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    url = readFileSync(path.join(pgdir, 'url'), 'utf8').trim();
  });
  after(() => { spawnSync('sh', ['tools/pg-cluster.sh', 'stop', pgdir]); });

  test('in-flight requests get 503 with a SCIM error, nothing is half-written, scimd reconnects', async () => {
    const db = url;
    const c = await cluster(db, 1);
    const base = `${c.servers[0].url}/scim/v2/inbound/${c.idp.id}/`;
    const outcomes = []; // {userName, externalId, status, id}
    let stop = false;
    const worker = async (n) => {
      for (let i = 0; !stop; i++) {
        const userName = `w${n}-${i}-${uniq('pg')}@example.com`;
        const externalId = `ext-${n}-${i}-${uniq('x')}`;
        let r;
        try {
          r = await http('POST', `${base}Users`, {
            body: user(userName, externalId), allow5xx: true, timeoutMs: 20_000,
            headers: { Authorization: `Bearer ${c.token.token}`, 'Content-Type': 'application/scim+json' },
          });
        } catch (e) {
          r = { status: 0, body: String(e) };
        }
        outcomes.push({ userName, externalId, status: r.status, id: r.body?.id, body: r.body });
        if (r.status >= 500) await sleep(20);
      }
    };
    try {
      const workers = Array.from({ length: CLIENTS }, (_, n) => worker(n));
      await sleep(800);
      // not spawnSync: it would stop the event loop, and with it the load, for the whole restart
      const r = await new Promise((resolve) => {
        const child = spawn('sh', ['tools/pg-cluster.sh', 'restart', pgdir], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => { stderr += d; });
        child.on('close', (status) => resolve({ status, stderr }));
      });
      assert.equal(r.status, 0, `restart: ${r.stderr}`);
      // keep the load on until writes succeed again (scimd was not restarted)
      const recoveredBy = Date.now() + 30_000;
      const before = outcomes.length;
      while (Date.now() < recoveredBy) {
        await sleep(200);
        if (outcomes.slice(before).filter((o) => o.status === 201).length >= CLIENTS) break;
      }
      stop = true;
      await Promise.all(workers);

      const failed = outcomes.filter((o) => o.status !== 201);
      for (const o of failed) {
        assert.equal(o.status, 503, `a request hit by the restart answers 503, got ${o.status}: ${JSON.stringify(o.body)}`);
        assert.ok(o.body.schemas?.includes(ERROR_SCHEMA), `503 carries a SCIM error: ${JSON.stringify(o.body)}`);
        assert.equal(o.body.status, '503');
      }
      assert.ok(failed.length > 0, 'the restart was seen by some request (else the test proved nothing)');
      assert.ok(outcomes.slice(-CLIENTS).every((o) => o.status === 201), 'scimd recovered by itself');

      // every 201 is there in full; every 503 is either absent or complete (commit outcome unknown)
      const created = new Map(cliBig(db, 'audit', '--idp', c.idp.id, '--type', 'scim_user_created',
        '--limit', '1000000').map((e) => [e.subject_id, e]));
      const users = new Map(cliBig(db, 'user', 'list', '--tenant', c.tenant.id).map((u) => [u.username, u]));
      for (const o of outcomes) {
        const u = users.get(o.userName);
        if (o.status === 201) {
          assert.ok(u, `acknowledged ${o.userName} exists`);
          assert.equal(u.id, o.id);
        }
        if (u) assert.ok(created.has(u.id), `${o.userName} exists with its scim_user_created event`);
      }
      assert.equal(created.size, users.size, 'no created event without its user and no user without its event');
    } finally {
      stop = true;
      await Promise.all(c.servers.map((s) => s.stop()));
    }
  });
});
