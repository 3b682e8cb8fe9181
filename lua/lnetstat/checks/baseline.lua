-- `lnetstat check --init`: a check file for this host, made from what the
-- public API reads now: an allow-list of today's listeners with their
-- programs and users, the default route, the interfaces that are up and a
-- no_connection example, commented so that a person can edit it. It passes
-- on the host it was made on.
-- @module lnetstat.checks.baseline
local q = require "lnetstat.query"

local type, ipairs, tostring, format, concat, sort, byte =
  type, ipairs, tostring, string.format, table.concat, table.sort, string.byte

local M = {}

-- Host names (programs, users, interfaces) and the caller's netns go into
-- the generated Lua escaped: a string literal on one line, valid under Lua
-- 5.1 to 5.4 (\ and " escaped, control bytes as \ddd), and comment text
-- without control bytes (a newline would end the comment).
local function escape_byte(c) return format("\\%03d", byte(c)) end

local function quoted(s)
  s = tostring(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("[%z\1-\31\127]", escape_byte) .. '"'
end

local function comment_text(s)
  return (tostring(s):gsub("[%z\1-\31\127]", function(c) return format("\\x%02X", byte(c)) end))
end

-- The ephemeral port range (client sockets; a UDP client socket shows up
-- as "listening" while it waits for an answer).
local function ephemeral(netns)
  local f = netns == nil and io.open("/proc/sys/net/ipv4/ip_local_port_range", "r") or nil
  local lo, hi
  if f then
    lo, hi = (f:read("*l") or ""):match("^(%d+)%s+(%d+)")
    f:close()
  end
  return tonumber(lo) or 32768, tonumber(hi) or 60999
end

-- The interface is administratively up and its link is up (as interface_up).
local function is_up(r)
  local flags = r.flags
  if type(flags) ~= "table" then return false end
  if #flags > 0 then
    local s = {}
    for _, k in ipairs(flags) do s[k] = true end
    flags = s
  end
  local oper = tostring(r.operstate or ""):upper()
  local link = oper == "UP" or ((oper == "UNKNOWN" or oper == "") and (flags.RUNNING or flags.LOWER_UP))
  return flags.UP == true and link and true or false
end

local function entry_text(e)
  local parts = { "proto = " .. quoted(e.proto) }
  if #e.ports == 1 then
    parts[#parts + 1] = format("port = %d", e.ports[1])
  else
    parts[#parts + 1] = "port = { " .. concat(e.ports, ", ") .. " }"
  end
  if e.programs and #e.programs > 1 then
    local names = {}
    for i, name in ipairs(e.programs) do names[i] = quoted(name) end
    parts[#parts + 1] = "program = { " .. concat(names, ", ") .. " }"
  elseif e.program then
    parts[#parts + 1] = "program = " .. quoted(e.program)
  end
  if e.user then parts[#parts + 1] = "user = " .. quoted(e.user) end
  return "  { " .. concat(parts, ", ") .. " },"
end

-- The distinct programs among a socket's owners, sorted.
local function programs_of(r)
  local set, out = {}, {}
  local procs = type(r.processes) == "table" and #r.processes > 0 and r.processes or { { program = r.program } }
  for _, p in ipairs(procs) do
    if p.program ~= nil and not set[p.program] then
      set[p.program] = true
      out[#out + 1] = p.program
    end
  end
  sort(out)
  return out
end

--- The text of a check file for the host (or opts.netns), read through
-- opts.data (default: the lnetstat module). Returns text, or nil, message.
function M.generate(opts)
  opts = opts or {}
  local data = opts.data or require "lnetstat"
  local netns = opts.netns
  local lo, hi = ephemeral(netns)
  local list, err = data.listening { proto = { "tcp", "udp" }, process = true, netns = netns }
  if not list then return nil, "cannot read the listeners: " .. tostring(err) end
  local ifaces, ierr = data.interfaces { netns = netns, addresses = false }
  if not ifaces then return nil, "cannot read the interfaces: " .. tostring(ierr) end
  local routes, rerr = data.routes { family = "inet", netns = netns }
  if not routes then return nil, "cannot read the routes: " .. tostring(rerr) end

  -- listeners: one entry per protocol, program and user, with its ports
  local groups, order, unknown = {}, {}, 0
  for _, r in ipairs(list) do
    local local_only = q.loopback(r.local_addr)
    local client = r.proto == "udp" and r.local_port and r.local_port >= lo and r.local_port <= hi
    if not local_only and not client and r.local_port then
      if not r.program then unknown = unknown + 1 end
      -- every program holding the socket: listening_only wants each owner
      -- allowed (systemd and the daemon it passed a socket to, say)
      local programs = programs_of(r)
      local key = concat({ r.proto, concat(programs, "\1"), tostring(r.user) }, "\0")
      local g = groups[key]
      if not g then
        g = { proto = r.proto, program = r.program, programs = programs, user = r.program and r.user or nil,
          ports = {}, seen = {} }
        groups[key] = g
        order[#order + 1] = key
      end
      if not g.seen[r.local_port] then
        g.seen[r.local_port] = true
        g.ports[#g.ports + 1] = r.local_port
      end
    end
  end
  local entries = {}
  for _, key in ipairs(order) do
    local g = groups[key]
    sort(g.ports)
    entries[#entries + 1] = g
  end
  sort(entries, function(a, b)
    if a.proto ~= b.proto then return a.proto < b.proto end
    return a.ports[1] < b.ports[1]
  end)

  local out = {}
  local function add(s) out[#out + 1] = s or "" end
  add("-- A baseline of this host's network, written by `lnetstat check --init`"
    .. (netns and format(" for the network namespace %s", comment_text(netns)) or "") .. " on "
    .. os.date("!%Y-%m-%d %H:%M UTC") .. ".")
  add("-- It passes on the host it was made on. Edit it (remove what should not be")
  add("-- there, add what must be), commit it, and run it from cron, CI or Ansible:")
  add("--")
  add("--   lnetstat check baseline.lua                # exit 0 pass, 1 a check failed, 2 an error")
  add("--   lnetstat check baseline.lua --format junit --output baseline.xml")
  add("--   lnetstat check baseline.lua --within 30    # services may still be starting")
  add()
  add("-- Exactly these listeners, none missing, none extra. Each entry is a protocol")
  add("-- with its ports and the program and user that own them: a port taken by")
  add("-- another program fails. Listeners on loopback only are ignored, and so are")
  add(format("-- UDP client sockets on ephemeral ports (%d-%d).", lo, hi))
  if unknown > 0 then
    add(format("-- %d listeners had no readable owner (run --init as root to name them).", unknown))
  end
  add("listening_only {")
  for _, e in ipairs(entries) do add(entry_text(e)) end
  add(format("  ignore = { { addr = loopback }, { proto = \"udp\", port = range(%d, %d) } },", lo, hi))
  add("}")
  add()

  local default
  for _, r in ipairs(routes) do
    if (r.dst == "0.0.0.0/0" or r.dst == "default") and (r.type == nil or r.type == "unicast") then
      default = default or r
    end
  end
  add("-- The default route (where traffic to the rest of the world goes).")
  if default then
    local parts = {}
    if default.gateway then parts[#parts + 1] = "via = " .. quoted(default.gateway) end
    if default.interface then parts[#parts + 1] = "interface = " .. quoted(default.interface) end
    add("default_route { " .. concat(parts, ", ") .. " }")
  else
    add("-- (this host had none when the file was made)")
    add("-- default_route { via = \"198.51.100.254\", interface = \"eth0\" }")
  end
  add()

  local up = {}
  for _, r in ipairs(ifaces) do
    if r.name and is_up(r) then up[#up + 1] = r.name end
  end
  sort(up)
  add("-- The interfaces that were up (administratively and with a link).")
  for _, name in ipairs(up) do add("interface_up " .. quoted(name)) end
  if #up == 0 then add("-- (none was up)") end
  add()

  add("-- No connection to IRC ports: a classic botnet command channel. Add the")
  add("-- ports and networks this host must never talk to.")
  add("no_connection { state = \"ESTABLISHED\", remote_port = { 6667, 6697 },")
  add("  title = \"no IRC connection\" }")
  return concat(out, "\n") .. "\n"
end

return M
