--- Protocol counters (nstat, netstat -s), multicast memberships
-- (netstat -g) and the named network namespaces (ip netns list).
--
-- Counters are read from /proc/net/{snmp,netstat,snmp6,sockstat,sockstat6}
-- of the target namespace (the session opens them inside it) and keyed
-- exactly as the kernel names them: `stats().TcpExt.ListenOverflows`,
-- `stats().Tcp.MaxConn` (-1), `stats().sockstat.TCP.inuse`.
-- @module lnetstat.source.counters
local core = require "lnetstat.core"
local options = require "lnetstat.options"
local engine = require "lnetstat.source.engine"

local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local sort = table.sort
local format = string.format
local math_type = math.type

local M = {}

-- The /proc/net file of each group; opts.only opens only the files needed.
local GROUP_FILES = {
  Ip = "snmp", Icmp = "snmp", IcmpMsg = "snmp", Tcp = "snmp", Udp = "snmp", UdpLite = "snmp",
  TcpExt = "netstat", IpExt = "netstat", MPTcpExt = "netstat",
  Ip6 = "snmp6", Icmp6 = "snmp6", Udp6 = "snmp6", UdpLite6 = "snmp6",
  sockstat = { "sockstat", "sockstat6" },
}
local ALL_FILES = { "snmp", "netstat", "snmp6", "sockstat", "sockstat6" }

local STATS_OPTS = { netns = true, only = true }

