/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quirks_test.c - tests for src/scim/quirks.c: each rewrite in isolation,
 * then the full request bodies Microsoft Entra ID and Okta document, each
 * compared with json_equal against the exact RFC 7644 form expected.
 *
 * Sources of the request shapes:
 *  [KI]  Microsoft, "Known issues and resolutions with SCIM 2.0 protocol
 *        compliance of the Microsoft Entra user provisioning service"
 *        (samples "without feature flag" / "with feature flag" aadOptscim062020)
 *  [TUT] Microsoft, "Tutorial: Develop and plan provisioning for a SCIM
 *        endpoint in Microsoft Entra ID" (User/Group operations, Example 5)
 *  [OKTA] Okta, "SCIM 2.0 Protocol Reference" (Okta and SCIM Version 2.0)
 *
 * JSON is written with single quotes; J() turns them into double quotes.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/patch.h"
#include "scim/quirks.h"
#include "scim/schema.h"

#include "core/str.h"

static json_t *J(const char *text)
{
    char *s = str_dup(text);
    cr_assert_not_null(s);
    for (char *p = s; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    cr_assert_not_null(v, "bad test JSON (%s): %s", e.text, s);
    free(s);
    return v;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) : str_dup("(null)");
}

#define PATCH_OP  "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define USER_URN  "urn:ietf:params:scim:schemas:core:2.0:User"
#define GROUP_URN "urn:ietf:params:scim:schemas:core:2.0:Group"
#define ENT       "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PO        "'schemas':['" PATCH_OP "']"
#define MSG(ops)  "{" PO ",'Operations':" ops "}"

#define USR &scim_resource_user
#define GRP &scim_resource_group

struct quirk_case {
    const char *name;
    const struct scim_resource_type *rt;
    const char *in;  /* whole message */
    const char *out; /* whole message after scim_quirks_patch */
    bool parses;     /* does scim_patch_parse accept the result? */
};

