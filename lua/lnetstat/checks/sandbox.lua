-- The sandbox a check file runs in: lnetstat's data functions (their
-- results remember how to re-read them for retries), the query helpers,
-- safe basics and the assertions.
-- @module lnetstat.checks.sandbox
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"
local runner = require "lnetstat.checks.runner"
local snapshot = require "lnetstat.checks.snapshot"

local type, pairs, ipairs, tostring, select, error, pcall, setmetatable, format, sub, concat =
  type, pairs, ipairs, tostring, select, error, pcall, setmetatable, string.format, string.sub, table.concat
local unpack = rawget(table, "unpack") or rawget(_G, "unpack")
local describe = util.describe
local api = util.api
local copy = util.copy
local strip_position = util.strip_position
local DataError = util.DataError
local errmsg = util.errmsg
local data_error = util.data_error
local default_clock_and_sleep = util.default_clock_and_sleep

local M = {}

-- A fresh copy of v for a sandbox: tables are copied all the way down (a
-- table met twice is copied once; a metatable, out of a check file's
-- reach, is kept); functions, strings and matchers (read-only objects)
-- are shared.
local function fresh(v, seen)
  if type(v) ~= "table" or q.is_matcher(v) then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[fresh(k, seen)] = fresh(x, seen) end
  return setmetatable(out, getmetatable(v))
end
M.fresh = fresh

local DATA_FUNCTIONS = { "sockets", "listening", "connections", "routes", "route_get", "interfaces",
  "addresses", "neighbors", "stats" }

-- A check run: results plus how to get data, sleep and tell time.
local function new_run(opts)
  opts = opts or {}
  local clock, sleep = default_clock_and_sleep()
  local run = {
    results = {},
    files = {},
    data = opts.data,
    netns = opts.netns,
    clock = opts.clock or clock,
    sleep = opts.sleep or sleep,
    log = opts.log or function(s) io.stderr:write(s, "\n") end,
    progress = opts.progress,
    defaults = copy(opts.defaults),
    origins = setmetatable({}, { __mode = "k" }),
    needs = snapshot.new_needs(),
    reads = {},
    started = os.time(),
  }
  return run
end
M.new_run = new_run

--- The assertions a check file can call.
M.ASSERTIONS = { "listening_only", "is_listening", "not_listening", "no_connection", "has_connection",
  "expect_count", "expect", "check", "defaults", "interface_up", "interface", "no_interface_errors",
  "address_present", "address_absent", "default_route", "route_present", "route_to",
  "counter_delta", "counter" }

-- The modules that add the assertions, in this order.
local PARTS = { "sockets", "values", "network", "routes", "counters" }

