/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_client_test.c - the outbound SCIM client against a real SCIM app: the
 * downstream fixture (tests/fixtures/downstream/server.mjs) started on a free
 * loopback port for each test.  Real HTTP, no mocks: every operation, every
 * outcome class the fixture's faults produce, member batches, connection reuse,
 * the address guard, and that credentials never come back in a detail.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "core/version.h"
#include "outbound/scim_client.h"

#include "downstream.h"

#define USER_JSON(name)                                                                            \
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"" name           \
    "\",\"externalId\":\"ext-" name "\",\"active\":true,\"name\":{\"givenName\":\"Ada\"}}"
#define DEACTIVATE                                                                                 \
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":"    \
    "\"replace\",\"path\":\"active\",\"value\":false}]}"

static struct downstream ds;
static struct scim_client *client;
static struct scim_client_result res;

/* A client for the fixture with allow_private on (it listens on loopback). */
static struct scim_client *client_for(const char *base, const char *token, size_t batch,
                                      long timeout_ms, bool put_only)
{
    struct scim_app_profile p = {
        .base_url = base,
        .auth = SCIM_CLIENT_AUTH_BEARER,
        .token = token,
        .member_batch = batch,
        .timeout_ms = timeout_ms,
        .put_only = put_only,
        .allow_private = true,
    };
    struct scim_client *c = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_client_new(&p, &c, &err), OK, "%s", err.detail);
    return c;
}

static void start(void)
{
    downstream_start(&ds, NULL);
    client = client_for(ds.base, DOWNSTREAM_TOKEN, 0, 0, false);
}

static void stop(void)
{
    scim_client_result_release(&res);
    scim_client_free(client);
    client = NULL;
    downstream_stop(&ds);
}

TestSuite(scim_client, .init = start, .fini = stop, .timeout = 60);

/* Create a user and return its remote id (static storage). */
static const char *create(const char *json)
{
    static char id[SCIM_WIRE_ID_MAX];
    cr_assert_eq(scim_client_create(client, SCIM_CLIENT_USERS, json, &res), SCIM_CLIENT_OK,
                 "create: %s", res.detail);
    cr_assert_eq(res.http_status, 201);
    str_copy(id, sizeof(id), res.id);
    return id;
}

static size_t log_length(void)
{
    json_t *log = downstream_log(&ds);
    size_t n = json_array_size(log);
    json_decref(log);
    return n;
}

Test(scim_client, create_find_get_patch_put_delete_round_trip)
{
    char id[SCIM_WIRE_ID_MAX];
    str_copy(id, sizeof(id), create(USER_JSON("ada@example.com")));
    cr_assert_neq(id[0], '\0');

    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "ADA@example.com", &res),
                 SCIM_CLIENT_OK, "%s", res.detail);
    cr_assert_eq(res.total, 1);
    cr_assert_str_eq(res.id, id);
    cr_assert_eq(
        scim_client_find(client, SCIM_CLIENT_USERS, "externalId", "ext-ada@example.com", &res),
        SCIM_CLIENT_OK);
    cr_assert_str_eq(res.id, id);
    cr_assert_eq(
        scim_client_find(client, SCIM_CLIENT_USERS, "userName", "nobody@example.com", &res),
        SCIM_CLIENT_OK);
    cr_assert_eq(res.total, 0);
    cr_assert_str_eq(res.id, "");

    cr_assert_eq(scim_client_patch(client, SCIM_CLIENT_USERS, id, DEACTIVATE, &res), SCIM_CLIENT_OK,
                 "%s", res.detail);
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_USERS, id, &res), SCIM_CLIENT_OK);
    cr_assert_str_eq(res.id, id);
    cr_assert(strstr(res.body, "\"active\":false") != NULL, "%s", res.body);

    cr_assert_eq(
        scim_client_put(client, SCIM_CLIENT_USERS, id, USER_JSON("ada.l@example.com"), &res),
        SCIM_CLIENT_OK, "%s", res.detail);
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_USERS, id, &res), SCIM_CLIENT_OK);
    cr_assert(strstr(res.body, "ada.l@example.com") != NULL);

    cr_assert_eq(scim_client_delete(client, SCIM_CLIENT_USERS, id, &res), SCIM_CLIENT_OK);
    cr_assert_eq(res.http_status, 204);
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_USERS, id, &res), SCIM_CLIENT_NOT_FOUND);
    cr_assert_eq(res.http_status, 404);
    cr_assert_eq(scim_client_patch(client, SCIM_CLIENT_USERS, id, DEACTIVATE, &res),
                 SCIM_CLIENT_NOT_FOUND);

    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_SERVICE_PROVIDER_CONFIG, NULL, &res),
                 SCIM_CLIENT_OK);
    cr_assert(strstr(res.body, "ServiceProviderConfig") != NULL);
}

