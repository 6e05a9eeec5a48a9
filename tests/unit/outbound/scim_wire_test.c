/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_wire_test.c - what scimd sends to and reads from downstream apps: HTTP
 * dates and Retry-After (table-driven), SCIM error bodies, ListResponse and ids,
 * percent-encoding, the eq filter and the member PatchOp.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "outbound/scim_wire.h"

#define NOW 1796304846 /* 2026-12-03T13:34:06Z */

Test(scim_wire, http_dates_in_all_three_forms)
{
    /* clang-format off */
    static const struct {
        const char *text;
        bool ok;
        int64_t epoch;
    } cases[] = {
        { "Sun, 06 Nov 1994 08:49:37 GMT",  true,  784111777  }, /* IMF-fixdate */
        { "Sunday, 06-Nov-94 08:49:37 GMT", true,  784111777  }, /* RFC 850 */
        { "Sun Nov  6 08:49:37 1994",       true,  784111777  }, /* asctime */
        { "Thu, 03 Dec 2026 13:34:06 GMT",  true,  NOW        },
        { "Tue, 29 Feb 2000 00:00:00 GMT",  true,  951782400  }, /* leap day */
        { "Thu, 01 Jan 1970 00:00:00 GMT",  true,  0          },
        { "Thu, 31 Dec 2099 23:59:59 GMT",  true,  4102444799 },
        { "Wed, 31 Dec 2098 23:59:60 GMT",  true,  4070908799 }, /* leap second */
        { "Thursday, 03-Dec-26 13:34:06 GMT", true, NOW       },
        { "Sun, 29 Feb 2026 00:00:00 GMT",  false, 0 }, /* not a leap year */
        { "Sun, 31 Apr 2026 00:00:00 GMT",  false, 0 },
        { "Sun, 06 Nov 1994 24:00:00 GMT",  false, 0 },
        { "Sun, 06 Nov 1994 08:49:37 UTC",  false, 0 },
        { "Sun, 06 Nov 1994 08:49:37",      false, 0 },
        { "Sun, 6 Nov 1994 08:49:37 GMT",   false, 0 },
        { "Sun, 06 Xyz 1994 08:49:37 GMT",  false, 0 },
        { "Sun, 06 Nov 1994 08:49:37 GMT ", false, 0 }, /* trailing junk */
        { "Sun, 06 Nov 1969 08:49:37 GMT",  false, 0 }, /* before the epoch */
        { "Fun, 06 Nov 1994 08:49:37 GMT",  false, 0 },
        { "Sun, -6 Nov 1994 08:49:37 GMT",  false, 0 },
        { "2026-12-03T13:34:06Z",           false, 0 },
        { "",                               false, 0 },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = -1;
        bool ok = scim_wire_http_date(cases[i].text, strlen(cases[i].text), &got);
        cr_assert_eq(ok, cases[i].ok, "'%s'", cases[i].text);
        if (ok)
            cr_assert_eq(got, cases[i].epoch, "'%s': got %lld", cases[i].text, (long long)got);
    }
}

Test(scim_wire, retry_after_in_seconds_or_as_a_date)
{
    /* clang-format off */
    static const struct {
        const char *text;
        bool ok;
        long seconds;
    } cases[] = {
        { "120",                           true,  120 },
        { "0",                             true,  0 },
        { " 7 ",                           true,  7 },
        { "7\r\n",                         true,  7 }, /* as a header line arrives */
        { "99999999999999999999999",       true,  SCIM_WIRE_RETRY_AFTER_MAX_S },
        { "86401",                         true,  SCIM_WIRE_RETRY_AFTER_MAX_S },
        { "Thu, 03 Dec 2026 13:35:06 GMT", true,  60 },  /* a minute after NOW */
        { "Thu, 03 Dec 2026 13:34:06 GMT", true,  0 },   /* NOW */
        { "Thu, 03 Dec 2026 13:00:00 GMT", true,  0 },   /* in the past */
        { "Thursday, 03-Dec-26 13:36:06 GMT", true, 120 },
        { "Thu Dec  3 13:34:16 2026",      true,  10 },
        { "Fri, 03 Dec 2027 13:34:06 GMT", true,  SCIM_WIRE_RETRY_AFTER_MAX_S },
        { "-5",                            false, 0 },
        { "1.5",                           false, 0 },
        { "5s",                            false, 0 },
        { "soon",                          false, 0 },
        { "",                              false, 0 },
        { "   ",                           false, 0 },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = -1;
        bool ok = scim_wire_retry_after(cases[i].text, strlen(cases[i].text), NOW, &got);
        cr_assert_eq(ok, cases[i].ok, "'%s'", cases[i].text);
        cr_assert_eq(got, ok ? cases[i].seconds : -1, "'%s': got %ld", cases[i].text, got);
    }
    long got = -1;
    cr_assert_not(scim_wire_retry_after(NULL, 0, NOW, &got));
}

