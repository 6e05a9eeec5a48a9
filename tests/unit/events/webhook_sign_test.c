/*
 * webhook_sign_test.c - Standard Webhooks: the published test vector, secret
 * generation and strict parsing, several signatures while a secret rotates,
 * and bad ids.  The `artifacts` test also hands a freshly signed event body
 * (webhook_payload) to
 * tests/e2e/webhook_sign.test.mjs, which verifies it with the npm
 * `standardwebhooks` package.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "artifacts.h"
#include "core/str.h"
#include "events/webhook_payload.h"
#include "events/webhook_sign.h"

/* The vector the Standard Webhooks reference libraries test against. */
#define VECTOR_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VECTOR_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VECTOR_TS     1614265330
#define VECTOR_BODY   "{\"test\": 2432232314}"
#define VECTOR_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static struct webhook_secret parse_ok(const char *text)
{
    struct webhook_secret s;
    struct scim_error err = { 0 };
    cr_assert_eq(webhook_secret_parse(text, &s, &err), OK, "%s", err.detail);
    return s;
}

Test(webhook_sign, matches_the_reference_vector)
{
    struct webhook_secret s = parse_ok(VECTOR_SECRET);
    cr_assert_eq(s.len, 24);
    struct webhook_headers h;
    cr_assert_eq(
        webhook_sign(&s, 1, VECTOR_ID, VECTOR_TS, VECTOR_BODY, strlen(VECTOR_BODY), &h, NULL), OK);
    cr_assert_str_eq(h.id, VECTOR_ID);
    cr_assert_str_eq(h.timestamp, "1614265330");
    cr_assert_str_eq(h.signature, VECTOR_SIG);
}

Test(webhook_sign, generated_secrets_are_fresh_and_parse)
{
    char a[WEBHOOK_SECRET_TEXT_MAX], b[WEBHOOK_SECRET_TEXT_MAX];
    cr_assert_eq(webhook_secret_generate(a), OK);
    cr_assert_eq(webhook_secret_generate(b), OK);
    cr_assert_str_neq(a, b);
    cr_assert_eq(strncmp(a, "whsec_", 6), 0);
    cr_assert_eq(strlen(a), 6 + 44);
    struct webhook_secret s = parse_ok(a);
    cr_assert_eq(s.len, WEBHOOK_SECRET_NEW_BYTES);
    webhook_secret_wipe(&s);
    cr_assert_eq(s.len, 0);
}

Test(webhook_sign, rejects_malformed_secrets_without_echoing_them)
{
    static const char *bad[] = {
        "",
        "whsec_",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",           /* no prefix */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",     /* prefix is case-sensitive */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",      /* not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",     /* not base64 */
        "whsec_MfKQ9r8GKYqr-wjUPD8ILPZIo2LaLaSw",     /* base64url character */
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAA=",         /* 20 bytes: too short */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx====", /* padding inside */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",    /* trailing space */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct webhook_secret s;
        struct scim_error err = { 0 };
        cr_assert_eq(webhook_secret_parse(bad[i], &s, &err), ERR_INVALID_VALUE, "%s", bad[i]);
        cr_assert_eq(s.len, 0);
        if (strlen(bad[i]) > 8)
            cr_assert_null(strstr(err.detail, bad[i] + 6), "detail echoes the secret");
    }
    /* 65 bytes is too long; 64 is the most */
    char longest[WEBHOOK_SECRET_TEXT_MAX + 8] = "whsec_";
    base64_encode("0123456789012345678901234567890123456789012345678901234567890123", 64,
                  longest + 6);
    cr_assert_eq(webhook_secret_parse(longest, &(struct webhook_secret){ 0 }, NULL), OK);
    base64_encode("01234567890123456789012345678901234567890123456789012345678901234", 65,
                  longest + 6);
    cr_assert_eq(webhook_secret_parse(longest, &(struct webhook_secret){ 0 }, NULL),
                 ERR_INVALID_VALUE);
}

