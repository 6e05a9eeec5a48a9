-- SPDX-License-Identifier: Apache-2.0
-- get.lua - GET BENCH_PATH (a user, a filter, a page) with the bearer token.
-- No request() function: wrk sends the prebuilt request, the cheapest path.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.path = fixed_path or os.getenv("BENCH_PATH")
wrk.headers["Authorization"] = "Bearer " .. token
