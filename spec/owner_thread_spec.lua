-- sockets{process = true} walks every process's open files on a helper
-- thread while the calling thread dumps the sockets, then both share what
-- is left of the walk (core.start_owner_map, finish_owner_map,
-- cancel_owner_map); each_socket shares the whole walk. The owners it finds are those the
-- walk on the calling thread finds (core.owner_map); a job that is
-- cancelled, dropped, or inherited by a forked child ends without a hang,
-- a crash or a thread left running; a memory error leaves nothing behind;
-- and on one CPU no thread is started and the owners come all the same.
local helpers = require "helpers"
local core = require "lnetstat.core"
local ns = require "lnetstat"

local format = string.format

-- A listener on a loopback port the kernel picks, held by a process and
-- by the child it forks: one socket, two owners.
local SHARED_LISTENER = [[python3 -c 'import os, socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(3)
if os.fork() == 0:
    time.sleep(600); os._exit(0)
print(s.getsockname()[1]); print("ready", flush=True)
time.sleep(600)']]

local threads = helpers.threads


-- Copies of the records, with the owners the map and names give them.
local function attached(records, map, procs)
  local copies = {}
  for i, r in ipairs(records) do copies[i] = { inode = r.inode, uid = r.uid } end
  for _, p in pairs(procs) do p.command = p.argv0 end
  core.attach_owners(map, procs, {}, copies)
  return copies
end

local child = helpers.lua_child

describe("owners walked on a helper thread", function()
  local pid, port, handle, records

  setup(function()
    pid, handle = helpers.spawn(SHARED_LISTENER)
    local ok, out = handle:wait_ready(10)
    assert(ok, out)
    port = tonumber(out:match("^(%d+)\n"))
    records = assert(ns.sockets { proto = "tcp", family = "inet", local_port = port, state = "LISTEN" })
    assert.equal(1, #records)
  end)

  teardown(function()
    -- the forked holder first: it is the listener's child, not ours
    for child_pid in (helpers.run(format("pgrep -P %d", pid or 0))):gmatch("%d+") do
      helpers.kill(tonumber(child_pid), 5, "python3")
    end
    helpers.kill(pid, 5, "python3")
    if handle then handle.cleanup() end
  end)

  helpers.threaded_it("finds what the walk on the calling thread finds", function()
    local job = core.start_owner_map()
    assert.equal("userdata", type(job))
    local map, unreadable, errno, procs, seen, unlisted = core.finish_owner_map(job, records)
    local smap, sunreadable, serrno, sprocs, sseen, sunlisted = core.owner_map(records)
    local threaded, called = attached(records, map, procs), attached(records, smap, sprocs)
    assert.equal(2, #threaded[1].processes)
    assert.equal(pid, threaded[1].processes[1].pid)
    assert.same(called, threaded)
    -- the names of the owners of these records, and no other process's
    assert.same(sprocs, procs)
    assert.same({ sunreadable, serrno, sunlisted }, { unreadable, errno, unlisted })
    -- seen counts every socket the walks met: the same host, moments apart
    assert.is_true(seen > 0 and sseen > 0)
    -- the job's results were taken: it cannot be finished twice
    assert.matches("finished owner job", helpers.err_of(core.finish_owner_map, job, records))
    assert.equal(1, threads())
  end)

  helpers.threaded_it("shares the walk of every socket between two threads, with or without first", function()
    for _, first in ipairs { false, true } do
      local map, unreadable, errno, procs, seen, unlisted = core.finish_owner_map(core.start_owner_map(first))
      local smap, sunreadable, serrno, sprocs, sseen, sunlisted = core.owner_map(nil, first)
      local threaded, called = attached(records, map, procs), attached(records, smap, sprocs)
      assert.equal(first and 1 or 2, #threaded[1].processes)
      assert.equal(pid, threaded[1].processes[1].pid)
      assert.same(called, threaded)
      -- the counts of the whole host's walk: each thread's added up (the
      -- host may change between the two walks, so only their signs)
      assert.same({ sunreadable > 0, serrno ~= 0, sunlisted > 0 }, { unreadable > 0, errno ~= 0, unlisted > 0 })
      assert.is_true(seen >= 2 and sseen >= 2)
      -- every owner's names, as the walk on one thread gives them
      for p in pairs(sprocs) do assert.is_table(procs[p], "pid " .. p) end
    end
    assert.equal(1, threads())
  end)

  it("gives sockets{process = true} both owners, with names, from the thread", function()
    local list = assert(ns.sockets { proto = "tcp", family = "inet", local_port = port, state = "LISTEN",
      process = true })
    assert.equal(1, #list)
    local r = list[1]
    assert.equal(pid, r.pid)
    assert.equal("python3", r.program)
    assert.equal(2, #r.processes)
    assert.equal(pid, r.processes[1].pid)
    assert.is_true(r.processes[2].pid ~= pid)
    assert.equal("python3", r.processes[2].program)
    assert.equal(1, threads())
  end)

  helpers.threaded_it("stops a cancelled or dropped job's thread at once", function()
    local job = core.start_owner_map()
    core.cancel_owner_map(job)
    assert.equal(1, threads())
    assert.matches("finished owner job", helpers.err_of(core.finish_owner_map, job, records))
    core.cancel_owner_map(job)   -- again: nothing left to do
    for _ = 1, 20 do core.start_owner_map() end
    collectgarbage()
    collectgarbage()
    assert.equal(1, threads())
    assert.has_error(function() core.cancel_owner_map("x") end)
    assert.has_error(function() core.finish_owner_map(core.start_owner_map(), "x") end)
  end)

  helpers.threaded_it("in a forked child, neither waits for nor frees the parent's job", function()
    local out, ok = child(format([[
      local records = { { inode = %d } }
      local job = assert(core.start_owner_map())
      print(hooks._in_fork(function()
        local finished, err = pcall(core.finish_owner_map, job, records)
        core.cancel_owner_map(job)
        job = nil
        collectgarbage(); collectgarbage()
        return tostring(finished) .. " " .. tostring(err:match("finished owner job"))
      end))
      local map, _, _, procs = core.finish_owner_map(job, records)
      local r = { inode = %d }
      print(core.attach_owners(map, procs, {}, { r }), r.pid)
    ]], records[1].inode, records[1].inode))
    assert(ok, out)
    assert.equal(format("false finished owner job\n0\t%d\nexit=0\n", pid), out)
  end)

  it("leaves no thread and no memory behind when an allocation fails", function()
    local hooks = require "lnetstat.testhooks"
    local failed, succeeded = 0, 0
    for n = 1, 60 do
      local ok, map = hooks._with_alloc_limit(n, function()
        local job = core.start_owner_map()
        if not job then return core.owner_map(records) end
        return core.finish_owner_map(job, records)
      end)
      if ok and map then succeeded = succeeded + 1 else failed = failed + 1 end
    end
    collectgarbage()
    collectgarbage()
    assert.is_true(failed > 0 and succeeded > 0)
    assert.equal(1, threads())
  end)

  it("starts no thread on one CPU, and sockets{process = true} still finds both owners", function()
    local out, ok = child(format([[
      package.loaded["lnetstat.core"] = core
      local ns = require "lnetstat"
      print(core.start_owner_map())
      local r = assert(ns.sockets { proto = "tcp", family = "inet", local_port = %d, state = "LISTEN",
        process = true })[1]
      print(r.pid, #r.processes, r.processes[1].program)
    ]], port), "taskset -c 0")
    assert(ok, out)
    assert.equal(format("nil\n%d\t2\tpython3\nexit=0\n", pid), out)
  end)
end)
