/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema_test.c - tests for src/scim/schema.c: tables, path resolution,
 * validation and normalisation of request bodies, projection, discovery.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "scim/schema.h"

#include "core/str.h"

#define ENT        SCIM_SCHEMA_ENTERPRISE_USER
#define CORE_USER  SCIM_SCHEMA_USER
#define CORE_GROUP SCIM_SCHEMA_GROUP

static const struct scim_resource_type *rt_of(char c)
{
    return c == 'G' ? &scim_resource_group : &scim_resource_user;
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    cr_assert_not_null(j, "bad test JSON: %s (%s)", text, jerr.text);
    return j;
}

static char *dump(const json_t *j)
{
    return j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) : str_dup("(null)");
}

/* ---- tables and lookups ------------------------------------------------------------ */

Test(schema, lookups)
{
    cr_expect_eq(scim_schema_find(&scim_schema_user, "USERNAME"),
                 scim_schema_find(&scim_schema_user, "userName"));
    cr_expect_str_eq(scim_schema_find(&scim_schema_user, "emails")->name, "emails");
    cr_expect_null(scim_schema_find(&scim_schema_user, "id"),
                   "common attrs are not in the core table");
    cr_expect_null(scim_schema_find(&scim_schema_user, "nope"));
    cr_expect_null(scim_schema_find(&scim_schema_user, NULL));
    cr_expect_null(scim_schema_find(NULL, "userName"));
    const struct scim_attr *name = scim_schema_find(&scim_schema_user, "name");
    cr_expect_str_eq(scim_attr_find_sub(name, "GIVENNAME")->name, "givenName");
    cr_expect_null(scim_attr_find_sub(name, "given"));
    cr_expect_null(scim_attr_find_sub(scim_schema_find(&scim_schema_user, "userName"), "value"));
    cr_expect_eq(
        scim_resource_find_extension(&scim_resource_user,
                                     "URN:IETF:params:scim:schemas:extension:enterprise:2.0:user"),
        &scim_schema_enterprise_user);
    cr_expect_null(scim_resource_find_extension(&scim_resource_group, ENT));
    cr_expect_null(scim_resource_find_extension(&scim_resource_user, CORE_USER));
    cr_expect_eq(scim_schema_by_urn(CORE_GROUP), &scim_schema_group);
    cr_expect_eq(scim_schema_by_urn("urn:ietf:params:scim:schemas:core:2.0:user"),
                 &scim_schema_user);
    cr_expect_null(scim_schema_by_urn("urn:x"));
    cr_expect_eq(scim_resource_type_by_id("User"), &scim_resource_user);
    cr_expect_eq(scim_resource_type_by_id("Group"), &scim_resource_group);
    cr_expect_null(scim_resource_type_by_id("Device"));
    cr_expect_str_eq(scim_resource_user.endpoint, "/Users");
    cr_expect_str_eq(scim_resource_group.endpoint, "/Groups");

    const struct scim_attr *pw = scim_schema_find(&scim_schema_user, "password");
    cr_expect_eq(pw->mutability, SCIM_MUT_WRITE_ONLY);
    cr_expect_eq(pw->returned, SCIM_RET_NEVER);
    const struct scim_attr *un = scim_schema_find(&scim_schema_user, "userName");
    cr_expect(un->required && !un->case_exact && un->uniqueness == SCIM_UNIQ_SERVER);
    cr_expect_eq(scim_common_attrs[0].returned, SCIM_RET_ALWAYS);
    cr_expect(scim_schema_find(&scim_schema_group, "displayName")->required);
}

/* ---- resolve ----------------------------------------------------------------------- */

struct resolve_case {
    char rt;
    const char *path;
    enum status want;
    const char *schema; /* expected schema id, on OK */
    const char *attr;
    const char *sub;
};

/* clang-format off */
static const struct resolve_case resolve_cases[] = {
    { 'U', "userName",                 OK, CORE_USER, "userName", NULL },
    { 'U', "USERNAME",                 OK, CORE_USER, "userName", NULL },
    { 'U', "username",                 OK, CORE_USER, "userName", NULL },
    { 'U', "name.givenName",           OK, CORE_USER, "name", "givenName" },
    { 'U', "NAME.FAMILYNAME",          OK, CORE_USER, "name", "familyName" },
    { 'U', "emails.value",             OK, CORE_USER, "emails", "value" },
    { 'U', "emails.primary",           OK, CORE_USER, "emails", "primary" },
    { 'U', "emails",                   OK, CORE_USER, "emails", NULL },
    { 'U', "groups.$ref",              OK, CORE_USER, "groups", "$ref" },
    { 'U', "x509Certificates.value",   OK, CORE_USER, "x509Certificates", "value" },
    { 'U', "addresses.postalCode",     OK, CORE_USER, "addresses", "postalCode" },
    { 'U', "meta.lastModified",        OK, CORE_USER, "meta", "lastModified" },
    { 'U', "meta.created",             OK, CORE_USER, "meta", "created" },
    { 'U', "id",                       OK, CORE_USER, "id", NULL },
    { 'U', "externalId",               OK, CORE_USER, "externalId", NULL },
    { 'U', "active",                   OK, CORE_USER, "active", NULL },
    { 'U', CORE_USER ":userName",      OK, CORE_USER, "userName", NULL },
    { 'U', CORE_USER ":name.givenName", OK, CORE_USER, "name", "givenName" },
    { 'U', "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName", OK, CORE_USER, "userName", NULL },
    { 'U', CORE_USER ":id",            OK, CORE_USER, "id", NULL },
    { 'U', ENT ":manager.value",       OK, ENT, "manager", "value" },
    { 'U', ENT ":manager",             OK, ENT, "manager", NULL },
    { 'U', ENT ":department",          OK, ENT, "department", NULL },
    { 'U', ENT ":EMPLOYEENUMBER",      OK, ENT, "employeeNumber", NULL },
    { 'U', "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:costCenter", OK, ENT, "costCenter", NULL },
    { 'G', "displayName",              OK, CORE_GROUP, "displayName", NULL },
    { 'G', "members.value",            OK, CORE_GROUP, "members", "value" },
    { 'G', "members.TYPE",             OK, CORE_GROUP, "members", "type" },
    { 'G', CORE_GROUP ":members",      OK, CORE_GROUP, "members", NULL },
    { 'G', "meta.version",             OK, CORE_GROUP, "meta", "version" },
    { 'G', "externalId",               OK, CORE_GROUP, "externalId", NULL },
    /* invalid */
    { 'U', "",                         ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "nope",                     ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "department",               ERR_INVALID_PATH, NULL, NULL, NULL }, /* extension attrs need their URN */
    { 'U', "manager.value",            ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "name.nope",                ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "name.",                    ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ".name",                    ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "name.givenName.x",         ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "userName.value",           ERR_INVALID_PATH, NULL, NULL, NULL }, /* not complex */
    { 'U', "active.x",                 ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "displayName ",             ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "urn:foo:bar:userName",     ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', CORE_GROUP ":displayName",  ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', CORE_USER,                  ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', CORE_USER ":",              ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ENT,                        ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ENT ":",                    ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ENT ":userName",            ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ENT ":manager.nope",        ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ENT ":id",                  ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', ENT "x:department",         ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "urn:",                     ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'U', "emails[type eq \"work\"].value", ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'G', "userName",                 ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'G', ENT ":department",          ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'G', "members.nope",             ERR_INVALID_PATH, NULL, NULL, NULL },
    { 'G', "meta.nope",                ERR_INVALID_PATH, NULL, NULL, NULL },
};
/* clang-format on */

