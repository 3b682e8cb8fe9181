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
--   format.parse_args(argv[, opts]) -> flags | nil, message, exit_code
--     The netstat flag grammar (getopt_long rules: bundled short options,
--     unique long-option prefixes, -A FAMILY) plus --json and --netns NAME;
--     opts.exact = true wants long options in full (the command's rule).
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
--     netstat's defaults for a socket view). opts: files (name file paths,
--     read here when the flags need names) or names (a name table of
--     lnetstat.netstat.names), users ({[uid] = name}; default getpwuid).
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
-- The netstat emulation lives in lnetstat.netstat: flags (the grammar),
-- plan (flags -> which data calls, fields and view), rows (selection and
-- order), text.* (pure renderers: records, name and user tables in, text
-- out), names (name tables over the texts of the name files) and run (the
-- one module that calls the data layer, reads the name files and streams).
-- JSON and Prometheus text are lnetstat.format.json and .prometheus. This
-- module is the public face and re-exports them; the text functions below
-- read the name files they need (opts.files) through lnetstat.netstat.run.
-- @module lnetstat.format

local flags_mod = require "lnetstat.netstat.flags"
local plan = require "lnetstat.netstat.plan"
local rows = require "lnetstat.netstat.rows"
local run = require "lnetstat.netstat.run"
local inet = require "lnetstat.netstat.text.inet"
local unix = require "lnetstat.netstat.text.unix"
local interfaces = require "lnetstat.netstat.text.interfaces"
local routes = require "lnetstat.netstat.text.routes"
local groups = require "lnetstat.netstat.text.groups"
local statistics = require "lnetstat.netstat.text.statistics"
local json = require "lnetstat.format.json"
local prometheus = require "lnetstat.format.prometheus"

local type = type

local M = {}

-- A text function that is handed the name and user tables its flags need
-- (read by the runner), unless opts has them; bad arguments are left to
-- the renderer, which names them.
local function with_names(render)
  return function(list, flags, opts)
    if type(flags) == "table" and (opts == nil or type(opts) == "table") then
      local extend = type(flags.extend) == "number" and flags.extend > 0
      opts = run.text_opts({
        names = { hosts = not flags.numeric_hosts, ports = not flags.numeric_ports },
        users = extend and not flags.numeric_users,
      }, opts)
    end
    return render(list, flags, opts)
  end
end

M.parse_args = flags_mod.parse_args

M.program_field = inet.program_field
M.timer_field = inet.timer_field
M.ordered_inet = rows.ordered_inet
M.sockets_text = with_names(inet.sockets_text)

M.ordered_unix = rows.ordered_unix
M.unix_text = unix.unix_text

M._nstrcmp = rows.nstrcmp
M.interface_flags = interfaces.interface_flags
M.select_interfaces = rows.select_interfaces
M.interfaces_text = interfaces.interfaces_text

M.select_routes = rows.select_routes
M.routes_text = with_names(routes.routes_text)
M.routes6_text = with_names(routes.routes6_text)

M.select_groups = rows.select_groups
M.groups_text = with_names(groups.groups_text)

M.statistics_text = statistics.statistics_text

M.json = json.json
M._json_builtin = json._json_builtin

M.prometheus = prometheus.prometheus

M.view_of = plan.view_of
M.view_flags = plan.view_flags
M.select_sockets = run.select_sockets
M.collect = run.collect
M.socket_view = run.socket_view
M.route_view = run.route_view
M.render = run.render
M.netstat = run.netstat

return M
