--- The `lnetstat` command: net-tools netstat's flags and layouts (the
-- views come from lnetstat.format), --json and --netns, and the
-- subcommands check, tstconfig, metrics and monitor.
--
-- Exit codes (lnetstat.cliargs): 0 success, 1 a check or assertion
-- failed, 2 usage error or an error (data unreadable, a bad file, a
-- missing subcommand module), 130 interrupted. `check` and `tstconfig`
-- return their module's code.
-- @module lnetstat.cli
local flags_mod = require "lnetstat.netstat.flags"
local run = require "lnetstat.netstat.run"
local cliargs = require "lnetstat.cliargs"

local type, pcall, tostring = type, pcall, tostring
local sformat = string.format

local M = {}

M.USAGE = [[
usage: lnetstat [-vWeenNoplac] [-tuUwx] [-46] [--netns NAME] [--json]
       lnetstat -r [-nee] [-46] | -i [-a] | -s [-tuw] [-6] | -g [-n]
       lnetstat check FILE... | tstconfig FILE... | metrics [OPTIONS]
       lnetstat monitor [KIND...] [--netns NAME] [--json]
       lnetstat -h | -V

Sockets (default: connected TCP, UDP, UDP-Lite, raw and UNIX sockets):
  -t, --tcp            TCP sockets
  -u, --udp            UDP sockets
  -U, --udplite        UDP-Lite sockets
  -w, --raw            raw sockets
  -x, --unix           UNIX domain sockets
  -l, --listening      only listening sockets (servers)
  -a, --all            listening and connected sockets
  -p, --programs       PID/Program name of the owner (all of them need root)
  -e, --extend         User and Inode columns (-ee: routes with more columns)
  -o, --timers         TCP timers: off, on, keepalive, timewait (time/retries/probes)
  -n, --numeric        numeric addresses, ports and users (also --numeric-hosts,
                       --numeric-ports, --numeric-users)
  -W, --wide           do not truncate addresses
  -4, --inet           IPv4 only (also --ip, -A inet, --protocol=inet)
  -6, --inet6          IPv6 only (-A inet6)
  -A, --protocol FAMILIES
                       comma list of inet (or ip), inet6, unix
  -N, --symbolic, -d   accepted for netstat's sake; no effect
Other views:
  -r, --route          kernel IPv4 routing table (with -6: IPv6; -F, --fib:
                       the default, no effect)
  -i, --interfaces     interface table (-a: also interfaces that are down)
  -s, --statistics     protocol counters as netstat -s (-t, -u, -w select; -6: IPv6)
  -g, --groups         multicast group memberships
Options:
  -c, --continuous     repeat every second until interrupted (-cN: every N seconds)
  -v, --verbose        notes about address families this system lacks (stderr)
  --netns NAME         read another network namespace (a name under
                       /var/run/netns, a path or a pid; needs CAP_SYS_ADMIN);
                       all: this namespace and every named one, one block
                       each under "Namespace: (own)" / "Namespace: NAME"
  --json               print the records of the view as one JSON document
                       (one per refresh with -c)
  -h, --help           this text
  -V, --version        lnetstat's version
Refused as not supported (exit 2): -S/--sctp, -M/--masquerade, -C/--cache,
  -Z/--context, -2/--l2cap, -f/--rfcomm, --ax25, --ipx, --netrom, --ddp,
  --x25, --rose, --ash, --bluetooth, --econet
Subcommands:
  check FILE...        run audit check files (see lnetstat.check)
  tstconfig FILE...    run Tstconfig definition files
  metrics [--netns NAME] [--prefix lnetstat|node] [--fields REGEX]
          [--devices REGEX] [-o FILE]
                       counters and interface statistics as Prometheus text;
                       -o writes FILE atomically (textfile collector)
  monitor [links addresses routes neighbors sockets] [--netns NAME] [--json]
                       change events as the kernel reports them, one line
                       (or JSON object) each, until interrupted

Without -n, names come from /etc/services, /etc/protocols, /etc/hosts and
/etc/networks only; an address not found there is printed numerically
(netstat would also ask DNS; lnetstat never blocks on the network).
Long options are spelled out in full (no abbreviations); each subcommand
takes -h for its own options.

]] .. cliargs.EXIT_TEXT

local function version_text()
  local ok, ns = pcall(require, "lnetstat")
  local v = ok and type(ns) == "table" and ns._VERSION or "unknown"
  return sformat("lnetstat %s\n", tostring(v))
end

-- Runs `lnetstat check|tstconfig|metrics ...` through its module, which may not be
-- installed: say which one is missing rather than a Lua traceback.
local function dispatch(name, argv)
  local modname = "lnetstat." .. name
  local ok, mod = pcall(require, modname)
  if not ok or type(mod) ~= "table" or type(mod.main) ~= "function" then
    local why = ok and "it has no main(argv)" or tostring(mod):match("^[^\n]*")
    io.stderr:write(sformat("lnetstat: the '%s' subcommand needs the module %s, which is not "
      .. "available (%s)\n", name, modname, why))
    return cliargs.ERROR
  end
  local fine, code = pcall(mod.main, argv)
  if not fine then
    if tostring(code):find("interrupted!", 1, true) then return cliargs.INTERRUPTED end
    io.stderr:write(sformat("lnetstat %s: %s\n", name, tostring(code)))
    return cliargs.ERROR
  end
  return type(code) == "number" and code or 0
end

--- Runs the command; returns the exit code.
function M.main(argv)
  argv = argv or {}
  local sub = argv[1]
  if sub == "check" or sub == "tstconfig" or sub == "metrics" or sub == "monitor" then
    local rest = {}
    for i = 2, #argv do rest[#rest + 1] = argv[i] end
    return dispatch(sub, rest)
  end
  -- netstat's grammar (bundled flags, -cN, -A FAMILY) with lnetstat's
  -- conventions: long options in full, usage errors exit 2
  local flags, msg = flags_mod.parse_args(argv, { exact = true })
  if not flags then
    io.stderr:write(msg, "\n", "Try 'lnetstat --help' for more information.\n")
    return cliargs.USAGE
  end
  if flags.help then
    io.stdout:write(M.USAGE)
    return cliargs.OK
  end
  if flags.version then
    io.stdout:write(version_text())
    return cliargs.OK
  end
  -- the JSON encoders are loaded for --json only
  return run.command(flags, { json = function(v) return require("lnetstat.format").json(v) end })
end

return M
