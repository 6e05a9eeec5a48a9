/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbound_test.c - tests for src/scim/outbound.c: the User body a user's
 * state becomes (enterprise extension included), the minimal PatchOp between
 * two bodies, and a pushed group's bodies.  JSON is written with single
 * quotes; J() turns them into double quotes.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "scim/outbound.h"

#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

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

static void assert_json(const char *got, const char *want_single_quoted)
{
    cr_assert_not_null(got);
    json_t *g = json_loads(got, 0, NULL), *w = J(want_single_quoted);
    cr_assert_not_null(g, "not JSON: %s", got);
    char *ws = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert(json_equal(g, w), "got %s\nwant %s", got, ws);
    free(ws);
    json_decref(g);
    json_decref(w);
}

static const struct scim_outbound_user ada = {
    .id = "u-1",
    .user_name = "ada@example.com",
    .display_name = "Ada L",
    .given_name = "Ada",
    .family_name = "Lovelace",
    .email = "ada@example.com",
    .active = true,
};

Test(outbound_user, body_has_core_attributes_and_scimd_id_as_external_id)
{
    char *b = scim_outbound_user_body(&ada);
    assert_json(b, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'externalId':'u-1',"
                   "'userName':'ada@example.com','displayName':'Ada L','name':{'givenName':'Ada',"
                   "'familyName':'Lovelace'},'emails':[{'value':'ada@example.com','type':'work',"
                   "'primary':true}],'active':true}");
    free(b);
}

Test(outbound_user, empty_attributes_are_left_out)
{
    struct scim_outbound_user u = {
        .id = "u-2", .user_name = "bob", .display_name = "", .active = false
    };
    char *b = scim_outbound_user_body(&u);
    assert_json(b, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'externalId':'u-2',"
                   "'userName':'bob','active':false}");
    free(b);
}

Test(outbound_user, enterprise_attributes_go_under_the_extension_and_its_schema)
{
    struct scim_outbound_user u = ada;
    json_t *ent = J("{'department':'R&D','employeeNumber':'42','manager':{'value':'m-7'}}");
    u.enterprise = ent;
    char *b = scim_outbound_user_body(&u);
    json_t *v = json_loads(b, 0, NULL);
    cr_assert_not_null(v);
    json_t *schemas = json_object_get(v, "schemas");
    cr_assert_eq(json_array_size(schemas), 2);
    cr_assert_str_eq(json_string_value(json_array_get(schemas, 1)), ENT);
    cr_assert(json_equal(json_object_get(v, ENT), ent));
    json_decref(v);
    free(b);
    /* an empty extension is no extension */
    json_decref(ent);
    ent = json_object();
    u.enterprise = ent;
    b = scim_outbound_user_body(&u);
    cr_assert_null(strstr(b, "enterprise"), "%s", b);
    free(b);
    json_decref(ent);
}

Test(outbound_user, equal_states_give_equal_text)
{
    struct scim_outbound_user u = ada;
    json_t *e1 = J("{'department':'R&D','costCenter':'7'}");
    json_t *e2 = J("{'costCenter':'7','department':'R&D'}");
    u.enterprise = e1;
    char *a = scim_outbound_user_body(&u);
    u.enterprise = e2;
    char *b = scim_outbound_user_body(&u);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    json_decref(e1);
    json_decref(e2);
}

static char *patch(const char *sent, const char *want)
{
    char *out = NULL;
    json_t *s = sent ? J(sent) : NULL, *w = J(want);
    char *st = s ? json_dumps(s, JSON_COMPACT) : NULL, *wt = json_dumps(w, JSON_COMPACT);
    cr_assert_eq(scim_outbound_user_patch(st, wt, &out), OK);
    free(st);
    free(wt);
    json_decref(s);
    json_decref(w);
    return out;
}

Test(outbound_patch, nothing_differs_gives_no_patch)
{
    char *p = patch("{'schemas':['a'],'userName':'x','active':true}",
                    "{'schemas':['b'],'userName':'x','active':true}");
    cr_assert_null(p, "schemas are never patched: %s", p);
}

Test(outbound_patch, only_changed_attributes_are_replaced)
{
    char *p = patch("{'userName':'x','displayName':'A','active':true}",
                    "{'userName':'x','displayName':'B','active':false}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','value':{'displayName':'B','active':false}}]}");
    free(p);
}

