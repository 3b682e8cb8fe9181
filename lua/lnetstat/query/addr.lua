--- lnetstat.query's addresses: parsing and comparing address text, CIDR
-- membership, and the address and dual-stack matchers.
-- (This part of lnetstat.query is documented there.)
-- @submodule lnetstat.query
local type, ipairs, tonumber, select, floor, format, sub, find, concat =
  type, ipairs, tonumber, select, math.floor, string.format, string.sub, string.find, table.concat
local base = require "lnetstat.query.base"
local argerror, new_matcher, describe =
  base.argerror, base.new_matcher, base.describe

local M = {}

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
-- @tparam string text the address
-- @treturn string the 16 bytes, or nil
-- @treturn string the family
-- @usage local bytes, family = q.parse_addr "::ffff:10.0.0.1"   -- family "inet"
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
-- @tparam string a an address
-- @tparam string b an address
-- @treturn boolean
-- @usage assert(q.same_addr("::1", "0:0:0:0:0:0:0:1"))
function M.same_addr(a, b)
  if a == b then return a ~= nil end
  local x, y = parse_addr(a), parse_addr(b)
  if not x or not y then return false end
  for i = 1, 16 do if x[i] ~= y[i] then return false end end
  return true
end
local same_addr = M.same_addr

--- True when text is an IPv4 address or an IPv4-mapped IPv6 address.
-- @tparam string text an address
-- @treturn boolean
-- @usage assert(q.is_ipv4 "::ffff:10.0.0.1")
function M.is_ipv4(text)
  local b = parse_addr(text)
  return b ~= nil and is_mapped(b)
end

-- Parses "addr/len" or "addr"; returns bytes, bits (out of 128) or nil, why.
local function parse_cidr(text)
  if type(text) ~= "string" then return nil, "string expected, got " .. type(text) end
  local addr, len = text:match("^(.-)/(%d+)$")
  -- plain decimal, as the C core reads prefixes: "/08" is refused there too
  if len and #len > 1 and sub(len, 1, 1) == "0" then
    return nil, format("malformed CIDR '%s' (prefix with a leading zero)", text)
  end
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
-- @tparam string addr an address
-- @tparam string cidr a prefix ("10.0.0.0/8")
-- @treturn boolean
-- @usage assert(q.in_cidr("10.1.2.3", "10.0.0.0/8"))
function M.in_cidr(addr, cidr)
  local net, bits = parse_cidr(cidr)
  if not net then argerror("in_cidr", 2, bits) end
  local b = parse_addr(addr)
  return b ~= nil and in_prefix(b, net, bits)
end

--- Matcher: the value is an address inside one of the CIDRs
-- (`q.cidr("10.0.0.0/8", "fd00::/8")`). IPv4 CIDRs hold IPv4-mapped
-- addresses too (::ffff:10.1.2.3); "::/0" holds every address.
-- @param ... CIDR texts, or one list of them
-- @treturn table the matcher
-- @usage q.where(ns.connections(), { remote_addr = q.cidr("10.0.0.0/8", "fd00::/8") })
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
-- @tparam table record a socket record
-- @treturn boolean
-- @usage local v4 = q.where(ns.listening(), { q.serves_ipv4 })
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
-- @tparam table record a socket record
-- @treturn boolean
-- @usage local v6 = q.filter(ns.listening(), q.serves_ipv6)
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
-- @tparam string text an address
-- @treturn table the matcher
-- @usage q.where(ns.listening(), { local_addr = q.addr "127.0.0.1" })
function M.addr(text)
  if not parse_addr(text) then argerror("addr", 1, format("address expected, got %s", describe(text))) end
  return new_matcher("addr(" .. text .. ")", function(value) return same_addr(value, text) end)
end

return M
