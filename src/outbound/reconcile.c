/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.c - this file contains the periodic resync timer of an app and the
 * comparison of a remote account with what scimd sends it (see reconcile.h).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/apps.h"
#include "outbound/reconcile.h"

void reconcile_tick(struct directory *dir, const struct store_app *app, int64_t interval_s,
                    int64_t *next_ms)
{
    if (interval_s <= 0)
        return;
    int64_t now_ms = clock_now_s() * 1000;
    if (*next_ms != 0 && now_ms < *next_ms)
        return;
    enum status rc = directory_app_resync_if_due(dir, app->id, interval_s, next_ms);
    if (rc != OK) {
        log_warn("app %s: could not schedule its reconciliation: %s", app->id, status_name(rc));
        *next_ms = now_ms + RECONCILE_RETRY_S * 1000;
    }
}

static bool value_matches(const json_t *want, const json_t *have);

/* The member of o named key, case-insensitively (SCIM attribute names are). */
static const json_t *member_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (v != NULL)
        return v;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x)
    {
        if (str_ieq(k, key))
            return x;
    }
    return NULL;
}

static bool object_matches(const json_t *want, const json_t *have, bool top)
{
    if (!json_is_object(have))
        return false;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)want, key, v)
    {
        if (top && strcmp(key, "schemas") == 0)
            continue;
        const json_t *h = member_of(have, key);
        if (h == NULL || !value_matches(v, h))
            return false;
    }
    return true;
}

static bool value_matches(const json_t *want, const json_t *have)
{
    if (json_is_object(want))
        return object_matches(want, have, false);
    if (json_is_array(want)) {
        if (!json_is_array(have))
            return false;
        size_t i, j;
        json_t *w, *h;
        json_array_foreach(want, i, w)
        {
            bool found = false;
            json_array_foreach(have, j, h)
            {
                if (value_matches(w, h)) {
                    found = true;
                    break;
                }
            }
            if (!found)
                return false;
        }
        return true;
    }
    return json_equal((json_t *)want, (json_t *)have);
}

bool reconcile_remote_matches(const char *want, const char *remote, size_t remote_len)
{
    json_t *w = json_loads(want ? want : "", 0, NULL);
    json_t *h = remote ? json_loadb(remote, remote_len, 0, NULL) : NULL;
    bool same = w && h && json_is_object(w) && object_matches(w, h, true);
    json_decref(w);
    json_decref(h);
    return same;
}

enum scim_client_outcome reconcile_verify(struct scim_client *c, struct store_app_link *link,
                                          const char *want, struct scim_client_result *res)
{
    enum scim_client_outcome o = scim_client_get(c, SCIM_CLIENT_USERS, link->remote_id, res);
    if (o == SCIM_CLIENT_NOT_FOUND) {
        link->remote_id[0] = '\0';
        return SCIM_CLIENT_OK;
    }
    if (o != SCIM_CLIENT_OK)
        return o;
    bool same = reconcile_remote_matches(want, res->body, res->body_len);
    char *sent = str_dup(same ? want : "{}");
    if (sent == NULL)
        return SCIM_CLIENT_TRANSIENT;
    free(link->sent);
    link->sent = sent;
    return SCIM_CLIENT_OK;
}
