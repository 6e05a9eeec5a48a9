// SPDX-License-Identifier: Apache-2.0
// The events feed (issue 13 items 3 and 4, issue 12's audit log): cursor
// pages over the admin API and `scimd audit --after` that return every event
// exactly once and in order (PostgreSQL's late commits included), the audit
// filters, the live tail as Server-Sent Events (resumed with Last-Event-ID,
// heartbeats, a bounded number of streams), and `serve --event-log` lines,
// reopened after a rename and SIGHUP and resumed after a restart.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { setup, startServer, cli, cliRaw, http, uniq, assertStatus, CORE_USER, PG_URL, psql } from './lib/harness.mjs';

/* Wait for cond() to hold (polling); the suite's timeout bounds it. */
async function until(cond, what, timeoutMs = 90_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) assert.fail(`gave up waiting for ${what}`);
    await sleep(200);
  }
}

/* An open Server-Sent Events stream: next() gives the next event
 * {id, data} (comments are kept in .comments). */
async function openStream(url, headers) {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const stream = { status: res.status, headers: res.headers, comments: [], events: [], close: () => ac.abort() };
  if (res.status !== 200) {
    stream.body = await res.json();
    return stream;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let waiting = null;
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line);
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
          }
          if (ev.data) stream.events.push(ev);
          if (waiting) waiting();
        }
        if (waiting) waiting();
      }
    } catch { /* aborted */ }
    stream.ended = true;
    if (waiting) waiting();
  })();
  /* Wait until pred(stream) holds. */
  stream.wait = async (pred, what) => {
    for (;;) {
      if (pred(stream)) return;
      if (stream.ended) assert.fail(`stream ended while waiting for ${what}`);
      await new Promise((resolve) => { waiting = resolve; });
      waiting = null;
    }
  };
  return stream;
}

