-- Loaded by haproxy.cfg with lua-load-per-thread: every thread registers
-- the same task, services and fetches in its own Lua state.
local lh = require "lnetstat.haproxy"

lh.register_task { interval = 1 }               -- samples every second
lh.register_service "lnetstat"                  -- lua.lnetstat: the last sample as JSON
lh.register_service("lnetstat_live", { live = true }) -- lua.lnetstat_live: sampled per request
lh.register_metrics "lnetstat_metrics"          -- lua.lnetstat_metrics: Prometheus text
lh.register_fetches "lnetstat"                  -- lua.lnetstat_listeners, lua.lnetstat_listening(port)
