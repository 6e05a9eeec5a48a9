/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.c - this file contains the RFC 7643 schema tables (common
 * attributes, User, EnterpriseUser, Group) and the code that reads them:
 * attribute lookup and path resolution, request-body validation and
 * normalisation, attributes/excludedAttributes projection, and the
 * /Schemas and /ResourceTypes discovery documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/schema.h"

#include "core/array.h"
#include "core/str.h"

/* Longest string value accepted in a resource document. */
#define SCIM_MAX_STRING_BYTES 65536
/* Longest attribute name quoted back in an error detail. */
#define NAME_QUOTE_MAX 128

/* ---- tables ------------------------------------------------------------------------ */

/* clang-format off */
/* Short names so each table row fits on one line. */
#define T_STR SCIM_TYPE_STRING
#define T_BOOL SCIM_TYPE_BOOLEAN
#define T_DT SCIM_TYPE_DATETIME
#define T_BIN SCIM_TYPE_BINARY
#define T_REF SCIM_TYPE_REFERENCE
#define T_CPLX SCIM_TYPE_COMPLEX
#define RW SCIM_MUT_READ_WRITE
#define RO SCIM_MUT_READ_ONLY
#define IMM SCIM_MUT_IMMUTABLE
#define WO SCIM_MUT_WRITE_ONLY
#define R_DEF SCIM_RET_DEFAULT
#define R_ALW SCIM_RET_ALWAYS
#define R_NEV SCIM_RET_NEVER
#define U_NONE SCIM_UNIQ_NONE
#define U_SRV SCIM_UNIQ_SERVER
#define END { NULL, T_STR, false, false, false, RW, R_DEF, U_NONE, NULL, NULL, NULL, NULL }

static const char *const ref_external[] = { "external", NULL };
static const char *const ref_uri[] = { "uri", NULL };
static const char *const ref_user[] = { "User", NULL };
static const char *const ref_user_group[] = { "User", "Group", NULL };

static const char *const canon_email_type[] = { "work", "home", "other", NULL };
static const char *const canon_phone_type[] = { "work", "home", "mobile", "fax", "pager", "other", NULL };
static const char *const canon_im_type[] = { "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo", NULL };
static const char *const canon_photo_type[] = { "photo", "thumbnail", NULL };
static const char *const canon_address_type[] = { "work", "home", "other", NULL };
static const char *const canon_group_type[] = { "direct", "indirect", NULL };
static const char *const canon_member_type[] = { "User", "Group", NULL };

#define D_DISPLAY "A human-readable name, primarily used for display purposes. READ-ONLY."
#define D_TYPE "A label indicating the attribute's function, e.g., 'work' or 'home'."
#define D_PRIMARY "A Boolean value indicating the 'primary' or preferred attribute value for this attribute. The primary attribute value 'true' MUST appear no more than once."

static const struct scim_attr meta_subs[] = {
    { "resourceType", T_STR, false, false, true,  RO, R_DEF, U_NONE, "The name of the resource type of the resource.", NULL, NULL, NULL },
    { "created",      T_DT,  false, false, false, RO, R_DEF, U_NONE, "The DateTime that the resource was added to the service provider.", NULL, NULL, NULL },
    { "lastModified", T_DT,  false, false, false, RO, R_DEF, U_NONE, "The most recent DateTime that the details of this resource were updated at the service provider.", NULL, NULL, NULL },
    { "location",     T_REF, false, false, true,  RO, R_DEF, U_NONE, "The URI of the resource being returned.", NULL, ref_uri, NULL },
    { "version",      T_STR, false, false, true,  RO, R_DEF, U_NONE, "The version of the resource being returned.", NULL, NULL, NULL },
    END
};

const struct scim_attr scim_common_attrs[] = {
    { "id",         T_STR,  false, false, true,  RO, R_ALW, U_SRV,  "A unique identifier for a SCIM resource as defined by the service provider.", NULL, NULL, NULL },
    { "externalId", T_STR,  false, false, true,  RW, R_DEF, U_NONE, "A String that is an identifier for the resource as defined by the provisioning client.", NULL, NULL, NULL },
    { "meta",       T_CPLX, false, false, false, RO, R_DEF, U_NONE, "A complex attribute containing resource metadata.", NULL, NULL, meta_subs },
    END
};

static const struct scim_attr name_subs[] = {
    { "formatted",       T_STR, false, false, false, RW, R_DEF, U_NONE, "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III').", NULL, NULL, NULL },
    { "familyName",      T_STR, false, false, false, RW, R_DEF, U_NONE, "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III').", NULL, NULL, NULL },
    { "givenName",       T_STR, false, false, false, RW, R_DEF, U_NONE, "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III').", NULL, NULL, NULL },
    { "middleName",      T_STR, false, false, false, RW, R_DEF, U_NONE, "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III').", NULL, NULL, NULL },
    { "honorificPrefix", T_STR, false, false, false, RW, R_DEF, U_NONE, "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III').", NULL, NULL, NULL },
    { "honorificSuffix", T_STR, false, false, false, RW, R_DEF, U_NONE, "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III').", NULL, NULL, NULL },
    END
};

