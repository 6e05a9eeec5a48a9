/* SPDX-License-Identifier: Apache-2.0 */
/*
 * locks.c - this file contains the lock keys of SCIM resources: a kind, the
 * tenant (and connection where a value is only unique per connection) and
 * the value, separated by a byte no value holds.  Several keys are taken in
 * one order (sorted) so that two writers never wait for each other in a ring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory/locks.h"

#include "core/str.h"

#define LOCK_KEY_MAX 1024 /* longer values are cut: a shared prefix only serialises more */
#define SEP          "\x1f"

static void key_of(char out[LOCK_KEY_MAX], const char *kind, const struct scim_conn *conn,
                   bool per_idp, const char *value, bool fold_case)
{
    int n = snprintf(out, LOCK_KEY_MAX, "%s" SEP "%s" SEP "%s" SEP, kind, conn->tenant_id,
                     per_idp ? conn->idp_id : "");
    if (n < 0 || n >= LOCK_KEY_MAX)
        return;
    str_copy(out + n, (size_t)(LOCK_KEY_MAX - n), value);
    if (fold_case) {
        for (char *p = out + n; *p; p++) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        }
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Lock keys[0..n) in sorted order. */
static enum status lock_all(struct store_tx *tx, char (*keys)[LOCK_KEY_MAX], size_t n)
{
    qsort(keys, n, LOCK_KEY_MAX, key_cmp);
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i < n; i++) {
        if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
            rc = store_lock(tx, keys[i]);
    }
    return rc;
}

enum status lock_user(struct store_tx *tx, const struct scim_conn *conn, const char *user_id)
{
    char key[1][LOCK_KEY_MAX];
    key_of(key[0], "user", conn, false, user_id, false);
    return lock_all(tx, key, 1);
}

enum status lock_user_identity(struct store_tx *tx, const struct scim_conn *conn,
                               const char *external_id, const char *email, const char *user_name)
{
    char keys[3][LOCK_KEY_MAX];
    size_t n = 0;
    if (external_id != NULL)
        key_of(keys[n++], "user-external-id", conn, true, external_id, false);
    /* adoption matches email or userName against both columns of the tenant's users */
    if (email != NULL)
        key_of(keys[n++], "user-identity", conn, false, email, true);
    if (user_name != NULL)
        key_of(keys[n++], "user-identity", conn, false, user_name, true);
    return lock_all(tx, keys, n);
}

enum status lock_group(struct store_tx *tx, const struct scim_conn *conn, const char *group_id)
{
    char key[1][LOCK_KEY_MAX];
    key_of(key[0], "group", conn, true, group_id, false);
    return lock_all(tx, key, 1);
}
