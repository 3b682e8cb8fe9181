-- A watch of sockets alone names the interface a closing socket was bound
-- to even when that interface appeared (or was renamed) after the watch
-- learnt the names: it follows the link group as every watch does, without
-- reporting link events, and its timeouts still hold. Private netns.
local ns = require "lnetstat"
local helpers = require "helpers"

local format = string.format
local quote, must, run = helpers.quote, helpers.must, helpers.run

-- Wall-clock seconds (fractions), from date(1): os.clock is CPU time.
local function now()
  return tonumber((run("date +%s.%N")))
end

describe("a watch of sockets alone (private netns)", function()
  local NS
  setup(function()
    if helpers.is_root() then NS = helpers.netns_create("lnwatchperfsk") end
  end)
  teardown(function()
    helpers.netns_delete(NS)
  end)

  local function ip(cmd) must(format("ip -n %s %s", quote(NS), cmd)) end

  -- A UDP socket bound to dev and to port, closed at once.
  local function udp_close(dev, port)
    must(format("ip netns exec %s python3 -c %s", quote(NS), quote(format([[
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"%s")
s.bind(("127.0.0.1", %d))
s.close()]], dev, port))))
  end

  -- The socket events of a few polls, by local port.
  local function socket_events(w, want)
    local by_port, kinds = {}, {}
    for _ = 1, 40 do
      for _, ev in ipairs(assert(w:poll())) do
        kinds[#kinds + 1] = ev.kind
        if ev.kind == "socket" then by_port[ev.record.local_port] = ev.record end
      end
      if by_port[want] then break end
      helpers.sleep(0.05)
    end
    return by_port, kinds
  end

  helpers.root_it("names interfaces that appeared or were renamed after it learnt the names", function()
    local w = assert(ns.watch { "sockets", netns = NS })
    finally(function() w:close() end)
    udp_close("lo", 41001)
    local got, kinds = socket_events(w, 41001)
    assert.equals("lo", got[41001] and got[41001].interface)
    -- names loaded: now a link the names have never seen, and a renamed one
    ip("link add wps0 type veth peer name wps1")
    ip("link set wps0 up")
    udp_close("wps0", 41002)
    local got2, kinds2 = socket_events(w, 41002)
    assert.is_table(got2[41002], "no event for the socket")
    assert.equals("wps0", got2[41002].interface)
    ip("link set wps0 down")
    ip("link set wps0 name wps9")
    ip("link set wps9 up")
    udp_close("wps9", 41003)
    local got3, kinds3 = socket_events(w, 41003)
    assert.equals("wps9", got3[41003] and got3[41003].interface)
    -- and no event of a kind it was not asked for
    for _, list in ipairs { kinds, kinds2, kinds3 } do
      for _, k in ipairs(list) do assert.equals("socket", k) end
    end
  end)

  helpers.root_it("waits its whole timeout through link events it does not report", function()
    local w = assert(ns.watch { "sockets", netns = NS })
    finally(function() w:close() end)
    local pid, h = helpers.spawn(format("sh -c %s", quote(format(
      "sleep 0.2; ip -n %s link add wpt0 type veth peer name wpt1; sleep 0.2; ip -n %s link del wpt0",
      quote(NS), quote(NS)))))
    finally(function()
      helpers.kill(pid, 2, "wpt0")
      h.cleanup()
    end)
    local t0 = now()
    local seen = {}
    for ev in w:events(1.2) do seen[#seen + 1] = ev.kind end
    local waited = now() - t0
    assert.same({}, seen)
    assert.is_true(waited >= 1.1, format("the loop ended after %.2f s", waited))
    assert.is_true(waited < 3, format("the loop ended after %.2f s", waited))
    -- the link events did come: the names know the link and then forget it
    assert.equals("", h.stderr())
  end)
end)
