/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_client.c - this file contains the outbound SCIM client: profile checks,
 * one libcurl easy handle per client (so connections are reused), the address
 * guard at socket-open time, one request function every operation goes
 * through, and the table that turns an HTTP status into an outcome.
 */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "outbound/addr_guard.h"
#include "outbound/scim_client.h"

#include "core/str.h"

#define USER_AGENT             "scimd/" SCIMD_VERSION
#define RETRY_AFTER_HEADER_MAX 64
#define REDACTED               "[redacted]"

struct scim_client {
    CURL *curl;
    char *base_url; /* without trailing '/' */
    enum scim_client_auth auth;
    char *token;
    char *basic_user;
    char *basic_password;
    char *ca_file;
    bool put_only;
    bool allow_private;
    size_t member_batch;
    long connect_timeout_ms;
    long timeout_ms;
    atomic_bool *paused;             /* the caller's gate, or NULL */
    struct curl_slist *headers;      /* Accept */
    struct curl_slist *headers_body; /* Accept, Content-Type, no Expect: 100-continue */
    /* per request */
    struct buf response;
    char retry_after[RETRY_AFTER_HEADER_MAX];
    bool blocked;
    enum addr_class blocked_class;
    char curl_error[CURL_ERROR_SIZE];
};

/* clang-format off */
static const char *const resource_paths[] = {
    [SCIM_CLIENT_USERS]                   = "Users",
    [SCIM_CLIENT_GROUPS]                  = "Groups",
    [SCIM_CLIENT_SERVICE_PROVIDER_CONFIG] = "ServiceProviderConfig",
};

static const char *const outcome_names[] = {
    [SCIM_CLIENT_OK]           = "ok",
    [SCIM_CLIENT_NOT_FOUND]    = "not found",
    [SCIM_CLIENT_CONFLICT]     = "conflict",
    [SCIM_CLIENT_RATE_LIMITED] = "rate limited",
    [SCIM_CLIENT_PERMANENT]    = "permanent failure",
    [SCIM_CLIENT_TRANSIENT]    = "transient failure",
    [SCIM_CLIENT_BLOCKED]      = "blocked address",
};

/* HTTP statuses with an outcome of their own; other 2xx are OK, other 4xx
 * PERMANENT, 5xx TRANSIENT. */
static const struct {
    long status;
    enum scim_client_outcome outcome;
} status_outcomes[] = {
    { 404, SCIM_CLIENT_NOT_FOUND    },
    { 409, SCIM_CLIENT_CONFLICT     },
    { 429, SCIM_CLIENT_RATE_LIMITED },
    { 408, SCIM_CLIENT_TRANSIENT    }, /* Request Timeout: the app gave up waiting, try again */
};
/* clang-format on */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static enum scim_client_outcome outcome_of_status(long status)
{
    for (size_t i = 0; i < sizeof(status_outcomes) / sizeof(status_outcomes[0]); i++) {
        if (status_outcomes[i].status == status)
            return status_outcomes[i].outcome;
    }
    if (status >= 200 && status < 300)
        return SCIM_CLIENT_OK;
    if (status >= 500)
        return SCIM_CLIENT_TRANSIENT;
    return SCIM_CLIENT_PERMANENT; /* 4xx, and 1xx/3xx a SCIM app has no business sending */
}

const char *scim_client_outcome_name(enum scim_client_outcome outcome)
{
    if ((size_t)outcome >= sizeof(outcome_names) / sizeof(outcome_names[0]))
        return "unknown";
    return outcome_names[outcome];
}

/* ------------------------------------------------------------------ results */

void scim_client_set_pause(struct scim_client *c, atomic_bool *paused)
{
    c->paused = paused;
}

void scim_client_result_release(struct scim_client_result *res)
{
    free(res->body);
    memset(res, 0, sizeof(*res));
}

/* Fill res with a failure that happened before or around a request. */
static enum scim_client_outcome local_failure(struct scim_client_result *res,
                                              enum scim_client_outcome outcome, const char *what)
{
    res->outcome = outcome;
    str_copy(res->detail, sizeof(res->detail), what);
    return outcome;
}

/* Shortest tail of a detail that is taken for a cut-off copy of a secret. */
#define REDACT_TAIL_MIN 4

/*
 * Replace every occurrence of secret in s (NUL-terminated, size bytes), and a
 * tail of s that is the start of secret (a copy cut off when the detail was
 * shortened), in one pass over the text as it was.
 */
