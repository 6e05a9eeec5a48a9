// SPDX-License-Identifier: Apache-2.0
// The web console in a real browser (Debian's chromium driven by
// playwright-core): the seed's Okta step 1 as a person does it.  A super
// admin sets a password from the one-time setup link and signs in; opens the
// IdP; on the SCIM Provisioning tab reads the base URL and creates the token
// "Okta production", read from the amber box; pushes a user (with enterprise
// attributes) and a group with it; finds the user and its IdP attributes,
// the received events in the Event Log filtered by the IdP, the token's Last
// used and where from; opens the group and its members; revokes the token
// (confirmed) so the next SCIM call gets 401; signs out.
// Every page is scanned with axe-core (no serious or critical violations)
// and screenshotted at desktop and 360 px wide under build/ui-screenshots/.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { setup, cli, CORE_USER, ENTERPRISE_USER, TOKEN_RE, uniq } from '../e2e/lib/harness.mjs';
import { startDownstream } from '../e2e/lib/downstream.mjs';
import { createServer } from 'node:http';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.join(here, '..', '..', 'build', 'ui-screenshots');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// the third-party verifier of Standard Webhooks signatures, pinned with the test fixtures
const { Webhook } = createRequire(new URL('../fixtures/downstream/package.json', import.meta.url))('standardwebhooks');
const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 860 };
const NARROW = { width: 360, height: 780 };

