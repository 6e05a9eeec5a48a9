// SPDX-License-Identifier: Apache-2.0
// groups.mjs - the groups part of scimd's benchmark (run by bench/groups.sh):
// membership add/remove latency against groups of several sizes, listing many
// groups without members, one 1000-operation Bulk request and a cursor walk
// over all users.  Prints one markdown table and appends it to bench/results.md.
//
//   node groups.mjs BASE_URL TOKEN IDS_FILE
//     BASE_URL  http://127.0.0.1:PORT/scim/v2/inbound/IDP/ (trailing slash)
//     IDS_FILE  one user id per line (every loaded user)
//   BENCH_GROUP_SIZES  member counts ("1000 100000 1000000"); needs more users than the largest
//   BENCH_GROUPS       groups for the listing runs (10000)
// Plain node (fetch), no packages; every request goes to BASE_URL only.
import { readFileSync, appendFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

const [base, token, idsFile] = process.argv.slice(2);
if (!base || !token || !idsFile) {
  console.error('usage: node groups.mjs BASE_URL TOKEN IDS_FILE');
  process.exit(2);
}
const SIZES = (process.env.BENCH_GROUP_SIZES || '1000 100000 1000000').trim().split(/\s+/).map(Number);
const NGROUPS = Number(process.env.BENCH_GROUPS || 10000);
const CHUNK = 5000;       // members per fill PATCH (well under the 1 MiB body limit)
const SAMPLES = 200;      // add/remove pairs per group size; single listing requests
const CREATE_CONC = 16;   // concurrent POST /Groups for the listing data set
const BULK_OPS = 1000;    // operations in the Bulk request
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const say = (m) => console.error(`[groups ${new Date().toTimeString().slice(0, 8)}] ${m}`);
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

async function scim(method, path, body, okStatuses = [200, 201, 204]) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!okStatuses.includes(res.status)) {
    throw new Error(`${method} ${path.slice(0, 80)} -> ${res.status} ${text.slice(0, 300)}`);
  }
  return text ? JSON.parse(text) : null;
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const f2 = (x) => x.toFixed(2);
const rows = [];
const row = (...cells) => rows.push(`| ${cells.join(' | ')} |`);

const patchOp = (op, path, value) => ({
  schemas: [PATCH_SCHEMA],
  Operations: [value === undefined ? { op, path } : { op, path, value }],
});

// ---- membership changes against groups of each size
const p50add = [];
for (const size of SIZES) {
  if (size + 1 > ids.length) throw new Error(`group of ${size} needs more than ${ids.length} users`);
  say(`group of ${size}: filling`);
  const g = await scim('POST', 'Groups', { schemas: [GROUP_SCHEMA], displayName: `bench-size-${size}` });
  let t0 = now();
  for (let i = 0; i < size; i += CHUNK) {
    const value = ids.slice(i, Math.min(size, i + CHUNK)).map((value) => ({ value }));
    await scim('PATCH', `Groups/${g.id}`, patchOp('add', 'members', value));
  }
  const fillS = (now() - t0) / 1000;
  say(`group of ${size}: filled in ${fillS.toFixed(1)} s; ${SAMPLES} add/remove pairs`);
  const add = [], rem = [];
  const spare = ids.length - size; // users not in the group
  for (let k = 0; k < SAMPLES; k++) {
    const id = ids[size + (k % spare)];
    t0 = now();
    await scim('PATCH', `Groups/${g.id}`, patchOp('add', 'members', [{ value: id }]));
    add.push(now() - t0);
    t0 = now();
    await scim('PATCH', `Groups/${g.id}`, patchOp('remove', `members[value eq "${id}"]`));
    rem.push(now() - t0);
  }
  p50add.push(pct(add, 50));
  row(`group of ${size}: fill (PATCH add, ${CHUNK} per request)`, size, `${fillS.toFixed(2)} s`,
      `${Math.round(size / fillS)} members/s`, '-');
  row(`group of ${size}: PATCH add 1 member`, size, f2(pct(add, 50)), f2(pct(add, 99)), `${SAMPLES} samples`);
  row(`group of ${size}: PATCH remove 1 member`, size, f2(pct(rem, 50)), f2(pct(rem, 99)), `${SAMPLES} samples`);
}
if (SIZES.length > 1) {
  const r = p50add[p50add.length - 1] / p50add[0];
  row(`add p50 ratio ${SIZES[SIZES.length - 1]} / ${SIZES[0]}`, '-', r.toFixed(2) + 'x', '-', 'near 1 = flat');
}

