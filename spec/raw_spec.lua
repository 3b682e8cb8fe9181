-- RAW sockets: this kernel has no raw_diag, so the sock_diag dump ends with
-- ENOENT inside NLMSG_DONE and "auto" must fall back to /proc/net/raw{,6}
-- per protocol, without failing the other protocols of the same call.
-- And a packet socket bound to lo: /proc gives its ifindex, but its name
-- needs rtnetlink, which source = "proc" does not open.
local helpers = require "helpers"
local ns = require "lnetstat"

local RAW_SOCKETS = [[python3 -c 'import socket, time
a = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
b = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
t = socket.socket(); t.bind(("127.0.0.1", 40100)); t.listen(1)
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); p.bind(("lo", 0))
print("ready", flush=True)
time.sleep(600)']]

describe("raw sockets", function()
  local netns, pid, handle

  setup(function()
    if not helpers.is_root() then return end
    netns, pid, handle = helpers.netns_spawn("lnetstat-raw", RAW_SOCKETS)
  end)

  teardown(function()
    helpers.netns_stop(pid, handle, netns)
  end)

  helpers.root_it("come from the kernel's answer or, without raw_diag, from /proc", function()
    local list = assert(ns.sockets { netns = netns, proto = { "raw", "tcp" } })
    local by_proto = {}
    for _, r in ipairs(list) do
      by_proto[r.proto] = (by_proto[r.proto] or 0) + 1
    end
    assert.equal(2, by_proto.raw)
    assert.equal(1, by_proto.tcp)
    assert.equal("netlink", list.sources.tcp)
    -- The kernel's own word decides the source: probe sock_diag directly.
    local core = ns.core
    local s = assert(core.open("/var/run/netns/" .. netns, { "diag" }))
    local ok, _, errno = core.sock_diag(s, {}, "raw", "inet", nil, false)
    s:close()
    assert.equal(ok and "netlink" or "proc", list.sources.raw)
    if not ok then assert.equal(2, errno) end -- ENOENT carried in NLMSG_DONE
  end)

  helpers.root_it("packet sockets from /proc keep the ifindex and say the name is unknown", function()
    local nl = assert(ns.sockets { netns = netns, proto = "packet" })
    assert.equal(1, #nl)
    assert.equal("netlink", nl.sources.packet)
    assert.equal("lo", nl[1].interface)
    assert.is_nil(nl.partial)
    local pr = assert(ns.sockets { netns = netns, proto = "packet", source = "proc" })
    assert.equal(1, #pr)
    assert.equal("proc", pr.sources.packet)
    assert.equal(nl[1].inode, pr[1].inode)
    assert.equal(nl[1].ifindex, pr[1].ifindex)
    assert.is_nil(pr[1].interface)
    assert.equal("interface unknown for 1 sockets: names need rtnetlink, which a /proc read "
      .. "does not open (ifindex is set)", pr.partial)
    local seen = 0
    local count, summary = assert(ns.each_socket({ netns = netns, proto = "packet", source = "proc" },
      function(r)
        assert.is_nil(r.interface)
        seen = seen + 1
      end))
    assert.equal(1, count)
    assert.equal(1, seen)
    assert.equal(pr.partial, summary.partial)
  end)

  helpers.root_it("match ss -wanH and the kernel's inode column", function()
    local list = assert(ns.sockets { netns = netns, proto = "raw" })
    local ss_lines = helpers.must("ip netns exec " .. netns .. " ss -wanH")
    -- ss prints no inode for raw sockets: take it from the kernel's table
    local proc = helpers.must("ip netns exec " .. netns .. " cat /proc/net/raw /proc/net/raw6")
    local seen = 0
    for _, r in ipairs(list) do
      assert.equal("UNCONN", r.state)
      assert.equal(r.family == "inet" and 1 or 58, r.protocol)
      assert.equal(r.protocol, r.local_port)
      -- ss shows an IPv6 wildcard whose v6only it does not know as "*"
      local addr = r.family == "inet6" and (r.local_addr == "::" and "*" or "[" .. r.local_addr .. "]")
        or r.local_addr
      local pattern = "UNCONN%s+0%s+0%s+" .. addr:gsub("%p", "%%%0") .. ":" .. r.protocol .. "%s"
      assert.truthy(ss_lines:find(pattern), "ss lacks " .. addr .. ":" .. r.protocol)
      assert.truthy(proc:find(" " .. r.inode .. " ", 1, true), "kernel lacks inode " .. r.inode)
      seen = seen + 1
    end
    assert.equal(2, seen)
  end)

  helpers.root_it("are not returned when sock_diag alone is asked for and cannot answer", function()
    local core = ns.core
    local s = assert(core.open("/var/run/netns/" .. netns, { "diag" }))
    local ok = core.sock_diag(s, {}, "raw", "inet", nil, false)
    s:close()
    local list, msg, errno = ns.sockets { netns = netns, proto = "raw", source = "netlink" }
    if ok then
      assert.equal(2, #list)
    else
      assert.is_nil(list)
      assert.matches("sock_diag raw", msg)
      assert.equal(2, errno)
    end
  end)
end)
