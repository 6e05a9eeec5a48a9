/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secretbox_test.c - sealing small secrets at rest: round trips, the owner
 * binding, tampering, the "v1:" text form, and the key file (created 0600 on
 * first use, the same key on the next load, refused when others can read it).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secretbox.h"
#include "core/str.h"

static char dir[] = "/tmp/scimd-secretbox-XXXXXX";
static char key_path[256];

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(key_path, sizeof(key_path), "%s/secret.key", dir);
}

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(secretbox, .init = make_dir, .fini = remove_dir);

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

Test(secretbox, key_file_is_created_0600_and_gives_the_same_key_next_time)
{
    struct secretbox a, b;
    struct scim_error err = { 0 };
    cr_assert_eq(secretbox_load_file(&a, key_path, &err), OK, "%s", err.detail);
    struct stat st;
    cr_assert_eq(stat(key_path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %03o", (unsigned)(st.st_mode & 0777));
    cr_assert_eq(st.st_size, 45); /* 44 base64 characters and a newline */

    char *sealed = NULL;
    cr_assert_eq(secretbox_seal(&a, "app:1:token", "scimd-app-token", &sealed), OK);
    cr_assert_eq(secretbox_load_file(&b, key_path, &err), OK, "%s", err.detail);
    char *plain = NULL;
    cr_assert_eq(secretbox_open(&b, "app:1:token", sealed, &plain), OK);
    cr_assert_str_eq(plain, "scimd-app-token");
    secretbox_plain_free(plain);
    free(sealed);

    /* no temporary file is left beside it */
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
    cr_assert_eq(system(cmd), 0);
    secretbox_release(&a);
    secretbox_release(&b);
}

Test(secretbox, key_files_open_to_group_or_others_are_refused)
{
    struct secretbox box;
    struct scim_error err = { 0 };
    cr_assert_eq(secretbox_load_file(&box, key_path, &err), OK);
    static const mode_t bad[] = { 0640, 0604, 0644, 0660, 0602, 0610 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(chmod(key_path, bad[i]), 0);
        cr_assert_eq(secretbox_load_file(&box, key_path, &err), ERR_FORBIDDEN, "mode %03o",
                     (unsigned)bad[i]);
        cr_assert(strstr(err.detail, "chmod 600") != NULL, "%s", err.detail);
    }
    cr_assert_eq(chmod(key_path, 0400), 0);
    cr_assert_eq(secretbox_load_file(&box, key_path, &err), OK, "%s", err.detail);
    cr_assert_eq(secretbox_load_file(&box, dir, &err), ERR_FORBIDDEN); /* a directory */
    secretbox_release(&box);
}

Test(secretbox, malformed_key_files_are_refused_without_echoing_them)
{
    struct secretbox box;
    struct scim_error err = { 0 };
    static const char *const bad[] = {
        "",
        "not base64 at all!\n",
        "AAAA\n",                                             /* 3 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", /* 36 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A\n",     /* '=' inside */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(key_path, bad[i], 0600);
        cr_assert_eq(secretbox_load_file(&box, key_path, &err), ERR_INVALID_VALUE, "case %zu", i);
        cr_assert(strstr(err.detail, key_path) != NULL, "%s", err.detail);
    }
    write_file(key_path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n", 0600);
    cr_assert_eq(secretbox_load_file(&box, key_path, &err), OK, "%s", err.detail);

    char missing_dir[300];
    snprintf(missing_dir, sizeof(missing_dir), "%s/no/such/dir/key", dir);
    cr_assert_eq(secretbox_load_file(&box, missing_dir, &err), ERR_IO);
    cr_assert_eq(secretbox_load_file(&box, "", &err), ERR_INVALID_VALUE);
    secretbox_release(&box);
}

Test(secretbox, text_keys_from_flags_or_environment)
{
    struct secretbox a, b;
    struct scim_error err = { 0 };
    const char *key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    cr_assert_eq(secretbox_init_text(&a, key, &err), OK, "%s", err.detail);
    cr_assert_eq(memcmp(a.key, "0123456789abcdef0123456789abcdef", 32), 0);
    write_file(key_path, key, 0600);
    cr_assert_eq(secretbox_load_file(&b, key_path, &err), OK);
    cr_assert_eq(memcmp(a.key, b.key, 32), 0);
    cr_assert_eq(secretbox_init_text(&a, "MDEy", &err), ERR_INVALID_VALUE);
    cr_assert_eq(secretbox_init_text(&a, NULL, &err), ERR_INVALID_VALUE);
    secretbox_release(&a);
    cr_assert_eq(memcmp(a.key, "0123456789abcdef", 16) == 0, false, "release wipes the key");
}

static struct secretbox test_box(void)
{
    struct secretbox box;
    cr_assert_eq(secretbox_init_text(&box, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", NULL),
                 OK);
    return box;
}

Test(secretbox, seal_open_round_trip_in_v1_text_with_a_fresh_nonce_each_time)
{
    struct secretbox box = test_box();
    const char *secrets[] = { "", "p", "s3cret with spaces and \xc3\xa9", "xoxp-1234-5678" };
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        char *a = NULL, *b = NULL, *plain = NULL;
        cr_assert_eq(secretbox_seal(&box, "app:42:token", secrets[i], &a), OK);
        cr_assert_eq(secretbox_seal(&box, "app:42:token", secrets[i], &b), OK);
        cr_assert(strncmp(a, "v1:", 3) == 0, "%s", a);
        cr_assert_str_neq(a, b, "two seals of one secret must differ");
        if (strlen(secrets[i]) >= 8) /* a short one may appear in base64 by chance */
            cr_assert(strstr(a, secrets[i]) == NULL);
        cr_assert_eq(strlen(a), 3 + ((12 + strlen(secrets[i]) + 16 + 2) / 3) * 4);
        cr_assert_eq(secretbox_open(&box, "app:42:token", b, &plain), OK);
        cr_assert_str_eq(plain, secrets[i]);
        secretbox_plain_free(plain);
        free(a);
        free(b);
    }
    char big[SECRETBOX_PLAIN_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *out = NULL;
    cr_assert_eq(secretbox_seal(&box, "o", big, &out), ERR_INVALID_VALUE);
    big[SECRETBOX_PLAIN_MAX] = '\0';
    cr_assert_eq(secretbox_seal(&box, "o", big, &out), OK);
    char *plain = NULL;
    cr_assert_eq(secretbox_open(&box, "o", out, &plain), OK);
    cr_assert_eq(strlen(plain), SECRETBOX_PLAIN_MAX);
    secretbox_plain_free(plain);
    free(out);
    cr_assert_eq(secretbox_seal(&box, "", "x", &out), ERR_INVALID_VALUE);
    cr_assert_eq(secretbox_seal(&box, NULL, "x", &out), ERR_INVALID_VALUE);
    secretbox_plain_free(NULL);
}

Test(secretbox, a_sealed_value_opens_only_for_its_owner_key_and_bytes)
{
    struct secretbox box = test_box();
    struct secretbox other;
    cr_assert_eq(secretbox_init_text(&other, "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", NULL),
                 OK);
    char *sealed = NULL, *plain = NULL;
    cr_assert_eq(secretbox_seal(&box, "app:1:token", "the-token", &sealed), OK);

    /* swapped to another row or field */
    cr_assert_eq(secretbox_open(&box, "app:2:token", sealed, &plain), ERR_FORBIDDEN);
    cr_assert_eq(secretbox_open(&box, "app:1:password", sealed, &plain), ERR_FORBIDDEN);
    /* another key */
    cr_assert_eq(secretbox_open(&other, "app:1:token", sealed, &plain), ERR_FORBIDDEN);
    cr_assert_null(plain);

    /* every changed character (staying valid base64) is caught */
    size_t n = strlen(sealed);
    for (size_t i = 3; i < n; i++) {
        if (sealed[i] == '=')
            continue;
        char *bent = str_dup(sealed);
        bent[i] = bent[i] == 'A' ? 'B' : 'A';
        enum status rc = secretbox_open(&box, "app:1:token", bent, &plain);
        cr_assert(rc == ERR_FORBIDDEN || rc == ERR_INVALID_VALUE, "position %zu opened", i);
        free(bent);
    }

    /* not a v1 value */
    static const char *const malformed[] = {
        "",
        "v1:",
        "v2:AAAA",
        "the-token",
        "v1:!!!!",
        "v1:AAAA",
        "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        cr_assert_eq(secretbox_open(&box, "app:1:token", malformed[i], &plain), ERR_INVALID_VALUE,
                     "'%s'", malformed[i]);
    cr_assert_eq(secretbox_open(&box, "app:1:token", NULL, &plain), ERR_INVALID_VALUE);
    cr_assert_eq(secretbox_open(&box, "", sealed, &plain), ERR_INVALID_VALUE);

    /* truncated */
    sealed[n - 4] = '\0';
    cr_assert_neq(secretbox_open(&box, "app:1:token", sealed, &plain), OK);
    free(sealed);
}
