// SPDX-License-Identifier: Apache-2.0
/*
 * console.js - the scimd web console: sign-in, setup, identity providers
 * (SCIM Provisioning: base URL, tokens; users and groups pushed), users (IdP
 * attributes, groups, events), groups (members), user attributes (mirroring,
 * custom fields), downstream apps (status, grants, retry), webhooks, the
 * event log and tenants.  Plain JS over the admin API (/admin/api/v1/); every text is set
 * with textContent, never parsed as HTML.  Routes live in the #fragment:
 * #/idps, #/idps/<id>/<tab>, #/groups/<idp>/<group>, #/users,
 * #/users/<id>/<tab>, #/attributes, #/apps, #/apps/<id>, #/webhooks,
 * #/webhooks/<id>, #/events?idp=&type=,
 * #/tenants.
 */
'use strict';

const API = '/admin/api/v1';
const state = { admin: null, csrf: sessionStorage.getItem('scimd_csrf') || '', tenants: null };
const main = document.getElementById('main');

/* ---- DOM helpers ---- */

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

/* A labelled control: returns [label, control] wrapped in a div. */
function field(labelText, control) {
  if (!control.id) control.id = nextId('f');
  return h('div', null, h('label', { for: control.id, text: labelText }), control);
}

function announce(msg) {
  const live = document.getElementById('announce');
  live.textContent = '';
  setTimeout(() => { live.textContent = msg; }, 50);
}

/* A time shown relative, the exact time on hover. */
function when(iso) {
  if (!iso) return h('span', { class: 'muted', text: 'never' });
  const t = new Date(iso);
  const s = Math.round((Date.now() - t.getTime()) / 1000);
  let rel;
  if (s < 45) rel = 'just now';
  else if (s < 90 * 60) rel = `${Math.max(1, Math.round(s / 60))} min ago`;
  else if (s < 36 * 3600) rel = `${Math.round(s / 3600)} h ago`;
  else rel = `${Math.round(s / 86400)} days ago`;
  return h('time', { datetime: iso, title: t.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' }), text: rel });
}

/* headers: names; a name ending in '~' is a column hidden on narrow screens. */
function table(caption, headers, rows) {
  const cls = (x) => (x.endsWith('~') ? 'hide-narrow' : null);
  // a region that scrolls sideways on a narrow screen, reachable by keyboard
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': caption },
    h('table', null,
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col', text: x.replace(/~$/, ''), class: cls(x) })))),
      h('tbody', null, rows.length ? rows.map((r) => h('tr', null, r.map((c, i) => h('td', { class: cls(headers[i]) }, c))))
        : h('tr', null, h('td', { colspan: String(headers.length), class: 'muted', text: 'Nothing yet.' })))));
}

function page(title, ...kids) {
  document.title = `${title} - scimd console`;
  main.replaceChildren(h('h1', { text: title }), ...kids);
}

function errorBox(err) {
  return h('p', { class: 'error', role: 'alert', text: err.message || String(err) });
}

/* ---- the API ---- */

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  const res = await fetch(API + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const e = (json && json.error) || {};
    if (res.status === 401 && path !== '/session') {
      signedOut();
      go('#/signin');
    }
    throw new ApiError(res.status, e.code || 'error', e.message || `HTTP ${res.status}`);
  }
  return json;
}

const qs = (o) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
};

async function tenants() {
  if (!state.tenants) state.tenants = (await api('GET', '/tenants?limit=200')).items;
  return state.tenants;
}

/* The tenant a page is about: ?tenant= or the first one for a super admin,
 * the admin's own otherwise. */
async function pageTenant(params) {
  if (state.admin.role !== 'super') return state.admin.tenant_id;
  const ts = await tenants();
  return params.get('tenant') || (ts.length ? ts[0].id : '');
}

/* A super admin's tenant switch for a tenant-wide page at base. */
async function tenantSwitch(current, base) {
  if (state.admin.role !== 'super') return '';
  const sel = h('select', null, (await tenants()).map((t) =>
    h('option', { value: t.id, selected: t.id === current, text: t.name })));
  const form = h('form', { class: 'card', 'aria-label': 'Tenant' },
    h('div', { class: 'row' }, field('Tenant', sel), h('div', null, h('button', { type: 'submit', text: 'Show' }))));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); go(base + qs({ tenant: sel.value })); });
  return form;
}

/* ---- session ---- */

function signedIn(admin, csrf) {
  state.admin = admin;
  if (csrf) { state.csrf = csrf; sessionStorage.setItem('scimd_csrf', csrf); }
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-tenants').hidden = admin.role !== 'super';
  document.getElementById('who').textContent = `${admin.email} (${admin.role})`;
  document.getElementById('signout').hidden = false;
}

function signedOut() {
  state.admin = null; state.csrf = ''; state.tenants = null;
  sessionStorage.removeItem('scimd_csrf');
  document.getElementById('nav').hidden = true;
  document.getElementById('who').textContent = '';
  document.getElementById('signout').hidden = true;
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('DELETE', '/session'); } catch { /* gone already */ }
  signedOut();
  go('#/signin');
  announce('Signed out');
});

