-- Shared helpers of lnetstat.check: argument and data errors, value
-- descriptions, clock and sleep, option validation, comparisons.
-- @module lnetstat.checks.util
local q = require "lnetstat.query"

local type, pairs, ipairs, tostring, tonumber, select, error, pcall =
  type, pairs, ipairs, tostring, tonumber, select, error, pcall
local setmetatable = setmetatable
local format, find = string.format, string.find
local concat = table.concat
local floor = math.floor
local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

local M = {}

-- Utilities ------------------------------------------------------------------

local describe = q.describe

local function argerror(fname, n, msg, level)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), (level or 1) + 2)
end

-- Argument errors of the sandbox's functions: raised as a table and
-- re-raised by api() at the line of the check file that made the call.
local ArgError = {}
ArgError.__tostring = function(e) return e.msg end

local function bad(fname, n, msg)
  error(setmetatable({ msg = format("bad argument #%d to '%s' (%s)", n, fname, msg) }, ArgError), 0)
end

local pack = rawget(table, "pack") or function(...) return { n = select("#", ...), ... } end

-- Wraps a sandbox function: its argument errors point at the caller. With
-- ctx (an assertion of a file that is loading), an argument error becomes
-- that check's error result and the file goes on: one bad call never
-- drops the checks that follow it.
local function api(fn, ctx, name)
  return function(...)
    local res = pack(pcall(fn, ...))
    if not res[1] then
      local e = res[2]
      if getmetatable(e) == ArgError then
        if ctx and ctx.loading then
          local runner = require "lnetstat.checks.runner"
          local result = runner.new_result(ctx, name or "error", (name or "a check") .. " (invalid arguments)",
            "valid arguments")
          result.status, result.attempts = "error", 1
          result.actual = result.line and format("%s:%d: %s", ctx.file, result.line, e.msg) or e.msg
          runner.add_done(ctx, result)
          return result
        end
        error(e.msg, 2)
      end
      error(e, 0)
    end
    return unpack(res, 2, res.n)
  end
end

local function copy(t)
  local out = {}
  if t then for k, v in pairs(t) do out[k] = v end end
  return out
end

local function strip_position(msg)
  if type(msg) ~= "string" then return tostring(msg) end
  return (msg:gsub("^[^\n:]-:%d+: ", ""))
end

-- Data errors raised inside the sandbox: a table, so that an assertion can
-- tell "the data could not be read" from a bug in the check file.
local DataError = {}
DataError.__index = DataError
DataError.__tostring = function(e) return e.message end

local function data_error(msg)
  error(setmetatable({ message = msg }, DataError), 0)
end

local function errmsg(e)
  if getmetatable(e) == DataError then return e.message end
  return tostring(e)
end

local function is_list(t)
  return type(t) == "table" and not q.is_matcher(t) and #t > 0
end

local function to_list(v)
  if v == nil then return nil end
  if type(v) == "table" and not q.is_matcher(v) then return v end
  return { v }
end

