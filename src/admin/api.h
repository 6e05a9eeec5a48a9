/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - the admin JSON API under /admin/api/v1/ (src/admin/): sign-in and
 * sessions, API keys, tenants, IdP connections, SCIM tokens, users, groups,
 * attribute mirroring, custom fields, extension schemas, roles, apps and
 * grants, and the audit log, described by the OpenAPI 3.1 document at
 * /admin/api/v1/openapi.json.  It calls the same directory functions as
 * the CLI; it never sees SQL.
 *
 * Answers are JSON ("application/json"); errors are
 * {"error":{"code":"not_found","message":"..."}} with a stable code.
 * Objects that can change are read with an ETag; PATCH, PUT and DELETE
 * honour If-Match (412 precondition_failed).  The check reads the object
 * inside the write transaction of the directory call that changes it, so of
 * two requests sent with the same ETag exactly one passes.
 *
 * Thread safety: every request is independent; the directory is shared.
 */
#ifndef SCIMD_ADMIN_API_H
#define SCIMD_ADMIN_API_H

#include "core/secretbox.h"
#include "directory/directory.h"
#include "http/request.h"

#define ADMIN_API_PREFIX "/admin/api/"

/* Handle a request whose URL starts with ADMIN_API_PREFIX. */
void admin_api_handle(struct directory *dir, const struct http_request *req,
                      struct http_response *res);

/* The key app credentials are sealed with (serve --key-file; NULL: none, and
 * creating an app answers 409 no_key_file).  Borrowed until set again. */
void admin_api_set_secretbox(const struct secretbox *box);

#endif
