/*
 * set_test.c - SCIM Security Event Tokens: the event type table (RFC 9967
 * URIs), the claims of each kind of event (iss, iat, jti, aud, txn, sub_id,
 * events), refusal of bad input, and the signed compact form.  The
 * `artifacts` test hands SETs signed by two keys and their JWKS to
 * tests/e2e/set_sign.test.mjs, which verifies them with npm jose.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "artifacts.h"
#include "events/set.h"
#include "jws_parts.h"

#define ISS "https://scimd.example.com"
#define AUD "https://receiver.example.com/events"

static const struct set_params params = { ISS, AUD, "0190c0de-0000-7000-8000-00000000a001" };

static json_t *claims_of(const struct set_event *e)
{
    char *text = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(set_claims(e, &params, &text, &err), OK, "%s", err.detail);
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    free(text);
    return doc;
}

static const char *str_at(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

Test(set, every_scimd_event_type_maps_to_its_rfc_9967_uri)
{
    static const struct {
        const char *type, *method, *uri;
    } cases[] = {
        { "scim_user_created", "POST", "urn:ietf:params:scim:event:prov:create:notice" },
        { "scim_user_updated", "PATCH", "urn:ietf:params:scim:event:prov:patch:notice" },
        { "scim_user_updated", "PUT", "urn:ietf:params:scim:event:prov:put:notice" },
        { "scim_user_updated", NULL, "urn:ietf:params:scim:event:prov:patch:notice" },
        { "scim_user_deleted", "DELETE", "urn:ietf:params:scim:event:prov:delete" },
        { "scim_user_deactivated", "PATCH", "urn:ietf:params:scim:event:prov:deactivate" },
        { "scim_user_reactivated", "PUT", "urn:ietf:params:scim:event:prov:activate" },
        { "scim_group_created", NULL, "urn:ietf:params:scim:event:prov:create:notice" },
        { "scim_group_updated", "PUT", "urn:ietf:params:scim:event:prov:put:notice" },
        { "scim_group_members_changed", "PATCH", "urn:ietf:params:scim:event:prov:patch:notice" },
        { "scim_group_deleted", NULL, "urn:ietf:params:scim:event:prov:delete" },
        { "scim_user_adopted", NULL, NULL },
        { "scim_user_merged", NULL, NULL },
        { "token_created", NULL, NULL },
        { NULL, NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = set_event_uri(cases[i].type, cases[i].method);
        if (cases[i].uri == NULL)
            cr_assert_null(got, "%s", cases[i].type);
        else
            cr_assert_str_eq(got, cases[i].uri, "%s %s", cases[i].type, cases[i].method);
    }
}

Test(set, a_deactivation_carries_the_rfc_8417_and_9967_claims)
{
    struct set_event e = { .type = "scim_user_deactivated",
                           .event_id = "0190c0de-0000-7000-8000-000000000042",
                           .resource_id = "2819c223-7f76-453a-919d-413861904646",
                           .external_id = "bjensen",
                           .iat = 1767225600 };
    json_t *c = claims_of(&e);
    cr_assert_str_eq(str_at(c, "iss"), ISS);
    cr_assert_eq(json_integer_value(json_object_get(c, "iat")), 1767225600);
    cr_assert_str_eq(str_at(c, "jti"), params.jti);
    cr_assert_str_eq(str_at(c, "aud"), AUD);
    cr_assert_str_eq(str_at(c, "txn"), e.event_id);
    json_t *sub = json_object_get(c, "sub_id");
    cr_assert_str_eq(str_at(sub, "format"), "scim");
    cr_assert_str_eq(str_at(sub, "uri"), "/Users/2819c223-7f76-453a-919d-413861904646");
    cr_assert_str_eq(str_at(sub, "externalId"), "bjensen");
    json_t *events = json_object_get(c, "events");
    cr_assert_eq(json_object_size(events), 1);
    json_t *ev = json_object_get(events, "urn:ietf:params:scim:event:prov:deactivate");
    cr_assert(json_is_object(ev) && json_object_size(ev) == 0);
    cr_assert_eq(json_object_size(c), 7, "no claim beyond the profile's");
    json_decref(c);
}

Test(set, notices_name_changed_attributes_and_groups_use_their_endpoint)
{
    const char *names[] = { "emails", "name.familyName" };
    struct set_event e = { .type = "scim_user_updated",
                           .event_id = "e1",
                           .resource_id = "u1",
                           .method = "PATCH",
                           .attributes = names,
                           .n_attributes = 2 };
    json_t *c = claims_of(&e);
    json_t *attrs = json_object_get(json_object_get(json_object_get(c, "events"),
                                                    "urn:ietf:params:scim:event:prov:patch:notice"),
                                    "attributes");
    cr_assert_eq(json_array_size(attrs), 2);
    cr_assert_str_eq(json_string_value(json_array_get(attrs, 1)), "name.familyName");
    cr_assert_null(json_object_get(json_object_get(c, "sub_id"), "externalId"),
                   "no externalId member when the resource has none");
    json_decref(c);

    struct set_event g = { .type = "scim_group_members_changed",
                           .event_id = "e2",
                           .resource_id = "g1" };
    c = claims_of(&g);
    cr_assert_str_eq(str_at(json_object_get(c, "sub_id"), "uri"), "/Groups/g1");
    attrs = json_object_get(json_object_get(json_object_get(c, "events"),
                                            "urn:ietf:params:scim:event:prov:patch:notice"),
                            "attributes");
    cr_assert_eq(json_array_size(attrs), 1);
    cr_assert_str_eq(json_string_value(json_array_get(attrs, 0)), "members");
    json_decref(c);

    struct set_event d = { .type = "scim_group_deleted",
                           .event_id = "e3",
                           .resource_id = "g1",
                           .attributes = names,
                           .n_attributes = 2 };
    c = claims_of(&d);
    cr_assert_eq(json_object_size(json_object_get(json_object_get(c, "events"),
                                                  "urn:ietf:params:scim:event:prov:delete")),
                 0, "a delete is not a notice: no attributes");
    json_decref(c);
}

Test(set, bad_events_are_refused_not_signed)
{
    char *out = (char *)1;
    struct scim_error err = { 0 };
    struct set_event e = { .type = "scim_user_adopted", .event_id = "e", .resource_id = "u" };
    cr_assert_eq(set_claims(&e, &params, &out, &err), ERR_UNSUPPORTED);
    cr_assert_null(out);
    e.type = "scim_user_created";
    struct set_event bad[] = { e, e, e, e, e, e };
    bad[0].event_id = NULL;
    bad[1].resource_id = "";
    bad[2].resource_id = "../Groups/x";
    bad[3].external_id = "\xff\xfe";
    bad[4].iat = -1;
    bad[5].n_attributes = SET_ATTRIBUTES_MAX + 1;
    const char *many[SET_ATTRIBUTES_MAX + 1] = { 0 };
    bad[5].attributes = many;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(set_claims(&bad[i], &params, &out, &err), ERR_INVALID_VALUE, "case %zu", i);
    struct set_params no_aud = { ISS, NULL, "j" };
    cr_assert_eq(set_claims(&e, &no_aud, &out, &err), ERR_INVALID_VALUE);
    cr_assert_null(out);
}

Test(set, the_signed_set_is_typed_secevent_jwt_and_carries_the_claims)
{
    struct signing_key *key = NULL;
    cr_assert_eq(signing_key_generate(2048, &key, NULL), OK);
    struct set_event e = {
        .type = "scim_user_created", .event_id = "e1", .resource_id = "u1", .iat = 1
    };
    char *compact = NULL, *claims = NULL;
    cr_assert_eq(set_sign(&e, &params, key, &compact, NULL), OK);
    cr_assert_eq(set_claims(&e, &params, &claims, NULL), OK);
    json_t *header, *payload;
    jws_split(compact, &header, &payload);
    cr_assert_str_eq(str_at(header, "typ"), "secevent+jwt");
    cr_assert_str_eq(str_at(header, "alg"), "RS256");
    cr_assert_str_eq(str_at(header, "kid"), signing_key_kid(key));
    json_t *expected = json_loads(claims, 0, NULL);
    cr_assert(json_equal(payload, expected));
    json_decref(expected);
    json_decref(header);
    json_decref(payload);
    free(claims);
    free(compact);
    cr_assert_eq(set_sign(&(struct set_event){ .type = "x" }, &params, key, &compact, NULL),
                 ERR_UNSUPPORTED);
    signing_key_free(key);
}

/* SETs for every kind of event, signed now by the current key and one by a
 * retiring key, plus the JWKS naming both: for npm jose. */