static void redact(char *s, size_t size, const char *secret)
{
    size_t n = secret != NULL ? strlen(secret) : 0;
    if (n == 0)
        return;
    struct buf out;
    buf_init(&out, size - 1);
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t left = len - i;
        if ((left >= n && memcmp(s + i, secret, n) == 0) ||
            (left < n && left >= REDACT_TAIL_MIN && memcmp(s + i, secret, left) == 0)) {
            buf_puts(&out, REDACTED);
            i += left < n ? left : n;
        } else {
            buf_putc(&out, s[i++]);
        }
    }
    /* on overflow keep what fit: the secret is already gone from the part written */
    str_copy(s, size, out.data != NULL ? out.data : "");
    buf_release(&out);
}

static void redact_secrets(const struct scim_client *c, struct scim_client_result *res)
{
    const char *secrets[] = { c->token, c->basic_password };
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        redact(res->detail, sizeof(res->detail), secrets[i]);
        redact(res->scim_type, sizeof(res->scim_type), secrets[i]);
    }
}

/* ------------------------------------------------------------------ libcurl callbacks */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    buf_append(b, data, size * nmemb);
    return b->failed ? 0 : size * nmemb; /* 0 aborts the transfer: answer too large */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct scim_client *c = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        c->retry_after[0] = '\0'; /* a new response (after a 100 Continue) starts over */
    } else if (n > sizeof(name) - 1 && str_ieqn(data, name, sizeof(name) - 1)) {
        size_t len = n - (sizeof(name) - 1);
        if (len < sizeof(c->retry_after)) {
            memcpy(c->retry_after, data + sizeof(name) - 1, len);
            c->retry_after[len] = '\0';
        }
    }
    return n;
}

/* Every connection the client makes passes here with its resolved address. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    struct scim_client *c = clientp;
    (void)purpose;
    enum addr_class cls = addr_guard_classify(&address->addr, (socklen_t)address->addrlen);
    if (!addr_guard_class_allowed(cls, c->allow_private)) {
        c->blocked = true;
        c->blocked_class = cls;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* ------------------------------------------------------------------ set-up */

static bool has_control_chars(const char *s)
{
    for (; s != NULL && *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    }
    return false;
}

/* The base URL must be http(s)://host[:port][/path] without credentials, query
 * or fragment. */
static enum status check_base_url(const char *url, struct scim_error *err)
{
    if (url == NULL || has_control_chars(url))
        return scim_error_set(err, ERR_INVALID_VALUE, "the SCIM base URL is missing");
    CURLU *u = curl_url();
    if (u == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    enum status rc = OK;
    char *scheme = NULL;
    char *part = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (!str_ieq(scheme, "http") && !str_ieq(scheme, "https"))) {
        rc = scim_error_set(err, ERR_INVALID_VALUE, "the SCIM base URL is not an http(s) URL");
        goto done;
    }
    static const CURLUPart forbidden[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY,
                                           CURLUPART_FRAGMENT };
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        if (curl_url_get(u, forbidden[i], &part, 0) == CURLUE_OK) {
            rc = scim_error_set(err, ERR_INVALID_VALUE,
                                "the SCIM base URL must not carry credentials, a query or a "
                                "fragment");
            goto done;
        }
    }
done:
    curl_free(part);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static enum status check_profile(const struct scim_app_profile *p, struct scim_error *err)
{
    enum status rc = check_base_url(p->base_url, err);
    if (rc != OK)
        return rc;
    if (p->auth == SCIM_CLIENT_AUTH_BEARER) {
        if (p->token == NULL || *p->token == '\0' || has_control_chars(p->token))
            return scim_error_set(err, ERR_INVALID_VALUE, "a bearer token is required");
    } else if (p->auth == SCIM_CLIENT_AUTH_BASIC) {
        if (p->basic_user == NULL || *p->basic_user == '\0' || strchr(p->basic_user, ':') ||
            has_control_chars(p->basic_user) || p->basic_password == NULL ||
            has_control_chars(p->basic_password))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "basic auth needs a user (without ':') and a password");
    } else {
        return scim_error_set(err, ERR_INVALID_VALUE, "unknown auth method");
    }
    if (p->ca_file != NULL && access(p->ca_file, R_OK) != 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "cannot read CA file '%s'", p->ca_file);
    if (p->connect_timeout_ms < 0 || p->timeout_ms < 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "timeouts must not be negative");
    return OK;
}

static void free_secret(char *s)
{
    if (s != NULL)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void scim_client_free(struct scim_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->headers_body);
    free(c->base_url);
    free_secret(c->token);
    free(c->basic_user);
    free_secret(c->basic_password);
    free(c->ca_file);
    buf_release(&c->response);
    free(c);
}

