--- Queries over lists of records: where/filter/count/group/sort, matchers
-- (CIDR, ranges, patterns, wildcard and loopback addresses), diff and
-- counter rates.
--
-- Pure Lua: works on any list of plain tables (the records lnetstat's data
-- functions return, or your own), under Lua 5.1/LuaJIT to 5.4.
--
-- A *pattern* maps fields to expectations. A field is a record key or a
-- dotted path into nested tables ("stats.rx_errors", "flags.UP",
-- "processes.1.pid"). An expectation is
--
-- * a plain value: the field must equal it;
-- * a list of expectations (`{80, 443}`): any of them;
-- * a table without an array part (`{rx_errors = 0}`): a nested pattern,
--   applied to the field's table;
-- * a function `f(value, record, field)`: truthy passes;
-- * a matcher (`q.cidr"10.0.0.0/8"`, `q.range(1, 1023)`, `q.wildcard` ...),
--   which also receives `(value, record, field)`.
--
-- The array part of a pattern holds predicates on the whole record:
-- `q.where(list, { q.serves_ipv4, proto = "tcp" })`.
--
-- Dual stack: a socket bound to `[::]` with `v6only == false` also serves
-- IPv4. `family = "inet"` compares the field and so does not match it; use
-- `q.serves_ipv4` (a record predicate) or `family = q.ipv4` (a matcher that
-- looks at the record) instead. `q.wildcard4` matches 0.0.0.0 and such a
-- dual-stack `::`. A socket whose v6only is unknown (nil: read from /proc)
-- counts as dual-stack, the kernel's default (net.ipv6.bindv6only = 0).
-- @module lnetstat.query
local type, pairs, ipairs, tostring, tonumber, select, error, pcall, next =
  type, pairs, ipairs, tostring, tonumber, select, error, pcall, next
local setmetatable, getmetatable = setmetatable, getmetatable
local floor, huge = math.floor, math.huge
local format, sub, find = string.format, string.sub, string.find
local concat, sort = table.concat, table.sort
local math_type = math.type