Test(schema, resolve_table)
{
    size_t n = sizeof(resolve_cases) / sizeof(resolve_cases[0]);
    cr_assert_geq(n, 30);
    for (size_t i = 0; i < n; i++) {
        const struct resolve_case *c = &resolve_cases[i];
        struct scim_attr_ref ref;
        struct scim_error err;
        scim_error_clear(&err);
        enum status rc = scim_schema_resolve(rt_of(c->rt), c->path, &ref, &err);
        cr_expect_eq(rc, c->want, "case %zu '%s': got %d want %d", i, c->path, rc, c->want);
        if (rc != OK || c->want != OK) {
            if (rc != OK)
                cr_expect_neq(err.detail[0], '\0', "case %zu: empty detail", i);
            continue;
        }
        cr_expect_str_eq(ref.schema->id, c->schema, "case %zu '%s'", i, c->path);
        cr_expect_str_eq(ref.attr->name, c->attr, "case %zu '%s'", i, c->path);
        if (c->sub)
            cr_expect(ref.sub && strcmp(ref.sub->name, c->sub) == 0, "case %zu '%s'", i, c->path);
        else
            cr_expect_null(ref.sub, "case %zu '%s'", i, c->path);
    }
}

Test(schema, resolve_error_names_attribute)
{
    struct scim_attr_ref ref;
    struct scim_error err;
    cr_assert_eq(scim_schema_resolve(&scim_resource_user, "bogusAttr", &ref, &err),
                 ERR_INVALID_PATH);
    cr_expect_not_null(strstr(err.detail, "bogusAttr"), "%s", err.detail);
    cr_expect_eq(scim_schema_resolve(&scim_resource_user, NULL, &ref, &err), ERR_INVALID_PATH);
}

/* ---- validate ---------------------------------------------------------------------- */

struct validate_case {
    const char *label;
    char rt;
    enum scim_validate_mode mode;
    const char *in;
    enum status want;
    const char *out; /* expected normalised document (compared as JSON), on OK */
};

#define C   SCIM_VALIDATE_CREATE
#define R   SCIM_VALIDATE_REPLACE
#define RES SCIM_VALIDATE_RESULT
#define US  "\"schemas\":[\"" CORE_USER "\"]"
#define UES "\"schemas\":[\"" CORE_USER "\",\"" ENT "\"]"
#define GS  "\"schemas\":[\"" CORE_GROUP "\"]"

