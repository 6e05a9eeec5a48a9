/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter.c - this file contains the SCIM filter engine of RFC 7644 §3.4.2.2:
 * a recursive-descent parser from filter text to a tree of struct
 * scim_filter, the binder that resolves each attribute path against the
 * schema tables, and the evaluator that matches a bound tree against a
 * resource document.
 *
 * Grammar (RFC 7644 figure 1, with errata 4690/7319/7322), lowest precedence
 * first; `not` and grouping bind tightest, then `and`, then `or`:
 *
 *   filter    = term *(SP "or" SP term)
 *   term      = factor *(SP "and" SP factor)
 *   factor    = "not" [SP] "(" filter ")" / "(" filter ")" / valuePath / attrExp
 *   valuePath = attrPath "[" valFilter "]"   ; no nested valuePath inside
 *   attrExp   = attrPath SP "pr" / attrPath SP compareOp SP compValue
 *   attrPath  = [URI ":"] ATTRNAME ["." subAttr]
 *   compValue = false / null / true / number / string   ; JSON literals
 *
 * Keywords and operators are case-insensitive.  Runs of spaces and tabs are
 * accepted wherever SP is.  Error details give the 0-based character offset.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fold.h"
#include "scim/filter.h"
#include "scim/json.h"

#include "core/str.h"

/* Longest attribute path quoted back in an error detail. */
#define NAME_QUOTE_MAX 128
/* Fractional-second digits kept when comparing dateTimes (nanoseconds). */
#define DATETIME_FRAC_DIGITS 9

/* ---- tree ---------------------------------------------------------------------------- */

static void path_release(struct scim_filter_path *p)
{
    free(p->urn);
    free(p->attr);
    free(p->sub);
}

void scim_filter_free(struct scim_filter *f)
{
    if (f == NULL)
        return;
    path_release(&f->path);
    free(f->value.str);
    scim_filter_free(f->left);
    scim_filter_free(f->right);
    free(f);
}

/* ---- parser -------------------------------------------------------------------------- */

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    int depth;        /* current grouping depth: "(", "not (", "[" */
    int nodes;        /* nodes allocated so far */
    bool in_brackets; /* inside attr[...]: paths are sub-attribute names */
    struct scim_error *err;
};

/* clang-format off */
static const struct {
    const char *name;
    enum scim_filter_op op;
} compare_ops[] = {
    { "eq", SCIM_FILTER_EQ },
    { "ne", SCIM_FILTER_NE },
    { "co", SCIM_FILTER_CO },
    { "sw", SCIM_FILTER_SW },
    { "ew", SCIM_FILTER_EW },
    { "pr", SCIM_FILTER_PR },
    { "gt", SCIM_FILTER_GT },
    { "ge", SCIM_FILTER_GE },
    { "lt", SCIM_FILTER_LT },
    { "le", SCIM_FILTER_LE },
};
/* clang-format on */

static const char *op_name(enum scim_filter_op op)
{
    for (size_t i = 0; i < sizeof(compare_ops) / sizeof(compare_ops[0]); i++) {
        if (compare_ops[i].op == op)
            return compare_ops[i].name;
    }
    return "?";
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Characters an attribute path token may contain (URN, name, '.', "$ref"). */
static bool is_path_char(char c)
{
    return scim_name_char(c) || c == '.' || c == ':' || c == '$';
}

static char peek(const struct parser *p)
{
    return p->pos < p->len ? p->text[p->pos] : '\0';
}

/* Skip whitespace; returns how many characters were skipped. */
static size_t skip_space(struct parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && is_space(p->text[p->pos]))
        p->pos++;
    return p->pos - start;
}

/* Is the case-insensitive word kw at pos, not followed by a name character? */
static bool at_word(const struct parser *p, size_t pos, const char *kw)
{
    size_t n = strlen(kw);
    if (pos + n > p->len || !str_ieqn(p->text + pos, kw, n))
        return false;
    return pos + n == p->len || !is_path_char(p->text[pos + n]);
}

static enum status syntax_error(struct parser *p, const char *what)
{
    return scim_error_set(p->err, ERR_INVALID_FILTER, "%s at %zu", what, p->pos);
}

/* "unexpected ..." naming the character only when it is filter punctuation. */
static enum status unexpected(struct parser *p)
{
    char c = peek(p);
    if (p->pos >= p->len)
        return syntax_error(p, "unexpected end of filter");
    if (c == ')' || c == ']')
        return scim_error_set(p->err, ERR_INVALID_FILTER, "unbalanced '%c' at %zu", c, p->pos);
    if (c == '(' || c == '[' || c == '"' || c == '.' || c == '\'')
        return scim_error_set(p->err, ERR_INVALID_FILTER, "unexpected '%c' at %zu", c, p->pos);
    return syntax_error(p, "unexpected text");
}

static enum status node_new(struct parser *p, enum scim_filter_op op, struct scim_filter **out)
{
    if (p->nodes >= SCIM_FILTER_MAX_NODES)
        return scim_error_set(p->err, ERR_INVALID_FILTER, "filter has more than %d nodes at %zu",
                              SCIM_FILTER_MAX_NODES, p->pos);
    struct scim_filter *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return scim_error_set(p->err, ERR_NOMEM, "out of memory");
    p->nodes++;
    f->op = op;
    *out = f;
    return OK;
}

static enum status enter(struct parser *p)
{
    if (p->depth >= SCIM_FILTER_MAX_DEPTH)
        return scim_error_set(p->err, ERR_INVALID_FILTER, "filter nested deeper than %d at %zu",
                              SCIM_FILTER_MAX_DEPTH, p->pos);
    p->depth++;
    return OK;
}

/* ATTRNAME = ALPHA *nameChar, or "$ref". */
static bool valid_name(const char *s, size_t n)
{
    return (n == 4 && str_ieqn(s, "$ref", 4)) || scim_attr_name_valid(s, n);
}

