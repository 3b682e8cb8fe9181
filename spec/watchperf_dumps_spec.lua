-- What a watch read costs: a burst of link events is completed with one
-- address dump and no more than one reload of the interface names, however
-- many events the read holds, and the link records are those one dump per
-- event gave (each event its own tables). Checked in a private netns by
-- counting the calls of core.addrs and, under strace, the RTM_GETLINK and
-- RTM_GETADDR requests the process sends.
local ns = require "lnetstat"
local core = require "lnetstat.core"
local helpers = require "helpers"

local format = string.format
local quote, must = helpers.quote, helpers.must

local PAIRS = 12

-- Writes lines to a temp file and runs them with ip -n NS -batch.
local function ip_batch(netns, lines)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local ok, err = pcall(must, format("ip -n %s -batch %s", quote(netns), quote(path)))
  os.remove(path)
  assert(ok, err)
end

-- The ip -batch lines of the burst: PAIRS veth pairs, an IPv4 and an IPv6
-- address on one end, both ends up, and one change of an existing link.
local function burst_lines(round)
  local lines = {}
  for i = 1, PAIRS do
    lines[#lines + 1] = format("link add wp%d_%d type veth peer name wq%d_%d", round, i, round, i)
    lines[#lines + 1] = format("addr add 198.51.100.%d/32 dev wp%d_%d", round * 50 + i, round, i)
    lines[#lines + 1] = format("addr add 2001:db8:%d::%d/128 dev wp%d_%d nodad", round, i, round, i)
    lines[#lines + 1] = format("link set wp%d_%d up", round, i)
    lines[#lines + 1] = format("link set wq%d_%d up", round, i)
  end
  lines[#lines + 1] = "link set lo mtu 65000"
  return lines
end

-- "addr/prefixlen" of an interface's addresses, sorted.
local function addr_keys(list)
  local out = {}
  for _, a in ipairs(list or {}) do out[#out + 1] = format("%s/%d", a.addr, a.prefixlen) end
  table.sort(out)
  return out
end

describe("watch read cost (private netns)", function()
  local NS
  setup(function()
    if not helpers.is_root() then return end
    NS = helpers.netns_create("lnwatchperf")
  end)
  teardown(function()
    helpers.netns_delete(NS)
  end)

  helpers.root_it("completes a burst of link events with one address dump", function()
    local w = assert(ns.watch { "links", netns = NS })
    finally(function() w:close() end)
    assert.same({}, assert(w:poll())) -- the names map is loaded before the burst
    local orig, calls = core.addrs, {}
    core.addrs = function(...)
      calls[#calls + 1] = select(3, ...) or "all"
      return orig(...)
    end
    finally(function() core.addrs = orig end)
    ip_batch(NS, burst_lines(1))
    local evs = assert(w:poll()) -- everything the burst sent is queued: one read
    core.addrs = orig
    local new, by_index = 0, {}
    for _, ev in ipairs(evs) do
      assert.equals("link", ev.kind)
      if ev.action == "new" then
        new = new + 1
        local l = by_index[ev.record.index] or {}
        by_index[ev.record.index] = l
        l[#l + 1] = ev.record
      end
    end
    assert.is_true(new >= 4 * PAIRS, "link events: " .. new)
    assert.equals(1, #calls, "address dumps for " .. new .. " link events")
    -- the records: each link's addresses as the namespace has them now
    local now = {}
    for _, a in ipairs(assert(ns.addresses { netns = NS })) do
      local l = now[a.index] or {}
      now[a.index] = l
      l[#l + 1] = a
    end
    local seen_addr, tables = 0, {}
    for index, recs in pairs(by_index) do
      for _, r in ipairs(recs) do
        assert.same(addr_keys(now[index]), addr_keys(r.addresses))
        assert.is_nil(tables[r.addresses], "two events share an addresses table")
        tables[r.addresses] = true
        for _, a in ipairs(r.addresses) do
          assert.equals(index, a.index)
          assert.is_nil(tables[a], "two events share an address record")
          tables[a] = true
          if a.interface:match("^wp1_") and a.family == "inet" then seen_addr = seen_addr + 1 end
        end
      end
    end
    -- the cases the test is about are there: links with addresses, reported more than once
    assert.is_true(seen_addr >= PAIRS, "IPv4 addresses attached: " .. seen_addr)
    local twice = 0
    for _, recs in pairs(by_index) do
      if #recs > 1 then twice = twice + 1 end
    end
    assert.is_true(twice >= PAIRS, "links reported twice: " .. twice)
  end)

  helpers.root_it("a single link event dumps only that interface's addresses", function()
    local w = assert(ns.watch { "links", netns = NS })
    finally(function() w:close() end)
    assert.same({}, assert(w:poll()))
    local orig, calls = core.addrs, {}
    core.addrs = function(...)
      calls[#calls + 1] = select(3, ...) or "all"
      return orig(...)
    end
    finally(function() core.addrs = orig end)
    must(format("ip -n %s link set lo mtu 65100", quote(NS)))
    local evs = assert(w:poll())
    core.addrs = orig
    assert.equals(1, #evs)
    assert.equals("lo", evs[1].record.name)
    assert.same({ evs[1].record.index }, calls)
    assert.same({ "127.0.0.1/8", "::1/128" }, addr_keys(evs[1].record.addresses))
  end)

  helpers.root_it("reads an interrupted address dump again and says when it cannot read one", function()
    local w = assert(ns.watch { "links", netns = NS })
    finally(function() w:close() end)
    assert.same({}, assert(w:poll()))
    local orig, calls, fail = core.addrs, 0, false
    core.addrs = function(...)
      calls = calls + 1
      if fail then return nil, "RTM_GETADDR: Operation not permitted", 1 end
      local list = orig(...)
      return list, calls == 1 -- the first as the kernel flags a dump that raced a change
    end
    finally(function() core.addrs = orig end)
    must(format("ip -n %s link set lo mtu 65200", quote(NS)))
    local evs = assert(w:poll())
    assert.equals(1, #evs)
    assert.equals(2, calls)
    assert.is_nil(evs[1].partial)
    assert.same({ "127.0.0.1/8", "::1/128" }, addr_keys(evs[1].record.addresses))
    fail = true
    must(format("ip -n %s link set lo mtu 65300", quote(NS)))
    evs = assert(w:poll())
    core.addrs = orig
    assert.equals(1, #evs)
    assert.same({}, evs[1].record.addresses)
    assert.matches("^addresses unread: RTM_GETADDR: Operation not permitted", evs[1].partial)
  end)

  -- Runs, in a child under strace, a watch of kinds on NS that reads once,
  -- then applies the ip -batch lines and reads again; report (Lua source)
  -- prints what the test needs from that read's events (evs). Returns what
  -- the child printed and the RTM_GETADDR and RTM_GETLINK requests it sent
  -- after its first read.
  local function traced_read(kinds, lines, report)
    local batch = os.tmpname()
    finally(function() os.remove(batch) end)
    local script = format([[
      local pid = io.open("/proc/self/stat"):read("*l"):match("^(%%d+)")
      local w = assert(ns.watch { %s, netns = %q })
      assert(w:poll())
      print("mark " .. pid)
      io.stdout:flush()
      io.open("/proc/self/comm", "w") -- a marker in the trace: an openat after the first read
      local f = io.open(%q, "w")
      f:write(%q)
      f:close()
      assert(os.execute(%q))
      local evs = assert(w:poll())
      %s
      w:close()
    ]], kinds, NS, batch, table.concat(lines, "\n") .. "\n",
      format("ip -n %s -batch %s", quote(NS), quote(batch)), report)
    local out, trace = helpers.strace_lua("sendto,sendmsg,openat", script)
    local pid = out:match("mark (%d+)")
    assert.truthy(pid, out .. trace)
    local after, getaddr, getlink = false, 0, 0
    for line in trace:gmatch("[^\n]+") do
      if line:match("^" .. pid .. " ") then
        if line:find("/proc/self/comm", 1, true) then after = true end
        -- strace names the types only of sockets whose protocol it can
        -- learn, not of those opened in another netns: 0x12 and 0x16
        local t = line:match("nlmsg_type=([%w_]+)")
        if after and (t == "RTM_GETADDR" or t == "0x16") then getaddr = getaddr + 1 end
        if after and (t == "RTM_GETLINK" or t == "0x12") then getlink = getlink + 1 end
      end
    end
    assert.is_true(after, trace)
    return out, getaddr, getlink
  end

  helpers.root_it("sends one RTM_GETADDR and at most one RTM_GETLINK for a burst (strace)", function()
    local out, getaddr, getlink = traced_read('"links", "addresses", "routes", "neighbors"', burst_lines(2), [[
      local links = 0
      for _, ev in ipairs(evs) do if ev.kind == "link" then links = links + 1 end end
      print("links " .. links)]])
    local links = tonumber(out:match("links (%d+)"))
    assert.is_true(links >= 4 * PAIRS, out)
    assert.equals(1, getaddr)
    assert.is_true(getlink <= 1, "link reloads: " .. getlink)
  end)

  helpers.root_it("names the addresses of a link gone before its events are read, reloading at most once", function()
    -- the link comes and goes between two reads: its name comes from its
    -- own link message, not from a reload that can no longer find it
    local lines = { "link add wgone type bridge" }
    for i = 1, 20 do lines[#lines + 1] = format("addr add 203.0.113.%d/32 dev wgone", i) end
    lines[#lines + 1] = "link del wgone"
    local out, _, getlink = traced_read('"addresses"', lines, [[
      local named = 0
      for _, ev in ipairs(evs) do
        if ev.kind == "address" and ev.record.interface == "wgone" then named = named + 1 end
      end
      print("addresses " .. #evs .. " named " .. named)]])
    local events, named = out:match("addresses (%d+) named (%d+)")
    events, named = tonumber(events), tonumber(named)
    assert.is_true(events >= 40, out)   -- 20 added, 20 deleted
    assert.equals(events, named)
    assert.is_true(getlink <= 1, "link reloads for " .. events .. " events: " .. getlink)
  end)
end)
