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
--     euid (number; default: read from /proc/self/status), lnetstat (the
--     data module), names, users (as the text functions take them), write.
--     Arguments are checked before anything is read: an unknown option, a
--     bad netns or data that is not lists of records raise an error naming
--     netstat; a bad --netns in argv is a usage error (exit code 3).
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
--   format.json(value[, opts]) -> text  one JSON document (opts: keyorder,
--     empty, as lnetstat.encode.json takes them; see lnetstat.format.json
--     for lists and mixed tables)
--   format.prometheus(data, opts) -> text   counters and interfaces (opts:
--     prefix, fields, devices; fields and devices match in linear time)
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

local util = require "lnetstat.util"
local fmt_util = require "lnetstat.format.util"

local type, pairs, ipairs, tostring, pcall, require = type, pairs, ipairs, tostring, pcall, require
local sformat, match = string.format, string.match
local argerror, show = util.argerror, util.show

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

--- The netstat flag grammar (getopt_long rules: bundled short options, unique
-- long-option prefixes, -A FAMILY) plus --json and --netns NAME.
-- @function parse_args
-- @tparam table argv the arguments after the program name
-- @tparam[opt] table opts exact = true: long options in full
-- @treturn table flags, or nil, message, exit_code (3: a usage error)
-- @usage local flags = assert(format.parse_args { "-tln" })
-- print(flags.tcp, flags.listening, flags.numeric_hosts)
M.parse_args = flags_mod.parse_args

--- The -p column of a socket: "PID/command", "-" when unknown.
-- @function program_field
-- @tparam table r a socket record
-- @treturn string the column
-- @usage print(format.program_field(ns.listening()[1]))
M.program_field = inet.program_field
--- The -o column of an inet socket: "off (0.00/0/0)", "keepalive (7199.54/0/0)", ...
-- @function timer_field
-- @tparam table r a socket record
-- @treturn string the column
-- @usage print(format.timer_field(ns.sockets { proto = "tcp" }[1]))
M.timer_field = inet.timer_field
--- The inet sockets netstat would show for these flags, in its order.
-- @function ordered_inet
-- @tparam table list socket records
-- @tparam table flags as parse_args returns them
-- @treturn table the records shown
-- @usage local shown = format.ordered_inet(ns.sockets(), format.parse_args { "-tn" })
M.ordered_inet = rows.ordered_inet
--- The inet socket table (netstat -t/-u/-w), title and header included.
-- @function sockets_text
-- @tparam table list socket records
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts files (name file paths) or names (a name table), users ({[uid] = name})
-- @treturn string the text
-- @usage io.write(format.sockets_text(ns.sockets(), format.parse_args { "-tln" }))
M.sockets_text = with_names(inet.sockets_text)

--- The UNIX sockets netstat would show: -l listeners only, -a all, else all but listeners.
-- @function ordered_unix
-- @tparam table list socket records
-- @tparam table flags as parse_args returns them
-- @treturn table the records shown
-- @usage local shown = format.ordered_unix(ns.sockets { proto = "unix" }, format.parse_args { "-xa" })
M.ordered_unix = rows.ordered_unix
--- The UNIX domain socket table (netstat -x).
-- @function unix_text
-- @tparam table list socket records
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts files (name file paths) or names (a name table), users ({[uid] = name})
-- @treturn string the text
-- @usage io.write(format.unix_text(ns.sockets { proto = "unix" }, format.parse_args { "-xa" }))
M.unix_text = unix.unix_text

