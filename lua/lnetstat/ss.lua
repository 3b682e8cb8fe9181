--- A minimal `ss` (iproute2) for Tstconfig definition files that run
-- `command [sudo] ss ...`: TCP, UDP and RAW sockets from lnetstat's
-- records, printed with ss's columns, header and layout as ss prints them
-- when its output is not a terminal, so that tokenized and fixed parsing
-- see the same cells.
--
-- Flags: -t -u -w -l -a -n -p -4 -6 -H (bundled or not) and their long
-- forms. Without -n a TCP or UDP port outside the ephemeral range takes
-- its first name in /etc/services, as ss's getservbyport() gives it;
-- addresses are always numeric (ss resolves them only with -r). Anything
-- else (filters, -r, -e, -i, -x ...) is refused with exit code 1.
-- @module lnetstat.ss
local type, ipairs, tostring, tonumber, require, format, sub, find, rep, concat, sort =
  type, ipairs, tostring, tonumber, require, string.format, string.sub, string.find, string.rep, table.concat,
  table.sort
local util = require "lnetstat.util"
local escape = require("lnetstat.netstat.text.inet").cell

local M = { _NAME = "lnetstat.ss" }

-- ss's state names
local STATES = {
  ESTABLISHED = "ESTAB", SYN_SENT = "SYN-SENT", SYN_RECV = "SYN-RECV", FIN_WAIT1 = "FIN-WAIT-1",
  FIN_WAIT2 = "FIN-WAIT-2", TIME_WAIT = "TIME-WAIT", CLOSE = "UNCONN", CLOSE_WAIT = "CLOSE-WAIT",
  LAST_ACK = "LAST-ACK", LISTEN = "LISTEN", CLOSING = "CLOSING", UNCONN = "UNCONN",
}

-- ss's default (no -a, no -l): every state but these
local NOT_CONNECTED = { LISTEN = true, UNCONN = true, CLOSE = true, TIME_WAIT = true, SYN_RECV = true }

-- The order ss dumps its tables in.
local PROTO_RANK = { raw = 1, udp = 2, tcp = 3 }

-- ss's columns: header, left delimiter, right-aligned. An address is
-- printed as two cells, "ADDR:" right-aligned and "PORT" left-aligned.
local COLUMNS = {
  { "Netid", "" }, { "State", " " }, { "Recv-Q", " " }, { "Send-Q", " " },
  { "Local Address:", " ", true }, { "Port", "" }, { "Peer Address:", " ", true }, { "Port", "" },
  { "Process", "" },
}

local LONG = { ["--tcp"] = "t", ["--udp"] = "u", ["--raw"] = "w", ["--listening"] = "l", ["--all"] = "a",
  ["--numeric"] = "n", ["--processes"] = "p", ["--ipv4"] = "4", ["--ipv6"] = "6", ["--no-header"] = "H" }

-- The address cell: an IPv6 "::" is "*" unless the socket is known to be
-- v6only (ss takes an unknown one, as from /proc/net/raw6, for dual-stack),
-- other IPv6 addresses are bracketed; the local one carries %DEVICE when
-- bound.
local function address(r, addr, with_device)
  local a = addr or "*"
  if r.family == "inet6" and r.v6only ~= true and a == "::" then
    a = "*"
  elseif find(a, ":", 1, true) then
    a = "[" .. a .. "]"
  end
  if with_device and r.interface then a = a .. "%" .. r.interface end
  return a .. ":"
end

local read_file = util.read_file

-- /etc/services: [proto][port] = the first name listed for it
local function services(text)
  local by = { tcp = {}, udp = {} }
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local name, num, proto = line:gsub("#.*", ""):match("^%s*(%S+)%s+(%d+)/(%a+)")
    num = tonumber(num)
    if name and by[proto] and by[proto][num] == nil then by[proto][num] = name end
  end
  return by
end

-- ss's ephemeral range (ports it never names): the kernel's local port
-- range, 1024-4999 when unreadable
local function ephemeral(text)
  local lo, hi = (text or ""):match("^%s*(%d+)%s+(%d+)")
  if not lo then return 1024, 4999 end
  return tonumber(lo), tonumber(hi)
end

local function port(p, names, proto)
  if p == nil or p == 0 then return "*" end
  if names and names[proto] and not (p >= names.lo and p <= names.hi) and names[proto][p] then
    return names[proto][p]
  end
  return tostring(p)
end

