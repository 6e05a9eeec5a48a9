/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter_test.c - tests for src/scim/filter.c: parse tree shapes, every
 * operator, precedence, value paths, URN-qualified names, escapes, caps,
 * binding against the User and Group tables, and matching against sample
 * documents shaped like what Okta and Entra ID provision.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "scim/filter.h"
#include "scim/schema.h"

#include "core/str.h"

#define ENT        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define CORE_USER  "urn:ietf:params:scim:schemas:core:2.0:User"
#define CORE_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define BJENSEN_ID "2819c223-7f76-453a-919d-413861904646"
#define MANDY_ID   "902c246b-6245-4190-8e05-00816be7344a"
#define MANAGER_ID "26118915-6090-4610-87e4-49d8ca9f808d"
#define GROUP_ID   "e9e30dba-f08f-4109-8486-d5c6a331660a"

/* ---- sample documents ------------------------------------------------------------------ */

enum doc_id { USER_FULL, USER_SPARSE, GROUP, DOC_COUNT };

static const char *const doc_text[DOC_COUNT] = {
    [USER_FULL] = "{"
                  "\"schemas\": [\"" CORE_USER "\", \"" ENT "\"],"
                  "\"id\": \"" BJENSEN_ID "\","
                  "\"externalId\": \"Ext-Bjensen\","
                  "\"userName\": \"Bjensen@Example.com\","
                  "\"name\": {\"formatted\": \"Ms. Barbara J Jensen, III\","
                  "  \"familyName\": \"Jensen\", \"givenName\": \"Barbara\"},"
                  "\"displayName\": \"Babs Jensen\","
                  "\"nickName\": \"Babs\","
                  "\"title\": \"Tour \\\"Guide\\\"\","
                  "\"userType\": \"Employee\","
                  "\"locale\": \"caf\\u00e9\","
                  "\"timezone\": \"Emoji/\\ud83d\\ude00\","
                  "\"active\": true,"
                  "\"emails\": [{\"value\": \"bjensen@example.com\", \"type\": \"work\", "
                  "  \"primary\": true},"
                  "  {\"value\": \"babs@jensen.org\", \"type\": \"home\"}],"
                  "\"phoneNumbers\": [{\"value\": \"555-555-8377\", \"type\": \"work\"}],"
                  "\"ims\": [{\"value\": \"babs@foo.com\", \"type\": \"xmpp\"}],"
                  "\"x509Certificates\": [{\"value\": \"MIIDQzCC\"}],"
                  "\"meta\": {\"resourceType\": \"User\", \"created\": \"2010-01-23T04:56:22Z\","
                  "  \"lastModified\": \"2011-05-13T04:42:34.123Z\","
                  "  \"version\": \"W/\\\"a330bc54f0671c9\\\"\"},"
                  "\"" ENT "\": {\"employeeNumber\": \"701984\","
                  "  \"department\": \"Tour Operations\","
                  "  \"manager\": {\"value\": \"" MANAGER_ID "\", \"displayName\": \"John\"}},"
                  "\"urn:example:custom:1.0:User\": {\"badge\": 42, \"ratio\": 0.5,"
                  "  \"tags\": [\"red\", \"blue\"], \"nick\": \"Caf\\u00e9\","
                  "  \"since\": \"2020-01-01T00:00:00Z\", \"flag\": true,"
                  "  \"Mixed\": {\"Inner\": \"deep\"}}"
                  "}",
    [USER_SPARSE] = "{"
                    "\"id\": \"u2\", \"userName\": \"alice\", \"active\": false,"
                    "\"displayName\": \"\", \"emails\": [], \"name\": {}, \"nickName\": null,"
                    "\"EXTERNALID\": \"Alice-1\""
                    "}",
    [GROUP] =
        "{"
        "\"schemas\": [\"" CORE_GROUP "\"],"
        "\"id\": \"" GROUP_ID "\","
        "\"externalId\": \"okta-grp-1\","
        "\"displayName\": \"Tour Guides\","
        "\"members\": ["
        "  {\"value\": \"" BJENSEN_ID "\", \"$ref\": \"https://example.com/v2/Users/" BJENSEN_ID
        "\", \"display\": \"Babs Jensen\", \"type\": \"User\"},"
        "  {\"value\": \"" MANDY_ID "\", \"display\": \"Mandy Pepperidge\"}],"
        "\"meta\": {\"resourceType\": \"Group\", \"created\": \"2010-01-23T04:56:22Z\","
        "  \"lastModified\": \"2011-05-13T04:42:34Z\"}"
        "}",
};

static json_t *docs[DOC_COUNT];

static void load_docs(void)
{
    for (int i = 0; i < DOC_COUNT; i++) {
        json_error_t jerr;
        docs[i] = json_loads(doc_text[i], 0, &jerr);
        cr_assert(docs[i] != NULL, "doc %d: %s", i, jerr.text);
    }
}

static void free_docs(void)
{
    for (int i = 0; i < DOC_COUNT; i++) {
        json_decref(docs[i]);
        docs[i] = NULL;
    }
}

static const struct scim_resource_type *doc_rt(enum doc_id d)
{
    return d == GROUP ? &scim_resource_group : &scim_resource_user;
}

/* ---- tree printer ------------------------------------------------------------------------ */

static const char *const op_names[] = {
    [SCIM_FILTER_EQ] = "eq",   [SCIM_FILTER_NE] = "ne",         [SCIM_FILTER_CO] = "co",
    [SCIM_FILTER_SW] = "sw",   [SCIM_FILTER_EW] = "ew",         [SCIM_FILTER_PR] = "pr",
    [SCIM_FILTER_GT] = "gt",   [SCIM_FILTER_GE] = "ge",         [SCIM_FILTER_LT] = "lt",
    [SCIM_FILTER_LE] = "le",   [SCIM_FILTER_AND] = "and",       [SCIM_FILTER_OR] = "or",
    [SCIM_FILTER_NOT] = "not", [SCIM_FILTER_VALUE_PATH] = "vp",
};

/* Path as urn|attr|sub so the split is visible; bare attr when alone. */
static void print_path(struct buf *b, const struct scim_filter_path *p)
{
    if (p->urn)
        buf_printf(b, "%s|", p->urn);
    buf_puts(b, p->attr ? p->attr : "?");
    if (p->sub)
        buf_printf(b, "|%s", p->sub);
}

static void print_tree(struct buf *b, const struct scim_filter *f)
{
    buf_printf(b, "(%s", op_names[f->op]);
    switch (f->op) {
    case SCIM_FILTER_AND:
    case SCIM_FILTER_OR:
        buf_putc(b, ' ');
        print_tree(b, f->left);
        buf_putc(b, ' ');
        print_tree(b, f->right);
        break;
    case SCIM_FILTER_NOT:
        buf_putc(b, ' ');
        print_tree(b, f->left);
        break;
    case SCIM_FILTER_VALUE_PATH:
        buf_putc(b, ' ');
        print_path(b, &f->path);
        buf_putc(b, ' ');
        print_tree(b, f->left);
        break;
    case SCIM_FILTER_PR:
        buf_putc(b, ' ');
        print_path(b, &f->path);
        break;
    default:
        buf_putc(b, ' ');
        print_path(b, &f->path);
        switch (f->value.kind) {
        case SCIM_VALUE_STRING:
            buf_printf(b, " \"%s\"", f->value.str);
            break;
        case SCIM_VALUE_NUMBER:
            buf_printf(b, " %s", f->value.str);
            break;
        case SCIM_VALUE_BOOLEAN:
            buf_puts(b, f->value.boolean ? " true" : " false");
            break;
        case SCIM_VALUE_NULL:
            buf_puts(b, " null");
            break;
        default:
            buf_puts(b, " ?");
        }
    }
    buf_putc(b, ')');
}

/* ---- parse: tree shapes ---------------------------------------------------------------- */

struct shape_case {
    const char *filter;
    const char *tree;
};

