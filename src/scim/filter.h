/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter.h - RFC 7644 §3.4.2.2 filters: parser, binder and evaluator.
 *
 * scim_filter_parse turns filter text into a tree; scim_filter_bind resolves
 * every attribute path against a resource type's schema tables (so the
 * evaluator knows types and caseExact, and the store can compile the tree to
 * SQL on indexed columns); scim_filter_match evaluates a bound tree against
 * a resource document.  The tree is plain data so that store/ can walk it.
 *
 * Pure logic: no I/O.  A tree is owned by whoever parsed it; matching is
 * read-only and may run on several threads at once.
 */
#ifndef SCIMD_SCIM_FILTER_H
#define SCIMD_SCIM_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "core/status.h"
#include "scim/schema.h"

struct buf; /* core/str.h */

#define SCIM_FILTER_MAX_LEN   4096 /* longer filter text -> invalidFilter */
#define SCIM_FILTER_MAX_DEPTH 32   /* nesting of and/or/not/()/[] */
#define SCIM_FILTER_MAX_NODES 256  /* total nodes in one filter */

enum scim_filter_op {
    SCIM_FILTER_EQ,
    SCIM_FILTER_NE,
    SCIM_FILTER_CO,
    SCIM_FILTER_SW,
    SCIM_FILTER_EW,
    SCIM_FILTER_PR,
    SCIM_FILTER_GT,
    SCIM_FILTER_GE,
    SCIM_FILTER_LT,
    SCIM_FILTER_LE,
    SCIM_FILTER_AND,
    SCIM_FILTER_OR,
    SCIM_FILTER_NOT,
    SCIM_FILTER_VALUE_PATH, /* attr[inner]: some element of multi-valued attr matches inner */
};

enum scim_filter_value_kind {
    SCIM_VALUE_NONE, /* for pr */
    SCIM_VALUE_STRING,
    SCIM_VALUE_NUMBER,
    SCIM_VALUE_BOOLEAN,
    SCIM_VALUE_NULL,
};

struct scim_filter_value {
    enum scim_filter_value_kind kind;
    char *str;     /* STRING: unescaped UTF-8; NUMBER: the literal text */
    double number; /* NUMBER */
    bool boolean;  /* BOOLEAN */
};

/* An attribute path as written, plus what binding resolved it to. */
struct scim_filter_path {
    char *urn;  /* schema URN prefix as written, or NULL */
    char *attr; /* attribute name as written */
    char *sub;  /* sub-attribute as written, or NULL */
    /* Set by scim_filter_bind.  Inside a VALUE_PATH's inner filter the paths
     * are relative to the multi-valued attribute: ref.attr is the outer
     * attribute and ref.sub the element's sub-attribute. */
    struct scim_attr_ref ref;
    bool bound;
};

struct scim_filter {
    enum scim_filter_op op;
    struct scim_filter_path path;   /* comparisons, PR, VALUE_PATH */
    struct scim_filter_value value; /* comparisons */
    struct scim_filter *left;       /* AND/OR: left operand; NOT and VALUE_PATH: operand */
    struct scim_filter *right;      /* AND/OR: right operand */
};

/*
 * Parse filter text.  Any syntax error, unknown operator, bad string escape,
 * text beyond SCIM_FILTER_MAX_LEN, nesting beyond SCIM_FILTER_MAX_DEPTH or
 * more than SCIM_FILTER_MAX_NODES nodes -> ERR_INVALID_FILTER with a message
 * saying what and at which character.  Operators and and/or/not are
 * case-insensitive; `and` binds tighter than `or`.
 */
enum status scim_filter_parse(const char *text, struct scim_filter **out, struct scim_error *err);
void scim_filter_free(struct scim_filter *f);

/*
 * Resolve every path in f against rt (case-insensitive; URN-qualified names,
 * sub-attributes, value paths).  Unknown attributes -> ERR_INVALID_FILTER.
 * gt/ge/lt/le on a boolean or binary attribute -> ERR_INVALID_FILTER
 * (RFC 7644 §3.4.2.2).  A URN prefix naming a schema rt does not know is
 * accepted and left unbound (ref.attr NULL): such paths evaluate against the
 * document verbatim, so unknown extensions kept on a resource stay filterable.
 */
enum status scim_filter_bind(struct scim_filter *f, const struct scim_resource_type *rt,
                             struct scim_error *err);

/*
 * Does resource (a full SCIM document as stored, extension attributes under
 * their URN keys) match bound filter f?  Strings compare case-insensitively
 * unless the attribute is caseExact (beyond ASCII: Unicode NFC + full case
 * folding, core/fold.h, as the store's folded key columns); dateTime compares chronologically;
 * multi-valued attributes match if any value matches.
 */
bool scim_filter_match(const struct scim_filter *f, const json_t *resource);

/*
 * Append a canonical text of f to out: one text per filter whatever its
 * spelling (whitespace, parentheses, case of operators and attribute names,
 * URN prefixes of bound paths), and distinct texts for distinct trees (values
 * are length-prefixed).  Bind first for the schema spellings.  NULL appends
 * nothing.  ERR_NOMEM when out has failed.
 */
enum status scim_filter_canonical(const struct scim_filter *f, struct buf *out);

#endif
