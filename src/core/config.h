/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - settings described by one table, read from flags, SCIMD_*
 * environment variables and a `key = value` file.
 *
 * A table of struct config_option rows says what a setting is called, its
 * type, default and help; the same name is the command-line flag (--NAME),
 * the environment variable (SCIMD_NAME, dashes as underscores) and the file
 * key.  Later sources win: default < file < environment < flag.  Every value
 * is checked against its row by config_validate() before anything starts;
 * after that the settings are read-only.  The module does no I/O besides
 * reading the file and getenv(); callers print.
 *
 * struct config borrows the table and the flag strings (argv) and owns the
 * file text (config_release frees it).  Not thread-safe while loading;
 * reading is safe from any thread afterwards.
 */
#ifndef SCIMD_CORE_CONFIG_H
#define SCIMD_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/status.h"

#define CONFIG_MAX_OPTIONS    64
#define CONFIG_MAX_FILE_BYTES (64u << 10)
#define CONFIG_MAX_VALUE      1024 /* bytes of one value */

enum config_type {
    CONFIG_STRING, /* any text */
    CONFIG_NUMBER, /* a decimal integer in [min, max] */
    CONFIG_BOOL,   /* true/false, yes/no, on/off, 1/0; as a flag it takes no value */
    CONFIG_CHOICE, /* one of `choices`, "a|b|c" */
};

enum config_source { CONFIG_DEFAULT = 0, CONFIG_FILE, CONFIG_ENV, CONFIG_FLAG };

/* Checks a value beyond its type; fills err (ERR_USAGE) and returns it when bad. */
typedef enum status (*config_check_fn)(const char *value, struct scim_error *err);

struct config_option {
    const char *name; /* flag name without "--": lowercase, digits and '-' */
    enum config_type type;
    const char *fallback;  /* the default as text; NULL: unset unless given */
    const char *arg;       /* what the value looks like in help: "ADDR:PORT", "N" */
    const char *help;      /* one sentence, for help and the man page */
    long min, max;         /* CONFIG_NUMBER */
    const char *choices;   /* CONFIG_CHOICE */
    bool secret;           /* printed as "***" (URL passwords are masked anyway) */
    config_check_fn check; /* optional */
};

struct config {
    const struct config_option *options; /* borrowed table */
    size_t n_options;
    const char *values[CONFIG_MAX_OPTIONS];
    enum config_source sources[CONFIG_MAX_OPTIONS];
    char *file_text;  /* owned; file values point into it */
    const char *file; /* path of the file read, or NULL */
};

/* Start from the defaults of table (n rows, at most CONFIG_MAX_OPTIONS). */
void config_init(struct config *cfg, const struct config_option *table, size_t n);
void config_release(struct config *cfg);

/* The row called name, or NULL. */
const struct config_option *config_option_find(const struct config *cfg, const char *name);

/*
 * Read `key = value` lines from path ('#' starts a comment line, blank lines
 * are skipped, values may be quoted with "…").  Unknown keys and malformed
 * lines are ERR_USAGE naming the line.  A missing file is ERR_NOT_FOUND.
 */
enum status config_load_file(struct config *cfg, const char *path, struct scim_error *err);
/* The same from text already read (NUL-terminated, taken: freed on failure,
 * owned by cfg on success); path names it in errors and is borrowed. */
enum status config_load_text(struct config *cfg, char *text, const char *path,
                             struct scim_error *err);
/* Take SCIMD_<NAME> for every row that has it set (and not empty). */
void config_load_env(struct config *cfg);
/* Set name from a command-line flag (value borrowed); ERR_USAGE if unknown. */
enum status config_set_flag(struct config *cfg, const char *name, const char *value,
                            struct scim_error *err);

/* Check every value against its row; ERR_USAGE naming the setting and where it came from. */
enum status config_validate(const struct config *cfg, struct scim_error *err);

/* Typed reads of a validated config (name must be a row of the table). */
const char *config_get(const struct config *cfg, const char *name); /* NULL when unset */
long config_number(const struct config *cfg, const char *name);
bool config_bool(const struct config *cfg, const char *name);
enum config_source config_source_of(const struct config *cfg, const char *name);
const char *config_source_name(enum config_source source);
/* "SCIMD_DB_POOL" for "db-pool", into out of size bytes. */
void config_env_name(const char *name, char *out, size_t size);

/* The value of row i fit for printing (secrets masked) into out of size bytes. */
const char *config_shown(const struct config *cfg, size_t i, char *out, size_t size);
/* Print every setting as `name = value  # source` lines, a valid config file. */
void config_print(const struct config *cfg, FILE *out);

#endif