/* clang-format off */
static const struct shape_case shape_cases[] = {
    /* operators, case-insensitive */
    { "a pr", "(pr a)" },
    { "a PR", "(pr a)" },
    { "a eq \"x\"", "(eq a \"x\")" },
    { "a EQ \"x\"", "(eq a \"x\")" },
    { "a Ne \"x\"", "(ne a \"x\")" },
    { "a co \"x\"", "(co a \"x\")" },
    { "a sw \"x\"", "(sw a \"x\")" },
    { "a ew \"x\"", "(ew a \"x\")" },
    { "a gt 1", "(gt a 1)" },
    { "a ge \"2020-01-01T00:00:00Z\"", "(ge a \"2020-01-01T00:00:00Z\")" },
    { "a lt -1.5e3", "(lt a -1.5e3)" },
    { "a le 0", "(le a 0)" },
    { "a eq 0.25", "(eq a 0.25)" },
    { "a eq 1E+2", "(eq a 1E+2)" },
    { "a eq true", "(eq a true)" },
    { "a eq TRUE", "(eq a true)" },
    { "a eq False", "(eq a false)" },
    { "a eq null", "(eq a null)" },
    { "a ne NULL", "(ne a null)" },
    /* precedence: not/() > and > or; left-associative chains */
    { "a pr or b pr and c pr", "(or (pr a) (and (pr b) (pr c)))" },
    { "a pr and b pr or c pr", "(or (and (pr a) (pr b)) (pr c))" },
    { "a pr and (b pr or c pr)", "(and (pr a) (or (pr b) (pr c)))" },
    { "a pr or b pr or c pr", "(or (or (pr a) (pr b)) (pr c))" },
    { "a pr and b pr and c pr", "(and (and (pr a) (pr b)) (pr c))" },
    { "a pr AND b pr OR c pr And d pr", "(or (and (pr a) (pr b)) (and (pr c) (pr d)))" },
    { "not (a pr) and b pr", "(and (not (pr a)) (pr b))" },
    { "not(a pr)", "(not (pr a))" },
    { "NoT   (a pr or b pr)", "(not (or (pr a) (pr b)))" },
    { "not (not (a pr))", "(not (not (pr a)))" },
    { "((a pr))", "(pr a)" },
    { "(a pr) and (b pr)", "(and (pr a) (pr b))" },
    { "a pr and(b pr)", "(and (pr a) (pr b))" },
    { "a pr and not (b pr)", "(and (pr a) (not (pr b)))" },
    /* whitespace */
    { "  a pr  ", "(pr a)" },
    { "a\tpr", "(pr a)" },
    { "a   eq    \"x\"   and\t\tb pr", "(and (eq a \"x\") (pr b))" },
    { "( a pr )", "(pr a)" },
    /* attribute paths */
    { "name.givenName pr", "(pr name|givenName)" },
    { "members.$ref pr", "(pr members|$ref)" },
    { "$ref pr", "(pr $ref)" },
    { "a-b_c9 pr", "(pr a-b_c9)" },
    { "andy pr", "(pr andy)" },
    { "order pr or notes pr", "(or (pr order) (pr notes))" },
    { CORE_USER ":userName eq \"x\"", "(eq " CORE_USER "|userName \"x\")" },
    { ENT ":manager.value pr", "(pr " ENT "|manager|value)" },
    { ENT ":department pr", "(pr " ENT "|department)" },
    { "URN:IETF:params:scim:schemas:core:2.0:User:name.familyName pr",
      "(pr URN:IETF:params:scim:schemas:core:2.0:User|name|familyName)" },
    { "urn:example:custom:1.0:User:badge eq 42", "(eq urn:example:custom:1.0:User|badge 42)" },
    /* value paths */
    { "emails[type eq \"work\"]", "(vp emails (eq type \"work\"))" },
    { "emails[type eq \"work\" and value co \"@x.com\"]",
      "(vp emails (and (eq type \"work\") (co value \"@x.com\")))" },
    { "emails[ type eq \"work\" ]", "(vp emails (eq type \"work\"))" },
    { "emails[not (type eq \"work\")]", "(vp emails (not (eq type \"work\")))" },
    { "emails[type eq \"work\" or (type eq \"home\" and value ew \"@example.com\")]",
      "(vp emails (or (eq type \"work\") (and (eq type \"home\") (ew value \"@example.com\"))))" },
    { "members[value eq \"1\"] and displayName pr",
      "(and (vp members (eq value \"1\")) (pr displayName))" },
    { "a pr and emails[primary eq true] or b pr",
      "(or (and (pr a) (vp emails (eq primary true))) (pr b))" },
    { ENT ":manager[value pr]", "(vp " ENT "|manager (pr value))" },
    { "members[$ref pr]", "(vp members (pr $ref))" },
    /* strings and escapes */
    { "a eq \"\"", "(eq a \"\")" },
    { "a eq \"\\\"q\\\"\"", "(eq a \"\"q\"\")" },
    { "a eq \"caf\\u00e9\"", "(eq a \"caf\xc3\xa9\")" },
    { "a eq \"caf\\u00E9\"", "(eq a \"caf\xc3\xa9\")" },
    { "a eq \"\\ud83d\\ude00\"", "(eq a \"\xf0\x9f\x98\x80\")" },
    { "a eq \"\\u20ac\"", "(eq a \"\xe2\x82\xac\")" },
    { "a eq \"\\u0041\"", "(eq a \"A\")" },
    { "a eq \"\\/\\\\\"", "(eq a \"/\\\")" },
    { "a eq \"x\\ty\"", "(eq a \"x\ty\")" },
    { "a eq \"\\b\\f\\n\\r\"", "(eq a \"\b\f\n\r\")" },
    { "a eq \"caf\xc3\xa9\"", "(eq a \"caf\xc3\xa9\")" },
    { "a eq \"a b (c) [d] and or\"", "(eq a \"a b (c) [d] and or\")" },
    { "a eq \"' single\"", "(eq a \"' single\")" },
};
/* clang-format on */

Test(filter_parse, tree_shapes)
{
    for (size_t i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
        const struct shape_case *c = &shape_cases[i];
        struct scim_filter *f = NULL;
        struct scim_error err = { 0 };
        enum status rc = scim_filter_parse(c->filter, &f, &err);
        cr_expect_eq(rc, OK, "parse [%s]: %s", c->filter, err.detail);
        if (rc != OK)
            continue;
        struct buf b;
        buf_init(&b, 0);
        print_tree(&b, f);
        cr_expect_str_eq(b.data, c->tree, "tree of [%s]", c->filter);
        buf_release(&b);
        scim_filter_free(f);
    }
}

/* ---- parse: malformed ------------------------------------------------------------------ */

struct bad_case {
    const char *filter;
    const char *detail; /* substring expected in err.detail, or NULL */
};

