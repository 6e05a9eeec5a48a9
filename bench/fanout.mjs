// SPDX-License-Identifier: Apache-2.0
// fanout.mjs - the grant and latency runs of bench/fanout.sh: downstream apps
// that are a second scimd's inbound endpoints, an upstream scimd fanning out.
// Writes markdown rows to ROWS_FILE (fanout.sh prints the table).
//
//   node fanout.mjs UP_BASE TOKEN IDS_FILE SCIMD UP_DB KEY_FILE TENANT DOWN_DB DOWN_URL ROWS_FILE
//     UP_BASE   http://127.0.0.1:PORT/scim/v2/inbound/IDP/ (trailing slash)
//     IDS_FILE  the upstream user ids, one a line
//   BENCH_FANOUT_SIZES, BENCH_FANOUT_CHANGES as in fanout.sh
// (a) latency: CHANGES PATCHes of name.givenName, paced at PACE_MS, each to a
//     different linked user; the upstream 2xx is timed in this process and the
//     downstream commit is the time of the downstream's scim_user_updated event
//     (written in the transaction that applies the change), same clock.
// (b) convergence: from `grant add` returning to `app show` saying every user
//     is linked and no job is pending.
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const [upBase, token, idsFile, scimd, upDb, keyFile, tenant, downDb, downUrl, rowsFile] = process.argv.slice(2);
if (!rowsFile) {
  console.error('usage: node fanout.mjs UP_BASE TOKEN IDS_FILE SCIMD UP_DB KEY_FILE TENANT DOWN_DB DOWN_URL ROWS_FILE');
  process.exit(2);
}
const SIZES = (process.env.BENCH_FANOUT_SIZES || '10000').trim().split(/\s+/).map(Number);
const CHANGES = Number(process.env.BENCH_FANOUT_CHANGES || 1000);
// requests in flight per app (`app create --concurrency`): app 1 takes the first, app 2 the next, ...
const CONCURRENCY = (process.env.BENCH_FANOUT_CONCURRENCY || '4 16').trim().split(/\s+/).map(Number);
const PACE_MS = 20;     // 50 changes/s
const CHUNK = 5000;     // members per group PATCH
const POLL_MS = 500;
const CONVERGE_LIMIT_MS = 30 * 60 * 1000;
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const workDir = path.dirname(rowsFile);
const say = (m) => console.error(`[fanout ${new Date().toTimeString().slice(0, 8)}] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const row = (...cells) => appendFileSync(rowsFile, `| ${cells.join(' | ')} |\n`);
const fmt = (n) => n.toLocaleString('en-US');

function cli(db, ...args) {
  const out = execFileSync(scimd, [...args, '--db', db, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() ? JSON.parse(out) : null;
}

async function call(base, tok, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p.slice(0, 80)} -> ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}
const up = (method, p, body) => call(upBase, token, method, p, body);

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/* A fresh tenant + connection + token of the downstream scimd, as an app of TENANT. */
let targets = 0;
function newApp() {
  targets += 1;
  const name = `Target ${targets}`;
  const t = cli(downDb, 'tenant', 'create', name);
  const idp = cli(downDb, 'idp', 'create', '--tenant', t.id, '--name', name, '--vendor', 'generic', '--public-url', downUrl);
  const tok = cli(downDb, 'token', 'create', '--idp', idp.id, '--name', 'fanout');
  const tokenFile = path.join(workDir, `target${targets}.token`);
  writeFileSync(tokenFile, `${tok.token}\n`, { mode: 0o600 });
  const base = `${downUrl}/scim/v2/inbound/${idp.id}`;
  const concurrency = CONCURRENCY[Math.min(targets, CONCURRENCY.length) - 1];
  const app = cli(upDb, 'app', 'create', '--tenant', tenant, '--name', name, '--scim-url', base,
                  '--token-file', tokenFile, '--key-file', keyFile, '--concurrency', String(concurrency));
  return { app, tenant: t, base, token: tok.token, concurrency };
}

async function groupOf(n) {
  const g = await up('POST', 'Groups', { schemas: [GROUP_SCHEMA], displayName: `Fanout ${n} ${Date.now()}` });
  for (let i = 0; i < n; i += CHUNK) {
    const members = ids.slice(i, Math.min(n, i + CHUNK)).map((value) => ({ value }));
    await up('PATCH', `Groups/${g.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: members }] });
  }
  return g;
}

