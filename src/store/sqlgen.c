/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sqlgen.c - this file contains the statement builder shared by the store
 * backends and the compilers that sit on it: SCIM user filters to SQL over
 * the indexed columns of idp_users (DESIGN.md §3: a userName lookup must be
 * an index probe), the search statements around them, and event queries.
 *
 * The filter compiler works per node: a node either compiles to a boolean
 * expression that yields 0 or 1 for every row (never NULL, so NOT is safe),
 * marked exact when it selects precisely the rows the node matches, or it
 * does not compile.  AND keeps a compilable side as a superset; OR and NOT
 * need compilable (and for NOT exact) operands.  Each node is first tried
 * without output (dry run) so that placeholders are only ever emitted in
 * their final order, which keeps $n numbering trivial.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlgen.h"

#include "core/fold.h"

#include "core/str.h"

/* Longest SQL statement built here; filters are capped well below it. */
#define SQLGEN_MAX_SQL_BYTES  (1u << 20)
#define SQLGEN_INITIAL_PARAMS 8

/* clang-format off */
const struct sqlgen_dialect sqlgen_sqlite = { false, "instr", "" };
const struct sqlgen_dialect sqlgen_postgres = { true, "strpos", " COLLATE \"C\"" };
/* clang-format on */

/* ---- builder ------------------------------------------------------------------------ */

void sqlgen_init(struct sqlgen *g, const struct sqlgen_dialect *dialect)
{
    memset(g, 0, sizeof(*g));
    g->dialect = dialect;
    buf_init(&g->sql, SQLGEN_MAX_SQL_BYTES);
}

void sqlgen_release(struct sqlgen *g)
{
    for (size_t i = 0; i < g->n_params; i++)
        free(g->params[i].text);
    free(g->params);
    buf_release(&g->sql);
    g->params = NULL;
    g->n_params = 0;
    g->alloc_params = 0;
}

void sqlgen_sql(struct sqlgen *g, const char *sql)
{
    buf_puts(&g->sql, sql);
}

static struct sqlgen_param *param_add(struct sqlgen *g)
{
    if (g->failed)
        return NULL;
    if (g->n_params == g->alloc_params) {
        size_t n = g->alloc_params ? g->alloc_params * 2 : SQLGEN_INITIAL_PARAMS;
        struct sqlgen_param *p = realloc(g->params, n * sizeof(*p));
        if (p == NULL) {
            g->failed = true;
            return NULL;
        }
        g->params = p;
        g->alloc_params = n;
    }
    struct sqlgen_param *p = &g->params[g->n_params++];
    memset(p, 0, sizeof(*p));
    if (g->dialect->numbered_params)
        buf_printf(&g->sql, "$%zu", g->n_params);
    else
        buf_putc(&g->sql, '?');
    return p;
}

void sqlgen_text(struct sqlgen *g, const char *value)
{
    struct sqlgen_param *p = param_add(g);
    if (p == NULL)
        return;
    p->kind = SQLGEN_PARAM_TEXT;
    if (value != NULL) {
        p->text = str_dup(value);
        if (p->text == NULL)
            g->failed = true;
    }
}

/* Like sqlgen_text, but takes ownership of value (a malloc'd string or NULL on OOM). */
static void param_take(struct sqlgen *g, char *value)
{
    struct sqlgen_param *p = param_add(g);
    if (p == NULL || value == NULL) {
        free(value);
        g->failed = true;
        return;
    }
    p->kind = SQLGEN_PARAM_TEXT;
    p->text = value;
}

void sqlgen_int(struct sqlgen *g, int64_t value)
{
    struct sqlgen_param *p = param_add(g);
    if (p == NULL)
        return;
    p->kind = SQLGEN_PARAM_INT;
    p->num = value;
}

enum status sqlgen_status(const struct sqlgen *g)
{
    return g->failed || g->sql.failed ? ERR_NOMEM : OK;
}

char *sqlgen_key_dup(const char *s)
{
    return fold_key(s);
}