/* clang-format off */
static const struct bad_case bad_cases[] = {
    /* empty */
    { "", "empty filter" },
    { "   ", "empty filter" },
    { "\t \t", "empty filter" },
    /* operators */
    { "userName", "expected operator after 'userName' at 8" },
    { "userName ", "expected operator after 'userName' at 9" },
    { "userName xx \"a\"", "expected operator after 'userName' at 9" },
    { "userName equals \"bob\"", "expected operator" },
    { "userName == \"bob\"", "expected operator" },
    { "userName = \"bob\"", "expected operator" },
    { "userName eq= \"bob\"", "expected a space after 'eq'" },
    { "userName eqq \"bob\"", "expected operator" },
    { "userName e \"bob\"", "expected operator" },
    { "userName pr1", "expected operator" },
    { "userName like \"bob\"", "expected operator" },
    { "userName\"x\"", "expected operator after 'userName' at 8" },
    { "emails [type eq \"work\"]", "expected operator after 'emails'" },
    { "emails type eq \"work\"]", "expected operator after 'emails'" },
    /* values */
    { "userName eq", "missing value after 'eq'" },
    { "userName eq ", "missing value after 'eq'" },
    { "userName eq\t", "missing value" },
    { "userName eq bob", "expected a value" },
    { "userName eq 'bob'", "expected a value" },
    { "userName eq \"bob", "unterminated string at 12" },
    { "userName eq \"bob\" junk", "unexpected text" },
    { "userName eq \"bob\"junk", "unexpected text" },
    { "userName eq\"bob\"", "expected a space after 'eq'" },
    { "userName eq truex", "expected a value" },
    { "userName eq nul", "expected a value" },
    { "userName eq nulls", "expected a value" },
    { "userName eq 01", "invalid number" },
    { "userName eq 1.", "invalid number" },
    { "userName eq .5", "expected a value" },
    { "userName eq +1", "expected a value" },
    { "userName eq 1e", "invalid number" },
    { "userName eq 1e+", "invalid number" },
    { "userName eq -", "invalid number" },
    { "userName eq 12abc", "invalid number" },
    { "userName eq 1.2.3", "invalid number" },
    { "userName eq 1\"x\"", "invalid number" },
    { "userName eq 1e999", "number out of range" },
    { "userName eq -1e999", "number out of range" },
    { "userName eq [1]", "expected a value" },
    { "userName eq {}", "expected a value" },
    { "userName gt true", "cannot compare" },
    { "userName ge false", "cannot compare" },
    { "userName lt null", "cannot compare" },
    { "userName co 5", "cannot compare" },
    { "userName sw true", "cannot compare" },
    { "userName ew null", "cannot compare" },
    { "userName co null", "cannot compare" },
    { "userName pr \"x\"", "unexpected" },
    { "userName pr true", "unexpected text" },
    /* strings and escapes */
    { "userName eq \"a\\qb\"", "invalid escape in string at 14" },
    { "userName eq \"a\\x41\"", "invalid escape" },
    { "userName eq \"a\\u12\"", "invalid escape" },
    { "userName eq \"a\\u12G4\"", "invalid escape" },
    { "userName eq \"a\\U0041\"", "invalid escape" },
    { "userName eq \"\\ud83d\"", "invalid escape" },
    { "userName eq \"\\ud83dx\"", "invalid escape" },
    { "userName eq \"\\ude00\"", "invalid escape" },
    { "userName eq \"\\ude00\\ud83d\"", "invalid escape" },
    { "userName eq \"\\ud83d\\u0041\"", "invalid escape" },
    { "userName eq \"\\ud83d\\ud83d\"", "invalid escape" },
    { "userName eq \"\\u0000\"", "invalid escape" },
    { "userName eq \"a\\\"", "unterminated string" },
    { "userName eq \"\\", "invalid escape" },
    { "userName eq \"\\u", "invalid escape" },
    { "userName eq \"a\tb\"", "control character in string" },
    { "userName eq \"a\nb\"", "control character" },
    { "userName eq \"a\x01\"", "control character" },
    { "userName eq \"\xff\"", "invalid UTF-8" },
    { "userName eq \"\xc3\"", "invalid UTF-8" },
    { "userName eq \"\xc3\xa9\xc3\"", "invalid UTF-8" },
    { "userName eq \"\xed\xa0\x80\"", "invalid UTF-8" },
    { "userName eq \"\xc0\xaf\"", "invalid UTF-8" },
    { "userName eq \"\xf4\x90\x80\x80\"", "invalid UTF-8" },
    /* attribute paths */
    { "1userName pr", "invalid attribute path" },
    { "-x pr", "invalid attribute path" },
    { "_x pr", "invalid attribute path" },
    { ".userName pr", "invalid attribute path" },
    { "user..Name pr", "invalid attribute path" },
    { "name. pr", "invalid attribute path" },
    { "name.givenName.x pr", "invalid attribute path" },
    { "user$name pr", "invalid attribute path" },
    { "$refx pr", "invalid attribute path" },
    { "userName: pr", "invalid attribute path" },
    { "a:b pr", "invalid attribute path" },
    { "urn: pr", "invalid schema URN" },
    { "urn:x pr", "invalid schema URN" },
    { "urn:a::b:c pr", "invalid schema URN" },
    { "urn:a.$:c pr", "invalid schema URN" },
    { CORE_USER ": pr", "invalid attribute path" },
    { CORE_USER ":.x pr", "invalid attribute path" },
    { "\"userName\" eq \"x\"", "expected attribute path, found a string" },
    { "'userName' eq \"x\"", "found a string" },
    { "userName\x01 pr", "expected operator" },
    { "\x01userName pr", "unexpected text at 0" },
    { "userName eq \"x\"\x01", "unexpected text at 15" },
    { "#userName pr", "unexpected text" },
    /* grouping */
    { "(userName pr", "missing ')'" },
    { "((userName pr)", "missing ')'" },
    { "(userName pr]", "expected ')'" },
    { "userName pr)", "unbalanced ')' at 11" },
    { "userName eq \"x\" )", "unbalanced ')' at 16" },
    { "(userName pr))", "unbalanced ')'" },
    { "()", "unbalanced ')'" },
    { "( )", "unbalanced ')'" },
    { "(", "unexpected end of filter" },
    { ")", "unbalanced ')'" },
    { "[", "unexpected '['" },
    { "]", "unbalanced ']'" },
    { "(a pr)or(b pr)", "unexpected text" },
    { "(a pr) or(b pr", "missing ')'" },
    /* not */
    { "not userName pr", "expected '(' after 'not' at 0" },
    { "not", "expected '(' after 'not'" },
    { "not ", "expected '(' after 'not'" },
    { "not (", "unexpected end of filter" },
    { "not ()", "unbalanced ')'" },
    { "not(userName pr", "missing ')'" },
    { "userName pr and not userName pr", "expected '(' after 'not'" },
    { "not not (a pr)", "expected '(' after 'not'" },
    { "! (a pr)", "unexpected text" },
    /* and / or */
    { "userName pr and", "unexpected end of filter" },
    { "userName pr or", "unexpected end of filter" },
    { "userName pr AND ", "unexpected end of filter" },
    { "userName pr and and active pr", "expected operator after 'and'" },
    { "userName pr or or active pr", "expected operator after 'or'" },
    { "and userName pr", "expected operator after 'and'" },
    { "or", "expected operator after 'or'" },
    { "userName pr userName pr", "unexpected text" },
    { "userName pr && active pr", "unexpected text" },
    { "userName pr || active pr", "unexpected text" },
    { "userName pr andactive pr", "unexpected text" },
    { "userName pr, active pr", "unexpected text" },
    /* value paths */
    { "emails[type eq \"work\"", "missing ']'" },
    { "emails[type eq \"work\" ", "missing ']'" },
    { "emails[type eq \"work\")", "expected ']' after value filter of 'emails'" },
    { "emails[type eq \"work\"]]", "unbalanced ']'" },
    { "emails[]", "unbalanced ']'" },
    { "emails[ ]", "unbalanced ']'" },
    { "emails[", "unexpected end of filter" },
    { "emails[type eq \"work\"].value eq \"x\"", "sub-attribute after ']' is not allowed" },
    { "emails[type eq \"work\"].value", "sub-attribute after ']'" },
    { "emails[type[value eq \"x\"]]", "nested value path" },
    { "emails[emails[type eq \"x\"]]", "nested value path" },
    { "emails[type eq \"x\" and (b[c pr])]", "nested value path" },
    { "emails[type.value eq \"x\"]", "expected a sub-attribute name" },
    { "emails[emails.type eq \"x\"]", "expected a sub-attribute name" },
    { "emails[" CORE_USER ":type eq \"x\"]", "expected a sub-attribute name" },
    { "name.givenName[value eq \"x\"]", "value path on a sub-attribute" },
    { "emails[type eq \"work\"] eq \"x\"", "unexpected text" },
    { "emails[type eq \"work\"] pr", "unexpected text" },
    { "emails[type eq \"work\"][value pr]", "unexpected '['" },
    { "emails[type]", "expected operator after 'type'" },
};
/* clang-format on */

Test(filter_parse, malformed)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct scim_filter *f = (struct scim_filter *)&f; /* must be reset to NULL */
        struct scim_error err = { 0 };
        enum status rc = scim_filter_parse(c->filter, &f, &err);
        cr_expect_eq(rc, ERR_INVALID_FILTER, "[%s] parsed (rc %d)", c->filter, rc);
        cr_expect_null(f, "[%s] left a tree", c->filter);
        cr_expect_eq(err.status, ERR_INVALID_FILTER, "[%s] err.status", c->filter);
        if (c->detail != NULL)
            cr_expect(strstr(err.detail, c->detail) != NULL, "[%s]: detail '%s' lacks '%s'",
                      c->filter, err.detail, c->detail);
    }
}

Test(filter_parse, null_text)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_expect_eq(scim_filter_parse(NULL, &f, &err), ERR_INVALID_FILTER);
    cr_expect_null(f);
}

