// SPDX-License-Identifier: Apache-2.0
// A PostgreSQL that stops answering (up, but hung: here SIGSTOP of every
// server process) does not hang scimd's requests: each waits at most the
// store's deadline (db_timeout_ms in the database URL, set short here), then
// answers 503 with a SCIM error, and once the server answers again the next
// requests succeed on fresh connections, without restarting scimd.
// PostgreSQL only, on a cluster of the test's own so no other file sees it.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  PG_URL, cli, startServer, http, uniq, CORE_USER, ERROR_SCHEMA,
} from './lib/harness.mjs';

/* Send sig to the postmaster of the cluster in dir and every process it started. */
function signalCluster(dir, sig) {
  const postmaster = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) children.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  // stop the parent first (it starts no one new), continue it last
  const order = sig === 'SIGSTOP' ? [postmaster, ...children] : [...children, postmaster];
  for (const pid of order) {
    try { process.kill(pid, sig); } catch { /* gone meanwhile */ }
  }
}

describe('PostgreSQL stops answering', { skip: !PG_URL && 'runs on PostgreSQL only', timeout: 120_000 }, () => {
  let pgdir;
  let url;
  before(() => {
    pgdir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-pghung-'));
    const r = spawnSync('sh', ['tools/pg-cluster.sh', 'start', pgdir, 'fast'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    url = readFileSync(path.join(pgdir, 'url'), 'utf8').trim();
  });
  after(() => { spawnSync('sh', ['tools/pg-cluster.sh', 'stop', pgdir]); });

  test('requests answer 503 with a SCIM error, then succeed again once it answers', async () => {
    const db = `${url}?db_timeout_ms=1000`;
    const tenant = cli(db, 'tenant', 'create', uniq('Tenant '));
    const idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'okta', '--vendor', 'okta');
    const token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
    const server = await startServer({ db });
    const base = `${server.url}/scim/v2/inbound/${idp.id}/`;
    const headers = { Authorization: `Bearer ${token.token}`, 'Content-Type': 'application/scim+json' };
    const post = (userName) => http('POST', `${base}Users`, {
      headers, allow5xx: true, timeoutMs: 60_000,
      body: { schemas: [CORE_USER], userName, externalId: uniq('ext-'), active: true },
    });
    try {
      const created = await post(uniq('before') + '@example.com');
      assert.equal(created.status, 201);
      const get = () => http('GET', `${base}Users/${created.body.id}`, { headers, allow5xx: true, timeoutMs: 60_000 });
      assert.equal((await get()).status, 200);

      signalCluster(pgdir, 'SIGSTOP');
      let hungRead, hungWrite;
      try {
        [hungRead, hungWrite] = await Promise.all([get(), post(uniq('during') + '@example.com')]);
      } finally {
        signalCluster(pgdir, 'SIGCONT');
      }
      for (const r of [hungRead, hungWrite]) {
        assert.equal(r.status, 503, `a request on a hung database answers 503: ${JSON.stringify(r.body)}`);
        assert.ok(r.body.schemas?.includes(ERROR_SCHEMA), `503 carries a SCIM error: ${JSON.stringify(r.body)}`);
      }

      const again = await get();
      assert.equal(again.status, 200, 'scimd serves again without a restart');
      assert.equal(again.body.id, created.body.id);
      assert.equal((await post(uniq('after') + '@example.com')).status, 201);
    } finally {
      await server.stop();
    }
  });
});