/* ---- values ------------------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int days_in_month(int year, int month)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool sqlgen_time_normalise(const char *in, char out[STORE_TIME_LEN])
{
    /* YYYY-MM-DDTHH:MM:SS */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = sizeof(shape) - 1;
    if (in == NULL || strlen(in) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'd' ? !all_digits(in + i, 1) : in[i] != shape[i])
            return false;
    }
    int year = digits(in, 4), month = digits(in + 5, 2), day = digits(in + 8, 2);
    int hour = digits(in + 11, 2), min = digits(in + 14, 2), sec = digits(in + 17, 2);
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        min > 59 || sec > 59)
        return false;

    const char *p = in + n;
    char frac[4] = "000";
    if (*p == '.') {
        p++;
        size_t k = 0;
        while (k < 3 && all_digits(p + k, 1) && p[k] != '\0')
            k++;
        if (k == 0 || all_digits(p + k, 1))
            return false; /* no digits, or more than three */
        memcpy(frac, p, k);
        p += k;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return false;
    snprintf(out, STORE_TIME_LEN, "%.19s.%sZ", in, frac);
    return true;
}

/* Characters (UTF-8 code points) in s, as SQL length() counts them. */
static int64_t char_count(const char *s)
{
    int64_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

/* A LIKE pattern for co/sw/ew: the value's key (sqlgen_key_dup), %, _ and \ escaped
 * with \.  NULL on OOM. */
/* A LIKE pattern for op over value's key: folded (sqlgen_key_dup) for the
 * *_lc key columns, or only ASCII-lowered for columns compared through SQL's
 * lower(), which lowers ASCII only on both stores. */
static char *like_pattern(const char *value, enum scim_filter_op op, bool fold)
{
    char *key = fold ? sqlgen_key_dup(value) : str_dup(value);
    if (key == NULL)
        return NULL;
    if (!fold)
        for (char *s = key; *s; s++)
            *s = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
    struct buf b;
    buf_init(&b, 0);
    if (op == SCIM_FILTER_CO || op == SCIM_FILTER_EW)
        buf_putc(&b, '%');
    for (const char *s = key; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            buf_putc(&b, '\\');
        buf_putc(&b, *s);
    }
    free(key);
    if (op == SCIM_FILTER_CO || op == SCIM_FILTER_SW)
        buf_putc(&b, '%');
    char *out = buf_take(&b);
    buf_release(&b);
    return out;
}

char *sqlgen_like_contains(const char *value)
{
    return like_pattern(value, SCIM_FILTER_CO, true);
}

char *sqlgen_like_contains_ascii(const char *value)
{
    return like_pattern(value, SCIM_FILTER_CO, false);
}

/*
 * The least string above every string whose key starts with the key of
 * prefix: that key with its last byte incremented.  Only when that byte is
 * printable ASCII, so the bound stays valid UTF-8; NULL otherwise (or on OOM).
 */
static char *prefix_upper_bound(const char *prefix)
{
    char *upper = sqlgen_key_dup(prefix);
    size_t n = upper ? strlen(upper) : 0;
    if (n == 0 || upper[n - 1] < ' ' || upper[n - 1] >= '~') {
        free(upper);
        return NULL;
    }
    upper[n - 1]++;
    return upper;
}

/* ---- indexed attributes ------------------------------------------------------------- */

enum column_kind {
    COL_CASE_IGNORE, /* stored lowercased: compare the lowercased value */
    COL_CASE_EXACT,  /* compared bytewise */
    COL_BOOLEAN,     /* 0/1 */
    COL_EMAIL,       /* idp_user_emails.value_lc, one row per address */
    COL_MEMBER,      /* group_members.user_id, one row per member (caseExact) */
    COL_TIME,        /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
};

struct indexed_attr {
    const char *attr; /* top-level attribute of the User resource */
    const char *sub;  /* sub-attribute, or NULL */
    enum column_kind kind;
    const char *column;
    bool nullable;
};

/* clang-format off */
static const struct indexed_attr user_attrs[] = {
    { "userName",   NULL,           COL_CASE_IGNORE, "user_name_lc", false },
    { "externalId", NULL,           COL_CASE_EXACT,  "external_id",  true  },
    { "id",         NULL,           COL_CASE_EXACT,  "user_id",      false },
    { "active",     NULL,           COL_BOOLEAN,     "active",       false },
    { "emails",     "value",        COL_EMAIL,       "value_lc",     false },
    { "meta",       "created",      COL_TIME,        "created_at",   false },
    { "meta",       "lastModified", COL_TIME,        "updated_at",   false },
};

static const struct indexed_attr group_attrs[] = {
    { "displayName", NULL,           COL_CASE_IGNORE, "display_name_lc", false },
    { "externalId",  NULL,           COL_CASE_EXACT,  "external_id",     true  },
    { "id",          NULL,           COL_CASE_EXACT,  "id",              false },
    { "members",     "value",        COL_MEMBER,      "m.user_id",       false },
    { "meta",        "created",      COL_TIME,        "created_at",      false },
    { "meta",        "lastModified", COL_TIME,        "updated_at",      false },
};
/* clang-format on */

/* What the compiler needs to know about one resource table. */
struct filter_table {
    const struct scim_schema *schema;
    const struct indexed_attr *attrs;
    size_t n_attrs;
    /* Opens `<key> IN (SELECT ... WHERE tenant = ? AND idp = ? AND (` for the element table. */
    const char *element_open;
    const char *element_scope; /* "" before tenant, between tenant and idp */
};

/* Member rows of soft-deleted users are kept (a revive brings the groups
 * back) but are not members while the user is deleted: join live rows only. */
static const struct filter_table user_table = {
    &scim_schema_user,
    user_attrs,
    sizeof(user_attrs) / sizeof(user_attrs[0]),
    "user_id IN (SELECT user_id FROM idp_user_emails WHERE tenant_id = ",
    " AND idp_id = ",
};
static const struct filter_table group_table = {
    &scim_schema_group,
    group_attrs,
    sizeof(group_attrs) / sizeof(group_attrs[0]),
    "id IN (SELECT m.group_id FROM group_members AS m JOIN idp_users AS u ON u.tenant_id = "
    "m.tenant_id AND u.idp_id = m.idp_id AND u.user_id = m.user_id AND u.deleted = 0 "
    "WHERE m.tenant_id = ",
    " AND m.idp_id = ",
};

static bool is_element(enum column_kind kind)
{
    return kind == COL_EMAIL || kind == COL_MEMBER;
}

/* The indexed column path refers to, or NULL.  with_sub=false matches the attribute alone. */
static const struct indexed_attr *indexed_attr(const struct filter_table *t,
                                               const struct scim_filter_path *path, bool with_sub)
{
    const struct scim_attr_ref *ref = &path->ref;
    /* common attributes (id, externalId, meta) resolve to the core schema or to none */
    if (!path->bound || ref->attr == NULL || (ref->schema != t->schema && ref->schema != NULL))
        return NULL;
    for (size_t i = 0; i < t->n_attrs; i++) {
        const struct indexed_attr *a = &t->attrs[i];
        if (!str_ieq(ref->attr->name, a->attr))
            continue;
        if (!with_sub)
            return ref->sub == NULL ? a : NULL;
        if (a->sub == NULL ? ref->sub == NULL : ref->sub != NULL && str_ieq(ref->sub->name, a->sub))
            return a;
    }
    return NULL;
}

static const char *compare_sql(enum scim_filter_op op)
{
    switch (op) {
    case SCIM_FILTER_EQ:
        return " = ";
    case SCIM_FILTER_NE:
        return " <> ";
    case SCIM_FILTER_GT:
        return " > ";
    case SCIM_FILTER_GE:
        return " >= ";
    case SCIM_FILTER_LT:
        return " < ";
    case SCIM_FILTER_LE:
        return " <= ";
    default:
        return NULL;
    }
}

static bool is_order(enum scim_filter_op op)
{
    return op == SCIM_FILTER_GT || op == SCIM_FILTER_GE || op == SCIM_FILTER_LT ||
           op == SCIM_FILTER_LE;
}

static bool is_substring(enum scim_filter_op op)
{
    return op == SCIM_FILTER_CO || op == SCIM_FILTER_SW || op == SCIM_FILTER_EW;
}

/* ---- filter compiler ---------------------------------------------------------------- */

struct compiler {
    const struct filter_table *table;
    const char *tenant_id;
    const char *idp_id;
};

/* `col <op> ?` with a bytewise comparison. */
static void emit_compare(struct sqlgen *g, const char *col, enum scim_filter_op op, char *value)
{
    sqlgen_sql(g, col);
    sqlgen_sql(g, g->dialect->binary_collate);
    sqlgen_sql(g, compare_sql(op));
    param_take(g, value);
}

/* userName (and emails.value inside its sub-query): the column holds the lowercased value. */
static bool leaf_case_ignore(struct sqlgen *g, const struct indexed_attr *a,
                             const struct scim_filter *f)
{
    if (f->op == SCIM_FILTER_PR) {
        if (g != NULL)
            sqlgen_sql(g, a->kind == COL_EMAIL ? "value_lc <> ''" : "TRUE"); /* both dialects */
        return true;
    }
    if (f->value.kind != SCIM_VALUE_STRING || f->value.str == NULL)
        return false;
    bool ok = is_substring(f->op) || f->op == SCIM_FILTER_EQ ||
              (a->kind == COL_CASE_IGNORE && (f->op == SCIM_FILTER_NE || is_order(f->op)));
    if (!ok || g == NULL)
        return ok;
    char *upper = f->op == SCIM_FILTER_SW ? prefix_upper_bound(f->value.str) : NULL;
    if (upper != NULL) {
        /* A prefix is a range of the lowercased column: an index seek, not a LIKE scan. */
        sqlgen_sql(g, "(");
        emit_compare(g, a->column, SCIM_FILTER_GE, sqlgen_key_dup(f->value.str));
        sqlgen_sql(g, " AND ");
        emit_compare(g, a->column, SCIM_FILTER_LT, upper);
        sqlgen_sql(g, ")");
    } else if (is_substring(f->op)) {
        sqlgen_sql(g, a->column);
        sqlgen_sql(g, " LIKE ");
        param_take(g, like_pattern(f->value.str, f->op, true));
        sqlgen_sql(g, " ESCAPE '\\'");
    } else {
        emit_compare(g, a->column, f->op, sqlgen_key_dup(f->value.str));
    }
    return true;
}

/* externalId and id: caseExact strings; externalId may be NULL (absent). */
static bool leaf_case_exact(struct sqlgen *g, const struct indexed_attr *a,
                            const struct scim_filter *f)
{
    if (f->op != SCIM_FILTER_PR && (f->value.kind != SCIM_VALUE_STRING || f->value.str == NULL))
        return false;
    if (g == NULL)
        return true;
    const char *col = a->column;
    const char *v = f->value.str;
    sqlgen_sql(g, "(");
    if (f->op == SCIM_FILTER_NE) {
        if (a->nullable) {
            sqlgen_sql(g, col);
            sqlgen_sql(g, " IS NULL OR ");
        }
        emit_compare(g, col, f->op, str_dup(v));
        sqlgen_sql(g, ")");
        return true;
    }
    if (a->nullable) {
        sqlgen_sql(g, col);
        sqlgen_sql(g, " IS NOT NULL AND ");
    }
    switch (f->op) {
    case SCIM_FILTER_PR:
        sqlgen_sql(g, col);
        sqlgen_sql(g, " <> ''");
        break;
    case SCIM_FILTER_CO:
        sqlgen_sql(g, g->dialect->strpos_fn);
        sqlgen_sql(g, "(");
        sqlgen_sql(g, col);
        sqlgen_sql(g, ", ");
        sqlgen_text(g, v);
        sqlgen_sql(g, ") > 0");
        break;
    case SCIM_FILTER_SW:
        sqlgen_sql(g, "substr(");
        sqlgen_sql(g, col);
        sqlgen_sql(g, ", 1, ");
        sqlgen_int(g, char_count(v));
        sqlgen_sql(g, ") = ");
        sqlgen_text(g, v);
        break;
    case SCIM_FILTER_EW:
        sqlgen_sql(g, "length(");
        sqlgen_sql(g, col);
        sqlgen_sql(g, ") >= ");
        sqlgen_int(g, char_count(v));
        sqlgen_sql(g, " AND substr(");
        sqlgen_sql(g, col);
        sqlgen_sql(g, ", length(");
        sqlgen_sql(g, col);
        sqlgen_sql(g, ") - ");
        sqlgen_int(g, char_count(v));
        sqlgen_sql(g, " + 1) = ");
        sqlgen_text(g, v);
        break;
    default: /* eq and the order comparisons */
        emit_compare(g, col, f->op, str_dup(v));
        break;
    }
    sqlgen_sql(g, ")");
    return true;
}

static bool leaf_boolean(struct sqlgen *g, const struct indexed_attr *a,
                         const struct scim_filter *f)
{
    if (f->op == SCIM_FILTER_PR) {
        if (g != NULL)
            sqlgen_sql(g, "TRUE");
        return true;
    }
    if (f->op != SCIM_FILTER_EQ && f->op != SCIM_FILTER_NE)
        return false;
    bool v;
    if (f->value.kind == SCIM_VALUE_BOOLEAN)
        v = f->value.boolean;
    else if (f->value.kind == SCIM_VALUE_STRING && str_ieq(f->value.str, "true"))
        v = true;
    else if (f->value.kind == SCIM_VALUE_STRING && str_ieq(f->value.str, "false"))
        v = false;
    else
        return false;
    if (g != NULL) {
        sqlgen_sql(g, a->column);
        sqlgen_sql(g, compare_sql(f->op));
        sqlgen_int(g, v ? 1 : 0);
    }
    return true;
}

static bool leaf_time(struct sqlgen *g, const struct indexed_attr *a, const struct scim_filter *f)
{
    char norm[STORE_TIME_LEN];
    if (f->op == SCIM_FILTER_NE || compare_sql(f->op) == NULL ||
        f->value.kind != SCIM_VALUE_STRING || !sqlgen_time_normalise(f->value.str, norm))
        return false;
    if (g != NULL)
        emit_compare(g, a->column, f->op, str_dup(norm));
    return true;
}

/* `user_id IN (SELECT user_id FROM idp_user_emails WHERE <scope> AND (` ... `))`, or the
 * same over group_members for groups. */
static void emails_open(struct compiler *c, struct sqlgen *g)
{
    sqlgen_sql(g, c->table->element_open);
    sqlgen_text(g, c->tenant_id);
    sqlgen_sql(g, c->table->element_scope);
    sqlgen_text(g, c->idp_id);
    sqlgen_sql(g, " AND (");
}

static bool compile(struct compiler *c, const struct scim_filter *f, bool element, struct sqlgen *g,
                    bool *exact);

static bool compile_leaf(struct compiler *c, const struct scim_filter *f, bool element,
                         struct sqlgen *g)
{
    const struct indexed_attr *a = indexed_attr(c->table, &f->path, true);
    if (a == NULL || element != is_element(a->kind))
        return false;
    switch (a->kind) {
    case COL_CASE_IGNORE:
        return leaf_case_ignore(g, a, f);
    case COL_CASE_EXACT:
    case COL_MEMBER:
        return leaf_case_exact(g, a, f);
    case COL_BOOLEAN:
        return leaf_boolean(g, a, f);
    case COL_TIME:
        return leaf_time(g, a, f);
    case COL_EMAIL:
        return leaf_case_ignore(g, a, f);
    }
    return false;
}

static bool compile_and_or(struct compiler *c, const struct scim_filter *f, bool element,
                           struct sqlgen *g, bool *exact)
{
    bool el = false, er = false;
    bool cl = compile(c, f->left, element, NULL, &el);
    bool cr = compile(c, f->right, element, NULL, &er);
    if (cl && cr) {
        if (g != NULL) {
            sqlgen_sql(g, "(");
            compile(c, f->left, element, g, &el);
            sqlgen_sql(g, f->op == SCIM_FILTER_AND ? " AND " : " OR ");
            compile(c, f->right, element, g, &er);
            sqlgen_sql(g, ")");
        }
        *exact = el && er;
        return true;
    }
    /* Dropping an AND operand widens the result: still a superset, no longer exact. */
    if (f->op == SCIM_FILTER_AND && (cl || cr)) {
        if (g != NULL)
            compile(c, cl ? f->left : f->right, element, g, exact);
        *exact = false;
        return true;
    }
    return false;
}

static bool compile(struct compiler *c, const struct scim_filter *f, bool element, struct sqlgen *g,
                    bool *exact)
{
    *exact = false;
    if (f == NULL)
        return false;
    switch (f->op) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR:
        return compile_and_or(c, f, element, g, exact);
    case SCIM_FILTER_NOT: {
        /* Inside emails[...] an element without a value would match a negation
         * but has no row in idp_user_emails, so NOT compiles only outside. */
        bool child_exact = false;
        if (element || !compile(c, f->left, false, NULL, &child_exact) || !child_exact)
            return false;
        if (g != NULL) {
            sqlgen_sql(g, "(NOT ");
            compile(c, f->left, false, g, &child_exact);
            sqlgen_sql(g, ")");
        }
        *exact = true;
        return true;
    }
    case SCIM_FILTER_VALUE_PATH: {
        const struct indexed_attr *a = indexed_attr(c->table, &f->path, false);
        const struct indexed_attr *sub = NULL;
        for (size_t i = 0; a == NULL && i < c->table->n_attrs; i++) {
            const struct indexed_attr *e = &c->table->attrs[i];
            if (is_element(e->kind) && f->path.bound && f->path.ref.attr &&
                str_ieq(f->path.ref.attr->name, e->attr))
                sub = e;
        }
        if (a == NULL)
            a = sub;
        bool inner_exact = false;
        if (element || a == NULL || !is_element(a->kind) ||
            !compile(c, f->left, true, NULL, &inner_exact))
            return false;
        if (g != NULL) {
            emails_open(c, g);
            compile(c, f->left, true, g, &inner_exact);
            sqlgen_sql(g, "))");
        }
        *exact = inner_exact;
        return true;
    }
    default:
        break;
    }
    /* A comparison or pr. */
    const struct indexed_attr *a = indexed_attr(c->table, &f->path, true);
    if (!element && a != NULL && is_element(a->kind)) {
        if (!compile_leaf(c, f, true, NULL))
            return false;
        if (g != NULL) {
            emails_open(c, g);
            compile_leaf(c, f, true, g);
            sqlgen_sql(g, "))");
        }
        *exact = true;
        return true;
    }
    if (!compile_leaf(c, f, element, g))
        return false;
    *exact = true;
    return true;
}

