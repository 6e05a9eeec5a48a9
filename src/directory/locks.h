/* SPDX-License-Identifier: Apache-2.0 */
/*
 * locks.h - the write locks of SCIM resources.
 *
 * Internal to src/directory/.  A SCIM write decides on what it reads (merge
 * by externalId, adoption by email, If-Match versions); these locks make such
 * writes on the same resource take turns, on every node sharing the database,
 * while writes on different resources run side by side.  Take them right
 * after store_begin, before the reads they protect; they hold until the
 * transaction ends.  Uniqueness itself is the database's job (unique
 * indexes); the locks keep the read-decide-write steps whole.
 */
#ifndef SCIMD_DIRECTORY_LOCKS_H
#define SCIMD_DIRECTORY_LOCKS_H

#include "directory/directory.h"
#include "store/store.h"

/* One user (canonical record and IdP row), by its id. */
enum status lock_user(struct store_tx *tx, const struct scim_conn *conn, const char *user_id);
/* What a new user is matched on: its externalId (merge) and its email and
 * userName (adoption, case-insensitively); NULL parts are skipped. */
enum status lock_user_identity(struct store_tx *tx, const struct scim_conn *conn,
                               const char *external_id, const char *email, const char *user_name);
/* One group, by its id. */
enum status lock_group(struct store_tx *tx, const struct scim_conn *conn, const char *group_id);

#endif