/* Wait until the app has linked users and nothing pending; returns ms. */
async function converge(app, linked, t0) {
  for (;;) {
    const s = cli(upDb, 'app', 'show', app.id);
    if (s.counts.linked >= linked && s.counts.pending === 0) return performance.now() - t0;
    if (s.counts.dead > 0) throw new Error(`app ${app.id}: ${s.counts.dead} dead letters: ${s.last_error}`);
    if (performance.now() - t0 > CONVERGE_LIMIT_MS) throw new Error(`app ${app.id} did not converge: ${JSON.stringify(s)}`);
    await sleep(POLL_MS);
  }
}

async function grantRun(target, group, n, label) {
  say(`${label}: grant ${n} users`);
  const t0 = performance.now();
  cli(upDb, 'grant', 'add', '--app', target.app.id, '--group', group.id);
  const ms = await converge(target.app, n, t0);
  const down = await call(target.base, target.token, 'GET', '/Users?count=0');
  if (down.totalResults !== n) throw new Error(`downstream holds ${down.totalResults} users, not ${n}`);
  const rate = Math.round(n / (ms / 1000));
  say(`${label}: ${(ms / 1000).toFixed(1)} s, ${rate} users/s`);
  row(`${label}, concurrency ${target.concurrency}: grant a group of ${fmt(n)} users`, `${(ms / 1000).toFixed(1)} s to converge, ${fmt(rate)} users/s`,
      'from `grant add` returning to `app show`: all linked, nothing pending; downstream count checked; per user: GET userName eq, GET externalId eq, POST');
}

/* downstream id -> externalId (the upstream id), every user of the target */
async function externalIds(target) {
  const map = new Map();
  for (let start = 1; ; start += 1000) {
    const page = await call(target.base, target.token, 'GET', `/Users?startIndex=${start}&count=1000&attributes=externalId`);
    for (const u of page.Resources || []) map.set(u.id, u.externalId);
    if (!page.Resources || page.Resources.length === 0 || start + page.Resources.length > page.totalResults) break;
  }
  return map;
}

async function latencyRun(target, napps) {
  say(`latency: ${CHANGES} changes`);
  const t2xx = new Map();
  const tStart = Date.now();
  for (let i = 0; i < CHANGES; i++) {
    const due = tStart + i * PACE_MS;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    await up('PATCH', `Users/${ids[i]}`, {
      schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'name.givenName', value: `Lat${i}` }],
    });
    t2xx.set(ids[i], Date.now());
  }
  await converge(target.app, 0, performance.now());
  await sleep(1000);
  const ext = await externalIds(target);
  const events = cli(downDb, 'audit', '--tenant', target.tenant.id, '--type', 'scim_user_updated', '--limit', String(CHANGES * 3));
  const first = new Map();
  for (const e of events) {
    const at = Date.parse(e.at);
    const upId = ext.get(e.subject_id);
    if (at < tStart || !t2xx.has(upId)) continue;
    if (!first.has(upId) || at < first.get(upId)) first.set(upId, at);
  }
  const lat = [...t2xx].filter(([id]) => first.has(id)).map(([id, t]) => first.get(id) - t);
  if (lat.length !== CHANGES) throw new Error(`only ${lat.length} of ${CHANGES} changes seen downstream`);
  const p50 = pct(lat, 50), p99 = pct(lat, 99), max = Math.max(...lat);
  say(`latency: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`);
  row(`PATCH 2xx upstream → change committed downstream (${fmt(CHANGES)} changes)`,
      `p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
      `name.givenName of ${fmt(CHANGES)} different linked users, one every ${PACE_MS} ms; 2xx timed by the client, downstream commit = time of its scim_user_updated event (ms, same clock); ${napps} apps granted`);
}

const first = newApp();
const group = await groupOf(SIZES[0]);
await grantRun(first, group, SIZES[0], 'app 1');
const second = newApp();
await grantRun(second, group, SIZES[0], 'app 2 (same group)');
await latencyRun(first, 2);
for (const n of SIZES.slice(1)) {
  const more = newApp();
  await grantRun(more, await groupOf(n), n, `app ${targets}`);
  cli(upDb, 'app', 'delete', more.app.id); // the POST runs compare 0 and 2 apps
}
