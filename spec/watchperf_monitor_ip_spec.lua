-- lnetstat monitor's text lines against `ip monitor`, event by event, in a
-- private netns: links, addresses, routes (IPv4 and IPv6) and neighbours.
-- The words are ip's but for the differences the README shows: each line
-- starts with kind and action, a link names its index and kind on one
-- line, an address names its device after the address and says
-- "permanent" where ip says nothing, a route names its table even when it
-- is main. Everything else agrees word for word.
local ns = require "lnetstat"
local monitor = require "lnetstat.monitor"
local helpers = require "helpers"

local format = string.format

local NUD = helpers.NUD_STATES

local function split(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- Link flags both sides show: ip's NO-CARRIER and M-DOWN are its own
-- readings, RUNNING is a flag ip leaves out.
local function link_flags(text)
  local out = {}
  for f in text:gmatch("[^,]+") do
    if f ~= "NO-CARRIER" and f ~= "M-DOWN" and f ~= "RUNNING" then out[#out + 1] = f end
  end
  return table.concat(out, ",")
end

-- ip monitor's events: one string per event (continuation lines joined),
-- in a common form "kind action words".
local function ip_events(text)
  local events = {}
  for line in text:gmatch("[^\n]+") do
    if line:match("^%s") and #events > 0 then
      events[#events] = events[#events] .. " " .. line:gsub("^%s+", "")
    else
      events[#events + 1] = line
    end
  end
  local out = {}
  for _, e in ipairs(events) do
    local action = "new"
    if e:match("^Deleted ") then
      action = "del"
      e = e:sub(9)
    end
    e = e:gsub("%s+$", "")
    local name, flags, rest = e:match("^%d+: ([^%s@:]+)%S*: <([^>]*)> (.*)$")
    if name then
      local mtu = rest:match("mtu (%d+)")
      local state = rest:match("state (%S+)")
      local mac = rest:match("link/ether (%S+)")
      out[#out + 1] = format("link %s %s <%s> mtu %s state %s link/ether %s", action, name,
        link_flags(flags), mtu, state, tostring(mac))
    else
      local dev, fam, words = e:match("^%d+: (%S+)%s+(inet6?) (.-) valid_lft")
      if not dev then dev, fam, words = e:match("^%d+: (%S+)%s+(inet6?) (.*)$") end
      if dev then
        local w = split(words)
        if fam == "inet" then table.remove(w) end -- the label
        local at = 2
        while w[at] == "peer" or w[at] == "brd" do at = at + 2 end
        table.insert(w, at, "dev " .. dev)
        out[#out + 1] = format("address %s %s", action, table.concat(w, " "))
      else
        local w = split(e)
        local kind = NUD[w[#w]] and "neighbor" or "route"
        out[#out + 1] = format("%s %s %s", kind, action, table.concat(w, " "))
      end
    end
  end
  return out
end

-- One lnetstat monitor line in the same form.
local function our_event(ev)
  local line = monitor.text_line(ev)
  local w = split(line)
  if w[2] == "change" then w[2] = "new" end
  if ev.kind == "link" then
    local r = ev.record
    local flags = line:match("<([^>]*)>")
    return format("link %s %s <%s> mtu %s state %s link/ether %s", w[2], r.name,
      link_flags(flags), tostring(r.mtu), tostring(r.operstate), tostring(r.mac))
  end
  local out = {}
  for i, word in ipairs(w) do
    local drop = (ev.kind == "address" and word == "permanent")
      or (ev.kind == "route" and word == "table" and w[i + 1] == "main")
      or (ev.kind == "route" and word == "main" and w[i - 1] == "table")
    if not drop then out[#out + 1] = word end
  end
  return table.concat(out, " ")
end

describe("lnetstat monitor text against ip monitor (private netns)", function()
  local NS
  helpers.root_setup(function() NS = helpers.netns_create("lnwatchperfmon") end,
    function() helpers.netns_delete(NS) end)

  local function ip(cmd) helpers.ip(NS, cmd) end

  helpers.root_it("prints the words ip monitor prints for each event", function()
    local w = assert(ns.watch { "links", "addresses", "routes", "neighbors", netns = NS })
    finally(function() w:close() end)
    local _, h = helpers.spawn_ip_monitor(NS)
    finally(h.stop)
    -- markers on lo until ip monitor reports one: then it listens
    local MARK = helpers.ip_monitor_listening(NS, h)
    assert.truthy(MARK, h.stderr())
    for _, cmd in ipairs {
      "link add wpm0 type veth peer name wpm1",
      "link set wpm0 up",
      "link set wpm1 up",
      "addr add 198.51.100.1/24 brd + dev wpm0",
      "addr add 198.51.100.5/24 dev wpm0",
      "addr add 198.51.100.9 peer 198.51.100.10/32 dev wpm0",
      "addr add 2001:db8::1/64 dev wpm0 nodad",
      "addr add 2001:db8:9::1/64 dev wpm0 nodad noprefixroute valid_lft 600 preferred_lft 300",
      "route add 203.0.113.0/24 via 198.51.100.2",
      "route add 203.0.113.7 dev wpm0 proto static metric 5",
      "route add default via 198.51.100.2 table 100",
      "route add blackhole 203.0.113.128/25",
      "route add 203.0.113.16/28 nexthop via 198.51.100.2 weight 2 nexthop via 198.51.100.3",
      "-6 route add 2001:db8:1::/64 via 2001:db8::2",
      "-6 route add 2001:db8:2::/64 dev wpm0 metric 10",
      "-6 route add unreachable 2001:db8:3::/64",
      "-6 route add default via 2001:db8::2 dev wpm0",
      "route replace 203.0.113.0/24 via 198.51.100.3",
      "neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev wpm0",
      "neigh add 2001:db8::2 lladdr 02:00:00:00:00:02 dev wpm0 nud reachable router",
      "neigh change 198.51.100.2 lladdr 02:00:00:00:00:03 dev wpm0 nud stale",
      "neigh del 198.51.100.2 dev wpm0",
      "route del 203.0.113.0/24",
      "-6 route del 2001:db8:1::/64",
      "addr del 198.51.100.1/24 dev wpm0",
      "link set wpm0 mtu 1400",
      "link set wpm0 down",
      "link del wpm0",
    } do
      ip(cmd)
    end
    for _ = 1, 100 do -- until ip monitor has seen wpm1 go too
      if h.stdout():find("Deleted %d+: wpm1") then break end
      helpers.sleep(0.05)
    end
    local theirs, ours = {}, {}
    for _, e in ipairs(ip_events(h.stdout())) do theirs[#theirs + 1] = e end
    repeat
      local evs = assert(w:poll())
      for _, ev in ipairs(evs) do ours[#ours + 1] = our_event(ev) end
    until #evs == 0
    -- from the marker on, on both sides
    local function after_mark(list)
      for i, e in ipairs(list) do
        if e:find(MARK, 1, true) then
          local out = {}
          for j = i, #list do out[#out + 1] = list[j] end
          return out
        end
      end
      return {}
    end
    -- up to wpm1's deletion, the last event of the script, on both sides
    local function until_end(list)
      local out = {}
      for _, e in ipairs(list) do
        out[#out + 1] = e
        if e:match("^link del wpm1 ") then break end
      end
      return out
    end
    theirs, ours = until_end(after_mark(theirs)), until_end(after_mark(ours))
    assert.is_true(#theirs > 40, table.concat(theirs, "\n"))
    assert.same(theirs, ours)
    -- the cases the test is about are there
    local all = table.concat(theirs, "\n")
    for _, want in ipairs {
      "route new 203.0.113.0/24 via 198.51.100.2 dev wpm0\n",
      "route new 2001:db8:2::/64 dev wpm0 metric 10 pref medium\n",
      "route new default via 2001:db8::2 dev wpm0 metric 1024 pref medium\n",
      "route new local 2001:db8::1 dev wpm0 table local proto kernel metric 0 pref medium\n",
      "route new 203.0.113.7 dev wpm0 proto static scope link metric 5\n",
      "nexthop via 198.51.100.2 dev wpm0 weight 2",
      "address new 198.51.100.9 peer 198.51.100.10/32 dev wpm0 scope global",
      "address new 198.51.100.5/24 dev wpm0 scope global secondary",
      "noprefixroute",
      "neighbor new 2001:db8::2 dev wpm0 lladdr 02:00:00:00:00:02 router REACHABLE",
      "link del wpm0 <BROADCAST,MULTICAST> mtu 1400 state DOWN",
    } do
      assert.truthy(all:find(want, 1, true), want)
    end
  end)
end)
