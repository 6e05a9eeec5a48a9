/*
 * console.c - GET /admin/, /admin/setup and /admin/assets/<file>: the web
 * console's page, script and style (src/admin/web/, embedded by
 * tools/embed.sh).  Every answer is marked res->console so the server adds
 * the CSP and framing headers.
 */
#include <string.h>

#include "admin/console.h"
#include "core/str.h"

/* tools/embed.sh writes an array of these: { file name, file text }. */
struct migration {
    const char *name;
    const char *sql;
};
#include "admin_console.h"

#define ASSETS ADMIN_CONSOLE_PREFIX "/assets/"

/* clang-format off */
static const struct { const char *ext, *type; } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js",   "text/javascript; charset=utf-8" },
    { ".css",  "text/css; charset=utf-8" },
    { ".txt",  "text/plain; charset=utf-8" },
};
/* The paths that are the page itself (the script routes by #fragment). */
static const char *const pages[] = {
    ADMIN_CONSOLE_PREFIX, ADMIN_CONSOLE_PREFIX "/", ADMIN_CONSOLE_PREFIX "/setup",
};
/* clang-format on */

static void answer(struct http_response *res, int status, const char *type, const char *text)
{
    res->status = status;
    res->body = str_dup(text);
    res->content_type = type;
    res->console = true;
}

static const char *asset(const char *name, const char **type)
{
    for (size_t i = 0; i < sizeof(admin_console_files) / sizeof(admin_console_files[0]); i++) {
        if (strcmp(admin_console_files[i].name, name) != 0)
            continue;
        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
            size_t n = strlen(name), e = strlen(types[t].ext);
            if (n > e && strcmp(name + n - e, types[t].ext) == 0) {
                *type = types[t].type;
                return admin_console_files[i].sql;
            }
        }
    }
    return NULL;
}

void admin_console_handle(const struct http_request *req, struct http_response *res)
{
    const char *type = types[3].type;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        answer(res, 405, type, "the console answers GET only\n");
        return;
    }
    res->route = ADMIN_CONSOLE_PREFIX "/";
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        if (strcmp(req->url, pages[i]) == 0) {
            const char *page = asset("index.html", &type);
            answer(res, 200, type, page);
            return;
        }
    }
    const char *text = NULL;
    if (strncmp(req->url, ASSETS, strlen(ASSETS)) == 0) {
        res->route = ASSETS "{file}";
        text = asset(req->url + strlen(ASSETS), &type);
    }
    if (text == NULL) {
        res->route = NULL;
        answer(res, 404, types[3].type, "no such page\n");
        return;
    }
    answer(res, 200, type, text);
}
