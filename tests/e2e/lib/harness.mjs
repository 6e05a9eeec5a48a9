// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the black-box tests: run the scimd CLI, spawn the real
// server on a free port, talk SCIM to it over HTTP, read the audit log back.
// Every test file calls setup() for its own temp dir, database and port, so
// files can run in parallel (node --test --test-concurrency=2).
//
// Invariant enforced here for every file: scimd never answers 5xx.  scim()
// and http() fail the test on the spot when it does, with the request shown.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';

export const BIN = process.env.SCIMD_BIN
  ? path.resolve(process.env.SCIMD_BIN)
  : path.resolve('build/release/scimd');

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Poll fn until it returns a truthy value (then that value); fail with what
 * after ms.  Errors thrown by fn fail at once, unless tolerate(err) says the
 * error is expected (e.g. a fixture down on purpose). */
export async function eventually(fn, what, ms = 20_000, { everyMs = 100, tolerate = () => false } = {}) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
    } catch (e) {
      if (!tolerate(e)) throw e;
      last = undefined;
    }
    if (last) return last;
    await sleep(everyMs);
  }
  assert.fail(`not within ${ms} ms: ${what} (last: ${JSON.stringify(last)?.slice(0, 500)})`);
}
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i; // UUIDv7
export const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const TOKEN_RE = /^scimd_[0-9A-Za-z]{48}$/;
export const SCIM_CT_RE = /^application\/scim\+json;\s*charset=utf-8$/i;

const CLI_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------- CLI

/* Run scimd with args + --db db (+ --json unless json:false).  Returns
 * {status, stdout, stderr}; never throws on a non-zero exit. */