/* sqlgen_user_filter and sqlgen_group_filter, on the columns of table: a dry
 * run first, so that nothing is written unless the whole filter compiles. */
static bool table_filter(const struct filter_table *table, struct sqlgen *g,
                         const struct scim_filter *f, const char *tenant_id, const char *idp_id,
                         bool *exact)
{
    struct compiler c = { table, tenant_id, idp_id };
    *exact = false;
    if (!compile(&c, f, false, NULL, exact))
        return false;
    return g == NULL || compile(&c, f, false, g, exact);
}

bool sqlgen_user_filter(struct sqlgen *g, const struct scim_filter *f, const char *tenant_id,
                        const char *idp_id, bool *exact)
{
    return table_filter(&user_table, g, f, tenant_id, idp_id, exact);
}

bool sqlgen_group_filter(struct sqlgen *g, const struct scim_filter *f, const char *tenant_id,
                         const char *idp_id, bool *exact)
{
    return table_filter(&group_table, g, f, tenant_id, idp_id, exact);
}

/* ---- statements --------------------------------------------------------------------- */

static const char *sort_column(enum store_sort sort)
{
    switch (sort) {
    case STORE_SORT_USER_NAME:
        return "user_name_lc";
    case STORE_SORT_EXTERNAL_ID:
        return "external_id";
    case STORE_SORT_CREATED:
        return "created_at";
    case STORE_SORT_LAST_MODIFIED:
        return "updated_at";
    case STORE_SORT_NONE:
    case STORE_SORT_ID:
    case STORE_SORT_DISPLAY_NAME: /* groups only */
        break;
    }
    return NULL; /* user_id alone */
}

