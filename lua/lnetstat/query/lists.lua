--- lnetstat.query's list operations: where, filter, find, count, count_by,
-- group_by, sort_by, pluck, distinct.
-- (This part of lnetstat.query is documented there.)
-- @submodule lnetstat.query
local type, pairs, ipairs, tostring, next, format, sort =
  type, pairs, ipairs, tostring, next, string.format, table.sort
local base = require "lnetstat.query.base"
local argerror, is_matcher, get, check_list, less =
  base.argerror, base.is_matcher, base.get, base.check_list, base.less

local huge = math.huge

local M = {}

local function check_pattern(fname, pattern, n)
  local t = type(pattern)
  if t == "function" or is_matcher(pattern) then return end
  if t ~= "table" then
    argerror(fname, n, "pattern (table) or predicate (function) expected, got " .. t, 2)
  end
  for k, v in pairs(pattern) do
    if type(k) ~= "string" and type(k) ~= "number" then
      argerror(fname, n, "pattern keys must be field names, got " .. type(k), 2)
    end
    if type(v) == "table" and not is_matcher(v) and next(v) == nil then
      argerror(fname, n, format("empty table for field '%s' (a list of allowed values "
        .. "must not be empty)", tostring(k)), 2)
    end
  end
end

-- A new list with the records of list for which keep(record, i) is true;
-- the source list's `partial` note is carried over.
local function select_records(list, keep)
  local out = {}
  for i = 1, #list do
    local r = list[i]
    if keep(r, i) then out[#out + 1] = r end
  end
  if type(list.partial) ~= "nil" then out.partial = list.partial end
  return out
end

--- The records of list that match pattern.
-- @tparam table list records
-- @tparam table|function pattern field expectations, or a predicate
-- @treturn table a new list (list.partial is carried over)
-- @usage local q = require "lnetstat.query"
-- local ssh = q.where(ns.listening(), { proto = "tcp", local_port = 22 })
function M.where(list, pattern)
  check_list("where", list)
  check_pattern("where", pattern, 2)
  return select_records(list, function(r) return base.matches(r, pattern) end)
end

--- The records for which fn(record, index) is truthy.
-- @tparam table list records
-- @tparam function fn `fn(record, index)` -> truthy to keep (or a matcher)
-- @treturn table a new list (list.partial is carried over)
-- @usage local busy = q.filter(ns.sockets(), function(s) return (s.recv_q or 0) > 0 end)
function M.filter(list, fn)
  check_list("filter", list)
  if type(fn) ~= "function" and not is_matcher(fn) then
    argerror("filter", 2, "function expected, got " .. type(fn))
  end
  return select_records(list, function(r, i) return fn(r, i) end)
end

--- The first record matching pattern, or nil.
-- @tparam table list records
-- @tparam table|function pattern field expectations, or a predicate
-- @treturn table|nil the record
-- @usage local lo = q.find(ns.interfaces(), { name = "lo" })
function M.find(list, pattern)
  check_list("find", list)
  check_pattern("find", pattern, 2)
  for i = 1, #list do
    if base.matches(list[i], pattern) then return list[i] end
  end
  return nil
end

--- The number of records (matching pattern, if given).
-- @tparam table list records
-- @tparam[opt] table|function pattern field expectations, or a predicate
-- @treturn integer the number
-- @usage print(q.count(ns.sockets(), { proto = "tcp", state = "ESTABLISHED" }))
function M.count(list, pattern)
  check_list("count", list)
  if pattern == nil then return #list end
  check_pattern("count", pattern, 2)
  local n = 0
  for i = 1, #list do
    if base.matches(list[i], pattern) then n = n + 1 end
  end
  return n
end

local function check_field(fname, field, n)
  local t = type(field)
  if t ~= "string" and t ~= "function" and t ~= "number" then
    argerror(fname, n, "field name, dotted path or function expected, got " .. t, 2)
  end
  if t == "number" and (field ~= field or field == huge or field == -huge) then
    argerror(fname, n, "field index must be a finite number, got "
      .. (field ~= field and "nan" or tostring(field)), 2)
  end
end

--- Counts records by the value of a field: `{ tcp = 12, udp = 3 }`.
-- Records whose field is nil are not counted; their number is the second
-- result.
-- @tparam table list records
-- @param field a field name, dotted path or function of the record
-- @treturn table value -> number
-- @treturn integer records whose field is nil
-- @usage local by_state = q.count_by(ns.sockets { proto = "tcp" }, "state")
function M.count_by(list, field)
  check_list("count_by", list)
  check_field("count_by", field, 2)
  local out, nils = {}, 0
  for i = 1, #list do
    local v = get(list[i], field)
    if v == nil then nils = nils + 1 else out[v] = (out[v] or 0) + 1 end
  end
  return out, nils
end

--- Groups records by the value of a field: `{ tcp = {r1, r2}, udp = {r3} }`,
-- each group in list order. Records whose field is nil form the second result.
-- @tparam table list records
-- @param field a field name, dotted path or function of the record
-- @treturn table value -> list of records
-- @treturn table the records whose field is nil
-- @usage for iface, rs in pairs(q.group_by(ns.routes(), "interface")) do print(iface, #rs) end
function M.group_by(list, field)
  check_list("group_by", list)
  check_field("group_by", field, 2)
  local out, nils = {}, {}
  for i = 1, #list do
    local r = list[i]
    local v = get(r, field)
    if v == nil then
      nils[#nils + 1] = r
    else
      local g = out[v]
      if not g then g = {}; out[v] = g end
      g[#g + 1] = r
    end
  end
  return out, nils
end


--- A sorted copy of list (stable), by one field or a list of fields.
-- @tparam table list records
-- @param fields a field, a dotted path, a function, or a list of them
-- @tparam[opt] boolean desc descending order (nil values stay last)
-- @treturn table a new sorted list
-- @usage local top = q.sort_by(ns.sockets(), "recv_q", true)
function M.sort_by(list, fields, desc)
  check_list("sort_by", list)
  if type(fields) ~= "table" then fields = { fields } end
  if #fields == 0 then argerror("sort_by", 2, "no field to sort by") end
  for _, f in ipairs(fields) do check_field("sort_by", f, 2) end
  if desc ~= nil and type(desc) ~= "boolean" then
    argerror("sort_by", 3, "boolean expected, got " .. type(desc))
  end
  local idx = {}
  for i = 1, #list do idx[i] = i end
  sort(idx, function(i, j)
    local a, b = list[i], list[j]
    for _, f in ipairs(fields) do
      local va, vb = get(a, f), get(b, f)
      if va ~= vb then
        if va == nil then return false end
        if vb == nil then return true end
        if desc then
          if less(vb, va) then return true end
          if less(va, vb) then return false end
        else
          if less(va, vb) then return true end
          if less(vb, va) then return false end
        end
      end
    end
    return i < j
  end)
  local out = {}
  for k, i in ipairs(idx) do out[k] = list[i] end
  if list.partial ~= nil then out.partial = list.partial end
  return out
end

--- The values of a field, position by position; the second result is the
-- number of records (the list may have holes where a field is nil).
-- @tparam table list records
-- @param field a field name, dotted path or function of the record
-- @treturn table the values
-- @treturn integer the number of records
-- @usage local ports = q.pluck(ns.listening(), "local_port")
function M.pluck(list, field)
  check_list("pluck", list)
  check_field("pluck", field, 2)
  local out = {}
  for i = 1, #list do out[i] = get(list[i], field) end
  return out, #list
end

--- The distinct values of a field, in order of first appearance.
-- @tparam table list records
-- @param field a field name, dotted path or function of the record
-- @treturn table the values, each once
-- @usage local protos = q.distinct(ns.sockets(), "proto")
function M.distinct(list, field)
  check_list("distinct", list)
  check_field("distinct", field, 2)
  local out, seen = {}, {}
  for i = 1, #list do
    local v = get(list[i], field)
    if v ~= nil and not seen[v] then
      seen[v] = true
      out[#out + 1] = v
    end
  end
  return out
end

return M