Test(scim_wire, error_bodies_give_scim_type_and_detail_for_logs)
{
    char type[SCIM_WIRE_SCIM_TYPE_MAX];
    char detail[SCIM_WIRE_DETAIL_MAX];
    const char *body = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
                       "\"status\":\"409\",\"scimType\":\"uniqueness\",\"detail\":\"userName "
                       "taken\\nsecond line\"}";
    scim_wire_error(body, strlen(body), type, detail);
    cr_assert_str_eq(type, "uniqueness");
    cr_assert_str_eq(detail, "userName taken second line"); /* control characters flattened */

    /* case-insensitive names, no schemas (many apps) */
    body = "{\"SCIMTYPE\":\"invalidValue\",\"Detail\":\"bad\"}";
    scim_wire_error(body, strlen(body), type, detail);
    cr_assert_str_eq(type, "invalidValue");
    cr_assert_str_eq(detail, "bad");

    /* not SCIM: nothing */
    const char *junk[] = { "<html>502 Bad Gateway</html>", "", "[1,2]", "{\"detail\":5}" };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        scim_wire_error(junk[i], strlen(junk[i]), type, detail);
        cr_assert_str_eq(type, "");
        cr_assert_str_eq(detail, "");
    }
    scim_wire_error(NULL, 0, type, detail);
    cr_assert_str_eq(detail, "");

    /* a long detail is cut at a UTF-8 boundary */
    char longbody[2048];
    size_t n = (size_t)snprintf(longbody, sizeof(longbody), "{\"detail\":\"");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(longbody + n, sizeof(longbody) - n, "\xc3\xa9");
    snprintf(longbody + n, sizeof(longbody) - n, "\"}");
    scim_wire_error(longbody, strlen(longbody), type, detail);
    cr_assert_lt(strlen(detail), SCIM_WIRE_DETAIL_MAX);
    cr_assert_eq(strlen(detail) % 2, 0, "cut inside a 2-byte character");
}

Test(scim_wire, list_responses_and_resource_ids)
{
    char id[SCIM_WIRE_ID_MAX];
    long total = -1;
    const char *one = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],"
                      "\"totalResults\":1,\"Resources\":[{\"id\":\"abc-1\",\"userName\":\"x\"}]}";
    cr_assert_eq(scim_wire_list(one, strlen(one), &total, id), OK);
    cr_assert_eq(total, 1);
    cr_assert_str_eq(id, "abc-1");

    const char *none = "{\"totalResults\":0,\"Resources\":[]}";
    cr_assert_eq(scim_wire_list(none, strlen(none), &total, id), OK);
    cr_assert_eq(total, 0);
    cr_assert_str_eq(id, "");

    const char *no_total = "{\"Resources\":[{\"id\":\"a\"},{\"id\":\"b\"}]}";
    cr_assert_eq(scim_wire_list(no_total, strlen(no_total), &total, id), OK);
    cr_assert_eq(total, 2);
    cr_assert_str_eq(id, "a");

    const char *zero_no_resources = "{\"totalResults\":0}";
    cr_assert_eq(scim_wire_list(zero_no_resources, strlen(zero_no_resources), &total, id), OK);
    cr_assert_eq(total, 0);

    /* clang-format off */
    static const struct {
        const char *body;
        enum status want;
    } bad[] = {
        { "{}",                                          ERR_INVALID_SYNTAX },
        { "not json",                                    ERR_INVALID_SYNTAX },
        { "{\"Resources\":{}}",                          ERR_INVALID_SYNTAX },
        { "{\"totalResults\":\"1\"}",                    ERR_INVALID_SYNTAX },
        { "{\"totalResults\":1,\"Resources\":[{}]}",     ERR_INVALID_VALUE  },
        { "{\"totalResults\":1,\"Resources\":[7]}",      ERR_INVALID_VALUE  },
        { "{\"totalResults\":1,\"Resources\":[{\"id\":\"\"}]}", ERR_INVALID_VALUE },
        { "{\"totalResults\":1,\"Resources\":[{\"id\":\"a\\u0001b\"}]}", ERR_INVALID_VALUE },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(scim_wire_list(bad[i].body, strlen(bad[i].body), &total, id), bad[i].want,
                     "%s", bad[i].body);
    }

    const char *res = "{\"ID\":\"u-42\",\"userName\":\"x\"}";
    cr_assert_eq(scim_wire_resource_id(res, strlen(res), id), OK);
    cr_assert_str_eq(id, "u-42");
    cr_assert_eq(scim_wire_resource_id("{\"id\":42}", 9, id), ERR_INVALID_VALUE);
    cr_assert_eq(scim_wire_resource_id("", 0, id), ERR_INVALID_SYNTAX);

    char big[SCIM_WIRE_ID_MAX + 32];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_not(scim_wire_id_valid(big, strlen(big)));
    cr_assert(scim_wire_id_valid(big, SCIM_WIRE_ID_MAX - 1));
    cr_assert_not(scim_wire_id_valid("\xff", 1));
}

