/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rederive_test.c - tests for src/directory/rederive.c against a real
 * SQLite store: a mapping change starts a job and re-derives nobody by
 * itself; batches move a durable cursor; a lease keeps a second worker out
 * until it runs out; a stopped worker's job resumes where it ended; a newer
 * change supersedes a running job; SCIM writes meanwhile use the new mapping.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "directory/mirroring.h"
#include "directory/rederive.h"
#include "scim/json.h"

#include "../../support/scratch_directory.h"

#define DEPT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
enum { N = 450 }; /* more than two batches of 200 */

static struct scratch_directory scratch;
static struct directory *dir = &scratch.dir;
static const struct actor by = { "test", NULL };
static char ids[N][STORE_ID_LEN];

/* Create user n over SCIM, in department "d<n>"; its id into id. */
static void create(int n, char id[STORE_ID_LEN])
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"urn:ietf:params:"
             "scim:schemas:extension:enterprise:2.0:User\"],\"userName\":\"user%d@example.com\","
             "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":"
             "\"d%d\"}}",
             n, n);
    json_t *body = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_json_decode(text, strlen(text), &body, &err), OK, "%s", err.detail);
    struct scim_doc doc;
    cr_assert_eq(directory_scim_user_create(dir, &scratch.conn, body, &doc, &err), OK, "%s",
                 err.detail);
    str_copy(id, STORE_ID_LEN, doc.id);
    scim_doc_release(&doc);
    json_decref(body);
}

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_directory_open(&scratch, "/tmp", &err), OK, "%s", err.detail);
    for (int i = 0; i < N; i++)
        create(i, ids[i]);
    struct store_field f;
    cr_assert_eq(directory_field_add(dir, "scratch", "department", NULL, &by, &f, &err), OK, "%s",
                 err.detail);
}

static void teardown(void)
{
    scratch_directory_close(&scratch);
}

TestSuite(rederive, .init = setup, .fini = teardown);

static enum status grab_value(void *ctx, const struct store_user_field *f)
{
    if (strcmp(f->name, "department") == 0)
        str_copy(ctx, 32, f->value);
    return OK;
}

/* The user's department as JSON text ("" when none). */
static void department_of(const char *id, char out[32])
{
    out[0] = '\0';
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(scratch.files.store, false, &tx), OK);
    cr_assert_eq(store_user_field_each(tx, scratch.conn.tenant_id, id, grab_value, out), OK);
    store_rollback(tx);
}

static enum status count(void *ctx, const struct store_event *e)
{
    (void)e;
    (*(int *)ctx)++;
    return OK;
}

static int count_events(const char *type)
{
    int n = 0;
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(scratch.files.store, false, &tx), OK);
    struct store_event_query q = { .tenant_id = scratch.conn.tenant_id, .type = type };
    cr_assert_eq(store_event_each(tx, &q, count, &n), OK);
    store_rollback(tx);
    return n;
}

static struct store_rederive_job map_department(void)
{
    struct store_rederive_job job;
    struct scim_error err = { 0 };
    cr_assert_eq(
        directory_mirror_set(dir, "scratch", NULL, "department", DEPT, &by, NULL, &job, &err), OK,
        "%s", err.detail);
    return job;
}

static void expect_every_department(void)
{
    char v[32], want[32];
    for (int i = 0; i < N; i++) {
        department_of(ids[i], v);
        snprintf(want, sizeof(want), "\"d%d\"", i);
        cr_assert_str_eq(v, want, "user %d", i);
    }
}

