/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_test.c - settings from the table: defaults < file < env < flag,
 * validation messages naming where a bad value came from, masking.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static const struct config_option table[] = {
    { "db", CONFIG_STRING, "./scimd.db", "PATH", "database", .secret = false },
    { "db-pool", CONFIG_NUMBER, "16", "N", "pool", .min = 1, .max = 1024 },
    { "log-format", CONFIG_CHOICE, "text", "F", "format", .choices = "text|json" },
    { "demo", CONFIG_BOOL, "false", NULL, "demo", .secret = false },
    { "key", CONFIG_STRING, NULL, "K", "a secret", .secret = true },
};
#define N_TABLE (sizeof(table) / sizeof(table[0]))

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof(path), "%s", "/tmp/scimd-config-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

Test(config, defaults_then_file_then_env_then_flag)
{
    struct config cfg;
    struct scim_error err;
    config_init(&cfg, table, N_TABLE);
    cr_assert_str_eq(config_get(&cfg, "db"), "./scimd.db");
    cr_assert_eq(config_source_of(&cfg, "db"), CONFIG_DEFAULT);
    write_file("# comment\n\n db = /var/lib/scimd/scimd.db \ndb-pool=4\nlog-format = \"json\"\n"
               "demo = yes\n");
    cr_assert_eq(config_load_file(&cfg, path, &err), OK, "%s", err.detail);
    unlink(path);
    setenv("SCIMD_DB_POOL", "8", 1);
    config_load_env(&cfg);
    unsetenv("SCIMD_DB_POOL");
    cr_assert_eq(config_set_flag(&cfg, "log-format", "text", &err), OK);
    cr_assert_eq(config_validate(&cfg, &err), OK, "%s", err.detail);
    cr_assert_str_eq(config_get(&cfg, "db"), "/var/lib/scimd/scimd.db");
    cr_assert_eq(config_source_of(&cfg, "db"), CONFIG_FILE);
    cr_assert_eq(config_number(&cfg, "db-pool"), 8);
    cr_assert_eq(config_source_of(&cfg, "db-pool"), CONFIG_ENV);
    cr_assert_str_eq(config_get(&cfg, "log-format"), "text");
    cr_assert_eq(config_source_of(&cfg, "log-format"), CONFIG_FLAG);
    cr_assert(config_bool(&cfg, "demo"));
    cr_assert_null(config_get(&cfg, "key"));
    config_release(&cfg);
}

Test(config, bad_values_name_where_they_came_from)
{
    struct config cfg;
    struct scim_error err;
    config_init(&cfg, table, N_TABLE);
    config_set_flag(&cfg, "db-pool", "0", &err);
    cr_assert_eq(config_validate(&cfg, &err), ERR_USAGE);
    cr_assert_str_eq(err.detail, "--db-pool must be a number from 1 to 1024, not '0'");
    config_init(&cfg, table, N_TABLE);
    setenv("SCIMD_LOG_FORMAT", "xml", 1);
    config_load_env(&cfg);
    unsetenv("SCIMD_LOG_FORMAT");
    cr_assert_eq(config_validate(&cfg, &err), ERR_USAGE);
    cr_assert_str_eq(err.detail, "SCIMD_LOG_FORMAT must be one of text|json, not 'xml'");
    config_init(&cfg, table, N_TABLE);
    cr_assert_eq(config_set_flag(&cfg, "nope", "1", &err), ERR_USAGE);
    cr_assert_str_eq(err.detail, "unknown option '--nope'");
}

Test(config, file_errors_name_the_line_and_leave_the_defaults)
{
    struct config cfg;
    struct scim_error err;
    config_init(&cfg, table, N_TABLE);
    write_file("db = x.db\nthreads = 4\n");
    cr_assert_eq(config_load_file(&cfg, path, &err), ERR_USAGE);
    cr_assert(strstr(err.detail, ":2: unknown setting 'threads'"), "%s", err.detail);
    cr_assert_str_eq(config_get(&cfg, "db"), "./scimd.db");
    write_file("just words\n");
    cr_assert_eq(config_load_file(&cfg, path, &err), ERR_USAGE);
    cr_assert(strstr(err.detail, ":1: expected 'key = value'"), "%s", err.detail);
    unlink(path);
    cr_assert_eq(config_load_file(&cfg, "/nonexistent/scimd.conf", &err), ERR_NOT_FOUND);
    config_release(&cfg);
}

Test(config, printing_masks_secrets_and_url_passwords)
{
    struct config cfg;
    struct scim_error err;
    config_init(&cfg, table, N_TABLE);
    config_set_flag(&cfg, "db", "postgres://scimd:pw123@db/scimd", &err);
    config_set_flag(&cfg, "key", "topsecret", &err);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    config_print(&cfg, out);
    fclose(out);
    cr_assert(strstr(text, "db = postgres://scimd:***@db/scimd"), "%s", text);
    cr_assert(strstr(text, "key = ***"), "%s", text);
    cr_assert(strstr(text, "# flag"), "%s", text);
    cr_assert(strstr(text, "db-pool = 16"), "%s", text);
    cr_assert_null(strstr(text, "pw123"));
    cr_assert_null(strstr(text, "topsecret"));
    free(text);
    char env[32];
    config_env_name("max-conns-per-ip", env, sizeof(env));
    cr_assert_str_eq(env, "SCIMD_MAX_CONNS_PER_IP");
}

Test(config, file_values_quoted_commented_or_empty)
{
    struct config cfg;
    struct scim_error err;
    config_init(&cfg, table, N_TABLE);
    write_file("db = postgres://u:p#w@h/d   # a comment\nlog-format = \"json\"  # quoted\n"
               "db-pool =\nkey = # nothing\n");
    cr_assert_eq(config_load_file(&cfg, path, &err), OK, "%s", err.detail);
    unlink(path);
    cr_assert_str_eq(config_get(&cfg, "db"), "postgres://u:p#w@h/d");
    cr_assert_str_eq(config_get(&cfg, "log-format"), "json");
    cr_assert_str_eq(config_get(&cfg, "db-pool"), "16");
    cr_assert_eq(config_source_of(&cfg, "db-pool"), CONFIG_DEFAULT);
    cr_assert_null(config_get(&cfg, "key"));
    config_release(&cfg);
}

/* What config_print writes is a config file that loads the same values:
 * quoted where spaces or a " #" would be lost, never another value. */
Test(config, printed_settings_load_back)
{
    struct config cfg;
    struct scim_error err;
    config_init(&cfg, table, N_TABLE);
    config_set_flag(&cfg, "db", " /srv/my db # one ", &err);
    config_set_flag(&cfg, "log-format", "say \"hi\" #now", &err); /* quotes cannot hold it */
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    config_print(&cfg, out);
    fclose(out);
    cr_assert(strstr(text, "db = \" /srv/my db # one \""), "%s", text);
    cr_assert(strstr(text, "# log-format: its value cannot be written here"), "%s", text);

    struct config again;
    config_init(&again, table, N_TABLE);
    cr_assert_eq(config_load_text(&again, text, "printed", &err), OK, "%s", err.detail);
    cr_assert_str_eq(config_get(&again, "db"), " /srv/my db # one ");
    cr_assert_str_eq(config_get(&again, "log-format"), "text", "left at its default");
    cr_assert_str_eq(config_get(&again, "db-pool"), "16");
    config_release(&again);
    config_release(&cfg);
}