static char *dup_opt(const char *s, bool *failed)
{
    if (s == NULL)
        return NULL;
    char *d = str_dup(s);
    if (d == NULL)
        *failed = true;
    return d;
}

/* A header list of lines, or NULL (nothing leaked) when memory runs out. */
static struct curl_slist *header_list(const char *const *lines, size_t n)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *next = curl_slist_append(list, lines[i]);
        if (next == NULL) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

/* Options that hold for every request of the client. */
static bool set_common_options(struct scim_client *c)
{
    CURL *h = c->curl;
    bool ok = true;
#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USERAGENT, USER_AGENT);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, ""); /* no proxy from the environment: the guard checks the real peer */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL)
        SET(CURLOPT_CAINFO, c->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_ERRORBUFFER, c->curl_error);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, &c->response);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, c);
    if (c->auth == SCIM_CLIENT_AUTH_BEARER) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        SET(CURLOPT_XOAUTH2_BEARER, c->token);
    } else {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, c->basic_user);
        SET(CURLOPT_PASSWORD, c->basic_password);
    }
#undef SET
    return ok;
}

enum status scim_client_new(const struct scim_app_profile *profile, struct scim_client **out,
                            struct scim_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return scim_error_set(err, ERR_IO, "libcurl failed to initialise");
    enum status rc = check_profile(profile, err);
    if (rc != OK)
        return rc;

    struct scim_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    bool failed = false;
    c->base_url = dup_opt(profile->base_url, &failed);
    c->token = dup_opt(profile->token, &failed);
    c->basic_user = dup_opt(profile->basic_user, &failed);
    c->basic_password = dup_opt(profile->basic_password, &failed);
    c->ca_file = dup_opt(profile->ca_file, &failed);
    c->auth = profile->auth;
    c->put_only = profile->put_only;
    c->allow_private = profile->allow_private;
    c->member_batch = profile->member_batch ? profile->member_batch : SCIM_CLIENT_MEMBER_BATCH;
    c->connect_timeout_ms =
        profile->connect_timeout_ms ? profile->connect_timeout_ms : SCIM_CLIENT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = profile->timeout_ms ? profile->timeout_ms : SCIM_CLIENT_TIMEOUT_MS;
    buf_init(&c->response, SCIM_CLIENT_MAX_RESPONSE_BYTES);
    if (failed)
        goto nomem;
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';

    static const char *const plain[] = { "Accept: application/scim+json" };
    static const char *const with_body[] = { "Accept: application/scim+json",
                                             "Content-Type: application/scim+json", "Expect:" };
    c->headers = header_list(plain, sizeof(plain) / sizeof(plain[0]));
    c->headers_body = header_list(with_body, sizeof(with_body) / sizeof(with_body[0]));
    c->curl = curl_easy_init();
    if (c->headers == NULL || c->headers_body == NULL || c->curl == NULL)
        goto nomem;
    if (!set_common_options(c)) {
        scim_client_free(c);
        return scim_error_set(err, ERR_IO, "libcurl lacks an option scimd needs");
    }
    *out = c;
    return OK;
nomem:
    scim_client_free(c);
    return scim_error_set(err, ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------ requests */

/* <base>/<resource>[/<id>][?<query>] into url. */
static enum status build_url(const struct scim_client *c, struct buf *url,
                             enum scim_client_resource rt, const char *id, const char *query)
{
    if ((size_t)rt >= sizeof(resource_paths) / sizeof(resource_paths[0]))
        return ERR_INVALID_VALUE;
    buf_puts(url, c->base_url);
    buf_putc(url, '/');
    buf_puts(url, resource_paths[rt]);
    if (id != NULL) {
        if (!scim_wire_id_valid(id, strlen(id)))
            return ERR_INVALID_VALUE;
        buf_putc(url, '/');
        scim_wire_percent_encode(url, id, strlen(id));
    }
    if (query != NULL) {
        buf_putc(url, '?');
        buf_puts(url, query);
    }
    return url->failed ? ERR_NOMEM : OK;
}

static enum scim_client_outcome transport_outcome(const struct scim_client *c, CURLcode code)
{
    if (code == CURLE_COULDNT_CONNECT && c->blocked)
        return SCIM_CLIENT_BLOCKED;
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL)
        return SCIM_CLIENT_PERMANENT;
    return SCIM_CLIENT_TRANSIENT;
}

/*
 * Send one request (body NULL: none) and classify its answer into res: outcome,
 * status, Retry-After, SCIM error fields and the body.  Counts res->requests.
 */
static enum scim_client_outcome perform(struct scim_client *c, const char *method,
                                        enum scim_client_resource rt, const char *url,
                                        const char *body, struct scim_client_result *res)
{
    CURL *h = c->curl;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->http_status = 0;
    res->retry_after_s = 0;
    res->scim_type[0] = '\0';
    res->detail[0] = '\0';
    buf_reset(&c->response);
    c->retry_after[0] = '\0';
    c->curl_error[0] = '\0';
    c->blocked = false;
    if (c->paused != NULL && atomic_load(c->paused))
        return local_failure(res, SCIM_CLIENT_RATE_LIMITED, "the app is paused");

    bool ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
    if (body != NULL) {
        ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) ==
                 CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers_body) == CURLE_OK;
    } else {
        ok = ok && curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK;
    }
    const char *custom = strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ? NULL : method;
    ok = ok && curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom) == CURLE_OK;
    if (!ok)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "libcurl refused a request option");

    res->requests++;
    CURLcode code = curl_easy_perform(h);
    if (code != CURLE_OK) {
        res->outcome = transport_outcome(c, code);
        if (res->outcome == SCIM_CLIENT_BLOCKED) {
            snprintf(res->detail, sizeof(res->detail), "refused to connect to a %s address",
                     addr_guard_class_name(c->blocked_class));
        } else if (code == CURLE_WRITE_ERROR && c->response.failed) {
            snprintf(res->detail, sizeof(res->detail), "answer larger than %u bytes",
                     SCIM_CLIENT_MAX_RESPONSE_BYTES);
        } else {
            snprintf(res->detail, sizeof(res->detail), "%s",
                     c->curl_error[0] ? c->curl_error : curl_easy_strerror(code));
        }
        redact_secrets(c, res);
        log_debug("outbound: %s %s failed: %s (%s)", method, resource_paths[rt], res->detail,
                  scim_client_outcome_name(res->outcome));
        return res->outcome;
    }

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
    res->outcome = outcome_of_status(res->http_status);
    if (c->response.len > 0) {
        res->body = str_ndup(c->response.data, c->response.len);
        if (res->body == NULL)
            return local_failure(res, SCIM_CLIENT_TRANSIENT, "out of memory");
        res->body_len = c->response.len;
    }
    long wait = 0;
    bool has_wait =
        scim_wire_retry_after(c->retry_after, strlen(c->retry_after), clock_now_s(), &wait);
    if (res->outcome == SCIM_CLIENT_RATE_LIMITED && c->paused != NULL)
        atomic_store(c->paused, true); /* the app's other requests stop before they start */
    if (res->outcome == SCIM_CLIENT_RATE_LIMITED)
        res->retry_after_s = has_wait ? wait : SCIM_WIRE_RETRY_AFTER_DEFAULT_S;
    else if (res->http_status >= 500 && has_wait)
        res->retry_after_s = wait;
    if (res->outcome != SCIM_CLIENT_OK) {
        scim_wire_error(res->body, res->body_len, res->scim_type, res->detail);
        if (res->detail[0] == '\0')
            snprintf(res->detail, sizeof(res->detail), "HTTP %ld", res->http_status);
        redact_secrets(c, res);
    }
    log_debug("outbound: %s %s -> %ld (%s)", method, resource_paths[rt], res->http_status,
              scim_client_outcome_name(res->outcome));
    return res->outcome;
}

