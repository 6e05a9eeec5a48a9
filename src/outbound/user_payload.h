/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user_payload.h - what one user's account in one downstream app should hold,
 * read from the store: the canonical fields, active as the access rule says,
 * and the mirrored Enterprise User attributes, with manager.value turned into
 * the manager's remote id in that app (left out while the manager has none).
 *
 * The wire form comes from scim/outbound.h; this module only gathers the state.
 * Thread safety: every call is independent; runs in the caller's transaction.
 */
#ifndef SCIMD_OUTBOUND_USER_PAYLOAD_H
#define SCIMD_OUTBOUND_USER_PAYLOAD_H

#include <stdbool.h>

#include "core/status.h"
#include "store/store.h"

/* The User body for u in app (active: whether u has access).  *out is the
 * caller's (free()). */
enum status outbound_user_payload(struct store_tx *tx, const struct store_app *app,
                                  const struct store_user *u, bool active, char **out);

#endif
