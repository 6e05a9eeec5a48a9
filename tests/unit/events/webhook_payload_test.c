/*
 * webhook_payload_test.c - the `json` webhook body: every member of an
 * event, nulls for what an event lacks, the summary as data, and refusal of
 * a broken summary or a body over the size limit.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "core/str.h"
#include "events/webhook_payload.h"

static struct store_event event(const char *summary)
{
    struct store_event e = { .seq = 7,
                             .tenant_id = "t-1",
                             .idp_id = "i-1",
                             .type = "scim_user_updated",
                             .actor = "token:k-1",
                             .subject_id = "u-1",
                             .summary = summary,
                             .source = "127.0.0.1" };
    str_copy(e.id, sizeof(e.id), "0190c0de-0000-7000-8000-000000000001");
    str_copy(e.at, sizeof(e.at), "2026-12-03T14:00:00.000Z");
    return e;
}

static json_t *payload_of(const struct store_event *e)
{
    char *text = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(webhook_payload_json(e, &text, &err), OK, "%s", err.detail);
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    free(text);
    return doc;
}

Test(webhook_payload, an_event_becomes_type_timestamp_and_data)
{
    struct store_event e = event("{\"method\":\"PATCH\",\"changed\":[\"emails\"]}");
    json_t *p = payload_of(&e);
    cr_assert_str_eq(json_string_value(json_object_get(p, "id")), e.id);
    cr_assert_str_eq(json_string_value(json_object_get(p, "type")), "scim_user_updated");
    cr_assert_str_eq(json_string_value(json_object_get(p, "timestamp")), e.at);
    cr_assert_str_eq(json_string_value(json_object_get(p, "tenant")), "t-1");
    cr_assert_str_eq(json_string_value(json_object_get(p, "idp")), "i-1");
    cr_assert_str_eq(json_string_value(json_object_get(p, "actor")), "token:k-1");
    cr_assert_str_eq(json_string_value(json_object_get(p, "subject")), "u-1");
    json_t *data = json_object_get(p, "data");
    cr_assert_str_eq(json_string_value(json_object_get(data, "method")), "PATCH");
    cr_assert_null(json_object_get(p, "source"), "the client address is not sent out");
    cr_assert_null(json_object_get(p, "seq"));
    json_decref(p);
}

Test(webhook_payload, missing_parts_are_null_and_no_summary_is_empty_data)
{
    struct store_event e = event(NULL);
    e.tenant_id = NULL;
    e.idp_id = NULL;
    e.subject_id = NULL;
    json_t *p = payload_of(&e);
    cr_assert(json_is_null(json_object_get(p, "tenant")));
    cr_assert(json_is_null(json_object_get(p, "idp")));
    cr_assert(json_is_null(json_object_get(p, "subject")));
    cr_assert(json_is_object(json_object_get(p, "data")));
    cr_assert_eq(json_object_size(json_object_get(p, "data")), 0);
    json_decref(p);
}

Test(webhook_payload, broken_or_oversized_events_are_refused)
{
    char *text = (char *)1;
    struct scim_error err = { 0 };
    struct store_event e = event("[1,2]");
    cr_assert_eq(webhook_payload_json(&e, &text, &err), ERR_INVALID_VALUE);
    cr_assert_null(text);
    e = event("{\"a\":1,\"a\":2}");
    cr_assert_eq(webhook_payload_json(&e, &text, &err), ERR_INVALID_VALUE);
    e = event(NULL);
    e.type = NULL;
    cr_assert_eq(webhook_payload_json(&e, &text, &err), ERR_INVALID_VALUE);

    size_t n = WEBHOOK_PAYLOAD_MAX;
    char *big = malloc(n + 16);
    memcpy(big, "{\"x\":\"", 6);
    memset(big + 6, 'x', n - 6);
    memcpy(big + n, "\"}", 3);
    e = event(big);
    cr_assert_eq(webhook_payload_json(&e, &text, &err), ERR_TOO_LARGE);
    cr_assert_null(text);
    free(big);
}
