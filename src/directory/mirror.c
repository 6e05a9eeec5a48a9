/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirror.c - default attribute mirroring from a SCIM User into canonical fields.
 */
#include <stdlib.h>
#include <string.h>

#include "directory/mirror.h"
#include "core/str.h"

static const char *string_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Primary email, else the first of type work, else the first. */
static const char *pick_email(const json_t *emails)
{
    const char *work = NULL, *first = NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(emails, i, e)
    {
        const char *value = string_at(e, "value");
        if (value == NULL)
            continue;
        if (json_is_true(json_object_get(e, "primary")))
            return value;
        const char *type = string_at(e, "type");
        if (work == NULL && type && str_ieq(type, "work"))
            work = value;
        if (first == NULL)
            first = value;
    }
    return work ? work : first;
}

void mirror_read(const json_t *doc, struct mirror *m)
{
    memset(m, 0, sizeof(*m));
    m->user_name = string_at(doc, "userName");
    m->external_id = string_at(doc, "externalId");
    const json_t *name = json_object_get(doc, "name");
    m->given_name = string_at(name, "givenName");
    m->family_name = string_at(name, "familyName");
    m->display_name = string_at(doc, "displayName");
    const json_t *active = json_object_get(doc, "active");
    m->active = active == NULL || json_is_true(active);
    const json_t *emails = json_object_get(doc, "emails");
    m->email = pick_email(emails);
    size_t i;
    const json_t *e;
    json_array_foreach(emails, i, e)
    {
        const char *value = string_at(e, "value");
        if (value && m->n_emails < MIRROR_MAX_EMAILS)
            m->emails[m->n_emails++] = value;
    }
    /* Okta and Entra often send the address only as userName */
    if (m->email == NULL && mirror_looks_like_email(m->user_name))
        m->email = m->user_name;
}

static enum status replace(char **field, const char *value)
{
    char *copy = NULL;
    if (value && (copy = str_dup(value)) == NULL)
        return ERR_NOMEM;
    free(*field);
    *field = copy;
    return OK;
}

enum status mirror_apply(const struct mirror *m, struct store_user *u)
{
    if (replace(&u->username, m->user_name) != OK || replace(&u->email, m->email) != OK ||
        replace(&u->given_name, m->given_name) != OK ||
        replace(&u->family_name, m->family_name) != OK ||
        replace(&u->display_name, m->display_name) != OK)
        return ERR_NOMEM;
    return OK;
}

bool mirror_looks_like_email(const char *s)
{
    if (s == NULL)
        return false;
    const char *at = strchr(s, '@');
    return at && at != s && at[1] != '\0';
}
