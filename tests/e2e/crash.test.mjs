// SPDX-License-Identifier: Apache-2.0
// Crash safety: 32 clients create users and PATCH `active` while the server
// is killed with SIGKILL mid-load, then restarted on the same database.
// Checked after every restart, for every round so far:
//   - every create that got a 201 exists over SCIM with the id it was given,
//     in the state of its last acknowledged PATCH (or of the PATCH in flight
//     when the server died, whose outcome the client never learnt);
//   - every user that exists has exactly its scim_user_created event, and
//     every scim_user_created event has its user (no half-written create);
//   - the canonical user record agrees with its IdP row and SCIM resource;
//   - requests that were rejected left nothing behind;
//   - the server comes back healthy (and finally stops cleanly).
// Pacing only: no assertion depends on how fast anything ran.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  setup, startServer, cli, BIN, CORE_USER, PATCH_OP,
} from './lib/harness.mjs';

const CLIENTS = 32;
const ROUNDS = 3;
const KILL_AFTER_MS = [1000, 2000]; // kill at a random moment in this window
const REQUEST_TIMEOUT_MS = 10_000;
const SHOW_SAMPLE = 12; // users per round checked in depth with `scimd user show`

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Like the harness's cli(), for outputs larger than spawnSync's default
 * 1 MiB buffer (thousands of users and events). */
