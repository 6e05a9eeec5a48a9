/* SPDX-License-Identifier: Apache-2.0 */
/*
 * downstream.h - for C tests: start the downstream SCIM fixture
 * (tests/fixtures/downstream/server.mjs, a real SCIM app on loopback) on a free
 * port, drive its admin API (faults, request log) and stop it.
 *
 * Header-only (static functions) so any unit test (tests/unit/<layer>/<x>_test.c) can include
 * it.  The fixture is found at $SCIMD_DOWNSTREAM_SERVER or, from the repository
 * root where `make unit` runs, tests/fixtures/downstream/server.mjs; `node` must
 * be on PATH and `make test-npm` must have installed its packages.
 * One struct downstream per test; not thread-safe.
 */
#ifndef SCIMD_TESTS_DOWNSTREAM_H
#define SCIMD_TESTS_DOWNSTREAM_H

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/str.h"

#define DOWNSTREAM_TOKEN          "downstream-token"
#define DOWNSTREAM_START_LINE_MAX 512

extern char **environ;

struct downstream {
    pid_t pid;
    int port;
    char base[128];  /* http(s)://127.0.0.1:<port>/scim/v2 */
    char admin[128]; /* http(s)://127.0.0.1:<port> */
    bool tls;        /* started with --tls-cert/--tls-key */
};

/* Spawn the fixture with extra arguments (NULL-terminated list, may be NULL)
 * and wait for the line that names its port. */
static inline void downstream_start(struct downstream *ds, const char *const *extra)
{
    const char *server = getenv("SCIMD_DOWNSTREAM_SERVER");
    if (server == NULL)
        server = "tests/fixtures/downstream/server.mjs";
    const char *argv[16] = { "node", server, "--port", "0", "--token", DOWNSTREAM_TOKEN };
    size_t argc = 6;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 15; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;

    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int rc = posix_spawnp(&ds->pid, "node", &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    cr_assert_eq(rc, 0, "cannot spawn node: %s", strerror(rc));

    /* The first stdout line is {"port":N,"base":"..."}; EOF means it died. */
    char line[DOWNSTREAM_START_LINE_MAX];
    size_t n = 0;
    while (n < sizeof(line) - 1) {
        ssize_t got = read(fds[0], line + n, 1);
        if (got <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    json_t *doc = json_loads(line, 0, NULL);
    cr_assert_not_null(doc, "downstream fixture did not start (is `make test-npm` done?): '%s'",
                       line);
    ds->port = (int)json_integer_value(json_object_get(doc, "port"));
    const char *base = json_string_value(json_object_get(doc, "base"));
    cr_assert(ds->port > 0 && base != NULL, "'%s'", line);
    ds->tls = strncmp(base, "https:", 6) == 0;
    snprintf(ds->base, sizeof(ds->base), "%s", base);
    snprintf(ds->admin, sizeof(ds->admin), "%s://127.0.0.1:%d", ds->tls ? "https" : "http",
             ds->port);
    json_decref(doc);
}

static inline void downstream_stop(struct downstream *ds)
{
    if (ds->pid <= 0)
        return;
    kill(ds->pid, SIGTERM);
    int status;
    waitpid(ds->pid, &status, 0);
    ds->pid = 0;
}

static inline size_t downstream_collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    buf_append(b, data, size * nmemb);
    return size * nmemb;
}

/* An admin call (method, path, JSON body or NULL); returns the parsed JSON
 * answer (caller decrefs; NULL for 204). */
static inline json_t *downstream_admin(struct downstream *ds, const char *method, const char *path,
                                       const char *json)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", ds->admin, path);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    struct buf out;
    buf_init(&out, 0);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (json != NULL)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, downstream_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (ds->tls)
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* the test's own admin calls only */
    CURLcode code = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    cr_assert_eq(code, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(code));
    cr_assert(status >= 200 && status < 300, "%s %s -> %ld", method, path, status);
    json_t *doc = out.len > 0 ? json_loads(out.data, 0, NULL) : NULL;
    buf_release(&out);
    return doc;
}

/* Replace the fixture's fault configuration (see server.mjs). */
static inline void downstream_faults(struct downstream *ds, const char *json)
{
    json_decref(downstream_admin(ds, "POST", "/_faults", json));
}

/* The request log, oldest first (caller decrefs). */
static inline json_t *downstream_log(struct downstream *ds)
{
    json_t *log = downstream_admin(ds, "GET", "/_log", NULL);
    cr_assert(json_is_array(log));
    return log;
}

#endif
