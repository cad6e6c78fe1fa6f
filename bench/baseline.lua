-- baseline.lua — wrk script for bench/baseline: ingest.lua, each thread repeating one event.
--
--   wrk -t2 -c64 -d15s --latency --timeout 10s -s bench/baseline.lua \
--       http://127.0.0.1:PORT/hooks/bench -- EVENTS_FILE COUNT THREADS STATS_FILE
--
-- Same arguments and STATS_FILE as ingest.lua, whose code it runs: the bare server reads the
-- same bytes as ctgw and wrk does the same work per request, so the ratio compares servers.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "ingest.lua")
bench_repeat = true
