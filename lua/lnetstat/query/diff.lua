--- lnetstat.query's snapshots: diff between two lists of records, and
-- counter deltas and rates.
-- (This part of lnetstat.query is documented there.)
-- @submodule lnetstat.query
local type, pairs, ipairs, tostring, error, pcall, next, huge, format, concat, sort =
  type, pairs, ipairs, tostring, error, pcall, next, math.huge, string.format, table.concat, table.sort
local base = require "lnetstat.query.base"
local argerror, describe, get, check_list, less =
  base.argerror, base.describe, base.get, base.check_list, base.less

local ult, math_type = math.ult, math.type

local M = {}

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
-- @tparam table record a record
-- @treturn string|nil the key
-- @usage print(q.key_of(ns.routes()[1]))
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
-- @usage local before = ns.listening()
-- -- ... later
-- local d = q.diff(before, ns.listening())
-- for _, s in ipairs(d.added) do print("new listener", s.local_port) end
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

-- Values that go down as well as up (levels, not counts): their change is
-- signed and a fall is no reset. The kernel's gauges among the counters of
-- stats(): Tcp's CurrEstab and RFC 2012 settings, Ip's settings, and every
-- value of sockstat (sockets in use, orphans, TIME-WAITs, pages of memory).
local GAUGES = {
  CurrEstab = true, RtoAlgorithm = true, RtoMin = true, RtoMax = true, MaxConn = true,
  Forwarding = true, DefaultTTL = true,
}

local function walk_delta(prev, cur, prefix, out, resets, per, gauges)
  for k, v in pairs(cur) do
    local path = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    local p = prev[k]
    if type(v) == "number" and type(p) == "number" then
      local d = v - p
      -- a u64 counter past 2^63 reads as a negative integer (its two's
      -- complement): integers compare unsigned, and their difference wraps
      -- to the increase
      local fell = d < 0
      if ult and math_type(v) == "integer" and math_type(p) == "integer" then fell = ult(v, p) end
      if fell and not (gauges or GAUGES[k]) then
        -- counter reset (or wrap): count from zero
        d = v
        resets[#resets + 1] = path
      end
      out[k] = per and d / per or d
    elseif type(v) == "table" and type(p) == "table" then
      local sub_out = {}
      walk_delta(p, v, path, sub_out, resets, per, gauges or k == "sockstat")
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
-- is listed in the second result. Gauges (Tcp.CurrEstab, the RFC 2012
-- settings such as Tcp.MaxConn and Ip.Forwarding, everything under
-- sockstat) give their signed change and are never resets. Counters
-- missing from either snapshot are left out.
-- @treturn table deltas, same shape
-- @treturn table resets: sorted list of dotted paths ("TcpExt.ListenOverflows")
-- @tparam table prev the earlier snapshot
-- @tparam table cur the later snapshot
-- @usage local d = q.delta(before, ns.stats())
-- print(d.Tcp.ActiveOpens)
function M.delta(prev, cur)
  check_counters("delta", prev, cur)
  local out, resets = {}, {}
  walk_delta(prev, cur, nil, out, resets, nil)
  sort(resets)
  return out, resets
end

--- Per-second rates of counters between two snapshots taken `seconds`
-- apart; resets and gauges as in delta (a reset's rate from the current
-- value alone, its path in the second result).
-- @tparam table prev the earlier snapshot
-- @tparam table cur the later snapshot
-- @tparam number seconds the time between them
-- @treturn table rates per second, same shape
-- @treturn table resets, as in delta
-- @usage local r = q.rate(before, ns.stats(), 10)
-- print(r.Tcp.InSegs, "segments/s")
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
