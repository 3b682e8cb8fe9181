--- Sockets: sock_diag dumps per protocol and family, each falling back to
-- its /proc/net file by the engine's rule, with owners from /proc/PID/fd.
-- With source = "proc" no netlink socket is opened at all: interface
-- names of bound sockets (they need rtnetlink) are then unknown, and the
-- answer says so when a record has an ifindex without its name.
-- @module lnetstat.source.sockets
local core = require "lnetstat.core"
local options = require "lnetstat.options"
local engine = require "lnetstat.source.engine"

local type, ipairs, pairs, next, error, getmetatable = type, ipairs, pairs, next, error, getmetatable
local format, sub, match = string.format, string.sub, string.match

local M = {}

local INET_PROTOS = { tcp = true, udp = true, udplite = true, raw = true }
local PROTOS = {
  tcp = true, udp = true, udplite = true, raw = true,
  unix = true, packet = true, netlink = true,
}
local FAMILIES = { inet = true, inet6 = true }
-- The proto names (a set), for callers that validate a proto option of
-- their own (lnetstat.embed).
M.PROTOS = PROTOS

-- State names and their kernel TCP_* numbers (sock_diag uses them for every
-- protocol), as the C core names them. NEW_SYN_RECV is reported as SYN_RECV
-- and BOUND_INACTIVE is never asked for: neither is a state to filter on.
local STATE_BITS = {}
for name, bit in pairs(core.socket_states) do
  if name ~= "NEW_SYN_RECV" and name ~= "BOUND_INACTIVE" then STATE_BITS[name] = bit end
