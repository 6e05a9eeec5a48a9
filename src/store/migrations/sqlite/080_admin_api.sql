-- SPDX-License-Identifier: Apache-2.0
-- 080_admin_api.sql - the admin API's users list pages by (created_at, id)
-- within a tenant; and role mappings left behind by groups deleted before
-- store_group_delete removed them go now.

CREATE INDEX users_created ON users (tenant_id, created_at, id);

DELETE FROM role_groups WHERE NOT EXISTS (SELECT 1 FROM groups g
    WHERE g.tenant_id = role_groups.tenant_id AND g.idp_id = role_groups.idp_id
    AND g.id = role_groups.group_id);
