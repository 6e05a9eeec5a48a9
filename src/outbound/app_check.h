/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app_check.h - `scimd app test`: can scimd provision into this app?  The
 * checks an IdP's "Test Connection" makes, with the app's own credential, TLS
 * rules and address guard: the address may be contacted, ServiceProviderConfig
 * (optional) reads as one, and a `userName eq` lookup of a name nobody has
 * answers an empty ListResponse.
 *
 * Does: run the checks in order, report each step to a callback, stop at the
 * first failure and say what kind it is.  Creates, changes and deletes nothing
 * downstream.  Does not: touch the store, or print (the CLI does).
 * Never reports a credential: details come from scim_client, which cuts them.
 * Thread safety: no shared state.
 */
#ifndef SCIMD_OUTBOUND_APP_CHECK_H
#define SCIMD_OUTBOUND_APP_CHECK_H

#include <stdbool.h>

#include "core/secretbox.h"
#include "outbound/scim_client.h"
#include "store/store.h"

#define APP_CHECK_DETAIL_MAX 320

/* The verdict, most specific first; the CLI's exit code follows it. */
enum app_check_result {
    APP_CHECK_OK = 0,
    APP_CHECK_REFUSED,         /* the address guard refuses the app's address */
    APP_CHECK_UNREACHABLE,     /* no such host, connection refused, timeout, TLS failure */
    APP_CHECK_BAD_CREDENTIALS, /* 401 / 403 */
    APP_CHECK_NOT_SCIM,        /* it answers, but not as a SCIM service provider */
    APP_CHECK_APP_ERROR,       /* 5xx, 429 or an unusable setup: try again or fix the app */
};

enum app_check_state { APP_CHECK_STEP_PASSED, APP_CHECK_STEP_SKIPPED, APP_CHECK_STEP_FAILED };

struct app_check_step {
    const char *name;    /* e.g. "ServiceProviderConfig" */
    const char *request; /* e.g. "GET /ServiceProviderConfig", or NULL */
    enum app_check_state state;
    long http_status; /* 0: no HTTP answer */
    char detail[APP_CHECK_DETAIL_MAX];
};
typedef void (*app_check_step_fn)(void *ctx, const struct app_check_step *step);

/* Short lowercase name of a verdict, e.g. "bad credentials". */
const char *app_check_result_name(enum app_check_result r);

/* Run the checks against profile; each step goes to fn (may be NULL). */
enum app_check_result app_check_run(const struct scim_app_profile *profile, app_check_step_fn fn,
                                    void *ctx);

/*
 * The same for a stored app: its credential opened with box (an
 * APP_CHECK_APP_ERROR step when it does not open), its CA file and PUT-only
 * flag, allow_private as `serve --outbound-allow-private` would.
 */
enum app_check_result app_check_app(const struct secretbox *box, const struct store_app *app,
                                    bool allow_private, app_check_step_fn fn, void *ctx);

#endif
