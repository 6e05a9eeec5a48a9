/*
 * signing_store.h - the SET signing key every node of a deployment shares,
 * kept sealed in the store's `settings` table.
 *
 * signing_store_claim makes a fresh key, seals it and offers it under a
 * setting name; the first value ever stored under that name wins (on a fresh
 * database racing nodes all end up with the same key) and is opened and
 * returned.  Rotation stores the next key under the next name (e.g.
 * "events_signing_key.2") and publishes both in the JWKS until the old one
 * has signed its last undelivered SET.
 *
 * Does not: keep the key (the caller owns *out), or log key material.
 * Thread safety: as store transactions (one call, one transaction).
 */
#ifndef SCIMD_EVENTS_SIGNING_STORE_H
#define SCIMD_EVENTS_SIGNING_STORE_H

#include "core/secretbox.h"
#include "core/status.h"
#include "events/signing_keys.h"
#include "store/store.h"

#define SIGNING_STORE_SETTING    "events_signing_key.1" /* the first key's setting name */
#define SIGNING_STORE_SEALED_MAX 8192                   /* sealed 4096-bit PEM fits */

/*
 * The key stored under setting (creating a `bits` key when there is none),
 * opened with box into *out (caller frees with signing_key_free).
 * ERR_FORBIDDEN when the stored key does not open with this key file; store
 * errors as the store reports them.
 */
enum status signing_store_claim(struct store *store, const struct secretbox *box,
                                const char *setting, int bits, struct signing_key **out,
                                struct scim_error *err);

#endif
