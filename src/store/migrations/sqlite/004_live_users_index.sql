-- SPDX-License-Identifier: Apache-2.0
-- Live rows of a connection in id order, without reading their documents:
-- COUNT(*) for totalResults and the default page order become index-only.
CREATE INDEX IF NOT EXISTS idp_users_live ON idp_users (tenant_id, idp_id, user_id) WHERE deleted = 0;
