/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch_test.c - tests for src/scim/patch.c: the PATCH path parser, the
 * PatchOp message parser and the engine.  Every case is one row: a starting
 * document, the Operations array, the status expected and the exact
 * document expected (compared with json_equal).  Rows marked "quirks" run
 * scim_quirks_patch first, as the HTTP layer does, so that the request
 * shapes Okta and Microsoft Entra ID really send are tested end to end.
 *
 * JSON in this file is written with single quotes for readability; J()
 * turns them into double quotes (so \' inside a string becomes \").
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

/* ---- helpers ------------------------------------------------------------------------------- */

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

#define PATCH_OP "urn:ietf:params:scim:api:messages:2.0:PatchOp"

/* A PatchOp message around an Operations array given as text. */
static json_t *message(const char *ops)
{
    json_t *body = json_object();
    json_object_set_new(body, "schemas", json_pack("[s]", PATCH_OP));
    json_object_set_new(body, "Operations", J(ops));
    return body;
}

/* quirks (optional) + parse + apply, as the HTTP layer runs them. */
static enum status run(const struct scim_resource_type *rt, bool quirks, json_t *body, json_t **doc,
                       struct scim_error *err)
{
    enum status rc = OK;
    if (quirks) {
        rc = scim_quirks_patch(rt, body, err);
        if (rc != OK)
            return rc;
    }
    struct scim_patch *p = NULL;
    rc = scim_patch_parse(rt, body, &p, err);
    if (rc != OK) {
        cr_expect_null(p);
        return rc;
    }
    rc = scim_patch_apply(p, rt, doc, err);
    scim_patch_free(p);
    return rc;
}

/* ---- documents ------------------------------------------------------------------------------ */

#define USER_URN  "urn:ietf:params:scim:schemas:core:2.0:User"
#define GROUP_URN "urn:ietf:params:scim:schemas:core:2.0:Group"
#define ENT       "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#define CORE   "'schemas':['" USER_URN "']"
#define ENTS   "'schemas':['" USER_URN "','" ENT "']"
#define U      "'id':'u1','userName':'bjensen'"
#define WORK   "{'value':'b@work.example','type':'work','primary':true}"
#define HOME   "{'value':'b@home.example','type':'home'}"
#define EMAILS "'emails':[" WORK "," HOME "]"
#define NAME   "'name':{'givenName':'Barbara','familyName':'Jensen'}"

#define D0      "{" CORE "," U "}"
#define D_EM    "{" CORE "," U "," EMAILS "}"
#define D_NAME  "{" CORE "," U "," NAME "}"
#define D_TITLE "{" CORE "," U ",'title':'X'}"

#define GCORE "'schemas':['" GROUP_URN "']"
#define G     "'id':'g1','displayName':'Eng'"
#define G0    "{" GCORE "," G "}"
#define GM    "{" GCORE "," G ",'members':[{'value':'a'},{'value':'b'}]}"

#define USR &scim_resource_user
#define GRP &scim_resource_group

/* ---- engine table ---------------------------------------------------------------------------- */

struct apply_case {
    const char *name;
    const struct scim_resource_type *rt;
    bool quirks;
    const char *doc;
    const char *ops; /* the "Operations" array */
    enum status want;
    const char *result; /* expected document; NULL: unchanged */
};

/* clang-format off */
static const struct apply_case apply_cases[] = {
    /* -- simple single-valued attributes -- */
    { "add simple absent", USR, false, D0,
      "[{'op':'add','path':'title','value':'Boss'}]", OK, "{" CORE "," U ",'title':'Boss'}" },
    { "add simple present replaces", USR, false, D_TITLE,
      "[{'op':'add','path':'title','value':'Boss'}]", OK, "{" CORE "," U ",'title':'Boss'}" },
    { "replace simple", USR, false, D_TITLE,
      "[{'op':'replace','path':'title','value':'Boss'}]", OK, "{" CORE "," U ",'title':'Boss'}" },
    { "replace simple absent acts as add", USR, false, D0,
      "[{'op':'replace','path':'title','value':'Boss'}]", OK, "{" CORE "," U ",'title':'Boss'}" },
    { "remove simple", USR, false, D_TITLE,
      "[{'op':'remove','path':'title'}]", OK, D0 },
    { "remove absent is a no-op", USR, false, D0,
      "[{'op':'remove','path':'title'}]", OK, NULL },
    { "names match ignoring case, canonical spelling written", USR, false,
      "{" CORE "," U ",'Title':'X'}",
      "[{'op':'replace','path':'TITLE','value':'Boss'}]", OK, "{" CORE "," U ",'title':'Boss'}" },
    { "replace boolean", USR, false, "{" CORE "," U ",'active':true}",
      "[{'op':'replace','path':'active','value':false}]", OK, "{" CORE "," U ",'active':false}" },
    { "replace userName", USR, false, D0,
      "[{'op':'replace','path':'userName','value':'barbara'}]", OK,
      "{" CORE ",'id':'u1','userName':'barbara'}" },
    { "remove of required userName is left to validation", USR, false, D0,
      "[{'op':'remove','path':'userName'}]", OK, "{" CORE ",'id':'u1'}" },
    { "replace with null unassigns (RFC 7643 2.5)", USR, false, D_TITLE,
      "[{'op':'replace','path':'title','value':null}]", OK, D0 },
    { "core URN path", USR, false, D0,
      "[{'op':'replace','path':'" USER_URN ":userName','value':'x'}]", OK,
      "{" CORE ",'id':'u1','userName':'x'}" },

    /* -- complex single-valued attributes -- */
    { "add sub creates the complex attribute", USR, false, D0,
      "[{'op':'add','path':'name.givenName','value':'B'}]", OK,
      "{" CORE "," U ",'name':{'givenName':'B'}}" },
    { "replace sub keeps the others", USR, false, D_NAME,
      "[{'op':'replace','path':'name.familyName','value':'J'}]", OK,
      "{" CORE "," U ",'name':{'givenName':'Barbara','familyName':'J'}}" },
    { "remove sub", USR, false, D_NAME,
      "[{'op':'remove','path':'name.givenName'}]", OK,
      "{" CORE "," U ",'name':{'familyName':'Jensen'}}" },
    { "remove last sub removes the attribute", USR, false, "{" CORE "," U ",'name':{'givenName':'B'}}",
      "[{'op':'remove','path':'name.givenName'}]", OK, D0 },
    { "add complex merges", USR, false, D_NAME,
      "[{'op':'add','path':'name','value':{'givenName':'Babs','middleName':'M'}}]", OK,
      "{" CORE "," U ",'name':{'givenName':'Babs','familyName':'Jensen','middleName':'M'}}" },
    /* RFC 7644 3.5.2.3: sub-attributes not specified in the value are left unchanged */
    { "replace complex merges", USR, false, D_NAME,
      "[{'op':'replace','path':'name','value':{'givenName':'Babs'}}]", OK,
      "{" CORE "," U ",'name':{'givenName':'Babs','familyName':'Jensen'}}" },
    { "remove complex", USR, false, D_NAME,
      "[{'op':'remove','path':'name'}]", OK, D0 },
    { "replace complex with a null sub unassigns it", USR, false, D_NAME,
      "[{'op':'replace','path':'name','value':{'givenName':null}}]", OK,
      "{" CORE "," U ",'name':{'familyName':'Jensen'}}" },
    { "sub-attribute names canonical", USR, false, D0,
      "[{'op':'add','path':'name','value':{'GIVENNAME':'B'}}]", OK,
      "{" CORE "," U ",'name':{'givenName':'B'}}" },
    { "sub path in any case", USR, false, D_NAME,
      "[{'op':'replace','path':'NAME.GIVENNAME','value':'B'}]", OK,
      "{" CORE "," U ",'name':{'givenName':'B','familyName':'Jensen'}}" },

    /* -- multi-valued attributes -- */
    { "add appends an array", USR, false, D_EM,
      "[{'op':'add','path':'emails','value':[{'value':'x@y','type':'other'}]}]", OK,
      "{" CORE "," U ",'emails':[" WORK "," HOME ",{'value':'x@y','type':'other'}]}" },
    { "add appends a single object", USR, false, D_EM,
      "[{'op':'add','path':'emails','value':{'value':'x@y','type':'other'}}]", OK,
      "{" CORE "," U ",'emails':[" WORK "," HOME ",{'value':'x@y','type':'other'}]}" },
    { "add skips exact duplicates", USR, false, D_EM,
      "[{'op':'add','path':'emails','value':[" HOME "]}]", OK, NULL },
    { "add canonicalises sub names before comparing", USR, false, D_EM,
      "[{'op':'add','path':'emails','value':[{'VALUE':'b@home.example','Type':'home'}]}]", OK, NULL },
    { "add creates the attribute", USR, false, D0,
      "[{'op':'add','path':'emails','value':[" HOME "]}]", OK,
      "{" CORE "," U ",'emails':[" HOME "]}" },
    { "replace replaces all values", USR, false, D_EM,
      "[{'op':'replace','path':'emails','value':[" HOME "]}]", OK,
      "{" CORE "," U ",'emails':[" HOME "]}" },
    { "remove all values", USR, false, D_EM,
      "[{'op':'remove','path':'emails'}]", OK, D0 },
    { "remove by value filter", USR, false, D_EM,
      "[{'op':'remove','path':'emails[type eq \\'home\\']'}]", OK,
      "{" CORE "," U ",'emails':[" WORK "]}" },
    { "remove by value filter matching nothing is a no-op", USR, false, D_EM,
      "[{'op':'remove','path':'emails[type eq \\'other\\']'}]", OK, NULL },
    { "remove sub of matching values", USR, false,
      "{" CORE "," U ",'emails':[{'value':'w@x','type':'work','display':'W'}]}",
      "[{'op':'remove','path':'emails[type eq \\'work\\'].display'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'w@x','type':'work'}]}" },
    { "remove last value removes the attribute", USR, false, "{" CORE "," U ",'emails':[" HOME "]}",
      "[{'op':'remove','path':'emails[type eq \\'home\\']'}]", OK, D0 },
    { "replace sub of matching values", USR, false, D_EM,
      "[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'n@work'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'n@work','type':'work','primary':true}," HOME "]}" },
    { "add sub with nothing matching creates the element", USR, false,
      "{" CORE "," U ",'emails':[" HOME "]}",
      "[{'op':'add','path':'emails[type eq \\'work\\'].value','value':'w@x'}]", OK,
      "{" CORE "," U ",'emails':[" HOME ",{'type':'work','value':'w@x'}]}" },
    /* Entra: "Update User [Multi-valued properties]" for a user without a work email */
    { "replace sub with nothing matching creates the element", USR, false, D0,
      "[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'w@x'}]", OK,
      "{" CORE "," U ",'emails':[{'type':'work','value':'w@x'}]}" },
    { "replace matching element", USR, false, D_EM,
      "[{'op':'replace','path':'emails[type eq \\'home\\']','value':{'value':'h2@x','type':'home'}}]", OK,
      "{" CORE "," U ",'emails':[" WORK ",{'value':'h2@x','type':'home'}]}" },
    { "replace element with nothing matching: noTarget", USR, false, D_EM,
      "[{'op':'replace','path':'emails[type eq \\'other\\']','value':{'value':'o@x'}}]",
      ERR_NO_TARGET, NULL },
    { "or filter describes no element: noTarget", USR, false, D0,
      "[{'op':'add','path':'emails[type eq \\'work\\' or type eq \\'home\\'].value','value':'x'}]",
      ERR_NO_TARGET, NULL },
    { "co filter describes no element: noTarget", USR, false, D0,
      "[{'op':'add','path':'emails[value co \\'x\\'].display','value':'X'}]",
      ERR_NO_TARGET, NULL },
    { "and of eq terms describes an element", USR, false, D0,
      "[{'op':'add','path':'emails[type eq \\'work\\' and primary eq true].value','value':'w@x'}]", OK,
      "{" CORE "," U ",'emails':[{'type':'work','primary':true,'value':'w@x'}]}" },
    { "add to matching element merges", USR, false, D_EM,
      "[{'op':'add','path':'emails[type eq \\'home\\']','value':{'display':'Home'}}]", OK,
      "{" CORE "," U ",'emails':[" WORK ",{'value':'b@home.example','type':'home','display':'Home'}]}" },
    { "add to filter with nothing matching builds from the filter", USR, false, D0,
      "[{'op':'add','path':'emails[type eq \\'home\\']','value':{'value':'h@x'}}]", OK,
      "{" CORE "," U ",'emails':[{'type':'home','value':'h@x'}]}" },
    { "replace sub on every value", USR, false, D_EM,
      "[{'op':'replace','path':'emails.display','value':'D'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'b@work.example','type':'work','primary':true,'display':'D'},"
      "{'value':'b@home.example','type':'home','display':'D'}]}" },
    { "remove sub from every value", USR, false,
      "{" CORE "," U ",'emails':[{'value':'a','display':'D'},{'value':'b','display':'E'}]}",
      "[{'op':'remove','path':'emails.display'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'a'},{'value':'b'}]}" },
    { "filter values compare ignoring case", USR, false, D_EM,
      "[{'op':'replace','path':'emails[type eq \\'WORK\\'].value','value':'n@w'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'n@w','type':'work','primary':true}," HOME "]}" },
    { "filter with and", USR, false, D_EM,
      "[{'op':'replace','path':'emails[type eq \\'work\\' and primary eq true].display','value':'P'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'b@work.example','type':'work','primary':true,'display':'P'}," HOME "]}" },
    { "filter path in any case", USR, false, D_EM,
      "[{'op':'replace','path':'EMAILS[TYPE eq \\'work\\'].VALUE','value':'n@w'}]", OK,
      "{" CORE "," U ",'emails':[{'value':'n@w','type':'work','primary':true}," HOME "]}" },
    { "nulls inside new values are dropped", USR, false, D0,
      "[{'op':'add','path':'emails','value':[{'value':'x@y','display':null}]}]", OK,
      "{" CORE "," U ",'emails':[{'value':'x@y'}]}" },
    { "add of an empty array changes nothing", USR, false, D_EM,
      "[{'op':'add','path':'emails','value':[]}]", OK, NULL },
    { "replace with an empty array unassigns", USR, false, D_EM,
      "[{'op':'replace','path':'emails','value':[]}]", OK, D0 },

    /* -- primary exclusivity (RFC 7643 2.4) -- */
    { "primary: a new primary value takes it", USR, false, D_EM,
      "[{'op':'add','path':'emails','value':[{'value':'n@x','type':'other','primary':true}]}]", OK,
      "{" CORE "," U ",'emails':[{'value':'b@work.example','type':'work','primary':false}," HOME ","
      "{'value':'n@x','type':'other','primary':true}]}" },
    { "primary: setting it through a filter moves it", USR, false, D_EM,
      "[{'op':'replace','path':'emails[type eq \\'home\\'].primary','value':true}]", OK,
      "{" CORE "," U ",'emails':[{'value':'b@work.example','type':'work','primary':false},"
      "{'value':'b@home.example','type':'home','primary':true}]}" },
    { "primary: two in one replace keeps the last", USR, false, D0,
      "[{'op':'replace','path':'emails','value':[{'value':'a@x','primary':true},{'value':'b@x','primary':true}]}]", OK,
      "{" CORE "," U ",'emails':[{'value':'a@x','primary':false},{'value':'b@x','primary':true}]}" },
    { "primary: duplicates already stored keep the last", USR, false,
      "{" CORE "," U ",'emails':[{'value':'a@x','primary':true},{'value':'b@x','primary':true}]}",
      "[{'op':'add','path':'emails','value':[{'value':'c@x'}]}]", OK,
      "{" CORE "," U ",'emails':[{'value':'a@x','primary':false},{'value':'b@x','primary':true},{'value':'c@x'}]}" },
    { "primary: string True through quirks", USR, true, D_EM,
      "[{'op':'Add','path':'emails','value':[{'value':'n@x','type':'other','primary':'True'}]}]", OK,
      "{" CORE "," U ",'emails':[{'value':'b@work.example','type':'work','primary':false}," HOME ","
      "{'value':'n@x','type':'other','primary':true}]}" },

    /* -- extension attributes -- */
    { "extension path creates the object and lists the URN", USR, false, D0,
      "[{'op':'add','path':'" ENT ":department','value':'Eng'}]", OK,
      "{" ENTS "," U ",'" ENT "':{'department':'Eng'}}" },
    { "extension complex attribute", USR, false, "{" ENTS "," U ",'" ENT "':{'department':'Eng'}}",
      "[{'op':'replace','path':'" ENT ":manager','value':{'value':'m1'}}]", OK,
      "{" ENTS "," U ",'" ENT "':{'department':'Eng','manager':{'value':'m1'}}}" },
    { "extension sub-attribute", USR, false,
      "{" ENTS "," U ",'" ENT "':{'manager':{'value':'m1'}}}",
      "[{'op':'replace','path':'" ENT ":manager.value','value':'m2'}]", OK,
      "{" ENTS "," U ",'" ENT "':{'manager':{'value':'m2'}}}" },
    { "remove last extension attribute removes the extension", USR, false,
      "{" ENTS "," U ",'" ENT "':{'department':'Eng'}}",
      "[{'op':'remove','path':'" ENT ":department'}]", OK, D0 },
    { "remove one extension attribute", USR, false,
      "{" ENTS "," U ",'" ENT "':{'department':'Eng','employeeNumber':'7'}}",
      "[{'op':'remove','path':'" ENT ":department'}]", OK,
      "{" ENTS "," U ",'" ENT "':{'employeeNumber':'7'}}" },
    { "remove absent extension attribute", USR, false, D0,
      "[{'op':'remove','path':'" ENT ":department'}]", OK, NULL },
    { "no-path extension object", USR, false, D0,
      "[{'op':'add','value':{'" ENT "':{'employeeNumber':'42'}}}]", OK,
      "{" ENTS "," U ",'" ENT "':{'employeeNumber':'42'}}" },
    { "no-path qualified extension key", USR, false, D0,
      "[{'op':'replace','value':{'" ENT ":employeeNumber':'42'}}]", OK,
      "{" ENTS "," U ",'" ENT "':{'employeeNumber':'42'}}" },
    { "no-path null extension removes it", USR, false, "{" ENTS "," U ",'" ENT "':{'department':'Eng'}}",
      "[{'op':'replace','value':{'" ENT "':null}}]", OK, D0 },
    { "extension key stored in another case", USR, false,
      "{" ENTS "," U ",'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user':{'department':'Eng'}}",
      "[{'op':'replace','path':'" ENT ":department','value':'Ops'}]", OK,
      "{" ENTS "," U ",'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user':{'department':'Ops'}}" },
    { "extension value must be an object", USR, false, D0,
      "[{'op':'add','value':{'" ENT "':'Eng'}}]", ERR_INVALID_VALUE, NULL },

    /* -- no path -- */
    /* Okta, "SCIM 2.0 Protocol Reference", Update a specific User (PATCH): deactivate */
    { "Okta deactivate", USR, false, "{" CORE "," U ",'active':true}",
      "[{'op':'replace','value':{'active':false}}]", OK, "{" CORE "," U ",'active':false}" },
    { "no-path add merges complex and appends multi-valued", USR, false,
      "{" CORE "," U "," NAME ",'emails':[" HOME "]}",
      "[{'op':'add','value':{'name':{'middleName':'M'},'emails':[" WORK "],'title':'T'}}]", OK,
      "{" CORE "," U ",'name':{'givenName':'Barbara','familyName':'Jensen','middleName':'M'},"
      "'emails':[" HOME "," WORK "],'title':'T'}" },
    { "no-path replace replaces multi-valued wholesale", USR, false, D_EM,
      "[{'op':'replace','value':{'emails':[" HOME "]}}]", OK, "{" CORE "," U ",'emails':[" HOME "]}" },
    { "no-path dotted key", USR, false, D_NAME,
      "[{'op':'replace','value':{'name.givenName':'Babs'}}]", OK,
      "{" CORE "," U ",'name':{'givenName':'Babs','familyName':'Jensen'}}" },
    /* Okta, "SCIM 2.0 Protocol Reference", Update a specific Group name: the value carries id */
    { "Okta group rename ignores id", GRP, false, G0,
      "[{'op':'replace','value':{'id':'abf4dd94-a4c0-4f67-89c9-76b03340cb9b','displayName':'Test SCIMv2'}}]", OK,
      "{" GCORE ",'id':'g1','displayName':'Test SCIMv2'}" },
    { "no-path unknown attribute ignored", USR, false, D0,
      "[{'op':'add','value':{'foo':'bar','title':'T'}}]", OK, "{" CORE "," U ",'title':'T'}" },
    { "no-path null unassigns", USR, false, D_TITLE,
      "[{'op':'replace','value':{'title':null}}]", OK, D0 },
    { "no-path add of null adds nothing", USR, false, D_TITLE,
      "[{'op':'add','value':{'title':null}}]", OK, NULL },
    { "no-path schemas key ignored", USR, false, D0,
      "[{'op':'replace','value':{'schemas':['x'],'title':'T'}}]", OK, "{" CORE "," U ",'title':'T'}" },
    { "no-path core URN as a container", USR, false, D0,
      "[{'op':'replace','value':{'" USER_URN "':{'title':'T'}}}]", OK, "{" CORE "," U ",'title':'T'}" },
    { "no-path core URN qualified key", USR, false, D0,
      "[{'op':'replace','value':{'" USER_URN ":title':'T'}}]", OK, "{" CORE "," U ",'title':'T'}" },
    { "no-path unknown extension kept verbatim", USR, false, D0,
      "[{'op':'add','value':{'urn:example:ext:1.0:Thing':{'k':'v'}}}]", OK,
      "{" CORE "," U ",'urn:example:ext:1.0:Thing':{'k':'v'}}" },
    { "no-path Okta profile update", USR, false, D_NAME,
      "[{'op':'replace','value':{'name':{'givenName':'Another','middleName':'Excited'},'displayName':'Another User','locale':'en-US'}}]", OK,
      "{" CORE "," U ",'name':{'givenName':'Another','familyName':'Jensen','middleName':'Excited'},"
      "'displayName':'Another User','locale':'en-US'}" },

    /* -- readOnly and writeOnly targets are ignored -- */
    { "readOnly id", USR, false, D0,
      "[{'op':'replace','path':'id','value':'x'}]", OK, NULL },
    { "readOnly meta", USR, false, "{" CORE "," U ",'meta':{'resourceType':'User'}}",
      "[{'op':'remove','path':'meta'}]", OK, NULL },
    { "readOnly meta sub-attribute", USR, false, "{" CORE "," U ",'meta':{'resourceType':'User'}}",
      "[{'op':'replace','path':'meta.lastModified','value':'2020-01-01T00:00:00Z'}]", OK, NULL },
    { "readOnly groups", USR, false, D0,
      "[{'op':'add','path':'groups','value':[{'value':'g'}]}]", OK, NULL },
    { "writeOnly password never stored", USR, false, D0,
      "[{'op':'replace','path':'password','value':'secret'}]", OK, NULL },
    { "no-path password never stored", USR, false, D0,
      "[{'op':'replace','value':{'password':'secret'}}]", OK, NULL },
    { "readOnly sub-attribute", USR, false, "{" ENTS "," U ",'" ENT "':{'manager':{'value':'m1'}}}",
      "[{'op':'replace','path':'" ENT ":manager.displayName','value':'Boss'}]", OK, NULL },
    { "readOnly sub-attribute inside a value", USR, false, D0,
      "[{'op':'add','path':'" ENT ":manager','value':{'value':'m1','displayName':'Boss'}}]", OK,
      "{" ENTS "," U ",'" ENT "':{'manager':{'value':'m1'}}}" },

    /* -- groups -- */
    { "group add members", GRP, false, G0,
      "[{'op':'add','path':'members','value':[{'value':'a'},{'value':'b'}]}]", OK, GM },
    { "group add members skips existing", GRP, false, GM,
      "[{'op':'add','path':'members','value':[{'value':'b'},{'value':'c','display':'C'}]}]", OK,
      "{" GCORE "," G ",'members':[{'value':'a'},{'value':'b'},{'value':'c','display':'C'}]}" },
    { "group remove one member", GRP, false, GM,
      "[{'op':'remove','path':'members[value eq \\'a\\']'}]", OK,
      "{" GCORE "," G ",'members':[{'value':'b'}]}" },
    { "group remove every member", GRP, false, GM,
      "[{'op':'remove','path':'members'}]", OK, G0 },
    /* Okta, "SCIM 2.0 Protocol Reference": full push of the membership with replace */
    { "Okta replace members", GRP, false, GM,
      "[{'op':'replace','path':'members','value':[{'value':'23a35c27-23d3-4c03-b4c5-6443c09e7173','display':'test.user@okta.local'},"
      "{'value':'89bb1940-b905-4575-9e7f-6f887cfb368e','display':'test.user@okta.local'}]}]", OK,
      "{" GCORE "," G ",'members':[{'value':'23a35c27-23d3-4c03-b4c5-6443c09e7173','display':'test.user@okta.local'},"
      "{'value':'89bb1940-b905-4575-9e7f-6f887cfb368e','display':'test.user@okta.local'}]}" },
    /* Okta, "SCIM 2.0 Protocol Reference", Update specific Group membership */
    { "Okta membership update", GRP, true,
      "{" GCORE "," G ",'members':[{'value':'89bb1940-b905-4575-9e7f-6f887cfb368e'},{'value':'b'}]}",
      "[{'op':'remove','path':'members[value eq \\'89bb1940-b905-4575-9e7f-6f887cfb368e\\']'},"
      "{'op':'add','path':'members','value':[{'value':'23a35c27-23d3-4c03-b4c5-6443c09e7173','display':'test.user@okta.local'}]}]", OK,
      "{" GCORE "," G ",'members':[{'value':'b'},{'value':'23a35c27-23d3-4c03-b4c5-6443c09e7173','display':'test.user@okta.local'}]}" },
    /* Entra, "Tutorial: Develop and plan provisioning for a SCIM endpoint", Update Group [Add Members] */
    { "Entra add members with $ref null", GRP, true, G0,
      "[{'op':'Add','path':'members','value':[{'$ref':null,'value':'f648f8d5ea4e4cd38e9c'}]}]", OK,
      "{" GCORE "," G ",'members':[{'value':'f648f8d5ea4e4cd38e9c'}]}" },
    /* Entra, same tutorial, Update Group [Remove Members] (value array on remove) */
    { "Entra remove members with a value array", GRP, true,
      "{" GCORE "," G ",'members':[{'value':'f648f8d5ea4e4cd38e9c'},{'value':'b'}]}",
      "[{'op':'Remove','path':'members','value':[{'$ref':null,'value':'f648f8d5ea4e4cd38e9c'}]}]", OK,
      "{" GCORE "," G ",'members':[{'value':'b'}]}" },
    /* Entra, same tutorial, Update Group [Non-member attributes] */
    { "Entra replace displayName", GRP, true, G0,
      "[{'op':'Replace','path':'displayName','value':'1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName'}]", OK,
      "{" GCORE ",'id':'g1','displayName':'1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName'}" },
    { "member ids with quotes and backslashes", GRP, true,
      "{" GCORE "," G ",'members':[{'value':'a\\'b\\\\c'},{'value':'b'}]}",
      "[{'op':'Remove','path':'members','value':[{'value':'a\\'b\\\\c'}]}]", OK,
      "{" GCORE "," G ",'members':[{'value':'b'}]}" },

    /* -- atomicity and order -- */
    { "a failing third operation leaves the document unchanged", USR, false, D_EM,
      "[{'op':'replace','path':'title','value':'T'},{'op':'add','path':'name.givenName','value':'X'},"
      "{'op':'replace','path':'emails[type eq \\'other\\']','value':{'value':'o@x'}}]", ERR_NO_TARGET, NULL },
    { "operations apply in order", USR, false, D0,
      "[{'op':'add','path':'title','value':'A'},{'op':'replace','path':'title','value':'B'},"
      "{'op':'remove','path':'title'},{'op':'add','path':'title','value':'C'}]", OK,
      "{" CORE "," U ",'title':'C'}" },

    /* -- Microsoft Entra ID shapes, through quirks -- */
    /* "Known issues ... SCIM 2.0 protocol compliance": disable user, without feature flag */
    { "Entra disable without aadOptscim062020", USR, true, "{" CORE "," U ",'active':true}",
      "[{'op':'Replace','path':'active','value':'False'}]", OK, "{" CORE "," U ",'active':false}" },
    /* same document, with feature flag */
    { "Entra disable with aadOptscim062020", USR, true, "{" CORE "," U ",'active':true}",
      "[{'op':'replace','path':'active','value':false}]", OK, "{" CORE "," U ",'active':false}" },
    /* same document: "Requests to replace multiple attributes", without feature flag */
    { "Entra batched replace without flag", USR, true,
      "{" CORE "," U "," NAME ",'emails':[" WORK "],'displayName':'Old'}",
      "[{'op':'Replace','path':'displayName','value':'Pvlo'},"
      "{'op':'Replace','path':'emails[type eq \\'work\\'].value','value':'TestBcwqnm@test.microsoft.com'},"
      "{'op':'Replace','path':'name.givenName','value':'Gtfd'},"
      "{'op':'Replace','path':'name.familyName','value':'Pkqf'},"
      "{'op':'Replace','path':'externalId','value':'Eqpj'},"
      "{'op':'Replace','path':'" ENT ":employeeNumber','value':'Eqpj'}]", OK,
      "{" ENTS "," U ",'name':{'givenName':'Gtfd','familyName':'Pkqf'},"
      "'emails':[{'value':'TestBcwqnm@test.microsoft.com','type':'work','primary':true}],"
      "'displayName':'Pvlo','externalId':'Eqpj','" ENT "':{'employeeNumber':'Eqpj'}}" },
    /* same, with feature flag: no-path value with dotted and URN-qualified keys */
    { "Entra batched replace with flag", USR, true, D_NAME,
      "[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'TestMhvaes@test.microsoft.com'},"
      "{'op':'replace','value':{'displayName':'Bjfe','name.givenName':'Kkom','name.familyName':'Unua',"
      "'" ENT ":employeeNumber':'Aklq'}}]", OK,
      "{" ENTS "," U ",'name':{'givenName':'Kkom','familyName':'Unua'},"
      "'emails':[{'type':'work','value':'TestMhvaes@test.microsoft.com'}],"
      "'displayName':'Bjfe','" ENT "':{'employeeNumber':'Aklq'}}" },
    /* Entra tutorial, Example 5: "op":"Add","path":"manager" with a one-element array */
    { "Entra manager add", USR, true, D0,
      "[{'op':'Add','path':'manager','value':[{'$ref':'http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee',"
      "'value':'00aa00aa-bb11-cc22-dd33-44ee44ee44ee'}]}]", OK,
      "{" ENTS "," U ",'" ENT "':{'manager':{'$ref':'http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee',"
      "'value':'00aa00aa-bb11-cc22-dd33-44ee44ee44ee'}}}" },
    { "Entra manager as a bare string", USR, true, D0,
      "[{'op':'Replace','path':'" ENT ":manager','value':'m1'}]", OK,
      "{" ENTS "," U ",'" ENT "':{'manager':{'value':'m1'}}}" },
    /* "Known issues": requests made to add a single-value string attribute */
    { "Entra add nickName", USR, true, D0,
      "[{'op':'Add','path':'nickName','value':'Babs'}]", OK, "{" CORE "," U ",'nickName':'Babs'}" },
    { "Entra core URN path", USR, true, D0,
      "[{'op':'Replace','path':'" USER_URN ":userName','value':'x@y'}]", OK,
      "{" CORE ",'id':'u1','userName':'x@y'}" },
    /* -- a path that is an extension's URN alone: the extension's object (issue 9) -- */
    { "add to the extension path merges its attributes", USR, false,
      "{" ENTS "," U ",'" ENT "':{'department':'Tour'}}",
      "[{'op':'add','path':'" ENT "','value':{'employeeNumber':'42'}}]", OK,
      "{" ENTS "," U ",'" ENT "':{'department':'Tour','employeeNumber':'42'}}" },
    { "replace on the extension path, schema listed", USR, false, D0,
      "[{'op':'replace','path':'" ENT "','value':{'department':'Ops','manager':{'value':'m1'}}}]", OK,
      "{" ENTS "," U ",'" ENT "':{'department':'Ops','manager':{'value':'m1'}}}" },
    { "remove of the extension path unassigns it all", USR, false,
      "{" ENTS "," U ",'" ENT "':{'department':'Tour','employeeNumber':'42'}}",
      "[{'op':'remove','path':'" ENT "'}]", OK, D0 },
    { "Entra Remove of the extension path", USR, true,
      "{" ENTS "," U ",'" ENT "':{'department':'Tour'}}",
      "[{'op':'Remove','path':'" ENT "'}]", OK, D0 },
    { "replace of the extension path with null unassigns it", USR, false,
      "{" ENTS "," U ",'" ENT "':{'department':'Tour'}}",
      "[{'op':'replace','path':'" ENT "','value':null}]", OK, D0 },
    { "remove of an absent extension is a no-op", USR, false, D0,
      "[{'op':'remove','path':'" ENT "'}]", OK, NULL },
    { "extension path on a string value", USR, true, D0,
      "[{'op':'replace','path':'" ENT "','value':'Tour'}]", ERR_INVALID_VALUE, NULL },
    /* -- "active" is never unassigned: a missing active reads as true (issue 9, item 7) -- */
    { "remove active refused", USR, false, "{" CORE "," U ",'active':false}",
      "[{'op':'remove','path':'active'}]", ERR_INVALID_VALUE, NULL },
    { "Entra Remove of URN-qualified active refused", USR, true, "{" CORE "," U ",'active':false}",
      "[{'op':'Remove','path':'" USER_URN ":active'}]", ERR_INVALID_VALUE, NULL },
    { "remove active in another case refused", USR, true, "{" CORE "," U ",'active':false}",
      "[{'op':'REMOVE','path':'ACTIVE'}]", ERR_INVALID_VALUE, NULL },
    { "replace active with null refused", USR, false, "{" CORE "," U ",'active':false}",
      "[{'op':'replace','path':'active','value':null}]", ERR_INVALID_VALUE, NULL },
    { "no-path replace with active null refused", USR, true, "{" CORE "," U ",'active':false}",
      "[{'op':'replace','value':{'active':null}}]", ERR_INVALID_VALUE, NULL },
    { "no-path replace with core URN container and active null refused", USR, true,
      "{" CORE "," U ",'active':false}",
      "[{'op':'replace','value':{'" USER_URN "':{'active':null}}}]", ERR_INVALID_VALUE, NULL },
    { "remove active after other ops refuses the whole request", USR, false,
      "{" CORE "," U ",'active':false,'title':'X'}",
      "[{'op':'remove','path':'title'},{'op':'remove','path':'active'}]", ERR_INVALID_VALUE, NULL },
    { "Okta replace active false still works", USR, true, "{" CORE "," U ",'active':true}",
      "[{'op':'replace','value':{'active':false}}]", OK, "{" CORE "," U ",'active':false}" },
};
/* clang-format on */

Test(patch, apply_table)
{
    size_t n = sizeof(apply_cases) / sizeof(apply_cases[0]);
    cr_expect_geq(n, 80);
    for (size_t i = 0; i < n; i++) {
        const struct apply_case *c = &apply_cases[i];
        json_t *doc = J(c->doc);
        json_t *orig = json_deep_copy(doc);
        json_t *body = message(c->ops);
        struct scim_error err = { OK, "" };
        json_t *before = doc;
        enum status rc = run(c->rt, c->quirks, body, &doc, &err);
        cr_expect_eq(rc, c->want, "%s: status %s (%s), want %s", c->name, status_name(rc),
                     err.detail, status_name(c->want));
        json_t *want = c->result && rc == OK ? J(c->result) : json_incref(orig);
        if (rc != OK)
            cr_expect_eq(doc, before, "%s: the document reference changed on failure", c->name);
        if (!json_equal(doc, want)) {
            char *got_s = dump(doc), *want_s = dump(want);
            cr_expect_fail("%s:\n  got  %s\n  want %s", c->name, got_s, want_s);
            free(got_s);
            free(want_s);
        }
        json_decref(want);
        json_decref(orig);
        json_decref(body);
        json_decref(doc);
    }
}

/* ---- message and path errors ---------------------------------------------------------------- */

struct parse_case {
    const char *name;
    const struct scim_resource_type *rt;
    const char *body; /* whole message */
    enum status want;
};

#define PO      "'schemas':['" PATCH_OP "']"
#define OPS(x)  "{" PO ",'Operations':" x "}"
#define PATH(p) OPS("[{'op':'replace','path':'" p "','value':'x'}]")

/* clang-format off */
static const struct parse_case parse_cases[] = {
    { "body not an object", USR, "[1]", ERR_INVALID_SYNTAX },
    { "missing schemas", USR, "{'Operations':[{'op':'add','path':'title','value':'x'}]}", ERR_INVALID_SYNTAX },
    { "schemas not an array", USR, "{'schemas':'" PATCH_OP "','Operations':[{'op':'add','path':'title','value':'x'}]}", ERR_INVALID_SYNTAX },
    { "wrong schemas", USR, "{'schemas':['" USER_URN "'],'Operations':[{'op':'add','path':'title','value':'x'}]}", ERR_INVALID_SYNTAX },
    { "empty schemas", USR, "{'schemas':[],'Operations':[{'op':'add','path':'title','value':'x'}]}", ERR_INVALID_SYNTAX },
    { "schemas of numbers", USR, "{'schemas':[1],'Operations':[{'op':'add','path':'title','value':'x'}]}", ERR_INVALID_SYNTAX },
    { "missing Operations", USR, "{" PO "}", ERR_INVALID_SYNTAX },
    { "Operations not an array", USR, "{" PO ",'Operations':{'op':'add','path':'title','value':'x'}}", ERR_INVALID_SYNTAX },
    { "Operations null", USR, "{" PO ",'Operations':null}", ERR_INVALID_SYNTAX },
    { "Operations empty", USR, OPS("[]"), ERR_INVALID_SYNTAX },
    { "operation not an object", USR, OPS("['add']"), ERR_INVALID_SYNTAX },
    { "operation null", USR, OPS("[null]"), ERR_INVALID_SYNTAX },
    { "op missing", USR, OPS("[{'path':'title','value':'x'}]"), ERR_INVALID_SYNTAX },
    { "op not a string", USR, OPS("[{'op':1,'path':'title','value':'x'}]"), ERR_INVALID_SYNTAX },
    { "op null", USR, OPS("[{'op':null,'path':'title','value':'x'}]"), ERR_INVALID_SYNTAX },
    { "op move", USR, OPS("[{'op':'move','from':'title','path':'nickName'}]"), ERR_INVALID_SYNTAX },
    { "op copy", USR, OPS("[{'op':'copy','from':'title','path':'nickName'}]"), ERR_INVALID_SYNTAX },
    { "op test", USR, OPS("[{'op':'test','path':'title','value':'x'}]"), ERR_INVALID_SYNTAX },
    { "op delete", USR, OPS("[{'op':'delete','path':'title'}]"), ERR_INVALID_SYNTAX },
    { "op empty", USR, OPS("[{'op':'','path':'title','value':'x'}]"), ERR_INVALID_SYNTAX },
    { "second op bad", USR, OPS("[{'op':'add','path':'title','value':'x'},{'op':'merge'}]"), ERR_INVALID_SYNTAX },
    { "remove without path", USR, OPS("[{'op':'remove'}]"), ERR_NO_TARGET },
    { "remove with null path", USR, OPS("[{'op':'remove','path':null}]"), ERR_NO_TARGET },
    { "add without value", USR, OPS("[{'op':'add','path':'title'}]"), ERR_INVALID_VALUE },
    { "replace without value", USR, OPS("[{'op':'replace','path':'title'}]"), ERR_INVALID_VALUE },
    { "add of null", USR, OPS("[{'op':'add','path':'title','value':null}]"), ERR_INVALID_VALUE },
    { "add without path, value a string", USR, OPS("[{'op':'add','value':'x'}]"), ERR_INVALID_VALUE },
    { "replace without path, value an array", USR, OPS("[{'op':'replace','value':[{'active':false}]}]"), ERR_INVALID_VALUE },
    { "replace without path or value", USR, OPS("[{'op':'replace'}]"), ERR_INVALID_VALUE },
    { "remove of members with values naming nothing", GRP, OPS("[{'op':'remove','path':'members','value':[{'display':'x'}]}]"), ERR_INVALID_VALUE },
    { "path a number", USR, OPS("[{'op':'replace','path':1,'value':'x'}]"), ERR_INVALID_PATH },
    { "path an object", USR, OPS("[{'op':'replace','path':{},'value':'x'}]"), ERR_INVALID_PATH },
    { "path empty", USR, PATH(""), ERR_INVALID_PATH },
    { "unbalanced [", USR, PATH("emails[type eq \\'work\\'"), ERR_INVALID_PATH },
    { "unbalanced ]", USR, PATH("emails]"), ERR_INVALID_PATH },
    { "nested brackets", USR, PATH("emails[type[x] eq \\'w\\']"), ERR_INVALID_PATH },
    { "trailing dot", USR, PATH("name."), ERR_INVALID_PATH },
    { "leading dot", USR, PATH(".name"), ERR_INVALID_PATH },
    { "double dot", USR, PATH("name..givenName"), ERR_INVALID_PATH },
    { "sub of a sub", USR, PATH("name.givenName.x"), ERR_INVALID_PATH },
    { "bad filter in brackets", USR, PATH("emails[type eq]"), ERR_INVALID_PATH },
    { "unknown operator in brackets", USR, PATH("emails[type foo \\'w\\']"), ERR_INVALID_PATH },
    { "empty brackets", USR, PATH("emails[]"), ERR_INVALID_PATH },
    { "unterminated string in brackets", USR, PATH("emails[type eq \\'w]"), ERR_INVALID_PATH },
    { "unknown attribute", USR, PATH("foo"), ERR_INVALID_PATH },
    { "unknown sub-attribute", USR, PATH("name.foo"), ERR_INVALID_PATH },
    { "unknown sub-attribute in brackets", USR, PATH("emails[nosuch eq \\'x\\']"), ERR_INVALID_PATH },
    { "unknown sub-attribute after brackets", USR, PATH("emails[type eq \\'x\\'].nosuch"), ERR_INVALID_PATH },
    { "unknown schema URN", USR, PATH("urn:bogus:params:scim:2.0:User:userName"), ERR_INVALID_PATH },
    { "bare urn", USR, PATH("urn:"), ERR_INVALID_PATH },
    { "extension URN alone with a string value", USR, PATH(ENT), ERR_INVALID_VALUE },
    { "extension URN alone with an array value", USR, OPS("[{'op':'add','path':'" ENT "','value':[{'department':'x'}]}]"), ERR_INVALID_VALUE },
    { "extension URN alone with an object", USR, OPS("[{'op':'add','path':'" ENT "','value':{'department':'x'}}]"), OK },
    { "extension URN alone, remove", USR, OPS("[{'op':'remove','path':'" ENT "'}]"), OK },
    { "extension URN alone, another case", USR, OPS("[{'op':'replace','path':'URN:IETF:params:scim:schemas:extension:enterprise:2.0:user','value':{}}]"), OK },
    { "extension URN with a filter", USR, PATH(ENT "[department eq \\'x\\']"), ERR_INVALID_PATH },
    { "core URN alone", USR, OPS("[{'op':'replace','path':'" USER_URN "','value':{'title':'x'}}]"), ERR_INVALID_PATH },
    { "core URN alone, remove", USR, OPS("[{'op':'remove','path':'" USER_URN "'}]"), ERR_INVALID_PATH },
    { "unknown extension attribute", USR, PATH(ENT ":nosuch"), ERR_INVALID_PATH },
    { "filter on single-valued", USR, PATH("title[value eq \\'x\\']"), ERR_INVALID_PATH },
    { "filter on complex single-valued", USR, PATH("name[givenName eq \\'x\\']"), ERR_INVALID_PATH },
    { "text after ]", USR, PATH("emails[type eq \\'work\\']x"), ERR_INVALID_PATH },
    { "dot after ] and nothing", USR, PATH("emails[type eq \\'work\\']."), ERR_INVALID_PATH },
    { "two subs after ]", USR, PATH("emails[type eq \\'work\\'].value.x"), ERR_INVALID_PATH },
    { "sub before [", USR, PATH("emails.value[type eq \\'x\\']"), ERR_INVALID_PATH },
    { "space in name", USR, PATH("user name"), ERR_INVALID_PATH },
    { "leading space", USR, PATH(" userName"), ERR_INVALID_PATH },
    { "digit first", USR, PATH("1userName"), ERR_INVALID_PATH },
    { "nested value path in brackets", USR, PATH("emails[emails[type eq \\'x\\']]"), ERR_INVALID_PATH },
    { "user attribute on a group", GRP, PATH("emails"), ERR_INVALID_PATH },
    { "extension on a group", GRP, PATH(ENT ":department"), ERR_INVALID_PATH },
    { "Operations in another case", USR, "{" PO ",'operations':[{'op':'add','path':'title','value':'x'}]}", OK },
    { "op in another case", USR, OPS("[{'op':'ADD','path':'title','value':'x'}]"), OK },
    { "structural keys in another case", USR, OPS("[{'OP':'add','Path':'title','VALUE':'x'}]"), OK },
    { "extra schema besides PatchOp", USR, "{'schemas':['" PATCH_OP "','urn:x'],'Operations':[{'op':'add','path':'title','value':'x'}]}", OK },
    { "remove with a value on a single-valued attribute", USR, OPS("[{'op':'remove','path':'title','value':'x'}]"), OK },
    { "bracket inside a filter string", GRP, PATH("members[value eq \\'a]b\\']"), OK },
    { "escaped quote inside a filter string", GRP, PATH("members[value eq \\'a\\\\\\'b\\']"), OK },
};
/* clang-format on */

Test(patch, parse_table)
{
    size_t n = sizeof(parse_cases) / sizeof(parse_cases[0]);
    for (size_t i = 0; i < n; i++) {
        const struct parse_case *c = &parse_cases[i];
        json_t *body = J(c->body);
        struct scim_patch *p = NULL;
        struct scim_error err = { OK, "" };
        enum status rc = scim_patch_parse(c->rt, body, &p, &err);
        cr_expect_eq(rc, c->want, "%s: status %s (%s), want %s", c->name, status_name(rc),
                     err.detail, status_name(c->want));
        if (rc == OK)
            cr_expect_not_null(p, "%s", c->name);
        else
            cr_expect_null(p, "%s", c->name);
        if (rc != OK)
            cr_expect_neq(err.detail[0], '\0', "%s: no detail", c->name);
        scim_patch_free(p);
        json_decref(body);
    }
}

static json_t *many_ops(size_t n)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            ops, json_pack("{s:s, s:s, s:s}", "op", "replace", "path", "title", "value", "x"));
    json_t *body = json_object();
    json_object_set_new(body, "schemas", json_pack("[s]", PATCH_OP));
    json_object_set_new(body, "Operations", ops);
    return body;
}