static const struct scim_attr email_subs[] = {
    { "value",   T_STR,  false, false, false, RW, R_DEF, U_NONE, "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.", NULL, NULL, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, D_TYPE, canon_email_type, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address or primary email address. The primary attribute value 'true' MUST appear no more than once.", NULL, NULL, NULL },
    END
};

static const struct scim_attr phone_subs[] = {
    { "value",   T_STR,  false, false, false, RW, R_DEF, U_NONE, "Phone number of the User.", NULL, NULL, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.", canon_phone_type, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred phone number or primary phone number. The primary attribute value 'true' MUST appear no more than once.", NULL, NULL, NULL },
    END
};

static const struct scim_attr im_subs[] = {
    { "value",   T_STR,  false, false, false, RW, R_DEF, U_NONE, "Instant messaging address for the User.", NULL, NULL, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.", canon_im_type, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred messenger or primary messenger. The primary attribute value 'true' MUST appear no more than once.", NULL, NULL, NULL },
    END
};

static const struct scim_attr photo_subs[] = {
    { "value",   T_REF,  false, false, false, RW, R_DEF, U_NONE, "URL of a photo of the User.", NULL, ref_external, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.", canon_photo_type, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred photo or thumbnail. The primary attribute value 'true' MUST appear no more than once.", NULL, NULL, NULL },
    END
};

static const struct scim_attr address_subs[] = {
    { "formatted",     T_STR,  false, false, false, RW, R_DEF, U_NONE, "The full mailing address, formatted for display or use with a mailing label. This attribute MAY contain newlines.", NULL, NULL, NULL },
    { "streetAddress", T_STR,  false, false, false, RW, R_DEF, U_NONE, "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information. This attribute MAY contain newlines.", NULL, NULL, NULL },
    { "locality",      T_STR,  false, false, false, RW, R_DEF, U_NONE, "The city or locality component.", NULL, NULL, NULL },
    { "region",        T_STR,  false, false, false, RW, R_DEF, U_NONE, "The state or region component.", NULL, NULL, NULL },
    { "postalCode",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "The zip code or postal code component.", NULL, NULL, NULL },
    { "country",       T_STR,  false, false, false, RW, R_DEF, U_NONE, "The country name component.", NULL, NULL, NULL },
    { "type",          T_STR,  false, false, false, RW, R_DEF, U_NONE, D_TYPE, canon_address_type, NULL, NULL },
    { "primary",       T_BOOL, false, false, false, RW, R_DEF, U_NONE, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address. The primary attribute value 'true' MUST appear no more than once.", NULL, NULL, NULL },
    END
};

static const struct scim_attr user_group_subs[] = {
    { "value",   T_STR, false, false, false, RO, R_DEF, U_NONE, "The identifier of the User's group.", NULL, NULL, NULL },
    { "$ref",    T_REF, false, false, false, RO, R_DEF, U_NONE, "The URI of the corresponding 'Group' resource to which the user belongs.", NULL, ref_user_group, NULL },
    { "display", T_STR, false, false, false, RO, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR, false, false, false, RO, R_DEF, U_NONE, "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", canon_group_type, NULL, NULL },
    END
};

static const struct scim_attr entitlement_subs[] = {
    { "value",   T_STR,  false, false, false, RW, R_DEF, U_NONE, "The value of an entitlement.", NULL, NULL, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "A label indicating the attribute's function.", NULL, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, D_PRIMARY, NULL, NULL, NULL },
    END
};

static const struct scim_attr role_subs[] = {
    { "value",   T_STR,  false, false, false, RW, R_DEF, U_NONE, "The value of a role.", NULL, NULL, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "A label indicating the attribute's function.", NULL, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, D_PRIMARY, NULL, NULL, NULL },
    END
};

static const struct scim_attr x509_subs[] = {
    { "value",   T_BIN,  false, false, false, RW, R_DEF, U_NONE, "The value of an X.509 certificate.", NULL, NULL, NULL },
    { "display", T_STR,  false, false, false, RW, R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR,  false, false, false, RW, R_DEF, U_NONE, "A label indicating the attribute's function.", NULL, NULL, NULL },
    { "primary", T_BOOL, false, false, false, RW, R_DEF, U_NONE, D_PRIMARY, NULL, NULL, NULL },
    END
};

static const struct scim_attr user_attrs[] = {
    { "userName",          T_STR,  false, true,  false, RW, R_DEF, U_SRV,  "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.", NULL, NULL, NULL },
    { "name",              T_CPLX, false, false, false, RW, R_DEF, U_NONE, "The components of the user's real name. Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both.", NULL, NULL, name_subs },
    { "displayName",       T_STR,  false, false, false, RW, R_DEF, U_NONE, "The name of the User, suitable for display to end-users. The name SHOULD be the full name of the User being described, if known.", NULL, NULL, NULL },
    { "nickName",          T_STR,  false, false, false, RW, R_DEF, U_NONE, "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'. This attribute SHOULD NOT be used to represent a User's username.", NULL, NULL, NULL },
    { "profileUrl",        T_REF,  false, false, false, RW, R_DEF, U_NONE, "A fully qualified URL pointing to a page representing the User's online profile.", NULL, ref_external, NULL },
    { "title",             T_STR,  false, false, false, RW, R_DEF, U_NONE, "The user's title, such as \"Vice President.\"", NULL, NULL, NULL },
    { "userType",          T_STR,  false, false, false, RW, R_DEF, U_NONE, "Used to identify the relationship between the organization and the user. Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used.", NULL, NULL, NULL },
    { "preferredLanguage", T_STR,  false, false, false, RW, R_DEF, U_NONE, "Indicates the User's preferred written or spoken language. Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US.", NULL, NULL, NULL },
    { "locale",            T_STR,  false, false, false, RW, R_DEF, U_NONE, "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations.", NULL, NULL, NULL },
    { "timezone",          T_STR,  false, false, false, RW, R_DEF, U_NONE, "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'.", NULL, NULL, NULL },
    { "active",            T_BOOL, false, false, false, RW, R_DEF, U_NONE, "A Boolean value indicating the User's administrative status.", NULL, NULL, NULL },
    { "password",          T_STR,  false, false, false, WO, R_NEV, U_NONE, "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.", NULL, NULL, NULL },
    { "emails",            T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.", NULL, NULL, email_subs },
    { "phoneNumbers",      T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "Phone numbers for the User. The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.", NULL, NULL, phone_subs },
    { "ims",               T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "Instant messaging addresses for the User.", NULL, NULL, im_subs },
    { "photos",            T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "URLs of photos of the User.", NULL, NULL, photo_subs },
    { "addresses",         T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.", NULL, NULL, address_subs },
    { "groups",            T_CPLX, true,  false, false, RO, R_DEF, U_NONE, "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.", NULL, NULL, user_group_subs },
    { "entitlements",      T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "A list of entitlements for the User that represent a thing the User has.", NULL, NULL, entitlement_subs },
    { "roles",             T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.", NULL, NULL, role_subs },
    { "x509Certificates",  T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "A list of certificates issued to the User.", NULL, NULL, x509_subs },
    END
};

static const struct scim_attr manager_subs[] = {
    { "value",       T_STR, false, false, false, RW, R_DEF, U_NONE, "The id of the SCIM resource representing the User's manager. REQUIRED.", NULL, NULL, NULL },
    { "$ref",        T_REF, false, false, false, RW, R_DEF, U_NONE, "The URI of the SCIM resource representing the User's manager. REQUIRED.", NULL, ref_user, NULL },
    { "displayName", T_STR, false, false, false, RO, R_DEF, U_NONE, "The displayName of the User's manager. OPTIONAL and READ-ONLY.", NULL, NULL, NULL },
    END
};

static const struct scim_attr enterprise_attrs[] = {
    { "employeeNumber", T_STR,  false, false, false, RW, R_DEF, U_NONE, "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.", NULL, NULL, NULL },
    { "costCenter",     T_STR,  false, false, false, RW, R_DEF, U_NONE, "Identifies the name of a cost center.", NULL, NULL, NULL },
    { "organization",   T_STR,  false, false, false, RW, R_DEF, U_NONE, "Identifies the name of an organization.", NULL, NULL, NULL },
    { "division",       T_STR,  false, false, false, RW, R_DEF, U_NONE, "Identifies the name of a division.", NULL, NULL, NULL },
    { "department",     T_STR,  false, false, false, RW, R_DEF, U_NONE, "Identifies the name of a department.", NULL, NULL, NULL },
    { "manager",        T_CPLX, false, false, false, RW, R_DEF, U_NONE, "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.", NULL, NULL, manager_subs },
    END
};

static const struct scim_attr member_subs[] = {
    { "value",   T_STR, false, false, false, IMM, R_DEF, U_NONE, "Identifier of the member of this Group.", NULL, NULL, NULL },
    { "$ref",    T_REF, false, false, false, IMM, R_DEF, U_NONE, "The URI corresponding to a SCIM resource that is a member of this Group.", NULL, ref_user_group, NULL },
    { "display", T_STR, false, false, false, RW,  R_DEF, U_NONE, D_DISPLAY, NULL, NULL, NULL },
    { "type",    T_STR, false, false, false, IMM, R_DEF, U_NONE, "A label indicating the type of resource, e.g., 'User' or 'Group'.", canon_member_type, NULL, NULL },
    END
};

static const struct scim_attr group_attrs[] = {
    { "displayName", T_STR,  false, true,  false, RW, R_DEF, U_NONE, "A human-readable name for the Group. REQUIRED.", NULL, NULL, NULL },
    { "members",     T_CPLX, true,  false, false, RW, R_DEF, U_NONE, "A list of members of the Group.", NULL, NULL, member_subs },
    END
};
/* clang-format on */

#undef T_STR
#undef T_BOOL
#undef T_DT
#undef T_BIN
#undef T_REF
#undef T_CPLX
#undef RW
#undef RO
#undef IMM
#undef WO
#undef R_DEF
#undef R_ALW
#undef R_NEV
#undef U_NONE
#undef U_SRV
#undef END
#undef D_DISPLAY
#undef D_TYPE
#undef D_PRIMARY

const struct scim_schema scim_schema_user = {
    SCIM_SCHEMA_USER, "User", "User Account", user_attrs, false,
};

const struct scim_schema scim_schema_enterprise_user = {
    SCIM_SCHEMA_ENTERPRISE_USER, "EnterpriseUser", "Enterprise User", enterprise_attrs, false,
};

const struct scim_schema scim_schema_group = {
    SCIM_SCHEMA_GROUP, "Group", "Group", group_attrs, false,
};

static const struct scim_schema *const user_extensions[] = { &scim_schema_enterprise_user, NULL };
static const struct scim_schema *const no_extensions[] = { NULL };

const struct scim_resource_type scim_resource_user = {
    "User", "User", "/Users", "User Account", &scim_schema_user, user_extensions,
};

const struct scim_resource_type scim_resource_group = {
    "Group", "Group", "/Groups", "Group", &scim_schema_group, no_extensions,
};

/* Everything discovery lists, in the order it lists them. */
static const struct scim_schema *const all_schemas[] = {
    &scim_schema_user,
    &scim_schema_enterprise_user,
    &scim_schema_group,
    NULL,
};

static const struct scim_resource_type *const all_resource_types[] = {
    &scim_resource_user,
    &scim_resource_group,
    NULL,
};

/* ---- lookup -------------------------------------------------------------------------- */

static const struct scim_attr *find_in(const struct scim_attr *attrs, const char *name,
                                       size_t name_len)
{
    if (attrs == NULL || name == NULL)
        return NULL;
    for (const struct scim_attr *a = attrs; a->name != NULL; a++) {
        if (strlen(a->name) == name_len && str_ieqn(a->name, name, name_len))
            return a;
    }
    return NULL;
}

const struct scim_attr *scim_schema_find(const struct scim_schema *schema, const char *name)
{
    if (schema == NULL || name == NULL)
        return NULL;
    return find_in(schema->attrs, name, strlen(name));
}

const struct scim_attr *scim_attr_find_sub(const struct scim_attr *attr, const char *name)
{
    if (attr == NULL || name == NULL || attr->type != SCIM_TYPE_COMPLEX)
        return NULL;
    return find_in(attr->sub_attrs, name, strlen(name));
}

const struct scim_schema *scim_resource_find_extension(const struct scim_resource_type *rt,
                                                       const char *urn)
{
    if (rt == NULL || urn == NULL || rt->extensions == NULL)
        return NULL;
    for (const struct scim_schema *const *e = rt->extensions; *e != NULL; e++) {
        if (str_ieq((*e)->id, urn))
            return *e;
    }
    return NULL;
}

const struct scim_schema *scim_schema_by_urn(const char *urn)
{
    for (const struct scim_schema *const *s = all_schemas; *s != NULL; s++) {
        if (str_ieq((*s)->id, urn))
            return *s;
    }
    return NULL;
}

const struct scim_resource_type *scim_resource_type_by_id(const char *id)
{
    for (const struct scim_resource_type *const *rt = all_resource_types; *rt != NULL; rt++) {
        if (str_ieq((*rt)->id, id))
            return *rt;
    }
    return NULL;
}

/*
 * The schema of rt (core or extension) whose URN, followed by ':', prefixes
 * path; the longest such URN wins.  NULL if none.
 */
static bool urn_prefixes(const struct scim_schema *s, const char *path, size_t path_len)
{
    size_t n = strlen(s->id);
    return n < path_len && path[n] == ':' && str_ieqn(s->id, path, n);
}

static const struct scim_schema *urn_prefix(const struct scim_resource_type *rt, const char *path)
{
    size_t path_len = strlen(path);
    const struct scim_schema *best = urn_prefixes(rt->schema, path, path_len) ? rt->schema : NULL;
    for (const struct scim_schema *const *e = rt->extensions; e && *e; e++) {
        if (urn_prefixes(*e, path, path_len) &&
            (best == NULL || strlen((*e)->id) > strlen(best->id)))
            best = *e;
    }
    return best;
}

bool scim_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool scim_attr_name_valid(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!scim_name_char(s[i]))
            return false;
    }
    return true;
}

enum status scim_schema_resolve(const struct scim_resource_type *rt, const char *path,
                                struct scim_attr_ref *out, struct scim_error *err)
{
    if (rt == NULL || path == NULL || out == NULL)
        return scim_error_set(err, ERR_INVALID_PATH, "missing attribute path");
    memset(out, 0, sizeof(*out));

    const char *rest = path;
    const struct scim_schema *schema = NULL;
    if (str_istarts(path, "urn:")) {
        schema = urn_prefix(rt, path);
        const struct scim_schema *named = scim_resource_find_extension(rt, path);
        if (named == NULL && str_ieq(path, rt->schema->id))
            named = rt->schema;
        if (schema == NULL && named != NULL)
            return scim_error_set(err, ERR_INVALID_PATH,
                                  "'%s' is a schema, not an attribute: name one of its "
                                  "attributes, e.g. '%s:%s'",
                                  named->id, named->id, named->attrs[0].name);
        if (schema == NULL)
            return scim_error_set(err, ERR_INVALID_PATH, "unknown schema in path '%.*s'",
                                  NAME_QUOTE_MAX, path);
        rest = path + strlen(schema->id) + 1;
    }

    const char *dot = strchr(rest, '.');
    size_t attr_len = dot ? (size_t)(dot - rest) : strlen(rest);
    const char *sub_name = dot ? dot + 1 : NULL;
    const struct scim_attr *attr = NULL;
    if (schema == NULL || schema == rt->schema) {
        attr = find_in(scim_common_attrs, rest, attr_len);
        if (attr == NULL)
            attr = find_in(rt->schema->attrs, rest, attr_len);
        schema = rt->schema;
    } else {
        attr = find_in(schema->attrs, rest, attr_len);
    }
    if (attr == NULL)
        return scim_error_set(err, ERR_INVALID_PATH, "unknown attribute '%.*s'", NAME_QUOTE_MAX,
                              path);

    const struct scim_attr *sub = NULL;
    if (sub_name != NULL) {
        sub = find_in(attr->type == SCIM_TYPE_COMPLEX ? attr->sub_attrs : NULL, sub_name,
                      strlen(sub_name));
        if (sub == NULL)
            return scim_error_set(err, ERR_INVALID_PATH, "unknown attribute '%.*s'", NAME_QUOTE_MAX,
                                  path);
    }
    out->schema = schema;
    out->attr = attr;
    out->sub = sub;
    return OK;
}

/* ---- validation ---------------------------------------------------------------------- */

/* Longest "attr.sub" label quoted in a validation error. */
#define LABEL_MAX 96

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* xsd:dateTime, checked loosely: YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM]. */
static bool is_datetime(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < sizeof(shape) - 1; i++, s++) {
        if (shape[i] == 'd' ? !is_digit(*s) : *s != shape[i])
            return false;
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        if (!is_digit(s[1]) || !is_digit(s[2]) || s[3] != ':' || !is_digit(s[4]) || !is_digit(s[5]))
            return false;
        s += 6;
    }
    return *s == '\0';
}

static bool is_blank(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    }
    return true;
}