export function cliRaw(db, args, { json = true, env } = {}) {
  const full = [...args];
  if (db !== null && db !== undefined) full.push('--db', db);
  if (json) full.push('--json');
  const r = spawnSync(BIN, full, {
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
    env: { ...process.env, ...(env || {}) },
  });
  if (r.error) throw new Error(`cannot run ${BIN} ${full.join(' ')}: ${r.error.message}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/* Run a CLI command that must succeed; return its parsed --json output
 * (null when it printed nothing). */
export function cli(db, ...args) {
  const r = cliRaw(db, args);
  if (r.status !== 0) {
    throw new Error(`scimd ${args.join(' ')} exited ${r.status} (signal ${r.signal})\n` +
                    `stderr: ${r.stderr}\nstdout: ${r.stdout}`);
  }
  if (/runtime error:|AddressSanitizer|LeakSanitizer/.test(r.stderr)) {
    throw new Error(`scimd ${args.join(' ')}: sanitizer report on stderr\n${r.stderr}`);
  }
  const out = r.stdout.trim();
  if (out === '') return null;
  try {
    return JSON.parse(out);
  } catch (e) {
    throw new Error(`scimd ${args.join(' ')} printed non-JSON with --json: ${out.slice(0, 500)}`);
  }
}

/* Audit events (oldest first) via `scimd audit --json --limit 1000`. */
export function audit(db, { idp, tenant, type, limit = 1000 } = {}) {
  const args = ['audit', '--limit', String(limit)];
  if (idp) args.push('--idp', idp);
  if (tenant) args.push('--tenant', tenant);
  if (type) args.push('--type', type);
  const ev = cli(db, ...args);
  assert.ok(Array.isArray(ev), `audit --json must print an array, got ${JSON.stringify(ev)}`);
  return ev;
}

// ---------------------------------------------------------------- server

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}


async function startOnce({ db, args = [], publicUrl, limits = false, port: wanted }) {
  const port = wanted ?? await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Every test runs from 127.0.0.1 and many poll in tight loops: rate limits
  // and failed-authentication throttling (which aggregates audit rows per
  // address) are off unless a test asks for them (limits: true, or the flag).
  const throttle = limits ? [] : ['--token-rate', '--conn-rate', '--auth-fail-limit']
    .filter((f) => !args.includes(f)).flatMap((f) => [f, '0']);
  const argv = ['serve', '--db', db, '--listen', `127.0.0.1:${port}`,
                '--public-url', publicUrl || url, ...throttle, ...args];
  const child = spawn(BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stdout.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => { stdout += d; });
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  child.on('error', (e) => { stderr += `\n[spawn error] ${e.message}`; });

  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let healthy = false;
  while (Date.now() < deadline && !exited) {
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await r.text();
      if (r.status === 200) { healthy = true; break; }
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  return { port, url, child, exitPromise, healthy, get exited() { return exited; },
           stderr: () => stderr, stdout: () => stdout, argv };
}

/* Spawn `scimd serve` on a free port (or on port) and wait for GET /healthz
 * -> 200.  Returns {url, port, stop(), stderr(), stdout(), child}.  stop()
 * sends SIGTERM, waits for the exit and asserts it was clean (code 0). */
export async function startServer({ db, args = [], publicUrl, limits = false, port } = {}) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    last = await startOnce({ db, args, publicUrl, limits, port });
    if (last.healthy) break;
    if (!last.exited) {
      last.child.kill('SIGKILL');
      await last.exitPromise;
      throw new Error(`scimd serve not healthy after ${HEALTH_TIMEOUT_MS} ms ` +
                      `(${BIN} ${last.argv.join(' ')})\nstderr:\n${last.stderr()}\nstdout:\n${last.stdout()}`);
    }
    // exited early: maybe the port was taken between probe and bind; retry
    if (!/in use|EADDRINUSE|bind/i.test(last.stderr())) break;
  }
  if (!last.healthy) {
    throw new Error(`scimd serve exited before becoming healthy: ${JSON.stringify(last.exited)} ` +
                    `(${BIN} ${last.argv.join(' ')})\nstderr:\n${last.stderr()}\nstdout:\n${last.stdout()}`);
  }
  const s = last;
  let stopped = null;
  return {
    url: s.url,
    port: s.port,
    child: s.child,
    stderr: s.stderr,
    stdout: s.stdout,
    get exited() { return s.exited; },
    /* SIGTERM and wait; returns {code, signal}; asserts a clean exit
     * unless {check:false}. */
    async stop({ check = true } = {}) {
      if (!stopped) {
        stopped = (async () => {
          if (!s.exited) s.child.kill('SIGTERM');
          const timer = setTimeout(() => { if (!s.exited) s.child.kill('SIGKILL'); }, STOP_TIMEOUT_MS);
          const r = await s.exitPromise;
          clearTimeout(timer);
          return r;
        })();
      }
      const r = await stopped;
      if (check) {
        assert.deepEqual(r, { code: 0, signal: null },
          `scimd serve did not exit cleanly on SIGTERM: ${JSON.stringify(r)}\nstderr:\n${s.stderr().slice(-8000)}`);
        // UBSan only prints and carries on; a sanitizer report is a failure
        const report = s.stderr().match(/^.*(runtime error:|AddressSanitizer|LeakSanitizer|ThreadSanitizer).*$/m);
        assert.equal(report, null, `sanitizer report in scimd serve stderr:\n${s.stderr().slice(-8000)}`);
      }
      return r;
    },
  };
}

// ---------------------------------------------------------------- HTTP

function describeReq(method, url, headers, body) {
  let b = body;
  if (typeof b === 'string' && b.length > 600) b = b.slice(0, 600) + `...(${body.length} bytes)`;
  if (b && typeof b !== 'string') b = '<stream/binary>';
  return `${method} ${url}\nheaders: ${JSON.stringify(headers)}\nbody: ${b ?? ''}`;
}

/* Raw HTTP request; body may be an object (JSON-encoded), string, Buffer or
 * stream.  Returns {status, headers, text, body (parsed JSON or text)}.
 * Fails the test on any 5xx. */
export async function http(method, url, { body, headers = {}, allow5xx = false, timeoutMs = 30_000 } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  let shown = body;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array) {
      init.body = body;
    } else if (body && typeof body.getReader === 'function') {
      init.body = body;
      init.duplex = 'half';
    } else {
      init.body = JSON.stringify(body);
      shown = init.body;
    }
  }
  for (const k of Object.keys(init.headers)) if (init.headers[k] === undefined) delete init.headers[k];
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new Error(`request failed at transport level (${e.message}${e.cause ? ': ' + e.cause.message : ''})\n` +
                    describeReq(method, url, init.headers, shown));
  }
  const text = await res.text();
  let parsed = text;
  if (text !== '') {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  const out = { status: res.status, headers: res.headers, text, body: parsed };
  if (!allow5xx && res.status >= 500) {
    assert.fail(`server answered ${res.status}\n${describeReq(method, url, init.headers, shown)}\nresponse: ${text.slice(0, 2000)}`);
  }
  return out;
}

/* A SCIM client bound to a base URL and a token.
 *   scim(method, path, {body, token, headers, raw})
 * path is relative to base ("Users", "Users/<id>?attributes=userName") or an
 * absolute URL.  token: undefined -> default token, null -> no Authorization
 * header.  raw: send this string/Buffer as-is instead of JSON.stringify(body). */
export function scimClient(base, defaultToken) {
  return async function scim(method, p, { body, token, headers = {}, raw, contentType } = {}) {
    const url = /^https?:/.test(p) ? p : base + p.replace(/^\//, '');
    const tok = token === undefined ? defaultToken : token;
    const h = {};
    if (tok !== null) h.Authorization = `Bearer ${tok}`;
    const sending = raw !== undefined ? raw : body;
    if (sending !== undefined) h['Content-Type'] = contentType === undefined ? 'application/scim+json' : contentType;
    if (h['Content-Type'] === null) delete h['Content-Type'];
    Object.assign(h, headers);
    return http(method, url, { body: sending, headers: h });
  };
}

/* Query string with %20 for spaces (what IdPs send). */
export function qs(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

export function filterPath(filter, extra = {}) {
  return 'Users?' + qs({ filter, ...extra });
}

// ---------------------------------------------------------------- assertions

/* Assert res is a SCIM error with this HTTP status (and scimType if given;
 * scimType may be an array of acceptable values). */
export function assertScimError(res, status, scimType, what = '') {
  const ctx = `${what}\nresponse ${res.status}: ${res.text.slice(0, 1000)}`;
  assert.equal(res.status, status, `expected HTTP ${status} ${ctx}`);
  assert.match(res.headers.get('content-type') || '', SCIM_CT_RE, `error Content-Type ${ctx}`);
  assert.equal(typeof res.body, 'object', `error body must be JSON ${ctx}`);
  assert.ok(Array.isArray(res.body.schemas) && res.body.schemas.includes(ERROR_SCHEMA),
    `error body must carry the Error schema ${ctx}`);
  assert.equal(res.body.status, String(status), `error "status" must be the string "${status}" ${ctx}`);
  if (scimType !== undefined) {
    const ok = Array.isArray(scimType) ? scimType : [scimType];
    assert.ok(ok.includes(res.body.scimType), `expected scimType ${ok.join('|')}, got ${res.body.scimType} ${ctx}`);
  }
  if (res.body.detail !== undefined) assert.equal(typeof res.body.detail, 'string', ctx);
}

export function assert401(res, what = '') {
  assertScimError(res, 401, undefined, what);
  const wa = res.headers.get('www-authenticate') || '';
  assert.match(wa, /^Bearer\b/, `401 must carry WWW-Authenticate: Bearer (${what}) got "${wa}"`);
  assert.match(wa, /realm="scimd"/, `WWW-Authenticate realm (${what}) got "${wa}"`);
}

export function assertStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what}\nexpected ${status}, got ${res.status}: ${res.text.slice(0, 1500)}`);
}

