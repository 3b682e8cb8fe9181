--- lnetstat.query's base: matchers as objects, describing expectations,
-- field paths and pattern evaluation; the other parts build on these.
-- (This part of lnetstat.query is documented there.)
-- @submodule lnetstat.query
local type, pairs, ipairs, tostring, tonumber, error = type, pairs, ipairs, tostring, tonumber, error
local setmetatable, getmetatable = setmetatable, getmetatable
local floor, format, find, concat, sort, math_type =
  math.floor, string.format, string.find, table.concat, table.sort, math.type

local M = {}

-- Helpers --------------------------------------------------------------------

local function argerror(fname, n, msg, level)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), (level or 1) + 2)
end

local function is_integer(v)
  if type(v) ~= "number" then return false end
  if math_type then return math_type(v) == "integer" or v == floor(v) end
  return v == floor(v)
end

-- Matchers -----------------------------------------------------------------------

local MATCHER = {}   -- private marker: the metatable field __matcher

--- True when v is a matcher (built by this module).
-- @param v any value
-- @treturn boolean
-- @usage assert(q.is_matcher(q.range(1, 10)))
function M.is_matcher(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__matcher == MATCHER
end
local is_matcher = M.is_matcher

local function readonly()
  error("matchers are read-only", 2)
end

-- A matcher: an immutable callable object with a description.
local function new_matcher(desc, test)
  local data = { desc = desc, test = test }
  return setmetatable({}, {
    __matcher = MATCHER,
    __index = data,
    __newindex = readonly,
    __call = function(_, value, record, field) return test(value, record, field) end,
    __tostring = function() return desc end,
  })
end

--- Builds your own matcher: `q.matcher("even", function(v) return v % 2 == 0 end)`.
-- @tparam string desc shown in check results
-- @tparam function test `test(value, record, field)` -> boolean
-- @treturn table the matcher
-- @usage local even = q.matcher("even", function(v) return v % 2 == 0 end)
-- local n = q.count(ns.sockets(), { local_port = even })
function M.matcher(desc, test)
  if type(desc) ~= "string" then argerror("matcher", 1, "string expected, got " .. type(desc)) end
  if type(test) ~= "function" then argerror("matcher", 2, "function expected, got " .. type(test)) end
  return new_matcher(desc, test)
end

-- Describes a value or an expectation for humans (check results).
local describe
local function describe_value(v)
  local t = type(v)
  if t == "string" then
    if v == "" or find(v, "[%s,{}=\"]") then return format("%q", v) end
    return v
  elseif t == "number" then
    if v ~= v then return "nan" end   -- not "-nan", whatever the sign bit
    if is_integer(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
    return tostring(v)
  end
  return tostring(v)
end

-- Tables nested deeper than this are shown as "{...}"; a table inside
-- itself as "<cycle>": a description stays short and never recurses
-- without end.
local DESCRIBE_DEPTH = 8

local function describe_in(spec, seen, depth)
  if is_matcher(spec) then return spec.desc end
  local t = type(spec)
  if t == "function" then return "<function>" end
  if t == "table" then
    if seen[spec] then return "<cycle>" end
    if depth >= DESCRIBE_DEPTH then return "{...}" end
    seen[spec] = true
    local out
    if #spec > 0 then
      local parts = {}
      for i = 1, #spec do parts[i] = describe_in(spec[i], seen, depth + 1) end
      out = "{" .. concat(parts, ", ") .. "}"
    else
      local keys = {}
      for k in pairs(spec) do keys[#keys + 1] = tostring(k) end
      sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do
        local v = spec[k]
        if v == nil then v = spec[tonumber(k)] end
        parts[#parts + 1] = k .. "=" .. describe_in(v, seen, depth + 1)
      end
      out = "{" .. concat(parts, " ") .. "}"
    end
    seen[spec] = nil
    return out
  end
  return describe_value(spec)
end

function describe(spec)
  return describe_in(spec, {}, 0)
end
--- The text of an expectation, as check results show it.
-- @function describe
-- @param spec a value, list, pattern table, function or matcher
-- @treturn string e.g. "{port=22 proto=tcp}"
-- @usage print(q.describe { local_port = q.range(1, 1023) })
M.describe = describe

-- Paths ------------------------------------------------------------------------

local split_cache = {}

local function split_path(path)
  local parts = split_cache[path]
  if parts then return parts end
  parts = {}
  for seg in path:gmatch("[^%.]+") do
    parts[#parts + 1] = tonumber(seg) or seg
  end
  split_cache[path] = parts
  return parts
end

--- The value of a field of a record: a key, a dotted path ("stats.rx_errors",
-- "processes.1.pid") or a function of the record. Missing steps give nil.
-- @tparam table record a record
-- @param field a key, a dotted path or a function of the record
-- @return the value, or nil
-- @usage local pid = q.get(sock, "processes.1.pid")
function M.get(record, field)
  local tf = type(field)
  if tf == "function" then return field(record) end
  if type(record) ~= "table" then return nil end
  local v = record[field]
  if v ~= nil or tf ~= "string" or not find(field, ".", 1, true) then return v end
  v = record
  for _, seg in ipairs(split_path(field)) do
    if type(v) ~= "table" then return nil end
    local nv = v[seg]
    if nv == nil and type(seg) == "number" then nv = v[tostring(seg)] end
    v = nv
    if v == nil then return nil end
  end
  return v
end
local get = M.get

-- Pattern evaluation -----------------------------------------------------------

local match_pattern

--- Tests one expectation (value, list, nested pattern, function or matcher)
-- against a value. record and field are passed on to functions and matchers.
local function test(spec, value, record, field)
  if is_matcher(spec) then
    return spec.test(value, record, field) and true or false
  end
  local t = type(spec)
  if t == "function" then
    return spec(value, record, field) and true or false
  elseif t == "table" then
    local n = #spec
    if n > 0 then
      for i = 1, n do
        if test(spec[i], value, record, field) then return true end
      end
      return false
    end
    if type(value) ~= "table" then return false end
    return match_pattern(value, spec)
  end
  return value == spec
end
--- Tests one value against an expectation.
-- @function test
-- @param spec a value, list, pattern table, function or matcher
-- @param value the value
-- @tparam[opt] table record the record it comes from
-- @tparam[opt] string field its field
-- @treturn boolean whether it passes
-- @usage assert(q.test({ 80, 443 }, 443))
M.test = test

function match_pattern(record, pattern)
  for k, spec in pairs(pattern) do
    if type(k) == "number" then
      -- array part: a predicate on the whole record
      if not test(spec, record, record, nil) then return false end
    elseif not test(spec, get(record, k), record, k) then
      return false
    end
  end
  return true
end

--- True when record matches pattern (a pattern table or a predicate).
-- @tparam table record a record
-- @tparam table|function pattern field expectations, or a predicate
-- @treturn boolean
-- @usage if q.matches(sock, { proto = "tcp", local_port = 22 }) then print("ssh") end
function M.matches(record, pattern)
  if type(pattern) == "function" or is_matcher(pattern) then
    return test(pattern, record, record, nil)
  end
  return match_pattern(record, pattern)
end

local function check_list(fname, list, n)
  if type(list) ~= "table" then
    argerror(fname, n or 1, "list of records expected, got " .. type(list), 2)
  end
end

local TYPE_ORDER = { number = 1, string = 2, boolean = 3, table = 4 }

-- Orders two field values: numbers, strings, booleans (false first); nil last.
local function less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if a == nil then return false end
    if b == nil then return true end
    return (TYPE_ORDER[ta] or 9) < (TYPE_ORDER[tb] or 9)
  end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return (not a) and b end
  return false
end

M.argerror, M.is_integer, M.new_matcher, M.check_list, M.less =
  argerror, is_integer, new_matcher, check_list, less

return M
