/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirror.h - attribute mirroring: which SCIM attributes of an IdP row become
 * the canonical user's fields (DESIGN.md §1 "Attribute mirroring").
 *
 * Internal to src/directory/.  The defaults are fixed for now: userName ->
 * username, the primary (else work, else first) emails.value -> email,
 * name.givenName / name.familyName -> names, displayName.  Pointers in
 * struct mirror are borrowed from the document and live as long as it does.
 */
#ifndef SCIMD_DIRECTORY_MIRROR_H
#define SCIMD_DIRECTORY_MIRROR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define MIRROR_MAX_EMAILS 32 /* emails indexed for filtering per user */

struct mirror {
    const char *user_name;
    const char *external_id;
    const char *email;
    const char *given_name;
    const char *family_name;
    const char *display_name;
    bool active;
    const char *emails[MIRROR_MAX_EMAILS];
    size_t n_emails;
};

/* Read the mirrored fields of a validated User document. */
void mirror_read(const json_t *doc, struct mirror *m);
/* Copy m into the canonical user's fields; ERR_NOMEM leaves u consistent. */
enum status mirror_apply(const struct mirror *m, struct store_user *u);
/* Is the address-like string s an email (has an '@' that is not first or last)? */
bool mirror_looks_like_email(const char *s);

#endif