/* URN prefix before the attribute name: "urn:" then name characters, '.' and single ':'. */
static bool valid_urn(const char *s, size_t n)
{
    if (n <= 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!scim_name_char(s[i]) && s[i] != ':' && s[i] != '.')
            return false;
        if (s[i] == ':' && i + 1 < n && s[i + 1] == ':')
            return false;
    }
    return true;
}

/*
 * attrPath = [URI ":"] ATTRNAME ["." subAttr].  The URN is everything up to
 * the last ':' (URNs contain dots, as in "enterprise:2.0:User"); the rest is
 * split on '.'.  Inside brackets only a bare sub-attribute name is allowed.
 */
static enum status parse_path(struct parser *p, struct scim_filter_path *path)
{
    size_t start = p->pos;
    while (p->pos < p->len && is_path_char(p->text[p->pos]))
        p->pos++;
    const char *tok = p->text + start;
    size_t n = p->pos - start;
    if (n == 0) {
        p->pos = start;
        if (p->pos >= p->len)
            return syntax_error(p, "expected attribute path, found end of filter");
        if (peek(p) == '\'' || peek(p) == '"')
            return syntax_error(p, "expected attribute path, found a string");
        return syntax_error(p, "expected attribute path");
    }

    const char *name = tok;
    size_t name_len = n;
    size_t urn_len = 0;
    if (n >= 4 && str_ieqn(tok, "urn:", 4)) {
        const char *last = NULL;
        for (size_t i = 0; i < n; i++) {
            if (tok[i] == ':')
                last = tok + i;
        }
        urn_len = (size_t)(last - tok);
        name = last + 1;
        name_len = n - urn_len - 1;
        if (!valid_urn(tok, urn_len)) {
            p->pos = start;
            return syntax_error(p, "invalid schema URN in attribute path");
        }
    }
    const char *dot = memchr(name, '.', name_len);
    size_t attr_len = dot ? (size_t)(dot - name) : name_len;
    const char *sub = dot ? dot + 1 : NULL;
    size_t sub_len = dot ? name_len - attr_len - 1 : 0;
    if (!valid_name(name, attr_len) || (sub != NULL && !valid_name(sub, sub_len))) {
        p->pos = start;
        return scim_error_set(p->err, ERR_INVALID_FILTER, "invalid attribute path '%.*s' at %zu",
                              (int)(n < NAME_QUOTE_MAX ? n : NAME_QUOTE_MAX), tok, p->pos);
    }
    if (p->in_brackets && (urn_len > 0 || sub != NULL)) {
        p->pos = start;
        return syntax_error(p, "expected a sub-attribute name inside '[...]'");
    }
    if (urn_len > 0 && (path->urn = str_ndup(tok, urn_len)) == NULL)
        goto nomem;
    if ((path->attr = str_ndup(name, attr_len)) == NULL)
        goto nomem;
    if (sub != NULL && (path->sub = str_ndup(sub, sub_len)) == NULL)
        goto nomem;
    return OK;
nomem:
    return scim_error_set(p->err, ERR_NOMEM, "out of memory");
}

/* Text of path for messages: "urn:...:attr.sub" truncated to fit. */
static void path_text(const struct scim_filter_path *path, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s%s%s", path->urn ? path->urn : "", path->urn ? ":" : "",
             path->attr ? path->attr : "", path->sub ? "." : "", path->sub ? path->sub : "");
}

