-- slack.lua — wrk script: POSTs each pre-signed Slack /job command (bench/presign_slack) once.
--
--   wrk -t2 -c64 -d15s --latency --timeout 10s -s bench/slack.lua \
--       http://127.0.0.1:PORT/hooks/slack -- COMMANDS_PREFIX STATS_FILE
--
-- Thread k (numbered by setup()) reads COMMANDS_PREFIX.k, presign_slack's file k (KIND TAB
-- timestamp TAB signature TAB body, one a line), and sends each line once, so no trigger_id
-- is sent twice. A thread that runs out stops; STATS_FILE then says so and the run is invalid
-- (give presign_slack a larger -n).
--
-- response() classifies every answer by its body: "Created CT-" (a `/job new` applied),
-- "Working on it" (the deadline passed; the result goes to response_url), "\nStatus: " (a
-- `/job show` answered), anything else 200 ("other": a usage line, a refusal, an error), and
-- non-200. done() writes key=value lines to STATS_FILE: requests, non_200, timeouts,
-- socket_errors, sent, sent_new, sent_show, answered, created, working, shown, other,
-- other_sample, exhausted_threads, duration_s, req_per_s, p50_us, p90_us, p99_us, max_us.

local find, sub = string.find, string.sub

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

-- Globals: read by done() through thread:get().
sent, sent_new, sent_show, exhausted = 0, 0, 0, 0
answered, non_200, created, working, shown, other = 0, 0, 0, 0, 0, 0
other_sample = ""
stats_file = nil

local file = nil
local head = nil

function init(args)
   local prefix = args[1]
   stats_file = args[2]
   if not (prefix and stats_file) then
      error("usage: -- COMMANDS_PREFIX STATS_FILE")
   end
   file = assert(io.open(prefix .. "." .. tid, "rb"))
   head = "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
      "\r\ncontent-type: application/x-www-form-urlencoded\r\n" ..
      "user-agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n" ..
      "x-slack-request-timestamp: "
end

-- Sent once a thread has no command left: refused (405) by ctgw, stores nothing.
local spent = "GET /hooks/slack HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

function request()
   local line = exhausted == 0 and file:read("*l")
   if not line then
      if exhausted == 0 then
         exhausted = 1
         wrk.thread:stop()
      end
      return spent
   end
   local a = find(line, "\t", 1, true)
   local b = find(line, "\t", a + 1, true)
   local c = find(line, "\t", b + 1, true)
   sent = sent + 1
   if sub(line, 1, 1) == "n" then sent_new = sent_new + 1 else sent_show = sent_show + 1 end
   return head .. sub(line, a + 1, b - 1) .. "\r\nx-slack-signature: " .. sub(line, b + 1, c - 1) ..
      "\r\ncontent-length: " .. (#line - c) .. "\r\n\r\n" .. sub(line, c + 1)
end

function response(status, headers, body)
   answered = answered + 1
   if status ~= 200 then
      non_200 = non_200 + 1
   elseif find(body, "Created CT-", 1, true) then
      created = created + 1
   elseif find(body, "Working on it", 1, true) then
      working = working + 1
   elseif find(body, "\\nStatus: ", 1, true) then
      shown = shown + 1
   else
      other = other + 1
      if other_sample == "" then other_sample = sub(body, 1, 200):gsub("[\r\n]", " ") end
   end
end

function done(summary, latency, requests_stats)
   local keys = {"sent", "sent_new", "sent_show", "exhausted", "answered", "non_200", "created",
                 "working", "shown", "other"}
   local sum, sample, out_path = {}, "", nil
   for _, k in ipairs(keys) do sum[k] = 0 end
   for _, t in ipairs(threads) do
      for _, k in ipairs(keys) do sum[k] = sum[k] + (t:get(k) or 0) end
      if sample == "" then sample = t:get("other_sample") or "" end
      out_path = out_path or t:get("stats_file")
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   local out = assert(io.open(out_path, "w"))
   out:write(string.format(
      "requests=%d\nnon_200=%d\ntimeouts=%d\nsocket_errors=%d\nsent=%d\nsent_new=%d\n" ..
      "sent_show=%d\nanswered=%d\ncreated=%d\nworking=%d\nshown=%d\nother=%d\n" ..
      "exhausted_threads=%d\nduration_s=%.3f\nreq_per_s=%.1f\np50_us=%d\np90_us=%d\n" ..
      "p99_us=%d\nmax_us=%d\nother_sample=%s\n",
      summary.requests, sum.non_200, e.timeout, e.connect + e.read + e.write, sum.sent,
      sum.sent_new, sum.sent_show, sum.answered, sum.created, sum.working, sum.shown, sum.other,
      sum.exhausted, secs, summary.requests / secs, math.floor(latency:percentile(50)),
      math.floor(latency:percentile(90)), math.floor(latency:percentile(99)),
      math.floor(latency.max), sample))
   out:close()
end
