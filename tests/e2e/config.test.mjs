// SPDX-License-Identifier: Apache-2.0
// serve's settings as an operator meets them: a config file, SCIMD_*
// variables and flags (file < env < flag), shown by --print-config with the
// source of every value and passwords masked; bad settings refused at start;
// --log-format json lines that never carry a secret; SIGHUP (systemctl
// reload) leaves the server running.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cli, cliRaw, freshDb, startServer, scimClient, assertList, assert401, http, assertStatus, PG_URL,
} from './lib/harness.mjs';

// a clean environment: no SCIMD_* of the caller leaks into the precedence checks
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SCIMD_')) env[k] = v;
  return { ...env, ...extra };
}

function printConfig(args, env = {}) {
  const r = cliRaw(null, ['serve', ...args, '--print-config'], { env: cleanEnv(env), json: true });
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(JSON.parse(r.stdout).map((s) => [s.name, s]));
}

describe('serve settings', { timeout: 120_000 }, () => {
  let dir;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-config-')); });
  after(() => { if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true }); });

  test('--print-config: file < env < flag, each value with its source', () => {
    const conf = path.join(dir, 'scimd.conf');
    writeFileSync(conf, [
      '# test config', '', 'listen = 127.0.0.1:1111', 'threads = 3', 'db-pool = 5',
      'log-format = "json"', '  header-timeout=7  ', '',
    ].join('\n'));
    const s = printConfig(['--config', conf, '--db-pool', '7'],
                          { SCIMD_THREADS: '4', SCIMD_DB_POOL: '6' });
    assert.deepEqual(s.listen, { name: 'listen', value: '127.0.0.1:1111', source: 'file' });
    assert.deepEqual(s.threads, { name: 'threads', value: '4', source: 'env' }, 'env beats file');
    assert.deepEqual(s['db-pool'], { name: 'db-pool', value: '7', source: 'flag' }, 'flag beats env and file');
    assert.deepEqual(s['log-format'], { name: 'log-format', value: 'json', source: 'file' }, 'quotes stripped');
    assert.deepEqual(s['header-timeout'], { name: 'header-timeout', value: '7', source: 'file' });
    assert.deepEqual(s['body-timeout'], { name: 'body-timeout', value: '60', source: 'default' });
    assert.deepEqual(s.db, { name: 'db', value: './scimd.db', source: 'default' });

    // the text form is itself a config file: `name = value  # source`
    const r = cliRaw(null, ['serve', '--config', conf, '--print-config'], { env: cleanEnv({ SCIMD_THREADS: '4' }), json: false });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^listen = 127\.0\.0\.1:1111 +# file$/m);
    assert.match(r.stdout, /^threads = 4 +# env$/m);
    assert.match(r.stdout, /^max-conns-per-ip = 256 +# default$/m);
    const again = path.join(dir, 'printed.conf');
    writeFileSync(again, r.stdout);
    assert.equal(printConfig(['--config', again]).threads.value, '4', 'printed settings read back');
  });

  test('--print-config masks a database password from flag, env or file', () => {
    const conf = path.join(dir, 'pg.conf');
    writeFileSync(conf, 'db = postgres://scimd:file-pw-1@db.internal:5432/scimd\n');
    for (const [args, env, source] of [
      [['--config', conf], {}, 'file'],
      [['--config', conf], { SCIMD_DB: 'postgres://scimd:env-pw-2@db.internal/scimd' }, 'env'],
      [['--config', conf, '--db', 'postgresql://scimd:flag-pw-3@db.internal/scimd?sslmode=require'], {}, 'flag'],
    ]) {
      const r = cliRaw(null, ['serve', ...args, '--print-config'], { env: cleanEnv(env), json: false });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^db = postgres(ql)?://scimd:\\*\\*\\*@db\\.internal\\S* +# ${source}$`, 'm'), r.stdout);
      assert.doesNotMatch(r.stdout + r.stderr, /-pw-\d/, 'no password printed');
    }
  });

  test('bad settings are refused at start with exit 2, naming where they came from', () => {
    const bad = path.join(dir, 'bad.conf');
    const cases = [
      [['--threads', '0'], {}, /--threads must be a number from 1 to 256, not '0'/],
      [[], { SCIMD_LOG_FORMAT: 'xml' }, /SCIMD_LOG_FORMAT must be one of text\|json, not 'xml'/],
      [[], { SCIMD_LISTEN: 'nowhere' }, /SCIMD_LISTEN wants ADDR:PORT/],
      [['--config', path.join(dir, 'missing.conf')], {}, /no config file/],
      [['--config', bad], {}, /bad\.conf:2: unknown setting 'thread'/],
      [['--nope', '1'], {}, /unknown option '--nope'/],
    ];
    writeFileSync(bad, 'listen = 127.0.0.1:1\nthread = 4\n');
    for (const [args, env, message] of cases) {
      const r = cliRaw(null, ['serve', ...args, '--print-config'], { env: cleanEnv(env), json: false });
      assert.equal(r.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    // a bad value in a file is named with the file
    writeFileSync(bad, 'body-timeout = soon\n');
    const r = cliRaw(null, ['serve', '--config', bad, '--print-config'], { env: cleanEnv(), json: false });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.conf: body-timeout must be a number from 1 to 3600, not 'soon'/);
  });

  test('the admin commands read the database from the config file', () => {
    const db = freshDb(dir, 'fromconf.db');
    const conf = path.join(dir, 'db.conf');
    writeFileSync(conf, `db = ${db}\n`);
    cli(db, 'tenant', 'create', 'Conf Co');
    const r = cliRaw(null, ['tenant', 'list', '--config', conf], { env: cleanEnv() });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).map((t) => t.name), ['Conf Co']);
  });

  test('--log-format json: one JSON object per line, no secrets; SIGHUP keeps it running', async () => {
    const db = freshDb(dir, 'logs.db');
    const server = await startServer({ db, args: ['--log-format', 'json', '--log-level', 'debug', '--demo'] });
    let stopped = false;
    try {
      const out = server.stdout();
      const token = out.match(/scimd_[0-9A-Za-z]{48}/)?.[0];
      const base = out.match(/https?:\/\/\S+\/scim\/v2\/inbound\/[0-9a-f-]{36}\//)?.[0];
      assert.ok(token && base, `demo printed a token and base URL: ${out}`);
      const scim = scimClient(base, token);
      assertList(await scim('GET', 'Users'));
      assert401(await scim('GET', 'Users', { token: `${token.slice(0, -4)}XXXX` }));
      server.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      assertStatus(await http('GET', `${server.url}/healthz`), 200, 'still serving after SIGHUP');
      assert.equal(server.exited, null, 'SIGHUP does not stop serve');
      await server.stop();
      stopped = true;

      const lines = server.stderr().split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length >= 3, `log lines: ${server.stderr()}`);
      const entries = lines.map((l) => {
        try { return JSON.parse(l); } catch { assert.fail(`not a JSON line: ${l}`); }
      });
      for (const e of entries) {
        assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.ok(['error', 'warn', 'info', 'debug'].includes(e.level), JSON.stringify(e));
        assert.equal(typeof e.msg, 'string');
      }
      const started = entries.find((e) => e.msg === 'scimd listening');
      assert.ok(started, `a start entry: ${lines.join('\n')}`);
      assert.equal(started.listen, `127.0.0.1:${server.port}`);
      assert.equal(started.public_url, server.url);
      assert.ok(started.db, 'the database is a field');
      assert.ok(entries.some((e) => /SIGHUP/.test(e.msg)), 'the reload is logged');
      assert.ok(entries.some((e) => /stopping/.test(e.msg)));
      const all = server.stderr();
      assert.ok(!all.includes(token.slice(6)), 'the token never reaches the log');
      if (PG_URL) {
        const pw = new URL(PG_URL).password;
        if (pw) assert.ok(!all.includes(pw), 'the database password never reaches the log');
      }
    } finally {
      if (!stopped) await server.stop({ check: false });
    }
  });

  test('--log-format text (the default) keeps one readable line per entry', async () => {
    const db = freshDb(dir, 'text.db');
    const server = await startServer({ db });
    await server.stop();
    const line = server.stderr().split('\n').find((l) => l.includes('scimd listening'));
    assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z info scimd listening listen=127\.0\.0\.1:\d+ public_url=http:\/\/\S+ db=\S+ threads=32 /);
  });
});
