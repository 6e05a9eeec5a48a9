/*
 * poll_request.c - this file contains the RFC 8936 poll request parser: the
 * four members, their checks, and the acknowledged/rejected jti lists.
 */
#include <jansson.h>
#include <string.h>

#include "core/str.h"
#include "events/poll_request.h"
#include "scim/json.h"

static bool text_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && n <= max;
}

static bool token_ok(const char *s)
{
    if (!text_ok(s, POLL_ERR_CODE_MAX))
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool acked(const struct poll_request *req, const char *jti)
{
    for (size_t i = 0; i < req->n_acks; i++) {
        if (strcmp(req->acks[i], jti) == 0)
            return true;
    }
    return false;
}

static enum status parse_acks(json_t *acks, struct poll_request *out, struct scim_error *err)
{
    if (!json_is_array(acks))
        return scim_error_set(err, ERR_INVALID_VALUE, "'ack' must be an array of jti strings");
    size_t n = json_array_size(acks);
    if (n > POLL_ACKS_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "'ack' lists more than %d SETs",
                              POLL_ACKS_MAX);
    out->acks = calloc(n > 0 ? n : 1, sizeof(*out->acks));
    if (out->acks == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *jti = json_string_value(json_array_get(acks, i));
        if (!text_ok(jti, POLL_JTI_MAX))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "'ack' item %zu is not a jti of 1 to %d characters", i,
                                  POLL_JTI_MAX);
        if ((out->acks[out->n_acks] = str_dup(jti)) == NULL)
            return scim_error_set(err, ERR_NOMEM, "out of memory");
        out->n_acks++;
    }
    return OK;
}

static enum status parse_errs(json_t *errs, struct poll_request *out, struct scim_error *err)
{
    if (!json_is_object(errs))
        return scim_error_set(err, ERR_INVALID_VALUE, "'setErrs' must be an object keyed by jti");
    size_t n = json_object_size(errs);
    if (n + out->n_acks > POLL_ACKS_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "'ack' and 'setErrs' list more than %d SETs",
                              POLL_ACKS_MAX);
    out->errs = calloc(n > 0 ? n : 1, sizeof(*out->errs));
    if (out->errs == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    const char *jti;
    json_t *v;
    json_object_foreach(errs, jti, v)
    {
        if (!text_ok(jti, POLL_JTI_MAX))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "a 'setErrs' key is not a jti of 1 to %d characters",
                                  POLL_JTI_MAX);
        if (acked(out, jti))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "a SET is both in 'ack' and in 'setErrs'");
        json_t *code = json_object_get(v, "err"), *desc = json_object_get(v, "description");
        if (!json_is_object(v) || !token_ok(json_string_value(code)))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "each 'setErrs' value needs an 'err' code of 1 to %d token "
                                  "characters",
                                  POLL_ERR_CODE_MAX);
        if (desc != NULL && !json_is_null(desc) &&
            !text_ok(json_string_value(desc), POLL_DESCRIPTION_MAX))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "a 'setErrs' description must be a string of 1 to %d bytes",
                                  POLL_DESCRIPTION_MAX);
        struct poll_set_err *e = &out->errs[out->n_errs++];
        e->jti = str_dup(jti);
        e->err = str_dup(json_string_value(code));
        e->description = json_is_string(desc) ? str_dup(json_string_value(desc)) : NULL;
        if (e->jti == NULL || e->err == NULL || (json_is_string(desc) && e->description == NULL))
            return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    return OK;
}

enum status poll_request_parse(const char *body, size_t n, struct poll_request *out,
                               struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    out->max_events = POLL_EVENTS_MAX;
    if (n == 0)
        return OK;
    json_t *doc = NULL;
    enum status rc = scim_json_decode(body, n, &doc, err);
    if (rc != OK)
        return rc;

    json_t *max = json_object_get(doc, "maxEvents");
    json_t *now = json_object_get(doc, "returnImmediately");
    json_t *acks = json_object_get(doc, "ack");
    json_t *errs = json_object_get(doc, "setErrs");
    if (max != NULL) {
        if (!json_is_integer(max) || json_integer_value(max) < 0) {
            rc = scim_error_set(err, ERR_INVALID_VALUE, "'maxEvents' must be an integer >= 0");
            goto fail;
        }
        json_int_t v = json_integer_value(max);
        out->max_events = v < POLL_EVENTS_MAX ? (size_t)v : POLL_EVENTS_MAX;
    }
    if (now != NULL) {
        if (!json_is_boolean(now)) {
            rc = scim_error_set(err, ERR_INVALID_VALUE, "'returnImmediately' must be a boolean");
            goto fail;
        }
        out->return_immediately = json_is_true(now);
    }
    if (acks != NULL && (rc = parse_acks(acks, out, err)) != OK)
        goto fail;
    if (errs != NULL && (rc = parse_errs(errs, out, err)) != OK)
        goto fail;
    json_decref(doc);
    return OK;
fail:
    json_decref(doc);
    poll_request_release(out);
    out->max_events = 0;
    return rc;
}

void poll_request_release(struct poll_request *req)
{
    for (size_t i = 0; i < req->n_acks; i++)
        free(req->acks[i]);
    free(req->acks);
    for (size_t i = 0; i < req->n_errs; i++) {
        free(req->errs[i].jti);
        free(req->errs[i].err);
        free(req->errs[i].description);
    }
    free(req->errs);
    memset(req, 0, sizeof(*req));
}