/* Build the URL and perform; the common path of every operation. */
static enum scim_client_outcome request(struct scim_client *c, const char *method,
                                        enum scim_client_resource rt, const char *id,
                                        const char *query, const char *body,
                                        struct scim_client_result *res)
{
    struct buf url;
    buf_init(&url, 0);
    enum status rc = build_url(c, &url, rt, id, query);
    enum scim_client_outcome out;
    if (rc == ERR_NOMEM)
        out = local_failure(res, SCIM_CLIENT_TRANSIENT, "out of memory");
    else if (rc != OK)
        out = local_failure(res, SCIM_CLIENT_PERMANENT, "not a usable resource id");
    else
        out = perform(c, method, rt, url.data, body, res);
    buf_release(&url);
    return out;
}

/* A 2xx whose body must name a resource: its id into res->id. */
static enum scim_client_outcome expect_id(struct scim_client_result *res, bool body_required)
{
    if (res->outcome != SCIM_CLIENT_OK || (res->body == NULL && !body_required))
        return res->outcome;
    if (scim_wire_resource_id(res->body, res->body_len, res->id) != OK)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "the answer names no usable resource id");
    return res->outcome;
}

/* Clear res for a new operation; false (res filled) when there is no client. */
static bool begin(struct scim_client *c, struct scim_client_result *res)
{
    scim_client_result_release(res);
    if (c == NULL)
        local_failure(res, SCIM_CLIENT_PERMANENT, "no client");
    return c != NULL;
}

