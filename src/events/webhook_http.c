/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook_http.c - this file contains the POST of one webhook message with
 * libcurl behind the SSRF guard (webhook_http.h).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/str.h"
#include "core/version.h"
#include "events/webhook_http.h"
#include "outbound/addr_guard.h"
#include "outbound/scim_wire.h"

struct webhook_http {
    CURL *curl;
    bool allow_private;
    bool blocked;
    enum addr_class blocked_class;
    char retry_after[64];
    char curl_error[CURL_ERROR_SIZE];
    struct buf body;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct webhook_http *h = userdata;
    size_t n = size * nmemb, room = WEBHOOK_HTTP_BODY_KEEP - h->body.len;
    buf_append(&h->body, data, n < room ? n : room); /* the rest is read and dropped */
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct webhook_http *h = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        h->retry_after[0] = '\0';
    } else if (n > sizeof(name) - 1 && str_ieqn(data, name, sizeof(name) - 1)) {
        size_t len = n - (sizeof(name) - 1);
        if (len < sizeof(h->retry_after)) {
            memcpy(h->retry_after, data + sizeof(name) - 1, len);
            h->retry_after[len] = '\0';
        }
    }
    return n;
}

static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    struct webhook_http *h = clientp;
    (void)purpose;
    enum addr_class cls = addr_guard_classify(&address->addr, (socklen_t)address->addrlen);
    if (!addr_guard_class_allowed(cls, h->allow_private)) {
        h->blocked = true;
        h->blocked_class = cls;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

enum status webhook_http_new(bool allow_private, struct webhook_http **out, struct scim_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return scim_error_set(err, ERR_IO, "libcurl failed to initialise");
    struct webhook_http *h = calloc(1, sizeof(*h));
    if (h == NULL || (h->curl = curl_easy_init()) == NULL) {
        free(h);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    h->allow_private = allow_private;
    buf_init(&h->body, WEBHOOK_HTTP_BODY_KEEP);
    CURL *c = h->curl;
    bool ok = true;
#define SET(opt, val) ok = ok && curl_easy_setopt(c, opt, val) == CURLE_OK
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USERAGENT, "scimd/" SCIMD_VERSION);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_HTTP_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_TIMEOUT_MS, (long)WEBHOOK_HTTP_TIMEOUT_MS);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_ERRORBUFFER, h->curl_error);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, h);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, h);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, h);
#undef SET
    if (!ok) {
        webhook_http_free(h);
        return scim_error_set(err, ERR_IO, "libcurl lacks an option scimd needs");
    }
    *out = h;
    return OK;
}

void webhook_http_free(struct webhook_http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    buf_release(&h->body);
    free(h);
}

void webhook_http_result_release(struct webhook_http_result *res)
{
    free(res->body);
    memset(res, 0, sizeof(*res));
}

void webhook_http_post(struct webhook_http *h, const char *url, const char *content_type,
                       const char *const *headers, size_t n_headers, const char *body,
                       size_t body_len, struct webhook_http_result *res)
{
    memset(res, 0, sizeof(*res));
    buf_reset(&h->body);
    h->retry_after[0] = '\0';
    h->curl_error[0] = '\0';
    h->blocked = false;
    struct curl_slist *list = NULL;
    char line[128];
    snprintf(line, sizeof(line), "Content-Type: %s", content_type);
    bool ok = (list = curl_slist_append(list, line)) != NULL;
    struct curl_slist *next;
    ok = ok && (next = curl_slist_append(list, "Expect:")) != NULL && (list = next);
    for (size_t i = 0; ok && i < n_headers && i < WEBHOOK_HTTP_HEADERS_MAX; i++)
        ok = (next = curl_slist_append(list, headers[i])) != NULL && (list = next);
    CURL *c = h->curl;
    ok = ok && curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_HTTPHEADER, list) == CURLE_OK;
    if (!ok) {
        curl_slist_free_all(list);
        str_copy(res->detail, sizeof(res->detail), "could not set up the request");
        return;
    }
    int64_t start = clock_mono_ms();
    CURLcode code = curl_easy_perform(c);
    res->latency_ms = clock_mono_ms() - start;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(list);
    if (code != CURLE_OK) {
        res->blocked = h->blocked;
        if (h->blocked)
            snprintf(res->detail, sizeof(res->detail), "refused to connect to a %s address",
                     addr_guard_class_name(h->blocked_class));
        else
            snprintf(res->detail, sizeof(res->detail), "%s",
                     h->curl_error[0] ? h->curl_error : curl_easy_strerror(code));
        return;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    if (h->body.len > 0 && (res->body = str_ndup(h->body.data, h->body.len)) != NULL)
        res->body_len = h->body.len;
    long wait = 0;
    if ((res->status == 429 || res->status == 503) &&
        scim_wire_retry_after(h->retry_after, strlen(h->retry_after), clock_now_s(), &wait))
        res->retry_after_s = wait;
}
