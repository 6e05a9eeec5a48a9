// SPDX-License-Identifier: Apache-2.0
// Fan-out to downstream apps (issue #11), end to end with real parts: scimd
// serve, an IdP pushing over inbound SCIM, and the downstream fixture (a scimmy
// SCIM app with fault injection).  The seed's scenario: a group granted to an
// app brings its members there; profile changes follow; leaving the group,
// an inbound deactivation or an admin `user deactivate` switch the account off
// (active:false, same remote id), coming back switches it on; an account that
// already exists downstream is linked, never duplicated; a 429 pauses the app
// for Retry-After without a dead letter.  Credentials never show.
//
// Waits are "eventually, within N s" polls of the fixture's state, never timings.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, statSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cli, cliRaw, audit, startServer, scimClient, freshDb, uniq, assertStatus, http,
  CORE_USER, PATCH_OP, PG_URL, sleep, CORE_GROUP, eventually,
} from './lib/harness.mjs';
import { startDownstream } from './lib/downstream.mjs';


/* A tenant with one Okta connection pushing to scimd serve (extra serve args)
 * and one app, "Slack", on the downstream fixture: the frame of a scenario. */
async function slackScene(tag, { secret = `ds-${Math.random().toString(36).slice(2)}`, args = [] } = {}) {
  const s = { secret };
  s.dir = mkdtempSync(path.join(tmpdir(), `scimd-${tag}-`));
  s.db = freshDb(s.dir);
  s.keyFile = path.join(s.dir, 'app.key');
  s.downstream = await startDownstream({ token: secret });
  s.tenant = cli(s.db, 'tenant', 'create', uniq(`${tag} `));
  s.server = await startServer({ db: s.db, args: ['--outbound-allow-private', '--key-file', s.keyFile, ...args] });
  s.idp = cli(s.db, 'idp', 'create', '--tenant', s.tenant.id, '--name', 'Partner Okta', '--vendor', 'okta',
              '--public-url', s.server.url);
  const token = cli(s.db, 'token', 'create', '--idp', s.idp.id, '--name', 'e2e');
  s.scim = scimClient(`${s.server.url}/scim/v2/inbound/${s.idp.id}/`, token.token);
  s.tokenFile = path.join(s.dir, 'slack.token');
  writeFileSync(s.tokenFile, `${secret}\n`, { mode: 0o600 });
  s.app = cli(s.db, 'app', 'create', '--tenant', s.tenant.id, '--name', 'Slack', '--scim-url', s.downstream.base,
              '--token-file', s.tokenFile, '--key-file', s.keyFile);
  s.cleanup = async () => {
    try {
      await s.server.stop();
    } finally {
      await s.downstream.stop();
      if (!process.env.SCIMD_E2E_KEEP) rmSync(s.dir, { recursive: true, force: true });
    }
  };
  return s;
}

