/* SPDX-License-Identifier: Apache-2.0 */
/*
 * body_fuzz.c - libFuzzer target for request bodies: scim_json_decode, then
 * scim_schema_validate for User and Group in every mode, then
 * scim_projection_apply with a few fixed projections on each result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "scim/json.h"
#include "scim/schema.h"

#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fixed_projection {
    const char *attributes;
    const char *excluded;
};

/* clang-format off */
static const struct fixed_projection projections[] = {
    { NULL,                          NULL },
    { "userName,name.givenName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", NULL },
    { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,displayName", NULL },
    { NULL,                          "emails,meta,name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" },
    { "displayName,members.value",   NULL },
    { NULL,                          "members" },
};
/* clang-format on */

static const enum scim_validate_mode modes[] = {
    SCIM_VALIDATE_CREATE,
    SCIM_VALIDATE_REPLACE,
    SCIM_VALIDATE_RESULT,
};

static void project_all(const struct scim_resource_type *rt, const json_t *doc)
{
    for (size_t i = 0; i < sizeof(projections) / sizeof(projections[0]); i++) {
        struct scim_projection *p = NULL;
        if (scim_projection_parse(rt, projections[i].attributes, projections[i].excluded, &p,
                                  NULL) != OK)
            continue; /* e.g. members for User: invalid path */
        json_t *out = scim_projection_apply(p, rt, doc);
        if (out == NULL)
            abort(); /* an object always projects */
        if (rt == &scim_resource_user && json_object_get(out, "password") != NULL)
            abort(); /* password never leaves */
        (void)scim_projection_excludes(p, "members");
        json_decref(out);
        scim_projection_free(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = NULL;
    struct scim_error err;
    if (scim_json_decode((const char *)data, size, &doc, &err) != OK)
        return 0;
    const struct scim_resource_type *rts[] = { &scim_resource_user, &scim_resource_group };
    for (size_t r = 0; r < 2; r++) {
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            json_t *norm = NULL;
            if (scim_schema_validate(rts[r], doc, modes[m], &norm, &err) != OK)
                continue;
            /* normalising is idempotent */
            json_t *again = NULL;
            if (scim_schema_validate(rts[r], norm, modes[m], &again, &err) != OK ||
                !json_equal(norm, again))
                abort();
            json_decref(again);
            project_all(rts[r], norm);
            json_decref(norm);
        }
        project_all(rts[r], doc); /* stored documents are not always fresh from validate */
    }
    json_decref(doc);
    return 0;
}
