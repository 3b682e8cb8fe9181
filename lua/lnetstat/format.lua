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
-- @module lnetstat.format

local type, ipairs, pairs, tostring, tonumber = type, ipairs, pairs, tostring, tonumber
local next, pcall, require, error = next, pcall, require, error
local setmetatable = setmetatable
local sformat, byte, sub, find, gsub, rep =
  string.format, string.byte, string.sub, string.find, string.gsub, string.rep
local concat, sort = table.concat, table.sort
local floor = math.floor
local math_type = math.type

local M = {}

-- Lua 5.1 has no integer subtype: "%d" needs a number without a fraction.
local function int(v)
  if v == nil then return 0 end
  if math_type and math_type(v) == "integer" then return v end
  return floor(v)
end

-- Writes an unsigned 64-bit decimal for a value that may have wrapped
-- negative (the kernel prints Tcp MaxConn as -1; netstat reads it with
-- strtoull, so it shows 18446744073709551615).
local function unsigned_text(v)
  if v >= 0 then return sformat("%d", int(v)) end
  local digits = "18446744073709551616"
  local minus = sformat("%d", int(-v))
  minus = rep("0", #digits - #minus) .. minus
  local out, borrow = {}, 0
  for i = #digits, 1, -1 do
    local d = byte(digits, i) - byte(minus, i) - borrow
    if d < 0 then d, borrow = d + 10, 1 else borrow = 0 end
    out[i] = d
  end
  return (gsub(concat(out), "^0+(%d)", "%1"))
end

-- Argument checks of the public functions (error at the caller's line).
local function need_table(fname, n, v, what)
  if type(v) ~= "table" then
    error(sformat("bad argument #%d to '%s' (%s expected, got %s)", n, fname, what or "table", type(v)), 3)
  end
end
local function need_opts(fname, n, v)
  if v ~= nil and type(v) ~= "table" then
    error(sformat("bad argument #%d to '%s' (table or nil expected, got %s)", n, fname, type(v)), 3)
  end
end

-- Files ---------------------------------------------------------------------

local DEFAULT_FILES = {
  services = "/etc/services", protocols = "/etc/protocols",
  hosts = "/etc/hosts", networks = "/etc/networks",
}

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

-- Addresses as comparable keys ------------------------------------------------

-- "a.b.c.d" -> integer value, or nil.
local function ipv4_value(text)
  local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then return nil end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

-- IPv6 text -> "h:h:h:h:h:h:h:h" (eight lowercase hex groups, no
-- compression), so that two spellings of one address compare equal.
local function ipv6_key(text)
  text = text:lower():gsub("%%.*$", "")
  local head, tail = text:match("^(.-)::(.*)$")
  local function groups(s)
    local out = {}
    if s == "" then return out end
    for part in (s .. ":"):gmatch("([^:]*):") do
      local v4 = ipv4_value(part)
      if v4 then
        out[#out + 1] = floor(v4 / 65536)
        out[#out + 1] = v4 % 65536
      else
        if not part:match("^%x%x?%x?%x?$") then return nil end
        out[#out + 1] = tonumber(part, 16)
      end
    end
    return out
  end
  local g
  if head then
    local h, t = groups(head), groups(tail)
    if not h or not t or #h + #t > 7 then return nil end
    g = h
    for _ = 1, 8 - #h - #t do g[#g + 1] = 0 end
    for _, v in ipairs(t) do g[#g + 1] = v end
  else
    g = groups(text)
    if not g or #g ~= 8 then return nil end
  end
  for i = 1, 8 do g[i] = sformat("%x", g[i]) end
  return concat(g, ":")
end

-- inet_network(3): "a[.b[.c[.d]]]", each part a byte, fewer parts give a
-- smaller number ("127" is 0x7f, not 127.0.0.0), as getnetbyaddr compares.
local function inet_network(text)
  local value, parts = 0, 0
  for part in text:gmatch("[^.]+") do
    local n = tonumber(part)
    if not n or n > 255 or not part:match("^%d+$") then return nil end
    value = value * 256 + n
    parts = parts + 1
  end
  if parts == 0 or parts > 4 then return nil end
  return value
end

-- Name tables: read once per view, only when a name is asked for.
local Names = {}
Names.__index = Names

local function new_names(files)
  local paths = {}
  for k, v in pairs(DEFAULT_FILES) do paths[k] = (files and files[k]) or v end
  return setmetatable({ paths = paths, host_cache = {}, net_cache = {} }, Names)
end

-- services: [proto][port] = name; the last line for a port wins, because
-- netstat prepends each getservent() entry to the list it searches.
function Names:load_services()
  local by = { tcp = {}, udp = {}, raw = {} }
  local text = read_file(self.paths.services) or ""
  for line in text:gmatch("[^\n]+") do
    local name, port, proto = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%d+)/(%a+)")
    if name and by[proto] then by[proto][tonumber(port)] = name end
  end
  -- Raw sockets show their protocol in the port column: /etc/protocols
  -- names, read after the services and so searched before them.
  text = read_file(self.paths.protocols) or ""
  for line in text:gmatch("[^\n]+") do
    local name, number = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%d+)")
    if name then by.raw[tonumber(number)] = name end
  end
  self.services = by
  return by
end

function Names:port_name(port, proto)
  local by = self.services or self:load_services()
  local t = by[proto]
  return t and t[port]
end

function Names:load_hosts()
  local v4, v6 = {}, {}
  local text = read_file(self.paths.hosts) or ""
  for line in text:gmatch("[^\n]+") do
    local addr, name = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%S+)")
    if addr then
      local n4 = ipv4_value(addr)
      if n4 then
        if v4[n4] == nil then v4[n4] = name end
      elseif addr:find(":", 1, true) then
        local k = ipv6_key(addr)
        if k and v6[k] == nil then v6[k] = name end
      end
    end
  end
  self.hosts4, self.hosts6 = v4, v6
end

function Names:load_networks()
  local nets = {}
  local text = read_file(self.paths.networks) or ""
  for line in text:gmatch("[^\n]+") do
    local name, number = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%S+)")
    local v = number and inet_network(number)
    if v and nets[v] == nil then nets[v] = name end
  end
  self.networks = nets
end

-- INET_rresolve: 0.0.0.0 is "default" (route destinations) or "0.0.0.0";
-- a host address (host_hint, or low byte set when the mask is /24 as for
-- sockets) is looked up in /etc/hosts, a network address in /etc/networks.
function Names:ipv4_name(addr, default_name, host_hint, netmask_value)
  if addr == "0.0.0.0" then return default_name or "0.0.0.0" end
  local v = ipv4_value(addr)
  if not v then return addr end
  local mask = netmask_value or 4294967040        -- 255.255.255.0
  local is_host = host_hint or (v % (4294967296 - mask)) ~= 0
  if is_host then
    if not self.hosts4 then self:load_hosts() end
    return self.hosts4[v] or addr
  end
  if not self.networks then self:load_networks() end
  return self.networks[v] or addr
end

-- INET6_rresolve: "::" is "[::]" (or "default"), else getnameinfo, which
-- for us is /etc/hosts only; IPv4-mapped addresses are not in it.
function Names:ipv6_name(addr, default_name)
  if addr == "::" then return default_name or "[::]" end
  local k = ipv6_key(addr)
  if not k then return addr end
  if not self.hosts6 then self:load_hosts() end
  return self.hosts6[k] or addr
end

-- netstat prints an IPv4-mapped IPv6 address as the IPv4 address
-- (fix_v4_address): from the first dot back to the colon before it.
local function strip_mapped(text)
  local dot = find(text, ".", 1, true)
  if not dot then return text end
  local i = dot
  while i > 1 and byte(text, i) ~= 58 do i = i - 1 end   -- 58 = ':'
  if byte(text, i) ~= 58 then return text end
  return sub(text, i + 1)
end

local function is_mapped(addr)
  return sub(addr, 1, 7) == "::ffff:" and find(addr, ".", 8, true) ~= nil
end

-- Arguments ---------------------------------------------------------------------

-- Long options: name -> { short key, takes_argument }. Families given as
-- options (--inet, --inet6, --unix, --ip) are netstat's AFTRANS_OPTS.
local LONG = {
  version = { "V" }, interfaces = { "i" }, help = { "h" }, route = { "r" },
  masquerade = { "M" }, protocol = { "A", true }, tcp = { "t" }, sctp = { "S" },
  udp = { "u" }, udplite = { "U" }, raw = { "w" }, unix = { "x" }, l2cap = { "2" },
  rfcomm = { "f" }, listening = { "l" }, all = { "a" }, timers = { "o" },
  continuous = { "c" }, extend = { "e" }, programs = { "p" }, verbose = { "v" },
  statistics = { "s" }, wide = { "W" }, numeric = { "n" }, ["numeric-hosts"] = { "!" },
  ["numeric-ports"] = { "@" }, ["numeric-users"] = { "#" }, symbolic = { "N" },
  cache = { "C" }, fib = { "F" }, groups = { "g" }, context = { "Z" },
  inet = { "af:inet" }, inet6 = { "af:inet6" }, ip = { "af:inet" },
  ax25 = { "af:ax25" }, ipx = { "af:ipx" }, netrom = { "af:netrom" }, ddp = { "af:ddp" },
  x25 = { "af:x25" }, rose = { "af:rose" }, ash = { "af:ash" }, bluetooth = { "af:bluetooth" },
  econet = { "af:econet" },
  -- lnetstat's own
  json = { "json" }, netns = { "netns", true },
}
local LONG_NAMES = {}
for k in pairs(LONG) do LONG_NAMES[#LONG_NAMES + 1] = k end
sort(LONG_NAMES)

local SHORT_WITH_ARG = { A = true }
local SHORT_KNOWN = {}
for c in ("CFMacdeghilnNoprsStuUvVWwx64Z"):gmatch(".") do SHORT_KNOWN[c] = true end

local UNSUPPORTED = {
  M = "masqueraded connections (-M)", Z = "SELinux contexts (-Z)",
  C = "the routing cache (-C)", ["2"] = "Bluetooth L2CAP sockets", f = "Bluetooth RFCOMM sockets",
}
local AF_UNSUPPORTED = { ax25 = "AX25", ipx = "IPX", netrom = "NETROM", ddp = "APPLETALK",
  x25 = "X25", rose = "ROSE", ash = "ASH", bluetooth = "BLUETOOTH", econet = "ECONET" }

local function new_flags()
  return {
    all = false, listening = false, numeric_hosts = false, numeric_ports = false,
    numeric_users = false, extend = 0, programs = false, timers = false, wide = false,
    verbose = false, continuous = false, interval = 1, tcp = false, udp = false,
    udplite = false, raw = false, sctp = false, unix = false, groups = false,
    route = false, interfaces = false, statistics = false, inet = false, inet6 = false,
    json = false, netns = nil, help = false, version = false,
  }
end

-- Applies an address family name (-A/--protocol, --inet, -4, -6).
local function set_family(flags, list)
  for af in list:gmatch("[^,]+") do
    if af == "inet" or af == "ip" then
      flags.inet = true
    elseif af == "inet6" then
      flags.inet6 = true
    elseif af == "unix" then
      flags.unix = true
    elseif AF_UNSUPPORTED[af] then
      return nil, sformat("lnetstat: address family `%s' is not supported.", af)
    else
      return nil, sformat("Unknown address family `%s'.", af)
    end
  end
  return true
end

local function apply(flags, key, value)
  if key == "a" then flags.all = true
  elseif key == "l" then flags.listening = true
  elseif key == "c" then
    flags.continuous = true
    if value then flags.interval = value end
  elseif key == "d" or key == "N" or key == "F" then
    return true                              -- debug, symbolic, FIB (the default): no effect
  elseif key == "g" then flags.groups = true
  elseif key == "e" then flags.extend = flags.extend + 1
  elseif key == "p" then flags.programs = true
  elseif key == "i" then flags.interfaces = true
  elseif key == "W" then flags.wide = true
  elseif key == "n" then flags.numeric_hosts, flags.numeric_ports, flags.numeric_users = true, true, true
  elseif key == "!" then flags.numeric_hosts = true
  elseif key == "@" then flags.numeric_ports = true
  elseif key == "#" then flags.numeric_users = true
  elseif key == "o" then flags.timers = true
  elseif key == "6" then flags.inet6 = true
  elseif key == "4" then flags.inet = true
  elseif key == "V" then flags.version = true
  elseif key == "v" then flags.verbose = true
  elseif key == "r" then flags.route = true
  elseif key == "t" then flags.tcp = true
  elseif key == "S" then flags.sctp = true
  elseif key == "u" then flags.udp = true
  elseif key == "U" then flags.udplite = true
  elseif key == "w" then flags.raw = true
  elseif key == "x" then flags.unix = true
  elseif key == "h" then flags.help = true
  elseif key == "s" then flags.statistics = true
  elseif key == "A" then return set_family(flags, value)
  elseif key == "json" then flags.json = true
  elseif key == "netns" then flags.netns = value
  elseif sub(key, 1, 3) == "af:" then return set_family(flags, sub(key, 4))
  elseif UNSUPPORTED[key] then
    return nil, sformat("lnetstat: %s: not supported", UNSUPPORTED[key])
  end
  return true
end

--- Parses netstat arguments (getopt_long rules). Returns a flags table, or
-- nil, message, exit_code (3: usage error, as netstat).
function M.parse_args(argv)
  if type(argv) ~= "table" then
    error("bad argument #1 to 'parse_args' (table expected, got " .. type(argv) .. ")", 2)
  end
  local flags = new_flags()
  local i, n = 1, #argv
  if n > 0 and type(argv[1]) == "string" and (argv[1] == "netstat" or argv[1]:match("/netstat$")) then
    i = 2
  end
  local function usage_error(msg) return nil, msg, 3 end
  while i <= n do
    local a = argv[i]
    if type(a) ~= "string" then
      error(sformat("bad argument #1 to 'parse_args' (argument %d is a %s, not a string)", i, type(a)), 2)
    end
    if a == "--" then
      break                                  -- the rest are operands: netstat ignores them
    elseif sub(a, 1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or sub(a, 3)
      local spec = LONG[name]
      if not spec then
        local matches = {}
        for _, k in ipairs(LONG_NAMES) do
          if sub(k, 1, #name) == name then matches[#matches + 1] = k end
        end
        if #matches == 0 then
          return usage_error(sformat("lnetstat: unrecognized option '%s'", a))
        elseif #matches > 1 then
          for j, k in ipairs(matches) do matches[j] = "'--" .. k .. "'" end
          return usage_error(sformat("lnetstat: option '%s' is ambiguous; possibilities: %s",
            "--" .. name, concat(matches, " ")))
        end
        name = matches[1]
        spec = LONG[name]
      end
      if spec[2] then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then
            return usage_error(sformat("lnetstat: option '--%s' requires an argument", name))
          end
        end
      elseif value ~= nil and name == "continuous" and value:match("^%d+$") then
        value = tonumber(value)
      elseif value ~= nil then
        return usage_error(sformat("lnetstat: option '--%s' doesn't allow an argument", name))
      end
      local ok, err = apply(flags, spec[1], value)
      if not ok then return nil, err, err:match("^Unknown") and 1 or 3 end
    elseif sub(a, 1, 1) == "-" and #a > 1 then
      local j = 2
      while j <= #a do
        local c = sub(a, j, j)
        if SHORT_WITH_ARG[c] then
          local value = sub(a, j + 1)
          if value == "" then
            i = i + 1
            value = argv[i]
            if value == nil then
              return usage_error(sformat("lnetstat: option requires an argument -- '%s'", c))
            end
          end
          local ok, err = apply(flags, c, value)
          if not ok then return nil, err, err:match("^Unknown") and 1 or 3 end
          break
        elseif c == "c" then
          -- lnetstat extension: -cN refreshes every N seconds.
          local digits = a:match("^%d+", j + 1)
          apply(flags, "c", digits and tonumber(digits))
          j = j + (digits and #digits or 0)
        elseif SHORT_KNOWN[c] then
          local ok, err = apply(flags, c)
          if not ok then return usage_error(err) end
        else
          return usage_error(sformat("lnetstat: invalid option -- '%s'", c))
        end
        j = j + 1
      end
    end
    -- other operands are ignored, as netstat does
    i = i + 1
  end
  local modes = (flags.interfaces and 1 or 0) + (flags.route and 1 or 0) + (flags.statistics and 1 or 0)
  if modes > 1 then
    return usage_error("lnetstat: -i, -r and -s cannot be combined")
  end
  -- netstat's defaults: a family (or -s) without a socket type means every
  -- inet type; an inet type without a family means both families.
  if (flags.inet or flags.inet6 or flags.statistics)
    and not (flags.tcp or flags.sctp or flags.udp or flags.udplite or flags.raw) then
    flags.tcp, flags.sctp, flags.udp, flags.udplite, flags.raw = true, true, true, true, true
  end
  if (flags.tcp or flags.sctp or flags.udp or flags.udplite or flags.raw or flags.groups)
    and not (flags.inet or flags.inet6) then
    flags.inet, flags.inet6 = true, true
  end
  flags.any_type = flags.tcp or flags.sctp or flags.udp or flags.udplite or flags.raw
    or flags.unix or flags.groups
  return flags
end

-- Sockets -----------------------------------------------------------------------

local TCP_STATE_NUMBER = {
  ESTABLISHED = 1, SYN_SENT = 2, SYN_RECV = 3, FIN_WAIT1 = 4, FIN_WAIT2 = 5,
  TIME_WAIT = 6, CLOSE = 7, UNCONN = 7, CLOSE_WAIT = 8, LAST_ACK = 9, LISTEN = 10,
  CLOSING = 11,
}
-- netstat's state column for UDP: established, blank when unconnected.
local UDP_STATE = { ESTABLISHED = "ESTABLISHED", CLOSE = "", UNCONN = "" }

-- The proto column: netstat's names ("udpl" is UDP-Lite) and formats (the
-- UDP lines use "%-5s ", the others "%-4s  ").
local PROTO_LABEL = {
  tcp = { inet = "tcp", inet6 = "tcp6" }, udp = { inet = "udp", inet6 = "udp6" },
  udplite = { inet = "udpl", inet6 = "udpl6" }, raw = { inet = "raw", inet6 = "raw6" },
}
-- The service name tables each protocol consults (UDP-Lite uses "udp").
local SERVICE_PROTO = { tcp = "tcp", udp = "udp", udplite = "udp", raw = "raw" }

local PROGNAME_WIDTH = 20

--- "PID/command" as netstat -p shows it: the first owner (lowest pid, as
-- netstat's /proc walk finds it first), its argv[0] rule applied by the
-- data layer (`command`), cut to PROGNAME_WIDTH - 1 bytes; "-" when unknown.
function M.program_field(r)
  need_table("program_field", 1, r, "record")
  local procs = r.processes
  local p = procs and procs[1]
  if not p then
    if r.pid then
      return sub(sformat("%d/%s", int(r.pid), r.command or r.program or ""), 1, PROGNAME_WIDTH - 1)
    end
    return "-"
  end
  return sub(sformat("%d/%s", int(p.pid), p.command or p.program or ""), 1, PROGNAME_WIDTH - 1)
end
local program_field = M.program_field

-- jiffies as clock ticks (1/100 s), as /proc prints them and netstat
-- divides them: whole hundredths, rounded down.
local function timer_seconds(ms)
  return floor((ms or 0) / 10) / 100
end

--- The -o column of an inet socket, as netstat derives it from /proc/net/*:
-- "off (0.00/0/0)", "on (0.20/3/0)", "keepalive (7199.54/0/0)",
-- "timewait (59.87/0/0)"; a zero-window probe timer shows as "unkn-4".
function M.timer_field(r)
  need_table("timer_field", 1, r, "record")
  if r.proto ~= "tcp" then return "off (0.00/0/0)" end
  local t, ms, n = r.timer, r.timer_expires_ms, int(r.retransmits)
  -- sock_diag reports the retransmissions for "on" and the keepalive or
  -- window probes otherwise; /proc prints them in the 2nd and 3rd field.
  if t == "on" then
    return sformat("on (%.2f/%d/%d)", timer_seconds(ms), n, 0)
  elseif t == "keepalive" then
    return sformat("keepalive (%.2f/%d/%d)", timer_seconds(ms), 0, n)
  elseif t == "timewait" then
    return sformat("timewait (%.2f/%d/%d)", timer_seconds(ms), 0, 0)
  elseif t == "probe" then
    return sformat("unkn-4 (%.2f/%d/%d)", timer_seconds(ms), 0, n)
  end
  return "off (0.00/0/0)"
end
local timer_field = M.timer_field

-- The row format of each protocol: netstat prints UDP with "%-5s ", the
-- others with "%-4s  ".
local LINE_FORMAT = {
  tcp = "%-4s  %6d %6d %-23s %-23s %-11s", raw = "%-4s  %6d %6d %-23s %-23s %-11s",
  udp = "%-5s %6d %6d %-23s %-23s %-11s", udplite = "%-5s %6d %6d %-23s %-23s %-11s",
}

-- The hot path (100,000 sockets) builds each line with one string.format
-- and no intermediate string: the proto column ("%-4s  " or "%-5s ")
-- ready made, ports written by %d, and the padding "%-23s" would add to
-- "host:port" taken from PADS by the length of host and port.
local PROTO_COLUMN = {}
for proto, labels in pairs(PROTO_LABEL) do
  local f = LINE_FORMAT[proto]:match("^%%%-%ds +")    -- "%-4s  " or "%-5s "
  PROTO_COLUMN[proto] = { inet = sformat(f, labels.inet), inet6 = sformat(f, labels.inet6) }
end
local PADS = {}
for len = 0, 22 do PADS[len] = rep(" ", 22 - len) end

-- "%6d " of a queue length; the small ones (nearly all) made once.
local QUEUE_COLUMN = setmetatable({}, { __index = function(t, v)
  local text = sformat("%6d ", v)
  if v >= 0 and v < 4096 then t[v] = text end
  return text
end })

-- Characters of a port number ("*" for 0).
local function digits(port)
  if port < 10 then return 1 elseif port < 100 then return 2 elseif port < 1000 then return 3
  elseif port < 10000 then return 4 end
  return 5
end

-- addr_do_one without -W: "host:port" longer than 22 characters keeps up
-- to 18 of the port and gives the host the rest. Returns host, port, length.
local function cut_endpoint(host, port)
  local pl = #port
  if pl > 18 then pl = 18 end
  host, port = sub(host, 1, 22 - pl), sub(port, 1, pl)
  return host, port, #host + #port
end

-- netstat's -l / default / -a selection of an inet socket: TCP is a
-- server when its remote port is 0, UDP and raw when the remote address is
-- all zeros.
local function inet_keep(r, flags)
  if flags.all then return true end
  local server
  if r.proto == "tcp" then
    server = (r.remote_port or 0) == 0
  else
    local ra = r.remote_addr
    server = ra == nil or ra == "0.0.0.0" or ra == "::"
  end
  if flags.listening then return server end
  return not server
end

--- The inet sockets netstat would show for these flags, in its order:
-- TCP, UDP, UDP-Lite, raw; IPv4 before IPv6 within each; the kernel's
-- order within a family.
function M.ordered_inet(list, flags)
  local want = { tcp = flags.tcp, udp = flags.udp, udplite = flags.udplite, raw = flags.raw }
  local fams = { inet = flags.inet, inet6 = flags.inet6 }
  local buckets = {}
  for _, p in ipairs { "tcp", "udp", "udplite", "raw" } do
    buckets[p] = { inet = {}, inet6 = {} }
  end
  for i = 1, #list do
    local r = list[i]
    if want[r.proto] and fams[r.family] and inet_keep(r, flags) then
      local b = buckets[r.proto][r.family]
      b[#b + 1] = r
    end
  end
  local out, n = {}, 0
  for _, p in ipairs { "tcp", "udp", "udplite", "raw" } do
    for _, fam in ipairs { "inet", "inet6" } do
      local b = buckets[p][fam]
      for i = 1, #b do
        n = n + 1
        out[n] = b[i]
      end
    end
  end
  return out
end

-- The header of the inet table.
local function inet_header(flags)
  local t = {
    "Active Internet connections ",
    flags.all and "(servers and established)" or (flags.listening and "(only servers)" or "(w/o servers)"),
    "\nProto Recv-Q Send-Q Local Address           Foreign Address         State      ",
  }
  if flags.extend > 0 then t[#t + 1] = " User       Inode     " end
  if flags.programs then t[#t + 1] = sformat(" %-20s", "PID/Program name") end
  if flags.timers then t[#t + 1] = " Timer" end
  t[#t + 1] = "\n"
  return concat(t)
end

-- What formatting an inet line needs, set up once per table.
local function inet_context(flags, opts)
  local plain = not (flags.extend > 0 or flags.programs or flags.timers)
  local eol = plain and "\n" or ""
  return {
    numeric_hosts = flags.numeric_hosts, numeric_ports = flags.numeric_ports, wide = flags.wide,
    names = not (flags.numeric_hosts and flags.numeric_ports) and (opts.names or new_names(opts.files)) or nil,
    extend = flags.extend > 0, programs = flags.programs, timers = flags.timers, plain = plain,
    users = opts.users or {}, numeric_users = flags.numeric_users, core = opts.core,
    -- the fast path of inet_line: numeric, plain, not wide (PADS then
    -- says whether "host:port" fits)
    fast = flags.numeric_hosts and flags.numeric_ports and plain and not flags.wide or false,
    tcp4_column = PROTO_COLUMN.tcp.inet,
    state_column = setmetatable({}, { __index = function(t, v)
      local text = sformat("%-11s", v) .. eol
      t[v] = text
      return text
    end }),
    fmt_text = "%s%6d %6d %s:%s%s %s:%s%s %-11s" .. eol,
  }
end

-- The user column's name of a uid: the record's, else the C core's
-- (getpwuid), looked up once per uid.
local function user_of(c, r, uid)
  if r.user then return r.user end
  local users = c.users
  local name = users[uid]
  if name == nil then
    name = false
    local core = c.core
    if core == nil then
      local ok, ns = pcall(require, "lnetstat")
      core = ok and type(ns) == "table" and ns.core or false
      c.core = core
    end
    if core and core.user_names then
      local got = core.user_names({ uid })
      name = type(got) == "table" and got[uid] or false
    end
    users[uid] = name
  end
  return name or nil
end

-- One inet line, "\n" included. The hot path (100,000 sockets): one
-- concatenation of cached columns, no table.
local function inet_line(r, c)
  local proto, family = r.proto, r.family
  if c.fast and family == "inet" and proto == "tcp" then
    -- -tn/-tan: an established IPv4 TCP socket, the bulk of a busy host
    local lhost, rhost, lp, rp = r.local_addr, r.remote_addr, r.local_port, r.remote_port
    local state = r.state
    if lhost and rhost and lp and rp and lp ~= 0 and rp ~= 0 and state ~= "LISTEN" and state ~= "UNCONN" then
      local llen = #lhost + (lp < 10 and 1 or lp < 100 and 2 or lp < 1000 and 3 or lp < 10000 and 4 or 5)
      local rlen = #rhost + (rp < 10 and 1 or rp < 100 and 2 or rp < 1000 and 3 or rp < 10000 and 4 or 5)
      local lpad, rpad = PADS[llen], PADS[rlen]
      if lpad and rpad then
        return c.tcp4_column .. QUEUE_COLUMN[r.recv_q or 0] .. QUEUE_COLUMN[r.send_q or 0] .. lhost .. ":"
          .. lp .. lpad .. " " .. rhost .. ":" .. rp .. rpad .. " " .. c.state_column[state or ""]
      end
    end
  end
  local lhost, rhost = r.local_addr or "0.0.0.0", r.remote_addr or "0.0.0.0"
  local lp, rp = r.local_port or 0, r.remote_port or 0
  if proto == "raw" and lp == 0 and r.protocol then lp = r.protocol end
  local numeric_ports, wide, names = c.numeric_ports, c.wide, c.names
  if family == "inet6" then
    local lm, rm = is_mapped(lhost), is_mapped(rhost)
    if not c.numeric_hosts then lhost, rhost = names:ipv6_name(lhost), names:ipv6_name(rhost) end
    if lm then lhost = strip_mapped(lhost) end
    if rm then rhost = strip_mapped(rhost) end
  elseif not c.numeric_hosts then
    lhost, rhost = names:ipv4_name(lhost), names:ipv4_name(rhost)
  end
  local state = r.state
  if proto == "tcp" then
    if state == "UNCONN" then state = "CLOSE" end
  elseif proto == "raw" then
    state = tostring(TCP_STATE_NUMBER[state] or 7)
  else
    state = UDP_STATE[state] or "UNKNOWN"
  end
  -- /proc shows a TCP listener's Send-Q as 0 (sock_diag: the backlog)
  local sendq = (state == "LISTEN" and proto == "tcp") and 0 or r.send_q or 0
  local label = PROTO_COLUMN[proto][family]
  local line
  local llen, rlen = #lhost + digits(lp), #rhost + digits(rp)
  if numeric_ports and lp ~= 0 and rp ~= 0 and (wide or (llen <= 22 and rlen <= 22)) then
    -- one concatenation: cheaper than string.format's conversions here
    line = label .. QUEUE_COLUMN[r.recv_q or 0] .. QUEUE_COLUMN[sendq] .. lhost .. ":" .. lp
      .. (PADS[llen] or "") .. " " .. rhost .. ":" .. rp .. (PADS[rlen] or "") .. " "
      .. c.state_column[state or ""]
  else
    local lport, rport
    if numeric_ports then
      lport, rport = lp == 0 and "*" or tostring(lp), rp == 0 and "*" or tostring(rp)
    else
      local sproto = SERVICE_PROTO[proto]
      lport = lp == 0 and "*" or names:port_name(lp, sproto) or tostring(lp)
      rport = rp == 0 and "*" or names:port_name(rp, sproto) or tostring(rp)
    end
    llen, rlen = #lhost + #lport, #rhost + #rport
    if not wide and llen > 22 then lhost, lport, llen = cut_endpoint(lhost, lport) end
    if not wide and rlen > 22 then rhost, rport, rlen = cut_endpoint(rhost, rport) end
    line = sformat(c.fmt_text, label, r.recv_q or 0, sendq, lhost, lport, PADS[llen] or "",
      rhost, rport, PADS[rlen] or "", state or "")
  end
  if c.plain then return line end
  local extra = { line }
  if c.extend then
    local uid = int(r.uid)
    local user = not c.numeric_users and user_of(c, r, uid) or nil
    extra[#extra + 1] = user and sformat(" %-10s ", user) or sformat(" %-10d ", uid)
    extra[#extra + 1] = sformat("%-10d", int(r.inode))
  end
  if c.programs then extra[#extra + 1] = sformat(" %-20s", program_field(r)) end
  if c.timers then extra[#extra + 1] = " " .. timer_field(r) end
  extra[#extra + 1] = "\n"
  return concat(extra)
end

--- The inet socket lines (titles and header included) for a list of
-- records, selected, ordered and formatted as netstat does.
-- opts: files (name files, see the top), users = {[uid] = name} for -e,
-- header = false to leave out the title.
function M.sockets_text(list, flags, opts)
  need_table("sockets_text", 1, list, "list")
  need_table("sockets_text", 2, flags)
  need_opts("sockets_text", 3, opts)
  opts = opts or {}
  local out, n = {}, 0
  if opts.header ~= false then
    n = 1
    out[1] = inet_header(flags)
  end
  local c = inet_context(flags, opts)
  local rows = M.ordered_inet(list, flags)
  for i = 1, #rows do
    n = n + 1
    out[n] = inet_line(rows[i], c)
  end
  return concat(out, "", 1, n)
end

-- UNIX sockets ---------------------------------------------------------------------

local UNIX_TYPE = { stream = "STREAM", dgram = "DGRAM", seqpacket = "SEQPACKET", raw = "RAW",
  rdm = "RDM" }

-- The kernel's sk_refcnt, which /proc/net/unix prints and sock_diag does not:
-- one for the socket, one for the hash table, one for each socket that has
-- this one as its peer. A client whose connection is not accepted yet is
-- also held by that embryo socket, which sock_diag does not list (its peer
-- shows as inode 0, like the peer of a socket whose other end is closed):
-- as many such clients as the listeners have pending connections count
-- one more. References held by descriptors in flight are not visible.
local function unix_refcounts(list)
  local refs, pending = {}, 0
  for i = 1, #list do
    local r = list[i]
    if r.proto == "unix" then
      if r.peer_inode and r.peer_inode ~= 0 then
        refs[r.peer_inode] = (refs[r.peer_inode] or 0) + 1
      elseif r.state == "LISTEN" then
        pending = pending + (r.recv_q or 0)
      end
    end
  end
  for i = 1, #list do
    if pending <= 0 then break end
    local r = list[i]
    if r.proto == "unix" and r.peer_inode == 0 and r.state == "ESTABLISHED" and (r.inode or 0) ~= 0 then
      refs[r.inode] = (refs[r.inode] or 0) + 1
      pending = pending - 1
    end
  end
  return refs
end

-- /proc/net/unix state: CONNECTED or unconnected ("" or LISTENING) for a
-- socket with a file, CONNECTING or DISCONNECTING for one without.
local function unix_state(r)
  local established = r.state == "ESTABLISHED"
  if (r.inode or 0) == 0 then
    return established and "CONNECTING" or "DISCONNECTING"
  end
  if established then return "CONNECTED" end
  if r.state == "LISTEN" then return "LISTENING" end
  return ""
end

--- The UNIX sockets netstat would show: -l listeners only, -a all, else
-- all but listeners; the kernel's order.
function M.ordered_unix(list, flags)
  local out = {}
  for i = 1, #list do
    local r = list[i]
    if r.proto == "unix" then
      local listening = r.state == "LISTEN"
      if flags.all or (flags.listening and listening) or (not flags.listening and not listening) then
        out[#out + 1] = r
      end
    end
  end
  return out
end

--- The UNIX socket table (title and header included).
function M.unix_text(list, flags, opts)
  need_table("unix_text", 1, list, "list")
  need_table("unix_text", 2, flags)
  need_opts("unix_text", 3, opts)
  opts = opts or {}
  local out, n = {}, 0
  if opts.header ~= false then
    n = 1
    out[1] = concat {
      "Active UNIX domain sockets ",
      flags.all and "(servers and established)" or (flags.listening and "(only servers)" or "(w/o servers)"),
      "\nProto RefCnt Flags       Type       State         I-Node  ",
      flags.programs and sformat(" %-20s", "PID/Program name") or "",
      " Path\n",
    }
  end
  local refs = unix_refcounts(list)
  local programs = flags.programs
  local rows = M.ordered_unix(list, flags)
  for i = 1, #rows do
    local r = rows[i]
    local listening = r.state == "LISTEN"
    local inode = int(r.inode)
    local refcnt = 2 + (inode ~= 0 and refs[inode] or 0)
    if inode == 0 and r.state == "ESTABLISHED" then refcnt = refcnt + 1 end
    -- netstat reads the path with sscanf("%s"): up to the first blank
    local path = r.path and r.path:match("^%S*") or ""
    local line = sformat("%-5s %-6d %-11s %-10s %-13s %-8d", "unix", refcnt,
      listening and "[ ACC ]" or "[ ]", UNIX_TYPE[r.type] or "UNKNOWN", unix_state(r), inode)
    if programs then line = line .. sformat(" %-20s", program_field(r)) end
    n = n + 1
    out[n] = line .. " " .. path .. "\n"
  end
  return concat(out)
end

-- Interfaces --------------------------------------------------------------------

-- nstrcmp (net-tools lib/nstrcmp.c): names compare by their non-digit
-- prefix (only as far as the shorter one), then by the number that ends
-- them, then by the ":N" alias number. Returns <0, 0 or >0.
local function nstrcmp(a, b)
  local abase, aalias = a:match("^(.*):(%d+)$")
  local bbase, balias = b:match("^(.*):(%d+)$")
  abase, bbase = abase or a, bbase or b
  local aprefix, adigits = abase:match("^(.-)(%d*)$")
  local bprefix, bdigits = bbase:match("^(.-)(%d*)$")
  local len = #aprefix < #bprefix and #aprefix or #bprefix
  local ah, bh = sub(abase, 1, len), sub(bbase, 1, len)
  if ah ~= bh then return ah < bh and -1 or 1 end
  if #aprefix ~= #bprefix then return #aprefix > #bprefix and 1 or -1 end
  local av, bv = tonumber(adigits) or 0, tonumber(bdigits) or 0
  if av ~= bv then return av < bv and -1 or 1 end
  av, bv = tonumber(aalias) or -1, tonumber(balias) or -1
  if av ~= bv then return av < bv and -1 or 1 end
  return 0
end
M._nstrcmp = nstrcmp

-- netstat's interface list: names added one by one, each inserted after
-- the last entry that sorts before it (if_cache_add).
local function add_sorted(entries, name)
  local i = #entries
  while i >= 1 do
    local c = nstrcmp(entries[i].name, name)
    if c == 0 then return entries[i], false end
    if c < 0 then break end
    i = i - 1
  end
  local e = { name = name }
  table.insert(entries, i + 1, e)
  return e, true
end

-- Flag letters of ife_print_short, from the 16 bits SIOCGIFFLAGS returns.
local IF_LETTERS = {
  { "ALLMULTI", "A" }, { "BROADCAST", "B" }, { "DEBUG", "D" }, { "LOOPBACK", "L" },
  { "MULTICAST", "M" }, { "DYNAMIC", "d" }, { "PROMISC", "P" }, { "NOTRAILERS", "N" },
  { "NOARP", "O" }, { "POINTOPOINT", "P" }, { "SLAVE", "s" }, { "MASTER", "m" },
  { "RUNNING", "R" }, { "UP", "U" },
}
local IF_SHORT_FLAGS = { UP = true, BROADCAST = true, DEBUG = true, LOOPBACK = true,
  POINTOPOINT = true, NOTRAILERS = true, RUNNING = true, NOARP = true, PROMISC = true,
  ALLMULTI = true, MASTER = true, SLAVE = true, MULTICAST = true, PORTSEL = true,
  AUTOMEDIA = true, DYNAMIC = true }

local function if_letters(flags)
  flags = flags or {}
  local any = false
  for k, v in pairs(flags) do
    if v and IF_SHORT_FLAGS[k] then any = true break end
  end
  if not any then return "[NO FLAGS]" end
  local t = {}
  for _, f in ipairs(IF_LETTERS) do
    if flags[f[1]] then t[#t + 1] = f[2] end
  end
  return concat(t)
end
M.interface_flags = if_letters

--- The netstat -i table. opts.title = false leaves out "Kernel Interface
-- table" (netstat -c prints it once).
local long_block -- ifconfig's layout for netstat -ie, defined below

-- netstat's interface rows: sorted as it sorts them, IPv4 address labels
-- (eth0:1) as rows of their own (the device's flags and MTU, no
-- statistics), only interfaces that are up unless -a.
local function interface_rows(list, flags)
  local entries = {}
  for _, r in ipairs(list) do
    local e = add_sorted(entries, r.name)
    e.rec, e.stats = r, r.stats
  end
  for _, r in ipairs(list) do
    for _, a in ipairs(r.addresses or {}) do
      if a.family == "inet" and a.label and a.label ~= r.name then
        local e, new = add_sorted(entries, a.label)
        if new then e.rec = r end
      end
    end
  end
  local rows = {}
  for _, e in ipairs(entries) do
    if flags.all or (e.rec.flags or {}).UP then rows[#rows + 1] = e end
  end
  return rows
end

--- The interface records netstat -i would show, in its order.
function M.select_interfaces(list, flags)
  need_table("select_interfaces", 1, list, "list")
  need_table("select_interfaces", 2, flags)
  local out = {}
  for _, e in ipairs(interface_rows(list, flags)) do
    if e.stats then out[#out + 1] = e.rec end
  end
  return out
end

--- The netstat -i table. opts.title = false leaves out "Kernel Interface
-- table" (netstat -c prints it once).
function M.interfaces_text(list, flags, opts)
  need_table("interfaces_text", 1, list, "list")
  need_table("interfaces_text", 2, flags)
  need_opts("interfaces_text", 3, opts)
  opts = opts or {}
  local out = {}
  if opts.title ~= false then out[1] = "Kernel Interface table\n" end
  if flags.extend > 0 then
    -- -e: ifconfig's long layout
    for _, e in ipairs(interface_rows(list, flags)) do out[#out + 1] = long_block(e.name, e.rec, e.stats) end
    return concat(out)
  end
  out[#out + 1] = "Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n"
  for _, e in ipairs(interface_rows(list, flags)) do
    local r, s = e.rec, e.stats
    local body
    if s then
      local rx_drop = s.rx_drop or (int(s.rx_dropped) + int(s.rx_missed_errors))
      body = sformat("%8d %6d %6d %-6d %8d %6d %6d %6d ",
        int(s.rx_packets), int(s.rx_errors), int(rx_drop), int(s.rx_fifo_errors),
        int(s.tx_packets), int(s.tx_errors), int(s.tx_dropped), int(s.tx_fifo_errors))
    else
      body = sformat("%-56s", "     - no statistics available -")
    end
    out[#out + 1] = sformat("%-15.15s %5d ", e.name, int(r.mtu)) .. body .. if_letters(r.flags) .. "\n"
  end
  return concat(out)
end

local function prefix_mask(len)
  local v = 0
  for i = 1, 32 do
    v = v * 2
    if i <= len then v = v + 1 end
  end
  return v
end

local function dotted(v)
  return sformat("%d.%d.%d.%d", floor(v / 16777216) % 256, floor(v / 65536) % 256,
    floor(v / 256) % 256, v % 256)
end

-- ife_print_long (netstat -ie, ifconfig's layout) ---------------------------------

local IF_LONG_NAMES = { "UP", "BROADCAST", "DEBUG", "LOOPBACK", "POINTOPOINT", "NOTRAILERS",
  "RUNNING", "NOARP", "PROMISC", "ALLMULTI", "SLAVE", "MASTER", "MULTICAST", "DYNAMIC" }
local IF_BIT = { UP = 1, BROADCAST = 2, DEBUG = 4, LOOPBACK = 8, POINTOPOINT = 16, NOTRAILERS = 32,
  RUNNING = 64, NOARP = 128, PROMISC = 256, ALLMULTI = 512, MASTER = 1024, SLAVE = 2048,
  MULTICAST = 4096, PORTSEL = 8192, AUTOMEDIA = 16384, DYNAMIC = 32768 }
local SCOPE_BITS = { global = 0, host = 16, link = 32, site = 64 }

-- "flags=4163<UP,BROADCAST,RUNNING,MULTICAST>", from SIOCGIFFLAGS' short.
local function long_flags(set)
  set = set or {}
  local v = 0
  for name, bit in pairs(IF_BIT) do
    if set[name] then v = v + bit end
  end
  if v >= 32768 then v = v - 65536 end               -- ifr_flags is a short
  local t = {}
  for _, name in ipairs(IF_LONG_NAMES) do
    if set[name] then t[#t + 1] = name end
  end
  if #t == 0 then return sformat("flags=%d<", v) end -- (sic: net-tools drops the ">")
  return sformat("flags=%d<%s>", v, concat(t, ","))
end

-- "1.1 KiB": ifconfig's tenths, computed in integers as it does.
local BYTE_UNITS = {
  { 1152921504606846976, "EiB" }, { 1125899906842624, "PiB" }, { 1099511627776, "TiB" },
  { 1073741824, "GiB" }, { 1048576, "MiB" }, { 1024, "KiB" },
}
local function human_bytes(v)
  local tenths, unit = v * 10, "B"
  for i, u in ipairs(BYTE_UNITS) do
    if v > u[1] then
      tenths = i == 1 and floor(v / 115292150460684697) or floor(v * 10 / u[1])
      unit = u[2]
      break
    end
  end
  return sformat("%d.%d %s", floor(tenths / 10), tenths % 10, unit)
end

local function mask_of(len)
  return dotted(prefix_mask(len or 32))
end

function long_block(name, r, stats)
  local set = r.flags or {}
  local out = { sformat("%s: %s  mtu %d\n", name, long_flags(set), int(r.mtu)) }
  local addrs = r.addresses or {}
  for _, a in ipairs(addrs) do
    if a.family == "inet" and (a.label or r.name) == name then
      local line = sformat("        inet %s  netmask %s", a.addr or a["local"] or "0.0.0.0", mask_of(a.prefixlen))
      if set.BROADCAST then line = line .. "  broadcast " .. (a.broadcast or "0.0.0.0") end
      if set.POINTOPOINT then line = line .. "  destination " .. (a.peer or a.addr or "0.0.0.0") end
      out[#out + 1] = line .. "\n"
      break
    end
  end
  if name == r.name then
    for _, a in ipairs(addrs) do
      if a.family == "inet6" then
        local scope = SCOPE_BITS[a.scope] or tonumber(a.scope) or 0
        local words = scope == 0 and "global" or scope == 16 and "host" or scope == 32 and "link"
          or scope == 64 and "site" or ""
        out[#out + 1] = sformat("        inet6 %s  prefixlen %d  scopeid 0x%x%s\n", a.addr,
          int(a.prefixlen), scope, words ~= "" and ("<" .. words .. ">") or "")
      end
    end
  end
  local hw
  if r.type == "loopback" then
    hw = "        loop"
  elseif r.type == "ether" or (r.mac and #r.mac == 17) then
    hw = "        ether " .. (r.mac or "00:00:00:00:00:00")
  else
    hw = "        unspec " .. rep("00-", 15) .. "00"
  end
  out[#out + 1] = sformat("%s  txqueuelen %d  (%s)\n", hw, int(r.txqlen),
    r.type == "loopback" and "Local Loopback" or (hw:find("ether", 1, true) and "Ethernet" or "UNSPEC"))
  if stats then
    local s = stats
    local rx_drop = s.rx_drop or (int(s.rx_dropped) + int(s.rx_missed_errors))
    local rx_frame = s.rx_frame or (int(s.rx_length_errors) + int(s.rx_over_errors)
      + int(s.rx_crc_errors) + int(s.rx_frame_errors))
    local tx_carrier = s.tx_carrier or (int(s.tx_carrier_errors) + int(s.tx_aborted_errors)
      + int(s.tx_window_errors) + int(s.tx_heartbeat_errors))
    out[#out + 1] = sformat("        RX packets %d  bytes %d (%s)\n", int(s.rx_packets), int(s.rx_bytes),
      human_bytes(int(s.rx_bytes)))
    out[#out + 1] = sformat("        RX errors %d  dropped %d  overruns %d  frame %d\n", int(s.rx_errors),
      int(rx_drop), int(s.rx_fifo_errors), int(rx_frame))
    out[#out + 1] = sformat("        TX packets %d  bytes %d (%s)\n", int(s.tx_packets), int(s.tx_bytes),
      human_bytes(int(s.tx_bytes)))
    out[#out + 1] = sformat("        TX errors %d  dropped %d overruns %d  carrier %d  collisions %d\n",
      int(s.tx_errors), int(s.tx_dropped), int(s.tx_fifo_errors), int(tx_carrier), int(s.collisions))
  end
  out[#out + 1] = "\n"
  return concat(out)
end

-- Routes ----------------------------------------------------------------------------


-- Route types /proc/net/route leaves out, and the ones it marks RTF_REJECT.
local ROUTE_HIDDEN = { broadcast = true, multicast = true, ["local"] = true, anycast = true }
local ROUTE_REJECT = { unreachable = true, prohibit = true }

-- rprint_fib's line formats for its three layouts (1: -e, 2: default,
-- 3: -ee); a reject route has no gateway, MSS or interface.
local ROUTE_FORMAT = {
  "%-15s %-15s %-15s %-5s %-6d %-2d %7d %s",
  "%-15s %-15s %-15s %-5s %5d %-5d %6d %s",
  "%-15s %-15s %-15s %-5s %-6d %-3d %6d %-6.6s   %-5d %-6d %d",
}
-- (string.format ignores the extra metric and use arguments of layout 2)
local REJECT_FORMAT = {
  "%-15s -               %-15s %-5s %-6d -  %7d -",
  "%-15s -               %-15s %-5s     - -          - -",
  "%-15s -               %-15s %-5s %-6d -  %7d -        -     -      -",
}

--- The route records netstat -r would show: IPv4 routes of the main
-- table but broadcast, multicast, local and anycast ones (as
-- /proc/net/route); with -6 (and not -4) the IPv6 routes of every table.
function M.select_routes(list, flags)
  need_table("select_routes", 1, list, "list")
  need_table("select_routes", 2, flags)
  local v6 = flags.inet6 and not flags.inet
  local out = {}
  for _, r in ipairs(list) do
    if v6 then
      if r.family == "inet6" and not r.cloned and r.type ~= "anycast" then out[#out + 1] = r end
    elseif (r.family == nil or r.family == "inet") and (r.table == nil or r.table == 254)
      and not ROUTE_HIDDEN[r.type] then
      out[#out + 1] = r
    end
  end
  return out
end

--- The netstat -r table (IPv4, main table), as rprint_fib prints
-- /proc/net/route. The letters come from the type, gateway and prefix, as
-- the kernel builds them for that file.
function M.routes_text(list, flags, opts)
  need_table("routes_text", 1, list, "list")
  need_table("routes_text", 2, flags)
  need_opts("routes_text", 3, opts)
  opts = opts or {}
  local names = (not flags.numeric_hosts) and (opts.names or new_names(opts.files)) or nil
  -- -e swaps netstat's two layouts; -ee shows both
  local ext = flags.extend == 0 and 2 or (flags.extend == 1 and 1 or 3)
  local out = { "Kernel IP routing table\n" }
  if ext == 1 then
    out[2] = "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
  elseif ext == 2 then
    out[2] = "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"
  else
    out[2] = "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt\n"
  end
  for _, r in ipairs(M.select_routes(list, flags)) do
    local addr, len = (r.dst or "0.0.0.0/0"):match("^([^/]+)/?(%d*)$")
    len = tonumber(len) or 32
    local mask = prefix_mask(len)
    local nh = r.nexthops and r.nexthops[1]
    local gateway = r.gateway or (nh and nh.gateway)
    local iface = r.interface or (nh and nh.interface) or "*"
    local reject = ROUTE_REJECT[r.type]
    local letters = "U"
    if gateway and gateway ~= "0.0.0.0" then letters = letters .. "G" end
    if reject then letters = "!" end
    if len == 32 then letters = letters .. "H" end
    local dst_text, gw_text
    if names then
      dst_text = names:ipv4_name(addr, "default", len == 32, mask)
      gw_text = names:ipv4_name(gateway or "0.0.0.0", nil, true)
    else
      dst_text, gw_text = addr, gateway or "0.0.0.0"
    end
    dst_text, gw_text = sub(dst_text, 1, 15), sub(gw_text, 1, 15)
    local mask_text = dotted(mask)
    local m = r.metrics or {}
    local mss = m.advmss and (m.advmss + 40) or 0
    local window, irtt = int(m.window), int(m.rtt)
    local metric = int(r.metric)
    local line
    if reject then
      line = sformat(REJECT_FORMAT[ext], dst_text, mask_text, letters, metric, 0)
    elseif ext == 1 then
      line = sformat(ROUTE_FORMAT[1], dst_text, gw_text, mask_text, letters, metric, 0, 0, iface)
    elseif ext == 2 then
      line = sformat(ROUTE_FORMAT[2], dst_text, gw_text, mask_text, letters, mss, window, irtt, iface)
    else
      line = sformat(ROUTE_FORMAT[3], dst_text, gw_text, mask_text, letters, metric, 0, 0, iface,
        mss, window, irtt)
    end
    out[#out + 1] = line .. "\n"
  end
  return concat(out)
end

-- Multicast groups -------------------------------------------------------------------

--- The memberships netstat -g would show: IPv4, then IPv6 (-4 and -6
-- select), each in the kernel's order.
function M.select_groups(list, flags)
  need_table("select_groups", 1, list, "list")
  need_table("select_groups", 2, flags)
  local out = {}
  for _, fam in ipairs { "inet", "inet6" } do
    if (fam == "inet" and flags.inet ~= false) or (fam == "inet6" and flags.inet6 ~= false) then
      for _, g in ipairs(list) do
        if g.family == fam then out[#out + 1] = g end
      end
    end
  end
  return out
end

--- The netstat -g table: IPv4 memberships, then IPv6.
function M.groups_text(list, flags, opts)
  need_table("groups_text", 1, list, "list")
  need_table("groups_text", 2, flags)
  need_opts("groups_text", 3, opts)
  opts = opts or {}
  local names = (not flags.numeric_hosts) and (opts.names or new_names(opts.files)) or nil
  local out = { "IPv6/IPv4 Group Memberships\nInterface       RefCnt Group\n",
    "--------------- ------ ---------------------\n" }
  for _, g in ipairs(M.select_groups(list, flags)) do
    local iface, group = g.interface or "", g.group or ""
    if g.family == "inet" then
      -- netstat reads /proc/net/igmp's device column as 10 characters
      iface = sub(iface, 1, 10)
      if names then group = names:ipv4_name(group) end
    elseif names then
      group = names:ipv6_name(group)
      if is_mapped(g.group) then group = strip_mapped(group) end
    end
    out[#out + 1] = sformat("%-15s %-6d %s\n", iface, int(g.users), group)
  end
  return concat(out)
end

-- Statistics (-s) -------------------------------------------------------------------

-- netstat's statistics.c, reproduced: its tables in their source order
-- (some are not sorted the way strcmp sorts, so its bsearch misses a few
-- names, which then print as "Name: value" like unknown ones: "Forwarding:
-- 2" and "TCPTimeouts: 5" are real netstat output), the print state whose
-- indent carries over from one line to the next, and the histogram titles.
local NUMBER, OPT_NUMBER, FORWARD, ICMP_IN, ICMP_OUT, RTO_ALG = 0, 1, 2, 3, 4, 5
local INDENT = { [NUMBER] = 4, [OPT_NUMBER] = 4, [FORWARD] = 4, [ICMP_IN] = 8, [ICMP_OUT] = 8 }
local HISTOGRAM_TITLE = { [ICMP_IN] = "ICMP input histogram:", [ICMP_OUT] = "ICMP output histogram:" }

-- { name, text ("%s" for the value; "" = never printed), type, static?, titled? }
local function entries(spec)
  local t = {}
  for i = 1, #spec, 3 do
    local kind = spec[i + 2]
    t[#t + 1] = {
      name = spec[i], text = spec[i + 1],
      type = kind == "N" and NUMBER or kind == "O" and OPT_NUMBER or kind == "F" and FORWARD
        or (kind == "II" and ICMP_IN) or (kind == "IO" and ICMP_OUT) or RTO_ALG,
      static = kind == "F" or kind == "R" or spec[i] == "DefaultTTL",
      titled = kind == "II" or kind == "IO",
    }
  end
  return t
end

local IP_TAB = entries {
  "DefaultTTL", "Default TTL is %s", "N", "Forwarding", "Forwarding is %s", "F",
  "ForwDatagrams", "%s forwarded", "N", "FragCreates", "%s fragments created", "O",
  "FragFails", "%s fragments failed", "O", "FragOKs", "%s fragments received ok", "O",
  "InAddrErrors", "%s with invalid addresses", "O", "InDelivers", "%s incoming packets delivered", "N",
  "InDiscards", "%s incoming packets discarded", "N", "InHdrErrors", "%s with invalid headers", "O",
  "InReceives", "%s total packets received", "N", "InUnknownProtos", "%s with unknown protocol", "O",
  "OutDiscards", "%s outgoing packets dropped", "O",
  "OutNoRoutes", "%s dropped because of missing route", "O", "OutRequests", "%s requests sent out", "N",
  "ReasmFails", "%s packet reassemblies failed", "O", "ReasmOKs", "%s packets reassembled ok", "O",
  "ReasmReqds", "%s reassemblies required", "O",
  "ReasmTimeout", "%s fragments dropped after timeout", "O",
}

local IP6_TAB = entries {
  "Ip6FragCreates", "%s fragments created", "O", "Ip6FragFails", "%s fragments failed", "O",
  "Ip6FragOKs", "%s fragments received ok", "O", "Ip6InAddrErrors", "%s with invalid addresses", "O",
  "Ip6InDelivers", "%s incoming packets delivered", "N",
  "Ip6InDiscards", "%s incoming packets discarded", "N",
  "Ip6InHdrErrors", "%s with invalid headers", "O",
  "Ip6InMcastPkts", "%s incoming multicast packets", "O",
  "Ip6InNoRoutes", "%s incoming packets with no route", "O",
  "Ip6InReceives", "%s total packets received", "N",
  "Ip6InTooBigErrors", "%s with packets too big", "O",
  "Ip6InTruncatedPkts", "%s with truncated packets", "O",
  "Ip6InUnknownProtos", "%s with unknown protocol", "O",
  "Ip6OutDiscards", "%s outgoing packets dropped", "O", "Ip6OutForwDatagrams", "%s forwarded", "N",
  "Ip6OutMcastPkts", "%s outgoing multicast packets", "O",
  "Ip6OutNoRoutes", "%s dropped because of missing route", "O",
  "Ip6OutRequests", "%s requests sent out", "N",
  "Ip6ReasmFails", "%s packet reassemblies failed", "O",
  "Ip6ReasmOKs", "%s packets reassembled ok", "O", "Ip6ReasmReqds", "%s reassemblies required", "O",
  "Ip6ReasmTimeout", "%s fragments dropped after timeout", "O",
}

local ICMP_TAB = entries {
  "InAddrMaskReps", "address mask replies: %s", "II", "InAddrMasks", "address mask request: %s", "II",
  "InDestUnreachs", "destination unreachable: %s", "II", "InEchoReps", "echo replies: %s", "II",
  "InEchos", "echo requests: %s", "II", "InErrors", "%s input ICMP message failed", "N",
  "InMsgs", "%s ICMP messages received", "N", "InParmProbs", "wrong parameters: %s", "II",
  "InRedirects", "redirects: %s", "II", "InSrcQuenchs", "source quenches: %s", "II",
  "InTimeExcds", "timeout in transit: %s", "II", "InTimestampReps", "timestamp reply: %s", "II",
  "InTimestamps", "timestamp request: %s", "II",
  "OutAddrMaskReps", "address mask replies: %s", "IO",
  "OutAddrMasks", "address mask requests: %s", "IO",
  "OutDestUnreachs", "destination unreachable: %s", "IO", "OutEchoReps", "echo replies: %s", "IO",
  "OutEchos", "echo requests: %s", "IO", "OutErrors", "%s ICMP messages failed", "N",
  "OutMsgs", "%s ICMP messages sent", "N", "OutParmProbs", "wrong parameters: %s", "IO",
  "OutRedirects", "redirect: %s", "IO", "OutSrcQuenchs", "source quench: %s", "IO",
  "OutTimeExcds", "time exceeded: %s", "IO", "OutTimestampReps", "timestamp replies: %s", "IO",
  "OutTimestamps", "timestamp requests: %s", "IO",
}

local ICMP6_TAB = entries {
  "Icmp6InDestUnreachs", "destination unreachable: %s", "II",
  "Icmp6InEchoReplies", "echo replies: %s", "II", "Icmp6InEchos", "echo requests: %s", "II",
  "Icmp6InErrors", "%s input ICMP message failed", "N",
  "Icmp6InGroupMembQueries", "group member queries: %s", "II",
  "Icmp6InGroupMembReductions", "group member reductions: %s", "II",
  "Icmp6InGroupMembResponses", "group member responses: %s", "II",
  "Icmp6InMsgs", "%s ICMP messages received", "N",
  "Icmp6InNeighborAdvertisements", "neighbour advertisement: %s", "II",
  "Icmp6InNeighborSolicits", "neighbour solicits: %s", "II",
  "Icmp6InParmProblems", "parameter problem: %s", "II",
  "Icmp6InPktTooBigs", "packets too big: %s", "II", "Icmp6InRedirects", "redirects: %s", "II",
  "Icmp6InRouterAdvertisements", "router advertisement: %s", "II",
  "Icmp6InRouterSolicits", "router solicits: %s", "II",
  "Icmp6InTimeExcds", "received ICMPv6 time exceeded: %s", "II",
  "Icmp6OutDestUnreachs", "destination unreachable: %s", "IO",
  "Icmp6OutEchoReplies", "echo replies: %s", "IO", "Icmp6OutEchos", "echo requests: %s", "IO",
  "Icmp6OutGroupMembQueries", "group member queries: %s", "IO",
  "Icmp6OutGroupMembReductions", "group member reductions: %s", "IO",
  "Icmp6OutGroupMembResponses", "group member responses: %s", "IO",
  "Icmp6OutMsgs", "%s ICMP messages sent", "N",
  "Icmp6OutNeighborAdvertisements", "neighbor advertisements: %s", "IO",
  "Icmp6OutNeighborSolicits", "neighbor solicits: %s", "IO",
  "Icmp6OutParmProblems", "parameter problem: %s", "IO",
  "Icmp6OutPktTooBigs", "packets too big: %s", "IO", "Icmp6OutRedirects", "redirects: %s", "IO",
  -- sic: the trailing blank is in net-tools' table
  "Icmp6OutRouterAdvertisements ", "router advertisement: %s", "IO",
  "Icmp6OutRouterSolicits", "router solicits: %s", "IO",
  "Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: %s", "IO",
}

local TCP_TAB = entries {
  "ActiveOpens", "%s active connection openings", "N",
  "AttemptFails", "%s failed connection attempts", "N",
  "CurrEstab", "%s connections established", "N", "EstabResets", "%s connection resets received", "N",
  "InErrs", "%s bad segments received", "N", "InSegs", "%s segments received", "N",
  "MaxConn", "", "N", "OutRsts", "%s resets sent", "N", "OutSegs", "%s segments sent out", "N",
  "PassiveOpens", "%s passive connection openings", "N",
  "RetransSegs", "%s segments retransmitted", "N", "RtoAlgorithm", "RTO algorithm is %s", "R",
  "RtoMax", "", "N", "RtoMin", "", "N",
}

local UDP_TAB = entries {
  "InDatagrams", "%s packets received", "N", "InErrors", "%s packet receive errors", "N",
  "NoPorts", "%s packets to unknown port received", "N", "OutDatagrams", "%s packets sent", "N",
  "RcvbufErrors", "%s receive buffer errors", "N", "SndbufErrors", "%s send buffer errors", "N",
}

local UDP6_TAB = entries {
  "Udp6InDatagrams", "%s packets received", "N", "Udp6InErrors", "%s packet receive errors", "N",
  "Udp6NoPorts", "%s packets to unknown port received", "N",
  "Udp6OutDatagrams", "%s packets sent", "N",
}

local TCPEXT_TAB = entries {
  "DelayedACKLocked", "%s delayed acks further delayed because of locked socket", "O",
  "DelayedACKLost", "Quick ack mode was activated %s times", "O",
  "DelayedACKs", "%s delayed acks sent", "O",
  "EmbryonicRsts", "%s resets received for embryonic SYN_RECV sockets", "O",
  "ListenDrops", "%s SYNs to LISTEN sockets dropped", "O",
  "ListenOverflows", "%s times the listen queue of a socket overflowed", "O",
  "LockDroppedIcmps", "%s ICMP packets dropped because socket was locked", "O",
  "OfoPruned", "%s packets dropped from out-of-order queue because of socket buffer overrun", "O",
  "OutOfWindowIcmps", "%s ICMP packets dropped because they were out-of-window", "O",
  "PAWSActive", "%s active connections rejected because of time stamp", "O",
  "PAWSEstab", "%s packetes rejected in established connections because of timestamp", "O",
  "PAWSPassive", "%s passive connections rejected because of time stamp", "O",
  "PruneCalled", "%s packets pruned from receive queue because of socket buffer overrun", "O",
  "RcvPruned", "%s packets pruned from receive queue", "O",
  "SockMallocOOM", "Ran %s times out of system memory during packet sending", "O",
  "SyncookiesFailed", "%s invalid SYN cookies received", "O",
  "SyncookiesRecv", "%s SYN cookies received", "O", "SyncookiesSent", "%s SYN cookies sent", "O",
  "TCPAbortFailed", "%s times unable to send RST due to no memory", "O",
  "TCPAbortOnClose", "%s connections reset due to early user close", "O",
  "TCPAbortOnData", "%s connections reset due to unexpected data", "O",
  "TCPAbortOnLinger", "%s connections aborted after user close in linger timeout", "O",
  "TCPAbortOnMemory", "%s connections aborted due to memory pressure", "O",
  "TCPAbortOnSyn", "%s connections reset due to unexpected SYN", "O",
  "TCPAbortOnTimeout", "%s connections aborted due to timeout", "O",
  "TCPDirectCopyFromBacklog", "%s bytes directly in process context from backlog", "O",
  "TCPDirectCopyFromPrequeue", "%s bytes directly received in process context from prequeue", "O",
  "TCPDSACKOfoRecv", "%s DSACKs for out of order packets received", "O",
  "TCPDSACKOfoSent", "%s DSACKs sent for out of order packets", "O",
  "TCPDSACKOldSent", "%s DSACKs sent for old packets", "O",
  "TCPDSACKRecv", "%s DSACKs received", "O",
  "TCPDSackUndo", "%s congestion window recovered without slow start using DSACK", "O",
  "TCPDSACKUndo", "%s congestion windows recovered without slow start by DSACK", "O",
  "TCPFACKReorder", "Detected reordering %s times using FACK", "O",
  "TCPFastRetrans", "%s fast retransmits", "O", "TCPForwardRetrans", "%s forward retransmits", "O",
  "TCPFullUndo", "%s congestion windows fully recovered without slow start", "O",
  "TCPHPAcks", "%s predicted acknowledgments", "O", "TCPHPHits", "%s packet headers predicted", "N",
  "TCPHPHitsToUser", "%s packet headers predicted and directly queued to user", "O",
  "TCPLossFailures", "%s timeouts in loss state", "O", "TCPLoss", "%s TCP data loss events", "O",
  "TCPLossUndo", "%s congestion windows recovered without slow start after partial ack", "O",
  "TCPLostRetransmits", "%s retransmits lost", "O",
  "TCPMemoryPressures", "TCP ran low on memory %s times", "O",
  "TCPPartialUndo", "%s congestion windows partially recovered using Hoe heuristic", "O",
  "TCPPrequeued", "%s packets directly queued to recvmsg prequeue", "O",
  "TCPPrequeueDropped", "%s packets dropped from prequeue", "O",
  "TCPPureAcks", "%s acknowledgments not containing data payload received", "O",
  "TCPRcvCollapsed", "%s packets collapsed in receive queue due to low socket buffer", "O",
  "TCPRenoFailures", "%s timeouts after reno fast retransmit", "O",
  "TCPRenoRecoveryFailed", "%s reno fast retransmits failed", "O",
  "TCPRenoRecoveryFail", "%s classic Reno fast retransmits failed", "O",
  "TCPRenoRecovery", "%s times recovered from packet loss due to fast retransmit", "O",
  "TCPRenoReorder", "Detected reordering %s times using reno fast retransmit", "O",
  "TCPSackFailures", "%s timeouts after SACK recovery", "O",
  "TCPSackRecoveryFail", "%s SACK retransmits failed", "O",
  "TCPSackRecovery", "%s times recovered from packet loss by selective acknowledgements", "O",
  "TCPSACKReneging", "%s bad SACK blocks received", "O",
  "TCPSACKReorder", "Detected reordering %s times using SACK", "O",
  "TCPSchedulerFailed", "%s times receiver scheduled too late for direct processing", "O",
  "TCPSlowStartRetrans", "%s retransmits in slow start", "O",
  "TCPTimeouts", "%s other TCP timeouts", "O",
  "TCPTSReorder", "Detected reordering %s times using time stamp", "O",
  "TWKilled", "%s TCP sockets finished time wait in slow timer", "O",
  "TW", "%s TCP sockets finished time wait in fast timer", "O",
  "TWRecycled", "%s time wait sockets recycled by time stamp", "O",
}

-- Section name -> { table, which -t/-u/-w flag shows it }.
local SNMP_TABS = {
  Ip = { IP_TAB, "raw" }, Icmp = { ICMP_TAB, "raw" }, Tcp = { TCP_TAB, "tcp" },
  Udp = { UDP_TAB, "udp" }, TcpExt = { TCPEXT_TAB, "tcp" },
}
local SNMP6_TABS = {
  Ip6 = { IP6_TAB, "raw" }, Icmp6 = { ICMP6_TAB, "raw" }, Udp6 = { UDP6_TAB, "udp" },
  Tcp6 = { TCP_TAB, "tcp" },
}

-- glibc bsearch over a table in its source order.
local function bsearch(tab, name)
  local lo, hi = 0, #tab
  while lo < hi do
    local idx = floor((lo + hi) / 2)
    local e = tab[idx + 1]
    if name == e.name then return e end
    if name < e.name then hi = idx else lo = idx + 1 end
  end
  return nil
end

-- The order the kernel prints its counters in (Linux 6.x); ns.stats()
-- keys them by name, and netstat prints them in file order. Names a newer
-- kernel adds follow the known ones, sorted.
local FIELD_ORDER = {
  Ip = [[Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos
    InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs
    ReasmFails FragOKs FragFails FragCreates OutTransmits]],
  Icmp = [[InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs
    InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs
    OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs
    OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks
    OutAddrMaskReps]],
  Tcp = [[RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets
    CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors]],
  Udp = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    IgnoredMulti MemErrors]],
  UdpLite = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    IgnoredMulti MemErrors]],
  TcpExt = [[SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned
    OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive
    PAWSEstab BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked
    DelayedACKLost ListenOverflows ListenDrops TCPHPHits TCPPureAcks TCPHPAcks TCPRenoRecovery
    TCPSackRecovery TCPSACKReneging TCPSACKReorder TCPRenoReorder TCPTSReorder TCPFullUndo
    TCPPartialUndo TCPDSACKUndo TCPLossUndo TCPLostRetransmit TCPRenoFailures TCPSackFailures
    TCPLossFailures TCPFastRetrans TCPSlowStartRetrans TCPTimeouts TCPLossProbes
    TCPLossProbeRecovery TCPRenoRecoveryFail TCPSackRecoveryFail TCPRcvCollapsed
    TCPBacklogCoalesce TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv TCPDSACKOfoRecv TCPAbortOnData
    TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger TCPAbortFailed
    TCPMemoryPressures TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld
    TCPDSACKIgnoredNoUndo TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure
    TCPSackShifted TCPSackMerged TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop
    TCPDeferAcceptDrop IPReversePathFilter TCPTimeWaitOverflow TCPReqQFullDoCookies
    TCPReqQFullDrop TCPRetransFail TCPRcvCoalesce TCPOFOQueue TCPOFODrop TCPOFOMerge
    TCPChallengeACK TCPSYNChallenge TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive
    TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole
    TCPSpuriousRtxHostQueues BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv
    TCPToZeroWindowAdv TCPWantZeroWindowAdv TCPSynRetrans TCPOrigDataSent TCPHystartTrainDetect
    TCPHystartTrainCwnd TCPHystartDelayDetect TCPHystartDelayCwnd TCPACKSkippedSynRecv
    TCPACKSkippedPAWS TCPACKSkippedSeq TCPACKSkippedFinWait2 TCPACKSkippedTimeWait
    TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail TCPMTUPSuccess TCPDelivered
    TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop TCPRcvQDrop TCPWqueueTooBig
    TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs
    TCPDSACKIgnoredDubious TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash TCPAORequired
    TCPAOBad TCPAOKeyNotFound TCPAOGood TCPAODroppedIcmps]],
  IpExt = [[InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets
    OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts
    InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps]],
  MPTcpExt = [[MPCapableSYNRX MPCapableSYNTX MPCapableSYNACKRX MPCapableACKRX MPCapableFallbackACK
    MPCapableFallbackSYNACK MPCapableSYNTXDrop MPCapableSYNTXDisabled MPCapableEndpAttempt
    MPFallbackTokenInit MPTCPRetrans MPJoinNoTokenFound MPJoinSynRx MPJoinSynBackupRx
    MPJoinSynAckRx MPJoinSynAckBackupRx MPJoinSynAckHMacFailure MPJoinAckRx MPJoinAckHMacFailure
    MPJoinRejected MPJoinSynTx MPJoinSynTxCreatSkErr MPJoinSynTxBindErr MPJoinSynTxConnectErr
    DSSNotMatching DSSCorruptionFallback DSSCorruptionReset InfiniteMapTx InfiniteMapRx
    DSSNoMatchTCP DataCsumErr OFOQueueTail OFOQueue OFOMerge NoDSSInWindow DuplicateData AddAddr
    AddAddrTx AddAddrTxDrop EchoAdd EchoAddTx EchoAddTxDrop PortAdd AddAddrDrop MPJoinPortSynRx
    MPJoinPortSynAckRx MPJoinPortAckRx MismatchPortSynRx MismatchPortAckRx RmAddr RmAddrDrop
    RmAddrTx RmAddrTxDrop RmSubflow MPPrioTx MPPrioRx MPFailTx MPFailRx MPFastcloseTx
    MPFastcloseRx MPRstTx MPRstRx SubflowStale SubflowRecover SndWndShared RcvWndShared
    RcvWndConflictUpdate RcvWndConflict MPCurrEstab Blackhole MPCapableDataFallback
    MD5SigFallback DssFallback SimultConnectFallback FallbackFailed WinProbe]],
  Ip6 = [[InReceives InHdrErrors InTooBigErrors InNoRoutes InAddrErrors InUnknownProtos
    InTruncatedPkts InDiscards InDelivers OutForwDatagrams OutRequests OutDiscards OutNoRoutes
    ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates InMcastPkts
    OutMcastPkts InOctets OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets
    InNoECTPkts InECT1Pkts InECT0Pkts InCEPkts OutTransmits]],
  Icmp6 = [[InMsgs InErrors OutMsgs OutErrors InCsumErrors OutRateLimitHost InDestUnreachs
    InPktTooBigs InTimeExcds InParmProblems InEchos InEchoReplies InGroupMembQueries
    InGroupMembResponses InGroupMembReductions InRouterSolicits InRouterAdvertisements
    InNeighborSolicits InNeighborAdvertisements InRedirects InMLDv2Reports OutDestUnreachs
    OutPktTooBigs OutTimeExcds OutParmProblems OutEchos OutEchoReplies OutGroupMembQueries
    OutGroupMembResponses OutGroupMembReductions OutRouterSolicits OutRouterAdvertisements
    OutNeighborSolicits OutNeighborAdvertisements OutRedirects OutMLDv2Reports]],
  Udp6 = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    IgnoredMulti MemErrors]],
  UdpLite6 = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    MemErrors]],
}
local FIELD_RANK = {}
for group, words in pairs(FIELD_ORDER) do
  local rank, i = {}, 0
  for w in words:gmatch("%S+") do
    i = i + 1
    rank[w] = i
  end
  FIELD_RANK[group] = rank
end

-- "InType3" / "OutType135": per-type ICMP counters, In before Out, by type.
local function type_rank(name)
  local dir, n = name:match("^(%a-)Type(%d+)$")
  if dir == "In" then return tonumber(n) end
  if dir == "Out" then return 1000 + tonumber(n) end
  return nil
end

-- The fields of one group in kernel order: {name, value} pairs.
local function ordered_fields(group, values)
  local rank = FIELD_RANK[group] or {}
  local known, extra, typed = {}, {}, {}
  for k, v in pairs(values) do
    if type(v) == "number" then
      if rank[k] then known[#known + 1] = k
      elseif type_rank(k) then typed[#typed + 1] = k
      else extra[#extra + 1] = k end
    end
  end
  sort(known, function(a, b) return rank[a] < rank[b] end)
  sort(extra)
  sort(typed, function(a, b) return type_rank(a) < type_rank(b) end)
  local out = {}
  for _, list in ipairs { known, extra, typed } do
    for _, k in ipairs(list) do out[#out + 1] = { k, values[k] } end
  end
  return out
end

local SNMP_GROUPS = { "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt" }
local SNMP6_GROUPS = { "Ip6", "Icmp6", "Udp6", "UdpLite6" }
local NOT_SNMP = { sockstat = true, partial = true, snmp6 = true }
for _, g in ipairs(SNMP6_GROUPS) do NOT_SNMP[g] = true end

--- netstat -s: the counters of ns.stats() with netstat's wording. flags:
-- tcp/udp/raw select sections as -t/-u/-w do (all when none is set), inet6
-- (without inet) prints the IPv6 counters as netstat -s -6.
function M.statistics_text(stats, flags)
  need_table("statistics_text", 1, stats)
  need_opts("statistics_text", 2, flags)
  flags = flags or {}
  local show = { tcp = flags.tcp, udp = flags.udp, raw = flags.raw }
  if not (show.tcp or show.udp or show.raw) then show.tcp, show.udp, show.raw = true, true, true end
  local out = {}
  local state = NUMBER
  local function emit(indent, text) out[#out + 1] = rep(" ", indent) .. text .. "\n" end
  -- newtable + printval, as statistics.c
  local function section(title, tabs, fields, full_prefix)
    local known = tabs[title]
    local tab, on
    if known then
      tab, on = known[1], show[known[2]]
      if on then out[#out + 1] = title .. ":\n" end
      state = NUMBER
    else
      out[#out + 1] = title .. ":\n"
      on = true
    end
    if not on then return end
    for _, f in ipairs(fields) do
      local name, value = (full_prefix or "") .. f[1], f[2]
      local e = tab and bsearch(tab, name)
      if not e then
        if value ~= 0 then emit(INDENT[state], name .. ": " .. unsigned_text(value)) end
      elseif not e.static and e.text ~= "" then
        local kind = e.type
        if e.titled and state ~= kind then emit(INDENT[state], HISTOGRAM_TITLE[kind]) end
        local text
        if kind == NUMBER or (kind == OPT_NUMBER and value ~= 0) then
          text = sformat(e.text, unsigned_text(value))
        elseif (kind == ICMP_IN or kind == ICMP_OUT) and value > 0 then
          text = sformat(e.text, unsigned_text(value))
        end
        if text then emit(INDENT[kind], text) end
        state = kind
      end
    end
  end
  if flags.inet6 and not flags.inet then
    for _, g in ipairs(SNMP6_GROUPS) do
      local values = stats[g]
      if values then section(g, SNMP6_TABS, ordered_fields(g, values), g) end
    end
    if stats.Tcp then section("Tcp", SNMP_TABS, ordered_fields("Tcp", stats.Tcp)) end
    return concat(out)
  end
  local groups, seen = {}, {}
  for _, g in ipairs(SNMP_GROUPS) do
    groups[#groups + 1] = g
    seen[g] = true
  end
  local others = {}
  for g, v in pairs(stats) do
    if type(v) == "table" and not seen[g] and not NOT_SNMP[g] then others[#others + 1] = g end
  end
  sort(others)
  for _, g in ipairs(others) do groups[#groups + 1] = g end
  for _, g in ipairs(groups) do
    local values = stats[g]
    if values then
      local fields = ordered_fields(g, values)
      if g == "IcmpMsg" then
        -- the kernel writes 16 per-type counters per line pair, and
        -- netstat starts a section for each pair
        for first = 1, #fields, 16 do
          local chunk = {}
          for i = first, first + 15 do chunk[#chunk + 1] = fields[i] end
          section(g, SNMP_TABS, chunk)
        end
      else
        section(g, SNMP_TABS, fields)
      end
    end
  end
  return concat(out)
end

--- netstat -r -6 (IPv6 routes of every table). The Ref column is the
-- kernel's reference count of the route, which rtnetlink does not report:
-- it shows the record's `refcnt` when there is one, else 1.
function M.routes6_text(list, flags, opts)
  need_table("routes6_text", 1, list, "list")
  need_table("routes6_text", 2, flags)
  need_opts("routes6_text", 3, opts)
  opts = opts or {}
  local names = (not flags.numeric_hosts) and (opts.names or new_names(opts.files)) or nil
  local out = { "Kernel IPv6 routing table\n",
    "Destination                    Next Hop                   Flag Met Ref  Use If\n" }
  for _, r in ipairs(M.select_routes(list, { inet6 = true })) do
    local addr, len = (r.dst or "::/0"):match("^([^/]+)/?(%d*)$")
    local nh = r.nexthops and r.nexthops[1]
    local gateway = r.gateway or (nh and nh.gateway) or "::"
    local iface = r.interface or (nh and nh.interface) or "lo"
    local reject = ROUTE_REJECT[r.type] or r.type == "blackhole"
    local letters = reject and "!" or "U"
    if gateway ~= "::" then letters = letters .. "G" end
    if r.type == "local" or reject then letters = letters .. "n" end
    local dst_text, gw_text = addr, gateway
    if names then dst_text, gw_text = names:ipv6_name(addr), names:ipv6_name(gateway) end
    local metric = int(r.metric)
    if metric > 2147483647 then metric = metric - 4294967296 end
    out[#out + 1] = sformat("%-30s %-26s %-4s %-3d %-1d %6d %s\n", dst_text .. "/" .. (len ~= "" and len or "128"),
      gw_text, letters, metric, int(r.refcnt or 1), 0, iface)
  end
  return concat(out)
end

-- JSON ---------------------------------------------------------------------------------

local function json_string(s)
  s = gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" elseif c == "\t" then return "\\t"
    elseif c == "\r" then return "\\r" end
    return sformat("\\u%04x", byte(c))
  end)
  return '"' .. s .. '"'
end

local function json_number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if math_type and math_type(v) == "integer" then return sformat("%d", v) end
  if v == floor(v) and v > -1e18 and v < 1e18 then return sformat("%.0f", v) end
  return sformat("%.17g", v)
end

-- A small encoder: integers exact (doubles up to 2^53 too), object keys
-- sorted, an empty table as [] (lists are what is most often empty).
local function encode_builtin(value, out)
  local t = type(value)
  if t == "table" then
    local n = #value
    local has_other = false
    for k in pairs(value) do
      if type(k) ~= "number" or k < 1 or k > n or k ~= floor(k) then has_other = true break end
    end
    if not has_other then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        encode_builtin(value[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(value) do
        if type(k) == "string" or type(k) == "number" then keys[#keys + 1] = tostring(k) end
      end
      sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        local v = value[k]
        if v == nil then v = value[tonumber(k)] end
        out[#out + 1] = json_string(k) .. ":"
        encode_builtin(v, out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "string" then out[#out + 1] = json_string(value)
  elseif t == "number" then out[#out + 1] = json_number(value)
  elseif t == "boolean" then out[#out + 1] = value and "true" or "false"
  else out[#out + 1] = "null" end
end

local function builtin_json(value)
  local out = {}
  encode_builtin(value, out)
  return concat(out)
end

-- lua-cjson, else dkjson, else the encoder above; a library is used only
-- if it writes a large counter exactly (lua-cjson 2.1.0 writes 2^53+1 as
-- 9.007199254741e+15, dkjson does so on Lua 5.1/LuaJIT).
local json_encoder
local function pick_json()
  if json_encoder then return json_encoder end
  local probe, expect
  if math_type then
    probe, expect = 9007199254740993, "[9007199254740993]"
  else
    probe, expect = 2 ^ 53, "[9007199254740992]"
  end
  for _, name in ipairs { "cjson", "dkjson" } do
    local ok, lib = pcall(require, name)
    if ok and type(lib) == "table" and type(lib.encode) == "function" then
      local fine, text = pcall(lib.encode, { probe })
      if fine and text == expect then
        json_encoder = lib.encode
        return json_encoder
      end
    end
  end
  json_encoder = builtin_json
  return json_encoder
end

--- One JSON document for a value (records as the data functions return
-- them). A list loses its non-array fields (partial, sources) in JSON.
function M.json(value)
  if type(value) == "table" and value[1] ~= nil then
    local copy = {}
    for i = 1, #value do copy[i] = value[i] end
    value = copy
  elseif type(value) == "table" and next(value) == nil then
    return "[]"
  end
  return pick_json()(value)
end
M._json_builtin = builtin_json

-- Prometheus text -----------------------------------------------------------------------

local function label_value(s)
  return (gsub(tostring(s), '[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

-- node_exporter's netdev names, from the rtnl_link_stats64 fields.
local NETDEV_METRICS = {
  { "receive_bytes", { "rx_bytes" } }, { "receive_packets", { "rx_packets" } },
  { "receive_errs", { "rx_errors" } }, { "receive_drop", { "rx_dropped", "rx_missed_errors" } },
  { "receive_fifo", { "rx_fifo_errors" } },
  { "receive_frame", { "rx_frame_errors", "rx_length_errors", "rx_over_errors", "rx_crc_errors" } },
  { "receive_compressed", { "rx_compressed" } }, { "receive_multicast", { "multicast" } },
  { "transmit_bytes", { "tx_bytes" } }, { "transmit_packets", { "tx_packets" } },
  { "transmit_errs", { "tx_errors" } }, { "transmit_drop", { "tx_dropped" } },
  { "transmit_fifo", { "tx_fifo_errors" } }, { "transmit_colls", { "collisions" } },
  { "transmit_carrier", { "tx_carrier_errors", "tx_aborted_errors", "tx_heartbeat_errors",
    "tx_window_errors" } },
  { "transmit_compressed", { "tx_compressed" } },
}

--- Prometheus text exposition of counters and interfaces.
-- data = { stats = ns.stats(), interfaces = ns.interfaces() } (either may
-- be nil). opts.prefix: "lnetstat" (default) or "node" for node_exporter's
-- names (use those only with node_exporter's own netstat, sockstat and
-- netdev collectors off, or the two collide). Names: <p>_netstat_<Group>_<Field>
-- (untyped), <p>_sockstat_<PROTO>_<field> and <p>_sockstat_sockets_used
-- (gauges), <p>_network_<key>_total{device} (counters), <p>_network_up{device}.
function M.prometheus(data, opts)
  need_table("prometheus", 1, data)
  need_opts("prometheus", 2, opts)
  opts = opts or {}
  local p = opts.prefix or "lnetstat"
  if type(p) ~= "string" or not p:match("^[%a_:][%w_:]*$") then
    error("bad argument #2 to 'prometheus' (prefix must be a metric name prefix)", 2)
  end
  local out = {}
  local function family(name, help, kind)
    out[#out + 1] = sformat("# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
  end
  local stats = data.stats
  if stats then
    local groups = {}
    for g, v in pairs(stats) do
      if type(v) == "table" and g ~= "sockstat" then groups[#groups + 1] = g end
    end
    sort(groups)
    for _, g in ipairs(groups) do
      local keys = {}
      for k, v in pairs(stats[g]) do
        if type(v) == "number" and k:match("^[%w_]+$") then keys[#keys + 1] = k end
      end
      sort(keys)
      for _, k in ipairs(keys) do
        local name = sformat("%s_netstat_%s_%s", p, g, k)
        family(name, sformat("Statistic %s%s.", g, k), "untyped")
        out[#out + 1] = sformat("%s %s\n", name, json_number(stats[g][k]))
      end
    end
    local ss = stats.sockstat
    if ss then
      local keys = {}
      for k in pairs(ss) do keys[#keys + 1] = k end
      sort(keys)
      for _, proto in ipairs(keys) do
        local v = ss[proto]
        if type(v) == "number" then
          local name = sformat("%s_sockstat_%s", p, proto)
          family(name, sformat("Number of IPv4 sockets in use."), "gauge")
          out[#out + 1] = sformat("%s %s\n", name, json_number(v))
        elseif type(v) == "table" then
          local fields = {}
          for f, x in pairs(v) do if type(x) == "number" then fields[#fields + 1] = f end end
          sort(fields)
          for _, f in ipairs(fields) do
            local name = sformat("%s_sockstat_%s_%s", p, proto, f)
            family(name, sformat("Number of %s sockets in state %s.", proto, f), "gauge")
            out[#out + 1] = sformat("%s %s\n", name, json_number(v[f]))
          end
        end
      end
    end
  end
  local ifs = data.interfaces
  if ifs then
    local sorted = {}
    for _, r in ipairs(ifs) do sorted[#sorted + 1] = r end
    sort(sorted, function(a, b) return a.name < b.name end)
    for _, m in ipairs(NETDEV_METRICS) do
      local name = sformat("%s_network_%s_total", p, m[1])
      family(name, sformat("Network device statistic %s.", m[1]), "counter")
      for _, r in ipairs(sorted) do
        local s = r.stats
        if s then
          local v, any = 0, false
          for _, k in ipairs(m[2]) do
            if s[k] then v, any = v + s[k], true end
          end
          if any then
            out[#out + 1] = sformat('%s{device="%s"} %s\n', name, label_value(r.name), json_number(v))
          end
        end
      end
    end
    local name = p .. "_network_up"
    family(name, "Value is 1 if operstate is 'up', 0 otherwise.", "gauge")
    for _, r in ipairs(sorted) do
      out[#out + 1] = sformat('%s{device="%s"} %d\n', name, label_value(r.name),
        r.operstate == "UP" and 1 or 0)
    end
  end
  return concat(out)
end

-- Gathering and the whole netstat command ------------------------------------------------

-- The effective uid of this process, for netstat's "-p" note.
local function effective_uid()
  local text = read_file("/proc/self/status")
  local euid = text and text:match("\nUid:%s+%d+%s+(%d+)")
  return tonumber(euid)
end

local function view_of(flags)
  if flags.statistics then return "statistics" end
  if flags.route then return "route" end
  if flags.interfaces then return "interfaces" end
  return "sockets"
end
M.view_of = view_of

-- Which socket tables the socket view shows: netstat without a type shows
-- every inet type and UNIX sockets.
local function socket_tables(flags)
  if not flags.any_type then
    return { tcp = true, udp = true, udplite = true, raw = true }, true, true
  end
  local inet = { tcp = flags.tcp, udp = flags.udp, udplite = flags.udplite, raw = flags.raw }
  local inet_view = flags.tcp or flags.sctp or flags.udp or flags.udplite or flags.raw
  return inet, inet_view, flags.unix
end

--- Reads what a view needs from the kernel: a table with sockets,
-- interfaces, routes, groups or stats, or nil, message, errno.
-- opts.netns, opts.lnetstat (the data module; default require "lnetstat").
function M.collect(flags, opts)
  need_table("collect", 1, flags)
  need_opts("collect", 2, opts)
  opts = opts or {}
  local ns = opts.lnetstat or require "lnetstat"
  local netns = opts.netns or flags.netns
  local data = {}
  local view = view_of(flags)
  local err, errno
  if view == "statistics" then
    data.stats, err, errno = ns.stats { netns = netns }
    if not data.stats then return nil, err, errno end
  elseif view == "route" then
    local v6 = flags.inet6 and not flags.inet
    data.routes, err, errno = ns.routes { netns = netns, family = v6 and "inet6" or "inet",
      table = v6 and "all" or nil }
    if not data.routes then return nil, err, errno end
  elseif view == "interfaces" then
    data.interfaces, err, errno = ns.interfaces { netns = netns }
    if not data.interfaces then return nil, err, errno end
  else
    local inet, inet_view, unix_view = socket_tables(flags)
    local protos = {}
    if inet_view then
      for _, p in ipairs { "tcp", "udp", "udplite", "raw" } do
        if inet[p] then protos[#protos + 1] = p end
      end
    end
    if unix_view then protos[#protos + 1] = "unix" end
    if #protos > 0 then
      local family
      if flags.any_type and flags.inet ~= flags.inet6 and not unix_view then
        family = flags.inet and "inet" or "inet6"
      end
      -- The kernel filters states (cheap with many sockets) when only inet
      -- sockets are asked for; netstat's own selection is applied anyway.
      local state
      if not unix_view and not flags.all then
        state = flags.listening and "listening" or "connected"
      end
      data.sockets, err, errno = ns.sockets { proto = protos, family = family, state = state,
        process = flags.programs or nil, netns = netns }
      if not data.sockets then return nil, err, errno end
    end
    if flags.groups then
      local family
      if flags.inet ~= flags.inet6 then family = flags.inet and "inet" or "inet6" end
      data.groups, err, errno = ns.groups { netns = netns, family = family }
      if not data.groups then return nil, err, errno end
    end
  end
  return data
end

local VERBOSE_NOTES = {
  "netstat: no support for `AF INET (sctp)' on this system.\n",
  "netstat: no support for `AF INET (sctp)' on this system.\n",
  "netstat: no support for `AF IPX' on this system.\n",
  "netstat: no support for `AF AX25' on this system.\n",
  "netstat: no support for `AF X25' on this system.\n",
  "netstat: no support for `AF NETROM' on this system.\n",
  "netstat: no support for `AF ROSE' on this system.\n",
}

--- The flags a socket view really applies (netstat without a socket type
-- shows every inet type in both families, and UNIX sockets), and whether
-- it shows the inet table and the UNIX table.
function M.view_flags(flags)
  local shown = {}
  for k, v in pairs(flags) do shown[k] = v end
  local inet, inet_view, unix_view = socket_tables(flags)
  for k, v in pairs(inet) do shown[k] = v end
  if not flags.any_type then shown.inet, shown.inet6 = true, true end
  return shown, inet_view, unix_view
end

--- The socket records the text view would show, in its order (inet rows,
-- then UNIX rows): what --json prints.
function M.select_sockets(list, flags)
  need_table("select_sockets", 1, list, "list")
  need_table("select_sockets", 2, flags)
  local shown, inet_view, unix_view = M.view_flags(flags)
  local out = inet_view and M.ordered_inet(list, shown) or {}
  if unix_view then
    for _, r in ipairs(M.ordered_unix(list, shown)) do out[#out + 1] = r end
  end
  return out
end

-- What netstat writes to stderr in a socket view: the "-p" note when not
-- root (which of its two notes depends on whether any owner could be read
-- at all), and with -v the address families this system lacks.
local function socket_notes(flags, euid, saw_owner)
  local err = {}
  if flags.programs and euid ~= 0 then
    err[#err + 1] = saw_owner and "(Not all processes could be identified, non-owned process info\n"
      .. " will not be shown, you would have to be root to see it all.)\n"
      or sformat("(No info could be read for \"-p\": geteuid()=%d but you should be root.)\n", euid or -1)
  end
  if flags.verbose and not flags.any_type then
    for _, line in ipairs(VERBOSE_NOTES) do err[#err + 1] = line end
  end
  return concat(err)
end

local INET_PROTO = { tcp = true, udp = true, udplite = true, raw = true }

--- The socket view (the inet table, -g's table, the UNIX table), rendered
-- while each_socket() hands the records over, so that 100,000 sockets never
-- sit in memory at once. Returns stdout_text, stderr_text, or nil, message,
-- errno. opts: netns, lnetstat (the data module), data = {sockets=,
-- groups=} (lists to render instead of the kernel's), write =
-- function(text) (stream stdout through it in batches; stdout_text is then
-- ""), euid, files, core. With -p when not root, netstat's note comes
-- before the tables: then nothing is streamed, and the caller writes
-- stderr_text first.
function M.socket_view(flags, opts)
  need_table("socket_view", 1, flags)
  need_opts("socket_view", 2, opts)
  opts = opts or {}
  local shown, inet_view, unix_view = M.view_flags(flags)
  local data = opts.data or {}
  local euid = opts.euid
  if euid == nil and flags.programs then euid = effective_uid() end
  local note_first = flags.programs and euid ~= 0
  local write = not note_first and opts.write or nil
  local out, n = {}, 0
  local function emit(text)
    n = n + 1
    out[n] = text
    if write and n >= 512 then
      -- batches: no 8 MB string, and the heap pages of the lines written
      -- are reused for the next ones
      write(concat(out, "", 1, n))
      n = 0
    end
  end
  local names = new_names(opts.files)
  local ropts = { names = names, files = opts.files, core = opts.core }
  local c = inet_context(shown, ropts)
  local unix_list, saw_owner = {}, false
  if inet_view then emit(inet_header(shown)) end
  if data.sockets then
    local list = data.sockets
    for i = 1, #list do
      local r = list[i]
      if r.processes or r.pid then saw_owner = true end
      if r.proto == "unix" then unix_list[#unix_list + 1] = r end
    end
    if inet_view then
      local rows = M.ordered_inet(list, shown)
      for i = 1, #rows do emit(inet_line(rows[i], c)) end
    end
  elseif inet_view or unix_view then
    local ns = opts.lnetstat or require "lnetstat"
    local protos = {}
    if inet_view then
      for _, p in ipairs { "tcp", "udp", "udplite", "raw" } do
        if shown[p] then protos[#protos + 1] = p end
      end
    end
    if unix_view then protos[#protos + 1] = "unix" end
    local family
    if flags.any_type and flags.inet ~= flags.inet6 and not unix_view then
      family = flags.inet and "inet" or "inet6"
    end
    -- The kernel filters states (cheap with many sockets) when only inet
    -- sockets are asked for; netstat's own selection is applied anyway.
    local state
    if not unix_view and not flags.all then
      state = flags.listening and "listening" or "connected"
    end
    local want = { tcp = shown.tcp, udp = shown.udp, udplite = shown.udplite, raw = shown.raw }
    local fams = { inet = shown.inet, inet6 = shown.inet6 }
    local all = flags.all
    -- each_socket delivers protocol by protocol, IPv4 then IPv6: netstat's
    -- order, so the lines can go out as they come
    -- only the fields the inet lines print (cheaper: no cookie string per
    -- socket); the UNIX table needs them all
    local fields
    if not unix_view then
      fields = { "recv_q", "send_q", "local_addr", "remote_addr", "local_port", "remote_port",
        "protocol" }
      if shown.extend > 0 then fields[#fields + 1] = "uid"; fields[#fields + 1] = "inode" end
      if shown.timers then fields[#fields + 1] = "timer" end
    end
    local count, err, errno = ns.each_socket({ proto = protos, family = family, state = state,
      process = flags.programs or nil, netns = opts.netns or flags.netns, fields = fields }, function(r)
      local proto = r.proto
      if r.processes or r.pid then saw_owner = true end
      if INET_PROTO[proto] then
        if want[proto] and fams[r.family] and (all or inet_keep(r, shown)) then
          n = n + 1
          out[n] = inet_line(r, c)
          if write and n >= 512 then
            write(concat(out, "", 1, n))
            n = 0
          end
        end
      elseif proto == "unix" then
        unix_list[#unix_list + 1] = r
      end
    end)
    if not count then return nil, err, errno end
  end
  if flags.groups then
    local groups = data.groups
    if not groups then
      local ns = opts.lnetstat or require "lnetstat"
      local family, err, errno
      if flags.inet ~= flags.inet6 then family = flags.inet and "inet" or "inet6" end
      groups, err, errno = ns.groups { netns = opts.netns or flags.netns, family = family }
      if not groups then return nil, err, errno end
    end
    emit(M.groups_text(groups, shown, ropts))
  end
  if unix_view then emit(M.unix_text(unix_list, shown, ropts)) end
  local notes = socket_notes(flags, euid, saw_owner)
  if write then
    if n > 0 then write(concat(out, "", 1, n)) end
    return "", notes
  end
  return concat(out, "", 1, n), notes
end

--- Renders a view from gathered data (M.collect, or records made by hand).
-- Returns stdout_text, stderr_text. opts: files, euid, iteration (-c: the
-- interface title only on the first), write = function(text) (socket views:
-- stream stdout through it, see M.socket_view).
function M.render(flags, data, opts)
  need_table("render", 1, flags)
  need_table("render", 2, data)
  need_opts("render", 3, opts)
  opts = opts or {}
  local view = view_of(flags)
  if view == "sockets" then
    local sopts = {}
    for k, v in pairs(opts) do sopts[k] = v end
    sopts.data = { sockets = data.sockets or {}, groups = data.groups or {} }
    return M.socket_view(flags, sopts)
  end
  local ropts = { names = new_names(opts.files), files = opts.files }
  local text
  if view == "statistics" then
    text = M.statistics_text(data.stats or {}, flags)
  elseif view == "route" then
    if flags.inet6 and not flags.inet then
      text = M.routes6_text(data.routes or {}, flags, ropts)
    else
      text = M.routes_text(data.routes or {}, flags, ropts)
    end
  else
    ropts.title = (opts.iteration or 1) == 1
    text = M.interfaces_text(data.interfaces or {}, flags, ropts)
  end
  if opts.write then
    opts.write(text)
    return "", ""
  end
  return text, ""
end

--- What `netstat <argv...>` prints: stdout_text, stderr_text, exit_code.
-- See the top of this file for argv and opts.
function M.netstat(argv, opts)
  if type(argv) ~= "table" then
    error("bad argument #1 to 'netstat' (table expected, got " .. type(argv) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'netstat' (table or nil expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  local flags, msg, code = M.parse_args(argv)
  if not flags then return "", msg .. "\n", code end
  if flags.help or flags.version then
    return "", "lnetstat: -h and -V are not netstat views\n", 3
  end
  local out, err, errno
  if opts.data then
    out, err = M.render(flags, opts.data, opts)
  elseif view_of(flags) == "sockets" then
    out, err, errno = M.socket_view(flags, opts)
  else
    local data
    data, err, errno = M.collect(flags, opts)
    if data then out, err = M.render(flags, data, opts) end
  end
  if not out then return "", sformat("netstat: %s\n", tostring(err)), 1, errno end
  return out, err, 0
end

return M