/* Four hex digits at s; -1 if not. */
static long hex4(const char *s, size_t avail)
{
    if (avail < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = str_hex_value(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static void put_utf8(struct buf *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, u, n);
}

/* A JSON string starting at the opening quote; *out is the unescaped UTF-8. */
static enum status parse_string(struct parser *p, char **out)
{
    struct buf b;
    buf_init(&b, SCIM_FILTER_MAX_LEN + 1);
    size_t open = p->pos++;
    for (;;) {
        if (p->pos >= p->len) {
            p->pos = open;
            buf_release(&b);
            return syntax_error(p, "unterminated string");
        }
        char c = p->text[p->pos];
        if (c == '"')
            break;
        if ((unsigned char)c < 0x20) {
            buf_release(&b);
            return syntax_error(p, "control character in string");
        }
        if (c != '\\') {
            buf_putc(&b, c);
            p->pos++;
            continue;
        }
        size_t esc = p->pos;
        char e = p->pos + 1 < p->len ? p->text[p->pos + 1] : '\0';
        p->pos += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            buf_putc(&b, e);
            break;
        case 'b':
            buf_putc(&b, '\b');
            break;
        case 'f':
            buf_putc(&b, '\f');
            break;
        case 'n':
            buf_putc(&b, '\n');
            break;
        case 'r':
            buf_putc(&b, '\r');
            break;
        case 't':
            buf_putc(&b, '\t');
            break;
        case 'u': {
            long hi = hex4(p->text + p->pos, p->len - p->pos);
            unsigned long cp;
            if (hi < 0)
                goto bad_escape;
            p->pos += 4;
            if (hi >= 0xDC00 && hi <= 0xDFFF)
                goto bad_escape; /* lone low surrogate */
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                long lo = -1;
                if (p->pos + 1 < p->len && p->text[p->pos] == '\\' && p->text[p->pos + 1] == 'u')
                    lo = hex4(p->text + p->pos + 2, p->len - p->pos - 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto bad_escape; /* high surrogate without its pair */
                p->pos += 6;
                cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
            } else {
                cp = (unsigned long)hi;
            }
            if (cp == 0)
                goto bad_escape; /* NUL would truncate the C string */
            put_utf8(&b, cp);
            break;
        }
        default:
            goto bad_escape;
        }
        continue;
    bad_escape:
        p->pos = esc;
        buf_release(&b);
        return syntax_error(p, "invalid escape in string");
    }
    p->pos++; /* closing quote */
    if (b.failed) {
        buf_release(&b);
        return scim_error_set(p->err, ERR_NOMEM, "out of memory");
    }
    if (b.len > 0 && !str_utf8_valid(b.data, b.len)) {
        buf_release(&b);
        p->pos = open;
        return syntax_error(p, "invalid UTF-8 in string");
    }
    *out = buf_take(&b);
    if (*out == NULL)
        return scim_error_set(p->err, ERR_NOMEM, "out of memory");
    return OK;
}

/* JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static enum status parse_number(struct parser *p, struct scim_filter_value *v)
{
    size_t start = p->pos;
    size_t i = p->pos;
    if (i < p->len && p->text[i] == '-')
        i++;
    if (i < p->len && p->text[i] == '0') {
        i++;
    } else if (i < p->len && is_digit(p->text[i])) {
        while (i < p->len && is_digit(p->text[i]))
            i++;
    } else {
        goto bad;
    }
    if (i < p->len && p->text[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(p->text[i]))
            goto bad;
        while (i < p->len && is_digit(p->text[i]))
            i++;
    }
    if (i < p->len && (p->text[i] == 'e' || p->text[i] == 'E')) {
        i++;
        if (i < p->len && (p->text[i] == '+' || p->text[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(p->text[i]))
            goto bad;
        while (i < p->len && is_digit(p->text[i]))
            i++;
    }
    if (i < p->len && (is_path_char(p->text[i]) || p->text[i] == '"'))
        goto bad;
    v->str = str_ndup(p->text + start, i - start);
    if (v->str == NULL)
        return scim_error_set(p->err, ERR_NOMEM, "out of memory");
    errno = 0;
    v->number = strtod(v->str, NULL);
    if (!isfinite(v->number)) {
        free(v->str);
        v->str = NULL;
        return syntax_error(p, "number out of range");
    }
    v->kind = SCIM_VALUE_NUMBER;
    p->pos = i;
    return OK;
bad:
    return syntax_error(p, "invalid number");
}

/* compValue = false / null / true / number / string */
static enum status parse_value(struct parser *p, enum scim_filter_op op,
                               struct scim_filter_value *v)
{
    char c = peek(p);
    if (c == '"') {
        v->kind = SCIM_VALUE_STRING;
        return parse_string(p, &v->str);
    }
    if (c == '-' || is_digit(c))
        return parse_number(p, v);
    if (at_word(p, p->pos, "true") || at_word(p, p->pos, "false")) {
        v->kind = SCIM_VALUE_BOOLEAN;
        v->boolean = (c == 't' || c == 'T');
        p->pos += v->boolean ? 4 : 5;
        return OK;
    }
    if (at_word(p, p->pos, "null")) {
        v->kind = SCIM_VALUE_NULL;
        p->pos += 4;
        return OK;
    }
    return scim_error_set(p->err, ERR_INVALID_FILTER,
                          "expected a value (string, number, true, false or null) after '%s' at "
                          "%zu",
                          op_name(op), p->pos);
}

/* Which value kinds an operator accepts (RFC 7644 §3.4.2.2 table 3). */
static bool op_accepts(enum scim_filter_op op, enum scim_filter_value_kind kind)
{
    switch (op) {
    case SCIM_FILTER_EQ:
    case SCIM_FILTER_NE:
        return true;
    case SCIM_FILTER_CO:
    case SCIM_FILTER_SW:
    case SCIM_FILTER_EW:
        return kind == SCIM_VALUE_STRING;
    case SCIM_FILTER_GT:
    case SCIM_FILTER_GE:
    case SCIM_FILTER_LT:
    case SCIM_FILTER_LE:
        return kind == SCIM_VALUE_STRING || kind == SCIM_VALUE_NUMBER;
    default:
        return false;
    }
}

static enum status parse_or(struct parser *p, struct scim_filter **out);

/* attrExp or valuePath, starting at an attribute path. */
static enum status parse_attr_exp(struct parser *p, struct scim_filter **out)
{
    struct scim_filter *f = NULL;
    char name[NAME_QUOTE_MAX + 1];
    enum status rc = node_new(p, SCIM_FILTER_EQ, &f);
    if (rc != OK)
        return rc;
    rc = parse_path(p, &f->path);
    if (rc != OK)
        goto fail;
    path_text(&f->path, name, sizeof(name));

    if (peek(p) == '[') {
        if (p->in_brackets) {
            rc = syntax_error(p, "nested value path");
            goto fail;
        }
        if (f->path.sub != NULL) {
            rc = syntax_error(p, "value path on a sub-attribute");
            goto fail;
        }
        rc = enter(p);
        if (rc != OK)
            goto fail;
        p->pos++;
        f->op = SCIM_FILTER_VALUE_PATH;
        p->in_brackets = true;
        skip_space(p);
        rc = parse_or(p, &f->left);
        p->in_brackets = false;
        p->depth--;
        if (rc != OK)
            goto fail;
        skip_space(p);
        if (peek(p) != ']') {
            rc = p->pos >= p->len ? syntax_error(p, "missing ']'")
                                  : scim_error_set(p->err, ERR_INVALID_FILTER,
                                                   "expected ']' after value filter of '%s' at %zu",
                                                   name, p->pos);
            goto fail;
        }
        p->pos++;
        if (peek(p) == '.') {
            rc = syntax_error(p, "sub-attribute after ']' is not allowed in a filter");
            goto fail;
        }
        *out = f;
        return OK;
    }

    size_t before_op = p->pos;
    size_t op_at = p->pos + skip_space(p);
    size_t word_end = op_at;
    while (word_end < p->len && is_path_char(p->text[word_end]))
        word_end++;
    bool found = false;
    if (op_at > before_op) {
        for (size_t i = 0; i < sizeof(compare_ops) / sizeof(compare_ops[0]); i++) {
            if (word_end - op_at == 2 && str_ieqn(p->text + op_at, compare_ops[i].name, 2)) {
                f->op = compare_ops[i].op;
                found = true;
                break;
            }
        }
    }
    if (!found) {
        p->pos = op_at;
        rc = scim_error_set(p->err, ERR_INVALID_FILTER, "expected operator after '%s' at %zu", name,
                            p->pos);
        goto fail;
    }
    p->pos = word_end;
    if (f->op == SCIM_FILTER_PR) {
        *out = f;
        return OK;
    }
    if (skip_space(p) == 0) {
        rc = p->pos >= p->len
                 ? scim_error_set(p->err, ERR_INVALID_FILTER, "missing value after '%s' at %zu",
                                  op_name(f->op), p->pos)
                 : scim_error_set(p->err, ERR_INVALID_FILTER, "expected a space after '%s' at %zu",
                                  op_name(f->op), p->pos);
        goto fail;
    }
    if (p->pos >= p->len) {
        rc = scim_error_set(p->err, ERR_INVALID_FILTER, "missing value after '%s' at %zu",
                            op_name(f->op), p->pos);
        goto fail;
    }
    size_t value_at = p->pos;
    rc = parse_value(p, f->op, &f->value);
    if (rc != OK)
        goto fail;
    if (!op_accepts(f->op, f->value.kind)) {
        p->pos = value_at;
        rc = scim_error_set(p->err, ERR_INVALID_FILTER,
                            "operator '%s' cannot compare with this value at %zu", op_name(f->op),
                            p->pos);
        goto fail;
    }
    *out = f;
    return OK;
fail:
    scim_filter_free(f);
    return rc;
}

/* "(" filter ")" with the opening parenthesis at pos. */
static enum status parse_group(struct parser *p, struct scim_filter **out)
{
    size_t open = p->pos;
    enum status rc = enter(p);
    if (rc != OK)
        return rc;
    p->pos++;
    skip_space(p);
    rc = parse_or(p, out);
    p->depth--;
    if (rc != OK)
        return rc;
    skip_space(p);
    if (peek(p) != ')') {
        if (p->pos >= p->len) {
            rc = scim_error_set(p->err, ERR_INVALID_FILTER,
                                "missing ')' for '(' at %zu (end of filter at %zu)", open, p->pos);
        } else {
            rc = scim_error_set(p->err, ERR_INVALID_FILTER,
                                "expected ')' for '(' at %zu, found text at %zu", open, p->pos);
        }
        scim_filter_free(*out);
        *out = NULL;
        return rc;
    }
    p->pos++;
    return OK;
}

/* factor = "not" [SP] "(" filter ")" / "(" filter ")" / valuePath / attrExp */
static enum status parse_factor(struct parser *p, struct scim_filter **out)
{
    if (peek(p) == '(')
        return parse_group(p, out);
    if (at_word(p, p->pos, "not")) {
        size_t not_at = p->pos;
        p->pos += 3;
        skip_space(p);
        if (peek(p) != '(') {
            p->pos = not_at;
            return syntax_error(p, "expected '(' after 'not'");
        }
        struct scim_filter *f = NULL;
        enum status rc = node_new(p, SCIM_FILTER_NOT, &f);
        if (rc != OK)
            return rc;
        rc = parse_group(p, &f->left);
        if (rc != OK) {
            scim_filter_free(f);
            return rc;
        }
        *out = f;
        return OK;
    }
    if (p->pos >= p->len)
        return syntax_error(p, "unexpected end of filter");
    if (!is_path_char(peek(p)))
        return peek(p) == '"' || peek(p) == '\''
                   ? syntax_error(p, "expected attribute path, found a string")
                   : unexpected(p);
    return parse_attr_exp(p, out);
}

/*
 * Is the keyword kw next, preceded by at least one space and followed by a
 * space or "("?  Consumes it (and following spaces) if so.
 */
static bool take_keyword(struct parser *p, const char *kw)
{
    size_t save = p->pos;
    if (skip_space(p) == 0 || !at_word(p, p->pos, kw)) {
        p->pos = save;
        return false;
    }
    size_t after = p->pos + strlen(kw);
    if (after < p->len && (is_space(p->text[after]) || p->text[after] == '(')) {
        p->pos = after;
        skip_space(p);
        return true;
    }
    if (after >= p->len) {
        p->pos = after;
        return true; /* "a pr and" -> the operand parser reports the missing filter */
    }
    p->pos = save;
    return false;
}

typedef enum status (*parse_fn)(struct parser *p, struct scim_filter **out);

/* operand *(SP kw SP operand), left-associative. */
static enum status parse_chain(struct parser *p, struct scim_filter **out, const char *kw,
                               enum scim_filter_op op, parse_fn operand)
{
    struct scim_filter *left = NULL;
    enum status rc = operand(p, &left);
    if (rc != OK)
        return rc;
    while (take_keyword(p, kw)) {
        struct scim_filter *node = NULL;
        rc = node_new(p, op, &node);
        if (rc != OK)
            goto fail;
        node->left = left;
        left = node;
        rc = operand(p, &node->right);
        if (rc != OK)
            goto fail;
    }
    *out = left;
    return OK;
fail:
    scim_filter_free(left);
    return rc;
}

static enum status parse_and(struct parser *p, struct scim_filter **out)
{
    return parse_chain(p, out, "and", SCIM_FILTER_AND, parse_factor);
}

static enum status parse_or(struct parser *p, struct scim_filter **out)
{
    return parse_chain(p, out, "or", SCIM_FILTER_OR, parse_and);
}

enum status scim_filter_parse(const char *text, struct scim_filter **out, struct scim_error *err)
{
    *out = NULL;
    if (text == NULL)
        return scim_error_set(err, ERR_INVALID_FILTER, "empty filter");
    size_t len = strnlen(text, SCIM_FILTER_MAX_LEN + 1);
    if (len > SCIM_FILTER_MAX_LEN)
        return scim_error_set(err, ERR_INVALID_FILTER, "filter longer than %d characters",
                              SCIM_FILTER_MAX_LEN);
    struct parser p = { .text = text, .len = len, .err = err };
    skip_space(&p);
    if (p.pos >= p.len)
        return scim_error_set(err, ERR_INVALID_FILTER, "empty filter");
    struct scim_filter *f = NULL;
    enum status rc = parse_or(&p, &f);
    if (rc != OK)
        return rc;
    skip_space(&p);
    if (p.pos < p.len) {
        rc = unexpected(&p);
        scim_filter_free(f);
        return rc;
    }
    *out = f;
    return OK;
}

/* ---- binder -------------------------------------------------------------------------- */

static bool is_ordering(enum scim_filter_op op)
{
    return op == SCIM_FILTER_GT || op == SCIM_FILTER_GE || op == SCIM_FILTER_LT ||
           op == SCIM_FILTER_LE;
}

static bool is_comparison(enum scim_filter_op op)
{
    return op == SCIM_FILTER_EQ || op == SCIM_FILTER_NE || op == SCIM_FILTER_CO ||
           op == SCIM_FILTER_SW || op == SCIM_FILTER_EW || is_ordering(op);
}

/* Attribute whose type and caseExact govern a comparison on a bound path. */
static const struct scim_attr *path_def(const struct scim_filter_path *path)
{
    if (!path->bound)
        return NULL;
    return path->ref.sub ? path->ref.sub : path->ref.attr;
}

/*
 * Type checks once the path is bound: the operator must make sense for the
 * attribute (RFC 7644 §3.4.2.2: gt/ge/lt/le on boolean or binary is an
 * error), and a complex attribute compares through its "value" sub-attribute.
 */
static enum status check_types(struct scim_filter *f, const char *name, struct scim_error *err)
{
    struct scim_filter_path *path = &f->path;
    if (path->ref.attr->returned == SCIM_RET_NEVER ||
        (path->ref.sub && path->ref.sub->returned == SCIM_RET_NEVER))
        return scim_error_set(err, ERR_INVALID_FILTER, "attribute '%s' cannot be filtered on",
                              name);
    if (!is_comparison(f->op))
        return OK;
    if (path->ref.sub == NULL && path->ref.attr->type == SCIM_TYPE_COMPLEX) {
        path->ref.sub = scim_attr_find_sub(path->ref.attr, "value");
        if (path->ref.sub == NULL)
            return scim_error_set(err, ERR_INVALID_FILTER,
                                  "complex attribute '%s' cannot be compared; name a "
                                  "sub-attribute",
                                  name);
    }
    const struct scim_attr *def = path_def(path);
    if (is_ordering(f->op) && (def->type == SCIM_TYPE_BOOLEAN || def->type == SCIM_TYPE_BINARY))
        return scim_error_set(err, ERR_INVALID_FILTER,
                              "operator '%s' is not allowed on %s attribute '%s'", op_name(f->op),
                              def->type == SCIM_TYPE_BOOLEAN ? "boolean" : "binary", name);
    /* Entra sends `active eq "True"`: normalise so the store sees a boolean too. */
    if (def->type == SCIM_TYPE_BOOLEAN && f->value.kind == SCIM_VALUE_STRING &&
        (str_ieq(f->value.str, "true") || str_ieq(f->value.str, "false"))) {
        f->value.boolean = str_ieq(f->value.str, "true");
        f->value.kind = SCIM_VALUE_BOOLEAN;
        free(f->value.str);
        f->value.str = NULL;
    }
    return OK;
}

/* Bind a top-level path (outside brackets). */
static enum status bind_path(struct scim_filter *f, const struct scim_resource_type *rt,
                             struct scim_error *err)
{
    struct scim_filter_path *path = &f->path;
    char name[SCIM_FILTER_MAX_LEN + 2];
    path_text(path, name, sizeof(name));
    char quoted[NAME_QUOTE_MAX + 1];
    str_copy(quoted, sizeof(quoted), name);

    /* An extension rt does not know stays unbound and is matched verbatim. */
    if (path->urn != NULL && !str_ieq(path->urn, rt->schema->id) &&
        scim_resource_find_extension(rt, path->urn) == NULL)
        return OK;
    if (scim_schema_resolve(rt, name, &path->ref, NULL) != OK) {
        memset(&path->ref, 0, sizeof(path->ref));
        return scim_error_set(err, ERR_INVALID_FILTER, "unknown attribute '%s'", quoted);
    }
    path->bound = true;
    if (f->op == SCIM_FILTER_VALUE_PATH) {
        if (path->ref.sub != NULL ||
            (!path->ref.attr->multi_valued && path->ref.attr->type != SCIM_TYPE_COMPLEX))
            return scim_error_set(err, ERR_INVALID_FILTER,
                                  "value filter on '%s', which is not multi-valued or complex",
                                  quoted);
        return OK;
    }
    return check_types(f, quoted, err);
}

/* Bind a path inside outer[...]: a sub-attribute of the outer attribute. */
static enum status bind_inner_path(struct scim_filter *f, const struct scim_filter_path *outer,
                                   struct scim_error *err)
{
    struct scim_filter_path *path = &f->path;
    char quoted[2 * NAME_QUOTE_MAX + 2];
    snprintf(quoted, sizeof(quoted), "%.*s.%.*s", NAME_QUOTE_MAX, outer->attr, NAME_QUOTE_MAX,
             path->attr);
    if (!outer->bound)
        return OK;
    const struct scim_attr *attr = outer->ref.attr;
    path->ref = outer->ref;
    if (attr->type == SCIM_TYPE_COMPLEX) {
        path->ref.sub = scim_attr_find_sub(attr, path->attr);
        if (path->ref.sub == NULL)
            return scim_error_set(err, ERR_INVALID_FILTER, "unknown attribute '%s'", quoted);
    } else if (str_ieq(path->attr, "value")) {
        path->ref.sub = NULL; /* multi-valued simple attribute: "value" is the element */
    } else {
        return scim_error_set(err, ERR_INVALID_FILTER, "unknown attribute '%s'", quoted);
    }
    path->bound = true;
    return check_types(f, quoted, err);
}

static enum status bind_node(struct scim_filter *f, const struct scim_resource_type *rt,
                             const struct scim_filter_path *outer, struct scim_error *err)
{
    if (f == NULL)
        return OK;
    memset(&f->path.ref, 0, sizeof(f->path.ref));
    f->path.bound = false;
    switch (f->op) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR: {
        enum status rc = bind_node(f->left, rt, outer, err);
        return rc != OK ? rc : bind_node(f->right, rt, outer, err);
    }
    case SCIM_FILTER_NOT:
        return bind_node(f->left, rt, outer, err);
    case SCIM_FILTER_VALUE_PATH: {
        if (outer != NULL)
            return scim_error_set(err, ERR_INVALID_FILTER, "nested value path");
        enum status rc = bind_path(f, rt, err);
        return rc != OK ? rc : bind_node(f->left, rt, &f->path, err);
    }
    default:
        return outer ? bind_inner_path(f, outer, err) : bind_path(f, rt, err);
    }
}

