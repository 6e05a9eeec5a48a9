/* SPDX-License-Identifier: Apache-2.0 */
/*
 * members_test.c - tests for src/scim/members.c: how a Group PatchOp (after
 * scim_quirks_patch, as the HTTP layer runs it) splits into member row
 * actions and the operations left for the document.  JSON is written with
 * single quotes; J() turns them into double quotes.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "scim/members.h"
#include "scim/patch.h"
#include "scim/quirks.h"
#include "scim/schema.h"

#include "core/str.h"

#define PATCH_OP "urn:ietf:params:scim:api:messages:2.0:PatchOp"

static json_t *J(const char *text)
{
    char *s = str_dup(text);
    for (char *p = s; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    json_error_t e;
    json_t *v = json_loads(s, 0, &e);
    cr_assert_not_null(v, "bad test JSON (%s): %s", e.text, s);
    free(s);
    return v;
}

/* quirks + parse + plan; *patch must be freed by the caller when OK. */
static enum status plan(const char *ops, struct scim_patch **patch, struct scim_members_plan *out,
                        struct scim_error *err)
{
    json_t *body = json_object();
    json_object_set_new(body, "schemas", json_pack("[s]", PATCH_OP));
    json_object_set_new(body, "Operations", J(ops));
    *patch = NULL;
    memset(out, 0, sizeof(*out));
    enum status rc = scim_quirks_patch(&scim_resource_group, body, err);
    if (rc == OK)
        rc = scim_patch_parse(&scim_resource_group, body, patch, err);
    json_decref(body);
    if (rc != OK)
        return rc;
    rc = scim_members_plan(*patch, out, err);
    if (rc != OK) {
        cr_expect_eq(out->n_actions, 0, "a failed plan is empty");
        cr_expect_null(out->rest.ops);
        scim_patch_free(*patch);
        *patch = NULL;
    }
    return rc;
}

/* "add:a,b|remove:c|clear|replace:" */
static char *describe(const struct scim_members_plan *p)
{
    static const char *const names[] = { "add", "remove", "replace", "clear" };
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < p->n_actions; i++) {
        buf_printf(&b, "%s%s", i ? "|" : "", names[p->actions[i].kind]);
        if (p->actions[i].kind != SCIM_MEMBERS_CLEAR)
            buf_putc(&b, ':');
        for (size_t k = 0; k < p->actions[i].n_ids; k++)
            buf_printf(&b, "%s%s", k ? "," : "", p->actions[i].ids[k]);
    }
    char *s = buf_take(&b);
    buf_release(&b);
    return s ? s : str_dup("");
}

struct plan_case {
    const char *name;
    const char *ops;
    enum status want;
    const char *actions; /* describe() of the plan */
    size_t rest;         /* operations left for the document */
};