Test(patch, too_many_operations)
{
    json_t *body = many_ops(SCIM_PATCH_MAX_OPS + 1);
    struct scim_patch *p = NULL;
    struct scim_error err = { OK, "" };
    cr_expect_eq(scim_patch_parse(&scim_resource_user, body, &p, &err), ERR_TOO_MANY);
    cr_expect_null(p);
    json_decref(body);

    body = many_ops(SCIM_PATCH_MAX_OPS);
    cr_expect_eq(scim_patch_parse(&scim_resource_user, body, &p, &err), OK);
    cr_expect_eq(p->n_ops, SCIM_PATCH_MAX_OPS);
    scim_patch_free(p);
    json_decref(body);
}

Test(patch, long_path_rejected)
{
    char path[8192];
    memset(path, 'a', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    struct scim_patch_path *p = NULL;
    struct scim_error err = { OK, "" };
    cr_expect_eq(scim_patch_path_parse(&scim_resource_user, path, &p, &err), ERR_INVALID_PATH);
    cr_expect_null(p);
    cr_expect_eq(scim_patch_path_parse(&scim_resource_user, NULL, &p, &err), ERR_INVALID_PATH);
}

/* ---- what the path parser resolves ------------------------------------------------------------
 */

struct path_case {
    const struct scim_resource_type *rt;
    const char *text;
    const char *urn;  /* as written, or NULL */
    const char *attr; /* as written */
    const char *sub;  /* as written, or NULL */
    bool filter;
    const char *schema; /* resolved schema id */
    const char *canonical_attr;
    const char *canonical_sub;
};

/* clang-format off */
static const struct path_case path_cases[] = {
    { USR, "userName", NULL, "userName", NULL, false, USER_URN, "userName", NULL },
    { USR, "USERNAME", NULL, "USERNAME", NULL, false, USER_URN, "userName", NULL },
    { USR, "id", NULL, "id", NULL, false, USER_URN, "id", NULL },
    { USR, "name.givenName", NULL, "name", "givenName", false, USER_URN, "name", "givenName" },
    { USR, "emails[type eq \"work\"].value", NULL, "emails", "value", true, USER_URN, "emails", "value" },
    { USR, "emails[type eq \"work\"]", NULL, "emails", NULL, true, USER_URN, "emails", NULL },
    { USR, ENT ":manager.value", ENT, "manager", "value", false, ENT, "manager", "value" },
    { USR, ENT ":employeeNumber", ENT, "employeeNumber", NULL, false, ENT, "employeeNumber", NULL },
    { USR, USER_URN ":name.familyName", USER_URN, "name", "familyName", false, USER_URN, "name", "familyName" },
    { USR, "urn:ietf:params:scim:schemas:core:2.0:user:emails[type eq \"work\"].value",
      "urn:ietf:params:scim:schemas:core:2.0:user", "emails", "value", true, USER_URN, "emails", "value" },
    { USR, "addresses[type eq \"work\"].streetAddress", NULL, "addresses", "streetAddress", true, USER_URN, "addresses", "streetAddress" },
    { GRP, "members[value eq \"2819c223\"]", NULL, "members", NULL, true, GROUP_URN, "members", NULL },
    { GRP, "members.$ref", NULL, "members", "$ref", false, GROUP_URN, "members", "$ref" },
    { GRP, "displayName", NULL, "displayName", NULL, false, GROUP_URN, "displayName", NULL },
};
/* clang-format on */

Test(patch, path_fields)
{
    for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *c = &path_cases[i];
        struct scim_patch_path *p = NULL;
        struct scim_error err = { OK, "" };
        enum status rc = scim_patch_path_parse(c->rt, c->text, &p, &err);
        cr_assert_eq(rc, OK, "%s: %s", c->text, err.detail);
        if (c->urn)
            cr_expect_str_eq(p->urn, c->urn, "%s", c->text);
        else
            cr_expect_null(p->urn, "%s", c->text);
        cr_expect_str_eq(p->attr, c->attr, "%s", c->text);
        if (c->sub)
            cr_expect_str_eq(p->sub, c->sub, "%s", c->text);
        else
            cr_expect_null(p->sub, "%s", c->text);
        cr_expect_eq(p->filter != NULL, c->filter, "%s", c->text);
        cr_expect_str_eq(p->ref.schema->id, c->schema, "%s", c->text);
        cr_expect_str_eq(p->ref.attr->name, c->canonical_attr, "%s", c->text);
        if (c->canonical_sub)
            cr_expect_str_eq(p->ref.sub->name, c->canonical_sub, "%s", c->text);
        else
            cr_expect_null(p->ref.sub, "%s", c->text);
        scim_patch_path_free(p);
    }
}

