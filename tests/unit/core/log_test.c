/*
 * log_test.c - log entries as text and JSON lines, and the redaction of
 * secrets from every message and field.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/log.h"

static const char *redact(const char *in)
{
    static char out[512];
    return log_redact(in, out, sizeof(out));
}

Test(log, redacts_url_passwords_conninfo_bearer_and_tokens)
{
    cr_assert_str_eq(redact("cannot open postgres://scimd:s3cret@db:5432/x now"),
                     "cannot open postgres://scimd:***@db:5432/x now");
    cr_assert_str_eq(redact("host=db password=s3cret user=u"), "host=db password=*** user=u");
    cr_assert_str_eq(redact("password='a b c' x"), "password=*** x");
    cr_assert_str_eq(redact("Authorization: Bearer abc.def"), "Authorization: Bearer ***");
    cr_assert_str_eq(redact("token scimd_0123456789abcdefABCDEF0123456789abcdefABCDEF01 used"),
                     "token scimd_*** used");
    /* what is not a secret stays */
    cr_assert_str_eq(redact("postgres://scimd@db/x http://127.0.0.1:8080/scim"),
                     "postgres://scimd@db/x http://127.0.0.1:8080/scim");
    cr_assert_str_eq(redact("scimd_request_failed"), "scimd_request_failed");
    cr_assert_str_eq(redact("nopassword=1"), "nopassword=1");
}

Test(log, redact_cuts_at_the_buffer)
{
    char out[8];
    cr_assert_str_eq(log_redact("0123456789", out, sizeof(out)), "0123456");
}

Test(log, text_entry_has_time_level_message_and_fields)
{
    char line[256];
    struct log_field f[] = { { "db", "postgres://u:pw@h/d" }, { "skip", NULL }, { "who", "a b" } };
    log_current_format = LOG_FORMAT_TEXT;
    log_format_entry(line, sizeof(line), "2026-01-01T00:00:00.000Z", LOG_INFO, "started", f, 3);
    cr_assert_str_eq(line, "2026-01-01T00:00:00.000Z info started db=postgres://u:***@h/d "
                           "who=\"a b\"");
}

Test(log, json_entry_is_one_object_escaped_and_redacted)
{
    char line[256];
    struct log_field f[] = { { "listen", "127.0.0.1:8080" } };
    log_current_format = LOG_FORMAT_JSON;
    log_format_entry(line, sizeof(line), "T", LOG_WARN, "say \"hi\"\n Bearer xyz", f, 1);
    log_current_format = LOG_FORMAT_TEXT;
    cr_assert_str_eq(line, "{\"time\":\"T\",\"level\":\"warn\",\"msg\":\"say \\\"hi\\\"\\u000a "
                           "Bearer ***\",\"listen\":\"127.0.0.1:8080\"}");
}

Test(log, json_entry_cut_short_still_closes)
{
    char line[40];
    char msg[200];
    memset(msg, 'x', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    log_current_format = LOG_FORMAT_JSON;
    size_t n = log_format_entry(line, sizeof(line), "T", LOG_INFO, msg, NULL, 0);
    log_current_format = LOG_FORMAT_TEXT;
    cr_assert_eq(n, strlen(line));
    cr_assert(n < sizeof(line));
    cr_assert_str_eq(line + n - 2, "\"}", "ends as an object: %s", line);
}

Test(log, formats_and_levels_parse)
{
    enum log_format f;
    enum log_level l;
    cr_assert(log_format_parse("JSON", &f) && f == LOG_FORMAT_JSON);
    cr_assert(!log_format_parse("xml", &f));
    cr_assert(log_level_parse("debug", &l) && l == LOG_DEBUG);
}

Test(log, request_id_is_req_in_text_and_a_member_in_json)
{
    char line[256];
    struct log_field f[] = { { "k", "v" } };
    log_request_id = "abc-123";
    log_format_entry(line, sizeof(line), "T", LOG_INFO, "hello", f, 1);
    cr_assert_str_eq(line, "T info req=abc-123 hello k=v");
    log_current_format = LOG_FORMAT_JSON;
    log_format_entry(line, sizeof(line), "T", LOG_INFO, "hello", f, 1);
    log_current_format = LOG_FORMAT_TEXT;
    log_request_id = NULL;
    cr_assert_str_eq(line, "{\"time\":\"T\",\"level\":\"info\",\"msg\":\"hello\","
                           "\"request_id\":\"abc-123\",\"k\":\"v\"}");
}
