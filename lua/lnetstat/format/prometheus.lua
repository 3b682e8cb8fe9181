-- Prometheus text exposition.
-- @module lnetstat.format.prometheus

local type, ipairs, pairs = type, ipairs, pairs
local error, sformat, concat = error, string.format, table.concat
local sort = table.sort
local util_mod = require "lnetstat.format.util"
local need_table, need_opts = util_mod.need_table, util_mod.need_opts
local prom = require "lnetstat.encode.prometheus"
local label_value, value = prom.label_value, prom.value

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
}

--- Prometheus text exposition of counters and interfaces.
-- data = { stats = ns.stats(), interfaces = ns.interfaces() } (either may
-- be nil). opts.prefix: "lnetstat" (default) or "node" for node_exporter's
-- names (use those only with node_exporter's own netstat, sockstat and
-- netdev collectors off, or the two collide). Names: <p>_netstat_<Group>_<Field>
-- (untyped), <p>_sockstat_<PROTO>_<field> and <p>_sockstat_sockets_used
-- (gauges), <p>_network_<key>_total{device} (counters), <p>_network_up{device}.
function M.prometheus(data, opts)
  need_table("prometheus", 1, data)
  need_opts("prometheus", 2, opts)
  opts = opts or {}
  local p = opts.prefix or "lnetstat"
  if type(p) ~= "string" or not p:match("^[%a_:][%w_:]*$") then
    error("bad argument #2 to 'prometheus' (prefix must be a metric name prefix)", 2)
  end
  local out = {}
  local function family(name, help, kind)
    out[#out + 1] = prom.family(name, help, kind)
  end
  local stats = data.stats
  if stats then
    local groups = {}
    for g, v in pairs(stats) do
      if type(v) == "table" and g ~= "sockstat" then groups[#groups + 1] = g end
    end
    sort(groups)
    for _, g in ipairs(groups) do
      local keys = {}
      for k, v in pairs(stats[g]) do
        if type(v) == "number" and k:match("^[%w_]+$") then keys[#keys + 1] = k end
      end
      sort(keys)
      for _, k in ipairs(keys) do
        local name = prom.metric_name(sformat("%s_netstat_%s_%s", p, g, k))
        family(name, sformat("Statistic %s%s.", g, k), "untyped")
        out[#out + 1] = sformat("%s %s\n", name, value(stats[g][k]))
      end
    end
    local ss = stats.sockstat
    if ss then
      local keys = {}
      for k in pairs(ss) do keys[#keys + 1] = k end
      sort(keys)
      for _, proto in ipairs(keys) do
        local v = ss[proto]
        if type(v) == "number" then
          local name = prom.metric_name(sformat("%s_sockstat_%s", p, proto))
          family(name, sformat("Number of IPv4 sockets in use."), "gauge")
          out[#out + 1] = sformat("%s %s\n", name, value(v))
        elseif type(v) == "table" then
          local fields = {}
          for f, x in pairs(v) do if type(x) == "number" then fields[#fields + 1] = f end end
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
    for _, r in ipairs(ifs) do sorted[#sorted + 1] = r end
    sort(sorted, function(a, b) return a.name < b.name end)
    for _, m in ipairs(NETDEV_METRICS) do
      local name = sformat("%s_network_%s_total", p, m[1])
      family(name, sformat("Network device statistic %s.", m[1]), "counter")
      for _, r in ipairs(sorted) do
        local s = r.stats
        if s then
          local v, any = 0, false
          for _, k in ipairs(m[2]) do
            if s[k] then v, any = v + s[k], true end
          end
          if any then
            out[#out + 1] = sformat('%s{device="%s"} %s\n', name, label_value(r.name), value(v))
          end
        end
      end
    end
    local name = p .. "_network_up"
    family(name, "Value is 1 if operstate is 'up', 0 otherwise.", "gauge")
    for _, r in ipairs(sorted) do
      out[#out + 1] = sformat('%s{device="%s"} %d\n', name, label_value(r.name),
        r.operstate == "UP" and 1 or 0)
    end
  end
  return concat(out)
end

return M
