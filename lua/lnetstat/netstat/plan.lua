-- netstat's flags as a plan, made once: the view, the tables it shows,
-- which data function the runner calls with which options and fields, and
-- which name files and lookups the renderers will need. Reads nothing.
-- @module lnetstat.netstat.plan

local pairs, ipairs = pairs, ipairs
local util_mod = require "lnetstat.format.util"
local need_table = util_mod.need_table

local M = {}

--- The view flags select: "statistics", "route", "interfaces" or "sockets".
function M.view_of(flags)
  if flags.statistics then return "statistics" end
  if flags.route then return "route" end
  if flags.interfaces then return "interfaces" end
  return "sockets"
end
local view_of = M.view_of

-- Which socket tables the socket view shows: netstat without a type shows
-- every inet type and UNIX sockets.
local function socket_tables(flags)
  if not flags.any_type then
    return { tcp = true, udp = true, udplite = true, raw = true }, true, true
  end
  local inet = { tcp = flags.tcp, udp = flags.udp, udplite = flags.udplite, raw = flags.raw }
  local inet_view = flags.tcp or flags.udp or flags.udplite or flags.raw
  return inet, inet_view, flags.unix
end

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

-- The fields an inet line prints (lighter records than all of them).
local function inet_fields(shown)
  local fields = { "recv_q", "send_q", "local_addr", "remote_addr", "local_port", "remote_port",
    "protocol" }
  if shown.extend > 0 then fields[#fields + 1] = "uid"; fields[#fields + 1] = "inode" end
  if shown.timers then fields[#fields + 1] = "timer" end
  return fields
end

-- The family option of a data call: one family when the flags ask for one.
local function one_family(flags)
  if flags.inet ~= flags.inet6 then return flags.inet and "inet" or "inet6" end
  return nil
end

--- The plan of a netstat view. Fields:
--   view        "sockets", "route", "interfaces" or "statistics"
--   flags       the parsed flags; shown, inet_view, unix_view (sockets)
--   sockets     options of sockets()/each_socket() (socket view with a table)
--   groups      options of groups() (-g)
--   routes      options of routes() (full records: what --json prints);
--               each_route the options of the streamed IPv4 table (nil for
--               -r -6, which is not streamed); routes_text the options of
--               routes() for the -r -6 text (the fields a line shows)
--   interfaces, stats   options of interfaces() / stats()
--   names       { ports = bool, hosts = bool }: the name files to read
--   users       whether -e's User column needs user names
--   euid        whether -p's note needs the effective uid
-- netns is left to the runner (it may come from elsewhere than the flags).
function M.new(flags)
  need_table("plan", 1, flags)
  local view = view_of(flags)
  local p = { view = view, flags = flags }
  if view == "statistics" then
    p.stats = {}
  elseif view == "interfaces" then
    p.interfaces = {}
  elseif view == "route" then
    local v6 = flags.inet6 and not flags.inet
    p.routes = { family = v6 and "inet6" or "inet", table = v6 and "all" or nil,
      null_entries = v6 or nil }
    -- only the fields a line shows (lighter records for a full table, and
    -- no flag letters: the Flags column follows its own rule)
    if v6 then
      -- table: where each table ends, for its null entry (lnetstat.netstat.rows)
      -- (rtf_flags and null_entries: the letters and the placeholder lines
      -- of a /proc answer)
      p.routes_text = { family = "inet6", table = "all", null_entries = true,
        fields = { "gateway", "interface", "type", "metric", "nexthops", "cloned", "table", "expires",
          "protocol", "rtf_flags" } }
    else
      p.each_route = { family = "inet",
        fields = { "gateway", "interface", "type", "table", "metric", "metrics", "nexthops", "rtf_flags" } }
    end
    p.names = { hosts = not flags.numeric_hosts, ports = false }
  else
    local shown, inet_view, unix_view = M.view_flags(flags)
    p.shown, p.inet_view, p.unix_view = shown, inet_view, unix_view
    local protos = {}
    if inet_view then
      for _, proto in ipairs { "tcp", "udp", "udplite", "raw" } do
        if shown[proto] then protos[#protos + 1] = proto end
      end
    end
    if unix_view then protos[#protos + 1] = "unix" end
    if #protos > 0 then
      -- The kernel filters states (cheap with many sockets) when only inet
      -- sockets are asked for; netstat's own selection is applied anyway.
      local state
      if not unix_view and not flags.all then
        state = flags.listening and "listening" or "connected"
      end
      p.sockets = {
        proto = protos, state = state, process = flags.programs and "first" or nil,
        family = (flags.any_type and not unix_view) and one_family(flags) or nil,
        -- the UNIX table needs every field; the inet lines only theirs
        fields = not unix_view and inet_fields(shown) or nil,
        -- the inet lines are rendered at once and the records dropped:
        -- one refilled table will do (the UNIX table keeps its records)
        reuse = (not unix_view and not flags.programs) or nil,
      }
    end
    if flags.groups then p.groups = { family = one_family(flags) } end
    p.names = { hosts = not flags.numeric_hosts, ports = inet_view and not flags.numeric_ports or false }
    p.users = inet_view and shown.extend > 0 and not flags.numeric_users or false
    p.euid = flags.programs or false
  end
  return p
end

return M
