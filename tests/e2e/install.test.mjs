// SPDX-License-Identifier: Apache-2.0
// Installing scimd as an operator would: `make install-files DESTDIR=…` (the
// recipe of `make install`, with the binary under test), then the installed
// binary answers --version, `man -l` renders scimd(8) with every command and
// setting, `systemd-analyze verify` accepts the unit (where systemd-analyze
// exists; its offline security score at most 2.0), and the installed example config is valid and never overwritten.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PREFIX = '/usr/local';

// Every command an operator has today; the man page and help must name them all.
const COMMANDS = [
  'serve', 'tenant create', 'tenant list', 'idp create', 'idp list', 'token create', 'token list',
  'token revoke', 'user create', 'user list', 'user show', 'audit', 'help', 'version',
  'admin create', 'admin list', 'admin reset', 'admin key',
  'app create', 'app list', 'app show', 'app disable', 'app enable', 'app delete', 'app retry',
  'app test', 'app resync', 'app allow-deprovisions',
  'grant add', 'grant remove', 'grant list', 'user deactivate', 'user activate',
  'idp disable', 'idp enable', 'idp allowlist', 'token rotate', 'purge',
  'field add', 'field list', 'mirror show', 'mirror set', 'mirror progress', 'schema add', 'schema list',
  'role create', 'role map', 'role list', 'idp rename', 'field remove', 'role unmap', 'role delete',
  'webhook create', 'webhook list', 'webhook show', 'webhook disable', 'webhook enable',
  'webhook delete', 'webhook replay',
];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return r;
}

function install(destdir) {
  const r = run('make', ['-s', '-C', ROOT, 'install-files', `DESTDIR=${destdir}`, `INSTALL_BIN=${BIN}`,
                         `PREFIX=${PREFIX}`]);
  assert.equal(r.status, 0, `make install-files: ${r.stderr}\n${r.stdout}`);
  return r;
}

const squash = (s) => s.replace(/\u2010|\u2011/g, '-').replace(/\s+/g, ' ');

