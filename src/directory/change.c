/* SPDX-License-Identifier: Apache-2.0 */
/*
 * change.c - this file contains the frame of a guarded change: the write
 * transaction, the caller's condition (directory_guard) checked in it before
 * the change reads anything it decides on, and its end.
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
