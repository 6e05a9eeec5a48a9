// SPDX-License-Identifier: Apache-2.0
// userName matching beyond ASCII (issue #9 item 4): userNames compare by Unicode
// NFC plus full case folding, for uniqueness, `userName eq` filters and lookups,
// while the value a client sent is returned exactly as sent.  Runs on SQLite and,
// under `make test`, on PostgreSQL.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, filterPath, uniq, assertList, assertStatus, assertScimError, CORE_USER,
} from './lib/harness.mjs';

describe('Unicode userNames', { timeout: 120_000 }, () => {
  let env;
  let scim;

  before(async () => {
    env = await setup({ vendor: 'okta' });
    scim = env.scim;
  });
  after(async () => { if (env) await env.cleanup(); });

  const user = (userName, externalId) => ({
    schemas: [CORE_USER], userName, externalId, active: true,
    emails: [{ value: `${uniq('m')}@mail.test`, type: 'work', primary: true }],
  });

  test('ÄRGER and ärger are one userName: lookup matches, a second POST is 409 uniqueness', async () => {
    const n = uniq('u');
    const upper = `ÄRGER-${n.toUpperCase()}@EXAMPLE.COM`;
    const created = await scim('POST', 'Users', { body: user(upper, `x-${n}-1`) });
    assertStatus(created, 201, 'create');
    assert.equal(created.body.userName, upper, 'the value stays exactly as sent');

    const found = await scim('GET', filterPath(`userName eq "ärger-${n}@example.com"`));
    assertList(found, 'filter');
    assert.equal(found.body.totalResults, 1);
    assert.equal(found.body.Resources[0].id, created.body.id);
    assert.equal(found.body.Resources[0].userName, upper);

    const dup = await scim('POST', 'Users', { body: user(`ärger-${n}@example.com`, `x-${n}-2`) });
    assertScimError(dup, 409, 'uniqueness', 'lowercase non-ASCII spelling');
  });

  test('NFC and NFD spellings of one name are one userName', async () => {
    const n = uniq('u');
    const nfc = `jos\u00e9-${n}@example.com`;
    const nfd = `jose\u0301-${n}@example.com`;
    assert.notEqual(nfc, nfd);
    const created = await scim('POST', 'Users', { body: user(nfc, `n-${n}-1`) });
    assertStatus(created, 201, 'create NFC');

    const dup = await scim('POST', 'Users', { body: user(nfd, `n-${n}-2`) });
    assertScimError(dup, 409, 'uniqueness', 'NFD spelling');

    const found = await scim('GET', filterPath(`userName eq "${nfd.toUpperCase()}"`));
    assertList(found, 'filter by NFD, upper case');
    assert.equal(found.body.totalResults, 1);
    assert.equal(found.body.Resources[0].userName, nfc, 'returned as first sent (NFC)');
  });

  test('ß folds to ss; distinct names stay distinct', async () => {
    const n = uniq('u');
    const created = await scim('POST', 'Users', { body: user(`straße-${n}@example.com`, `s-${n}-1`) });
    assertStatus(created, 201, 'create');
    const found = await scim('GET', filterPath(`userName eq "STRASSE-${n}@EXAMPLE.COM"`));
    assertList(found, 'filter');
    assert.equal(found.body.totalResults, 1);

    const other = await scim('POST', 'Users', { body: user(`strase-${n}@example.com`, `s-${n}-2`) });
    assertStatus(other, 201, 'a different name is a different user');
  });
});