/* clang-format off */
static const struct validate_case validate_cases[] = {
    { "minimal user", 'U', C, "{\"userName\":\"bjensen\"}", OK, "{" US ",\"userName\":\"bjensen\"}" },
    { "okta create", 'U', C,
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}],"
      "\"displayName\":\"Test User\",\"locale\":\"en-US\",\"externalId\":\"00ujl29u0le5T6Aj10h7\","
      "\"groups\":[],\"password\":\"1mz050nq\",\"active\":true}", OK,
      "{" US ",\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}],"
      "\"displayName\":\"Test User\",\"locale\":\"en-US\",\"externalId\":\"00ujl29u0le5T6Aj10h7\",\"active\":true}" },
    { "okta replace with id", 'U', R,
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"23a35c27-23d3-4c03-b4c5-6443c09e7173\","
      "\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":\"Another\",\"familyName\":\"User\"},"
      "\"active\":false,\"password\":\"x\",\"groups\":[]}", OK,
      "{" US ",\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":\"Another\",\"familyName\":\"User\"},\"active\":false}" },
    { "entra create", 'U', C,
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
      "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\",\"userName\":\"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1\","
      "\"active\":true,\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Test_User_fd0ea19b@testuser.com\"}],"
      "\"meta\":{\"resourceType\":\"User\"},\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"familyName\",\"givenName\":\"givenName\"},"
      "\"roles\":[]}", OK,
      "{" US ",\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\",\"userName\":\"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1\","
      "\"active\":true,\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Test_User_fd0ea19b@testuser.com\"}],"
      "\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"familyName\",\"givenName\":\"givenName\"}}" },
    { "entra create with enterprise + manager string", 'U', C,
      "{\"userName\":\"a@b.c\",\"active\":\"True\","
      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"42\",\"department\":\"R&D\",\"manager\":\"m-1\"}}", OK,
      "{" UES ",\"userName\":\"a@b.c\",\"active\":true,\"" ENT "\":{\"employeeNumber\":\"42\",\"department\":\"R&D\",\"manager\":{\"value\":\"m-1\"}}}" },
    { "manager object keeps value, drops readOnly displayName", 'U', C,
      "{\"userName\":\"a\",\"" ENT "\":{\"manager\":{\"value\":\"m\",\"displayName\":\"Boss\",\"$REF\":\"../Users/m\"}}}", OK,
      "{" UES ",\"userName\":\"a\",\"" ENT "\":{\"manager\":{\"value\":\"m\",\"$ref\":\"../Users/m\"}}}" },
    { "empty manager string is no manager", 'U', C,
      "{\"userName\":\"a\",\"" ENT "\":{\"manager\":\"\"}}", OK, "{" US ",\"userName\":\"a\"}" },
    { "manager number", 'U', C, "{\"userName\":\"a\",\"" ENT "\":{\"manager\":5}}", ERR_INVALID_VALUE, NULL },
    { "extension URN in other case is canonicalised", 'U', C,
      "{\"userName\":\"a\",\"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER\":{\"DEPARTMENT\":\"x\"}}", OK,
      "{" UES ",\"userName\":\"a\",\"" ENT "\":{\"department\":\"x\"}}" },
    { "extension not an object", 'U', C, "{\"userName\":\"a\",\"" ENT "\":\"x\"}", ERR_INVALID_VALUE, NULL },
    { "extension array", 'U', C, "{\"userName\":\"a\",\"" ENT "\":[]}", ERR_INVALID_VALUE, NULL },
    { "extension null is absent", 'U', C, "{\"userName\":\"a\",\"" ENT "\":null}", OK, "{" US ",\"userName\":\"a\"}" },
    { "extension with only unknown attrs is dropped", 'U', C,
      "{\"userName\":\"a\",\"" ENT "\":{\"foo\":1}}", OK, "{" US ",\"userName\":\"a\"}" },
    { "extension attribute wrong type", 'U', C, "{\"userName\":\"a\",\"" ENT "\":{\"costCenter\":7}}", ERR_INVALID_VALUE, NULL },
    { "qualified extension attribute key", 'U', C,
      "{\"userName\":\"a\",\"" ENT ":department\":\"Ops\"}", OK, "{" UES ",\"userName\":\"a\",\"" ENT "\":{\"department\":\"Ops\"}}" },
    { "qualified core attribute key", 'U', C,
      "{\"" CORE_USER ":userName\":\"a\",\"" CORE_USER ":name\":{\"givenName\":\"G\"}}", OK,
      "{" US ",\"userName\":\"a\",\"name\":{\"givenName\":\"G\"}}" },
    { "core URN used as a container", 'U', C,
      "{\"" CORE_USER "\":{\"userName\":\"a\",\"nickName\":\"n\"}}", OK, "{" US ",\"userName\":\"a\",\"nickName\":\"n\"}" },
    { "unknown URN extension object kept verbatim", 'U', C,
      "{\"userName\":\"a\",\"urn:example:custom:1.0:User\":{\"badge\":7,\"nested\":{\"x\":[1]}}}", OK,
      "{\"schemas\":[\"" CORE_USER "\",\"urn:example:custom:1.0:User\"],\"userName\":\"a\",\"urn:example:custom:1.0:User\":{\"badge\":7,\"nested\":{\"x\":[1]}}}" },
    { "unknown URN with non-object value dropped", 'U', C,
      "{\"userName\":\"a\",\"urn:example:custom:1.0:User\":\"x\"}", OK, "{" US ",\"userName\":\"a\"}" },
    { "unknown qualified attr of known extension dropped", 'U', C,
      "{\"userName\":\"a\",\"" ENT ":nope\":{\"x\":1}}", OK, "{" US ",\"userName\":\"a\"}" },
    { "schemas order: core, known ext, unknown", 'U', C,
      "{\"urn:example:x\":{\"a\":1},\"userName\":\"a\",\"" ENT "\":{\"division\":\"d\"}}", OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\",\"urn:example:x\"],\"urn:example:x\":{\"a\":1},\"userName\":\"a\",\"" ENT "\":{\"division\":\"d\"}}" },
    { "attribute names canonicalised", 'U', C,
      "{\"USERNAME\":\"a\",\"Name\":{\"GivenName\":\"g\",\"familyname\":\"f\"},\"EMAILS\":[{\"VALUE\":\"e\",\"Primary\":\"TRUE\"}],\"ExternalID\":\"x\"}", OK,
      "{" US ",\"userName\":\"a\",\"name\":{\"givenName\":\"g\",\"familyName\":\"f\"},\"emails\":[{\"value\":\"e\",\"primary\":true}],\"externalId\":\"x\"}" },
    { "unknown top-level attrs dropped", 'U', C, "{\"userName\":\"a\",\"foo\":1,\"bar\":{\"x\":1}}", OK, "{" US ",\"userName\":\"a\"}" },
    { "unknown sub-attrs dropped", 'U', C,
      "{\"userName\":\"a\",\"name\":{\"givenName\":\"g\",\"nick\":\"x\"},\"emails\":[{\"value\":\"e\",\"label\":\"x\"}]}", OK,
      "{" US ",\"userName\":\"a\",\"name\":{\"givenName\":\"g\"},\"emails\":[{\"value\":\"e\"}]}" },
    { "readOnly id/meta/groups dropped on create", 'U', C,
      "{\"userName\":\"a\",\"id\":\"1\",\"meta\":{\"version\":\"W/\\\"1\\\"\"},\"groups\":[{\"value\":\"g\"}]}", OK, "{" US ",\"userName\":\"a\"}" },
    { "password dropped", 'U', C, "{\"userName\":\"a\",\"password\":\"secret\"}", OK, "{" US ",\"userName\":\"a\"}" },
    { "password wrong type still dropped", 'U', C, "{\"userName\":\"a\",\"password\":5}", OK, "{" US ",\"userName\":\"a\"}" },
    { "null values removed", 'U', C,
      "{\"userName\":\"a\",\"displayName\":null,\"name\":{\"givenName\":null,\"familyName\":\"f\"},\"emails\":null,\"phoneNumbers\":[null]}", OK,
      "{" US ",\"userName\":\"a\",\"name\":{\"familyName\":\"f\"}}" },
    { "complex that becomes empty is removed", 'U', C, "{\"userName\":\"a\",\"name\":{\"middleName\":null}}", OK, "{" US ",\"userName\":\"a\"}" },
    { "empty array removed", 'U', C, "{\"userName\":\"a\",\"emails\":[]}", OK, "{" US ",\"userName\":\"a\"}" },
    { "boolean strings coerced", 'U', C,
      "{\"userName\":\"a\",\"active\":\"False\",\"emails\":[{\"value\":\"e\",\"primary\":\"true\"}]}", OK,
      "{" US ",\"userName\":\"a\",\"active\":false,\"emails\":[{\"value\":\"e\",\"primary\":true}]}" },
    { "boolean bad string", 'U', C, "{\"userName\":\"a\",\"active\":\"yes\"}", ERR_INVALID_VALUE, NULL },
    { "boolean number", 'U', C, "{\"userName\":\"a\",\"active\":1}", ERR_INVALID_VALUE, NULL },
    { "nested boolean wrong", 'U', C, "{\"userName\":\"a\",\"emails\":[{\"value\":\"e\",\"primary\":0}]}", ERR_INVALID_VALUE, NULL },
    { "string given number", 'U', C, "{\"userName\":\"a\",\"displayName\":5}", ERR_INVALID_VALUE, NULL },
    { "string given bool", 'U', C, "{\"userName\":\"a\",\"title\":true}", ERR_INVALID_VALUE, NULL },
    { "string given object", 'U', C, "{\"userName\":\"a\",\"locale\":{}}", ERR_INVALID_VALUE, NULL },
    { "string given array", 'U', C, "{\"userName\":\"a\",\"timezone\":[\"x\"]}", ERR_INVALID_VALUE, NULL },
    { "userName given number", 'U', C, "{\"userName\":5}", ERR_INVALID_VALUE, NULL },
    { "reference given number", 'U', C, "{\"userName\":\"a\",\"profileUrl\":1}", ERR_INVALID_VALUE, NULL },
    { "binary given number", 'U', C, "{\"userName\":\"a\",\"x509Certificates\":[{\"value\":1}]}", ERR_INVALID_VALUE, NULL },
    { "binary string", 'U', C, "{\"userName\":\"a\",\"x509Certificates\":[{\"value\":\"TUlJ\"}]}", OK,
      "{" US ",\"userName\":\"a\",\"x509Certificates\":[{\"value\":\"TUlJ\"}]}" },
    { "complex given string", 'U', C, "{\"userName\":\"a\",\"name\":\"Babs\"}", ERR_INVALID_VALUE, NULL },
    { "complex given array", 'U', C, "{\"userName\":\"a\",\"name\":[{\"givenName\":\"g\"}]}", ERR_INVALID_VALUE, NULL },
    { "multi given single object", 'U', C, "{\"userName\":\"a\",\"emails\":{\"value\":\"e\"}}", ERR_INVALID_VALUE, NULL },
    { "multi given single string", 'U', C, "{\"userName\":\"a\",\"emails\":\"e@x\"}", ERR_INVALID_VALUE, NULL },
    { "multi complex element a string", 'U', C, "{\"userName\":\"a\",\"emails\":[\"e@x\"]}", ERR_INVALID_VALUE, NULL },
    { "multi complex element an array", 'U', C, "{\"userName\":\"a\",\"roles\":[[]]}", ERR_INVALID_VALUE, NULL },
    { "sub-attribute wrong type", 'U', C, "{\"userName\":\"a\",\"addresses\":[{\"postalCode\":12345}]}", ERR_INVALID_VALUE, NULL },
    { "sub-attribute object", 'U', C, "{\"userName\":\"a\",\"name\":{\"givenName\":{\"x\":1}}}", ERR_INVALID_VALUE, NULL },
    { "canonical values not enforced", 'U', C, "{\"userName\":\"a\",\"emails\":[{\"value\":\"e\",\"type\":\"Work\"},{\"value\":\"f\",\"type\":\"corp\"}]}", OK,
      "{" US ",\"userName\":\"a\",\"emails\":[{\"value\":\"e\",\"type\":\"Work\"},{\"value\":\"f\",\"type\":\"corp\"}]}" },
    { "addresses with primary", 'U', C, "{\"userName\":\"a\",\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"1 Main\\nSt\",\"primary\":\"false\"}]}", OK,
      "{" US ",\"userName\":\"a\",\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"1 Main\\nSt\",\"primary\":false}]}" },
    { "required userName missing", 'U', C, "{\"displayName\":\"x\"}", ERR_INVALID_VALUE, NULL },
    { "required userName empty", 'U', C, "{\"userName\":\"\"}", ERR_INVALID_VALUE, NULL },
    { "required userName whitespace", 'U', R, "{\"userName\":\" \\t\\n\"}", ERR_INVALID_VALUE, NULL },
    { "required userName null", 'U', C, "{\"userName\":null}", ERR_INVALID_VALUE, NULL },
    { "required userName missing in result", 'U', RES, "{\"id\":\"1\"}", ERR_INVALID_VALUE, NULL },
    { "empty object", 'U', C, "{}", ERR_INVALID_VALUE, NULL },
    { "not an object: array", 'U', C, "[]", ERR_INVALID_SYNTAX, NULL },
    { "not an object: string", 'U', C, "\"x\"", ERR_INVALID_SYNTAX, NULL },
    { "not an object: null", 'U', C, "null", ERR_INVALID_SYNTAX, NULL },
    { "schemas in input ignored, even if junk", 'U', C, "{\"schemas\":\"nope\",\"userName\":\"a\"}", OK, "{" US ",\"userName\":\"a\"}" },
    { "result keeps id and meta verbatim", 'U', RES,
      "{\"schemas\":[\"" CORE_USER "\"],\"id\":\"u1\",\"userName\":\"a\",\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-01-01T00:00:00Z\",\"x\":1}}", OK,
      "{" US ",\"id\":\"u1\",\"userName\":\"a\",\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-01-01T00:00:00Z\",\"x\":1}}" },
    { "result still drops password and groups", 'U', RES,
      "{\"id\":\"u1\",\"userName\":\"a\",\"password\":\"p\",\"groups\":[{\"value\":\"g\"}]}", OK, "{" US ",\"id\":\"u1\",\"userName\":\"a\"}" },
    { "result rebuilds schemas", 'U', RES,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"userName\":\"a\"}", OK, "{" US ",\"id\":\"u1\",\"userName\":\"a\"}" },
    { "string too long", 'U', C, NULL /* built at run time */, ERR_INVALID_VALUE, NULL },
    /* groups */
    { "okta group create", 'G', C,
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Test SCIMv2\",\"members\":[]}", OK,
      "{" GS ",\"displayName\":\"Test SCIMv2\"}" },
    { "okta group replace", 'G', R,
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"abf4dd94-a4c0-4f67-89c9-76b03340cb9b\","
      "\"displayName\":\"Test SCIMv2\",\"members\":[{\"value\":\"b1c794f24f4c49f4b5d503a4cb2686ea\",\"display\":\"SCIM 2 Group A\"}]}", OK,
      "{" GS ",\"displayName\":\"Test SCIMv2\",\"members\":[{\"value\":\"b1c794f24f4c49f4b5d503a4cb2686ea\",\"display\":\"SCIM 2 Group A\"}]}" },
    { "entra group create", 'G', C,
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\",\"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group\"],"
      "\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\",\"displayName\":\"displayName\",\"meta\":{\"resourceType\":\"Group\"}}", OK,
      "{" GS ",\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\",\"displayName\":\"displayName\"}" },
    { "group members canonicalised", 'G', C,
      "{\"DisplayName\":\"g\",\"Members\":[{\"Value\":\"u1\",\"TYPE\":\"User\",\"$Ref\":\"../Users/u1\"}]}", OK,
      "{" GS ",\"displayName\":\"g\",\"members\":[{\"value\":\"u1\",\"type\":\"User\",\"$ref\":\"../Users/u1\"}]}" },
    { "group displayName missing", 'G', C, "{\"members\":[]}", ERR_INVALID_VALUE, NULL },
    { "group displayName empty", 'G', C, "{\"displayName\":\"\"}", ERR_INVALID_VALUE, NULL },
    { "group displayName number", 'G', C, "{\"displayName\":1}", ERR_INVALID_VALUE, NULL },
    { "group members not array", 'G', C, "{\"displayName\":\"g\",\"members\":{\"value\":\"u\"}}", ERR_INVALID_VALUE, NULL },
    { "group member value number", 'G', C, "{\"displayName\":\"g\",\"members\":[{\"value\":5}]}", ERR_INVALID_VALUE, NULL },
    { "group member string element", 'G', C, "{\"displayName\":\"g\",\"members\":[\"u1\"]}", ERR_INVALID_VALUE, NULL },
    { "group ignores enterprise ext as unknown URN", 'G', C,
      "{\"displayName\":\"g\",\"" ENT "\":{\"department\":\"x\"}}", OK,
      "{\"schemas\":[\"" CORE_GROUP "\",\"" ENT "\"],\"displayName\":\"g\",\"" ENT "\":{\"department\":\"x\"}}" },
    { "group drops userName", 'G', C, "{\"displayName\":\"g\",\"userName\":\"x\"}", OK, "{" GS ",\"displayName\":\"g\"}" },
    { "group result keeps id", 'G', RES, "{\"id\":\"g1\",\"displayName\":\"g\",\"meta\":{\"resourceType\":\"Group\"}}", OK,
      "{" GS ",\"id\":\"g1\",\"displayName\":\"g\",\"meta\":{\"resourceType\":\"Group\"}}" },
};
/* clang-format on */