/* Assert a ListResponse; returns Resources (or []). */
export function assertList(res, what = '') {
  assertStatus(res, 200, what);
  assert.match(res.headers.get('content-type') || '', SCIM_CT_RE, `list Content-Type ${what}`);
  const b = res.body;
  assert.ok(Array.isArray(b.schemas) && b.schemas.includes(LIST_RESPONSE), `ListResponse schema ${what}: ${res.text.slice(0, 500)}`);
  assert.equal(typeof b.totalResults, 'number', `totalResults ${what}`);
  if (b.totalResults > 0 && b.itemsPerPage !== 0) {
    assert.ok(Array.isArray(b.Resources), `Resources must be present when totalResults > 0 (${what})`);
  }
  return b.Resources ?? [];
}

/* Assert that `expected` appears in order (not necessarily contiguous) in
 * `actual`. */
export function assertSubsequence(actual, expected, what = '') {
  let i = 0;
  for (const a of actual) if (i < expected.length && a === expected[i]) i++;
  assert.ok(i === expected.length,
    `${what}\nexpected in order: ${JSON.stringify(expected)}\nmissing from ${expected[i]} on; got: ${JSON.stringify(actual)}`);
}

/* A resource as the server should render any User. */
export function assertUserResource(u, base, what = '') {
  const ctx = `${what}: ${JSON.stringify(u).slice(0, 1500)}`;
  assert.equal(typeof u, 'object', ctx);
  assert.ok(Array.isArray(u.schemas) && u.schemas.includes(CORE_USER), `schemas has core User ${ctx}`);
  assert.match(u.id, UUID_RE, `id is a UUIDv4 ${ctx}`);
  assert.equal(typeof u.userName, 'string', ctx);
  assert.equal(typeof u.active, 'boolean', `active always present and boolean ${ctx}`);
  assert.equal(u.password, undefined, `password is never returned ${ctx}`);
  assert.ok(u.meta, `meta present ${ctx}`);
  assert.equal(u.meta.resourceType, 'User', ctx);
  assert.match(u.meta.created, TIME_RE, `meta.created ${ctx}`);
  assert.match(u.meta.lastModified, TIME_RE, `meta.lastModified ${ctx}`);
  assert.match(u.meta.version, /^W\/"[^"]+"$/, `meta.version ${ctx}`);
  if (base) assert.equal(u.meta.location, `${base}Users/${u.id}`, `meta.location ${ctx}`);
}

