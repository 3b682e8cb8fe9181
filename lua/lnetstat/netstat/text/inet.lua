-- The inet socket table (netstat -t/-u/-w), its columns and its hot path.
-- A pure renderer: records, a name table (lnetstat.netstat.names) and a
-- user table (uid -> name) in, text out.
-- @module lnetstat.netstat.text.inet

local pairs, tostring, type = pairs, tostring, type
local setmetatable, sformat = setmetatable, string.format
local sub, rep, concat, floor = string.sub, string.rep, table.concat, math.floor
local find, gsub, byte = string.find, string.gsub, string.byte
local utf8 = require "lnetstat.encode.utf8"
local util_mod = require "lnetstat.format.util"
local int, need_table, need_opts = util_mod.int, util_mod.need_table, util_mod.need_opts
local names_mod = require "lnetstat.netstat.names"
local new_names, is_mapped, strip_mapped = names_mod.new_names, names_mod.is_mapped, names_mod.strip_mapped
local rows = require "lnetstat.netstat.rows"

local M = {}

-- Cells the host names ------------------------------------------------------------

-- Program and user names, UNIX paths and interface names come from the
-- host: a newline in one would start a false row, an escape sequence would
-- drive the reader's terminal. Every view shows such a cell through cell(),
-- which writes its control characters (C0 with tab and newline, DEL, C1)
-- and the bytes outside valid UTF-8 as visible escapes, in the notation of
-- the views' whole-text scan (lnetstat.netstat.run): \xNN, and \u00NN for
-- a C1 control. One record is then always one line of valid UTF-8.

local function control_escape(c) return sformat("\\x%02X", byte(c)) end
local function c1_escape(c) return sformat("\\u%04X", byte(c)) end

-- The utf8.map function that escapes the C0 controls of class `controls`,
-- DEL and the C1 controls in a valid run, and every byte of an invalid one.
local function escaper(controls)
  return function(text, valid)
    if not valid then return control_escape(text) end
    text = gsub(text, controls, control_escape)
    return (gsub(text, "\194([\128-\159])", c1_escape))
  end
end
local escape_run = escaper("[%z\1-\31\127]")
local escape_run_keep_newline = escaper("[%z\1-\9\11-\31\127]")

--- s (a string, or anything tostring takes) as one printable cell.
function M.cell(s)
  if type(s) ~= "string" then s = tostring(s) end
  if find(s, "^[ -~]*$") then return s end   -- printable ASCII: nearly all
  return utf8.map(s, escape_run)
end
local cell = M.cell

--- text as cell() writes it, but with its newlines kept: the last guard of
-- a whole view (lnetstat.netstat.run), whose lines end with them. Printable
-- ASCII and newlines pass with one anchored match.
function M.lines(text)
  if find(text, "^[ -~\n]*$") then return text end
  return utf8.map(text, escape_run_keep_newline)
end


--- The first characters of a cell (what cell() returns) that fit in n
-- bytes: never part of a UTF-8 character or of an escape, so a cut cell
-- is still valid UTF-8 and shows no half escape.
function M.cut(s, n)
  if #s <= n then return s end
  local i = 1
  while true do
    local b, len = byte(s, i), 1
    if b == 92 and find(s, "^\\x%x%x", i) then len = 4
    elseif b == 92 and find(s, "^\\u%x%x%x%x", i) then len = 6
    elseif b >= 0xF0 then len = 4
    elseif b >= 0xE0 then len = 3
    elseif b >= 0xC0 then len = 2 end
    if i + len - 1 > n then return sub(s, 1, i - 1) end
    i = i + len
  end
end
local cut = M.cut

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
-- data layer (`command`), escaped (see cell) and cut to PROGNAME_WIDTH - 1
-- bytes at a character boundary; "-" when unknown.
function M.program_field(r)
  need_table("program_field", 1, r, "record")
  local procs = r.processes
  local p = procs and procs[1]
  if not p then
    if r.pid then
      return cut(sformat("%d/%s", int(r.pid), cell(r.command or r.program or "")), PROGNAME_WIDTH - 1)
    end
    return "-"
  end
  return cut(sformat("%d/%s", int(p.pid), cell(p.command or p.program or "")), PROGNAME_WIDTH - 1)
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

-- A line is built without an intermediate "host:port" string: the proto
-- column ("%-4s  " or "%-5s ") ready made, and the padding "%-23s" would
-- add to "host:port" taken from PADS by the length of host and port
-- (PADS_SPACE: the same and the blank after the column, for tcp4_line).
local PROTO_COLUMN = {}
for proto, labels in pairs(PROTO_LABEL) do
  local f = LINE_FORMAT[proto]:match("^%%%-%ds +")    -- "%-4s  " or "%-5s "
  PROTO_COLUMN[proto] = { inet = sformat(f, labels.inet), inet6 = sformat(f, labels.inet6) }
end
local PADS, PADS_SPACE = {}, {}   -- PADS_SPACE: the pad and the column's blank
for len = 0, 22 do
  PADS[len] = rep(" ", 22 - len)
  PADS_SPACE[len] = PADS[len] .. " "