/* WHERE clause of a search of one connection's rows of table, live_only
 * (users) or all (groups); the filter goes in only where it compiles to SQL.
 * Returns whether it compiled exactly. */
static bool connection_where(struct sqlgen *g, const struct store_search *q,
                             const struct filter_table *table, bool live_only)
{
    bool exact = true;
    sqlgen_sql(g, " WHERE tenant_id = ");
    sqlgen_text(g, q->tenant_id);
    sqlgen_sql(g, " AND idp_id = ");
    sqlgen_text(g, q->idp_id);
    /* A literal 0, so the partial index on live userNames qualifies. */
    if (live_only)
        sqlgen_sql(g, " AND deleted = 0");
    if (q->filter != NULL) {
        if (table_filter(table, NULL, q->filter, q->tenant_id, q->idp_id, &exact)) {
            sqlgen_sql(g, " AND ");
            table_filter(table, g, q->filter, q->tenant_id, q->idp_id, &exact);
        } else {
            exact = false;
        }
    }
    return exact;
}

static bool search_where(struct sqlgen *g, const struct store_search *q)
{
    return connection_where(g, q, &user_table, true);
}

/* Cursor pagination: rows strictly after (before, descending) the last one
 * seen, in the id order the rows statement sorts by; only in id order. */
static void keyset_where(struct sqlgen *g, const struct store_search *q, const char *id_column)
{
    if (q->after_id == NULL || (q->sort != STORE_SORT_NONE && q->sort != STORE_SORT_ID))
        return;
    sqlgen_sql(g, " AND ");
    sqlgen_sql(g, id_column);
    sqlgen_sql(g, g->dialect->binary_collate);
    sqlgen_sql(g, q->descending ? " < " : " > ");
    sqlgen_text(g, q->after_id);
}

