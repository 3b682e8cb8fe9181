-- A finalizer that closes a session or a watch in the middle of a call
-- that is using it. The collector runs finalizers during any allocation,
-- so Lua code the caller never called directly can close what a call is
-- walking: the call must not crash, it finishes or fails with a clear
-- error, and the close (asked for while the object is held) happens after
-- it. Each case runs in a child interpreter (this suite's, with its
-- package.cpath), so that a crash fails one test instead of the run.
--
-- The session cases are deterministic: a sink drops the last reference to
-- an object whose __gc closes the session and calls collectgarbage(),
-- which runs the finalizer there. A read of a watch runs no Lua code of
-- its own, so there a finalizer that re-arms itself runs under a collector
-- set to finish a cycle at every step, until one has run inside the read
-- (it sees the watch busy; the tests assert that it did).
local helpers = require "helpers"

local format = string.format
local quote = helpers.quote

-- What every child script starts with: core and ns, and
--   finalizer(fn)  an object whose finalizer calls fn (a proxy on 5.1,
--                  whose tables take no __gc), unreferenced
--   fds(pattern)   the number of this process's descriptors whose target
--                  matches pattern
--   eager(on)      the collector set to finish a cycle at (nearly) every
--                  allocation, or back to the defaults
local PRELUDE = [[
local core = require 'lnetstat.core'
local ns = require 'lnetstat'
local function finalizer(fn)
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = fn
    return p
  end
  return setmetatable({}, { __gc = fn })
end
local PID = io.open("/proc/self/stat"):read("*l"):match("^(%d+)")
local function fds(pattern)
  local p = io.popen("ls -l /proc/" .. PID .. "/fd 2>/dev/null")
  local n = 0
  for line in p:lines() do
    if line:find(pattern) then n = n + 1 end
  end
  p:close()
  return n
end
local function eager(on)
  if _VERSION == "Lua 5.4" then
    if on then collectgarbage("incremental", 0, 1000, 0) else collectgarbage("incremental", 200, 100, 13) end
  else
    collectgarbage("setpause", on and 0 or 200)
    collectgarbage("setstepmul", on and 1000 or 200)
  end
end
]]

-- Runs script in a child interpreter after PRELUDE; returns its output
-- (stdout and stderr) and whether it exited 0 within a minute.
local function child(script)
  local prelude = format("package.path = %q; package.cpath = %q\n", package.path, package.cpath)
  local out = helpers.run(format("timeout 60 %s -e %s 2>&1; echo \"exit=$?\"", helpers.LUA,
    quote(prelude .. PRELUDE .. script)))
  return out, out:match("exit=0\n$") ~= nil
end

-- The value of "key=value" on a line of out (nil when absent).
local function field(out, key)
  return out:match("\n?" .. key .. "=([^\n]*)")
end