/* The value filter is bound relative to the multi-valued attribute. */
Test(patch, filter_bound_relative)
{
    struct scim_patch_path *p = NULL;
    struct scim_error err = { OK, "" };
    cr_assert_eq(scim_patch_path_parse(&scim_resource_user,
                                       "emails[type eq \"work\" and primary eq \"True\"].value", &p,
                                       &err),
                 OK, "%s", err.detail);
    cr_assert_eq(p->filter->op, SCIM_FILTER_AND);
    cr_expect_str_eq(p->filter->left->path.ref.attr->name, "emails");
    cr_expect_str_eq(p->filter->left->path.ref.sub->name, "type");
    cr_expect_str_eq(p->filter->right->path.ref.sub->name, "primary");
    cr_expect_eq(p->filter->right->value.kind, SCIM_VALUE_BOOLEAN);
    scim_patch_path_free(p);
    scim_patch_path_free(NULL);
    scim_patch_free(NULL);
}

/* ---- ownership and results that validate ------------------------------------------------------
 */

Test(patch, parse_copies_values)
{
    json_t *body = message("[{'op':'add','path':'emails','value':[{'value':'x@y'}]}]");
    struct scim_patch *p = NULL;
    cr_assert_eq(scim_patch_parse(&scim_resource_user, body, &p, NULL), OK);
    json_decref(body); /* the patch owns its values */
    cr_expect_eq(p->ops[0].kind, SCIM_PATCH_ADD);
    cr_expect(json_is_array(p->ops[0].value));
    json_t *doc = J(D0);
    cr_expect_eq(scim_patch_apply(p, &scim_resource_user, &doc, NULL), OK);
    cr_expect_eq(json_array_size(json_object_get(doc, "emails")), 1);
    json_decref(doc);
    scim_patch_free(p);
}

