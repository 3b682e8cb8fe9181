-- lnetstat.session: the list calls of a long-lived caller through one
-- sock_diag socket kept open. Its answers must be the plain calls' answers
-- (in the session's namespace), its socket must be reused (strace counts
-- the sockets a process opens), dropped after a failed request, and never
-- shared with a forked child. The namespace specs need root.
local helpers = require "helpers"
local ns = require "lnetstat"

local root_it = helpers.root_it
local format = string.format

-- python3 in the namespace opens these, prints "ready", waits for SIGTERM
local FARM = [[
import socket, signal
keep = []
for p in (41100, 41101, 41102):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p)); s.listen(8); keep.append(s)
s6 = socket.socket(socket.AF_INET6); s6.bind(("::1", 41103)); s6.listen(8); keep.append(s6)
for _ in range(2):
    c = socket.socket(); c.connect(("127.0.0.1", 41100)); keep.append(c)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 41104)); keep.append(u)
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
]]

local function key(r)
  return format("%s %s:%s %s:%s %s", r.proto, r.local_addr, tostring(r.local_port),
    tostring(r.remote_addr), tostring(r.remote_port), r.state)
end

local function keys(list)
  local t = {}
  for _, r in ipairs(list) do t[#t + 1] = key(r) end
  table.sort(t)
  return t
end

describe("lnetstat.session", function()
  it("checks its arguments, and says so when it is closed", function()
    local err_of = helpers.err_of
    assert.equal("bad argument #1 to 'session' (unknown option 'proto')",
      err_of(ns.session, { proto = "tcp" }))
    assert.equal([[bad argument #1 to 'session' (a session reads one namespace: netns cannot be "all")]],
      err_of(ns.session, { netns = "all" }))
    local missing = { ns.session { netns = "/nonexistent/netns" } }
    assert.is_nil(missing[1])
    assert.equal("netns '/nonexistent/netns': not a network namespace", missing[2])
    local s = assert(ns.session())
    assert.equal("lnetstat.session (open)", tostring(s))
    -- a dot instead of a colon, and netns in a call
    assert.equal("bad argument #1 to 'listening' (session expected, got table "
      .. "(call it as session:listening{...}))", err_of(s.listening, { proto = "tcp" }))
    assert.equal("bad argument #1 to 'sockets' (netns belongs to the session: give it to "
      .. "lnetstat.session)", err_of(s.sockets, s, { netns = "x" }))
    assert.matches("unknown option 'prot'", err_of(s.sockets, s, { prot = "tcp" }))
    assert.equal("bad argument #2 to 'each_socket' (function expected, got nil)",
      err_of(s.each_socket, s, {}))
    s:close()
    s:close()   -- twice: nothing
    assert.equal("lnetstat.session (closed)", tostring(s))
    assert.equal("bad argument #1 to 'connections' (the session is closed)", err_of(s.connections, s))
    -- Lua 5.4: a to-be-closed variable closes it
    if _VERSION == "Lua 5.4" then
      local held = assert(load([[
        local ns = ...
        local held
        do
          local s <close> = assert(ns.session())
          held = s
        end
        return held
      ]]))(ns)
      assert.equal("lnetstat.session (closed)", tostring(held))
    end
  end)

  describe("in a private namespace", function()
    local NS, pid, handle, tmpdir

    setup(function()
      if not helpers.is_root() then return end
      NS, pid, handle, tmpdir = helpers.netns_farm("lnetstat-sess", FARM)
    end)

    teardown(function()
      helpers.stop_farm(pid, handle, NS, tmpdir)
    end)

    root_it("answers as the plain calls do, for its namespace", function()
      local s = assert(ns.session { netns = NS })
      for _, q in ipairs {
        { "sockets", { proto = { "tcp", "udp" } } },
        { "listening", { proto = "tcp" } },
        { "listening", {} },
        { "connections", { proto = "tcp" } },
        { "sockets", { proto = "tcp", local_port = 41100 } },
        { "sockets", { proto = "tcp", state = "LISTEN", process = true } },
      } do
        local name, opts = q[1], q[2]
        local plain_opts = { netns = NS }
        for k, v in pairs(opts) do plain_opts[k] = v end
        local mine, plain = assert(s[name](s, opts)), assert(ns[name](plain_opts))
        assert.is_true(#mine > 0, name)
        assert.same(keys(plain), keys(mine), name)
        assert.same(plain.sources, mine.sources)
        if opts.process then
          for i, r in ipairs(mine) do assert.equal(pid, r.pid, key(r)) assert.is_table(r.processes, i) end
        end
      end
      -- 4 TCP listeners and 2 connections: the farm's, none of this namespace's
      assert.equal(4, #assert(s:listening { proto = "tcp" }))
      local streamed = {}
      local n = assert(s:each_socket({ proto = "tcp" }, function(r) streamed[#streamed + 1] = r end))
      assert.equal(#streamed, n)
      assert.same(keys(assert(ns.sockets { netns = NS, proto = "tcp" })), keys(streamed))
      s:close()
    end)

    -- The sock_diag sockets a separate process opens (strace), and what its
    -- script printed. inject: strace's fault injection, if any.
    local function traced(script, inject)
      local trace = tmpdir .. "/trace"
      local out = helpers.run(format("strace -f -qq -e trace=socket,sendto %s -o %s %s -e %s 2>&1",
        inject or "", helpers.quote(trace), helpers.LUA, helpers.quote(format(
          "package.path = %q; package.cpath = %q\nlocal ns = require 'lnetstat'\n"
            .. "local s = assert(ns.session { netns = %q })\n%s",
          package.path, package.cpath, NS, script))))
      local sockets = 0
      for _ in helpers.strace_joined(helpers.read_file(trace)):gmatch("NETLINK_SOCK_DIAG%)") do
        sockets = sockets + 1
      end
      return out, sockets
    end

    root_it("sends every list call through one socket; a stream opens its own", function()
      local out, sockets = traced([[
        local n = {}
        for i = 1, 5 do n[i] = #assert(s:listening { proto = "tcp" }) end
        n[6] = #assert(s:sockets { proto = "udp" })
        io.write(table.concat(n, " "))]])
      assert.equal("4 4 4 4 4 1", out)
      assert.equal(1, sockets)
      -- a plain call opens one each time
      out, sockets = traced([[
        for _ = 1, 3 do assert(ns.listening { netns = s.netns, proto = "tcp" }) end
        assert(s:each_socket({ proto = "tcp" }, function() end))
        io.write("done")]])
      assert.equal("done", out)
      assert.equal(1 + 3 + 1, sockets)
    end)

    root_it("drops its socket after a failed request, and opens another for the next call", function()
      -- the second request fails: that call fails, the third works on a new socket
      local script = [[
        local out = {}
        for i = 1, 3 do
          local list, err = s:sockets { proto = "udp", family = "inet" }
          out[i] = list and (#list .. " " .. list.sources.udp) or ("nil " .. tostring(err))
        end
        io.write(table.concat(out, "; "))]]
      local out, sockets = traced(script, "-e inject=sendto:error=EIO:when=2")
      assert.equal("1 netlink; nil sock_diag udp: Input/output error; 1 netlink", out)
      assert.equal(2, sockets)
      -- refused (EPERM): /proc answers that call, and the socket is dropped all the same
      out, sockets = traced(script, "-e inject=sendto:error=EPERM:when=2")
      assert.equal("1 netlink; 1 proc; 1 netlink", out)
      assert.equal(2, sockets)
    end)

    root_it("is not shared with a forked child: the child's first call opens its own socket", function()
      local hooks = require "lnetstat.testhooks"
      local s = assert(ns.session { netns = NS })
      assert.equal(4, #assert(s:listening { proto = "tcp" }))
      local parent_socket = s.socket
      assert.is_false(parent_socket:forked())
      local child = hooks._in_fork(function()
        local forked = s.socket:forked()
        local n = #assert(s:listening { proto = "tcp" })
        return format("%s %d %s %s", tostring(forked), n, tostring(s.socket ~= parent_socket),
          tostring(s.socket:forked()))
      end)
      assert.equal("true 4 true false", child)
      -- the parent's socket is still its own, open and in use
      assert.equal(parent_socket, s.socket)
      assert.equal(4, #assert(s:listening { proto = "tcp" }))
      assert.equal(parent_socket, s.socket)
      s:close()
    end)
  end)
end)
