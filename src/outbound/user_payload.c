/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user_payload.c - this file contains the gathering of a user's downstream
 * state: canonical fields, access, enterprise attributes with the manager
 * reference translated to the app's remote id.  See user_payload.h.
 */
#include <jansson.h>
#include <stdlib.h>

#include "directory/mirroring.h"
#include "outbound/user_payload.h"
#include "scim/outbound.h"

/* manager.value names a scimd user; the app knows that person by its own id. */
static enum status translate_manager(struct store_tx *tx, const struct store_app *app,
                                     json_t *enterprise)
{
    json_t *manager = json_object_get(enterprise, "manager");
    const char *id = json_string_value(json_object_get(manager, "value"));
    if (manager == NULL)
        return OK;
    struct store_app_link link;
    enum status rc =
        id ? store_app_link_get(tx, app->tenant_id, app->id, id, &link) : ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND) { /* not (yet) an account there: no reference to send */
        json_object_del(enterprise, "manager");
        return OK;
    }
    if (rc != OK)
        return rc;
    rc = json_object_set_new(manager, "value", json_string(link.remote_id)) == 0 ? OK : ERR_NOMEM;
    store_app_link_release(&link);
    return rc;
}

enum status outbound_user_payload(struct store_tx *tx, const struct store_app *app,
                                  const struct store_user *u, bool active, char **out)
{
    *out = NULL;
    json_t *enterprise = NULL;
    enum status rc = directory_user_enterprise(tx, u, &enterprise);
    if (rc == OK)
        rc = translate_manager(tx, app, enterprise);
    if (rc == OK) {
        struct scim_outbound_user ou = {
            .id = u->id,
            .user_name = u->username,
            .display_name = u->display_name,
            .given_name = u->given_name,
            .family_name = u->family_name,
            .email = u->email,
            .active = active,
            .enterprise = enterprise,
        };
        *out = scim_outbound_user_body(&ou);
        if (*out == NULL)
            rc = ERR_NOMEM;
    }
    json_decref(enterprise);
    return rc;
}
