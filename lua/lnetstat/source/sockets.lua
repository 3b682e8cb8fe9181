--- Sockets: sock_diag dumps per protocol and family, each falling back to
-- its /proc/net file by the engine's rule, with owners from /proc/PID/fd.
-- With source = "proc" no netlink socket is opened at all: interface
-- names of bound sockets (they need rtnetlink) are then unknown, and the
-- answer says so when a record has an ifindex without its name.
-- @module lnetstat.source.sockets
local core = require "lnetstat.core"
local options = require "lnetstat.options"
local engine = require "lnetstat.source.engine"

local type, ipairs, pairs, error = type, ipairs, pairs, error
local format = string.format
local sort = table.sort

local M = {}

local INET_PROTOS = { tcp = true, udp = true, udplite = true, raw = true }
local PROTOS = {
  tcp = true, udp = true, udplite = true, raw = true,
  unix = true, packet = true, netlink = true,
}
local FAMILIES = { inet = true, inet6 = true }

-- Kernel TCP_* numbering, which sock_diag uses for every protocol.
local STATE_BITS = {
  ESTABLISHED = 1, SYN_SENT = 2, SYN_RECV = 3, FIN_WAIT1 = 4, FIN_WAIT2 = 5,
  TIME_WAIT = 6, CLOSE = 7, UNCONN = 7, CLOSE_WAIT = 8, LAST_ACK = 9,
  LISTEN = 10, CLOSING = 11,
}
-- Sets of bit numbers; the source must parse on Lua 5.1 too, so no bitwise
-- operators: masks are sums of distinct powers of two.
local ALL_BITS = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }
local STATE_SETS = {
  all = ALL_BITS,
  listening = { 7, 10 },                   -- LISTEN, and unconnected datagram sockets
  connected = { 1, 2, 3, 4, 5, 6, 8, 9, 11, 12 },
}
-- ss spellings (ESTAB, TIME-WAIT, syn-sent) are accepted too.
local STATE_ALIASES = { ESTAB = "ESTABLISHED", ["FIN_WAIT_1"] = "FIN_WAIT1",
  ["FIN_WAIT_2"] = "FIN_WAIT2", UNCONNECTED = "UNCONN" }

local function state_mask(fname, value)
  if value == nil then value = "all" end
  local list = type(value) == "table" and value or { value }
  if type(value) == "table" and #value == 0 then
    options.argerror(fname, 1, "state list is empty")
  end
  local bits = {}
  for _, v in ipairs(list) do
    if type(v) ~= "string" then
      options.argerror(fname, 1, "state must be a state name or a list of them, got " .. type(v))
    end
    local set = STATE_SETS[v:lower()]
    local name = v:upper():gsub("-", "_")
    name = STATE_ALIASES[name] or name
    if set then
      for _, b in ipairs(set) do bits[b] = true end
    elseif STATE_BITS[name] then
      bits[STATE_BITS[name]] = true
    else
      local allowed = { all = true, listening = true, connected = true }
      for k in pairs(STATE_BITS) do allowed[k] = true end
      options.enum(fname, 1, "state", v, allowed)
    end
  end
  local mask, pow = 0, 1
  for b = 0, 12 do
    if bits[b] then mask = mask + pow end
    pow = pow * 2
  end
  return mask
end

local SOCKET_OPTS = {
  proto = true, family = true, state = true, local_port = true, remote_port = true,
  local_addr = true, remote_addr = true, process = true, info = true, netns = true,
  source = true, fields = true,
}
-- each_socket also takes reuse: one record table, refilled for each socket
local EACH_OPTS = { reuse = true }
for k in pairs(SOCKET_OPTS) do EACH_OPTS[k] = true end

