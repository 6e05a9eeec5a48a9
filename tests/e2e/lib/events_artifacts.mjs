// What scimd's C event code produces (signed webhooks, SETs, the JWKS), handed
// to third-party verifiers: runs one Criterion test of a unit-test binary under
// tests/unit/events/ with SCIMD_EVENTS_OUT set, and reads the files it wrote
// (see tests/unit/events/artifacts.h).  The binary sits beside SCIMD_BIN
// (build/<mode>/tests/events/<name>); it is built with make when missing.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import assert from 'node:assert/strict';
import { BIN } from './harness.mjs';

const ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const RUN_TIMEOUT_MS = 120_000;

/* Run test `suite::name` of unit binary `binary` (e.g. 'webhook_sign_test');
 * returns a function reading a file it wrote, as text. */
export function produceArtifacts(binary, filter) {
  const buildDir = path.dirname(BIN);
  const exe = path.join(buildDir, 'tests', 'events', binary);
  if (!existsSync(exe)) {
    const mode = path.basename(buildDir);
    const r = spawnSync('make', ['--no-print-directory', `MODE=${mode}`, path.relative(ROOT, exe)],
      { cwd: ROOT, encoding: 'utf8', timeout: RUN_TIMEOUT_MS * 3 });
    assert.equal(r.status, 0, `building ${exe} failed:\n${r.stdout}\n${r.stderr}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'scimd-events-'));
  const r = spawnSync(exe, ['--filter', filter, '--jobs', '1'], {
    encoding: 'utf8', timeout: RUN_TIMEOUT_MS,
    env: { ...process.env, SCIMD_EVENTS_OUT: dir, ASAN_OPTIONS: 'detect_leaks=0' },
  });
  assert.equal(r.status, 0, `${binary} --filter ${filter} failed:\n${r.stdout}\n${r.stderr}`);
  return (name) => readFileSync(path.join(dir, name), 'utf8');
}