static enum status type_error(struct scim_error *err, const char *label, const char *what)
{
    return scim_error_set(err, ERR_INVALID_VALUE, "attribute '%s' must be %s", label, what);
}

static enum status nomem(struct scim_error *err)
{
    return scim_error_set(err, ERR_NOMEM, "out of memory");
}

/* Does a bare string for this attribute mean {"value": s}?  (Entra sends manager that way.) */
static bool string_means_value(const struct scim_attr *attr)
{
    return attr == scim_schema_find(&scim_schema_enterprise_user, "manager");
}

static enum status check_single(const struct scim_attr *attr, const char *label, const json_t *v,
                                json_t **out, struct scim_error *err);

/* A complex value: known sub-attributes checked and renamed, unknown and readOnly ones dropped. */
static enum status check_complex(const struct scim_attr *attr, const char *label, const json_t *v,
                                 json_t **out, struct scim_error *err)
{
    json_t *obj = NULL;
    if (json_is_string(v) && !attr->multi_valued && string_means_value(attr)) {
        if (json_string_length(v) == 0)
            return OK; /* an empty manager is no manager */
        const struct scim_attr *value_attr = scim_attr_find_sub(attr, "value");
        json_t *x = NULL;
        enum status rc = check_single(value_attr, label, v, &x, err);
        if (rc != OK)
            return rc;
        obj = json_object();
        if (obj == NULL || json_object_set_new(obj, value_attr->name, x) != 0) {
            json_decref(obj);
            return nomem(err);
        }
        *out = obj;
        return OK;
    }
    if (!json_is_object(v))
        return type_error(err, label, "an object");

    obj = json_object();
    if (obj == NULL)
        return nomem(err);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        const struct scim_attr *sub = scim_attr_find_sub(attr, key);
        if (sub == NULL || json_is_null(val) || sub->mutability == SCIM_MUT_READ_ONLY ||
            sub->mutability == SCIM_MUT_WRITE_ONLY || sub->returned == SCIM_RET_NEVER)
            continue;
        char sub_label[LABEL_MAX];
        snprintf(sub_label, sizeof(sub_label), "%s.%s", label, sub->name);
        json_t *x = NULL;
        enum status rc = check_single(sub, sub_label, val, &x, err);
        if (rc != OK) {
            json_decref(obj);
            return rc;
        }
        if (x != NULL && json_object_set_new(obj, sub->name, x) != 0) {
            json_decref(obj);
            return nomem(err);
        }
    }
    if (json_object_size(obj) == 0) {
        json_decref(obj); /* nothing left: same as absent */
        return OK;
    }
    *out = obj;
    return OK;
}

