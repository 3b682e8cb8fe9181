--- Text views of lnetstat: net-tools netstat 2.10 layouts, JSON and
-- Prometheus text, built from the records the data functions return.
--
-- Stable API (other modules rely on these names and signatures):
--
--   format.netstat(argv, opts) -> stdout_text, stderr_text, exit_code
--     What `netstat <argv...>` prints, without forking netstat: argv is the
--     list of arguments after the program name ({"-plnt"}, {"-r", "-n"});
--     a leading "netstat" or ".../netstat" element is skipped. stderr_text
--     holds what netstat writes to stderr (the "-p" root note, usage
--     errors), exit_code is netstat's (0, 1 data error, 3 usage error).
--     One snapshot: -c is accepted and ignored (the CLI loops).
--     opts (optional): netns (name, path or pid, as the data functions take
--     it), data = {sockets=, interfaces=, routes=, groups=, stats=}
--     (records to render instead of reading the kernel), files =
--     {services=, protocols=, hosts=, networks=} (paths, default /etc/...),
--     euid (number; default: read from /proc/self/status).
--   format.parse_args(argv) -> flags | nil, message, exit_code
--     The netstat flag grammar (getopt_long rules: bundled short options,
--     unique long-option prefixes, -A FAMILY) plus --json and --netns NAME.
--   format.socket_view(flags, opts) -> stdout_text, stderr_text | nil, msg, errno
--     The socket views (inet, -g, UNIX tables) rendered while each_socket()
--     streams the records (opts.write = function(text) streams stdout).
--   format.route_view(flags, opts) -> stdout_text, stderr_text | nil, msg, errno
--     netstat -r; with opts.write the IPv4 lines go out while each_route()
--     streams the routes.
--   format.collect(flags, opts) -> data | nil, msg, errno   what a view needs
--   format.render(flags, data, opts) -> stdout_text, stderr_text
--   format.sockets_text(list, flags, opts), format.unix_text(list, flags, opts),
--   format.interfaces_text(list, flags, opts) (-e: ifconfig's layout),
--   format.routes_text(list, flags, opts), format.routes6_text(list, flags, opts),
--   format.groups_text(list, flags, opts), format.statistics_text(stats, flags)
--     One view each, as netstat prints it (titles and headers included);
--     flags as parse_args returns them (format.view_flags(flags) applies
--     netstat's defaults for a socket view).
--   format.select_sockets / select_interfaces / select_routes / select_groups
--     (list, flags) -> the records the text view shows, in its order.
--   format.program_field(record), format.timer_field(record),
--   format.interface_flags(flag_set)   single columns ("812/sshd", ...)
--   format.json(value) -> text          one JSON document
--   format.prometheus(data, opts) -> text   counters and interfaces
--
-- Names without -n. netstat asks the resolver (getnameinfo/gethostbyaddr,
-- i.e. /etc/hosts and then DNS) and getservent. lnetstat must never block,
-- so it reads /etc/services and /etc/protocols itself (as netstat does,
-- the last entry for a port wins), and for hosts it only looks in
-- /etc/hosts (first line wins, as the files backend) and /etc/networks
-- (network addresses): an address found in neither prints numerically, where
-- netstat would have asked DNS. Loopback therefore shows as "localhost"
-- whenever /etc/hosts says so, which is what netstat shows too.
--
-- The code lives in lnetstat.format.<part> (args, names, sockets, unix,
-- interfaces, routes, groups, statistics, json, prometheus, view; util holds
-- what they share); this module is the public face and re-exports them.
-- @module lnetstat.format

local args = require "lnetstat.format.args"
local sockets = require "lnetstat.format.sockets"
local unix = require "lnetstat.format.unix"
local interfaces = require "lnetstat.format.interfaces"
local routes = require "lnetstat.format.routes"
local groups = require "lnetstat.format.groups"
local statistics = require "lnetstat.format.statistics"
local json = require "lnetstat.format.json"
local prometheus = require "lnetstat.format.prometheus"
local view = require "lnetstat.format.view"

local M = {}

M.parse_args = args.parse_args

M.program_field = sockets.program_field
M.timer_field = sockets.timer_field
M.ordered_inet = sockets.ordered_inet
M.sockets_text = sockets.sockets_text

M.ordered_unix = unix.ordered_unix
M.unix_text = unix.unix_text

M._nstrcmp = interfaces._nstrcmp
M.interface_flags = interfaces.interface_flags
M.select_interfaces = interfaces.select_interfaces
M.interfaces_text = interfaces.interfaces_text

M.select_routes = routes.select_routes
M.routes_text = routes.routes_text
M.routes6_text = routes.routes6_text

M.select_groups = groups.select_groups
M.groups_text = groups.groups_text

M.statistics_text = statistics.statistics_text

M.json = json.json
M._json_builtin = json._json_builtin

M.prometheus = prometheus.prometheus

M.view_of = view.view_of
M.collect = view.collect
M.view_flags = view.view_flags
M.select_sockets = view.select_sockets
M.socket_view = view.socket_view
M.route_view = view.route_view
M.render = view.render
M.netstat = view.netstat

return M