function viewSignIn() {
  const email = h('input', { type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div');
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h', text: 'Sign in' }),
    field('Email', email), field('Password', password), msg,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Sign in' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', '/session', { email: email.value, password: password.value });
      signedIn(r.admin, r.csrf_token);
      go('#/idps');
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  document.title = 'Sign in - scimd console';
  main.replaceChildren(form);
  email.focus();
}

function viewSetup(token) {
  const pw = h('input', { type: 'password', autocomplete: 'new-password', minlength: '12', required: true });
  const pw2 = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const msg = h('div');
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'setup-h' },
    h('h1', { id: 'setup-h', text: 'Set your password' }),
    h('p', { text: 'This link works once. Choose a password of at least 12 characters.' }),
    field('New password', pw), field('Repeat the password', pw2), msg,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Set password' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (pw.value !== pw2.value) { msg.replaceChildren(errorBox('The passwords differ.')); return; }
    try {
      await api('POST', '/setup', { token, password: pw.value });
      main.replaceChildren(h('div', { class: 'card narrow' }, h('h1', { text: 'Password set' }),
        h('p', null, 'You can now ', h('a', { href: '/admin/#/signin', text: 'sign in' }), '.')));
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  document.title = 'Set your password - scimd console';
  main.replaceChildren(form);
  pw.focus();
}

/* ---- modal dialogs: focus moves in, Escape closes, focus goes back ---- */

function modal(title, build) {
  const opener = document.activeElement;
  const titleId = nextId('dlg');
  const dlg = h('dialog', { 'aria-labelledby': titleId });
  const close = () => dlg.close();
  dlg.append(h('h2', { id: titleId, text: title }), ...[].concat(build(close, dlg)));
  dlg.addEventListener('close', async () => {
    dlg.remove();
    if (opener && opener.isConnected) opener.focus();
    if (dlg.onclosed) await dlg.onclosed();
    if (!document.activeElement || document.activeElement === document.body) main.focus();
  });
  document.body.append(dlg);
  dlg.showModal();
  const first = dlg.querySelector('input, button:not(.link)');
  if (first) first.focus();
  return dlg;
}

function copyButton(label, input) {
  return h('button', {
    type: 'button', text: 'Copy', 'aria-label': label,
    onclick: async () => {
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch { document.execCommand('copy'); }
      announce('Copied');
    },
  });
}

/* A yes/no dialog: act() runs on yes, then after() (by default the page is
 * drawn again). */
function confirmModal(title, text, yes, act, after = route) {
  modal(title, (close, dlg) => {
    const msg = h('div');
    return [h('p', { text }), msg,
      h('div', { class: 'actions' },
        h('button', { type: 'button', text: 'Cancel', onclick: close }),
        h('button', {
          type: 'button', class: 'danger', text: yes,
          onclick: async () => {
            try {
              await act();
              dlg.onclosed = after;
              close();
            } catch (e) { msg.replaceChildren(errorBox(e)); }
          },
        }))];
  });
}

/* ---- tabs ---- */

function tabs(label, list, current, base) {
  const bar = h('div', { role: 'tablist', 'aria-label': label });
  const panel = h('div', { role: 'tabpanel', tabindex: '0' });
  const buttons = list.map(([key, name]) => {
    const b = h('button', {
      type: 'button', role: 'tab', id: `tab-${key}`, text: name,
      'aria-selected': key === current ? 'true' : 'false', tabindex: key === current ? '0' : '-1',
      onclick: () => { state.focusTab = true; go(`${base}/${key}`); },
    });
    bar.append(b);
    return b;
  });
  bar.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (ev.key === 'ArrowRight') j = (i + 1) % buttons.length;
    if (ev.key === 'ArrowLeft') j = (i - 1 + buttons.length) % buttons.length;
    if (ev.key === 'Home') j = 0;
    if (ev.key === 'End') j = buttons.length - 1;
    if (j !== null) { ev.preventDefault(); buttons[j].focus(); buttons[j].click(); }
  });
  panel.setAttribute('aria-labelledby', `tab-${current}`);
  return { bar, panel };
}

/* ---- identity providers ---- */

async function tenantName(id) {
  if (state.admin.role !== 'super') return id;
  const t = (await tenants()).find((x) => x.id === id);
  return t ? t.name : id;
}

async function viewIdps() {
  const list = (await api('GET', '/idps?limit=200')).items;
  const rows = [];
  for (const idp of list) {
    rows.push([h('a', { href: `#/idps/${idp.id}/overview`, text: idp.name }), idp.vendor,
      await tenantName(idp.tenant_id), when(idp.created_at)]);
  }
  page('Identity providers', table('Identity providers', ['Name', 'Vendor', 'Tenant~', 'Created~'], rows));
}

async function viewIdp(id, tab, params) {
  const idp = await api('GET', `/idps/${encodeURIComponent(id)}`);
  const t = tabs('IdP connection',
    [['overview', 'Overview'], ['scim', 'SCIM Provisioning'], ['users', 'Users'], ['groups', 'Groups']],
    tab, `#/idps/${id}`);
  page(idp.name, h('p', { class: 'muted', text: `${idp.vendor} · IdP connection` }), t.bar, t.panel);
  if (tab === 'scim') await scimTab(idp, t.panel);
  else if (tab === 'users') await usersInto(t.panel, { tenant: idp.tenant_id, idp: idp.id }, `#/idps/${id}/users`);
  else if (tab === 'groups') await groupsInto(t.panel, idp, params);
  else {
    t.panel.append(h('dl', { class: 'props' },
      h('dt', { text: 'Name' }), h('dd', { text: idp.name }),
      h('dt', { text: 'Vendor' }), h('dd', { text: idp.vendor }),
      h('dt', { text: 'Tenant' }), h('dd', { text: await tenantName(idp.tenant_id) }),
      h('dt', { text: 'ID' }), h('dd', { class: 'mono', text: idp.id }),
      h('dt', { text: 'Created' }), h('dd', null, when(idp.created_at)),
      h('dt', { text: 'SCIM base URL' }), h('dd', { class: 'mono', text: idp.scim_base_url })),
    h('p', null, h('a', { href: `#/events?idp=${idp.id}`, text: 'Events of this IdP in the Event Log' })));
  }
}

async function scimTab(idp, panel) {
  const base = h('input', { type: 'text', readonly: true, value: idp.scim_base_url, class: 'mono' });
  base.id = 'scim-base-url';
  const tokensBox = h('div');
  const create = h('button', { type: 'button', class: 'primary', text: 'Create token' });
  panel.append(
    h('label', { for: base.id, text: 'SCIM base URL' }),
    h('div', { class: 'copyline' }, base, copyButton('Copy SCIM base URL', base)),
    h('h2', { text: 'Bearer tokens' }),
    h('p', { class: 'muted', text: 'Your IdP sends one of these with every SCIM call. scimd keeps only a hash of each.' }),
    h('div', { class: 'actions' }, create),
    tokensBox,
    h('h2', { text: 'Setting up your IdP' }),
    h('h3', { text: 'Okta' }),
    h('ol', { class: 'steps' },
      h('li', { text: 'Applications → your app → General → App Settings: Provisioning = SCIM. Save.' }),
      h('li', { text: 'Provisioning → Integration → Edit: SCIM connector base URL = the SCIM base URL above; Unique identifier field for users = userName.' }),
      h('li', { text: 'Authentication Mode = HTTP Header; Authorization = the token (without "Bearer"). Test Connector Configuration, then Save.' }),
      h('li', { text: 'Provisioning → To App: enable Create Users, Update User Attributes, Deactivate Users; use Push Groups for groups.' })),
    h('h3', { text: 'Microsoft Entra ID' }),
    h('ol', { class: 'steps' },
      h('li', { text: 'Enterprise applications → your app → Provisioning → Get started; Provisioning Mode = Automatic.' }),
      h('li', { text: 'Admin Credentials: Tenant URL = the SCIM base URL above; Secret Token = the token. Test Connection, then Save.' }),
      h('li', { text: 'Keep objectId mapped to externalId for users and groups; then Start provisioning.' })));

  async function refresh() {
    const list = (await api('GET', `/idps/${idp.id}/tokens?limit=200`)).items;
    const rows = list.map((tok) => {
      const revoked = !!tok.revoked_at;
      return [h('span', { text: tok.name }), h('code', { text: `${tok.prefix}…` }), when(tok.created_at),
        when(tok.last_used_at), tok.last_used_from ? h('code', { text: tok.last_used_from }) : h('span', { class: 'muted', text: '—' }),
        h('span', { class: `badge ${revoked ? 'off' : 'ok'}`, text: revoked ? 'Revoked' : 'Active' }),
        revoked ? '' : h('button', {
          type: 'button', class: 'danger', text: 'Revoke', 'aria-label': `Revoke ${tok.name}`,
          onclick: () => confirmRevoke(tok, refresh),
        })];
    });
    tokensBox.replaceChildren(table('Bearer tokens',
      ['Name', 'Prefix~', 'Created~', 'Last used', 'Last used from~', 'Status', 'Actions'], rows));
  }
  create.addEventListener('click', () => createTokenModal(idp, refresh));
  await refresh();
}