describe('fan-out to a downstream app', () => {
  let dir, db, keyFile, server, downstream, tenant, idp, scim, app, tokenFile, scene;
  const secret = `ds-secret-${Math.random().toString(36).slice(2)}`;

  before(async () => {
    scene = await slackScene('fanout', { secret });
    ({ dir, db, keyFile, server, downstream, tenant, idp, scim, app, tokenFile } = scene);
  });

  after(async () => { await scene?.cleanup(); });

  async function pushUser(userName, extra = {}) {
    const res = await scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName, name: { givenName: 'Ada', familyName: 'Lovelace' },
              emails: [{ value: userName, type: 'work', primary: true }], active: true, ...extra },
    });
    assertStatus(res, 201, 'push user');
    return res.body;
  }

  async function pushGroup(displayName, members) {
    const res = await scim('POST', 'Groups', {
      body: { schemas: [CORE_GROUP], displayName, members: members.map((value) => ({ value })) },
    });
    assertStatus(res, 201, 'push group');
    return res.body;
  }

  async function patchGroup(groupId, op, userId) {
    const operation = op === 'add'
      ? { op: 'add', path: 'members', value: [{ value: userId }] }
      : { op: 'remove', path: `members[value eq "${userId}"]` };
    const res = await scim('PATCH', `Groups/${groupId}`, { body: { schemas: [PATCH_OP], Operations: [operation] } });
    assert.ok(res.status === 200 || res.status === 204, `patch group: ${res.status} ${res.text}`);
  }

  async function patchUser(userId, operations) {
    const res = await scim('PATCH', `Users/${userId}`, { body: { schemas: [PATCH_OP], Operations: operations } });
    assertStatus(res, 200, 'patch user');
  }

  /* The downstream accounts with this userName (there must never be two). */
  async function remote(userName) {
    const res = await downstream.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.Resources.length <= 1, `duplicate downstream accounts: ${JSON.stringify(res.body)}`);
    return res.body.Resources[0] || null;
  }

  const appEvents = (type) => audit(db, { tenant: tenant.id, type }).filter((e) => e.summary.app === app.id);

  let ada, eng, adaRemoteId;

  test('a user in a granted group appears downstream, with scimd\'s id as externalId', async () => {
    const userName = `${uniq('ada')}@example.com`;
    ada = await pushUser(userName);
    eng = await pushGroup(uniq('Engineering '), [ada.id]);
    cli(db, 'grant', 'add', '--app', app.id, '--group', eng.id);
    const acct = await eventually(async () => remote(userName), 'ada provisioned downstream');
    assert.equal(acct.externalId, ada.id);
    assert.equal(acct.active, true);
    assert.equal(acct.name.givenName, 'Ada');
    assert.equal(acct.emails[0].value, userName);
    adaRemoteId = acct.id;
    assert.equal(appEvents('app_user_provisioned').filter((e) => e.subject_id === ada.id).length, 1);
    const grants = cli(db, 'grant', 'list', '--app', app.id);
    assert.deepEqual(grants.map((g) => [g.kind, g.subject]), [['group', eng.id]]);
    const shown = cli(db, 'app', 'show', app.id);
    assert.equal(shown.counts.linked, 1);
  });

  test('a profile change follows to the same remote account', async () => {
    await patchUser(ada.id, [{ op: 'replace', path: 'name.givenName', value: 'Augusta' }]);
    const acct = await eventually(async () => {
      const a = await remote(ada.userName);
      return a && a.name.givenName === 'Augusta' && a;
    }, 'givenName updated downstream');
    assert.equal(acct.id, adaRemoteId);
  });

  test('a mirroring change that rewrites a field reaches the remote account too', async () => {
    await patchUser(ada.id, [{ op: 'add', path: 'nickName', value: 'Countess' }]);
    cli(db, 'mirror', 'set', '--tenant', tenant.id, '--field', 'given_name', '--path', 'nickName');
    try {
      const acct = await eventually(async () => {
        const a = await remote(ada.userName);
        return a && a.name.givenName === 'Countess' && a;
      }, 'the re-derived givenName downstream');
      assert.equal(acct.id, adaRemoteId);
    } finally {
      cli(db, 'mirror', 'set', '--tenant', tenant.id, '--field', 'given_name', '--path', 'name.givenName');
    }
    await eventually(async () => (await remote(ada.userName))?.name.givenName === 'Augusta', 'and back');
  });

  test('leaving the group deactivates downstream; coming back reactivates the same account', async () => {
    await patchGroup(eng.id, 'remove', ada.id);
    let acct = await eventually(async () => {
      const a = await remote(ada.userName);
      return a && a.active === false && a;
    }, 'ada deactivated downstream');
    assert.equal(acct.id, adaRemoteId);
    await patchGroup(eng.id, 'add', ada.id);
    acct = await eventually(async () => {
      const a = await remote(ada.userName);
      return a && a.active === true && a;
    }, 'ada reactivated downstream');
    assert.equal(acct.id, adaRemoteId);
    assert.ok(appEvents('app_user_deprovisioned').some((e) => e.subject_id === ada.id));
    assert.ok(appEvents('app_user_reactivated').some((e) => e.subject_id === ada.id));
  });

  test('an inbound deactivation deprovisions; reactivation brings the account back', async () => {
    await patchUser(ada.id, [{ op: 'replace', path: 'active', value: false }]);
    await eventually(async () => (await remote(ada.userName))?.active === false, 'inbound deactivation');
    await patchUser(ada.id, [{ op: 'replace', path: 'active', value: true }]);
    const acct = await eventually(async () => {
      const a = await remote(ada.userName);
      return a && a.active === true && a;
    }, 'inbound reactivation');
    assert.equal(acct.id, adaRemoteId);
  });

  test('an admin `user deactivate` fans out like an IdP push', async () => {
    cli(db, 'user', 'deactivate', ada.id);
    await eventually(async () => (await remote(ada.userName))?.active === false, 'admin deactivation');
    cli(db, 'user', 'activate', ada.id);
    const acct = await eventually(async () => {
      const a = await remote(ada.userName);
      return a && a.active === true && a;
    }, 'admin activation');
    assert.equal(acct.id, adaRemoteId);
  });

  test('an inbound DELETE deprovisions the account', async () => {
    const userName = `${uniq('carol')}@example.com`;
    const carol = await pushUser(userName);
    await patchGroup(eng.id, 'add', carol.id);
    await eventually(async () => (await remote(userName))?.active === true, 'carol provisioned');
    const res = await scim('DELETE', `Users/${carol.id}`);
    assertStatus(res, 204, 'delete carol');
    await eventually(async () => (await remote(userName))?.active === false, 'carol deactivated downstream');
  });

  test('an account that already exists downstream is linked, not duplicated', async () => {
    const userName = `${uniq('bob')}@example.com`;
    const pre = await downstream.scim('POST', '/Users', { schemas: [CORE_USER], userName, active: true });
    assert.equal(pre.status, 201, JSON.stringify(pre.body));
    const bob = await pushUser(userName, { name: { givenName: 'Bob', familyName: 'B' } });
    await patchGroup(eng.id, 'add', bob.id);
    const acct = await eventually(async () => {
      const a = await remote(userName);
      return a && a.externalId === bob.id && a;
    }, 'bob linked and updated');
    assert.equal(acct.id, pre.body.id, 'the existing account is the one used');
    assert.equal(acct.name.givenName, 'Bob');
    assert.ok(appEvents('app_user_linked').some((e) => e.subject_id === bob.id));
    assert.equal(appEvents('app_user_provisioned').filter((e) => e.subject_id === bob.id).length, 0);
  });

  test('429 with Retry-After pauses the app: nothing sent before it elapses, no dead letter', async () => {
    const retryAfter = 3;
    await downstream.setFaults({ rules: [{ path: '^/Users', count: 1, status: 429, retryAfter }] });
    await downstream.clearLog();
    await patchUser(ada.id, [{ op: 'replace', path: 'displayName', value: 'Countess' }]);
    const log429 = await eventually(async () => {
      const log = await downstream.log();
      return log.some((r) => r.status === 429) && log;
    }, 'the 429 reached the app');
    // The app waits retryAfter seconds from its 429; a second after we saw it, still nothing new.
    await sleep(1000);
    const during = await downstream.log();
    assert.equal(during.length, log429.length, `requests during the pause: ${JSON.stringify(during.slice(log429.length))}`);
    await eventually(async () => (await remote(ada.userName))?.displayName === 'Countess', 'change after the pause');
    assert.ok(appEvents('app_paused').length >= 1, 'app_paused recorded');
    assert.equal(appEvents('app_dead_letter').length, 0);
    assert.equal(appEvents('app_request_failed').length, 0, '429 is not a failure');
    const shown = cli(db, 'app', 'show', app.id);
    assert.equal(shown.counts.dead, 0);
    assert.equal(shown.counts.failing, 0);
  });

  test('a group of another tenant cannot be granted', async () => {
    const other = cli(db, 'tenant', 'create', uniq('Other '));
    const oidp = cli(db, 'idp', 'create', '--tenant', other.id, '--name', 'x', '--vendor', 'generic',
                     '--public-url', server.url);
    const otok = cli(db, 'token', 'create', '--idp', oidp.id, '--name', 'e2e');
    const oscim = scimClient(`${server.url}/scim/v2/inbound/${oidp.id}/`, otok.token);
    const g = await oscim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'theirs' } });
    assertStatus(g, 201, 'other tenant group');
    const r = cliRaw(db, ['grant', 'add', '--app', app.id, '--group', g.body.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no group/);
  });

  test('two users with one userName (two IdP connections) never share an account; the second fails with the reason', async () => {
    const userName = `${uniq('sam')}@example.com`;
    const first = await pushUser(userName, { externalId: uniq('okta-sam-'), name: { givenName: 'Sam', familyName: 'Okta' } });
    // the same userName from another connection of the tenant: another person
    const entra = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', uniq('Staff Entra '), '--vendor', 'entra',
                      '--public-url', server.url);
    const etok = cli(db, 'token', 'create', '--idp', entra.id, '--name', 'e2e');
    const escim = scimClient(`${server.url}/scim/v2/inbound/${entra.id}/`, etok.token);
    const res = await escim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName, externalId: uniq('entra-sam-'), name: { givenName: 'Sam', familyName: 'Entra' },
              active: true },
    });
    assertStatus(res, 201, 'push the other sam');
    const second = res.body;
    assert.notEqual(second.id, first.id, 'two users in the directory');
    cli(db, 'grant', 'add', '--app', app.id, '--user', first.id);
    await eventually(async () => (await remote(userName))?.externalId === first.id, 'the first sam provisioned');
    cli(db, 'grant', 'add', '--app', app.id, '--user', second.id);
    const failed = await eventually(async () => appEvents('app_request_failed').find((e) => e.subject_id === second.id),
                                    'the second sam\'s job failed');
    assert.equal(failed.summary.request, 'link user');
    assert.match(failed.summary.detail, new RegExp(`linked to another user, ${first.id}`));
    const acct = await remote(userName);
    assert.equal(acct.externalId, first.id, 'the account stays the first user\'s');
    assert.equal(acct.name.familyName, 'Okta', 'not overwritten by the other user');
    assert.ok(!appEvents('app_user_linked').some((e) => e.subject_id === second.id), 'never linked');
    const shown = cli(db, 'app', 'show', app.id);
    assert.ok(shown.counts.failing >= 1, JSON.stringify(shown.counts));
    assert.match(shown.last_error, /linked to another user/);
    cli(db, 'grant', 'remove', '--app', app.id, '--user', second.id);
  });

  test('the app credential is sealed: never in output, audit, logs or the database in clear', async () => {
    const outputs = [
      JSON.stringify(cli(db, 'app', 'show', app.id)),
      JSON.stringify(cli(db, 'app', 'list', '--tenant', tenant.id)),
      JSON.stringify(audit(db, { tenant: tenant.id })),
      server.stderr(),
      server.stdout(),
    ];
    for (const text of outputs) assert.ok(!text.includes(secret), 'secret leaked');
    assert.equal(statSync(keyFile).mode & 0o077, 0, 'key file is private');
    if (!PG_URL) {
      for (const f of [db, `${db}-wal`]) {
        if (existsSync(f)) assert.ok(!readFileSync(f).includes(secret), `secret in clear in ${f}`);
      }
    }
    // every downstream request carried the bearer scheme (the fixture logs never the value)
    const log = await downstream.log();
    assert.ok(log.length > 0 && log.every((r) => r.auth === 'Bearer'));
  });
});

