/* SPDX-License-Identifier: Apache-2.0 */
/*
 * load.c - the benchmark's data-set loader: inserts N SCIM users of one IdP
 * connection straight through the store API, batched in write transactions,
 * so a million-user directory takes seconds instead of an hour of HTTP.
 *
 *   load --db PATH --tenant T --idp ID --users N [--start I] [--public-url URL]
 *
 * User i has userName user<i>@bench.test and externalId ext-<i>; its stored
 * document is validated and rendered the way directory/users.c renders a
 * POSTed user, and its canonical user record mirrors the same fields.  No
 * audit events are written: this is a fixture, not a SCIM request.
 */
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "scim/render.h"
#include "scim/schema.h"
#include "store/store.h"

#include "core/str.h"

#define LOAD_BATCH     10000 /* users per write transaction */
#define LOAD_URL_MAX   512
#define LOAD_NAME_MAX  64
#define LOAD_CACHE_KIB 262144 /* SQLite page cache per connection while loading */

struct load_opts {
    const char *db;
    const char *tenant;
    const char *idp;
    const char *public_url;
    long users;
    long start;
};

static int usage(void)
{
    fprintf(stderr, "usage: load --db PATH --tenant T --idp ID --users N [--start I] "
                    "[--public-url URL]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct load_opts *o)
{
    o->public_url = "http://127.0.0.1:8080";
    o->users = -1;
    o->start = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--db") == 0)
            o->db = v;
        else if (strcmp(k, "--tenant") == 0)
            o->tenant = v;
        else if (strcmp(k, "--idp") == 0)
            o->idp = v;
        else if (strcmp(k, "--public-url") == 0)
            o->public_url = v;
        else if (strcmp(k, "--users") == 0 && str_to_long(v, 0, 100000000L, &o->users))
            continue;
        else if (strcmp(k, "--start") == 0 && str_to_long(v, 0, 1000000000L, &o->start))
            continue;
        else
            return usage();
    }
    if (argc % 2 == 0 || o->db == NULL || o->tenant == NULL || o->idp == NULL || o->users < 0)
        return usage();
    return 0;
}

/* The request an IdP would POST for user i, validated like a POST body. */
static enum status user_doc(long i, json_t **out, struct scim_error *err)
{
    char user_name[LOAD_NAME_MAX], external_id[LOAD_NAME_MAX], given[LOAD_NAME_MAX];
    snprintf(user_name, sizeof(user_name), "user%ld@bench.test", i);
    snprintf(external_id, sizeof(external_id), "ext-%ld", i);
    snprintf(given, sizeof(given), "User%ld", i);
    json_t *body =
        json_pack("{s:[s],s:s,s:s,s:{s:s,s:s},s:s,s:[{s:s,s:s,s:b}],s:b}", "schemas",
                  "urn:ietf:params:scim:schemas:core:2.0:User", "userName", user_name, "externalId",
                  external_id, "name", "givenName", given, "familyName", "Bench", "displayName",
                  given, "emails", "value", user_name, "type", "work", "primary", 1, "active", 1);
    if (body == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    enum status rc =
        scim_schema_validate(&scim_resource_user, body, SCIM_VALIDATE_CREATE, out, err);
    json_decref(body);
    return rc;
}

/* Insert user i (canonical record + IdP row) in tx. */
static enum status insert_one(struct store_tx *tx, const struct load_opts *o, const char *tenant_id,
                              long i, const char *now, struct scim_error *err)
{
    json_t *doc = NULL;
    enum status rc = user_doc(i, &doc, err);
    if (rc != OK)
        return rc;
    const char *user_name = json_string_value(json_object_get(doc, "userName"));
    const char *external_id = json_string_value(json_object_get(doc, "externalId"));
    const json_t *name = json_object_get(doc, "name");

    struct store_user u = { 0 };
    struct store_idp_user row = { 0 };
    char *email = (char *)user_name;
    if ((rc = crypto_uuid(u.id)) != OK)
        goto done;
    str_copy(u.tenant_id, sizeof(u.tenant_id), tenant_id);
    str_copy(u.idp_id, sizeof(u.idp_id), o->idp);
    str_copy(u.status, sizeof(u.status), "active");
    str_copy(u.created_at, sizeof(u.created_at), now);
    str_copy(u.updated_at, sizeof(u.updated_at), now);
    u.scim_managed = true;
    /* borrowed from doc: not released through store_user_release */
    u.username = (char *)user_name;
    u.email = email;
    u.given_name = (char *)json_string_value(json_object_get(name, "givenName"));
    u.family_name = (char *)json_string_value(json_object_get(name, "familyName"));
    u.display_name = (char *)json_string_value(json_object_get(doc, "displayName"));
    if ((rc = store_user_insert(tx, &u)) != OK)
        goto done;

    char location[LOAD_URL_MAX];
    snprintf(location, sizeof(location), "%s/scim/v2/inbound/%s/Users/%s", o->public_url, o->idp,
             u.id);
    struct scim_meta meta = {
        .id = u.id, .created = now, .last_modified = now, .version = 1, .location = location
    };
    if ((rc = scim_resource_finish(&scim_resource_user, doc, &meta)) != OK)
        goto done;
    str_copy(row.tenant_id, sizeof(row.tenant_id), tenant_id);
    str_copy(row.idp_id, sizeof(row.idp_id), o->idp);
    str_copy(row.user_id, sizeof(row.user_id), u.id);
    str_copy(row.created_at, sizeof(row.created_at), now);
    str_copy(row.updated_at, sizeof(row.updated_at), now);
    row.external_id = (char *)external_id;
    row.user_name = (char *)user_name;
    row.emails = &email;
    row.n_emails = 1;
    row.active = true;
    row.version = 1;
    row.doc = scim_json_text(doc);
    if (row.doc == NULL) {
        rc = ERR_NOMEM;
        goto done;
    }
    rc = store_idp_user_insert(tx, &row);
done:
    free(row.doc);
    json_decref(doc);
    if (rc != OK && err->detail[0] == '\0')
        scim_error_set(err, rc, "user %ld: %s", i, status_name(rc));
    return rc;
}

/* Runs on every connection the store opens: a page cache big enough for the
 * indexes, so random UUID keys do not turn each insert into page reads.
 * Durability settings stay the store's own. */
static int big_cache(sqlite3 *db, char **errmsg, const void *api)
{
    (void)api;
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", LOAD_CACHE_KIB);
    return sqlite3_exec(db, sql, NULL, NULL, errmsg);
}

int main(int argc, char **argv)
{
    struct load_opts o = { 0 };
    int bad = parse_args(argc, argv, &o);
    if (bad)
        return bad;
    struct scim_error err;
    scim_error_clear(&err);
    struct store *store = NULL;
    struct store_tx *tx = NULL;
    sqlite3_auto_extension((void (*)(void))big_cache);
    if (store_open(o.db, 2, &store, &err) != OK) {
        fprintf(stderr, "load: cannot open %s: %s\n", o.db, err.detail);
        return 1;
    }
    struct store_tenant tenant;
    struct store_idp idp;
    enum status rc = store_begin(store, false, &tx);
    if (rc == OK && (rc = store_tenant_find(tx, o.tenant, &tenant)) == OK)
        rc = store_idp_get(tx, o.idp, &idp);
    store_rollback(tx);
    tx = NULL;
    if (rc != OK || strcmp(idp.tenant_id, tenant.id) != 0) {
        fprintf(stderr, "load: tenant '%s' / idp '%s' not found together (%s)\n", o.tenant, o.idp,
                status_name(rc));
        store_close(store);
        return 1;
    }

    char now[STORE_TIME_LEN];
    int64_t t0 = clock_mono_ms();
    long end = o.start + o.users;
    for (long i = o.start; i < end && rc == OK;) {
        clock_now_iso(now);
        if ((rc = store_begin(store, true, &tx)) != OK)
            break;
        long stop = i + LOAD_BATCH < end ? i + LOAD_BATCH : end;
        for (; i < stop && rc == OK; i++)
            rc = insert_one(tx, &o, tenant.id, i, now, &err);
        if (rc == OK)
            rc = store_commit(tx);
        else
            store_rollback(tx);
        tx = NULL;
    }
    int64_t ms = clock_mono_ms() - t0;
    store_close(store);
    if (rc != OK) {
        fprintf(stderr, "load: failed: %s\n", err.detail[0] ? err.detail : status_name(rc));
        return 1;
    }
    printf("loaded %ld users in %.2f s (%.0f rows/s)\n", o.users, (double)ms / 1000.0,
           ms > 0 ? (double)o.users * 1000.0 / (double)ms : 0.0);
    return 0;
}
