-- SPDX-License-Identifier: Apache-2.0
-- put.lua - PUT /Users/{id} with the full user (its own userName and
-- externalId, a displayName that changes every request), cycling through
-- the users in BENCH_IDS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local base = os.getenv("BENCH_BASE_PATH") or "/"
local ids, hdrs
local n = 0

function init(args)
  ids = read_ids(os.getenv("BENCH_IDS"))
  hdrs = scim_headers(true)
  n = tid * 7919
end

function request()
  n = n + 1
  local u = ids[(n % #ids) + 1]
  local body = string.format(
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","externalId":"%s",' ..
    '"name":{"givenName":"Put","familyName":"Bench"},"displayName":"Put %s-%d-%d",' ..
    '"emails":[{"value":"%s","type":"work","primary":true}],"active":true}',
    u.user_name, u.external_id, run_tag, tid, n, u.user_name)
  return wrk.format("PUT", fixed_path or (base .. "Users/" .. u.id), hdrs, body)
end
