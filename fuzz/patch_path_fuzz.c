/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch_path_fuzz.c - libFuzzer target for src/scim/patch.c and quirks.c.
 *
 * The raw bytes are parsed as a PATCH path against User and Group.  If they
 * also decode as a JSON object (through scim_json_decode, as at the HTTP
 * edge), they are treated as a PatchOp message: quirks, parse, and apply
 * to a fixed user or group document, then the result is validated.  Any
 * crash, leak or sanitizer report is a bug, and so is a failed apply that
 * changed the document (apply is all-or-nothing).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/json.h"
#include "scim/patch.h"
#include "scim/quirks.h"
#include "scim/schema.h"

#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char user_text[] =
    "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "  \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
    "\"id\": \"2819c223-7f76-453a-919d-413861904646\", \"externalId\": \"Ext-Bjensen\","
    "\"userName\": \"Bjensen@Example.com\", \"displayName\": \"Babs Jensen\", \"active\": true,"
    "\"name\": {\"familyName\": \"Jensen\", \"givenName\": \"Barbara\"},"
    "\"emails\": [{\"value\": \"bjensen@example.com\", \"type\": \"work\", \"primary\": true},"
    "  {\"value\": \"babs@jensen.org\", \"type\": \"home\", \"primary\": true}, \"stray\", null],"
    "\"phoneNumbers\": [{\"value\": \"555-555-8377\", \"type\": \"work\"}],"
    "\"meta\": {\"resourceType\": \"User\", \"created\": \"2010-01-23T04:56:22Z\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": {\"employeeNumber\": \"701984\","
    "  \"manager\": {\"value\": \"26118915\"}},"
    "\"urn:example:custom:1.0:User\": {\"badge\": 42, \"tags\": [\"red\"]}}";

static const char group_text[] =
    "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\", \"displayName\": \"Tour Guides\","
    "\"members\": [{\"value\": \"2819c223-7f76-453a-919d-413861904646\", \"display\": \"Babs\"},"
    "  {\"value\": \"902c246b\"}, 7, {}],"
    "\"meta\": {\"resourceType\": \"Group\"}}";

static json_t *user_doc;
static json_t *group_doc;

static void fuzz_path(const struct scim_resource_type *rt, const char *text)
{
    struct scim_patch_path *p = NULL;
    struct scim_error err = { 0 };
    if (scim_patch_path_parse(rt, text, &p, &err) == OK) {
        /* an attribute, or an extension's URN alone (its object) */
        if (p == NULL || p->attr == NULL || (p->ref.attr == NULL) == (p->extension == NULL))
            abort();
        scim_patch_path_free(p);
    } else if (p != NULL || err.detail[0] == '\0') {
        abort(); /* failures leave nothing behind and say what went wrong */
    }
}

static void fuzz_message(const struct scim_resource_type *rt, const json_t *body,
                         const json_t *stored)
{
    json_t *msg = json_deep_copy(body);
    json_t *doc = json_deep_copy(stored);
    struct scim_patch *p = NULL;
    struct scim_error err = { 0 };
    if (msg == NULL || doc == NULL)
        goto done;
    if (scim_quirks_patch(rt, msg, &err) != OK)
        goto done;
    if (scim_patch_parse(rt, msg, &p, &err) != OK) {
        if (p != NULL)
            abort();
        goto done;
    }
    json_t *before = doc;
    if (scim_patch_apply(p, rt, &doc, &err) != OK) {
        if (doc != before || !json_equal(doc, stored))
            abort(); /* a failed apply must leave the document as it was */
        goto done;
    }
    json_t *valid = NULL;
    (void)scim_schema_validate(rt, doc, SCIM_VALIDATE_RESULT, &valid, &err);
    json_decref(valid);
done:
    scim_patch_free(p);
    json_decref(doc);
    json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (user_doc == NULL) {
        user_doc = json_loads(user_text, 0, NULL);
        group_doc = json_loads(group_text, 0, NULL);
        if (user_doc == NULL || group_doc == NULL)
            abort();
    }
    /* the path API takes a C string: stop at the first NUL */
    char *text = str_ndup((const char *)data, size);
    if (text == NULL)
        return 0;
    fuzz_path(&scim_resource_user, text);
    fuzz_path(&scim_resource_group, text);
    free(text);

    json_t *body = NULL;
    struct scim_error err = { 0 };
    if (scim_json_decode((const char *)data, size, &body, &err) == OK) {
        fuzz_message(&scim_resource_user, body, user_doc);
        fuzz_message(&scim_resource_group, body, group_doc);
        json_decref(body);
    }
    return 0;
}
