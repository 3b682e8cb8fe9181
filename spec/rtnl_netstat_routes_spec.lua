-- netstat -r's text from rtnetlink records against net-tools' netstat in a
-- private namespace, for the routes its /proc files show in their own way:
-- IPv6 routes that expire (e), routes learned from a router advertisement
-- (D, A), IPv6 multipath routes (a line per hop), and an IPv4 route whose
-- gateway is an IPv6 address (0.0.0.0 in the file, with G).
local ns = require "lnetstat"
local fmt = require "lnetstat.format"
local helpers = require "helpers"

local format = string.format
local LNETSTAT = helpers.LNETSTAT
local quote, must, root_it = helpers.quote, helpers.must, helpers.root_it

-- A router advertisement from the peer end: router lifetime 1800 s and a
-- route information option for 2001:db8:88::/48 (lifetime 4000 s), sent
-- to all nodes on the given interface.
local RA_SENDER = [[
import socket, struct, sys
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
ri = struct.pack("!BBBBI", 24, 3, 48, 0, 4000) + socket.inet_pton(socket.AF_INET6, "2001:db8:88::")
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.sendto(ra + ri, ("ff02::1", 0, 0, socket.if_nametoindex(sys.argv[1])))
]]

describe("netstat -r text from rtnetlink, against netstat", function()
  local A, B, script

  helpers.root_setup(function()
    A = helpers.netns_create("rtnl-nr-a")
    B = helpers.netns_create("rtnl-nr-b")
    for _, n in ipairs { A, B } do
      helpers.sysctl(n, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
    end
    local function ip(cmd) helpers.ip(A, cmd) end
    ip("link add rn0 type veth peer name rn1 netns " .. quote(B))
    helpers.sysctl(A, "net.ipv6.conf.rn0.accept_ra=1", "net.ipv6.conf.rn0.accept_ra_rt_info_max_plen=64")
    ip("link set rn0 up")
    helpers.ip(B, "link set rn1 up")
    ip("addr add 198.51.100.1/24 dev rn0")
    ip("addr add 2001:db8::1/64 dev rn0 nodad")
    -- a prefix route that expires with its address
    ip("addr add 2001:db8:4::1/64 dev rn0 nodad valid_lft 3000 preferred_lft 2000")
    ip("-6 route add 2001:db8:9::/48 via 2001:db8::2 expires 600")
    ip("-6 route add 2001:db8:c::/48 nexthop via 2001:db8::2 weight 2 nexthop via 2001:db8::3 dev rn0")
    ip("route add 203.0.113.9/32 via inet6 2001:db8::2 dev rn0")
    ip("route add 203.0.113.0/24 nexthop via 198.51.100.2 nexthop via 198.51.100.3")
    script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(RA_SENDER)
    f:close()
    -- the sender needs rn1's link-local address, made once the link is up
    for _ = 1, 50 do
      if helpers.ip(B, "-6 addr show dev rn1 scope link"):find("inet6") then break end
      helpers.sleep(0.1)
    end
    must(format("ip netns exec %s python3 %s rn1", quote(B), quote(script)))
    for _ = 1, 30 do
      if helpers.ip(A, "-6 route show default proto ra"):find("via") then break end
      helpers.sleep(0.1)
    end
  end, function()
    if script then os.remove(script) end
    script = nil
    helpers.netns_delete(A, B)
    A, B = nil, nil
  end)

  -- netstat's text and ours, read back to back until they agree (an
  -- expiry second ticking between the reads changes nothing shown); the
  -- Ref column, the kernel's reference count which rtnetlink does not
  -- report, masked.
  local function compare(args, render)
    return helpers.compare_netstat(A, args, render, helpers.mask_route_ref)
  end

  root_it("the advertisement gave a default route and a route of its own", function()
    local ra = helpers.ip_json(A, "-6 route show proto ra")
    local dsts = {}
    for _, r in ipairs(ra) do dsts[#dsts + 1] = r.dst end
    table.sort(dsts)
    assert.same({ "2001:db8:88::/48", "default" }, dsts)
  end)

  root_it("netstat -rn6: e, D and A letters and a line per hop", function()
    local out = compare("-rn6", function()
      local list = assert(ns.routes { netns = A, family = "inet6", table = "all" })
      return fmt.routes6_text(list, fmt.parse_args { "-rn6" })
    end)
    assert.matches("\n2001:db8:4::/64 +:: +Ue +256 ", out)
    assert.matches("\n2001:db8:9::/48 +2001:db8::2 +UGe +1024 ", out)
    assert.matches("\n::/0 +fe80:[%x:]+ +UGDAe +1024 ", out)
    assert.matches("\n2001:db8:88::/48 +fe80:[%x:]+ +UGAe +1024 ", out)
    assert.matches("\n2001:db8:c::/48 +2001:db8::2 +UG +1024 R +0 rn0\n"
      .. "2001:db8:c::/48 +2001:db8::3 +UG +1024 R +0 rn0\n", out)
  end)

  -- The command plans which fields it asks for: the letters need expires
  -- and protocol among them.
  root_it("lnetstat -rn6 and -rn print what netstat prints", function()
    for _, args in ipairs { "-rn6", "-rn" } do
      compare(args, function() return helpers.netns_run(A, LNETSTAT .. " " .. args .. " 2>&1") end)
    end
  end)

  root_it("netstat -rn: an IPv6 gateway of an IPv4 route is 0.0.0.0, with G", function()
    for _, args in ipairs { "-rn", "-rne", "-rnee" } do
      local out = compare(args, function()
        local list = assert(ns.routes { netns = A, family = "inet" })
        return fmt.routes_text(list, fmt.parse_args { args })
      end)
      assert.matches("\n203%.0%.113%.9 +0%.0%.0%.0 +255%.255%.255%.255 UGH ", out)
    end
  end)
end)

describe("rtnl_netstat_routes_spec cleanup", function()
  root_it("left no network namespace behind", function()
    assert.is_nil(helpers.netns_leftover("rtnl-nr-a", "rtnl-nr-b"))
  end)
end)
