/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scratch_store.h - a store on a throwaway SQLite file in a new folder, for
 * unit tests and fuzzers: scratch_store_open makes the folder and opens the
 * store, scratch_store_close closes it and removes the database, its WAL,
 * shared-memory and journal files and the folder.
 *
 * Header-only (static functions) so that both the unit-test and the fuzzer
 * builds can use it without a library of their own.  One scratch store
 * belongs to one thread.
 */
#ifndef SCIMD_TESTS_SUPPORT_SCRATCH_STORE_H
#define SCIMD_TESTS_SUPPORT_SCRATCH_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define SCRATCH_STORE_POOL 2

struct scratch_store {
    char dir_path[64];
    char db_path[128];
    struct store *store;
};

/* Create it in a new folder below parent ("/tmp", "/dev/shm"). */
static enum status scratch_store_open(struct scratch_store *s, const char *parent,
                                      struct scim_error *err)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir_path, sizeof(s->dir_path), "%s/scimd_scratch_XXXXXX", parent);
    if (mkdtemp(s->dir_path) == NULL)
        return scim_error_set(err, ERR_IO, "mkdtemp below '%s' failed", parent);
    snprintf(s->db_path, sizeof(s->db_path), "%s/scratch.db", s->dir_path);
    return store_open(s->db_path, SCRATCH_STORE_POOL, &s->store, err);
}

static void scratch_store_close(struct scratch_store *s)
{
    store_close(s->store);
    s->store = NULL;
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s%s", s->db_path, suffixes[i]);
        unlink(p);
    }
    if (s->dir_path[0])
        rmdir(s->dir_path);
}

#endif