// ---------------------------------------------------------------- setup

let counter = 0;
/* A unique-ish suffix for names within a file. */
export function uniq(prefix = 'u') {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${counter.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/* The backend the suite runs on: SCIMD_TEST_PG (a superuser URL of a
 * throwaway cluster, see tools/pg-cluster.sh) selects PostgreSQL. */
export const PG_URL = process.env.SCIMD_TEST_PG || '';

/* Run psql against the throwaway cluster (database `db` of it). */
export function psql(sql, db = 'postgres') {
  const url = PG_URL.replace(/\/[^/]*$/, `/${db}`);
  const r = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

/* A fresh, empty database for one test: a new PostgreSQL database when the
 * suite runs on PostgreSQL, else a SQLite file called `name` in dir. */
export function freshDb(dir, name = 'scimd.db') {
  if (!PG_URL) return path.join(dir, name);
  const db = `scimd_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  psql(`CREATE DATABASE ${db}`);
  return PG_URL.replace(/\/[^/]*$/, `/${db}`);
}

/* Temp dir + db + tenant + idp + token + running server (serve gets args).
 * Returns {dir, db, server, tenant, idp, token, base, scim, cleanup}. */
export async function setup({ vendor = 'okta', tenantName, idpName, args = [] } = {}) {
  if (!existsSync(BIN)) throw new Error(`SCIMD_BIN not found: ${BIN}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-'));
  const db = freshDb(dir);
  const env = { dir, db, server: null };
  env.cleanup = async () => {
    try {
      if (env.server) await env.server.stop();
    } finally {
      if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    env.tenant = cli(db, 'tenant', 'create', tenantName || uniq('Tenant '));
    env.server = await startServer({ db, args });
    env.idp = cli(db, 'idp', 'create', '--tenant', env.tenant.id, '--name', idpName || `${vendor} connection`,
                  '--vendor', vendor, '--public-url', env.server.url);
    env.token = cli(db, 'token', 'create', '--idp', env.idp.id, '--name', 'e2e');
    env.base = `${env.server.url}/scim/v2/inbound/${env.idp.id}/`;
    env.scim = scimClient(env.base, env.token.token);
  } catch (e) {
    await env.cleanup().catch(() => {});
    throw e;
  }
  /* Another IdP connection (+ token) in a tenant, same server. */
  env.addIdp = (tenantId, vendor2 = 'generic', name = uniq('idp ')) => {
    const idp = cli(db, 'idp', 'create', '--tenant', tenantId, '--name', name, '--vendor', vendor2,
                    '--public-url', env.server.url);
    const token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
    const base = `${env.server.url}/scim/v2/inbound/${idp.id}/`;
    return { idp, token, base, scim: scimClient(base, token.token) };
  };
  return env;
}
