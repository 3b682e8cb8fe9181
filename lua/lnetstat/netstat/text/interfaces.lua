-- netstat -i and -ie (ifconfig's layout): records in, text out.
-- @module lnetstat.netstat.text.interfaces

local ipairs, pairs, tonumber, sformat = ipairs, pairs, tonumber, string.format
local rep, concat, floor = string.rep, table.concat, math.floor
local util_mod = require "lnetstat.format.util"
local interface_rows = require("lnetstat.netstat.rows").interface_rows
local int = util_mod.int
local need_table = util_mod.need_table
local need_opts = util_mod.need_opts
local prefix_mask = util_mod.prefix_mask
local dotted = util_mod.dotted
local inet_mod = require "lnetstat.netstat.text.inet"
local cell, cut = inet_mod.cell, inet_mod.cut

local M = {}

-- Interfaces --------------------------------------------------------------------

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

local long_block -- ifconfig's layout for netstat -ie, defined below

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
    -- "%-15.15s" of the name, escaped (see lnetstat.netstat.text.inet's
    -- cell) and cut at a character
    out[#out + 1] = sformat("%-15s %5d ", cut(cell(e.name), 15), int(r.mtu)) .. body .. if_letters(r.flags) .. "\n"
  end
  return concat(out)
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
  local out = { sformat("%s: %s  mtu %d\n", cell(name), long_flags(set), int(r.mtu)) }
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

return M