Test(webhook_sign, a_rotating_endpoint_gets_one_signature_per_secret)
{
    struct webhook_secret s[2];
    s[0] = parse_ok("whsec_dGhlIG5ldyBzZWNyZXQgb2YgdGhlIGVuZHBvaW50IQ==");
    s[1] = parse_ok(VECTOR_SECRET);
    struct webhook_headers h;
    cr_assert_eq(
        webhook_sign(s, 2, VECTOR_ID, VECTOR_TS, VECTOR_BODY, strlen(VECTOR_BODY), &h, NULL), OK);
    const char *space = strchr(h.signature, ' ');
    cr_assert_not_null(space);
    cr_assert_str_eq(space + 1, VECTOR_SIG, "the old secret's signature is still there");
    cr_assert_eq(strncmp(h.signature, "v1,", 3), 0);
    cr_assert_eq((size_t)(space - h.signature), strlen(VECTOR_SIG));
}

Test(webhook_sign, refuses_ids_and_counts_that_would_break_the_headers)
{
    struct webhook_secret s = parse_ok(VECTOR_SECRET);
    struct webhook_headers h;
    struct scim_error err = { 0 };
    static const char *bad_ids[] = { "", "a.b", "a b", "a\r\nx-evil: 1", "ä" };
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
        cr_assert_eq(webhook_sign(&s, 1, bad_ids[i], 1, "x", 1, &h, &err), ERR_INVALID_VALUE, "%s",
                     bad_ids[i]);
    char long_id[WEBHOOK_ID_MAX + 2];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    cr_assert_eq(webhook_sign(&s, 1, long_id, 1, "x", 1, &h, &err), ERR_INVALID_VALUE);
    long_id[WEBHOOK_ID_MAX] = '\0';
    cr_assert_eq(webhook_sign(&s, 1, long_id, 1, "x", 1, &h, &err), OK);
    cr_assert_eq(webhook_sign(&s, 0, "id", 1, "x", 1, &h, &err), ERR_INVALID_VALUE);
    cr_assert_eq(webhook_sign(&s, 1, "id", -1, "x", 1, &h, &err), ERR_INVALID_VALUE);
    cr_assert_eq(webhook_sign(&s, 1, "id", 0, "", 0, &h, &err), OK, "an empty body signs");
}

/* A message signed now (receivers refuse old timestamps) with a rotating pair
 * of fresh secrets, for the npm verifier. */
Test(webhook_sign, artifacts)
{
    char fresh[WEBHOOK_SECRET_TEXT_MAX], old[WEBHOOK_SECRET_TEXT_MAX];
    cr_assert_eq(webhook_secret_generate(fresh), OK);
    cr_assert_eq(webhook_secret_generate(old), OK);
    struct webhook_secret s[2] = { parse_ok(fresh), parse_ok(old) };
    struct store_event e = { .tenant_id = "t-1",
                             .type = "scim_user_created",
                             .actor = "token:k-1",
                             .subject_id = "u-1",
                             .summary = "{\"userName\":\"bjensen@example.com\",\"name\":\"Bär\"}" };
    str_copy(e.id, sizeof(e.id), "0190c0de-0000-7000-8000-000000000001");
    str_copy(e.at, sizeof(e.at), "2026-12-03T14:00:00.000Z");
    char *body = NULL;
    cr_assert_eq(webhook_payload_json(&e, &body, NULL), OK);
    struct webhook_headers h;
    cr_assert_eq(webhook_sign(s, 2, e.id, (int64_t)time(NULL), body, strlen(body), &h, NULL), OK);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "secret", fresh, "old_secret",
                            old, "body", body, "headers", "webhook-id", h.id, "webhook-timestamp",
                            h.timestamp, "webhook-signature", h.signature);
    cr_assert_not_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    cr_assert_not_null(text);
    artifact_write("webhook.json", text);
    free(text);
    free(body);
    json_decref(doc);
}