// ---- listing many groups without members
say(`creating ${NGROUPS} groups (${CREATE_CONC} concurrent)`);
let next = 0;
let t0 = now();
await Promise.all(Array.from({ length: CREATE_CONC }, async () => {
  while (next < NGROUPS) {
    const i = next++;
    await scim('POST', 'Groups', { schemas: [GROUP_SCHEMA], displayName: `bench-list-${i}`, externalId: `gx-${i}` });
  }
}));
const createS = (now() - t0) / 1000;
row(`POST /Groups x${NGROUPS} (16 concurrent)`, NGROUPS, `${createS.toFixed(2)} s`,
    `${Math.round(NGROUPS / createS)} groups/s`, '-');

say('walking all groups, count=1000, excludedAttributes=members');
t0 = now();
let seen = 0, total = 0;
for (let start = 1; ; start += 1000) {
  const page = await scim('GET', `Groups?excludedAttributes=members&count=1000&startIndex=${start}`);
  const n = (page.Resources || []).length;
  seen += n;
  total = page.totalResults;
  if (n === 0 || seen >= total) break;
}
const walkS = (now() - t0) / 1000;
row('walk GET /Groups?excludedAttributes=members&count=1000', seen, `${walkS.toFixed(2)} s`,
    `${Math.round(seen / walkS)} groups/s`, `totalResults ${total}`);

const lat = [];
for (let k = 0; k < SAMPLES; k++) {
  t0 = now();
  await scim('GET', 'Groups?excludedAttributes=members&count=100');
  lat.push(now() - t0);
}
row('GET /Groups?excludedAttributes=members&count=100', total, f2(pct(lat, 50)), f2(pct(lat, 99)), `${SAMPLES} samples`);

// ---- cursor walk over every user (before the Bulk run adds more)
say(`cursor walk over ${ids.length} users`);
t0 = now();
let users = 0, cursor = '';
for (let pages = 0; pages < 1e6; pages++) {
  const page = await scim('GET', `Users?count=1000&cursor=${encodeURIComponent(cursor)}`);
  users += (page.Resources || []).length;
  if (!page.nextCursor) break;
  cursor = page.nextCursor;
}
const curS = (now() - t0) / 1000;
row('cursor walk GET /Users?cursor=&count=1000', users, `${curS.toFixed(2)} s`,
    `${Math.round(users / curS)} users/s`, users === ids.length ? 'all users' : `expected ${ids.length}`);

// ---- one Bulk request of 1000 POST /Users
const ops = Array.from({ length: BULK_OPS }, (_, i) => ({
  method: 'POST', path: '/Users', bulkId: `b${i}`,
  data: {
    schemas: [USER_SCHEMA], userName: `bulk${i}@bench.test`, externalId: `bulk-${i}`,
    name: { givenName: 'Bulk', familyName: `User${i}` }, displayName: `Bulk User ${i}`,
    emails: [{ value: `bulk${i}@bench.test`, type: 'work', primary: true }], active: true,
  },
}));
say(`Bulk request of ${BULK_OPS} operations`);
t0 = now();
const bulk = await scim('POST', 'Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops });
const bulkMs = now() - t0;
const created = (bulk.Operations || []).filter((o) => String(o.status).startsWith('201')).length;
row(`POST /Bulk (${BULK_OPS} x POST /Users)`, BULK_OPS, `${f2(bulkMs)} ms`,
    `${Math.round(BULK_OPS / (bulkMs / 1000))} ops/s`, `${created} created`);

let rev = '?';
try { rev = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch {}
const table = [
  '',
  '## Groups, Bulk and cursor paging',
  '',
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, scimd ${rev}, ${ids.length} users loaded,` +
    ' one connection, sequential requests unless noted',
  '',
  '| scenario | size | p50 ms / time | p99 ms / rate | note |',
  '|---|---:|---:|---:|---|',
  ...rows,
  '',
].join('\n');
console.log(table);
appendFileSync('bench/results.md', table);
