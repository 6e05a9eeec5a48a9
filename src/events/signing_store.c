/*
 * signing_store.c - this file contains the claim of the shared SET signing
 * key in the settings table: generate, seal, claim, open what won.
 */
#include <stdlib.h>

#include "core/str.h"
#include "events/signing_store.h"

enum status signing_store_claim(struct store *store, const struct secretbox *box,
                                const char *setting, int bits, struct signing_key **out,
                                struct scim_error *err)
{
    *out = NULL;
    struct signing_key *fresh = NULL;
    char *candidate = NULL, *stored = NULL;
    struct store_tx *tx = NULL;
    enum status rc = signing_key_generate(bits, &fresh, err);
    if (rc != OK)
        return rc;
    rc = signing_key_seal(fresh, box, &candidate, err);
    signing_key_free(fresh);
    if (rc != OK)
        return rc;
    stored = malloc(SIGNING_STORE_SEALED_MAX);
    if (stored == NULL) {
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = store_begin(store, true, &tx)) != OK ||
        (rc = store_setting_claim(tx, setting, candidate, stored, SIGNING_STORE_SEALED_MAX)) !=
            OK) {
        store_rollback(tx);
        rc = scim_error_set(err, rc, "cannot claim the signing key setting '%s'", setting);
        goto fail;
    }
    if ((rc = store_commit(tx)) != OK) {
        rc = scim_error_set(err, rc, "cannot claim the signing key setting '%s'", setting);
        goto fail;
    }
    rc = signing_key_open(box, stored, out, err);
fail:
    free(candidate);
    free(stored);
    return rc;
}
