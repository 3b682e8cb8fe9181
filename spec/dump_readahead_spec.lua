-- A long netlink dump is read ahead on a helper thread (csrc/nl/reader.c)
-- from its fifth datagram on, while the calling thread makes the records:
-- sockets (sock_diag) and routes (rtnetlink).
-- The records are the same with and without it (and the kernel's, against
-- ss); a call that stops mid-answer (a sink that raises or closes its
-- session, a memory error) leaves no thread behind once the session is
-- used again or closed, and a forked child that closes its copy does not
-- wait for a thread it does not have. On one CPU no helper starts.
local helpers = require "helpers"
local ns = require "lnetstat"

local format = string.format
local quote = helpers.quote

-- 3,000 unix socket pairs: a dump of about ten datagrams.
local PAIRS = 3000

-- 1,500 loopback TCP connections in a private namespace: 3,001 sockets.
local TCP_FARM = [[
import signal, socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(2000)
keep = []
for _ in range(1500):
    c = socket.create_connection(srv.getsockname()); a, _ = srv.accept(); keep += [c, a]
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
]]

local usable_cpus = helpers.usable_cpus

local child = helpers.lua_child

-- The socket inodes pid holds, as a set, and how many.
local function held_inodes(pid)
  local set, n = {}, 0
  for inode in helpers.must(format("ls -l /proc/%d/fd", pid)):gmatch("socket:%[(%d+)%]") do
    set[tonumber(inode)] = true
    n = n + 1
  end
  return set, n
end