/* clang-format off */
static const struct plan_case cases[] = {
    { "add by path", "[{'op':'add','path':'members','value':[{'value':'a'},{'value':'b'}]}]", OK, "add:a,b", 0 },
    { "add one object", "[{'op':'add','path':'members','value':{'value':'a'}}]", OK, "add:a", 0 },
    { "add none", "[{'op':'add','path':'members','value':[]}]", OK, "add:", 0 },
    { "replace by path", "[{'op':'replace','path':'members','value':[{'value':'c'}]}]", OK, "replace:c", 0 },
    { "replace with null clears", "[{'op':'replace','path':'members','value':null}]", OK, "clear", 0 },
    { "remove all", "[{'op':'remove','path':'members'}]", OK, "clear", 0 },
    { "remove by filter", "[{'op':'remove','path':'members[value eq \\'a\\']'}]", OK, "remove:a", 0 },
    { "remove by filter naming no possible id", "[{'op':'remove','path':'members[value eq \\'\\' or value eq \\'a\\']'}]", OK, "remove:a", 0 },
    { "remove by or filter", "[{'op':'remove','path':'members[value eq \\'a\\' or value eq \\'b\\']'}]", OK, "remove:a,b", 0 },
    { "Entra remove with a value array", "[{'op':'Remove','path':'members','value':[{'value':'a'},{'value':'b'}]}]", OK, "remove:a|remove:b", 0 },
    { "Entra remove with an empty array is refused by the parser", "[{'op':'Remove','path':'members','value':[]}]", ERR_INVALID_VALUE, NULL, 0 },
    { "Entra Add", "[{'op':'Add','path':'members','value':[{'value':'a'}]}]", OK, "add:a", 0 },
    { "no-path value with members", "[{'op':'replace','value':{'displayName':'X','members':[{'value':'a'}]}}]", OK, "replace:a", 1 },
    { "no-path value with Members in another case", "[{'op':'add','value':{'Members':[{'value':'a'}]}}]", OK, "add:a", 1 },
    { "no-path value with members under the core URN", "[{'op':'replace','value':{'urn:ietf:params:scim:schemas:core:2.0:Group':{'members':[{'value':'q'}],'displayName':'D'}}}]", OK, "replace:q", 1 },
    { "no-path value with members at the top and under the core URN", "[{'op':'add','value':{'members':[{'value':'a'}],'urn:ietf:params:scim:schemas:core:2.0:group':{'Members':[{'value':'b'}]}}}]", OK, "add:a|add:b", 1 },
    { "no-path replace of members null clears", "[{'op':'replace','value':{'members':null}}]", OK, "clear", 1 },
    { "order kept, other ops left", "[{'op':'add','path':'members','value':[{'value':'a'}]},"
      "{'op':'replace','path':'displayName','value':'Y'},{'op':'remove','path':'members[value eq \\'b\\']'},"
      "{'op':'replace','path':'members','value':[{'value':'c'}]}]", OK, "add:a|remove:b|replace:c", 1 },
    { "Value key in another case", "[{'op':'add','path':'members','value':[{'Value':'a'}]}]", OK, "add:a", 0 },
    { "only other ops", "[{'op':'replace','path':'displayName','value':'Y'}]", OK, "", 1 },
    { "add by filter", "[{'op':'add','path':'members[value eq \\'a\\']','value':[{'value':'a'}]}]", ERR_INVALID_PATH, NULL, 0 },
    { "replace by filter", "[{'op':'replace','path':'members[value eq \\'a\\']','value':{'value':'b'}}]", ERR_INVALID_PATH, NULL, 0 },
    { "sub-attribute", "[{'op':'replace','path':'members.value','value':'a'}]", ERR_INVALID_PATH, NULL, 0 },
    { "filter on display", "[{'op':'remove','path':'members[display eq \\'a\\']'}]", ERR_INVALID_PATH, NULL, 0 },
    { "filter with and", "[{'op':'remove','path':'members[value eq \\'a\\' and type eq \\'User\\']'}]", ERR_INVALID_PATH, NULL, 0 },
    { "filter ne", "[{'op':'remove','path':'members[value ne \\'a\\']'}]", ERR_INVALID_PATH, NULL, 0 },
    { "filter on a number", "[{'op':'remove','path':'members[value eq 1]'}]", ERR_INVALID_PATH, NULL, 0 },
    { "member without value", "[{'op':'add','path':'members','value':[{'display':'a'}]}]", ERR_INVALID_VALUE, NULL, 0 },
    { "member a bare string", "[{'op':'add','path':'members','value':['a']}]", ERR_INVALID_VALUE, NULL, 0 },
    { "member value a number", "[{'op':'add','path':'members','value':[{'value':1}]}]", ERR_INVALID_VALUE, NULL, 0 },
    { "member value empty", "[{'op':'add','path':'members','value':[{'value':''}]}]", ERR_INVALID_VALUE, NULL, 0 },
    { "member value too long", "[{'op':'add','path':'members','value':[{'value':'"
      "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789x'}]}]",
      ERR_INVALID_VALUE, NULL, 0 },
    { "second member bad", "[{'op':'add','path':'members','value':[{'value':'a'},{'value':null}]}]", ERR_INVALID_VALUE, NULL, 0 },
    { "no-path add of members null", "[{'op':'add','value':{'members':null}}]", ERR_INVALID_VALUE, NULL, 0 },
    { "later op bad", "[{'op':'add','path':'members','value':[{'value':'a'}]},{'op':'replace','path':'members.display','value':'x'}]", ERR_INVALID_PATH, NULL, 0 },
};
/* clang-format on */