local function num(v)
  if type(v) ~= "number" then return tostring(v) end
  if v == floor(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
  return format("%.6g", v)
end

local function endpoint(addr, port)
  if addr == nil then addr = "*" end
  if find(addr, ":", 1, true) then addr = "[" .. addr .. "]" end
  return format("%s:%s", addr, port == nil and "*" or num(port))
end

--- One line describing a socket record and its owner:
-- "tcp 0.0.0.0:22 (sshd, pid 812, user root)".
local function describe_socket(r)
  local parts = { r.proto or "?" }
  if r.proto == "unix" then
    parts[#parts + 1] = r.path or "*"
  else
    parts[#parts + 1] = endpoint(r.local_addr, r.local_port)
    if r.remote_port and r.remote_port ~= 0 then
      parts[#parts + 1] = "-> " .. endpoint(r.remote_addr, r.remote_port)
    end
  end
  if r.state and r.state ~= "LISTEN" and r.state ~= "UNCONN" then parts[#parts + 1] = r.state end
  if r.family == "inet6" and r.v6only == false and q.wildcard(r.local_addr) then
    parts[#parts + 1] = "dual-stack"
  end
  local owner = {}
  if r.program or r.pid then
    owner[#owner + 1] = r.program or "?"
    if r.pid then owner[#owner + 1] = "pid " .. num(r.pid) end
    local procs = r.processes
    if type(procs) == "table" and #procs > 1 then owner[#owner + 1] = format("+%d more", #procs - 1) end
  elseif r.inode == 0 or r.state == "TIME_WAIT" then
    owner[#owner + 1] = "no owner"
  else
    owner[#owner + 1] = "owner unknown"
  end
  if r.user then owner[#owner + 1] = "user " .. r.user
  elseif r.uid then owner[#owner + 1] = "uid " .. num(r.uid) end
  return concat(parts, " ") .. " (" .. concat(owner, ", ") .. ")"
end

-- Clock and sleep --------------------------------------------------------------

local function read_uptime()
  local f = io.open("/proc/uptime", "r")
  if not f then return nil end
  local s = f:read("*l")
  f:close()
  return s and tonumber(s:match("^(%d+%.?%d*)"))
end

-- Seconds, monotonic: /proc/uptime (10 ms), else CPU time plus slept time.
local function default_clock_and_sleep()
  local slept = 0
  local use_uptime = read_uptime() ~= nil
  local function clock()
    if use_uptime then
      local t = read_uptime()
      if t then return t end
    end
    return os.clock() + slept
  end
  local function sleep(seconds)
    if seconds <= 0 then return end
    os.execute(format("sleep %.3f", seconds))
    slept = slept + seconds
  end
  return clock, sleep
end

-- Field sets ---------------------------------------------------------------------

local SOCKET_FIELDS = {}
for _, f in ipairs { "proto", "family", "state", "recv_q", "send_q", "local_addr", "local_port",
  "remote_addr", "remote_port", "uid", "inode", "interface", "ifindex", "cookie", "v6only", "timer",
  "timer_expires_ms", "retransmits", "protocol", "path", "type", "peer_inode", "portid",
  "dst_portid", "processes", "info", "pid", "program", "user", "command" } do
  SOCKET_FIELDS[f] = true
end
local OWNER_FIELDS = { program = true, user = true, pid = true, command = true }
local LISTEN_ALIASES = { port = "local_port", addr = "local_addr" }
-- In connection patterns port and addr match either end: "nothing talks
-- to port 6667" is inbound (local_port) as well as outbound (remote_port).
local CONN_ALIASES = { port = { "local_port", "remote_port" }, addr = { "local_addr", "remote_addr" } }
local COMMON_OPTS = { id = true, title = true, within = true, every = true, stable = true, skip = true }

-- "; did you mean 'x'?" or "": lnetstat.util's, whose time does not grow
-- with the length of a hostile name.
local suggest = require("lnetstat.util").did_you_mean

-- The longest wait a check may ask for (within, every, window) and the
-- most samples (stable): an hour; a run that waits longer is a mistake.
local MAX_WAIT = 3600

--- Validates a window option (seconds > 0 and <= MAX_WAIT).
local function check_window(fname, n, v)
  if v ~= nil and (type(v) ~= "number" or v ~= v or v <= 0 or v > MAX_WAIT) then
    bad(fname, n, format("window must be a number of seconds > 0 and <= %d, got %s", MAX_WAIT, describe(v)))
  end
end

--- Validates a limit option (max, min, max_rate): nil or a finite
-- number. NaN compares false with everything: a limit of NaN would make
-- a check that can never fail.
local function check_limit(fname, n, key, v)
  if v ~= nil and (type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge) then
    bad(fname, n, format("%s must be a finite number, got %s", key, describe(v)))
  end
end

-- Validates the common options; returns a fresh table of them.
local function check_common(fname, n, opts, extra, level)
  level = (level or 1) + 1
  if opts == nil then return {} end
  if type(opts) ~= "table" then bad(fname, n, "options table expected, got " .. type(opts), level) end
  local out = {}
  for k, v in pairs(opts) do
    if type(k) == "string" then
      if not COMMON_OPTS[k] and not (extra and extra[k]) then
        bad(fname, n, format("unknown option '%s'%s", k, suggest(k, COMMON_OPTS, extra or {})), level)
      end
      out[k] = v
    end
  end
  for _, k in ipairs { "within", "every" } do
    local v = out[k]
    if v ~= nil and (type(v) ~= "number" or v ~= v or v < 0 or v > MAX_WAIT or (k == "every" and v <= 0)) then
      bad(fname, n, format("%s must be a number of seconds %s, got %s", k,
        k == "every" and format("> 0 and <= %d", MAX_WAIT) or format(">= 0 and <= %d", MAX_WAIT),
        describe(v)), level)
    end
  end
  local st = out.stable
  if st ~= nil and (type(st) ~= "number" or st < 1 or st ~= floor(st) or st > MAX_WAIT) then
    bad(fname, n, format("stable must be an integer >= 1 and <= %d, got %s", MAX_WAIT, describe(st)), level)
  end
  if out.id ~= nil and type(out.id) ~= "string" then bad(fname, n, "id must be a string", level) end
  if out.title ~= nil and type(out.title) ~= "string" then bad(fname, n, "title must be a string", level) end
  if out.skip ~= nil and type(out.skip) ~= "string" and type(out.skip) ~= "boolean" then
    bad(fname, n, "skip must be a reason (string) or a boolean", level)
  end
  return out
end

-- A pattern table that may carry the common options inline (id, title,
-- within, ...): returns its other fields, and the options: the pattern's
-- (checked as argument 1) overridden by those of opts (argument 2). level
-- as check_common's.
local function split_pattern(fname, pat, opts, level)
  level = (level or 1) + 1
  local fields, inline = {}, {}
  for k, v in pairs(pat) do
    if COMMON_OPTS[k] then inline[k] = v else fields[k] = v end
  end
  local o = check_common(fname, 1, inline, nil, level)
  for k, v in pairs(check_common(fname, 2, opts, nil, level)) do o[k] = v end
  return fields, o
end

-- Comparisons ----------------------------------------------------------------
local OPS = {
  ["=="] = function(a, b) return a == b end, ["="] = function(a, b) return a == b end,
  ["~="] = function(a, b) return a ~= b end, ["!="] = function(a, b) return a ~= b end,
  ["<"] = function(a, b) return a < b end, ["<="] = function(a, b) return a <= b end,
  [">"] = function(a, b) return a > b end, [">="] = function(a, b) return a >= b end,
}
local ORDERED = { ["<"] = true, ["<="] = true, [">"] = true, [">="] = true }

local function compare(op, a, b)
  if ORDERED[op] and (type(a) ~= type(b) or (type(a) ~= "number" and type(a) ~= "string")) then
    return false
  end
  return OPS[op](a, b)
end

local function check_op(fname, n, op)
  if not OPS[op] then
    bad(fname, n, format("comparison operator expected (== ~= < <= > >=), got %s", describe(op)), 3)
  end
end

M.describe = describe
M.argerror = argerror
M.bad = bad
M.api = api
M.copy = copy
M.strip_position = strip_position
M.DataError = DataError
M.data_error = data_error
M.errmsg = errmsg
M.is_list = is_list
M.to_list = to_list
M.num = num
M.endpoint = endpoint
M.describe_socket = describe_socket
M.default_clock_and_sleep = default_clock_and_sleep
M.SOCKET_FIELDS = SOCKET_FIELDS
M.OWNER_FIELDS = OWNER_FIELDS
M.LISTEN_ALIASES = LISTEN_ALIASES
M.CONN_ALIASES = CONN_ALIASES
M.COMMON_OPTS = COMMON_OPTS
M.split_pattern = split_pattern
M.suggest = suggest
M.check_common = check_common
M.check_window = check_window
M.check_limit = check_limit
M.MAX_WAIT = MAX_WAIT
M.OPS = OPS
M.compare = compare
M.check_op = check_op

return M