Test(schema, validate_table)
{
    size_t n = sizeof(validate_cases) / sizeof(validate_cases[0]);
    cr_assert_geq(n, 40);
    for (size_t i = 0; i < n; i++) {
        const struct validate_case *c = &validate_cases[i];
        json_t *in;
        if (c->in != NULL) {
            in = parse(c->in);
        } else {
            char *big = malloc(65538);
            cr_assert_not_null(big);
            memset(big, 'x', 65537);
            big[65537] = '\0';
            in = json_pack("{s:s, s:s}", "userName", "a", "displayName", big);
            free(big);
        }
        json_t *out = (json_t *)0x1;
        struct scim_error err;
        scim_error_clear(&err);
        enum status rc = scim_schema_validate(rt_of(c->rt), in, c->mode, &out, &err);
        cr_expect_eq(rc, c->want, "case %zu (%s): got %d want %d: %s", i, c->label, rc, c->want,
                     err.detail);
        if (rc == OK && c->want == OK) {
            json_t *want = parse(c->out);
            char *got_s = dump(out), *want_s = dump(want);
            cr_expect(json_equal(out, want), "case %zu (%s):\n got  %s\n want %s", i, c->label,
                      got_s, want_s);
            /* schemas comes first */
            void *it = json_object_iter(out);
            cr_expect(it && strcmp(json_object_iter_key(it), "schemas") == 0, "case %zu", i);
            free(got_s);
            free(want_s);
            json_decref(want);
        } else if (rc != OK) {
            cr_expect_null(out, "case %zu: out set on error", i);
            cr_expect_neq(err.detail[0], '\0', "case %zu: empty detail", i);
        }
        json_decref(out);
        json_decref(in);
    }
}

