-- netns = "all": every data function reads the caller's own namespace and
-- every named one, each record tagged with netns (nil for the caller's
-- own); a named namespace that cannot be read makes the answer partial,
-- naming it, and fails nothing. Two namespaces of this spec (a listener,
-- a bridge and a route each) and a listener in the caller's own namespace.
local helpers = require "helpers"
local ns = require "lnetstat"

local format = string.format
local quote = helpers.quote
local root_it = helpers.root_it

local PID = helpers.getpid()
local HERE = ((debug.getinfo(1, "S").source:match("^@(.*/)")) or "./")

-- one process holds the listeners of every namespace
local LISTENERS = "python3 " .. quote(HERE .. "fixtures/listeners.py")

-- Ports nothing in the caller's namespace uses, above the ephemeral range:
-- a listener of the host on a fixed port would read as one of this spec's.
local function free_ports(count)
  local used, ports = {}, {}
  for _, f in ipairs { "tcp", "tcp6" } do
    local text = helpers.read_file("/proc/net/" .. f) or ""
    for hex in text:gmatch("\n%s*%d+: %x+:(%x%x%x%x) ") do used[tonumber(hex, 16)] = true end
  end
  for port = 61000 + PID % 3000, 64999 do
    if not used[port] then ports[#ports + 1] = port end
    if #ports == count then return (table.unpack or unpack)(ports) end
  end
  error("no free port")
end

local function count_where(list, pred)
  local n = 0
  for _, r in ipairs(list) do if pred(r) then n = n + 1 end end
  return n
end

describe("netns = 'all'", function()
  local A, B, procs = nil, nil, {}
  -- each namespace's own port, bridge and route: a record of one found in
  -- the other would show a mix-up
  local PORT_A, PORT_B
  local BR_A, BR_B = "nsA" .. PID % 100000, "nsB" .. PID % 100000
  local NET_A, NET_B = "198.51.100.0/25", "198.51.100.128/25"
  local own_port
  -- other programs may hold namespaces with the same ports or routes: the
  -- assertions look at this spec's namespaces and the caller's own
  local function ours(r) return r.netns == nil or r.netns == A or r.netns == B end

  local function start(cmd)
    local pid, h = helpers.spawn(cmd)
    procs[#procs + 1] = { pid = pid, h = h }
    assert(h:wait_ready(20))
  end

  setup(function()
    if not helpers.is_root() then return end
    PORT_A, PORT_B, own_port = free_ports(3)
    A = helpers.netns_create("lnetstat-allA")
    B = helpers.netns_create("lnetstat-allB")
    for _, t in ipairs { { A, BR_A, NET_A, PORT_A }, { B, BR_B, NET_B, PORT_B } } do
      local n, br, net = quote(t[1]), quote(t[2]), t[3]
      helpers.must(format("ip -n %s link add %s type bridge && ip -n %s link set %s up "
        .. "&& ip -n %s route add %s dev %s", n, br, n, br, n, net, br))
    end
    start(format("%s %s:127.0.0.1:%d %s:127.0.0.1:%d -:127.0.0.1:%d", LISTENERS, A, PORT_A,
      B, PORT_B, own_port))
  end)

  teardown(function()
    for _, p in ipairs(procs) do
      helpers.kill(p.pid, 3, "python3")
      p.h.cleanup()
    end
    helpers.netns_delete(A)
    helpers.netns_delete(B)
  end)

  root_it("sockets: each namespace's listener, tagged with its name; the caller's own untagged", function()
    local list = assert(ns.sockets { netns = "all", state = "listening", proto = "tcp" })
    local function tagged(port)
      local tags = {}
      for _, r in ipairs(list) do
        if ours(r) and r.local_port == port and r.local_addr == "127.0.0.1" then
          tags[#tags + 1] = r.netns or "(own)"
        end
      end
      return table.concat(tags, ",")
    end
    assert.equal(A, tagged(PORT_A))
    assert.equal(B, tagged(PORT_B))
    assert.equal("(own)", tagged(own_port))
    assert.equal("tcp", list.sources.tcp and "tcp")
    -- the caller's own namespace answers exactly what netns = nil answers
    local own = assert(ns.sockets { state = "listening", proto = "tcp" })
    local function keys(l, pred)
      local t = {}
      for _, r in ipairs(l) do
        if pred(r) then t[#t + 1] = format("%s:%d", r.local_addr, r.local_port) end
      end
      table.sort(t)
      return table.concat(t, " ")
    end
    assert.equal(keys(own, function() return true end), keys(list, function(r) return r.netns == nil end))
    -- each named namespace answers what netns = NAME answers
    local a = assert(ns.sockets { netns = A, state = "listening", proto = "tcp" })
    assert.equal(keys(a, function() return true end), keys(list, function(r) return r.netns == A end))
  end)

  root_it("listening, connections and each_socket take 'all' too", function()
    local l = assert(ns.listening { netns = "all", proto = "tcp" })
    assert.equal(1, count_where(l, function(r) return r.netns == B and r.local_port == PORT_B end))
    local c = assert(ns.connections { netns = "all", proto = "tcp" })
    assert.equal(0, count_where(c, function(r) return r.state == "LISTEN" end))
    local seen, count = {}, 0
    local n, summary = ns.each_socket({ netns = "all", state = "listening", proto = "tcp" }, function(r)
      count = count + 1
      if ours(r) and (r.local_port == PORT_A or r.local_port == PORT_B or r.local_port == own_port) then
        seen[#seen + 1] = format("%d@%s", r.local_port, r.netns or "(own)")
      end
    end)
    assert.equal(count, n)
    assert.is_table(summary)
    table.sort(seen)
    local want = { format("%d@%s", PORT_A, A), format("%d@%s", PORT_B, B), format("%d@(own)", own_port) }
    table.sort(want)
    assert.same(want, seen)
  end)

  root_it("interfaces, addresses, routes and each_route: each namespace's own bridge and route", function()
    local links = assert(ns.interfaces { netns = "all" })
    local function where(list, field, value)
      local tags = {}
      for _, r in ipairs(list) do
        if ours(r) and r[field] == value then tags[#tags + 1] = r.netns or "(own)" end
      end
      return table.concat(tags, ",")
    end
    assert.equal(A, where(links, "name", BR_A))
    assert.equal(B, where(links, "name", BR_B))
    local lo = {}
    for _, r in ipairs(links) do if r.name == "lo" then lo[r.netns or "(own)"] = true end end
    assert.is_true(lo[A] and lo[B] and lo["(own)"])
    local addrs = assert(ns.addresses { netns = "all", family = "inet" })
    assert.is_true(count_where(addrs, function(r) return r.netns == A and r.addr == "127.0.0.1" end) == 1)
    local routes = assert(ns.routes { netns = "all", family = "inet" })
    assert.equal(A, where(routes, "dst", NET_A))
    assert.equal(B, where(routes, "dst", NET_B))
    local streamed = {}
    local n = ns.each_route({ netns = "all", family = "inet" }, function(r)
      if ours(r) and (r.dst == NET_A or r.dst == NET_B) then streamed[r.dst] = r.netns end
    end)
    assert.is_true(n >= 2)
    assert.same({ [NET_A] = A, [NET_B] = B }, streamed)
    local got = assert(ns.route_get("198.51.100.200", { netns = "all" }))
    local via = {}
    for _, r in ipairs(got) do via[r.netns or "(own)"] = r.interface end
    assert.equal(BR_B, via[B])
    -- A has no route there: its failure is named, the others answered
    assert.is_nil(via[A])
    assert.matches("netns '" .. A .. "' could not be read", got.partial, 1, true)
  end)

  root_it("stats: one table per namespace, the caller's own first with netns nil", function()
    local list = assert(ns.stats { netns = "all", only = "Tcp" })
    assert.is_nil(list[1].netns)
    local names = {}
    for i, st in ipairs(list) do
      assert.is_table(st.Tcp, "entry " .. i)
      if st.netns then names[st.netns] = st end
    end
    assert.is_truthy(names[A])
    assert.is_truthy(names[B])
    -- a namespace of its own: one listener, no connection
    assert.equal(0, names[A].Tcp.CurrEstab)
    local groups = assert(ns.groups { netns = "all" })
    assert.is_true(count_where(groups, function(r) return r.netns == A end) >= 1)
  end)

  root_it("a named namespace that cannot be read makes the answer partial, naming it", function()
    local bad = format("lnetstat-bad-%d", PID)
    local path = "/var/run/netns/" .. bad
    -- a stale entry: a plain file where a namespace bind mount should be
    local f = assert(io.open(path, "w"))
    f:close()
    local ok, err = pcall(function()
      local list = assert(ns.sockets { netns = "all", state = "listening", proto = "tcp" })
      assert.matches("netns '" .. bad .. "' could not be read", list.partial, 1, true)
      local found
      for _, e in ipairs(list.netns_errors) do
        if e.netns == bad then found = e end
      end
      assert.is_table(found)
      assert.is_string(found.message)
      assert.is_number(found.errno)
      -- the other namespaces are still answered
      assert.equal(1, count_where(list, function(r) return r.netns == A and r.local_port == PORT_A end))
      local n, summary = ns.each_route({ netns = "all" }, function() end)
      assert.is_number(n)
      assert.matches("netns '" .. bad .. "' could not be read", summary.partial, 1, true)
      local st = assert(ns.stats { netns = "all", only = "Tcp" })
      assert.matches("netns '" .. bad .. "' could not be read", st.partial, 1, true)
    end)
    os.remove(path)
    assert(ok, err)
  end)

  root_it("lnetstat -tulnp --netns all: a netstat table per namespace, headed by its name", function()
    local bin = helpers.LUA .. " " .. quote(HERE .. "../bin/lnetstat")
    local out = helpers.must(bin .. " -tulnp --netns all")
    -- the sections, in order, by their heading lines
    local order, text, current = {}, {}, nil
    for line in out:gmatch("([^\n]*)\n") do
      local name = line:match("^Namespace: (.+)$")
      if name then
        current = name
        order[#order + 1] = name
        text[name] = {}
      else
        assert(current, "output before the first heading: " .. line)
        local t = text[current]
        t[#t + 1] = line
      end
    end
    assert.equal("(own)", order[1])
    local function pos(name)
      for i, n in ipairs(order) do if n == name then return i end end
    end
    assert.is_truthy(pos(A))
    assert.is_truthy(pos(B))
    assert.is_true(pos(A) < pos(B), "named namespaces by name")
    -- each named section is exactly what --netns NAME prints (the empty
    -- line before the next heading aside)
    for _, name in ipairs { A, B } do
      local want = helpers.must(bin .. " -tulnp --netns " .. quote(name))
      local got = table.concat(text[name], "\n") .. "\n"
      if pos(name) < #order then got = got:gsub("\n$", "") end
      assert.equal(want, got)
    end
    local sections = {}
    for name, lines in pairs(text) do sections[name] = table.concat(lines, "\n") end
    assert.matches("127%.0%.0%.1:" .. PORT_A .. " ", sections[A])
    assert.is_nil(sections[A]:find("127.0.0.1:" .. PORT_B .. " ", 1, true))
    assert.matches("127%.0%.0%.1:" .. PORT_B .. " ", sections[B])
    assert.matches("127%.0%.0%.1:" .. own_port .. " ", sections["(own)"])
    assert.matches("^Active Internet connections %(only servers%)\n", sections[A])
  end)

  it("is validated like any netns: bad options still name the function", function()
    local e = helpers.err_of(ns.sockets, { netns = "all", prot = "tcp" })
    assert.matches("bad argument #1 to 'sockets' %(unknown option 'prot'; did you mean 'proto'%?%)", e)
    e = helpers.err_of(ns.route_get, "nonsense", { netns = "all" })
    assert.matches("bad argument #1 to 'route_get'", e)
    e = helpers.err_of(ns.each_socket, { netns = "all" }, 42)
    assert.matches("bad argument #2 to 'each_socket'", e)
    -- the caller's table is not changed
    local opts = { netns = "all", proto = "tcp", state = "listening" }
    if helpers.is_root() then assert(ns.sockets(opts)) end
    assert.equal("all", opts.netns)
  end)
end)