M._nstrcmp = rows.nstrcmp
--- The Flg column of netstat -i for an interface's flag set ("BLMRU").
-- @function interface_flags
-- @tparam table flag_set the interface record's flags
-- @treturn string the letters
-- @usage print(format.interface_flags(ns.interfaces { name = "lo" }[1].flags))
M.interface_flags = interfaces.interface_flags
--- The interface records netstat -i would show, in its order.
-- @function select_interfaces
-- @tparam table list interface records
-- @tparam table flags as parse_args returns them
-- @treturn table the records shown
-- @usage local shown = format.select_interfaces(ns.interfaces(), format.parse_args { "-i" })
M.select_interfaces = rows.select_interfaces
--- netstat -i (and -ie: ifconfig's layout).
-- @function interfaces_text
-- @tparam table list interface records
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts files (name file paths) or names (a name table), users ({[uid] = name})
-- @treturn string the text
-- @usage io.write(format.interfaces_text(ns.interfaces(), format.parse_args { "-i" }))
M.interfaces_text = interfaces.interfaces_text

--- The route records netstat -r would show (-6 and not -4: the IPv6 ones).
-- @function select_routes
-- @tparam table list route records
-- @tparam table flags as parse_args returns them
-- @treturn table the records shown
-- @usage local shown = format.select_routes(ns.routes(), format.parse_args { "-rn" })
M.select_routes = rows.select_routes
--- netstat -r: the IPv4 main table, as the kernel's /proc/net/route shows it.
-- @function routes_text
-- @tparam table list route records
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts files (name file paths) or names (a name table), users ({[uid] = name})
-- @treturn string the text
-- @usage io.write(format.routes_text(ns.routes { family = "inet" }, format.parse_args { "-rn" }))
M.routes_text = with_names(routes.routes_text)
--- netstat -r -6: the IPv6 routes.
-- @function routes6_text
-- @tparam table list route records
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts files (name file paths) or names (a name table), users ({[uid] = name})
-- @treturn string the text
-- @usage io.write(format.routes6_text(ns.routes { family = "inet6" }, format.parse_args { "-rn6" }))
M.routes6_text = with_names(routes.routes6_text)

--- The memberships netstat -g would show: IPv4, then IPv6.
-- @function select_groups
-- @tparam table list membership records (groups())
-- @tparam table flags as parse_args returns them
-- @treturn table the records shown
-- @usage local shown = format.select_groups(ns.groups(), format.parse_args { "-g" })
M.select_groups = rows.select_groups
--- netstat -g: multicast group memberships.
-- @function groups_text
-- @tparam table list membership records (groups())
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts files (name file paths) or names (a name table), users ({[uid] = name})
-- @treturn string the text
-- @usage io.write(format.groups_text(ns.groups(), format.parse_args { "-gn" }))
M.groups_text = with_names(groups.groups_text)

--- netstat -s, from stats().
-- @function statistics_text
-- @tparam table stats the result of stats()
-- @tparam table flags as parse_args returns them
-- @treturn string the text
-- @usage io.write(format.statistics_text(ns.stats(), format.parse_args { "-s" }))
M.statistics_text = statistics.statistics_text

--- One JSON document for a value (records as the data functions return them).
-- A list of records loses its result fields (partial, source, sources,
-- netns_errors); any other table keeps every entry (a mixed table is an
-- object with string keys; a boolean or table key is an error).
-- @function json
-- @param value a record, a list of records, or any plain value
-- @tparam[opt] table opts keyorder, empty (as lnetstat.encode.json takes them)
-- @treturn string the document
-- @usage print(format.json(ns.routes()))
M.json = json.json
M._json_builtin = json._json_builtin

--- Prometheus text exposition of counters and interfaces.
-- @function prometheus
-- @tparam table data { stats = ns.stats(), interfaces = ns.interfaces() } (either may be nil)
-- @tparam[opt] table opts prefix: "lnetstat" (default) or "node" (node_exporter's names);
--   fields, devices: regular expressions (lnetstat.format.regex)
-- @treturn string the exposition
-- @usage io.write(format.prometheus { stats = ns.stats(), interfaces = ns.interfaces() })
M.prometheus = prometheus.prometheus

--- The view flags select: "statistics", "route", "interfaces" or "sockets".
-- @function view_of
-- @tparam table flags as parse_args returns them
-- @treturn string the view
-- @usage print(format.view_of(format.parse_args { "-r" }))   --> route
M.view_of = plan.view_of
--- The flags a socket view really applies (netstat's defaults), and whether
-- it shows the inet table and the UNIX table.
-- @function view_flags
-- @tparam table flags as parse_args returns them
-- @treturn table the flags applied
-- @treturn boolean whether the inet table shows
-- @treturn boolean whether the UNIX table shows
-- @usage local f, inet, unix = format.view_flags(format.parse_args {})
M.view_flags = plan.view_flags
--- The socket records the text view would show, in its order (inet rows,
-- then UNIX rows): what --json prints.
-- @function select_sockets
-- @tparam table list socket records
-- @tparam table flags as parse_args returns them
-- @treturn table the records shown
-- @usage print(format.json(format.select_sockets(ns.sockets(), format.parse_args { "-tln" })))
M.select_sockets = run.select_sockets
--- Reads what a view needs from the kernel.
-- @function collect
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts netns, lnetstat (the data module)
-- @treturn table data {sockets=, interfaces=, routes=, groups=, stats=}, or nil, message, errno
-- @usage local flags = format.parse_args { "-rn" }
-- io.write((format.render(flags, assert(format.collect(flags)))))
M.collect = run.collect
--- The socket views (inet, -g, UNIX tables), rendered while each_socket() streams the records.
-- @function socket_view
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts netns, files, names, users, write = function(text) (streams stdout)
-- @treturn string stdout_text, and stderr_text; or nil, message, errno
-- @usage local out, err = format.socket_view(format.parse_args { "-tln" })
-- io.write(out)
M.socket_view = run.socket_view
--- netstat -r; with opts.write the IPv4 lines go out while each_route() streams the routes.
-- @function route_view
-- @tparam table flags as parse_args returns them
-- @tparam[opt] table opts netns, files, names, write = function(text)
-- @treturn string stdout_text, and stderr_text; or nil, message, errno
-- @usage format.route_view(format.parse_args { "-rn" }, { write = io.write })
M.route_view = run.route_view
--- Renders the view of flags over data gathered by collect (or given).
-- @function render
-- @tparam table flags as parse_args returns them
-- @tparam table data as collect returns it
-- @tparam[opt] table opts files, names, users, write
-- @treturn string stdout_text, and stderr_text
-- @usage local flags = format.parse_args { "-in" }
-- io.write((format.render(flags, { interfaces = ns.interfaces() })))
M.render = run.render
-- format.netstat's options, and the lists opts.data may hold (the
-- records of each, as the data functions return them).
local NETSTAT_OPTIONS = {
  netns = true, data = true, files = true, euid = true,
  lnetstat = true, names = true, users = true, write = true,
}
local DATA_LISTS = { sockets = "socket", interfaces = "interface", routes = "route", groups = "membership" }
local DATA_FIELDS = { sockets = true, interfaces = true, routes = true, groups = true, stats = true }

-- netns as the data functions take it (lnetstat.options.netns: the same
-- rules and words); loaded only when a netns is given, as that module
-- loads the C core.
local function check_netns(fname, n, value)
  require("lnetstat.options").netns(fname, n, value)
end

-- Checks format.netstat's arguments up front, with argerror (no position:
-- util.validate raises it at the caller).
local function check_netstat(argv, opts)
  if type(argv) ~= "table" then argerror("netstat", 1, "table expected, got " .. type(argv)) end
  for i = 1, #argv do
    if type(argv[i]) ~= "string" then
      argerror("netstat", 1, sformat("argv[%d] must be a string, got %s", i, type(argv[i])))
    end
  end
  if opts == nil then return end
  if type(opts) ~= "table" then argerror("netstat", 2, "table or nil expected, got " .. type(opts)) end
  local unknown = fmt_util.unknown_option(opts, NETSTAT_OPTIONS)
  if unknown then argerror("netstat", 2, unknown) end
  if opts.netns ~= nil then check_netns("netstat", 2, opts.netns) end
  local data = opts.data
  if data ~= nil then
    if type(data) ~= "table" then
      argerror("netstat", 2, "data must be a table {sockets=, interfaces=, routes=, groups=, stats=}, got "
        .. type(data))
    end
    unknown = fmt_util.unknown_option(data, DATA_FIELDS, "field")
    if unknown then argerror("netstat", 2, "data: " .. unknown) end
    for key, what in pairs(DATA_LISTS) do
      local list = data[key]
      if list ~= nil then
        if type(list) ~= "table" then
          argerror("netstat", 2, sformat("data.%s must be a list of %s records, got %s", key, what, type(list)))
        end
        for i = 1, #list do
          if type(list[i]) ~= "table" then
            argerror("netstat", 2, sformat("data.%s[%d] must be %s %s record (a table), got %s",
              key, i, what == "interface" and "an" or "a", what, type(list[i])))
          end
        end
      end
    end
    if data.stats ~= nil and type(data.stats) ~= "table" then
      argerror("netstat", 2, "data.stats must be a table (stats()), got " .. type(data.stats))
    end
  end
  local files = opts.files
  if files ~= nil then
    if type(files) ~= "table" then argerror("netstat", 2, "files must be a table, got " .. type(files)) end
    unknown = fmt_util.unknown_option(files, run.FILES, "field")
    if unknown then argerror("netstat", 2, "files: " .. unknown) end
    for kind, path in pairs(files) do
      if type(path) ~= "string" then
        argerror("netstat", 2, sformat("files.%s must be a path, got %s", kind, type(path)))
      end
    end
  end
  local euid = opts.euid
  if euid ~= nil and not (util.is_integer(euid) and euid >= 0) then
    argerror("netstat", 2, "euid must be a non-negative integer, got "
      .. (type(euid) == "number" and tostring(euid) or show(euid)))
  end
  for _, key in ipairs { "lnetstat", "names", "users" } do
    if opts[key] ~= nil and type(opts[key]) ~= "table" then
      argerror("netstat", 2, sformat("%s must be a table, got %s", key, type(opts[key])))
    end
  end
  if opts.write ~= nil and type(opts.write) ~= "function" then
    argerror("netstat", 2, "write must be a function, got " .. type(opts.write))
  end
end

--- What `netstat <argv...>` prints, without forking netstat.
-- Arguments are checked up front (an unknown option name, a bad netns or a
-- data field that is not a list of records raises an error naming
-- netstat); a bad `--netns NAME` in argv is a usage error (exit code 3),
-- as any other bad argument of netstat's.
-- @function netstat
-- @tparam table argv the arguments after the program name (strings)
-- @tparam[opt] table opts netns, data (records to render instead of reading the kernel),
--   files, euid, lnetstat (the data module), names, users, write = function(text)
-- @treturn string stdout_text
-- @treturn string stderr_text
-- @treturn integer netstat's exit code (0, 1 data error, 3 usage error)
-- @usage local out, err, code = format.netstat { "-rn" }
-- io.write(out)
function M.netstat(argv, opts)
  util.validate(check_netstat, argv, opts)
  local flags = flags_mod.parse_args(argv)
  if flags and flags.netns ~= nil and (opts == nil or opts.netns == nil) then
    local ok, err = pcall(check_netns, "netstat", 1, flags.netns)
    if not ok then
      -- the reason argerror wrapped: "bad argument #1 to 'netstat' (REASON)"
      return "", sformat("lnetstat: --netns: %s\n", match(tostring(err), "%((.*)%)$") or tostring(err)), 3
    end
  end
  return run.netstat(argv, opts)
end

return M