local M = { _NAME = "lnetstat.query" }

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
    if is_integer(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
    return tostring(v)
  end
  return tostring(v)
end

function describe(spec)
  if is_matcher(spec) then return spec.desc end
  local t = type(spec)
  if t == "function" then return "<function>" end
  if t == "table" then
    if #spec > 0 then
      local parts = {}
      for i = 1, #spec do parts[i] = describe(spec[i]) end
      return "{" .. concat(parts, ", ") .. "}"
    end
    local keys = {}
    for k in pairs(spec) do keys[#keys + 1] = tostring(k) end
    sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do
      local v = spec[k]
      if v == nil then v = spec[tonumber(k)] end
      parts[#parts + 1] = k .. "=" .. describe(v)
    end
    return "{" .. concat(parts, " ") .. "}"
  end
  return describe_value(spec)
end
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
function M.where(list, pattern)
  check_list("where", list)
  check_pattern("where", pattern, 2)
  return select_records(list, function(r) return M.matches(r, pattern) end)
end

--- The records for which fn(record, index) is truthy.
function M.filter(list, fn)
  check_list("filter", list)
  if type(fn) ~= "function" and not is_matcher(fn) then
    argerror("filter", 2, "function expected, got " .. type(fn))
  end
  return select_records(list, function(r, i) return fn(r, i) end)
end

--- The first record matching pattern, or nil.
function M.find(list, pattern)
  check_list("find", list)
  check_pattern("find", pattern, 2)
  for i = 1, #list do
    if M.matches(list[i], pattern) then return list[i] end
  end
  return nil
end

--- The number of records (matching pattern, if given).
function M.count(list, pattern)
  check_list("count", list)
  if pattern == nil then return #list end
  check_pattern("count", pattern, 2)
  local n = 0
  for i = 1, #list do
    if M.matches(list[i], pattern) then n = n + 1 end
  end
  return n
end

local function check_field(fname, field, n)
  local t = type(field)
  if t ~= "string" and t ~= "function" and t ~= "number" then
    argerror(fname, n, "field name, dotted path or function expected, got " .. t, 2)
  end
end

--- Counts records by the value of a field: `{ tcp = 12, udp = 3 }`.
-- Records whose field is nil are not counted; their number is the second
-- result.
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

--- A sorted copy of list (stable), by one field or a list of fields.
-- @param fields a field, a dotted path, a function, or a list of them
-- @tparam[opt] boolean desc descending order (nil values stay last)
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
function M.pluck(list, field)
  check_list("pluck", list)
  check_field("pluck", field, 2)
  local out = {}
  for i = 1, #list do out[i] = get(list[i], field) end
  return out, #list
end

--- The distinct values of a field, in order of first appearance.
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

-- Addresses --------------------------------------------------------------------

-- Parses dotted-quad text into 4 bytes, or nil.
local function parse_v4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  local bytes = { tonumber(a), tonumber(b), tonumber(c), tonumber(d) }
  for i = 1, 4 do
    if bytes[i] > 255 then return nil end
  end
  for _, part in ipairs { a, b, c, d } do
    if #part > 3 then return nil end
  end
  return bytes
end

-- Parses IPv6 text (with "::", an embedded IPv4 tail, a %zone) into 16 bytes.
local function parse_v6(s)
  s = s:gsub("%%.*$", "")
  if s == "" or find(s, ":::", 1, true) then return nil end
  local head, tail = s, nil
  local dc = find(s, "::", 1, true)
  if dc then
    head, tail = sub(s, 1, dc - 1), sub(s, dc + 2)
    if find(tail, "::", 1, true) then return nil end
  end
  local function groups(part, allow_v4)
    local out = {}
    if part == "" then return out end
    local fields = {}
    for f in (part .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = f end
    for i, f in ipairs(fields) do
      if i == #fields and allow_v4 and find(f, ".", 1, true) then
        local v4 = parse_v4(f)
        if not v4 then return nil end
        out[#out + 1] = v4[1] * 256 + v4[2]
        out[#out + 1] = v4[3] * 256 + v4[4]
      else
        if not f:match("^%x%x?%x?%x?$") then return nil end
        out[#out + 1] = tonumber(f, 16)
      end
    end
    return out
  end
  local hg = groups(head, tail == nil)
  local tg = tail and groups(tail, true) or {}
  if not hg or not tg then return nil end
  local words = {}
  if dc then
    local fill = 8 - #hg - #tg
    if fill < 1 then return nil end
    for _, w in ipairs(hg) do words[#words + 1] = w end
    for _ = 1, fill do words[#words + 1] = 0 end
    for _, w in ipairs(tg) do words[#words + 1] = w end
  else
    if #hg ~= 8 then return nil end
    words = hg
  end
  local bytes = {}
  for i = 1, 8 do
    bytes[2 * i - 1] = floor(words[i] / 256)
    bytes[2 * i] = words[i] % 256
  end
  return bytes
end

--- Parses an address ("10.0.0.1", "::1", "fe80::1%eth0", "[::1]",
-- "::ffff:10.0.0.1") into 16 bytes, IPv4 as IPv4-mapped IPv6, and its
-- family ("inet" or "inet6"); nil for anything else.
function M.parse_addr(text)
  if type(text) ~= "string" then return nil end
  local s = text
  if sub(s, 1, 1) == "[" then
    s = s:match("^%[(.-)%]$")
    if not s then return nil end
  end
  if s == "*" then s = "::" end
  local v4 = parse_v4(s)
  if v4 then
    return { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, v4[1], v4[2], v4[3], v4[4] }, "inet"
  end
  if find(s, ":", 1, true) then
    local b = parse_v6(s)
    if b then return b, "inet6" end
  end
  return nil
end
local parse_addr = M.parse_addr

local function is_mapped(b)
  for i = 1, 10 do if b[i] ~= 0 then return false end end
  return b[11] == 255 and b[12] == 255
end

local function all_zero(b, from, to)
  for i = from, to do if b[i] ~= 0 then return false end end
  return true
end

--- True when two address texts name the same address ("127.0.0.1" and
-- "::ffff:127.0.0.1" do; so do "::1" and "0:0:0:0:0:0:0:1").
function M.same_addr(a, b)
  if a == b then return a ~= nil end
  local x, y = parse_addr(a), parse_addr(b)
  if not x or not y then return false end
  for i = 1, 16 do if x[i] ~= y[i] then return false end end
  return true
end
local same_addr = M.same_addr

--- True when text is an IPv4 address or an IPv4-mapped IPv6 address.
function M.is_ipv4(text)
  local b = parse_addr(text)
  return b ~= nil and is_mapped(b)
end

-- Parses "addr/len" or "addr"; returns bytes, bits (out of 128) or nil, why.
local function parse_cidr(text)
  if type(text) ~= "string" then return nil, "string expected, got " .. type(text) end
  local addr, len = text:match("^(.-)/(%d+)$")
  if not addr then
    if find(text, "/", 1, true) then return nil, format("malformed CIDR '%s'", text) end
    addr = text
  end
  local bytes, family = parse_addr(addr)
  if not bytes then return nil, format("malformed CIDR '%s'", text) end
  local max = family == "inet" and 32 or 128
  local bits = len and tonumber(len) or max
  if bits > max then return nil, format("malformed CIDR '%s' (prefix longer than %d)", text, max) end
  if family == "inet" then bits = bits + 96 end
  return bytes, bits
end

local function in_prefix(b, net, bits)
  local full = floor(bits / 8)
  for i = 1, full do
    if b[i] ~= net[i] then return false end
  end
  local rest = bits - full * 8
  if rest > 0 then
    local d = 2 ^ (8 - rest)
    if floor(b[full + 1] / d) ~= floor(net[full + 1] / d) then return false end
  end
  return true
end

--- True when the address text lies in the CIDR text. An IPv4 CIDR also
-- holds the IPv4-mapped forms of its addresses; raises on a malformed CIDR.
function M.in_cidr(addr, cidr)
  local net, bits = parse_cidr(cidr)
  if not net then argerror("in_cidr", 2, bits) end
  local b = parse_addr(addr)
  return b ~= nil and in_prefix(b, net, bits)
end

--- Matcher: the value is an address inside one of the CIDRs
-- (`q.cidr("10.0.0.0/8", "fd00::/8")`). IPv4 CIDRs hold IPv4-mapped
-- addresses too (::ffff:10.1.2.3); "::/0" holds every address.
function M.cidr(...)
  local n = select("#", ...)
  local args = { ... }
  if n == 1 and type(args[1]) == "table" then
    args = args[1]
    n = #args
  end
  if n == 0 then argerror("cidr", 1, "CIDR text expected, got no value") end
  local nets = {}
  for i = 1, n do
    local net, bits = parse_cidr(args[i])
    if not net then argerror("cidr", i, bits) end
    nets[i] = { net, bits }
  end
  local desc = "cidr(" .. concat(args, ", ", 1, n) .. ")"
  return new_matcher(desc, function(value)
    local b = parse_addr(value)
    if not b then return false end
    for i = 1, n do
      if in_prefix(b, nets[i][1], nets[i][2]) then return true end
    end
    return false
  end)
end

-- Dual stack -----------------------------------------------------------------

local function local_addr_of(record)
  return type(record) == "table" and (record.local_addr or record.addr) or nil
end

--- True when a socket record serves IPv4: an inet socket, an inet6 socket
-- on an IPv4-mapped address, or an inet6 socket bound to `::` that is not
-- v6only (a dual-stack `[::]`; v6only nil counts as dual-stack).
function M.serves_ipv4(record)
  if type(record) ~= "table" then return false end
  if record.family == "inet" then return true end
  if record.family ~= "inet6" then return false end
  local b = parse_addr(local_addr_of(record))
  if not b then return false end
  if is_mapped(b) then return true end
  return all_zero(b, 1, 16) and record.v6only ~= true
end

--- True when a socket record serves IPv6: an inet6 socket whose local
-- address is not IPv4-mapped.
function M.serves_ipv6(record)
  if type(record) ~= "table" or record.family ~= "inet6" then return false end
  local b = parse_addr(local_addr_of(record))
  return b == nil or not is_mapped(b)
end

--- Matcher on a record's family (or any field): the record serves IPv4
-- (`family = q.ipv4` matches a dual-stack `[::]` listener).
M.ipv4 = new_matcher("ipv4", function(_, record) return M.serves_ipv4(record) end)
--- Matcher: the record serves IPv6.
M.ipv6 = new_matcher("ipv6", function(_, record) return M.serves_ipv6(record) end)

local function wild_kind(value)
  local b = parse_addr(value)
  if not b then return nil end
  if all_zero(b, 1, 16) then return "inet6" end
  if is_mapped(b) and all_zero(b, 13, 16) then return "inet" end
  return nil
end

--- Matcher: a wildcard address (0.0.0.0, ::, "*").
M.wildcard = new_matcher("wildcard", function(value) return wild_kind(value) ~= nil end)

--- Matcher: an address that accepts IPv4 on every address: 0.0.0.0, or a
-- dual-stack `::` (the record's v6only is not true).
M.wildcard4 = new_matcher("wildcard4", function(value, record)
  local k = wild_kind(value)
  if k == "inet" then return true end
  if k ~= "inet6" then return false end
  return type(record) == "table" and record.v6only ~= true
end)

--- Matcher: the IPv6 wildcard `::` (v6only or dual-stack).
M.wildcard6 = new_matcher("wildcard6", function(value) return wild_kind(value) == "inet6" end)

local LOOP_V4 = { parse_cidr("127.0.0.0/8") }
local LOOP_V6 = { parse_cidr("::1/128") }
--- Matcher: a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).
M.loopback = new_matcher("loopback", function(value)
  local b = parse_addr(value)
  return b ~= nil and (in_prefix(b, LOOP_V4[1], LOOP_V4[2]) or in_prefix(b, LOOP_V6[1], LOOP_V6[2]))
end)

--- Matcher: the same address as text, whatever its spelling
-- (`q.addr"127.0.0.1"` matches "::ffff:127.0.0.1").
function M.addr(text)
  if not parse_addr(text) then argerror("addr", 1, format("address expected, got %s", describe(text))) end
  return new_matcher("addr(" .. text .. ")", function(value) return same_addr(value, text) end)
end

-- Generic matchers ------------------------------------------------------------

local function check_spec(fname, n, spec, level)
  if spec == nil then argerror(fname, n, "value or matcher expected, got nil", level or 2) end
end

--- Matcher: not the expectation (a value, list, function or matcher).
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
function M.any_of(...)
  local specs, n = pack_specs("any_of", ...)
  local m = M.one_of(specs)
  local parts = {}
  for i = 1, n do parts[i] = describe(specs[i]) end
  return new_matcher("any_of(" .. concat(parts, ", ") .. ")", m.test)
end

--- Matcher: all of the expectations.
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
function M.eq(v)
  return new_matcher("== " .. describe(v), function(value) return value == v end)
end

--- Matcher: not equal to v.
function M.ne(v)
  return new_matcher("~= " .. describe(v), function(value) return value ~= v end)
end

local function compare_matcher(fname, op, v, cmp)
  if type(v) ~= "number" and type(v) ~= "string" then
    argerror(fname, 1, "number or string expected, got " .. type(v), 2)
  end
  return new_matcher(op .. " " .. describe(v), function(value)
    return type(value) == type(v) and cmp(value, v)
  end)
end

--- Matcher: greater than v (numbers with numbers, strings with strings).
function M.gt(v) return compare_matcher("gt", ">", v, function(a, b) return a > b end) end
--- Matcher: at least v.
function M.ge(v) return compare_matcher("ge", ">=", v, function(a, b) return a >= b end) end
--- Matcher: less than v.
function M.lt(v) return compare_matcher("lt", "<", v, function(a, b) return a < b end) end
--- Matcher: at most v.
function M.le(v) return compare_matcher("le", "<=", v, function(a, b) return a <= b end) end

--- Matcher: a number in [lo, hi] (`q.range(1, 1023)`).
function M.range(lo, hi)
  if type(lo) ~= "number" then argerror("range", 1, "number expected, got " .. type(lo)) end
  if type(hi) ~= "number" then argerror("range", 2, "number expected, got " .. type(hi)) end
  if lo > hi then argerror("range", 2, format("empty range %s..%s", describe(lo), describe(hi))) end
  return new_matcher(format("range(%s, %s)", describe(lo), describe(hi)), function(value)
    return type(value) == "number" and value >= lo and value <= hi
  end)
end

--- Matcher: a string (or number) matching a Lua pattern (`q.match"^nginx"`).
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
function M.starts_with(s)
  if type(s) ~= "string" then argerror("starts_with", 1, "string expected, got " .. type(s)) end
  return new_matcher("starts_with " .. describe(s), function(value)
    return type(value) == "string" and sub(value, 1, #s) == s
  end)
end

--- Matcher: a string ending with s.
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

-- Diff --------------------------------------------------------------------------

local function kind_of(r)
  if type(r) ~= "table" then return nil end
  if r.proto ~= nil and (r.local_port ~= nil or r.inode ~= nil or r.path ~= nil) then
    return "socket"
  elseif r.dst ~= nil then
    return "route"
  elseif r.name ~= nil and r.index ~= nil and (r.mtu ~= nil or r.flags ~= nil) then
    return "interface"
  elseif r.addr ~= nil and r.prefixlen ~= nil then
    return "address"
  elseif r.addr ~= nil and (r.mac ~= nil or r.state ~= nil or r.interface ~= nil) then
    return "neighbor"
  end
  return nil
end

local function s(v) return v == nil and "" or tostring(v) end

local INET = { tcp = true, udp = true, udplite = true, raw = true }

--- Key functions per record kind, used by diff when no key is given:
-- socket: proto, local and remote address and port (inet), plus the inode
-- for unix/packet/netlink sockets; route: table, dst, metric;
-- interface: name; address: interface and addr/prefixlen; neighbor:
-- interface and addr.
M.keys = {
  socket = function(r)
    if INET[r.proto] then
      return format("%s %s:%s %s:%s", r.proto, s(r.local_addr), s(r.local_port),
        s(r.remote_addr), s(r.remote_port))
    end
    return format("%s %s %s %s", s(r.proto), s(r.path or r.local_addr), s(r.type), s(r.inode))
  end,
  route = function(r)
    return format("%s %s %s", s(r.table), s(r.dst), s(r.metric))
  end,
  interface = function(r) return s(r.name) end,
  address = function(r) return format("%s %s/%s", s(r.interface), s(r.addr), s(r.prefixlen)) end,
  neighbor = function(r) return format("%s %s", s(r.interface), s(r.addr)) end,
}

--- The diff key of a record by its kind (see keys), or nil.
function M.key_of(record)
  local k = kind_of(record)
  return k and M.keys[k](record) or nil, k
end

local function make_key_fn(key)
  local t = type(key)
  if key == nil then
    return function(r)
      local k = M.key_of(r)
      if k == nil then
        error("diff: cannot tell the kind of a record to key it; pass a key (field, list of fields "
          .. "or function)", 0)
      end
      return k
    end
  elseif t == "string" then
    return function(r) return s(get(r, key)) end
  elseif t == "function" then
    return key
  elseif t == "table" then
    return function(r)
      local parts = {}
      for i, f in ipairs(key) do parts[i] = s(get(r, f)) end
      return concat(parts, " ")
    end
  end
  return nil
end

local function deep_diff(a, b, prefix, out, ignore)
  local keys, seen = {}, {}
  for k in pairs(a) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
  for k in pairs(b) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
  sort(keys, function(x, y) return less(x, y) end)
  for _, k in ipairs(keys) do
    local path = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if not (ignore and (ignore[path] or ignore[k] and prefix == nil)) then
      local va, vb = a[k], b[k]
      if type(va) == "table" and type(vb) == "table" then
        deep_diff(va, vb, path, out, ignore)
      elseif va ~= vb then
        out[#out + 1] = path
      end
    end
  end
end

local function index_by(list, keyfn)
  local idx, order, seen = {}, {}, {}
  for i = 1, #list do
    local r = list[i]
    local k = keyfn(r)
    local n = (seen[k] or 0) + 1
    seen[k] = n
    if n > 1 then k = k .. " #" .. n end   -- duplicates keyed by occurrence
    idx[k] = r
    order[#order + 1] = k
  end
  return idx, order
end

--- Differences between two lists of records.
-- @tparam table before
-- @tparam table after
-- @param[opt] key a field, a list of fields, a function(record) -> string,
--   or an options table `{key = ..., ignore = {"stats", "recv_q"}}`; by
--   default the key of each record kind (see keys)
-- @treturn table `{added = {...}, removed = {...}, changed = {{key=, before=,
--   after=, fields = {"state", "stats.rx_bytes"}}, ...}}`
function M.diff(before, after, key)
  check_list("diff", before, 1)
  check_list("diff", after, 2)
  local ignore
  if type(key) == "table" and #key == 0 then
    local opts = key
    for k in pairs(opts) do
      if k ~= "key" and k ~= "ignore" then
        argerror("diff", 3, format("unknown option '%s' (key, ignore)", tostring(k)))
      end
    end
    key = opts.key
    if opts.ignore ~= nil then
        if type(opts.ignore) ~= "table" then argerror("diff", 3, "ignore must be a list of fields") end
      ignore = {}
      for _, f in ipairs(opts.ignore) do ignore[f] = true end
    end
  end
  local keyfn = make_key_fn(key)
  if not keyfn then argerror("diff", 3, "key must be a field, a list of fields or a function") end
  local ok, a_idx, a_order = pcall(index_by, before, keyfn)
  if not ok then error(a_idx, 2) end
  local b_idx, b_order
  ok, b_idx, b_order = pcall(index_by, after, keyfn)
  if not ok then error(b_idx, 2) end
  local res = { added = {}, removed = {}, changed = {} }
  for _, k in ipairs(a_order) do
    if b_idx[k] == nil then res.removed[#res.removed + 1] = a_idx[k] end
  end
  for _, k in ipairs(b_order) do
    local a, b = a_idx[k], b_idx[k]
    if a == nil then
      res.added[#res.added + 1] = b
    else
      local fields = {}
      deep_diff(a, b, nil, fields, ignore)
      if #fields > 0 then
        res.changed[#res.changed + 1] = { key = k, before = a, after = b, fields = fields }
      end
    end
  end
  return res
end

-- Counters ---------------------------------------------------------------------

local function walk_delta(prev, cur, prefix, out, resets, per)
  for k, v in pairs(cur) do
    local path = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    local p = prev[k]
    if type(v) == "number" and type(p) == "number" then
      local d = v - p
      if d < 0 then
        -- counter reset (or wrap): count from zero
        d = v
        resets[#resets + 1] = path
      end
      out[k] = per and d / per or d
    elseif type(v) == "table" and type(p) == "table" then
      local sub_out = {}
      walk_delta(p, v, path, sub_out, resets, per)
      if next(sub_out) ~= nil then out[k] = sub_out end
    end
  end
end

local function check_counters(fname, prev, cur)
  if type(prev) ~= "table" then argerror(fname, 1, "counter table expected, got " .. type(prev), 2) end
  if type(cur) ~= "table" then argerror(fname, 2, "counter table expected, got " .. type(cur), 2) end
end

--- Increases of counters between two snapshots (nested tables such as
-- stats() results or interface stats). A counter lower than before was
-- reset: its increase is counted from zero (the current value) and its path
-- is listed in the second result. Counters missing from either snapshot
-- are left out.
-- @treturn table deltas, same shape
-- @treturn table resets: sorted list of dotted paths ("TcpExt.ListenOverflows")
function M.delta(prev, cur)
  check_counters("delta", prev, cur)
  local out, resets = {}, {}
  walk_delta(prev, cur, nil, out, resets, nil)
  sort(resets)
  return out, resets
end

--- Per-second rates of counters between two snapshots taken `seconds`
-- apart; resets as in delta (rate from the current value alone, path in
-- the second result).
function M.rate(prev, cur, seconds)
  check_counters("rate", prev, cur)
  if type(seconds) ~= "number" or seconds ~= seconds or seconds <= 0 or seconds == huge then
    argerror("rate", 3, "a positive number of seconds expected, got " .. describe(seconds))
  end
  local out, resets = {}, {}
  walk_delta(prev, cur, nil, out, resets, seconds)
  sort(resets)
  return out, resets
end

return M