Test(scim_client, requests_carry_user_agent_auth_and_scim_media_type_over_one_connection)
{
    char id[SCIM_WIRE_ID_MAX];
    str_copy(id, sizeof(id), create(USER_JSON("ua@example.com")));
    scim_client_find(client, SCIM_CLIENT_USERS, "userName", "ua@example.com", &res);
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_USERS, id, &res), SCIM_CLIENT_OK);
    json_t *log = downstream_log(&ds);
    cr_assert_eq(json_array_size(log), 3);
    json_int_t port = json_integer_value(json_object_get(json_array_get(log, 0), "peerPort"));
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        cr_assert_str_eq(json_string_value(json_object_get(e, "userAgent")),
                         "scimd/" SCIMD_VERSION);
        cr_assert_str_eq(json_string_value(json_object_get(e, "auth")), "Bearer");
        cr_assert_eq(json_integer_value(json_object_get(e, "peerPort")), port,
                     "request %zu came over a new connection", i);
    }
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 0), "contentType")),
                     "application/scim+json");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(log, 1), "query"), "filter")),
                     "userName eq \"ua@example.com\"");
    json_decref(log);
}

Test(scim_client, filter_values_with_quotes_backslashes_and_url_characters_find_their_user)
{
    const char *names[] = { "o\\\"brien@example.com", "a b&c=d+e/f?g#h%25@example.com" };
    const char *plain[] = { "o\"brien@example.com", "a b&c=d+e/f?g#h%25@example.com" };
    for (size_t i = 0; i < 2; i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"userName\":\"%s\"}", names[i]);
        char id[SCIM_WIRE_ID_MAX];
        str_copy(id, sizeof(id), create(json));
        cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", plain[i], &res),
                     SCIM_CLIENT_OK, "%s", res.detail);
        cr_assert_eq(res.total, 1, "%s", plain[i]);
        cr_assert_str_eq(res.id, id);
    }
}

Test(scim_client, conflict_and_not_found_carry_scim_type_and_detail)
{
    create(USER_JSON("dup@example.com"));
    cr_assert_eq(scim_client_create(client, SCIM_CLIENT_USERS, USER_JSON("DUP@example.com"), &res),
                 SCIM_CLIENT_CONFLICT);
    cr_assert_eq(res.http_status, 409);
    cr_assert_str_eq(res.scim_type, "uniqueness");
    cr_assert(strstr(res.detail, "already exists") != NULL, "%s", res.detail);
    cr_assert_str_eq(res.id, "");

    downstream_faults(&ds, "{\"rules\":[{\"method\":[\"PATCH\",\"PUT\"],\"status\":404}]}");
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "dup@example.com", &res),
                 SCIM_CLIENT_OK);
    char id[SCIM_WIRE_ID_MAX];
    str_copy(id, sizeof(id), res.id);
    cr_assert_eq(scim_client_patch(client, SCIM_CLIENT_USERS, id, DEACTIVATE, &res),
                 SCIM_CLIENT_NOT_FOUND);
    cr_assert_eq(scim_client_put(client, SCIM_CLIENT_USERS, id, USER_JSON("dup@example.com"), &res),
                 SCIM_CLIENT_NOT_FOUND);
}

Test(scim_client, rate_limits_give_retry_after_from_seconds_a_date_or_the_default)
{
    downstream_faults(&ds, "{\"rules\":["
                           "{\"status\":429,\"retryAfter\":7,\"count\":1},"
                           "{\"status\":429,\"retryAfterDate\":120,\"count\":1},"
                           "{\"status\":429,\"count\":1},"
                           "{\"status\":503,\"retryAfter\":2,\"count\":1}]}");
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_RATE_LIMITED);
    cr_assert_eq(res.retry_after_s, 7);
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_RATE_LIMITED);
    /* an HTTP date 120 s ahead, second resolution: between 115 and 120 s from now */
    cr_assert(res.retry_after_s >= 115 && res.retry_after_s <= 120, "%ld", res.retry_after_s);
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_RATE_LIMITED);
    cr_assert_eq(res.retry_after_s, SCIM_WIRE_RETRY_AFTER_DEFAULT_S);
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_TRANSIENT);
    cr_assert_eq(res.http_status, 503);
    cr_assert_eq(res.retry_after_s, 2);
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_OK);
    cr_assert_eq(res.retry_after_s, 0);
}

