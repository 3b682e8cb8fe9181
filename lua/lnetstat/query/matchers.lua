--- lnetstat.query's generic matchers: not_, one_of, any_of, all_of,
-- comparisons, range, match, contains, starts_with, ends_with, absent,
-- present, any.
-- (This part of lnetstat.query is documented there.)
-- @submodule lnetstat.query
local type, tostring, select, pcall, format, sub, find, concat, huge =
  type, tostring, select, pcall, string.format, string.sub, string.find, table.concat, math.huge
local base = require "lnetstat.query.base"
local argerror, is_matcher, new_matcher, describe, test =
  base.argerror, base.is_matcher, base.new_matcher, base.describe, base.test

local M = {}

-- Generic matchers ------------------------------------------------------------

-- NaN equals nothing and an infinity is no field's value: a matcher built
-- on either could never (or always) match, so it is a mistake to report.
local function check_finite(fname, n, v, level)
  if type(v) == "number" and (v ~= v or v == huge or v == -huge) then
    argerror(fname, n, "finite number expected, got " .. describe(v), (level or 1) + 1)
  end
end

local function check_spec(fname, n, spec, level)
  if spec == nil then argerror(fname, n, "value or matcher expected, got nil", level or 2) end
  if type(spec) == "number" and (spec ~= spec or spec == huge or spec == -huge) then
    argerror(fname, n, "finite number expected, got " .. describe(spec), level or 2)
  end
end

--- Matcher: not the expectation (a value, list, function or matcher).
-- @param spec a value, list, function or matcher
-- @treturn table the matcher
-- @usage q.where(ns.listening(), { local_addr = q.not_(q.loopback) })
function M.not_(spec)
  check_spec("not_", 1, spec)
  return new_matcher("not " .. describe(spec), function(value, record, field)
    return not test(spec, value, record, field)
  end)
end

local function pack_specs(fname, ...)
  local n = select("#", ...)
  local specs = { ... }
  if n == 1 and type(specs[1]) == "table" and not is_matcher(specs[1]) and #specs[1] > 0 then
    specs = specs[1]
    n = #specs
  end
  if n == 0 then argerror(fname, 1, "at least one value expected", 2) end
  for i = 1, n do check_spec(fname, i, specs[i], 3) end
  return specs, n
end

--- Matcher: any of the expectations (`q.one_of(80, 443)`, `q.one_of{80, 443}`).
-- @param ... expectations, or one list of them
-- @treturn table the matcher
-- @usage q.where(ns.listening(), { local_port = q.one_of(80, 443) })
function M.one_of(...)
  local specs, n = pack_specs("one_of", ...)
  local parts = {}
  for i = 1, n do parts[i] = describe(specs[i]) end
  return new_matcher("one_of(" .. concat(parts, ", ") .. ")", function(value, record, field)
    for i = 1, n do
      if test(specs[i], value, record, field) then return true end
    end
    return false
  end)
end

--- Matcher: any of the expectations (an alias of one_of).
-- @param ... expectations, or one list of them
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { state = q.any_of("SYN_SENT", "SYN_RECV") })
function M.any_of(...)
  local specs, n = pack_specs("any_of", ...)
  local m = M.one_of(specs)
  local parts = {}
  for i = 1, n do parts[i] = describe(specs[i]) end
  return new_matcher("any_of(" .. concat(parts, ", ") .. ")", m.test)
end

--- Matcher: all of the expectations.
-- @param ... expectations, or one list of them
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { local_port = q.all_of(q.ge(1024), q.lt(49152)) })
function M.all_of(...)
  local specs, n = pack_specs("all_of", ...)
  local parts = {}
  for i = 1, n do parts[i] = describe(specs[i]) end
  return new_matcher("all_of(" .. concat(parts, ", ") .. ")", function(value, record, field)
    for i = 1, n do
      if not test(specs[i], value, record, field) then return false end
    end
    return true
  end)
end

--- Matcher: equal to v (also for a table v, compared by identity).
-- @param v the value
-- @treturn table the matcher
-- @usage q.where(ns.routes(), { metric = q.eq(0) })
function M.eq(v)
  check_finite("eq", 1, v)
  return new_matcher("== " .. describe(v), function(value) return value == v end)
end

--- Matcher: not equal to v.
-- @param v the value
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { state = q.ne("LISTEN") })
function M.ne(v)
  check_finite("ne", 1, v)
  return new_matcher("~= " .. describe(v), function(value) return value ~= v end)
end

local function compare_matcher(fname, op, v, cmp)
  if type(v) ~= "number" and type(v) ~= "string" then
    argerror(fname, 1, "number or string expected, got " .. type(v), 2)
  end
  check_finite(fname, 1, v, 2)
  return new_matcher(op .. " " .. describe(v), function(value)
    return type(value) == type(v) and cmp(value, v)
  end)