describe("a finalizer that closes a session inside a call using it", function()
  it("fails the call clearly and closes the session after it", function()
    local out, ok = child([[
      -- several netlink sockets of this process: the dump has records left
      -- to walk after the one whose sink runs the finalizer
      local extra = {}
      for i = 1, 4 do extra[i] = assert(core.open(nil, { "route" })) end
      assert(core.links(extra[1]))
      local function case(name, open, pattern, call)
        local s = assert(core.open(nil, open))
        local holder = { finalizer(function()
          s:close()
          print(name .. ".inside=" .. tostring(s) .. " " .. fds(pattern))
        end) }
        local before, later = fds(pattern), 0
        local okc, err = pcall(call, s, function()
          if holder[1] then
            holder[1] = nil
            collectgarbage()
            collectgarbage()
          else
            later = later + 1
          end
        end)
        print(name .. ".call=" .. tostring(okc) .. " " .. tostring(err))
        print(name .. ".later=" .. later)
        print(name .. ".fds=" .. before .. " " .. fds(pattern))
        print(name .. ".after=" .. tostring(s))
        print(name .. ".again=" .. tostring(select(2, pcall(call, s, {}))))
      end
      case("proc", { "netlink" }, "net/netlink", function(s, sink)
        return core.proc_sockets(s, sink, "netlink")
      end)
      case("dump", { "route" }, "socket:", function(s, sink)
        return core.route_dump(s, sink, "inet", -1)
      end)
      case("diag", { "route", "diag" }, "socket:", function(s, sink)
        return core.sock_diag(s, sink, "netlink", "any")
      end)
      for _, e in ipairs(extra) do e:close() end
      print("END")
    ]])
    assert(ok, out)
    assert.matches("\nEND\n", out)
    for _, name in ipairs { "proc", "dump", "diag" } do
      -- the finalizer ran inside the call: close() only asked for the
      -- close, so what the call reads was still open
      local state, during = (field(out, name .. ".inside") or ""):match("^(.-) (%d+)$")
      assert.equal("lnetstat.session (closed)", state, out)
      local before, after = field(out, name .. ".fds"):match("^(%d+) (%d+)$")
      assert.equal(before, during, out)
      -- the call went on walking its answer, then failed clearly
      assert.is_true(tonumber(field(out, name .. ".later")) > 0, out)
      assert.equal("false lnetstat.core: the session was closed by Lua code running inside a "
        .. "call reading it", field(out, name .. ".call"))
      -- closed after the call: its descriptor is gone
      assert.is_true(tonumber(after) < tonumber(before), out)
      assert.equal("lnetstat.session (closed)", field(out, name .. ".after"))
      assert.matches("session is closed", field(out, name .. ".again"))
    end
  end)

  it("refuses the held session to the finalizer's own calls, and the call succeeds", function()
    local out, ok = child([[
      local s = assert(core.open(nil, { "netlink" }))
      local extra = assert(core.open(nil, { "route" }))
      local holder = { finalizer(function()
        print("nested=" .. tostring(select(2, pcall(core.proc_sockets, s, {}, "netlink"))))
      end) }
      local list = {}
      local okc, err = pcall(core.proc_sockets, s, function(r)
        list[#list + 1] = r
        if holder[1] then
          holder[1] = nil
          collectgarbage()
          collectgarbage()
        end
      end, "netlink")
      print("call=" .. tostring(okc) .. " " .. tostring(err) .. " " .. #list)
      local again = {}
      assert(core.proc_sockets(s, again, "netlink"))
      print("after=" .. tostring(s) .. " " .. #again)
      s:close()
      extra:close()
      print("END")
    ]])
    assert(ok, out)
    assert.matches("\nEND\n", out)
    assert.matches("session is busy", field(out, "nested"))
    assert.matches("^true ", field(out, "call"))
    assert.matches("^lnetstat.session %(open%) ", field(out, "after"))
  end)
end)

describe("a finalizer that closes a watch inside a read of it", function()
  local NS
  helpers.root_setup(function()
    NS = helpers.netns_create("lnguard")
    helpers.ip(NS, "link add gw0 type veth peer name gw1")
    helpers.ip(NS, "link set gw0 up")
  end, function() helpers.netns_delete(NS) end)

  -- Shell commands that make n route events (adds, then deletes) in NS.
  local function routes(n, verb)
    return format("for i in $(seq 1 %d); do echo route %s 203.0.113.$i/32 dev gw0; done "
      .. "| ip -n %s -batch -", n, verb, quote(NS))
  end

  helpers.root_it("lets w:read finish and closes the watch and its names after it", function()
    local out, ok = child(format([[
      local path, add, del = %q, %q, %q
      local sub = assert(core.open(path, { "route" }))
      local names = assert(core.open(path, { "route" }))
      local w = assert(core.watch(sub, 4, nil, -1, 0, nil))
      sub:close()
      local fired
      local function arm()
        finalizer(function()
          if fired then return end
          local okr, err = pcall(w.read, w, names, 0)
          if okr or not tostring(err):find("busy", 1, true) then return arm() end
          fired = true
          print("busy=" .. tostring(err))
          w:close()
          names:close()
          print("inside=" .. tostring(w) .. " " .. tostring(names) .. " " .. fds("eventpoll"))
        end)
      end
      local results = {}
      for attempt = 1, 20 do
        assert(os.execute(add .. " && " .. del))
        arm()
        eager(true)
        local okr, list = pcall(w.read, w, names, 0)
        eager(false)
        results[#results + 1] = tostring(okr) .. " " .. (type(list) == "table" and #list or tostring(list))
        if fired then break end
        collectgarbage()
      end
      print("fired=" .. tostring(fired))
      print("read=" .. results[#results])
      print("after=" .. tostring(w) .. " " .. tostring(names) .. " " .. fds("eventpoll"))
      print("again=" .. tostring(select(2, pcall(w.read, w, names, 0))))
      print("END")
    ]], "/var/run/netns/" .. NS, routes(100, "add"), routes(100, "del")))
    assert(ok, out)
    assert.matches("\nEND\n", out)
    assert.equal("true", field(out, "fired"), out)
    assert.matches("watch is busy", field(out, "busy"))
    -- inside the read, close() only asked: the epoll descriptor is open
    assert.equal("lnetstat.watch (closed) lnetstat.session (closed) 1", field(out, "inside"))
    -- the read finished with its events, then the watch was closed
    local okr, n = field(out, "read"):match("^(%S+) (%d+)$")
    assert.equal("true", okr, out)
    assert.is_true(tonumber(n) > 0, out)
    assert.equal("lnetstat.watch (closed) lnetstat.session (closed) 0", field(out, "after"))
    assert.matches("watch is closed", field(out, "again"))
  end)

  -- ns.watch: the events of links complete their records from the names
  -- session, which the finalizer has closed too. poll() says what
  -- happened; events() ends as it does for a watch closed between steps.
  for _, how in ipairs { "poll", "events" } do
    helpers.root_it(how .. "() of a watch closed by a finalizer meanwhile fails clearly", function()
      local out, ok = child(format([[
        local how, netns = %q, %q
        local add = "for i in $(seq 1 20); do echo link add gv$i type veth peer name gu$i; done "
          .. "| ip -n " .. netns .. " -batch -"
        local del = "for i in $(seq 1 20); do echo link del gv$i; done | ip -n " .. netns .. " -batch -"
        local w = assert(ns.watch { "links", "routes", netns = netns })
        local fired
        local function arm()
          finalizer(function()
            if fired then return end
            local okr, err = pcall(w.w.read, w.w, w.names, 0)
            if okr or not tostring(err):find("busy", 1, true) then return arm() end
            fired = true
            w:close()
          end)
        end
        local result
        for attempt = 1, 10 do
          assert(os.execute(add .. " && " .. del))
          arm()
          eager(true)
          local r = { pcall(function()
            if how == "poll" then
              local list = w:poll()
              return #list
            end
            local n = 0
            for _ in w:events(0) do n = n + 1 end
            return n
          end) }
          eager(false)
          result = tostring(r[1]) .. " " .. tostring(r[2])
          if fired then break end
          collectgarbage()
        end
        print("fired=" .. tostring(fired))
        print("result=" .. result)
        print("after=" .. tostring(w) .. " " .. tostring(w.w) .. " " .. tostring(w.names) .. " "
          .. fds("eventpoll"))
        print("END")
      ]], how, NS))
      assert(ok, out)
      assert.matches("\nEND\n", out)
      assert.equal("true", field(out, "fired"), out)
      if how == "poll" then
        -- the error names the line that called poll()
        assert.matches("^false %(command line%):%d+: poll: the watch was closed by Lua code "
          .. "running inside the call %(a finalizer%)$", field(out, "result"))
      else
        assert.matches("^true %d+$", field(out, "result"))
      end
      assert.equal("lnetstat.watch (closed) lnetstat.watch (closed) lnetstat.session (closed) 0",
        field(out, "after"))
    end)
  end
end)
