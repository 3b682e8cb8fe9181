-- counter_delta and counter on a live kernel, in a private namespace
-- (root): UDP datagrams to a closed port while the window is open, the
-- increase the check reports against /proc/net/snmp read before and after,
-- and the per-type ICMP counters the kernel prints only once one message of
-- the type was counted (IcmpMsg.OutType3, Icmp6.InType128).
local helpers = require "helpers"

local root_it = helpers.root_it
local quote, run, must = helpers.quote, helpers.run, helpers.must
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(SPEC .. "../bin/lnetstat")

-- sends n UDP datagrams to a closed port of 127.0.0.1 after a delay
local function sender(n, delay)
  return format([[python3 -c '
import socket, time
time.sleep(%s)
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); closed.bind(("127.0.0.1", 0))
port = closed.getsockname()[1]; closed.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(%d):
    u.sendto(b"x", ("127.0.0.1", port))
']], delay, n)
end

-- { Prefix = { name = value } } of /proc/net/snmp in the namespace
local function snmp(netns)
  local out, header = {}, nil
  for line in must("ip netns exec " .. quote(netns) .. " cat /proc/net/snmp"):gmatch("[^\n]+") do
    local prefix, rest = line:match("^(%w+):%s*(.*)$")
    if header and header[1] == prefix then
      local names, i = {}, 0
      for w in header[2]:gmatch("%S+") do names[#names + 1] = w end
      out[prefix] = {}
      for w in rest:gmatch("%S+") do
        i = i + 1
        out[prefix][names[i]] = tonumber(w)
      end
      header = nil
    else
      header = { prefix, rest }
    end
  end
  return out
end

describe("counter checks on a live namespace", function()
  local netns, dir
  setup(function()
    if not helpers.is_root() then return end
    netns = helpers.netns_create("cnt-check")
    must("ip -n " .. quote(netns) .. " link set lo up")
    dir = helpers.mktemp_dir()
  end)
  teardown(function()
    helpers.netns_delete(netns)
    if dir then helpers.remove_tree(dir) end
  end)

  local function check(source)
    local path = dir .. "/c.lua"
    local f = assert(io.open(path, "w"))
    f:write(source)
    f:close()
    local out = run(format("%s check --netns %s --format json %s 2>/dev/null", LNETSTAT, quote(netns),
      quote(path)))
    local report = helpers.json_decode(out)
    return report.results or report
  end

  root_it("reads a per-type ICMP counter the kernel has not printed yet as 0", function()
    -- a fresh namespace: no ICMP message yet, so no IcmpMsg line pair
    assert.is_nil(snmp(netns).IcmpMsg)
    local results = check([[
counter("IcmpMsg.OutType3", "==", 0)
counter("Icmp6.InType128", "==", 0)
counter("IcmpMsg.OutType256", "==", 0)
]])
    assert.equal("pass", results[1].status, results[1].actual)
    assert.equal("pass", results[2].status, results[2].actual)
    -- not a type: still a counter stats() does not have
    assert.equal("error", results[3].status)
    assert.matches("no counter IcmpMsg.OutType256", results[3].actual, 1, true)
  end)

  root_it("counts the increase the kernel counted during the window", function()
    local before = snmp(netns)
    local pid, handle = helpers.spawn("ip netns exec " .. quote(netns) .. " " .. sender(3, 1))
    local results = check([[
counter_delta("Udp.NoPorts", { window = 3, max = 0 })
counter_delta({ "IcmpMsg.OutType3", "IcmpMsg.InType3" }, { window = 3, max = 0 })
counter_delta("Icmp.OutDestUnreachs", { window = 3, min = 1 })
]])
    helpers.kill(pid)
    handle.cleanup()
    local after = snmp(netns)
    local sent = after.Udp.NoPorts - before.Udp.NoPorts
    assert.is_true(sent >= 1, "the kernel counted no datagram")
    local icmp = after.IcmpMsg.OutType3 - ((before.IcmpMsg or {}).OutType3 or 0)
    assert.equal("fail", results[1].status)
    assert.equal(format("Udp.NoPorts +%d in 3s", sent), results[1].actual)
    -- the type was absent before the window and is counted from 0
    assert.equal("fail", results[2].status, results[2].actual)
    assert.equal(format("IcmpMsg.OutType3 +%d in 3s; IcmpMsg.InType3 +%d in 3s", icmp, icmp),
      results[2].actual)
    assert.equal("pass", results[3].status, results[3].actual)
  end)
end)