local function parse_stats_opts(fname, opts)
  opts = options.check(fname, opts, STATS_OPTS)
  local q = { netns = options.netns(fname, 1, opts.netns) }
  if opts.only == nil then
    q.files = ALL_FILES
    return q
  end
  q.only = {}
  local files, seen = {}, {}
  for _, g in ipairs(options.enum_list(fname, 1, "only", opts.only, GROUP_FILES)) do
    q.only[g] = true
    local f = GROUP_FILES[g]
    for _, name in ipairs(type(f) == "table" and f or { f }) do
      if not seen[name] then
        seen[name] = true
        files[#files + 1] = name
      end
    end
  end
  q.files = files
  return q
end

-- mem_bytes may be at most this: what a signed 64-bit integer holds. Page
-- sizes are powers of two, so the float product that is compared with it is
-- exact wherever that matters.
local MAX_BYTES = 2 ^ 63

local function pages_text(n)
  if math_type and math_type(n) == "integer" then return tostring(n) end
  return format("%.0f", n)
end

--- (internal) The sockstat "mem" counters are in pages: sets mem_bytes =
-- mem × page_size (as node_exporter reports it) on each group of sockstat
-- that has mem. A negative mem, or one whose byte count a signed 64-bit
-- integer cannot hold, gets no mem_bytes: it is noted on result.partial
-- instead ("sockstat: TCP mem: N pages is no byte count").
-- @tparam table result where partial notes go
-- @tparam[opt] table sockstat the sockstat group (nil: nothing to do)
-- @tparam[opt] number page_size bytes per page (nil: unknown, no mem_bytes)
function M.sockstat_bytes(result, sockstat, page_size)
  if type(sockstat) ~= "table" or not page_size then return end
  local names = {}
  for name, t in pairs(sockstat) do
    if type(t) == "table" and t.mem ~= nil then names[#names + 1] = name end
  end
  sort(names) -- the notes in a stable order
  for _, name in ipairs(names) do
    local t = sockstat[name]
    local pages = t.mem
    if pages >= 0 and (pages + 0.0) * page_size < MAX_BYTES then
      t.mem_bytes = pages * page_size
    else
      engine.note(result, format("sockstat: %s mem: %s pages is no byte count",
        name, pages_text(pages)))
    end
  end
end

--- Protocol counters of a network namespace, keyed as the kernel names them.
-- Groups: Ip Icmp IcmpMsg Tcp Udp UdpLite (snmp), TcpExt IpExt MPTcpExt
-- (netstat), Ip6 Icmp6 Udp6 UdpLite6 (snmp6, split the way nstat names
-- them), and sockstat = { sockets_used=, TCP={inuse=, orphan=, tw=, alloc=,
-- mem=, mem_bytes=}, UDP=, UDPLITE=, RAW=, FRAG=, TCP6=, UDP6=, ... }.
-- A group the kernel does not print (IcmpMsg before any ICMP message, the
-- IPv6 groups without IPv6) is absent. Values are absolute.
-- @tparam[opt] table opts netns; only (a group name or a list of them)
-- @treturn table the groups (with `partial` when a file was malformed), or nil, message, errno
function M.stats(opts)
  local q = options.validate(parse_stats_opts, "stats", opts)
  if engine.is_all(q) then return engine.across("one", M.stats, opts) end
  local result, partial, errno = engine.with_session(q.netns, q.files, core.proc_stats)
  if not result then return nil, partial, errno end
  -- the unit of sockstat mem, a fact for the line below, not a group
  local page_size = result.page_size
  result.page_size = nil
  if q.only then
    for g in pairs(result) do
      if not q.only[g] then result[g] = nil end
    end
  end
  result.partial = partial
  M.sockstat_bytes(result, result.sockstat, page_size)
  return result
end

local FAMILIES = { inet = true, inet6 = true }
local GROUP_OPTS = { netns = true, family = true }

local function parse_groups_opts(fname, opts)
  opts = options.check(fname, opts, GROUP_OPTS)
  local q = { netns = options.netns(fname, 1, opts.netns) }
  if opts.family == nil then
    q.files = { "igmp", "igmp6" }
  else
    local fam = options.enum(fname, 1, "family", opts.family, FAMILIES)
    q.files = { fam == "inet" and "igmp" or "igmp6" }
  end
  return q
end

--- Multicast group memberships (netstat -g), IPv4 then IPv6.
-- Record: interface, index, family ("inet"|"inet6"), group (address text),
-- users (sockets and kernel users joined), querier (IPv4 only: "V1".."V3").
-- @tparam[opt] table opts netns; family ("inet"|"inet6", default both)
-- @treturn table list of memberships, or nil, message, errno
function M.groups(opts)
  local q = options.validate(parse_groups_opts, "groups", opts)
  if engine.is_all(q) then return engine.across("list", M.groups, opts) end
  local list, partial, errno = engine.with_session(q.netns, q.files, core.proc_groups)
  if not list then return nil, partial, errno end
  list.partial = partial
  return list
end

local function parse_namespaces_opts(fname, opts)
  options.check(fname, opts, {})
  return true
end

-- The nsid the calling thread's namespace gives each namespace of list
-- (what ip netns list shows as "(id: N)"), asked with RTM_GETNSID.
local function nsids(session, list)
  local failed
  for _, r in ipairs(list) do
    if r.id then
      local nsid, nerr = core.netns_nsid(session, r.path)
      if nsid then
        r.nsid = nsid
      elseif nsid == nil then
        failed = failed or nerr
      end
    end
  end
  return failed
end

local function add_nsids(list)
  local session, err = core.open(nil, { "route" })
  if not session then
    engine.note(list, "nsid unknown: " .. err)
    return
  end
  local failed = engine.run(session, nsids, list)
  if failed then engine.note(list, "nsid unknown for some namespaces: " .. failed) end
end

--- The named network namespaces (the entries of /var/run/netns), sorted
-- by name. Record: name, path, id (the inode of the namespace: two names of
-- one namespace share it; nil for a stale entry that is no longer a
-- namespace), current (true for the namespace of the calling thread),
-- nsid (the id this namespace gives it, as `ip netns list` shows; nil when
-- none is assigned).
-- No /var/run/netns: an empty list.
-- @tparam[opt] table opts no options yet
-- @treturn table list of namespaces, or nil, message, errno
function M.namespaces(opts)
  options.validate(parse_namespaces_opts, "namespaces", opts)
  local list, err, errno = core.netns_list()
  if not list then return nil, err, errno end
  sort(list, function(a, b) return a.name < b.name end)
  if #list > 0 then add_nsids(list) end
  return list
end

return M