// Two IdPs, a second app that deletes on deprovision and has no PATCH (PUT only),
// lost answers, accounts removed downstream, and a restart with changes waiting.
describe('fan-out: PUT-only app with DELETE, lost answers, restart', () => {
  let dir, db, keyFile, server, downstream, tenant, entra, okta, app, eng;
  const secret = `ds2-secret-${Math.random().toString(36).slice(2)}`;

  // retries start after 1 ms (doubling), so ten failures take seconds, not minutes
  const start = () => startServer({ db, args: ['--outbound-allow-private', '--key-file', keyFile,
                                               '--outbound-retry-ms', '1'] });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-fanout2-'));
    db = freshDb(dir);
    keyFile = path.join(dir, 'app.key');
    downstream = await startDownstream({ token: secret });
    await downstream.setFaults({ rules: [], putOnly: true });
    tenant = cli(db, 'tenant', 'create', uniq('Fanout2 '));
    server = await start();
    const connect = (name, vendor) => {
      const idp = cli(db, 'idp', 'create', '--tenant', tenant.id, '--name', name, '--vendor', vendor,
                      '--public-url', server.url);
      const token = cli(db, 'token', 'create', '--idp', idp.id, '--name', 'e2e');
      return { idp, token: token.token, scim: scimClient(`${server.url}/scim/v2/inbound/${idp.id}/`, token.token) };
    };
    entra = connect('Staff Entra', 'entra');
    okta = connect('Partner Okta', 'okta');
    const tokenFile = path.join(dir, 'github.token');
    writeFileSync(tokenFile, secret, { mode: 0o600 });
    app = cli(db, 'app', 'create', '--tenant', tenant.id, '--name', 'GitHub', '--scim-url', downstream.base,
              '--token-file', tokenFile, '--key-file', keyFile, '--deprovision', 'delete', '--put-only');
    assert.equal(app.deprovision, 'delete');
    assert.equal(app.put_only, true);
  });

  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (downstream) await downstream.stop();
      if (dir && !process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  });

  async function push(scim, userName, givenName) {
    const res = await scim('POST', 'Users', {
      body: { schemas: [CORE_USER], userName, name: { givenName, familyName: 'X' }, active: true },
    });
    assertStatus(res, 201, 'push user');
    return res.body;
  }

  async function remote(userName) {
    const res = await downstream.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.Resources.length <= 1, `duplicate downstream accounts: ${JSON.stringify(res.body)}`);
    return res.body.Resources[0] || null;
  }

  let staff, partner;

  test('members of groups from two IdPs reach a PUT-only app; changes go by PUT', async () => {
    staff = await push(entra.scim, `${uniq('staff')}@example.com`, 'Sam');
    partner = await push(okta.scim, `${uniq('partner')}@example.com`, 'Pat');
    eng = (await entra.scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'eng',
                                                       members: [{ value: staff.id }] } })).body;
    const ext = (await okta.scim('POST', 'Groups', { body: { schemas: [CORE_GROUP], displayName: 'ext',
                                                            members: [{ value: partner.id }] } })).body;
    cli(db, 'grant', 'add', '--app', app.id, '--group', eng.id);
    cli(db, 'grant', 'add', '--app', app.id, '--group', ext.id);
    await eventually(async () => (await remote(staff.userName)) && (await remote(partner.userName)), 'both provisioned');
    await downstream.clearLog();
    const res = await okta.scim('PATCH', `Users/${partner.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Patricia' }] },
    });
    assertStatus(res, 200, 'patch partner');
    await eventually(async () => (await remote(partner.userName))?.name?.givenName === 'Patricia', 'PUT update');
    const log = await downstream.log();
    assert.ok(log.some((r) => r.method === 'PUT'), 'sent a PUT');
    assert.ok(!log.some((r) => r.method === 'PATCH'), 'never a PATCH to a PUT-only app');
  });

  test('a lost answer to a create is linked on retry, never duplicated', async () => {
    await downstream.setFaults({ rules: [{ method: 'POST', path: '^/Users$', count: 1, status: 500, afterWrite: true }],
                                 putOnly: true });
    const lost = await push(entra.scim, `${uniq('lost')}@example.com`, 'Lou');
    const res = await entra.scim('PATCH', `Groups/${eng.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: lost.id }] }] },
    });
    assert.ok(res.status === 200 || res.status === 204);
    await eventually(async () => (await remote(lost.userName))?.externalId === lost.id, 'linked after the lost answer');
    const ev = audit(db, { tenant: tenant.id }).filter((e) => e.summary.app === app.id && e.subject_id === lost.id);
    assert.ok(ev.some((e) => e.type === 'app_request_failed' && e.summary.status === 500), 'the failure is audited');
    await eventually(async () => audit(db, { tenant: tenant.id, type: 'app_user_linked' })
      .some((e) => e.subject_id === lost.id), 'app_user_linked recorded');
  });

  test('an account removed downstream is created again on the next change (404 -> create)', async () => {
    const before = await remote(staff.userName);
    const del = await downstream.scim('DELETE', `/Users/${before.id}`);
    assert.equal(del.status, 204);
    const res = await entra.scim('PATCH', `Users/${staff.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Samuel' }] },
    });
    assertStatus(res, 200, 'patch staff');
    const after = await eventually(async () => {
      const a = await remote(staff.userName);
      return a && a.name?.givenName === 'Samuel' && a;
    }, 're-created downstream');
    assert.notEqual(after.id, before.id);
    assert.equal(after.externalId, staff.id);
  });

  test('deprovision "delete": leaving the granted group deletes the account', async () => {
    const res = await entra.scim('PATCH', `Groups/${eng.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${staff.id}"]` }] },
    });
    assert.ok(res.status === 200 || res.status === 204);
    await eventually(async () => (await remote(staff.userName)) === null, 'deleted downstream');
    const log = await downstream.log();
    assert.ok(log.some((r) => r.method === 'DELETE' && r.status === 204));
  });

  test('changes made while scimd is down arrive after it starts again', async () => {
    await server.stop();
    server = null;
    cli(db, 'grant', 'remove', '--app', app.id, '--group', eng.id); // nobody left in it anyway
    cli(db, 'user', 'deactivate', partner.id);
    server = await start();
    await eventually(async () => (await remote(partner.userName)) === null, 'deactivated user deleted after restart');
    const shown = cli(db, 'app', 'show', app.id);
    assert.equal(shown.counts.pending, 0);
    assert.equal(shown.counts.dead, 0);
    assert.ok(shown.last_success_at, 'last success shown');
    assert.equal(cli(db, 'app', 'list', '--tenant', tenant.id).length, 1);
  });

  test('a disabled app is left alone; enabling it catches up', async () => {
    cli(db, 'app', 'disable', app.id);
    cli(db, 'user', 'activate', partner.id);
    await sleep(500);
    assert.equal(await remote(partner.userName), null, 'disabled: nothing sent');
    assert.equal(cli(db, 'app', 'show', app.id).state, 'disabled');
    cli(db, 'app', 'enable', app.id);
    await eventually(async () => (await remote(partner.userName))?.active === true, 'caught up after enable');
  });

  test('a change that keeps failing is dead-lettered, shown, and runs again on `app retry`', async () => {
    await downstream.setFaults({ rules: [{ method: ['PUT', 'POST'], path: '^/Users', status: 500 }], putOnly: true });
    const oktaNow = scimClient(`${server.url}/scim/v2/inbound/${okta.idp.id}/`, okta.token); // restarted: new port
    const res = await oktaNow('PATCH', `Users/${partner.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Patsy' }] },
    });
    assertStatus(res, 200, 'patch partner');
    const shown = await eventually(async () => {
      const a = cli(db, 'app', 'show', app.id);
      return a.counts.dead === 1 && a;
    }, 'dead letter shown');
    assert.match(shown.last_error, /HTTP 500/);
    const steps = cli(db, 'audit', '--app', app.id, '--limit', '1000');
    assert.ok(steps.every((e) => e.actor === `app:${app.id}`), 'audit --app shows the app\'s steps');
    assert.equal(steps.filter((e) => e.type === 'app_dead_letter' && e.subject_id === partner.id).length, 1);
    assert.equal(steps.filter((e) => e.type === 'app_request_failed' && e.subject_id === partner.id &&
                                     e.summary.status === 500).length, 10);
    await downstream.setFaults({ rules: [], putOnly: true });
    assert.equal(cli(db, 'app', 'retry', app.id).retried, 1);
    await eventually(async () => (await remote(partner.userName))?.name?.givenName === 'Patsy', 'retried change arrives');
    assert.equal(cli(db, 'app', 'show', app.id).counts.dead, 0);
  });
});

// Without --outbound-allow-private a loopback app is never contacted: every job
// fails as blocked, visibly, and nothing reaches the target.
describe('fan-out: loopback targets need --outbound-allow-private', () => {
  let dir, db, keyFile, server, downstream;
  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (downstream) await downstream.stop();
      if (dir && !process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a directly granted user is not sent to a loopback app; app show says why', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-fanout3-'));
    db = freshDb(dir);
    keyFile = path.join(dir, 'app.key');
    downstream = await startDownstream();
    const tenant = cli(db, 'tenant', 'create', uniq('Fanout3 '));
    server = await startServer({ db, args: ['--key-file', keyFile, '--outbound-retry-ms', '3600000'] });
    const user = cli(db, 'user', 'create', '--tenant', tenant.id, '--email', `${uniq('dee')}@example.com`,
                     '--username', uniq('dee'));
    const tokenFile = path.join(dir, 't');
    writeFileSync(tokenFile, downstream.token);
    const app = cli(db, 'app', 'create', '--tenant', tenant.id, '--name', 'Local', '--scim-url', downstream.base,
                    '--token-file', tokenFile, '--key-file', keyFile);
    cli(db, 'grant', 'add', '--app', app.id, '--user', user.id);
    const shown = await eventually(async () => {
      const a = cli(db, 'app', 'show', app.id);
      return a.counts.failing === 1 && a;
    }, 'the job failed');
    assert.match(shown.last_error, /blocked/);
    assert.deepEqual(await downstream.log(), [], 'nothing reached the loopback target');
    assert.deepEqual(cli(db, 'grant', 'list', '--app', app.id).map((g) => [g.kind, g.subject]), [['user', user.id]]);
  });
});

// A key that cannot open the app's credential is the app's setup, not any
// change's fault: the app waits (app show says why), nothing dead-letters, and
// the changes go through once the server has the right key.
describe('fan-out: an app the server cannot set up waits instead of dead-lettering', () => {
  let dir, db, server, downstream;
  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (downstream) await downstream.stop();
      if (dir && !process.env.SCIMD_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a credential sealed with another key: paused with the reason, delivered after a restart with that key', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scimd-fanout4-'));
    db = freshDb(dir);
    const rightKey = path.join(dir, 'right.key');
    const otherKey = path.join(dir, 'other.key');
    downstream = await startDownstream();
    const tenant = cli(db, 'tenant', 'create', uniq('Fanout4 '));
    const tokenFile = path.join(dir, 't');
    writeFileSync(tokenFile, downstream.token);
    const app = cli(db, 'app', 'create', '--tenant', tenant.id, '--name', 'Sealed', '--scim-url', downstream.base,
                    '--token-file', tokenFile, '--key-file', rightKey);
    server = await startServer({ db, args: ['--outbound-allow-private', '--key-file', otherKey, '--outbound-retry-ms', '1'] });
    const userName = uniq('sealed');
    const user = cli(db, 'user', 'create', '--tenant', tenant.id, '--email', `${userName}@example.com`, '--username', userName);
    cli(db, 'grant', 'add', '--app', app.id, '--user', user.id);
    const shown = await eventually(async () => {
      const a = cli(db, 'app', 'show', app.id);
      return a.pause_reason && a;
    }, 'the app paused');
    assert.match(shown.pause_reason, /cannot set up the app: the app's credential does not open with this key/);
    await sleep(1500); // many retry periods of 1 ms: still no attempt spent
    const later = cli(db, 'app', 'show', app.id);
    assert.deepEqual([later.counts.pending, later.counts.failing, later.counts.dead], [1, 0, 0]);
    assert.deepEqual(await downstream.log(), [], 'nothing was sent');

    await server.stop();
    server = await startServer({ db, args: ['--outbound-allow-private', '--key-file', rightKey, '--outbound-retry-ms', '1'] });
    await eventually(async () => {
      const res = await downstream.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      return res.body.Resources.length === 1;
    }, 'delivered with the right key', 90_000);
  });
});

// Accidental mass deprovisioning (Entra's "accidental deletions prevention"):
// more users than serve's --deprovision-limit losing access within an hour
// hold the app before their accounts are switched off; an admin lets them go.
describe('fan-out: a mass deprovisioning is held for an admin', () => {
  const LIMIT = 3;
  let dir, db, server, downstream, tenant, scim, app, scene;

  before(async () => {
    scene = await slackScene('held', { args: ['--deprovision-limit', String(LIMIT)] });
    ({ dir, db, server, downstream, tenant, scim, app } = scene);
  });

  after(async () => { await scene?.cleanup(); });

  const activeAccounts = async () => {
    const res = await downstream.scim('GET', '/Users?count=1000');
    assert.equal(res.status, 200);
    return res.body.Resources.filter((a) => a.active).map((a) => a.userName).sort();
  };

  test('up to the limit goes through; beyond it nothing is switched off until `app allow-deprovisions`', async () => {
    const tag = uniq('held');
    const users = [];
    for (let i = 0; i < 6; i++) {
      const res = await scim('POST', 'Users', { body: { schemas: [CORE_USER], userName: `${tag}-${i}@example.com`, active: true } });
      assertStatus(res, 201, 'push user');
      users.push(res.body);
    }
    const g = await scim('POST', 'Groups', {
      body: { schemas: [CORE_GROUP], displayName: `${tag} all`, members: users.map((u) => ({ value: u.id })) },
    });
    assertStatus(g, 201, 'push group');
    cli(db, 'grant', 'add', '--app', app.id, '--group', g.body.id);
    await eventually(async () => (await activeAccounts()).length === 6, '6 active accounts');

    // two leave the group: within the limit, switched off as usual
    const out = await scim('PATCH', `Groups/${g.body.id}`, { body: { schemas: [PATCH_OP], Operations: [
      { op: 'remove', path: `members[value eq "${users[0].id}"]` },
      { op: 'remove', path: `members[value eq "${users[1].id}"]` }] } });
    assert.ok([200, 204].includes(out.status), out.text);
    await eventually(async () => (await activeAccounts()).length === 4, 'two switched off');
    assert.equal(cli(db, 'app', 'show', app.id).health, 'ok');

    // the grant removed (by mistake): four more within the hour, over the limit
    cli(db, 'grant', 'remove', '--app', app.id, '--group', g.body.id);
    const held = await eventually(async () => {
      const s = cli(db, 'app', 'show', app.id);
      return s.health === 'held' && s;
    }, 'the app holds');
    assert.match(held.pause_reason, /held: 6 users lost access within an hour \(over the limit of 3\)/);
    assert.match(held.pause_reason, new RegExp(`scimd app allow-deprovisions ${app.id}`));
    assert.ok(held.counts.pending >= 4, `their jobs wait: ${JSON.stringify(held.counts)}`);
    const paused = audit(db, { tenant: tenant.id, type: 'app_paused' }).filter((e) => e.summary.app === app.id);
    assert.deepEqual(paused.map((e) => [e.summary.reason, e.summary.users, e.summary.limit]), [['deprovision_limit', 6, LIMIT]]);
    assert.deepEqual(await activeAccounts(), users.slice(2).map((u) => u.userName).sort(), 'nothing more switched off');
    // the admin API (and the console's app page) say so too
    const pw = path.join(dir, 'pw.txt');
    writeFileSync(pw, 'correct horse battery staple\n');
    cli(db, 'admin', 'create', '--email', 'root@held.test', '--role', 'super', '--password-file', pw);
    const key = cli(db, 'admin', 'key', 'create', '--name', 'held', '--admin', 'root@held.test').key;
    const status = await http('GET', `${server.url}/admin/api/v1/apps/${app.id}/status`, { headers: { Authorization: `Bearer ${key}` } });
    assertStatus(status, 200, status.text);
    assert.equal(status.body.held, true);
    assert.equal(status.body.pause_reason, held.pause_reason);

    // an admin looks and lets them go
    const r = cliRaw(db, ['app', 'allow-deprovisions', app.id], { json: false });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /held deprovisions go ahead/);
    await eventually(async () => (await activeAccounts()).length === 0, 'all switched off');
    assert.equal(cli(db, 'app', 'show', app.id).health, 'ok');
    assert.equal(audit(db, { tenant: tenant.id, type: 'app_deprovisions_allowed' }).length, 1);
    const again = cliRaw(db, ['app', 'allow-deprovisions', app.id]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /holds no deprovisions/);
  });
});
