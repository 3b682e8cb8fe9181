-- `lnetstat check` runs every check file in a child process of the same
-- interpreter, under rlimits set by /bin/sh (`ulimit -t` CPU seconds,
-- `ulimit -v` address space): whatever the file does (an error handler
-- that loops, a pattern that backtracks inside one C call, a 2 GB string)
-- the kernel stops it, and the parent turns that into an error result.
-- The child sends its results back as a Lua table constructor on stdout.
-- @module lnetstat.checks.child
local type, pairs, ipairs, tostring, format, concat, sort, floor, ceil, huge =
  type, pairs, ipairs, tostring, string.format, table.concat, table.sort, math.floor, math.ceil, math.huge

local M = {}

local MARK = "\n--lnetstat-check-results--\n"
local STATUS = "--lnetstat-check-status:"

-- Exit codes of the child itself.
local EXIT_MEMORY, EXIT_ERROR = 3, 4
-- Address space the interpreter and the C module need besides the heap.
local MEMORY_HEADROOM = 64
-- The largest rlimit value written (seconds, KiB).
local RLIMIT_MAX = 2 ^ 31

-- Plain data (strings, numbers, booleans, nested tables) as Lua source.
local function serialize(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = format("%q", v)
  elseif t == "number" then
    if v ~= v then out[#out + 1] = "0/0"
    elseif v == huge then out[#out + 1] = "1/0"
    elseif v == -huge then out[#out + 1] = "-1/0"
    elseif v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then out[#out + 1] = format("%d", v)
    else out[#out + 1] = format("%.17g", v) end
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    out[#out + 1] = "{"
    local keys = {}
    for k in pairs(v) do
      if type(k) == "string" or type(k) == "number" then keys[#keys + 1] = k end
    end
    sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    for _, k in ipairs(keys) do
      out[#out + 1] = "["
      serialize(k, out)
      out[#out + 1] = "]="
      serialize(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    out[#out + 1] = "nil"
  end
  return out
end
M.serialize = function(v) return concat(serialize(v, {})) end

-- Reads back what serialize wrote (data only: an empty environment).
local function deserialize(text)
  local fn, err
  local setfenv = rawget(_G, "setfenv")
  if setfenv then
    fn, err = loadstring("return " .. text, "=results") -- luacheck: ignore 113
    if fn then setfenv(fn, {}) end
  else
    fn, err = load("return " .. text, "=results", "t", {})
  end
  if not fn then return nil, err end
  local ok, v = pcall(fn)
  if not ok or type(v) ~= "table" then return nil, "malformed results" end
  return v
end
M.deserialize = deserialize

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The interpreter running this process (arg[-1], or the first of the
-- interpreter's own arguments), or a guess from the version.
local function interpreter()
  local a = rawget(_G, "arg")
  if type(a) == "table" then
    local i = -1
    while a[i - 1] ~= nil do i = i - 1 end
    if type(a[i]) == "string" and a[i] ~= "" then return a[i] end
  end
  if rawget(_G, "jit") then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end
M.interpreter = interpreter

--- The shell command that runs one check file in a child (params: file,
-- netns, defaults, cpu_limit, memory_limit, progress).
function M.command(params)
  local code = format("package.path=%q;package.cpath=%q;require('lnetstat.checks.child').main(%s)",
    package.path, package.cpath, M.serialize(params))
  local limits = {}
  local cpu, mem = params.cpu_limit, params.memory_limit
  -- a budget beyond what an rlimit takes (2^31 seconds or KiB) is no limit
  if type(cpu) == "number" and cpu > 0 and cpu < RLIMIT_MAX then
    -- the in-process hook stops the file at its limit; the rlimit is
    -- the backstop for what a hook cannot interrupt
    limits[#limits + 1] = format("ulimit -t %d", ceil(cpu) + 1)
  end
  if type(mem) == "number" and mem > 0 and (mem + MEMORY_HEADROOM) * 1024 < RLIMIT_MAX then
    limits[#limits + 1] = format("ulimit -v %d", floor((mem + MEMORY_HEADROOM) * 1024))
  end
  limits[#limits + 1] = format("exec %s -e %s", shell_quote(params.interpreter or interpreter()), shell_quote(code))
  return format("(%s); echo %s$?", concat(limits, "; "), STATUS)
end

local function error_result(file, msg)
  local stem = (file:match("([^/]+)$") or file):gsub("%.lua$", "")
  return {
    id = stem .. ".file", title = "check file " .. file .. " runs", kind = "file", file = file,
    source = file, status = "error", expected = "the check file runs within its budgets",
    actual = msg, attempts = 1, duration = 0,
  }
end

--- Runs one check file in a child; returns the child's run table
-- (results, version, data_error), never raises.
function M.run_file(params)
  local file = params.file
  local p = io.popen(M.command(params), "r")
  if not p then return { results = { error_result(file, "cannot start a process to run the file") } } end
  local out = p:read("*a") or ""
  p:close()
  local status = tonumber(out:match(STATUS:gsub("%p", "%%%0") .. "(%d+)%s*$"))
  local body
  local s1, e1 = out:find(MARK, 1, true)
  if s1 then
    local s2 = out:find(MARK, e1 + 1, true)
    if s2 then body = out:sub(e1 + 1, s2 - 1) end
  end
  if status == 0 and body then
    local run, err = deserialize(body)
    if run and type(run.results) == "table" then return run end
    return { results = { error_result(file, "unreadable results from the child: " .. tostring(err)) } }
  end
  local msg
  if status == EXIT_MEMORY then
    msg = format("memory limit of %g MiB exceeded; see --memory-limit", params.memory_limit)
  elseif status == 128 + 24 or status == 128 + 9 or status == 128 + 30 then
    msg = format("CPU limit of %g s exceeded: the process running the check file was stopped by the kernel "
      .. "(a long C call, e.g. a pattern that backtracks); see --cpu-limit", params.cpu_limit)
  else
    local why = out:match("%-%-lnetstat%-check%-error: ([^\n]*)")
    msg = format("the process running the check file ended with status %s%s", tostring(status),
      why and (": " .. why) or "")
  end
  return { results = { error_result(file, msg) } }
end

--- The child's side: runs params.file and writes its run to stdout.
function M.main(params)
  local ok, err = xpcall(function()
    local check = require "lnetstat.check"
    local printable = require("lnetstat.encode.utf8").printable
    local progress
    if params.progress then
      progress = function(text)
        io.stderr:write("\r\27[K", text and printable(text) or "")
        io.stderr:flush()
      end
    end
    local run = check.run({ params.file }, {
      netns = params.netns, defaults = params.defaults, cpu_limit = params.cpu_limit,
      memory_limit = params.memory_limit, progress = progress,
    })
    local mem = format("memory limit of %g MiB exceeded", params.memory_limit or 0)
    for _, r in ipairs(run.results) do
      if type(r.actual) == "string" and r.actual:find("not enough memory", 1, true) then
        r.actual = mem .. "; see --memory-limit (" .. r.actual .. ")"
      end
    end
    local text = M.serialize({ results = run.results, version = run.version, data_error = run.data_error,
      duration = run.duration })
    io.stdout:write(MARK, text, MARK)
    io.stdout:flush()
  end, function(e) return tostring(e) end)
  if not ok then
    if tostring(err):find("not enough memory", 1, true) then os.exit(EXIT_MEMORY) end
    io.stdout:write("--lnetstat-check-error: ", (tostring(err):gsub("\n", " ")), "\n")
    io.stdout:flush()
    os.exit(EXIT_ERROR)
  end
  os.exit(0)
end

return M