function createTokenModal(idp, refresh) {
  modal('Create token', (close, dlg) => {
    const name = h('input', { type: 'text', required: true, maxlength: '200', placeholder: 'Okta production' });
    const msg = h('div');
    const body = h('div');
    const form = h('form', null, field('Token name', name), msg,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', text: 'Create' }),
        h('button', { type: 'button', text: 'Cancel', onclick: close })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const tok = await api('POST', `/idps/${idp.id}/tokens`, { name: name.value });
        const out = h('input', { type: 'text', readonly: true, value: tok.token, class: 'mono' });
        const done = h('button', { type: 'button', class: 'primary', text: 'Done', onclick: close });
        body.replaceChildren(h('div', { class: 'amber', role: 'region', 'aria-label': 'New token' },
          field('Bearer token', out),
          h('div', { class: 'actions' }, copyButton('Copy bearer token', out)),
          h('p', null, h('strong', { text: 'Copy it now: it is shown only this once. ' }),
            'scimd stores only its SHA-256 hash. If you close this dialog before pasting the token into your IdP, revoke it and create a new one.')),
        h('div', { class: 'actions' }, done));
        dlg.onclosed = refresh;
        out.focus();
        out.select();
      } catch (e) { msg.replaceChildren(errorBox(e)); }
    });
    body.append(form);
    return body;
  });
}

function confirmRevoke(tok, refresh) {
  confirmModal(`Revoke token "${tok.name}"?`, 'Every SCIM call with this token gets 401 from now on. This cannot be undone.',
    'Revoke token', async () => {
      await api('DELETE', `/tokens/${tok.id}`);
      announce(`Token ${tok.name} revoked`);
    }, refresh);
}

/* ---- users ---- */

const statusBadge = (status) => h('span', { class: `badge ${status === 'active' ? 'ok' : 'off'}`, text: status });

/* Pager links: "First page" once past it, "Next page" while there is one. */
function pager(base, f, cursor, next) {
  const nav = h('div', { class: 'actions' });
  if (cursor) nav.append(h('a', { href: base + qs(f), text: 'First page' }));
  if (next) nav.append(h('a', { href: base + qs({ ...f, cursor: next }), text: 'Next page' }));
  return nav;
}

async function viewUsers(params) {
  page('Users');
  const holder = h('div');
  main.append(holder);
  let tenant = params.get('tenant');
  if (state.admin.role === 'super') {
    const ts = await tenants();
    if (!tenant && ts.length) tenant = ts[0].id;
  } else {
    tenant = state.admin.tenant_id;
  }
  await usersInto(holder, { tenant, q: params.get('q'), status: params.get('status'), cursor: params.get('cursor') }, '#/users');
}

/* A user list with its filter form into box; base is the route the form changes. */
async function usersInto(box, f, base) {
  const q = h('input', { type: 'search', value: f.q || '' });
  const status = h('select', null, ['', 'active', 'deactivated', 'deleted'].map((s) =>
    h('option', { value: s, selected: s === (f.status || ''), text: s || 'Any' })));
  const controls = [field('Search', q), field('Status', status)];
  let tenantSel = null;
  if (state.admin.role === 'super' && !f.idp) {
    tenantSel = h('select', null, (await tenants()).map((t) =>
      h('option', { value: t.id, selected: t.id === f.tenant, text: t.name })));
    controls.unshift(field('Tenant', tenantSel));
  }
  const form = h('form', { class: 'card', role: 'search', 'aria-label': 'Filter users' },
    h('div', { class: 'row' }, controls, h('div', null, h('button', { type: 'submit', text: 'Apply' }))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go(base + qs({ tenant: tenantSel ? tenantSel.value : (f.idp ? '' : f.tenant), q: q.value, status: status.value }));
  });
  const r = await api('GET', `/users${qs({ tenant: f.tenant, idp: f.idp, q: f.q, status: f.status, cursor: f.cursor, limit: '50' })}`);
  const rows = r.items.map((u) => [h('a', { href: `#/users/${u.id}/profile`, text: u.username || u.id }),
    u.email || '', [u.given_name, u.family_name].filter(Boolean).join(' '),
    statusBadge(u.status), when(u.created_at)]);
  box.append(form, table('Users', ['User name', 'Email~', 'Name~', 'Status', 'Created~'], rows),
    pager(base, { tenant: f.idp ? '' : f.tenant, q: f.q, status: f.status }, f.cursor, r.next_cursor));
}

/* Flatten a SCIM resource into [attribute path, value] rows. */
function flatten(value, prefix, out) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'schemas' || k === 'meta') continue;
      flatten(v, prefix ? (k.startsWith('urn:') ? k : `${prefix}.${k}`) : k, out);
    }
  } else {
    out.push([prefix, String(value)]);
  }
  return out;
}

function eventList(items) {
  if (!items.length) return h('p', { class: 'muted', text: 'No events.' });
  return h('div', null, items.map(eventItem));
}

/* One event, expandable. */
function eventItem(e) {
  return h('details', { class: 'event' },
    h('summary', null, when(e.at), ' ', h('strong', { text: e.type }),
      e.subject_id ? h('span', { class: 'muted', text: ` · ${e.subject_id}` }) : ''),
    /^scim_user_/.test(e.type) && e.subject_id
      ? h('p', null, h('a', { href: `#/users/${e.subject_id}/profile`, text: 'Open this user' })) : '',
    h('dl', { class: 'props' },
      h('dt', { text: 'At' }), h('dd', { text: e.at }),
      h('dt', { text: 'Actor' }), h('dd', { text: e.actor || '' }),
      h('dt', { text: 'IdP' }), h('dd', { class: 'mono', text: e.idp_id || '' }),
      h('dt', { text: 'Subject' }), h('dd', { class: 'mono', text: e.subject_id || '' }),
      h('dt', { text: 'Source' }), h('dd', { text: e.source || '' }),
      h('dt', { text: 'Request' }), h('dd', { class: 'mono', text: e.request_id || '' })),
    e.summary ? h('pre', { text: JSON.stringify(e.summary, null, 2) }) : '');
}

