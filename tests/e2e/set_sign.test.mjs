// SCIM Security Event Tokens (RFC 8417, RFC 9967 profile) made by scimd's C
// code (src/events/set.c, signing_keys.c) verified by third-party code: npm
// `jose` checks every RS256 signature against the JWKS scimd produced, the
// header (typ secevent+jwt, alg, kid = RFC 7638 thumbprint) and the claims.
// The SETs come from tests/unit/events/set_test.c (test `artifacts`): one
// signed by a retiring 3072-bit key, the rest by the current 2048-bit key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { produceArtifacts } from './lib/events_artifacts.mjs';

const require = createRequire(new URL('../fixtures/downstream/package.json', import.meta.url));
const { createLocalJWKSet, jwtVerify, calculateJwkThumbprint, decodeProtectedHeader } = require('jose');

const read = produceArtifacts('set_test', 'set/artifacts');
const jwks = JSON.parse(read('jwks.json'));
const { iss, aud, sets } = JSON.parse(read('sets.json'));

const PROV = 'urn:ietf:params:scim:event:prov:';
const EXPECTED = {
  'scim_user_created POST': `${PROV}create:notice`,
  'scim_user_updated PATCH': `${PROV}patch:notice`,
  'scim_user_updated PUT': `${PROV}put:notice`,
  'scim_user_deactivated PATCH': `${PROV}deactivate`,
  'scim_user_reactivated PATCH': `${PROV}activate`,
  'scim_user_deleted DELETE': `${PROV}delete`,
  'scim_group_members_changed PATCH': `${PROV}patch:notice`,
};

test('the JWKS holds two public RS256 signing keys whose kid is the RFC 7638 thumbprint', async () => {
  assert.equal(jwks.keys.length, 2);
  for (const jwk of jwks.keys) {
    assert.equal(jwk.kty, 'RSA');
    assert.equal(jwk.alg, 'RS256');
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.d, undefined, 'no private part is published');
    assert.equal(jwk.kid, await calculateJwkThumbprint(jwk, 'sha256'));
  }
  assert.notEqual(jwks.keys[0].kid, jwks.keys[1].kid);
});

test('jose verifies every SET against the JWKS, typed secevent+jwt, with the RFC 9967 claims', async () => {
  const keySet = createLocalJWKSet(jwks);
  assert.equal(sets.length, Object.keys(EXPECTED).length);
  const jtis = new Set();
  for (const s of sets) {
    const { payload, protectedHeader } = await jwtVerify(s.set, keySet, {
      issuer: iss, audience: aud, typ: 'secevent+jwt', algorithms: ['RS256'],
    });
    assert.equal(protectedHeader.kid, s.kid);
    const uri = EXPECTED[`${s.type} ${s.method}`];
    assert.equal(s.uri, uri, `${s.type} ${s.method}`);
    assert.deepEqual(Object.keys(payload.events), [uri]);
    assert.equal(payload.txn, s.txn, 'txn is the scimd event id');
    assert.ok(Number.isInteger(payload.iat));
    assert.ok(!jtis.has(payload.jti), 'jti is unique');
    jtis.add(payload.jti);
    const endpoint = s.type.startsWith('scim_group_') ? 'Groups' : 'Users';
    assert.equal(payload.sub_id.format, 'scim');
    assert.equal(payload.sub_id.uri, `/${endpoint}/2819c223-7f76-453a-919d-413861904646`);
    if (uri.endsWith(':notice')) {
      assert.ok(Array.isArray(payload.events[uri].attributes), `${uri} names changed attributes`);
    } else {
      assert.deepEqual(payload.events[uri], {}, `${uri} carries no payload`);
    }
  }
  const created = sets.find((s) => s.type === 'scim_user_created');
  const { payload } = await jwtVerify(created.set, keySet);
  assert.equal(payload.sub_id.externalId, 'bjensen');
  assert.deepEqual(payload.events[`${PROV}create:notice`].attributes, ['userName', 'emails']);
});

test('jose refuses a SET whose claims were altered, or whose key is not in the JWKS', async () => {
  const keySet = createLocalJWKSet(jwks);
  const [h, p, sig] = sets[1].set.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  claims.events = { [`${PROV}delete`]: {} };
  const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
  await assert.rejects(jwtVerify(forged, keySet), /signature verification failed/);
  const kid = decodeProtectedHeader(sets[1].set).kid;
  const others = createLocalJWKSet({ keys: jwks.keys.filter((k) => k.kid !== kid) });
  await assert.rejects(jwtVerify(sets[1].set, others), /no applicable key/i);
});