enum scim_client_outcome scim_client_find(struct scim_client *c, enum scim_client_resource rt,
                                          const char *attr, const char *value,
                                          struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    struct buf query;
    buf_init(&query, 0);
    enum status rc = scim_wire_eq_filter(&query, attr, value);
    enum scim_client_outcome out;
    if (rc != OK) {
        out = local_failure(res, rc == ERR_NOMEM ? SCIM_CLIENT_TRANSIENT : SCIM_CLIENT_PERMANENT,
                            "not a usable filter value");
    } else {
        out = request(c, "GET", rt, NULL, query.data, NULL, res);
        if (out == SCIM_CLIENT_OK &&
            scim_wire_list(res->body, res->body_len, &res->total, res->id) != OK)
            out = local_failure(res, SCIM_CLIENT_PERMANENT, "the answer is not a ListResponse");
    }
    buf_release(&query);
    return out;
}

enum scim_client_outcome scim_client_get(struct scim_client *c, enum scim_client_resource rt,
                                         const char *id, struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    if ((id == NULL) != (rt == SCIM_CLIENT_SERVICE_PROVIDER_CONFIG))
        return local_failure(res, SCIM_CLIENT_PERMANENT, "a resource id is required");
    request(c, "GET", rt, id, NULL, NULL, res);
    return id != NULL ? expect_id(res, true) : res->outcome;
}

enum scim_client_outcome scim_client_create(struct scim_client *c, enum scim_client_resource rt,
                                            const char *json, struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    if (json == NULL || rt == SCIM_CLIENT_SERVICE_PROVIDER_CONFIG)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "nothing to create");
    request(c, "POST", rt, NULL, NULL, json, res);
    return expect_id(res, true);
}

enum scim_client_outcome scim_client_put(struct scim_client *c, enum scim_client_resource rt,
                                         const char *id, const char *json,
                                         struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    if (id == NULL || json == NULL)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "a resource id and body are required");
    request(c, "PUT", rt, id, NULL, json, res);
    return expect_id(res, false);
}

enum scim_client_outcome scim_client_patch(struct scim_client *c, enum scim_client_resource rt,
                                           const char *id, const char *patch_json,
                                           struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    if (c->put_only)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "the app takes PUT, not PATCH");
    if (id == NULL || patch_json == NULL)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "a resource id and body are required");
    return request(c, "PATCH", rt, id, NULL, patch_json, res);
}

enum scim_client_outcome scim_client_delete(struct scim_client *c, enum scim_client_resource rt,
                                            const char *id, struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    if (id == NULL)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "a resource id is required");
    return request(c, "DELETE", rt, id, NULL, NULL, res);
}

enum scim_client_outcome scim_client_patch_members(struct scim_client *c, const char *group_id,
                                                   const char *const *add, size_t n_add,
                                                   const char *const *remove, size_t n_remove,
                                                   struct scim_client_result *res)
{
    if (!begin(c, res))
        return res->outcome;
    if (c->put_only)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "the app takes PUT, not PATCH");
    if (group_id == NULL)
        return local_failure(res, SCIM_CLIENT_PERMANENT, "a group id is required");
    struct buf body;
    buf_init(&body, 0);
    size_t total = n_add + n_remove;
    while (res->members_done < total) {
        size_t at = res->members_done;
        size_t take = total - at < c->member_batch ? total - at : c->member_batch;
        size_t adds = at < n_add ? (n_add - at < take ? n_add - at : take) : 0;
        size_t removes = take - adds;
        /* removes start once every add is sent: at + adds >= n_add then */
        const char *const *rm = removes > 0 ? remove + (at + adds - n_add) : NULL;
        buf_reset(&body);
        enum status rc =
            scim_wire_members_patch(&body, adds > 0 ? add + at : NULL, adds, rm, removes);
        if (rc != OK) {
            local_failure(res, rc == ERR_NOMEM ? SCIM_CLIENT_TRANSIENT : SCIM_CLIENT_PERMANENT,
                          "not a usable member id");
            break;
        }
        if (request(c, "PATCH", SCIM_CLIENT_GROUPS, group_id, NULL, body.data, res) !=
            SCIM_CLIENT_OK)
            break;
        res->members_done += take;
    }
    if (total == 0)
        res->outcome = SCIM_CLIENT_OK;
    buf_release(&body);
    return res->outcome;
}
