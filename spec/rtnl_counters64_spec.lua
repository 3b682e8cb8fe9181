-- Interface byte counters past 2^32 (more than 4 GiB through loopback in a
-- private namespace, a second or two of local TCP), read over rtnetlink
-- (IFLA_STATS64) and from /proc/net/dev, against `ip -s -j link` and the
-- text of `netstat -ie`.
local ns = require "lnetstat"
local helpers = require "helpers"

local format = string.format
local quote, must, root_it = helpers.quote, helpers.must, helpers.root_it

-- Sends 5 GiB over one loopback TCP connection to itself.
local BLAST = [[
import socket, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
def sink():
    c, _ = s.accept()
    buf = bytearray(1 << 20)
    while c.recv_into(buf): pass
t = threading.Thread(target=sink); t.start()
c = socket.create_connection(s.getsockname())
chunk = b"x" * (1 << 20)
for _ in range(5 * 1024): c.sendall(chunk)
c.close(); t.join()
]]

describe("64-bit interface counters", function()
  local A, script

  helpers.root_setup(function()
    A = helpers.netns_create("rtnl-c64")
    script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(BLAST)
    f:close()
    must(format("ip netns exec %s python3 %s", quote(A), quote(script)))
  end, function()
    if script then os.remove(script) end
    script = nil
    helpers.netns_delete(A)
    A = nil
  end)

  local function ip_lo()
    return helpers.ip_json(A, "-s link show lo")[1].stats64
  end

  root_it("are read whole over rtnetlink and from /proc/net/dev, as ip reads them", function()
    local theirs = ip_lo()
    assert.is_true(theirs.rx.bytes > 2 ^ 32)
    for _, source in ipairs { "netlink", "proc" } do
      local lo = assert(ns.interfaces { netns = A, name = "lo", source = source })[1]
      assert.equal(theirs.rx.bytes, lo.stats.rx_bytes, source)
      assert.equal(theirs.tx.bytes, lo.stats.tx_bytes, source)
      assert.equal(theirs.rx.packets, lo.stats.rx_packets, source)
      assert.is_true(helpers.is_integer(lo.stats.rx_bytes) or _VERSION == "Lua 5.1"
        or _VERSION == "Lua 5.2", source)
    end
    assert.equal(64, assert(ns.interfaces { netns = A, name = "lo" })[1].stats.bits)
  end)

  root_it("show in netstat -ie's text as netstat shows them", function()
    local function lo_block(text)
      return text:match("\n?(lo: .-\n)\n") or text
    end
    local expected = lo_block(helpers.netns_run(A, "netstat -ie 2>&1"))
    local actual = lo_block(helpers.netns_run(A, helpers.LNETSTAT .. " -ie 2>&1"))
    assert.matches("RX packets %d+  bytes %d%d%d%d%d%d%d%d%d%d+ %(%d[%d.]* GiB%)", expected)
    assert.equal(expected, actual)
  end)
end)

describe("rtnl_counters64_spec cleanup", function()
  root_it("left no network namespace behind", function()
    assert.is_nil(helpers.netns_leftover("rtnl-c64"))
  end)
end)
