-- The interface names of watch events: an event read after its link went
-- away still names the interface (the names session learns each link's
-- name from the link's own messages), checked against `ip monitor` in a
-- private netns; and a long-lived watch over link churn keeps only the
-- names of links that exist.
local ns = require "lnetstat"
local helpers = require "helpers"

local format = string.format
local quote, must = helpers.quote, helpers.must

local NUD = helpers.NUD_STATES

-- "kind action dev" of one event line of ip monitor (nil: not about an
-- interface, or a continuation line).
local function ip_event(line)
  if line:match("^%s") or line == "" then return nil end
  local action = "new"
  if line:match("^Deleted ") then
    action = "del"
    line = line:sub(9)
  end
  local dev = line:match("^%d+: ([^%s@:]+)%S*: <")
  if dev then return "link " .. action .. " " .. dev end
  dev = line:match("^%d+: (%S+)%s+inet6? ")
  if dev then return "address " .. action .. " " .. dev end
  dev = line:match(" dev (%S+)")
  if not dev then return nil end
  local kind = NUD[line:match("(%u+)%s*$") or ""] and "neighbor" or "route"
  return kind .. " " .. action .. " " .. dev
end

-- "kind action dev" of one watch event.
local function watch_event(ev)
  local r = ev.record or {}
  local dev = ev.kind == "link" and r.name or r.interface
  return format("%s %s %s", ev.kind, ev.action, tostring(dev))
end

-- counts[key] of the keys that name one of devs.
local function tally(keys, devs)
  local counts = {}
  for _, k in ipairs(keys) do
    if devs[k:match("(%S+)$")] then counts[k] = (counts[k] or 0) + 1 end
  end
  return counts
end

describe("watch names in a private netns", function()
  local NS
  helpers.root_setup(function() NS = helpers.netns_create("lnwatchnames") end,
    function() helpers.netns_delete(NS) end)

  local function ip(cmd) helpers.ip(NS, cmd) end

  helpers.root_it("names the interface of events read after the link went away, as ip monitor", function()
    local w = assert(ns.watch { "links", "addresses", "routes", "neighbors", netns = NS })
    finally(function() w:close() end)
    local _, h = helpers.spawn_ip_monitor(NS)
    finally(h.stop)
    -- markers on lo until ip monitor reports one: then it listens
    assert.truthy(helpers.ip_monitor_listening(NS, h), h.stderr())
    -- everything happens before the watch reads a single event
    for _, cmd in ipairs {
      "link add gn0 type veth peer name gn1",
      "link set gn0 up",
      "link set gn1 up",
      "addr add 198.51.100.1/24 dev gn0",
      "addr add 2001:db8::1/64 dev gn0 nodad",
      "route add 203.0.113.0/24 via 198.51.100.2",
      "route add 2001:db8:1::/64 via 2001:db8::2",
      "neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev gn0",
      "neigh change 198.51.100.2 lladdr 02:00:00:00:00:03 dev gn0",
      "neigh del 198.51.100.2 dev gn0",
      "route del 203.0.113.0/24",
      "addr del 198.51.100.1/24 dev gn0",
      "link set gn0 down",
      "link del gn0",
    } do
      ip(cmd)
    end
    local theirs, ours = {}, {}
    for _ = 1, 100 do -- until ip monitor has seen gn1 go too
      local text = h.stdout()
      if text:find("Deleted %d+: gn1") then break end
      helpers.sleep(0.05)
    end
    for line in h.stdout():gmatch("[^\n]+") do
      local k = ip_event(line)
      if k then theirs[#theirs + 1] = k end
    end
    repeat
      local evs = assert(w:poll())
      for _, ev in ipairs(evs) do ours[#ours + 1] = watch_event(ev) end
    until #evs == 0
    local devs = { gn0 = true, gn1 = true }
    local want = tally(theirs, devs)
    assert.same(want, tally(ours, devs))
    -- the cases the test is about are there: events of a link already gone
    for _, k in ipairs { "address new gn0", "address del gn0", "route new gn0", "route del gn0",
      "neighbor new gn0", "neighbor del gn0", "link del gn0", "link del gn1" } do
      assert.is_true((want[k] or 0) > 0, k)
    end
  end)

  helpers.root_it("forgets the names of the links that went away", function()
    local core = require "lnetstat.core"
    local w = assert(ns.watch { "links", "addresses", netns = NS })
    finally(function() w:close() end)
    local batch = os.tmpname()
    finally(function() os.remove(batch) end)
    local function run_batch(lines)
      local f = assert(io.open(batch, "w"))
      f:write(table.concat(lines, "\n"), "\n")
      f:close()
      must(format("ip -n %s -batch %s", quote(NS), quote(batch)))
    end
    local seen, gone = 0, {}
    for round = 1, 5 do
      local add, del = {}, {}
      for i = 1, 20 do
        add[#add + 1] = format("link add gc%d type veth peer name gp%d", i, i)
        add[#add + 1] = format("addr add 198.51.100.%d/32 dev gc%d", round * 20 + i, i)
        del[#del + 1] = format("link del gc%d", i)
      end
      run_batch(add)
      for _, ev in ipairs(assert(w:poll())) do
        if ev.kind == "address" then
          assert.matches("^gc%d+$", ev.record.interface)
          seen = seen + 1
        elseif ev.kind == "link" then
          gone[ev.record.index] = ev.record.name
        end
      end
      run_batch(del)
      assert(w:poll())
    end
    assert.equal(100, seen)
    assert.same({}, w:poll()) -- a read that forgets the last round's links
    -- the names session keeps no name of the 200 links that came and went:
    -- neither a stale answer nor a map that grows with every link seen
    local n, kept = 0, {}
    for index, name in pairs(gone) do
      n = n + 1
      local now = core.ifname(w.names, index)
      if now ~= nil then kept[#kept + 1] = format("%d=%s", index, now) end
      assert.matches("^g[cp]%d+$", name)
    end
    assert.equal(200, n)
    assert.same({}, kept)
  end)
end)