async function viewUser(id, tab) {
  const u = await api('GET', `/users/${encodeURIComponent(id)}`);
  const t = tabs('User', [['profile', 'Profile'], ['attributes', 'IdP Attributes'], ['groups', 'Groups'], ['apps', 'Apps'], ['events', 'Events']],
    tab, `#/users/${id}`);
  page(u.display_name || u.username || u.id, h('p', null,
    statusBadge(u.status),
    u.scim_managed ? h('span', { class: 'muted', text: ' · managed by SCIM' }) : ''), t.bar, t.panel);
  if (tab === 'attributes') {
    if (!u.idp_rows.length) t.panel.append(h('p', { class: 'muted', text: 'No IdP has sent this user.' }));
    for (const row of u.idp_rows) {
      const idp = await api('GET', `/idps/${row.idp_id}`).catch(() => ({ name: row.idp_id }));
      t.panel.append(h('section', { class: 'card', 'aria-label': `Attributes from ${idp.name}` },
        h('h2', { text: `From ${idp.name}` }),
        h('p', { class: 'muted' }, `${row.active ? 'active' : 'inactive'}${row.deleted ? ', deleted' : ''} · version ${row.version} · updated `,
          when(row.updated_at)),
        table(`Attribute values from ${idp.name}`, ['Attribute', 'Value'],
          flatten(row.resource || {}, '', []).map(([k, v]) => [h('code', { text: k }), v]))));
    }
  } else if (tab === 'groups') {
    t.panel.append(table('Groups', ['Group', 'IdP'], u.groups.map((g) => [
      g.id ? h('a', { href: `#/groups/${g.idp_id}/${g.id}`, text: g.display_name || g.id }) : g.display_name,
      h('code', { text: g.idp_id })])));
  } else if (tab === 'apps') {
    t.panel.append(table('App accounts', ['App', 'Account', 'Remote ID~', 'Pending change', 'Actions'], (u.apps || []).map((a) => {
      const acct = !a.account ? h('span', { class: 'muted', text: 'not yet created' })
        : statusBadge(a.account.active ? 'active' : 'deactivated');
      const remote = a.account ? h('code', { text: a.account.remote_id }) : '';
      const job = !a.job ? '—' : a.job.dead ? h('span', { class: 'badge off', text: `dead letter: ${a.job.last_error || 'failed'}` })
        : a.job.attempts ? `retry ${a.job.attempts}: ${a.job.last_error || ''}` : 'queued';
      const retry = a.job && a.job.dead && state.admin.role !== 'auditor' ? h('button', {
        type: 'button', text: 'Retry', 'aria-label': `Retry ${a.name}`,
        onclick: async () => {
          await api('POST', `/apps/${a.app_id}/retry`, { user_id: u.id });
          announce(`${a.name}: queued again`);
          route();
        },
      }) : '';
      return [h('a', { href: `#/apps/${a.app_id}`, text: a.name }), acct, remote, job, retry];
    })));
  } else if (tab === 'events') {
    t.panel.append(eventList(u.events));
  } else {
    t.panel.append(h('dl', { class: 'props' },
      [['User name', u.username], ['Email', u.email], ['Given name', u.given_name], ['Family name', u.family_name],
        ['Display name', u.display_name], ['Status', u.status], ['ID', u.id],
        ...Object.entries(u.custom_fields || {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
        ['Roles', (u.roles || []).join(', ')]]
        .flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v || '—' })]),
      h('dt', { text: 'Created' }), h('dd', null, when(u.created_at)),
      h('dt', { text: 'Updated' }), h('dd', null, when(u.updated_at))));
  }
}

/* ---- groups ---- */

/* The groups an IdP pushed, a page at a time. */
async function groupsInto(box, idp, params) {
  const cursor = params.get('cursor');
  const r = await api('GET', `/idps/${idp.id}/groups${qs({ cursor, limit: '50' })}`);
  const rows = r.items.map((g) => [h('a', { href: `#/groups/${idp.id}/${g.id}`, text: g.display_name || g.id }),
    g.external_id ? h('code', { text: g.external_id }) : '', when(g.updated_at)]);
  box.append(table('Groups', ['Group', 'External ID~', 'Updated~'], rows),
    pager(`#/idps/${idp.id}/groups`, {}, cursor, r.next_cursor));
}

async function viewGroup(idpId, id, params) {
  const [idp, g] = await Promise.all([api('GET', `/idps/${encodeURIComponent(idpId)}`),
    api('GET', `/idps/${encodeURIComponent(idpId)}/groups/${encodeURIComponent(id)}`)]);
  const cursor = params.get('cursor');
  const r = await api('GET', `/idps/${idp.id}/groups/${g.id}/members${qs({ cursor, limit: '50' })}`);
  const rows = r.items.map((m) => (m.user
    ? [h('a', { href: `#/users/${m.user.id}/profile`, text: m.user.username || m.user.id }), m.user.email || '',
      statusBadge(m.user.status)]
    : [h('code', { text: m.user_id }), '', h('span', { class: 'muted', text: 'purged' })]));
  page(g.display_name || g.id,
    h('p', { class: 'muted' }, 'Group pushed by ', h('a', { href: `#/idps/${idp.id}/groups`, text: idp.name }),
      ' · updated ', when(g.updated_at)),
    h('dl', { class: 'props' },
      h('dt', { text: 'ID' }), h('dd', { class: 'mono', text: g.id }),
      h('dt', { text: 'External ID' }), h('dd', { class: 'mono', text: g.external_id || '—' }),
      h('dt', { text: 'Created' }), h('dd', null, when(g.created_at))),
    h('h2', { text: 'Members' }),
    table('Members', ['User name', 'Email~', 'Status'], rows),
    pager(`#/groups/${idp.id}/${g.id}`, {}, cursor, r.next_cursor),
    h('h2', { text: 'Access and roles' }),
    h('dl', { class: 'props' },
      h('dt', { text: 'Apps granted' }), h('dd', null, (g.grants || []).length
        ? (g.grants || []).flatMap((a, i) => [i ? ', ' : '', h('a', { href: `#/apps/${a.app_id}`, text: a.name })])
        : h('span', { class: 'muted', text: 'none' })),
      h('dt', { text: 'Roles' }), h('dd', { text: (g.roles || []).map((x) => x.name).join(', ') || '—' })),
    h('p', null, h('a', { href: `#/events${qs({ subject: g.id })}`, text: 'Events of this group in the Event Log' })));
}

/* ---- user attributes: mirroring and custom fields ---- */