/*
 * One value of attr (an element, for a multi-valued attribute).  *out is a
 * new normalised value, or NULL when the value amounts to "absent".
 */
static enum status check_single(const struct scim_attr *attr, const char *label, const json_t *v,
                                json_t **out, struct scim_error *err)
{
    *out = NULL;
    if (json_is_null(v))
        return OK;
    switch (attr->type) {
    case SCIM_TYPE_STRING:
    case SCIM_TYPE_REFERENCE:
    case SCIM_TYPE_BINARY:
    case SCIM_TYPE_DATETIME:
        if (!json_is_string(v))
            return type_error(err, label, "a string");
        if (json_string_length(v) > SCIM_MAX_STRING_BYTES)
            return scim_error_set(err, ERR_INVALID_VALUE, "attribute '%s' is too long", label);
        if (attr->type == SCIM_TYPE_DATETIME &&
            (strlen(json_string_value(v)) != json_string_length(v) ||
             !is_datetime(json_string_value(v))))
            return type_error(err, label, "a dateTime");
        *out = json_copy((json_t *)v);
        break;
    case SCIM_TYPE_BOOLEAN:
        if (json_is_boolean(v))
            *out = json_copy((json_t *)v);
        else if (json_is_string(v) && str_ieq(json_string_value(v), "true"))
            *out = json_true();
        else if (json_is_string(v) && str_ieq(json_string_value(v), "false"))
            *out = json_false();
        else
            return type_error(err, label, "a boolean");
        break;
    case SCIM_TYPE_INTEGER:
        if (json_is_integer(v)) {
            *out = json_copy((json_t *)v);
        } else if (json_is_real(v)) {
            double d = json_real_value(v);
            /* 2^63 bounds json_int_t; d == (long long)d rejects fractions */
            if (!(d > -9.2e18 && d < 9.2e18) || d != (double)(json_int_t)d)
                return type_error(err, label, "an integer");
            *out = json_integer((json_int_t)d);
        } else {
            return type_error(err, label, "an integer");
        }
        break;
    case SCIM_TYPE_DECIMAL:
        if (!json_is_number(v))
            return type_error(err, label, "a number");
        *out = json_copy((json_t *)v);
        break;
    case SCIM_TYPE_COMPLEX:
        return check_complex(attr, label, v, out, err);
    }
    return *out ? OK : nomem(err);
}

/* A whole attribute value: an array for multi-valued attributes, else a single value. */
static enum status check_attr(const struct scim_attr *attr, const json_t *v, json_t **out,
                              struct scim_error *err)
{
    *out = NULL;
    if (json_is_null(v))
        return OK;
    if (!attr->multi_valued)
        return check_single(attr, attr->name, v, out, err);
    if (!json_is_array(v))
        return type_error(err, attr->name, "an array");

    json_t *arr = json_array();
    if (arr == NULL)
        return nomem(err);
    size_t i;
    json_t *el;
    json_array_foreach((json_t *)v, i, el)
    {
        json_t *x = NULL;
        enum status rc = check_single(attr, attr->name, el, &x, err);
        if (rc != OK) {
            json_decref(arr);
            return rc;
        }
        if (x != NULL && json_array_append_new(arr, x) != 0) {
            json_decref(arr);
            return nomem(err);
        }
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr); /* [] and null both mean unassigned (RFC 7643 §2.5) */
        return OK;
    }
    *out = arr;
    return OK;
}

/* Work in progress of scim_schema_validate. */
struct validation {
    const struct scim_resource_type *rt;
    enum scim_validate_mode mode;
    json_t *core;    /* common and core attributes, canonical names */
    json_t *exts;    /* canonical extension URN -> object of its attributes */
    json_t *unknown; /* unknown URN key -> object, verbatim, in input order */
};

/* Check a client-writable attribute and store it under its canonical name in target. */
static enum status put_attr(json_t *target, const struct scim_attr *attr, const json_t *v,
                            struct scim_error *err)
{
    if (attr->mutability == SCIM_MUT_READ_ONLY || attr->mutability == SCIM_MUT_WRITE_ONLY ||
        attr->returned == SCIM_RET_NEVER)
        return OK; /* ignored, as RFC 7644 §3.5.1 allows; never stored */
    json_t *x = NULL;
    enum status rc = check_attr(attr, v, &x, err);
    if (rc != OK || x == NULL)
        return rc;
    if (json_object_set_new(target, attr->name, x) != 0)
        return nomem(err);
    return OK;
}

