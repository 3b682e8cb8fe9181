-- Alternative interface names (ip link property add altname) wherever an
-- option names an interface: interfaces { name }, addresses { interface },
-- neighbors { interface } and route_get { oif }, checked against what
-- `ip -j` answers for the same name in a private namespace. An alternative
-- name may be up to 127 bytes, longer than an interface name (15).
local ns = require "lnetstat"
local helpers = require "helpers"

local format = string.format
local quote, root_it = helpers.quote, helpers.root_it

-- 16 and 127 bytes: past IFNAMSIZ, and the longest the kernel takes
local LONG = "rtnl-alt-longer-than-ifnamsiz"
local LONGEST = ("é"):rep(63) .. "x"
local SHORT = "rtnl-short"

describe("interfaces named by an alternative name, against ip -j", function()
  local A, B

  local function ip_json(args) return helpers.ip_json(A, args) end

  helpers.root_setup(function()
    A = helpers.netns_create("rtnl-alt-a")
    B = helpers.netns_create("rtnl-alt-b")
    local function ip(cmd) helpers.ip(A, cmd) end
    ip("link set lo up")
    ip("link add ra0 type veth peer name ra1 netns " .. quote(B))
    ip("link add rb0 type veth peer name rb1")
    ip(format("link property add dev ra0 altname %s altname %s altname %s",
      quote(SHORT), quote(LONG), quote(LONGEST)))
    ip("link set ra0 up")
    ip("link set rb0 up")
    helpers.ip(B, "link set ra1 up")
    ip("addr add 198.51.100.1/24 dev ra0")
    ip("addr add 2001:db8::1/64 dev ra0 nodad")
    ip("addr add 203.0.113.1/24 dev rb0")
    ip("neigh add 198.51.100.7 lladdr 02:00:00:00:00:07 dev ra0 nud permanent")
    ip("neigh add 2001:db8::7 lladdr 02:00:00:00:00:17 dev ra0 nud permanent")
    ip("neigh add 203.0.113.7 lladdr 02:00:00:00:00:27 dev rb0 nud permanent")
  end, function()
    helpers.netns_delete(A, B)
    A, B = nil, nil
  end)

  root_it("ip knows the interface by each of its alternative names", function()
    for _, name in ipairs { SHORT, LONG, LONGEST } do
      local l = ip_json("link show dev " .. quote(name))
      assert.equal(1, #l)
      assert.equal("ra0", l[1].ifname)
    end
    assert.equal(127, #LONGEST)
  end)

  root_it("interfaces { name = altname } answers as ip link show dev does", function()
    for _, name in ipairs { "ra0", SHORT, LONG, LONGEST } do
      local mine = assert(ns.interfaces { netns = A, name = name })
      local theirs = ip_json("link show dev " .. quote(name))
      assert.equal(1, #mine, name)
      assert.equal(theirs[1].ifname, mine[1].name)
      assert.equal(theirs[1].ifindex, mine[1].index)
      table.sort(mine[1].altnames)
      local alt = theirs[1].altnames
      table.sort(alt)
      assert.same(alt, mine[1].altnames)
      local cidrs = {}
      for _, a in ipairs(mine[1].addresses) do cidrs[#cidrs + 1] = a.cidr end
      table.sort(cidrs)
      assert.same({ "198.51.100.1/24", "2001:db8::1/64" },
        { cidrs[1], cidrs[2] })
    end
    -- no such name, of either length: an empty list, as before
    assert.same(0, #assert(ns.interfaces { netns = A, name = "rtnl-nosuch-name-long" }))
    assert.same(0, #assert(ns.interfaces { netns = A, name = ("x"):rep(200) }))
  end)

  -- "addr/prefix" of ip -j addr's addr_info, sorted.
  local function ip_addrs(name)
    local out = {}
    for _, l in ipairs(ip_json("addr show dev " .. quote(name))) do
      for _, a in ipairs(l.addr_info) do
        out[#out + 1] = format("%s %s/%d", l.ifname, a["local"], a.prefixlen)
      end
    end
    table.sort(out)
    return out
  end

  local function my_addrs(list)
    local out = {}
    for _, a in ipairs(list) do out[#out + 1] = format("%s %s", a.interface, a.cidr) end
    table.sort(out)
    return out
  end

  root_it("addresses { interface = altname } lists what ip addr show dev lists", function()
    local expected = ip_addrs("ra0")
    assert.is_true(#expected >= 3)   -- two of ours and the link-local one
    for _, name in ipairs { "ra0", SHORT, LONG, LONGEST } do
      assert.same(ip_addrs(name), my_addrs(assert(ns.addresses { netns = A, interface = name })))
    end
    local v4 = assert(ns.addresses { netns = A, interface = LONG, family = "inet" })
    assert.same({ "ra0 198.51.100.1/24" }, my_addrs(v4))
    assert.same({}, my_addrs(assert(ns.addresses { netns = A, interface = "rtnl-nosuch-name-long" })))
  end)

  local function ip_neigh(name)
    local out = {}
    for _, n in ipairs(ip_json("neigh show nud permanent dev " .. quote(name))) do
      out[#out + 1] = n.dst
    end
    table.sort(out)
    return out
  end

  local function my_neigh(list)
    local out = {}
    for _, n in ipairs(list) do
      if n.state == "PERMANENT" then out[#out + 1] = n.addr end
      assert.equal("ra0", n.interface)
    end
    table.sort(out)
    return out
  end

  root_it("neighbors { interface = altname } lists what ip neigh show dev lists", function()
    local expected = ip_neigh("ra0")
    assert.same({ "198.51.100.7", "2001:db8::7" }, expected)
    for _, name in ipairs { "ra0", SHORT, LONG, LONGEST } do
      assert.same(ip_neigh(name), my_neigh(assert(ns.neighbors { netns = A, interface = name })))
    end
    assert.same({}, my_neigh(assert(ns.neighbors { netns = A, interface = "rtnl-nosuch-name-long" })))
  end)

  root_it("route_get { oif = altname } answers as ip route get oif does", function()
    for _, name in ipairs { SHORT, LONG, LONGEST } do
      local theirs = ip_json("route get 203.0.113.9 oif " .. quote(name))[1]
      local mine = assert(ns.route_get("203.0.113.9", { netns = A, oif = name }))
      assert.equal("ra0", theirs.dev)
      assert.equal(theirs.dev, mine.interface)
      assert.equal(theirs.prefsrc, mine.prefsrc)
    end
    local r, msg, errno = ns.route_get("203.0.113.9", { netns = A, oif = "rtnl-nosuch-name-long" })
    assert.is_nil(r)
    assert.matches("rtnl%-nosuch%-name%-long", msg)
    assert.equal(19, errno)   -- ENODEV
  end)

  root_it("/proc knows no alternative names: only the name finds the interface", function()
    local l = assert(ns.addresses { netns = A, interface = "ra0", source = "proc" })
    assert.is_true(#l >= 2)
    assert.same(0, #assert(ns.addresses { netns = A, interface = LONG, source = "proc" }))
    l = assert(ns.neighbors { netns = A, interface = "ra0", source = "proc" })
    assert.same({ "198.51.100.7" }, my_neigh(l))
  end)
end)

describe("rtnl_altname_spec cleanup", function()
  root_it("left no network namespace behind", function()
    assert.is_nil(helpers.netns_leftover("rtnl-alt-a", "rtnl-alt-b"))
  end)
end)