async function viewAttributes(params) {
  const tenant = await pageTenant(params);
  const base = '#/attributes';
  const [m, f] = await Promise.all([api('GET', `/tenants/${tenant}/mirroring`),
    api('GET', `/tenants/${tenant}/fields?limit=200`)]);
  const canWrite = state.admin.role !== 'auditor';
  const rows = m.fields.map((x) => [h('code', { text: x.field }), x.type || '',
    x.path ? h('code', { text: x.path }) : h('span', { class: 'muted', text: 'not mirrored' }), x.source,
    canWrite ? h('button', {
      type: 'button', text: 'Change', 'aria-label': `Change the source of ${x.field}`,
      onclick: () => mappingModal(tenant, x),
    }) : '']);
  const fieldRows = f.items.map((x) => [h('code', { text: x.name }), x.type,
    canWrite ? h('button', {
      type: 'button', class: 'danger', text: 'Remove', 'aria-label': `Remove field ${x.name}`,
      onclick: () => removeFieldModal(tenant, x),
    }) : '']);
  const add = canWrite ? h('button', { type: 'button', class: 'primary', text: 'Add field', onclick: () => addFieldModal(tenant) }) : '';
  page('User Attributes', await tenantSwitch(tenant, base),
    h('p', { class: 'muted', text: 'Which attribute an IdP sends becomes each canonical user field. Attributes not mirrored stay on the IdP row and are shown on the user\'s IdP Attributes tab. A change re-derives every user of the tenant in the background.' }),
    h('h2', { text: 'Mirroring' }),
    table('Mirroring', ['Field', 'Type~', 'SCIM attribute', 'Set by~', 'Actions'], rows),
    h('h2', { text: 'Custom fields' }),
    h('div', { class: 'actions' }, add),
    table('Custom fields', ['Name', 'Type', 'Actions'], fieldRows));
}

function mappingModal(tenant, x) {
  modal(`Source of ${x.field}`, (close, dlg) => {
    const path = h('input', { type: 'text', required: true, value: x.path || '', class: 'mono',
      placeholder: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' });
    const msg = h('div');
    const form = h('form', null, field('SCIM attribute path', path),
      h('p', { class: 'muted', text: 'Core (name.givenName), enterprise (urn:…:enterprise:2.0:User:department) or a tenant extension schema attribute.' }),
      msg, h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', text: 'Save and re-derive' }),
        h('button', { type: 'button', text: 'Cancel', onclick: close })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const r = await api('PUT', `/tenants/${tenant}/mirroring/${encodeURIComponent(x.field)}`, { path: path.value.trim() });
        dlg.onclosed = () => route();
        close();
        announce(`${x.field} mapped; re-deriving ${r.job.total} users`);
        followRederive(tenant, x.field, r.job);
      } catch (e) { msg.replaceChildren(errorBox(e)); }
    });
    return form;
  });
}

/* Poll the re-derive job a mapping change started until it ends, then announce its counts. */
async function followRederive(tenant, fieldName, job) {
  let j = job;
  for (let polls = 0; j.state === 'running'; polls++) {
    await new Promise((resolve) => { setTimeout(resolve, 500); });
    try {
      j = await api('GET', `/tenants/${tenant}/rederive?job=${encodeURIComponent(job.id)}`);
    } catch (e) { announce(`${fieldName} mapped; re-deriving continues on the server`); return; }
    if (j.state === 'running' && polls % 10 === 9) announce(`${fieldName}: ${j.done} of ${j.total} users re-derived`);
  }
  if (j.state === 'done') announce(`${fieldName} mapped; ${j.done} users re-derived, ${j.changed} changed`);
  else announce(`${fieldName}: re-deriving superseded by a newer change after ${j.done} of ${j.total} users`);
}

function addFieldModal(tenant) {
  modal('Add field', (close, dlg) => {
    const name = h('input', { type: 'text', required: true, pattern: '[a-z][a-z0-9_]*', maxlength: '64', placeholder: 'department' });
    const type = h('select', null, ['string', 'integer', 'boolean'].map((t) => h('option', { value: t, text: t })));
    const msg = h('div');
    const form = h('form', null, field('Field name', name), field('Type', type), msg,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', text: 'Add' }),
        h('button', { type: 'button', text: 'Cancel', onclick: close })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `/tenants/${tenant}/fields`, { name: name.value.trim(), type: type.value });
        dlg.onclosed = () => route();
        close();
        announce(`Field ${name.value.trim()} added`);
      } catch (e) { msg.replaceChildren(errorBox(e)); }
    });
    return form;
  });
}

function removeFieldModal(tenant, x) {
  confirmModal(`Remove field "${x.name}"?`, 'Its values on every user of the tenant are erased, and its mapping with them.',
    'Remove field', async () => {
      await api('DELETE', `/tenants/${tenant}/fields/${encodeURIComponent(x.name)}`);
      announce(`Field ${x.name} removed`);
    });
}

/* ---- downstream apps ---- */

const stateBadge = (st) => h('span', { class: `badge ${st === 'enabled' ? 'ok' : 'off'}`, text: st });

async function viewApps(params) {
  const tenant = await pageTenant(params);
  const r = await api('GET', `/apps${qs({ tenant, limit: '200' })}`);
  const statuses = await Promise.all(r.items.map((a) => api('GET', `/apps/${a.id}/status`).catch(() => null)));
  const rows = r.items.map((a, i) => {
    const c = (statuses[i] && statuses[i].counts) || {};
    return [h('a', { href: `#/apps/${a.id}`, text: a.name }), stateBadge(a.state),
      String(c.linked ?? ''), String(c.pending ?? ''), String(c.dead ?? ''),
      h('code', { class: 'hide-narrow', text: a.scim_url })];
  });
  const add = state.admin.role !== 'auditor'
    ? h('button', { type: 'button', class: 'primary', text: 'Connect an app', onclick: () => createAppModal(tenant) }) : '';
  page('Apps', await tenantSwitch(tenant, '#/apps'),
    h('p', { class: 'muted', text: 'Downstream SCIM apps: members of the groups granted to an app are provisioned there, within seconds.' }),
    h('div', { class: 'actions' }, add),
    table('Apps', ['Name', 'State', 'Linked~', 'Pending~', 'Dead letters', 'SCIM URL~'], rows));
}

function createAppModal(tenant) {
  modal('Connect an app', (close, dlg) => {
    const name = h('input', { type: 'text', required: true, maxlength: '200', placeholder: 'Slack' });
    const url = h('input', { type: 'url', required: true, class: 'mono', placeholder: 'https://api.slack.com/scim/v2/' });
    const token = h('input', { type: 'password', required: true, autocomplete: 'off' });
    const deprovision = h('select', null, [['deactivate', 'Deactivate (active: false)'], ['delete', 'Delete']]
      .map(([v, t]) => h('option', { value: v, text: t })));
    const msg = h('div');
    const form = h('form', null, field('Name', name), field('SCIM base URL', url), field('Bearer token', token),
      field('When access ends', deprovision),
      h('p', { class: 'muted', text: 'The token is sealed with the server\'s key and never shown again.' }), msg,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', text: 'Connect' }),
        h('button', { type: 'button', text: 'Cancel', onclick: close })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const a = await api('POST', '/apps', { tenant_id: tenant, name: name.value.trim(), scim_url: url.value.trim(),
          token: token.value, deprovision: deprovision.value });
        token.value = '';
        dlg.onclosed = () => go(`#/apps/${a.id}`);
        close();
        announce(`App ${a.name} connected`);
      } catch (e) { msg.replaceChildren(errorBox(e)); }
    });
    return form;
  });
}

