/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter_fuzz.c - libFuzzer target for src/scim/filter.c: parse arbitrary
 * filter text, then bind the tree against User and Group and match it
 * against a fixed user and group document (unbound first, then bound), and
 * free.  Any crash, leak or sanitizer report is a bug.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/filter.h"
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
    "  {\"value\": \"babs@jensen.org\", \"type\": \"home\"}],"
    "\"x509Certificates\": [{\"value\": \"MIIDQzCC\"}],"
    "\"meta\": {\"resourceType\": \"User\", \"created\": \"2010-01-23T04:56:22Z\","
    "  \"lastModified\": \"2011-05-13T04:42:34.123Z\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": {\"employeeNumber\": \"701984\","
    "  \"department\": \"Tour Operations\", \"manager\": {\"value\": \"26118915\"}},"
    "\"urn:example:custom:1.0:User\": {\"badge\": 42, \"ratio\": 0.5, \"tags\": [\"red\", \"blue\"],"
    "  \"since\": \"2020-01-01T00:00:00Z\", \"flag\": true, \"nested\": {\"a\": [1, null, {}]}}}";

static const char group_text[] =
    "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\", \"externalId\": \"okta-grp-1\","
    "\"displayName\": \"Tour Guides\","
    "\"members\": [{\"value\": \"2819c223-7f76-453a-919d-413861904646\", \"type\": \"User\","
    "  \"$ref\": \"https://example.com/v2/Users/2819c223\", \"display\": \"Babs Jensen\"},"
    "  {\"value\": \"902c246b\"}, \"stray\", null],"
    "\"meta\": {\"lastModified\": \"2011-05-13T04:42:34Z\"}}";

static json_t *user_doc;
static json_t *group_doc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (user_doc == NULL) {
        user_doc = json_loads(user_text, 0, NULL);
        group_doc = json_loads(group_text, 0, NULL);
        if (user_doc == NULL || group_doc == NULL)
            abort();
    }
    /* the API takes a C string: stop at the first NUL, as a URL decoder would not pass one */
    char *text = str_ndup((const char *)data, size);
    if (text == NULL)
        return 0;

    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    if (scim_filter_parse(text, &f, &err) == OK) {
        if (f == NULL)
            abort();
        (void)scim_filter_match(f, user_doc);
        (void)scim_filter_match(f, group_doc);
        if (scim_filter_bind(f, &scim_resource_user, &err) == OK)
            (void)scim_filter_match(f, user_doc);
        if (scim_filter_bind(f, &scim_resource_group, &err) == OK)
            (void)scim_filter_match(f, group_doc);
        scim_filter_free(f);
    } else if (f != NULL || err.status != ERR_INVALID_FILTER || err.detail[0] == '\0') {
        abort(); /* failures leave no tree and say what went wrong */
    }
    free(text);
    return 0;
}
