/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render.c - stored SCIM resources of a connection.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/str.h"
#include "directory/render.h"
#include "scim/render.h"

enum status directory_render(const struct scim_conn *conn, const struct scim_resource_type *rt,
                             json_t *doc, const struct resource_meta *m, char **text)
{
    char location[DIRECTORY_URL_MAX + 64];
    /* rt->endpoint is "/Users"; the base URL already ends in '/' */
    snprintf(location, sizeof(location), "%s%s/%s", conn->base_url, rt->endpoint + 1, m->id);
    struct scim_meta meta = {
        .id = m->id,
        .created = m->created,
        .last_modified = m->updated,
        .version = m->version,
        .location = location,
    };
    enum status rc = scim_resource_finish(rt, doc, &meta);
    if (rc != OK)
        return rc;
    char *rendered = scim_json_text(doc);
    if (rendered == NULL)
        return ERR_NOMEM;
    free(*text);
    *text = rendered;
    return OK;
}

enum status directory_list_text(size_t total, size_t start_index, size_t shown,
                                const struct buf *resources, char **out)
{
    struct buf body;
    buf_init(&body, 0);
    buf_printf(&body,
               "{\"schemas\":[\"" SCIM_SCHEMA_LIST_RESPONSE "\"],\"totalResults\":%zu,"
               "\"startIndex\":%zu,\"itemsPerPage\":%zu",
               total, start_index, shown);
    buf_puts(&body, ",\"Resources\":[");
    buf_append(&body, resources->data ? resources->data : "", resources->len);
    buf_putc(&body, ']');
    buf_putc(&body, '}');
    *out = buf_take(&body);
    buf_release(&body);
    return *out != NULL ? OK : ERR_NOMEM;
}
