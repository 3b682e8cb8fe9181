-- Runs a netstat plan against the data layer: the one module of the netstat
-- emulation that calls `require "lnetstat"` and reads files (the name
-- files, /proc/self/status for -p's note). Socket and IPv4 route tables are
-- rendered while each_socket() and each_route() hand the records over.
-- @module lnetstat.netstat.run

local type, ipairs, pairs, tostring, pcall = type, ipairs, pairs, tostring, pcall
local tonumber, require, error, setmetatable = tonumber, require, error, setmetatable
local sformat, concat = string.format, table.concat
local util_mod = require "lnetstat.format.util"
local need_table, need_opts = util_mod.need_table, util_mod.need_opts
local cliargs = require "lnetstat.cliargs"
local flags_mod = require "lnetstat.netstat.flags"
local plan_mod = require "lnetstat.netstat.plan"
local rows = require "lnetstat.netstat.rows"
local new_names = require("lnetstat.netstat.names").new_names
local inet = require "lnetstat.netstat.text.inet"
local inet_header, inet_context, inet_line = inet.inet_header, inet.inet_context, inet.inet_line
local tcp4_line = inet.tcp4_line
local inet_keep, ordered_inet = rows.inet_keep, rows.ordered_inet
-- The renderers of the other views are loaded when their view is shown:
-- `lnetstat -tan` compiles the inet renderer alone.
local function text_module(name) return require("lnetstat.netstat.text." .. name) end
local function unix_text(...) return text_module("unix").unix_text(...) end
local function groups_text(...) return text_module("groups").groups_text(...) end
local function interfaces_text(...) return text_module("interfaces").interfaces_text(...) end
local function routes_text(...) return text_module("routes").routes_text(...) end
local function routes6_text(...) return text_module("routes").routes6_text(...) end
local function route_context(...) return text_module("routes").route_context(...) end
local function routes_header(...) return text_module("routes").routes_header(...) end
local function statistics_text(...) return text_module("statistics").statistics_text(...) end

local M = {}

local BATCH = 512   -- lines per write of a streamed view

-- Files and lookups the renderers are handed --------------------------------------

--- The name files read without -n (opts.files overrides each path).
M.FILES = {
  services = "/etc/services", protocols = "/etc/protocols",
  hosts = "/etc/hosts", networks = "/etc/networks",
}

local lutil = require "lnetstat.util"
local read_file = lutil.read_file

--- A name table (lnetstat.netstat.names) over the name files a view needs:
-- needs = {ports = bool, hosts = bool} (services and protocols; hosts and
-- networks), files = {services=, ...} (paths; default M.FILES). A missing
-- file names nothing.
function M.load_names(needs, files)
  local texts = {}
  local function load(kind)
    texts[kind] = read_file((files and files[kind]) or M.FILES[kind])
  end
  if needs and needs.ports then load("services"); load("protocols") end
  if needs and needs.hosts then load("hosts"); load("networks") end
  return new_names(texts)
end

--- A user table for -e's User column: uid -> name (false when the uid has
-- none), each uid looked up once through the C core's getpwuid. core: the
-- C module (default: lnetstat's).
function M.user_table(core)
  return setmetatable({}, { __index = function(t, uid)
    if core == nil then
      local ok, ns = pcall(require, "lnetstat")
      core = ok and type(ns) == "table" and ns.core or false
    end
    local name = false
    if core and core.user_names then
      local got = core.user_names({ uid })
      name = type(got) == "table" and got[uid] or false
    end
    t[uid] = name
    return name
  end })
end

--- The options a renderer is called with: opts (copied) with the name
-- table and user table the plan says it needs, unless opts has them.
function M.text_opts(p, opts)
  local out = {}
  for k, v in pairs(opts or {}) do out[k] = v end
  if out.names == nil and p.names and (p.names.hosts or p.names.ports) then
    out.names = M.load_names(p.names, out.files)
  end
  if out.users == nil and p.users then out.users = M.user_table(out.core) end
  return out
end

-- The effective uid of this process, for netstat's "-p" note.
local function effective_uid()
  local text = read_file("/proc/self/status")
  local euid = text and text:match("\nUid:%s+%d+%s+(%d+)")
  return tonumber(euid)
end

-- A data call's options: the plan's, with netns, without what only the
-- streamed form takes (fields, reuse) unless streamed.
local function call_opts(options, netns, streamed)
  local out = {}
  for k, v in pairs(options) do
    if streamed or (k ~= "fields" and k ~= "reuse") then out[k] = v end
  end
  out.netns = netns
  return out
end

-- The netns a view reads (opts.netns, else the --netns of the flags),
-- checked up front as every data function checks it: a bad one is an
-- error naming fname at the caller's line, never one from inside a data
-- call.
local function view_netns(fname, flags, opts)
  local netns, n = opts.netns, 2
  if netns == nil then netns, n = flags.netns, 1 end
  if netns ~= nil then
    lutil.validate(function() require("lnetstat.options").netns(fname, n, netns) end)
  end
  return netns
end

--- The longest -c interval, in seconds (a day).
M.MAX_INTERVAL = 86400

--- Checks what the command's flags ask for beyond their grammar: a --netns
-- the data functions take, a -c interval of 1 to M.MAX_INTERVAL whole
-- seconds (-c0 would spin). Returns true, or nil and a usage message.
function M.check_flags(flags)
  need_table("check_flags", 1, flags)
  if flags.continuous and not flags.statistics then
    local iv = flags.interval
    if not lutil.is_integer(iv) or iv < 1 or iv > M.MAX_INTERVAL then
      return nil, sformat("lnetstat: -c needs a whole number of seconds from 1 to %d, got %s",
        M.MAX_INTERVAL, type(iv) == "number" and lutil.number_text(iv) or tostring(iv))
    end
  end
  if flags.netns ~= nil then
    local ok, err = pcall(require("lnetstat.options").netns, "--netns", 1, flags.netns)
    if not ok then
      return nil, "lnetstat: --netns: " .. (tostring(err):match("^bad argument #%d+ to '[^']*' %((.*)%)$")
        or tostring(err))
    end
  end
  return true
end

-- Gathering -----------------------------------------------------------------------

--- Reads what a view needs from the kernel: a table with sockets,
-- interfaces, routes, groups or stats, or nil, message, errno.
-- opts.netns, opts.lnetstat (the data module; default require "lnetstat").
function M.collect(flags, opts)
  need_table("collect", 1, flags)
  need_opts("collect", 2, opts)
  opts = opts or {}
  local netns = view_netns("collect", flags, opts)
  local p = plan_mod.new(flags)
  local ns = opts.lnetstat or require "lnetstat"
  local data = {}
  for _, what in ipairs { "stats", "routes", "interfaces", "sockets", "groups" } do
    if p[what] then
      local value, err, errno = ns[what](call_opts(p[what], netns))
      if not value then return nil, err, errno end
      data[what] = value
    end
  end
  return data
end

--- The socket records the text view would show, in its order (inet rows,
-- then UNIX rows): what --json prints.
function M.select_sockets(list, flags)
  need_table("select_sockets", 1, list, "list")
  need_table("select_sockets", 2, flags)
  return rows.sockets(list, plan_mod.view_flags(flags))
end

-- The views -----------------------------------------------------------------------

-- net-tools reads SCTP's endpoints (listening) and its associations (the
-- others) in two tries: -a makes both, and both fail, so its note comes
-- twice with -a and once otherwise.
local SCTP_NOTE = "netstat: no support for `AF INET (sctp)' on this system.\n"
local VERBOSE_NOTES = {
  "netstat: no support for `AF IPX' on this system.\n",
  "netstat: no support for `AF AX25' on this system.\n",
  "netstat: no support for `AF X25' on this system.\n",
  "netstat: no support for `AF NETROM' on this system.\n",
  "netstat: no support for `AF ROSE' on this system.\n",
}

