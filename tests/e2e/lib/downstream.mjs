// SPDX-License-Identifier: Apache-2.0
// Start and drive the downstream SCIM fixture (tests/fixtures/downstream/server.mjs):
// the app scimd provisions into.  startDownstream() spawns it on a free loopback
// port and returns its base URL plus helpers for its admin API (faults, request
// log, reset).  Callers stop() it in an after() hook.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DOWNSTREAM_SERVER = path.resolve(HERE, '../../fixtures/downstream/server.mjs');
export const DOWNSTREAM_TOKEN = 'downstream-token';
const START_TIMEOUT_MS = 15_000;

/* Spawn the fixture; resolves once it printed its port.
 * opts: {token, basic: "user:password"}. */
export function startDownstream({ token = DOWNSTREAM_TOKEN, basic } = {}) {
  const args = [DOWNSTREAM_SERVER, '--port', '0', '--token', token];
  if (basic) args.push('--basic', basic);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });

  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`downstream fixture did not start in ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`downstream fixture exited ${code} before listening: ${stderr}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const { port, base } = JSON.parse(out.slice(0, nl));
      resolve(handle(child, port, base, token));
    });
  });
}

function handle(child, port, base, token) {
  const admin = `http://127.0.0.1:${port}`;
  const adminCall = async (method, p, body) => {
    const res = await fetch(admin + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status}`);
    return res.status === 204 ? null : res.json();
  };
  return {
    port,
    base,
    token,
    child,
    /* SCIM request with the fixture's bearer token; returns {status, headers, body}. */
    async scim(method, p, body, { headers = {} } = {}) {
      const res = await fetch(base + p, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    },
    setFaults: (f) => adminCall('POST', '/_faults', f),
    faults: () => adminCall('GET', '/_faults'),
    log: () => adminCall('GET', '/_log'),
    clearLog: () => adminCall('DELETE', '/_log'),
    reset: () => adminCall('POST', '/_reset'),
    /* Down (connections refused) for ms milliseconds from now, store kept. */
    outage: (ms) => adminCall('POST', '/_outage', { ms }),
    /* End an outage now (the admin API is down with the rest: by signal). */
    endOutage: () => { child.kill('SIGUSR2'); },
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
