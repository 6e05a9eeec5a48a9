/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn_count.c - a chained hash table of addresses and their open
 * connections, under one mutex.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "http/conn_count.h"

#define BUCKETS       4096 /* a power of two */
#define ADDRESS_BYTES 64

struct entry {
    struct entry *next;
    unsigned open;
    char address[ADDRESS_BYTES];
};

struct http_conn_count {
    pthread_mutex_t mu;
    unsigned per_ip_max;
    struct entry *buckets[BUCKETS];
};

enum status http_conn_count_new(unsigned per_ip_max, struct http_conn_count **out)
{
    struct http_conn_count *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ERR_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->per_ip_max = per_ip_max;
    *out = c;
    return OK;
}

void http_conn_count_free(struct http_conn_count *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct entry *e = c->buckets[i], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* FNV-1a */
static size_t bucket_of(const char *address)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)address; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h & (BUCKETS - 1));
}

/* The entry of address and the link that points to it.  Holds mu. */
static struct entry **find(struct http_conn_count *c, const char *address)
{
    struct entry **link = &c->buckets[bucket_of(address)];
    while (*link != NULL && strcmp((*link)->address, address) != 0)
        link = &(*link)->next;
    return link;
}

bool http_conn_count_enter(struct http_conn_count *c, const char *address)
{
    pthread_mutex_lock(&c->mu);
    struct entry **link = find(c, address);
    if (*link == NULL) {
        struct entry *e = calloc(1, sizeof(*e));
        if (e == NULL) {
            pthread_mutex_unlock(&c->mu);
            return true; /* not counted: _leave finds nothing to take back */
        }
        str_copy(e->address, sizeof(e->address), address);
        *link = e;
    }
    unsigned open = ++(*link)->open;
    pthread_mutex_unlock(&c->mu);
    return c->per_ip_max == 0 || open <= c->per_ip_max;
}

void http_conn_count_leave(struct http_conn_count *c, const char *address)
{
    pthread_mutex_lock(&c->mu);
    struct entry **link = find(c, address);
    struct entry *gone = NULL;
    if (*link != NULL && --(*link)->open == 0) {
        gone = *link;
        *link = gone->next;
    }
    pthread_mutex_unlock(&c->mu);
    free(gone);
}