Test(scim_client, a_429_closes_the_apps_gate_and_a_closed_gate_sends_nothing)
{
    atomic_bool paused;
    atomic_init(&paused, false);
    scim_client_set_pause(client, &paused);
    downstream_faults(&ds, "{\"rules\":[{\"status\":429,\"retryAfter\":3,\"count\":1}]}");
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_RATE_LIMITED);
    cr_assert_eq(res.http_status, 429);
    cr_assert(atomic_load(&paused), "the 429 closed the gate");
    size_t sent = log_length();
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_RATE_LIMITED);
    cr_assert_eq(res.http_status, 0, "held back, not answered");
    cr_assert_eq(res.retry_after_s, 0);
    cr_assert_eq(log_length(), sent, "nothing sent while the gate is closed");
    atomic_store(&paused, false);
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_OK);
    scim_client_set_pause(client, NULL);
}

Test(scim_client, server_errors_drops_and_timeouts_are_transient)
{
    downstream_faults(
        &ds, "{\"rules\":[{\"status\":500,\"detail\":\"database on fire\",\"count\":1},"
             "{\"drop\":true,\"count\":2}," /* libcurl retries once on a fresh connection */
             "{\"latencyMs\":3000,\"count\":1}]}");
    cr_assert_eq(scim_client_create(client, SCIM_CLIENT_USERS, USER_JSON("t@example.com"), &res),
                 SCIM_CLIENT_TRANSIENT);
    cr_assert_eq(res.http_status, 500);
    cr_assert_str_eq(res.detail, "database on fire");
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_USERS, "some-id", &res),
                 SCIM_CLIENT_TRANSIENT);
    cr_assert_eq(res.http_status, 0);
    cr_assert_neq(res.detail[0], '\0');

    struct scim_client *impatient = client_for(ds.base, DOWNSTREAM_TOKEN, 0, 300, false);
    cr_assert_eq(scim_client_get(impatient, SCIM_CLIENT_USERS, "some-id", &res),
                 SCIM_CLIENT_TRANSIENT);
    cr_assert(strstr(res.detail, "imed out") != NULL, "%s", res.detail);
    scim_client_free(impatient);

    /* nothing listens on the fixture's port once it is stopped */
    downstream_stop(&ds);
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_USERS, "some-id", &res),
                 SCIM_CLIENT_TRANSIENT);
}

