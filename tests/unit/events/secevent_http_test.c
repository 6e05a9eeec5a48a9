/*
 * secevent_http_test.c - RFC 8935/8936 bodies: a push recipient's 400 error
 * parsed (codes kept, descriptions made safe to log, junk refused), scimd's
 * own error bodies, and the poll answer.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "events/secevent_http.h"

static enum status parse(const char *body, struct secevent_error *out)
{
    return secevent_error_parse(body, strlen(body), out);
}

Test(secevent_http, a_recipients_error_is_read_as_rfc_8935_has_it)
{
    struct secevent_error e;
    cr_assert_eq(parse("{\"err\":\"invalid_key\",\"description\":\"Key ID 12345 has been "
                       "revoked.\"}",
                       &e),
                 OK);
    cr_assert_str_eq(e.err, "invalid_key");
    cr_assert_str_eq(e.description, "Key ID 12345 has been revoked.");
    cr_assert_eq(parse("{\"err\":\"access_denied\"}", &e), OK);
    cr_assert_str_eq(e.description, "");
}

Test(secevent_http, descriptions_are_made_safe_for_one_log_line)
{
    struct secevent_error e;
    cr_assert_eq(parse("{\"err\":\"invalid_request\",\"description\":\"bad\\nnews \\u00e9\"}", &e),
                 OK);
    cr_assert_null(strchr(e.description, '\n'));
    cr_assert_str_eq(e.description, "bad?news ??");
    char body[2048];
    char longdesc[1000];
    memset(longdesc, 'd', sizeof(longdesc) - 1);
    longdesc[sizeof(longdesc) - 1] = '\0';
    snprintf(body, sizeof(body), "{\"err\":\"x\",\"description\":\"%s\"}", longdesc);
    cr_assert_eq(parse(body, &e), OK);
    cr_assert_eq(strlen(e.description), SECEVENT_DESCRIPTION_MAX);
}

Test(secevent_http, anything_else_is_not_an_rfc_8935_refusal)
{
    static const char *bad[] = {
        "",
        "<html>Bad Request</html>",
        "[]",
        "{}",
        "{\"err\":5}",
        "{\"err\":\"\"}",
        "{\"err\":\"bad code\"}",
        "{\"err\":\"a\",\"err\":\"b\"}",
        "{\"error\":\"invalid_key\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct secevent_error e;
        cr_assert_eq(parse(bad[i], &e), ERR_INVALID_VALUE, "%s", bad[i]);
        cr_assert_str_eq(e.err, "");
    }
    char huge[SECEVENT_ERROR_BODY_MAX + 2];
    memset(huge, ' ', sizeof(huge));
    memcpy(huge, "{\"err\":\"x\"}", 11);
    struct secevent_error e;
    cr_assert_eq(secevent_error_parse(huge, sizeof(huge), &e), ERR_INVALID_VALUE);
}

Test(secevent_http, scimd_writes_error_bodies_and_poll_answers)
{
    char *json = NULL;
    cr_assert_eq(
        secevent_error_json("invalid_request", "'maxEvents' must be an integer >= 0", &json), OK);
    cr_assert_str_eq(json, "{\"err\":\"invalid_request\",\"description\":\"'maxEvents' must be an "
                           "integer >= 0\"}");
    free(json);
    cr_assert_eq(secevent_error_json("access_denied", NULL, &json), OK);
    cr_assert_str_eq(json, "{\"err\":\"access_denied\"}");
    free(json);

    const char *jtis[] = { "j1", "j2" }, *sets[] = { "h.p.s", "h2.p2.s2" };
    cr_assert_eq(secevent_poll_response_json(jtis, sets, 2, true, &json), OK);
    json_t *doc = json_loads(json, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "sets"), "j2")),
                     "h2.p2.s2");
    cr_assert(json_is_true(json_object_get(doc, "moreAvailable")));
    json_decref(doc);
    free(json);
    cr_assert_eq(secevent_poll_response_json(NULL, NULL, 0, false, &json), OK);
    cr_assert_str_eq(json, "{\"sets\":{},\"moreAvailable\":false}");
    free(json);
}