-- What netstat writes to stderr in a socket view: the "-p" note when some
-- process's fd directory could not be opened (which of its two notes depends on
-- whether any socket's owner could be read at all, in the whole walk of
-- /proc), and with -v the address families this system lacks. scan: the
-- owner walk's facts (each_socket's summary.owner_scan); without one (the
-- records came from elsewhere), the note goes by euid and the records.
local function socket_notes(flags, euid, saw_owner, scan)
  local err = {}
  local noted = euid ~= 0
  if scan then noted, saw_owner = scan.unlisted > 0, scan.sockets > 0 end
  if flags.programs and noted then
    err[#err + 1] = saw_owner and "(Not all processes could be identified, non-owned process info\n"
      .. " will not be shown, you would have to be root to see it all.)\n"
      or sformat("(No info could be read for \"-p\": geteuid()=%d but you should be root.)\n", euid or -1)
  end
  if flags.verbose and not flags.any_type then
    err[#err + 1] = SCTP_NOTE
    if flags.all then err[#err + 1] = SCTP_NOTE end
    for _, line in ipairs(VERBOSE_NOTES) do err[#err + 1] = line end
  end
  return concat(err)
end

local INET_PROTO = { tcp = true, udp = true, udplite = true, raw = true }

--- The socket view (the inet table, -g's table, the UNIX table), rendered
-- while each_socket() hands the records over, so that 100,000 sockets never
-- sit in memory at once (TCP's IPv6 lines wait, as text, for the end of its
-- IPv4 ones). Returns stdout_text, stderr_text, or nil, message,
-- errno. opts: netns, lnetstat (the data module), data = {sockets=,
-- groups=} (lists to render instead of the kernel's), write =
-- function(text) (stream stdout through it in batches; stdout_text is then
-- ""), euid, files, names, users, core. With -p when not root, netstat's
-- note comes before the tables: then nothing is streamed, and the caller
-- writes stderr_text first.
function M.socket_view(flags, opts)
  need_table("socket_view", 1, flags)
  need_opts("socket_view", 2, opts)
  opts = opts or {}
  local netns = view_netns("socket_view", flags, opts)
  local p = plan_mod.new(flags)
  local shown, inet_view, unix_view = p.shown, p.inet_view, p.unix_view
  local data = opts.data or {}
  local euid = opts.euid
  if euid == nil and p.euid then euid = effective_uid() end
  local note_first = flags.programs and euid ~= 0
  local write = not note_first and opts.write or nil
  local out, n = {}, 0
  -- written in batches of BATCH lines: no 8 MB string, and the heap pages
  -- of the lines written are reused for the next ones
  local function write_out()
    write(concat(out, "", 1, n))
    n = 0
  end
  local function emit(text)
    n = n + 1
    out[n] = text
    if write and n >= BATCH then write_out() end
  end
  local ropts = M.text_opts(p, opts)
  local c = inet_context(shown, ropts)
  local unix_list, saw_owner, scan = {}, false, nil
  if inet_view then emit(inet_header(shown)) end
  if data.sockets then
    local list = data.sockets
    for i = 1, #list do
      local r = list[i]
      if r.processes or r.pid then saw_owner = true end
      if r.proto == "unix" then unix_list[#unix_list + 1] = r end
    end
    if inet_view then
      local shown_rows = ordered_inet(list, shown)
      for i = 1, #shown_rows do emit(inet_line(shown_rows[i], c)) end
    end
  elseif p.sockets then
    local ns = opts.lnetstat or require "lnetstat"
    local want = { tcp = shown.tcp, udp = shown.udp, udplite = shown.udplite, raw = shown.raw }
    local fams = { inet = shown.inet, inet6 = shown.inet6 }
    local all = flags.all
    -- each_socket delivers protocol by protocol: netstat's order, so the
    -- lines can go out as they come (but for TCP's IPv6 lines, below)
    -- whether an owner was seen matters only to the note of -p without root
    local look_for_owners = flags.programs and euid ~= 0
    -- -tn/-tan on a busy host: nearly every record is a connected IPv4 TCP
    -- socket, whose line the renderer's short path makes (it takes only
    -- sockets with a remote port: netstat shows them unless -l comes alone)
    local tcp4_shown = c.fast and want.tcp and fams.inet and (all or not flags.listening)
    -- A TCP dump hands both families over in one walk of the kernel's
    -- tables: the IPv6 lines wait here (as text) until the protocol ends,
    -- so that they follow its IPv4 lines as in netstat.
    local later, nlater, later_proto = {}, 0, nil
    local function flush_later()
      for i = 1, nlater do emit(later[i]) end
      later, nlater = {}, 0
    end
    local count, summary, errno = ns.each_socket(call_opts(p.sockets, netns, true), function(r)
      local proto = r.proto
      if nlater > 0 and proto ~= later_proto then flush_later() end
      local line
      if tcp4_shown and proto == "tcp" and r.family == "inet" then line = tcp4_line(r, c) end
      if not line then
        if look_for_owners and (r.processes or r.pid) then saw_owner = true end
        if INET_PROTO[proto] then
          if want[proto] and fams[r.family] and (all or inet_keep(r, shown)) then
            line = inet_line(r, c)
          end
        elseif proto == "unix" then
          unix_list[#unix_list + 1] = r
        end
      end
      if line then
        if r.family == "inet6" then
          nlater = nlater + 1
          later[nlater] = line
          later_proto = proto
        else
          n = n + 1   -- emit(line), without a call per line
          out[n] = line
          if write and n >= BATCH then write_out() end
        end
      end
    end)
    if not count then return nil, summary, errno end
    flush_later()
    scan = summary.owner_scan
  end
  if p.groups then
    local groups = data.groups
    if not groups then
      local ns = opts.lnetstat or require "lnetstat"
      local err, errno
      groups, err, errno = ns.groups(call_opts(p.groups, netns))
      if not groups then return nil, err, errno end
    end
    emit(groups_text(groups, shown, ropts))
  end
  if unix_view then emit(unix_text(unix_list, shown, ropts)) end
  local notes = socket_notes(flags, euid, saw_owner, scan)
  if write then
    if n > 0 then write_out() end
    return "", notes
  end
  return concat(out, "", 1, n), notes
end

--- The route view (netstat -r). With opts.write and the IPv4 table, the
-- lines go out while each_route streams the routes (a full table is never
-- held); with opts.write and -r -6, routes() builds only the fields the
-- lines show; otherwise collect and render. Returns stdout_text,
-- stderr_text or nil, message, errno. opts: netns, lnetstat, files, names,
-- write. Two families or more named (-r -4 -6, -A inet6,inet: the
-- flags.families of parse_args) show a table each, in their order, as
-- netstat does.
function M.route_view(flags, opts)
  need_table("route_view", 1, flags)
  need_opts("route_view", 2, opts)
  opts = opts or {}
  local netns = view_netns("route_view", flags, opts)
  local families = flags.families
  if type(families) == "table" and #families > 1 then
    local texts = {}
    for i, af in ipairs(families) do
      local one = {}
      for k, v in pairs(flags) do one[k] = v end
      one.families, one.inet, one.inet6 = nil, af == "inet", af == "inet6"
      local text, notes, errno = M.route_view(one, opts)
      if not text then return nil, notes, errno end
      texts[i] = text
    end
    return concat(texts), ""
  end
  local p = plan_mod.new(flags)
  local write = opts.write
  if write and p.routes_text then
    -- -r -6: one list, of the fields its lines show
    local ns = opts.lnetstat or require "lnetstat"
    local list, err, errno = ns.routes(call_opts(p.routes_text, netns, true))
    if not list then return nil, err, errno end
    return M.render(flags, { routes = list }, opts)
  end
  if not write or not p.each_route then
    local data, err, errno = M.collect(flags, opts)
    if not data then return nil, err, errno end
    return M.render(flags, data, opts)
  end
  local ns = opts.lnetstat or require "lnetstat"
  local ctx = route_context(flags, M.text_opts(p, opts))
  local route_line = text_module("routes").route_line   -- per route: no wrapper
  local out, n = { routes_header(ctx) }, 1
  local count, err, errno = ns.each_route(call_opts(p.each_route, netns, true),
    function(r)
      local line = route_line(r, ctx)
      if line then
        n = n + 1
        out[n] = line
        if n >= BATCH then
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
-- Returns stdout_text, stderr_text. opts: files, names, users, euid,
-- iteration (-c: the interface title only on the first), write =
-- function(text) (socket views: stream stdout through it, see
-- M.socket_view).
function M.render(flags, data, opts)
  need_table("render", 1, flags)
  need_table("render", 2, data)
  need_opts("render", 3, opts)
  opts = opts or {}
  local p = plan_mod.new(flags)
  local view = p.view
  if view == "sockets" then
    local sopts = {}
    for k, v in pairs(opts) do sopts[k] = v end
    sopts.data = { sockets = data.sockets or {}, groups = data.groups or {} }
    return M.socket_view(flags, sopts)
  end
  local ropts = M.text_opts(p, opts)
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

--- What `netstat <argv...>` prints: stdout_text, stderr_text, exit_code
-- (netstat's: 0, 1 data error, 3 usage error). See lnetstat.format.
function M.netstat(argv, opts)
  if type(argv) ~= "table" then
    error("bad argument #1 to 'netstat' (table expected, got " .. type(argv) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'netstat' (table or nil expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  local flags, msg, code = flags_mod.parse_args(argv)
  if not flags then return "", msg .. "\n", code end
  if opts.netns ~= nil then view_netns("netstat", flags, opts) end
  -- a bad --netns in argv is a usage error, as netstat's own are
  if flags.netns ~= nil then
    local ok, why = M.check_flags({ netns = flags.netns })
    if not ok then return "", why .. "\n", 3 end
  end
  if flags.help or flags.version then
    return "", "lnetstat: -h and -V are not netstat views\n", 3
  end
  local out, err, errno
  if opts.data then
    out, err = M.render(flags, opts.data, opts)
  elseif plan_mod.view_of(flags) == "sockets" then
    out, err, errno = M.socket_view(flags, opts)
  elseif plan_mod.view_of(flags) == "route" then
    out, err, errno = M.route_view(flags, opts)
  else
    local data
    data, err, errno = M.collect(flags, opts)
    if data then out, err = M.render(flags, data, opts) end
  end
  if not out then return "", sformat("netstat: %s\n", tostring(err)), 1, errno end
  return out, err, 0
end

-- The command's loop ---------------------------------------------------------------

-- Sleeps for the -c interval; false when the sleep was interrupted.
local function sleep(seconds)
  local a, how, code = os.execute(sformat("sleep %d", seconds))
  if type(a) == "number" then return a == 0 end          -- Lua 5.1: the wait status
  if how == "signal" then return false end
  return a == true or code == 0
end

-- The records a --json view shows: the same selection as the text.
local function json_value(flags, data)
  local view = plan_mod.view_of(flags)
  if view == "statistics" then return data.stats end
  if view == "route" then return rows.select_routes(data.routes or {}, flags) end
  if view == "interfaces" then return rows.select_interfaces(data.interfaces or {}, flags) end
  local sockets = data.sockets and M.select_sockets(data.sockets, flags)
  if data.groups and sockets and #sockets > 0 then
    return { sockets = sockets, groups = rows.select_groups(data.groups, flags) }
  end
  if data.groups then return rows.select_groups(data.groups, flags) end
  return sockets or {}
end

-- The last guard between the views and the terminal. The renderers write
-- what the host names (programs, users, UNIX paths, interfaces) through
-- lnetstat.netstat.text.inet's cell(), so a process called "\27[2J" is
-- already "\x1B[2J"; this scan makes sure that nothing else, whatever its
-- path, drives the reader's terminal. The one control character the views
-- produce is the newline that ends each line (they align with spaces, never
-- tabs): it is kept, and every other one (tab included), DEL, a C1 control
-- (U+0080..U+009F) and each byte outside valid UTF-8 (a lone 0x9B, the
-- 8-bit CSI, among them) is written as cell() writes it (\xNN, \u00NN).
-- Printable ASCII and newlines, nearly every view, pass with one anchored
-- match (an anchored run is a few times cheaper than a search for a byte
-- outside it, which starts a match at every position).
local terminal_safe = inet.lines
M.terminal_safe = terminal_safe

local function write_stdout(text)
  io.stdout:write(terminal_safe(text))
end

local function write_raw(text)
  io.stdout:write(text)
end

-- True when a socket view can show no text the host names: only inet
-- tables, numeric hosts and ports, no user names, programs, UNIX paths or
-- interface names (-g). Its lines are then kernel numbers, addresses and
-- the fixed state and timer words, and go out without the scan (which was
-- more than half the CPU of `lnetstat -tan`).
local function kernel_numbers_only(flags)
  local p = plan_mod.new(flags)
  return not p.unix_view and not p.groups and p.names and not p.names.hosts
    and not p.names.ports and not p.users and not flags.programs
end
M.kernel_numbers_only = kernel_numbers_only

-- --netns all: the view once per namespace, the caller's own first, then
-- each named one by name, each headed by "Namespace: NAME" ("Namespace:
-- (own)" for the caller's own), an empty line between two. A named
-- namespace that cannot be read says why on stderr under its heading and
-- the others are still shown; the caller's own failing fails the command.
local function command_all(flags, opts)
  local engine = require "lnetstat.source.engine"
  local continuous = flags.continuous and not flags.statistics
  while true do
    local targets, err = engine.all_namespaces()
    if not targets then
      io.stderr:write("lnetstat: ", terminal_safe(tostring(err)), "\n")
      return cliargs.ERROR
    end
    for i, t in ipairs(targets) do
      local one = {}
      for k, v in pairs(flags) do one[k] = v end
      one.netns, one.continuous = t.path, false
      io.stdout:write(i > 1 and "\n" or "", "Namespace: ", t.name and inet.cell(t.name) or "(own)", "\n")
      io.stdout:flush()
      local code = M.command(one, opts)
      if code ~= cliargs.OK and t.name == nil then return code end
    end
    if not continuous then return cliargs.OK end
    if not sleep(flags.interval) then return cliargs.INTERRUPTED end
  end
end

--- `lnetstat [netstat flags]` once parsed: prints the view (streamed, or
-- as JSON with --json), every flags.interval seconds with -c. Returns the
-- exit code (lnetstat.cliargs). opts.json: the JSON encoder (text of a
-- value).
function M.command(flags, opts)
  need_table("command", 1, flags)
  opts = opts or {}
  local fine, why = M.check_flags(flags)
  if not fine then
    io.stderr:write(why, "\n", "Try 'lnetstat --help' for more information.\n")
    return cliargs.USAGE
  end
  if flags.netns == "all" and not flags.json then return command_all(flags, opts) end
  -- netstat -s prints once whatever -c says
  local continuous = flags.continuous and not flags.statistics
  local view = plan_mod.view_of(flags)
  local iteration = 0
  while true do
    iteration = iteration + 1
    local text, notes, err
    if flags.json then
      local data
      data, err = M.collect(flags, { netns = flags.netns })
      text = data and (opts.json(json_value(flags, data)) .. "\n")
    elseif view == "sockets" then
      -- streamed: the lines go out as the kernel hands the sockets over
      local write = kernel_numbers_only(flags) and write_raw or write_stdout
      text, notes = M.socket_view(flags, { netns = flags.netns, write = write })
      err = notes
    elseif view == "route" then
      -- streamed too: a full routing table is never held
      text, notes = M.route_view(flags, { netns = flags.netns, write = write_stdout })
      err = notes
    else
      local data
      data, err = M.collect(flags, { netns = flags.netns })
      if data then text = M.render(flags, data, { iteration = iteration }) end
    end
    if not text then
      io.stdout:flush()
      io.stderr:write("lnetstat: ", terminal_safe(tostring(err)), "\n")
      return cliargs.ERROR
    end
    -- netstat writes its notes (stderr) before the tables; socket_view
    -- streams nothing when a note must come first
    if notes and notes ~= "" then
      io.stdout:flush()
      io.stderr:write(notes)
    end
    io.stdout:write(terminal_safe(text))
    io.stdout:flush()
    if not continuous then return cliargs.OK end
    if not sleep(flags.interval) then return cliargs.INTERRUPTED end
  end
end

return M