Test(patch, apply_rejects_non_object)
{
    json_t *body = message("[{'op':'add','path':'title','value':'x'}]");
    struct scim_patch *p = NULL;
    cr_assert_eq(scim_patch_parse(&scim_resource_user, body, &p, NULL), OK);
    json_t *doc = json_array();
    struct scim_error err = { OK, "" };
    cr_expect_neq(scim_patch_apply(p, &scim_resource_user, &doc, &err), OK);
    json_decref(doc);
    scim_patch_free(p);
    json_decref(body);
}

/* The Entra batched sample, applied to a stored user, passes validation of the result. */
Test(patch, entra_result_validates)
{
    json_t *doc = J("{" CORE "," U "," NAME ",'emails':[" WORK "],'meta':{'resourceType':'User'}}");
    json_t *body = message(
        "[{'op':'replace','path':'emails[type eq \\'work\\'].value','value':'TestMhvaes@test.microsoft.com'},"
        "{'op':'replace','value':{'displayName':'Bjfe','name.givenName':'Kkom','name.familyName':'Unua',"
        "'" ENT ":employeeNumber':'Aklq','active':'False'}}]");
    struct scim_error err = { OK, "" };
    cr_assert_eq(run(&scim_resource_user, true, body, &doc, &err), OK, "%s", err.detail);
    json_t *valid = NULL;
    cr_expect_eq(scim_schema_validate(&scim_resource_user, doc, SCIM_VALIDATE_RESULT, &valid, &err),
                 OK, "%s", err.detail);
    cr_expect(json_is_false(json_object_get(valid, "active")));
    cr_expect_str_eq(
        json_string_value(json_object_get(json_object_get(valid, ENT), "employeeNumber")), "Aklq");
    json_decref(valid);
    json_decref(doc);
    json_decref(body);
}
