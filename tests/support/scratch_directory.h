/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scratch_directory.h - a directory on a throwaway SQLite file, for unit
 * tests and fuzzers that run requests through src/directory/ with a real
 * store: one tenant, one IdP connection and a token authenticated into a
 * struct scim_conn.  scratch_directory_close removes the files.
 *
 * Header-only (static functions) so that both the unit-test and the fuzzer
 * builds can use it without a library of their own.  One scratch directory
 * belongs to one thread.
 */
#ifndef SCIMD_TESTS_SUPPORT_SCRATCH_DIRECTORY_H
#define SCIMD_TESTS_SUPPORT_SCRATCH_DIRECTORY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "directory/directory.h"
#include "scratch_store.h"

struct scratch_directory {
    struct scratch_store files;
    struct directory dir;
    struct scim_conn conn;
};

/* Create it in a new folder below parent ("/tmp", "/dev/shm"). */
static enum status scratch_directory_open(struct scratch_directory *s, const char *parent,
                                          struct scim_error *err)
{
    memset(s, 0, sizeof(*s));
    enum status rc = scratch_store_open(&s->files, parent, err);
    if (rc != OK)
        return rc;
    directory_init(&s->dir, s->files.store, "http://127.0.0.1:1");
    const struct actor by = { "test", NULL };
    struct store_tenant tenant;
    struct store_idp idp;
    struct store_token token;
    char plaintext[CRYPTO_TOKEN_LEN], header[CRYPTO_TOKEN_LEN + 16];
    if ((rc = directory_tenant_create(&s->dir, "Scratch", "scratch", &by, &tenant, err)) != OK ||
        (rc = directory_idp_create(&s->dir, tenant.id, "Scratch", "generic", &by, &idp, err)) !=
            OK ||
        (rc = directory_token_create(&s->dir, idp.id, "scratch", &by, &token, plaintext, err)) !=
            OK)
        return rc;
    snprintf(header, sizeof(header), "Bearer %s", plaintext);
    return directory_authenticate(&s->dir, idp.id, header, NULL, false, &s->conn, err);
}

static void scratch_directory_close(struct scratch_directory *s)
{
    directory_conn_release(&s->conn);
    scratch_store_close(&s->files);
}

#endif
