--- Argument validation shared by the public functions: unknown option names
-- (with a "did you mean"), enum values, ports, addresses and netns specs
-- raise errors that name the function and the argument.
-- @module lnetstat.options
local core = require "lnetstat.core"

local type, pairs, ipairs, error, tostring = type, pairs, ipairs, error, tostring
local math_type = math.type
local floor = math.floor
local format = string.format
local sort, concat = table.sort, table.concat

local M = {}

-- Raised without a position: M.validate re-raises it at the caller of the
-- public function, however deep the check that found the problem.
local function argerror(fname, n, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end
M.argerror = argerror

-- Levenshtein distance, for suggestions only (short names).
local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

local function suggestion(name, known)
  local best, best_d
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  sort(names)
  for _, k in ipairs(names) do
    local d = distance(name, k)
    if k:sub(1, #name) == name then d = math.min(d, 1) end
    if d <= 2 and (not best_d or d < best_d) then best, best_d = k, d end
  end
  return best
end

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
      local name = tostring(k)
      local near = type(k) == "string" and suggestion(k, known)
      argerror(fname, n, format("unknown option '%s'%s", name,
        near and format("; did you mean '%s'?", near) or ""))
    end
  end
  return opts
end

local function check_enum(fname, n, optname, value, allowed)
  if type(value) ~= "string" or not allowed[value] then
    local names = {}
    for k in pairs(allowed) do names[#names + 1] = k end
    sort(names)
    local near = type(value) == "string" and suggestion(value, allowed)
    argerror(fname, n, format("%s must be one of %s, got %s%s", optname,
      concat(names, ", "), type(value) == "string" and ("'" .. value .. "'") or type(value),
      near and format("; did you mean '%s'?", near) or ""))
  end
  return value
end

--- An enum value: one of the keys of allowed (a set).
function M.enum(fname, n, optname, value, allowed)
  return check_enum(fname, n, optname, value, allowed)
end

--- A string or a list of strings, each in allowed; returns a list.
function M.enum_list(fname, n, optname, value, allowed)
  if type(value) == "table" then
    if #value == 0 then argerror(fname, n, optname .. " list is empty") end
    local out, seen = {}, {}
    for _, v in ipairs(value) do
      check_enum(fname, n, optname, v, allowed)
      if not seen[v] then   -- {"tcp", "tcp"} must not list every socket twice
        seen[v] = true
        out[#out + 1] = v
      end
    end
    return out
  end
  return { check_enum(fname, n, optname, value, allowed) }
end

local function is_integer(v)
  if math_type then return math_type(v) == "integer" or (type(v) == "number" and v == floor(v)) end
  return type(v) == "number" and v == floor(v)
end

--- A port (integer 0..65535) or a range {lo, hi}; returns lo, hi.
function M.port_range(fname, n, optname, value)
  local lo, hi
  if type(value) == "table" then
    lo, hi = value[1], value[2]
  else
    lo, hi = value, value
  end
  if not is_integer(lo) or not is_integer(hi) or lo < 0 or hi > 65535 or lo > hi then
    argerror(fname, n, format("%s must be a port 0..65535 or a range {lo, hi}", optname))
  end
  return lo, hi
end

--- An address or CIDR text, as C parses it.
function M.cidr(fname, n, optname, value)
  if type(value) ~= "string" or not core.parse_cidr(value) then
    argerror(fname, n, format("%s must be an address or CIDR text, got %s", optname,
      type(value) == "string" and ("'" .. value .. "'") or type(value)))
  end
  return value
end

--- netns: a name under /var/run/netns, a path, or a pid. Returns the path
-- of the namespace file, or nil for the caller's own namespace.
function M.netns(fname, n, value)
  if value == nil then return nil end
  if type(value) == "number" then
    if not is_integer(value) or value <= 0 then
      argerror(fname, n, "netns pid must be a positive integer")
    end
    return format("/proc/%d/ns/net", value)
  end
  if type(value) ~= "string" or value == "" then
    argerror(fname, n, "netns must be a name, a path or a pid, got " .. type(value))
  end
  if value:find("/", 1, true) then return value end
  if value == "." or value == ".." then
    argerror(fname, n, "netns name '" .. value .. "' is not valid")
  end
  return "/var/run/netns/" .. value
end

--- Runs parse(...) and re-raises its argument errors at the caller of the
-- public function; call it directly from that function (not as a tail call).
function M.validate(parse, ...)
  local ok, result = pcall(parse, ...)
  if not ok then error(result, 3) end
  return result
end

return M
