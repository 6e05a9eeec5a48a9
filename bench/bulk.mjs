// SPDX-License-Identifier: Apache-2.0
// bulk.mjs - the Bulk part of scimd's benchmark (run by bench/bulk.sh): how
// long POST /Bulk takes for the shapes that used to hold a thread for
// minutes (issue #9): a 1,000-operation bulkId chain, a request with
// thousands of bulkId references, and a ~1 MiB body.  Each is sent once
// (after one small warm-up request) and printed as a markdown table row:
// wall time and operations per second.  Appends the table to
// bench/results.md unless BENCH_BULK_NO_RESULTS is set.
//
//   node bulk.mjs BASE_URL TOKEN
//     BASE_URL  http://127.0.0.1:PORT/scim/v2/inbound/IDP/ (trailing slash)
// Plain node (fetch), no packages; every request goes to BASE_URL only.
import { appendFileSync } from 'node:fs';

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node bulk.mjs BASE_URL TOKEN');
  process.exit(2);
}
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const MAX_BODY = 1048576;
const TIMEOUT_MS = 15 * 60 * 1000;
const run = `${process.pid}-${Date.now()}`;
const say = (m) => console.error(`[bulk ${new Date().toTimeString().slice(0, 8)}] ${m}`);
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

// A user POST; with next, its manager is the user POSTed as bulkId `next`.
function user(tag, i, next, pad = 0) {
  const data = {
    schemas: [USER, ENTERPRISE], userName: `${tag}${i}-${run}@bench.test`,
    name: { givenName: 'Bulk', familyName: `User${i}` }, active: true,
  };
  if (pad > 0) data.title = 'x'.repeat(pad);
  if (next !== undefined) data[ENTERPRISE] = { manager: { value: `bulkId:${next}` } };
  return { method: 'POST', path: '/Users', bulkId: `${tag}${i}`, data };
}

// Operations listed so that each one refers to a later one: the order that
// made the old resolver pass over the whole request once per operation.
function chain(tag, n, pad = 0) {
  return Array.from({ length: n }, (_, i) => user(tag, i, i + 1 < n ? `${tag}${i + 1}` : undefined, pad));
}

function groupsOver(tag, groups, users) {
  return Array.from({ length: groups }, (_, g) => ({
    method: 'POST', path: '/Groups', bulkId: `${tag}g${g}`,
    data: {
      schemas: [GROUP], displayName: `${tag} group ${g} ${run}`,
      members: Array.from({ length: users }, (_, i) => ({ value: `bulkId:${tag}${i}` })),
    },
  }));
}

async function send(name, Operations) {
  const body = JSON.stringify({ schemas: [BULK_REQUEST], Operations });
  if (body.length > MAX_BODY) throw new Error(`${name}: body of ${body.length} bytes is over the limit`);
  const refs = (body.match(/"bulkId:/g) || []).length;
  say(`${name}: ${Operations.length} operations, ${refs} references, ${body.length} bytes`);
  const t0 = now();
  const res = await fetch(`${base}Bulk`, {
    method: 'POST', body, signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
  });
  const text = await res.text();
  const ms = now() - t0;
  if (res.status !== 200) throw new Error(`${name}: ${res.status} ${text.slice(0, 300)}`);
  const statuses = JSON.parse(text).Operations.map((o) => o.status);
  const ok = statuses.filter((s) => s < '300').length;
  if (ok !== Operations.length) throw new Error(`${name}: only ${ok} of ${Operations.length} succeeded: ${text.slice(0, 300)}`);
  return { name, ops: Operations.length, refs, bytes: body.length, ms };
}

// Warm-up: connections, caches.
await send('warm-up', chain('w', 10));

const results = [];
results.push(await send('1,000-op bulkId chain', chain('c', 1000)));
// 995 users and 5 groups listed before them, each naming every user: ~5,000 references.
results.push(await send('5 groups x 995 users (refs)', [...groupsOver('r', 5, 995), ...chain('r', 995)]));
// ~1 MiB: 950 padded users in a chain and 50 groups of 100 members each.
const bigOps = (pad) => [...groupsOver('m', 50, 100), ...chain('m', 950, pad)];
const sizeOf = (ops) => JSON.stringify({ schemas: [BULK_REQUEST], Operations: ops }).length;
const bare = sizeOf(bigOps(0)) + 950 * 12; // 12: the "title" member around the padding
const big = bigOps(Math.floor((MAX_BODY - 4096 - bare) / 950));
results.push(await send('~1 MiB body (chain + groups)', big));

const lines = [
  '| Bulk request | ops | refs | bytes | wall ms | ops/s |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.name} | ${r.ops} | ${r.refs} | ${r.bytes} | ${r.ms.toFixed(0)} | ${(r.ops / (r.ms / 1000)).toFixed(0)} |`),
];
const table = lines.join('\n');
console.log(table);
if (!process.env.BENCH_BULK_NO_RESULTS) {
  appendFileSync('bench/results.md', `\n### Bulk (${new Date().toISOString()})\n\n${table}\n`);
}
