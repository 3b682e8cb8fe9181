--- lnetstat in OpenResty (nginx with lua-nginx-module, LuaJIT): a sampler
-- that keeps a JSON snapshot in a lua_shared_dict, and content handlers for
-- the snapshot, the live listeners, Prometheus metrics and an audit.
--
--     lua_shared_dict lnetstat 1m;
--     init_worker_by_lua_block { require("lnetstat.openresty").start_sampler() }
--     location = /lnetstat/snapshot  { content_by_lua_block { require("lnetstat.openresty").snapshot() } }
--     location = /lnetstat/listeners { content_by_lua_block { require("lnetstat.openresty").listeners() } }
--     location = /metrics            { content_by_lua_block { require("lnetstat.openresty").metrics() } }
--     location = /lnetstat/audit     { content_by_lua_block {
--         require("lnetstat.openresty").audit { file = "/etc/lnetstat/web.lua" } } }
--
-- Each handler is a short blocking call into the kernel on the worker that
-- serves it (listeners only, or the counters and interfaces; the README
-- states the cost per request); the sampler runs on one worker only. The
-- module opens nothing when it is required, so `require` in
-- init_by_lua (the master, before the fork) is fine. Workers that are not
-- root cannot read other users' /proc/PID/fd: no owners are asked for.
-- @module lnetstat.openresty
-- luacheck: globals ngx
local embed = require "lnetstat.embed"

local type, tostring, error = type, tostring, error
local format = string.format

local M = {}

--- The defaults of start_sampler and the handlers.
M.defaults = {
  dict = "lnetstat",   -- the lua_shared_dict name
  key = "snapshot",    -- its key for the snapshot JSON
  interval = 1,        -- seconds between samples
  worker = 0,          -- the worker id that samples
}

local function opt(opts, k)
  if opts ~= nil and opts[k] ~= nil then return opts[k] end
  return M.defaults[k]
end

local function shared(fname, name)
  local dict = ngx.shared[name]
  if not dict then
    error(format("bad argument #1 to '%s' (no lua_shared_dict '%s' in nginx.conf)", fname, tostring(name)), 3)
  end
  return dict
end

-- Sends body with status and content type, and ends the request.
local function reply(status, ctype, body)
  ngx.status = status
  ngx.header["Content-Type"] = ctype
  ngx.header["Cache-Control"] = "no-store"
  ngx.print(body)
  return ngx.exit(status)
end

local function reply_json(status, value)
  return reply(status, "application/json", embed.json(value) .. "\n")
end

-- Takes one sample into the dict: the snapshot JSON, or the error.
local function sample(dict, key, netns)
  local snap, err = embed.snapshot { netns = netns }
  if snap then
    snap.time = ngx.now()
    snap.pid = ngx.worker.pid()
    local ok, err2 = dict:set(key, embed.json(snap))
    if not ok then
      -- a dict too small for the snapshot: said, not a stale one served
      err = "cannot store the snapshot in the shared dict: " .. tostring(err2)
      dict:delete(key)
      dict:set(key .. ":error", err)
      ngx.log(ngx.ERR, "lnetstat sampler: ", err)
      return
    end
    dict:delete(key .. ":error")
  else
    dict:set(key .. ":error", err)
    ngx.log(ngx.ERR, "lnetstat sampler: ", err)
  end
end

--- For init_worker_by_lua: one worker (opts.worker, default 0) samples now
-- and then every opts.interval seconds (ngx.timer.every) into the shared
-- dict opts.dict under opts.key. opts.netns: the namespace to sample
-- (a name, a path, a pid or "all").
-- @treturn boolean true when this worker samples, or nil, message
function M.start_sampler(opts)
  -- checked here, in init_worker_by_lua, not by every tick of the timer
  embed.check_options("snapshot", "start_sampler", opts, { dict = true, key = true, interval = true, worker = true })
  local dict, key = shared("start_sampler", opt(opts, "dict")), opt(opts, "key")
  local interval, netns = opt(opts, "interval"), opts and opts.netns
  if type(interval) ~= "number" or interval <= 0 then
    error("bad argument #1 to 'start_sampler' (interval must be a number of seconds > 0)", 2)
  end
  if ngx.worker.id() ~= opt(opts, "worker") then return false end
  local function tick(premature)
    if premature then return end
    sample(dict, key, netns)
  end
  local ok, err = ngx.timer.at(0, tick)
  if ok then ok, err = ngx.timer.every(interval, tick) end
  if not ok then
    ngx.log(ngx.ERR, "lnetstat sampler: cannot start the timer: ", err)
    return nil, err
  end
  return true
end

--- Content handler: the sampler's last snapshot as JSON (503 before the
-- first sample, or with the error of the last one).
function M.snapshot(opts)
  local dict, key = shared("snapshot", opt(opts, "dict")), opt(opts, "key")
  local text = dict:get(key)
  if text then return reply(200, "application/json", text .. "\n") end
  return reply_json(503, { error = dict:get(key .. ":error") or "no snapshot yet" })
end

--- Content handler: the listening sockets now (JSON: time, pid, count,
-- listening). opts: netns, proto (default {"tcp", "udp"}).
function M.listeners(opts)
  local list, err = embed.listeners { netns = opts and opts.netns, proto = opts and opts.proto }
  if not list then return reply_json(500, { error = err }) end
  return reply_json(200, { time = ngx.now(), pid = ngx.worker.pid(), count = #list,
    listening = list, partial = list.partial })
end

--- Content handler: Prometheus text of the counters and interfaces, the
-- families of `lnetstat metrics`. opts: netns, prefix.
function M.metrics(opts)
  local text, err = embed.metrics { netns = opts and opts.netns, prefix = opts and opts.prefix }
  if not text then return reply(500, "text/plain; charset=utf-8", tostring(err) .. "\n") end
  return reply(200, "text/plain; version=0.0.4; charset=utf-8", text)
end

--- Content handler: runs the check file opts.file and answers its JSON
-- report, 200 when every check passed, else 503. Checks that retry wait
-- with ngx.sleep (the worker serves other requests meanwhile).
function M.audit(opts)
  if type(opts) ~= "table" or type(opts.file) ~= "string" then
    error("bad argument #1 to 'audit' (a table with file, the path of a check file, expected)", 2)
  end
  local passed, _, report = embed.audit({ file = opts.file, netns = opts.netns }, ngx.sleep)
  return reply(passed and 200 or 503, "application/json", report)
end

return M