Test(members, plan_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct plan_case *c = &cases[i];
        struct scim_patch *patch = NULL;
        struct scim_members_plan p;
        struct scim_error err = { OK, "" };
        enum status rc = plan(c->ops, &patch, &p, &err);
        cr_expect_eq(rc, c->want, "%s: status %s (%s), want %s", c->name, status_name(rc),
                     err.detail, status_name(c->want));
        if (rc != OK) {
            cr_expect(err.detail[0] != '\0', "%s: failures say why", c->name);
            continue;
        }
        char *got = describe(&p);
        cr_expect_str_eq(got, c->actions, "%s", c->name);
        cr_expect_eq(p.rest.n_ops, c->rest, "%s: rest %zu", c->name, p.rest.n_ops);
        free(got);
        scim_members_plan_release(&p);
        scim_patch_free(patch);
    }
}

Test(members, rest_value_loses_members_and_applies)
{
    struct scim_patch *patch = NULL;
    struct scim_members_plan p;
    struct scim_error err = { OK, "" };
    cr_assert_eq(plan("[{'op':'replace','value':{'displayName':'New','members':[{'value':'a'}]}}]",
                      &patch, &p, &err),
                 OK, "%s", err.detail);
    json_t *doc = J("{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],'id':'g1',"
                    "'displayName':'Old'}");
    cr_assert_eq(scim_patch_apply(&p.rest, &scim_resource_group, &doc, &err), OK, "%s", err.detail);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "displayName")), "New");
    cr_expect_null(json_object_get(doc, "members"), "members never reach the document");
    /* the patch itself is untouched: its value still carries members */
    cr_expect_not_null(json_object_get(patch->ops[0].value, "members"));
    json_decref(doc);
    scim_members_plan_release(&p);
    scim_patch_free(patch);
}

Test(members, value_ids_for_post_and_put)
{
    struct scim_members_action a = { 0 };
    json_t *v = J("[{'value':'a','display':'A'},{'value':'b','$ref':'x'}]");
    cr_assert_eq(scim_members_value_ids(v, &a, NULL), OK);
    cr_assert_eq(a.n_ids, 2);
    cr_expect_str_eq(a.ids[0], "a");
    cr_expect_str_eq(a.ids[1], "b");
    scim_members_action_release(&a);
    cr_expect_eq(a.n_ids, 0);
    json_decref(v);
    scim_members_plan_release(&(struct scim_members_plan){ 0 });
}

Test(members, id_with_nul_refused)
{
    /* jansson refuses \u0000 at the JSON edge; the planner does not rely on it */
    json_t *member = json_object();
    json_object_set_new(member, "value", json_stringn("a\0b", 3));
    json_t *body = json_pack("{s:[s],s:[{s:s,s:s,s:[o]}]}", "schemas", PATCH_OP, "Operations", "op",
                             "add", "path", "members", "value", member);
    struct scim_patch *patch = NULL;
    struct scim_error err = { OK, "" };
    cr_assert_eq(scim_patch_parse(&scim_resource_group, body, &patch, &err), OK, "%s", err.detail);
    struct scim_members_plan p;
    cr_expect_eq(scim_members_plan(patch, &p, &err), ERR_INVALID_VALUE);
    scim_patch_free(patch);
    json_decref(body);
}
