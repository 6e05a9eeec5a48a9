/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_client.h - the one SCIM client scimd speaks to every downstream app with
 * (RFC 7644 over libcurl).
 *
 * Does: the requests a convergence job needs (find by `attr eq "value"`, get,
 * create, PATCH, PUT, DELETE, group member PATCHes in batches), each answered
 * with a typed result whose outcome says what the caller should do next (done,
 * look up and link, drop the link and create, pause the app, give up, retry).
 * Per-app differences are fields of struct scim_app_profile, never vendor checks.
 * Connections are reused between requests of one client; TLS is verified (an
 * optional CA file per app); every socket is checked by addr_guard before it
 * connects; requests carry `User-Agent: scimd/<version>`.
 *
 * Does not: know users, groups, the store or the directory; build resource
 * bodies (JSON text comes in ready); retry or sleep (the caller schedules; only
 * libcurl itself resends once when a reused connection turns out dead before any
 * answer, so a create can still arrive twice: 409 then means "look up and link").
 * Never logs or returns credentials: error details have them cut out.
 *
 * Ownership: scim_client_new copies the profile (secrets included, wiped on
 * free).  A result owns its body; scim_client_result_release frees it.
 * Thread safety: one client is used by one thread at a time; separate clients
 * may run in parallel (libcurl is set up once, process-wide, on first use).
 */
#ifndef SCIMD_OUTBOUND_SCIM_CLIENT_H
#define SCIMD_OUTBOUND_SCIM_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "outbound/scim_wire.h"

#define SCIM_CLIENT_CONNECT_TIMEOUT_MS 5000       /* default connect timeout */
#define SCIM_CLIENT_TIMEOUT_MS         30000      /* default whole-request timeout */
#define SCIM_CLIENT_MEMBER_BATCH       100        /* default member changes per group PATCH */
#define SCIM_CLIENT_MAX_RESPONSE_BYTES (8u << 20) /* a bigger answer is a transient failure */

enum scim_client_auth {
    SCIM_CLIENT_AUTH_BEARER = 0, /* Authorization: Bearer <token> */
    SCIM_CLIENT_AUTH_BASIC,      /* HTTP Basic with user and password */
};

/* How one downstream app is reached.  Strings are borrowed by scim_client_new,
 * which copies them. */
struct scim_app_profile {
    const char *base_url; /* SCIM base, e.g. "https://api.example.com/scim/v2" (no query) */
    enum scim_client_auth auth;
    const char *token;          /* bearer token (secret) */
    const char *basic_user;     /* basic auth user */
    const char *basic_password; /* basic auth password (secret) */
    const char *ca_file;        /* PEM bundle to verify the app's TLS certificate; NULL: system */
    bool put_only;              /* the app has no PATCH: replace with PUT */
    size_t member_batch;     /* most member changes per group PATCH; 0: SCIM_CLIENT_MEMBER_BATCH */
    long connect_timeout_ms; /* 0: SCIM_CLIENT_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* 0: SCIM_CLIENT_TIMEOUT_MS */
    bool allow_private;      /* operator switch: loopback/private/link-local targets allowed */
};

/* What the caller should make of an answer. */
enum scim_client_outcome {
    SCIM_CLIENT_OK = 0,       /* 2xx */
    SCIM_CLIENT_NOT_FOUND,    /* 404: the remote resource is gone (drop the link, create) */
    SCIM_CLIENT_CONFLICT,     /* 409: it exists already (look it up and link) */
    SCIM_CLIENT_RATE_LIMITED, /* 429: pause the app for retry_after_s; not a failure */
    SCIM_CLIENT_PERMANENT, /* other 4xx, a malformed answer, a bad request: retrying won't help */
    SCIM_CLIENT_TRANSIENT, /* 5xx, 408, timeout, connection or TLS failure: retry later */
    SCIM_CLIENT_BLOCKED,   /* addr_guard refused every address of the app's host */
};

/* The endpoints a request is about. */
enum scim_client_resource {
    SCIM_CLIENT_USERS = 0,
    SCIM_CLIENT_GROUPS,
    SCIM_CLIENT_SERVICE_PROVIDER_CONFIG, /* only with scim_client_get and id NULL */
};