Test(set, artifacts)
{
    struct signing_key *keys[2] = { NULL, NULL };
    cr_assert_eq(signing_key_generate(2048, &keys[0], NULL), OK);
    cr_assert_eq(signing_key_generate(3072, &keys[1], NULL), OK);
    static const struct {
        const char *type, *method, *external_id;
    } cases[] = {
        { "scim_user_created", "POST", "bjensen" },
        { "scim_user_updated", "PATCH", NULL },
        { "scim_user_updated", "PUT", "bjensen" },
        { "scim_user_deactivated", "PATCH", "bjensen" },
        { "scim_user_reactivated", "PATCH", "bjensen" },
        { "scim_user_deleted", "DELETE", NULL },
        { "scim_group_members_changed", "PATCH", NULL },
    };
    const char *names[] = { "userName", "emails" };
    json_t *sets = json_array();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char event_id[64], jti[64];
        snprintf(event_id, sizeof(event_id), "0190c0de-0000-7000-8000-%012zu", i);
        snprintf(jti, sizeof(jti), "0190c0de-0000-7000-9000-%012zu", i);
        struct set_event e = { .type = cases[i].type,
                               .event_id = event_id,
                               .resource_id = "2819c223-7f76-453a-919d-413861904646",
                               .external_id = cases[i].external_id,
                               .method = cases[i].method,
                               .attributes = names,
                               .n_attributes = 2,
                               .iat = (int64_t)time(NULL) };
        struct set_params p = { ISS, AUD, jti };
        const struct signing_key *key = keys[i == 0 ? 1 : 0];
        char *compact = NULL;
        cr_assert_eq(set_sign(&e, &p, key, &compact, NULL), OK);
        json_array_append_new(sets,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", e.type, "method",
                                        e.method, "uri", set_event_uri(e.type, e.method), "txn",
                                        event_id, "kid", signing_key_kid(key), "set", compact));
        free(compact);
    }
    char *jwks = NULL;
    cr_assert_eq(signing_keys_jwks((const struct signing_key *const *)keys, 2, &jwks, NULL), OK);
    json_t *doc = json_pack("{s:s, s:s, s:o}", "iss", ISS, "aud", AUD, "sets", sets);
    cr_assert_not_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    cr_assert_eq(json_array_size(json_object_get(doc, "sets")), 7);
    artifact_write("sets.json", text);
    artifact_write("jwks.json", jwks);
    free(text);
    free(jwks);
    json_decref(doc);
    signing_key_free(keys[0]);
    signing_key_free(keys[1]);
}