Test(scim_wire, eq_filter_quotes_escapes_and_percent_encodes)
{
    /* clang-format off */
    static const struct {
        const char *attr;
        const char *value;
        const char *want;
    } cases[] = {
        { "userName",   "ada@example.com",
          "filter=userName%20eq%20%22ada%40example.com%22" },
        { "userName",   "o\"brien\\x",
          "filter=userName%20eq%20%22o%5C%22brien%5C%5Cx%22" },
        { "externalId", "a b&c=d+e/f?g#h",
          "filter=externalId%20eq%20%22a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%22" },
        { "displayName", "caf\xc3\xa9",
          "filter=displayName%20eq%20%22caf%C3%A9%22" },
        { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "7",
          "filter=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Aextension%3Aenterprise%3A2.0%3AUser%3A"
          "employeeNumber%20eq%20%227%22" },
        { "userName",   "tab\there",
          "filter=userName%20eq%20%22tab%5Cthere%22" },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        cr_assert_eq(scim_wire_eq_filter(&b, cases[i].attr, cases[i].value), OK);
        cr_assert_str_eq(b.data, cases[i].want);
        buf_release(&b);
    }
    struct buf b;
    buf_init(&b, 0);
    cr_assert_eq(scim_wire_eq_filter(&b, "userName", "\xc3"), ERR_INVALID_VALUE);
    cr_assert_eq(scim_wire_eq_filter(&b, "user Name", "x"), ERR_INVALID_VALUE);
    cr_assert_eq(scim_wire_eq_filter(&b, "userName) or (id", "x"), ERR_INVALID_VALUE);
    cr_assert_eq(scim_wire_eq_filter(&b, "", "x"), ERR_INVALID_VALUE);
    cr_assert_eq(scim_wire_eq_filter(&b, "userName", NULL), ERR_INVALID_VALUE);
    buf_release(&b);
}

Test(scim_wire, members_patch_adds_in_one_op_and_removes_by_filter_path)
{
    const char *add[] = { "u1", "u\"2" };
    const char *rm[] = { "u3" };
    struct buf b;
    buf_init(&b, 0);
    cr_assert_eq(scim_wire_members_patch(&b, add, 2, rm, 1), OK);
    json_error_t jerr;
    json_t *doc = json_loads(b.data, 0, &jerr);
    cr_assert_not_null(doc, "%s", b.data);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "schemas"), 0)),
                     "urn:ietf:params:scim:api:messages:2.0:PatchOp");
    json_t *ops = json_object_get(doc, "Operations");
    cr_assert_eq(json_array_size(ops), 2);
    json_t *op0 = json_array_get(ops, 0);
    cr_assert_str_eq(json_string_value(json_object_get(op0, "op")), "add");
    cr_assert_str_eq(json_string_value(json_object_get(op0, "path")), "members");
    json_t *vals = json_object_get(op0, "value");
    cr_assert_eq(json_array_size(vals), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(vals, 1), "value")), "u\"2");
    json_t *op1 = json_array_get(ops, 1);
    cr_assert_str_eq(json_string_value(json_object_get(op1, "op")), "remove");
    cr_assert_str_eq(json_string_value(json_object_get(op1, "path")), "members[value eq \"u3\"]");
    json_decref(doc);

    buf_reset(&b);
    cr_assert_eq(scim_wire_members_patch(&b, NULL, 0, rm, 1), OK);
    cr_assert(strstr(b.data, "\"add\"") == NULL);
    const char *bad[] = { "\xff" };
    buf_reset(&b);
    cr_assert_eq(scim_wire_members_patch(&b, bad, 1, NULL, 0), ERR_INVALID_VALUE);
    buf_reset(&b);
    cr_assert_eq(scim_wire_members_patch(&b, NULL, 0, bad, 1), ERR_INVALID_VALUE);
    buf_release(&b);
}
