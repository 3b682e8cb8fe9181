-- Dumps during fast connection churn: inside a private netns a child opens
-- and closes loopback TCP connections as fast as it can for a few seconds
-- while sockets() dumps the netns again and again. Sockets come and go
-- between the kernel's dump chunks; no dump may hold one socket twice.
-- Needs root (CI is root: nothing is skipped there).
local helpers = require "helpers"
local ns = require "lnetstat"

local root_it = helpers.root_it
local format = string.format

local PORT = 40100
local SECONDS = 5
local DUMPS = 200

-- The churner: a listener whose accepted connections a thread resets, and
-- a loop of connect + close (reset too, but one in 16 closed through
-- TIME_WAIT, so that the dumps hold a few); prints "ready", then at the end
-- "connections N", and only then closes the listener (a Python process that
-- is exiting still lives for a while after its sockets are gone: the line,
-- not the pid, says whether the listener must be there).
local CHURN = [[
import socket, struct, sys, threading, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(4096)
linger = struct.pack("ii", 1, 0)
def server():
    while True:
        try:
            c, _ = ls.accept()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger); c.close()
        except OSError:
            return
threading.Thread(target=server, daemon=True).start()
print("ready", flush=True)
n, end = 0, time.time() + seconds
while time.time() < end:
    c = socket.socket()
    if n % 16:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    try:
        c.connect(("127.0.0.1", port)); n += 1
    except OSError:
        pass
    c.close()
print("connections", n, flush=True)
ls.close()
]]

describe("sockets() under connection churn", function()
  root_it(format("%d dumps during %d s of loopback churn hold no socket twice", DUMPS, SECONDS), function()
    local netns, pid, handle
    finally(function()
      if pid then helpers.kill(pid, 5, "python3") end
      if handle then handle.cleanup() end
      helpers.netns_delete(netns)
    end)
    netns = helpers.netns_create("lnetstat-churn")
    pid, handle = helpers.spawn(format("ip netns exec %s python3 -c %s %d %d",
      netns, helpers.quote(CHURN), PORT, SECONDS))
    assert(handle:wait_ready(10))

    local dumps, records, busy, started = 0, 0, 0, os.time()
    while (dumps < DUMPS or helpers.alive(pid)) and os.time() - started < 45 do
      -- info = true brings the cookie, the kernel's identity of a socket:
      -- orphans on their way out share addresses, ports and inode 0
      local list, err = ns.sockets { netns = netns, proto = "tcp", state = "all", info = true }
      assert.is_table(list, err)
      local seen, listener = {}, false
      for _, r in ipairs(list) do
        assert.is_string(r.cookie)
        local key = format("%s:%s %s:%s cookie %s", tostring(r.local_addr), tostring(r.local_port),
          tostring(r.remote_addr), tostring(r.remote_port), r.cookie)
        assert(seen[key] == nil, format("dump %d holds %s twice (%s, then %s)", dumps + 1, key,
          tostring(seen[key]), tostring(r.state)))
        seen[key] = r.state
        if r.state == "LISTEN" and r.local_port == PORT then listener = true end
      end
      -- the listener lives until the churner says it is done: not said
      -- after the dump, it was there for the whole dump
      assert(listener or handle.stdout():find("connections", 1, true),
        format("dump %d lacks the listener", dumps + 1))
      dumps, records = dumps + 1, records + #list
      if #list > 1 and helpers.alive(pid) then busy = busy + 1 end
    end
    assert.is_true(dumps >= DUMPS, format("%d dumps", dumps))
    -- the dumps did run while connections came and went
    assert.is_true(busy >= 10, format("only %d dumps saw connections", busy))
    -- the churner ran to its end and did churn
    local waited = 0
    while helpers.alive(pid) and waited < 10 do
      helpers.sleep(0.1)
      waited = waited + 0.1
    end
    local made = tonumber(handle.stdout():match("connections (%d+)"))
    assert(made, "the churner did not finish: " .. handle.stdout() .. handle.stderr())
    assert.is_true(made >= 1000, format("only %d connections in %d s", made, SECONDS))
    print(format("\nchurn: %d connections in %d s, %d dumps (%d records, %d during churn)",
      made, SECONDS, dumps, records, busy))
  end)
end)
