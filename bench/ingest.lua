-- ingest.lua — wrk script: POSTs each pre-signed `generic` event (bench/presign) once.
--
--   wrk -t2 -c64 -d15s --latency --timeout 10s -s bench/ingest.lua \
--       http://127.0.0.1:PORT/hooks/bench -- EVENTS_FILE COUNT THREADS STATS_FILE [SOURCES]
--
-- EVENTS_FILE is presign's output (id TAB timestamp TAB signature TAB body, one a line, every
-- line the same length) with COUNT lines; THREADS must equal wrk's -t. Thread k (numbered by
-- setup()) takes lines k*P+1 .. (k+1)*P, P = floor(COUNT/THREADS), so no event is sent twice
-- in a run. A thread that runs out of events stops; STATS_FILE then says so and the run is
-- invalid (give presign a larger -n).
--
-- SOURCES (optional, 1-508; bench/flood): every request also carries `x-forwarded-for:` one of
-- SOURCES documentation addresses (198.51.100.1-254, then 192.0.2.1-254), each thread taking
-- them in turn, as a load balancer in front would name many clients; ctgw must trust
-- 127.0.0.1 as a proxy (listen.trusted_proxies) for them to count. wrk's request() does not
-- know its connection, so the addresses rotate per request: each gets 1/SOURCES of the rate.
-- Without it no such header is sent (bench/run).
--
-- wrk starts thread 0 before it runs init() of thread 1, so init() must be quick: it seeks to
-- its slice (lines have one length) and request() reads and formats the next event (one read
-- and a few string operations). bench/baseline.lua runs this same code with `bench_repeat`
-- set, each thread sending its first event over and over, so that wrk spends the same per
-- request against both servers.
--
-- done() prints nothing (wrk prints the figures, and the distribution with --latency); it
-- writes key=value lines to STATS_FILE: requests, answered_ok (status < 400, which for this
-- endpoint means 202), non_2xx (status >= 400), timeouts, socket_errors, sent (events handed
-- to wrk), exhausted_threads, duration_s, req_per_s, p50_us, p90_us, p99_us, max_us.

local find, sub = string.find, string.sub

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

-- Globals: read by done() through thread:get().
sent = 0
exhausted = 0
stats_file = nil

local file = nil      -- the events file, positioned at this thread's next event
local line_len = 0    -- bytes of one line, newline included
local left = 0        -- events of this thread's slice not yet read
local first_line = nil
local head = nil
local sources = nil   -- "\r\nx-forwarded-for: ADDRESS" of each simulated client, or nil
local next_source = 0

local function fields(line)
   local a = find(line, "\t", 1, true)
   local b = a and find(line, "\t", a + 1, true)
   local c = b and find(line, "\t", b + 1, true)
   return a, b, c
end

function init(args)
   local path, count, nthreads = args[1], tonumber(args[2]), tonumber(args[3])
   stats_file = args[4]
   if not (path and count and nthreads and stats_file) or nthreads < 1 then
      error("usage: -- EVENTS_FILE COUNT THREADS STATS_FILE [SOURCES]")
   end
   if args[5] then
      local n = tonumber(args[5])
      if not n or n < 1 or n > 508 or n ~= math.floor(n) then
         error("SOURCES must be 1-508")
      end
      sources = {}
      for i = 0, n - 1 do
         local net, host = "198.51.100.", i + 1
         if i >= 254 then net, host = "192.0.2.", i - 253 end
         sources[i + 1] = "\r\nx-forwarded-for: " .. net .. host
      end
      next_source = tid % n
   end
   file = assert(io.open(path, "rb"))
   local line = file:read("*l")
   if not line or not fields(line) then
      error(path .. ":1: not id TAB timestamp TAB signature TAB body")
   end
   line_len = #line + 1
   local size = file:seek("end")
   if size ~= count * line_len then
      error(path .. ": " .. size .. " bytes, not " .. count .. " lines of " .. line_len)
   end
   local per = math.floor(count / nthreads)
   file:seek("set", tid * per * line_len)
   left = per
   first_line = file:read(line_len)
   file:seek("set", tid * per * line_len)
   head = "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
      "\r\ncontent-type: application/json\r\nuser-agent: ctgw-bench/1\r\nwebhook-id: "
end

-- Sent once a thread has no event left: refused (405) by ctgw, stores nothing.
local spent = "GET /hooks/bench HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

function request()
   local line
   if bench_repeat then
      line = first_line
   elseif left > 0 then
      left = left - 1
      sent = sent + 1
      line = file:read(line_len)
   else
      if exhausted == 0 then
         exhausted = 1
         wrk.thread:stop()
      end
      return spent
   end
   local a, b, c = fields(line)
   local xff = ""
   if sources then
      next_source = next_source % #sources + 1
      xff = sources[next_source]
   end
   return head .. sub(line, 1, a - 1) .. xff .. "\r\nwebhook-timestamp: " .. sub(line, a + 1, b - 1) ..
      "\r\nwebhook-signature: " .. sub(line, b + 1, c - 1) .. "\r\ncontent-length: " ..
      (line_len - 1 - c) .. "\r\n\r\n" .. sub(line, c + 1, line_len - 1)
end

function done(summary, latency, requests_stats)
   local sent_total, exhausted_total, out_path = 0, 0, nil
   for _, t in ipairs(threads) do
      sent_total = sent_total + (t:get("sent") or 0)
      exhausted_total = exhausted_total + (t:get("exhausted") or 0)
      out_path = out_path or t:get("stats_file")
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   local out = assert(io.open(out_path, "w"))
   out:write(string.format(
      "requests=%d\nanswered_ok=%d\nnon_2xx=%d\ntimeouts=%d\nsocket_errors=%d\n" ..
      "sent=%d\nexhausted_threads=%d\nduration_s=%.3f\nreq_per_s=%.1f\n" ..
      "p50_us=%d\np90_us=%d\np99_us=%d\nmax_us=%d\n",
      summary.requests, summary.requests - e.status, e.status, e.timeout,
      e.connect + e.read + e.write, sent_total, exhausted_total, secs,
      summary.requests / secs, math.floor(latency:percentile(50)),
      math.floor(latency:percentile(90)), math.floor(latency:percentile(99)),
      math.floor(latency.max)))
   out:close()
end
