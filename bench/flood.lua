-- flood.lua — wrk script for bench/flood: Slack slash commands with bad signatures, at full speed.
--
--   wrk -t1 -c64 -d12s --timeout 10s -s bench/flood.lua \
--       http://127.0.0.1:PORT/hooks/slack -- SOURCE STATS_FILE
--
-- Each request is what an attacker who does not know the signing secret can send: a
-- real-looking /job command form body (a fresh trigger_id each time), a current
-- x-slack-request-timestamp (so the request is not refused as stale before its signature is
-- checked) and `x-slack-signature: v0=` + 64 hex digits of garbage, from `x-forwarded-for:
-- SOURCE` (one attacker behind the load balancer; ctgw trusts 127.0.0.1 as a proxy).
--
-- response() counts the answers by status: 401, 429, 2xx (must stay 0: a forged command
-- accepted) and any other. done() writes key=value lines to STATS_FILE: requests, s401, s429,
-- s2xx, other, other_sample (the first other status), timeouts, socket_errors, duration_s,
-- req_per_s, p50_us, p99_us.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- Globals: read by done() through thread:get().
s401, s429, s2xx, other, other_sample = 0, 0, 0, 0, 0
stats_file = nil

local head, tail = nil, nil
local sigs = {}
local n = 0
local now, now_at = "", -1

function init(args)
   local source = args[1]
   stats_file = args[2]
   if not (source and stats_file) then
      error("usage: -- SOURCE STATS_FILE")
   end
   head = "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
      "\r\ncontent-type: application/x-www-form-urlencoded\r\n" ..
      "user-agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n" ..
      "x-forwarded-for: " .. source .. "\r\nx-slack-request-timestamp: "
   -- 64 garbage signatures, taken in turn: every request's is wrong, not all the same.
   math.randomseed(os.time() + #threads)
   for i = 1, 64 do
      local hex = {}
      for j = 1, 32 do hex[j] = string.format("%02x", math.random(0, 255)) end
      sigs[i] = "\r\nx-slack-signature: v0=" .. table.concat(hex)
   end
   tail = "&api_app_id=A0BENCHAPP&is_enterprise_install=false" ..
      "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0DEMO%2F1234%2F5678abcd" ..
      "&trigger_id=13345224609.738474920."
end

function request()
   n = n + 1
   local t = os.time()
   if t ~= now_at then now, now_at = tostring(t), t end
   local body = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0DEMO&team_domain=demo" ..
      "&channel_id=C0BENCH01&channel_name=support&user_id=U0DEMOADM&user_name=admin" ..
      "&command=%2Fjob&text=show+CT-" .. string.format("%06d", n % 100 + 1) .. tail ..
      string.format("%08x%012d", n * 2654435761 % 4294967296, n)
   return head .. now .. sigs[n % 64 + 1] .. "\r\ncontent-length: " .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, body)
   if status == 401 then
      s401 = s401 + 1
   elseif status == 429 then
      s429 = s429 + 1
   elseif status >= 200 and status < 300 then
      s2xx = s2xx + 1
   else
      other = other + 1
      if other_sample == 0 then other_sample = status end
   end
end

function done(summary, latency, requests_stats)
   local keys = {"s401", "s429", "s2xx", "other"}
   local sum, sample, out_path = {}, 0, nil
   for _, k in ipairs(keys) do sum[k] = 0 end
   for _, t in ipairs(threads) do
      for _, k in ipairs(keys) do sum[k] = sum[k] + (t:get(k) or 0) end
      if sample == 0 then sample = t:get("other_sample") or 0 end
      out_path = out_path or t:get("stats_file")
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   local out = assert(io.open(out_path, "w"))
   out:write(string.format(
      "requests=%d\ns401=%d\ns429=%d\ns2xx=%d\nother=%d\nother_sample=%d\ntimeouts=%d\n" ..
      "socket_errors=%d\nduration_s=%.3f\nreq_per_s=%.1f\np50_us=%d\np99_us=%d\n",
      summary.requests, sum.s401, sum.s429, sum.s2xx, sum.other, sample, e.timeout,
      e.connect + e.read + e.write, secs, summary.requests / secs,
      math.floor(latency:percentile(50)), math.floor(latency:percentile(99))))
   out:close()
end