async function viewApp(id) {
  const [a, st, grants] = await Promise.all([api('GET', `/apps/${encodeURIComponent(id)}`),
    api('GET', `/apps/${encodeURIComponent(id)}/status`), api('GET', `/apps/${encodeURIComponent(id)}/grants?limit=200`)]);
  const canWrite = state.admin.role !== 'auditor';
  const c = st.counts || {};
  const idps = (await api('GET', '/idps?limit=200')).items.filter((i) => i.tenant_id === a.tenant_id);
  const idpName = (gid) => (idps.find((i) => i.id === gid) || {}).name || gid || '';
  const groups = []; // [id, "name (IdP)"] of every group the tenant's IdPs pushed
  for (const i of idps) {
    for (const g of (await api('GET', `/idps/${i.id}/groups?limit=200`)).items) groups.push([g.id, `${g.display_name} (${i.name})`]);
  }
  const subject = (g) => {
    const known = g.kind === 'group' && groups.find(([gid]) => gid === g.subject_id);
    return known ? h('a', { href: `#/groups/${g.idp_id}/${g.subject_id}`, text: known[1] }) : h('code', { text: g.subject_id });
  };
  const grantRows = grants.items.map((g) => [g.kind, subject(g), idpName(g.idp_id), when(g.created_at),
    canWrite ? h('button', {
      type: 'button', class: 'danger', text: 'Remove', 'aria-label': `Remove the grant of ${g.subject_id}`,
      onclick: () => confirmModal('Remove this grant?', 'Its members lose access to the app; their downstream accounts are deprovisioned.',
        'Remove grant', () => api('DELETE', `/apps/${a.id}/grants/${g.kind}/${encodeURIComponent(g.subject_id)}`)),
    }) : '']);
  const actions = h('div', { class: 'actions' });
  if (canWrite) {
    actions.append(h('button', {
      type: 'button', text: a.state === 'enabled' ? 'Disable' : 'Enable',
      onclick: async () => {
        await api('PATCH', `/apps/${a.id}`, { state: a.state === 'enabled' ? 'disabled' : 'enabled' });
        announce(`App ${a.state === 'enabled' ? 'disabled' : 'enabled'}`);
        route();
      },
    }));
    if (a.state === 'enabled') {
      actions.append(h('button', {
        type: 'button', text: 'Resync',
        onclick: (ev) => resync(a, ev.currentTarget),
      }));
    }
    if (st.held) {
      actions.append(h('button', {
        type: 'button', class: 'primary', text: 'Allow deprovisions',
        onclick: async () => {
          await api('POST', `/apps/${a.id}/allow-deprovisions`, {});
          announce('The held deprovisions go ahead');
          route();
        },
      }));
    }
    if (c.dead) {
      actions.append(h('button', {
        type: 'button', class: 'primary', text: `Retry ${c.dead} dead-lettered`,
        onclick: async () => {
          const r = await api('POST', `/apps/${a.id}/retry`, {});
          announce(`${r.retried} jobs queued again`);
          route();
        },
      }));
    }
  }
  page(a.name, h('p', null, stateBadge(a.state), h('span', { class: 'muted', text: ` · downstream app · ${a.deprovision} when access ends` })),
    st.held ? h('p', { class: 'amber', role: 'status', text: `Holding deprovisions: ${st.pause_reason}. Check the change (a grant removed, an IdP deactivating many users); undo it, or allow them.` })
      : st.paused_until ? h('p', { class: 'amber', role: 'status', text: `Paused until ${st.paused_until}: the app asked scimd to slow down or keeps failing; jobs wait, none are lost.` }) : '',
    actions,
    h('dl', { class: 'props' },
      h('dt', { text: 'SCIM base URL' }), h('dd', { class: 'mono', text: a.scim_url }),
      h('dt', { text: 'Linked users' }), h('dd', { text: String(c.linked ?? 0) }),
      h('dt', { text: 'Pending' }), h('dd', { text: String(c.pending ?? 0) }),
      h('dt', { text: 'Failing' }), h('dd', { text: String(c.failing ?? 0) }),
      h('dt', { text: 'Dead letters' }), h('dd', { text: String(c.dead ?? 0) }),
      h('dt', { text: 'Last success' }), h('dd', null, when(st.last_success_at)),
      h('dt', { text: 'Last error' }), h('dd', { class: 'mono', text: st.last_error || '—' })),
    h('h2', { text: 'Failing changes' }),
    table('Failing changes', ['User or group', 'Attempts~', 'Last error', 'State~', 'Actions'], (st.failing_jobs || []).map((j) => [
      j.kind === 'user' ? h('a', { href: `#/users/${j.subject_id}/apps`, text: j.subject_id }) : h('code', { text: j.subject_id }),
      String(j.attempts), h('span', { class: 'mono', text: j.last_error || '' }),
      j.dead ? h('span', { class: 'badge off', text: 'dead letter' }) : h('time', { datetime: j.next_at, title: `next try ${j.next_at}`, text: 'retrying' }),
      canWrite && j.dead && j.kind === 'user' ? h('button', {
        type: 'button', text: 'Retry', 'aria-label': `Retry ${j.subject_id}`,
        onclick: async () => {
          await api('POST', `/apps/${a.id}/retry`, { user_id: j.subject_id });
          announce('Queued again');
          route();
        },
      }) : ''])),
    h('h2', { text: 'Grants' }),
    canWrite ? grantForm(a, groups) : '',
    table('Grants', ['Kind', 'Group or user', 'IdP~', 'Granted~', 'Actions'], grantRows),
    h('p', null, h('a', { href: '#/events', text: 'Event Log' }),
      h('span', { class: 'muted', text: ' lists every step of the app (app_user_provisioned, app_request_failed, …).' })));
}

