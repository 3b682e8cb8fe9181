--- Argument validation shared by the data functions: unknown option names
-- (with a "did you mean"), enum values, booleans, ports, addresses and netns
-- specs raise errors that name the function the caller called and the
-- argument. The wording and the number checks are lnetstat.util's.
-- @module lnetstat.options
local core = require "lnetstat.core"
local util = require "lnetstat.util"

local type, pairs, tostring, tonumber, setmetatable =
  type, pairs, tostring, tonumber, setmetatable
local format, find, sub = string.format, string.find, string.sub
local sort, concat = table.sort, table.concat

local argerror, is_integer, show = util.argerror, util.is_integer, util.show

local M = {}

M.argerror = argerror
M.validate = util.validate
M.is_integer = is_integer
M.show = show

--- Checks that opts is nil or a table whose keys are all in known.
-- Returns opts or an empty table.
function M.check(fname, opts, known, n)
  n = n or 1
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    argerror(fname, n, "table expected, got " .. type(opts))
  end
  for k in pairs(opts) do
    if type(k) ~= "string" or not known[k] then
      argerror(fname, n, format("unknown option '%s'%s", tostring(k),
        type(k) == "string" and util.did_you_mean(k, known) or ""))
    end
  end
  return opts
end

--- An enum value: one of the keys of allowed (a set).
function M.enum(fname, n, optname, value, allowed)
  if type(value) ~= "string" or not allowed[value] then
    local names = {}
    for k in pairs(allowed) do names[#names + 1] = k end
    sort(names)
    argerror(fname, n, format("%s must be one of %s, got %s%s", optname,
      concat(names, ", "), show(value),
      type(value) == "string" and util.did_you_mean(value, allowed) or ""))
  end
  return value
end
local enum = M.enum

-- A table key as an error message shows it.
local function key_text(k)
  if type(k) == "number" then return tostring(k) end
  return show(k)
end

--- A list: a table whose keys are exactly 1..#value, without a hole or
-- any other key (ipairs would stop at a hole and never see the rest, so
-- an entry would be dropped without a word). Returns its length.
function M.list(fname, n, optname, value)
  if type(value) ~= "table" then
    argerror(fname, n, format("%s must be a list, got %s", optname, type(value)))
  end
  local count, max = 0, 0
  for k in pairs(value) do
    if not is_integer(k) or k < 1 then
      argerror(fname, n, format("%s must be a list: key %s is not an index 1..n",
        optname, key_text(k)))
    end
    count = count + 1
    if k > max then max = k end
  end
  if count ~= max then
    local i = 1
    while value[i] ~= nil do i = i + 1 end
    argerror(fname, n, format("%s must be a list: index %d is missing (%d entries up to index %d)",
      optname, i, count, max))
  end
  return max
end
local list = M.list

--- A string or a list of strings, each in allowed; returns a list without
-- repeats ({"tcp", "tcp"} must not list every socket twice).
function M.enum_list(fname, n, optname, value, allowed)
  if type(value) ~= "table" then return { enum(fname, n, optname, value, allowed) } end
  local len = list(fname, n, optname, value)
  if len == 0 then argerror(fname, n, optname .. " list is empty") end
  local out, seen = {}, {}
  for i = 1, len do
    local v = value[i]
    enum(fname, n, optname, v, allowed)
    if not seen[v] then
      seen[v] = true
      out[#out + 1] = v
    end
  end
  return out
end

--- nil or a boolean; returns it.
function M.boolean(fname, n, optname, value)
  if value ~= nil and type(value) ~= "boolean" then
    argerror(fname, n, format("%s must be a boolean, got %s", optname, type(value)))
  end
  return value
end

--- nil or "auto" | "netlink" | "proc"; returns the source ("auto" for nil).
local SOURCES = { auto = true, netlink = true, proc = true }
function M.source(fname, n, value)
  if value == nil then return "auto" end
  return enum(fname, n, "source", value, SOURCES)
end

--- A port (integer 0..65535) or a range {lo, hi} (a list of two); returns
-- lo, hi.
function M.port_range(fname, n, optname, value)
  local lo, hi
  if type(value) == "table" then
    if list(fname, n, optname, value) ~= 2 then
      argerror(fname, n, format("%s must be a port 0..65535 or a range {lo, hi}, got a list of %d",
        optname, #value))
    end
    lo, hi = value[1], value[2]
  else
    lo, hi = value, value
  end
  if not is_integer(lo) or not is_integer(hi) or lo < 0 or hi > 65535 or lo > hi then
    argerror(fname, n, format("%s must be a port 0..65535 or a range {lo, hi}", optname))
  end
  return lo, hi
end

--- value, or fname's argument error when it is a string with a NUL byte:
-- the C core takes names, addresses and paths as C strings, which end at
-- the first one ("lo\0evil" would be read as "lo").
function M.no_nul(fname, n, optname, value)
  if type(value) == "string" and find(value, "\0", 1, true) then
    argerror(fname, n, format("%s must not contain a NUL byte, got %s", optname, show(value)))
  end
  return value
end
local no_nul = M.no_nul

--- An address or CIDR text, as C parses it: "addr" or "addr/len", len in
-- plain decimal digits (no sign, space or leading zero) up to 32 or 128.
function M.cidr(fname, n, optname, value)
  no_nul(fname, n, optname, value)
  if type(value) ~= "string" or not core.parse_cidr(value) then
    argerror(fname, n, format("%s must be an address or CIDR text, got %s", optname, show(value)))
  end
  return value
end

--- A netns given as text (a command-line --netns, a check or Tstconfig
-- option): digits are a pid (returned as a number), anything else a name
-- under /var/run/netns or a path (returned as is). M.netns then resolves
-- the value as for every data function; every command goes through here.
function M.netns_arg(text)
  if type(text) == "string" and find(text, "^%d+$") then
    local pid = tonumber(text)
    if pid then return pid end
  end
  return text
end

--- What M.netns returns for "all": every namespace at once (the source
-- engine runs the call in each; see lnetstat.source.engine).
M.ALL_NETNS = setmetatable({}, { __tostring = function() return "all" end })

--- netns: a name under /var/run/netns (no "/", not "." or ".."), an
-- absolute path, a pid (a positive integer), or "all" (every namespace, as
-- in `ip -all netns`; a namespace named "all" is reached by its path).
-- Returns the path of the namespace file, nil for the caller's own
-- namespace, or M.ALL_NETNS. Whether that file is a network namespace is
-- the C core's check, made when it is opened.
function M.netns(fname, n, value)
  if value == nil then return nil end
  if value == "all" then return M.ALL_NETNS end
  if type(value) == "number" then
    -- not NaN, not an infinity, and a pid the kernel can have (pid_max <= 2^22)
    if not is_integer(value) or value <= 0 or value > 2147483647 then
      argerror(fname, n, "netns pid must be a positive integer, got " .. tostring(value))
    end
    return format("/proc/%d/ns/net", value)
  end
  if type(value) ~= "string" or value == "" then
    argerror(fname, n, "netns must be a name, a path or a pid, got " .. show(value))
  end
  no_nul(fname, n, "netns", value)
  if find(value, "/", 1, true) then
    if sub(value, 1, 1) ~= "/" then
      argerror(fname, n, "netns path must be absolute, got " .. show(value))
    end
    return value
  end
  if value == "." or value == ".." then
    argerror(fname, n, "netns name '" .. value .. "' is not valid")
  end
  return "/var/run/netns/" .. value
end

return M