static enum status put_common_or_core(struct validation *va, const char *key, const json_t *v,
                                      struct scim_error *err)
{
    const struct scim_attr *attr = scim_schema_find(va->rt->schema, key);
    if (attr != NULL)
        return put_attr(va->core, attr, v, err);
    attr = find_in(scim_common_attrs, key, strlen(key));
    if (attr == NULL)
        return OK; /* unknown attribute: dropped */
    if (attr->mutability != SCIM_MUT_READ_ONLY)
        return put_attr(va->core, attr, v, err);
    /* id, meta: a PATCH result carries them through for the caller to re-render */
    if (va->mode != SCIM_VALIDATE_RESULT || json_is_null(v))
        return OK;
    if (json_object_set_new(va->core, attr->name, json_deep_copy(v)) != 0)
        return nomem(err);
    return OK;
}

/* The object holding the attributes of extension ext, created on first use. */
static json_t *ext_object(struct validation *va, const struct scim_schema *ext)
{
    json_t *obj = json_object_get(va->exts, ext->id);
    if (obj != NULL)
        return obj;
    obj = json_object();
    if (obj == NULL || json_object_set_new(va->exts, ext->id, obj) != 0)
        return NULL;
    return obj;
}

static enum status put_extension(struct validation *va, const struct scim_schema *ext,
                                 const json_t *v, struct scim_error *err)
{
    if (json_is_null(v))
        return OK;
    if (!json_is_object(v))
        return scim_error_set(err, ERR_INVALID_VALUE, "extension '%s' must be an object", ext->id);
    json_t *target = ext_object(va, ext);
    if (target == NULL)
        return nomem(err);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        const struct scim_attr *attr = scim_schema_find(ext, key);
        if (attr == NULL && ext->strict)
            return scim_error_set(err, ERR_INVALID_VALUE, "unknown attribute '%.64s' of '%s'", key,
                                  ext->id);
        if (attr == NULL)
            continue;
        enum status rc = put_attr(target, attr, val, err);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* A top-level key starting with "urn:". */
static enum status put_urn_key(struct validation *va, const char *key, const json_t *v,
                               struct scim_error *err)
{
    const struct scim_schema *ext = scim_resource_find_extension(va->rt, key);
    if (ext != NULL)
        return put_extension(va, ext, v, err);

    if (str_ieq(key, va->rt->schema->id)) {
        /* the core URN used as a container: its members are plain core attributes */
        if (!json_is_object(v))
            return OK;
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)v, k, val)
        {
            enum status rc = put_common_or_core(va, k, val, err);
            if (rc != OK)
                return rc;
        }
        return OK;
    }

    if (urn_prefix(va->rt, key) != NULL) {
        /* "urn:...:enterprise:2.0:User:department": a qualified attribute */
        struct scim_attr_ref ref;
        if (scim_schema_resolve(va->rt, key, &ref, NULL) != OK || ref.sub != NULL)
            return OK;
        if (ref.schema == va->rt->schema)
            return put_common_or_core(va, ref.attr->name, v, err);
        json_t *target = ext_object(va, ref.schema);
        if (target == NULL)
            return nomem(err);
        return put_attr(target, ref.attr, v, err);
    }

    /* an extension scimd does not know: kept verbatim, but only as an object */
    if (!json_is_object(v))
        return OK;
    if (json_object_set_new(va->unknown, key, json_deep_copy(v)) != 0)
        return nomem(err);
    return OK;
}

static enum status check_required(const struct validation *va, struct scim_error *err)
{
    for (const struct scim_attr *a = va->rt->schema->attrs; a->name != NULL; a++) {
        if (!a->required)
            continue;
        const json_t *v = json_object_get(va->core, a->name);
        if (v == NULL || (json_is_string(v) && is_blank(json_string_value(v))))
            return scim_error_set(err, ERR_INVALID_VALUE, "attribute '%s' is required", a->name);
    }
    return OK;
}

/* Assemble schemas, core attributes, known extensions (in table order), unknown URNs. */
static enum status assemble(const struct validation *va, json_t **out, struct scim_error *err)
{
    json_t *doc = json_object();
    json_t *schemas = json_array();
    if (doc == NULL || schemas == NULL || json_object_set_new(doc, "schemas", schemas) != 0) {
        json_decref(doc);
        return nomem(err);
    }
    int fail = json_array_append_new(schemas, json_string(va->rt->schema->id));
    fail |= json_object_update(doc, va->core);
    for (const struct scim_schema *const *e = va->rt->extensions; e && *e; e++) {
        json_t *obj = json_object_get(va->exts, (*e)->id);
        if (obj == NULL || json_object_size(obj) == 0)
            continue;
        fail |= json_array_append_new(schemas, json_string((*e)->id));
        fail |= json_object_set(doc, (*e)->id, obj);
    }
    const char *key;
    json_t *val;
    json_object_foreach(va->unknown, key, val)
    {
        fail |= json_array_append_new(schemas, json_string(key));
        fail |= json_object_set(doc, key, val);
    }
    if (fail) {
        json_decref(doc);
        return nomem(err);
    }
    *out = doc;
    return OK;
}

enum status scim_schema_validate(const struct scim_resource_type *rt, const json_t *in,
                                 enum scim_validate_mode mode, json_t **out, struct scim_error *err)
{
    *out = NULL;
    if (!json_is_object(in))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "resource must be a JSON object");

    struct validation va = { rt, mode, json_object(), json_object(), json_object() };
    enum status rc = OK;
    if (va.core == NULL || va.exts == NULL || va.unknown == NULL) {
        rc = nomem(err);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)in, key, val)
    {
        if (str_ieq(key, "schemas"))
            continue; /* rebuilt from what is present */
        if (str_istarts(key, "urn:"))
            rc = put_urn_key(&va, key, val, err);
        else
            rc = put_common_or_core(&va, key, val, err);
        if (rc != OK)
            goto done;
    }
    rc = check_required(&va, err);
    if (rc != OK)
        goto done;
    rc = assemble(&va, out, err);
done:
    json_decref(va.core);
    json_decref(va.exts);
    json_decref(va.unknown);
    return rc;
}

/* ---- projection ---------------------------------------------------------------------- */

/* Longest attributes / excludedAttributes value parsed. */
#define PROJECTION_MAX_BYTES 8192

struct proj_entry {
    const struct scim_schema *schema; /* core (also for common attributes) or extension */
    const struct scim_attr *attr;     /* NULL: the whole extension */
    const struct scim_attr *sub;      /* NULL: the whole attribute */
};

struct scim_projection {
    const struct scim_resource_type *rt;
    bool include; /* attributes=: keep only what is listed; else excludedAttributes= */
    size_t n;
    size_t alloc;
    struct proj_entry *entries;
};

static bool has_entry(const struct scim_projection *p, const struct scim_schema *schema,
                      const struct scim_attr *attr, const struct scim_attr *sub)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct proj_entry *e = &p->entries[i];
        if (e->schema == schema && e->attr == attr && e->sub == sub)
            return true;
    }
    return false;
}

