-- Gathering (collect), the socket view that streams each_socket(), render
-- and the whole netstat command, built on the other lnetstat.format parts.
-- @module lnetstat.format.view

local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local tonumber, require, error, sformat = tonumber, require, error, string.format
local concat = table.concat
local util_mod = require "lnetstat.format.util"
local need_table, need_opts, read_file = util_mod.need_table, util_mod.need_opts, util_mod.read_file
local names_mod = require "lnetstat.format.names"
local new_names = names_mod.new_names
local args_mod = require "lnetstat.format.args"
local parse_args = args_mod.parse_args
local sockets_mod = require "lnetstat.format.sockets"
local inet_keep = sockets_mod.inet_keep
local inet_header = sockets_mod.inet_header
local inet_context = sockets_mod.inet_context
local inet_line = sockets_mod.inet_line
local ordered_inet = sockets_mod.ordered_inet
local unix_mod = require "lnetstat.format.unix"
local ordered_unix, unix_text = unix_mod.ordered_unix, unix_mod.unix_text
local groups_mod = require "lnetstat.format.groups"
local groups_text = groups_mod.groups_text
local interfaces_mod = require "lnetstat.format.interfaces"
local interfaces_text = interfaces_mod.interfaces_text
local routes_mod = require "lnetstat.format.routes"
local routes_text, routes6_text = routes_mod.routes_text, routes_mod.routes6_text
local route_context, routes_header, route_line =
  routes_mod.route_context, routes_mod.routes_header, routes_mod.route_line
local statistics_mod = require "lnetstat.format.statistics"
local statistics_text = statistics_mod.statistics_text

local M = {}

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
  local out = inet_view and ordered_inet(list, shown) or {}
  if unix_view then
    for _, r in ipairs(ordered_unix(list, shown)) do out[#out + 1] = r end
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
      local rows = ordered_inet(list, shown)
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
    -- only the fields the inet lines print (cheaper: fewer fields per
    -- record); the UNIX table needs them all
    local fields
    if not unix_view then
      fields = { "recv_q", "send_q", "local_addr", "remote_addr", "local_port", "remote_port",
        "protocol" }
      if shown.extend > 0 then fields[#fields + 1] = "uid"; fields[#fields + 1] = "inode" end
      if shown.timers then fields[#fields + 1] = "timer" end
    end
    -- the inet lines are rendered at once and the records dropped: one
    -- refilled table will do (the UNIX table keeps its records)
    local reuse = not unix_view and not flags.programs or nil
    local count, err, errno = ns.each_socket({ proto = protos, family = family, state = state,
      process = flags.programs or nil, netns = opts.netns or flags.netns, fields = fields,
      reuse = reuse }, function(r)
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
    emit(groups_text(groups, shown, ropts))
  end
  if unix_view then emit(unix_text(unix_list, shown, ropts)) end
  local notes = socket_notes(flags, euid, saw_owner)
  if write then
    if n > 0 then write(concat(out, "", 1, n)) end
    return "", notes
  end
  return concat(out, "", 1, n), notes
end

--- The route view (netstat -r). With opts.write and the IPv4 table, the
-- lines go out while each_route streams the routes (a full table is never
-- held); otherwise collect and render. Returns stdout_text, stderr_text or
-- nil, message, errno. opts: netns, lnetstat, files, write.
function M.route_view(flags, opts)
  need_table("route_view", 1, flags)
  need_opts("route_view", 2, opts)
  opts = opts or {}
  local write = opts.write
  if not write or (flags.inet6 and not flags.inet) then
    local data, err, errno = M.collect(flags, opts)
    if not data then return nil, err, errno end
    return M.render(flags, data, opts)
  end
  local ns = opts.lnetstat or require "lnetstat"
  local ctx = route_context(flags, { files = opts.files })
  local out, n = { routes_header(ctx) }, 1
  -- only the fields a line shows (lighter records for a full table)
  local count, err, errno = ns.each_route({ netns = opts.netns or flags.netns, family = "inet",
    fields = { "gateway", "interface", "type", "table", "metric", "metrics", "nexthops" } },
    function(r)
      local line = route_line(r, ctx)
      if line then
        n = n + 1
        out[n] = line
        if n >= 512 then
          write(concat(out, "", 1, n))
          n = 0
        end
      end
    end)
  if not count then return nil, err, errno end
  if n > 0 then write(concat(out, "", 1, n)) end
  return "", ""
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
    text = statistics_text(data.stats or {}, flags)
  elseif view == "route" then
    if flags.inet6 and not flags.inet then
      text = routes6_text(data.routes or {}, flags, ropts)
    else
      text = routes_text(data.routes or {}, flags, ropts)
    end
  else
    ropts.title = (opts.iteration or 1) == 1
    text = interfaces_text(data.interfaces or {}, flags, ropts)
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
  local flags, msg, code = parse_args(argv)
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
