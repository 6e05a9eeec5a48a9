/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set_of_event.c - this file contains the mapping of a stored event to the
 * signed SET of one subscription (set_of_event.h).
 */
#include <jansson.h>
#include <string.h>

#include "core/clock.h"
#include "events/set.h"
#include "events/set_of_event.h"

enum status set_of_event(const struct store_webhook *w, const struct store_event *e,
                         const char *jti, const char *issuer, const struct signing_key *key,
                         char **compact, struct scim_error *err)
{
    *compact = NULL;
    if (key == NULL)
        return scim_error_set(err, ERR_FORBIDDEN,
                              "no SET signing key (serve needs --key-file to keep one)");
    json_t *summary = e->summary ? json_loads(e->summary, 0, NULL) : NULL;
    const char *names[SET_ATTRIBUTES_MAX];
    size_t n = 0;
    const json_t *changed = json_object_get(summary, "changed");
    size_t i;
    const json_t *v;
    json_array_foreach(changed, i, v)
    {
        if (json_is_string(v) && n < SET_ATTRIBUTES_MAX)
            names[n++] = json_string_value(v);
    }
    struct set_event se = {
        .type = e->type,
        .event_id = e->id,
        .resource_id = e->subject_id,
        .external_id = json_string_value(json_object_get(summary, "externalId")),
        .method = json_string_value(json_object_get(summary, "method")),
        .attributes = n ? names : NULL,
        .n_attributes = n,
        .iat = clock_now_s(),
    };
    struct set_params p = { .issuer = issuer, .audience = w->audience, .jti = jti };
    enum status rc = set_sign(&se, &p, key, compact, err);
    json_decref(summary);
    return rc;
}
