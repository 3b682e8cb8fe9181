--- Interfaces, addresses and neighbours: rtnetlink dumps (RTM_GETLINK,
-- RTM_GETADDR, RTM_GETNEIGH) read inside the target netns, with
-- /proc/net/dev and /proc/net/if_inet6 as the fallback.
--
-- A dump the kernel flags NLM_F_DUMP_INTR (an interface or address changed
-- while it ran) is retried whole by the engine; when it never settles, the
-- last answer is returned with list.partial saying so.
-- @module lnetstat.source.links
local core = require "lnetstat.core"
local options = require "lnetstat.options"
local engine = require "lnetstat.source.engine"

local type, ipairs, pairs = type, ipairs, pairs
local format = string.format

local M = {}

local FAMILIES = { inet = true, inet6 = true }
local ENODEV = 19

-- What /proc cannot fill, said on every list built from it.
local PROC_DEV_GAPS = "from /proc/net/dev: mtu, flags, operstate, mac, kind, master, qdisc, "
  .. "txqlen and the other link attributes are unavailable; index only for interfaces "
  .. "with an IPv6 address; rx_dropped, rx_missed_errors, rx_*_errors (length, over, crc, "
  .. "frame), tx_carrier/aborted/window/heartbeat_errors only as the sums rx_drop, rx_frame, "
  .. "tx_carrier"
local PROC_ARP_GAPS = "from /proc/net/arp: IPv4 only (no IPv6 neighbours); state only for "
  .. "PERMANENT entries (the file has no REACHABLE, STALE, DELAY ...), no router flag, "
  .. "ifindex, probes or timers, and no NOARP entries"
local PROC_ADDR_GAPS = "from /proc/net/if_inet6: IPv6 only (no IPv4 addresses); no broadcast, "
  .. "label, peer, lifetimes, or flags above 0xff"

local add_partial = engine.note

-- Runs a dump, retrying it whole while the kernel flags it interrupted.
-- Returns list or nil, message, errno.
local function dump(what, fn, ...)
  return engine.retry(what, fn, ...)
end

local function check_bool(fname, name, v)
  return options.boolean(fname, 1, name, v)
end

local function check_name(fname, name, v)
  options.no_nul(fname, 1, name, v)
  if v ~= nil and (type(v) ~= "string" or v == "") then
    options.argerror(fname, 1, format("%s must be an interface name, got %s", name,
      type(v) == "string" and "''" or type(v)))
  end
  return v
end

local function source_of(fname, v)
  return options.source(fname, 1, v)
end

-- Option parsers (run under options.validate) ----------------------------

-- The options every parser takes (netns, source), checked first; returns
-- the caller's options and q with those two set.
local function parse_common(fname, opts, allowed)
  opts = options.check(fname, opts, allowed)
  return opts, { netns = options.netns(fname, 1, opts.netns), source = source_of(fname, opts.source) }
end

local function family_of(fname, v)
  return v ~= nil and options.enum(fname, 1, "family", v, FAMILIES) or nil
end

local INTERFACE_OPTS = { netns = true, addresses = true, source = true, name = true }
local function parse_interfaces(fname, opts)
  local q
  opts, q = parse_common(fname, opts, INTERFACE_OPTS)
  q.addresses = check_bool(fname, "addresses", opts.addresses) ~= false
  q.name = check_name(fname, "name", opts.name)
  return q
end

local ADDRESS_OPTS = { netns = true, family = true, source = true, interface = true }
local function parse_addresses(fname, opts)
  local q
  opts, q = parse_common(fname, opts, ADDRESS_OPTS)
  q.family = family_of(fname, opts.family)
  q.interface = check_name(fname, "interface", opts.interface)
  return q
end

local NEIGHBOR_OPTS = { netns = true, family = true, interface = true, proxy = true, source = true }
local function parse_neighbors(fname, opts)
  local q
  opts, q = parse_common(fname, opts, NEIGHBOR_OPTS)
  q.family = family_of(fname, opts.family)
  q.interface = check_name(fname, "interface", opts.interface)
  q.proxy = check_bool(fname, "proxy", opts.proxy) == true
  return q
end

-- Helpers ------------------------------------------------------------------

local function keep(list, pred)
  local out, n = {}, 0
  for _, r in ipairs(list) do
    if pred(r) then
      n = n + 1
      out[n] = r
    end
  end
  for k, v in pairs(list) do
    if type(k) ~= "number" then out[k] = v end
  end
  return out
end