end

--- Matcher: greater than v (numbers with numbers, strings with strings).
-- @param v a number or a string
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { local_port = q.gt(0) })
function M.gt(v)
  local m = compare_matcher("gt", ">", v, function(a, b) return a > b end)
  return m   -- not a tail call: the error level counts this frame
end
--- Matcher: at least v.
-- @param v a number or a string
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { local_port = q.ge(1024) })
function M.ge(v)
  local m = compare_matcher("ge", ">=", v, function(a, b) return a >= b end)
  return m   -- not a tail call: the error level counts this frame
end
--- Matcher: less than v.
-- @param v a number or a string
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { local_port = q.lt(1024) })
function M.lt(v)
  local m = compare_matcher("lt", "<", v, function(a, b) return a < b end)
  return m   -- not a tail call: the error level counts this frame
end
--- Matcher: at most v.
-- @param v a number or a string
-- @treturn table the matcher
-- @usage q.where(ns.sockets(), { local_port = q.le(1023) })
function M.le(v)
  local m = compare_matcher("le", "<=", v, function(a, b) return a <= b end)
  return m   -- not a tail call: the error level counts this frame
end

--- Matcher: a number in [lo, hi] (`q.range(1, 1023)`).
-- @tparam number lo the lowest
-- @tparam number hi the highest
-- @treturn table the matcher
-- @usage q.where(ns.listening(), { local_port = q.range(1, 1023) })
function M.range(lo, hi)
  if type(lo) ~= "number" then argerror("range", 1, "number expected, got " .. type(lo)) end
  if type(hi) ~= "number" then argerror("range", 2, "number expected, got " .. type(hi)) end
  check_finite("range", 1, lo)
  check_finite("range", 2, hi)
  if lo > hi then argerror("range", 2, format("empty range %s..%s", describe(lo), describe(hi))) end
  return new_matcher(format("range(%s, %s)", describe(lo), describe(hi)), function(value)
    return type(value) == "number" and value >= lo and value <= hi
  end)
end

--- Matcher: a string (or number) matching a Lua pattern (`q.match"^nginx"`).
-- @tparam string pattern a Lua pattern
-- @treturn table the matcher
-- @usage q.where(ns.interfaces(), { name = q.match "^veth" })
function M.match(pattern)
  if type(pattern) ~= "string" then argerror("match", 1, "string expected, got " .. type(pattern)) end
  local ok, err = pcall(find, "", pattern)
  if not ok then argerror("match", 1, "malformed pattern: " .. tostring(err)) end
  return new_matcher(format("match(%q)", pattern), function(value)
    local t = type(value)
    if t ~= "string" and t ~= "number" then return false end
    return find(tostring(value), pattern) ~= nil
  end)
end

--- Matcher: a string containing s (plain text), or a table holding s
-- (a list element, or a set key: `flags = q.contains"UP"`).
-- @param s the text or element
-- @treturn table the matcher
-- @usage q.where(ns.interfaces(), { flags = q.contains "UP" })
function M.contains(s)
  check_spec("contains", 1, s)
  return new_matcher("contains " .. describe(s), function(value)
    if type(value) == "string" and type(s) == "string" then
      return find(value, s, 1, true) ~= nil
    elseif type(value) == "table" then
      if value[s] == true then return true end
      for i = 1, #value do
        if value[i] == s then return true end
      end
    end
    return false
  end)
end

--- Matcher: a string starting with s.
-- @tparam string s the prefix
-- @treturn table the matcher
-- @usage q.where(ns.interfaces(), { name = q.starts_with "eth" })
function M.starts_with(s)
  if type(s) ~= "string" then argerror("starts_with", 1, "string expected, got " .. type(s)) end
  return new_matcher("starts_with " .. describe(s), function(value)
    return type(value) == "string" and sub(value, 1, #s) == s
  end)
end

--- Matcher: a string ending with s.
-- @tparam string s the suffix
-- @treturn table the matcher
-- @usage q.where(ns.sockets { proto = "unix" }, { path = q.ends_with ".sock" })
function M.ends_with(s)
  if type(s) ~= "string" then argerror("ends_with", 1, "string expected, got " .. type(s)) end
  return new_matcher("ends_with " .. describe(s), function(value)
    return type(value) == "string" and (s == "" or sub(value, -#s) == s)
  end)
end

--- Matcher: the field is nil.
M.absent = new_matcher("absent", function(value) return value == nil end)
--- Matcher: the field is not nil.
M.present = new_matcher("present", function(value) return value ~= nil end)
--- Matcher: anything (even nil).
M.any = new_matcher("any", function() return true end)

return M
