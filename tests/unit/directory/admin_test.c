/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin_test.c - tests for the token and connection parts of
 * src/directory/admin.c and the verdict of src/directory/auth_audit.c
 * against a real SQLite store: expiry, rotation with an overlap, the kill
 * switch and the IP allowlist as directory_authenticate applies them, and
 * the address recorded with a token's last use.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "directory/auth_audit.h"

#include "../../support/scratch_directory.h"

static struct scratch_directory scratch;
static struct directory *dir = &scratch.dir;
static const struct actor by = { "test", NULL };

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_directory_open(&scratch, "/tmp", &err), OK, "%s", err.detail);
}

static void teardown(void)
{
    scratch_directory_close(&scratch);
}

TestSuite(admin, .init = setup, .fini = teardown);

/* Authenticate plaintext on the scratch connection from source: the status, detail in err. */
static enum status auth(const char *plaintext, const char *source, struct scim_error *err)
{
    char header[CRYPTO_TOKEN_LEN + 16];
    snprintf(header, sizeof(header), "Bearer %s", plaintext);
    struct scim_conn conn;
    enum status rc =
        directory_authenticate(dir, scratch.conn.idp_id, header, source, false, &conn, err);
    if (rc == OK)
        directory_conn_release(&conn);
    return rc;
}

static struct store_token token_get(const char *id)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(scratch.files.store, false, &tx), OK);
    struct store_token t;
    cr_assert_eq(store_token_get(tx, id, &t), OK);
    store_rollback(tx);
    return t;
}

Test(admin, verdict_orders_the_reasons)
{
    struct store_token t = { .idp_id = "i1" };
    struct scim_error err = { 0 };
    const char *now = "2030-01-01T00:00:00.000Z";
    cr_assert_eq(directory_token_verdict(&t, "i1", "10.0.0.1", now, &err), OK);
    cr_assert_eq(directory_token_verdict(&t, "i2", "10.0.0.1", now, &err), ERR_UNAUTHORIZED);
    str_copy(t.expires_at, sizeof(t.expires_at), "2030-01-01T00:00:00.000Z");
    cr_assert_eq(directory_token_verdict(&t, "i1", "10.0.0.1", now, &err), ERR_UNAUTHORIZED,
                 "expired at the very instant");
    cr_assert_str_eq(err.detail, "token expired");
    str_copy(t.expires_at, sizeof(t.expires_at), "2030-01-01T00:00:00.001Z");
    cr_assert_eq(directory_token_verdict(&t, "i1", "10.0.0.1", now, &err), OK);
    str_copy(t.idp_access.allowlist, sizeof(t.idp_access.allowlist), "192.0.2.0/24");
    cr_assert_eq(directory_token_verdict(&t, "i1", "10.0.0.1", now, &err), ERR_FORBIDDEN);
    cr_assert(strstr(err.detail, "10.0.0.1") != NULL, "%s", err.detail);
    cr_assert_eq(directory_token_verdict(&t, "i1", "192.0.2.9", now, &err), OK);
    cr_assert_eq(directory_token_verdict(&t, "i1", NULL, now, &err), ERR_FORBIDDEN,
                 "an unknown address is not in any list");
    str_copy(t.idp_access.disabled_at, sizeof(t.idp_access.disabled_at), now);
    cr_assert_eq(directory_token_verdict(&t, "i1", "192.0.2.9", now, &err), ERR_FORBIDDEN);
    cr_assert_str_eq(err.detail, "this connection is disabled");
    str_copy(t.revoked_at, sizeof(t.revoked_at), now);
    cr_assert_eq(directory_token_verdict(&t, "i1", "192.0.2.9", now, &err), ERR_UNAUTHORIZED,
                 "a revoked token learns nothing about the connection");
}

