/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apps.h - downstream apps (outbound SCIM targets) of a tenant, the grants that
 * say who reaches them, the access rule, and the admin lifecycle changes of a
 * user that fan out (deactivate / activate).
 *
 * Every change and its event (app_created, app_grant_added, user_deactivated,
 * ...) commit in one transaction: the event log is the outbox the fan-out
 * engine (src/outbound/engine.h) reads.  This module never speaks HTTP and never
 * sees a credential in clear after sealing it (core/secretbox); events name
 * apps, kinds and ids, never a token or a URL's userinfo.
 *
 * Thread safety: like directory.h, every call is independent.
 */
#ifndef SCIMD_DIRECTORY_APPS_H
#define SCIMD_DIRECTORY_APPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/secretbox.h"
#include "directory/directory.h"
#include "store/store.h"

#define DIRECTORY_APP_CREDENTIAL_OWNER "app:%s:credential" /* secretbox owner of an app */
/* An app holding its deprovisions (too many users lost access at once) is
 * paused until an admin looks: until this instant, which never comes. */
#define DIRECTORY_APP_HELD_UNTIL            "9999-12-31T23:59:59.999Z"
#define DIRECTORY_DEPROVISION_LIMIT_DEFAULT 500 /* users losing access within an hour */

struct directory_app_new {
    const char *tenant_key;  /* tenant id, name or subdomain */
    const char *name;        /* unique in the tenant */
    const char *scim_url;    /* http(s) SCIM base URL */
    const char *token;       /* bearer token (secret), or NULL with basic_user */
    const char *basic_user;  /* HTTP Basic user, with password */
    const char *password;    /* secret */
    const char *ca_file;     /* may be NULL */
    const char *deprovision; /* "deactivate" (default, NULL) or "delete" */
    bool put_only;
    bool push_groups;
    int concurrency; /* requests in flight at once, 1..STORE_APP_CONCURRENCY_MAX; 0: default */
};

/* Create an app, its credential sealed with box; out has no credential. */
enum status directory_app_create(struct directory *dir, const struct secretbox *box,
                                 const struct directory_app_new *na, const struct actor *by,
                                 struct store_app *out, struct scim_error *err);
/* Find an app by id (any tenant); out->credential is the sealed text. */
enum status directory_app_get(struct directory *dir, const char *app_id, struct store_app *out,
                              struct scim_error *err);
/* enabled: "enabled" | "disabled" (app_enabled / app_disabled). */
enum status directory_app_set_enabled(struct directory *dir, const char *app_id, bool enabled,
                                      const struct actor *by, const struct directory_guard *guard,
                                      struct scim_error *err);
/* The app with its grants, links and jobs (app_deleted); remote accounts stay. */
enum status directory_app_delete(struct directory *dir, const char *app_id, const struct actor *by,
                                 const struct directory_guard *guard, struct scim_error *err);
/* Begin a write transaction about an app that still exists: its lock taken
 * first (store_lock "app:<id>"), so a delete and the fan-out engine's writes
 * take turns on every node, then the app looked up; ERR_NOT_FOUND (and no
 * transaction) when it was deleted meanwhile.  Every writer of an app's rows
 * begins so, and a delete too: nothing of a deleted app is written after. */
enum status directory_app_write_begin(struct store *store, const char *tenant_id,
                                      const char *app_id, struct store_tx **tx);
/* Is the app holding its deprovisions for an admin to allow? */
bool directory_app_held(const struct store_app *app);
/* Let a held app's deprovisions go (app_deprovisions_allowed): the pause
 * ends; ERR_CONFLICT when the app holds none. */
enum status directory_app_allow_deprovisions(struct directory *dir, const char *app_id,
                                             const struct actor *by, struct scim_error *err);
/* Dead-lettered jobs (of user_id, or all when NULL) run again (app_retry). */
enum status directory_app_retry(struct directory *dir, const char *app_id, const char *user_id,
                                const struct actor *by, int64_t *n_out, struct scim_error *err);

/* Every user the app's grants reach (members of granted groups, soft-deleted
 * ones too, and directly granted users) and every linked user; a user may be
 * named more than once.  In tx. */
enum status directory_app_reach(struct store_tx *tx, const struct store_app *app, store_id_fn fn,
                                void *ctx);

/*
 * Full reconciliation (app_resync_started): a job for every user the app's
 * grants reach (members of granted groups, directly granted users) and every
 * linked user (so access lost is deprovisioned), and every link marked for a
 * look at the remote account (store_app_links_unverify), so drift made
 * downstream by hand is repaired.  *n_out: the users enqueued.  A disabled app
 * is refused (ERR_CONFLICT): its jobs would not run.
 */
enum status directory_app_resync(struct directory *dir, const char *app_id, const struct actor *by,
                                 int64_t *n_out, struct scim_error *err);
/*
 * The engine's periodic reconciliation: directory_app_resync of the app (actor
 * "app:<id>") unless one began less than interval_s ago (an admin's, another
 * node's) or, never resynced, the app is younger than that.  *next_ms: when
 * the next one is due (epoch ms).
 */
enum status directory_app_resync_if_due(struct directory *dir, const char *app_id,
                                        int64_t interval_s, int64_t *next_ms);

/* Grant (or take back) the app to a group (kind "group": a group of any IdP
 * connection of the app's tenant) or a user (kind "user").  A group or user of
 * another tenant is refused (404, as if it did not exist). */
enum status directory_grant_add(struct directory *dir, const char *app_id, const char *kind,
                                const char *subject_id, const struct actor *by,
                                struct scim_error *err);
enum status directory_grant_remove(struct directory *dir, const char *app_id, const char *kind,
                                   const char *subject_id, const struct actor *by,
                                   struct scim_error *err);

/* The access rule: user_id is active (not deactivated, not deleted) and
 * directly granted or a member of a granted group.  A missing user has none. */
enum status directory_app_access(struct store_tx *tx, const struct store_app *app,
                                 const char *user_id, bool *out);

/* Admin deactivation / activation of a canonical user (user_deactivated /
 * user_activated), fanned out like an IdP's push.  ERR_CONFLICT when the
 * user is deleted; no event when nothing changes. */
enum status directory_user_set_active(struct directory *dir, const char *user_id, bool active,
                                      const struct actor *by, struct scim_error *err);

#endif
