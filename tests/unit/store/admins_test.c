/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admins_test.c - unit tests for src/store/rec_admins.c on SQLite:
 * administrator accounts (emails unique under Unicode case folding),
 * setup links, sessions, API keys and the sign-in throttle.  Each test opens
 * a fresh database file in its own temporary directory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "store/store.h"

#include "../../support/scratch_store.h"

static struct scratch_store scratch;
static struct store *store;

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_store_open(&scratch, "/tmp", &err), OK, "open: %s", err.detail);
    store = scratch.store;
}

static void teardown(void)
{
    scratch_store_close(&scratch);
    store = NULL;
}

TestSuite(admins, .init = setup, .fini = teardown);

static struct store_tx *begin(void)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, true, &tx), OK);
    return tx;
}

static struct store_admin admin(const char *id, const char *email)
{
    struct store_admin a = { 0 };
    str_copy(a.id, sizeof(a.id), id);
    str_copy(a.email, sizeof(a.email), email);
    str_copy(a.role, sizeof(a.role), "super");
    str_copy(a.setup_hash, sizeof(a.setup_hash), "feed");
    str_copy(a.setup_expires_at, sizeof(a.setup_expires_at), "2030-01-01T00:00:00.000Z");
    return a;
}

Test(admins, email_is_unique_and_found_under_unicode_case_folding)
{
    struct store_tx *tx = begin();
    struct store_admin a = admin("a1", "Ärger@Example.test"), b = admin("a2", "äRGER@example.TEST");
    cr_assert_eq(store_admin_insert(tx, &a), OK);
    cr_assert_eq(store_admin_insert(tx, &b), ERR_UNIQUENESS);
    struct store_admin out;
    cr_assert_eq(store_admin_by_email(tx, "ärger@EXAMPLE.test", &out), OK);
    cr_assert_str_eq(out.id, "a1");
    cr_assert_str_eq(out.email, "Ärger@Example.test", "kept as given");
    cr_assert_str_eq(out.tenant_id, "");
    cr_assert_eq(store_admin_by_email(tx, "other@example.test", &out), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}

Test(admins, setting_the_password_clears_the_setup_link)
{
    struct store_tx *tx = begin();
    struct store_admin a = admin("a1", "a@example.test"), out;
    cr_assert_eq(store_admin_insert(tx, &a), OK);
    cr_assert_eq(store_admin_by_setup(tx, "feed", &out), OK);
    cr_assert_eq(store_admin_set_password(tx, "a1", "$argon2id$x"), OK);
    cr_assert_eq(store_admin_by_setup(tx, "feed", &out), ERR_NOT_FOUND);
    cr_assert_eq(store_admin_get(tx, "a1", &out), OK);
    cr_assert_str_eq(out.password_hash, "$argon2id$x");
    cr_assert_str_eq(out.setup_expires_at, "");
    cr_assert_eq(store_admin_set_password(tx, "nobody", "x"), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}

Test(admins, sessions_touch_forward_and_end_once)
{
    struct store_tx *tx = begin();
    struct store_admin a = admin("a1", "a@example.test");
    cr_assert_eq(store_admin_insert(tx, &a), OK);
    struct store_admin_session s = { 0 }, out;
    str_copy(s.id_hash, sizeof(s.id_hash), "h1");
    str_copy(s.admin_id, sizeof(s.admin_id), "a1");
    str_copy(s.csrf_hash, sizeof(s.csrf_hash), "c1");
    str_copy(s.created_at, sizeof(s.created_at), "2026-01-01T00:00:00.000Z");
    str_copy(s.last_seen_at, sizeof(s.last_seen_at), "2026-01-01T00:00:00.000Z");
    str_copy(s.expires_at, sizeof(s.expires_at), "2026-01-01T12:00:00.000Z");
    cr_assert_eq(store_admin_session_insert(tx, &s), OK);
    cr_assert_eq(store_admin_session_touch(tx, "h1", "2026-01-01T00:10:00.000Z"), OK);
    cr_assert_eq(store_admin_session_touch(tx, "h1", "2026-01-01T00:05:00.000Z"), OK);
    cr_assert_eq(store_admin_session_get(tx, "h1", &out), OK);
    cr_assert_str_eq(out.last_seen_at, "2026-01-01T00:10:00.000Z", "never backwards");
    cr_assert_str_eq(out.ended_at, "");
    cr_assert_eq(store_admin_session_end(tx, "h1", "2026-01-01T00:11:00.000Z"), OK);
    cr_assert_eq(store_admin_session_end(tx, "h1", "2026-01-01T00:12:00.000Z"), ERR_NOT_FOUND);
    cr_assert_eq(store_admin_session_get(tx, "h1", &out), OK);
    cr_assert_str_eq(out.ended_at, "2026-01-01T00:11:00.000Z");
    cr_assert_eq(store_admin_session_touch(tx, "nope", "2026-01-01T00:10:00.000Z"), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}

Test(admins, keys_by_hash)
{
    struct store_tx *tx = begin();
    struct store_admin a = admin("a1", "a@example.test");
    cr_assert_eq(store_admin_insert(tx, &a), OK);
    struct store_admin_key k = { 0 }, out;
    str_copy(k.id, sizeof(k.id), "k1");
    str_copy(k.admin_id, sizeof(k.admin_id), "a1");
    str_copy(k.name, sizeof(k.name), "ci");
    str_copy(k.prefix, sizeof(k.prefix), "scimd_admin_abc");
    str_copy(k.hash, sizeof(k.hash), "kh");
    cr_assert_eq(store_admin_key_insert(tx, &k), OK);
    cr_assert_eq(store_admin_key_insert(tx, &k), ERR_UNIQUENESS);
    cr_assert_eq(store_admin_key_touch(tx, "k1", "2026-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_admin_key_by_hash(tx, "kh", &out), OK);
    cr_assert_str_eq(out.admin_id, "a1");
    cr_assert_str_eq(out.last_used_at, "2026-01-01T00:00:00.000Z");
    cr_assert_str_eq(out.revoked_at, "");
    cr_assert_eq(store_admin_key_by_hash(tx, "other", &out), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}

Test(admins, throttle_records_are_replaced_and_cleared)
{
    struct store_tx *tx = begin();
    struct store_throttle t = { .failures = 1 }, out;
    str_copy(t.window_start, sizeof(t.window_start), "2026-01-01T00:00:00.000Z");
    cr_assert_eq(store_throttle_get(tx, "email:a", &out), ERR_NOT_FOUND);
    cr_assert_eq(store_throttle_put(tx, "email:a", &t), OK);
    t.failures = 5;
    str_copy(t.locked_until, sizeof(t.locked_until), "2026-01-01T00:15:00.000Z");
    cr_assert_eq(store_throttle_put(tx, "email:a", &t), OK);
    cr_assert_eq(store_throttle_get(tx, "email:a", &out), OK);
    cr_assert_eq(out.failures, 5);
    cr_assert_str_eq(out.locked_until, "2026-01-01T00:15:00.000Z");
    cr_assert_eq(store_throttle_clear(tx, "email:a"), OK);
    cr_assert_eq(store_throttle_get(tx, "email:a", &out), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}
