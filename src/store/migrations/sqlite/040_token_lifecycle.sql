-- SPDX-License-Identifier: Apache-2.0
-- 040_token_lifecycle.sql - token expiry and where a token was last used
-- from; a connection's kill switch and IP allowlist.
--
-- disabled_at and allowlist are the only columns of idps that change: they
-- are read with the token on every request (store_token_by_hash joins
-- them), never from the store's cache of IdP rows.  allowlist is the
-- canonical comma-separated CIDR list (core/cidr.h), NULL for any address.
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_from TEXT;
ALTER TABLE idps ADD COLUMN disabled_at TEXT;
ALTER TABLE idps ADD COLUMN allowlist TEXT;