enum status scim_filter_bind(struct scim_filter *f, const struct scim_resource_type *rt,
                             struct scim_error *err)
{
    if (f == NULL || rt == NULL)
        return scim_error_set(err, ERR_INVALID_FILTER, "missing filter");
    return bind_node(f, rt, NULL, err);
}

/* ---- evaluator ----------------------------------------------------------------------- */

/* Is s the core schema of some resource type (attributes at the top level)? */
static bool schema_is_core(const struct scim_schema *s)
{
    if (s == NULL)
        return true;
    const struct scim_resource_type *rt = scim_resource_type_by_id(s->name);
    return rt != NULL && rt->schema == s;
}

/* RFC 7644 §3.4.2.2 "pr": not null, not "", not an empty array or object. */
static bool is_present(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return false;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    default:
        return true;
    }
}

static int fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Byte-wise comparison, ASCII case folded unless exact (as SQLite NOCASE). */
static int str_cmp(const char *a, size_t an, const char *b, size_t bn, bool exact)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        int ca = exact ? (unsigned char)a[i] : fold((unsigned char)a[i]);
        int cb = exact ? (unsigned char)b[i] : fold((unsigned char)b[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* Does hay contain needle?  Folds copies so memmem keeps it linear. */
static bool str_contains(const char *hay, size_t hn, const char *needle, size_t nn, bool exact)
{
    if (nn == 0)
        return true;
    if (nn > hn)
        return false;
    if (exact)
        return memmem(hay, hn, needle, nn) != NULL;
    char *h = malloc(hn + nn);
    if (h == NULL)
        return false;
    char *n = h + hn;
    for (size_t i = 0; i < hn; i++)
        h[i] = (char)fold((unsigned char)hay[i]);
    for (size_t i = 0; i < nn; i++)
        n[i] = (char)fold((unsigned char)needle[i]);
    bool found = memmem(h, hn, n, nn) != NULL;
    free(h);
    return found;
}

static bool order_holds(enum scim_filter_op op, int c)
{
    switch (op) {
    case SCIM_FILTER_EQ:
        return c == 0;
    case SCIM_FILTER_GT:
        return c > 0;
    case SCIM_FILTER_GE:
        return c >= 0;
    case SCIM_FILTER_LT:
        return c < 0;
    case SCIM_FILTER_LE:
        return c <= 0;
    default:
        return false;
    }
}

static bool has_non_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

static bool string_op(enum scim_filter_op op, const char *s, size_t sn, const char *v, bool exact)
{
    size_t vn = strlen(v);
    if (!exact && strlen(s) == sn && (has_non_ascii(s, sn) || has_non_ascii(v, vn))) {
        /* beyond ASCII, ignoring case means Unicode NFC + full case folding, as the
         * store's folded key columns compare ("ÄRGER" = "ärger", "ß" = "ss") */
        char *fs = fold_key(s), *fv = fold_key(v);
        bool folded = fs != NULL && fv != NULL;
        bool result = folded && string_op(op, fs, strlen(fs), fv, true);
        free(fs);
        free(fv);
        if (folded)
            return result;
    }
    switch (op) {
    case SCIM_FILTER_CO:
        return str_contains(s, sn, v, vn, exact);
    case SCIM_FILTER_SW:
        return sn >= vn && str_cmp(s, vn, v, vn, exact) == 0;
    case SCIM_FILTER_EW:
        return sn >= vn && str_cmp(s + sn - vn, vn, v, vn, exact) == 0;
    default:
        return order_holds(op, str_cmp(s, sn, v, vn, exact));
    }
}

/* Fixed-width digits at s[*i]; advances *i. */
static bool digits(const char *s, size_t n, size_t *i, int width, int *out)
{
    int v = 0;
    for (int k = 0; k < width; k++) {
        if (*i >= n || !is_digit(s[*i]))
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static bool expect_char(const char *s, size_t n, size_t *i, char c)
{
    if (*i >= n || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/*
 * xsd:dateTime (RFC 7643 §2.3.5) to UTC seconds + nanoseconds, so values in
 * different offsets and with fractions of different lengths compare right.
 * A date alone means midnight; no offset means UTC.
 */
static bool datetime_parse(const char *s, size_t n, long long *secs, long *nanos)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    long frac = 0;
    if (!digits(s, n, &i, 4, &y) || !expect_char(s, n, &i, '-') || !digits(s, n, &i, 2, &mo) ||
        !expect_char(s, n, &i, '-') || !digits(s, n, &i, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    long long offset_s = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't')
            return false;
        i++;
        if (!digits(s, n, &i, 2, &h) || !expect_char(s, n, &i, ':') || !digits(s, n, &i, 2, &mi) ||
            !expect_char(s, n, &i, ':') || !digits(s, n, &i, 2, &sec))
            return false;
        if (h > 23 || mi > 59 || sec > 60)
            return false;
        if (i < n && s[i] == '.') {
            i++;
            int count = 0;
            while (i < n && is_digit(s[i])) {
                if (count < DATETIME_FRAC_DIGITS)
                    frac = frac * 10 + (s[i] - '0');
                count++;
                i++;
            }
            if (count == 0)
                return false;
            for (; count < DATETIME_FRAC_DIGITS; count++)
                frac *= 10;
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1;
            int oh, om;
            i++;
            if (!digits(s, n, &i, 2, &oh))
                return false;
            if (i < n && s[i] == ':')
                i++;
            if (!digits(s, n, &i, 2, &om) || oh > 23 || om > 59)
                return false;
            offset_s = sign * (oh * 3600LL + om * 60LL);
        }
        if (i != n)
            return false;
    }
    *secs = days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec - offset_s;
    *nanos = frac;
    return true;
}

/* Chronological comparison; false if either side is not a dateTime. */
static bool datetime_cmp(const char *a, size_t an, const char *b, int *out)
{
    long long as, bs;
    long an_ns, bn_ns;
    if (!datetime_parse(a, an, &as, &an_ns) || !datetime_parse(b, strlen(b), &bs, &bn_ns))
        return false;
    if (as != bs)
        *out = as < bs ? -1 : 1;
    else
        *out = an_ns == bn_ns ? 0 : (an_ns < bn_ns ? -1 : 1);
    return true;
}

/* Is the number literal an integer that fits a long long? */
static bool literal_integer(const char *text, long long *out)
{
    if (text == NULL || strpbrk(text, ".eE") != NULL)
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool number_op(enum scim_filter_op op, const json_t *v, const struct scim_filter_value *fv)
{
    long long want;
    int c;
    if (json_is_integer(v) && literal_integer(fv->str, &want)) {
        json_int_t have = json_integer_value(v);
        c = have == want ? 0 : (have < want ? -1 : 1);
    } else {
        double have = json_number_value(v);
        if (isnan(have))
            return false;
        c = have == fv->number ? 0 : (have < fv->number ? -1 : 1);
    }
    return order_holds(op, c);
}

/* "true"/"false" in any case, as Entra sends booleans. */
static bool string_boolean(const char *s, bool *out)
{
    if (str_ieq(s, "true"))
        *out = true;
    else if (str_ieq(s, "false"))
        *out = false;
    else
        return false;
    return true;
}

/*
 * One leaf value v against a comparison.  op is never NE (NE is "not EQ" at
 * the node level) and the filter value is never null.  def is the bound
 * attribute, or NULL for an unbound path (then strings compare ignoring case
 * and dateTimes are recognised by their shape).
 */
static bool leaf_match(const json_t *v, enum scim_filter_op op, const struct scim_filter_value *fv,
                       const struct scim_attr *def)
{
    if (json_is_object(v)) /* complex value without a sub-attribute: its "value" */
        v = scim_json_iget(v, "value");
    if (v == NULL)
        return false;
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t sn = json_string_length(v);
        if (fv->kind == SCIM_VALUE_BOOLEAN) {
            bool b;
            return op == SCIM_FILTER_EQ && strlen(s) == sn && string_boolean(s, &b) &&
                   b == fv->boolean;
        }
        if (fv->kind != SCIM_VALUE_STRING)
            return false;
        /* binary is base64: always case exact (RFC 7643 §2.3.6) */
        bool exact = def != NULL && (def->case_exact || def->type == SCIM_TYPE_BINARY);
        bool may_be_time = def == NULL || def->type == SCIM_TYPE_DATETIME;
        int c;
        if (may_be_time && op != SCIM_FILTER_CO && op != SCIM_FILTER_SW && op != SCIM_FILTER_EW &&
            datetime_cmp(s, sn, fv->str, &c))
            return order_holds(op, c);
        return string_op(op, s, sn, fv->str, exact);
    }
    case JSON_INTEGER:
    case JSON_REAL:
        return fv->kind == SCIM_VALUE_NUMBER && number_op(op, v, fv);
    case JSON_TRUE:
    case JSON_FALSE: {
        bool want;
        if (fv->kind == SCIM_VALUE_BOOLEAN)
            want = fv->boolean;
        else if (fv->kind != SCIM_VALUE_STRING || !string_boolean(fv->str, &want))
            return false;
        return op == SCIM_FILTER_EQ && json_is_true(v) == want;
    }
    default:
        return false;
    }
}

struct visit {
    enum scim_filter_op op; /* PR, or the comparison to apply (never NE) */
    const struct scim_filter_value *value;
    const struct scim_attr *def;
};

static bool visit_leaf(const json_t *v, const struct visit *vis)
{
    if (v == NULL)
        return false;
    if (vis->op == SCIM_FILTER_PR)
        return is_present(v);
    return leaf_match(v, vis->op, vis->value, vis->def);
}

/* v or, if v is an array, any of its elements. */
static bool visit_any(const json_t *v, const struct visit *vis)
{
    if (!json_is_array(v))
        return visit_leaf(v, vis);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (visit_leaf(e, vis))
            return true;
    }
    return false;
}

/* attr[.sub] in container: any value (multi-valued: any element's sub) satisfies vis. */
static bool visit_path(const json_t *container, const char *attr, const char *sub,
                       const struct visit *vis)
{
    const json_t *v = scim_json_iget(container, attr);
    if (v == NULL)
        return false;
    if (sub == NULL)
        return visit_any(v, vis);
    if (json_is_object(v))
        return visit_any(scim_json_iget(v, sub), vis);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (visit_any(scim_json_iget(e, sub), vis))
            return true;
    }
    return false;
}

/* Where a top-level path's attribute lives: the document or its extension object. */
static const json_t *path_container(const struct scim_filter_path *path, const json_t *resource)
{
    if (path->bound)
        return schema_is_core(path->ref.schema) ? resource
                                                : scim_json_iget(resource, path->ref.schema->id);
    return path->urn ? scim_json_iget(resource, path->urn) : resource;
}

/* Does any value at f's path satisfy vis?  elem: the element inside a value path. */
static bool visit_node(const struct scim_filter *f, const json_t *resource, const json_t *elem,
                       const struct visit *vis)
{
    const struct scim_filter_path *path = &f->path;
    if (elem != NULL) {
        const char *name = path->bound ? (path->ref.sub ? path->ref.sub->name : NULL) : path->attr;
        if (json_is_object(elem))
            return name != NULL && visit_any(scim_json_iget(elem, name), vis);
        /* multi-valued simple attribute: "value" is the element itself */
        return (name == NULL || str_ieq(name, "value")) && visit_leaf(elem, vis);
    }
    const json_t *container = path_container(path, resource);
    if (path->bound)
        return visit_path(container, path->ref.attr->name,
                          path->ref.sub ? path->ref.sub->name : NULL, vis);
    return visit_path(container, path->attr, path->sub, vis);
}

static bool match_node(const struct scim_filter *f, const json_t *resource, const json_t *elem);

/* attr[inner]: some element (or the single complex value) matches inner. */
static bool match_value_path(const struct scim_filter *f, const json_t *resource)
{
    const struct scim_filter_path *path = &f->path;
    const json_t *container = path_container(path, resource);
    const json_t *v = scim_json_iget(container, path->bound ? path->ref.attr->name : path->attr);
    if (v == NULL || json_is_null(v))
        return false;
    if (!json_is_array(v))
        return match_node(f->left, resource, v);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (match_node(f->left, resource, e))
            return true;
    }
    return false;
}

static bool match_node(const struct scim_filter *f, const json_t *resource, const json_t *elem)
{
    if (f == NULL)
        return false;
    struct visit vis = { .op = f->op, .value = &f->value, .def = path_def(&f->path) };
    switch (f->op) {
    case SCIM_FILTER_AND:
        return match_node(f->left, resource, elem) && match_node(f->right, resource, elem);
    case SCIM_FILTER_OR:
        return match_node(f->left, resource, elem) || match_node(f->right, resource, elem);
    case SCIM_FILTER_NOT:
        return !match_node(f->left, resource, elem);
    case SCIM_FILTER_VALUE_PATH:
        return elem == NULL && match_value_path(f, resource);
    case SCIM_FILTER_PR:
        return visit_node(f, resource, elem, &vis);
    case SCIM_FILTER_EQ:
    case SCIM_FILTER_NE: {
        /* "x eq null" means x is absent; "x ne null" that it is present. */
        bool eq;
        if (f->value.kind == SCIM_VALUE_NULL) {
            vis.op = SCIM_FILTER_PR;
            eq = !visit_node(f, resource, elem, &vis);
        } else {
            vis.op = SCIM_FILTER_EQ;
            eq = visit_node(f, resource, elem, &vis);
        }
        /*
         * ne is "not eq": it matches when no value is equal, so an absent
         * attribute matches ne (as most SCIM servers do), and a multi-valued
         * attribute matches only if none of its values is equal.
         */
        return f->op == SCIM_FILTER_EQ ? eq : !eq;
    }
    default:
        if (f->value.kind == SCIM_VALUE_NULL)
            return false;
        return visit_node(f, resource, elem, &vis);
    }
}

bool scim_filter_match(const struct scim_filter *f, const json_t *resource)
{
    if (f == NULL)
        return true;
    if (!json_is_object(resource))
        return false;
    return match_node(f, resource, NULL);
}

/* ---- canonical text ---------------------------------------------------------------------- */

static void canonical_name(struct buf *out, const char *s)
{
    for (; s && *s; s++)
        buf_putc(out, (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s);
}

static void canonical_path(const struct scim_filter_path *p, struct buf *out)
{
    if (p->bound && p->ref.attr != NULL) {
        /* the schema tables' spellings: case and URN prefixes as written vanish */
        if (p->ref.schema != NULL)
            buf_printf(out, "%s:", p->ref.schema->id);
        buf_puts(out, p->ref.attr->name);
        if (p->ref.sub != NULL)
            buf_printf(out, ".%s", p->ref.sub->name);
        return;
    }
    buf_putc(out, '?');
    if (p->urn != NULL) {
        canonical_name(out, p->urn);
        buf_putc(out, ':');
    }
    canonical_name(out, p->attr);
    if (p->sub != NULL) {
        buf_putc(out, '.');
        canonical_name(out, p->sub);
    }
}

static void canonical_value(const struct scim_filter_value *v, struct buf *out)
{
    switch (v->kind) {
    case SCIM_VALUE_STRING:
    case SCIM_VALUE_NUMBER: {
        const char *s = v->str ? v->str : "";
        buf_printf(out, "%c%zu:", v->kind == SCIM_VALUE_STRING ? 's' : 'n', strlen(s));
        buf_puts(out, s);
        break;
    }
    case SCIM_VALUE_BOOLEAN:
        buf_puts(out, v->boolean ? "true" : "false");
        break;
    case SCIM_VALUE_NULL:
        buf_puts(out, "null");
        break;
    case SCIM_VALUE_NONE:
        break;
    }
}

static void canonical(const struct scim_filter *f, struct buf *out)
{
    if (f == NULL)
        return;
    switch (f->op) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR:
        buf_puts(out, f->op == SCIM_FILTER_AND ? "(and " : "(or ");
        canonical(f->left, out);
        buf_putc(out, ' ');
        canonical(f->right, out);
        break;
    case SCIM_FILTER_NOT:
        buf_puts(out, "(not ");
        canonical(f->left, out);
        break;
    case SCIM_FILTER_VALUE_PATH:
        buf_puts(out, "(in ");
        canonical_path(&f->path, out);
        buf_putc(out, ' ');
        canonical(f->left, out);
        break;
    default:
        buf_printf(out, "(%s ", op_name(f->op));
        canonical_path(&f->path, out);
        if (f->op != SCIM_FILTER_PR) {
            buf_putc(out, ' ');
            canonical_value(&f->value, out);
        }
        break;
    }
    buf_putc(out, ')');
}

enum status scim_filter_canonical(const struct scim_filter *f, struct buf *out)
{
    canonical(f, out);
    return out->failed ? ERR_NOMEM : OK;
}
