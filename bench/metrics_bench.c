/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics_bench.c - this file contains a micro-benchmark of the request
 * counters of src/http/metrics.c, the one call every answered request
 * makes: THREADS threads (default 4) record CALLS requests each over a mix
 * of 12 (route, method, status) series, as a busy server's workers do.
 * Prints ns per call and calls per second.
 *
 *   build/bench/metrics_bench [THREADS] [CALLS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "http/metrics.h"

static const char *const routes[] = { "/Users/{id}", "/Users", "/Groups/{id}", "/Groups" };
static const char *const methods[] = { "GET", "PATCH", "PUT" };
static const int statuses[] = { 200, 404 };

struct job {
    struct http_metrics *m;
    long calls;
};

static void *work(void *arg)
{
    struct job *j = arg;
    for (long i = 0; i < j->calls; i++)
        http_metrics_request(j->m, routes[i & 3], methods[(i >> 2) % 3], statuses[(i >> 4) & 1],
                             (int64_t)(i & 1023) * 37);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 4;
    long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 2000000;
    if (threads < 1 || threads > 256 || calls < 1) {
        fprintf(stderr, "usage: metrics_bench [THREADS 1..256] [CALLS]\n");
        return 2;
    }
    struct http_metrics *m;
    if (http_metrics_new(&m) != OK)
        return 1;
    pthread_t tid[256];
    struct job job = { m, calls };
    double start = now_s();
    for (int t = 0; t < threads; t++)
        pthread_create(&tid[t], NULL, work, &job);
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    double took = now_s() - start;
    double total = (double)threads * (double)calls;
    printf(
        "metrics_bench: %d threads x %ld calls: %.1f ns per call (wall / calls), %.2f M calls/s\n",
        threads, calls, took * 1e9 / total, total / took / 1e6);
    http_metrics_free(m);
    return 0;
}