describe("the read-ahead of a long netlink dump", function()
  local farm_pid, farm, farm_inodes

  setup(function()
    farm_pid, farm = helpers.spawn_unix_pairs(PAIRS)
    local n
    farm_inodes, n = held_inodes(farm_pid)
    assert.equal(2 * PAIRS, n)
  end)

  teardown(function()
    helpers.stop_unix_pairs(farm_pid, farm)
  end)

  -- The farm's records in a unix listing: each once, each paired with
  -- another of the farm's.
  local function check_farm_records(list)
    local seen, n = {}, 0
    for _, r in ipairs(list) do
      if farm_inodes[r.inode] then
        assert.is_nil(seen[r.inode], "inode " .. r.inode .. " twice")
        seen[r.inode] = true
        n = n + 1
        assert.is_true(farm_inodes[r.peer_inode] == true, "peer of " .. r.inode)
      end
    end
    assert.equal(2 * PAIRS, n)
  end

  helpers.threaded_it("receives on a second thread, and the records are those one thread gets", function()
    local script = [[
      local list = assert(ns.sockets { proto = "unix" })
      io.write(#list, "\n")
    ]]
    local out, trace = helpers.strace_lua("recvmsg,recvmmsg", script)
    assert.matches("^%d+\n$", out)
    local tids = {}
    for tid in trace:gmatch("(%d+) +recv") do tids[tid] = true end
    assert.equal(2, helpers.count_keys(tids), trace:sub(1, 2000))
    -- this process, with the helper, and a child on one CPU, without
    check_farm_records(assert(ns.sockets { proto = "unix" }))
    local streamed = {}
    assert(ns.each_socket({ proto = "unix" }, function(r) streamed[#streamed + 1] = r end))
    check_farm_records(streamed)
    local one, ok = child([[
      local list = assert(ns.sockets { proto = "unix" })
      for _, r in ipairs(list) do print(r.inode, r.peer_inode) end
      print("threads", threads())
    ]], "taskset -c 0")
    assert(ok, one)
    local list = {}
    for inode, peer in one:gmatch("(%d+)\t(%d+)\n") do
      list[#list + 1] = { inode = tonumber(inode), peer_inode = tonumber(peer) }
    end
    check_farm_records(list)
    assert.matches("\nthreads\t1\n", one)
  end)

  it("starts no helper on one CPU", function()
    local cmd = format("taskset -c 0 strace -f -qq -e trace=recvmsg,recvmmsg -o /dev/stdout %s -e %s",
      helpers.LUA, quote(format("package.path = %q; package.cpath = %q\n"
        .. "assert(require('lnetstat').sockets { proto = 'unix' })", package.path, package.cpath)))
    local trace = helpers.must(cmd)
    local tids = {}
    for tid in trace:gmatch("(%d+) +recv") do tids[tid] = true end
    assert.equal(1, helpers.count_keys(tids))
  end)

  it("leaves no thread once a call stopped mid-answer is followed by another, or a close", function()
    local out, ok = child(format([[
      local inodes = {}
      local s = assert(core.open(nil, { "diag" }))
      -- a sink that raises after a thousand records: the helper lingers
      -- until the session is used again
      local n = 0
      print("raised", (pcall(core.sock_diag, s, function() n = n + 1
        if n == 1000 then error("enough") end end, "unix", "any")))
      local list = {}
      assert(core.sock_diag(s, list, "unix", "any"))
      print("again", #list >= %d, threads())
      -- a sink that closes its session mid-answer
      local s2 = assert(core.open(nil, { "diag" }))
      n = 0
      local okc, err = pcall(core.sock_diag, s2, function() n = n + 1
        if n == 1000 then s2:close() end end, "unix", "any")
      print("closed", okc, err, threads())
      -- memory errors at many points of the answer
      local failed = 0
      for limit = 500, 20000, 500 do
        local s3 = assert(core.open(nil, { "diag" }))
        if not hooks._with_alloc_limit(limit, core.sock_diag, s3, {}, "unix", "any") then
          failed = failed + 1
        end
        s3:close()
      end
      print("memory", failed > 10, threads())
      -- raised again, then closed by a forked child (which has no helper),
      -- then by this process
      n = 0
      print("raised", (pcall(core.sock_diag, s, function() n = n + 1
        if n == 1000 then error("enough") end end, "unix", "any")))
      print("child", hooks._in_fork(function() s:close(); return "closed" end))
      s:close()
      print("parent", threads())
    ]], 2 * PAIRS))
    assert(ok, out)
    assert.equal("raised\tfalse\nagain\ttrue\t1\n"
      .. "closed\tfalse\tlnetstat.core: the session was closed by Lua code running inside a call "
      .. "reading it\t1\nmemory\ttrue\t1\nraised\tfalse\nchild\tclosed\nparent\t1\nexit=0\n", out)
  end)

  helpers.root_it("gives ss's TCP sockets, field by field, in a namespace of 3,001", function()
    local netns, pid, handle, dir = helpers.netns_farm("lnetstat-ahead", TCP_FARM)
    local ok, err = pcall(function()
      local list = assert(ns.sockets { netns = netns, proto = "tcp" })
      local oracle = assert(helpers.ss(netns, "-tanHe"))
      assert.equal(3001, #list)
      assert.equal(#oracle, #list)
      local want = {}
      for _, r in ipairs(oracle) do want[helpers.record_key(r)] = r end
      for _, r in ipairs(list) do
        local o = want[helpers.record_key(r)]
        assert(o, "not in ss: " .. helpers.record_key(r))
        assert.same({ o.state, o.recv_q, o.send_q, o.inode, o.uid },
          { r.state, r.recv_q, r.send_q, r.inode, r.uid })
      end
      local streamed = 0
      assert(ns.each_socket({ netns = netns, proto = "tcp" }, function(r)
        assert(want[helpers.record_key(r)], helpers.record_key(r))
        streamed = streamed + 1
      end))
      assert.equal(3001, streamed)
    end)
    helpers.stop_farm(pid, handle, netns, dir)
    assert(ok, err)
  end)

  helpers.root_it("gives ip's routes, in a namespace of 5,000, from two threads", function()
    local netns = helpers.netns_create("lnetstat-ahead-rt")
    local ok, err = pcall(function()
      helpers.add_routes(netns, 5000)
      local list = assert(ns.routes { netns = netns, family = "inet6" })
      local oracle = helpers.ip_json(netns, "-6 route show")
      assert.is_true(#oracle > 5000)
      local want = {}
      for _, r in ipairs(oracle) do
        local dst = r.dst:find("/", 1, true) and r.dst or r.dst .. "/128"
        want[dst] = r.gateway or false
      end
      local got = {}
      for _, r in ipairs(list) do got[r.dst] = r.gateway or false end
      assert.same(want, got)
      if usable_cpus() > 1 then
        local _, trace = helpers.strace_lua("recvmsg", format(
          "assert(#assert(ns.routes { netns = %q, family = 'inet6' }) > 5000)", netns))
        local tids = {}
        for tid in trace:gmatch("(%d+) +recvmsg") do tids[tid] = true end
        assert.equal(2, helpers.count_keys(tids), trace:sub(1, 2000))
      end
    end)
    helpers.netns_delete(netns)
    assert(ok, err)
  end)
end)
