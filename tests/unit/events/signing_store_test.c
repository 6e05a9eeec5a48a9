/*
 * signing_store_test.c - the shared SET signing key in the settings table:
 * the first claim stores a key, later claims (another node, a restart) get
 * the same key back, another setting name is another key (rotation), and a
 * node with another key file is refused rather than handed a new key.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/log.h"
#include "events/signing_store.h"
#include "test_box.h"

static char dir[] = "/tmp/scimd-signing-store-XXXXXX";
static struct store *store;

static void open_store(void)
{
    log_current_level = LOG_WARN; /* no migration chatter */
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/scimd.db", dir);
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(path, 2, &store, &err), OK, "%s", err.detail);
}

static void close_store(void)
{
    store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(signing_store, .init = open_store, .fini = close_store);

static struct signing_key *claim(const struct secretbox *box, const char *setting)
{
    struct signing_key *key = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(signing_store_claim(store, box, setting, 2048, &key, &err), OK, "%s", err.detail);
    return key;
}

Test(signing_store, every_claim_after_the_first_gets_the_same_key)
{
    struct secretbox box = box_of(3);
    struct signing_key *first = claim(&box, SIGNING_STORE_SETTING);
    struct signing_key *again = claim(&box, SIGNING_STORE_SETTING);
    cr_assert_str_eq(signing_key_kid(again), signing_key_kid(first));
    struct signing_key *next = claim(&box, "events_signing_key.2");
    cr_assert_str_neq(signing_key_kid(next), signing_key_kid(first), "a new name, a new key");
    signing_key_free(first);
    signing_key_free(again);
    signing_key_free(next);
}

Test(signing_store, a_node_with_another_key_file_is_refused)
{
    struct secretbox box = box_of(3), other = box_of(4);
    signing_key_free(claim(&box, SIGNING_STORE_SETTING));
    struct signing_key *key = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(signing_store_claim(store, &other, SIGNING_STORE_SETTING, 2048, &key, &err),
                 ERR_FORBIDDEN);
    cr_assert_null(key);
    cr_assert_eq(signing_store_claim(store, &box, SIGNING_STORE_SETTING, 1024, &key, &err),
                 ERR_INVALID_VALUE, "bad sizes are refused before the store is touched");
}
