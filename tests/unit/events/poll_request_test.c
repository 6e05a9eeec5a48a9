/*
 * poll_request_test.c - RFC 8936 poll bodies: the RFC's own examples, the
 * defaults (long poll, a full page), acknowledge-only polls, clamping of
 * maxEvents, and every malformed member refused with a detail that does not
 * echo the value.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "events/poll_request.h"

static struct poll_request parse_ok(const char *body)
{
    struct poll_request req;
    struct scim_error err = { 0 };
    cr_assert_eq(poll_request_parse(body, strlen(body), &req, &err), OK, "%s: %s", body,
                 err.detail);
    return req;
}

Test(poll_request, an_empty_body_long_polls_for_a_full_page)
{
    struct poll_request req = parse_ok("");
    cr_assert_eq(req.max_events, POLL_EVENTS_MAX);
    cr_assert_not(req.return_immediately);
    cr_assert_eq(req.n_acks + req.n_errs, 0);
    poll_request_release(&req);
    req = parse_ok("{}");
    cr_assert_eq(req.max_events, POLL_EVENTS_MAX);
    poll_request_release(&req);
}

Test(poll_request, acks_and_errors_as_in_rfc_8936)
{
    struct poll_request req = parse_ok(
        "{\"ack\":[\"fb4e75b5411e4e19b6c0fe87950f7749\",\"3d0c3cf797584bd193bd0fb1bd4e7d30\"],"
        "\"setErrs\":{\"4d3559ec67504aaba65d40b0363faad8\":{\"err\":\"authentication_failed\","
        "\"description\":\"The SET could not be authenticated\"},"
        "\"e2c4a2f1\":{\"err\":\"invalid_key\"}},"
        "\"returnImmediately\":true,\"maxEvents\":10,\"future\":{\"x\":1}}");
    cr_assert_eq(req.max_events, 10);
    cr_assert(req.return_immediately);
    cr_assert_eq(req.n_acks, 2);
    cr_assert_str_eq(req.acks[1], "3d0c3cf797584bd193bd0fb1bd4e7d30");
    cr_assert_eq(req.n_errs, 2);
    cr_assert_str_eq(req.errs[0].jti, "4d3559ec67504aaba65d40b0363faad8");
    cr_assert_str_eq(req.errs[0].err, "authentication_failed");
    cr_assert_str_eq(req.errs[0].description, "The SET could not be authenticated");
    cr_assert_str_eq(req.errs[1].err, "invalid_key");
    cr_assert_null(req.errs[1].description);
    poll_request_release(&req);
    cr_assert_null(req.acks);
}

Test(poll_request, max_events_zero_acknowledges_only_and_large_values_are_clamped)
{
    struct poll_request req = parse_ok("{\"maxEvents\":0,\"ack\":[\"a\"]}");
    cr_assert_eq(req.max_events, 0);
    cr_assert_eq(req.n_acks, 1);
    poll_request_release(&req);
    req = parse_ok("{\"maxEvents\":9223372036854775807}");
    cr_assert_eq(req.max_events, POLL_EVENTS_MAX);
    poll_request_release(&req);
}

Test(poll_request, malformed_members_are_refused)
{
    static const struct {
        const char *body;
        enum status status;
    } bad[] = {
        { "[]", ERR_INVALID_SYNTAX },
        { "{\"ack\":[\"a\"]", ERR_INVALID_SYNTAX },
        { "{\"ack\":[],\"ack\":[]}", ERR_INVALID_SYNTAX },
        { "{\"maxEvents\":-1}", ERR_INVALID_VALUE },
        { "{\"maxEvents\":1.5}", ERR_INVALID_VALUE },
        { "{\"maxEvents\":\"10\"}", ERR_INVALID_VALUE },
        { "{\"returnImmediately\":\"true\"}", ERR_INVALID_VALUE },
        { "{\"returnImmediately\":1}", ERR_INVALID_VALUE },
        { "{\"ack\":\"a\"}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"\"]}", ERR_INVALID_VALUE },
        { "{\"ack\":[1]}", ERR_INVALID_VALUE },
        { "{\"ack\":[null]}", ERR_INVALID_VALUE },
        { "{\"setErrs\":[]}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"a\":\"invalid_key\"}}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"a\":{}}}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"a\":{\"err\":\"\"}}}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"a\":{\"err\":\"bad code\"}}}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"a\":{\"err\":\"x\",\"description\":5}}}", ERR_INVALID_VALUE },
        { "{\"setErrs\":{\"\":{\"err\":\"x\"}}}", ERR_INVALID_VALUE },
        { "{\"ack\":[\"a\"],\"setErrs\":{\"a\":{\"err\":\"x\"}}}", ERR_INVALID_VALUE },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct poll_request req;
        struct scim_error err = { 0 };
        cr_assert_eq(poll_request_parse(bad[i].body, strlen(bad[i].body), &req, &err),
                     bad[i].status, "%s: %s", bad[i].body, err.detail);
        cr_assert_eq(req.n_acks + req.n_errs, 0, "nothing left behind on failure");
        cr_assert_null(req.acks);
        cr_assert_null(strstr(err.detail, "bad code"), "detail does not echo values");
    }
}

Test(poll_request, limits_on_ids_and_counts)
{
    char jti[POLL_JTI_MAX + 2];
    memset(jti, 'j', sizeof(jti) - 1);
    jti[sizeof(jti) - 1] = '\0';
    char body[POLL_JTI_MAX + 64];
    snprintf(body, sizeof(body), "{\"ack\":[\"%s\"]}", jti);
    struct poll_request req;
    cr_assert_eq(poll_request_parse(body, strlen(body), &req, NULL), ERR_INVALID_VALUE);
    jti[POLL_JTI_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"ack\":[\"%s\"]}", jti);
    req = parse_ok(body);
    poll_request_release(&req);

    /* POLL_ACKS_MAX acks pass; one more (ack or error) does not */
    size_t cap = (POLL_ACKS_MAX + 2) * 8 + 64;
    char *many = malloc(cap);
    size_t len = (size_t)snprintf(many, cap, "{\"ack\":[");
    for (int i = 0; i < POLL_ACKS_MAX; i++)
        len += (size_t)snprintf(many + len, cap - len, "%s\"%d\"", i ? "," : "", i);
    snprintf(many + len, cap - len, "]}");
    req = parse_ok(many);
    cr_assert_eq(req.n_acks, POLL_ACKS_MAX);
    poll_request_release(&req);
    snprintf(many + len, cap - len, "],\"setErrs\":{\"x\":{\"err\":\"y\"}}}");
    cr_assert_eq(poll_request_parse(many, strlen(many), &req, NULL), ERR_INVALID_VALUE);
    free(many);
}