Test(schema, validate_error_names_attribute)
{
    struct {
        const char *in;
        const char *name;
    } cases[] = {
        { "{\"userName\":\"a\",\"emails\":[{\"value\":1}]}", "emails.value" },
        { "{\"userName\":\"a\",\"active\":\"maybe\"}", "active" },
        { "{\"displayName\":\"x\"}", "userName" },
        { "{\"userName\":\"a\",\"" ENT "\":{\"manager\":{\"value\":true}}}", "manager.value" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = parse(cases[i].in), *out = NULL;
        struct scim_error err;
        cr_expect_eq(
            scim_schema_validate(&scim_resource_user, in, SCIM_VALIDATE_CREATE, &out, &err),
            ERR_INVALID_VALUE);
        cr_expect_not_null(strstr(err.detail, cases[i].name), "%zu: %s", i, err.detail);
        cr_expect(strstr(err.detail, "maybe") == NULL, "value echoed: %s", err.detail);
        json_decref(in);
    }
}

Test(schema, validate_does_not_alias_input)
{
    json_t *in =
        parse("{\"userName\":\"a\",\"urn:x:y\":{\"k\":[1]},\"name\":{\"givenName\":\"g\"}}");
    json_t *out = NULL;
    cr_assert_eq(scim_schema_validate(&scim_resource_user, in, SCIM_VALIDATE_CREATE, &out, NULL),
                 OK);
    json_array_append_new(json_object_get(json_object_get(out, "urn:x:y"), "k"), json_integer(2));
    json_object_set_new(json_object_get(out, "name"), "familyName", json_string("f"));
    cr_expect_eq(json_array_size(json_object_get(json_object_get(in, "urn:x:y"), "k")), 1);
    cr_expect_null(json_object_get(json_object_get(in, "name"), "familyName"));
    json_decref(out);
    json_decref(in);
}

/* A custom resource type, to reach the types the RFC schemas do not use. */
/* clang-format off */
static const struct scim_attr custom_attrs[] = {
    { "userName", SCIM_TYPE_STRING,   false, true,  false, SCIM_MUT_READ_WRITE, SCIM_RET_DEFAULT, SCIM_UNIQ_NONE, "u", NULL, NULL, NULL },
    { "hired",    SCIM_TYPE_DATETIME, false, false, false, SCIM_MUT_READ_WRITE, SCIM_RET_DEFAULT, SCIM_UNIQ_NONE, "d", NULL, NULL, NULL },
    { "level",    SCIM_TYPE_INTEGER,  false, false, false, SCIM_MUT_READ_WRITE, SCIM_RET_DEFAULT, SCIM_UNIQ_NONE, "i", NULL, NULL, NULL },
    { "score",    SCIM_TYPE_DECIMAL,  false, false, false, SCIM_MUT_READ_WRITE, SCIM_RET_DEFAULT, SCIM_UNIQ_NONE, "n", NULL, NULL, NULL },
    { "tags",     SCIM_TYPE_STRING,   true,  false, false, SCIM_MUT_READ_WRITE, SCIM_RET_DEFAULT, SCIM_UNIQ_NONE, "t", NULL, NULL, NULL },
    { "secret",   SCIM_TYPE_STRING,   false, false, false, SCIM_MUT_READ_WRITE, SCIM_RET_REQUEST, SCIM_UNIQ_NONE, "s", NULL, NULL, NULL },
    { NULL,       SCIM_TYPE_STRING,   false, false, false, SCIM_MUT_READ_WRITE, SCIM_RET_DEFAULT, SCIM_UNIQ_NONE, NULL, NULL, NULL, NULL },
};
/* clang-format on */
static const struct scim_schema custom_schema = { "urn:example:Thing", "Thing", "thing",
                                                  custom_attrs, false };
static const struct scim_schema *const custom_exts[] = { NULL };
static const struct scim_resource_type custom_rt = { "Thing", "Thing",        "/Things",
                                                     "thing", &custom_schema, custom_exts };

struct typed_case {
    const char *in;
    enum status want;
    const char *out;
};

/* clang-format off */
static const struct typed_case typed_cases[] = {
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56Z\"}", OK, "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56Z\"}" },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56.123+02:00\"}", OK, "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56.123+02:00\"}" },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56\"}", OK, "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56\"}" },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56-05:30\"}", OK, "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56-05:30\"}" },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29 12:34:56Z\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56.Z\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56+0200\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"hired\":\"2024-02-29T12:34:56Zjunk\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"hired\":\"\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"hired\":1700000000}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"level\":3}", OK, "{\"userName\":\"a\",\"level\":3}" },
    { "{\"userName\":\"a\",\"level\":-3}", OK, "{\"userName\":\"a\",\"level\":-3}" },
    { "{\"userName\":\"a\",\"level\":3.0}", OK, "{\"userName\":\"a\",\"level\":3}" },
    { "{\"userName\":\"a\",\"level\":3.5}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"level\":1e300}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"level\":\"3\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"level\":true}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"score\":2.5}", OK, "{\"userName\":\"a\",\"score\":2.5}" },
    { "{\"userName\":\"a\",\"score\":2}", OK, "{\"userName\":\"a\",\"score\":2}" },
    { "{\"userName\":\"a\",\"score\":\"2.5\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"tags\":[\"x\",null,\"y\"]}", OK, "{\"userName\":\"a\",\"tags\":[\"x\",\"y\"]}" },
    { "{\"userName\":\"a\",\"tags\":\"x\"}", ERR_INVALID_VALUE, NULL },
    { "{\"userName\":\"a\",\"tags\":[1]}", ERR_INVALID_VALUE, NULL },
};
/* clang-format on */

Test(schema, validate_other_types)
{
    for (size_t i = 0; i < sizeof(typed_cases) / sizeof(typed_cases[0]); i++) {
        json_t *in = parse(typed_cases[i].in), *out = NULL;
        struct scim_error err;
        scim_error_clear(&err);
        enum status rc = scim_schema_validate(&custom_rt, in, SCIM_VALIDATE_CREATE, &out, &err);
        cr_expect_eq(rc, typed_cases[i].want, "case %zu: got %d (%s)", i, rc, err.detail);
        if (rc == OK && typed_cases[i].out) {
            json_t *want = parse(typed_cases[i].out);
            json_object_set_new(want, "schemas", json_pack("[s]", "urn:example:Thing"));
            char *got_s = dump(out);
            cr_expect(json_equal(out, want), "case %zu: got %s", i, got_s);
            free(got_s);
            json_decref(want);
        }
        json_decref(out);
        json_decref(in);
    }
}

