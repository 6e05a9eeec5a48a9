/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook_http_test.c - the webhook POST behind the SSRF guard: loopback and
 * cloud metadata targets are refused before any connection unless private
 * addresses are allowed (metadata never), and a target that does not answer
 * is a result with no status, not a failure of the caller.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "events/webhook_http.h"

static struct webhook_http_result post(bool allow_private, const char *url)
{
    struct webhook_http *h = NULL;
    struct scim_error err;
    cr_assert_eq(webhook_http_new(allow_private, &h, &err), OK);
    const char *headers[] = { "webhook-id: msg_1" };
    struct webhook_http_result res;
    webhook_http_post(h, url, "application/json", headers, 1, "{}", 2, &res);
    webhook_http_free(h);
    return res;
}

Test(webhook_http, loopback_is_refused_unless_allowed)
{
    struct webhook_http_result res = post(false, "http://127.0.0.1:9/hook");
    cr_assert(res.blocked);
    cr_assert_eq(res.status, 0);
    cr_assert_str_eq(res.detail, "refused to connect to a loopback address");
    webhook_http_result_release(&res);

    res = post(true, "http://127.0.0.1:9/hook"); /* allowed, but nothing listens there */
    cr_assert_not(res.blocked);
    cr_assert_eq(res.status, 0);
    cr_assert_neq(res.detail[0], '\0');
    webhook_http_result_release(&res);
}

Test(webhook_http, metadata_is_refused_always)
{
    struct webhook_http_result res = post(true, "http://169.254.169.254/latest/meta-data/");
    cr_assert(res.blocked);
    cr_assert(strstr(res.detail, "metadata") != NULL, "%s", res.detail);
    webhook_http_result_release(&res);
}
