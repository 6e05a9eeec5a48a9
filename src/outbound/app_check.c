/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app_check.c - this file contains `scimd app test`'s checks of a downstream
 * app (see app_check.h): address, ServiceProviderConfig, an empty lookup.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/str.h"
#include "directory/apps.h"
#include "outbound/addr_guard.h"
#include "outbound/app_check.h"

#define SPC_SCHEMA  "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define TEST_PREFIX "scimd-test-" /* the name looked up: nobody has it */

/* clang-format off */
static const char *const result_names[] = {
    [APP_CHECK_OK]              = "ok",
    [APP_CHECK_REFUSED]         = "address refused",
    [APP_CHECK_UNREACHABLE]     = "unreachable",
    [APP_CHECK_BAD_CREDENTIALS] = "bad credentials",
    [APP_CHECK_NOT_SCIM]        = "not a SCIM service provider",
    [APP_CHECK_APP_ERROR]       = "app error",
};
/* clang-format on */

const char *app_check_result_name(enum app_check_result r)
{
    if ((size_t)r >= sizeof(result_names) / sizeof(result_names[0]))
        return "unknown";
    return result_names[r];
}

static void report(app_check_step_fn fn, void *ctx, struct app_check_step *step,
                   enum app_check_state state, long http_status, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void report(app_check_step_fn fn, void *ctx, struct app_check_step *step,
                   enum app_check_state state, long http_status, const char *fmt, ...)
{
    step->state = state;
    step->http_status = http_status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(step->detail, sizeof(step->detail), fmt, ap);
    va_end(ap);
    if (fn)
        fn(ctx, step);
}

/* A request that did not answer 2xx: the verdict and a step saying why. */
static enum app_check_result failed(const struct scim_client_result *res, app_check_step_fn fn,
                                    void *ctx, struct app_check_step *step)
{
    long st = res->http_status;
    enum app_check_result r;
    const char *why;
    if (res->outcome == SCIM_CLIENT_BLOCKED) {
        r = APP_CHECK_REFUSED;
        why = "refused: ";
    } else if (st == 0) {
        r = res->outcome == SCIM_CLIENT_PERMANENT ? APP_CHECK_APP_ERROR : APP_CHECK_UNREACHABLE;
        why = r == APP_CHECK_UNREACHABLE ? "no answer: " : "";
    } else if (st == 401 || st == 403) {
        r = APP_CHECK_BAD_CREDENTIALS;
        why = "the app refuses the credential: ";
    } else if (st == 429 || st >= 500) {
        r = APP_CHECK_APP_ERROR;
        why = st == 429 ? "rate limited, try again later: " : "the app failed: ";
    } else {
        r = APP_CHECK_NOT_SCIM;
        why = "not a SCIM answer: ";
    }
    report(fn, ctx, step, APP_CHECK_STEP_FAILED, st, "%s%s", why, res->detail);
    return r;
}

/* Is body a ServiceProviderConfig?  out: what it says it supports. */
static bool read_spc(const char *body, size_t len, char *out, size_t size)
{
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    bool is_spc = false;
    if (json_is_object(j)) {
        const json_t *schemas = json_object_get(j, "schemas");
        size_t i;
        const json_t *s;
        json_array_foreach(schemas, i, s)
        {
            if (json_is_string(s) && str_ieq(json_string_value(s), SPC_SCHEMA))
                is_spc = true;
        }
        is_spc = is_spc || json_is_object(json_object_get(j, "patch"));
    }
    if (is_spc) {
        const json_t *patch = json_object_get(json_object_get(j, "patch"), "supported");
        const json_t *filter = json_object_get(json_object_get(j, "filter"), "supported");
        snprintf(out, size, "patch %s, filter %s",
                 json_is_true(patch) ? "supported" : "not supported",
                 json_is_true(filter) ? "supported" : "not supported");
    }
    json_decref(j);
    return is_spc;
}

enum app_check_result app_check_run(const struct scim_app_profile *profile, app_check_step_fn fn,
                                    void *ctx)
{
    struct app_check_step step = { .name = "address" };
    struct scim_error err;
    scim_error_clear(&err);
    enum status rc = addr_guard_check_url(profile->base_url, profile->allow_private, &err);
    if (rc != OK) {
        bool hint = rc == ERR_FORBIDDEN && !profile->allow_private;
        report(fn, ctx, &step, APP_CHECK_STEP_FAILED, 0, "%s%s", err.detail,
               hint ? " (loopback, private and link-local addresses need "
                      "--outbound-allow-private)"
                    : "");
        return rc == ERR_FORBIDDEN     ? APP_CHECK_REFUSED
               : rc == ERR_UNAVAILABLE ? APP_CHECK_UNREACHABLE
                                       : APP_CHECK_APP_ERROR;
    }
    report(fn, ctx, &step, APP_CHECK_STEP_PASSED, 0, "may be contacted");

    struct scim_client *c = NULL;
    step = (struct app_check_step){ .name = "client" };
    if (scim_client_new(profile, &c, &err) != OK) {
        report(fn, ctx, &step, APP_CHECK_STEP_FAILED, 0, "%s", err.detail);
        return APP_CHECK_APP_ERROR;
    }
    struct scim_client_result res = { 0 };
    enum app_check_result verdict = APP_CHECK_OK;

    step = (struct app_check_step){ .name = "ServiceProviderConfig",
                                    .request = "GET /ServiceProviderConfig" };
    enum scim_client_outcome o =
        scim_client_get(c, SCIM_CLIENT_SERVICE_PROVIDER_CONFIG, NULL, &res);
    char what[160];
    if (o == SCIM_CLIENT_OK && read_spc(res.body, res.body_len, what, sizeof(what))) {
        report(fn, ctx, &step, APP_CHECK_STEP_PASSED, res.http_status, "%s", what);
    } else if (o == SCIM_CLIENT_OK) {
        report(fn, ctx, &step, APP_CHECK_STEP_FAILED, res.http_status,
               "the answer is not a ServiceProviderConfig");
        verdict = APP_CHECK_NOT_SCIM;
    } else if (res.http_status == 404 || res.http_status == 405 || res.http_status == 501) {
        report(fn, ctx, &step, APP_CHECK_STEP_SKIPPED, res.http_status, "not published (optional)");
    } else {
        verdict = failed(&res, fn, ctx, &step);
    }

    if (verdict == APP_CHECK_OK) {
        char name[sizeof(TEST_PREFIX) + CRYPTO_UUID_LEN];
        char uuid[CRYPTO_UUID_LEN];
        if (crypto_uuid(uuid) != OK)
            str_copy(uuid, sizeof(uuid), "0");
        snprintf(name, sizeof(name), TEST_PREFIX "%s", uuid);
        step = (struct app_check_step){ .name = "user lookup",
                                        .request = "GET /Users?filter=userName eq \"" TEST_PREFIX
                                                   "<random>\"" };
        o = scim_client_find(c, SCIM_CLIENT_USERS, "userName", name, &res);
        if (o == SCIM_CLIENT_OK && res.total == 0) {
            report(fn, ctx, &step, APP_CHECK_STEP_PASSED, res.http_status,
                   "an empty ListResponse, as expected");
        } else if (o == SCIM_CLIENT_OK) {
            report(fn, ctx, &step, APP_CHECK_STEP_FAILED, res.http_status,
                   "the filter is not honoured: %ld user(s) for a name nobody has", res.total);
            verdict = APP_CHECK_NOT_SCIM;
        } else if (res.http_status >= 200 && res.http_status < 300) {
            report(fn, ctx, &step, APP_CHECK_STEP_FAILED, res.http_status, "not a SCIM answer: %s",
                   res.detail);
            verdict = APP_CHECK_NOT_SCIM;
        } else {
            verdict = failed(&res, fn, ctx, &step);
        }
    }
    scim_client_result_release(&res);
    scim_client_free(c);
    return verdict;
}

enum app_check_result app_check_app(const struct secretbox *box, const struct store_app *app,
                                    bool allow_private, app_check_step_fn fn, void *ctx)
{
    struct app_check_step step = { .name = "credential" };
    char owner[64];
    snprintf(owner, sizeof(owner), DIRECTORY_APP_CREDENTIAL_OWNER, app->id);
    char *secret = NULL;
    if (secretbox_open(box, owner, app->credential ? app->credential : "", &secret) != OK) {
        report(fn, ctx, &step, APP_CHECK_STEP_FAILED, 0,
               "the app's credential does not open with this key file");
        return APP_CHECK_APP_ERROR;
    }
    bool bearer = strcmp(app->auth, "bearer") == 0;
    struct scim_app_profile profile = {
        .base_url = app->scim_url,
        .auth = bearer ? SCIM_CLIENT_AUTH_BEARER : SCIM_CLIENT_AUTH_BASIC,
        .token = bearer ? secret : NULL,
        .basic_user = bearer ? NULL : app->basic_user,
        .basic_password = bearer ? NULL : secret,
        .ca_file = app->ca_file[0] ? app->ca_file : NULL,
        .put_only = app->put_only,
        .allow_private = allow_private,
    };
    enum app_check_result r = app_check_run(&profile, fn, ctx);
    secretbox_plain_free(secret);
    return r;
}
