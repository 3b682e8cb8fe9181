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
local sockets = require "lnetstat.source.sockets"

local M = {
  _NAME = "lnetstat",
  _VERSION = core._VERSION,
  core = core,
}

--- Sockets of every kind.
-- @function sockets
-- @tparam[opt] table opts proto, family, state, local_port, remote_port,
--   local_addr, remote_addr, process, info, netns, source ("auto" default |
--   "netlink" | "proc": /proc/net only, no netlink socket is opened), fields
-- @treturn table list of socket records (list.sources: the source of each
--   protocol; list.partial: what is missing and why), or nil, message, errno
M.sockets = sockets.sockets

--- Streams sockets: calls fn(record) for each socket as the kernel hands it
-- over, without holding them all in memory (a host with 100,000 sockets
-- costs a few hundred KiB instead of 50 MiB). Same options as sockets(),
-- plus reuse (one record table refilled for each socket). An error fn
-- raises closes the sockets of the dump and goes on to the caller.
-- @function each_socket
-- @treturn integer count, table summary {sources=, partial=}; or nil, message, errno
M.each_socket = sockets.each_socket

--- Listening sockets (TCP LISTEN and unconnected datagram sockets); the
-- options of sockets() but state.
-- @function listening
M.listening = sockets.listening

--- Sockets that are neither listening nor unconnected; the options of
-- sockets() but state.
-- @function connections
M.connections = sockets.connections

-- Routes, interfaces and counters live in their own modules; they share
-- the option checks and the session code with sockets().
local routes = require "lnetstat.routes"
local links = require "lnetstat.links"
local counters = require "lnetstat.counters"
M.routes, M.route_get, M.each_route = routes.routes, routes.route_get, routes.each_route
M.interfaces, M.addresses, M.neighbors = links.interfaces, links.addresses, links.neighbors
M.stats, M.groups, M.namespaces = counters.stats, counters.groups, counters.namespaces

return M