Test(schema, projection_returned_request)
{
    json_t *doc =
        parse("{\"schemas\":[\"urn:example:Thing\"],\"userName\":\"a\",\"secret\":\"s\"}");
    json_t *out = scim_projection_apply(NULL, &custom_rt, doc);
    cr_expect_null(json_object_get(out, "secret"), "returned:request only when asked for");
    json_decref(out);
    struct scim_projection *p = NULL;
    cr_assert_eq(scim_projection_parse(&custom_rt, NULL, "level", &p, NULL), OK);
    out = scim_projection_apply(p, &custom_rt, doc);
    cr_expect_null(json_object_get(out, "secret"), "returned:request only when asked for");
    cr_expect_not_null(json_object_get(out, "userName"));
    cr_expect(scim_projection_excludes(p, "secret"));
    json_decref(out);
    scim_projection_free(p);
    cr_assert_eq(scim_projection_parse(&custom_rt, "secret", NULL, &p, NULL), OK);
    out = scim_projection_apply(p, &custom_rt, doc);
    cr_expect_str_eq(json_string_value(json_object_get(out, "secret")), "s");
    cr_expect_null(json_object_get(out, "userName"));
    json_decref(out);
    scim_projection_free(p);
    json_decref(doc);
}

/* ---- projection -------------------------------------------------------------------- */

static const char *full_user =
    "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"externalId\":\"e1\","
    "\"userName\":\"bjensen\",\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
    "\"displayName\":\"Babs\",\"active\":true,\"password\":\"leak\","
    "\"emails\":[{\"value\":\"b@x\",\"type\":\"work\",\"primary\":true},{\"value\":\"b@home\",\"type\":\"home\"}],"
    "\"groups\":[{\"value\":\"g1\",\"display\":\"G\"}],"
    "\"" ENT
    "\":{\"department\":\"R&D\",\"employeeNumber\":\"7\",\"manager\":{\"value\":\"m1\",\"displayName\":\"Boss\"}},"
    "\"urn:example:x\":{\"k\":1},"
    "\"meta\":{\"resourceType\":\"User\",\"lastModified\":\"2024-01-01T00:00:00Z\"}}";

struct projection_case {
    const char *attributes;
    const char *excluded;
    enum status want;
    const char *out; /* expected result on full_user, on OK */
};

/* clang-format off */
static const struct projection_case projection_cases[] = {
    { NULL, NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"externalId\":\"e1\",\"userName\":\"bjensen\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},\"displayName\":\"Babs\",\"active\":true,"
      "\"emails\":[{\"value\":\"b@x\",\"type\":\"work\",\"primary\":true},{\"value\":\"b@home\",\"type\":\"home\"}],"
      "\"groups\":[{\"value\":\"g1\",\"display\":\"G\"}],"
      "\"" ENT "\":{\"department\":\"R&D\",\"employeeNumber\":\"7\",\"manager\":{\"value\":\"m1\",\"displayName\":\"Boss\"}},"
      "\"urn:example:x\":{\"k\":1},\"meta\":{\"resourceType\":\"User\",\"lastModified\":\"2024-01-01T00:00:00Z\"}}" },
    { "", "", OK, NULL /* same as identity: checked separately */ },
    { "userName", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"userName\":\"bjensen\"}" },
    { "USERNAME, displayName", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"userName\":\"bjensen\",\"displayName\":\"Babs\"}" },
    { "name.givenName", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"name\":{\"givenName\":\"Barbara\"}}" },
    { "emails.value", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"emails\":[{\"value\":\"b@x\"},{\"value\":\"b@home\"}]}" },
    { "emails.value,emails.type,name", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
      "\"emails\":[{\"value\":\"b@x\",\"type\":\"work\"},{\"value\":\"b@home\",\"type\":\"home\"}]}" },
    { "password", NULL, OK, "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\"}" },
    { "id", NULL, OK, "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\"}" },
    { "meta.lastModified", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"meta\":{\"lastModified\":\"2024-01-01T00:00:00Z\"}}" },
    { ENT ":department", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"" ENT "\":{\"department\":\"R&D\"}}" },
    { ENT ":manager.value", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"" ENT "\":{\"manager\":{\"value\":\"m1\"}}}" },
    { ENT, NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"" ENT "\":{\"department\":\"R&D\",\"employeeNumber\":\"7\",\"manager\":{\"value\":\"m1\",\"displayName\":\"Boss\"}}}" },
    { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"" ENT "\":{\"department\":\"R&D\",\"employeeNumber\":\"7\",\"manager\":{\"value\":\"m1\",\"displayName\":\"Boss\"}}}" },
    { CORE_USER ":userName", NULL, OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"userName\":\"bjensen\"}" },
    { "userName", "userName", OK, /* attributes wins */
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"userName\":\"bjensen\"}" },
    { NULL, "emails,groups,name.familyName," ENT ",meta,id,urn:ietf:params:scim:schemas:core:2.0:User:externalId", OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"userName\":\"bjensen\","
      "\"name\":{\"givenName\":\"Barbara\"},\"displayName\":\"Babs\",\"active\":true,\"urn:example:x\":{\"k\":1}}" },
    { NULL, "emails.type, " ENT ":manager", OK,
      "{\"schemas\":[\"" CORE_USER "\",\"" ENT "\"],\"id\":\"u1\",\"externalId\":\"e1\",\"userName\":\"bjensen\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},\"displayName\":\"Babs\",\"active\":true,"
      "\"emails\":[{\"value\":\"b@x\",\"primary\":true},{\"value\":\"b@home\"}],"
      "\"groups\":[{\"value\":\"g1\",\"display\":\"G\"}],"
      "\"" ENT "\":{\"department\":\"R&D\",\"employeeNumber\":\"7\"},"
      "\"urn:example:x\":{\"k\":1},\"meta\":{\"resourceType\":\"User\",\"lastModified\":\"2024-01-01T00:00:00Z\"}}" },
    { "bogus", NULL, ERR_INVALID_PATH, NULL },
    { "userName,bogus", NULL, ERR_INVALID_PATH, NULL },
    { NULL, "name.bogus", ERR_INVALID_PATH, NULL },
    { "department", NULL, ERR_INVALID_PATH, NULL },
    { "urn:example:x", NULL, ERR_INVALID_PATH, NULL },
    { "userName.x", NULL, ERR_INVALID_PATH, NULL },
    { "members", NULL, ERR_INVALID_PATH, NULL },
};
/* clang-format on */

Test(schema, projection_table)
{
    json_t *user = parse(full_user);
    for (size_t i = 0; i < sizeof(projection_cases) / sizeof(projection_cases[0]); i++) {
        const struct projection_case *c = &projection_cases[i];
        struct scim_projection *p = (struct scim_projection *)0x1;
        struct scim_error err;
        scim_error_clear(&err);
        enum status rc =
            scim_projection_parse(&scim_resource_user, c->attributes, c->excluded, &p, &err);
        cr_expect_eq(rc, c->want, "case %zu: got %d want %d (%s)", i, rc, c->want, err.detail);
        if (rc != OK) {
            cr_expect_null(p, "case %zu", i);
            continue;
        }
        if (c->out == NULL) {
            cr_expect_null(p, "case %zu: empty lists give identity", i);
            scim_projection_free(p);
            continue;
        }
        json_t *got = scim_projection_apply(p, &scim_resource_user, user);
        json_t *want = parse(c->out);
        char *got_s = dump(got), *want_s = dump(want);
        cr_expect(json_equal(got, want), "case %zu:\n got  %s\n want %s", i, got_s, want_s);
        free(got_s);
        free(want_s);
        json_decref(got);
        json_decref(want);
        scim_projection_free(p);
    }
    json_decref(user);
}

