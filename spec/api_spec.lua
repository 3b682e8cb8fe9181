-- The public module on this host: loading, argument errors, record shapes.
-- These run as any user; the netns specs cover the differential checks.
local ns = require "lnetstat"

local helpers = require "helpers"

local spawn_listener = helpers.spawn_listener

-- The descriptors of this Lua process itself (not of a child): the
-- listing's pipe is open each time, so only a difference counts.
-- Descriptors other than pipes: the pipe popen makes to the counting
-- child may still have both ends open in this process while the child
-- looks (the parent closes its copy of the child's end only once it runs
-- again), which a loaded machine showed as one descriptor too many.
local function own_fds()
  return helpers.count_fds(helpers.getpid())
end

describe("require 'lnetstat'", function()
  it("returns a table of functions and defines no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded["lnetstat"] = nil
    package.loaded["lnetstat.options"] = nil
    local m = require "lnetstat"
    for k in pairs(_G) do
      assert.is_true(before[k], "new global: " .. tostring(k))
    end
    for _, f in ipairs { "sockets", "listening", "connections" } do
      assert.equal("function", type(m[f]))
    end
    assert.equal("lnetstat", m._NAME)
    assert.matches("^%d+%.%d+%.%d+$", m._VERSION)
  end)

  -- Every Lua module of the tree, by name.
  local function all_modules()
    local names = {}
    local p = assert(io.popen("cd lua && find lnetstat -name '*.lua' | sort"))
    for path in p:lines() do
      names[#names + 1] = path:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    end
    p:close()
    return names
  end

  it("opens nothing at require time", function()
    local modules = all_modules()
    assert.is_true(#modules > 10)
    -- the count sees this process's descriptors: one more file, one more
    local base = own_fds()
    local f = assert(io.open("/proc/self/stat"))
    local with_file = own_fds()
    f:close()
    assert.equal(base + 1, with_file)
    assert.equal(base, own_fds())
    -- a fresh load of every module, the C core among them
    local saved = {}
    for k, v in pairs(package.loaded) do
      if k == "lnetstat" or k:match("^lnetstat%.") then saved[k] = v end
    end
    finally(function()
      for k in pairs(package.loaded) do
        if k == "lnetstat" or k:match("^lnetstat%.") then package.loaded[k] = nil end
      end
      for k, v in pairs(saved) do package.loaded[k] = v end
    end)
    for k in pairs(saved) do package.loaded[k] = nil end
    -- objects earlier specs dropped close their descriptors when collected:
    -- collected now, not while the modules load
    collectgarbage("collect")
    collectgarbage("collect")
    local before = own_fds()
    require "lnetstat.core"
    for _, name in ipairs(modules) do require(name) end
    assert.equal(before, own_fds())
  end)
end)

describe("sockets() argument errors", function()
  local err_of = helpers.err_of

  it("rejects a non-table", function()
    assert.matches("bad argument #1 to 'sockets' %(table expected, got string%)",
      err_of(ns.sockets, "tcp"))
  end)

  it("names an unknown option and suggests the near one", function()
    assert.matches("unknown option 'prot'; did you mean 'proto'%?", err_of(ns.sockets, { prot = "tcp" }))
    assert.matches("unknown option 'netsn'; did you mean 'netns'%?", err_of(ns.sockets, { netsn = "x" }))
    assert.matches("unknown option 'zzzzzz'%)", err_of(ns.sockets, { zzzzzz = 1 }))
  end)

  it("rejects unknown enum values", function()
    assert.matches("proto must be one of .* got 'tpc'; did you mean 'tcp'%?",
      err_of(ns.sockets, { proto = "tpc" }))
    assert.matches("proto must be one of", err_of(ns.sockets, { proto = { "tcp", "sctp" } }))
    assert.matches("family must be one of", err_of(ns.sockets, { family = "inet4" }))
    assert.matches("state must be one of", err_of(ns.sockets, { state = "OPEN" }))
    assert.matches("source must be one of", err_of(ns.sockets, { source = "kernel" }))
  end)

  it("rejects bad ports, addresses, booleans and netns values", function()
    assert.matches("local_port must be a port", err_of(ns.sockets, { local_port = 70000 }))
    assert.matches("local_port must be a port", err_of(ns.sockets, { local_port = { 90, 80 } }))
    assert.matches("remote_port must be a port", err_of(ns.sockets, { remote_port = "22" }))
    assert.matches("local_addr must be an address or CIDR", err_of(ns.sockets, { local_addr = "10.0.0.0/33" }))
    assert.matches("remote_addr must be an address or CIDR", err_of(ns.sockets, { remote_addr = "example" }))
    assert.matches("process must be a boolean", err_of(ns.sockets, { process = 1 }))
    assert.equal([[bad argument #1 to 'listening' (process must be a boolean or "first", got "all")]],
      err_of(ns.listening, { process = "all" }))
    assert.matches("netns must be a name, a path or a pid", err_of(ns.sockets, { netns = {} }))
    assert.matches("netns pid must be a positive integer", err_of(ns.sockets, { netns = -3 }))
  end)

  it("rejects NaN and infinities where numbers are expected, naming the function called", function()
    local nan, inf = 0 / 0, math.huge
    for _, v in ipairs { nan, inf, -inf } do
      assert.matches("^[^\n]*bad argument #1 to 'sockets' %(netns pid must be a positive integer",
        err_of(ns.sockets, { netns = v }))
      assert.matches("bad argument #1 to 'listening' %(local_port must be a port",
        err_of(ns.listening, { local_port = v }))
      assert.matches("bad argument #1 to 'connections' %(remote_port must be a port",
        err_of(ns.connections, { remote_port = { 1, v } }))
      assert.matches("bad argument #1 to 'each_socket' %(netns pid must be a positive integer",
        err_of(ns.each_socket, { netns = v }, print))
      assert.matches("bad argument #1 to 'routes' %(table must be a table name or an id",
        err_of(ns.routes, { table = v }))
      assert.matches("bad argument #2 to 'route_get' %(mark must be an integer",
        err_of(ns.route_get, "127.0.0.1", { mark = v }))
      for _, f in ipairs { "routes", "interfaces", "addresses", "neighbors", "stats", "groups" } do
        assert.matches("bad argument #1 to '" .. f .. "' %(netns pid must be a positive integer",
          err_of(ns[f], { netns = v }))
      end
    end
    assert.matches("bad argument #1 to 'sockets' %(netns must not contain a NUL byte",
      err_of(ns.sockets, { netns = "a\0b" }))
  end)

  it("points the error at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, msg = pcall(function() ns.sockets { prot = 1 } end)
    assert.is_false(ok)
    assert.matches("api_spec.lua:" .. line .. ":", msg)
  end)

  it("keeps state preset in the shortcuts", function()
    assert.matches("bad argument #1 to 'listening' %(option 'state' is preset",
      err_of(ns.listening, { state = "LISTEN" }))
  end)
end)

describe("text and list arguments", function()
  local err_of = helpers.err_of

  it("rejects a NUL byte in names and addresses instead of reading up to it", function()
    assert.matches("bad argument #1 to 'interfaces' %(name must not contain a NUL byte, got 'lo\\x00evil'%)",
      err_of(ns.interfaces, { name = "lo\0evil" }))
    assert.matches("bad argument #1 to 'addresses' %(interface must not contain a NUL byte",
      err_of(ns.addresses, { interface = "lo\0x" }))
    assert.matches("bad argument #1 to 'neighbors' %(interface must not contain a NUL byte",
      err_of(ns.neighbors, { interface = "lo\0x" }))
    assert.matches("bad argument #1 to 'route_get' %(address must not contain a NUL byte",
      err_of(ns.route_get, "127.0.0.1\0evil"))
    assert.matches("bad argument #2 to 'route_get' %(oif must not contain a NUL byte",
      err_of(ns.route_get, "127.0.0.1", { oif = "lo\0x" }))
    assert.matches("bad argument #2 to 'route_get' %(from must not contain a NUL byte",
      err_of(ns.route_get, "127.0.0.1", { from = "127.0.0.1\0x" }))
    assert.matches("bad argument #1 to 'sockets' %(local_addr must not contain a NUL byte",
      err_of(ns.sockets, { local_addr = "127.0.0.1\0x" }))
    assert.matches("bad argument #1 to 'connections' %(remote_addr must not contain a NUL byte",
      err_of(ns.connections, { remote_addr = "10.0.0.0/8\0" }))
    -- the same names without the NUL byte are fine
    assert.equal("lo", assert(ns.interfaces { name = "lo" })[1].name)
    -- (a route answer needs lo up: the rock's tests run in a netns of their own)
    assert.has_no.errors(function() ns.route_get("127.0.0.1", { oif = "lo", from = "127.0.0.1" }) end)
  end)

  it("takes a prefix length only in plain decimal digits within the family's range", function()
    for _, bad in ipairs { "127.0.0.0/ 8", "127.0.0.0/8 ", "127.0.0.0/+8", "127.0.0.0/-0",
        "127.0.0.0/08", "127.0.0.0/00", "127.0.0.0/0x8", "127.0.0.0/", "/+8", "/8",
        "127.0.0.0/33", "::/129", "::/0128", "127.0.0.0/4294967304" } do
      assert.matches("local_addr must be an address or CIDR text", err_of(ns.sockets, { local_addr = bad }),
        1, true)
      assert.is_nil(ns.core.parse_cidr(bad), bad)
    end
    for text, want in pairs { ["127.0.0.0/8"] = 8, ["0.0.0.0/0"] = 0, ["10.1.2.3/32"] = 32,
        ["::/0"] = 0, ["fe80::/64"] = 64, ["::1/128"] = 128, ["127.0.0.1"] = 32, ["::1"] = 128 } do
      assert.equal(want, select(2, ns.core.parse_cidr(text)), text)
      assert.is_table(ns.sockets { proto = "tcp", local_addr = text })
    end
  end)

  it("the C core reads the text it is given with its length", function()
    local core = ns.core
    assert.is_nil(core.parse_cidr("127.0.0.1\0evil"))
    assert.is_nil(core.parse_cidr("127.0.0.0/8\0"))
    local s = assert(core.open(nil, { "route" }))
    finally(function() s:close() end)
    assert.matches("bad argument #2 to .* %(interface name contains a NUL byte%)",
      err_of(core.links, s, "lo\0evil"))
    assert.matches("bad argument #2 to .* %(address contains a NUL byte%)",
      err_of(core.route_get, s, "127.0.0.1\0evil"))
    assert.matches("bad argument #3 to .* %(source address contains a NUL byte%)",
      err_of(core.route_get, s, "127.0.0.1", "127.0.0.1\0x"))
    assert.matches("bad argument #4 to .* %(interface name contains a NUL byte%)",
      err_of(core.route_get, s, "127.0.0.1", nil, "lo\0x"))
    assert.matches("bad argument #2 to .* %(path contains a NUL byte%)",
      err_of(core.netns_nsid, s, "/proc/self/ns/net\0x"))
    assert.matches("bad argument #1 to .* %(directory contains a NUL byte%)",
      err_of(core.netns_list, "/var/run/netns\0x"))
    assert.matches("bad argument #2 to .* %(a handle name contains a NUL byte%)",
      err_of(core.open, nil, { "diag\0x" }))
    -- enum arguments are compared whole: "inet\0x" is no "inet"
    assert.matches("invalid option 'inet'", err_of(core.route_dump, s, {}, "inet\0x", 254))
    assert.matches("invalid option 'tcp'", err_of(core.proc_sockets, s, {}, "tcp\0x", "inet"))
    -- a filter address the Lua layer did not check is refused, not cut
    local d = assert(core.open(nil, { "diag" }))
    finally(function() d:close() end)
    assert.matches("invalid laddr", err_of(core.sock_diag, d, {}, "tcp", "inet", { laddr = "127.0.0.1\0x" }))
    assert.matches("invalid laddr", err_of(core.sock_diag, d, {}, "tcp", "inet", { laddr = "127.0.0.0/08" }))
    assert.matches("invalid option", err_of(core.sock_diag, d, {}, "tcp\0x", "inet"))
    assert.matches("invalid family", err_of(core.sock_diag, d, {}, "tcp", "inet\0x"))
  end)

  it("takes list options only as lists: no hole, no other key", function()
    assert.matches("bad argument #1 to 'sockets' %(proto must be a list: index 2 is missing",
      err_of(ns.sockets, { proto = { "tcp", nil, "bogus" } }))
    assert.matches("bad argument #1 to 'sockets' %(fields must be a list: key 'x' is not an index",
      err_of(ns.sockets, { fields = { "local_port", x = "bogus" } }))
    assert.matches("bad argument #1 to 'sockets' %(state must be a list: index 2 is missing",
      err_of(ns.sockets, { state = { "LISTEN", nil, "bogus" } }))
    assert.matches("bad argument #1 to 'sockets' %(state must be a list: key 0 is not an index",
      err_of(ns.sockets, { state = { [0] = "LISTEN", "ESTABLISHED" } }))
    assert.matches("bad argument #1 to 'stats' %(only must be a list: index 2 is missing",
      err_of(ns.stats, { only = { "Tcp", nil, "bogus" } }))
    assert.matches("bad argument #1 to 'routes' %(fields must be a list: key 'y' is not an index",
      err_of(ns.routes, { fields = { "gateway", y = "x" } }))
    assert.matches("bad argument #1 to 'each_route' %(fields must be a list: key 1.5 is not an index",
      err_of(ns.each_route, { fields = { "gateway", [1.5] = "x" } }, print))
    -- a port range is a list of two
    for _, bad in ipairs { { 1, 2, 3 }, { 1 }, { 1, 2, x = 3 }, { lo = 1, hi = 2 } } do
      assert.matches("bad argument #1 to 'sockets' %(local_port must be a", err_of(ns.sockets, { local_port = bad }))
    end
    assert.matches("local_port must be a port 0..65535 or a range {lo, hi}, got a list of 3",
      err_of(ns.sockets, { local_port = { 1, 2, 3 } }), 1, true)
    assert.is_table(ns.sockets { proto = "tcp", local_port = { 1, 2 } })
    assert.is_table(ns.sockets { proto = { "tcp", "udp" }, fields = { "local_port" } })
    assert.is_table(ns.stats { only = { "Tcp" } })
  end)
end)

describe("the embedding helpers' argument errors", function()
  local embed = require "lnetstat.embed"
  local err_of = helpers.err_of

  it("name the function the caller called", function()
    assert.matches("bad argument #1 to 'embed.listeners' %(proto must be one of .* got 'bogus'",
      err_of(embed.listeners, { proto = "bogus" }))
    assert.matches("bad argument #1 to 'embed.listeners' %(proto must be a list: index 2 is missing",
      err_of(embed.listeners, { proto = { "tcp", nil, "udp" } }))
    assert.matches("bad argument #1 to 'embed.snapshot' %(netns pid must be a positive integer, got 0",
      err_of(embed.snapshot, { netns = 0 }))
    assert.matches("bad argument #1 to 'embed.metrics' %(netns path must be absolute, got 'rel/x'",
      err_of(embed.metrics, { netns = "rel/x" }))
    assert.matches("bad argument #1 to 'embed.metrics' %(netns 'all' is not supported",
      err_of(embed.metrics, { netns = "all" }))
    assert.matches("bad argument #1 to 'embed.metrics' %(prefix must be a metric name prefix",
      err_of(embed.metrics, { prefix = "a b" }))
    assert.matches("bad argument #1 to 'embed.snapshot' %(unknown option 'netsn'; did you mean 'netns'%?",
      err_of(embed.snapshot, { netsn = "x" }))
    assert.matches("bad argument #1 to 'embed.listeners' %(unknown option 'prefix'",
      err_of(embed.listeners, { prefix = "node" }))
    assert.matches("bad argument #1 to 'embed.audit' %(file must be the path of a check file",
      err_of(embed.audit, {}))
    assert.matches("bad argument #1 to 'embed.listeners' %(table expected, got string",
      err_of(embed.listeners, "tcp"))
  end)

  it("point at the caller's line", function()
    for _, f in ipairs { "listeners", "snapshot", "metrics" } do
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, msg = pcall(function() local r = embed[f] { netns = 0 } return r end)
      assert.is_false(ok)
      assert.matches("api_spec.lua:" .. line .. ": bad argument #1 to 'embed." .. f .. "'", msg, 1, true)
    end
  end)

  it("still answer good options", function()
    local list = assert(embed.listeners { proto = { "tcp", "tcp" } })
    for _, r in ipairs(list) do assert.equal("tcp", r.proto) end
    assert.is_string(assert(embed.metrics { prefix = "node" }))
  end)
end)

describe("sockets() system failures", function()
  it("returns nil, message, errno for a missing netns", function()
    local list, msg, errno = ns.sockets { netns = "lnetstat-no-such-netns" }
    assert.is_nil(list)
    assert.matches("netns '/var/run/netns/lnetstat%-no%-such%-netns': not a network namespace$", msg)
    assert.equal(2, errno)
  end)

  it("returns nil, message, errno for a pid without a process", function()
    local list, msg, errno = ns.sockets { netns = 2 ^ 22 + 1 }
    assert.is_nil(list)
    assert.matches("^netns '/proc/%d+/ns/net': not a network namespace$", msg)
    assert.equal(2, errno)
  end)
end)

describe("sockets() on this host", function()
  local err_of = helpers.err_of
  local pid, port
  setup(function() pid, port = spawn_listener() end)
  teardown(function() helpers.kill(pid) end)

  it("finds a loopback listener we started, with its owner", function()
    local list = assert(ns.sockets { proto = "tcp", local_port = port, process = true })
    assert.equal(1, #list)
    local r = list[1]
    assert.same({ "tcp", "inet", "LISTEN", "127.0.0.1", port, "0.0.0.0", 0 },
      { r.proto, r.family, r.state, r.local_addr, r.local_port, r.remote_addr, r.remote_port })
    assert.equal(pid, r.pid)
    assert.equal("python3", r.program)
    assert.equal(1, #r.processes)
    assert.equal(pid, r.processes[1].pid)
    assert.equal("number", type(r.processes[1].fd))
    assert.is_true(r.inode > 0)
    assert.is_nil(r.cookie) -- built on request only (info = true, or fields names it)
    assert.matches("^%d+$", assert(ns.sockets { proto = "tcp", local_port = port, info = true })[1].cookie)
    assert.equal(3, r.send_q) -- a listener's send queue is its backlog
    assert.equal("netlink", list.sources.tcp)
  end)

  -- A query asked again is answered from the parsed query kept for it: the
  -- answers must be those of a fresh parse, whatever was asked before.
  it("answers a repeated query as a fresh one, whatever was asked before", function()
    local function ports(list)
      local out = {}
      for _, r in ipairs(list) do out[#out + 1] = r.proto .. ":" .. r.local_port end
      return table.concat(out, " ")
    end
    for _ = 1, 3 do
      assert.equal("tcp:" .. port, ports(assert(ns.listening { proto = "tcp", local_port = port })))
      assert.equal("", ports(assert(ns.listening { proto = "udp", local_port = port })))
      assert.equal("", ports(assert(ns.connections { proto = "tcp", local_port = port })))
      assert.equal(0, #assert(ns.sockets { proto = "tcp", local_port = port, state = "ESTABLISHED" }))
      assert.equal(1, #assert(ns.sockets { proto = "tcp", local_port = port, state = "LISTEN" }))
    end
    -- a number that prints like an accepted one is still checked: 80 is a
    -- port, 80 plus a tiny fraction is not
    assert.equal(1, #assert(ns.sockets { proto = "tcp", local_port = port }))
    assert.matches("local_port must be a port", err_of(ns.sockets, { proto = "tcp", local_port = port + 1e-10 }))
    assert.matches("local_port must be a port", err_of(ns.sockets, { proto = "tcp", local_port = tostring(port) }))
    -- an options table with a metatable is read through it each time
    local proxy = setmetatable({}, { __index = { proto = "tcp", local_port = port } })
    assert.equal("tcp:" .. port, ports(assert(ns.listening(proxy))))
    assert.equal("", ports(assert(ns.listening(setmetatable({}, { __index = { proto = "udp" } })))))
    -- many different queries (more than are kept) stay right
    for i = 1, 200 do
      assert.equal(0, #assert(ns.sockets { proto = "tcp", local_port = port, remote_port = i }))
    end
    assert.equal(1, #assert(ns.listening { proto = "tcp", local_port = port }))
    -- an error is never kept: the same bad options fail again
    for _ = 1, 2 do
      assert.matches("unknown option 'prot'", err_of(ns.listening, { prot = "tcp" }))
      assert.matches("local_port must be a port", err_of(ns.sockets, { proto = "tcp", local_port = 0 / 0 }))
    end
    -- options on the way to a kept query are a query of their own: fewer
    -- options after more, in either order, and the same options built in
    -- another order, answer as they should
    local function udp_and_tcp_ports(opts)
      local seen = {}
      for _, r in ipairs(assert(ns.sockets(opts))) do
        if r.local_port == port then seen[#seen + 1] = r.proto end
      end
      table.sort(seen)
      return table.concat(seen, " ")
    end
    for _ = 1, 2 do
      assert.equal("tcp", udp_and_tcp_ports { proto = "tcp", local_port = port, state = "LISTEN" })
      assert.equal("", udp_and_tcp_ports { proto = "tcp", local_port = port, state = "CLOSE" })
      local reordered = { state = "LISTEN" }
      reordered.local_port, reordered.proto = port, "tcp"
      assert.equal("tcp", udp_and_tcp_ports(reordered))
      assert.equal("tcp", udp_and_tcp_ports { proto = "tcp", local_port = port })
      assert.equal("tcp", udp_and_tcp_ports { local_port = port })
      assert.equal("", udp_and_tcp_ports { proto = "udp", local_port = port })
      -- a list value is read afresh each time
      assert.equal("tcp", udp_and_tcp_ports { proto = { "udp", "tcp" }, local_port = port })
      assert.equal("", udp_and_tcp_ports { proto = { "udp" }, local_port = port })
    end
  end)

  helpers.root_it("comes back to its own namespace after reading another", function()
    local name = helpers.netns_create("lnetstat-api")
    finally(function() helpers.netns_delete(name) end)
    local other = assert(ns.sockets { netns = name, proto = "tcp" })
    assert.equal(0, #other) -- a new namespace has no sockets
    -- the thread is back home: the host listener is visible again, both
    -- through sock_diag and through this thread's own /proc view
    local list = assert(ns.sockets { proto = "tcp", local_port = port })
    assert.equal(1, #list)
    local f = assert(io.open("/proc/thread-self/net/tcp"))
    local text = f:read("*a")
    f:close()
    assert.truthy(text:find(string.format(":%04X ", port), 1, true))
  end)

  it("builds only the fields asked for, plus proto, family and state", function()
    local full = assert(ns.sockets { proto = "tcp", local_port = port, info = true })[1]
    local lean = assert(ns.sockets { proto = "tcp", local_port = port,
      fields = { "local_addr", "local_port", "cookie" } })[1]
    assert.same({ proto = "tcp", family = "inet", state = "LISTEN", local_addr = "127.0.0.1",
      local_port = port, cookie = full.cookie }, lean)
    -- owners need the inode, the user name needs the uid: process brings both
    local owned = assert(ns.sockets { proto = "tcp", local_port = port, fields = { "state" },
      process = true })[1]
    assert.equal(full.inode, owned.inode)
    assert.equal(pid, owned.pid)
    assert.equal(full.uid, owned.uid)
    assert.is_nil(owned.local_addr)
    -- the filters still see every field
    assert.equal(0, #assert(ns.sockets { proto = "tcp", local_port = port, remote_port = 1,
      fields = { "cookie" } }))
    assert.matches("fields entry must be one of .* got 'local_prot'; did you mean 'local_port'%?",
      err_of(ns.sockets, { fields = { "local_prot" } }))
    assert.matches("fields must be a list of field names, got string", err_of(ns.sockets, { fields = "cookie" }))
  end)

  it("returns plain records: no metatables, no methods", function()
    local list = assert(ns.sockets { proto = { "tcp", "udp", "unix" } })
    assert.is_nil(getmetatable(list))
    for _, r in ipairs(list) do
      assert.is_nil(getmetatable(r))
      for k, v in pairs(r) do
        assert.equal("string", type(k))
        assert.is_not.equal("function", type(v))
      end
    end
  end)

  it("reads the same listener through /proc", function()
    local list = assert(ns.sockets { proto = "tcp", local_port = port, source = "proc" })
    assert.equal(1, #list)
    assert.equal("LISTEN", list[1].state)
    assert.equal("proc", list.sources.tcp)
  end)

  -- The sockets this process holds (its socket descriptors). Not only the
  -- netlink ones by /proc/PID/net/netlink: a netlink socket that has sent
  -- nothing yet is not bound, and that file lists bound sockets only.
  local function own_sockets()
    local self = helpers.getpid()
    local n = 0
    local p = assert(io.popen("ls -l /proc/" .. self .. "/fd"))
    for line in p:lines() do
      if line:match("socket:%[(%d+)%]") then n = n + 1 end
    end
    p:close()
    return n
  end

  it("opens no netlink socket with source = 'proc'", function()
    ns.release()   -- a spare socket an earlier question left is not counted
    local base = own_sockets()
    local function open_during(opts)
      local seen
      local count = assert(ns.each_socket(opts, function() seen = own_sockets() end))
      assert.equal(1, count)
      return seen - base
    end
    assert.equal(0, open_during { proto = "tcp", local_port = port, source = "proc" })
    -- the count sees them: sock_diag and rtnetlink while a netlink dump runs
    assert.equal(2, open_during { proto = "tcp", local_port = port })
    -- the sock_diag socket stays open for the next question; release closes it
    assert.equal(base + 1, own_sockets())
    assert.is_true(ns.release())
    assert.equal(base, own_sockets())
    assert.is_false(ns.release())
  end)

  it("answers from /proc when every socket() is refused (strace injects EACCES)", function()
    local log = os.tmpname()
    finally(function() os.remove(log) end)
    -- one run per source: the socket() calls strace logs are that source's
    local function refused(source)
      local script = string.format([[package.path = %q; package.cpath = %q
local l, err, errno = require("lnetstat").sockets { proto = "tcp", local_port = %d, source = %q }
io.write(l and #l or "nil", "|", l and l.sources.tcp or err, "|", l and l.partial or tostring(errno))]],
        package.path, package.cpath, port, source)
      local out = helpers.must(string.format(
        "strace -f -qq -o %s -e trace=socket -e inject=socket:error=EACCES %s -e %s",
        helpers.quote(log), helpers.LUA, helpers.quote(script)))
      local calls = {}
      for line in io.lines(log) do
        local family, proto = line:match("socket%((AF_[%w_]+), [^,]+, ([%w_]+)%)")
        if family then calls[#calls + 1] = family .. " " .. proto end
      end
      return out, calls
    end
    local out, calls = refused("proc")
    assert.equal("1|proc|nil", out)
    assert.same({}, calls)
    -- auto tries sock_diag, is refused, and says it read /proc instead
    out, calls = refused("auto")
    assert.equal("1|proc|netlink failed (open: Permission denied): read /proc instead", out)
    assert.same({ "AF_NETLINK NETLINK_SOCK_DIAG" }, calls)
    -- netlink only: the refusal is the answer
    out = refused("netlink")
    assert.equal("nil|open: Permission denied|13", out)
  end)

  it("filters by state in the kernel: no LISTEN among connections", function()
    local list = assert(ns.connections { proto = "tcp" })
    for _, r in ipairs(list) do assert.is_not.equal("LISTEN", r.state) end
    local l = assert(ns.listening { proto = "tcp", local_port = port })
    assert.equal(1, #l)
  end)


  -- A session closed by close() drops its finalizer and hands its receive
  -- buffer to the next session of the state: neither may change what a
  -- session does or show through.
  it("closes sessions at once, refuses a closed one and reuses nothing visible", function()
    local core = require "lnetstat.core"
    local filter = { states = 2 ^ core.socket_states.LISTEN, lport_lo = port, lport_hi = port }
    local function listeners(session)
      local list = {}
      assert(core.sock_diag(session, list, "tcp", "inet", filter))
      return #list
    end
    collectgarbage("collect")
    collectgarbage("collect")
    -- a question leaves the spare socket (and its /proc descriptor) open;
    -- with none open, the first session closed below would become it:
    -- counted with it, whatever ran before
    assert(ns.listening { proto = "tcp", local_port = port })
    local base = own_fds()
    for _ = 1, 3 do
      local s = assert(core.open(nil, { "diag" }))
      assert.equal("lnetstat.session (open)", tostring(s))
      assert.equal(1, listeners(s))
      s:close()
      assert.equal(base, own_fds())   -- closed now, not at the next collection
      assert.equal("lnetstat.session (closed)", tostring(s))
      assert.matches("session is closed", err_of(core.sock_diag, s, {}, "tcp", "inet", filter))
      s:close()   -- closing again does nothing
    end
    -- one call dumps a list of families, as one call per family would
    local s = assert(core.open(nil, { "diag" }))
    local any_port = { states = 2 ^ core.socket_states.LISTEN }
    local both, apart = {}, {}
    local ok, count, messages = core.sock_diag(s, both, "tcp", { "inet", "inet6" }, any_port)
    assert.is_true(ok)
    local _, count4, messages4 = assert(core.sock_diag(s, apart, "tcp", "inet", any_port))
    local _, count6, messages6 = assert(core.sock_diag(s, apart, "tcp", "inet6", any_port))
    assert.equal(count4 + count6, count)
    assert.equal(messages4 + messages6, messages)
    assert.equal(#apart, #both)
    for i, r in ipairs(apart) do assert.same(r, both[i]) end
    local from_second = {}
    assert(core.sock_diag(s, from_second, "tcp", { "inet", "inet6" }, any_port, false, 2))
    assert.equal(count6, #from_second)
    assert.matches("one to three families expected", err_of(core.sock_diag, s, {}, "tcp", {}))
    assert.matches("invalid family 'x'", err_of(core.sock_diag, s, {}, "tcp", { "inet", "x" }))
    assert.matches("'inet' or 'inet6' expected", err_of(core.sock_diag, s, {}, "tcp", { "inet", "any" }))
    assert.matches("no such family in the list",
      err_of(core.sock_diag, s, {}, "tcp", { "inet", "inet6" }, nil, false, 3))
    -- a family that fails says where, and what the ones before it gave
    -- (raw sockets have no sock_diag handler without the raw_diag module)
    local rok, msg, errno, done = core.sock_diag(s, {}, "raw", { "inet", "inet6" })
    if rok then
      assert.equal("number", type(msg))
    else
      assert.matches("^sock_diag raw: ", msg)
      assert.equal("number", type(errno))
      assert.same({ failed = 1, count = 0, messages = 0, unnamed = 0 }, done)
      local _, _, _, later = core.sock_diag(s, {}, "raw", { "inet", "inet6" }, nil, false, 2)
      assert.equal(2, later.failed)
    end
    s:close()
    -- sessions inside sessions each have their own buffer
    local outer = assert(core.open(nil, { "diag" }))
    local inner = assert(core.open(nil, { "diag", "route" }))
    assert.equal(1, listeners(outer))
    assert.equal(1, listeners(inner))
    inner:close()
    assert.equal(1, listeners(outer))
    outer:close()
    local seen = 0
    assert(ns.each_socket({ proto = "tcp", local_port = port }, function()
      seen = seen + #assert(ns.listening { proto = "tcp", local_port = port })
    end))
    assert.equal(1, seen)
    -- a session nobody closed is closed by the collector
    assert(core.open(nil, { "diag" }))
    collectgarbage("collect")
    collectgarbage("collect")
    assert.equal(base, own_fds())
    -- the wrong object is still told apart from a closed session
    assert.matches("lnetstat.session expected", err_of(core.sock_diag, io.stdout, {}, "tcp", "inet"))
    if _VERSION == "Lua 5.4" then
      -- a to-be-closed variable closes it, and a closed one, on 5.4
      local chunk = assert(load([[
        local core, check = ...
        do
          local s <close> = assert(core.open(nil, { "diag" }))
          check(s)
          s:close()
        end
        do local s <close> = assert(core.open(nil, { "diag" })); check(s) end
      ]]))
      chunk(core, function(session) assert.equal(1, listeners(session)) end)
      assert.equal(base, own_fds())
    end
  end)
end)

describe("the source engine", function()
  local engine = require "lnetstat.source.engine"

  it("falls back to /proc by one errno rule, for source auto only", function()
    local fallback = { 1, 2, 13, 93, 95, 97 } -- EPERM ENOENT EACCES EPROTONOSUPPORT EOPNOTSUPP EAFNOSUPPORT
    for _, errno in ipairs(fallback) do
      assert.is_true(engine.falls_back("auto", "open: x", errno), errno)
      assert.is_false(engine.falls_back("netlink", "open: x", errno), errno)
      assert.is_false(engine.falls_back("proc", "open: x", errno), errno)
    end
    for _, errno in ipairs { 4, 11, 12, 16, 19, 22, 105, 111 } do
      assert.is_false(engine.falls_back("auto", "route dump inet: x", errno), errno)
    end
    -- a namespace that cannot be reached is never a reason: /proc is read there too
    assert.is_false(engine.falls_back("auto", "netns '/var/run/netns/x': No such file or directory", 2))
    assert.is_false(engine.falls_back("auto", "setns: Operation not permitted", 1))
  end)

  it("closes the session on a return, a failure and a raised error", function()
    local held = {}
    local function keep(session, how)
      held[how] = session
      if how == "raise" then error({ code = 7 }) end
      if how == "fail" then return nil, "it failed", 5 end
      return "ok", 2
    end
    assert.same({ "ok", 2 }, { engine.with_session(nil, { "route" }, keep, "return") })
    assert.same({ nil, "it failed", 5 }, { engine.with_session(nil, { "route" }, keep, "fail") })
    local ok, err = pcall(engine.with_session, nil, { "route" }, keep, "raise")
    assert.is_false(ok)
    assert.same({ code = 7 }, err) -- the caller's error value, unchanged
    for _, how in ipairs { "return", "fail", "raise" } do
      assert.equal("lnetstat.session (closed)", tostring(held[how]), how)
    end
    -- a session that cannot be opened: fn is not called
    local list, msg, errno = engine.with_session("/nonexistent/lnetstat-ns", { "route" }, error)
    assert.is_nil(list)
    assert.matches("^netns '/nonexistent/lnetstat%-ns'", msg)
    assert.equal(2, errno)
  end)

  it("retries an interrupted dump up to 5 times, then notes it", function()
    local calls = 0
    local function attempt(interrupted_calls)
      calls = calls + 1
      return { calls }, calls <= interrupted_calls
    end
    local list = engine.retry("test", attempt, 2)
    assert.same({ 3 }, list)
    assert.equal(3, calls)
    calls = 0
    list = engine.retry("test", attempt, math.huge)
    assert.equal(5, calls)
    assert.equal(5, list[1]) -- the last attempt's answer
    assert.matches("^the test dump was interrupted 5 times in a row .* may be inconsistent$", list.partial)
    assert.same({ nil, "boom", 9 }, { engine.retry("test", function() return nil, "boom", 9 end) })
  end)
end)