static int64_t clamp_i64(size_t n)
{
    return n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* ORDER BY the sort column (if any) then the id, both byte-wise; a missing
 * externalId sorts last in either order, as sorts done in memory do.  Exact
 * answers are paged in SQL. */
static void order_and_page(struct sqlgen *rows, const struct store_search *q, bool exact,
                           const char *sort_col, const char *id_col)
{
    const char *dir = q->descending ? " DESC" : " ASC";
    sqlgen_sql(rows, " ORDER BY ");
    if (q->sort == STORE_SORT_EXTERNAL_ID)
        sqlgen_sql(rows, "(external_id IS NULL) ASC, ");
    if (sort_col != NULL) {
        sqlgen_sql(rows, sort_col);
        sqlgen_sql(rows, rows->dialect->binary_collate);
        sqlgen_sql(rows, dir);
        sqlgen_sql(rows, ", ");
    }
    sqlgen_sql(rows, id_col);
    sqlgen_sql(rows, rows->dialect->binary_collate);
    sqlgen_sql(rows, dir);
    if (exact) {
        sqlgen_sql(rows, " LIMIT ");
        sqlgen_int(rows, clamp_i64(q->limit));
        sqlgen_sql(rows, " OFFSET ");
        sqlgen_int(rows, clamp_i64(q->offset));
    }
}

static const char *group_sort_column(enum store_sort sort)
{
    switch (sort) {
    case STORE_SORT_DISPLAY_NAME:
        return "display_name_lc";
    case STORE_SORT_EXTERNAL_ID:
        return "external_id";
    case STORE_SORT_CREATED:
        return "created_at";
    case STORE_SORT_LAST_MODIFIED:
        return "updated_at";
    default:
        return NULL; /* id alone */
    }
}

static bool group_where(struct sqlgen *g, const struct store_search *q)
{
    return connection_where(g, q, &group_table, false);
}

/* What a search of one table needs: its columns, WHERE builder, id column and sorts. */
struct search_table {
    const char *from;
    const char *columns;
    bool (*where)(struct sqlgen *g, const struct store_search *q); /* true: exact */
    const char *id_column;
    const char *(*sort_column)(enum store_sort sort);
};

static enum status search_statements(const struct search_table *t, const struct store_search *q,
                                     struct sqlgen *count, struct sqlgen *rows, bool *exact)
{
    sqlgen_sql(count, "SELECT COUNT(*) FROM ");
    sqlgen_sql(count, t->from);
    *exact = t->where(count, q);

    sqlgen_sql(rows, "SELECT ");
    sqlgen_sql(rows, t->columns);
    sqlgen_sql(rows, " FROM ");
    sqlgen_sql(rows, t->from);
    t->where(rows, q);
    if (*exact)
        keyset_where(rows, q, t->id_column);
    order_and_page(rows, q, *exact, t->sort_column(q->sort), t->id_column);
    enum status rc = sqlgen_status(count);
    return rc != OK ? rc : sqlgen_status(rows);
}

enum status sqlgen_user_search(const struct store_search *q, struct sqlgen *count,
                               struct sqlgen *rows, bool *exact)
{
    static const struct search_table users = { "idp_users", SQLGEN_IDP_USER_COLUMNS, search_where,
                                               "user_id", sort_column };
    return search_statements(&users, q, count, rows, exact);
}

enum status sqlgen_group_search(const struct store_search *q, struct sqlgen *count,
                                struct sqlgen *rows, bool *exact)
{
    static const struct search_table groups = { "groups", SQLGEN_GROUP_COLUMNS, group_where, "id",
                                                group_sort_column };
    return search_statements(&groups, q, count, rows, exact);
}

enum status sqlgen_event_query(const struct store_event_query *q, struct sqlgen *g)
{
    sqlgen_sql(g, "SELECT " SQLGEN_EVENT_COLUMNS " FROM (SELECT " SQLGEN_EVENT_COLUMNS
                  " FROM events WHERE seq > ");
    sqlgen_int(g, q->after_seq);
    /* Only the given filters appear, so each shape can use its index. */
    const struct {
        const char *sql;
        const char *value;
    } filters[] = {
        { " AND tenant_id = ", q->tenant_id }, { " AND idp_id = ", q->idp_id },
        { " AND type = ", q->type },           { " AND subject_id = ", q->subject_id },
        { " AND actor = ", q->actor },         { " AND request_id = ", q->request_id },
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        if (filters[i].value != NULL) {
            sqlgen_sql(g, filters[i].sql);
            sqlgen_text(g, filters[i].value);
        }
    }
    if (q->before_seq > 0) {
        sqlgen_sql(g, " AND seq < ");
        sqlgen_int(g, q->before_seq);
    }
    /* times as clock_now_iso writes them compare as text */
    if (q->since != NULL) {
        sqlgen_sql(g, " AND at >= ");
        sqlgen_text(g, q->since);
    }
    if (q->until != NULL) {
        sqlgen_sql(g, " AND at < ");
        sqlgen_text(g, q->until);
    }
    if (q->oldest_first) {
        sqlgen_sql(g, " ORDER BY seq ASC LIMIT ");
        sqlgen_int(g, q->limit == 0 ? SQLGEN_EVENT_DEFAULT_LIMIT : clamp_i64(q->limit));
        sqlgen_sql(g, ") AS feed ORDER BY seq ASC");
        return sqlgen_status(g);
    }
    sqlgen_sql(g, " ORDER BY seq DESC LIMIT ");
    sqlgen_int(g, q->limit == 0 ? SQLGEN_EVENT_DEFAULT_LIMIT : clamp_i64(q->limit));
    sqlgen_sql(g, ") AS recent ORDER BY seq ASC");
    return sqlgen_status(g);
}