-- opts.fields: the optional record fields to build (the C core's mask bits;
-- fields that come together share a bit). proto, family and state are always
-- there; leaving out what a caller does not read makes a big dump cheaper.
local FIELD_BITS = {
  recv_q = 1, send_q = 2, local_addr = 4, remote_addr = 8, local_port = 16,
  remote_port = 32, uid = 64, inode = 128, interface = 256, ifindex = 256,
  cookie = 512, v6only = 1024, timer = 2048, timer_expires_ms = 2048,
  retransmits = 2048, protocol = 4096, path = 8192, type = 16384,
  peer_inode = 32768, portid = 65536, dst_portid = 65536,
}
local ALWAYS = { proto = true, family = true, state = true }
-- Every field but the cookie. The cookie is a distinct string per socket, and
-- making a Lua string of each one was a fifth of a 100,000-socket dump (Lua
-- interns every short string): it comes, as in ss -e, with info = true, or
-- when fields names it.
local ALL_FIELDS = 131071
local DEFAULT_FIELDS = ALL_FIELDS - FIELD_BITS.cookie

local function field_mask(fname, list, process, info)
  if type(list) ~= "table" then
    options.argerror(fname, 1, "fields must be a list of field names, got " .. type(list))
  end
  local bits = {}
  for _, name in ipairs(list) do
    if not ALWAYS[name] then
      local allowed = {}
      for k in pairs(FIELD_BITS) do allowed[k] = true end
      for k in pairs(ALWAYS) do allowed[k] = true end
      options.enum(fname, 1, "fields entry", name, allowed)
      bits[FIELD_BITS[name]] = true
    end
  end
  if process then -- owners are found by inode; user comes from uid
    bits[FIELD_BITS.inode], bits[FIELD_BITS.uid] = true, true
  end
  if info then bits[FIELD_BITS.cookie] = true end
  local mask = 0
  for bit in pairs(bits) do mask = mask + bit end
  return mask
end

-- The proc file of each protocol and family.
local function proc_name(proto, family)
  if INET_PROTOS[proto] then
    return family == "inet6" and proto .. "6" or proto
  end
  return proto
end

local function parse_socket_opts(fname, opts, preset_state)
  opts = options.check(fname, opts, fname == "each_socket" and EACH_OPTS or SOCKET_OPTS)
  local q = {}
  q.protos = opts.proto == nil and { "tcp", "udp" }
    or options.enum_list(fname, 1, "proto", opts.proto, PROTOS)
  q.families = opts.family == nil and { "inet", "inet6" }
    or { options.enum(fname, 1, "family", opts.family, FAMILIES) }
  if preset_state and opts.state ~= nil then
    options.argerror(fname, 1, "option 'state' is preset by this function; use sockets()")
  end
  local filter = { states = state_mask(fname, preset_state or opts.state) }
  if opts.local_port ~= nil then
    filter.lport_lo, filter.lport_hi = options.port_range(fname, 1, "local_port", opts.local_port)
  end
  if opts.remote_port ~= nil then
    filter.rport_lo, filter.rport_hi = options.port_range(fname, 1, "remote_port", opts.remote_port)
  end
  if opts.local_addr ~= nil then filter.laddr = options.cidr(fname, 1, "local_addr", opts.local_addr) end
  if opts.remote_addr ~= nil then filter.raddr = options.cidr(fname, 1, "remote_addr", opts.remote_addr) end
  q.filter = filter
  q.source = options.source(fname, 1, opts.source)
  q.netns = options.netns(fname, 1, opts.netns)
  for _, k in ipairs { "process", "info", "reuse" } do options.boolean(fname, 1, k, opts[k]) end
  q.process, q.info = opts.process, opts.info
  -- owners add pid, program, user and processes to each record: sized for
  -- them up front, not grown one rehash later
  if q.process then filter.room = 4 end
  if opts.reuse then
    -- the C core tracks the fields it sets itself, not owners or internals
    if q.process or q.info then
      options.argerror(fname, 1, "reuse cannot go with process or info")
    end
    filter.reuse = true
  end
  if opts.fields ~= nil then
    filter.fields = field_mask(fname, opts.fields, q.process, q.info)
  else
    filter.fields = q.info and ALL_FIELDS or DEFAULT_FIELDS
  end
  return q