Test(scim_client, other_client_errors_are_permanent_and_never_echo_credentials)
{
    /* the app echoes the token in its detail: scimd must not repeat it */
    downstream_faults(&ds, "{\"rules\":[{\"status\":400,\"scimType\":\"invalidValue\","
                           "\"detail\":\"token downstream-token is not allowed here\","
                           "\"count\":1}]}");
    cr_assert_eq(scim_client_create(client, SCIM_CLIENT_USERS, USER_JSON("p@example.com"), &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_str_eq(res.scim_type, "invalidValue");
    cr_assert_str_eq(res.detail, "token [redacted] is not allowed here");

    /* a detail cut off in the middle of the token */
    downstream_faults(&ds, "{\"rules\":[{\"status\":400,\"detail\":\"got downstream-to\","
                           "\"count\":1}]}");
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_str_eq(res.detail, "got [redacted]");

    /* a wrong (and very short) token: 401, and redaction ends though "[redacted]" holds a 'd' */
    struct scim_client *wrong = client_for(ds.base, "d", 0, 0, false);
    cr_assert_eq(scim_client_find(wrong, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(res.http_status, 401);
    cr_assert_str_eq(res.detail, "missing or wrong cre[redacted]entials");
    scim_client_free(wrong);

    /* a 2xx that is not what was asked for */
    downstream_faults(&ds, "{\"rules\":[{\"path\":\"^/Users$\",\"status\":200,\"count\":1}]}");
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert(strstr(res.detail, "ListResponse") != NULL, "%s", res.detail);
}

Test(scim_client, put_only_apps_get_no_patch_and_refuse_it_server_side_too)
{
    char id[SCIM_WIRE_ID_MAX];
    str_copy(id, sizeof(id), create(USER_JSON("po@example.com")));
    struct scim_client *put_only = client_for(ds.base, DOWNSTREAM_TOKEN, 0, 0, true);
    size_t before = log_length();
    cr_assert_eq(scim_client_patch(put_only, SCIM_CLIENT_USERS, id, DEACTIVATE, &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(res.requests, 0);
    const char *one[] = { id };
    cr_assert_eq(scim_client_patch_members(put_only, "g", one, 1, NULL, 0, &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(log_length(), before, "a PUT-only client sent a PATCH");
    cr_assert_eq(
        scim_client_put(put_only, SCIM_CLIENT_USERS, id, USER_JSON("po@example.com"), &res),
        SCIM_CLIENT_OK);
    scim_client_free(put_only);

    downstream_faults(&ds, "{\"putOnly\":true}");
    cr_assert_eq(scim_client_patch(client, SCIM_CLIENT_USERS, id, DEACTIVATE, &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(res.http_status, 405);
}

/* n member ids "m-0".."m-<n-1>" (static storage). */
static const char *const *member_ids(size_t n)
{
    static char ids[300][16];
    static const char *ptrs[300];
    cr_assert_leq(n, 300);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "m-%zu", i);
        ptrs[i] = ids[i];
    }
    return ptrs;
}

static size_t group_member_count(const char *group_id)
{
    cr_assert_eq(scim_client_get(client, SCIM_CLIENT_GROUPS, group_id, &res), SCIM_CLIENT_OK);
    json_t *doc = json_loads(res.body, 0, NULL);
    size_t n = json_array_size(json_object_get(doc, "members"));
    json_decref(doc);
    return n;
}

Test(scim_client, group_members_go_in_batches_within_the_apps_cap)
{
    downstream_faults(&ds, "{\"maxMemberChanges\":100}");
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_GROUPS, "displayName", "Engineering", &res),
                 SCIM_CLIENT_OK);
    cr_assert_eq(res.total, 0);
    cr_assert_eq(
        scim_client_create(client, SCIM_CLIENT_GROUPS,
                           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                           "\"displayName\":\"Engineering\"}",
                           &res),
        SCIM_CLIENT_OK);
    char gid[SCIM_WIRE_ID_MAX];
    str_copy(gid, sizeof(gid), res.id);
    cr_assert_eq(scim_client_find(client, SCIM_CLIENT_GROUPS, "displayName", "engineering", &res),
                 SCIM_CLIENT_OK);
    cr_assert_str_eq(res.id, gid);

    const char *const *ids = member_ids(250);
    cr_assert_eq(scim_client_patch_members(client, gid, ids, 250, NULL, 0, &res), SCIM_CLIENT_OK,
                 "%s", res.detail);
    cr_assert_eq(res.requests, 3); /* 100 + 100 + 50 */
    cr_assert_eq(res.members_done, 250);
    cr_assert_eq(group_member_count(gid), 250);

    /* 30 more adds and 90 removes: 100 in the first PATCH (30 adds, 70 removes), then 20 */
    const char *const *all = member_ids(280);
    cr_assert_eq(scim_client_patch_members(client, gid, all + 250, 30, all, 90, &res),
                 SCIM_CLIENT_OK, "%s", res.detail);
    cr_assert_eq(res.requests, 2);
    cr_assert_eq(res.members_done, 120);
    cr_assert_eq(group_member_count(gid), 190);

    cr_assert_eq(scim_client_patch_members(client, gid, NULL, 0, NULL, 0, &res), SCIM_CLIENT_OK);
    cr_assert_eq(res.requests, 0);

    /* a client whose batch is above the app's cap stops at the first refused batch */
    struct scim_client *greedy = client_for(ds.base, DOWNSTREAM_TOKEN, 101, 0, false);
    cr_assert_eq(scim_client_patch_members(greedy, gid, ids, 150, NULL, 0, &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(res.http_status, 400);
    cr_assert_eq(res.members_done, 0);
    cr_assert_eq(res.requests, 1);
    scim_client_free(greedy);
}

Test(scim_client, basic_auth_reaches_an_app_that_wants_it)
{
    struct downstream basic;
    const char *extra[] = { "--basic", "scimd:s3cret pass", NULL };
    downstream_start(&basic, extra);
    struct scim_app_profile p = {
        .base_url = basic.base,
        .auth = SCIM_CLIENT_AUTH_BASIC,
        .basic_user = "scimd",
        .basic_password = "s3cret pass",
        .allow_private = true,
    };
    struct scim_client *c = NULL;
    cr_assert_eq(scim_client_new(&p, &c, NULL), OK);
    cr_assert_eq(scim_client_find(c, SCIM_CLIENT_USERS, "userName", "x", &res), SCIM_CLIENT_OK,
                 "%s", res.detail);
    scim_client_free(c);
    p.basic_password = "wrong";
    cr_assert_eq(scim_client_new(&p, &c, NULL), OK);
    cr_assert_eq(scim_client_find(c, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(res.http_status, 401);
    scim_client_free(c);
    downstream_stop(&basic);
}

Test(scim_client, loopback_targets_are_blocked_at_connect_time_without_allow_private)
{
    char localhost[160];
    snprintf(localhost, sizeof(localhost), "http://localhost:%d/scim/v2", ds.port);
    const char *bases[] = { ds.base, localhost };
    for (size_t i = 0; i < 2; i++) {
        struct scim_app_profile p = {
            .base_url = bases[i],
            .token = DOWNSTREAM_TOKEN,
            .allow_private = false,
        };
        struct scim_client *c = NULL;
        cr_assert_eq(scim_client_new(&p, &c, NULL), OK);
        cr_assert_eq(scim_client_create(c, SCIM_CLIENT_USERS, USER_JSON("b@example.com"), &res),
                     SCIM_CLIENT_BLOCKED, "%s: %s", bases[i], res.detail);
        cr_assert_eq(res.http_status, 0);
        cr_assert(strstr(res.detail, "loopback") != NULL, "%s", res.detail);
        scim_client_free(c);
    }
    cr_assert_eq(log_length(), 0, "a blocked request reached the app");
}

Test(scim_client, plain_http_port_fails_the_tls_handshake)
{
    /* https to the fixture's plain-HTTP port: the handshake fails, nothing is sent in clear */
    char https[160];
    snprintf(https, sizeof(https), "https://127.0.0.1:%d/scim/v2", ds.port);
    struct scim_client *c = client_for(https, DOWNSTREAM_TOKEN, 0, 0, false);
    cr_assert_eq(scim_client_find(c, SCIM_CLIENT_USERS, "userName", "x", &res),
                 SCIM_CLIENT_TRANSIENT);
    cr_assert_eq(res.http_status, 0);
    scim_client_free(c);
    cr_assert_eq(log_length(), 0);
}

/* A self-signed certificate for 127.0.0.1 (openssl CLI) in dir; the caller
 * removes dir. */
static void make_cert(const char *dir, const char *name)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s/%s.key' "
             "-out '%s/%s.pem' 2>/dev/null",
             dir, name, dir, name);
    cr_assert_eq(system(cmd), 0, "openssl could not make a test certificate");
}

Test(scim_client, tls_is_verified_against_the_apps_ca_file)
{
    char dir[] = "/tmp/scimd-tls-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    make_cert(dir, "app");
    make_cert(dir, "other");
    char cert[300], key[300], other[300];
    snprintf(cert, sizeof(cert), "%s/app.pem", dir);
    snprintf(key, sizeof(key), "%s/app.key", dir);
    snprintf(other, sizeof(other), "%s/other.pem", dir);
    struct downstream tls;
    const char *extra[] = { "--tls-cert", cert, "--tls-key", key, NULL };
    downstream_start(&tls, extra);
    cr_assert(tls.tls);

    /* clang-format off */
    const struct {
        const char *ca_file;
        bool localhost; /* the certificate names 127.0.0.1, not localhost */
        enum scim_client_outcome want;
    } cases[] = {
        { cert,  false, SCIM_CLIENT_OK        },
        { NULL,  false, SCIM_CLIENT_TRANSIENT }, /* self-signed: not in the system store */
        { other, false, SCIM_CLIENT_TRANSIENT }, /* another CA */
        { cert,  true,  SCIM_CLIENT_TRANSIENT }, /* host name mismatch */
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char base[160];
        snprintf(base, sizeof(base), "https://%s:%d/scim/v2",
                 cases[i].localhost ? "localhost" : "127.0.0.1", tls.port);
        struct scim_app_profile p = {
            .base_url = base,
            .token = DOWNSTREAM_TOKEN,
            .ca_file = cases[i].ca_file,
            .allow_private = true,
        };
        struct scim_client *c = NULL;
        cr_assert_eq(scim_client_new(&p, &c, NULL), OK);
        cr_assert_eq(scim_client_find(c, SCIM_CLIENT_USERS, "userName", "x", &res), cases[i].want,
                     "case %zu: %s", i, res.detail);
        scim_client_free(c);
    }
    json_t *log = downstream_admin(&tls, "GET", "/_log", NULL);
    cr_assert_eq(json_array_size(log), 1, "only the verified client's request arrived");
    json_decref(log);
    downstream_stop(&tls);
    char rm[100];
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    cr_assert_eq(system(rm), 0);
}

Test(scim_client_profile, bad_profiles_are_refused_with_a_reason)
{
    /* clang-format off */
    static const struct {
        struct scim_app_profile p;
        const char *why;
    } cases[] = {
        { { .base_url = NULL, .token = "t" },                              "missing" },
        { { .base_url = "ftp://app.example.com/scim", .token = "t" },      "http(s)" },
        { { .base_url = "app.example.com/scim", .token = "t" },            "http(s)" },
        { { .base_url = "https://u:p@app.example.com/scim", .token = "t" }, "credentials" },
        { { .base_url = "https://app.example.com/scim?x=1", .token = "t" }, "query" },
        { { .base_url = "https://app.example.com/scim" },                  "bearer token" },
        { { .base_url = "https://app.example.com/scim", .token = "a\r\nX-Evil: 1" }, "bearer token" },
        { { .base_url = "https://app.example.com/scim", .auth = SCIM_CLIENT_AUTH_BASIC,
            .basic_user = "a:b", .basic_password = "p" },                  "basic auth" },
        { { .base_url = "https://app.example.com/scim", .auth = SCIM_CLIENT_AUTH_BASIC,
            .basic_user = "a" },                                           "basic auth" },
        { { .base_url = "https://app.example.com/scim", .token = "t",
            .ca_file = "/nonexistent/ca.pem" },                            "CA file" },
        { { .base_url = "https://app.example.com/scim", .token = "t", .timeout_ms = -1 },
                                                                           "negative" },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scim_client *c = (struct scim_client *)1;
        struct scim_error err = { 0 };
        cr_assert_eq(scim_client_new(&cases[i].p, &c, &err), ERR_INVALID_VALUE, "case %zu", i);
        cr_assert_null(c);
        cr_assert(strstr(err.detail, cases[i].why) != NULL, "case %zu: '%s'", i, err.detail);
        if (cases[i].p.token != NULL && strlen(cases[i].p.token) > 1)
            cr_assert(strstr(err.detail, cases[i].p.token) == NULL);
    }
    struct scim_app_profile ok = { .base_url = "https://app.example.com/scim/v2/", .token = "t" };
    struct scim_client *c = NULL;
    cr_assert_eq(scim_client_new(&ok, &c, NULL), OK);
    scim_client_free(c);
    scim_client_free(NULL);
}

Test(scim_client_profile, outcome_names_and_bad_arguments)
{
    cr_assert_str_eq(scim_client_outcome_name(SCIM_CLIENT_RATE_LIMITED), "rate limited");
    cr_assert_str_eq(scim_client_outcome_name((enum scim_client_outcome)99), "unknown");
    struct scim_app_profile p = { .base_url = "https://app.example.com/scim", .token = "t" };
    struct scim_client *c = NULL;
    cr_assert_eq(scim_client_new(&p, &c, NULL), OK);
    struct scim_client_result r = { 0 };
    /* no request is made for any of these, so no network is needed */
    cr_assert_eq(scim_client_get(c, SCIM_CLIENT_USERS, NULL, &r), SCIM_CLIENT_PERMANENT);
    cr_assert_eq(scim_client_get(c, SCIM_CLIENT_USERS, "bad\nid", &r), SCIM_CLIENT_PERMANENT);
    cr_assert_eq(scim_client_find(c, SCIM_CLIENT_USERS, "user name", "x", &r),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(scim_client_find(c, SCIM_CLIENT_USERS, "userName", "\xff", &r),
                 SCIM_CLIENT_PERMANENT);
    cr_assert_eq(scim_client_create(c, SCIM_CLIENT_USERS, NULL, &r), SCIM_CLIENT_PERMANENT);
    cr_assert_eq(scim_client_delete(c, SCIM_CLIENT_USERS, NULL, &r), SCIM_CLIENT_PERMANENT);
    cr_assert_eq(r.requests, 0);
    scim_client_result_release(&r);
    scim_client_free(c);
}
