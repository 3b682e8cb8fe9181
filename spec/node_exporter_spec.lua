-- `lnetstat metrics --prefix node` as a drop-in for node_exporter's netstat,
-- sockstat and netdev collectors (Debian's prometheus-node-exporter), in a
-- private network namespace with a veth pair:
--   A: node_exporter with every default collector but those three, reading
--      lnetstat's file with its textfile collector: scrapes cleanly (no
--      "collected before", node_textfile_scrape_error 0) and serves the file;
--   B: node_exporter with only those three, at their defaults: the same
--      series (names and labels), help and types as lnetstat's file, and
--      the same values (counters between a scrape before and one after;
--      gauges that node_exporter's own sockets move, within a tolerance);
--   C: the same with --collector.netstat.fields and device-include, against
--      lnetstat's --fields and --devices.
local helpers = require "helpers"

local quote, must, run = helpers.quote, helpers.must, helpers.run
local root_it = helpers.root_it
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(SPEC .. "../bin/lnetstat")
local EXPORTER = "prometheus-node-exporter"

-- Prometheus text -> { series = {["name{labels}"] = value}, help = {}, type = {} }
local function parse(text)
  local r = { series = {}, help = {}, type = {} }
  for line in text:gmatch("[^\n]+") do
    local name, rest = line:match("^# HELP (%S+) (.*)$")
    if name then
      r.help[name] = rest
    else
      name, rest = line:match("^# TYPE (%S+) (%S+)$")
      if name then
        r.type[name] = rest
      elseif line:sub(1, 1) ~= "#" then
        local key, value = line:match("^([%w_:]+%b{}) (%S+)$")
        if not key then key, value = line:match("^([%w_:]+) (%S+)$") end
        assert(key, "cannot parse: " .. line)
        r.series[key] = tonumber(value)
      end
    end
  end
  return r
end

-- The part of a scrape the three collectors own (netclass also writes
-- node_network_* families: keep only the names lnetstat's file has, or,
-- for node_exporter B/C that runs only those collectors, every one).
local OWNED = { "^node_netstat_", "^node_sockstat_", "^node_network_" }
local function owned(name)
  for _, p in ipairs(OWNED) do
    if name:match(p) then return true end
  end
  return false
end

local function restrict(r)
  local out = { series = {}, help = {}, type = {} }
  for k, v in pairs(r.series) do
    if owned(k:match("^[%w_:]+")) then out.series[k] = v end
  end
  for k, v in pairs(r.help) do if owned(k) then out.help[k] = v end end
  for k, v in pairs(r.type) do if owned(k) then out.type[k] = v end end
  return out
end

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- Gauges node_exporter's own connections and scrapes move, and by how much.
local function tolerance(series)
  local name = series:match("^[%w_:]+")
  if name:match("^node_sockstat_.*_mem_bytes$") then return 256 * 4096 end
  if name:match("^node_sockstat_.*_mem$") then return 256 end
  if name:match("^node_sockstat_") then return 32 end
  if name == "node_netstat_Tcp_CurrEstab" then return 32 end
  return nil
end

describe("lnetstat metrics --prefix node beside node_exporter", function()
  root_it("scrapes cleanly and exports what netstat, sockstat and netdev export", function()
    local ns = helpers.netns_create("lnne")
    local dir = helpers.mktemp_dir()
    local pids = {}
    finally(function()
      for _, h in ipairs(pids) do
        helpers.kill(h.pid, 5, "node-exporter")
        h.cleanup()
      end
      helpers.netns_delete(ns)
      helpers.remove_tree(dir)
    end)
    must(format("ip -n %s link add v0 type veth peer name v1 && ip -n %s link set v0 up && "
      .. "ip -n %s link set v1 up", quote(ns), quote(ns), quote(ns)))
    local inside = "ip netns exec " .. quote(ns) .. " "
    local function start(port, args)
      local pid, h = helpers.spawn(format("%s%s --web.listen-address=127.0.0.1:%d %s",
        inside, EXPORTER, port, args))
      pids[#pids + 1] = h
      -- ready when it answers
      -- (the exit status from a marker: io.popen's close gives none on Lua 5.1 and LuaJIT)
      for _ = 1, 200 do
        local out = run(format("%scurl -sf -o /dev/null http://127.0.0.1:%d/metrics && echo up", inside, port))
        if out == "up\n" then return pid, h end
        assert(helpers.alive(pid), "node_exporter exited: " .. h.stderr())
        helpers.sleep(0.05)
      end
      error("node_exporter on port " .. port .. " never answered: " .. h.stderr())
    end
    local function scrape(port)
      local out = run(format("%scurl -sf http://127.0.0.1:%d/metrics && echo scrape-ok", inside, port))
      local body = out:match("^(.*)scrape%-ok\n$")
      assert(body, "scrape of port " .. port .. " failed: " .. out)
      return body
    end

    local _, a = start(19101, "--no-collector.netstat --no-collector.sockstat --no-collector.netdev "
      .. "--collector.textfile.directory=" .. quote(dir))
    start(19102, "--collector.disable-defaults --collector.netstat --collector.sockstat --collector.netdev")
    start(19103, "--collector.disable-defaults --collector.netstat --collector.netdev "
      .. "--collector.netstat.fields='^Tcp_(InSegs|CurrEstab)$|^Udp_' "
      .. "--collector.netdev.device-exclude= --collector.netdev.device-include='^v0$'")

    local b1 = parse(scrape(19102))
    must(format("%s%s metrics --prefix node -o %s", inside, LNETSTAT, quote(dir .. "/lnetstat.prom")))
    local b2 = parse(scrape(19102))
    local file = parse(must("cat " .. quote(dir .. "/lnetstat.prom")))

    -- A: two scrapes, no error, the file's series with its values
    for _ = 1, 2 do
      local text = scrape(19101)
      assert.is_nil(text:find("collected before", 1, true))
      local got = parse(text)
      assert.are.equal(0, got.series["node_textfile_scrape_error"])
      assert.are.equal(1, got.series['node_scrape_collector_success{collector="textfile"}'])
      for k, v in pairs(file.series) do
        assert.are.equal(v, got.series[k], k)
      end
    end
    -- its log: no clash, and no error but those of collectors that need a
    -- host service this machine may lack (systemd's D-Bus, udev's database)
    local log = a.stderr()
    assert.is_nil(log:find("collected before", 1, true), log)
    for line in log:gmatch("[^\n]+") do
      if line:find("level=error", 1, true) then
        local who = line:match(" name=(%S+)") or line:match(" collector=(%S+)")
        assert(who == "systemd" or who == "diskstats", "node_exporter logged: " .. line)
      end
    end

    -- B: equal series sets, help and types
    local ref = restrict(b2)
    assert.are.same(keys(ref.series), keys(file.series))
    assert.are.same(ref.help, file.help)
    assert.are.same(ref.type, file.type)
    assert.is_true(#keys(file.series) > 60)
    assert.is_truthy(file.series['node_network_receive_nohandler_total{device="v0"}'])
    assert.is_nil(file.series['node_network_receive_bytes_total{device="lo"}'])
    -- values: a counter lies between B's scrape before and B's after; a
    -- gauge node_exporter's own sockets move, within its tolerance
    local before = restrict(b1)
    for k, v in pairs(file.series) do
      local lo, hi = before.series[k], ref.series[k]
      if lo > hi then lo, hi = hi, lo end
      local tol = tolerance(k) or 0
      assert(v >= lo - tol and v <= hi + tol,
        format("%s: lnetstat %s, node_exporter %s then %s", k, tostring(v), tostring(before.series[k]),
          tostring(ref.series[k])))
    end

    -- C: the field and device filters
    local narrow = parse(must(format("%s%s metrics --prefix node --fields '^Tcp_(InSegs|CurrEstab)$|^Udp_' "
      .. "--devices '^v0$'", inside, LNETSTAT)))
    local c = restrict(parse(scrape(19103)))
    local want = {}
    for k in pairs(narrow.series) do
      if not k:match("^node_sockstat_") then want[#want + 1] = k end
    end
    table.sort(want)
    assert.are.same(keys(c.series), want)
    assert.is_truthy(narrow.series["node_netstat_Tcp_InSegs"])
    assert.is_nil(narrow.series["node_netstat_Tcp_OutSegs"])
    assert.is_nil(narrow.series['node_network_receive_bytes_total{device="v1"}'])
  end)

  root_it("--devices reads names as UTF-8 characters, as device-include does", function()
    local ns = helpers.netns_create("lnencdev")
    local pid, handle
    finally(function()
      if pid then helpers.kill(pid, 5, "node-exporter") end
      if handle then handle.cleanup() end
      helpers.netns_delete(ns)
    end)
    -- one character after p in "pÿ", "pé" and "p€" (2 and 3 bytes), two in "pab"
    local names = { "p\195\191", "p\195\169", "p\226\130\172", "pab" }
    for i, name in ipairs(names) do
      must(format("ip -n %s link add %s type veth peer name zq%d", quote(ns), quote(name), i))
    end
    local inside = "ip netns exec " .. quote(ns) .. " "
    local port = 19200 + helpers.getpid() % 500
    pid, handle = helpers.spawn(format("%s%s --web.listen-address=127.0.0.1:%d --collector.disable-defaults "
      .. "--collector.netdev --collector.netdev.device-exclude= --collector.netdev.device-include='^p.$'",
      inside, EXPORTER, port))
    local text
    for _ = 1, 200 do
      -- (the exit status from a marker: io.popen's close gives none on Lua 5.1 and LuaJIT)
      local out = run(format("%scurl -sf http://127.0.0.1:%d/metrics && echo scrape-ok", inside, port))
      text = out:match("^(.*)scrape%-ok\n$")
      if text then break end
      assert(helpers.alive(pid), "node_exporter exited: " .. handle.stderr())
      helpers.sleep(0.05)
    end
    assert(text, "node_exporter never answered: " .. handle.stderr())
    local function devices(t)
      local out = {}
      for d in t:gmatch('\nnode_network_receive_bytes_total{device="([^"]*)"}') do out[#out + 1] = d end
      table.sort(out)
      return out
    end
    local want = { "p\195\169", "p\195\191", "p\226\130\172" }
    assert.same(want, devices(text))
    local mine = must(format("%s%s metrics --prefix node --devices '^p.$'", inside, LNETSTAT))
    assert.same(want, devices("\n" .. mine))
  end)
end)