end

-- "%6d " of a queue length; the small ones (nearly all) made once.
local QUEUE_COLUMN = setmetatable({}, { __index = function(t, v)
  local text = sformat("%6d ", v)
  if v >= 0 and v < 4096 then t[v] = text end
  return text
end })

-- ":port" of a port number: each made once (concatenating the number
-- itself formats it with snprintf, once per line and end), from two-digit
-- pieces rather than by tostring, which also goes through snprintf: a busy
-- host has tens of thousands of distinct ports, and making their texts was
-- a fifth of lnetstat -tan.
local DIGIT = {}
for d = 0, 9 do DIGIT[d] = sub("0123456789", d + 1, d + 1) end
local TWO_DIGITS, ONE_OR_TWO = {}, {}   -- "07" and "7" of 7
for i = 0, 99 do
  local ones = i % 10
  TWO_DIGITS[i] = DIGIT[(i - ones) / 10] .. DIGIT[ones]
  ONE_OR_TWO[i] = i < 10 and DIGIT[ones] or TWO_DIGITS[i]
end
local PORT_TEXT = setmetatable({}, { __index = function(t, v)
  if not (v >= 0 and v <= 65535 and v % 1 == 0) then return ":" .. tostring(v) end
  local low = v % 100
  local rest = (v - low) / 100
  local text
  if rest == 0 then
    text = ":" .. ONE_OR_TWO[low]
  else
    local mid = rest % 100
    local high = (rest - mid) / 100
    if high == 0 then
      text = ":" .. ONE_OR_TWO[mid] .. TWO_DIGITS[low]
    else
      text = ":" .. ONE_OR_TWO[high] .. TWO_DIGITS[mid] .. TWO_DIGITS[low]
    end
  end
  t[v] = text
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
    names = not (flags.numeric_hosts and flags.numeric_ports) and (opts.names or new_names()) or nil,
    extend = flags.extend > 0, programs = flags.programs, timers = flags.timers, plain = plain,
    users = opts.users or {}, numeric_users = flags.numeric_users,
    -- the fast path of inet_line: numeric, plain, not wide (PADS then
    -- says whether "host:port" fits)
    fast = flags.numeric_hosts and flags.numeric_ports and plain and not flags.wide or false,
    tcp4_column = PROTO_COLUMN.tcp.inet,
    -- the same with both queues empty, as nearly all are
    tcp4_idle = PROTO_COLUMN.tcp.inet .. QUEUE_COLUMN[0] .. QUEUE_COLUMN[0],
    state_column = setmetatable({}, { __index = function(t, v)
      local text = sformat("%-11s", v) .. eol
      t[v] = text
      return text
    end }),
    fmt_text = "%s%6d %6d %s:%s%s %s:%s%s %-11s" .. eol,
  }
end

-- The user column's name of a uid: the record's, else the user table's
-- (the runner's lookup; false or nil: print the uid).
local function user_of(c, r, uid)
  local user = r.user or c.users[uid]
  return user and cell(user) or nil
end

-- The line of an established IPv4 TCP socket under -tn/-tan (numeric,
-- plain, not wide), the bulk of a busy host: one concatenation of cached
-- columns, no table. nil when r is not such a socket or its endpoints do
-- not fit their columns: inet_line then formats it the general way.
local function tcp4_line(r, c)
  local lhost, rhost, lp, rp = r.local_addr, r.remote_addr, r.local_port, r.remote_port
  local state = r.state
  if not (lhost and rhost and lp and rp and lp ~= 0 and rp ~= 0 and state ~= "LISTEN"
      and state ~= "UNCONN") then
    return nil
  end
  local lport, rport = PORT_TEXT[lp], PORT_TEXT[rp]
  local lpad, rpad = PADS_SPACE[#lhost + #lport - 1], PADS_SPACE[#rhost + #rport - 1]
  if not (lpad and rpad) then return nil end
  local recv_q, send_q = r.recv_q, r.send_q
  local queues
  if recv_q == 0 and send_q == 0 then
    queues = c.tcp4_idle
  else
    queues = c.tcp4_column .. QUEUE_COLUMN[recv_q or 0] .. QUEUE_COLUMN[send_q or 0]
  end
  return queues .. lhost .. lport .. lpad .. rhost .. rport .. rpad .. c.state_column[state or ""]
end

-- One inet line, "\n" included.
local function inet_line(r, c)
  local proto, family = r.proto, r.family
  if c.fast and family == "inet" and proto == "tcp" then
    local line = tcp4_line(r, c)
    if line then return line end
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
-- opts: names (lnetstat.netstat.names; none: numeric), users = {[uid] =
-- name} for -e, header = false to leave out the title.
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
  local shown = rows.ordered_inet(list, flags)
  for i = 1, #shown do
    n = n + 1
    out[n] = inet_line(shown[i], c)
  end
  return concat(out, "", 1, n)
end

-- for lnetstat.netstat.run (the socket view streams lines through these)
M.inet_header, M.inet_context, M.inet_line = inet_header, inet_context, inet_line
M.tcp4_line = tcp4_line

return M