end

-- The /proc/net files a query reads, when /proc answers (source "proc")
-- or may answer (source "auto", for a protocol sock_diag cannot dump).
local function proc_handles(q)
  local handles, seen = {}, {}
  for _, proto in ipairs(q.protos) do
    local fams = INET_PROTOS[proto] and q.families or { "any" }
    for _, fam in ipairs(fams) do
      local name = proc_name(proto, fam)
      if not seen[name] then
        seen[name] = true
        handles[#handles + 1] = name
      end
    end
  end
  return handles
end
-- sock_diag, and rtnetlink for the names of the interfaces sockets are
-- bound to (resolved in the same netns)
local NETLINK_HANDLES = { "diag", "route" }

-- The /proc files that give an interface index: packet sockets' Iface.
local PROC_IFINDEX = { packet = true }

local note_partial = engine.note

-- Fetches one protocol/family into the sink (a list, or a function called per
-- record): from sock_diag when the session has it, from /proc when it has
-- not or when sock_diag fails by the engine's fallback rule. Returns the
-- source used and the records delivered, or nil, err, errno.
local function fetch(session, mode, sink, result, q, proto, family)
  if mode == "netlink" then
    local ok, count, errno = core.sock_diag(session, sink, proto, family, q.filter, q.info)
    if ok then return "netlink", count end
    if not engine.falls_back(q.source, count, errno) then
      return nil, count, errno
    end
  end
  local ok, skipped, count = core.proc_sockets(session, sink, proto, family, q.filter)
  if not ok then return nil, skipped, count end
  if skipped > 0 then
    note_partial(result, format("%d malformed lines of /proc/net/%s skipped", skipped,
      proc_name(proto, family)))
  end
  return "proc", count
end

-- Owners of sockets: one /proc/PID/fd scan (limited to the wanted inodes,
-- or every socket when wanted is nil) and the user names of the uids seen.
local function owner_index(wanted)
  local owners, unreadable, errno = core.owners(wanted)
  if not owners then return nil, unreadable, errno end
  return { owners = owners, unreadable = unreadable, errno = errno, names = {}, missing = 0 }
end

-- Sets pid, program, user and processes on one record from the index.
local function attach_owner(index, r)
  local uid = r.uid
  if uid then
    local name = index.names[uid]
    if name == nil then
      name = core.user_names({ uid })[uid] or false
      index.names[uid] = name
    end
    r.user = name or nil
  end
  local procs = r.inode and index.owners[r.inode]
  if procs then
    if #procs > 1 then
      sort(procs, function(a, b) return a.pid < b.pid or (a.pid == b.pid and a.fd < b.fd) end)
    end
    r.processes = procs
    r.pid, r.program = procs[1].pid, procs[1].program
  elseif r.inode and r.inode ~= 0 then
    index.missing = index.missing + 1
  end
end

-- Says on the result when owners could not all be read.
local function note_unknown_owners(index, result)
  if index.unreadable > 0 and index.missing > 0 then
    note_partial(result, format("owners unknown for %d sockets: the open files of %d "
      .. "processes could not be read (errno %d); that needs root or CAP_SYS_PTRACE, "
      .. "and some processes hide them even from root",
      index.missing, index.unreadable, index.errno))
  end
end

-- Runs the dumps of a query into sink; result receives sources and notes.
-- Returns the number of records delivered, or nil, err, errno.
local function dump_all(session, mode, q, sink, result)
  local sources, total = {}, 0
  for _, proto in ipairs(q.protos) do
    local fams = INET_PROTOS[proto] and q.families or { "any" }
    for _, fam in ipairs(fams) do
      local source, count, errno = fetch(session, mode, sink, result, q, proto, fam)
      if not source then return nil, count, errno end
      sources[proto] = source
      total = total + count
    end
  end
  result.sources = sources
  return total
end

-- Says on the result how many sockets lack their interface name because
-- no rtnetlink socket was open to resolve it.
local function note_unnamed(result, unnamed)
  if unnamed > 0 then
    note_partial(result, format("interface unknown for %d sockets: names need rtnetlink, which "
      .. "a /proc read does not open (ifindex is set)", unnamed))
  end
end

local function wants_ifindex(q, mode)
  if mode ~= "proc" then return false end
  for _, proto in ipairs(q.protos) do
    if PROC_IFINDEX[proto] then return true end
  end
  return false
end

-- Opens the query's session and runs its dumps into sink (a list, or a
-- function: an error it raises closes the sockets at once, not whenever
-- the collector gets to the session). Returns the count, or nil, err, errno.
local function dump_sockets(q, sink, result)
  local session, mode, refused = engine.open(q.netns, q.source, NETLINK_HANDLES, proc_handles(q))
  if not session then return nil, mode, refused end
  if refused then
    note_partial(result, engine.fallback_note("netlink", refused))
  end
  local unnamed = 0
  if type(sink) == "function" and wants_ifindex(q, mode) then
    local fn = sink
    sink = function(r)
      if r.ifindex and not r.interface then unnamed = unnamed + 1 end
      fn(r)
    end
  end
  local total, err, errno = engine.run(session, dump_all, mode, q, sink, result)
  if not total then return nil, err, errno end
  if type(sink) ~= "function" and wants_ifindex(q, mode) then
    for _, r in ipairs(sink) do
      if r.ifindex and not r.interface then unnamed = unnamed + 1 end
    end
  end
  note_unnamed(result, unnamed)
  return total