Test(filter_parse, error_detail_has_no_value_text)
{
    /* details name attributes and positions, never the compared value */
    static const char *const filters[] = {
        "userName eq \"s3cr3t-value\" junk",
        "userName eq \"s3cr3t-value",
        "userName eq \"s3cr3t-value\\q\"",
        "userName eq s3cr3t-value",
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        struct scim_filter *f = NULL;
        struct scim_error err = { 0 };
        cr_expect_eq(scim_filter_parse(filters[i], &f, &err), ERR_INVALID_FILTER);
        cr_expect_null(strstr(err.detail, "s3cr3t"), "[%s] leaks value: %s", filters[i],
                       err.detail);
    }
}

/* ---- caps ------------------------------------------------------------------------------ */

static char *repeat_join(const char *first, const char *item, const char *last, int n)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, first);
    for (int i = 0; i < n; i++)
        buf_puts(&b, item);
    buf_puts(&b, last);
    return buf_take(&b);
}

static enum status parse_only(const char *text, struct scim_error *err)
{
    struct scim_filter *f = NULL;
    enum status rc = scim_filter_parse(text, &f, err);
    scim_filter_free(f);
    return rc;
}

Test(filter_caps, length)
{
    /* userName eq "xxx...": exactly the cap parses, one more does not */
    const char *head = "userName eq \"";
    size_t fill = SCIM_FILTER_MAX_LEN - strlen(head) - 1;
    char *text = malloc(SCIM_FILTER_MAX_LEN + 2);
    cr_assert_not_null(text);
    memcpy(text, head, strlen(head));
    memset(text + strlen(head), 'x', fill);
    text[strlen(head) + fill] = '"';
    text[SCIM_FILTER_MAX_LEN] = '\0';
    struct scim_error err = { 0 };
    cr_expect_eq(parse_only(text, &err), OK, "%s", err.detail);

    text[SCIM_FILTER_MAX_LEN - 1] = 'x';
    text[SCIM_FILTER_MAX_LEN] = '"';
    text[SCIM_FILTER_MAX_LEN + 1] = '\0';
    cr_expect_eq(parse_only(text, &err), ERR_INVALID_FILTER);
    cr_expect(strstr(err.detail, "longer than") != NULL, "%s", err.detail);
    free(text);
}

Test(filter_caps, depth_parens)
{
    struct scim_error err = { 0 };
    char *ok = NULL, *deep = NULL;
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i < SCIM_FILTER_MAX_DEPTH; i++)
        buf_putc(&b, '(');
    buf_puts(&b, "a pr");
    for (int i = 0; i < SCIM_FILTER_MAX_DEPTH; i++)
        buf_putc(&b, ')');
    ok = buf_take(&b);
    cr_expect_eq(parse_only(ok, &err), OK, "%s", err.detail);

    buf_init(&b, 0);
    for (int i = 0; i <= SCIM_FILTER_MAX_DEPTH; i++)
        buf_putc(&b, '(');
    buf_puts(&b, "a pr");
    for (int i = 0; i <= SCIM_FILTER_MAX_DEPTH; i++)
        buf_putc(&b, ')');
    deep = buf_take(&b);
    cr_expect_eq(parse_only(deep, &err), ERR_INVALID_FILTER);
    cr_expect(strstr(err.detail, "nested deeper than 32") != NULL, "%s", err.detail);
    free(ok);
    free(deep);
}

Test(filter_caps, depth_not_and_brackets)
{
    struct scim_error err = { 0 };
    char *ok = repeat_join("", "not (", "a pr", SCIM_FILTER_MAX_DEPTH);
    char *ok_full = repeat_join(ok, ")", "", SCIM_FILTER_MAX_DEPTH);
    cr_expect_eq(parse_only(ok_full, &err), OK, "%s", err.detail);
    char *deep = repeat_join("", "not (", "a pr", SCIM_FILTER_MAX_DEPTH + 1);
    char *deep_full = repeat_join(deep, ")", "", SCIM_FILTER_MAX_DEPTH + 1);
    cr_expect_eq(parse_only(deep_full, &err), ERR_INVALID_FILTER);

    /* "[" counts as a level too */
    char *in = repeat_join("emails[", "(", "type pr", SCIM_FILTER_MAX_DEPTH - 1);
    char *in_ok = repeat_join(in, ")", "]", SCIM_FILTER_MAX_DEPTH - 1);
    cr_expect_eq(parse_only(in_ok, &err), OK, "%s", err.detail);
    char *in2 = repeat_join("emails[", "(", "type pr", SCIM_FILTER_MAX_DEPTH);
    char *in_deep = repeat_join(in2, ")", "]", SCIM_FILTER_MAX_DEPTH);
    cr_expect_eq(parse_only(in_deep, &err), ERR_INVALID_FILTER);
    free(ok);
    free(ok_full);
    free(deep);
    free(deep_full);
    free(in);
    free(in_ok);
    free(in2);
    free(in_deep);
}

Test(filter_caps, nodes)
{
    struct scim_error err = { 0 };
    /* k leaves joined by "or" make 2k-1 nodes */
    int k_ok = (SCIM_FILTER_MAX_NODES + 1) / 2;
    char *ok = repeat_join("a pr", " or a pr", "", k_ok - 1);
    cr_expect_eq(parse_only(ok, &err), OK, "%s", err.detail);
    char *many = repeat_join("a pr", " or a pr", "", k_ok);
    cr_expect_eq(parse_only(many, &err), ERR_INVALID_FILTER);
    cr_expect(strstr(err.detail, "more than 256 nodes") != NULL, "%s", err.detail);
    /* a long flat chain of ids (what some clients send) is fine */
    char *ids = repeat_join("id eq \"1\"", " or id eq \"2\"", "", 100);
    cr_expect_eq(parse_only(ids, &err), OK, "%s", err.detail);
    free(ok);
    free(many);
    free(ids);
}

/* ---- bind -------------------------------------------------------------------------------- */

struct bind_case {
    enum doc_id rt; /* USER_FULL for User, GROUP for Group */
    const char *filter;
    const char *detail; /* substring of err.detail, or NULL */
};

/* clang-format off */
static const struct bind_case bind_bad_cases[] = {
    { USER_FULL, "foo eq \"x\"", "unknown attribute 'foo'" },
    { USER_FULL, "name.foo pr", "unknown attribute 'name.foo'" },
    { USER_FULL, "emails.foo eq \"x\"", "unknown attribute" },
    { USER_FULL, "emails[foo eq \"x\"]", "unknown attribute 'emails.foo'" },
    { USER_FULL, "emails[type eq \"work\" and foo pr]", "unknown attribute 'emails.foo'" },
    { USER_FULL, "userName[value eq \"x\"]", "not multi-valued or complex" },
    { USER_FULL, "active[value eq true]", "not multi-valued or complex" },
    { USER_FULL, "active gt \"x\"", "not allowed on boolean attribute 'active'" },
    { USER_FULL, "active lt 1", "not allowed on boolean" },
    { USER_FULL, "active ge \"true\"", "not allowed on boolean" },
    { USER_FULL, "emails.primary le \"x\"", "not allowed on boolean" },
    { USER_FULL, "emails[primary gt \"x\"]", "not allowed on boolean" },
    { USER_FULL, "x509Certificates.value gt \"a\"", "not allowed on binary" },
    { USER_FULL, "x509Certificates lt \"a\"", "not allowed on binary" },
    { USER_FULL, "name eq \"x\"", "complex attribute 'name' cannot be compared" },
    { USER_FULL, "meta gt \"x\"", "complex attribute 'meta'" },
    { USER_FULL, "password eq \"x\"", "cannot be filtered on" },
    { USER_FULL, "password pr", "cannot be filtered on" },
    { USER_FULL, "members[value eq \"x\"]", "unknown attribute 'members'" },
    { USER_FULL, "displayName pr and members pr", "unknown attribute 'members'" },
    { USER_FULL, "not (foo pr)", "unknown attribute" },
    { USER_FULL, ENT ":foo pr", "unknown attribute" },
    { USER_FULL, ENT ":manager.foo pr", "unknown attribute" },
    { USER_FULL, CORE_USER ":nope pr", "unknown attribute" },
    { USER_FULL, CORE_USER ":name.nope pr", "unknown attribute" },
    { USER_FULL, "department eq \"x\"", "unknown attribute 'department'" },
    { USER_FULL, "$ref pr", "unknown attribute" },
    { USER_FULL, "userName.value eq \"x\"", "unknown attribute" },
    { USER_FULL, "emails.value.x pr", NULL }, /* parse error actually; see bind test */
    { GROUP, "userName eq \"x\"", "unknown attribute 'userName'" },
    { GROUP, "members.foo pr", "unknown attribute" },
    { GROUP, "members[foo eq \"x\"]", "unknown attribute 'members.foo'" },
    { GROUP, "emails pr", "unknown attribute 'emails'" },
    { GROUP, "displayName[value eq \"x\"]", "not multi-valued or complex" },
    { GROUP, ENT ":department pr", NULL }, /* unknown to Group -> unbound, so this is OK */
};
/* clang-format on */

