-- The spare sock_diag socket a Lua state keeps between its questions: the
-- next question in the same process and the same network namespace uses
-- it; a forked child, a thread moved to another namespace, or a question
-- left unfinished does not. strace counts the sockets a separate process
-- opens; /proc/PID/fd shows which socket a process holds.
local helpers = require "helpers"
local ns = require "lnetstat"
local hooks = require "lnetstat.testhooks"

local format = string.format

-- The socket inodes this process holds, as a set, and how many.
local function socket_inodes()
  local f = assert(io.open("/proc/self/stat"))
  local self = f:read("*n")
  f:close()
  local p = assert(io.popen("ls -l /proc/" .. self .. "/fd"))
  local set, n = {}, 0
  for line in p:lines() do
    local inode = line:match("socket:%[(%d+)%]")
    if inode then
      set[inode] = true
      n = n + 1
    end
  end
  p:close()
  return set, n
end

local function added(before, after)
  local out = {}
  for inode in pairs(after) do
    if not before[inode] then out[#out + 1] = inode end
  end
  return out
end

describe("the spare sock_diag socket", function()
  local pid, port
  setup(function() pid, port = helpers.spawn_listener() end)
  teardown(function() helpers.kill(pid) end)

  local function listeners()
    return #assert(ns.listening { proto = "tcp", local_port = port })
  end

  it("serves every question of a process: one socket, opened once, never closed between", function()
    local out, text = helpers.strace_lua("socket,close,readlinkat,sendto", format(
      "local n = {}\nfor i = 1, 5 do n[i] = #assert(ns.listening { proto = 'tcp', local_port = %d }) end\n"
        .. "io.write(table.concat(n, ' '))", port))
    assert.equal("1 1 1 1 1", out)
    local at, fd = text:match("()NETLINK_SOCK_DIAG%) = (%d+)")
    assert(fd, text)
    local sockets, sends, closes = 0, 0, 0
    for _ in text:gmatch("NETLINK_SOCK_DIAG%) = ") do sockets = sockets + 1 end
    -- after the socket (its number may have served files before): the
    -- five requests, then one close, by lua_close at exit
    local calls = {}
    for call in text:sub(at):gmatch("\n[%d ]*([%w_]+)%(" .. fd .. "[,)]") do calls[#calls + 1] = call end
    for _, call in ipairs(calls) do
      if call:match("^sendto") then sends = sends + 1 end
      if call:match("^close") then closes = closes + 1 end
    end
    -- each question checks the thread's namespace: the first through the
    -- whole path, the others by one name in the ns directory it kept
    local paths, names = 0, 0
    for _ in text:gmatch('readlinkat%(AT_FDCWD, "/proc/thread%-self/ns/net"') do paths = paths + 1 end
    for _ in text:gmatch('readlinkat%(%d+, "net"') do names = names + 1 end
    assert.equal(1, sockets)
    assert.equal(5, sends)
    assert.equal(1, closes)
    assert.matches("^close", calls[#calls])
    assert.equal(1, paths)
    assert.equal(4, names)
  end)

  it("stays open between questions until release or lua_close", function()
    ns.release()
    local before, n_before = socket_inodes()
    assert.equal(1, listeners())
    local after, n_after = socket_inodes()
    assert.equal(n_before + 1, n_after)
    local spare = added(before, after)
    assert.equal(1, #spare)
    -- the next question uses it: the same socket afterwards
    assert.equal(1, listeners())
    assert.same(after, (socket_inodes()))
    assert.is_true(ns.release())
    assert.same(before, (socket_inodes()))
  end)

  it("is not used by a forked child, and stays its parent's", function()
    assert.equal(1, listeners())
    local parent = socket_inodes()
    local child = hooks._in_fork(function()
      local inherited = socket_inodes()
      local n = listeners()
      local now = socket_inodes()
      -- the child closed its copy of the parent's spare and keeps its own
      local gone, new = 0, added(inherited, now)
      for inode in pairs(inherited) do
        if not now[inode] then gone = gone + 1 end
      end
      return format("%d gone %d new %d", n, gone, #new)
    end)
    assert.equal("1 gone 1 new 1", child)
    -- the parent's spare is untouched and still serves it
    assert.same(parent, (socket_inodes()))
    assert.equal(1, listeners())
    assert.same(parent, (socket_inodes()))
  end)

  helpers.root_it("answers for the namespace the thread is in now, not the one it was opened in", function()
    local child = hooks._in_fork(function()
      local before = listeners()
      assert(hooks._unshare_net())
      -- a new namespace: no listener there, whatever the spare would say
      local after = listeners()
      local all = #assert(ns.sockets { proto = { "tcp", "udp" } })
      return format("%d %d %d", before, after, all)
    end)
    assert.equal("1 0 0", child)
  end)

  helpers.root_it("a second thread of the state checks its own namespace, not the first one's", function()
    local child = hooks._in_fork(function()
      local before = listeners()   -- the first thread: the spare and the ns directory are its own
      local there = hooks._in_thread(function()
        local same = listeners()   -- the same namespace: the spare serves it
        assert(hooks._unshare_net())   -- only this thread moves
        return format("%d %d", same, listeners())
      end)
      -- back on the first thread, still in the first namespace
      return format("%d %s %d", before, there, listeners())
    end)
    assert.equal("1 1 0 1", child)
  end)

  it("is not kept when its question stopped in the middle of a dump", function()
    ns.release()
    -- a stream whose function raises leaves its dump unfinished
    local ok = pcall(ns.each_socket, { proto = "tcp" }, function() error("stop", 0) end)
    assert.is_false(ok)
    assert.is_false(ns.release())
    -- a stream read to its end keeps it
    assert(ns.each_socket({ proto = "tcp", local_port = port }, function() end))
    assert.is_true(ns.release())
  end)
end)
