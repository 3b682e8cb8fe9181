-- each_socket(): the streaming form of sockets(), record for record the same.
local helpers = require "helpers"
local ns = require "lnetstat"

local SCENARIO = [[python3 -c 'import socket, time
ls = socket.socket(); ls.bind(("127.0.0.1", 40200)); ls.listen(8)
cs = [socket.create_connection(("127.0.0.1", 40200)) for _ in range(3)]
acc = [ls.accept()[0] for _ in range(3)]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 40201))
x = socket.socket(socket.AF_UNIX); x.bind("\0lnetstat-each"); x.listen(1)
p = socket.socketpair()
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind("\0lnetstat-each-dgram")
print("ready", flush=True)
time.sleep(600)']]

local key_of = require("lnetstat.query").key_of

local function by_key(list)
  local t = {}
  for _, r in ipairs(list) do
    local k = key_of(r)
    assert(t[k] == nil, "two records with key " .. k)
    t[k] = r
  end
  return t
end

describe("each_socket()", function()
  local netns, pid, handle

  setup(function()
    if not helpers.is_root() then return end
    netns, pid, handle = helpers.netns_spawn("lnetstat-each", SCENARIO)
  end)

  teardown(function()
    helpers.netns_stop(pid, handle, netns)
  end)

  helpers.root_it("hands over the same records as sockets(), owners included", function()
    local opts = { netns = netns, proto = { "tcp", "udp" }, process = true }
    local list = assert(ns.sockets(opts))
    local streamed = {}
    local count, summary = ns.each_socket(opts, function(r) streamed[#streamed + 1] = r end)
    assert.equal(8, #list) -- listener, 3 clients, 3 accepted, 1 udp
    assert.equal(#list, count)
    assert.equal(#list, #streamed)
    assert.same(list.sources, summary.sources)
    assert.is_nil(summary.partial)
    local a, b = by_key(list), by_key(streamed)
    for k, r in pairs(a) do
      assert.same(r, b[k])
      assert.equal(pid, r.pid)
    end
  end)

  helpers.root_it("builds the fields asked for, the cookie among them", function()
    local cookies = {}
    local count = assert(ns.each_socket({ netns = netns, proto = "tcp", fields = { "cookie" } },
      function(r)
        assert.matches("^%d+$", r.cookie)
        assert.is_nil(r.local_port)
        cookies[r.cookie] = true
      end))
    assert.equal(7, count)
    assert.equal(7, helpers.count_keys(cookies)) -- one distinct cookie per socket
  end)

  helpers.root_it("refills one table per dump with reuse, the same fields as fresh records", function()
    local function copies(reuse)
      local out, tables = {}, {}
      local count = assert(ns.each_socket({ netns = netns, proto = { "tcp", "udp", "unix" },
        reuse = reuse }, function(r)
        tables[r] = true
        local c = {}
        for k, v in pairs(r) do c[k] = v end
        out[#out + 1] = c
      end))
      assert.equal(#out, count)
      return out, helpers.count_keys(tables)
    end
    local fresh, nfresh = copies(nil)
    local reused, nreused = copies(true)
    assert.equal(12, #fresh) -- 8 inet, a listener, a pair, a datagram socket
    assert.equal(#fresh, nfresh)
    assert.equal(3, nreused) -- one table per protocol's dump
    -- the kernel's order is the same for both dumps: record by record equal,
    -- so fields a socket lacks were cleared from the refilled table
    assert.same(fresh, reused)
    assert.matches("reuse cannot go with process or info",
      helpers.err_of(ns.each_socket, { reuse = true, process = true }, print))
    assert.matches("reuse must be a boolean", helpers.err_of(ns.each_socket, { reuse = 1 }, print))
    assert.matches("unknown option 'reuse'", helpers.err_of(ns.sockets, { reuse = true }))
  end)

  helpers.root_it("applies the same filters", function()
    local seen = {}
    local count = assert(ns.each_socket({ netns = netns, state = "listening" },
      function(r) seen[#seen + 1] = r.proto .. ":" .. r.local_port end))
    table.sort(seen)
    assert.equal(2, count)
    assert.same({ "tcp:40200", "udp:40201" }, seen)
  end)

  helpers.root_it("streams from /proc too", function()
    local n = 0
    local count, summary = ns.each_socket({ netns = netns, proto = "tcp", source = "proc" },
      function(r) assert.equal("tcp", r.proto); n = n + 1 end)
    assert.equal(7, count)
    assert.equal(7, n)
    assert.equal("proc", summary.sources.tcp)
  end)

  -- The file descriptors this process holds (the listing's own pipe is
  -- open while it runs, the same each time).
  local function open_fds() return helpers.count_fds(helpers.getpid()) end

  helpers.root_it("lets an error of the callback through, closes its sockets, stays usable", function()
    -- what earlier specs left to the collector goes now, not in the middle
    -- of the count (the sessions below must close without it)
    collectgarbage("collect")
    collectgarbage("collect")
    local before = open_fds()
    local ok, err = pcall(ns.each_socket, { netns = netns, proto = "tcp" },
      function() error("stop here", 0) end)
    assert.is_false(ok)
    assert.equal("stop here", err)
    assert.equal(before, open_fds())   -- closed now, not at the next collection
    local t = {}
    ok, err = pcall(ns.each_socket, { netns = netns, proto = "tcp" }, function() error(t) end)
    assert.is_false(ok)
    assert.equal(t, err)   -- the error value itself, not a copy
    assert.equal(before, open_fds())
    assert.equal(7, #assert(ns.sockets { netns = netns, proto = "tcp" }))
    ok, err = pcall(ns.each_route, { table = "all" }, function() error("route stop", 0) end)
    assert.same({ false, "route stop" }, { ok, err })
    assert.equal(before, open_fds())
  end)

  it("checks its arguments", function()
    assert.has_error(function() ns.each_socket({ proto = "tcp" }) end,
      "bad argument #2 to 'each_socket' (function expected, got nil)")
    local ok, err = pcall(ns.each_socket, { prot = "tcp" }, print)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'each_socket' %(unknown option 'prot'; did you mean 'proto'%?%)", err)
  end)

  it("returns nil, message, errno for a missing netns", function()
    local count, msg, errno = ns.each_socket({ netns = "lnetstat-no-such-netns" }, print)
    assert.is_nil(count)
    assert.matches("netns '/var/run/netns/lnetstat%-no%-such%-netns': not a network namespace$", msg)
    assert.equal(2, errno)
  end)
end)
