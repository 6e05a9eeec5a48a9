/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sqlgen.h - SQL text with bound parameters, shared by the store backends.
 *
 * struct sqlgen accumulates one statement: SQL text with placeholders in the
 * backend's style (`?` for SQLite, `$1..` for PostgreSQL) and the list of
 * values to bind, in order.  Values never enter the SQL text; column names
 * come from tables here, never from a request.  On top of it sit the
 * compilers of what is dynamic: SCIM user and group filters (search) and event
 * queries.
 *
 * A struct sqlgen has one owner; allocation failure is sticky and checked
 * once with sqlgen_status.  Everything else here is pure and thread-safe.
 */
#ifndef SCIMD_STORE_SQLGEN_H
#define SCIMD_STORE_SQLGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "scim/filter.h"
#include "store/store.h"

/* What differs between the SQL dialects the store speaks. */
struct sqlgen_dialect {
    bool numbered_params;       /* $1, $2, ... instead of ? */
    const char *strpos_fn;      /* 1-based substring position: instr / strpos */
    const char *binary_collate; /* suffix making text comparison bytewise, or "" */
};

extern const struct sqlgen_dialect sqlgen_sqlite;
extern const struct sqlgen_dialect sqlgen_postgres;

enum sqlgen_param_kind { SQLGEN_PARAM_TEXT, SQLGEN_PARAM_INT };

struct sqlgen_param {
    enum sqlgen_param_kind kind;
    char *text; /* TEXT: owned copy */
    int64_t num;
};

struct sqlgen {
    const struct sqlgen_dialect *dialect;
    struct buf sql;
    struct sqlgen_param *params;
    size_t n_params;
    size_t alloc_params;
    bool failed; /* allocation failed: the statement is unusable */
};

void sqlgen_init(struct sqlgen *g, const struct sqlgen_dialect *dialect);
void sqlgen_release(struct sqlgen *g);
/* Append SQL text verbatim (trusted text only, never values). */
void sqlgen_sql(struct sqlgen *g, const char *sql);
/* Append a placeholder bound to a copy of value (NULL binds SQL NULL). */
void sqlgen_text(struct sqlgen *g, const char *value);
void sqlgen_int(struct sqlgen *g, int64_t value);
/* OK, or ERR_NOMEM if anything above failed. */
enum status sqlgen_status(const struct sqlgen *g);

/* Columns of idp_users in the order the search statements select them; the
 * last says whether the user is a member of a group of its connection (1 or
 * 0), which rendering it asks next (store_user_in_groups). */
#define SQLGEN_IDP_USER_COLUMNS                                                                    \
    "tenant_id, idp_id, user_id, external_id, user_name, active, deleted, version, doc, "          \
    "created_at, updated_at, CASE WHEN EXISTS (SELECT 1 FROM group_members AS gm "                 \
    "WHERE gm.tenant_id = idp_users.tenant_id AND gm.idp_id = idp_users.idp_id "                   \
    "AND gm.user_id = idp_users.user_id) THEN 1 ELSE 0 END"
enum sqlgen_idp_user_col {
    SQLGEN_IU_TENANT_ID,
    SQLGEN_IU_IDP_ID,
    SQLGEN_IU_USER_ID,
    SQLGEN_IU_EXTERNAL_ID,
    SQLGEN_IU_USER_NAME,
    SQLGEN_IU_ACTIVE,
    SQLGEN_IU_DELETED,
    SQLGEN_IU_VERSION,
    SQLGEN_IU_DOC,
    SQLGEN_IU_CREATED_AT,
    SQLGEN_IU_UPDATED_AT,
    SQLGEN_IU_IN_GROUPS,
};

/*
 * Append to g a boolean SQL expression over idp_users columns for the parts
 * of bound user filter f on indexed attributes (see store_idp_user_search).
 * tenant_id and idp_id scope the emails sub-queries.  Returns false (and
 * appends nothing) when no part of f compiles; otherwise *exact tells whether
 * the expression selects exactly the rows f matches (else a superset).
 * g NULL only asks whether f compiles.
 */
bool sqlgen_user_filter(struct sqlgen *g, const struct scim_filter *f, const char *tenant_id,
                        const char *idp_id, bool *exact);

/*
 * Build the statements of store_idp_user_search: count (SELECT COUNT(*),
 * only needed when exact) and rows (SQLGEN_IDP_USER_COLUMNS in q's order,
 * with LIMIT/OFFSET when exact).  Both must be initialised.  ERR_NOMEM.
 */
enum status sqlgen_user_search(const struct store_search *q, struct sqlgen *count,
                               struct sqlgen *rows, bool *exact);
/* sqlgen_user_search or sqlgen_group_search. */
typedef enum status (*sqlgen_search_fn)(const struct store_search *q, struct sqlgen *count,
                                        struct sqlgen *rows, bool *exact);

/* The same for a bound Group filter over groups (members.value through group_members). */
bool sqlgen_group_filter(struct sqlgen *g, const struct scim_filter *f, const char *tenant_id,
                         const char *idp_id, bool *exact);

/* Columns of groups in the order the group statements select them. */
#define SQLGEN_GROUP_COLUMNS                                                                       \
    "tenant_id, idp_id, id, external_id, display_name, version, doc, created_at, updated_at"
enum sqlgen_group_col {
    SQLGEN_G_TENANT_ID,
    SQLGEN_G_IDP_ID,
    SQLGEN_G_ID,
    SQLGEN_G_EXTERNAL_ID,
    SQLGEN_G_DISPLAY_NAME,
    SQLGEN_G_VERSION,
    SQLGEN_G_DOC,
    SQLGEN_G_CREATED_AT,
    SQLGEN_G_UPDATED_AT,
};
/* The statements of store_group_search, as sqlgen_user_search. */
enum status sqlgen_group_search(const struct store_search *q, struct sqlgen *count,
                                struct sqlgen *rows, bool *exact);

/* Columns of events in the order sqlgen_event_query selects them. */
#define SQLGEN_EVENT_COLUMNS                                                                       \
    "seq, id, at, tenant_id, idp_id, type, actor, subject_id, summary, source, request_id"

/* The statement of store_event_each (limit 0 means SQLGEN_EVENT_DEFAULT_LIMIT). */
#define SQLGEN_EVENT_DEFAULT_LIMIT 100
enum status sqlgen_event_query(const struct store_event_query *q, struct sqlgen *g);

/*
 * Normalise an RFC 3339 UTC time with 0-3 fraction digits and a "Z" or
 * "+00:00" zone to the stored form "YYYY-MM-DDTHH:MM:SS.mmmZ".  False for
 * anything else (other zones, more digits, impossible dates).
 */
bool sqlgen_time_normalise(const char *in, char out[STORE_TIME_LEN]);

/* malloc'd key of a case-insensitive value, as the *_lc columns hold it and
 * filters compare it: Unicode NFC plus full case folding (core/fold.h), so
 * "ÄRGER", "ärger" and a decomposed "ärger" share one.  NULL in, NULL out. */
char *sqlgen_key_dup(const char *s);
/* "%<key of value>%" with %, _ and \ escaped by \ (for LIKE ... ESCAPE '\'); NULL on OOM. */
char *sqlgen_like_contains(const char *value);
/* The same with value only ASCII-lowered, for columns compared through lower(). */
char *sqlgen_like_contains_ascii(const char *value);

#endif