end
STATE_BITS.UNCONN = STATE_BITS.CLOSE   -- datagram sockets that are not connected
-- The named sets, as state names. "listening" depends on the protocol: for
-- TCP it is LISTEN alone (a TCP CLOSE socket is bound, not listening, and
-- asking the kernel for CLOSE makes it walk the whole established hash);
-- for the others it is LISTEN and unconnected (CLOSE) sockets.
local STATE_SETS = {
  all = { tcp = {}, other = {} },
  listening = { tcp = { "LISTEN" }, other = { "LISTEN", "CLOSE" } },
  connected = { tcp = {}, other = {} },
}
for name in pairs(STATE_BITS) do
  if name ~= "UNCONN" then
    for _, kind in ipairs { "tcp", "other" } do
      local all, conn = STATE_SETS.all[kind], STATE_SETS.connected[kind]
      all[#all + 1] = name
      if name ~= "LISTEN" and name ~= "CLOSE" then conn[#conn + 1] = name end
    end
  end
end
-- ss spellings (ESTAB, TIME-WAIT, syn-sent) are accepted too.
local STATE_ALIASES = { ESTAB = "ESTABLISHED", ["FIN_WAIT_1"] = "FIN_WAIT1",
  ["FIN_WAIT_2"] = "FIN_WAIT2", UNCONNECTED = "UNCONN" }

-- The sum of 2^bit over a set of bit numbers (no bitwise operators: the
-- source must parse on Lua 5.1 too).
local function mask_of(bits)
  local mask, pow = 0, 1
  for b = 0, 13 do
    if bits[b] then mask = mask + pow end
    pow = pow * 2
  end
  return mask
end

-- The state masks of a state option: one for TCP, one for the other
-- protocols (they differ only for "listening").
local function compute_state_masks(fname, value)
  local list = type(value) == "table" and value or { value }
  if type(value) == "table" and options.list(fname, 1, "state", value) == 0 then
    options.argerror(fname, 1, "state list is empty")
  end
  local tcp, other = {}, {}
  for i = 1, #list do
    local v = list[i]
    if type(v) ~= "string" then
      options.argerror(fname, 1, "state must be a state name or a list of them, got " .. type(v))
    end
    local set = STATE_SETS[v:lower()]
    local name = v:upper():gsub("-", "_")
    name = STATE_ALIASES[name] or name
    if set then
      for _, n in ipairs(set.tcp) do tcp[STATE_BITS[n]] = true end
      for _, n in ipairs(set.other) do other[STATE_BITS[n]] = true end
    elseif STATE_BITS[name] then
      tcp[STATE_BITS[name]], other[STATE_BITS[name]] = true, true
    else
      local allowed = { all = true, listening = true, connected = true }
      for k in pairs(STATE_BITS) do allowed[k] = true end
      options.enum(fname, 1, "state", v, allowed)
    end
  end
  return mask_of(tcp), mask_of(other)
end

-- The masks of the single names asked for so far: a long-lived caller
-- asking the same question again does not pay for the string work.
local MASKS_OF_NAME = {}
local function state_masks(fname, value)
  if value == nil then value = "all" end
  if type(value) ~= "string" then return compute_state_masks(fname, value) end
  local m = MASKS_OF_NAME[value]
  if not m then
    local tcp, other = compute_state_masks(fname, value)
    m = { tcp, other }
    MASKS_OF_NAME[value] = m   -- only valid names get here: the set stays small
  end
  return m[1], m[2]
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
local FIELD_BITS = core.socket_fields
local ALWAYS = { proto = true, family = true, state = true }
-- Every field but the cookie. The cookie is a distinct string per socket, and
-- making a Lua string of each one was a fifth of a 100,000-socket dump (Lua
-- interns every short string): it comes, as in ss -e, with info = true, or
-- when fields names it.
local ALL_FIELDS = core.socket_fields_all
local DEFAULT_FIELDS = ALL_FIELDS - FIELD_BITS.cookie

local function field_mask(fname, list, process, info)
  if type(list) ~= "table" then
    options.argerror(fname, 1, "fields must be a list of field names, got " .. type(list))
  end
  local bits = {}
  for i = 1, options.list(fname, 1, "fields", list) do
    local name = list[i]
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

local BOOLEAN_OPTS = { "info", "reuse" }

-- process: true (every owner of each socket) or "first" (the lowest pid
-- alone, as netstat -p shows it: the scan of a list stops once each socket
-- has one).
local function process_opt(fname, value)
  if value == nil or type(value) == "boolean" or value == "first" then return value end
  options.argerror(fname, 1, format("process must be a boolean or \"first\", got %s",
    type(value) == "string" and format("%q", value) or type(value)))
end

local function parse_socket_opts(fname, opts, preset_state)
  opts = options.check(fname, opts, fname == "each_socket" and EACH_OPTS or SOCKET_OPTS)
  local protos = opts.proto == nil and { "tcp", "udp" }
    or options.enum_list(fname, 1, "proto", opts.proto, PROTOS)
  local families = opts.family == nil and { "inet", "inet6" }
    or { options.enum(fname, 1, "family", opts.family, FAMILIES) }
  if preset_state and opts.state ~= nil then
    options.argerror(fname, 1, "option 'state' is preset by this function; use sockets()")
  end
  local tcp_states, other_states = state_masks(fname, preset_state or opts.state)
  local lport_lo, lport_hi, rport_lo, rport_hi, laddr, raddr
  if opts.local_port ~= nil then
    lport_lo, lport_hi = options.port_range(fname, 1, "local_port", opts.local_port)
  end
  if opts.remote_port ~= nil then
    rport_lo, rport_hi = options.port_range(fname, 1, "remote_port", opts.remote_port)
  end
  if opts.local_addr ~= nil then laddr = options.cidr(fname, 1, "local_addr", opts.local_addr) end
  if opts.remote_addr ~= nil then raddr = options.cidr(fname, 1, "remote_addr", opts.remote_addr) end
  local source = options.source(fname, 1, opts.source)
  local netns = options.netns(fname, 1, opts.netns)
  for _, k in ipairs(BOOLEAN_OPTS) do options.boolean(fname, 1, k, opts[k]) end
  local process, info = process_opt(fname, opts.process), opts.info
  local reuse
  if opts.reuse then
    -- the C core tracks the fields it sets itself, not owners or internals
    if process or info then
      options.argerror(fname, 1, "reuse cannot go with process or info")
    end
    reuse = true
  end
  local fields
  if opts.fields ~= nil then
    fields = field_mask(fname, opts.fields, process, info)
  else
    fields = info and ALL_FIELDS or DEFAULT_FIELDS
  end
  -- The filter of one state mask, made by a constructor that names every
  -- key (filled one key at a time, its hash part would double two or three
  -- times). Owners add pid, program, user and processes to each record:
  -- room sizes records for them up front.
  local function new_filter(states)
    return {
      states = states, fields = fields, room = process and 4 or nil, reuse = reuse,
      lport_lo = lport_lo, lport_hi = lport_hi, rport_lo = rport_lo, rport_hi = rport_hi,
      laddr = laddr, raddr = raddr,
    }
  end
  local filter = new_filter(other_states)
  -- each protocol asks the kernel for exactly its states
  local filters = {}
  for _, proto in ipairs(protos) do
    if proto == "tcp" and tcp_states ~= other_states then
      filters[proto] = new_filter(tcp_states)
    else
      filters[proto] = filter
    end
  end
  return {
    protos = protos, families = families, filter = filter, filters = filters,
    source = source, netns = netns, process = process, info = info,
  }
end

-- A long-lived caller (a server worker) asks the same question again and
-- again, and checking its options was half the CPU of a small call. The
-- query of an options table whose keys are strings and whose values are
-- strings, numbers or booleans is kept and reused: a query is never changed
-- once parsed. Options that hold tables (fields, port ranges, proto lists)
-- are parsed each time. The kept queries form a tree per function: from a
-- node, node[option name][value] is the node of one more option, in the
-- order next() walks the options table, and node[QUERY] is the query of
-- exactly the options on the way there. A lookup is then a few table reads
-- and no string is built. 80 and 80.0 are one key (Lua 5.3 and later store
-- an integral float key as an integer), and the options parse them alike.
-- The tree holds QUERY_CACHE_MAX queries at most, then starts again.
local QUERY_CACHE_MAX = 64
local QUERY = {}   -- a key no options table can hold
local query_tree, query_cached = {}, 0

-- The kept query of fname and opts, or nil. A value that was never kept (a
-- table, NaN) simply finds no node, so the lookup checks no types.
local function cached_query(fname, opts)
  local node = query_tree[fname]
  if node == nil then return nil end
  if opts ~= nil then
    -- a table with a metatable may answer other values than next() shows
    if type(opts) ~= "table" or getmetatable(opts) ~= nil then return nil end
    local k, v = next(opts)
    while k ~= nil do
      local values = node[k]
      node = values and values[v]
      if node == nil then return nil end
      k, v = next(opts, k)
    end
  end
  return node[QUERY]
end

-- True when opts can be kept: nil, or a table without a metatable whose
-- keys are strings and whose values are strings, booleans or numbers
-- other than NaN.
local function keepable(opts)
  if opts == nil then return true end
  if type(opts) ~= "table" or getmetatable(opts) ~= nil then return false end
  for k, v in next, opts do
    local tv = type(v)
    if type(k) ~= "string" or not (tv == "string" or tv == "boolean"
        or (tv == "number" and v == v)) then
      return false
    end
  end
  return true
end

-- Keeps q, the parsed query of fname and opts, when opts can be kept;
-- returns q.
local function remember_query(fname, opts, q)
  if not keepable(opts) then return q end
  if query_cached >= QUERY_CACHE_MAX then query_tree, query_cached = {}, 0 end
  local node = query_tree[fname]
  if node == nil then
    node = {}
    query_tree[fname] = node
  end
  if opts ~= nil then
    for k, v in next, opts do
      local values = node[k]
      if values == nil then
        values = {}
        node[k] = values
      end
      local child = values[v]
      if child == nil then
        child = {}
        values[v] = child
      end
      node = child
    end
  end
  if node[QUERY] == nil then query_cached = query_cached + 1 end
  node[QUERY] = q
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
-- A list query opens sock_diag alone: the few records bound to an interface
-- are named afterwards (name_interfaces), and /proc files only when
-- sock_diag fails. A stream cannot be revisited, so it opens rtnetlink
-- too, for the names of the interfaces sockets are bound to (resolved in
-- the same netns).
local LIST_HANDLES = { "diag" }
local STREAM_HANDLES = { "diag", "route" }

-- The /proc files that give an interface index: packet sockets' Iface.
local PROC_IFINDEX = { packet = true }

local note_partial = engine.note

local function read_proc(session, sink, proto, family, filter)
  return core.proc_sockets(session, sink, proto, family, filter)
end

-- Reads one protocol/family from its /proc file into the sink: the
-- session's own file, or (without a session: sock_diag failed by the
-- engine's fallback rule) one opened in the query's netns for that read
-- alone. Returns the records delivered, or nil, err, errno.
local function from_proc(session, sink, result, q, proto, family)
  local filter = q.filters[proto]
  local ok, skipped, count
  if session then
    ok, skipped, count = read_proc(session, sink, proto, family, filter)
  else
    local psession, err, errno = core.open(q.netns, { proc_name(proto, family) })
    if not psession then return nil, err, errno end
    ok, skipped, count = engine.run(psession, read_proc, sink, proto, family, filter)
  end
  if not ok then return nil, skipped, count end
  if skipped > 0 then
    note_partial(result, format("%d malformed lines of /proc/net/%s skipped", skipped,
      proc_name(proto, family)))
  end
  return count
end

-- The sock_diag sockets on which a request failed, even when /proc
-- answered instead: a dump cut short may still be running there.
local failed_sockets = setmetatable({}, { __mode = "k" })

-- Fetches one protocol, every family of fams, into the sink (a list, or a
-- function called per record). With sock_diag, one call dumps them all; a
-- family whose dump fails by the engine's fallback rule is read from /proc,
-- and sock_diag goes on with the families after it. Returns the source of
-- the last family, the records delivered, the messages the kernel sent and
-- the records left without their interface name; or nil, err, errno.
local function fetch(session, mode, sink, result, q, proto, fams)
  local source, total, messages, unnamed = "proc", 0, 0, 0
  if mode ~= "netlink" then
    for i = 1, #fams do
      local count, err, errno = from_proc(session, sink, result, q, proto, fams[i])
      if not count then return nil, err, errno end
      total = total + count
    end
    return source, total, messages, unnamed
  end
  local first = 1
  while first <= #fams do
    local ok, a, b, c = core.sock_diag(session, sink, proto, fams, q.filters[proto], q.info, first)
    if ok then return "netlink", total + a, messages + b, unnamed + c end
    failed_sockets[session] = true   -- a session's kept socket is not used again
    -- done: the family that failed and what the ones before it gave
    local err, errno, done = a, b, c
    if not engine.falls_back(q.source, err, errno) then return nil, err, errno end
    total = total + done.count
    messages, unnamed = messages + done.messages, unnamed + done.unnamed
    local read, perr, perrno = from_proc(nil, sink, result, q, proto, fams[done.failed])
    if not read then return nil, perr, perrno end
    total = total + read
    first = done.failed + 1
  end
  return source, total, messages, unnamed
end

-- Owners of sockets: one /proc/PID/fd scan (limited to the wanted inodes,
-- or every socket when wanted is nil) and the user names of the uids seen.
-- netstat's rule for the name it prints: the basename of an absolute
-- argv[0], else argv[0] as is (a rewritten title such as
-- "sshd: /usr/sbin/sshd" stays whole).
local function command_name(argv0)
  if argv0 == nil then return nil end
  if sub(argv0, 1, 1) == "/" then return (match(argv0, "([^/]*)$")) end
  return argv0
end

-- With job (core.start_owner_map's), the walk has begun: it is finished
-- on this thread too.
local function owner_index(sockets, process, job)
  local map, unreadable, errno, procs, seen, unlisted
  if job then
    map, unreadable, errno, procs, seen, unlisted = core.finish_owner_map(job, sockets)
  else
    map, unreadable, errno, procs, seen, unlisted = core.owner_map(sockets, process == "first")
  end
  if not map then return nil, unreadable, errno end
  -- each process's command, derived once; the C core copies it to owners
  for _, p in pairs(procs) do p.command = command_name(p.argv0) end
  return { map = map, procs = procs, users = {}, unreadable = unreadable, errno = errno,
    seen = seen, unlisted = unlisted, missing = 0 }
end

-- Sets user, and pid, program and processes, on the records of a list
-- (in the C core: one call for the whole list).
local function attach_owners(index, list)
  index.missing = index.missing + core.attach_owners(index.map, index.procs, index.users, list)
end

-- The same for one streamed record.
local function attach_owner(index, r)
  index.missing = index.missing + core.attach_owner(index.map, index.procs, index.users, r)
end

-- The hidepid mode of the /proc the owner scan reads when it hides other
-- users' processes from this one ("invisible" or "ptraceable": their
-- directories are not listed at all, so the scan cannot count them as
-- unreadable); nil otherwise, or for root, who sees them all.
local function hidden_processes()
  local status = core.read_file("/proc/self/status", 1048576)
  local euid = status and match(status, "\nUid:%s+%d+%s+(%d+)")
  if euid == nil or euid == "0" then return nil end
  local mounts = core.read_file("/proc/self/mountinfo", 16777216)
  if not mounts then return nil end
  local mode
  -- the last mount on /proc is the one seen there
  for point, fstype, opts in string.gmatch(mounts, "%S+ %S+ %S+ %S+ (%S+) [^\n]- %- (%S+) %S+ (%S+)") do
    if point == "/proc" and fstype == "proc" then
      mode = match("," .. opts .. ",", ",hidepid=([^,]+),")
    end
  end
  if mode == "2" or mode == "invisible" or mode == "4" or mode == "ptraceable" then
    return mode
  end
  return nil
end

-- Says on the result when owners could not all be read: processes whose
-- files could not be read, and processes /proc does not even list.
local function note_unknown_owners(index, result)
  if index.missing == 0 then return end
  local why = {}
  if index.unreadable > 0 then
    why[#why + 1] = format("the open files of %d processes could not be read (errno %d); "
      .. "that needs root or CAP_SYS_PTRACE, and some processes hide them even from root",
      index.unreadable, index.errno)
  end
  local mode = hidden_processes()
  if mode then
    why[#why + 1] = format("/proc is mounted with hidepid=%s, which hides other users' "
      .. "processes from this one (root or the group of its gid= option sees them)", mode)
  end
  if #why > 0 then
    note_partial(result, format("owners unknown for %d sockets: %s", index.missing,
      table.concat(why, "; ")))
  end
end

-- Runs the dumps of a query into sink; result receives sources and notes.
-- Returns the number of records delivered, the socket messages the kernel
-- sent and the records left without their interface name; or nil, err,
-- errno.
-- (Numeric loops: this runs on every call, and an ipairs loop costs as much
-- as a small dump's Lua work.)
local ANY_FAMILY = { "any" }
local function dump_all(session, mode, q, sink, result)
  local sources, total, messages, unnamed = {}, 0, 0, 0
  local protos = q.protos
  for i = 1, #protos do
    local proto = protos[i]
    local source, count, sent, nameless = fetch(session, mode, sink, result, q, proto,
      INET_PROTOS[proto] and q.families or ANY_FAMILY)
    if not source then return nil, count, sent end
    sources[proto] = source
    total = total + count
    messages = messages + sent
    unnamed = unnamed + nameless
  end
  result.sources = sources
  return total, messages, unnamed
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

-- Opens the session of a query: with source "auto" the netlink handles
-- alone (fetch opens a /proc file if sock_diag fails), else as the engine
-- does. Returns session, mode, refused as engine.open.
local function open_session(q, netlink)
  if q.source ~= "auto" then
    return engine.open(q.netns, q.source, netlink, proc_handles(q))
  end
  local session, err, errno = core.open(q.netns, netlink)
  if session then return session, "netlink" end
  if not engine.falls_back(q.source, err, errno) then return nil, err, errno end
  local psession = core.open(q.netns, proc_handles(q))
  if not psession then return nil, err, errno end -- the netlink reason is the real one
  return psession, "proc", err
end

local function name_list(session, list)
  local ifname = core.ifname
  for _, r in ipairs(list) do
    if r.ifindex and not r.interface then r.interface = ifname(session, r.ifindex) end
  end
end

-- Names the interfaces of the records of list bound to one, from an
-- rtnetlink socket opened in the query's netns for that alone. Without it
-- they keep their ifindex only.
local function name_interfaces(q, list)
  local session = core.open(q.netns, { "route" })
  if session then engine.run(session, name_list, list) end
end

-- The sock_diag socket a session (M.session) keeps for its list calls,
-- opened again when an earlier call dropped it, or when this process is a
-- fork of the one that opened it (the child closes its copy and never
-- sends on it: the parent's requests go on undisturbed). nil when it
-- cannot be opened: the call then opens its own, with the usual fallback.
local function kept_socket(kept)
  local s = kept.socket
  if s and s:forked() then
    s:close()
    s = nil
  end
  if not s then
    s = core.open(kept.netns, LIST_HANDLES)
    kept.socket = s or nil
  end
  return s
end

-- Runs fn(session, ...) on a kept socket. A call that fails or raises,
-- or whose request failed there (even when /proc answered instead), drops
-- the socket (closes it): a dump cut short may still be running on it, and
-- the kernel refuses a second one there.
local function run_kept(kept, session, fn, ...)
  local ok, a, b, c = pcall(fn, session, ...)
  if not ok or a == nil or failed_sockets[session] then
    session:close()
    kept.socket = nil   -- it is the kept socket: kept_socket gave it
  end
  if not ok then error(a, 0) end
  return a, b, c
end

-- Opens the query's session and runs its dumps into sink: a list, which is
-- its own result, or a function, whose result is a separate summary (an
-- error the function raises closes the sockets at once, not whenever the
-- collector gets to the session). Returns the count and the socket
-- messages the kernel sent, or nil, err, errno.
local function dump_sockets(q, sink, result, kept)
  local streamed = sink ~= result
  local session, mode, refused
  -- a session's socket serves its list calls; a stream opens its own
  -- sockets, rtnetlink among them, as without a session
  if kept and not streamed and q.source ~= "proc" then
    session, mode = kept_socket(kept), "netlink"
  end
  if not session then
    kept = nil
    session, mode, refused = open_session(q, streamed and STREAM_HANDLES or LIST_HANDLES)
    if not session then return nil, mode, refused end
  end
  if refused then
    note_partial(result, engine.fallback_note("netlink", refused))
  end
  local unnamed = 0
  if streamed and wants_ifindex(q, mode) then
    local fn = sink
    sink = function(r)
      if r.ifindex and not r.interface then unnamed = unnamed + 1 end
      fn(r)
    end
  end
  local total, messages, nameless
  if kept then
    total, messages, nameless = run_kept(kept, session, dump_all, mode, q, sink, result)
  else
    total, messages, nameless = engine.run(session, dump_all, mode, q, sink, result)
  end
  if not total then return nil, messages, nameless end
  if not streamed and nameless > 0 then name_interfaces(q, sink) end
  if not streamed and wants_ifindex(q, mode) then
    for _, r in ipairs(sink) do
      if r.ifindex and not r.interface then unnamed = unnamed + 1 end
    end
  end
  note_unnamed(result, unnamed)
  return total, messages
end

local function run_sockets(q, kept)
  local list = {}
  -- Every owner (process = true) means a walk of every process's files
  -- whatever the list holds: a helper thread walks them while this one
  -- dumps the sockets and makes the records, and this one takes its share
  -- of what is left once it is done (ss -p walks first, then dumps; so the
  -- two see the host at about the same moments). nil on one CPU: the walk
  -- then follows the dump, for these records only.
  local job = q.process == true and core.start_owner_map() or nil
  local ok, err, errno = dump_sockets(q, list, list, kept)
  if not ok then
    if job then core.cancel_owner_map(job) end
    return nil, err, errno
  end
  if q.process then
    -- the owners of these records only: the C core reads their inodes
    local index
    index, err, errno = owner_index(list, q.process, job)
    if not index then return nil, err, errno end
    attach_owners(index, list)
    note_unknown_owners(index, list)
  end
  return list
end

-- The query of function fname for opts: kept, or parsed and kept.
local function query_of(fname, opts, preset_state)
  return cached_query(fname, opts) or remember_query(fname, opts,
    options.validate(parse_socket_opts, fname, opts, preset_state))
end

-- The query of each_socket(opts, fn), fn checked too.
local function stream_query(opts, fn)
  local q = query_of("each_socket", opts)
  if type(fn) ~= "function" then
    options.validate(options.argerror, "each_socket", 2, "function expected, got " .. type(fn))
  end
  return q
end

--- Sockets of every kind: the list, or nil, message, errno.
function M.sockets(opts)
  local q = query_of("sockets", opts)
  if engine.is_all(q) then return engine.across("list", M.sockets, opts) end
  return run_sockets(q)
end

-- Streams the sockets of query q to fn.
local function stream_sockets(q, fn)
  local index, err, errno
  if q.process then
    -- owners first: the sockets are not held, so every socket is looked
    -- up; a helper thread walks half of the processes (nil on one CPU)
    local job = core.start_owner_map(q.process == "first")
    index, err, errno = owner_index(nil, q.process, job)
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
  local count, messages
  count, messages, errno = dump_sockets(q, sink, summary)
  if not count then return nil, messages, errno end
  summary.messages = messages
  if index then
    note_unknown_owners(index, summary)
    -- the walk of every process's files, as a whole: what netstat's note on
    -- -p says (whether any process was unreadable, any owner readable)
    summary.owner_scan = { unlisted = index.unlisted, unreadable = index.unreadable, sockets = index.seen }
  end
  return count, summary
end

--- Streams sockets to fn; returns count, summary or nil, message, errno.
function M.each_socket(opts, fn)
  local q = stream_query(opts, fn)
  if engine.is_all(q) then return engine.stream_across(M.each_socket, opts, fn) end
  return stream_sockets(q, fn)
end

--- Listening sockets (TCP LISTEN and unconnected datagram sockets).
function M.listening(opts)
  local q = query_of("listening", opts, "listening")
  if engine.is_all(q) then return engine.across("list", M.listening, opts) end
  return run_sockets(q)
end

--- Sockets that are neither listening nor unconnected.
function M.connections(opts)
  local q = query_of("connections", opts, "connected")
  if engine.is_all(q) then return engine.across("list", M.connections, opts) end
  return run_sockets(q)
end

-- Sessions ------------------------------------------------------------------

-- A session: the calls of a long-lived caller (a server worker asking for
-- its listeners again and again) through one sock_diag socket kept open,
-- instead of one opened and closed per call (a fifth of a small call's
-- CPU). Its methods are the functions above with the same options, in the
-- namespace the session was opened for.
local Session = {}
Session.__index = Session

local function session_error(fname, msg)
  options.validate(options.argerror, fname, 1, msg)
end

local function check_session(self, fname)
  if getmetatable(self) ~= Session then
    session_error(fname, "session expected, got " .. type(self) .. " (call it as session:" .. fname .. "{...})")
  end
  if self.closed then session_error(fname, "the session is closed") end
end

-- q bound to the session's namespace: a copy, made once per kept query.
local function session_query(self, fname, q)
  if q.netns ~= nil then
    session_error(fname, "netns belongs to the session: give it to lnetstat.session")
  end
  if self.netns == nil then return q end
  local bound = self.queries[q]
  if bound == nil then
    bound = {}
    for k, v in pairs(q) do bound[k] = v end
    bound.netns = self.netns
    self.queries[q] = bound
  end
  return bound
end

local function session_list(self, fname, opts, preset_state)
  check_session(self, fname)
  return run_sockets(session_query(self, fname, query_of(fname, opts, preset_state)), self)
end

--- session:sockets(opts): sockets(opts) through the session's socket.
function Session:sockets(opts)
  return session_list(self, "sockets", opts)
end

--- session:listening(opts): listening(opts) through the session's socket.
function Session:listening(opts)
  return session_list(self, "listening", opts, "listening")
end

--- session:connections(opts): connections(opts) through the session's socket.
function Session:connections(opts)
  return session_list(self, "connections", opts, "connected")
end

--- session:each_socket(opts, fn): each_socket in the session's namespace.
-- A stream opens its own sockets (rtnetlink too, for the names of the
-- interfaces sockets are bound to, read afresh), as without a session.
function Session:each_socket(opts, fn)
  check_session(self, "each_socket")
  return stream_sockets(session_query(self, "each_socket", stream_query(opts, fn)), fn)
end

--- session:close(): closes the kept socket; later calls raise an error.
-- Closing twice does nothing. A session that is dropped without close is
-- closed by the collector.
function Session:close()
  if getmetatable(self) ~= Session then session_error("close", "session expected, got " .. type(self)) end
  if self.socket then self.socket:close() end
  self.socket, self.closed = nil, true
end
Session.__close = Session.close

function Session:__tostring()
  return "lnetstat.session (" .. (self.closed and "closed" or "open") .. ")"
end

local SESSION_OPTS = { netns = true }

--- A session for the network namespace opts.netns (nil: the caller's),
-- with its socket open; or nil, message, errno. A forked child may use its
-- parent's session: its first call opens a socket of its own.
function M.session(opts)
  opts = options.validate(options.check, "session", opts, SESSION_OPTS)
  local netns = options.validate(options.netns, "session", 1, opts.netns)
  if netns == options.ALL_NETNS then
    session_error("session", "a session reads one namespace: netns cannot be \"all\"")
  end
  local self = setmetatable({ netns = netns, queries = setmetatable({}, { __mode = "k" }) }, Session)
  local socket, err, errno = core.open(netns, LIST_HANDLES)
  if not socket and not engine.falls_back("auto", err, errno) then return nil, err, errno end
  -- netlink refused (a sandbox): each call falls back as a plain call does
  self.socket = socket or nil
  return self
end

return M
