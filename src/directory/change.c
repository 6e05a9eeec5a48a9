/* SPDX-License-Identifier: Apache-2.0 */
/*
 * change.c - this file contains the frame of a guarded change: the write
 * transaction, the caller's condition (directory_guard) checked in it before
 * the change reads anything it decides on, its end, and the message of a
 * store failure of a SCIM write.
 */
#include "directory/directory.h"

enum status directory_guard_check(const struct directory_guard *guard, struct store_tx *tx,
                                  struct scim_error *err)
{
    if (guard == NULL)
        return OK;
    enum status rc = guard->check(guard->ctx, tx, err);
    if (rc != OK && err->status != rc)
        scim_error_set(err, rc, "%s", status_name(rc));
    return rc;
}

enum status directory_begin_change(struct directory *dir, const struct directory_guard *guard,
                                   struct store_tx **tx, struct scim_error *err)
{
    *tx = NULL;
    enum status rc = store_begin(dir->store, true, tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    if ((rc = directory_guard_check(guard, *tx, err)) != OK) {
        store_rollback(*tx);
        *tx = NULL;
    }
    return rc;
}

enum status directory_end_change(struct store_tx *tx, enum status rc, const char *failure,
                                 struct scim_error *err)
{
    if (rc == OK && (rc = store_commit(tx)) == OK)
        return OK;
    if (rc != OK && tx != NULL)
        store_rollback(tx);
    if (err->status == OK)
        scim_error_set(err, rc, "%s: %s", failure, status_name(rc));
    return rc;
}

enum status directory_store_failure(enum status rc, const char *too_long, const char *taken,
                                    struct scim_error *err)
{
    if (rc == ERR_INVALID_VALUE)
        return scim_error_set(err, rc, "%s may be at most %d bytes", too_long,
                              STORE_INDEXED_VALUE_MAX);
    if (rc == ERR_UNAVAILABLE)
        return scim_error_set(err, rc, "the directory is busy; retry the request");
    if (rc == ERR_UNIQUENESS)
        return scim_error_set(err, rc, "%s", taken);
    if (rc == ERR_NOMEM)
        return scim_error_set(err, rc, "out of memory");
    return scim_error_set(err, rc, "the directory could not complete the request");
}