Test(schema, projection_excludes)
{
    struct scim_projection *p = NULL;
    cr_expect_not(scim_projection_excludes(NULL, "members"));
    cr_assert_eq(scim_projection_parse(&scim_resource_group, "displayName", NULL, &p, NULL), OK);
    cr_expect(scim_projection_excludes(p, "members"));
    cr_expect(scim_projection_excludes(p, "MEMBERS"));
    cr_expect_not(scim_projection_excludes(p, "displayName"));
    cr_expect_not(scim_projection_excludes(p, "id"));
    scim_projection_free(p);

    cr_assert_eq(scim_projection_parse(&scim_resource_group, "members.value", NULL, &p, NULL), OK);
    cr_expect_not(scim_projection_excludes(p, "members"));
    scim_projection_free(p);

    cr_assert_eq(scim_projection_parse(&scim_resource_group, NULL, "members", &p, NULL), OK);
    cr_expect(scim_projection_excludes(p, "members"));
    cr_expect_not(scim_projection_excludes(p, "displayName"));
    cr_expect_not(scim_projection_excludes(p, "id"));
    scim_projection_free(p);

    cr_assert_eq(scim_projection_parse(&scim_resource_group, NULL, "id,members.display", &p, NULL),
                 OK);
    cr_expect_not(scim_projection_excludes(p, "members"));
    cr_expect_not(scim_projection_excludes(p, "id"), "returned:always cannot be excluded");
    scim_projection_free(p);

    cr_assert_eq(scim_projection_parse(&scim_resource_user, NULL, ENT, &p, NULL), OK);
    cr_expect(scim_projection_excludes(p, ENT));
    cr_expect(scim_projection_excludes(p, "password"));
    cr_expect_not(scim_projection_excludes(p, "emails"));
    scim_projection_free(p);

    cr_assert_eq(scim_projection_parse(&scim_resource_user, ENT ":department", NULL, &p, NULL), OK);
    cr_expect_not(scim_projection_excludes(p, ENT));
    cr_expect(scim_projection_excludes(p, "emails"));
    scim_projection_free(p);
    scim_projection_free(NULL);
}

Test(schema, projection_group_members)
{
    json_t *g = parse(
        "{\"schemas\":[\"" CORE_GROUP "\"],\"id\":\"g1\",\"displayName\":\"G\","
        "\"members\":[{\"value\":\"u1\",\"display\":\"A\"},{\"value\":\"u2\"}],\"meta\":{\"version\":\"W/\\\"3\\\"\"}}");
    struct scim_projection *p = NULL;
    cr_assert_eq(scim_projection_parse(&scim_resource_group, NULL, "members", &p, NULL), OK);
    json_t *out = scim_projection_apply(p, &scim_resource_group, g);
    cr_expect_null(json_object_get(out, "members"));
    cr_expect_not_null(json_object_get(out, "meta"));
    json_decref(out);
    scim_projection_free(p);

    cr_assert_eq(scim_projection_parse(&scim_resource_group, "members.display", NULL, &p, NULL),
                 OK);
    out = scim_projection_apply(p, &scim_resource_group, g);
    json_t *want =
        parse("{\"schemas\":[\"" CORE_GROUP "\"],\"id\":\"g1\",\"members\":[{\"display\":\"A\"}]}");
    cr_expect(json_equal(out, want));
    json_decref(want);
    json_decref(out);
    scim_projection_free(p);

    cr_expect_null(
        scim_projection_apply(NULL, &scim_resource_group, json_object_get(g, "members")));
    json_decref(g);
}

/* ---- discovery --------------------------------------------------------------------- */

static const json_t *find_named(const json_t *arr, const char *name)
{
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el)
    {
        if (strcmp(json_string_value(json_object_get(el, "name")), name) == 0)
            return el;
    }
    return NULL;
}

static const char *const type_names[] = { "string",   "boolean", "decimal",   "integer",
                                          "dateTime", "binary",  "reference", "complex" };
static const char *const mut_names[] = { "readWrite", "readOnly", "immutable", "writeOnly" };
static const char *const ret_names[] = { "default", "always", "never", "request" };
static const char *const uniq_names[] = { "none", "server", "global" };

static void check_attrs(const struct scim_attr *attrs, const json_t *rendered, const char *where)
{
    size_t count = 0;
    for (const struct scim_attr *a = attrs; a->name; a++, count++) {
        const json_t *r = find_named(rendered, a->name);
        cr_assert_not_null(r, "%s: attribute %s missing", where, a->name);
        cr_expect_str_eq(json_string_value(json_object_get(r, "type")), type_names[a->type],
                         "%s.%s", where, a->name);
        cr_expect_eq(json_is_true(json_object_get(r, "multiValued")), a->multi_valued, "%s.%s",
                     where, a->name);
        cr_expect_eq(json_is_true(json_object_get(r, "required")), a->required, "%s.%s", where,
                     a->name);
        cr_expect_eq(json_is_true(json_object_get(r, "caseExact")), a->case_exact, "%s.%s", where,
                     a->name);
        cr_expect_str_eq(json_string_value(json_object_get(r, "mutability")),
                         mut_names[a->mutability]);
        cr_expect_str_eq(json_string_value(json_object_get(r, "returned")), ret_names[a->returned]);
        cr_expect_str_eq(json_string_value(json_object_get(r, "uniqueness")),
                         uniq_names[a->uniqueness]);
        cr_expect_str_eq(json_string_value(json_object_get(r, "description")), a->description);
        if (a->canonical_values)
            cr_expect(json_is_array(json_object_get(r, "canonicalValues")), "%s.%s", where,
                      a->name);
        if (a->reference_types)
            cr_expect(json_is_array(json_object_get(r, "referenceTypes")), "%s.%s", where, a->name);
        if (a->type == SCIM_TYPE_COMPLEX)
            check_attrs(a->sub_attrs, json_object_get(r, "subAttributes"), a->name);
        else
            cr_expect_null(json_object_get(r, "subAttributes"));
    }
    cr_expect_eq(json_array_size(rendered), count, "%s: extra attributes", where);
}