describe('make install', { timeout: 120_000 }, () => {
  let dir;
  let dest;
  let help;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-install-'));
    dest = path.join(dir, 'root');
    install(dest);
    const r = run(BIN, ['help', '--json']);
    assert.equal(r.status, 0, r.stderr);
    help = JSON.parse(r.stdout);
  });
  after(() => { if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true }); });

  test('the installed binary runs and says its version', () => {
    const bin = path.join(dest, PREFIX, 'bin/scimd');
    assert.ok(statSync(bin).mode & 0o111, 'executable');
    const r = run(bin, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^scimd \d+\.\d+\.\d+\n$/);
    assert.equal(r.stdout.trim(), `scimd ${help.version}`);
  });

  test('the licence is installed with the docs', () => {
    const doc = path.join(dest, PREFIX, 'share/doc/scimd');
    const licence = readFileSync(path.join(doc, 'LICENSE'), 'utf8');
    assert.match(licence, /Apache License\s+Version 2\.0/);
    assert.ok(existsSync(path.join(doc, 'README.md')), 'README.md beside it');
  });

  test('help lists every command, and help AREA describes it', () => {
    const names = help.commands.map((c) => (c.verb ? `${c.area} ${c.verb}` : c.area));
    assert.deepEqual([...names].sort(), [...COMMANDS].sort());
    const r = run(BIN, ['help']);
    assert.equal(r.status, 0, r.stderr);
    for (const c of COMMANDS) assert.ok(r.stdout.includes(`scimd ${c}`), `help names ${c}`);
    const serve = run(BIN, ['help', 'serve']);
    assert.equal(serve.status, 0, serve.stderr);
    for (const s of help.settings) {
      assert.ok(serve.stdout.includes(`--${s.name}`), `help serve names --${s.name}`);
      assert.ok(serve.stdout.includes(s.env), `help serve names ${s.env}`);
    }
    const bad = run(BIN, ['help', 'frobnicate']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'frobnicate'/);
  });

  test('man -l renders scimd(8) naming every command and setting', () => {
    const page = path.join(dest, PREFIX, 'share/man/man8/scimd.8');
    assert.ok(existsSync(page), page);
    const r = run('man', ['-l', page], { env: { ...process.env, MANWIDTH: '200', MANPAGER: 'cat', PAGER: 'cat' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no roff warnings');
    const text = squash(r.stdout.replace(/.\x08/g, ''));
    assert.match(text, /SCIMD\(8\)/);
    for (const c of COMMANDS) assert.ok(text.includes(`scimd ${c}`), `man page names 'scimd ${c}'`);
    for (const s of help.settings) {
      assert.ok(text.includes(`--${s.name}`), `man page names --${s.name}`);
      assert.ok(text.includes(s.env), `man page names ${s.env}`);
    }
    for (const section of ['CONFIGURATION', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'SIGNALS']) assert.ok(text.includes(section), section);
  });

  test('the systemd unit is sandboxed and systemd-analyze verify accepts it', (t) => {
    const unitPath = path.join(dest, PREFIX, 'lib/systemd/system/scimd.service');
    const unit = readFileSync(unitPath, 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${PREFIX}/bin/scimd serve --config /etc/scimd/scimd.conf$`, 'm'));
    for (const line of ['DynamicUser=yes', 'StateDirectory=scimd', 'ProtectSystem=strict', 'ProtectHome=yes',
                        'PrivateTmp=yes', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=',
                        'SystemCallFilter=@system-service', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      assert.ok(unit.split('\n').includes(line), `unit has ${line}`);
    }
    assert.match(unit, /^RestrictAddressFamilies=.*AF_INET6/m);
    assert.ok(Number(unit.match(/^LimitNOFILE=(\d+)$/m)?.[1]) >= 65536, 'LimitNOFILE is high');
    if (run('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
      t.skip('systemd-analyze is not installed here; unit not verified');
      return;
    }
    // verify the unit as installed, pointed at the binary and man page in DESTDIR, with the
    // TLS credential lines README tells a DynamicUser deployment to uncomment
    assert.match(unit, /^#LoadCredential=tls-key:\/etc\/scimd\/tls\/key\.pem$/m);
    assert.match(unit, /^#Environment=SCIMD_TLS_CERT=%d\/tls-cert SCIMD_TLS_KEY=%d\/tls-key$/m);
    const local = path.join(dir, 'scimd.service');
    writeFileSync(local, unit.replace(`ExecStart=${PREFIX}/bin/scimd`, `ExecStart=${path.join(dest, PREFIX, 'bin/scimd')}`)
      .replace(/^#(LoadCredential=tls-|Environment=SCIMD_TLS_)/gm, '$1'));
    const r = run('systemd-analyze', ['verify', local],
                  { env: { ...process.env, MANPATH: path.join(dest, PREFIX, 'share/man'), SYSTEMD_LOG_LEVEL: 'warning' } });
    assert.equal(r.status, 0, `systemd-analyze verify: ${r.stderr}${r.stdout}`);
    assert.doesNotMatch(r.stderr, /scimd\.service/, `no complaint about the unit: ${r.stderr}`);
    // systemd's own sandboxing score: 0 (locked down) to 10 (exposed); keep it at 2 or below
    const sec = run('systemd-analyze', ['security', '--offline=true', '--threshold=20', '--no-pager', local]);
    if (/unrecognized option|unknown option/i.test(sec.stderr)) {
      t.diagnostic('this systemd-analyze cannot score a unit offline; exposure not checked');
      return;
    }
    assert.equal(sec.status, 0, `exposure above 2.0:\n${sec.stdout}${sec.stderr}`);
    assert.match(sec.stdout, /Overall exposure level for scimd\.service: [0-1]\.\d|Overall exposure level for scimd\.service: 2\.0/);
  });

  test('the example config is valid, puts the database in the state directory, and is kept on reinstall', () => {
    const conf = path.join(dest, 'etc/scimd/scimd.conf');
    const r = run(BIN, ['serve', '--config', conf, '--print-config', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const db = JSON.parse(r.stdout).find((s) => s.name === 'db');
    assert.deepEqual(db, { name: 'db', value: '/var/lib/scimd/scimd.db', source: 'file' });
    // every key in it, set or commented out, is a setting
    const names = new Set(help.settings.map((s) => s.name));
    for (const m of readFileSync(conf, 'utf8').matchAll(/^#?([a-z][a-z-]*) = /gm)) {
      assert.ok(names.has(m[1]), `example config key '${m[1]}' is a setting`);
    }
    writeFileSync(conf, 'listen = 127.0.0.1:9999\n');
    const again = install(dest);
    assert.match(again.stdout, /keeping .*scimd\.conf/);
    assert.equal(readFileSync(conf, 'utf8'), 'listen = 127.0.0.1:9999\n', 'an edited config survives make install');
  });
});
