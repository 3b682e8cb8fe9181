-- lnetstat's helper threads under valgrind's two race checkers, helgrind
-- and DRD: the read-ahead of a long dump (csrc/nl/reader.c), over
-- sock_diag and rtnetlink, and the owner walk (csrc/source/proc_fd.c),
-- shared with the calling thread, cancelled, dropped to the collector, or
-- left to a forked child. Each child interpreter runs the calls that start
-- them and stop them early, and checks while they run that they did start;
-- any race, lock misuse or deadlock either checker reports fails the test.
local helpers = require "helpers"

local format = string.format

-- 8,000 unix socket pairs: a dump of about thirty datagrams, read ahead
-- from the fifth with a ring of eight, so the helper is still there while
-- the records of the tenth to the twentieth are made; and 16,000 sockets
-- for the owner walk to find.
local PAIRS = 8000

-- Runs script in a child interpreter under each checker, and fails with
-- the checker's report when it finds anything (its exit status: 99). want:
-- the child's own output, once valgrind's lines ("==PID== ...", such as
-- its warning on an ioctl it does not know) are taken out.
local function check_races(script, want)
  for _, tool in ipairs { "helgrind", "drd" } do
    local out, ok = helpers.lua_child(script,
      format("valgrind -q --tool=%s --error-exitcode=99", tool))
    assert(ok, tool .. ":\n" .. out)
    assert.equal(want, (out:gsub("==%d+==[^\n]*\n", "")), tool)
  end
end

describe("the helper threads under helgrind and DRD", function()
  local farm_pid, farm

  setup(function()
    assert(helpers.run("valgrind --version"):match("^valgrind"), "valgrind is needed (make test installs it)")
    farm_pid, farm = helpers.spawn_unix_pairs(PAIRS)
  end)

  teardown(function()
    helpers.stop_unix_pairs(farm_pid, farm)
  end)

  helpers.threaded_it("race nowhere over sock_diag and the owner walk", function()
    check_races(format([[
      local farm = %d
      -- a list with its owners: the walk on a helper during the dump
      local list = assert(ns.sockets { proto = "unix", process = true })
      local owned = 0
      for _, r in ipairs(list) do if r.pid == farm then owned = owned + 1 end end
      print("owned", owned)
      -- a stream with owners: the walk shared first, then the read-ahead,
      -- seen running from the sink
      local during, n = 0, 0
      assert(ns.each_socket({ proto = "unix", process = true }, function()
        n = n + 1
        if n %% 100 == 0 then during = math.max(during, threads()) end
      end))
      print("streamed", n >= 2 * %d, during)
      -- a sink that raises mid-answer, then the session used again
      local s = assert(core.open(nil, { "diag" }))
      n = 0
      print("raised", (pcall(core.sock_diag, s, function() n = n + 1
        if n == 1000 then error("enough") end end, "unix", "any")))
      local again = {}
      assert(core.sock_diag(s, again, "unix", "any"))
      print("again", #again >= 2 * %d, threads())
      -- a sink that closes its session mid-answer
      local s2 = assert(core.open(nil, { "diag" }))
      n = 0
      print("closed", (pcall(core.sock_diag, s2, function() n = n + 1
        if n == 1000 then s2:close() end end, "unix", "any")), threads())
      -- raised again, then closed by a forked child, then by this process
      n = 0
      print("raised", (pcall(core.sock_diag, s, function() n = n + 1
        if n == 1000 then error("enough") end end, "unix", "any")))
      print("child", hooks._in_fork(function() s:close(); return "closed" end))
      s:close()
      -- owner jobs finished, cancelled, and dropped while they run
      local job = core.start_owner_map()
      print("job", type(job))
      print("finished", type((core.finish_owner_map(job))))
      core.cancel_owner_map(core.start_owner_map())
      do local _ = core.start_owner_map() end
      collectgarbage()
      collectgarbage()
      print("threads", threads())
    ]], farm_pid, PAIRS, PAIRS),
      "owned\t" .. 2 * PAIRS .. "\nstreamed\ttrue\t2\nraised\tfalse\nagain\ttrue\t1\n"
      .. "closed\tfalse\t1\nraised\tfalse\nchild\tclosed\njob\tuserdata\nfinished\tuserdata\n"
      .. "threads\t1\nexit=0\n")
  end)

  -- a helper thread starts only on more than one CPU
  local root_threaded_it = helpers.usable_cpus() > 1 and helpers.root_it or helpers.threaded_it
  root_threaded_it("race nowhere over rtnetlink, in a namespace of 5,000 routes", function()
    local netns = helpers.netns_create("lnetstat-races")
    local ok, err = pcall(function()
      helpers.add_routes(netns, 5000)
      check_races(format([[
        local list = assert(ns.routes { netns = %q, family = "inet6" })
        print("listed", #list > 5000)
        local during, n = 0, 0
        assert(ns.each_route({ netns = %q, family = "inet6" }, function()
          n = n + 1
          if n %% 100 == 0 then during = math.max(during, threads()) end
        end))
        print("streamed", n > 5000, during, threads())
      ]], netns, netns), "listed\ttrue\nstreamed\ttrue\t2\t1\nexit=0\n")
    end)
    helpers.netns_delete(netns)
    assert(ok, err)
  end)
end)
