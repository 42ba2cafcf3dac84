-- One wrk script for every scenario; the harness (bench/harness/loadrun.py) picks the behaviour
-- through environment variables:
--   BENCH_KIND   fixed | get | create | patch | patch_json | mix | orig_create | orig_update
--                (orig_*: the original app's routes, POST /create and PUT /update/{id}; patch_json: the
--                same PATCH as "patch" sent as application/json, for the peer, which refuses merge-patch)
--   BENCH_PATH   the path (fixed) or the path prefix an id is appended to (get, patch, mix, orig_update)
--   BENCH_IDS    "lo-hi": ids are drawn uniformly from this range
--   BENCH_WRITES percent of writes in "mix" (PATCH), the rest are GETs
--   BENCH_TAG    unique per run, so generated emails never collide with earlier runs
--   BENCH_API_KEY when set, every request carries it as X-Api-Key
-- done() prints one line "BENCHJSON {...}" that bench/harness/loadrun.py parses.

local kind = os.getenv("BENCH_KIND") or "fixed"
local path = os.getenv("BENCH_PATH") or "/"
local tag = os.getenv("BENCH_TAG") or tostring(os.time())
local lo, hi = 1, 1
do
  local a, b = string.match(os.getenv("BENCH_IDS") or "1-1", "^(%d+)-(%d+)$")
  lo, hi = tonumber(a), tonumber(b)
end
local write_pct = tonumber(os.getenv("BENCH_WRITES") or "10")

-- Each thread gets an id in setup(); init() runs in the thread's own Lua state.
local threads = {}
local next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

local counter = 0
local json_headers = { ["Content-Type"] = "application/json" }
local patch_headers = { ["Content-Type"] = "application/merge-patch+json" }
local api_key = os.getenv("BENCH_API_KEY")
if api_key and api_key ~= "" then
  -- wrk.format() uses the headers table it is given instead of wrk.headers: the key goes in each.
  wrk.headers["X-Api-Key"] = api_key
  json_headers["X-Api-Key"] = api_key
  patch_headers["X-Api-Key"] = api_key
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

-- An email no other request of any run has used: run tag, thread, per-thread counter and a random part.
local function unique_email()
  counter = counter + 1
  return string.format("b%s-%d-%d-%d@bench.example", tag, tid or 0, counter, math.random(0, 999999))
end

local function random_id()
  return math.random(lo, hi)
end

if kind == "get" then
  function request()
    return wrk.format("GET", path .. random_id())
  end
elseif kind == "create" then
  function request()
    local email = unique_email()
    local body = string.format('{"name":"Bench %d","email":"%s","phone":"+1-555-0100"}', counter, email)
    return wrk.format("POST", path, json_headers, body)
  end
elseif kind == "orig_create" then
  function request()
    local email = unique_email()
    local body = string.format('{"name":"Bench %d","email":"%s"}', counter, email)
    return wrk.format("POST", path, json_headers, body)
  end
elseif kind == "patch" or kind == "patch_json" then
  local headers = kind == "patch" and patch_headers or json_headers
  function request()
    counter = counter + 1
    local body = string.format('{"name":"Patched %s %d %d"}', tag, tid or 0, counter)
    return wrk.format("PATCH", path .. random_id(), headers, body)
  end
elseif kind == "orig_update" then
  function request()
    local body = string.format('{"email":"%s"}', unique_email())
    return wrk.format("PUT", path .. random_id(), json_headers, body)
  end
elseif kind == "mix" then
  function request()
    if math.random(1, 100) <= write_pct then
      counter = counter + 1
      local body = string.format('{"name":"Mixed %s %d %d"}', tag, tid or 0, counter)
      return wrk.format("PATCH", path .. random_id(), patch_headers, body)
    end
    return wrk.format("GET", path .. random_id())
  end
end
-- kind == "fixed": no request() at all, so wrk sends one pre-built request (its fastest path).

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"max":%d,"mean":%.1f,"stdev":%.1f,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9))
  io.write("BENCHJSON " .. out .. "\n")
end