/* A full reconciliation with a progress bar while the queue drains. */
async function resync(a, button) {
  button.disabled = true;
  const bar = h('progress', { max: '1', value: '0', 'aria-label': 'Resync progress' });
  const text = h('span', { role: 'status' });
  button.after(h('span', { class: 'progress' }, bar, ' ', text));
  try {
    const { queued } = await api('POST', `/apps/${a.id}/resync`, {});
    bar.max = Math.max(queued, 1);
    for (;;) {
      const st = await api('GET', `/apps/${a.id}/status`);
      const left = Math.min(st.counts.pending, queued);
      bar.value = queued - left;
      text.textContent = `${queued - left} of ${queued} users checked`;
      if (left === 0 || !button.isConnected) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    announce(`Resync done: ${queued} users checked`);
    if (button.isConnected) route();
  } catch (e) {
    text.replaceChildren(errorBox(e));
    button.disabled = false;
  }
}

/* Grant one of groups ([id, label]) to app a. */
function grantForm(a, groups) {
  const sel = h('select', null, groups.map(([v, t]) => h('option', { value: v, text: t })));
  const msg = h('div');
  const form = h('form', { class: 'card', 'aria-label': 'Grant a group' },
    h('div', { class: 'row' }, field('Group', sel), h('div', null, h('button', { type: 'submit', class: 'primary', text: 'Grant access', disabled: !groups.length }))), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', `/apps/${a.id}/grants`, { kind: 'group', subject_id: sel.value });
      announce('Group granted; its members are being provisioned');
      route();
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  return form;
}

/* ---- webhooks ---- */

async function viewWebhooks(params) {
  const tenant = await pageTenant(params);
  const r = await api('GET', `/webhooks${qs({ tenant, limit: '200' })}`);
  const rows = r.items.map((w) => [h('a', { href: `#/webhooks/${w.id}`, text: w.url || 'poll (RFC 8936)' }),
    `${w.format} · ${w.delivery}`, stateBadge(w.state), when(w.last_success_at), w.events || 'all']);
  const add = state.admin.role !== 'auditor'
    ? h('button', { type: 'button', class: 'primary', text: 'Add webhook', onclick: () => createWebhookModal(tenant) }) : '';
  page('Webhooks', await tenantSwitch(tenant, '#/webhooks'),
    h('p', { class: 'muted', text: 'Every change can be sent on as it happens: signed JSON (Standard Webhooks), or Security Event Tokens pushed (RFC 8935) or polled (RFC 8936).' }),
    h('div', { class: 'actions' }, add),
    table('Webhooks', ['Endpoint', 'Format~', 'State', 'Last success~', 'Events~'], rows));
}

function createWebhookModal(tenant) {
  modal('Add webhook', (close, dlg) => {
    const url = h('input', { type: 'url', class: 'mono', placeholder: 'https://hooks.example.com/scim' });
    const format = h('select', null, [['json', 'JSON, signed per Standard Webhooks'], ['set', 'Security Event Tokens (RFC 8935 push)'],
      ['poll', 'Security Event Tokens, polled (RFC 8936)']].map(([v, t]) => h('option', { value: v, text: t })));
    const events = h('input', { type: 'text', class: 'mono', placeholder: 'scim_user_*,scim_group_*' });
    const msg = h('div');
    const body = h('div');
    format.addEventListener('change', () => { url.disabled = format.value === 'poll'; });
    const form = h('form', null, field('Format', format), field('Endpoint URL', url),
      field('Events (empty: every event)', events), msg,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', text: 'Add' }),
        h('button', { type: 'button', text: 'Cancel', onclick: close })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const poll = format.value === 'poll';
      try {
        const w = await api('POST', '/webhooks', { tenant_id: tenant, format: poll ? 'set' : format.value, poll: poll || undefined,
          url: poll ? undefined : url.value.trim(), events: events.value.trim() || undefined });
        const secret = w.secret || w.poll_token;
        const shown = [];
        if (secret) {
          const out = h('input', { type: 'text', readonly: true, value: secret, class: 'mono' });
          shown.push(field(w.secret ? 'Signing secret' : 'Poll bearer token', out),
            h('div', { class: 'actions' }, copyButton(w.secret ? 'Copy signing secret' : 'Copy poll bearer token', out)));
        }
        if (w.poll_url) shown.push(h('p', null, 'Poll URL: ', h('code', { text: w.poll_url })));
        if (w.format === 'set') shown.push(h('p', null, 'Verify SETs with the keys at ', h('code', { text: `${location.origin}/.well-known/jwks.json` })));
        body.replaceChildren(h('div', { class: secret ? 'amber' : '', role: 'region', 'aria-label': 'New webhook' }, ...shown,
          secret ? h('p', null, h('strong', { text: 'Copy it now: it is shown only this once. ' }),
            w.secret ? 'scimd keeps it sealed with its key file; your receiver verifies webhook-signature with it.'
              : 'scimd keeps only its SHA-256 hash; your poller sends it as the bearer token.') : ''),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', text: 'Done', onclick: close })));
        dlg.onclosed = () => go(`#/webhooks/${w.id}`);
      } catch (e) { msg.replaceChildren(errorBox(e)); }
    });
    body.append(form);
    return body;
  });
}

async function viewWebhook(id) {
  const w = await api('GET', `/webhooks/${encodeURIComponent(id)}`);
  const canWrite = state.admin.role !== 'auditor';
  const actions = h('div', { class: 'actions' });
  if (canWrite) {
    actions.append(h('button', {
      type: 'button', text: w.state === 'enabled' ? 'Disable' : 'Enable',
      onclick: async () => {
        await api('PATCH', `/webhooks/${w.id}`, { state: w.state === 'enabled' ? 'disabled' : 'enabled' });
        announce(`Webhook ${w.state === 'enabled' ? 'disabled' : 'enabled'}`);
        route();
      },
    }));
    if (w.counts.dead) {
      actions.append(h('button', {
        type: 'button', class: 'primary', text: `Replay ${w.counts.dead} dead letters`,
        onclick: async () => {
          const r = await api('POST', `/webhooks/${w.id}/replay`, { dead: true });
          announce(`${r.queued} messages queued again`);
          route();
        },
      }));
    }
    actions.append(h('button', {
      type: 'button', class: 'danger', text: 'Delete',
      onclick: () => confirmModal('Delete this webhook?', 'Nothing more is sent to it; its queue and delivery log go with it.',
        'Delete webhook', () => api('DELETE', `/webhooks/${w.id}`), () => go('#/webhooks')),
    }));
  }
  const log = w.deliveries.map((d) => [when(d.at), h('code', { text: d.event }), String(d.attempt), String(d.status || '—'),
    d.outcome, `${d.latency_ms} ms`, d.error || '']);
  const dead = w.dead_letters.map((d) => [h('code', { text: d.event }), String(d.attempts), String(d.last_status || '—'), d.last_error || '']);
  page(w.url || 'Polled webhook', h('p', null, stateBadge(w.state), h('span', { class: 'muted', text: ` · ${w.format} · ${w.delivery}${w.disabled_reason ? ` · ${w.disabled_reason}` : ''}` })),
    w.paused_until ? h('p', { class: 'amber', role: 'status', text: `Paused until ${w.paused_until}: the receiver asked scimd to wait; nothing is lost.` }) : '',
    actions,
    h('dl', { class: 'props' },
      h('dt', { text: 'Events' }), h('dd', { class: 'mono', text: w.events || 'all' }),
      h('dt', { text: 'Pending' }), h('dd', { text: String(w.counts.pending) }),
      h('dt', { text: 'Dead letters' }), h('dd', { text: String(w.counts.dead) }),
      h('dt', { text: 'Last success' }), h('dd', null, when(w.last_success_at)),
      h('dt', { text: 'Last error' }), h('dd', { class: 'mono', text: w.last_error || '—' }),
      h('dt', { text: 'Failing since' }), h('dd', null, w.failing_since ? when(w.failing_since) : '—')),
    h('h2', { text: 'Delivery log' }),
    table('Delivery log', ['At', 'Event~', 'Attempt', 'HTTP', 'Outcome', 'Latency~', 'Error~'], log),
    h('h2', { text: 'Dead letters' }),
    table('Dead letters', ['Event', 'Attempts', 'Last HTTP', 'Last error~'], dead));
}

/* ---- the event log ---- */

/* An ISO time as a datetime-local value (the browser's zone), and back. */
const localInput = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const isoOf = (local) => (local ? new Date(local).toISOString() : '');

async function viewEvents(params) {
  const idps = (await api('GET', '/idps?limit=200')).items;
  const idp = h('select', null, h('option', { value: '', text: 'All' }),
    idps.map((i) => h('option', { value: i.id, selected: i.id === params.get('idp'), text: i.name })));
  const type = h('input', { type: 'text', value: params.get('type') || '', placeholder: 'scim_user_received', list: 'event-types' });
  const types = h('datalist', { id: 'event-types' }, ['scim_user_received', 'scim_group_received', 'scim_user_created',
    'scim_user_updated', 'scim_user_deactivated', 'scim_auth_failed', 'token_created', 'token_revoked', 'admin_login',
    'app_user_provisioned', 'app_user_deprovisioned', 'app_request_failed', 'app_dead_letter']
    .map((x) => h('option', { value: x })));
  const subject = h('input', { type: 'text', value: params.get('subject') || '', class: 'mono' });
  const since = h('input', { type: 'datetime-local', value: params.get('since') ? localInput(params.get('since')) : '' });
  const until = h('input', { type: 'datetime-local', value: params.get('until') ? localInput(params.get('until')) : '' });
  const form = h('form', { class: 'card', role: 'search', 'aria-label': 'Filter events' },
    h('div', { class: 'row' }, field('IdP', idp), field('Type', type), types, field('User or group ID', subject),
      field('From', since), field('Until', until),
      h('div', null, h('button', { type: 'submit', text: 'Apply' }))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go(`#/events${qs({ idp: idp.value, type: type.value.trim(), subject: subject.value.trim(), since: isoOf(since.value), until: isoOf(until.value) })}`);
  });
  const f = { idp: params.get('idp'), type: params.get('type'), subject: params.get('subject'),
    since: params.get('since'), until: params.get('until') };
  const r = await api('GET', `/events${qs({ ...f, cursor: params.get('cursor'), limit: '50' })}`);
  const nav = h('div', { class: 'actions' });
  if (r.next_cursor) nav.append(h('a', { href: `#/events${qs({ ...f, cursor: r.next_cursor })}`, text: 'Older events' }));
  const list = h('section', { 'aria-label': 'Events' }, eventList(r.items));
  const live = h('span', { role: 'status', class: 'muted' });
  const tail = h('input', { type: 'checkbox' });
  tail.addEventListener('change', () => (tail.checked ? startTail(f, list, live) : stopTail(live)));
  page('Event Log', h('p', { class: 'muted', text: 'Newest first. Open an event to see its details.' }), form,
    h('div', { class: 'actions' }, h('label', { class: 'check' }, tail, ' Live tail: new events appear as they happen'), live),
    list, nav);
}

/* The live tail: the admin API's event stream (Server-Sent Events), new events
 * on top; the browser reconnects with Last-Event-ID by itself. */
function startTail(f, list, live) {
  stopTail(live);
  let n = 0;
  const src = new EventSource(`${API}/events/stream${qs({ idp: f.idp, type: f.type, subject: f.subject })}`);
  src.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (!list.querySelector('details')) list.replaceChildren(h('div'));
    list.firstChild.prepend(eventItem(e));
    live.textContent = `${++n} new`;
  };
  src.onerror = () => { live.textContent = n ? `${n} new; reconnecting…` : 'reconnecting…'; };
  src.onopen = () => { live.textContent = n ? `${n} new` : 'listening'; };
  state.tail = src;
}

function stopTail(live) {
  if (state.tail) state.tail.close();
  state.tail = null;
  if (live) live.textContent = '';
}

/* ---- tenants ---- */

async function viewTenants() {
  state.tenants = null;
  const list = await tenants();
  page('Tenants', table('Tenants', ['Name', 'Subdomain', 'ID~', 'Created~'],
    list.map((t) => [t.name, t.subdomain, h('code', { text: t.id }), when(t.created_at)])));
}

/* ---- routing ---- */

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  stopTail();
  if (location.pathname.endsWith('/setup')) {
    const token = location.hash.slice(1);
    history.replaceState(null, '', '/admin/setup');
    if (token) viewSetup(token);
    else if (!main.querySelector('form')) main.replaceChildren(errorBox('This setup link has no token.'));
    return;
  }
  const [path, query] = (location.hash.slice(1) || '/idps').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(query || '');
  if (parts[0] === 'signin') { viewSignIn(); return; }
  if (!state.admin) {
    try {
      const s = await api('GET', '/session');
      signedIn(s.admin);
    } catch { return; }
  }
  try {
    if (parts[0] === 'idps' && parts[1]) await viewIdp(parts[1], parts[2] || 'overview', params);
    else if (parts[0] === 'groups' && parts[2]) await viewGroup(parts[1], parts[2], params);
    else if (parts[0] === 'users' && parts[1]) await viewUser(parts[1], parts[2] || 'profile');
    else if (parts[0] === 'users') await viewUsers(params);
    else if (parts[0] === 'events') await viewEvents(params);
    else if (parts[0] === 'attributes') await viewAttributes(params);
    else if (parts[0] === 'apps' && parts[1]) await viewApp(parts[1]);
    else if (parts[0] === 'apps') await viewApps(params);
    else if (parts[0] === 'webhooks' && parts[1]) await viewWebhook(parts[1]);
    else if (parts[0] === 'webhooks') await viewWebhooks(params);
    else if (parts[0] === 'tenants') await viewTenants();
    else await viewIdps();
    const tab = main.querySelector('[role="tab"][aria-selected="true"]');
    if (tab && state.focusTab) tab.focus();
    else main.focus();
    state.focusTab = false;
  } catch (e) {
    if (e.status !== 401) page('Something went wrong', errorBox(e));
  }
}

window.addEventListener('hashchange', route);
route();
