/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - settings from one table: defaults, a `key = value` file,
 * SCIMD_* environment variables and flags, validated once, printed with
 * their source and secrets masked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/str.h"

#define CONFIG_ENV_PREFIX "SCIMD_"
#define CONFIG_NAME_MAX   64

static const char *const source_names[] = { "default", "file", "env", "flag" };

void config_init(struct config *cfg, const struct config_option *table, size_t n)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->options = table;
    cfg->n_options = n < CONFIG_MAX_OPTIONS ? n : CONFIG_MAX_OPTIONS;
    for (size_t i = 0; i < cfg->n_options; i++) {
        cfg->values[i] = table[i].fallback;
        cfg->sources[i] = CONFIG_DEFAULT;
    }
}

void config_release(struct config *cfg)
{
    free(cfg->file_text);
    cfg->file_text = NULL;
}

static long index_of(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_options; i++) {
        if (strcmp(cfg->options[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

const struct config_option *config_option_find(const struct config *cfg, const char *name)
{
    long i = index_of(cfg, name);
    return i < 0 ? NULL : &cfg->options[i];
}

void config_env_name(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s%s", CONFIG_ENV_PREFIX, name);
    for (char *p = out; *p; p++)
        *p = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/*
 * A value as written: "…" quoted (taken as is), or up to a " # comment"
 * (a '#' right after whitespace; URLs and passwords keep theirs).
 */
static char *unquote(char *value)
{
    size_t len = strlen(value);
    if (value[0] == '"') {
        char *end = strchr(value + 1, '"');
        char *rest = end ? trim(end + 1) : NULL;
        if (rest != NULL && (*rest == '\0' || *rest == '#')) {
            *end = '\0';
            return value + 1;
        }
    }
    for (size_t i = 0; i < len; i++) {
        if (value[i] == '#' && (i == 0 || value[i - 1] == ' ' || value[i - 1] == '\t')) {
            value[i] = '\0';
            return trim(value);
        }
    }
    return value;
}

/* Read the whole file (at most CONFIG_MAX_FILE_BYTES) into a NUL-terminated string. */
static enum status read_file(const char *path, char **out, struct scim_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return scim_error_set(err, ERR_NOT_FOUND, "no config file '%s'", path);
        return scim_error_set(err, ERR_USAGE, "cannot read config file '%s': %s", path,
                              strerror(errno));
    }
    char *text = malloc(CONFIG_MAX_FILE_BYTES + 1);
    if (text == NULL) {
        fclose(f);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    size_t n = fread(text, 1, CONFIG_MAX_FILE_BYTES + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || n > CONFIG_MAX_FILE_BYTES || memchr(text, '\0', n) != NULL) {
        free(text);
        return scim_error_set(err, ERR_USAGE, "config file '%s' is %s", path,
                              failed ? "unreadable" : "not a text file of at most 64 KiB");
    }
    text[n] = '\0';
    *out = text;
    return OK;
}

enum status config_load_file(struct config *cfg, const char *path, struct scim_error *err)
{
    char *text = NULL;
    enum status rc = read_file(path, &text, err);
    return rc == OK ? config_load_text(cfg, text, path, err) : rc;
}

enum status config_load_text(struct config *cfg, char *text, const char *path,
                             struct scim_error *err)
{
    enum status rc = OK;
    unsigned line_no = 0;
    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = scim_error_set(err, ERR_USAGE, "%s:%u: expected 'key = value'", path, line_no);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *value = unquote(trim(eq + 1));
        long i = index_of(cfg, key);
        if (i < 0) {
            rc = scim_error_set(err, ERR_USAGE, "%s:%u: unknown setting '%.64s'", path, line_no,
                                key);
            goto fail;
        }
        if (*value == '\0')
            continue; /* `key =` leaves the setting as it was */
        cfg->values[i] = value;
        cfg->sources[i] = CONFIG_FILE;
    }
    free(cfg->file_text);
    cfg->file_text = text;
    cfg->file = path;
    return OK;
fail:
    /* values already taken point into text: back to the defaults for them */
    for (size_t i = 0; i < cfg->n_options; i++) {
        if (cfg->sources[i] == CONFIG_FILE) {
            cfg->values[i] = cfg->options[i].fallback;
            cfg->sources[i] = CONFIG_DEFAULT;
        }
    }
    free(text);
    return rc;
}

void config_load_env(struct config *cfg)
{
    for (size_t i = 0; i < cfg->n_options; i++) {
        char name[CONFIG_NAME_MAX];
        config_env_name(cfg->options[i].name, name, sizeof(name));
        const char *value = getenv(name);
        if (value && *value) {
            cfg->values[i] = value;
            cfg->sources[i] = CONFIG_ENV;
        }
    }
}

enum status config_set_flag(struct config *cfg, const char *name, const char *value,
                            struct scim_error *err)
{
    long i = index_of(cfg, name);
    if (i < 0)
        return scim_error_set(err, ERR_USAGE, "unknown option '--%.64s'", name);
    cfg->values[i] = value;
    cfg->sources[i] = CONFIG_FLAG;
    return OK;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (str_ieq(s, yes[i]) || str_ieq(s, no[i])) {
            *out = str_ieq(s, yes[i]);
            return true;
        }
    }
    return false;
}

static bool is_choice(const char *choices, const char *s)
{
    size_t n = strlen(s);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && n > 0 && str_ieqn(c, s, n))
            return true;
        c += len + (bar != NULL);
    }
    return false;
}

/* How the setting is spelled where it came from: --db-pool, SCIMD_DB_POOL, FILE: db-pool. */
static void where(const struct config *cfg, size_t i, char *out, size_t size)
{
    const char *name = cfg->options[i].name;
    switch (cfg->sources[i]) {
    case CONFIG_FLAG:
        snprintf(out, size, "--%s", name);
        break;
    case CONFIG_ENV:
        config_env_name(name, out, size);
        break;
    case CONFIG_FILE:
        snprintf(out, size, "%s: %s", cfg->file ? cfg->file : "config file", name);
        break;
    default:
        snprintf(out, size, "the default of %s", name);
        break;
    }
}

static enum status check_one(const struct config *cfg, size_t i, struct scim_error *err)
{
    const struct config_option *o = &cfg->options[i];
    const char *v = cfg->values[i];
    if (v == NULL)
        return OK;
    char at[CONFIG_NAME_MAX + 256];
    where(cfg, i, at, sizeof(at));
    char shown[CONFIG_MAX_VALUE];
    config_shown(cfg, i, shown, sizeof(shown));
    if (strlen(v) >= CONFIG_MAX_VALUE)
        return scim_error_set(err, ERR_USAGE, "%s is longer than %d bytes", at, CONFIG_MAX_VALUE);
    long number;
    bool flag;
    switch (o->type) {
    case CONFIG_NUMBER:
        if (!str_to_long(v, o->min, o->max, &number))
            return scim_error_set(err, ERR_USAGE, "%s must be a number from %ld to %ld, not '%s'",
                                  at, o->min, o->max, shown);
        break;
    case CONFIG_BOOL:
        if (!parse_bool(v, &flag))
            return scim_error_set(err, ERR_USAGE, "%s must be true or false, not '%s'", at, shown);
        break;
    case CONFIG_CHOICE:
        if (!is_choice(o->choices, v))
            return scim_error_set(err, ERR_USAGE, "%s must be one of %s, not '%s'", at, o->choices,
                                  shown);
        break;
    case CONFIG_STRING:
        break;
    }
    if (o->check) {
        struct scim_error why;
        scim_error_clear(&why);
        if (o->check(v, &why) != OK)
            return scim_error_set(err, ERR_USAGE, "%s %s, not '%s'", at, why.detail, shown);
    }
    return OK;
}

enum status config_validate(const struct config *cfg, struct scim_error *err)
{
    for (size_t i = 0; i < cfg->n_options; i++) {
        enum status rc = check_one(cfg, i, err);
        if (rc != OK)
            return rc;
    }
    return OK;
}

const char *config_get(const struct config *cfg, const char *name)
{
    long i = index_of(cfg, name);
    return i < 0 ? NULL : cfg->values[i];
}

long config_number(const struct config *cfg, const char *name)
{
    long i = index_of(cfg, name), n = 0;
    if (i >= 0 && cfg->values[i])
        str_to_long(cfg->values[i], cfg->options[i].min, cfg->options[i].max, &n);
    return n;
}

bool config_bool(const struct config *cfg, const char *name)
{
    const char *v = config_get(cfg, name);
    bool b = false;
    return v && parse_bool(v, &b) && b;
}

enum config_source config_source_of(const struct config *cfg, const char *name)
{
    long i = index_of(cfg, name);
    return i < 0 ? CONFIG_DEFAULT : cfg->sources[i];
}

const char *config_source_name(enum config_source source)
{
    return source_names[source];
}

const char *config_shown(const struct config *cfg, size_t i, char *out, size_t size)
{
    const char *v = cfg->values[i];
    if (v == NULL || cfg->options[i].secret) {
        str_copy(out, size, v == NULL ? "" : "***");
        return out;
    }
    return log_redact(v, out, size);
}

/* Does `key = written` load back as value? */
static bool reads_back(const char *written, const char *value)
{
    char line[CONFIG_MAX_VALUE + 4];
    str_copy(line, sizeof(line), written);
    return strcmp(unquote(trim(line)), value) == 0;
}

void config_print(const struct config *cfg, FILE *out)
{
    for (size_t i = 0; i < cfg->n_options; i++) {
        char shown[CONFIG_MAX_VALUE], quoted[CONFIG_MAX_VALUE + 3];
        config_shown(cfg, i, shown, sizeof(shown));
        snprintf(quoted, sizeof(quoted), "\"%s\"", shown);
        /* as is when it reads back so; quoted when spaces or a '#' need it */
        const char *written = reads_back(shown, shown) ? shown : quoted;
        char line[CONFIG_MAX_VALUE + CONFIG_NAME_MAX + 8];
        if (reads_back(written, shown))
            snprintf(line, sizeof(line), "%s = %s", cfg->options[i].name, written);
        else /* a '"' that quoting cannot hold: say so rather than print another value */
            snprintf(line, sizeof(line), "# %s: its value cannot be written here",
                     cfg->options[i].name);
        fprintf(out, "%-48s # %s\n", line, source_names[cfg->sources[i]]);
    }
}