Test(schema, schemas_render)
{
    json_t *list = scim_schemas_list_render("https://h.example/scim/v2/");
    cr_assert_not_null(list);
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(list, "schemas"), 0)),
                     SCIM_SCHEMA_LIST_RESPONSE);
    cr_expect_eq(json_integer_value(json_object_get(list, "totalResults")), 3);
    cr_expect_eq(json_integer_value(json_object_get(list, "itemsPerPage")), 3);
    cr_expect_eq(json_integer_value(json_object_get(list, "startIndex")), 1);
    const json_t *res = json_object_get(list, "Resources");
    cr_assert_eq(json_array_size(res), 3);
    const struct scim_schema *schemas[] = { &scim_schema_user, &scim_schema_enterprise_user,
                                            &scim_schema_group };
    for (size_t i = 0; i < 3; i++) {
        const json_t *s = json_array_get(res, i);
        cr_expect_str_eq(json_string_value(json_object_get(s, "id")), schemas[i]->id);
        cr_expect_str_eq(json_string_value(json_object_get(s, "name")), schemas[i]->name);
        cr_expect_not_null(json_object_get(s, "description"));
        check_attrs(schemas[i]->attrs, json_object_get(s, "attributes"), schemas[i]->name);
        const json_t *meta = json_object_get(s, "meta");
        cr_expect_str_eq(json_string_value(json_object_get(meta, "resourceType")), "Schema");
        char loc[256];
        snprintf(loc, sizeof(loc), "https://h.example/scim/v2/Schemas/%s", schemas[i]->id);
        cr_expect_str_eq(json_string_value(json_object_get(meta, "location")), loc);
    }
    json_decref(list);

    json_t *one = scim_schema_render(&scim_schema_user, "https://h/");
    const json_t *emails = find_named(json_object_get(one, "attributes"), "emails");
    const json_t *type = find_named(json_object_get(emails, "subAttributes"), "type");
    json_t *want = json_pack("[sss]", "work", "home", "other");
    cr_expect(json_equal(json_object_get(type, "canonicalValues"), want));
    json_decref(want);
    const json_t *purl = find_named(json_object_get(one, "attributes"), "profileUrl");
    want = json_pack("[s]", "external");
    cr_expect(json_equal(json_object_get(purl, "referenceTypes"), want));
    json_decref(want);
    json_decref(one);
    cr_expect_null(scim_schema_render(NULL, "x"));
}

Test(schema, resource_types_render)
{
    json_t *list = scim_resource_types_list_render("https://h.example/scim/v2/");
    cr_assert_not_null(list);
    cr_expect_eq(json_integer_value(json_object_get(list, "totalResults")), 2);
    const json_t *res = json_object_get(list, "Resources");
    cr_assert_eq(json_array_size(res), 2);
    json_t *want_user = json_loads(
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:ResourceType\"],\"id\":\"User\",\"name\":\"User\","
        "\"endpoint\":\"/Users\",\"description\":\"User Account\",\"schema\":\"" CORE_USER "\","
        "\"schemaExtensions\":[{\"schema\":\"" ENT "\",\"required\":false}],"
        "\"meta\":{\"resourceType\":\"ResourceType\",\"location\":\"https://h.example/scim/v2/ResourceTypes/User\"}}",
        0, NULL);
    json_t *want_group = json_loads(
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:ResourceType\"],\"id\":\"Group\",\"name\":\"Group\","
        "\"endpoint\":\"/Groups\",\"description\":\"Group\",\"schema\":\"" CORE_GROUP "\","
        "\"meta\":{\"resourceType\":\"ResourceType\",\"location\":\"https://h.example/scim/v2/ResourceTypes/Group\"}}",
        0, NULL);
    char *got = dump(json_array_get(res, 0));
    cr_expect(json_equal(json_array_get(res, 0), want_user), "%s", got);
    free(got);
    cr_expect(json_equal(json_array_get(res, 1), want_group));
    json_decref(want_user);
    json_decref(want_group);
    json_decref(list);
    cr_expect_null(scim_resource_type_render(NULL, "x"));
}

/* ---- tenant-declared extensions ------------------------------------------------------ */

#define ACME "urn:acme:scim:2.0:User"

Test(schema, ext_schema_validates_and_lists)
{
    struct scim_error err;
    struct scim_schema *ext = NULL;
    cr_assert_eq(scim_ext_schema_new(ACME, "badge:integer,site:STRING,on:boolean", &ext, &err), OK,
                 "%s", err.detail);
    const struct scim_schema *extra[] = { ext };
    struct scim_resource_type_ext rt;
    scim_resource_type_extend(&scim_resource_user, extra, 1, &rt);

    json_t *out = NULL;
    json_t *in = parse("{\"userName\":\"a\",\"" ACME "\":{\"BADGE\":7,\"on\":\"true\"}}");
    cr_assert_eq(scim_schema_validate(&rt.rt, in, SCIM_VALIDATE_CREATE, &out, &err), OK, "%s",
                 err.detail);
    json_t *want = parse("{\"badge\":7,\"on\":true}");
    cr_expect(json_equal(json_object_get(out, ACME), want));
    json_decref(want);
    json_decref(out);
    json_decref(in);

    in = parse("{\"userName\":\"a\",\"" ACME "\":{\"badge\":\"seven\"}}");
    cr_expect_eq(scim_schema_validate(&rt.rt, in, SCIM_VALIDATE_CREATE, &out, &err),
                 ERR_INVALID_VALUE);
    json_decref(in);
    in = parse("{\"userName\":\"a\",\"" ACME "\":{\"floor\":3}}");
    cr_expect_eq(scim_schema_validate(&rt.rt, in, SCIM_VALIDATE_CREATE, &out, &err),
                 ERR_INVALID_VALUE);
    cr_expect(strstr(err.detail, "floor") != NULL, "%s", err.detail);
    json_decref(in);
    /* the built-in type never knew it: kept verbatim, unvalidated */
    in = parse("{\"userName\":\"a\",\"" ACME "\":{\"floor\":3}}");
    cr_expect_eq(scim_schema_validate(&scim_resource_user, in, SCIM_VALIDATE_CREATE, &out, &err),
                 OK);
    json_decref(out);
    json_decref(in);

    struct scim_attr_ref ref;
    cr_expect_eq(scim_schema_resolve(&rt.rt, ACME ":site", &ref, &err), OK);
    cr_expect_eq(ref.schema, ext);

    json_t *list = scim_schemas_list_render_for(&rt.rt, "https://h/");
    cr_expect_eq(json_integer_value(json_object_get(list, "totalResults")), 4);
    json_decref(list);
    list = scim_resource_types_list_render_for(&rt.rt, "https://h/");
    const json_t *exts =
        json_object_get(json_array_get(json_object_get(list, "Resources"), 0), "schemaExtensions");
    cr_expect_eq(json_array_size(exts), 2);
    json_decref(list);
    cr_expect_eq(scim_schema_by_urn_in(&rt.rt, "URN:ACME:SCIM:2.0:USER"), ext);
    scim_ext_schema_free(ext);
}

Test(schema, ext_schema_refuses_bad_declarations)
{
    /* clang-format off */
    static const struct { const char *urn, *spec; } bad[] = {
        { CORE_USER,   "a:string"           },
        { ENT,         "a:string"           },
        { "acme",      "a:string"           },
        { "urn:",      "a:string"           },
        { ACME,        ""                   },
        { ACME,        "a"                  },
        { ACME,        "a:float"            },
        { ACME,        "1a:string"          },
        { ACME,        "a:string,A:integer" },
        { "urn:a b:c", "a:string"           },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scim_error err;
        struct scim_schema *ext = NULL;
        cr_expect_eq(scim_ext_schema_new(bad[i].urn, bad[i].spec, &ext, &err), ERR_INVALID_VALUE,
                     "%s %s", bad[i].urn, bad[i].spec);
        cr_expect_null(ext);
    }
}
