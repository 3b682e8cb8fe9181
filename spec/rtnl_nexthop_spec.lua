-- Routes through nexthop objects (`ip nexthop`, `ip route add ... nhid N`)
-- with net.ipv4.nexthop_compat_mode = 0, as routing daemons that use them
-- set it: the kernel then dumps such a route with its nexthop id only.
-- routes() must still give the gateway, the interface and the hops, as the
-- kernel itself expands them in compatibility mode (the oracle: `ip -j
-- route` with the mode on), and netstat -r's text must match netstat's.
local ns = require "lnetstat"
local fmt = require "lnetstat.format"
local helpers = require "helpers"

local quote, root_it = helpers.quote, helpers.root_it

describe("routes through nexthop objects, compatibility mode off", function()
  local A, B

  local function compat(on)
    helpers.sysctl(A, "net.ipv4.nexthop_compat_mode=" .. (on and 1 or 0))
  end

  local function ip_json(args) return helpers.ip_json(A, args) end

  helpers.root_setup(function()
    A = helpers.netns_create("rtnl-nh-a")
    B = helpers.netns_create("rtnl-nh-b")
    local function ip(cmd) helpers.ip(A, cmd) end
    ip("link add rh0 type veth peer name rh1 netns " .. quote(B))
    ip("link set rh0 up")
    helpers.ip(B, "link set rh1 up")   -- carrier: nexthops need it
    ip("addr add 198.51.100.1/24 dev rh0")
    ip("addr add 2001:db8::1/64 dev rh0 nodad")
    ip("nexthop add id 1 via 198.51.100.2 dev rh0")
    ip("nexthop add id 2 via 198.51.100.3 dev rh0")
    ip("nexthop add id 3 blackhole")
    ip("nexthop add id 4 via 2001:db8::5 dev rh0")
    ip("nexthop add id 5 via 2001:db8::6 dev rh0")
    ip("nexthop add id 10 group 1,3/2")
    ip("nexthop add id 11 group 4/5,7")
    ip("route add 203.0.113.1/32 nhid 1")
    ip("route add 203.0.113.2/32 nhid 10")
    ip("route add 203.0.113.3/32 nhid 3")
    ip("route add 203.0.113.4/32 nhid 4")   -- an IPv4 route via an IPv6 nexthop
    ip("-6 route add 2001:db8:60::/48 nhid 4")
    ip("-6 route add 2001:db8:61::/48 nhid 11")
  end, function()
    helpers.netns_delete(A, B)
    A, B = nil, nil
  end)

  -- What decides where a route goes, from ip -j route (gateway or via,
  -- dev, hops with weights) or from a record.
  local function ip_where(r)
    local hops = {}
    for i, h in ipairs(r.nexthops or {}) do
      hops[i] = { gateway = h.gateway or (h.via and h.via.host), dev = h.dev, weight = h.weight }
    end
    return { gateway = r.gateway or (r.via and r.via.host), dev = r.dev, hops = hops }
  end

  local function my_where(r)
    local hops = {}
    for i, h in ipairs(r.nexthops or {}) do
      hops[i] = { gateway = h.gateway, dev = h.interface, weight = h.weight }
    end
    return { gateway = r.gateway, dev = r.interface, hops = hops }
  end

  local function full(dst, fam)
    if dst:find("/", 1, true) then return dst end
    return dst .. (fam == "inet" and "/32" or "/128")
  end

  -- dst -> where, of the nexthop routes ip lists
  local function ip_routes()
    local out = {}
    for fam, flag in pairs { inet = "-4", inet6 = "-6" } do
      for _, r in ipairs(ip_json(flag .. " route show table main")) do
        if r.nhid then out[full(r.dst, fam)] = ip_where(r) end
      end
    end
    return out
  end

  local function my_routes(list)
    local out = {}
    for _, r in ipairs(list) do
      if r.nhid then out[r.dst] = my_where(r) end
    end
    return out
  end

  root_it("with the mode off, ip shows the nexthop id only", function()
    compat(false)
    local r = ip_json("route show 203.0.113.1/32")[1]
    assert.equal(1, r.nhid)
    assert.is_nil(r.gateway)
    assert.is_nil(r.dev)
  end)

  root_it("routes() gives what the kernel's compatibility mode gives", function()
    compat(true)
    local expected = ip_routes()
    local with_compat = my_routes(assert(ns.routes { netns = A }))
    compat(false)
    local without = my_routes(assert(ns.routes { netns = A }))
    assert.equal(6, helpers.count_keys(expected))
    assert.same(expected, with_compat)
    assert.same(expected, without)
    assert.same({ gateway = "198.51.100.2", dev = "rh0", hops = {} }, without["203.0.113.1/32"])
    assert.same({ { gateway = "198.51.100.2", dev = "rh0", weight = 3 },
      { gateway = "198.51.100.3", dev = "rh0", weight = 1 } }, without["203.0.113.2/32"].hops)
    assert.same({ gateway = "2001:db8::5", dev = "rh0", hops = {} }, without["203.0.113.4/32"])
  end)

  root_it("streams the same with each_route, and with only some fields", function()
    compat(false)
    local list = assert(ns.routes { netns = A })
    local streamed = {}
    assert(ns.each_route({ netns = A }, function(r) streamed[#streamed + 1] = r end))
    assert.same(my_routes(list), my_routes(streamed))
    local light = assert(ns.routes { netns = A, family = "inet", fields = { "nhid", "gateway", "flags" } })
    local by = {}
    for _, r in ipairs(light) do by[r.dst] = r end
    assert.equal("198.51.100.2", by["203.0.113.1/32"].gateway)
    assert.is_nil(by["203.0.113.1/32"].interface)
    assert.equal("UGH", by["203.0.113.1/32"].flags)
    assert.equal("UGH", by["203.0.113.2/32"].flags)   -- G from the group's first hop
  end)

  root_it("netstat -rn's text matches netstat (which reads /proc)", function()
    compat(false)
    local actual = helpers.compare_netstat(A, "-rn", function()
      return fmt.routes_text(assert(ns.routes { netns = A, family = "inet" }), fmt.parse_args { "-rn" })
    end)
    assert.matches("\n203%.0%.113%.1 +198%.51%.100%.2 +255%.255%.255%.255 UGH .- rh0\n", actual)
  end)
end)

describe("rtnl_nexthop_spec cleanup", function()
  root_it("left no network namespace behind", function()
    assert.is_nil(helpers.netns_leftover("rtnl-nh-a", "rtnl-nh-b"))
  end)
end)
