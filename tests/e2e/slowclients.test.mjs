// SPDX-License-Identifier: Apache-2.0
// Availability under idle and slow connections (no token needed to open a
// socket): thousands of idle, silent and trickling connections from other
// loopback addresses (127.0.0.x) must not stop the server answering
// authenticated SCIM requests, /healthz and /readyz from 127.0.0.1; one
// address is capped at --max-conns-per-ip while the others are served; a
// client that trickles its head or body is cut off at the deadline even
// though every byte resets the idle timeout.  Loopback only, bounded in
// time and count.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cli, freshDb, startServer, scimClient, http, uniq, assertStatus, assertList, CORE_USER,
} from './lib/harness.mjs';
import { connect, roundTrip, closed } from './lib/rawhttp.mjs';

const PER_IP = 64;             // --max-conns-per-ip of the flood server
const ADDRESSES = 60;          // 127.0.0.2 .. 127.0.0.61
const KEPT_ALIVE = 40;         // per address: did one request, now idle
const TRICKLING = 8;           // per address: one header line a second, never done
const SILENT = 8;              // per address: connected, never sent a byte
const CAPPED = '127.0.0.200';  // the address filled up to PER_IP
const DEADLINE_S = 2;          // --header-timeout / --body-timeout of the second server
const TRICKLE_MS = 300;
const TRICKLE_MAX = 40;        // 12 s of trickling: far past the deadline

