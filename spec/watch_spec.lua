-- ns.watch(): change events of links, addresses, routes, neighbours and
-- sockets, checked against the list functions in a private netns; poll(),
-- events(), fd(), close(), overflow and argument errors.
local ns = require "lnetstat"
local helpers = require "helpers"

local format = string.format
local quote, must, run = helpers.quote, helpers.must, helpers.run
local err_of = helpers.err_of

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function without(list, drop)
  local out = {}
  for _, k in ipairs(list) do
    if not drop[k] then out[#out + 1] = k end
  end
  return out
end

-- The first event pred accepts, reading for up to timeout seconds between
-- events; nil when none came.
local function wait_for(w, pred, timeout)
  for ev in w:events(timeout or 3) do
    if pred(ev) then return ev end
  end
  return nil
end

-- Wall-clock seconds (fractions), from date(1): os.clock is CPU time.
local function now()
  return tonumber((run("date +%s.%N")))
end

describe("watch arguments", function()
  it("raises errors naming 'watch' for bad kinds and options", function()
    assert.matches("bad argument #1 to 'watch' %(kind must be one of addresses, links, "
      .. "neighbors, routes, sockets, got 'link'; did you mean 'links'%?%)",
      err_of(ns.watch, { "link" }))
    assert.matches("bad argument #1 to 'watch' %(list of kinds expected", err_of(ns.watch, 42))
    assert.matches("bad argument #1 to 'watch' %(list of kinds is empty", err_of(ns.watch, {}))
    assert.matches("bad argument #1 to 'watch' %(unknown option 'netnz'; did you mean 'netns'%?%)",
      err_of(ns.watch, { "links", netnz = "x" }))
    assert.matches("bad argument #2 to 'watch' %(unknown option 'famly'",
      err_of(ns.watch, { "links" }, { famly = "inet" }))
    assert.matches("bad argument #1 to 'watch' %(family must be one of inet, inet6, got 'ipv4'",
      err_of(ns.watch, { "routes", family = "ipv4" }))
    assert.matches("bad argument #1 to 'watch' %(table must be one of",
      err_of(ns.watch, { "routes", table = "mian" }))
    assert.matches("bad argument #1 to 'watch' %(table must be a table name or an id",
      err_of(ns.watch, { "routes", table = 0 }))
    assert.matches("bad argument #1 to 'watch' %(rcvbuf must be a size in bytes",
      err_of(ns.watch, { "routes", rcvbuf = -1 }))
    assert.matches("bad argument #2 to 'watch' %(option 'netns' is given twice",
      err_of(ns.watch, { "links", netns = "a" }, { netns = "b" }))
    assert.matches("bad argument #1 to 'watch' %(netns must be a name",
      err_of(ns.watch, { "links", netns = true }))
  end)

  it("reports the error line of the caller", function()
    local ok, msg = pcall(function()
      local w = ns.watch { "nope" } -- not a tail call: this line is the caller
      return w
    end)
    assert.is_false(ok)
    assert.matches("watch_spec.lua:%d+: bad argument #1 to 'watch'", msg)
  end)

  it("raises errors naming 'events' for a bad timeout", function()
    local w = assert(ns.watch { "links" })
    finally(function() w:close() end)
    for _, bad in ipairs { -1, "5", 0 / 0, true } do
      assert.matches("bad argument #1 to 'events' %(timeout must be a number of seconds >= 0 or nil",
        err_of(w.events, w, bad))
    end
    assert.is_function(w:events(0)) -- 0: what has arrived, without waiting
    assert.is_function(w:events(math.huge)) -- no limit, as nil
  end)

  it("names the argument an option came in, and takes the kinds only as a list", function()
    assert.matches("bad argument #2 to 'watch' %(rcvbuf must be a size in bytes",
      err_of(ns.watch, { "links" }, { rcvbuf = -1 }))
    assert.matches("bad argument #2 to 'watch' %(table must be a table name or an id",
      err_of(ns.watch, { "routes" }, { table = 0 }))
    assert.matches("bad argument #2 to 'watch' %(family must be one of inet, inet6",
      err_of(ns.watch, { "routes" }, { family = "ipv4" }))
    assert.matches("bad argument #2 to 'watch' %(netns pid must be a positive integer",
      err_of(ns.watch, { "routes" }, { netns = 0 }))
    assert.matches("bad argument #2 to 'watch' %(netns 'all' is not supported",
      err_of(ns.watch, { "routes" }, { netns = "all" }))
    assert.matches("bad argument #1 to 'watch' %(netns 'all' is not supported",
      err_of(ns.watch, { "routes", netns = "all" }))
    assert.matches("bad argument #1 to 'watch' %(kinds must be a list: index 2 is missing",
      err_of(ns.watch, { "links", nil, "bogus" }))
    assert.matches("bad argument #1 to 'watch' %(kinds must be a list: key 1.5 is not an index",
      err_of(ns.watch, { "links", [1.5] = "routes" }))
  end)

  -- The C core's wait is poll()'s int of milliseconds: a longer timeout
  -- waits without limit, as math.huge does (seen through a stand-in for
  -- the C watch, which hands over one event at once).
  it("waits without limit for a finite timeout beyond what the kernel takes", function()
    local w = assert(ns.watch { "links" })
    finally(function() w:close() end)
    local real, asked = w.w, {}
    finally(function() w.w = real end)
    w.w = {
      read = function(_, _, ms)
        asked[#asked + 1] = ms
        return { { kind = "overflow", source = "rtnetlink" } }, false, 0
      end,
    }
    for _, t in ipairs { 1e308, 1e300, 2 ^ 53, 2147484, math.huge, 2147483, 30, 0.0001, 0 } do
      local ev = w:events(t)()
      assert.equal("overflow", ev.kind)
    end
    assert.same({ -1, -1, -1, -1, -1, 2147483000, 30000, 1, 0 }, asked)
  end)

  it("returns nil, message, errno for a namespace that does not exist", function()
    local missing = "lnetstat-watch-missing-" .. helpers.getpid()
    local w, msg, errno = ns.watch { "links", netns = missing }
    assert.is_nil(w)
    assert.matches("netns '/var/run/netns/" .. missing:gsub("%-", "%%-") .. "': not a network namespace", msg)
    assert.equals(2, errno)
  end)
end)

describe("watch in a private netns", function()
  local NS
  helpers.root_setup(function()
    NS = helpers.netns_create("lnw")
    for _, cmd in ipairs { "link add wa0 type veth peer name wa1", "link set wa0 up",
      "addr add 198.51.100.1/24 dev wa0" } do
      helpers.ip(NS, cmd)
    end
  end, function() helpers.netns_delete(NS) end)

  local function ip(cmd) must(format("ip -n %s %s", quote(NS), cmd)) end

  helpers.root_it("reports a link added and removed, with the fields of interfaces()", function()
    local w = assert(ns.watch { "links", netns = NS })
    finally(function() w:close() end)
    ip("link add wl0 type veth peer name wl1")
    local new = wait_for(w, function(ev) return ev.kind == "link" and ev.record.name == "wl0" end)
    assert.is_table(new)
    assert.equals("new", new.action)
    assert.is_nil(new.change) -- the kernel announces a new link
    local listed = assert(ns.interfaces { netns = NS, name = "wl0" })[1]
    assert.same(keys(listed), keys(new.record))
    for _, k in ipairs { "name", "index", "mtu", "mac", "kind", "link", "type", "qdisc" } do
      assert.equals(listed[k], new.record[k], k)
    end
    assert.equals("wl1", new.record.link) -- the peer's name, as interfaces() resolves it
    assert.is_table(new.record.stats)
    assert.same({}, new.record.addresses)

    ip("link set wl0 up")
    local up = wait_for(w, function(ev) return ev.record and ev.record.name == "wl0" and ev.change end)
    assert.is_table(up)
    assert.equals("new", up.action)
    assert.is_true(up.record.flags.UP)

    ip("link del wl0")
    local del = wait_for(w, function(ev)
      return ev.kind == "link" and ev.action == "del" and ev.record.name == "wl0"
    end)
    assert.is_table(del)
    assert.equals(listed.index, del.record.index)
  end)

  helpers.root_it("reports an address added and removed, with the fields of addresses()", function()
    local w = assert(ns.watch { "addresses", netns = NS })
    finally(function() w:close() end)
    ip("addr add 198.51.100.7/24 dev wa0")
    local new = wait_for(w, function(ev) return ev.record.addr == "198.51.100.7" end)
    assert.is_table(new)
    assert.same({ "action", "kind", "record" }, keys(new))
    assert.equals("address", new.kind)
    assert.equals("new", new.action)
    local listed
    for _, r in ipairs(assert(ns.addresses { netns = NS, interface = "wa0" })) do
      if r.addr == "198.51.100.7" then listed = r end
    end
    assert.is_table(listed)
    assert.same(listed, new.record)
    assert.equals("wa0", new.record.interface)
    assert.is_true(new.record.flags.secondary)

    ip("addr del 198.51.100.7/24 dev wa0")
    local del = wait_for(w, function(ev) return ev.record.addr == "198.51.100.7" end)
    assert.is_table(del)
    assert.equals("del", del.action)
    assert.same(keys(listed), keys(del.record))
    assert.equals("198.51.100.7/24", del.record.cidr)
  end)

  helpers.root_it("reports a route added and removed, with the fields of routes()", function()
    local w = assert(ns.watch { "routes", netns = NS })
    finally(function() w:close() end)
    ip("route add 203.0.113.0/24 via 198.51.100.2 dev wa0 metric 7")
    local new = wait_for(w, function(ev) return ev.record.dst == "203.0.113.0/24" end)
    assert.is_table(new)
    assert.equals("route", new.kind)
    assert.equals("new", new.action)
    assert.is_nil(new.change)
    local listed
    for _, r in ipairs(assert(ns.routes { netns = NS, family = "inet" })) do
      if r.dst == "203.0.113.0/24" then listed = r end
    end
    assert.is_table(listed)
    assert.same(listed, new.record)
    assert.equals("UG", new.record.flags)
    assert.equals("198.51.100.2", new.record.gateway)

    ip("route replace 203.0.113.0/24 via 198.51.100.3 dev wa0 metric 7")
    local repl = wait_for(w, function(ev) return ev.record.dst == "203.0.113.0/24" end)
    assert.is_table(repl)
    assert.equals("new", repl.action)
    assert.is_true(repl.change)
    assert.equals("198.51.100.3", repl.record.gateway)

    ip("route del 203.0.113.0/24 dev wa0 metric 7")
    local del = wait_for(w, function(ev) return ev.record.dst == "203.0.113.0/24" end)
    assert.is_table(del)
    assert.equals("del", del.action)
    assert.same(keys(listed), keys(del.record))
  end)

  helpers.root_it("keeps to the table asked for", function()
    local w = assert(ns.watch { "routes", netns = NS, table = "main" })
    finally(function() w:close() end)
    ip("route add 203.0.113.64/26 dev wa0 table 100")
    ip("route add 203.0.113.128/26 dev wa0")
    local seen = {}
    for ev in w:events(1) do seen[#seen + 1] = ev.record.dst .. " " .. ev.record.table end
    assert.same({ "203.0.113.128/26 254" }, seen)
  end)

  helpers.root_it("reports a neighbour added, with the fields of neighbors()", function()
    local w = assert(ns.watch { "neighbors", netns = NS })
    finally(function() w:close() end)
    ip("neigh add 198.51.100.9 lladdr 02:00:00:00:00:09 dev wa0 nud permanent")
    local new = wait_for(w, function(ev) return ev.record.addr == "198.51.100.9" end)
    assert.is_table(new)
    assert.equals("neighbor", new.kind)
    assert.equals("new", new.action)
    local listed
    for _, r in ipairs(assert(ns.neighbors { netns = NS })) do
      if r.addr == "198.51.100.9" then listed = r end
    end
    assert.is_table(listed)
    assert.same(keys(listed), keys(new.record))
    for _, k in ipairs { "family", "addr", "mac", "interface", "ifindex", "state", "router" } do
      assert.equals(listed[k], new.record[k], k)
    end
    assert.equals("PERMANENT", new.record.state)
    assert.equals("02:00:00:00:00:09", new.record.mac)
  end)

  helpers.root_it("reports only the family asked for", function()
    local w = assert(ns.watch { "addresses", netns = NS, family = "inet6" })
    finally(function() w:close() end)
    ip("addr add 198.51.100.20/24 dev wa0")
    ip("addr add 2001:db8::20/64 dev wa0 nodad")
    local seen = {}
    for ev in w:events(1) do seen[#seen + 1] = ev.record.family .. " " .. ev.record.addr end
    assert.same({ "inet6 2001:db8::20" }, seen)
  end)

  helpers.root_it("reports a TCP connection closed on loopback with its ports", function()
    local w = assert(ns.watch { "sockets", netns = NS })
    finally(function() w:close() end)
    local trigger = os.tmpname()
    os.remove(trigger)
    -- a listener and a connection; they close when the trigger file appears
    local script = format([[
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
print("ports %%d %%d" %% (s.getsockname()[1], c.getsockname()[1])); print("ready"); sys.stdout.flush()
for _ in range(200):
    if os.path.exists(%q): break
    time.sleep(0.05)
c.close(); a.close(); s.close()
]], trigger)
    local pid, h = helpers.spawn(format("ip netns exec %s python3 -c %s", quote(NS), quote(script)))
    finally(function()
      helpers.kill(pid, 2, "python3")
      h.cleanup()
      os.remove(trigger)
    end)
    local ready, out = h:wait_ready(10)
    assert(ready, out)
    local server, client = out:match("ports (%d+) (%d+)")
    server, client = tonumber(server), tonumber(client)
    local listed = assert(ns.sockets { netns = NS, proto = "tcp", local_port = client })
    assert.equals(1, #listed)
    local f = assert(io.open(trigger, "w"))
    f:close()
    local del = wait_for(w, function(ev)
      return ev.record.local_port == client and ev.record.remote_port == server
    end)
    assert.is_table(del)
    assert.equals("socket", del.kind)
    assert.equals("del", del.action)
    assert.equals("tcp", del.record.proto)
    assert.equals("127.0.0.1", del.record.local_addr)
    assert.equals("127.0.0.1", del.record.remote_addr)
    -- the fields of sockets(), but uid and inode: destroy reports leave them 0
    assert.same(without(keys(listed[1]), { uid = true, inode = true }), keys(del.record))
    -- the listener closes too
    local listener = wait_for(w, function(ev)
      return ev.record.local_port == server and ev.record.remote_port == 0
    end)
    assert.is_table(listener)
  end)

  helpers.root_it("poll() never blocks and events() ends on its timeout", function()
    local w = assert(ns.watch { "links", "addresses", "routes", "neighbors", netns = NS })
    finally(function() w:close() end)
    local t0 = now()
    local got = w:poll()
    assert.is_true(now() - t0 < 0.5)
    assert.same({}, got)
    t0 = now()
    local n = 0
    for _ in w:events(0.3) do n = n + 1 end
    local waited = now() - t0
    assert.equals(0, n)
    assert.is_true(waited >= 0.29 and waited < 2, "waited " .. waited)
    -- what arrived comes back from poll(), in order, at once
    ip("addr add 198.51.100.30/24 dev wa0")
    ip("addr del 198.51.100.30/24 dev wa0")
    helpers.sleep(0.2)
    local evs = w:poll()
    local addrs = {}
    for _, ev in ipairs(evs) do
      if ev.kind == "address" then addrs[#addrs + 1] = ev.action .. " " .. ev.record.addr end
    end
    assert.same({ "new 198.51.100.30", "del 198.51.100.30" }, addrs)
    assert.same({}, w:poll())
  end)

  helpers.root_it("events() with a huge finite timeout hands over what has arrived", function()
    local w = assert(ns.watch { "addresses", netns = NS })
    finally(function() w:close() end)
    ip("addr add 198.51.100.31/24 dev wa0")
    ip("addr del 198.51.100.31/24 dev wa0")
    local seen = {}
    for ev in w:events(1e308) do
      seen[#seen + 1] = ev.action .. " " .. ev.record.addr
      if #seen == 2 then break end
    end
    assert.same({ "new 198.51.100.31", "del 198.51.100.31" }, seen)
  end)

  helpers.root_it("fd() is an epoll descriptor; close() is idempotent and frees it", function()
    local w = assert(ns.watch { "links", "sockets", netns = NS })
    local fd = w:fd()
    assert.is_true(helpers.is_integer(fd) and fd >= 0)
    local target = run(format("readlink /proc/%d/fd/%d", helpers.getpid(), fd))
    assert.matches("eventpoll", target)
    w:close()
    w:close()
    assert.matches("closed", tostring(w))
    assert.equals("", run(format("readlink /proc/%d/fd/%d 2>/dev/null | grep eventpoll",
      helpers.getpid(), fd)))
    assert.matches("bad argument #1 to 'poll' %(watch is closed%)", err_of(w.poll, w))
    assert.matches("bad argument #1 to 'fd' %(watch is closed%)", err_of(w.fd, w))
    assert.matches("bad argument #1 to 'events' %(watch is closed%)", err_of(w.events, w, 1))
  end)

  helpers.root_it("closes at the end of a Lua 5.4 to-be-closed variable", function()
    if _VERSION ~= "Lua 5.4" or rawget(_G, "jit") then
      -- 5.1, 5.3 and LuaJIT have no to-be-closed variables: collection closes
      local w = assert(ns.watch { "links", netns = NS })
      local fd = w:fd()
      w = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      assert.equals("", run(format("readlink /proc/%d/fd/%d 2>/dev/null | grep eventpoll",
        helpers.getpid(), fd)))
      return
    end
    local chunk = assert(load([[
      local ns, NS = ...
      local fd
      do
        local w <close> = assert(ns.watch { "links", netns = NS })
        fd = w:fd()
      end
      return fd
    ]]))
    local fd = chunk(ns, NS)
    assert.equals("", run(format("readlink /proc/%d/fd/%d 2>/dev/null | grep eventpoll",
      helpers.getpid(), fd)))
  end)

  helpers.root_it("says so with an overflow event when the receive queue overflowed", function()
    local w = assert(ns.watch { "routes", netns = NS, rcvbuf = 1 })
    finally(function() w:close() end)
    local batch = os.tmpname()
    finally(function() os.remove(batch) end)
    local f = assert(io.open(batch, "w"))
    for i = 1, 250 do f:write(format("route add 203.0.113.%d/32 dev wa0 table 200\n", i)) end
    f:close()
    must(format("ip -n %s -batch %s", quote(NS), quote(batch)))
    local evs = assert(w:poll())
    local overflow, routes = 0, 0
    for _, ev in ipairs(evs) do
      if ev.kind == "overflow" then
        overflow = overflow + 1
        assert.equals("rtnetlink", ev.source)
        assert.matches("re%-read the state", ev.message)
      elseif ev.kind == "route" then
        routes = routes + 1
      end
    end
    assert.equals(1, overflow)
    assert.is_true(routes < 250, "routes " .. routes)
    -- the watch goes on after an overflow
    ip("route add 203.0.113.0/24 dev wa0 table 201")
    local ev = wait_for(w, function(e) return e.kind == "route" and e.record.table == 201 end)
    assert.is_table(ev)
  end)
end)