/* clang-format off */
static const struct quirk_case cases[] = {
    /* -- op names -- */
    { "Replace lowercased", USR,
      MSG("[{'op':'Replace','path':'displayName','value':'x'}]"),
      MSG("[{'op':'replace','path':'displayName','value':'x'}]"), true },
    { "ADD lowercased", USR,
      MSG("[{'op':'ADD','path':'displayName','value':'x'}]"),
      MSG("[{'op':'add','path':'displayName','value':'x'}]"), true },
    { "Remove lowercased", USR,
      MSG("[{'op':'Remove','path':'displayName'}]"),
      MSG("[{'op':'remove','path':'displayName'}]"), true },
    { "unknown op lowercased and left to the parser", USR,
      MSG("[{'op':'Move','path':'displayName'}]"),
      MSG("[{'op':'move','path':'displayName'}]"), false },
    { "op not a string left alone", USR,
      MSG("[{'op':7,'path':'displayName'}]"),
      MSG("[{'op':7,'path':'displayName'}]"), false },
    { "op missing left alone", USR,
      MSG("[{'path':'displayName','value':'x'}]"),
      MSG("[{'path':'displayName','value':'x'}]"), false },
    { "structural keys spelt canonically", USR,
      MSG("[{'Op':'Add','Path':'nickName','Value':'x'}]"),
      MSG("[{'op':'add','path':'nickName','value':'x'}]"), true },
    { "operation not an object kept", USR,
      MSG("['add',{'op':'Add','path':'nickName','value':'x'}]"),
      MSG("['add',{'op':'add','path':'nickName','value':'x'}]"), false },
    { "Operations key spelt canonically", USR,
      "{" PO ",'operations':[{'op':'Add','path':'nickName','value':'x'}]}",
      MSG("[{'op':'add','path':'nickName','value':'x'}]"), true },

    /* -- paths -- */
    { "core URN path prefix stripped", USR,
      MSG("[{'op':'replace','path':'" USER_URN ":userName','value':'x'}]"),
      MSG("[{'op':'replace','path':'userName','value':'x'}]"), true },
    { "core URN prefix in any case", USR,
      MSG("[{'op':'replace','path':'URN:IETF:params:scim:schemas:core:2.0:user:name.givenName','value':'x'}]"),
      MSG("[{'op':'replace','path':'name.givenName','value':'x'}]"), true },
    { "core URN prefix before a value filter", USR,
      MSG("[{'op':'replace','path':'" USER_URN ":emails[type eq \\'work\\'].value','value':'x'}]"),
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'x'}]"), true },
    { "extension URN path kept", USR,
      MSG("[{'op':'replace','path':'" ENT ":department','value':'x'}]"),
      MSG("[{'op':'replace','path':'" ENT ":department','value':'x'}]"), true },
    { "bare extension attribute qualified", USR,
      MSG("[{'op':'replace','path':'department','value':'x'}]"),
      MSG("[{'op':'replace','path':'" ENT ":department','value':'x'}]"), true },
    { "bare extension sub-attribute qualified", USR,
      MSG("[{'op':'replace','path':'manager.value','value':'m1'}]"),
      MSG("[{'op':'replace','path':'" ENT ":manager.value','value':'m1'}]"), true },
    { "group core URN stripped", GRP,
      MSG("[{'op':'replace','path':'" GROUP_URN ":displayName','value':'x'}]"),
      MSG("[{'op':'replace','path':'displayName','value':'x'}]"), true },
    { "user URN on a group left alone", GRP,
      MSG("[{'op':'replace','path':'" USER_URN ":userName','value':'x'}]"),
      MSG("[{'op':'replace','path':'" USER_URN ":userName','value':'x'}]"), false },
    { "unknown path left alone", USR,
      MSG("[{'op':'replace','path':'nosuch','value':'True'}]"),
      MSG("[{'op':'replace','path':'nosuch','value':'True'}]"), false },
    { "broken path left alone", USR,
      MSG("[{'op':'replace','path':'emails[type eq','value':'True'}]"),
      MSG("[{'op':'replace','path':'emails[type eq','value':'True'}]"), false },
    { "path naming a whole extension", USR,
      MSG("[{'op':'Add','path':'" ENT "','value':{'department':'x','manager':'m1'}}]"),
      MSG("[{'op':'add','value':{'" ENT "':{'department':'x','manager':{'value':'m1'}}}}]"), true },

    /* -- booleans as strings, wherever the schema says boolean -- */
    { "False on a boolean path", USR,
      MSG("[{'op':'replace','path':'active','value':'False'}]"),
      MSG("[{'op':'replace','path':'active','value':false}]"), true },
    { "TRUE on a boolean path", USR,
      MSG("[{'op':'replace','path':'active','value':'TRUE'}]"),
      MSG("[{'op':'replace','path':'active','value':true}]"), true },
    { "other words left alone", USR,
      MSG("[{'op':'replace','path':'active','value':'yes'}]"),
      MSG("[{'op':'replace','path':'active','value':'yes'}]"), true },
    { "True on a string attribute left alone", USR,
      MSG("[{'op':'replace','path':'title','value':'True'}]"),
      MSG("[{'op':'replace','path':'title','value':'True'}]"), true },
    { "boolean sub-attribute behind a filter", USR,
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\'].primary','value':'True'}]"),
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\'].primary','value':true}]"), true },
    { "boolean sub-attribute in elements", USR,
      MSG("[{'op':'add','path':'emails','value':[{'value':'a@x','primary':'true'}]}]"),
      MSG("[{'op':'add','path':'emails','value':[{'value':'a@x','primary':true}]}]"), true },
    { "boolean sub-attribute in a filtered element", USR,
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\']','value':{'value':'a@x','primary':'False'}}]"),
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\']','value':{'value':'a@x','primary':false}}]"), true },
    { "boolean in a no-path value", USR,
      MSG("[{'op':'replace','value':{'active':'False'}}]"),
      MSG("[{'op':'replace','value':{'active':false}}]"), true },
    { "boolean in no-path elements", USR,
      MSG("[{'op':'replace','value':{'emails':[{'value':'a@x','primary':'True'}]}}]"),
      MSG("[{'op':'replace','value':{'emails':[{'value':'a@x','primary':true}]}}]"), true },
    { "boolean true stays", USR,
      MSG("[{'op':'replace','value':{'active':true}}]"),
      MSG("[{'op':'replace','value':{'active':true}}]"), true },

    /* -- manager and other single-valued shapes -- */
    { "manager bare string", USR,
      MSG("[{'op':'replace','path':'" ENT ":manager','value':'m1'}]"),
      MSG("[{'op':'replace','path':'" ENT ":manager','value':{'value':'m1'}}]"), true },
    { "manager bare string in an extension object", USR,
      MSG("[{'op':'replace','value':{'" ENT "':{'manager':'m1','department':'D'}}}]"),
      MSG("[{'op':'replace','value':{'" ENT "':{'manager':{'value':'m1'},'department':'D'}}}]"), true },
    { "manager empty string left for validation", USR,
      MSG("[{'op':'replace','path':'" ENT ":manager','value':''}]"),
      MSG("[{'op':'replace','path':'" ENT ":manager','value':''}]"), true },
    { "manager object kept", USR,
      MSG("[{'op':'replace','path':'" ENT ":manager','value':{'value':''}}]"),
      MSG("[{'op':'replace','path':'" ENT ":manager','value':{'value':''}}]"), true },
    { "manager one-element array unwrapped", USR,
      MSG("[{'op':'replace','path':'" ENT ":manager','value':[{'value':'m1'}]}]"),
      MSG("[{'op':'replace','path':'" ENT ":manager','value':{'value':'m1'}}]"), true },
    { "simple attribute as a one-element array of value", USR,
      MSG("[{'op':'Add','path':'nickName','value':[{'value':'Babs'}]}]"),
      MSG("[{'op':'add','path':'nickName','value':'Babs'}]"), true },
    { "simple attribute as a value object", USR,
      MSG("[{'op':'Add','path':'nickName','value':{'value':'Babs'}}]"),
      MSG("[{'op':'add','path':'nickName','value':'Babs'}]"), true },
    { "multi-valued arrays kept", USR,
      MSG("[{'op':'add','path':'emails','value':[{'value':'a@x'}]}]"),
      MSG("[{'op':'add','path':'emails','value':[{'value':'a@x'}]}]"), true },
    { "two-element array on a single-valued attribute left for validation", USR,
      MSG("[{'op':'add','path':'nickName','value':['a','b']}]"),
      MSG("[{'op':'add','path':'nickName','value':['a','b']}]"), true },

    /* -- keys of a no-path value -- */
    { "core URN key stripped", USR,
      MSG("[{'op':'replace','value':{'" USER_URN ":userName':'x'}}]"),
      MSG("[{'op':'replace','value':{'userName':'x'}}]"), true },
    { "extension URN key moved under the extension", USR,
      MSG("[{'op':'replace','value':{'" ENT ":department':'D'}}]"),
      MSG("[{'op':'replace','value':{'" ENT "':{'department':'D'}}}]"), true },
    { "extension keys merged with the extension object", USR,
      MSG("[{'op':'replace','value':{'" ENT "':{'division':'V'},'" ENT ":department':'D'}}]"),
      MSG("[{'op':'replace','value':{'" ENT "':{'division':'V','department':'D'}}}]"), true },
    { "dotted key nested", USR,
      MSG("[{'op':'replace','value':{'name.givenName':'A'}}]"),
      MSG("[{'op':'replace','value':{'name':{'givenName':'A'}}}]"), true },
    { "dotted keys merged with an object", USR,
      MSG("[{'op':'replace','value':{'name':{'formatted':'A B'},'name.givenName':'A','name.familyName':'B'}}]"),
      MSG("[{'op':'replace','value':{'name':{'formatted':'A B','givenName':'A','familyName':'B'}}}]"), true },
    { "qualified dotted key", USR,
      MSG("[{'op':'replace','value':{'" USER_URN ":name.familyName':'B'}}]"),
      MSG("[{'op':'replace','value':{'name':{'familyName':'B'}}}]"), true },
    { "qualified extension dotted key", USR,
      MSG("[{'op':'replace','value':{'" ENT ":manager.value':'m1'}}]"),
      MSG("[{'op':'replace','value':{'" ENT "':{'manager':{'value':'m1'}}}}]"), true },
    { "bare extension key moved", USR,
      MSG("[{'op':'replace','value':{'manager':'m1','title':'T'}}]"),
      MSG("[{'op':'replace','value':{'" ENT "':{'manager':{'value':'m1'}},'title':'T'}}]"), true },
    { "unknown URN key kept", USR,
      MSG("[{'op':'add','value':{'urn:example:ext:1.0:Thing':{'k':'True'}}}]"),
      MSG("[{'op':'add','value':{'urn:example:ext:1.0:Thing':{'k':'True'}}}]"), true },
    { "unknown key kept", USR,
      MSG("[{'op':'add','value':{'foo':'True'}}]"),
      MSG("[{'op':'add','value':{'foo':'True'}}]"), true },

    /* -- remove with a value (Entra group members) -- */
    { "remove one member", GRP,
      MSG("[{'op':'Remove','path':'members','value':[{'value':'a'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\']'}]"), true },
    { "remove two members", GRP,
      MSG("[{'op':'remove','path':'members','value':[{'value':'a'},{'value':'b','display':'B'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\']'},{'op':'remove','path':'members[value eq \\'b\\']'}]"), true },
    { "remove member ids escaped", GRP,
      MSG("[{'op':'remove','path':'members','value':[{'value':'a\\'b\\\\c'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\\\\\'b\\\\\\\\c\\']'}]"), true },
    { "remove member id with a control character", GRP,
      MSG("[{'op':'remove','path':'members','value':[{'value':'a\\nb'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\\\u000ab\\']'}]"), true },
    { "remove member as a single object", GRP,
      MSG("[{'op':'remove','path':'members','value':{'value':'a'}}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\']'}]"), true },
    { "remove member as bare strings", GRP,
      MSG("[{'op':'remove','path':'members','value':['a']}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\']'}]"), true },
    { "remove without value stays remove-all", GRP,
      MSG("[{'op':'remove','path':'members'}]"),
      MSG("[{'op':'remove','path':'members'}]"), true },
    { "remove with an empty list left for the parser", GRP,
      MSG("[{'op':'remove','path':'members','value':[]}]"),
      MSG("[{'op':'remove','path':'members','value':[]}]"), false },
    { "remove with elements naming no value left for the parser", GRP,
      MSG("[{'op':'remove','path':'members','value':[{'value':'a'},{'display':'x'}]}]"),
      MSG("[{'op':'remove','path':'members','value':[{'value':'a'},{'display':'x'}]}]"), false },
    { "remove with a filter path and a value left alone", GRP,
      MSG("[{'op':'remove','path':'members[value eq \\'a\\']','value':[{'value':'a'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'a\\']','value':[{'value':'a'}]}]"), true },
    { "remove emails by value", USR,
      MSG("[{'op':'remove','path':'emails','value':[{'value':'a@x','type':'work'}]}]"),
      MSG("[{'op':'remove','path':'emails[value eq \\'a@x\\']'}]"), true },
    { "remove of a single-valued attribute with a value left alone", USR,
      MSG("[{'op':'remove','path':'title','value':'x'}]"),
      MSG("[{'op':'remove','path':'title','value':'x'}]"), true },
    { "removal expanded among other operations", GRP,
      MSG("[{'op':'Add','path':'members','value':[{'value':'c'}]},"
          "{'op':'Remove','path':'members','value':[{'value':'a'},{'value':'b'}]},"
          "{'op':'Replace','path':'displayName','value':'D'}]"),
      MSG("[{'op':'add','path':'members','value':[{'value':'c'}]},"
          "{'op':'remove','path':'members[value eq \\'a\\']'},{'op':'remove','path':'members[value eq \\'b\\']'},"
          "{'op':'replace','path':'displayName','value':'D'}]"), true },

    /* -- full Microsoft Entra ID samples -- */
    /* [KI] Requests made to disable users: without flag -> exactly the with-flag body */
    { "KI disable user", USR,
      MSG("[{'op':'Replace','path':'active','value':'False'}]"),
      MSG("[{'op':'replace','path':'active','value':false}]"), true },
    /* [KI] Requests made to add a single-value string attribute */
    { "KI add single-value string attribute", USR,
      MSG("[{'op':'Add','path':'nickName','value':'Babs'}]"),
      MSG("[{'op':'add','path':'nickName','value':'Babs'}]"), true },
    /* [KI] Requests to replace multiple attributes, without flag */
    { "KI replace multiple attributes without flag", USR,
      MSG("[{'op':'Replace','path':'displayName','value':'Pvlo'},"
          "{'op':'Replace','path':'emails[type eq \\'work\\'].value','value':'TestBcwqnm@test.microsoft.com'},"
          "{'op':'Replace','path':'name.givenName','value':'Gtfd'},"
          "{'op':'Replace','path':'name.familyName','value':'Pkqf'},"
          "{'op':'Replace','path':'externalId','value':'Eqpj'},"
          "{'op':'Replace','path':'" ENT ":employeeNumber','value':'Eqpj'}]"),
      MSG("[{'op':'replace','path':'displayName','value':'Pvlo'},"
          "{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'TestBcwqnm@test.microsoft.com'},"
          "{'op':'replace','path':'name.givenName','value':'Gtfd'},"
          "{'op':'replace','path':'name.familyName','value':'Pkqf'},"
          "{'op':'replace','path':'externalId','value':'Eqpj'},"
          "{'op':'replace','path':'" ENT ":employeeNumber','value':'Eqpj'}]"), true },
    /* [KI] Requests to replace multiple attributes, with flag: dotted and URN keys */
    { "KI replace multiple attributes with flag", USR,
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'TestMhvaes@test.microsoft.com'},"
          "{'op':'replace','value':{'displayName':'Bjfe','name.givenName':'Kkom','name.familyName':'Unua',"
          "'" ENT ":employeeNumber':'Aklq'}}]"),
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'TestMhvaes@test.microsoft.com'},"
          "{'op':'replace','value':{'displayName':'Bjfe','name':{'givenName':'Kkom','familyName':'Unua'},"
          "'" ENT "':{'employeeNumber':'Aklq'}}}]"), true },
    /* [KI] Requests made to remove a group member: without flag -> the with-flag form */
    { "KI remove group member", GRP,
      MSG("[{'op':'Remove','path':'members','value':[{'value':'u1091'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'u1091\\']'}]"), true },
    /* [KI] with flag: already RFC */
    { "KI remove group member with flag", GRP,
      MSG("[{'op':'remove','path':'members[value eq \\'7f4bc1a3-285e-48ae-8202-5accb43efb0e\\']'}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'7f4bc1a3-285e-48ae-8202-5accb43efb0e\\']'}]"), true },
    /* [TUT] Update User [Multi-valued properties] */
    { "TUT update user multi-valued", USR,
      MSG("[{'op':'Replace','path':'emails[type eq \\'work\\'].value','value':'updatedEmail@microsoft.com'},"
          "{'op':'Replace','path':'name.familyName','value':'updatedFamilyName'}]"),
      MSG("[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'updatedEmail@microsoft.com'},"
          "{'op':'replace','path':'name.familyName','value':'updatedFamilyName'}]"), true },
    /* [TUT] Update User [Single-valued properties] */
    { "TUT update user single-valued", USR,
      MSG("[{'op':'Replace','path':'userName','value':'5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com'}]"),
      MSG("[{'op':'replace','path':'userName','value':'5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com'}]"), true },
    /* [TUT] Disable User (Operations before schemas in the sample) */
    { "TUT disable user", USR,
      "{'Operations':[{'op':'Replace','path':'active','value':false}]," PO "}",
      MSG("[{'op':'replace','path':'active','value':false}]"), true },
    /* [TUT] Update Group [Non-member attributes] */
    { "TUT update group name", GRP,
      MSG("[{'op':'Replace','path':'displayName','value':'1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName'}]"),
      MSG("[{'op':'replace','path':'displayName','value':'1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName'}]"), true },
    /* [TUT] Update Group [Add Members]: already RFC except the op ($ref null dropped by the engine) */
    { "TUT add members", GRP,
      MSG("[{'op':'Add','path':'members','value':[{'$ref':null,'value':'f648f8d5ea4e4cd38e9c'}]}]"),
      MSG("[{'op':'add','path':'members','value':[{'$ref':null,'value':'f648f8d5ea4e4cd38e9c'}]}]"), true },
    /* [TUT] Update Group [Remove Members] */
    { "TUT remove members", GRP,
      MSG("[{'op':'Remove','path':'members','value':[{'$ref':null,'value':'f648f8d5ea4e4cd38e9c'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'f648f8d5ea4e4cd38e9c\\']'}]"), true },
    /* [TUT] Example 5: update the manager of a user */
    { "TUT manager", USR,
      MSG("[{'op':'Add','path':'manager','value':[{'$ref':'http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee',"
          "'value':'00aa00aa-bb11-cc22-dd33-44ee44ee44ee'}]}]"),
      MSG("[{'op':'add','path':'" ENT ":manager','value':{'$ref':'http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee',"
          "'value':'00aa00aa-bb11-cc22-dd33-44ee44ee44ee'}}]"), true },

    /* -- Okta: already RFC, kept as is -- */
    /* [OKTA] Update a specific User (PATCH): deactivate */
    { "OKTA deactivate", USR,
      MSG("[{'op':'replace','value':{'active':false}}]"),
      MSG("[{'op':'replace','value':{'active':false}}]"), true },
    /* [OKTA] Update a specific Group name */
    { "OKTA group name", GRP,
      MSG("[{'op':'replace','value':{'id':'abf4dd94-a4c0-4f67-89c9-76b03340cb9b','displayName':'Test SCIMv2'}}]"),
      MSG("[{'op':'replace','value':{'id':'abf4dd94-a4c0-4f67-89c9-76b03340cb9b','displayName':'Test SCIMv2'}}]"), true },
    /* [OKTA] Update specific Group membership */
    { "OKTA group membership", GRP,
      MSG("[{'op':'remove','path':'members[value eq \\'89bb1940-b905-4575-9e7f-6f887cfb368e\\']'},"
          "{'op':'add','path':'members','value':[{'value':'23a35c27-23d3-4c03-b4c5-6443c09e7173','display':'test.user@okta.local'}]}]"),
      MSG("[{'op':'remove','path':'members[value eq \\'89bb1940-b905-4575-9e7f-6f887cfb368e\\']'},"
          "{'op':'add','path':'members','value':[{'value':'23a35c27-23d3-4c03-b4c5-6443c09e7173','display':'test.user@okta.local'}]}]"), true },
};
/* clang-format on */