-- The process cell: each owner's name escaped as the netstat views show
-- it (control characters and bytes outside UTF-8 as \xNN, C1 as \u00NN),
-- so that a name cannot break the line or drive a terminal. ss lists the
-- owners last found first: the highest pid, and its highest fd, first.
local function users(r)
  local list, procs = {}, r.processes or {}
  for i = #procs, 1, -1 do
    local p = procs[i]
    list[#list + 1] = format('("%s",pid=%s,fd=%s)', escape(p.program), tostring(p.pid), tostring(p.fd))
  end
  if #list == 0 then return "" end
  return " users:(" .. concat(list, ",") .. ")"
end

-- ss's layout without a terminal: each column as wide as its widest cell
-- (plus its delimiter unless it is the first column with any width),
-- every cell padded to its column's width. ss measures a cell when the
-- next one starts, so the very last cell (the last row's Process) does
-- not count: a long owner list there is not padded to, nor the others to it.
local function layout(rows, shown)
  local max = {}
  for c = 1, #COLUMNS do max[c] = 0 end
  for i, row in ipairs(rows) do
    for c = 1, #COLUMNS do
      if shown[c] and #row[c] > max[c] and not (i == #rows and c == #COLUMNS) then
        max[c] = #row[c]
      end
    end
  end
  local width, first = {}, true
  for c = 1, #COLUMNS do
    if shown[c] then
      if not first and max[c] > 0 then width[c] = max[c] + #COLUMNS[c][2] else width[c] = max[c] end
      if width[c] > 0 then first = false end
    end
  end
  local out = {}
  for _, row in ipairs(rows) do
    local line, started = {}, false
    for c = 1, #COLUMNS do
      if shown[c] then
        local cell, printed = row[c], 0
        if started then
          line[#line + 1] = COLUMNS[c][2]
          printed = #COLUMNS[c][2]
        end
        started = true
        if width[c] > 0 and COLUMNS[c][3] then
          local s = width[c] - #cell - printed
          if s > 0 then line[#line + 1] = rep(" ", s) end
          line[#line + 1] = cell
        else
          line[#line + 1] = cell
          local s = width[c] - printed - #cell
          if width[c] > 0 and s > 0 then line[#line + 1] = rep(" ", s) end
        end
      end
    end
    out[#out + 1] = concat(line)
  end
  return out
end

local function parse_flags(argv)
  local flags = {}
  for i = 1, #argv do
    local a = argv[i]
    if type(a) ~= "string" then
      util.argerror("render", 1, format("argument %d is a %s, not a string", i, type(a)))
    end
    if sub(a, 1, 2) == "--" then
      if not LONG[a] then return { error = format("ss: option %s is not supported by lnetstat's ss\n", a) } end
      flags[LONG[a]] = true
    elseif sub(a, 1, 1) == "-" and #a > 1 then
      for k = 2, #a do
        local c = sub(a, k, k)
        if not find("tuwlanp46H", c, 1, true) then
          return { error = format("ss: option -%s is not supported by lnetstat's ss\n", c) }
        end
        flags[c] = true
      end
    else
      return { error = format("ss: filter '%s' is not supported by lnetstat's ss\n", a) }
    end
  end
  return flags
end

--- What `ss ARGV...` prints.
-- @tparam table argv the arguments after "ss" (strings)
-- @tparam[opt] table opts netns (read that namespace), data (a table with
--   sockets(opts), for tests; default lnetstat), services and port_range
--   (the text of /etc/services and of /proc/sys/net/ipv4/ip_local_port_range,
--   for tests; default those files)
-- @treturn string stdout
-- @treturn string stderr
-- @treturn number exit code (0, or 1 for an unsupported flag or unreadable data)
function M.render(argv, opts)
  if type(argv) ~= "table" then
    error(format("bad argument #1 to 'render' (table of arguments expected, got %s)", type(argv)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(format("bad argument #2 to 'render' (options table expected, got %s)", type(opts)), 2)
  end
  opts = opts or {}
  local flags = util.validate(parse_flags, argv)
  if flags.error then return "", flags.error, 1 end
  local protos = {}
  if flags.t then protos[#protos + 1] = "tcp" end
  if flags.u then protos[#protos + 1] = "udp" end
  if flags.w then protos[#protos + 1] = "raw" end
  if #protos == 0 then protos = { "tcp", "udp", "raw" } end
  local sopts = { proto = protos, state = (flags.a or not flags.l) and "all" or "listening",
    process = flags.p or nil, netns = opts.netns }
  if flags["4"] and not flags["6"] then sopts.family = "inet" end
  if flags["6"] and not flags["4"] then sopts.family = "inet6" end
  local data = opts.data or require("lnetstat")
  local list, err = data.sockets(sopts)
  if not list then return "", "ss: " .. tostring(err) .. "\n", 1 end

  local socks = {}
  for i, r in ipairs(list) do
    if flags.a or flags.l or not NOT_CONNECTED[r.state] then
      socks[#socks + 1] = { r = r, i = i }
    end
  end
  sort(socks, function(x, y)
    local px, py = PROTO_RANK[x.r.proto] or 9, PROTO_RANK[y.r.proto] or 9
    if px ~= py then return px < py end
    local fx, fy = x.r.family == "inet6" and 2 or 1, y.r.family == "inet6" and 2 or 1
    if fx ~= fy then return fx < fy end
    return x.i < y.i
  end)

  local names
  if not flags.n then
    names = services(opts.services or read_file("/etc/services") or "")
    names.lo, names.hi = ephemeral(opts.port_range or read_file("/proc/sys/net/ipv4/ip_local_port_range"))
  end

  local shown = {}
  for c = 1, #COLUMNS do shown[c] = true end
  shown[1] = #protos > 1  -- Netid only when more than one table is read
  local rows = {}
  if not flags.H then
    local h = {}
    for c = 1, #COLUMNS do h[c] = COLUMNS[c][1] end
    rows[1] = h
  end
  for _, s in ipairs(socks) do
    local r = s.r
    rows[#rows + 1] = {
      tostring(r.proto), STATES[r.state] or tostring(r.state),
      format("%-6d", r.recv_q or 0), format("%-6d", r.send_q or 0),
      address(r, r.local_addr, true), port(r.local_port, names, r.proto),
      address(r, r.remote_addr, false), port(r.remote_port, names, r.proto),
      flags.p and users(r) or "",
    }
  end
  local lines = layout(rows, shown)
  return (#lines > 0 and (concat(lines, "\n") .. "\n") or ""), "", 0
end

return M
