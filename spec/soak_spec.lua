-- A long loop of snapshots keeps memory and descriptors flat: a child
-- interpreter inside a private netns (a few sockets, an interface, routes)
-- takes 2,000 snapshots (sockets, routes, interfaces, counters) and
-- reports its VmRSS and open descriptors after a warm-up and at the end.
-- Needs root (CI is root: nothing is skipped there).
local helpers = require "helpers"

local root_it = helpers.root_it
local format = string.format

local SNAPSHOTS, WARMUP = 2000, 200
local RSS_SLACK_KB = 4096

local SOAK = [[
local ns = require "lnetstat"
local n, warmup = tonumber(arg[1]), tonumber(arg[2])
local function status()
  collectgarbage("collect")
  collectgarbage("collect")
  local f = assert(io.open("/proc/self/status"))
  local rss = tonumber(f:read("*a"):match("VmRSS:%s*(%d+)"))
  f:close()
  -- the descriptors of this process but pipes: the pipe popen makes to
  -- the counting child may still be open at both ends while it looks
  local stat = assert(io.open("/proc/self/stat"))
  local pid = stat:read("*l"):match("^(%d+)")
  stat:close()
  local p = assert(io.popen("find /proc/" .. pid .. "/fd -mindepth 1 ! -lname 'pipe:*' -printf x"))
  local fds = #p:read("*a")
  p:close()
  return rss, fds
end
local function snapshot()
  assert(ns.sockets { state = "all" })
  assert(ns.routes())
  assert(ns.interfaces())
  assert(ns.stats())
end
print("ready")
io.stdout:flush()
local rss0, fds0
for i = 1, n do
  snapshot()
  if i == warmup then rss0, fds0 = status() end
end
local rss1, fds1 = status()
print(string.format("rss %d %d fds %d %d", rss0, rss1, fds0, fds1))
]]

describe("snapshots in a long loop", function()
  root_it(format("%d snapshots keep VmRSS and the descriptor count flat", SNAPSHOTS), function()
    local netns, pid, handle, dir
    finally(function()
      if pid then helpers.kill(pid, 5, helpers.LUA) end
      if handle then handle.cleanup() end
      helpers.netns_delete(netns)
      helpers.remove_tree(dir)
    end)
    netns = helpers.netns_create("lnetstat-soak")
    helpers.must(format("ip -n %s link add soak0 type veth peer name soak1", netns))
    helpers.must(format("ip -n %s link set soak0 up", netns))
    helpers.must(format("ip -n %s addr add 198.51.100.1/24 dev soak0", netns))
    helpers.must(format("ip -n %s -6 addr add 2001:db8::1/64 dev soak0 nodad", netns))
    helpers.must(format("ip -n %s route add 203.0.113.0/24 via 198.51.100.2", netns))
    dir = helpers.mktemp_dir()
    local script = dir .. "/soak.lua"
    local f = assert(io.open(script, "w"))
    f:write(SOAK)
    f:close()
    local cwd = helpers.must("pwd"):gsub("%s+$", "")
    pid, handle = helpers.spawn(format(
      "ip netns exec %s env LUA_PATH=%s LUA_CPATH=%s %s %s %d %d",
      netns, helpers.quote(cwd .. "/lua/?.lua;" .. cwd .. "/lua/?/init.lua;;"),
      helpers.quote(cwd .. "/build/" .. helpers.BUILD .. "/?.so;;"),
      helpers.LUA, helpers.quote(script), SNAPSHOTS, WARMUP))
    assert(handle:wait_ready(10))
    local waited = 0
    while helpers.alive(pid) and waited < 55 do
      helpers.sleep(0.2)
      waited = waited + 0.2
    end
    assert.is_false(helpers.alive(pid), format("%d snapshots took over 55 s", SNAPSHOTS))
    local out = handle.stdout()
    local rss0, rss1, fds0, fds1 = out:match("rss (%d+) (%d+) fds (%d+) (%d+)")
    assert(rss0, "no report: " .. out .. handle.stderr())
    rss0, rss1, fds0, fds1 = tonumber(rss0), tonumber(rss1), tonumber(fds0), tonumber(fds1)
    assert.equal(fds0, fds1)
    assert.is_true(rss1 - rss0 < RSS_SLACK_KB,
      format("VmRSS grew from %d kB to %d kB over %d snapshots", rss0, rss1, SNAPSHOTS - WARMUP))
    print(format("\nsoak: %d snapshots in %.1f s, VmRSS %d -> %d kB, %d descriptors",
      SNAPSHOTS, waited, rss0, rss1, fds1))
  end)
end)
