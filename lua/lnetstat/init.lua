--- lnetstat: the state of a Linux host's network as plain Lua tables.
--
-- Sockets come from NETLINK_SOCK_DIAG, routes, interfaces, addresses and
-- neighbours from rtnetlink (each with /proc/net as the fallback), owners
-- from /proc/PID/fd, counters from /proc/net. Every function takes one
-- optional options table and returns a list of records, or nil, message,
-- errno on a system failure; a partial answer says why on list.partial.
--
-- This module is the public facade: the functions live in lnetstat.source.*
-- and run on one source engine (lnetstat.source.engine).
-- @module lnetstat
local core = require "lnetstat.core"

-- Each data module is loaded on the first call of one of its functions: a
-- script or a worker that only lists sockets does not compile the route,
-- link, counter and watch modules (half of what `require "lnetstat"`
-- cost). Argument errors still name the caller's line: they are raised at
-- the first function outside the library (lnetstat.util.validate).
-- The first call also puts the function itself in the module table, so
-- later calls through it skip this wrapper (a vararg call costs as much as
-- a small question's option lookup).
local M = {
  _NAME = "lnetstat",
  _VERSION = core._VERSION,
  core = core,
}

local function lazy(module, name)
  local fn
  return function(...)
    fn = fn or require(module)[name]
    M[name] = fn
    return fn(...)
  end
end

--- Sockets of every kind.
-- @function sockets
-- @tparam[opt] table opts proto, family, state, local_port, remote_port,
--   local_addr, remote_addr, process, info, netns, source ("auto" default |
--   "netlink" | "proc": /proc/net only, no netlink socket is opened), fields
-- @treturn table list of socket records (list.sources: the source of each
--   protocol; list.partial: what is missing and why), or nil, message, errno
-- @usage local ns = require "lnetstat"
-- for _, s in ipairs(assert(ns.sockets { proto = "tcp", state = "LISTEN" })) do
--   print(s.local_addr, s.local_port, s.processes and s.processes[1] and s.processes[1].program)
-- end
M.sockets = lazy("lnetstat.source.sockets", "sockets")

--- Streams sockets: calls fn(record) for each socket as the kernel hands it
-- over, without holding them all in memory (a host with 100,000 sockets
-- costs a few hundred KiB instead of 50 MiB). Same options as sockets(),
-- plus reuse (one record table refilled for each socket). An error fn
-- raises closes the sockets of the dump and goes on to the caller.
-- @function each_socket
-- @treturn integer count, table summary {sources=, partial=, messages=}; or nil, message, errno
-- @tparam[opt] table opts the options of sockets(), plus reuse
-- @tparam function fn called with each socket record
-- @usage local n = assert(ns.each_socket({ proto = "tcp" }, function(s) print(s.state) end))
M.each_socket = lazy("lnetstat.source.sockets", "each_socket")

--- Listening sockets (TCP LISTEN and unconnected datagram sockets); the
-- options of sockets() but state.
-- @function listening
-- @tparam[opt] table opts the options of sockets() but state
-- @treturn table list of socket records, or nil, message, errno
-- @usage for _, s in ipairs(assert(ns.listening { proto = "tcp" })) do print(s.local_port) end
M.listening = lazy("lnetstat.source.sockets", "listening")

--- Sockets that are neither listening nor unconnected; the options of
-- sockets() but state.
-- @function connections
-- @tparam[opt] table opts the options of sockets() but state
-- @treturn table list of socket records, or nil, message, errno
-- @usage print(#assert(ns.connections { proto = "tcp" }), "TCP connections")
M.connections = lazy("lnetstat.source.sockets", "connections")

--- A session for a long-lived caller (a server worker asking for its
-- listeners again and again): its methods sockets, listening, connections
-- and each_socket take the options of the functions of those names
-- (netns aside) and answer for the session's namespace; the list calls go
-- through one sock_diag socket kept open instead of one per call. A call
-- that fails drops the socket and the next opens another; a forked child's
-- first call opens its own. close() (or a to-be-closed variable, or the
-- collector) closes it.
-- @function session
-- @tparam[opt] table opts netns
-- @treturn table the session, or nil, message, errno
-- @usage local s = assert(ns.session())
-- print(#assert(s:listening { proto = "tcp" }), "TCP listeners")
-- s:close()
M.session = lazy("lnetstat.source.sockets", "session")

--- Closes the socket this Lua state keeps between its questions. A socket
-- question in the caller's own namespace leaves its sock_diag socket open
-- for the next one when the answer was read whole (one socket per Lua
-- state, and one descriptor of the /proc directory that tells the
-- thread's namespace; close-on-exec; lua_close closes them): a worker
-- asking again and again pays no socket and no close per question. The
-- next question reuses it only in the process that kept it (not in a
-- forked child) and while the thread is in the namespace it was opened in
-- (a thread moved by setns gets a new one); release is for a host that
-- wants no descriptor of lnetstat's left open, e.g. before it closes
-- descriptors it does not own. The next question opens another.
-- @function release
-- @treturn boolean true when a socket was open
-- @usage ns.release()
M.release = core.release

--- The routing tables.
-- @function routes
-- @tparam[opt] table opts family ("inet"|"inet6", default both), table
--   ("main" default | "local" | "default" | "all" | an id), netns, source
--   ("auto" default | "netlink" | "proc"), fields
-- @treturn table list of route records (list.source, list.partial), or nil, message, errno
-- @usage for _, r in ipairs(assert(ns.routes { family = "inet" })) do
--   print(r.dst, r.gateway or "-", r.interface, r.flags)
-- end
M.routes = lazy("lnetstat.source.routes", "routes")

--- Streams routes: calls fn(record) for each route as the kernel hands it
-- over, without holding them all (a full Internet table of a million routes
-- would take half a GiB as a list). Same options as routes(). A dump the
-- kernel flags as interrupted is not retried (the routes are already
-- handed over): summary.partial says so.
-- @function each_route
-- @treturn integer count, table summary {source=, partial=}; or nil, message, errno
-- @tparam[opt] table opts the options of routes()
-- @tparam function fn called with each route record
-- @usage local n = assert(ns.each_route({ table = "all" }, function(r) end))
M.each_route = lazy("lnetstat.source.routes", "each_route")

--- The route the kernel would use for addr, like `ip route get`.
-- @function route_get
-- @tparam string addr an IPv4 or IPv6 address
-- @tparam[opt] table opts netns, from (source address), oif (interface
--   name), mark (fwmark)
-- @treturn table one route record, or nil, message, errno (ENETUNREACH,
--   EHOSTUNREACH, ... when there is no usable route)
-- @usage local r = assert(ns.route_get "127.0.0.1")
-- print(r.interface, r.type)   --> lo local
M.route_get = lazy("lnetstat.source.routes", "route_get")

--- Network interfaces.
-- @function interfaces
-- @tparam[opt] table opts netns, addresses (default true), source
--   ("auto" | "netlink" | "proc"), name (one interface; an alternative name
--   finds it too)
-- @treturn table list of interface records, or nil, message, errno
-- @usage for _, i in ipairs(assert(ns.interfaces())) do print(i.name, i.mtu) end
M.interfaces = lazy("lnetstat.source.links", "interfaces")

--- Interface addresses, flat: each record has interface and index.
-- @function addresses
-- @tparam[opt] table opts netns, family ("inet" | "inet6"), source,
--   interface (a name)
-- @treturn table list of address records, or nil, message, errno
-- @usage for _, a in ipairs(assert(ns.addresses { family = "inet" })) do
--   print(a.interface, a.cidr)
-- end
M.addresses = lazy("lnetstat.source.links", "addresses")

--- Neighbour entries (ARP and NDP caches), or with proxy = true the proxy
-- entries.
-- @function neighbors
-- @tparam[opt] table opts netns, family, interface, proxy, source ("auto"
--   default | "netlink" | "proc": /proc/net/arp, IPv4 only)
-- @treturn table list of neighbour records, or nil, message, errno
-- @usage for _, n in ipairs(assert(ns.neighbors())) do print(n.addr, n.mac, n.state) end
M.neighbors = lazy("lnetstat.source.links", "neighbors")

--- Protocol counters of a network namespace, keyed as the kernel names
-- them (`stats().TcpExt.ListenOverflows`, `stats().sockstat.TCP.inuse`).
-- @function stats
-- @tparam[opt] table opts netns; only (a group name or a list of them)
-- @treturn table the groups (with `partial` when a file was malformed), or nil, message, errno
-- @usage print(assert(ns.stats { only = "Tcp" }).Tcp.ActiveOpens)
M.stats = lazy("lnetstat.source.counters", "stats")

--- Multicast group memberships (netstat -g), IPv4 then IPv6.
-- @function groups
-- @tparam[opt] table opts netns; family ("inet"|"inet6", default both)
-- @treturn table list of memberships, or nil, message, errno
-- @usage for _, g in ipairs(assert(ns.groups())) do print(g.interface, g.group) end
M.groups = lazy("lnetstat.source.counters", "groups")

--- The named network namespaces (the entries of /var/run/netns), sorted
-- by name: name, path, id, current, nsid.
-- @function namespaces
-- @treturn table list of namespaces, or nil, message, errno
-- @usage for _, n in ipairs(assert(ns.namespaces())) do print(n.name, n.id) end
M.namespaces = lazy("lnetstat.source.counters", "namespaces")

--- Change events from netlink multicast groups (like `ip monitor`).
-- @function watch
-- @tparam table kinds a list of "links", "addresses", "routes",
--   "neighbors", "sockets" (the options may be in the same table)
-- @tparam[opt] table opts netns, family, table (route events of one
--   table; default every table), rcvbuf (receive buffer bytes)
-- @treturn table a watch: w:events(timeout_s), w:poll(), w:fd(), w:close();
--   or nil, message, errno
-- @usage local w = assert(ns.watch { "links", "routes" })
-- for ev in w:events(5) do print(ev.kind, ev.action) end
-- w:close()
M.watch = lazy("lnetstat.source.watch", "watch")

return M
