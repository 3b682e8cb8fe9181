-- Prometheus text exposition.
-- @module lnetstat.format.prometheus

local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local error, sformat, concat = error, string.format, table.concat
local sort = table.sort
local util_mod = require "lnetstat.format.util"
local need_table, need_opts, need_known = util_mod.need_table, util_mod.need_opts, util_mod.need_known
local prom = require "lnetstat.encode.prometheus"
local regex = require "lnetstat.format.regex"
local value = prom.value

-- A device name between a label's double quotes (distinct names give
-- distinct label values: see lnetstat.encode.prometheus).
local label_value = prom.label_value

local M = {}

-- Prometheus text -----------------------------------------------------------------------

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
  { "receive_nohandler", { "rx_nohandler" } },
}

--- node_exporter's defaults (1.5): the netstat fields it exports
-- (--collector.netstat.fields) and the devices its netdev collector leaves
-- out (--collector.netdev.device-exclude).
M.NODE_FIELDS = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)"
  .. "|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)"
  .. "|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
  .. "|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
M.NODE_DEVICE_EXCLUDE = "^lo$"

-- opts[key] as a compiled pattern (nil when absent).
local function pattern(opts, key)
  local v = opts[key]
  if v == nil then return nil end
  local f, err = regex.compile(v)
  if not f then
    error(sformat("bad argument #2 to 'prometheus' (%s: %s)", key, tostring(err)), 3)
  end
  return f
end

local OPTIONS = { prefix = true, fields = true, devices = true }

-- The shape of data (stats: a table of groups; interfaces: a list of
-- records whose stats, when present, hold numbers), checked before any
-- text is made; raises at the caller of prometheus.
local function check_data(data)
  local function bad(msg) error("bad argument #1 to 'prometheus' (" .. msg .. ")", 4) end
  local stats, ifs = data.stats, data.interfaces
  if stats ~= nil and type(stats) ~= "table" then
    bad("stats must be a table (stats()), got " .. type(stats))
  end
  if ifs == nil then return end
  if type(ifs) ~= "table" then
    bad("interfaces must be a list of interface records, got " .. type(ifs))
  end
  for i = 1, #ifs do
    local r = ifs[i]
    if type(r) ~= "table" then
      bad(sformat("interfaces[%d] must be an interface record (a table), got %s", i, type(r)))
    end
    local s = r.stats
    if s ~= nil then
      if type(s) ~= "table" then
        bad(sformat("interfaces[%d].stats must be a table, got %s", i, type(s)))
      end
      for _, m in ipairs(NETDEV_METRICS) do
        for _, k in ipairs(m[2]) do
          if s[k] ~= nil and type(s[k]) ~= "number" then
            bad(sformat("interfaces[%d].stats.%s must be a number, got %s", i, k, type(s[k])))
          end
        end
      end
    end
  end
end