-- The /proc/net/dev sums, so that code reading rx_drop, rx_frame or
-- tx_carrier works whatever the source.
local function add_proc_sums(stats)
  if not stats then return end
  local function sum(...)
    local t = 0
    for _, k in ipairs { ... } do
      local v = stats[k]
      if v == nil then return nil end
      t = t + v
    end
    return t
  end
  stats.rx_drop = sum("rx_dropped", "rx_missed_errors")
  stats.rx_frame = sum("rx_length_errors", "rx_over_errors", "rx_crc_errors", "rx_frame_errors")
  stats.tx_carrier = sum("tx_carrier_errors", "tx_aborted_errors", "tx_window_errors",
    "tx_heartbeat_errors")
end

--- The names an interface record's stats can have, as a set: the kernel's
-- counters, the /proc/net/dev sums (rx_drop, rx_frame, tx_carrier) and bits.
function M.stat_names()
  local set = { bits = true, rx_drop = true, rx_frame = true, tx_carrier = true }
  for _, name in ipairs(core.link_stat_names()) do set[name] = true end
  return set
end

local function attach_addresses(list, addrs)
  local by_index, by_name = {}, {}
  for _, r in ipairs(list) do
    r.addresses = {}
    if r.index then by_index[r.index] = r end
    by_name[r.name] = r
  end
  for _, a in ipairs(addrs) do
    local r = (a.index and by_index[a.index]) or (a.interface and by_name[a.interface])
    if r then r.addresses[#r.addresses + 1] = a end
  end
end

local function netlink_or_proc(q, fetch, proc_fn)
  return engine.netlink_or_proc(q, { "route" }, fetch, proc_fn)
end

-- The public function of one kind, fname(opts): options checked by parse,
-- netns = "all" answered once per namespace, fetch(session, q) over
-- rtnetlink or proc_fn(q) from /proc; each keeps only the records of
-- q.interface when it is set (see interface_index and by_name).
local function list_function(fname, parse, fetch, proc_fn)
  local fn
  fn = function(opts)
    local q = options.validate(parse, fname, opts)
    if engine.is_all(q) then return engine.across("list", fn, opts) end
    return netlink_or_proc(q, fetch, proc_fn)
  end
  return fn
end

-- The index of the interface q.interface names in the session's netns, as
-- the kernel resolves a name: its name or one of its alternative names.
-- Returns the index, false when there is no such interface, or nil,
-- message, errno.
local function interface_index(session, q)
  local l, err, errno = core.links(session, q.interface)
  if not l then
    if errno == ENODEV then return false end
    return nil, err, errno
  end
  return l[1] and l[1].index or false
end

-- The records of list whose interface is named name (the /proc files know
-- no alternative names), or list itself when name is nil.
local function by_name(list, name)
  if name == nil or list == nil then return list end
  return keep(list, function(r) return r.interface == name end)
end

-- interfaces() ---------------------------------------------------------------

--- Completes interface records the C core decoded: master and peer names
-- (from the list itself, else from the session's netns) and the
-- /proc/net/dev sums. interfaces() and watch link events share it.
function M.complete_links(session, list)
  local names = {}
  for _, r in ipairs(list) do names[r.index] = r.name end
  for _, r in ipairs(list) do
    -- Names from this same dump; one interface asked by name resolves its
    -- master and peer separately.
    if r.master_index then
      r.master = names[r.master_index] or core.ifname(session, r.master_index)
    end
    if r.link_index and r.link_netnsid == nil then
      r.link = names[r.link_index] or core.ifname(session, r.link_index)
    end
    add_proc_sums(r.stats)
  end
end

--- Sets addresses = {...} on each interface record from address records.
M.attach_addresses = attach_addresses

local function interfaces_netlink(session, q)
  local list, err, errno
  if q.name then
    list, err, errno = core.links(session, q.name)
    if not list and errno == ENODEV then list = {} end
  else
    list, err, errno = dump("link", core.links, session)
  end
  if not list then return nil, err, errno end
  M.complete_links(session, list)
  if q.addresses and #list > 0 then
    local addrs
    -- one interface: only its addresses become tables
    local index = q.name and list[1] and list[1].index or nil
    addrs, err, errno = dump("address", core.addrs, session, nil, index)
    if not addrs then return nil, err, errno end
    attach_addresses(list, addrs)
    add_partial(list, addrs.partial)
  end
  return list
end

-- /proc/net/dev and /proc/net/if_inet6, read on one session.
local function read_dev(session)
  local list, skipped, errno = core.proc_dev(session)
  if not list then return nil, skipped, errno end
  local addrs, askipped, aerrno = core.proc_if_inet6(session)
  -- no if_inet6 at all (IPv6 disabled) is no error; one that failed is
  if not addrs then return list, skipped, nil, 0, aerrno ~= 2 and askipped or nil end
  return list, skipped, addrs, askipped
end

local function interfaces_proc(q)
  local list, skipped, addrs, askipped, afailed = engine.with_session(q.netns, { "dev", "if_inet6" },
    read_dev)
  if not list then return nil, skipped, addrs end
  if q.name then
    list = keep(list, function(r) return r.name == q.name end)
  end
  local index = {}
  for _, a in ipairs(addrs or {}) do index[a.interface] = a.index end
  for _, r in ipairs(list) do r.index = index[r.name] end
  add_partial(list, PROC_DEV_GAPS)
  if skipped > 0 then add_partial(list, format("%d malformed lines of /proc/net/dev skipped", skipped)) end
  if q.addresses then
    attach_addresses(list, addrs or {})
    add_partial(list, PROC_ADDR_GAPS)
    if afailed then
      add_partial(list, afailed)
    elseif not addrs then
      add_partial(list, "/proc/net/if_inet6 is missing (IPv6 disabled?)")
    elseif askipped > 0 then
      add_partial(list, format("%d malformed lines of /proc/net/if_inet6 skipped", askipped))
    end
  end
  return list
end

--- Network interfaces.
-- @tparam[opt] table opts netns, addresses (default true), source
--   ("auto" | "netlink" | "proc"), name (one interface; an alternative name
--   finds it too)
-- @treturn table list of interface records, or nil, message, errno
-- @function interfaces
M.interfaces = list_function("interfaces", parse_interfaces, interfaces_netlink, interfaces_proc)

-- addresses() ----------------------------------------------------------------

local function addresses_proc(q)
  local opened, err, oerrno = core.open(q.netns, { "if_inet6" })
  if not opened then return nil, err, oerrno end
  local list, skipped, errno = engine.run(opened, core.proc_if_inet6)
  local note = PROC_ADDR_GAPS
  if not list then
    if errno ~= 2 then return nil, skipped, errno end
    list, skipped = {}, 0
    note = note .. "; /proc/net/if_inet6 is missing (IPv6 disabled?)"
  end
  if q.family == "inet" then list = {} end
  list = by_name(list, q.interface)
  add_partial(list, note)
  if skipped > 0 then
    add_partial(list, format("%d malformed lines of /proc/net/if_inet6 skipped", skipped))
  end
  return list
end

local function addresses_netlink(session, q)
  local index, err, errno
  if q.interface then
    index, err, errno = interface_index(session, q)
    if index == nil then return nil, err, errno end
    if not index then return {} end
  end
  return dump("address", core.addrs, session, q.family, index or nil)
end

--- Interface addresses, flat: each record has interface and index.
-- @tparam[opt] table opts netns, family ("inet" | "inet6"), source,
--   interface (a name; over rtnetlink an alternative name too)
-- @treturn table list of address records, or nil, message, errno
-- @function addresses
M.addresses = list_function("addresses", parse_addresses, addresses_netlink, addresses_proc)

-- neighbors() ----------------------------------------------------------------

local function neighbors_netlink(session, q)
  local index, err, errno
  if q.interface then
    index, err, errno = interface_index(session, q)
    if index == nil then return nil, err, errno end
    if not index then return {} end
  end
  local list
  list, err, errno = dump("neighbour", core.neighs, session, q.family, q.proxy)
  if list and index then
    list = keep(list, function(r) return r.ifindex == index end)
  end
  return list, err, errno
end

-- /proc/net/arp holds the IPv4 cache and the proxy entries together.
local function neighbors_proc(q)
  local list = {}
  if q.family ~= "inet6" then
    local all, skipped, errno = engine.with_session(q.netns, { "proc:arp" }, core.proc_arp)
    if not all then return nil, skipped, errno end
    for _, r in ipairs(all) do
      if r.proxy == q.proxy and (q.interface == nil or r.interface == q.interface) then
        list[#list + 1] = r
      end
    end
    if skipped > 0 then add_partial(list, format("%d malformed lines skipped", skipped)) end
  end
  add_partial(list, PROC_ARP_GAPS)
  return list
end

--- Neighbour entries (ARP and NDP caches), or with proxy = true the proxy
-- entries.
-- @tparam[opt] table opts netns, family, interface (a name; over rtnetlink
--   an alternative name too), proxy, source ("auto"
--   default | "netlink" | "proc": /proc/net/arp, IPv4 only)
-- @treturn table list of neighbour records, or nil, message, errno
-- @function neighbors
M.neighbors = list_function("neighbors", parse_neighbors, neighbors_netlink, neighbors_proc)

return M