Test(outbound_patch, first_update_after_linking_sends_everything)
{
    char *p = patch(NULL, "{'schemas':['s'],'userName':'x','active':true}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','value':{'userName':'x','active':true}}]}");
    free(p);
}

Test(outbound_patch, a_dropped_attribute_is_removed_by_path)
{
    char *p = patch("{'userName':'x','displayName':'A','name':{'givenName':'G','familyName':'F'}}",
                    "{'userName':'x','name':{'familyName':'F'}}");
    assert_json(p,
                "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                "{'op':'remove','path':'name.givenName'},{'op':'remove','path':'displayName'}]}");
    free(p);
}

Test(outbound_patch, complex_attributes_patch_only_changed_sub_attributes)
{
    char *p = patch("{'name':{'givenName':'G','familyName':'F'}}",
                    "{'name':{'givenName':'H','familyName':'F'}}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','value':{'name':{'givenName':'H'}}}]}");
    free(p);
}

Test(outbound_patch, enterprise_changes_use_extension_paths)
{
    char *p = patch("{'userName':'x','" ENT "':{'department':'R&D','employeeNumber':'1',"
                    "'manager':{'value':'m1'}}}",
                    "{'userName':'x','" ENT "':{'department':'Ops','manager':{'value':'m2'}}}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','value':{'" ENT "':{'department':'Ops','manager':{'value':"
                   "'m2'}}}},{'op':'remove','path':'" ENT ":employeeNumber'}]}");
    free(p);
}

Test(outbound_patch, a_manager_sub_attribute_removed_uses_a_dotted_extension_path)
{
    char *p = patch("{'" ENT "':{'manager':{'value':'m1','displayName':'Boss'}}}",
                    "{'" ENT "':{'manager':{'value':'m1'}}}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'remove','path':'" ENT ":manager.displayName'}]}");
    free(p);
}

Test(outbound_patch, a_new_or_dropped_extension_is_sent_or_removed_whole)
{
    char *p = patch("{'userName':'x'}", "{'userName':'x','" ENT "':{'department':'D'}}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','value':{'" ENT "':{'department':'D'}}}]}");
    free(p);
    p = patch("{'userName':'x','" ENT "':{'department':'D'}}", "{'userName':'x'}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'remove','path':'" ENT "'}]}");
    free(p);
}

Test(outbound_patch, multi_valued_attributes_are_replaced_whole)
{
    char *p = patch("{'emails':[{'value':'a@x','type':'work','primary':true}]}",
                    "{'emails':[{'value':'b@x','type':'work','primary':true}]}");
    assert_json(p, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','value':{'emails':[{'value':'b@x','type':'work',"
                   "'primary':true}]}}]}");
    free(p);
}

Test(outbound_patch, bodies_that_are_not_objects_are_refused)
{
    char *out = (char *)1;
    cr_assert_eq(scim_outbound_user_patch("[1]", "{}", &out), ERR_INVALID_SYNTAX);
    cr_assert_null(out);
    cr_assert_eq(scim_outbound_user_patch("{}", "not json", &out), ERR_INVALID_SYNTAX);
    cr_assert_eq(scim_outbound_user_patch("{}", NULL, &out), ERR_INVALID_SYNTAX);
}

Test(outbound_group, an_empty_group_has_no_members_attribute)
{
    char *b = scim_outbound_group_body("g-1", "Engineering", NULL, 0);
    assert_json(b, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],"
                   "'externalId':'g-1','displayName':'Engineering'}");
    free(b);
}

Test(outbound_group, a_full_group_lists_its_remote_member_ids)
{
    const char *ids[] = { "r1", "r2" };
    char *b = scim_outbound_group_body("g-1", "Eng", ids, 2);
    assert_json(b, "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],"
                   "'externalId':'g-1','displayName':'Eng','members':[{'value':'r1'},"
                   "{'value':'r2'}]}");
    free(b);
}

Test(outbound_group, rename_replaces_display_name)
{
    char *b = scim_outbound_group_rename("Eng \"core\"");
    assert_json(b, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],'Operations':["
                   "{'op':'replace','path':'displayName','value':'Eng \\'core\\''}]}");
    free(b);
}