end

local function run_sockets(q)
  local list = {}
  local ok, err, errno = dump_sockets(q, list, list)
  if not ok then return nil, err, errno end
  if q.process then
    local wanted = {}
    for _, r in ipairs(list) do
      if r.inode and r.inode ~= 0 then wanted[r.inode] = true end
    end
    local index
    index, err, errno = owner_index(wanted)
    if not index then return nil, err, errno end
    for _, r in ipairs(list) do attach_owner(index, r) end
    note_unknown_owners(index, list)
  end
  return list
end

--- Sockets of every kind: the list, or nil, message, errno.
function M.sockets(opts)
  local q = options.validate(parse_socket_opts, "sockets", opts)
  if engine.is_all(q) then return engine.across("list", M.sockets, opts) end
  return run_sockets(q)
end

--- Streams sockets to fn; returns count, summary or nil, message, errno.
function M.each_socket(opts, fn)
  local q = options.validate(parse_socket_opts, "each_socket", opts)
  if type(fn) ~= "function" then
    error("bad argument #2 to 'each_socket' (function expected, got " .. type(fn) .. ")", 2)
  end
  if engine.is_all(q) then return engine.stream_across(M.each_socket, opts, fn) end
  local index, err, errno
  if q.process then
    -- owners first: the sockets are not held, so every socket is looked up
    index, err, errno = owner_index(nil)
    if not index then return nil, err, errno end
  end
  local summary = {}
  -- without owners to attach, the C core calls fn itself: no Lua frame
  -- in between on the hot path
  local sink = fn
  if index then
    sink = function(r)
      attach_owner(index, r)
      fn(r)
    end
  end
  local count
  count, err, errno = dump_sockets(q, sink, summary)
  if not count then return nil, err, errno end
  if index then note_unknown_owners(index, summary) end
  return count, summary
end

--- Listening sockets (TCP LISTEN and unconnected datagram sockets).
function M.listening(opts)
  local q = options.validate(parse_socket_opts, "listening", opts, "listening")
  if engine.is_all(q) then return engine.across("list", M.listening, opts) end
  return run_sockets(q)
end

--- Sockets that are neither listening nor unconnected.
function M.connections(opts)
  local q = options.validate(parse_socket_opts, "connections", opts, "connected")
  if engine.is_all(q) then return engine.across("list", M.connections, opts) end
  return run_sockets(q)
end

return M