--- Prometheus text exposition of counters and interfaces.
-- data = { stats = ns.stats(), interfaces = ns.interfaces() } (either may
-- be nil). Names: <p>_netstat_<Group>_<Field> (untyped),
-- <p>_sockstat_<PROTO>_<field> and <p>_sockstat_sockets_used (gauges),
-- <p>_network_<key>_total{device} (counters) and, with a prefix other than
-- node, <p>_network_up{device}.
-- opts.prefix: "lnetstat" (default): every field and device; "node":
-- node_exporter's names, series, help and types, as its netstat, sockstat
-- and netdev collectors export them by default (M.NODE_FIELDS, every device
-- but lo; no network_up, which its netclass collector owns), for its
-- textfile collector with those three collectors off.
-- opts.fields: a regular expression (lnetstat.format.regex) the
-- <Group>_<Field> of a netstat series must match, instead of the default;
-- opts.devices: one the device must match, instead of the default.
-- A device label holds the name's valid UTF-8 as it is, a backslash as
-- `\\` and each byte that is not UTF-8 as `\xHH` (so the name "p\xff"
-- and the name "pÿ" are two series), escaped as the format says.
function M.prometheus(data, opts)
  need_table("prometheus", 1, data)
  need_opts("prometheus", 2, opts)
  opts = opts or {}
  need_known("prometheus", 2, opts, OPTIONS)
  check_data(data)
  local p = opts.prefix or "lnetstat"
  if type(p) ~= "string" or not p:match("^[%a_:][%w_:]*$") then
    error("bad argument #2 to 'prometheus' (prefix must be a metric name prefix)", 2)
  end
  local node = p == "node"
  local want_field = pattern(opts, "fields")
  local want_device = pattern(opts, "devices")
  if node and not want_field then want_field = regex.compile(M.NODE_FIELDS) end
  local skip_device
  if node and not want_device then skip_device = regex.compile(M.NODE_DEVICE_EXCLUDE) end
  local function device_wanted(name)
    if want_device then return want_device(name) end
    return not (skip_device and skip_device(name))
  end
  local out = {}
  local function family(name, help, kind)
    out[#out + 1] = prom.family(name, help, kind)
  end
  local stats = data.stats
  if stats then
    local groups = {}
    for g, v in pairs(stats) do
      if type(g) == "string" and type(v) == "table" and g ~= "sockstat" then groups[#groups + 1] = g end
    end
    sort(groups)
    for _, g in ipairs(groups) do
      local keys = {}
      for k, v in pairs(stats[g]) do
        if type(v) == "number" and type(k) == "string" and k:match("^[%w_]+$") then keys[#keys + 1] = k end
      end
      sort(keys)
      for _, k in ipairs(keys) do
        if not want_field or want_field(g .. "_" .. k) then
          local name = prom.metric_name(sformat("%s_netstat_%s_%s", p, g, k))
          family(name, sformat("Statistic %s%s.", g, k), "untyped")
          out[#out + 1] = sformat("%s %s\n", name, value(stats[g][k]))
        end
      end
    end
    local ss = stats.sockstat
    if type(ss) == "table" then
      local keys = {}
      for k in pairs(ss) do if type(k) == "string" then keys[#keys + 1] = k end end
      sort(keys)
      for _, proto in ipairs(keys) do
        local v = ss[proto]
        if type(v) == "number" then
          local name = prom.metric_name(sformat("%s_sockstat_%s", p, proto))
          family(name, sformat("Number of IPv4 sockets in use."), "gauge")
          out[#out + 1] = sformat("%s %s\n", name, value(v))
        elseif type(v) == "table" then
          local fields = {}
          for f, x in pairs(v) do
            if type(f) == "string" and type(x) == "number" then fields[#fields + 1] = f end
          end
          sort(fields)
          for _, f in ipairs(fields) do
            local name = prom.metric_name(sformat("%s_sockstat_%s_%s", p, proto, f))
            family(name, sformat("Number of %s sockets in state %s.", proto, f), "gauge")
            out[#out + 1] = sformat("%s %s\n", name, value(v[f]))
          end
        end
      end
    end
  end
  local ifs = data.interfaces
  if ifs then
    local sorted = {}
    for _, r in ipairs(ifs) do
      if type(r.name) == "string" and device_wanted(r.name) then sorted[#sorted + 1] = r end
    end
    sort(sorted, function(a, b) return a.name < b.name end)
    for _, m in ipairs(NETDEV_METRICS) do
      local name = sformat("%s_network_%s_total", p, m[1])
      local lines = {}
      for _, r in ipairs(sorted) do
        local s = r.stats
        if s then
          local v, any = 0, false
          for _, k in ipairs(m[2]) do
            if s[k] then v, any = v + s[k], true end
          end
          if any then
            -- concatenated: Lua 5.1's format("%s") stops at a zero byte
            lines[#lines + 1] = name .. '{device="' .. label_value(r.name) .. '"} ' .. value(v) .. "\n"
          end
        end
      end
      -- a family without samples is not written (as node_exporter does)
      if #lines > 0 then
        family(name, sformat("Network device statistic %s.", m[1]), "counter")
        for _, l in ipairs(lines) do out[#out + 1] = l end
      end
    end
    if not node then
      local name = p .. "_network_up"
      family(name, "Value is 1 if operstate is 'up', 0 otherwise.", "gauge")
      for _, r in ipairs(sorted) do
        out[#out + 1] = name .. '{device="' .. label_value(r.name) .. '"} '
          .. (r.operstate == "UP" and "1" or "0") .. "\n"
      end
    end
  end
  return concat(out)
end

return M