Test(filter_bind, unknown_and_type_errors)
{
    for (size_t i = 0; i < sizeof(bind_bad_cases) / sizeof(bind_bad_cases[0]); i++) {
        const struct bind_case *c = &bind_bad_cases[i];
        struct scim_filter *f = NULL;
        struct scim_error err = { 0 };
        enum status rc = scim_filter_parse(c->filter, &f, &err);
        if (c->detail == NULL) {
            /* rows without a detail are the ones that must not be bind errors */
            if (rc == OK) {
                cr_expect_eq(scim_filter_bind(f, doc_rt(c->rt), &err), OK, "[%s]: %s", c->filter,
                             err.detail);
            } else {
                cr_expect_eq(rc, ERR_INVALID_FILTER, "[%s]", c->filter);
            }
            scim_filter_free(f);
            continue;
        }
        cr_expect_eq(rc, OK, "parse [%s]: %s", c->filter, err.detail);
        if (rc != OK)
            continue;
        rc = scim_filter_bind(f, doc_rt(c->rt), &err);
        cr_expect_eq(rc, ERR_INVALID_FILTER, "[%s] bound (rc %d)", c->filter, rc);
        cr_expect(strstr(err.detail, c->detail) != NULL, "[%s]: detail '%s' lacks '%s'", c->filter,
                  err.detail, c->detail);
        scim_filter_free(f);
    }
}

static struct scim_filter *parse_bind(const char *text, const struct scim_resource_type *rt)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_filter_parse(text, &f, &err), OK, "parse [%s]: %s", text, err.detail);
    cr_assert_eq(scim_filter_bind(f, rt, &err), OK, "bind [%s]: %s", text, err.detail);
    return f;
}

Test(filter_bind, refs)
{
    struct scim_filter *f = parse_bind("userName eq \"x\"", &scim_resource_user);
    cr_expect(f->path.bound);
    cr_expect_eq(f->path.ref.schema, &scim_schema_user);
    cr_expect_str_eq(f->path.ref.attr->name, "userName");
    cr_expect_null(f->path.ref.sub);
    scim_filter_free(f);

    f = parse_bind("USERNAME eq \"x\"", &scim_resource_user);
    cr_expect_str_eq(f->path.ref.attr->name, "userName");
    cr_expect_str_eq(f->path.attr, "USERNAME"); /* as written */
    scim_filter_free(f);

    f = parse_bind(ENT ":manager.value eq \"x\"", &scim_resource_user);
    cr_expect(f->path.bound);
    cr_expect_eq(f->path.ref.schema, &scim_schema_enterprise_user);
    cr_expect_str_eq(f->path.ref.attr->name, "manager");
    cr_expect_str_eq(f->path.ref.sub->name, "value");
    scim_filter_free(f);

    /* complex without sub-attribute compares through "value" */
    f = parse_bind("emails eq \"x\"", &scim_resource_user);
    cr_expect_str_eq(f->path.ref.attr->name, "emails");
    cr_expect_not_null(f->path.ref.sub);
    cr_expect_str_eq(f->path.ref.sub->name, "value");
    cr_expect_null(f->path.sub);
    scim_filter_free(f);

    f = parse_bind("emails pr", &scim_resource_user);
    cr_expect_null(f->path.ref.sub);
    scim_filter_free(f);

    f = parse_bind("meta.lastModified gt \"2020-01-01T00:00:00Z\"", &scim_resource_user);
    cr_expect_str_eq(f->path.ref.attr->name, "meta");
    cr_expect_eq(f->path.ref.sub->type, SCIM_TYPE_DATETIME);
    scim_filter_free(f);

    /* value path: inner paths are sub-attributes of the outer attribute */
    f = parse_bind("emails[Type eq \"work\" and value co \"@x\"]", &scim_resource_user);
    cr_expect_eq(f->op, SCIM_FILTER_VALUE_PATH);
    cr_expect_str_eq(f->path.ref.attr->name, "emails");
    cr_expect(f->left->left->path.bound);
    cr_expect_str_eq(f->left->left->path.ref.attr->name, "emails");
    cr_expect_str_eq(f->left->left->path.ref.sub->name, "type");
    cr_expect_str_eq(f->left->right->path.ref.sub->name, "value");
    scim_filter_free(f);

    f = parse_bind("members[value eq \"x\"]", &scim_resource_group);
    cr_expect_eq(f->left->path.ref.schema, &scim_schema_group);
    cr_expect_str_eq(f->left->path.ref.sub->name, "value");
    scim_filter_free(f);

    /* unknown URN: accepted, left unbound */
    f = parse_bind("urn:example:custom:1.0:User:badge eq 42", &scim_resource_user);
    cr_expect_not(f->path.bound);
    cr_expect_null(f->path.ref.attr);
    scim_filter_free(f);
    f = parse_bind("urn:example:custom:1.0:User:tags[value eq \"x\"]", &scim_resource_user);
    cr_expect_not(f->path.bound);
    cr_expect_not(f->left->path.bound);
    scim_filter_free(f);

    /* Entra's active eq "True" becomes a boolean */
    f = parse_bind("active eq \"True\"", &scim_resource_user);
    cr_expect_eq(f->value.kind, SCIM_VALUE_BOOLEAN);
    cr_expect(f->value.boolean);
    cr_expect_null(f->value.str);
    scim_filter_free(f);
    f = parse_bind("active eq \"yes\"", &scim_resource_user);
    cr_expect_eq(f->value.kind, SCIM_VALUE_STRING);
    scim_filter_free(f);
}

Test(filter_bind, rebind_other_type)
{
    struct scim_filter *f = parse_bind("displayName eq \"x\" or id pr", &scim_resource_user);
    struct scim_error err = { 0 };
    cr_expect_eq(scim_filter_bind(f, &scim_resource_group, &err), OK, "%s", err.detail);
    cr_expect_eq(f->left->path.ref.schema, &scim_schema_group);
    scim_filter_free(f);

    cr_expect_eq(scim_filter_bind(NULL, &scim_resource_user, &err), ERR_INVALID_FILTER);
}

/* ---- match ------------------------------------------------------------------------------- */

struct match_case {
    enum doc_id doc;
    const char *filter;
    bool expect;
};

