/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routes_webhooks.c - the admin API's routes for event subscriptions
 * (webhooks): list, create (the signing secret or poll bearer answered once,
 * never again), show with the delivery log and dead letters, disable /
 * enable, delete, replay.  The same functions as `scimd webhook`
 * (src/events/subscriptions.h); PATCH and DELETE honour If-Match, checked
 * inside the change's transaction (admin_if_match).
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/api.h"
#include "events/subscriptions.h"

#define SHOW_ATTEMPTS 50 /* delivery log entries a GET shows */
#define SHOW_DEAD     50 /* dead letters a GET shows */

/* ---- finding a subscription the caller may see ------------------------------------------- */

struct webhook_read {
    struct store_webhook w;
    json_t *detail; /* with counts, log and dead letters; NULL unless asked for */
    bool want_detail;
};

static enum status read_webhook(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct webhook_read *h = ctx;
    enum status rc = store_webhook_get(tx, NULL, r->params[0], &h->w);
    if (rc != OK)
        return rc;
    store_webhook_release(&h->w); /* the sealed secret is never needed here */
    if (!admin_sees(r, h->w.tenant_id))
        return ERR_NOT_FOUND;
    return h->want_detail ? webhooks_detail_json(tx, &h->w, SHOW_ATTEMPTS, SHOW_DEAD, &h->detail)
                          : OK;
}

/* What an admin configured: what an ETag covers (delivery bookkeeping changes
 * all the time and is not a conflict). */
static json_t *config_json(const struct store_webhook *w)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", w->id, "url", w->url, "format",
                     w->format, "delivery", w->delivery, "events", w->events, "audience",
                     w->audience, "state", w->state, "created_at", w->created_at);
}

/* Answer body with the ETag of w's configuration. */
static void reply_tagged(struct admin_req *r, const struct store_webhook *w, json_t *body)
{
    json_t *config = config_json(w);
    admin_reply_tagged_by(r, body, config);
    json_decref(config);
}

/* The subscription of the route's first parameter.  False: answered. */
static bool visible_webhook(struct admin_req *r, struct webhook_read *h)
{
    return admin_in_read_tx(r, read_webhook, h);
}

/* admin_show_fn: what an If-Match guards of the subscription, read in the
 * change's transaction. */
static enum status show_webhook(struct admin_req *r, struct store_tx *tx, void *ctx, json_t **out)
{
    (void)ctx;
    struct webhook_read h = { .want_detail = false };
    enum status rc = read_webhook(r, tx, &h);
    *out = rc == OK ? config_json(&h.w) : NULL;
    return rc;
}

/* ---- routes ------------------------------------------------------------------------------ */

static enum status add_webhook(void *ctx, const struct store_webhook *w)
{
    return admin_listing_add(ctx, w->tenant_id, w->created_at, w->id, webhooks_json(w));
}

static enum status read_webhooks(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    char tenant[STORE_ID_LEN];
    enum status rc = admin_scope_tenant_id(r, tx, tenant);
    return rc == OK ? store_webhook_each(tx, tenant[0] ? tenant : NULL, add_webhook, ctx) : rc;
}

void admin_webhooks_list(struct admin_req *r)
{
    admin_list_with(r, read_webhooks);
}

void admin_webhooks_create(struct admin_req *r)
{
    static const char *const strings[] = { "tenant_id", "url", "format", "events", "audience" };
    if (!admin_body_strings(r, strings, sizeof(strings) / sizeof(strings[0])))
        return;
    json_t *poll = json_object_get(r->body, "poll");
    if (poll != NULL && !json_is_boolean(poll)) {
        admin_fail(r, 400, "invalid_request", "poll must be true or false");
        return;
    }
    struct webhook_new nw = {
        .tenant_key = admin_is_super(r) ? admin_body_str(r, "tenant_id") : r->auth.admin.tenant_id,
        .url = admin_body_str(r, "url"),
        .format = admin_body_str(r, "format"),
        .poll = json_is_true(poll),
        .events = admin_body_str(r, "events"),
        .audience = admin_body_str(r, "audience"),
    };
    if (nw.tenant_key == NULL) {
        admin_fail(r, 400, "invalid_request", "tenant_id is required");
        return;
    }
    if ((nw.url == NULL) == !nw.poll) {
        admin_fail(r, 400, "invalid_request", "give url (push) or poll: true, not both");
        return;
    }
    const struct secretbox *box = admin_api_secretbox();
    bool json_format = nw.format == NULL || strcmp(nw.format, "json") == 0;
    if (json_format && box == NULL) {
        admin_fail(r, 409, "no_key_file",
                   "the server has no key to seal webhook secrets: start it with --key-file");
        return;
    }
    struct store_webhook w;
    struct webhook_credential cred;
    struct scim_error err;
    struct actor by = admin_actor(r);
    if (webhooks_create(r->dir, box, &nw, &by, &w, &cred, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    json_t *j = webhooks_json(&w);
    if (cred.secret[0]) /* answered this once; scimd keeps it sealed */
        json_object_set_new(j, "secret", json_string(cred.secret));
    if (cred.poll_token[0]) { /* answered this once; scimd keeps its SHA-256 */
        char url[DIRECTORY_URL_MAX + 64];
        snprintf(url, sizeof(url), "%s" WEBHOOK_POLL_PATH "%s", r->dir->public_url, w.id);
        json_object_set_new(j, "poll_token", json_string(cred.poll_token));
        json_object_set_new(j, "poll_url", json_string(url));
    }
    memset(&cred, 0, sizeof(cred));
    admin_reply(r, 201, j);
}

void admin_webhooks_get(struct admin_req *r)
{
    struct webhook_read h = { .want_detail = true };
    if (!visible_webhook(r, &h))
        return;
    reply_tagged(r, &h.w, h.detail);
}

void admin_webhooks_patch(struct admin_req *r)
{
    bool enabled;
    if (!admin_body_state(r, &enabled))
        return;
    struct webhook_read h = { .want_detail = false };
    if (!visible_webhook(r, &h))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_webhook, NULL, "webhook", h.w.id, NULL);
    if (webhooks_set_enabled(r->dir, h.w.id, enabled, &by, guard, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    if (visible_webhook(r, &h))
        reply_tagged(r, &h.w, webhooks_json(&h.w));
}

void admin_webhooks_delete(struct admin_req *r)
{
    struct webhook_read h = { .want_detail = false };
    if (!visible_webhook(r, &h))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_webhook, NULL, "webhook", h.w.id, NULL);
    if (webhooks_delete(r->dir, h.w.id, &by, guard, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 204, NULL);
}

void admin_webhooks_replay(struct admin_req *r)
{
    json_t *from = json_object_get(r->body, "from_event_id");
    json_t *dead = json_object_get(r->body, "dead");
    if ((from != NULL && !json_is_string(from)) || (dead != NULL && !json_is_boolean(dead)) ||
        (from == NULL && !json_is_true(dead))) {
        admin_fail(r, 400, "invalid_request", "give from_event_id (a string) and/or dead: true");
        return;
    }
    struct webhook_read h = { .want_detail = false };
    if (!visible_webhook(r, &h))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    int64_t n = 0;
    if (webhooks_replay(r->dir, h.w.id, json_string_value(from), json_is_true(dead), &by, &n,
                        &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 200, json_pack("{s:I}", "queued", (json_int_t)n));
}
