// Standard Webhooks signatures made by scimd's C code (src/events/webhook_sign.c)
// verified by third-party code: the npm `standardwebhooks` package.  The signed
// message comes from tests/unit/events/webhook_sign_test.c (test `artifacts`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { produceArtifacts } from './lib/events_artifacts.mjs';

const require = createRequire(new URL('../fixtures/downstream/package.json', import.meta.url));
const { Webhook } = require('standardwebhooks');

const read = produceArtifacts('webhook_sign_test', 'webhook_sign/artifacts');
const msg = JSON.parse(read('webhook.json'));

test('standardwebhooks verifies the message with the new secret and with the old one', () => {
  assert.match(msg.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  for (const secret of [msg.secret, msg.old_secret]) {
    const payload = new Webhook(secret).verify(msg.body, msg.headers);
    assert.equal(payload.type, 'scim_user_created');
    assert.equal(payload.id, msg.headers['webhook-id'], 'the event id is the webhook-id');
    assert.equal(payload.subject, 'u-1');
    assert.equal(payload.data.name, 'Bär', 'the UTF-8 body is signed byte for byte');
  }
  assert.equal(msg.headers['webhook-signature'].split(' ').length, 2);
});

test('standardwebhooks refuses the message once anything signed changes', () => {
  const wh = new Webhook(msg.secret);
  const tampered = [
    [msg.body.replace('bjensen', 'mallory'), msg.headers],
    [msg.body, { ...msg.headers, 'webhook-id': 'another-id' }],
    [msg.body, { ...msg.headers, 'webhook-timestamp': String(Number(msg.headers['webhook-timestamp']) - 1) }],
  ];
  for (const [body, headers] of tampered)
    assert.throws(() => wh.verify(body, headers), /signature/i);
  const other = new Webhook('whsec_' + Buffer.alloc(32, 7).toString('base64'));
  assert.throws(() => other.verify(msg.body, msg.headers), /signature/i);
});