describe('web console', { timeout: 240_000 }, () => {
  let env; let browser; let page; let profile; let userName;
  const cspErrors = [];
  const scanned = [];

  /* axe-core on the page as it is now (run through the debugger, so the CSP
   * that forbids injected scripts stays on), then a screenshot at both widths. */
  const check = async (name) => {
    await page.evaluate(`${AXE}\n;0`);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [],
      `${name}: accessibility violations`);
    scanned.push(name);
    // the whole page, or the screen when a modal dialog (and its backdrop) is open
    const fullPage = (await page.getByRole('dialog').count()) === 0;
    await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage });
    await page.setViewportSize(NARROW);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: path.join(SHOTS, `${name}-360.png`), fullPage });
    await page.setViewportSize(DESKTOP);
    assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than a 360 px screen`);
  };

  const scim = (method, p, token, body) => fetch(`${env.base}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    body: body ? JSON.stringify(body) : undefined,
  });

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // loopback downstream apps allowed (the Apps flow provisions into a local fixture)
    env = await setup({ vendor: 'okta', idpName: 'Okta', tenantName: uniq('Acme '), args: ['--outbound-allow-private'] });
    profile = mkdtempSync(path.join(tmpdir(), 'scimd-ui-chromium-'));
    // a fresh profile (--user-data-dir) each run
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: DESKTOP, locale: 'en-GB', timezoneId: 'UTC',
    });
    page = browser.pages()[0] || await browser.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  });

  after(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await env?.cleanup();
  });

  test('the page is served with a strict CSP and framing headers', async () => {
    const res = await fetch(`${env.server.url}/admin/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    assert.doesNotMatch(html, /<script>|<style|\sstyle=|\son[a-z]+=/i, 'no inline script or style');
    assert.equal((await fetch(`${env.server.url}/admin/assets/nope.js`)).status, 404);
    assert.equal((await fetch(`${env.server.url}/admin/`, { method: 'POST' })).status, 405);
  });

  test("Okta step 1: token from the amber box, user and group pushed, events, Last used, revoke, sign out", async () => {
    const admin = cli(env.db, 'admin', 'create', '--email', 'root@example.com', '--role', 'super');

    // the one-time setup link
    // (the CLI's link names the default public URL; this server's is another port)
    await page.goto(admin.setup_url.replace(/^https?:\/\/[^/]+/, env.server.url));
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await check('setup');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Password set' }).waitFor();
    await page.getByRole('link', { name: 'sign in' }).click();

    // sign in
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await check('signin');
    await page.getByLabel('Email').fill('root@example.com');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Identity providers' }).waitFor();
    await check('idps');

    // open the IdP; SCIM Provisioning tab; the base URL
    await page.getByRole('link', { name: 'Okta', exact: true }).click();
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    await check('idp-overview');
    // by keyboard: the arrow key moves to the next tab, which keeps the focus
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('textbox', { name: 'SCIM base URL' }).waitFor();
    await page.waitForFunction(() => document.activeElement.textContent === 'SCIM Provisioning');
    const baseUrl = await page.getByRole('textbox', { name: 'SCIM base URL' }).inputValue();
    assert.equal(baseUrl, env.base);
    assert.equal(await page.getByRole('tab', { name: 'SCIM Provisioning' }).getAttribute('aria-selected'), 'true');

    // Create token, named; the plaintext once in the amber box
    const create = page.getByRole('button', { name: 'Create token' });
    await create.click();
    const dialog = page.getByRole('dialog', { name: 'Create token' });
    await dialog.waitFor();
    assert.ok(await dialog.getByLabel('Token name').evaluate((el) => el === document.activeElement),
      'focus moves into the dialog');
    await dialog.getByLabel('Token name').fill('Okta production');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    const box = dialog.getByRole('region', { name: 'New token' });
    const token = await box.getByRole('textbox', { name: 'Bearer token' }).inputValue();
    assert.match(token, TOKEN_RE);
    assert.match(await box.textContent(), /shown only this once/);
    assert.match(await box.textContent(), /revoke it and create a new one/);
    assert.equal(await box.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(255, 244, 214)', 'amber');
    await check('scim-token');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.ok(await create.evaluate((el) => el === document.activeElement), 'focus back on Create token');
    const row = page.getByRole('row', { name: /Okta production/ });
    await row.getByText('never').waitFor();

    // the token works: a user with enterprise attributes, and a group
    userName = `${uniq('ada')}@acme.example`;
    const ures = await scim('POST', 'Users', token, {
      schemas: [CORE_USER, ENTERPRISE_USER],
      userName, externalId: '00u1okta', active: true,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: userName, type: 'work', primary: true }],
      [ENTERPRISE_USER]: { employeeNumber: 'E-1815', department: 'Analytical Engines' },
    });
    assert.equal(ures.status, 201, await ures.clone().text());
    const user = await ures.json();
    const gres = await scim('POST', 'Groups', token, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering', members: [{ value: user.id }],
    });
    assert.equal(gres.status, 201, await gres.text());

    // Last used is set
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByRole('tab', { name: 'SCIM Provisioning' }).click();
    await row.waitFor();
    assert.equal(await row.getByText('never').count(), 0, 'Last used is set');
    assert.equal(await row.locator('time[title]').count(), 2, 'created and last used, exact time on hover');
    await row.getByRole('cell', { name: '127.0.0.1', exact: true }).waitFor(); // last used from

    // the IdP's Users tab, then Users -> the user -> IdP Attributes
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('link', { name: userName }).waitFor();
    await check('idp-users');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('ada');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('link', { name: userName }).waitFor();
    await check('users');
    await page.getByRole('link', { name: userName }).click();
    await page.getByRole('tab', { name: 'Profile' }).waitFor();
    await check('user-profile');
    await page.getByRole('tab', { name: 'IdP Attributes' }).click();
    const attrs = page.getByRole('region', { name: 'Attributes from Okta' });
    await attrs.getByRole('cell', { name: 'Analytical Engines' }).waitFor();
    await attrs.getByRole('cell', { name: 'E-1815' }).waitFor();
    await attrs.getByRole('cell', { name: `${ENTERPRISE_USER}.department` }).waitFor();
    await check('user-idp-attributes');
    await page.getByRole('tab', { name: 'Groups' }).click();
    await page.getByRole('cell', { name: 'Engineering' }).waitFor();

    // the group's page: who is in it, and from which IdP; the IdP's Groups tab lists it
    await page.getByRole('link', { name: 'Engineering' }).click();
    await page.getByRole('heading', { name: 'Engineering' }).waitFor();
    const members = page.getByRole('region', { name: 'Members' });
    await members.getByRole('link', { name: userName }).waitFor();
    await members.getByRole('cell', { name: 'active' }).waitFor();
    await check('group');
    await page.getByRole('link', { name: 'Okta', exact: true }).click();
    await page.getByRole('tab', { name: 'Groups', selected: true }).waitFor();
    await page.getByRole('link', { name: 'Engineering' }).waitFor();
    await check('idp-groups');
    await page.getByRole('link', { name: 'Engineering' }).click();
    await members.getByRole('link', { name: userName }).click();
    await page.getByRole('tab', { name: 'Profile' }).waitFor();
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByText('scim_user_created').first().waitFor();
    await check('user-events');

    // Audit -> Event Log, filtered by the IdP
    await page.getByRole('link', { name: 'Event Log' }).click();
    await page.getByRole('heading', { name: 'Event Log' }).waitFor();
    await page.getByRole('combobox', { name: 'IdP', exact: true }).selectOption({ label: 'Okta' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(new RegExp(`idp=${env.idp.id}`));
    const events = page.getByRole('region', { name: 'Events' });
    // The URL changes before the filtered list replaces the old one: wait until
    // the tenant-wide events (not this IdP's) are gone from the list.
    await events.getByText('tenant_created', { exact: true }).waitFor({ state: 'detached' });
    await events.getByText('scim_user_received').first().waitFor();
    await events.getByText('scim_group_received').first().waitFor();
    const types = await events.locator('summary strong').allTextContents();
    assert.ok(types.indexOf('scim_group_received') < types.indexOf('scim_user_received') &&
              types.at(-1) === 'idp_created', `newest first: ${types.join(', ')}`);
    const first = events.locator('details').filter({ hasText: 'scim_user_received' }).first();
    await first.locator('summary').click();
    assert.equal(await first.getAttribute('open'), '');
    await check('event-log');
    const created = events.locator('details').filter({ hasText: 'scim_user_created' }).first();
    await created.locator('summary').click();
    await created.getByRole('link', { name: 'Open this user' }).click();
    await page.getByRole('heading', { name: userName }).waitFor();

    // Revoke in the UI, confirmed; the next SCIM call gets 401
    await page.getByRole('link', { name: 'Identity providers' }).click();
    await page.getByRole('link', { name: 'Okta', exact: true }).click();
    await page.getByRole('tab', { name: 'SCIM Provisioning' }).click();
    await row.getByRole('button', { name: 'Revoke Okta production' }).click();
    const confirm = page.getByRole('dialog', { name: /Revoke token "Okta production"/ });
    await confirm.waitFor();
    await check('scim-revoke-confirm');
    await confirm.getByRole('button', { name: 'Revoke token' }).click();
    await row.getByText('Revoked').waitFor();
    assert.equal(await page.getByRole('dialog').count(), 0);
    assert.equal((await scim('GET', 'Users', token)).status, 401);
    await check('scim-provisioning');

    // Tenants (super admin)
    await page.getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('cell', { name: env.tenant.name }).waitFor();
    await check('tenants');

    // the IdP's Users tab asks the admin API for ?idp=: another IdP of the tenant holds none
    const other = env.addIdp(env.tenant.id, 'entra', 'Entra');
    const counts = await page.evaluate(async ({ idps, tenant }) => Promise.all(idps.map(async (id) =>
      (await (await fetch(`/admin/api/v1/users?idp=${id}&tenant=${tenant}`)).json()).items.length)),
    { idps: [env.idp.id, other.idp.id], tenant: env.tenant.id });
    assert.deepEqual(counts, [1, 0]);

    // sign out
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/admin/api/v1/session')).status);
    assert.equal(status, 401, 'the session has ended');
    assert.deepEqual(cspErrors, [], 'no Content-Security-Policy violations');
    assert.ok(scanned.length >= 14, `pages scanned: ${scanned.join(', ')}`);
  });

  test('User Attributes: a custom field mirrored from the enterprise extension shows on the user; Apps: connect, grant, provisioned', async () => {
    assert.ok(userName, 'runs after the Okta flow, which pushed the user and the group');
    await page.getByLabel('Email').fill('root@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Identity providers' }).waitFor();

    // a custom field, then its source: the enterprise department the IdP sends
    await page.getByRole('link', { name: 'User Attributes' }).click();
    await page.getByRole('heading', { name: 'User Attributes' }).waitFor();
    await page.getByRole('button', { name: 'Add field' }).click();
    const add = page.getByRole('dialog', { name: 'Add field' });
    await add.getByLabel('Field name').fill('department');
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    await add.waitFor({ state: 'detached' });
    const fields = page.getByRole('region', { name: 'Custom fields' });
    await fields.getByRole('cell', { name: 'department', exact: true }).waitFor();
    const mirroring = page.getByRole('region', { name: 'Mirroring' });
    const row = mirroring.getByRole('row', { name: /department/ });
    await row.getByText('not mirrored').waitFor();
    await row.getByRole('button', { name: 'Change the source of department' }).click();
    const change = page.getByRole('dialog', { name: 'Source of department' });
    await change.getByLabel('SCIM attribute path').fill(`${ENTERPRISE_USER}:department`);
    await change.getByRole('button', { name: 'Save and re-derive' }).click();
    await change.waitFor({ state: 'detached' });
    await page.waitForFunction(() => /department mapped; 1 users re-derived, 1 changed/.test(document.getElementById('announce').textContent));
    await row.getByRole('cell', { name: `${ENTERPRISE_USER}:department` }).waitFor();
    await check('user-attributes');

    // the user's profile has the mirrored value
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: userName }).click();
    await page.getByRole('tab', { name: 'Profile' }).waitFor();
    const props = page.locator('dl.props');
    await props.getByText('Analytical Engines').waitFor();
    assert.equal(await props.locator('dt', { hasText: 'department' }).count(), 1);

    // Apps: connect a downstream SCIM app, grant the group, the user is provisioned there
    const downstream = await startDownstream();
    try {
      await page.getByRole('link', { name: 'Apps' }).click();
      await page.getByRole('heading', { name: 'Apps' }).waitFor();
      await page.getByRole('button', { name: 'Connect an app' }).click();
      const connect = page.getByRole('dialog', { name: 'Connect an app' });
      await connect.getByLabel('Name').fill('Slack');
      await connect.getByLabel('SCIM base URL').fill(downstream.base);
      await connect.getByLabel('Bearer token').fill(downstream.token);
      await check('app-connect');
      await connect.getByRole('button', { name: 'Connect' }).click();
      await page.getByRole('heading', { name: 'Slack' }).waitFor();
      await page.getByRole('combobox', { name: 'Group' }).selectOption({ label: 'Engineering (Okta)' });
      await page.getByRole('button', { name: 'Grant access' }).click();
      await page.getByRole('region', { name: 'Grants' }).getByRole('link', { name: 'Engineering (Okta)' }).waitFor();
      // the group's page names the app it is granted to
      await page.getByRole('region', { name: 'Grants' }).getByRole('link', { name: 'Engineering (Okta)' }).click();
      await page.getByRole('heading', { name: 'Engineering' }).waitFor();
      await page.locator('dl.props').getByRole('link', { name: 'Slack' }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Slack' }).waitFor();
      let found = [];
      for (let i = 0; i < 100 && found.length === 0; i++) {
        const r = await downstream.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
        found = r.body.Resources || [];
        if (!found.length) await new Promise((ok) => setTimeout(ok, 100));
      }
      assert.equal(found.length, 1, 'the granted member is provisioned downstream');
      assert.equal(found[0].active, true);
      for (let i = 0; i < 50; i++) { // the link is recorded after the downstream answered
        await page.reload();
        await page.getByRole('heading', { name: 'Slack' }).waitFor();
        if (await page.locator('dl.props dt:text-is("Linked users") + dd').textContent() === '1') break;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      assert.equal(await page.locator('dl.props dt:text-is("Linked users") + dd').textContent(), '1');
      await check('app');
      // the user's own page lists the account the app holds
      await page.goto(`${env.server.url}/admin/#/users/${found[0].externalId}/apps`);
      const accounts = page.getByRole('region', { name: 'App accounts' });
      await accounts.getByRole('link', { name: 'Slack' }).waitFor();
      await accounts.getByRole('cell', { name: 'active', exact: true }).waitFor();
      await accounts.getByRole('cell', { name: found[0].id, exact: true }).waitFor();
      await check('user-apps');
      await page.goBack();
      await page.getByRole('heading', { name: 'Slack' }).waitFor();

      // Resync: every granted user checked against the app, with a progress bar
      await page.getByRole('button', { name: 'Resync' }).click();
      await page.waitForFunction(() => /Resync done: 1 users checked/.test(document.getElementById('announce').textContent));
      assert.equal((await downstream.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.Resources.length, 1,
        'still one account');
      await page.getByRole('link', { name: 'Apps' }).click();
      await page.getByRole('link', { name: 'Slack' }).waitFor();
      await check('apps');
    } finally {
      await downstream.stop();
    }

    // Webhooks: add one in the console, its secret shown once; a signed delivery arrives and is logged
    const received = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { received.push({ headers: req.headers, body }); res.writeHead(204).end(); });
    });
    await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
    try {
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const add = page.getByRole('dialog', { name: 'Add webhook' });
      await add.getByLabel('Endpoint URL').fill(`http://127.0.0.1:${receiver.address().port}/scim-events`);
      await add.getByRole('button', { name: 'Add', exact: true }).click();
      const box = add.getByRole('region', { name: 'New webhook' });
      const secret = await box.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      assert.match(secret, /^whsec_/);
      assert.match(await box.textContent(), /shown only this once/);
      await check('webhook-secret');
      await add.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('heading', { name: /scim-events$/ }).waitFor();
      env.addIdp(env.tenant.id, 'generic', 'Hooked IdP'); // events to send
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((ok) => setTimeout(ok, 100));
      assert.ok(received.length > 0, 'a delivery arrived');
      const msg = new Webhook(secret).verify(received[0].body, received[0].headers);
      assert.ok(msg.type && msg.id, 'verified with the secret the console showed');
      for (let i = 0; i < 50; i++) {
        await page.reload();
        await page.getByRole('heading', { name: /scim-events$/ }).waitFor();
        if (await page.getByRole('region', { name: 'Delivery log' }).getByRole('cell', { name: '204', exact: true }).count()) break;
        await new Promise((ok) => setTimeout(ok, 200));
      }
      await page.getByRole('region', { name: 'Delivery log' }).getByRole('cell', { name: '204', exact: true }).first().waitFor();
      await check('webhook');
    } finally {
      receiver.close();
    }

    // the Event Log's live tail: a change made elsewhere appears on top without a reload
    await page.getByRole('link', { name: 'Event Log' }).click();
    await page.getByRole('heading', { name: 'Event Log' }).waitFor();
    await page.getByRole('checkbox', { name: /Live tail/ }).check();
    await page.getByRole('status').filter({ hasText: 'listening' }).waitFor();
    env.addIdp(env.tenant.id, 'generic', 'Tail IdP');
    await page.getByRole('status').filter({ hasText: /^\d+ new$/ }).waitFor();
    const top = await page.getByRole('region', { name: 'Events' }).locator('summary strong').first().textContent();
    assert.match(top, /^(idp_created|token_created)$/, 'the new event is on top');
    await check('event-log-live');
    // a time window with nothing in it
    await page.getByRole('checkbox', { name: /Live tail/ }).uncheck();
    await page.getByLabel('From').fill('2099-01-01T00:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/since=2099/);
    await page.getByText('No events.').waitFor();
    assert.deepEqual(cspErrors, [], 'no Content-Security-Policy violations');
  });
});