/* Is some sub-attribute of attr (or, with attr NULL, some attribute of schema) listed? */
static bool has_part(const struct scim_projection *p, const struct scim_schema *schema,
                     const struct scim_attr *attr)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct proj_entry *e = &p->entries[i];
        if (e->schema == schema && (attr == NULL ? e->attr != NULL : e->attr == attr) &&
            (attr == NULL || e->sub != NULL))
            return true;
    }
    return false;
}

static enum status add_entry(struct scim_projection *p, const struct proj_entry *e,
                             struct scim_error *err)
{
    if (has_entry(p, e->schema, e->attr, e->sub))
        return OK;
    struct proj_entry *grown = array_room(p->entries, p->n, &p->alloc, sizeof(*grown), 8);
    if (grown == NULL)
        return nomem(err);
    p->entries = grown;
    p->entries[p->n++] = *e;
    return OK;
}

static bool is_list_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Parse one comma-separated list into p's entries. */
static enum status parse_list(struct scim_projection *p, const char *list, struct scim_error *err)
{
    if (strlen(list) > PROJECTION_MAX_BYTES)
        return scim_error_set(err, ERR_INVALID_PATH, "attribute list too long");
    char *copy = str_dup(list);
    if (copy == NULL)
        return nomem(err);
    enum status rc = OK;
    char *item = copy;
    while (item != NULL) {
        char *comma = strchr(item, ',');
        if (comma != NULL)
            *comma = '\0';
        while (is_list_space(*item))
            item++;
        size_t len = strlen(item);
        while (len > 0 && is_list_space(item[len - 1]))
            item[--len] = '\0';
        if (len > 0) {
            struct proj_entry e = { scim_resource_find_extension(p->rt, item), NULL, NULL };
            if (e.schema == NULL) {
                struct scim_attr_ref ref;
                rc = scim_schema_resolve(p->rt, item, &ref, err);
                if (rc != OK)
                    break;
                e.schema = ref.schema;
                e.attr = ref.attr;
                e.sub = ref.sub;
            }
            rc = add_entry(p, &e, err);
            if (rc != OK)
                break;
        }
        item = comma ? comma + 1 : NULL;
    }
    free(copy);
    return rc;
}

enum status scim_projection_parse(const struct scim_resource_type *rt, const char *attributes,
                                  const char *excluded, struct scim_projection **out,
                                  struct scim_error *err)
{
    *out = NULL;
    struct scim_projection *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return nomem(err);
    p->rt = rt;
    enum status rc = OK;
    /* attributes wins when both are given (RFC 7644 §3.4.2.5 leaves it open) */
    if (attributes != NULL && !is_blank(attributes)) {
        p->include = true;
        rc = parse_list(p, attributes, err);
    } else if (excluded != NULL && !is_blank(excluded)) {
        rc = parse_list(p, excluded, err);
    }
    if (rc != OK || p->n == 0) {
        scim_projection_free(p);
        return rc;
    }
    *out = p;
    return OK;
}

void scim_projection_free(struct scim_projection *p)
{
    if (p == NULL)
        return;
    free(p->entries);
    free(p);
}

bool scim_projection_excludes(const struct scim_projection *p, const char *attr)
{
    if (p == NULL || attr == NULL)
        return false;
    const struct scim_schema *ext = scim_resource_find_extension(p->rt, attr);
    if (ext != NULL)
        return p->include ? !has_entry(p, ext, NULL, NULL) && !has_part(p, ext, NULL)
                          : has_entry(p, ext, NULL, NULL);
    struct scim_attr_ref ref;
    if (scim_schema_resolve(p->rt, attr, &ref, NULL) != OK)
        return false;
    if (ref.attr->returned == SCIM_RET_NEVER)
        return true;
    if (ref.attr->returned == SCIM_RET_ALWAYS)
        return false;
    bool whole = has_entry(p, ref.schema, ref.attr, NULL);
    if (p->include)
        return !whole && !has_part(p, ref.schema, ref.attr) &&
               !has_entry(p, ref.schema, NULL, NULL);
    return whole || ref.attr->returned == SCIM_RET_REQUEST;
}

/*
 * Copy of one object value of a complex attribute, keeping the sub-attributes
 * the projection asks for.  NULL when nothing is left.  keep_all: the whole
 * attribute is wanted (only returned:never sub-attributes go).
 */
static json_t *project_object(const struct scim_projection *p, const struct scim_schema *schema,
                              const struct scim_attr *attr, const json_t *obj, bool keep_all)
{
    json_t *res = json_object();
    if (res == NULL)
        return NULL;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        const struct scim_attr *sub = scim_attr_find_sub(attr, key);
        bool keep;
        if (sub == NULL)
            keep = keep_all || !p->include;
        else if (sub->returned == SCIM_RET_NEVER)
            keep = false;
        else if (keep_all || sub->returned == SCIM_RET_ALWAYS)
            keep = true;
        else
            keep = has_entry(p, schema, attr, sub) == p->include;
        if (keep && json_object_set_new(res, key, json_deep_copy(val)) != 0) {
            json_decref(res);
            return NULL;
        }
    }
    if (json_object_size(res) == 0) {
        json_decref(res);
        return NULL;
    }
    return res;
}

