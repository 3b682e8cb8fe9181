-- Thread safety: a C harness (spec/fixtures/threads/threads.c, built here
-- against liblua5.4) runs 8 POSIX threads, each with its own lua_State,
-- each asking sockets, routes and interfaces about a different namespace
-- many times at once. Every answer must be its own namespace's (its
-- listener port, route and bridge, none of the others'), and every thread
-- must stay in the namespace it started in (/proc/thread-self/ns/net).
local helpers = require "helpers"

local format = string.format
local quote = helpers.quote
local root_it = helpers.root_it

local THREADS, ITERATIONS = 8, 60
local PID = helpers.getpid()
local HERE = ((debug.getinfo(1, "S").source:match("^@(.*/)")) or "./")
local FIXTURES = HERE .. "fixtures/threads/"

-- one process holds the listeners of every namespace
local LISTENERS = "python3 " .. quote(HERE .. "fixtures/listeners.py")

describe("threads, each with its own lua_State and namespace", function()
  local dir, names, procs, specs, held = nil, {}, {}, {}, {}
  local ROOT = (helpers.must("pwd"):gsub("%s+$", ""))

  -- runs the harness; returns its output and whether it exited 0 (the
  -- status is echoed: Lua 5.1's popen close does not give it)
  local function harness(iterations, list)
    local out = helpers.run(format("LUA_PATH=%s LUA_CPATH=%s %s %s %d %s 2>&1; echo \"exit=$?\"",
      quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"),
      quote(ROOT .. "/build/5.4/?.so;;"), quote(dir .. "/threads"),
      quote(FIXTURES .. "worker.lua"), iterations, table.concat(list, " ")))
    local body, code = out:match("^(.*)exit=(%d+)\n$")
    return body or out, code == "0"
  end

  setup(function()
    if not helpers.is_root() then return end
    helpers.must("make -s")
    dir = helpers.mktemp_dir()
    helpers.must(format("cc -O2 -Wall -Wextra -Werror -o %s %s $(pkg-config --cflags --libs lua5.4) -pthread",
      quote(dir .. "/threads"), quote(FIXTURES .. "threads.c")))
    for i = 1, THREADS do
      local name = helpers.netns_create("lnetstat-thr")
      names[i] = name
      local link = format("thr%d-%d", i, PID % 100000)
      local net = format("203.0.113.%d/28", (i - 1) * 16)
      local port = 46100 + i
      helpers.must(format("ip -n %s link add %s type bridge && ip -n %s link set %s up "
        .. "&& ip -n %s route add %s dev %s", quote(name), link, quote(name), link,
        quote(name), net, link))
      held[i] = format("%s:127.0.0.1:%d", name, port)
      specs[i] = format("%s:%d:%s:%s", name, port, link, net)
    end
    local pid, h = helpers.spawn(LISTENERS .. " " .. table.concat(held, " "))
    procs[1] = { pid = pid, h = h }
    assert(h:wait_ready(20))
  end)

  teardown(function()
    for _, p in ipairs(procs) do
      helpers.kill(p.pid, 3, "python3")
      p.h.cleanup()
    end
    for _, name in ipairs(names) do helpers.netns_delete(name) end
    helpers.remove_tree(dir)
  end)

  root_it("every answer is its own namespace's and no thread leaves its namespace", function()
    local out, ok = harness(ITERATIONS, specs)
    local calls = THREADS * ITERATIONS * 3
    assert.matches(format("\nsummary threads %d calls %d mismatches 0 netns_changes 0\n", THREADS, calls),
      "\n" .. out, 1, true)
    assert(ok, out)
    for i = 1, THREADS do
      assert.matches(format("thread %d %s calls %d mismatches 0 netns_changes 0\n", i, specs[i],
        ITERATIONS * 3), out, 1, true)
    end
  end)

  root_it("the harness does see a mix-up (a thread told the wrong namespace)", function()
    -- thread 1 asks about namespace 2 but expects namespace 1's port,
    -- route and bridge: every one of its answers must be reported
    local wrong = specs[1]:gsub("^[^:]+", names[2])
    local out, ok = harness(2, { wrong, specs[2] })
    assert.is_false(ok, out)
    assert.matches("thread 1 %S+ calls 6 mismatches 6 netns_changes 0 first_error sockets of "
      .. names[2]:gsub("%-", "%%-") .. " lacks its own 46101", out)
    assert.matches("thread 2 %S+ calls 6 mismatches 0 netns_changes 0\n", out)
  end)
end)