/* clang-format off */
static const struct match_case match_cases[] = {
    /* eq / ne, userName case-insensitive */
    { USER_FULL, "userName eq \"bjensen@example.com\"", true },
    { USER_FULL, "userName eq \"BJENSEN@EXAMPLE.COM\"", true },
    { USER_FULL, "USERNAME EQ \"bjensen@example.com\"", true },
    { USER_FULL, "username Eq \"Bjensen@Example.com\"", true },
    { USER_FULL, "userName eq \"bjensen\"", false },
    { USER_FULL, "userName eq \"bjensen@example.com \"", false },
    { USER_FULL, "userName ne \"x\"", true },
    { USER_FULL, "userName ne \"bjensen@example.com\"", false },
    /* co / sw / ew */
    { USER_FULL, "userName co \"jensen\"", true },
    { USER_FULL, "userName co \"JENSEN@\"", true },
    { USER_FULL, "userName co \"\"", true },
    { USER_FULL, "userName co \"nope\"", false },
    { USER_FULL, "userName sw \"bjen\"", true },
    { USER_FULL, "userName sw \"BJEN\"", true },
    { USER_FULL, "userName sw \"jensen\"", false },
    { USER_FULL, "userName ew \".com\"", true },
    { USER_FULL, "userName ew \".COM\"", true },
    { USER_FULL, "userName ew \"example\"", false },
    { USER_FULL, "userName sw \"bjensen@example.com and more\"", false },
    /* gt / ge / lt / le on strings */
    { USER_FULL, "userName gt \"a\"", true },
    { USER_FULL, "userName gt \"C\"", false },
    { USER_FULL, "userName lt \"c\"", true },
    { USER_FULL, "userName ge \"bjensen@example.com\"", true },
    { USER_FULL, "userName le \"BJENSEN@EXAMPLE.COM\"", true },
    { USER_FULL, "userName lt \"bjensen@example.com\"", false },
    { USER_FULL, "userName gt \"bjensen@example.co\"", true },
    /* pr */
    { USER_FULL, "userName pr", true },
    { USER_FULL, "profileUrl pr", false },
    { USER_FULL, "name pr", true },
    { USER_FULL, "name.middleName pr", false },
    { USER_FULL, "emails pr", true },
    { USER_FULL, "emails.primary pr", true },
    { USER_FULL, "addresses pr", false },
    /* caseExact: id and externalId */
    { USER_FULL, "externalId eq \"Ext-Bjensen\"", true },
    { USER_FULL, "externalId eq \"ext-bjensen\"", false },
    { USER_FULL, "externalId ne \"ext-bjensen\"", true },
    { USER_FULL, "externalId co \"Bjensen\"", true },
    { USER_FULL, "externalId co \"bjensen\"", false },
    { USER_FULL, "externalId sw \"EXT\"", false },
    { USER_FULL, "externalId ew \"sen\"", true },
    { USER_FULL, "id eq \"" BJENSEN_ID "\"", true },
    { USER_FULL, "id eq \"2819C223-7F76-453A-919D-413861904646\"", false },
    { USER_FULL, "ID eq \"" BJENSEN_ID "\"", true },
    /* sub-attributes */
    { USER_FULL, "name.familyName eq \"jensen\"", true },
    { USER_FULL, "NAME.FAMILYNAME eq \"jensen\"", true },
    { USER_FULL, "name.givenName sw \"Barb\"", true },
    { USER_FULL, "name.givenName eq \"Babs\"", false },
    /* multi-valued */
    { USER_FULL, "emails.value eq \"babs@jensen.org\"", true },
    { USER_FULL, "emails eq \"BABS@jensen.org\"", true },
    { USER_FULL, "emails co \"@example.com\"", true },
    { USER_FULL, "emails.value co \"example.org\"", false },
    { USER_FULL, "emails.type eq \"work\"", true },
    { USER_FULL, "emails.type eq \"other\"", false },
    { USER_FULL, "emails.type ne \"other\"", true },
    { USER_FULL, "emails.type ne \"work\"", false },
    { USER_FULL, "emails.primary eq true", true },
    { USER_FULL, "phoneNumbers.value eq \"555-555-8377\"", true },
    /* value paths */
    { USER_FULL, "emails[type eq \"work\" and value co \"@example.com\"]", true },
    { USER_FULL, "emails[type eq \"home\" and value co \"@example.com\"]", false },
    { USER_FULL, "emails[type eq \"home\" or primary eq true]", true },
    { USER_FULL, "emails[not (type eq \"work\")]", true },
    { USER_FULL, "emails[primary eq true]", true },
    { USER_FULL, "emails[primary eq false]", false },
    { USER_FULL, "emails[primary pr]", true },
    { USER_FULL, "emails[primary eq null]", true },
    { USER_FULL, "EMAILS[TYPE EQ \"WORK\"]", true },
    { USER_FULL, "emails[type eq \"work\" or (type eq \"home\" and value ew \"@jensen.org\")]", true },
    { USER_FULL, "emails[type eq \"home\" and (value ew \"@example.com\")]", false },
    { USER_FULL, "phoneNumbers[type eq \"mobile\"]", false },
    { USER_FULL, "not (emails[type eq \"other\"])", true },
    { USER_FULL, "emails[type ne \"work\"]", true },
    { USER_FULL, CORE_USER ":emails[type eq \"work\"]", true },
    { USER_FULL, ENT ":manager[value eq \"" MANAGER_ID "\"]", true },
    { USER_FULL, ENT ":manager[displayName eq \"nobody\"]", false },
    { USER_FULL, "name[givenName eq \"barbara\"]", true },
    /* booleans, incl. strings Entra sends */
    { USER_FULL, "active eq true", true },
    { USER_FULL, "active eq false", false },
    { USER_FULL, "active eq TRUE", true },
    { USER_FULL, "active eq \"true\"", true },
    { USER_FULL, "active eq \"True\"", true },
    { USER_FULL, "active eq \"FALSE\"", false },
    { USER_FULL, "active eq \"yes\"", false },
    { USER_FULL, "active eq 1", false },
    { USER_FULL, "active ne false", true },
    { USER_FULL, "active ne true", false },
    { USER_FULL, "active pr", true },
    { USER_FULL, "active co \"tr\"", false },
    /* dateTime */
    { USER_FULL, "meta.lastModified gt \"2011-05-13T04:42:34Z\"", true },
    { USER_FULL, "meta.lastModified gt \"2011-05-13T04:42:34.2Z\"", false },
    { USER_FULL, "meta.lastModified gt \"2011-05-13T04:42:34.12Z\"", true },
    { USER_FULL, "meta.lastModified eq \"2011-05-13T04:42:34.123000Z\"", true },
    { USER_FULL, "meta.lastModified eq \"2011-05-13T04:42:34.123Z\"", true },
    { USER_FULL, "meta.lastModified eq \"2011-05-13T06:42:34.123+02:00\"", true },
    { USER_FULL, "meta.lastModified lt \"2011-05-13T06:42:34+02:00\"", false },
    { USER_FULL, "meta.lastModified ge \"2011-05-13T06:42:34+02:00\"", true },
    { USER_FULL, "meta.lastModified le \"2011-05-13T00:00:00-05:00\"", true },
    { USER_FULL, "meta.lastModified lt \"2012-01-01\"", true },
    { USER_FULL, "meta.lastModified gt \"2011-05-14\"", false },
    { USER_FULL, "meta.created ge \"2010-01-23T04:56:22Z\"", true },
    { USER_FULL, "meta.created gt \"2010-01-23T04:56:22.0001Z\"", false },
    { USER_FULL, "meta.created lt \"2010-01-24\"", true },
    { USER_FULL, "meta.created gt \"not a date\"", false },
    { USER_FULL, "meta.created sw \"2010-01\"", true },
    { USER_FULL, "meta.lastModified pr", true },
    { USER_FULL, "meta.resourceType eq \"User\"", true },
    { USER_FULL, "meta.version pr", true },
    /* URN-qualified core and enterprise */
    { USER_FULL, CORE_USER ":userName eq \"bjensen@example.com\"", true },
    { USER_FULL, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME sw \"b\"", true },
    { USER_FULL, CORE_USER ":name.familyName eq \"Jensen\"", true },
    { USER_FULL, ENT ":department eq \"tour operations\"", true },
    { USER_FULL, ENT ":department ne \"tour operations\"", false },
    { USER_FULL, ENT ":employeeNumber eq \"701984\"", true },
    { USER_FULL, ENT ":employeeNumber eq 701984", false },
    { USER_FULL, ENT ":costCenter pr", false },
    { USER_FULL, ENT ":manager pr", true },
    { USER_FULL, ENT ":manager.value eq \"" MANAGER_ID "\"", true },
    { USER_FULL, ENT ":manager eq \"" MANAGER_ID "\"", true },
    { USER_FULL, "urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user:Department sw \"Tour\"", true },
    /* unknown URN: matched verbatim, case-insensitively */
    { USER_FULL, "urn:example:custom:1.0:User:badge eq 42", true },
    { USER_FULL, "urn:example:custom:1.0:User:badge eq 42.0", true },
    { USER_FULL, "urn:example:custom:1.0:User:badge gt 41.5", true },
    { USER_FULL, "urn:example:custom:1.0:User:badge lt 42", false },
    { USER_FULL, "urn:example:custom:1.0:User:badge le 42", true },
    { USER_FULL, "urn:example:custom:1.0:User:badge ge 4.2e1", true },
    { USER_FULL, "urn:example:custom:1.0:User:badge eq \"42\"", false },
    { USER_FULL, "urn:example:custom:1.0:User:ratio lt 1", true },
    { USER_FULL, "urn:example:custom:1.0:User:ratio eq 0.5", true },
    { USER_FULL, "urn:example:custom:1.0:User:tags eq \"RED\"", true },
    { USER_FULL, "urn:example:custom:1.0:User:tags eq \"green\"", false },
    { USER_FULL, "urn:example:custom:1.0:User:tags[value eq \"blue\"]", true },
    { USER_FULL, "urn:example:custom:1.0:User:tags[value eq \"pink\"]", false },
    { USER_FULL, "urn:example:custom:1.0:User:nick eq \"caf\\u00e9\"", true },
    { USER_FULL, "urn:example:custom:1.0:User:since lt \"2021-01-01T00:00:00Z\"", true },
    { USER_FULL, "urn:example:custom:1.0:User:since eq \"2020-01-01T00:00:00.000Z\"", true },
    { USER_FULL, "urn:example:custom:1.0:User:flag eq true", true },
    { USER_FULL, "urn:example:custom:1.0:User:flag eq \"True\"", true },
    { USER_FULL, "urn:example:custom:1.0:User:flag gt \"a\"", false },
    { USER_FULL, "URN:EXAMPLE:CUSTOM:1.0:USER:mixed.inner eq \"DEEP\"", true },
    { USER_FULL, "urn:example:custom:1.0:User:mixed[inner pr]", true },
    { USER_FULL, "urn:example:other:1.0:User:x pr", false },
    { USER_FULL, "urn:example:other:1.0:User:x ne \"y\"", true },
    /* strings with escapes */
    { USER_FULL, "title eq \"Tour \\\"Guide\\\"\"", true },
    { USER_FULL, "title co \"\\\"\"", true },
    { USER_FULL, "locale eq \"caf\\u00e9\"", true },
    { USER_FULL, "locale eq \"CAF\\u00e9\"", true },
    { USER_FULL, "locale eq \"caf\xc3\xa9\"", true },
    { USER_FULL, "locale eq \"caf\\u00c9\"", true }, /* Unicode case folding, as the folded key columns */
    { USER_FULL, "timezone eq \"Emoji/\\ud83d\\ude00\"", true },
    { USER_FULL, "timezone co \"\\uD83D\\uDE00\"", true },
    { USER_FULL, "timezone ew \"\xf0\x9f\x98\x80\"", true },
    /* logic and precedence */
    { USER_FULL, "userName eq \"x\" or userName eq \"bjensen@example.com\"", true },
    { USER_FULL, "userName eq \"x\" and userName pr", false },
    { USER_FULL, "userName eq \"x\" and active eq true or displayName pr", true },
    { USER_FULL, "userName eq \"x\" and (active eq true or displayName pr)", false },
    { USER_FULL, "displayName pr or userName eq \"x\" and active eq false", true },
    { USER_FULL, "(displayName pr or userName eq \"x\") and active eq false", false },
    { USER_FULL, "not (userName eq \"x\")", true },
    { USER_FULL, "not(userName pr)", false },
    { USER_FULL, "NOT (userName pr)", false },
    { USER_FULL, "not (not (userName pr))", true },
    { USER_FULL, "userName pr aNd active pr OR profileUrl pr", true },
    /* RFC 7644 §3.4.2.2 examples */
    { USER_FULL, "title pr", true },
    { USER_FULL, "title pr and userType eq \"Employee\"", true },
    { USER_FULL, "title pr or userType eq \"Intern\"", true },
    { USER_FULL, "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")", true },
    { USER_FULL, "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")", false },
    { USER_FULL, "userType eq \"Employee\" and (emails.type eq \"work\")", true },
    { USER_FULL, "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]", true },
    { USER_FULL, "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]", true },
    /* type mismatches do not match */
    { USER_FULL, "userName eq 5", false },
    { USER_FULL, "userName eq true", false },
    { USER_FULL, "userName gt 5", false },
    { USER_FULL, "userName ne 5", true },
    /* null */
    { USER_FULL, "nickName eq null", false },
    { USER_FULL, "nickName ne null", true },
    { USER_FULL, "profileUrl eq null", true },
    { USER_FULL, "profileUrl ne null", false },
    /* binary is caseExact */
    { USER_FULL, "x509Certificates.value eq \"MIIDQzCC\"", true },
    { USER_FULL, "x509Certificates.value eq \"miidqzcc\"", false },
    /* Okta and Entra ID lookups */
    { USER_FULL, "userName eq \"bjensen@example.com\"", true },
    { USER_FULL, "externalId eq \"Ext-Bjensen\"", true },
    { USER_FULL, "userName eq \"Test_User_dfeef4c5-5681-4387-b016-bdf221e82081\"", false },
    { USER_FULL, "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"", false },

    /* sparse user: empty and absent values */
    { USER_SPARSE, "displayName pr", false },
    { USER_SPARSE, "displayName eq null", true },
    { USER_SPARSE, "displayName eq \"\"", true },
    { USER_SPARSE, "emails pr", false },
    { USER_SPARSE, "name pr", false },
    { USER_SPARSE, "nickName pr", false },
    { USER_SPARSE, "nickName eq null", true },
    { USER_SPARSE, "nickName eq \"x\"", false },
    { USER_SPARSE, "userName ne \"bob\"", true },
    { USER_SPARSE, "emails.value ne \"x\"", true },
    { USER_SPARSE, "emails.value eq \"x\"", false },
    { USER_SPARSE, "emails[type eq \"work\"]", false },
    { USER_SPARSE, "not (emails[type eq \"work\"])", true },
    { USER_SPARSE, "title ne \"x\"", true },
    { USER_SPARSE, "title eq \"x\"", false },
    { USER_SPARSE, "title co \"\"", false },
    { USER_SPARSE, "active eq false", true },
    { USER_SPARSE, "active eq \"False\"", true },
    { USER_SPARSE, "active eq true", false },
    { USER_SPARSE, "not (emails pr)", true },
    { USER_SPARSE, ENT ":department ne \"x\"", true },
    { USER_SPARSE, ENT ":department eq \"x\"", false },
    { USER_SPARSE, "meta.lastModified gt \"2000-01-01T00:00:00Z\"", false },
    { USER_SPARSE, "externalId eq \"Alice-1\"", true }, /* document keys in any case */
    { USER_SPARSE, "userName eq \"ALICE\"", true },

    /* group */
    { GROUP, "displayName eq \"tour guides\"", true },
    { GROUP, "displayName eq \"Tour Guides\"", true },
    { GROUP, "displayName eq \"Tour\"", false },
    { GROUP, "externalId eq \"okta-grp-1\"", true },
    { GROUP, "externalId eq \"OKTA-GRP-1\"", false },
    { GROUP, "id eq \"" GROUP_ID "\"", true },
    { GROUP, "members[value eq \"" BJENSEN_ID "\"]", true },
    { GROUP, "members[value eq \"nope\"]", false },
    { GROUP, "members.value eq \"" MANDY_ID "\"", true },
    { GROUP, "members eq \"" MANDY_ID "\"", true },
    { GROUP, "members[display co \"mandy\" and type pr]", false },
    { GROUP, "members[display co \"babs\" and type eq \"user\"]", true },
    { GROUP, "members pr", true },
    { GROUP, "members[$ref pr]", true },
    { GROUP, "members.$ref sw \"https://\"", true },
    { GROUP, "members.$ref co \"" MANDY_ID "\"", false },
    { GROUP, CORE_GROUP ":displayName eq \"Tour Guides\"", true },
    { GROUP, CORE_USER ":userName pr", false }, /* not a Group schema: unbound, absent */
    { GROUP, "id eq \"" GROUP_ID "\" and members[value eq \"" BJENSEN_ID "\"]", true },
    { GROUP, "id eq \"" GROUP_ID "\" and members[value eq \"00000000-0000-0000-0000-000000000000\"]", false },
    { GROUP, "meta.lastModified ge \"2011-05-13T04:42:34.000Z\"", true },
};
/* clang-format on */

Test(filter_match, table, .init = load_docs, .fini = free_docs)
{
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *c = &match_cases[i];
        struct scim_filter *f = NULL;
        struct scim_error err = { 0 };
        enum status rc = scim_filter_parse(c->filter, &f, &err);
        cr_expect_eq(rc, OK, "parse [%s]: %s", c->filter, err.detail);
        if (rc != OK)
            continue;
        rc = scim_filter_bind(f, doc_rt(c->doc), &err);
        cr_expect_eq(rc, OK, "bind [%s]: %s", c->filter, err.detail);
        if (rc == OK)
            cr_expect_eq(scim_filter_match(f, docs[c->doc]), c->expect, "[%s] on doc %d: want %s",
                         c->filter, c->doc, c->expect ? "match" : "no match");
        scim_filter_free(f);
    }
}

