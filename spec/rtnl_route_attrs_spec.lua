-- Route attributes ip shows that are easy to lose: realms (RTA_FLOW,
-- `ip route add ... realms FROM/TO`) on a route and on each hop of a
-- multipath route, and the TOS a route matches (rtm_tos: two routes to one
-- prefix that differ only by it), against `ip -j route` in a private
-- namespace.
local ns = require "lnetstat"
local helpers = require "helpers"

local quote, root_it = helpers.quote, helpers.root_it

describe("route realms and tos, against ip -j", function()
  local A, B

  helpers.root_setup(function()
    A = helpers.netns_create("rtnl-rta-a")
    B = helpers.netns_create("rtnl-rta-b")
    local function ip(cmd) helpers.ip(A, cmd) end
    ip("link add rr0 type veth peer name rr1 netns " .. quote(B))
    ip("link set rr0 up")
    ip("addr add 198.51.100.1/24 dev rr0")
    ip("route add 203.0.113.1/32 via 198.51.100.2 realms 5/7")
    ip("route add 203.0.113.2/32 via 198.51.100.2 realm 12")
    ip("route add 203.0.113.3/32 via 198.51.100.2")
    ip("route add 203.0.113.4/32 nexthop via 198.51.100.2 realms 3 nexthop via 198.51.100.3 realms 2/9")
    ip("route add 203.0.113.5/32 tos 0x10 via 198.51.100.2")
    ip("route add 203.0.113.5/32 via 198.51.100.3")
  end, function()
    helpers.netns_delete(A, B)
    A, B = nil, nil
  end)

  -- ip -j's "flow" object ({from=, to=} as text, from left out when 0) as
  -- numbers, or nil.
  local function ip_realms(flow)
    if flow == nil then return nil end
    return { from = tonumber(flow.from or "0"), to = tonumber(flow.to) }
  end

  root_it("gives each route and each hop the realms ip shows", function()
    local theirs = helpers.ip_json(A, "route show root 203.0.113.0/24")
    local mine = {}
    for _, r in ipairs(assert(ns.routes { netns = A, family = "inet" })) do
      if r.dst ~= "203.0.113.5/32" then mine[r.dst] = r end
    end
    local seen = 0
    for _, t in ipairs(theirs) do
      if t.dst ~= "203.0.113.5" then   -- the tos pair: the next test
        local r = assert(mine[t.dst .. "/32"], t.dst)
        assert.same(ip_realms(t.flow), r.realms)
        assert.equal(#(t.nexthops or {}), #(r.nexthops or {}))
        for i, h in ipairs(t.nexthops or {}) do
          assert.equal(h.gateway, r.nexthops[i].gateway)
          assert.same(ip_realms(h.flow), r.nexthops[i].realms)
        end
        seen = seen + 1
      end
    end
    assert.equal(4, seen)
    assert.same({ from = 5, to = 7 }, mine["203.0.113.1/32"].realms)
    assert.same({ from = 0, to = 12 }, mine["203.0.113.2/32"].realms)
    assert.is_nil(mine["203.0.113.3/32"].realms)
    assert.same({ from = 2, to = 9 }, mine["203.0.113.4/32"].nexthops[2].realms)
  end)

  root_it("tells two routes apart by the tos they match, as ip does", function()
    local theirs = helpers.ip_json(A, "route show 203.0.113.5/32")
    local mine = {}
    for _, r in ipairs(assert(ns.routes { netns = A, family = "inet" })) do
      if r.dst == "203.0.113.5/32" then mine[#mine + 1] = r end
    end
    assert.equal(2, #theirs)
    assert.equal(#theirs, #mine)
    for i, t in ipairs(theirs) do
      assert.equal(t.gateway, mine[i].gateway)
      assert.equal(t.tos and tonumber(t.tos), mine[i].tos)
    end
    assert.same({ 16, nil }, { mine[1].tos, mine[2].tos })
    local only = assert(ns.routes { netns = A, family = "inet", fields = { "tos" } })
    local n = 0
    for _, r in ipairs(only) do
      if r.tos then
        n = n + 1
        assert.equal("203.0.113.5/32", r.dst)
        assert.is_nil(r.gateway)
      end
    end
    assert.equal(1, n)
  end)

  root_it("builds realms only when fields asks for it", function()
    local r = assert(ns.routes { netns = A, family = "inet", fields = { "realms" } })
    local got = {}
    for _, x in ipairs(r) do got[x.dst] = x end
    assert.same({ from = 5, to = 7 }, got["203.0.113.1/32"].realms)
    assert.is_nil(got["203.0.113.1/32"].gateway)
    r = assert(ns.routes { netns = A, family = "inet", fields = { "gateway" } })
    for _, x in ipairs(r) do assert.is_nil(x.realms) end
  end)
end)

describe("rtnl_route_attrs_spec cleanup", function()
  root_it("left no network namespace behind", function()
    assert.is_nil(helpers.netns_leftover("rtnl-rta-a", "rtnl-rta-b"))
  end)
end)
