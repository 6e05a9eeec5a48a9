// SPDX-License-Identifier: Apache-2.0
// webhooks.mjs - webhook delivery throughput and latency (run by
// bench/webhooks.sh): a receiver on loopback is subscribed (`scimd webhook
// create`, json then set, only scim_user_created), N users are POSTed with 16
// requests in flight, and once all N events have arrived it prints events
// delivered per second (from the first POST to the last receipt) and the p50
// and p99 from an event's commit to its receipt (the event's timestamp, taken
// in the transaction that commits it, to the receiver's clock: one machine).
// Appends the table to bench/results.md unless BENCH_WEBHOOKS_NO_RESULTS is set.
//
//   node webhooks.mjs SCIMD_BIN DB KEY_FILE TENANT BASE_URL TOKEN N
// Plain node (fetch, http), no packages; all traffic on 127.0.0.1.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

const [bin, db, keyFile, tenant, base, token, nText] = process.argv.slice(2);
if (!nText) {
  console.error('usage: node webhooks.mjs SCIMD_BIN DB KEY_FILE TENANT BASE_URL TOKEN N');
  process.exit(2);
}
const N = Number(nText);
const IN_FLIGHT = 16;
const TIMEOUT_MS = 10 * 60 * 1000;
const say = (m) => console.error(`[webhooks ${new Date().toTimeString().slice(0, 8)}] ${m}`);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/* The receiver: one entry per first receipt of an event id. */
function receiver() {
  const seen = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      let id, ts;
      if (req.headers['content-type'] === 'application/secevent+jwt') {
        const claims = JSON.parse(Buffer.from(body.split('.')[1], 'base64url').toString('utf8'));
        id = claims.txn;
        ts = claims.iat * 1000; /* seconds only: the set row uses the event time below */
      } else {
        const event = JSON.parse(body);
        id = event.id;
        ts = Date.parse(event.timestamp);
      }
      if (!seen.has(id)) seen.set(id, { at, ts });
      res.writeHead(req.headers['content-type'] === 'application/secevent+jwt' ? 202 : 204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen })));
}

/* POST n users, 16 in flight; rate > 0 paces them (the i-th not before i / rate s). */
async function pushUsers(tag, n, rate) {
  let next = 0;
  const t0 = Date.now();
  const created = new Map(); /* user id -> when its POST answered */
  async function worker() {
    while (next < n) {
      const i = next++;
      const due = t0 + (rate > 0 ? (i * 1000) / rate : 0);
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const res = await fetch(`${base}Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
                               userName: `${tag}${i}@bench.test`, active: true }),
      });
      const body = await res.json();
      if (res.status !== 201) throw new Error(`POST /Users: ${res.status} ${JSON.stringify(body)}`);
      created.set(body.id, Date.now());
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return created;
}

async function run(format, n, rate) {
  const { server, seen } = await receiver();
  const url = `http://127.0.0.1:${server.address().port}/${format}`;
  const hook = JSON.parse(execFileSync(bin, ['webhook', 'create', '--tenant', tenant, '--url', url,
    '--format', format, '--events', 'scim_user_created', '--key-file', keyFile, '--db', db, '--json'],
  { encoding: 'utf8' }));
  const tag = `${format}-${process.pid}-${Date.now()}-`;
  say(`${format}: pushing ${n} users${rate ? ` at ${rate}/s` : ''}`);
  const start = Date.now();
  const created = await pushUsers(tag, n, rate);
  say(`${format}: pushed in ${Date.now() - start} ms; ${seen.size} delivered so far`);
  const deadline = Date.now() + TIMEOUT_MS;
  while (seen.size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (seen.size < n) throw new Error(`${format}: only ${seen.size} of ${n} events arrived`);
  const last = Math.max(...[...seen.values()].map((v) => v.at));
  /* json: event timestamp (ms) -> receipt; set: iat has seconds only, so the
   * POST's answer (just after the commit) -> receipt */
  let lat;
  if (format === 'json') {
    lat = [...seen.values()].map((v) => v.at - v.ts);
  } else {
    const answered = [...created.values()].sort((a, b) => a - b);
    const got = [...seen.values()].map((v) => v.at).sort((a, b) => a - b);
    lat = got.map((at, i) => at - answered[i]);
  }
  lat.sort((a, b) => a - b);
  execFileSync(bin, ['webhook', 'delete', hook.id, '--db', db]);
  server.close();
  return { format, paced: rate, rate: n / ((last - start) / 1000), p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

const PACED = 200; /* users/s: a steady load the machine sustains, for the latency */
const rows = [];
for (const format of ['json', 'set']) {
  rows.push(await run(format, N, 0));
  rows.push(await run(format, Math.min(N, PACED * 5), PACED));
}
const table = [
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, nproc ${cpus().length}, SQLite, ` +
    `users POSTed with ${IN_FLIGHT} in flight (as fast as they go: ${N}; paced: ${PACED}/s for 5 s), ` +
    'one receiver on loopback, scim_user_created only.  Unpaced, the load generator, scimd and the ' +
    'receiver share the 2 cores, so delivery trails the POSTs; paced shows the latency at a steady load.',
  '',
  '| webhook format, load | events delivered/s | commit → receipt p50 | p99 |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.format}, ${r.paced ? `paced ${r.paced}/s` : 'unpaced'} | ${r.rate.toFixed(0)} | ` +
                     `${r.p50} ms | ${r.p99} ms |`),
  '',
].join('\n');
console.log(table);
if (!process.env.BENCH_WEBHOOKS_NO_RESULTS)
  appendFileSync(new URL('results.md', import.meta.url), `\n## Webhook delivery (issue #13)\n\n${table}`);
