-- lnetstat.core when Lua code runs inside a call: a sink (or a finalizer)
-- that closes the session the call is reading, calls the core again with
-- it, or raises an error. The public API never hands its sessions to a
-- callback, but lnetstat.core can be required by anyone, and a library
-- must not crash its host: the call stops with a clear error, and the
-- session is closed or usable afterwards, never stuck. The calls that
-- could crash run in a child interpreter (this suite's, with its
-- package.cpath: under make check-memory, the ASan one), so that a crash
-- fails one test instead of the run. Also: owner names read before
-- anything is pushed (no descriptor left open by a memory error), and a
-- netns path opened without blocking.
local helpers = require "helpers"
local core = require "lnetstat.core"

local format = string.format
local quote = helpers.quote

-- Runs script in a child interpreter with core = lnetstat.core; returns its
-- output (stdout and stderr) and whether it exited 0 within a minute.
local function child(script)
  local prelude = format("package.path = %q; package.cpath = %q\nlocal core = require 'lnetstat.core'\n",
    package.path, package.cpath)
  local out = helpers.run(format("timeout 60 %s -e %s 2>&1; echo \"exit=$?\"", helpers.LUA,
    quote(prelude .. script)))
  return out, out:match("exit=0\n$") ~= nil
end

-- 1,000 socket pairs: a unix dump of more than one datagram, so that a
-- call stopped at its first record leaves the rest of the answer queued.
local PAIRS = 1000