/* Copy of a complex attribute's value (object or array of objects), filtered per sub-attribute. */
static json_t *project_complex(const struct scim_projection *p, const struct scim_schema *schema,
                               const struct scim_attr *attr, const json_t *v, bool keep_all)
{
    if (json_is_object(v))
        return project_object(p, schema, attr, v, keep_all);
    if (!json_is_array(v))
        return keep_all || !p->include ? json_deep_copy(v) : NULL;
    json_t *arr = json_array();
    size_t i;
    json_t *el;
    json_array_foreach((json_t *)v, i, el)
    {
        if (arr == NULL)
            break;
        json_t *x;
        if (json_is_object(el))
            x = project_object(p, schema, attr, el, keep_all);
        else
            x = keep_all || !p->include ? json_deep_copy(el) : NULL;
        if (x != NULL && json_array_append_new(arr, x) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (arr != NULL && json_array_size(arr) == 0 && !keep_all) {
        json_decref(arr);
        arr = NULL;
    }
    return arr;
}

/* What of attribute attr (value v) goes out; NULL for nothing.  listed: its whole schema is. */
static json_t *project_attr(const struct scim_projection *p, const struct scim_schema *schema,
                            const struct scim_attr *attr, const json_t *v, bool listed)
{
    static const struct scim_projection identity = { NULL, false, 0, 0, NULL };
    if (attr->returned == SCIM_RET_NEVER)
        return NULL;
    if (attr->returned == SCIM_RET_ALWAYS)
        return json_deep_copy(v);
    if (p == NULL)
        p = &identity;
    bool whole = listed || has_entry(p, schema, attr, NULL);
    if (p->include) {
        if (whole)
            return attr->type == SCIM_TYPE_COMPLEX ? project_complex(p, schema, attr, v, true)
                                                   : json_deep_copy(v);
        if (has_part(p, schema, attr))
            return project_complex(p, schema, attr, v, false);
        return NULL;
    }
    if (whole || attr->returned == SCIM_RET_REQUEST)
        return NULL;
    if (attr->type != SCIM_TYPE_COMPLEX)
        return json_deep_copy(v);
    return project_complex(p, schema, attr, v, !has_part(p, schema, attr));
}

static json_t *project_extension(const struct scim_projection *p, const struct scim_schema *ext,
                                 const json_t *v)
{
    bool listed = p != NULL && has_entry(p, ext, NULL, NULL);
    if (p != NULL && !p->include && listed)
        return NULL;
    if (!json_is_object(v))
        return p == NULL || !p->include || listed ? json_deep_copy(v) : NULL;
    json_t *res = json_object();
    if (res == NULL)
        return NULL;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        const struct scim_attr *attr = scim_schema_find(ext, key);
        json_t *x;
        if (attr == NULL)
            x = p == NULL || !p->include || listed ? json_deep_copy(val) : NULL;
        else
            x = project_attr(p, ext, attr, val, listed && p->include);
        if (x != NULL && json_object_set_new(res, key, x) != 0) {
            json_decref(res);
            return NULL;
        }
    }
    if (json_object_size(res) == 0) {
        json_decref(res);
        return NULL;
    }
    return res;
}

json_t *scim_projection_apply(const struct scim_projection *p, const struct scim_resource_type *rt,
                              const json_t *resource)
{
    if (!json_is_object(resource))
        return NULL;
    if (rt == NULL && p != NULL)
        rt = p->rt;
    if (rt == NULL)
        return NULL;
    json_t *out = json_object();
    if (out == NULL)
        return NULL;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)resource, key, val)
    {
        json_t *x;
        const struct scim_schema *ext = scim_resource_find_extension(rt, key);
        const struct scim_attr *attr = scim_schema_find(rt->schema, key);
        if (attr == NULL)
            attr = find_in(scim_common_attrs, key, strlen(key));
        if (str_ieq(key, "schemas"))
            x = json_deep_copy(val);
        else if (ext != NULL)
            x = project_extension(p, ext, val);
        else if (attr != NULL)
            x = project_attr(p, rt->schema, attr, val, false);
        else /* an extension scimd does not know: nothing can ask for it by name */
            x = p == NULL || !p->include ? json_deep_copy(val) : NULL;
        if (x != NULL && json_object_set_new(out, key, x) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* ---- discovery ----------------------------------------------------------------------- */

/* clang-format off */
static const char *const type_names[] = {
    [SCIM_TYPE_STRING]    = "string",
    [SCIM_TYPE_BOOLEAN]   = "boolean",
    [SCIM_TYPE_DECIMAL]   = "decimal",
    [SCIM_TYPE_INTEGER]   = "integer",
    [SCIM_TYPE_DATETIME]  = "dateTime",
    [SCIM_TYPE_BINARY]    = "binary",
    [SCIM_TYPE_REFERENCE] = "reference",
    [SCIM_TYPE_COMPLEX]   = "complex",
};
static const char *const mutability_names[] = {
    [SCIM_MUT_READ_WRITE] = "readWrite",
    [SCIM_MUT_READ_ONLY]  = "readOnly",
    [SCIM_MUT_IMMUTABLE]  = "immutable",
    [SCIM_MUT_WRITE_ONLY] = "writeOnly",
};
static const char *const returned_names[] = {
    [SCIM_RET_DEFAULT] = "default",
    [SCIM_RET_ALWAYS]  = "always",
    [SCIM_RET_NEVER]   = "never",
    [SCIM_RET_REQUEST] = "request",
};
static const char *const uniqueness_names[] = {
    [SCIM_UNIQ_NONE]   = "none",
    [SCIM_UNIQ_SERVER] = "server",
    [SCIM_UNIQ_GLOBAL] = "global",
};
/* clang-format on */

static json_t *string_list(const char *const *list)
{
    json_t *arr = json_array();
    for (; arr != NULL && *list != NULL; list++) {
        if (json_array_append_new(arr, json_string(*list)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *render_attrs(const struct scim_attr *attrs);

static json_t *render_attr(const struct scim_attr *a)
{
    json_t *o =
        json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:s, s:s, s:s}", "name", a->name, "type",
                  type_names[a->type], "multiValued", a->multi_valued, "description",
                  a->description, "required", a->required, "caseExact", a->case_exact, "mutability",
                  mutability_names[a->mutability], "returned", returned_names[a->returned],
                  "uniqueness", uniqueness_names[a->uniqueness]);
    if (o == NULL)
        return NULL;
    int fail = 0;
    if (a->canonical_values != NULL)
        fail |= json_object_set_new(o, "canonicalValues", string_list(a->canonical_values));
    if (a->reference_types != NULL)
        fail |= json_object_set_new(o, "referenceTypes", string_list(a->reference_types));
    if (a->type == SCIM_TYPE_COMPLEX && a->sub_attrs != NULL)
        fail |= json_object_set_new(o, "subAttributes", render_attrs(a->sub_attrs));
    if (fail) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *render_attrs(const struct scim_attr *attrs)
{
    json_t *arr = json_array();
    for (const struct scim_attr *a = attrs; arr != NULL && a->name != NULL; a++) {
        if (json_array_append_new(arr, render_attr(a)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* {"resourceType": type, "location": base_url + dir + "/" + id} */
static json_t *render_meta(const char *type, const char *base_url, const char *dir, const char *id)
{
    struct buf loc;
    buf_init(&loc, 0);
    buf_printf(&loc, "%s%s/%s", base_url ? base_url : "", dir, id);
    json_t *meta =
        loc.failed ? NULL : json_pack("{s:s, s:s}", "resourceType", type, "location", loc.data);
    buf_release(&loc);
    return meta;
}

json_t *scim_schema_render(const struct scim_schema *schema, const char *base_url)
{
    if (schema == NULL)
        return NULL;
    return json_pack("{s:[s], s:s, s:s, s:s, s:o, s:o}", "schemas", SCIM_SCHEMA_SCHEMA, "id",
                     schema->id, "name", schema->name, "description", schema->description,
                     "attributes", render_attrs(schema->attrs), "meta",
                     render_meta("Schema", base_url, "Schemas", schema->id));
}

static json_t *list_response(json_t *resources)
{
    if (resources == NULL)
        return NULL;
    size_t n = json_array_size(resources);
    return json_pack("{s:[s], s:I, s:I, s:i, s:o}", "schemas", SCIM_SCHEMA_LIST_RESPONSE,
                     "totalResults", (json_int_t)n, "itemsPerPage", (json_int_t)n, "startIndex", 1,
                     "Resources", resources);
}

json_t *scim_schemas_list_render(const char *base_url)
{
    return scim_schemas_list_render_for(&scim_resource_user, base_url);
}

/* Append the rendering of s to arr; NULL (and arr freed) on failure. */
static json_t *append_schema(json_t *arr, const struct scim_schema *s, const char *base_url)
{
    if (arr != NULL && json_array_append_new(arr, scim_schema_render(s, base_url)) != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *scim_schemas_list_render_for(const struct scim_resource_type *user_rt, const char *base_url)
{
    json_t *arr = json_array();
    for (const struct scim_schema *const *s = all_schemas; arr != NULL && *s != NULL; s++)
        arr = append_schema(arr, *s, base_url);
    for (const struct scim_schema *const *e = user_rt->extensions; arr != NULL && e && *e; e++) {
        if (scim_schema_by_urn((*e)->id) == NULL)
            arr = append_schema(arr, *e, base_url);
    }
    return list_response(arr);
}

const struct scim_schema *scim_schema_by_urn_in(const struct scim_resource_type *user_rt,
                                                const char *urn)
{
    const struct scim_schema *s = scim_schema_by_urn(urn);
    return s ? s : scim_resource_find_extension(user_rt, urn);
}

json_t *scim_resource_type_render(const struct scim_resource_type *rt, const char *base_url)
{
    if (rt == NULL)
        return NULL;
    json_t *o = json_pack("{s:[s], s:s, s:s, s:s, s:s, s:s}", "schemas", SCIM_SCHEMA_RESOURCE_TYPE,
                          "id", rt->id, "name", rt->name, "endpoint", rt->endpoint, "description",
                          rt->description, "schema", rt->schema->id);
    if (o == NULL)
        return NULL;
    int fail = 0;
    if (rt->extensions != NULL && rt->extensions[0] != NULL) {
        json_t *exts = json_array();
        for (const struct scim_schema *const *e = rt->extensions; exts != NULL && *e; e++)
            fail |= json_array_append_new(
                exts, json_pack("{s:s, s:b}", "schema", (*e)->id, "required", false));
        fail |= json_object_set_new(o, "schemaExtensions", exts);
    }
    fail |= json_object_set_new(o, "meta",
                                render_meta("ResourceType", base_url, "ResourceTypes", rt->id));
    if (fail) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *scim_resource_types_list_render(const char *base_url)
{
    return scim_resource_types_list_render_for(&scim_resource_user, base_url);
}

json_t *scim_resource_types_list_render_for(const struct scim_resource_type *user_rt,
                                            const char *base_url)
{
    json_t *arr = json_array();
    for (const struct scim_resource_type *const *rt = all_resource_types; arr != NULL && *rt;
         rt++) {
        const struct scim_resource_type *shown = *rt == &scim_resource_user ? user_rt : *rt;
        if (json_array_append_new(arr, scim_resource_type_render(shown, base_url)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return list_response(arr);
}

/* ---- tenant-declared User extensions --------------------------------------------------- */

/* One heap block: the schema first (so a schema pointer frees the block). */
struct ext_schema {
    struct scim_schema schema;
    struct scim_attr attrs[SCIM_EXT_MAX_ATTRS + 1];
    char *urn;
    char *names[SCIM_EXT_MAX_ATTRS];
};

/* clang-format off */
static const struct { const char *name; enum scim_type type; } ext_types[] = {
    { "string",   SCIM_TYPE_STRING   },
    { "integer",  SCIM_TYPE_INTEGER  },
    { "boolean",  SCIM_TYPE_BOOLEAN  },
    { "decimal",  SCIM_TYPE_DECIMAL  },
    { "dateTime", SCIM_TYPE_DATETIME },
};
/* clang-format on */

void scim_ext_schema_free(struct scim_schema *s)
{
    if (s == NULL)
        return;
    struct ext_schema *x = (struct ext_schema *)s;
    free(x->urn);
    for (size_t i = 0; i < SCIM_EXT_MAX_ATTRS; i++)
        free(x->names[i]);
    free(x);
}

static bool urn_valid(const char *urn)
{
    size_t n = strlen(urn);
    if (n <= 4 || n > SCIM_EXT_URN_MAX || !str_istarts(urn, "urn:") || urn[n - 1] == ':')
        return false;
    for (const char *p = urn; *p; p++) {
        if (!scim_name_char(*p) && strchr(":.", *p) == NULL)
            return false;
    }
    return true;
}

/* One "name:type" item (n bytes at item) into attribute i of x. */
static enum status ext_attr(struct ext_schema *x, size_t i, const char *item, size_t n,
                            struct scim_error *err)
{
    const char *colon = memchr(item, ':', n);
    size_t name_len = colon ? (size_t)(colon - item) : 0;
    if (colon == NULL || !scim_attr_name_valid(item, name_len))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "attribute '%.*s' must be name:type with a SCIM attribute name",
                              (int)(n > 64 ? 64 : n), item);
    if (find_in(x->attrs, item, name_len) != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "attribute '%.*s' is declared twice",
                              (int)name_len, item);
    const char *type = colon + 1;
    size_t type_len = n - name_len - 1;
    for (size_t t = 0; t < sizeof(ext_types) / sizeof(ext_types[0]); t++) {
        if (strlen(ext_types[t].name) != type_len || !str_ieqn(ext_types[t].name, type, type_len))
            continue;
        x->names[i] = str_ndup(item, name_len);
        if (x->names[i] == NULL)
            return nomem(err);
        x->attrs[i] = (struct scim_attr){ .name = x->names[i],
                                          .type = ext_types[t].type,
                                          .mutability = SCIM_MUT_READ_WRITE,
                                          .returned = SCIM_RET_DEFAULT,
                                          .uniqueness = SCIM_UNIQ_NONE,
                                          .description = "Declared by the tenant." };
        return OK;
    }
    return scim_error_set(err, ERR_INVALID_VALUE,
                          "type '%.*s' of '%.*s' is not string, integer, boolean, decimal or "
                          "dateTime",
                          (int)(type_len > 32 ? 32 : type_len), type, (int)name_len, item);
}

enum status scim_ext_schema_new(const char *urn, const char *spec, struct scim_schema **out,
                                struct scim_error *err)
{
    *out = NULL;
    if (urn == NULL || !urn_valid(urn))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "schema URN must start with 'urn:' and be at most %d bytes of "
                              "letters, digits, '-', '_', '.' and ':'",
                              SCIM_EXT_URN_MAX);
    if (scim_schema_by_urn(urn) != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "'%s' is a built-in schema", urn);
    struct ext_schema *x = calloc(1, sizeof(*x));
    if (x == NULL || (x->urn = str_dup(urn)) == NULL) {
        free(x);
        return nomem(err);
    }
    x->schema = (struct scim_schema){ x->urn, "TenantExtension", "Extension declared by the tenant",
                                      x->attrs, true };
    enum status rc = OK;
    size_t n = 0;
    const char *p = spec ? spec : "";
    while (rc == OK && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == SCIM_EXT_MAX_ATTRS)
            rc =
                scim_error_set(err, ERR_INVALID_VALUE, "at most %d attributes", SCIM_EXT_MAX_ATTRS);
        else
            rc = ext_attr(x, n++, p, len, err);
        p = end ? end + 1 : p + len;
    }
    if (rc == OK && n == 0)
        rc = scim_error_set(err, ERR_INVALID_VALUE, "an extension needs at least one attribute");
    if (rc != OK) {
        scim_ext_schema_free(&x->schema);
        return rc;
    }
    *out = &x->schema;
    return OK;
}

void scim_resource_type_extend(const struct scim_resource_type *base,
                               const struct scim_schema *const *extra, size_t n,
                               struct scim_resource_type_ext *out)
{
    out->rt = *base;
    size_t k = 0;
    for (const struct scim_schema *const *e = base->extensions; e && *e && k < 3; e++)
        out->extensions[k++] = *e;
    for (size_t i = 0; i < n && i < SCIM_EXT_MAX; i++)
        out->extensions[k++] = extra[i];
    out->extensions[k] = NULL;
    out->rt.extensions = out->extensions;
}