describe('events feed', { timeout: 600_000 }, () => {
  let env; let api; let key; let other;
  const auth = () => ({ Authorization: `Bearer ${key}` });
  const get = (p) => http('GET', `${api}${p}`, { headers: auth() });

  const createUser = async (scim = env.scim) => {
    const userName = `${uniq('feed')}@example.com`;
    const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName, externalId: uniq('x') } });
    assertStatus(res, 201);
    return res.body;
  };
  const newestSeq = () => {
    const ev = cli(env.db, 'audit', '--limit', '1');
    return ev.length ? ev[ev.length - 1].seq : 0;
  };
  /* Page through the API feed from cursor until an event with seq >= upto is in. */
  const readFeed = async (upto, { after = '', limit = 7, filters = '' } = {}) => {
    const seen = [];
    let cursor = after;
    await until(async () => {
      const page = await get(`/events?after=${cursor}&limit=${limit}${filters}`);
      assertStatus(page, 200, page.text);
      assert.ok(typeof page.body.next_cursor === 'string');
      seen.push(...page.body.items);
      if (page.body.items.length) {
        assert.equal(page.body.next_cursor, page.body.items.at(-1).cursor, 'next_cursor is the last event read');
      } else {
        assert.equal(page.body.next_cursor, cursor || 'ev_0000000000000000', 'an empty page keeps the cursor');
      }
      cursor = page.body.next_cursor;
      return seen.length && seen.at(-1).seq >= upto;
    }, `the feed to reach seq ${upto}`);
    return { events: seen, cursor };
  };

  before(async () => {
    env = await setup();
    api = `${env.server.url}/admin/api/v1`;
    const pw = path.join(env.dir, 'pw.txt');
    writeFileSync(pw, 'correct horse battery staple\n');
    cli(env.db, 'admin', 'create', '--email', 'root@feed.test', '--role', 'super', '--password-file', pw);
    key = cli(env.db, 'admin', 'key', 'create', '--name', 'feed', '--admin', 'root@feed.test').key;
    const t2 = cli(env.db, 'tenant', 'create', uniq('Other '));
    other = { tenant: t2, ...env.addIdp(t2.id) };
  });
  after(async () => { if (env) await env.cleanup(); });

  test('paging returns every event exactly once, in order, over the API and the CLI', async () => {
    // concurrent writes: on PostgreSQL their seqs can commit out of order
    const writes = [];
    for (let i = 0; i < 24; i++) writes.push(createUser(i % 3 === 0 ? other.scim : env.scim));
    await Promise.all(writes);
    const upto = newestSeq();
    const { events: viaApi, cursor } = await readFeed(upto);
    const seqs = viaApi.map((e) => e.seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `in order, no repeats: ${seqs}`);
    const everything = cli(env.db, 'audit', '--limit', '100000').map((e) => e.seq).filter((s) => s <= seqs.at(-1));
    assert.deepEqual(seqs, everything, 'every event of the log, none missing');
    for (const e of viaApi) assert.match(e.cursor, /^ev_[0-9a-f]{16}$/);

    // the CLI pages the same feed, printing the cursor to continue from
    const viaCli = [];
    let c = '';
    for (;;) {
      const page = cli(env.db, 'audit', '--after', c, '--limit', '5');
      viaCli.push(...page.events.map((e) => e.seq));
      if (page.next_cursor === c || viaCli.at(-1) >= seqs.at(-1)) break;
      c = page.next_cursor;
    }
    assert.deepEqual(viaCli.filter((s) => s <= seqs.at(-1)), seqs, 'the CLI pages the same events');
    const text = cliRaw(env.db, ['audit', '--after', cursor], { json: false });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /next cursor: ev_[0-9a-f]{16}/);

    // caught up: nothing new, the same cursor
    const empty = await get(`/events?after=${cursor}`);
    assertStatus(empty, 200);
    assert.ok(empty.body.items.every((e) => e.seq > seqs.at(-1)));

    const bad = await get('/events?after=ev_zz');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_cursor');
    const badCli = cliRaw(env.db, ['audit', '--after', 'nope'], { json: false });
    assert.equal(badCli.status, 2, badCli.stderr);
    assert.match(badCli.stderr, /--after must be a cursor/);
  });

  test('PostgreSQL: an event whose transaction stays open past the old 10 s settle window still comes, once, in order',
       { skip: !PG_URL && 'PostgreSQL only' }, async (t) => {
    const { cursor: from } = await readFeed(newestSeq(), { limit: 200 });
    // a transaction takes a seq and stays open (as a slow write would)
    const held = spawn('psql', [env.db, '-v', 'ON_ERROR_STOP=1', '-Atq'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = ''; let errText = '';
    held.stdout.on('data', (d) => { out += d; });
    held.stderr.on('data', (d) => { errText += d; });
    const exited = new Promise((resolve) => { held.once('exit', resolve); });
    t.after(() => { if (held.exitCode === null) held.kill(); }); // a failed assertion must not leave it open
    const heldId = uniq('held');
    held.stdin.write("SET application_name = 'scimd-held-tx';\nBEGIN;\n" +
      `INSERT INTO events (tenant_id, id, at, type, actor) VALUES ('${env.tenant.id}', '${heldId}', ` +
      `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'held_event', 'psql') RETURNING seq;\n`);
    const heldSeq = Number(await until(() => out.split('\n').find((l) => /^\d+$/.test(l)), `the held insert (${errText})`));
    // later writes commit meanwhile, with higher seqs
    const later = [await createUser(), await createUser()];
    const laterSeqs = cli(env.db, 'audit', '--limit', '200')
      .filter((e) => later.some((u) => u.id === e.subject_id)).map((e) => e.seq);
    assert.ok(laterSeqs.length >= 2 && laterSeqs.every((s) => s > heldSeq), `${heldSeq} < ${laterSeqs}`);
    const last = Math.max(...laterSeqs);
    const stream = await openStream(`${api}/events/stream?after=${from}`, auth());
    assert.equal(stream.status, 200);

    // past the old settle window, with the transaction still open: nothing after it is handed out
    await sleep(11_000);
    assert.equal(psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scimd-held-tx' AND state = 'idle in transaction'`), '1');
    const during = await get(`/events?after=${from}&limit=200`);
    assertStatus(during, 200, during.text);
    assert.ok(during.body.items.every((e) => e.seq < heldSeq), 'the API feed stops before the held seq');
    const duringCli = cli(env.db, 'audit', '--after', from, '--limit', '1000');
    assert.ok(duringCli.events.every((e) => e.seq < heldSeq), 'so does the CLI');
    assert.ok(stream.events.every((e) => e.data.seq < heldSeq), 'and the live tail');

    held.stdin.end('COMMIT;\n');
    assert.equal(await exited, 0, errText);
    const inOrderOnce = (seqs, what) => {
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `${what}: in order, no repeats: ${seqs}`);
      assert.ok(seqs.includes(heldSeq), `${what}: the held event`);
      assert.ok(laterSeqs.every((s) => seqs.includes(s)), `${what}: the later events`);
      assert.ok(seqs.indexOf(heldSeq) < seqs.indexOf(Math.min(...laterSeqs)), `${what}: the held event first`);
    };
    const { events: viaApi } = await readFeed(last, { after: during.body.next_cursor, limit: 3 });
    inOrderOnce(viaApi.map((e) => e.seq), 'API');
    assert.equal(viaApi.filter((e) => e.id === heldId).length, 1);
    const viaCli = [];
    let c = duringCli.next_cursor;
    for (let i = 0; i < 500 && (!viaCli.length || viaCli.at(-1) < last); i++) {
      const page = cli(env.db, 'audit', '--after', c, '--limit', '2');
      viaCli.push(...page.events.map((e) => e.seq));
      c = page.next_cursor;
    }
    inOrderOnce(viaCli, 'CLI');
    await stream.wait((st) => st.events.some((e) => e.data.seq >= last), 'the stream to reach the later events');
    inOrderOnce(stream.events.map((e) => e.data.seq), 'SSE');
    stream.close();
  });

  test('filters by tenant, IdP, type, subject, actor and time, in both orders', async () => {
    const u = await createUser();
    await createUser(other.scim);
    const patched = await env.scim('PATCH', `Users/${u.id}`, {
      body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] },
    });
    assertStatus(patched, 200);
    const bySubject = (await get(`/events?subject=${u.id}&limit=200`)).body.items;
    assert.ok(bySubject.length >= 2 && bySubject.every((e) => e.subject_id === u.id));
    assert.ok(bySubject.some((e) => e.type === 'scim_user_created'));
    assert.ok(bySubject.some((e) => e.type === 'scim_user_deactivated'));

    // the filtered feed: the same events, oldest first (on PostgreSQL once settled)
    const want = [...bySubject].reverse().map((e) => e.seq);
    await until(async () => {
      const feed = (await get(`/events?after=&subject=${u.id}&limit=200`)).body.items.map((e) => e.seq);
      return JSON.stringify(feed) === JSON.stringify(want);
    }, 'the filtered feed to hold the subject\'s events');

    const byType = (await get('/events?type=scim_user_created&limit=200')).body.items;
    assert.ok(byType.length > 2 && byType.every((e) => e.type === 'scim_user_created'));
    const byTenant = (await get(`/events?tenant=${other.tenant.id}&limit=200`)).body.items;
    assert.ok(byTenant.length > 0 && byTenant.every((e) => e.tenant_id === other.tenant.id));
    const byIdp = (await get(`/events?idp=${other.idp.id}&after=&limit=200`)).body.items;
    assert.ok(byIdp.length > 0 && byIdp.every((e) => e.idp_id === other.idp.id));
    const actor = `token:${env.token.id}`;
    const byActor = (await get(`/events?actor=${encodeURIComponent(actor)}&limit=200`)).body.items;
    assert.ok(byActor.length > 0 && byActor.every((e) => e.actor === actor));

    // a time window: events at or after since, before until
    const all = cli(env.db, 'audit', '--limit', '100000');
    const since = all[Math.floor(all.length / 3)].at;
    const untilAt = all[Math.floor((2 * all.length) / 3)].at;
    const windowed = (await get(`/events?since=${since}&until=${untilAt}&limit=200`)).body.items;
    const expected = all.filter((e) => e.at >= since && e.at < untilAt).map((e) => e.seq).reverse();
    assert.deepEqual(windowed.map((e) => e.seq), expected.slice(0, 200));
    const cliWindow = cli(env.db, 'audit', '--since', since, '--until', untilAt, '--limit', '100000');
    assert.deepEqual(cliWindow.map((e) => e.seq), [...expected].reverse());
    const cliSubject = cli(env.db, 'audit', '--subject', u.id, '--actor', actor);
    assert.ok(cliSubject.length > 0 && cliSubject.every((e) => e.subject_id === u.id && e.actor === actor));

    const badTime = await get('/events?since=yesterday');
    assert.equal(badTime.status, 400);
    assert.equal(badTime.body.error.code, 'invalid_request');
    const badCli = cliRaw(env.db, ['audit', '--until', '3pm'], { json: false });
    assert.equal(badCli.status, 2);
    assert.match(badCli.stderr, /--until must be a UTC time/);
  });

  test('the live tail streams new events and resumes after Last-Event-ID', async () => {
    const unauth = await openStream(`${api}/events/stream`, {});
    assert.equal(unauth.status, 401);
    assert.equal(unauth.body.error.code, 'unauthorized');

    const s = await openStream(`${api}/events/stream?type=scim_user_created`, auth());
    assert.equal(s.status, 200);
    assert.match(s.headers.get('content-type'), /^text\/event-stream/);
    const a = await createUser();
    await s.wait((st) => st.events.some((e) => e.data.subject_id === a.id), 'the new user on the stream');
    const evA = s.events.find((e) => e.data.subject_id === a.id);
    assert.equal(evA.id, evA.data.cursor, 'the SSE id is the event cursor');
    assert.ok(s.events.every((e) => e.data.type === 'scim_user_created'), 'the filter applies');
    s.close();

    // missed while disconnected: delivered on reconnect, nothing before it again
    const b = await createUser();
    const c = await createUser();
    const r = await openStream(`${api}/events/stream?type=scim_user_created`, { ...auth(), 'Last-Event-ID': evA.id });
    assert.equal(r.status, 200);
    await r.wait((st) => st.events.some((e) => e.data.subject_id === c.id), 'the missed users');
    const got = r.events.map((e) => e.data.subject_id);
    assert.deepEqual(got.slice(0, 2), [b.id, c.id], 'resumed right after the last event seen, in order');
    assert.ok(!got.includes(a.id));

    // idle: heartbeat comments keep proxies from closing it
    const before = r.comments.filter((x) => x === ': keep-alive').length;
    await r.wait((st) => st.comments.filter((x) => x === ': keep-alive').length > before, 'a heartbeat');
    r.close();
  });

  test('streams are bounded; a slot frees up once its client has gone', async () => {
    const open = [];
    for (;;) {
      const s = await openStream(`${api}/events/stream`, auth());
      if (s.status !== 200) {
        assert.equal(s.status, 503);
        assert.equal(s.body.error.code, 'too_many_streams');
        break;
      }
      open.push(s);
      assert.ok(open.length <= 64, 'a limit exists');
    }
    assert.ok(open.length >= 1);
    for (const s of open) s.close();
    // the server notices gone clients on their next write (a heartbeat at the latest)
    const again = await until(async () => {
      const s = await openStream(`${api}/events/stream`, auth());
      if (s.status === 200) return s;
      return null;
    }, 'a free stream slot');
    // left open: the server must still stop cleanly (env.cleanup asserts exit 0)
    void again;
  });

  test('serve --event-log writes every event as a JSON line, reopens after SIGHUP, resumes after restart', async () => {
    const file = path.join(env.dir, 'events.jsonl');
    let logged = await startServer({ db: env.db, args: ['--event-log', file] });
    try {
      const first = await createUser();
      const lines = () => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      await until(() => lines().some((e) => e.subject_id === first.id && e.type === 'scim_user_created'), 'the line of the new user');
      const got = lines();
      for (let i = 1; i < got.length; i++) assert.equal(got[i].seq > got[i - 1].seq, true, 'commit order, no repeats');
      const feed = cli(env.db, 'audit', '--limit', '100000').map((e) => e.seq).filter((s) => s >= got[0].seq && s <= got.at(-1).seq);
      assert.deepEqual(got.map((e) => e.seq), feed, 'no event missing between the first and the last line');
      for (const k of ['cursor', 'seq', 'id', 'at', 'type', 'tenant_id', 'idp_id', 'actor', 'subject_id', 'summary', 'source']) {
        assert.ok(k in got[0], `line has ${k}`);
      }

      // logrotate: rename, SIGHUP, and the next lines go to a new file
      renameSync(file, `${file}.1`);
      logged.child.kill('SIGHUP');
      await until(() => /event log: reopened/.test(logged.stderr()), 'the reopen');
      const second = await createUser();
      await until(() => lines().some((e) => e.subject_id === second.id), 'a line in the new file');
      const rotated = readFileSync(`${file}.1`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.ok(!rotated.some((e) => e.subject_id === second.id), 'the old file gets nothing new');
      assert.ok(lines()[0].seq > rotated.at(-1).seq, 'the new file goes on where the old one stopped');

      // a restart resumes after the file's last line: nothing repeated, nothing lost
      await logged.stop();
      const whileDown = await createUser();
      logged = await startServer({ db: env.db, args: ['--event-log', file] });
      const third = await createUser();
      await until(() => lines().some((e) => e.subject_id === third.id), 'lines after the restart');
      const all = lines();
      for (let i = 1; i < all.length; i++) assert.ok(all[i].seq > all[i - 1].seq, 'no repeats across the restart');
      assert.ok(all.some((e) => e.subject_id === whileDown.id), 'written while the server was down: caught up');
    } finally {
      await logged.stop();
    }
  });
});