Test(admin, expiring_tokens_and_rotation_with_an_overlap)
{
    struct store_token a, b;
    char pa[CRYPTO_TOKEN_LEN], pb[CRYPTO_TOKEN_LEN];
    struct scim_error err = { 0 };
    cr_assert_eq(directory_token_create_expiring(dir, scratch.conn.idp_id, "Okta", 90 * 86400, &by,
                                                 &a, pa, &err),
                 OK, "%s", err.detail);
    cr_assert_gt(clock_iso_diff_s(a.created_at, a.expires_at), 90 * 86400 - 2);
    cr_assert_eq(auth(pa, "10.0.0.1", &err), OK, "%s", err.detail);
    struct store_token seen = token_get(a.id);
    cr_assert_str_eq(seen.last_used_from, "10.0.0.1");
    cr_assert_neq(seen.last_used_at[0], '\0');

    cr_assert_eq(directory_token_rotate(dir, a.id, 3600, -1, &by, &b, pb, &err), OK, "%s",
                 err.detail);
    cr_assert_str_eq(b.name, "Okta (rotated)");
    cr_assert_str_eq(b.idp_id, a.idp_id);
    cr_assert_gt(clock_iso_diff_s(b.created_at, b.expires_at), 90 * 86400 - 2,
                 "the successor keeps the lifetime");
    seen = token_get(a.id);
    int64_t left = clock_iso_diff_s(b.created_at, seen.expires_at);
    cr_assert(left > 3590 && left <= 3600, "the old one ends with the overlap: %lld",
              (long long)left);
    cr_assert_eq(auth(pa, "10.0.0.1", &err), OK, "the old token works during the overlap");
    cr_assert_eq(auth(pb, "10.0.0.1", &err), OK);

    struct store_token c;
    char pc[CRYPTO_TOKEN_LEN];
    cr_assert_eq(directory_token_rotate(dir, b.id, 0, 0, &by, &c, pc, &err), OK, "%s", err.detail);
    cr_assert_str_eq(c.name, "Okta (rotated)", "marked once");
    cr_assert_str_eq(c.expires_at, "", "0: the successor never expires");
    cr_assert_eq(auth(pb, "10.0.0.1", &err), ERR_UNAUTHORIZED, "overlap 0: refused at once");
    cr_assert_str_eq(err.detail, "token expired");
    cr_assert_eq(directory_token_rotate(dir, b.id, 60, -1, &by, &c, pc, &err), ERR_CONFLICT,
                 "an expired token is not rotated");
    cr_assert_eq(directory_token_rotate(dir, "nope", 60, -1, &by, &c, pc, &err), ERR_NOT_FOUND);
}

Test(admin, kill_switch_and_allowlist_hold_from_the_next_request)
{
    struct store_token a;
    char pa[CRYPTO_TOKEN_LEN];
    struct scim_error err = { 0 };
    cr_assert_eq(directory_token_create(dir, scratch.conn.idp_id, "a", &by, &a, pa, &err), OK);
    bool changed;
    cr_assert_eq(
        directory_idp_set_disabled(dir, scratch.conn.idp_id, true, &by, NULL, &changed, &err), OK);
    cr_assert(changed);
    cr_assert_eq(auth(pa, "127.0.0.1", &err), ERR_FORBIDDEN);
    cr_assert_str_eq(err.detail, "this connection is disabled");
    cr_assert_eq(
        directory_bearer_check(dir, scratch.conn.idp_id, pa, strlen(pa), "127.0.0.1", &err),
        ERR_FORBIDDEN, "the quiet check agrees");
    cr_assert_eq(
        directory_idp_set_disabled(dir, scratch.conn.idp_id, true, &by, NULL, &changed, &err), OK);
    cr_assert(!changed);
    cr_assert_eq(
        directory_idp_set_disabled(dir, scratch.conn.idp_id, false, &by, NULL, &changed, &err), OK);
    cr_assert_eq(auth(pa, "127.0.0.1", &err), OK);

    char list[STORE_ALLOWLIST_MAX];
    cr_assert_eq(
        directory_idp_set_allowlist(dir, scratch.conn.idp_id, "10.0.0.0/8", &by, list, &err), OK);
    cr_assert_eq(auth(pa, "127.0.0.1", &err), ERR_FORBIDDEN);
    cr_assert_eq(auth(pa, "::ffff:10.9.9.9", &err), OK, "IPv4-mapped source");
    cr_assert_eq(
        directory_idp_set_allowlist(dir, scratch.conn.idp_id, "10.0.0.1/8", &by, list, &err),
        ERR_INVALID_VALUE);
    cr_assert_eq(directory_idp_set_allowlist(dir, scratch.conn.idp_id, NULL, &by, list, &err), OK);
    cr_assert_eq(auth(pa, "127.0.0.1", &err), OK);
    cr_assert_eq(directory_idp_set_allowlist(dir, "nope", NULL, &by, list, &err), ERR_NOT_FOUND);
    cr_assert_eq(directory_idp_set_disabled(dir, "nope", true, &by, NULL, &changed, &err),
                 ERR_NOT_FOUND);
}
