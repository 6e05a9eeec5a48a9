-- SPDX-License-Identifier: Apache-2.0
-- patch.lua - PATCH /Users/{id} toggling active, cycling through the users
-- listed in BENCH_IDS (each thread starts at its own offset).
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
  local active = (math.floor(n / #ids) % 2 == 1) and "true" or "false"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
    '"Operations":[{"op":"replace","path":"active","value":' .. active .. '}]}'
  return wrk.format("PATCH", fixed_path or (base .. "Users/" .. u.id), hdrs, body)
end
