/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_leases.c - this file contains the record operations of store.h for app
 * leases: which node of a deployment works a downstream app, until when.  One
 * statement takes or renews a lease, so two nodes racing for an expired one
 * cannot both win (the row lock of INSERT ... ON CONFLICT DO UPDATE decides,
 * and its WHERE is checked against the winner's row).
 */
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"
#include "store/store.h"

static const char SQL_LEASE_TAKE[] =
    "INSERT INTO app_leases (tenant_id, app_id, node, acquired_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, app_id) DO UPDATE SET "
    "node = excluded.node, expires_at = excluded.expires_at, acquired_at = CASE WHEN "
    "app_leases.node = excluded.node THEN app_leases.acquired_at ELSE excluded.acquired_at END "
    "WHERE app_leases.node = excluded.node OR app_leases.expires_at <= excluded.acquired_at";
static const char SQL_LEASE_GET[] =
    "SELECT tenant_id, app_id, node, acquired_at, expires_at FROM app_leases "
    "WHERE tenant_id = ? AND app_id = ?";
static const char SQL_LEASE_RELEASE_ALL[] = "DELETE FROM app_leases WHERE node = ?";
static const char SQL_LEASE_RELEASE_ONE[] =
    "DELETE FROM app_leases WHERE node = ? AND tenant_id = ? AND app_id = ?";

enum status store_app_lease_take(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 const char *node, const char *now, const char *expires_at)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_LEASE_TAKE, 0, "take app lease", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, app_id);
    stmt_text(st, node);
    stmt_text(st, now);
    stmt_text(st, expires_at);
    rc = rec_done_one(st);
    return rc == ERR_NOT_FOUND ? ERR_CONFLICT : rc;
}

static enum status read_lease(struct stmt *st, void *out)
{
    struct store_app_lease *l = out;
    memset(l, 0, sizeof(*l));
    rec_col_copy(st, 0, l->tenant_id, sizeof(l->tenant_id));
    rec_col_copy(st, 1, l->app_id, sizeof(l->app_id));
    rec_col_copy(st, 2, l->node, sizeof(l->node));
    rec_col_copy(st, 3, l->acquired_at, sizeof(l->acquired_at));
    rec_col_copy(st, 4, l->expires_at, sizeof(l->expires_at));
    return OK;
}

enum status store_app_lease_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                struct store_app_lease *out)
{
    const char *keys[] = { tenant_id, app_id };
    return rec_find(tx, SQL_LEASE_GET, keys, 2, read_lease, out, "get app lease");
}

enum status store_app_lease_release(struct store_tx *tx, const char *node, const char *tenant_id,
                                    const char *app_id)
{
    const char *keys[] = { node, tenant_id, app_id };
    if (app_id == NULL)
        return rec_exec(tx, SQL_LEASE_RELEASE_ALL, keys, 1, "release app leases");
    return rec_exec(tx, SQL_LEASE_RELEASE_ONE, keys, 3, "release app lease");
}
