-- One reading of the host for one attempt of lnetstat.check: the data
-- functions a check file calls are answered from it. The first socket
-- call of an attempt reads the superset the file needs (every protocol it
-- has asked for so far, listening ones only or every state, owners if any
-- check wants them) in one call, and each call filters that list in Lua;
-- routes, interfaces, addresses, neighbours and counters are read once
-- per attempt and namespace. A call with options the snapshot does not
-- model (source, fields, info ...) goes to the data function itself (once
-- per attempt and options), which validates them as usual.
-- @module lnetstat.checks.snapshot
local q = require "lnetstat.query"
local core = require "lnetstat.core"

local type, pairs, ipairs, tostring, setmetatable =
  type, pairs, ipairs, tostring, setmetatable
local floor = math.floor

local M = {}

local PROTOS = { tcp = true, udp = true, udplite = true, raw = true, unix = true, packet = true, netlink = true }
local INET = { inet = true, inet6 = true }

-- State names and the sets sockets() takes (see lnetstat's sockets()), by
-- the kernel's TCP_* numbers as the C core names them (core.socket_states).
-- Records never carry NEW_SYN_RECV (reported as SYN_RECV) or
-- BOUND_INACTIVE, and sockets() does not take them: a call naming one goes
-- to sockets() itself, which says so.
local STATE_BITS = {}
for name, bit in pairs(core.socket_states) do
  if name ~= "NEW_SYN_RECV" and name ~= "BOUND_INACTIVE" then STATE_BITS[name] = bit end
end
local CLOSE, LISTEN = STATE_BITS.CLOSE, STATE_BITS.LISTEN
STATE_BITS.UNCONN = CLOSE -- datagram sockets that are not connected
local STATE_ALIASES = { ESTAB = "ESTABLISHED", FIN_WAIT_1 = "FIN_WAIT1", FIN_WAIT_2 = "FIN_WAIT2",
  UNCONNECTED = "UNCONN" }
local STATE_SETS = { all = {}, listening = { CLOSE, LISTEN }, connected = {} }
for name, bit in pairs(STATE_BITS) do
  if name ~= "UNCONN" then -- CLOSE's other name
    local all, connected = STATE_SETS.all, STATE_SETS.connected
    all[#all + 1] = bit
    if bit ~= CLOSE and bit ~= LISTEN then connected[#connected + 1] = bit end
  end
end

-- The set of state bits of a state option, or nil when it is not one the
-- snapshot understands.
local function state_set(value)
  if value == nil then value = "all" end
  local list = type(value) == "table" and value or { value }
  if #list == 0 then return nil end
  local bits = {}
  for _, v in ipairs(list) do
    if type(v) ~= "string" then return nil end
    local set = STATE_SETS[v:lower()]
    local name = v:upper():gsub("-", "_")
    name = STATE_ALIASES[name] or name
    if set then
      for _, b in ipairs(set) do bits[b] = true end
    elseif STATE_BITS[name] then
      bits[STATE_BITS[name]] = true
    else
      return nil
    end
  end
  return bits
end

local function port_ok(spec)
  if spec == nil then return true end
  if type(spec) == "number" then return spec == floor(spec) end
  return type(spec) == "table" and #spec == 2 and type(spec[1]) == "number" and type(spec[2]) == "number"
end

local function port_match(spec, p)
  if spec == nil then return true end
  if type(p) ~= "number" then return false end
  if type(spec) == "number" then return p == spec end
  return p >= spec[1] and p <= spec[2]
end

local function addr_ok(text)
  if text == nil then return true end
  if type(text) ~= "string" then return false end
  local a, len = text:match("^(.-)/(%d+)$")
  return q.parse_addr(a or text) ~= nil and (len == nil or tonumber(len) ~= nil)
end

local function addr_match(text, a)
  if text == nil then return true end
  if type(a) ~= "string" then return false end
  if text:find("/", 1, true) then return q.in_cidr(a, text) and true or false end
  return q.same_addr(a, text) and true or false
end

local SOCKET_KEYS = { proto = true, family = true, state = true, local_port = true, remote_port = true,
  local_addr = true, remote_addr = true, process = true, netns = true }

-- The filter of a socket call, or nil when the snapshot cannot answer it.
local function socket_filter(opts, preset)
  for k in pairs(opts) do if not SOCKET_KEYS[k] then return nil end end
  local protos = opts.proto or { "tcp", "udp" }
  if type(protos) == "string" then protos = { protos } end
  if type(protos) ~= "table" or #protos == 0 then return nil end
  local pset = {}
  for _, p in ipairs(protos) do
    if not PROTOS[p] then return nil end
    pset[p] = true
  end
  if opts.family ~= nil and not INET[opts.family] then return nil end
  if preset and opts.state ~= nil then return nil end
  local states = state_set(preset or opts.state)
  if not states then return nil end
  if not (port_ok(opts.local_port) and port_ok(opts.remote_port)) then return nil end
  if not (addr_ok(opts.local_addr) and addr_ok(opts.remote_addr)) then return nil end
  if opts.process ~= nil and type(opts.process) ~= "boolean" then return nil end
  local listening = true
  for b in pairs(states) do if b ~= CLOSE and b ~= LISTEN then listening = false end end
  return { protos = protos, pset = pset, states = states, listening = listening, family = opts.family,
    process = opts.process == true, local_port = opts.local_port, remote_port = opts.remote_port,
    local_addr = opts.local_addr, remote_addr = opts.remote_addr }
end

local function keep(f, r)
  if not f.pset[r.proto] then return false end
  if f.family and INET[r.family] and r.family ~= f.family then return false end
  local bit = STATE_BITS[r.state]
  if bit and not f.states[bit] then return false end
  return port_match(f.local_port, r.local_port) and port_match(f.remote_port, r.remote_port)
    and addr_match(f.local_addr, r.local_addr) and addr_match(f.remote_addr, r.remote_addr)
end

local OWNER = { pid = true, program = true, user = true, processes = true, command = true }

local function copy_record(r, owners)
  local c = {}
  for k, v in pairs(r) do
    if owners or not OWNER[k] then c[k] = v end
  end
  return c
end

local function key_of(netns)
  if netns == nil then return "" end
  return type(netns) .. ":" .. tostring(netns)
end

local function only(opts, allowed)
  for k in pairs(opts) do if not allowed[k] then return false end end
  return true
end

--- The per-namespace needs that every snapshot of a run reads up front:
-- needs[key] = { protos = {name = true}, process = bool }.
function M.new_needs()
  return {}
end

--- Notes that a check reads sockets of protos (a list), with owners or
-- not, listening ones only or in any state (all = true).
function M.need_sockets(needs, netns, protos, process, all)
  local key = key_of(netns)
  local n = needs[key]
  if not n then n = { protos = {} }; needs[key] = n end
  for _, p in ipairs(protos or { "tcp", "udp" }) do if PROTOS[p] then n.protos[p] = true end end
  if process then n.process = true end
  if all then n.all = true end
end

local function copy_list(list, drop)
  local out = {}
  for i, r in ipairs(list) do
    if drop and type(r) == "table" then
      local c = {}
      for k, v in pairs(r) do if not drop[k] then c[k] = v end end
      out[i] = c
    else
      out[i] = r
    end
  end
  out.partial = list.partial
  return out
end

local Snapshot = {}
Snapshot.__index = Snapshot

--- A fresh, empty snapshot over the data functions of data. counts (a
-- table, optional) collects the reads per function name.
function M.new(data, needs, counts)
  return setmetatable({ data = data, needs = needs or {}, counts = counts or {}, cache = {} }, Snapshot)
end

function Snapshot:read(fname, ...)
  self.counts[fname] = (self.counts[fname] or 0) + 1
  return self.data[fname](...)
end

-- self:read(fname, opts) once per attempt and key: its answer, kept.
local function cached(self, key, fname, opts)
  local e = self.cache[key]
  if not e then
    local res, err, errno = self:read(fname, opts)
    e = { res = res, err = err, errno = errno }
    self.cache[key] = e
  end
  return e
end

-- A call the snapshot does not model: read once per attempt and options.
function Snapshot:direct(fname, opts)
  local e = cached(self, "direct " .. fname .. " " .. q.describe(opts), fname, opts)
  if type(e.res) == "table" and fname ~= "stats" then return copy_list(e.res), e.err, e.errno end
  return e.res, e.err, e.errno
end

-- The superset of sockets for netns holding protos (and owners if
-- process); reads what is missing (in one call) and returns the entry.
function Snapshot:socket_entry(netns, f)
  local key = key_of(netns)
  M.need_sockets(self.needs, netns, f.protos, f.process, not f.listening)
  local e = self.cache["sockets" .. key]
  if e then
    if e.err then return e end
    local covered = (e.process or not f.process) and (e.all or f.listening)
    for p in pairs(f.pset) do if not e.have[p] then covered = false end end
    if covered then return e end
  end
  -- the first read of this attempt, or one that did not cover this call:
  -- read everything the run has asked for so far, in one call
  local need = self.needs[key]
  local protos = {}
  for p in pairs(need.protos) do protos[#protos + 1] = p end
  table.sort(protos)
  local process = need.process or false
  -- listening sockets only, unless a check asks about others: a dump of
  -- other states walks the kernel's whole established hash
  local all = need.all or false
  local list, err, errno = self:read("sockets", { proto = protos, state = all and "all" or "listening",
    process = process, netns = netns })
  e = { have = {}, list = list, process = process, all = all }
  self.cache["sockets" .. key] = e
  if list == nil then
    e.err, e.errno = err or "no data", errno
    return e
  end
  for _, p in ipairs(protos) do e.have[p] = true end
  e.partial = list.partial
  return e
end

-- A data function read once per attempt and namespace (args: its options).
function Snapshot:once(fname, netns, opts)
  local e = cached(self, fname .. key_of(netns), fname, opts)
  return e.res, e.err, e.errno
end

local ROUTE_KEYS = { family = true, table = true, netns = true }
local TABLES = { main = 254, ["local"] = 255 }
local NETNS_ONLY = { netns = true }
local IFACE_KEYS = { netns = true, addresses = true }

--- Answers the data function fname with arguments a1, a2 (as the data
-- function takes them): a list, or nil, message, errno.
function Snapshot:call(fname, a1, a2)
  local data = self.data
  if fname == "sockets" or fname == "listening" or fname == "connections" then
    local opts = a1 or {}
    local f = socket_filter(opts, fname == "listening" and "listening" or fname == "connections" and "connected"
      or nil)
    if not f or type(data.sockets) ~= "function" then return self:direct(fname, opts) end
    local e = self:socket_entry(opts.netns, f)
    if e.err then return nil, e.err, e.errno end
    local out = {}
    for _, r in ipairs(e.list) do
      if keep(f, r) then out[#out + 1] = copy_record(r, f.process) end
    end
    if f.process then out.partial = e.partial end
    return out
  elseif fname == "routes" then
    local opts = a1 or {}
    local tbl = opts.table
    if tbl == nil then tbl = "main" end
    if not only(opts, ROUTE_KEYS) or (opts.family ~= nil and not INET[opts.family])
      or not (TABLES[tbl] or tbl == "all" or (type(tbl) == "number" and tbl == floor(tbl))) then
      return self:direct(fname, opts)
    end
    local list, err, errno = self:once("routes", opts.netns, { table = "all", netns = opts.netns })
    if not list then return nil, err, errno end
    local want = TABLES[tbl] or tbl
    local out = {}
    for _, r in ipairs(list) do
      if (opts.family == nil or r.family == nil or r.family == opts.family)
        and (want == "all" or r.table == nil and want == 254 or r.table == want) then
        out[#out + 1] = r
      end
    end
    return copy_list(out)
  elseif fname == "interfaces" then
    local opts = a1 or {}
    if not only(opts, IFACE_KEYS) or (opts.addresses ~= nil and type(opts.addresses) ~= "boolean") then
      return self:direct(fname, opts)
    end
    local list, err, errno = self:once("interfaces", opts.netns, { netns = opts.netns })
    if not list then return nil, err, errno end
    return copy_list(list, opts.addresses == false and { addresses = true } or nil)
  elseif fname == "addresses" or fname == "neighbors" then
    local opts = a1 or {}
    if not only(opts, NETNS_ONLY) then return self:direct(fname, opts) end
    local list, err, errno = self:once(fname, opts.netns, { netns = opts.netns })
    if not list then return nil, err, errno end
    return copy_list(list)
  elseif fname == "stats" then
    local opts = a1 or {}
    if not only(opts, NETNS_ONLY) then return self:direct(fname, opts) end
    return self:once("stats", opts.netns, { netns = opts.netns })
  elseif fname == "route_get" then
    local opts = a2 or {}
    if type(a1) ~= "string" or not only(opts, NETNS_ONLY) then return self:read(fname, a1, opts) end
    local key = "route_get " .. a1 .. " " .. key_of(opts.netns)
    local e = self.cache[key]
    if not e then
      local r, err, errno = self:read(fname, a1, opts)
      e = { res = r, err = err, errno = errno }
      self.cache[key] = e
    end
    return e.res, e.err, e.errno
  end
  return self:read(fname, a1)
end

return M
