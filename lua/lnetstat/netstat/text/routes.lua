-- netstat -r (IPv4, as /proc/net/route) and -r -6: records and a name
-- table in, text out.
-- @module lnetstat.netstat.text.routes

local ipairs, tonumber, sformat, sub, find = ipairs, tonumber, string.format, string.sub, string.find
local concat = table.concat
local util_mod = require "lnetstat.format.util"
local int = util_mod.int
local need_table = util_mod.need_table
local need_opts = util_mod.need_opts
local prefix_mask = util_mod.prefix_mask
local dotted = util_mod.dotted
local names_mod = require "lnetstat.netstat.names"
local new_names = names_mod.new_names
local rows = require "lnetstat.netstat.rows"
local shows_v4, select_routes = rows.shows_v4, rows.select_routes
local inet_mod = require "lnetstat.netstat.text.inet"
local cell, cut = inet_mod.cell, inet_mod.cut

local M = {}

-- Routes ----------------------------------------------------------------------------

-- The Flags column is not the record's flags field (lnetstat.source.routes'
-- route_flags), on purpose: it is what net-tools prints from the kernel's
-- /proc files, and that differs. IPv4 (/proc/net/route): only unreachable
-- and prohibit are RTF_REJECT (a blackhole or throw route shows "U"), "!"
-- replaces the letters before it ("!H", where the record says "UH!"), and
-- D for a redirect-protocol route never appears. IPv6 (/proc/net/ipv6_route
-- as inet6_gr reads it): "!" replaces U for unreachable, prohibit and
-- blackhole routes, "n" marks local and reject routes, and a /128 has no
-- H ("U", where the record says "UH"). The plan asks each_route for fields
-- without flags, so netstat -r over a full table builds no record letters.

-- Route types /proc/net/route marks RTF_REJECT.
local ROUTE_REJECT = { unreachable = true, prohibit = true }

-- A record read from the /proc files brings the file's RTF_* bits by name
-- (rtf_flags): the letters are net-tools' of those bits, in its order.
-- IPv4: U and G, then "!" in place of them, then the rest.
local V4_AFTER_REJECT = { { "HOST", "H" }, { "REINSTATE", "R" }, { "DYNAMIC", "D" },
  { "MODIFIED", "M" } }
local function v4_letters(bits)
  local letters = (bits.UP and "U" or "") .. (bits.GATEWAY and "G" or "")
  if bits.REJECT then letters = "!" end
  for _, l in ipairs(V4_AFTER_REJECT) do
    if bits[l[1]] then letters = letters .. l[2] end
  end
  return letters
end
-- IPv6: each bit its letter.
local V6_LETTERS = { { "UP", "U" }, { "REJECT", "!" }, { "GATEWAY", "G" }, { "HOST", "H" },
  { "DEFAULT", "D" }, { "ADDRCONF", "A" }, { "CACHE", "C" }, { "ALLONLINK", "a" },
  { "EXPIRES", "e" }, { "MODIFIED", "m" }, { "NONEXTHOP", "n" }, { "FLOW", "f" } }