Test(filter_match, unbound_tree_matches_verbatim, .init = load_docs, .fini = free_docs)
{
    /* without bind, paths are looked up in the document as written */
    static const struct match_case cases[] = {
        { USER_FULL, "username eq \"BJENSEN@example.com\"", true },
        { USER_FULL, "emails[type eq \"work\"]", true },
        { USER_FULL, "emails.value ew \"jensen.org\"", true },
        { USER_FULL, "name.givenname eq \"barbara\"", true },
        { USER_FULL, "active eq true", true },
        { USER_FULL, "meta.lastModified gt \"2011-05-13T04:42:34Z\"", true },
        { USER_FULL, "nosuch pr", false },
        { GROUP, "members[value eq \"" MANDY_ID "\"]", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scim_filter *f = NULL;
        struct scim_error err = { 0 };
        cr_assert_eq(scim_filter_parse(cases[i].filter, &f, &err), OK, "%s", err.detail);
        cr_expect_eq(scim_filter_match(f, docs[cases[i].doc]), cases[i].expect, "[%s]",
                     cases[i].filter);
        scim_filter_free(f);
    }
}

Test(filter_match, odd_documents)
{
    struct scim_filter *f =
        parse_bind("emails[type eq \"work\"] or userName eq \"x\"", &scim_resource_user);
    static const char *const texts[] = {
        "{}",
        "{\"emails\": null, \"userName\": null}",
        "{\"emails\": \"x\", \"userName\": 5}",
        "{\"emails\": [1, null, \"s\", [], {}], \"userName\": [\"y\"]}",
        "{\"emails\": {\"type\": [\"home\"]}, \"userName\": {\"value\": \"y\"}}",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *doc = json_loads(texts[i], 0, NULL);
        cr_assert_not_null(doc);
        cr_expect_not(scim_filter_match(f, doc), "%s", texts[i]);
        json_decref(doc);
    }
    json_t *arr = json_array();
    cr_expect_not(scim_filter_match(f, arr));
    cr_expect_not(scim_filter_match(f, NULL));
    json_decref(arr);
    scim_filter_free(f);

    /* a multi-valued element that is an object in the wrong place still matches by value */
    f = parse_bind("userName eq \"y\"", &scim_resource_user);
    json_t *doc = json_loads("{\"userName\": [\"x\", \"Y\"]}", 0, NULL);
    cr_expect(scim_filter_match(f, doc));
    json_decref(doc);
    scim_filter_free(f);
}

Test(filter_match, extension_not_at_top_level, .init = load_docs, .fini = free_docs)
{
    /* enterprise attributes live under their URN key, not at the top level */
    json_t *doc = json_loads("{\"department\": \"Tour Operations\"}", 0, NULL);
    struct scim_filter *f = parse_bind(ENT ":department pr", &scim_resource_user);
    cr_expect_not(scim_filter_match(f, doc));
    cr_expect(scim_filter_match(f, docs[USER_FULL]));
    json_decref(doc);
    scim_filter_free(f);
}

Test(filter_free, null_is_noop)
{
    scim_filter_free(NULL);
}

Test(filter_match, unicode_case_folding)
{
    /* userName is not caseExact: NFC + full case folding beyond ASCII (issue 9, item 4) */
    json_t *doc =
        json_loads("{\"userName\": \"\u00e4rger@example.com\", \"title\": \"Stra\u00dfe\","
                   " \"id\": \"\u00c4\"}",
                   0, NULL);
    cr_assert_not_null(doc);
    struct {
        const char *filter;
        bool match;
    } cases[] = {
        { "userName eq \"\u00c4RGER@EXAMPLE.COM\"", true },  /* ÄRGER */
        { "userName eq \"a\u0308rger@example.com\"", true }, /* NFD spelling */
        { "userName eq \"arger@example.com\"", false },
        { "userName sw \"\u00c4R\"", true },
        { "userName co \"RGER@\"", true },
        { "userName ew \"@EXAMPLE.com\"", true },
        { "userName gt \"\u00c4RGEQ\"", true },
        { "title eq \"STRASSE\"", true }, /* ß folds to ss */
        { "title sw \"STRAS\"", true },
        { "id eq \"\u00e4\"", false }, /* id is caseExact */
        { "id eq \"\u00c4\"", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scim_filter *f = parse_bind(cases[i].filter, &scim_resource_user);
        cr_expect_eq(scim_filter_match(f, doc), cases[i].match, "%s", cases[i].filter);
        scim_filter_free(f);
    }
    json_decref(doc);
}

/* ---- canonical text (what a cursor is bound to) ---------------------------------------- */

static char *canonical_of(const char *text, const struct scim_resource_type *rt)
{
    struct scim_filter *f = parse_bind(text, rt);
    struct buf b;
    buf_init(&b, 0);
    cr_assert_eq(scim_filter_canonical(f, &b), OK);
    scim_filter_free(f);
    char *s = buf_take(&b);
    buf_release(&b);
    return s;
}

Test(filter_canonical, spellings_of_one_filter_agree)
{
    const char *same[] = {
        "userName eq \"bjensen\" and (emails[type eq \"work\"] or active eq true)",
        "USERNAME EQ \"bjensen\"   AND ((Emails[Type Eq \"work\"]) Or active eq true)",
        CORE_USER ":userName eq \"bjensen\" and (emails[type eq \"work\"] or ACTIVE eq true)",
    };
    char *first = canonical_of(same[0], &scim_resource_user);
    cr_assert_str_eq(first, "(and (eq " CORE_USER ":userName s7:bjensen) (or (in " CORE_USER
                            ":emails (eq " CORE_USER ":emails.type s4:work)) (eq " CORE_USER
                            ":active true)))");
    for (size_t i = 1; i < sizeof(same) / sizeof(same[0]); i++) {
        char *c = canonical_of(same[i], &scim_resource_user);
        cr_expect_str_eq(c, first, "spelling %zu", i);
        free(c);
    }
    free(first);
}

Test(filter_canonical, different_filters_differ)
{
    const char *texts[] = {
        "userName eq \"a\"",
        "userName eq \"A\"",
        "userName eq \"a b\"",
        "userName sw \"a\"",
        "userName pr",
        "not (userName pr)",
        "displayName eq \"a\" and displayName eq \"b\"",
        "displayName eq \"a\" or displayName eq \"b\"",
        "displayName eq \"a\\\" s1:b\"",
        "displayName eq \"a\" and (displayName eq \"b\" or displayName eq \"c\")",
        "(displayName eq \"a\" and displayName eq \"b\") or displayName eq \"c\"",
        ENT ":department eq \"x\"",
        "urn:unknown:ext:dept eq \"x\"",
        "meta.lastModified gt \"2020-01-01T00:00:00Z\"",
        "emails[value eq 1]",
        "emails[value eq null]",
        "emails[value eq false]",
    };
    size_t n = sizeof(texts) / sizeof(texts[0]);
    char *c[sizeof(texts) / sizeof(texts[0])];
    for (size_t i = 0; i < n; i++)
        c[i] = canonical_of(texts[i], &scim_resource_user);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_expect_str_neq(c[i], c[j], "'%s' vs '%s'", texts[i], texts[j]);
    for (size_t i = 0; i < n; i++)
        free(c[i]);
}

Test(filter_canonical, null_filter_is_empty)
{
    struct buf b;
    buf_init(&b, 0);
    cr_assert_eq(scim_filter_canonical(NULL, &b), OK);
    cr_assert_eq(b.len, 0);
    buf_release(&b);
}
