--- `lnetstat monitor`: change events as they happen, like `ip monitor`,
-- one line per event (or with --json one JSON object per line), until
-- interrupted.
--
--     lnetstat monitor [links] [addresses] [routes] [neighbors] [sockets]
--                      [--netns NAME] [--json]
--
-- Without kinds: links, addresses, routes and neighbors (name sockets to
-- see sockets close). Exit codes: 0 done, 2 usage error or the events could
-- not be read, 130 interrupted (the launcher's code for Ctrl-C).
-- @module lnetstat.monitor
local json = require "lnetstat.encode.json"
local utf8 = require "lnetstat.encode.utf8"
local cliargs = require "lnetstat.cliargs"

local type, ipairs, pairs, tostring, pcall, error = type, ipairs, pairs, tostring, pcall, error
local concat, sort = table.concat, table.sort
local format, find = string.format, string.find

local M = {}

local KINDS = { "links", "addresses", "routes", "neighbors", "sockets" }
local DEFAULT_KINDS = { "links", "addresses", "routes", "neighbors" }

--- The command line parser (lnetstat.cliargs conventions).
function M.parser()
  local p = cliargs.parser("lnetstat monitor",
    "Print change events as the kernel reports them, until interrupted.")
  p:argument("kinds", "What to watch: links, addresses, routes, neighbors, sockets "
    .. "(default: all but sockets; sockets: the TCP and UDP sockets that close).")
    :args "*"
    :choices(KINDS)
  p:option("--netns", "Watch another network namespace (a name under /var/run/netns, "
    .. "a path or a pid; needs CAP_SYS_ADMIN). One namespace: not all.")
    :argname "NAME"
  p:flag("--json", "One JSON object per event and line.")
  return p
end

--- Parses the arguments (the words after "monitor"): a table { kinds =,
-- netns =, json = }, or nil and the exit code after printing the help (0)
-- or the usage error (2) to opts.stdout / opts.stderr. --netns all is a
-- usage error: a watch reads one namespace (a namespace named "all" is
-- reached by its path, /var/run/netns/all).
function M.parse(argv, opts)
  local args, code = cliargs.parse(M.parser(), argv, opts)
  if not args then return nil, code end
  if args.netns == "all" then
    local stderr = opts and opts.stderr or io.stderr
    stderr:write("lnetstat monitor: --netns all is not supported: one namespace per watch "
      .. "(run lnetstat monitor once per namespace)\n",
      "Try 'lnetstat monitor --help' for more information.\n")
    return nil, cliargs.USAGE
  end
  local netns, ncode = cliargs.netns_or_usage("lnetstat monitor", args.netns, opts and opts.stderr)
  if ncode then return nil, ncode end
  local o = { kinds = {}, netns = netns, json = args.json == true }
  local seen = {}
  for _, k in ipairs(args.kinds or {}) do
    if not seen[k] then
      seen[k] = true
      o.kinds[#o.kinds + 1] = k
    end
  end
  if #o.kinds == 0 then
    for _, k in ipairs(DEFAULT_KINDS) do o.kinds[#o.kinds + 1] = k end
  end
  return o
end

-- The names of a set in the order of list, then the others sorted.
local function ordered(set, list)
  local out, known = {}, {}
  for _, k in ipairs(list) do
    known[k] = true
    if set and set[k] then out[#out + 1] = k end
  end
  local rest = {}
  for k, v in pairs(set or {}) do
    if v and not known[k] then rest[#rest + 1] = tostring(k) end
  end
  sort(rest)
  for _, k in ipairs(rest) do out[#out + 1] = k end
  return out
end

local function endpoint(addr, port)
  if addr == nil then return "*" end
  if addr:find(":", 1, true) then addr = "[" .. addr .. "]" end
  return port ~= nil and (addr .. ":" .. port) or addr
end

-- Link flags in the order ip prints them (RUNNING, which ip leaves out,
-- after UP).
local LINK_FLAGS = { "LOOPBACK", "BROADCAST", "POINTOPOINT", "MULTICAST", "NOARP", "ALLMULTI",
  "PROMISC", "NOTRAILERS", "DEBUG", "MASTER", "SLAVE", "DYNAMIC", "AUTOMEDIA", "PORTSEL", "UP",
  "RUNNING", "LOWER_UP", "DORMANT", "ECHO" }

-- Address flags in the kernel's bit order, as ip prints them, by the
-- record's names; ip's own word where it differs. ip shows "dynamic"
-- where an address is not permanent, and nothing where it is: the line
-- says "permanent" there.
local ADDR_FLAGS = { "secondary", "temporary", "nodad", "optimistic", "dadfailed",
  "homeaddress", "deprecated", "tentative", "permanent", "managetempaddr", "noprefixroute",
  "mcautojoin", "stable-privacy" }
local ADDR_WORDS = { homeaddress = "home", managetempaddr = "mngtmpaddr", mcautojoin = "autojoin" }
local ADDR_RANK = {}
for i, f in ipairs(ADDR_FLAGS) do ADDR_RANK[f] = i end

-- Route flag words in the order of ip's print_rt_flags.
local ROUTE_FLAGS = { "dead", "onlink", "pervasive", "offload", "trap", "notify", "linkdown",
  "unresolved", "rt_offload", "rt_trap", "rt_offload_failed" }

-- The words of one record, by kind.
local TEXT = {}

function TEXT.link(r, words)
  words[#words + 1] = r.name
  words[#words + 1] = "index " .. tostring(r.index)
  if r.mtu then words[#words + 1] = "mtu " .. r.mtu end
  if r.operstate then words[#words + 1] = "state " .. r.operstate end
  words[#words + 1] = "<" .. concat(ordered(r.flags, LINK_FLAGS), ",") .. ">"
  if r.kind then words[#words + 1] = "kind " .. r.kind end
  if r.master then words[#words + 1] = "master " .. r.master end
  if r.mac then words[#words + 1] = "link/" .. tostring(r.type or "ether") .. " " .. r.mac end
end

-- An address and its prefix length as ip prints a route's destination or
-- source: without the length when it is the whole address, "default" for
-- a prefix of length 0 (as a destination).
local function prefix_text(cidr, default)
  if type(cidr) ~= "string" then return tostring(cidr) end
  local addr, len = cidr:match("^(.*)/(%d+)$")
  if not addr then return cidr end
  if len == "0" and default then return "default" end
  local full = addr:find(":", 1, true) and "128" or "32"
  if len == full then return addr end
  return cidr
end

function TEXT.address(r, words)
  if r.peer then
    -- ip: the local address, then the peer with the prefix length
    words[#words + 1] = r.addr or r.cidr
    words[#words + 1] = "peer " .. r.peer .. (r.prefixlen and ("/" .. r.prefixlen) or "")
  else
    words[#words + 1] = r.cidr or r.addr
  end
  if r.broadcast then words[#words + 1] = "brd " .. r.broadcast end
  if r.interface then words[#words + 1] = "dev " .. r.interface end
  if r.scope then words[#words + 1] = "scope " .. r.scope end
  local flags = r.flags
  if type(flags) ~= "table" then return end
  local dynamic = not flags.permanent
  for _, f in ipairs(ordered(flags, ADDR_FLAGS)) do
    if dynamic and ADDR_RANK[f] and ADDR_RANK[f] > ADDR_RANK.permanent then
      words[#words + 1] = "dynamic"
      dynamic = false
    end
    words[#words + 1] = ADDR_WORDS[f] or f
  end
  if dynamic then words[#words + 1] = "dynamic" end
end

local function route_flags(set, words)
  for _, f in ipairs(ordered(set, ROUTE_FLAGS)) do words[#words + 1] = f end
end

-- The words of ip's route line, but for the table: named even when it is
-- main. ip leaves out proto boot, scope universe and an IPv4 metric of 0.
function TEXT.route(r, words)
  if r.type and r.type ~= "unicast" then words[#words + 1] = r.type end
  words[#words + 1] = prefix_text(r.dst, true)
  if r.src then words[#words + 1] = "from " .. prefix_text(r.src, false) end
  if r.nhid then words[#words + 1] = "nhid " .. tostring(r.nhid) end
  if r.gateway then words[#words + 1] = "via " .. r.gateway end
  if r.interface then words[#words + 1] = "dev " .. r.interface end
  if r.table_name or r.table then words[#words + 1] = "table " .. tostring(r.table_name or r.table) end
  if r.protocol and r.protocol ~= "boot" then words[#words + 1] = "proto " .. tostring(r.protocol) end
  if r.scope and r.scope ~= "universe" then words[#words + 1] = "scope " .. tostring(r.scope) end
  if r.prefsrc then words[#words + 1] = "src " .. r.prefsrc end
  -- IPv6 routes always carry their metric; IPv4 ones only when it is set
  if r.metric and (r.metric ~= 0 or r.family == "inet6") then
    words[#words + 1] = "metric " .. r.metric
  end
  route_flags(r.kernel_flags, words)
  for _, hop in ipairs(r.nexthops or {}) do
    words[#words + 1] = "nexthop"
    if hop.gateway then words[#words + 1] = "via " .. hop.gateway end
    if hop.interface then words[#words + 1] = "dev " .. hop.interface end
    words[#words + 1] = "weight " .. tostring(hop.weight)
    route_flags(hop.kernel_flags, words)
  end
  if r.pref then words[#words + 1] = "pref " .. tostring(r.pref) end
end

function TEXT.neighbor(r, words)
  words[#words + 1] = r.addr
  if r.interface then words[#words + 1] = "dev " .. r.interface end
  if r.mac then words[#words + 1] = "lladdr " .. r.mac end
  if r.router then words[#words + 1] = "router" end
  if r.proxy then words[#words + 1] = "proxy" end
  if type(r.states) == "table" and #r.states > 0 then
    for _, st in ipairs(r.states) do words[#words + 1] = tostring(st) end
  else
    words[#words + 1] = r.state
  end
end

function TEXT.socket(r, words)
  words[#words + 1] = r.proto .. (r.family == "inet6" and "6" or "")
  words[#words + 1] = endpoint(r.local_addr, r.local_port)
  words[#words + 1] = endpoint(r.remote_addr, r.remote_port)
  words[#words + 1] = r.state
  if r.interface then words[#words + 1] = "dev " .. r.interface end
end

--- The text line of one event (without the newline).
function M.line(ev)
  if ev.kind == "overflow" then
    return format("overflow %s: %s", tostring(ev.source), tostring(ev.message))
  end
  local words = { ev.kind, ev.change and "change" or ev.action }
  local text = TEXT[ev.kind]
  if text and type(ev.record) == "table" then text(ev.record, words) end
  return concat(words, " ")
end

--- The line of one event as printed: no control byte the host chose (a link
-- named with an escape sequence) reaches the terminal; JSON escapes them
-- itself.
function M.text_line(ev)
  return utf8.printable(M.line(ev))
end

-- The JSON line of one event: its keys first in a fixed order.
local KEYORDER = { "kind", "action", "change", "source", "message", "record" }
function M.json_line(ev)
  return json.encode(ev, { keyorder = KEYORDER })
end

--- Runs the command with argv (the words after "monitor"), writing to out
-- and err (default io.stdout, io.stderr). Returns the exit code.
function M.run(argv, out, err)
  out, err = out or io.stdout, err or io.stderr
  local o, code = M.parse(argv or {}, { stdout = out, stderr = err })
  if not o then return code end
  local ns = require "lnetstat"
  local kinds = {}
  for _, k in ipairs(o.kinds) do kinds[#kinds + 1] = k end
  kinds.netns = o.netns
  local ok, w, werr = pcall(ns.watch, kinds)
  if not ok then
    err:write("lnetstat monitor: ", tostring(w), "\n")
    return cliargs.ERROR
  end
  if not w then
    err:write("lnetstat monitor: ", tostring(werr), "\n")
    return cliargs.ERROR
  end
  local render = o.json and M.json_line or M.text_line
  local fine, failure = pcall(function()
    for ev in w:events() do
      out:write(render(ev), "\n")
      out:flush()
    end
  end)
  w:close()
  if not fine then
    -- Ctrl-C goes on to the launcher (exit 130); a receive failure ends here
    if find(tostring(failure), "interrupted!", 1, true) then error(failure, 0) end
    err:write("lnetstat monitor: ", tostring(failure), "\n")
    return cliargs.ERROR
  end
  return cliargs.OK
end

--- `lnetstat monitor ...` as the CLI calls it; returns the exit code.
function M.main(argv)
  return M.run(argv)
end

return M