function cliBig(db, ...args) {
  const r = spawnSync(BIN, [...args, '--db', db, '--json'],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 512 * 1024 * 1024 });
  assert.equal(r.status, 0, `scimd ${args.join(' ')}: ${r.error?.message ?? ''} ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /runtime error:|AddressSanitizer|LeakSanitizer/, r.stderr);
  return JSON.parse(r.stdout);
}

/* One request; null when the outcome is unknown (connection lost). */
async function send(url, token, method, body) {
  try {
    const r = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null, text };
  } catch {
    return null;
  }
}

/* A client: alternately create a user and toggle `active` on one of its own,
 * until the server goes away.  Every user it tried is pushed to `tracked`:
 *   {userName, created: 'acked'|'unknown'|'rejected', id, active, pending}
 * pending: the `active` value of a PATCH whose answer never came. */
async function client(base, token, round, n, tracked, serverErrors) {
  const mine = [];
  for (let k = 0; ; k++) {
    if (mine.length === 0 || k % 2 === 0) {
      const userName = `crash-r${round}-c${n}-${k}@example.com`;
      const u = { userName, created: 'unknown', id: null, active: true, pending: undefined };
      tracked.push(u);
      const r = await send(`${base}Users`, token, 'POST', {
        schemas: [CORE_USER],
        userName,
        externalId: `crash-ext-${round}-${n}-${k}`,
        name: { givenName: 'Crash', familyName: `C${n}K${k}` },
        emails: [{ value: userName, type: 'work', primary: true }],
        active: true,
      });
      if (r === null) return;
      if (r.status >= 500) serverErrors.push(`POST -> ${r.status} ${r.text.slice(0, 300)}`);
      if (r.status !== 201) {
        u.created = 'rejected';
        continue;
      }
      u.created = 'acked';
      u.id = r.body.id;
      mine.push(u);
    } else {
      const u = mine[(k * 7) % mine.length];
      const next = !u.active;
      u.pending = next;
      const r = await send(`${base}Users/${u.id}`, token, 'PATCH', {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'active', value: next }],
      });
      if (r === null) return;
      if (r.status >= 500) serverErrors.push(`PATCH -> ${r.status} ${r.text.slice(0, 300)}`);
      u.pending = undefined;
      if (r.status === 200) u.active = next;
    }
  }
}

/* Every user of the connection over SCIM, by userName. */
async function listAll(base, token) {
  const users = new Map();
  for (let start = 1; ; start += 1000) {
    const r = await send(`${base}Users?count=1000&startIndex=${start}`, token, 'GET');
    assert.ok(r && r.status === 200, `list users after restart: ${r && r.text.slice(0, 500)}`);
    const page = r.body.Resources ?? [];
    for (const u of page) users.set(u.userName.toLowerCase(), u);
    if (page.length === 0 || start + page.length > r.body.totalResults) break;
  }
  return users;
}

function verify(env, tracked, listed, round) {
  const ctx = (u) => `round ${round}: ${JSON.stringify(u)}`;
  for (const u of tracked) {
    const got = listed.get(u.userName.toLowerCase());
    if (u.created === 'acked') {
      assert.ok(got, `acknowledged create is missing after kill -9: ${ctx(u)}`);
      assert.equal(got.id, u.id, `acknowledged create has another id: ${ctx(u)}`);
      const ok = [u.active];
      if (u.pending !== undefined) ok.push(u.pending);
      assert.ok(ok.includes(got.active),
        `active=${got.active} but the acknowledged state allows ${JSON.stringify(ok)}: ${ctx(u)}`);
    } else if (u.created === 'rejected') {
      assert.equal(got, undefined, `a rejected create left a user behind: ${ctx(u)}`);
    } else if (got) {
      // the answer was lost: either outcome is fine, but all of it
      assert.equal(got.active, true, `unacknowledged create in a state nobody asked for: ${ctx(u)}`);
    }
  }

  // each user exactly once created, each created event has its user
  const created = cliBig(env.db, 'audit', '--idp', env.idp.id, '--type', 'scim_user_created',
                         '--limit', '1000000');
  const createdIds = created.map((e) => e.subject_id);
  assert.equal(new Set(createdIds).size, createdIds.length, `duplicate scim_user_created events (round ${round})`);
  const ids = new Set([...listed.values()].map((u) => u.id));
  for (const id of ids) assert.ok(createdIds.includes(id), `user ${id} has no scim_user_created event (round ${round})`);
  for (const id of createdIds) assert.ok(ids.has(id), `scim_user_created for ${id} but no such user (round ${round})`);

  // canonical records agree with the SCIM view
  const canonical = cliBig(env.db, 'user', 'list', '--tenant', env.tenant.id, '--idp', env.idp.id);
  assert.equal(canonical.length, listed.size, `canonical users vs SCIM users (round ${round})`);
  for (const c of canonical) {
    const s = listed.get(c.username.toLowerCase());
    assert.ok(s && s.id === c.id, `canonical user without its SCIM resource: ${JSON.stringify(c)}`);
    assert.equal(c.status, s.active ? 'active' : 'deactivated',
      `canonical status disagrees with SCIM active: ${JSON.stringify(c)} vs ${JSON.stringify(s)}`);
  }

  // in depth for a sample, the users touched last first (most likely mid-write)
  const sample = tracked.filter((u) => listed.has(u.userName.toLowerCase())).slice(-SHOW_SAMPLE);
  for (const u of sample) {
    const s = listed.get(u.userName.toLowerCase());
    const shown = cli(env.db, 'user', 'show', s.id);
    assert.equal(shown.idp_rows.length, 1, `one IdP row: ${JSON.stringify(shown)}`);
    const row = shown.idp_rows[0];
    assert.equal(row.active, s.active, `IdP row active vs SCIM: ${JSON.stringify(shown)}`);
    assert.equal(row.resource.active, s.active, `stored resource vs SCIM: ${JSON.stringify(shown)}`);
    assert.equal(row.deleted, false);
    assert.equal(row.user_name.toLowerCase(), u.userName.toLowerCase());
    assert.equal(shown.status, s.active ? 'active' : 'deactivated', `user show status: ${JSON.stringify(shown)}`);
    assert.equal(row.resource.meta.version, s.meta.version, `version: ${JSON.stringify(shown)}`);
  }
}

test('no acknowledged write is lost across kill -9, and nothing half-written appears', async (t) => {
  const env = await setup({ vendor: 'entra' });
  const serverErrors = [];
  try {
    const tracked = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const server = env.server;
      const base = `${server.url}/scim/v2/inbound/${env.idp.id}/`;
      const clients = Array.from({ length: CLIENTS },
        (_, n) => client(base, env.token.token, round, n, tracked, serverErrors));
      const [lo, hi] = KILL_AFTER_MS;
      await sleep(lo + Math.random() * (hi - lo));
      const exited = new Promise((resolve) => {
        if (server.exited) resolve(server.exited);
        else server.child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      server.child.kill('SIGKILL');
      const how = await exited;
      assert.equal(how.signal, 'SIGKILL', `the server was still running when killed: ${JSON.stringify(how)}`);
      assert.doesNotMatch(server.stderr(), /runtime error:|AddressSanitizer|LeakSanitizer/,
        `sanitizer report before the kill:\n${server.stderr().slice(-4000)}`);
      await Promise.all(clients); // each ends at its first lost request

      env.server = await startServer({ db: env.db }); // throws unless healthy
      const mine = tracked.filter((u) => u.userName.startsWith(`crash-r${round}-`));
      const acked = mine.filter((u) => u.created === 'acked').length;
      t.diagnostic(`round ${round}: ${mine.length} creates tried, ${acked} acknowledged`);
      assert.ok(acked > 0, `round ${round}: no create was acknowledged before the kill`);
      const listed = await listAll(`${env.server.url}/scim/v2/inbound/${env.idp.id}/`, env.token.token);
      verify(env, tracked, listed, round);
    }
    assert.deepEqual(serverErrors, [], 'scimd answered 5xx under load');
  } finally {
    await env.cleanup(); // stops the last server and asserts a clean exit
  }
});
