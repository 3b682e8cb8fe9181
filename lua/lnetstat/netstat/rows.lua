-- Which records a netstat view shows, and in which order: netstat's
-- selection rules (-l, -a, -4, -6, the hidden route types, interfaces that
-- are down) and its orderings, records in, records out. Renders nothing,
-- reads nothing.
-- @module lnetstat.netstat.rows

local ipairs, tonumber, sub, insert, sort = ipairs, tonumber, string.sub, table.insert, table.sort
local util_mod = require "lnetstat.format.util"
local need_table = util_mod.need_table

local M = {}

-- Sockets ---------------------------------------------------------------------------

-- netstat's -l / default / -a selection of an inet socket: TCP is a
-- server when its remote port is 0, UDP and raw when the remote address is
-- all zeros.
function M.inet_keep(r, flags)
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
local inet_keep = M.inet_keep

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

--- The socket records a socket view shows, in its order (inet rows, then
-- UNIX rows): shown, inet_view and unix_view as lnetstat.netstat.plan's
-- view_flags returns them.
function M.sockets(list, shown, inet_view, unix_view)
  local out = inet_view and M.ordered_inet(list, shown) or {}
  if unix_view then
    for _, r in ipairs(M.ordered_unix(list, shown)) do out[#out + 1] = r end
  end
  return out
end

-- Routes ----------------------------------------------------------------------------

-- Route types /proc/net/route leaves out.
local ROUTE_HIDDEN = { broadcast = true, multicast = true, ["local"] = true, anycast = true }

--- Whether netstat -r shows an IPv4 route: the main table but broadcast,
-- multicast, local and anycast ones (as /proc/net/route).
function M.shows_v4(r)
  local bits = r.rtf_flags
  if bits and not bits.UP then return false end -- as net-tools reads the file
  return (r.family == nil or r.family == "inet") and (r.table == nil or r.table == 254)
    and not ROUTE_HIDDEN[r.type]
end

--- Whether netstat -r -6 shows an IPv6 route: every table, no clones
-- (RTF_CACHE in a /proc record's rtf_flags), no anycast.
function M.shows_v6(r)
  local bits = r.rtf_flags
  return r.family == "inet6" and not r.cloned and not (bits and bits.CACHE)
    and r.type ~= "anycast"
end

-- The IPv6 tables every namespace has, whether or not they hold a route.
local V6_TABLES = { 254, 255 }

-- The placeholder /proc/net/ipv6_route shows at the root of table id when
-- no ::/0 route is there (the kernel's fib6_null_entry; rtnetlink never
-- lists it): ::/0 unreachable on lo, metric 0xffffffff ("!n -1 ... lo").
local function null_entry(id)
  return { family = "inet6", dst = "::/0", type = "unreachable", table = id,
    metric = 4294967295, interface = "lo", protocol = "kernel", null_entry = true }
end

-- netstat -r -6's rows: the IPv6 routes as /proc/net/ipv6_route lists them.
-- It walks the tables in the kernel's table order (by id modulo 256, the
-- rtnetlink dump's order too; within one id modulo 256, the dump's order)
-- and ends a table that has no ::/0 route with that table's null entry,
-- main and local always (an empty list too: a namespace without routes).
-- When a record has no table (the /proc fallback, which cannot name
-- tables), which tables there are is not known: no null entries are made,
-- those the file has come with the records (routes' null_entries option). An empty
-- custom table keeps its null entry in /proc but is invisible over
-- rtnetlink: that one line is missing.
local function v6_rows(list)
  local shown = {}
  for _, r in ipairs(list) do
    if M.shows_v6(r) then shown[#shown + 1] = r end
  end
  local by_table, order, has_default = {}, {}, {}
  for _, r in ipairs(shown) do
    local id = r.table
    if id == nil then return shown end
    local rows = by_table[id]
    if not rows then
      rows = {}
      by_table[id] = rows
      order[#order + 1] = id
    end
    rows[#rows + 1] = r
    if r.dst == "::/0" then has_default[id] = true end
  end
  for _, id in ipairs(V6_TABLES) do
    if not by_table[id] then
      by_table[id] = {}
      order[#order + 1] = id
    end
  end
  -- a stable sort by id modulo 256 (table.sort is not stable)
  local rank = {}
  for i, id in ipairs(order) do rank[id] = i end
  sort(order, function(a, b)
    local ha, hb = a % 256, b % 256
    if ha ~= hb then return ha < hb end
    return rank[a] < rank[b]
  end)
  local out = {}
  for _, id in ipairs(order) do
    for _, r in ipairs(by_table[id]) do out[#out + 1] = r end
    if not has_default[id] then out[#out + 1] = null_entry(id) end
  end
  return out
end

--- The route records netstat -r would show (-6 and not -4: the IPv6 ones,
-- with the null entries /proc/net/ipv6_route shows, marked null_entry =
-- true: see v6_rows).
function M.select_routes(list, flags)
  need_table("select_routes", 1, list, "list")
  need_table("select_routes", 2, flags)
  if flags.inet6 and not flags.inet then return v6_rows(list) end
  local shows = M.shows_v4
  local out = {}
  for _, r in ipairs(list) do
    if shows(r) then out[#out + 1] = r end
  end
  return out
end

-- Multicast groups ------------------------------------------------------------------

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

-- Interfaces ------------------------------------------------------------------------

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
M.nstrcmp = nstrcmp

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
  insert(entries, i + 1, e)
  return e, true
end

--- netstat's interface rows ({name=, rec=, stats=}): sorted as it sorts
-- them, IPv4 address labels (eth0:1) as rows of their own (the device's
-- flags and MTU, no statistics), only interfaces that are up unless -a.
function M.interface_rows(list, flags)
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
  for _, e in ipairs(M.interface_rows(list, flags)) do
    if e.stats then out[#out + 1] = e.rec end
  end
  return out
end

return M