describe("lnetstat.core with Lua code running inside a call", function()
  local farm_pid, farm
  setup(function()
    farm_pid, farm = helpers.spawn_unix_pairs(PAIRS)
  end)
  teardown(function()
    helpers.stop_unix_pairs(farm_pid, farm)
  end)

  it("fails a call whose sink closes its session, and the session is closed", function()
    local out, ok = child([[
      local function try(name, open, call)
        local s = assert(core.open(nil, open))
        local okc, err = pcall(call, s, function() s:close() end)
        print(name, okc, err, tostring(s), select(2, pcall(core.sock_diag, s, {}, "unix")))
      end
      try("unix", { "diag" }, function(s, sink) return core.sock_diag(s, sink, "unix", "any") end)
      -- a buffer parked by another session first: the sink's close frees this one
      local s1 = assert(core.open(nil, { "route" }))
      assert(core.links(s1))
      s1:close()
      try("netlink", { "diag" }, function(s, sink) return core.sock_diag(s, sink, "netlink", "any") end)
      try("proc", { "netlink" }, function(s, sink) return core.proc_sockets(s, sink, "netlink") end)
      try("routes", { "route" }, function(s, sink) return core.route_dump(s, sink, "inet", -1) end)
      try("proc_routes", { "proc:route" }, function(s, sink) return core.proc_routes(s, sink, "inet") end)
      print("END")
    ]])
    assert(ok, out)
    for _, name in ipairs { "unix", "netlink", "proc", "routes", "proc_routes" } do
      local line = out:match("\n?(" .. name .. "\t[^\n]*)")
      assert(line, out)
      assert.matches(name .. "\tfalse\tlnetstat.core: the session was closed by Lua code running "
        .. "inside a call reading it\tlnetstat.session %(closed%)\t.*session is closed", line)
    end
    assert.matches("\nEND\n", out)
  end)

  it("refuses the session to the sink's own calls, and it stays usable", function()
    local out, ok = child([[
      local s = assert(core.open(nil, { "diag", "route", "netlink", "proc:route" }))
      local function nested(name, call, again)
        print(name, pcall(call, function() again() end))
        print(name .. " after", (call({})))
      end
      nested("ifname", function(sink) return core.sock_diag(s, sink, "unix", "any") end,
        function() core.ifname(s, 1) end)
      nested("links", function(sink) return core.sock_diag(s, sink, "unix", "any") end,
        function() core.links(s) end)
      nested("dump", function(sink) return core.sock_diag(s, sink, "unix", "any") end,
        function() core.sock_diag(s, {}, "unix", "any") end)
      nested("proc", function(sink) return core.proc_sockets(s, sink, "netlink") end,
        function() core.proc_sockets(s, {}, "netlink") end)
      nested("routes", function(sink) return core.route_dump(s, sink, "inet", -1) end,
        function() core.route_dump(s, {}, "inet", -1) end)
      nested("proc_routes", function(sink) return core.proc_routes(s, sink, "inet") end,
        function() core.proc_routes(s, {}, "inet") end)
      print("open", tostring(s))
      s:close()
      print("END")
    ]])
    assert(ok, out)
    for _, name in ipairs { "ifname", "links", "dump", "proc", "routes", "proc_routes" } do
      assert.matches("\n?" .. name .. "\tfalse\t[^\n]*bad argument #1 to '[%w_.]+' %(session is busy",
        out)
      assert.matches("\n" .. name .. " after\ttrue\n", out)
    end
    assert.matches("\nopen\tlnetstat.session %(open%)\n", out)
    assert.matches("\nEND\n", out)
  end)

  it("holds the session while a route letters table's __index runs", function()
    -- no sink: Lua code the call runs on its own, in the middle of
    -- walking a route dump (or /proc text) that a close would free
    local out, ok = child([[
      local function letters(on_miss)
        return setmetatable({}, { __index = function(t, facts)
          on_miss()
          rawset(t, facts, "U")
          return "U"
        end })
      end
      local function try(name, open, call)
        local s = assert(core.open(nil, open))
        print(name .. " close", pcall(call, s, letters(function() s:close() end)))
        print(name .. " closed", tostring(s))
        s = assert(core.open(nil, open))
        print(name .. " nested", pcall(call, s, letters(function() core.links(s) end)))
        print(name .. " after", tostring(s), (call(s, nil)))
        s:close()
      end
      try("dump", { "route" }, function(s, l) return core.route_dump(s, {}, "inet", -1, nil, l) end)
      try("get", { "route" }, function(s, l) return core.route_get(s, "127.0.0.1", nil, nil, nil, l) end)
      print("END")
    ]])
    assert(ok, out)
    for _, name in ipairs { "dump", "get" } do
      assert.matches("\n?" .. name .. " close\tfalse\tlnetstat.core: the session was closed by Lua "
        .. "code running inside a call reading it\n", out)
      assert.matches("\n" .. name .. " closed\tlnetstat.session %(closed%)\n", out)
      assert.matches("\n" .. name .. " nested\tfalse\t[^\n]*bad argument #1 to '[%w_.]+' "
        .. "%(session is busy", out)
      assert.matches("\n" .. name .. " after\tlnetstat.session %(open%)\t[^\n]", out)
    end
    assert.matches("\nEND\n", out)
  end)

  it("says where an argument error of a held call comes from", function()
    local s = assert(core.open(nil, { "route" }))
    local ok, err = pcall(function()
      local r = core.route_dump(s, {}, "bogus", -1)
      return r
    end)
    assert.is_false(ok)
    assert.matches("core_reentry_spec%.lua:%d+: bad argument #3 to 'route_dump' %(invalid option 'bogus'%)",
      err)
    -- and the session was released
    assert.is_true((core.route_dump(s, {}, "inet", -1)))
    s:close()
  end)

  it("raises the sink's own error, and the session stays usable", function()
    local s = assert(core.open(nil, { "diag", "netlink" }))
    local boom = {}
    for _, call in ipairs {
      function(sink) return core.sock_diag(s, sink, "unix", "any") end,
      function(sink) return core.proc_sockets(s, sink, "netlink") end,
    } do
      local ok, err = pcall(call, function() error(boom) end)
      assert.is_false(ok)
      assert.equal(boom, err)   -- the same error object
      -- not busy, and the unfinished unix answer read away: a second dump
      -- is taken (the kernel refuses one while the first still runs)
      local list = {}
      local ok2, err2 = call(list)
      assert.is_true(ok2, err2)
      assert.is_true(#list > 0)
    end
    local list = {}
    assert.is_true((core.sock_diag(s, list, "unix", "any")))
    assert.is_true(#list >= 2000)
    s:close()
  end)

  it("keeps a watch and its names session whole when a read raises", function()
    local hooks = require "lnetstat.testhooks"
    local s = assert(core.open(nil, { "route" }))
    local names = assert(core.open(nil, { "route" }))
    local w = assert(core.watch(s, 1, nil, -1, 0, nil))
    s:close()
    -- a memory error at each allocation of a read in turn
    for n = 0, 3 do
      hooks._with_alloc_limit(n, w.read, w, names, 0)
    end
    local events = w:read(names, 0)
    assert.equal("table", type(events))
    assert.equal("lnetstat.watch (open)", tostring(w))
    assert.equal("lnetstat.session (open)", tostring(names))
    w:close()
    names:close()
  end)
end)

describe("core.owner_map under memory errors", function()
  -- the descriptors of /proc/PID directories this process holds
  local function proc_dirs()
    local out = helpers.run(format("ls -l /proc/%d/fd 2>/dev/null", helpers.getpid()))
    local n = 0
    for _ in out:gmatch("%-> /proc/%d+\n") do n = n + 1 end
    return n
  end

  it("leaves no /proc/PID directory open when a push raises", function()
    local hooks = require "lnetstat.testhooks"
    local s = assert(core.open(nil, { "diag" }))   -- a socket this process owns
    local before = proc_dirs()
    local failed = 0
    for n = 1, 120 do
      local ok = hooks._with_alloc_limit(n, core.owner_map, nil, false)
      if not ok then failed = failed + 1 end
    end
    collectgarbage()
    collectgarbage()
    assert.is_true(failed > 0)
    assert.equal(before, proc_dirs())
    s:close()
  end)
end)

describe("core.netns_nsid and core.netns_list", function()
  it("does not block on a FIFO, and names what is no network namespace", function()
    local dir = helpers.mktemp_dir()
    helpers.must("mkfifo " .. quote(dir .. "/fifo"))
    local out, ok = child(format([[
      local s = assert(core.open(nil, { "route" }))
      print(core.netns_nsid(s, %q))
      print(core.netns_nsid(s, "/proc/self/ns/uts"))
      print(core.netns_nsid(s, "/proc/self/ns/net"))
      print("END")
    ]], dir .. "/fifo"))
    helpers.remove_tree(dir)
    assert(ok, out)
    assert.matches("nil\tnetns '/tmp/[^']*/fifo': not a network namespace\t2\n", out)
    assert.matches("nil\tnetns '/proc/self/ns/uts': not a network namespace\t2\n", out)
    assert.matches("\nEND\n", out)
  end)

  it("reports the errno of the failed opendir", function()
    local list, err, errno = core.netns_list("/proc/self/stat")
    assert.is_nil(list)
    assert.equal("opendir /proc/self/stat: Not a directory", err)
    assert.equal(20, errno)   -- ENOTDIR
  end)
end)