/* The open-file hard limit this test (and the server it spawns) may use. */
function fdHardLimit() {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : 1024;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function healthRequest(port) {
  return `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
}

describe('slow and idle clients', { timeout: 120_000 }, () => {
  let dir;
  let db;
  let idp;
  let token;
  const sockets = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-e2e-'));
    db = freshDb(dir);
    const tenant = cli(db, 'tenant', 'create', uniq('Tenant '));
    idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', 'okta', '--vendor', 'okta');
    token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e').token;
  });
  after(() => {
    for (const s of sockets) s.destroy();
    if (!process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  async function served(server, what) {
    const scim = scimClient(`${server.url}/scim/v2/inbound/${idp.id}/`, token);
    assertStatus(await http('GET', `${server.url}/healthz`, { timeoutMs: 10_000 }), 200, `healthz ${what}`);
    assertStatus(await http('GET', `${server.url}/readyz`, { timeoutMs: 10_000 }), 200, `readyz ${what}`);
    assertList(await scim('GET', 'Users?count=5'), `GET Users ${what}`);
    const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: `${uniq('flood')}@slow.test` } });
    assertStatus(res, 201, `POST Users ${what}`);
    assertStatus(await scim('GET', `Users/${res.body.id}`), 200, `GET Users/{id} ${what}`);
  }

  test('thousands of idle, silent and trickling connections; per-address cap', async () => {
    // keep within this process's (and the server's) descriptors
    const scale = Math.min(1, (fdHardLimit() - 1500) / (ADDRESSES * (KEPT_ALIVE + TRICKLING + SILENT) * 1.2));
    assert.ok(scale > 0, 'the open-file limit is too low for this test');
    const keptAlive = Math.max(1, Math.floor(KEPT_ALIVE * scale));
    const trickling = Math.max(1, Math.floor(TRICKLING * scale));
    const silent = Math.max(1, Math.floor(SILENT * scale));

    const server = await startServer({ db, args: ['--max-conns-per-ip', String(PER_IP)] });
    const timers = [];
    try {
      const flood = [];
      for (let a = 0; a < ADDRESSES; a++) {
        const localAddress = `127.0.0.${2 + a}`;
        flood.push((async () => {
          for (let i = 0; i < keptAlive; i++) {
            const s = await connect(server.port, { localAddress });
            sockets.push(s);
            assertStatus(await roundTrip(s, healthRequest(server.port)), 200, `keep-alive from ${localAddress}`);
          }
          for (let i = 0; i < trickling; i++) {
            const s = await connect(server.port, { localAddress });
            sockets.push(s);
            s.on('error', () => {});
            s.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
            let n = 0;
            timers.push(setInterval(() => { if (!s.destroyed) s.write(`X-Trickle-${n++}: ${'t'.repeat(10)}\r\n`); }, 1000));
          }
          for (let i = 0; i < silent; i++) {
            const s = await connect(server.port, { localAddress });
            s.on('error', () => {});
            sockets.push(s);
          }
        })());
      }
      await Promise.all(flood);
      const open = sockets.filter((s) => !s.destroyed).length;
      const expected = ADDRESSES * (keptAlive + trickling + silent);
      assert.equal(open, expected, 'every flood connection is open');
      if (scale === 1) assert.ok(open > 3000, `a few thousand connections: ${open}`);

      // the server still answers everyone else, repeatedly
      for (let round = 0; round < 5; round++) await served(server, `with ${open} connections open (round ${round})`);

      // one address up to its cap: every connection was served ...
      const capped = [];
      for (let i = 0; i < PER_IP; i++) {
        const s = await connect(server.port, { localAddress: CAPPED });
        sockets.push(s);
        capped.push(s);
        assertStatus(await roundTrip(s, healthRequest(server.port)), 200, `${CAPPED} connection ${i + 1}`);
      }
      // ... the next ones from it are closed unanswered ...
      for (let i = 0; i < 3; i++) {
        const s = await connect(server.port, { localAddress: CAPPED });
        s.on('error', () => {});
        sockets.push(s);
        await assert.rejects(roundTrip(s, healthRequest(server.port), { timeoutMs: 10_000 }), /closed before a response/,
          `connection ${PER_IP + i + 1} from ${CAPPED} is refused`);
      }
      // ... while another address, and 127.0.0.1, are served
      const other = await connect(server.port, { localAddress: '127.0.0.201' });
      sockets.push(other);
      assertStatus(await roundTrip(other, healthRequest(server.port)), 200, 'another address');
      await served(server, 'while one address is at its cap');
      // a slot freed on the capped address is usable again
      capped[0].destroy();
      await sleep(200);
      let reopened = false;
      for (let attempt = 0; attempt < 20 && !reopened; attempt++) {
        const s = await connect(server.port, { localAddress: CAPPED });
        s.on('error', () => {});
        sockets.push(s);
        try {
          assertStatus(await roundTrip(s, healthRequest(server.port), { timeoutMs: 10_000 }), 200, 'freed slot');
          reopened = true;
        } catch (e) {
          if (!/closed before a response/.test(e.message)) throw e;
          await sleep(100);
        }
      }
      assert.ok(reopened, `a connection from ${CAPPED} is served again once one of its slots is free`);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      sockets.length = 0;
      await server.stop();
    }
  });

  test('head and body deadlines cut off tricklers; everyone else is served', async () => {
    const server = await startServer({
      db, args: ['--header-timeout', String(DEADLINE_S), '--body-timeout', String(DEADLINE_S)],
    });
    try {
      const base = `/scim/v2/inbound/${idp.id}/`;
      const heads = [];
      const bodies = [];
      const openTricklers = [];
      for (let i = 0; i < 5; i++) {
        const h = await connect(server.port, { localAddress: `127.0.0.${2 + i}` });
        h.on('error', () => {});
        h.write(`GET ${base}Users HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
        heads.push(h);
        const b = await connect(server.port, { localAddress: `127.0.0.${2 + i}` });
        b.on('error', () => {});
        b.write(`POST ${base}Users HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
                `Authorization: Bearer ${token}\r\nContent-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n`);
        bodies.push(b);
        openTricklers.push(h, b);
      }
      const answers = [];
      for (const s of openTricklers) s.on('data', (d) => answers.push(d));
      // trickle a header line or a body byte to each, for far longer than the deadline
      let rounds = 0;
      while (rounds < TRICKLE_MAX && openTricklers.some((s) => !s.destroyed && !s.closed)) {
        for (const h of heads) if (!h.destroyed) h.write(`X-Trickle-${rounds}: x\r\n`);
        for (const b of bodies) if (!b.destroyed) b.write('{');
        await served(server, `while trickled (round ${rounds})`);
        await sleep(TRICKLE_MS);
        rounds++;
      }
      for (const s of openTricklers) {
        assert.ok(await closed(s, 5_000), `a trickler is closed by the server after ${TRICKLE_MAX} rounds`);
      }
      assert.ok(rounds < TRICKLE_MAX, `tricklers cut off before the trickling ended (${rounds} rounds)`);
      assert.equal(Buffer.concat(answers).length, 0, 'a cut-off trickler gets no answer');

      // a client that sends its head and body in time is unaffected
      const s = await connect(server.port);
      sockets.push(s);
      assertStatus(await roundTrip(s, healthRequest(server.port)), 200, 'prompt client');
      await served(server, 'after the tricklers were cut off');
    } finally {
      for (const s of sockets) s.destroy();
      sockets.length = 0;
      await server.stop();
    }
  });
});