--- The sandbox of one check file: returns env, ctx.
local function make_env(run, file)
  local ctx = {
    run = run,
    file = file,
    chunkname = "@" .. file,
    stem = (file:match("([^/]+)$") or file):gsub("%.lua$", ""),
    n = 0,
    defaults = copy(run.defaults),
    checks = {},
    loading = true,
    fresh = true,
  }
  ctx.snap = snapshot.new(run.data, run.needs, run.reads)
  local env = {}
  local origins = run.origins
  -- Data -------------------------------------------------------------------
  -- Every data call is answered from the attempt's snapshot (ctx.snap).
  local function call_data(fname, a1, a2)
    local data = run.data
    local fn = data and data[fname]
    if type(fn) ~= "function" then data_error(fname .. "() is not available from this data source") end
    local opts
    if fname == "route_get" then opts = a2 else opts = a1 end
    if opts ~= nil and type(opts) ~= "table" then
      error(format("bad argument #%d to '%s' (options table expected, got %s)",
        fname == "route_get" and 2 or 1, fname, type(opts)), 0)
    end
    opts = copy(opts)
    if run.netns ~= nil and opts.netns == nil then opts.netns = run.netns end
    if fname == "route_get" then return ctx.snap:call(fname, a1, opts) end
    return ctx.snap:call(fname, opts)
  end

  -- Fetches or raises a DataError; argument errors keep their text.
  local function fetch(fname, a1, a2)
    local ok, res, err = pcall(call_data, fname, a1, a2)
    if not ok then
      if getmetatable(res) == DataError then error(res, 0) end
      error(strip_position(res), 0)
    end
    if res == nil then
      data_error(format("%s(): %s", fname, tostring(err or "no data")))
    end
    return res
  end

  local function fetch_raw(fname, a1, a2)
    local ok, res, err, errno = pcall(call_data, fname, a1, a2)
    if not ok then
      if getmetatable(res) == DataError then error(res, 0) end
      error(strip_position(res), 0)
    end
    return res, err, errno
  end

  for _, fname in ipairs(DATA_FUNCTIONS) do
    env[fname] = function(a1, a2)
      local desc
      if fname == "route_get" then
        desc = format("route_get(%s)", describe(a1))
      else
        desc = fname .. (a1 and describe(a1) or "()")
      end
      local ok, res = pcall(fetch, fname, a1, a2)
      if not ok then
        if not ctx.loading then error(res, 2) end
        -- while the file loads: an error result at this line, and an empty
        -- list the file can go on with; an assertion given that list
        -- reports the error itself (and this result is dropped)
        local result = runner.new_result(ctx, "data", desc .. " can be read", "the data can be read")
        result.status, result.actual, result.attempts = "error", strip_position(errmsg(res)), 1
        local entry = runner.add_done(ctx, result)
        local placeholder = {}
        origins[placeholder] = { desc = desc, entry = entry, refetch = function() return fetch(fname, a1, a2) end }
        return placeholder
      end
      if type(res) == "table" then
        origins[res] = { desc = desc, refetch = function() return fetch(fname, a1, a2) end }
      end
      return res
    end
  end

  -- The query layer, with origins kept so that retries re-read. Its
  -- plain tables (q.keys ...) are the file's own copies: what a file does
  -- to them reaches neither the host nor the files after it.
  local qcopy = fresh(q)
  for k, v in pairs(qcopy) do
    if type(k) == "string" and sub(k, 1, 1) ~= "_" then env[k] = v end
  end
  env.q = fresh(q)
  env.test, env.matcher = nil, nil
  env.q.matcher = q.matcher
  env.matcher = q.matcher
  env.describe = nil
  for _, fname in ipairs { "where", "filter", "sort_by" } do
    local f = q[fname]
    env[fname] = function(list, a, b)
      local ok, res = pcall(f, list, a, b)
      if not ok then error(strip_position(res), 2) end
      local o = origins[list]
      if o then
        origins[res] = {
          desc = format("%s(%s, %s)", fname, o.desc, describe(a)),
          refetch = function() return f(o.refetch(), a, b) end,
          entry = o.entry,
        }
      end
      return res
    end
    env.q[fname] = env[fname]
  end

  -- Safe basics -------------------------------------------------------------
  for _, k in ipairs { "pairs", "ipairs", "type", "tostring", "tonumber", "select", "error",
    "pcall", "assert", "next", "rawequal" } do
    env[k] = _G[k]
  end
  env.unpack = unpack
  -- An error raised by the budget hook runs the message handler with
  -- hooks off: a handler of the file that loops would never be stopped.
  -- Once the budget is spent, the file's handlers are not called at all.
  local xpcall_ = xpcall
  env.xpcall = function(f, handler, ...)
    if type(handler) ~= "function" then
      error(format("bad argument #2 to 'xpcall' (function expected, got %s)", type(handler)), 2)
    end
    local function guard(e)
      if run.budget_spent then return run.budget_spent end
      return handler(e)
    end
    if select("#", ...) == 0 then return xpcall_(f, guard) end
    local args = { n = select("#", ...), ... }
    return xpcall_(function() return f(unpack(args, 1, args.n)) end, guard)
  end
  local function copy_lib(lib, drop)
    local out = {}
    for k, v in pairs(lib) do if not (drop and drop[k]) then out[k] = v end end
    return out
  end
  env.string = copy_lib(string, { dump = true })
  env.table = copy_lib(table)
  env.math = copy_lib(math, { randomseed = true })
  env.os = { time = os.time, clock = os.clock, date = os.date }
  env.print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    run.log(concat(parts, "\t"))
  end
  env._G = env
  local run_check = runner.new(run, ctx)

  -- How an assertion given a list re-reads it on every attempt; a list
  -- whose reading failed while the file loaded is now that assertion's
  -- error, not a result of its own.
  local function refetcher(list)
    local o = origins[list]
    if o and o.entry then o.entry.consumed = true end
    return o and o.refetch, o and o.desc
  end
  -- Assertions note the sockets they will read, so that the first read of
  -- an attempt gets them all at once.
  local function need_sockets(protos, process, all)
    snapshot.need_sockets(run.needs, run.netns, protos, process, all)
  end
  local kit = { run = run, ctx = ctx, fetch = fetch, fetch_raw = fetch_raw, run_check = run_check,
    refetcher = refetcher, need_sockets = need_sockets }
  for _, part in ipairs(PARTS) do require("lnetstat.checks." .. part).install(env, kit) end

  for _, name in ipairs(M.ASSERTIONS) do env[name] = api(env[name], ctx, name) end
  return env, ctx
end
M.make_env = make_env

local function load_chunk(src, chunkname, env)
  if sub(src, 1, 1) == "\27" then return nil, "binary chunks are not allowed" end
  local setfenv = rawget(_G, "setfenv")
  if setfenv then
    local fn, err = loadstring(src, chunkname) -- luacheck: ignore 113
    if not fn then return nil, err end
    setfenv(fn, env)
    return fn
  end
  return load(src, chunkname, "t", env)
end
M.load_chunk = load_chunk

return M