struct scim_client_result {
    enum scim_client_outcome outcome;
    long http_status;   /* 0 when no HTTP answer arrived */
    long retry_after_s; /* 429 (always: the header, else SCIM_WIRE_RETRY_AFTER_DEFAULT_S) and
                           5xx with a Retry-After header; else 0 */
    char scim_type[SCIM_WIRE_SCIM_TYPE_MAX]; /* from a SCIM error body, or "" */
    char detail[SCIM_WIRE_DETAIL_MAX];       /* error body detail, or what failed locally */
    char id[SCIM_WIRE_ID_MAX]; /* create/get/put: the resource's id; find: the first match */
    long total;                /* find: totalResults (0: not found) */
    size_t requests;           /* HTTP requests made (member batches: one per batch) */
    size_t members_done;       /* patch_members: member changes the app accepted */
    char *body;                /* the last answer's body, NUL-terminated, or NULL */
    size_t body_len;
};

struct scim_client;

/* Check the profile (http(s) URL, credentials for its auth) and set up a client.
 * ERR_INVALID_VALUE with err->detail on a bad profile; ERR_NOMEM. */
enum status scim_client_new(const struct scim_app_profile *profile, struct scim_client **out,
                            struct scim_error *err);
/* Close the connections and wipe the secrets.  NULL is a no-op. */
void scim_client_free(struct scim_client *c);

/* A gate shared by the clients of one app, to stop their requests at once (an
 * app paused by a 429 or quarantine while other requests of it are in
 * flight): while *paused is true, operations send nothing and answer
 * SCIM_CLIENT_RATE_LIMITED with http_status 0 and retry_after_s 0.  A 429
 * answer closes the gate itself, before the caller hears of it.  paused is
 * borrowed (NULL: no gate); the caller opens it again. */
void scim_client_set_pause(struct scim_client *c, atomic_bool *paused);

/* Free res->body and clear res. */
void scim_client_result_release(struct scim_client_result *res);
/* Short lowercase name of an outcome, e.g. "rate limited". */
const char *scim_client_outcome_name(enum scim_client_outcome outcome);

/*
 * Every operation fills *res (releasing what it held first) and returns
 * res->outcome.  Arguments must not point into *res (copy res->id first).
 */

/* GET <resource>?filter=<attr> eq "<value>": res->total and res->id of the first
 * match (e.g. Users by "userName" or "externalId", Groups by "displayName"). */
enum scim_client_outcome scim_client_find(struct scim_client *c, enum scim_client_resource rt,
                                          const char *attr, const char *value,
                                          struct scim_client_result *res);
/* GET <resource>/<id>; id NULL for ServiceProviderConfig. */
enum scim_client_outcome scim_client_get(struct scim_client *c, enum scim_client_resource rt,
                                         const char *id, struct scim_client_result *res);
/* POST <resource> with a JSON body; res->id is the new resource's id. */
enum scim_client_outcome scim_client_create(struct scim_client *c, enum scim_client_resource rt,
                                            const char *json, struct scim_client_result *res);
/* PUT <resource>/<id> with a full JSON resource. */
enum scim_client_outcome scim_client_put(struct scim_client *c, enum scim_client_resource rt,
                                         const char *id, const char *json,
                                         struct scim_client_result *res);
/* PATCH <resource>/<id> with a PatchOp body.  PERMANENT without a request when
 * the profile is put_only. */
enum scim_client_outcome scim_client_patch(struct scim_client *c, enum scim_client_resource rt,
                                           const char *id, const char *patch_json,
                                           struct scim_client_result *res);
/* DELETE <resource>/<id>. */
enum scim_client_outcome scim_client_delete(struct scim_client *c, enum scim_client_resource rt,
                                            const char *id, struct scim_client_result *res);

/*
 * Add add[0..n_add) and remove remove[0..n_remove) (remote user ids) as members
 * of remote group group_id, in PATCHes of at most profile.member_batch changes
 * (adds first).  Stops at the first batch that is not OK and returns its
 * outcome; res->members_done counts the changes applied before it.  Re-running
 * adds is safe (adding a member twice is a no-op); a remove of a member that is
 * already gone may answer 400 scimType "noTarget" (RFC 7644 §3.5.2), which the
 * caller may take as done.  PERMANENT without a request when the profile is
 * put_only (the caller then PUTs the group with its full member list).
 */
enum scim_client_outcome scim_client_patch_members(struct scim_client *c, const char *group_id,
                                                   const char *const *add, size_t n_add,
                                                   const char *const *remove, size_t n_remove,
                                                   struct scim_client_result *res);

#endif
