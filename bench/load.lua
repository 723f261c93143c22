-- One load run with wrk at a fixed concurrency: each thread sends its own
-- share of the given requests in turn (thread t of n sends t, t+n, t+2n…,
-- so no request is sent twice while there are enough of them), and the
-- result is printed as one JSON line. An answer is an error unless it is
-- HTTP 200 with no GraphQL "errors" and no non-empty "userErrors".
--
--   wrk -t T -c C -d Ss -s load.lua URL -- requests-file T
--
-- The requests file holds whole HTTP requests, each after a line with its
-- length in bytes: the bench writes them once, so sending one costs wrk no
-- formatting.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  stride = tonumber(args[2])
  requests = {}
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    table.insert(requests, string.sub(data, nl + 1, nl + len))
    pos = nl + 1 + len
  end
  next_request = index
  errors = 0
  first_error = ""
end

function request()
  local r = requests[next_request % #requests + 1]
  next_request = next_request + stride
  return r
end

-- The plain search for 'rrors"' (in both "errors" and "userErrors") runs
-- first and once: searching each key from its quote stopped at every quote
-- of a 30 KB page, which cost wrk 0.08 ms of CPU an answer, more than the
-- rest of its work and on the cores the measured systems share.
function response(status, headers, body)
  if status ~= 200 or (string.find(body, 'rrors"', 1, true) and (string.find(body, '"errors"%s*:')
      or string.find(body, '"userErrors"%s*:%s*%[%s*{'))) then
    errors = errors + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local failed, first = 0, ""
  for _, t in ipairs(threads) do
    failed = failed + t:get("errors")
    if first == "" then first = t:get("first_error") end
  end
  local e = summary.errors
  failed = failed + e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  -- The latency distribution as [percentile, ms] pairs, finer in the
  -- tail: the bench merges the runs of one system from them.
  local q = {string.format("[0,%.3f]", latency.min / 1000)}
  local function add(p) table.insert(q, string.format("[%g,%.3f]", p, latency:percentile(p) / 1000)) end
  for p = 1, 99 do add(p) end
  for p = 99.1, 99.95, 0.1 do add(p) end
  add(99.99)
  table.insert(q, string.format("[100,%.3f]", latency.max / 1000))
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.3f,"p50":%.3f,"p99":%.3f,"errors":%d,"firstError":%s,"quantiles":[%s]}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, failed, json_string(first), table.concat(q, ",")))
end