Test(rederive, batches_move_a_cursor_under_a_lease_until_done)
{
    struct store_rederive_job job = map_department();
    cr_assert_str_eq(job.state, "running");
    cr_assert_eq(job.total, N);
    cr_assert_eq(job.done, 0);
    char v[32];
    department_of(ids[0], v);
    cr_assert_str_eq(v, "", "the change itself re-derives nobody");
    cr_assert_eq(count_events("mirroring_changed"), 1);

    cr_assert_eq(directory_rederive_step(dir, "worker-a", job.tenant_id, job.id, 200, &job), OK);
    cr_assert_eq(job.done, 200);
    cr_assert_eq(job.changed, 200);
    cr_assert_str_eq(job.state, "running");
    cr_assert_str_eq(job.owner, "worker-a");

    struct store_rederive_job seen;
    cr_assert_eq(directory_rederive_step(dir, "worker-b", job.tenant_id, job.id, 200, &seen),
                 ERR_CONFLICT, "worker-a's lease holds");
    cr_assert_eq(seen.done, 200, "and worker-b did nothing");

    /* A lease that ran out may be taken (the store decides with the time it is given). */
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(scratch.files.store, true, &tx), OK);
    cr_assert_eq(store_rederive_job_claim(tx, job.tenant_id, job.id, "worker-b",
                                          "2999-01-01T00:00:00.000Z", "2999-01-01T00:00:10.000Z"),
                 OK);
    store_rollback(tx);

    cr_assert_eq(directory_rederive_step(dir, "worker-a", job.tenant_id, job.id, 200, &job), OK);
    cr_assert_eq(job.done, 400);
    cr_assert_eq(count_events("users_rederived"), 0);
    cr_assert_eq(directory_rederive_step(dir, "worker-a", job.tenant_id, job.id, 200, &job), OK);
    cr_assert_eq(job.done, N);
    cr_assert_eq(job.changed, N);
    cr_assert_str_eq(job.state, "done");
    cr_assert_neq(job.finished_at[0], '\0');
    cr_assert_eq(count_events("users_rederived"), 1);
    expect_every_department();

    struct scim_error err = { 0 };
    cr_assert_eq(directory_rederive_get(dir, "scratch", NULL, &seen, &err), OK, "%s", err.detail);
    cr_assert_str_eq(seen.id, job.id, "the newest job");
    cr_assert_str_eq(seen.state, "done");
    cr_assert_eq(directory_rederive_step(dir, "worker-a", job.tenant_id, job.id, 200, &seen),
                 ERR_CONFLICT, "a done job is not worked again");
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void count_progress(void *ctx, const struct store_rederive_job *j)
{
    (void)j;
    (*(int *)ctx)++;
}

Test(rederive, a_stopped_worker_job_resumes_at_its_cursor)
{
    struct store_rederive_job job = map_department();
    struct directory_rederiver *w = NULL;
    cr_assert_eq(directory_rederiver_start(dir, 50, 200, &w), OK);
    struct store_rederive_job seen = { 0 };
    struct scim_error err = { 0 };
    for (int i = 0; i < 200 && seen.done == 0; i++) {
        sleep_ms(50);
        cr_assert_eq(directory_rederive_get(dir, "scratch", job.id, &seen, &err), OK);
    }
    directory_rederiver_stop(w);
    cr_assert_eq(directory_rederive_get(dir, "scratch", job.id, &seen, &err), OK);
    cr_assert_gt(seen.done, 0, "the worker did some");
    cr_assert_lt(seen.done, N, "but not all");
    cr_assert_str_eq(seen.owner, "", "a stopping worker lets go of its lease");

    int calls = 0;
    cr_assert_eq(directory_rederive_follow(dir, job.tenant_id, job.id, 0, count_progress, &calls,
                                           &job, &err),
                 OK, "%s", err.detail);
    cr_assert_str_eq(job.state, "done");
    cr_assert_eq(job.done, N, "every user exactly once: resumed, not restarted");
    cr_assert_eq(job.changed, N);
    cr_assert_gt(calls, 0);
    expect_every_department();
}

Test(rederive, a_newer_change_supersedes_a_running_job)
{
    struct store_rederive_job first = map_department();
    cr_assert_eq(directory_rederive_step(dir, "w", first.tenant_id, first.id, 100, &first), OK);
    struct store_rederive_job second = map_department();
    cr_assert_str_neq(second.id, first.id);
    cr_assert_eq(second.done, 0, "starts from the beginning");
    cr_assert_eq(second.total, N);
    cr_assert_eq(directory_rederive_step(dir, "w", first.tenant_id, first.id, 100, &first),
                 ERR_CONFLICT);
    cr_assert_str_eq(first.state, "superseded");
    cr_assert_eq(first.done, 100);

    /* A SCIM write before the job reaches the user derives with the new mapping. */
    char late[STORE_ID_LEN], v[32];
    create(N, late);
    department_of(late, v);
    cr_assert_str_eq(v, "\"d450\"");

    struct scim_error err = { 0 };
    cr_assert_eq(
        directory_rederive_follow(dir, second.tenant_id, second.id, 0, NULL, NULL, &second, &err),
        OK);
    cr_assert_str_eq(second.state, "done");
    cr_assert_eq(second.done, N + 1, "the user created meanwhile is walked too");
    cr_assert_eq(second.total, N + 1);
    expect_every_department();
}
