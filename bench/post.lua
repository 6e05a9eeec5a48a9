-- SPDX-License-Identifier: Apache-2.0
-- post.lua - POST /Users with a fresh userName and externalId per request:
-- <run tag>-<thread>-<counter>, so no two requests collide.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local base = os.getenv("BENCH_BASE_PATH") or "/"
local n = 0
local hdrs

function init(args)
  hdrs = scim_headers(true)
end

function request()
  n = n + 1
  local key = string.format("%s-%d-%d", run_tag, tid, n)
  local body = string.format(
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"p%s@bench.test",' ..
    '"externalId":"px%s","name":{"givenName":"Post","familyName":"Bench"},"displayName":"Post Bench",' ..
    '"emails":[{"value":"p%s@bench.test","type":"work","primary":true}],"active":true}',
    key, key, key)
  return wrk.format("POST", fixed_path or (base .. "Users"), hdrs, body)
end