Test(quirks, table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct quirk_case *c = &cases[i];
        json_t *body = J(c->in);
        json_t *want = J(c->out);
        struct scim_error err = { OK, "" };
        cr_expect_eq(scim_quirks_patch(c->rt, body, &err), OK, "%s: %s", c->name, err.detail);
        if (!json_equal(body, want)) {
            char *got_s = dump(body), *want_s = dump(want);
            cr_expect_fail("%s:\n  got  %s\n  want %s", c->name, got_s, want_s);
            free(got_s);
            free(want_s);
        }
        struct scim_patch *p = NULL;
        enum status rc = scim_patch_parse(c->rt, body, &p, &err);
        cr_expect_eq(rc == OK, c->parses, "%s: parse says %s (%s)", c->name, status_name(rc),
                     err.detail);
        scim_patch_free(p);
        /* a second pass changes nothing: the result is RFC form */
        json_t *again = json_deep_copy(body);
        cr_expect_eq(scim_quirks_patch(c->rt, again, &err), OK);
        cr_expect(json_equal(again, body), "%s: quirks not idempotent", c->name);
        json_decref(again);
        json_decref(want);
        json_decref(body);
    }
}

/* Shapes the parser must judge are left as they are. */
Test(quirks, leaves_non_messages_alone)
{
    const char *bodies[] = {
        "[1,2]",
        "'text'",
        "{}",
        "{'Operations':{'op':'Add'}}",
        "{'Operations':'x'}",
        "{'schemas':['x'],'Operations':null}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *body = J(bodies[i]);
        json_t *copy = json_deep_copy(body);
        cr_expect_eq(scim_quirks_patch(&scim_resource_user, body, NULL), OK, "%s", bodies[i]);
        cr_expect(json_equal(body, copy), "%s changed", bodies[i]);
        json_decref(copy);
        json_decref(body);
    }
    cr_expect_eq(scim_quirks_patch(NULL, NULL, NULL), OK);
}

/* Many members removed in one Entra request become that many filtered removes. */
Test(quirks, many_members)
{
    json_t *ids = json_array();
    for (int i = 0; i < 500; i++) {
        char id[32];
        snprintf(id, sizeof(id), "user-%d", i);
        json_array_append_new(ids, json_pack("{s:s}", "value", id));
    }
    json_t *body = json_pack("{s:[s], s:[{s:s, s:s, s:o}]}", "schemas", PATCH_OP, "Operations",
                             "op", "Remove", "path", "members", "value", ids);
    cr_assert_eq(scim_quirks_patch(&scim_resource_group, body, NULL), OK);
    json_t *ops = json_object_get(body, "Operations");
    cr_expect_eq(json_array_size(ops), 500);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(ops, 499), "path")),
                     "members[value eq \"user-499\"]");
    struct scim_patch *p = NULL;
    cr_expect_eq(scim_patch_parse(&scim_resource_group, body, &p, NULL), OK);
    cr_expect_eq(p ? p->n_ops : 0, 500);
    scim_patch_free(p);
    json_decref(body);
}