local function v6_letters(bits)
  local out = {}
  for _, l in ipairs(V6_LETTERS) do
    if bits[l[1]] then out[#out + 1] = l[2] end
  end
  return concat(out)
end

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

-- "%-15s " without string.format: the text, cut to 15, then its padding.
local PAD15 = {}
for i = 0, 15 do PAD15[i] = string.rep(" ", 16 - i) end

local function col15(text)
  local n = #text
  if n > 15 then return sub(text, 1, 15) .. " " end
  return text .. PAD15[n]
end

-- "%-Ns" of text: padded to width, never cut.
local SPACES = {}
for i = 1, 30 do SPACES[i] = string.rep(" ", i) end
local function ljust(text, width)
  local n = #text
  if n >= width then return text end
  return text .. SPACES[width - n]
end

-- "%d" of an integer, each made once (a table has few distinct values).
local decimal = setmetatable({}, { __index = function(cache, v)
  local text = sformat("%d", v)
  cache[v] = text
  return text
end })

local ROUTE_HEADERS = {
  "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n",
  "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n",
  "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt\n",
}

--- What rendering IPv4 route lines needs: the layout, the name table and
-- the masks already written out. opts: names.
function M.route_context(flags, opts)
  need_table("route_context", 1, flags)
  need_opts("route_context", 2, opts)
  opts = opts or {}
  return {
    names = (not flags.numeric_hosts) and (opts.names or new_names()) or nil,
    -- -e swaps netstat's two layouts; -ee shows both
    ext = flags.extend == 0 and 2 or (flags.extend == 1 and 1 or 3),
    masks = {},   -- prefix length -> { mask, dotted text, its column }
    tails = {},   -- interface -> the columns after the flags when MSS, Window, irtt are 0
  }
end

--- The title and column header of netstat -r.
function M.routes_header(ctx)
  return "Kernel IP routing table\n" .. ROUTE_HEADERS[ctx.ext]
end

--- One line of netstat -r for record r (with its newline), or nil for a
-- route netstat -r does not show. The letters come from the type, gateway
-- and prefix, as the kernel builds them for /proc/net/route.
function M.route_line(r, ctx)
  if not shows_v4(r) then return nil end
  local addr, len = (r.dst or "0.0.0.0/0"):match("^([^/]+)/?(%d*)$")
  len = tonumber(len) or 32
  local m = ctx.masks[len]
  if not m then
    local mask = prefix_mask(len)
    local text = dotted(mask)
    m = { mask, text, col15(text) }
    ctx.masks[len] = m
  end
  local nh = r.nexthops and r.nexthops[1]
  local gateway = r.gateway or (nh and nh.gateway)
  -- the name escaped (see lnetstat.netstat.text.inet's cell)
  local iface = cell(r.interface or (nh and nh.interface) or "*")
  local bits = r.rtf_flags
  local reject, letters
  if bits then
    reject, letters = bits.REJECT, v4_letters(bits)
  else
    reject, letters = ROUTE_REJECT[r.type], "U"
    if gateway and gateway ~= "0.0.0.0" then letters = letters .. "G" end
    if reject then letters = "!" end
    if len == 32 then letters = letters .. "H" end
  end
  -- an IPv6 gateway of an IPv4 route (RTA_VIA): the file has no room for
  -- it and prints 0.0.0.0, with the G
  if gateway and find(gateway, ":", 1, true) then gateway = nil end
  local names, dst_text, gw_text = ctx.names, addr, gateway or "0.0.0.0"
  if names then
    dst_text = names:ipv4_name(addr, "default", len == 32, m[1])
    gw_text = names:ipv4_name(gw_text, nil, true)
  end
  if #dst_text > 15 then dst_text = sub(dst_text, 1, 15) end
  if #gw_text > 15 then gw_text = sub(gw_text, 1, 15) end
  local ext = ctx.ext
  local metrics = r.metrics or {}
  local metric = int(r.metric)
  if reject then
    return sformat(REJECT_FORMAT[ext], dst_text, m[2], letters, metric, 0) .. "\n"
  elseif ext == 1 then
    return sformat(ROUTE_FORMAT[1], dst_text, gw_text, m[2], letters, metric, 0, 0, iface) .. "\n"
  end
  local mss = metrics.advmss and (metrics.advmss + 40) or 0
  local window, irtt = int(metrics.window), int(metrics.rtt)
  if ext == 2 then
    if mss == 0 and window == 0 and irtt == 0 and #letters <= 5 then
      -- the bulk of a big table: the same format, built by concatenation
      local tail = ctx.tails[iface]
      if not tail then
        tail = sformat(" %5d %-5d %6d %s\n", 0, 0, 0, iface)
        ctx.tails[iface] = tail
      end
      -- one concatenation: no intermediate strings to intern
      return dst_text .. PAD15[#dst_text] .. gw_text .. PAD15[#gw_text] .. m[3] .. letters
        .. PAD15[11 + #letters] .. tail
    end
    return sformat(ROUTE_FORMAT[2], dst_text, gw_text, m[2], letters, mss, window, irtt, iface) .. "\n"
  end
  -- "%-6.6s" of the name: cut at a character first
  return sformat(ROUTE_FORMAT[3], dst_text, gw_text, m[2], letters, metric, 0, 0, cut(iface, 6),
    mss, window, irtt) .. "\n"
end

--- The netstat -r table (IPv4, main table), as rprint_fib prints
-- /proc/net/route.
function M.routes_text(list, flags, opts)
  need_table("routes_text", 1, list, "list")
  need_table("routes_text", 2, flags)
  need_opts("routes_text", 3, opts)
  local ctx = M.route_context(flags, opts)
  local out = { M.routes_header(ctx) }
  for _, r in ipairs(list) do
    out[#out + 1] = M.route_line(r, ctx)
  end
  return concat(out)
end

-- The hops of an IPv6 route as /proc/net/ipv6_route lists them: a
-- multipath route is one line per hop (the kernel keeps each hop as a
-- route of its own), any other route one line.
local ONE_HOP = { {} }
local function v6_hops(r)
  local hops = r.nexthops
  if hops and #hops > 0 then return hops end
  return ONE_HOP
end

--- netstat -r -6 (IPv6 routes of every table). The Ref column is the
-- kernel's reference count of the route, which rtnetlink does not report:
-- it shows the record's `refcnt` when there is one, else 1.
-- The Flag letters are net-tools' from the RTF_* bits the kernel would
-- print: U (or ! for a reject route), G, D (a default route learned from a
-- router advertisement), A (learned from one: protocol "ra"), e (it
-- expires: the record's `expires`), n (local and reject routes). A prefix
-- route made from an advertised prefix has protocol "kernel" over
-- rtnetlink, like any other: it shows no A. A record read from
-- /proc/net/ipv6_route (with rtf_flags) shows the letters of its bits.
function M.routes6_text(list, flags, opts)
  need_table("routes6_text", 1, list, "list")
  need_table("routes6_text", 2, flags)
  need_opts("routes6_text", 3, opts)
  opts = opts or {}
  local names = (not flags.numeric_hosts) and (opts.names or new_names()) or nil
  local out = { "Kernel IPv6 routing table\n",
    "Destination                    Next Hop                   Flag Met Ref  Use If\n" }
  for _, r in ipairs(select_routes(list, { inet6 = true })) do
    local addr, len = (r.dst or "::/0"):match("^([^/]+)/?(%d*)$")
    local bits = r.rtf_flags
    local reject = ROUTE_REJECT[r.type] or r.type == "blackhole"
    local tail = ""
    if not bits then
      local ra = r.protocol == "ra"
      if ra and r.dst == "::/0" then tail = "D" end
      if ra then tail = tail .. "A" end
      if r.expires ~= nil then tail = tail .. "e" end
      if r.type == "local" or reject then tail = tail .. "n" end
    end
    local dst_text = addr
    if names then dst_text = names:ipv6_name(addr) end
    dst_text = ljust(dst_text .. "/" .. (len ~= "" and len or "128"), 30)
    local metric = int(r.metric)
    if metric > 2147483647 then metric = metric - 4294967296 end
    for _, nh in ipairs(v6_hops(r)) do
      local gateway = nh.gateway or r.gateway or "::"
      local iface = cell(nh.interface or r.interface or "lo")
      local letters
      if bits then
        letters = v6_letters(bits)
      else
        letters = reject and "!" or "U"
        if gateway ~= "::" then letters = letters .. "G" end
        letters = letters .. tail
      end
      local gw_text = gateway
      if names then gw_text = names:ipv6_name(gateway) end
      -- "%-30s %-26s %-4s %-3d %-1d %6d %s\n" (Use is always 0), by
      -- concatenation: string.format costs a C formatting call per column
      out[#out + 1] = dst_text .. " " .. ljust(gw_text, 26) .. " " .. ljust(letters, 4) .. " "
        .. ljust(decimal[metric], 3) .. " " .. ljust(decimal[int(r.refcnt or 1)], 1)
        .. "      0 " .. iface .. "\n"
    end
  end
  return concat(out)
end

return M
