--- lnetstat in HAProxy (2.6 and later, Lua 5.3 or 5.4), loaded with
-- lua-load-per-thread: each thread has its own Lua state, so a call into
-- the kernel holds up only its own thread, never a global Lua lock.
--
--     global
--         lua-load-per-thread /etc/haproxy/lnetstat.lua
--     -- /etc/haproxy/lnetstat.lua:
--     local lh = require "lnetstat.haproxy"
--     lh.register_task { interval = 2 }        -- samples every 2 s
--     lh.register_service "lnetstat"           -- lua.lnetstat: the snapshot as JSON
--     lh.register_metrics "lnetstat_metrics"   -- lua.lnetstat_metrics: Prometheus text
--     lh.register_fetches "lnetstat"           -- lua.lnetstat_listeners, lua.lnetstat_listening(port)
--
-- The fetches answer from the task's last sample (a fetch must be fast and
-- cannot yield); the services answer from it too, or ask the kernel when no
-- task samples. HAProxy forbids blocking calls at run time: these are
-- short ones (listeners only, well under a millisecond; the README states
-- the cost per request). The register functions check their options when
-- HAProxy loads the file (haproxy -c reports a mistake). Chrooted, the
-- listeners and the fetches work (netlink); the counters cannot be read
-- (no /proc/net): the sample says so in partial, and the metrics service
-- lacks the netstat families.
-- @module lnetstat.haproxy
-- luacheck: read globals core
local embed = require "lnetstat.embed"

local type, tostring, tonumber, error, ipairs, pairs, pcall = type, tostring, tonumber, error, ipairs, pairs, pcall
local format = string.format

local M = {}

-- This thread's state (one per Lua state: per thread with lua-load-per-thread).
local state = { snapshot = nil, error = nil, netns = nil }

local function check_name(fname, name)
  if type(name) ~= "string" or not name:match("^[%w_]+$") then
    error(format("bad argument #1 to '%s' (a name of letters, digits and _ expected, got %s)", fname,
      type(name) == "string" and ("'" .. name .. "'") or type(name)), 3)
  end
  return name
end

--- Takes one sample now (what the task does on each tick).
-- @treturn table the snapshot, or nil, message
function M.sample()
  local snap, err = embed.snapshot { netns = state.netns }
  if snap then
    snap.thread = core.thread
    local now = core.now()
    snap.time = now.sec + now.usec / 1e6
    state.snapshot, state.error = snap, nil
  else
    state.error = err
  end
  return snap, err
end

--- The last sample of this thread (nil before the first).
function M.last()
  return state.snapshot, state.error
end

--- Registers a task that samples now and then every opts.interval seconds
-- (default 1; core.msleep between samples). opts.netns: the namespace to
-- sample (a name, a path, a pid or "all"). The options are checked here,
-- when HAProxy loads the file. A sample that raises an error is recorded
-- as the thread's last error (last()) and logged; the task goes on.
function M.register_task(opts)
  embed.check_options("snapshot", "register_task", opts, { interval = true })
  local interval = opts and opts.interval or 1
  if type(interval) ~= "number" or interval <= 0 or interval ~= interval or interval == math.huge then
    error("bad argument #1 to 'register_task' (interval must be a number of seconds > 0)", 2)
  end
  state.netns = opts and opts.netns
  local ms = math.max(1, math.floor(interval * 1000 + 0.5))
  core.register_task(function()
    while true do
      local ok, err = pcall(M.sample)
      if not ok then
        state.error = tostring(err)
        core.Alert("lnetstat sampler: " .. state.error)
      end
      core.msleep(ms)
    end
  end)
end

local function send(applet, status, ctype, body)
  applet:set_status(status)
  applet:add_header("content-type", ctype)
  applet:add_header("content-length", tostring(#body))
  applet:add_header("cache-control", "no-store")
  applet:start_response()
  applet:send(body)
end

--- Registers the HTTP service lua.NAME: the last sample as JSON (the
-- listening sockets, TCP counters, time, thread), or a fresh one when no
-- task samples (opts.live = true: always fresh).
function M.register_service(name, opts)
  check_name("register_service", name)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'register_service' (table expected, got " .. type(opts) .. ")", 2)
  end
  for k in pairs(opts or {}) do
    if k ~= "live" then
      error(format("bad argument #2 to 'register_service' (unknown option '%s')", tostring(k)), 2)
    end
  end
  local live = opts and opts.live
  core.register_service(name, "http", function(applet)
    local snap, err = state.snapshot, state.error
    if live or not snap then snap, err = M.sample() end
    if snap then
      send(applet, 200, "application/json", embed.json(snap) .. "\n")
    else
      send(applet, 500, "application/json", embed.json({ error = tostring(err) }) .. "\n")
    end
  end)
end

--- Registers the HTTP service lua.NAME: Prometheus text of the counters and
-- interfaces, the families of `lnetstat metrics`. opts: netns, prefix.
function M.register_metrics(name, opts)
  check_name("register_metrics", name)
  embed.check_options("metrics", "register_metrics", opts, nil, 2)
  local mopts = { netns = opts and opts.netns, prefix = opts and opts.prefix }
  core.register_service(name, "http", function(applet)
    local text, err = embed.metrics(mopts)
    if text then
      send(applet, 200, "text/plain; version=0.0.4; charset=utf-8", text)
    else
      send(applet, 500, "text/plain; charset=utf-8", tostring(err) .. "\n")
    end
  end)
end

-- The port a fetch argument names, or nil.
local function port_arg(v)
  local n = tonumber(v)
  if n and n >= 0 and n <= 65535 and n == math.floor(n) then return n end
end

--- Registers the sample fetches, from this thread's last sample (none yet:
-- an empty sample, so an ACL on it does not match):
--   lua.PREFIX_listeners            how many sockets listen
--   lua.PREFIX_listening(port)      1 when a TCP socket listens on port, else 0
-- e.g. `acl app_up lua.lnetstat_listening(8080) -m int eq 1`.
function M.register_fetches(prefix)
  check_name("register_fetches", prefix)
  core.register_fetches(prefix .. "_listeners", function()
    local snap = state.snapshot
    return snap and #snap.listening or nil
  end)
  core.register_fetches(prefix .. "_listening", function(_, port)
    local snap, p = state.snapshot, port_arg(port)
    if not snap or not p then return nil end
    for _, s in ipairs(snap.listening) do
      if s.proto == "tcp" and s.local_port == p then return 1 end
    end
    return 0
  end)
end

return M
