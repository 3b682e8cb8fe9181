-- The sock_diag receive loop: a dump whose answer spans many datagrams
-- arrives whole and in order, and the datagrams come two per receive call
-- (recvmmsg: the kernel builds the next part of a dump while the previous
-- one is taken, so it is already queued). In a private network namespace a
-- farm holds a known set of TCP sockets; ss is the oracle for the records,
-- strace counts the receive calls. Needs root.
local helpers = require "helpers"
local ns = require "lnetstat"

local root_it = helpers.root_it
local format = string.format

-- LISTENERS listening sockets on 127.0.0.1: at about 120 bytes a message,
-- several 32 KiB datagrams. BIG_PORT and up.
local LISTENERS, BIG_PORT = 900, 42000

local FARM = format([[
import resource, signal, socket
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
keep = []
for port in range(%d, %d):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(4); keep.append(s)
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
]], BIG_PORT, BIG_PORT + LISTENERS)

describe("sock_diag receives", function()
  local NS, pid, handle, tmpdir

  setup(function()
    if not helpers.is_root() then return end
    NS, pid, handle, tmpdir = helpers.netns_farm("lnetstat-recv", FARM)
  end)

  teardown(function()
    helpers.stop_farm(pid, handle, NS, tmpdir)
  end)

  local function key(r) return helpers.record_key(r) .. " " .. r.state end

  -- Runs script (after `local ns = require "lnetstat"`) in a separate
  -- process under strace; returns what it wrote and, for the sock_diag
  -- socket it opened first: the recvmmsg calls the calling thread made,
  -- the datagrams they returned, and its plain recvmsg calls. (A dump of
  -- more than four datagrams is read on by a helper thread, one datagram
  -- per call: nl/reader.c, spec/dump_readahead_spec.lua.)
  local function traced(script)
    local out, text = helpers.strace_lua("socket,recvmsg,recvmmsg", script)
    local fd = assert(text:match("NETLINK_SOCK_DIAG%) = (%d+)"), text)
    -- the calling thread receives first (a helper, if any, after it)
    local tid = text:match("(%d+) +recvm?m?sg%(" .. fd .. ", ")
    local calls, datagrams, plain = 0, 0, 0
    for line in text:gmatch("[^\n]+") do
      local mine = line:match("^(%d+)") == tid
      if mine and line:find("recvmmsg(" .. fd .. ", ", 1, true) then
        calls = calls + 1
        datagrams = datagrams + assert(tonumber(line:match("= (%d+)%s*$")), line)
      elseif mine and line:find("recvmsg(" .. fd .. ", ", 1, true) then
        plain = plain + 1
      end
    end
    return out, calls, datagrams, plain
  end

  root_it("a dump of many datagrams holds every socket ss shows, once, in both forms", function()
    local list = assert(ns.sockets { netns = NS, proto = "tcp" })
    local oracle = assert(helpers.ss(NS, "-Htan"))
    assert.equal(LISTENERS, #oracle)
    local want, got = {}, {}
    for _, r in ipairs(oracle) do want[key(r)] = true end
    for _, r in ipairs(list) do
      assert.is_nil(got[key(r)], "twice: " .. key(r))
      got[key(r)] = true
    end
    assert.same(want, got)
    -- the kernel walks its listening hash bucket by bucket: the stream
    -- gets the same sockets in the same order
    local streamed = {}
    local count, summary = assert(ns.each_socket({ netns = NS, proto = "tcp" }, function(r)
      streamed[#streamed + 1] = key(r)
    end))
    assert.equal(LISTENERS, count)
    assert.equal(LISTENERS, summary.messages)
    for i, r in ipairs(list) do assert.equal(key(r), streamed[i], "record " .. i) end
  end)

  root_it("takes two datagrams per receive call", function()
    local out, calls, datagrams, plain = traced(format(
      "io.write(#assert(ns.sockets { netns = %q, proto = 'tcp' }))", NS))
    assert.equal(tostring(LISTENERS), out)
    assert.equal(0, plain)
    -- 900 messages of 100 bytes and more need at least three 32 KiB
    -- datagrams, then NLMSG_DONE
    assert.is_true(datagrams >= 4, datagrams .. " datagrams")
    -- every call but the last took two
    assert.equal(math.ceil(datagrams / 2), calls)
  end)

  root_it("a small dump and its NLMSG_DONE come with one receive call", function()
    local out, calls, datagrams, plain = traced(format(
      "io.write(#assert(ns.listening { netns = %q, proto = 'tcp', local_port = %d }))", NS, BIG_PORT))
    assert.equal("1", out)
    assert.equal(0, plain)
    assert.equal(1, calls)
    assert.equal(2, datagrams)
  end)
end)
