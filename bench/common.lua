-- SPDX-License-Identifier: Apache-2.0
-- common.lua - shared by the wrk scripts in bench/: the bearer token, a
-- per-thread id (set in setup), and done(), which prints one parseable
-- BENCH_RESULT line that bench/run.sh reads.
--   BENCH_TOKEN       bearer token for scimd
--   BENCH_FIXED_PATH  nginx runs: same method and body, constant path
--   BENCH_RUN         tag that makes generated userNames unique per run
token = os.getenv("BENCH_TOKEN") or ""
fixed_path = os.getenv("BENCH_FIXED_PATH")
if fixed_path == "" then fixed_path = nil end
run_tag = os.getenv("BENCH_RUN") or tostring(os.time())
tid = 0

local started = 0
function setup(thread)
  started = started + 1
  thread:set("tid", started)
end

function scim_headers(with_body)
  local h = { ["Authorization"] = "Bearer " .. token }
  if with_body then h["Content-Type"] = "application/scim+json" end
  return h
end

-- "id userName externalId" lines written by run.sh
function read_ids(file)
  local ids = {}
  for line in io.lines(file) do
    local id, user_name, external_id = line:match("^(%S+) (%S+) (%S+)$")
    if id then ids[#ids + 1] = { id = id, user_name = user_name, external_id = external_id } end
  end
  assert(#ids > 0, "no ids in " .. file)
  return ids
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d non2xx=%d sockerr=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
