// SPDX-License-Identifier: Apache-2.0
// TLS (issue 15, item 1): `scimd serve --tls-cert F --tls-key F` answers
// SCIM over HTTPS to a client that trusts the certificate (generated here
// with openssl), with Strict-Transport-Security; SIGHUP after the files are
// replaced gives new connections the new certificate while a kept-alive
// connection made before still completes; a broken pair on SIGHUP changes
// nothing; a broken pair at start is a clear error.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import https from 'node:https';
import path from 'node:path';

import { BIN, cli, cliRaw, freshDb, freePort } from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* A self-signed certificate for 127.0.0.1 named cn: its own CA. */
function makeCert(dir, cn) {
  const cert = path.join(dir, `${cn}.crt`);
  const key = path.join(dir, `${cn}.key`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                                  '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
                                  '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { cert, key, pem: readFileSync(cert) };
}

/* A request over HTTPS with agent; resolves {status, headers, text, cn (the server certificate's), socket}. */
function request(agent, port, method, p, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: p, headers, agent }, (res) => {
      const socket = res.socket; // a kept-alive socket goes back to the agent at the end
      const cn = socket.getPeerCertificate().subject?.CN;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, cn, socket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const get = (agent, port, p, headers = {}) => request(agent, port, 'GET', p, headers);

describe('TLS', () => {
  let dir, db, token, idp, port, child, stderr = '', exited;
  let first, second;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-tls-'));
    db = freshDb(dir);
    first = makeCert(dir, 'first');
    second = makeCert(dir, 'second');
    copyFileSync(first.cert, path.join(dir, 'server.crt'));
    copyFileSync(first.key, path.join(dir, 'server.key'));
    const tenant = cli(db, 'tenant', 'create', 'TLS tenant');
    idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'entra', '--vendor', 'entra');
    token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'tls').token;
    port = await freePort();
    // no --public-url: with TLS on, the default base URL is https:// and the listen address
    child = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`,
                        '--tls-cert', path.join(dir, 'server.crt'), '--tls-key', path.join(dir, 'server.key')],
                  { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    const agent = new https.Agent({ ca: first.pem });
    for (let i = 0; i < 300 && !exited; i++) {
      try {
        if ((await get(agent, port, '/healthz')).status === 200) break;
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    agent.destroy();
    assert.equal(exited, undefined, `scimd serve exited: ${stderr}`);
  });

  after(async () => {
    if (child && !exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 200 && !exited; i++) await sleep(50);
      assert.deepEqual(exited, { code: 0, signal: null }, stderr);
      assert.doesNotMatch(stderr, /runtime error:|AddressSanitizer|LeakSanitizer/, stderr);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a SCIM answer over HTTPS to a client that trusts the certificate, with HSTS', async () => {
    const agent = new https.Agent({ ca: first.pem });
    const res = await get(agent, port, `/scim/v2/inbound/${idp.id}/Users?count=1`, { Authorization: `Bearer ${token}` });
    agent.destroy();
    assert.equal(res.status, 200, res.text);
    assert.equal(JSON.parse(res.text).totalResults, 0);
    assert.equal(res.cn, 'first');
    assert.match(res.headers['strict-transport-security'] ?? '', /^max-age=\d+/);
    const untrusted = new https.Agent({ ca: second.pem });
    await assert.rejects(get(untrusted, port, '/healthz'), /self[- ]signed|unable to verify|certificate/i,
                         'a client that does not trust the certificate refuses it');
    untrusted.destroy();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) }),
                         'plain HTTP gets no answer');
  });

  test('without --public-url, Location and meta.location say https:// and the listen address', async () => {
    const agent = new https.Agent({ ca: first.pem });
    const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'tls.user@example.com' });
    const res = await request(agent, port, 'POST', `/scim/v2/inbound/${idp.id}/Users`,
                              { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' }, body);
    agent.destroy();
    assert.equal(res.status, 201, res.text);
    const base = `https://127.0.0.1:${port}/scim/v2/inbound/${idp.id}/Users/`;
    assert.ok(res.headers.location?.startsWith(base), `Location ${res.headers.location}`);
    assert.ok(JSON.parse(res.text).meta.location.startsWith(base), res.text);
  });

  test('SIGHUP: new connections get the new certificate, a kept-alive one completes', async () => {
    const kept = new https.Agent({ ca: first.pem, keepAlive: true, maxSockets: 1 });
    const before = await get(kept, port, `/scim/v2/inbound/${idp.id}/Users?count=1`, { Authorization: `Bearer ${token}` });
    assert.equal(before.status, 200);
    assert.equal(before.cn, 'first');

    copyFileSync(second.cert, path.join(dir, 'server.crt'));
    copyFileSync(second.key, path.join(dir, 'server.key'));
    child.kill('SIGHUP');
    let fresh = null;
    for (let i = 0; i < 200 && !fresh; i++) {
      const agent = new https.Agent({ ca: second.pem });
      try { fresh = await get(agent, port, '/healthz'); } catch { await sleep(50); }
      agent.destroy();
    }
    assert.ok(fresh, `a new connection never saw the new certificate: ${stderr}`);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.cn, 'second');

    const again = await get(kept, port, `/scim/v2/inbound/${idp.id}/Users?count=1`, { Authorization: `Bearer ${token}` });
    assert.equal(again.status, 200, 'the kept-alive connection still answers');
    assert.equal(again.socket, before.socket, 'on the same connection');
    assert.equal(again.cn, 'first', 'which keeps the certificate it was made with');
    kept.destroy();
    // The log line is written after the new daemon starts serving, so it may trail the first handshake.
    for (let i = 0; i < 200 && !/reloaded the TLS certificate/.test(stderr); i++) await sleep(50);
    assert.match(stderr, /reloaded the TLS certificate/);
  });

  test('SIGHUP with a broken pair keeps the current certificate', async () => {
    writeFileSync(path.join(dir, 'server.crt'), 'not a certificate\n');
    child.kill('SIGHUP');
    for (let i = 0; i < 200 && !/reload: /.test(stderr); i++) await sleep(50);
    assert.match(stderr, /reload: the TLS certificate .* are not a PEM certificate/);
    const agent = new https.Agent({ ca: second.pem });
    const res = await get(agent, port, '/healthz');
    agent.destroy();
    assert.equal(res.status, 200);
    assert.equal(res.cn, 'second');
  });

  test('a missing or broken pair at start is a clear error', async () => {
    const p = await freePort();
    const missing = cliRaw(db, ['serve', '--listen', `127.0.0.1:${p}`, '--tls-cert', path.join(dir, 'nope.crt'),
                                '--tls-key', second.key], { json: false });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /cannot read the TLS certificate .*nope\.crt/);
    const mismatched = cliRaw(db, ['serve', '--listen', `127.0.0.1:${p}`, '--tls-cert', first.cert,
                                   '--tls-key', second.key], { json: false });
    assert.notEqual(mismatched.status, 0);
    assert.match(mismatched.stderr, /are not a PEM certificate and its unencrypted private key/);
    const alone = cliRaw(db, ['serve', '--listen', `127.0.0.1:${p}`, '--tls-cert', first.cert], { json: false });
    assert.notEqual(alone.status, 0);
    assert.match(alone.stderr, /--tls-cert and --tls-key go together/);
  });
});
