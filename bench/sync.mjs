// SPDX-License-Identifier: Apache-2.0
// sync.mjs - the "initial sync" scenario: the request sequence Microsoft
// Entra sends when it provisions N users into an empty connection.  For each
// user: GET /Users?filter=externalId eq "<id>" (finds nothing), POST /Users,
// then PATCH (Entra follows a create with a PATCH of the attributes it sets
// separately, here the manager and active).  CONCURRENCY workers share one
// counter.  Prints one parseable SYNC_RESULT line.
//   node bench/sync.mjs BASE_URL TOKEN N [CONCURRENCY]

const [base, token, nText, concText] = process.argv.slice(2);
const total = Number(nText);
const concurrency = Number(concText || 16);
if (!base || !token || !(total > 0)) {
  console.error('usage: node bench/sync.mjs BASE_URL TOKEN N [CONCURRENCY]');
  process.exit(2);
}
const tag = Date.now().toString(36);
const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' };
let next = 0;
let requests = 0;
let failures = 0;
const failureSamples = [];

async function call(method, path, body, expect) {
  requests++;
  const r = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
  const text = await r.text();
  if (r.status !== expect) {
    failures++;
    if (failureSamples.length < 3) failureSamples.push(`${method} ${path} -> ${r.status} ${text.slice(0, 200)}`);
    return null;
  }
  return text ? JSON.parse(text) : null;
}

async function worker() {
  for (;;) {
    const i = next++;
    if (i >= total) return;
    const ext = `sync-${tag}-${i}`;
    const userName = `sync${i}.${tag}@bench.test`;
    const filter = encodeURIComponent(`externalId eq "${ext}"`);
    const found = await call('GET', `Users?filter=${filter}`, undefined, 200);
    if (found && found.totalResults !== 0) { failures++; continue; }
    const created = await call('POST', 'Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User',
                'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: ext, userName, active: true, displayName: `Sync ${i}`,
      name: { givenName: 'Sync', familyName: `User${i}`, formatted: `Sync User${i}` },
      emails: [{ primary: true, type: 'work', value: userName }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Bench' },
    }, 201);
    if (!created) continue;
    await call('PATCH', `Users/${created.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', value: 'mgr-1' },
        { op: 'Replace', path: 'active', value: 'True' },
      ],
    }, 200);
  }
}

const t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
for (const s of failureSamples) console.error(`sync failure: ${s}`);
console.log(`SYNC_RESULT users=${total} concurrency=${concurrency} seconds=${seconds.toFixed(2)} ` +
            `users_per_s=${(total / seconds).toFixed(1)} requests=${requests} ` +
            `rps=${(requests / seconds).toFixed(1)} failures=${failures}`);
