-- interfaces(), addresses(), neighbors(): /proc fixture parsers, argument
-- errors, and differential checks against `ip -j` in private namespaces.
local ns = require "lnetstat"
local core = require "lnetstat.core"
-- the parser and decoder hooks: a test-only module that make test builds
local hooks = require "lnetstat.testhooks"
local helpers = require "helpers"

local format = string.format
local quote, must = helpers.quote, helpers.must

local fixture = helpers.fixtures("links")
local err_of, count = helpers.err_of, helpers.count_keys

local function by(list, key)
  local t = {}
  for _, r in ipairs(list) do t[r[key]] = r end
  return t
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- ip -j in a namespace, decoded.
local ip_json = helpers.ip_json


describe("links: /proc/net/dev fixtures", function()
  local list, skipped
  setup(function() list, skipped = hooks._parse_proc_dev(fixture("proc_net_dev")) end)

  it("reads every well-formed line, names split at the colon", function()
    local names = {}
    for i, r in ipairs(list) do names[i] = r.name end
    assert.same({ "lo", "eth0", "veth-abcdefghij", "br.10-x", "eth1" }, names)
    assert.equal(3, skipped) -- too few columns, a non-number, no colon at all
  end)

  it("maps the columns by position, and the summed ones under their /proc names", function()
    local s = by(list, "name").eth0.stats
    assert.same({
      rx_bytes = 4294967296123, rx_packets = 2, rx_errors = 3, rx_drop = 4, rx_fifo_errors = 5,
      rx_frame = 6, rx_compressed = 7, multicast = 8,
      tx_bytes = 9, tx_packets = 10, tx_errors = 11, tx_dropped = 12, tx_fifo_errors = 13,
      collisions = 14, tx_carrier = 15, tx_compressed = 16,
    }, s)
    -- the unsummed fields /proc cannot give stay nil
    for _, k in ipairs { "rx_dropped", "rx_missed_errors", "rx_frame_errors", "rx_length_errors",
      "rx_over_errors", "rx_crc_errors", "tx_carrier_errors", "tx_aborted_errors",
      "tx_window_errors", "tx_heartbeat_errors", "rx_nohandler" } do
      assert.is_nil(s[k], k)
    end
  end)

  it("reads a 15-character name that fills the field and the old glued format", function()
    local t = by(list, "name")
    assert.equal(100, t["veth-abcdefghij"].stats.rx_bytes)
    assert.equal(7, t["veth-abcdefghij"].stats.rx_drop)
    assert.equal(9, t["veth-abcdefghij"].stats.rx_frame)
    assert.equal(5, t["veth-abcdefghij"].stats.tx_carrier)
    assert.equal(123456789012, t.eth1.stats.rx_bytes)
    assert.equal(21, t.eth1.stats.rx_packets)
    assert.equal(35, t.eth1.stats.tx_compressed)
    assert.equal(0, t["br.10-x"].stats.tx_bytes)
    assert.equal(185085503, t.lo.stats.tx_bytes)
  end)

  it("returns integers", function()
    if not math.type then return end -- Lua 5.1/LuaJIT have no integer subtype
    for _, r in ipairs(list) do
      for k, v in pairs(r.stats) do assert.equal("integer", math.type(v), k) end
    end
  end)

  it("copes with empty and header-only text", function()
    local l, n = hooks._parse_proc_dev("")
    assert.same({}, l)
    assert.equal(0, n)
    l, n = hooks._parse_proc_dev(fixture("proc_net_dev"):match("^(.-\n.-\n)"))
    assert.same({}, l)
    assert.equal(0, n)
  end)
end)

describe("links: /proc/net/if_inet6 fixtures", function()
  local list, skipped
  setup(function() list, skipped = hooks._parse_if_inet6(fixture("if_inet6")) end)

  it("reads addresses in network order, hex index, prefix, class and flags", function()
    assert.equal(5, #list)
    assert.equal(3, skipped) -- 31 digits, ifindex 0, prefix 129
    assert.same({
      family = "inet6", addr = "::1", prefixlen = 128, cidr = "::1/128", scope = "host",
      scope_class = 16, flags = { permanent = true }, flag_bits = 128, index = 1, interface = "lo",
    }, list[1])
    assert.same({ "fe80::ec14:baff:fe63:1a41", "link", 3, "veth0" },
      { list[2].addr, list[2].scope, list[2].index, list[2].interface })
    assert.same({ nodad = true, permanent = true }, list[3].flags)
    assert.equal("global", list[3].scope)
    local r = list[4]
    assert.same({ "2001:db8:0:1::abc", 56, 419, "veth-abcdefghij" },
      { r.addr, r.prefixlen, r.index, r.interface })
    -- IFA_F_SECONDARY is "temporary" on IPv6
    assert.same({ temporary = true, deprecated = true }, r.flags)
    assert.same({ "fec0::1", "site", 48, { tentative = true } },
      { list[5].addr, list[5].scope, list[5].prefixlen, list[5].flags })
  end)
end)

describe("links: /proc/net/arp fixtures", function()
  local list, skipped
  setup(function() list, skipped = hooks._parse_proc_arp(fixture("proc_net_arp")) end)

  it("reads entries and the state their flags can tell", function()
    assert.equal(5, #list)
    assert.equal(4, skipped) -- bad address, hex without 0x, no device, an extra column
    assert.same({ family = "inet", addr = "198.51.100.2", mac = "02:00:00:00:00:02",
      interface = "veth0", proxy = false, arp_flags = 2, hw_type = 1 }, list[1])
    -- ATF_PERM: the one state the file tells
    assert.same({ "PERMANENT", { "PERMANENT" }, "02:00:00:00:00:09" },
      { list[2].state, list[2].states, list[2].mac })
    -- not ATF_COM: the kernel prints zeros, not a known address
    assert.same({ "198.51.100.77", 0 }, { list[3].addr, list[3].arp_flags })
    assert.is_nil(list[3].mac)
    assert.is_nil(list[3].state)
    -- ATF_PUBL: a proxy entry
    assert.is_true(list[4].proxy)
    assert.equal("veth-abcdefghij", list[5].interface)
  end)

  it("never reads past the text it is given", function()
    local text = fixture("proc_net_arp")
    for cut = 0, #text do
      local l, n = hooks._parse_proc_arp(text:sub(1, cut))
      -- a cut line may lose its bad last column (one more record) or be
      -- cut short (one more malformed line)
      assert.is_true(#l <= 6 and n <= 5, format("cut %d: %d records, %d skipped", cut, #l, n))
    end
  end)
end)

-- Recorded rtnetlink messages (spec/fixtures/links/make_rtnl.py writes
-- them): what a live kernel here never sends.
describe("links: decoding recorded rtnetlink messages", function()
  local function decode(kind)
    local f = assert(io.open("spec/fixtures/links/rtnl_" .. kind .. ".bin", "rb"))
    local bytes = f:read("*a")
    f:close()
    local list, trailing = hooks._decode_rtnl(bytes, kind)
    assert.equal(0, trailing)
    return list
  end

  it("copies a STATS64 shorter than today's struct and sets only what it holds", function()
    local t = by(decode("link"), "name")
    local r = t.eth7
    assert.same({ 7, 9000, "02:00:00:00:00:07", "UP", "veth", 3, "ether" },
      { r.index, r.mtu, r.mac, r.operstate, r.kind, r.master_index, r.type })
    assert.same({ UP = true, BROADCAST = true, RUNNING = true, MULTICAST = true, LOWER_UP = true }, r.flags)
    local base = 2 ^ 33
    assert.equal(64, r.stats.bits)
    assert.equal(base + 0, r.stats.rx_packets)
    assert.equal(base + 2, r.stats.rx_bytes)
    assert.equal(base + 8, r.stats.multicast)
    assert.equal(base + 15, r.stats.rx_missed_errors)
    assert.equal(base + 22, r.stats.tx_compressed)
    assert.is_nil(r.stats.rx_nohandler) -- not sent by this (older) kernel
    assert.is_nil(r.stats.rx_otherhost_dropped)
  end)

  it("falls back to the 32-bit IFLA_STATS and ignores a truncated attribute", function()
    local r = by(decode("link"), "name").old
    assert.equal(32, r.stats.bits)
    assert.same({ 100, 101, 102, 103, 122 },
      { r.stats.rx_packets, r.stats.tx_packets, r.stats.rx_bytes, r.stats.tx_bytes, r.stats.tx_compressed })
    assert.is_nil(r.mtu) -- IFLA_MTU of 2 bytes
    assert.is_nil(r.mac)
  end)

  it("shows a tunnel's address as ip does and skips nameless links", function()
    local list = decode("link")
    assert.equal(3, #list) -- no IFLA_IFNAME, an unterminated one: skipped
    local r = by(list, "name").sit1
    assert.same({ "sit", 776, "198.51.100.7", "DOWN" }, { r.type, r.type_id, r.mac, r.operstate })
    assert.same({ UP = true, POINTOPOINT = true, NOARP = true }, r.flags)
  end)

  it("normalises IFA_LOCAL and IFA_ADDRESS and prefers IFA_FLAGS", function()
    local list = decode("addr")
    assert.equal(4, #list) -- a 2-byte IPv4 address and an unknown family: skipped
    local t = by(list, "addr")
    local a = t["198.51.100.20"]
    assert.same({ 24, "198.51.100.255", "eth7:x", "global", { permanent = true } },
      { a.prefixlen, a.broadcast, a.label, a.scope, a.flags })
    assert.is_nil(a.peer)
    assert.equal("203.0.113.6", t["203.0.113.5"].peer)
    local b = t["2001:db8::20"]
    assert.same({ temporary = true, deprecated = true }, b.flags) -- from the u8 field
    assert.same({ 200, false, 100, false }, { b.valid_lft, b.valid_forever, b.preferred_lft, b.preferred_forever })
    local c = t["fe80::20"]
    assert.same({ noprefixroute = true, permanent = true }, c.flags) -- IFA_FLAGS wins over 0
    assert.equal(0x280, c.flag_bits)
    assert.equal("link", c.scope)
  end)

  it("decodes neighbours without a link-layer address and with several states", function()
    local list = decode("neigh")
    assert.equal(3, #list) -- one without NDA_DST: skipped
    local t = by(list, "addr")
    local a = t["198.51.100.30"]
    assert.same({ "INCOMPLETE", { "INCOMPLETE" }, 3, false }, { a.state, a.states, a.probes, a.router })
    assert.is_nil(a.mac)
    local b = t["2001:db8::30"]
    assert.same({ "inet6", "NOARP", { "NOARP", "PERMANENT" }, true, "02:00:00:00:00:30" },
      { b.family, b.state, b.states, b.router, b.mac })
    assert.same({ "NONE", {} }, { t["198.51.100.31"].state, t["198.51.100.31"].states })
  end)
end)

describe("links: argument errors", function()
  it("names unknown options and suggests the near one", function()
    assert.matches(
      "bad argument #1 to 'interfaces' %(unknown option 'adresses'; did you mean 'addresses'%?%)",
      err_of(ns.interfaces, { adresses = false }))
    assert.matches("bad argument #1 to 'addresses' %(unknown option 'famly'; did you mean 'family'%?%)",
      err_of(ns.addresses, { famly = "inet" }))
    assert.matches("bad argument #1 to 'neighbors' %(unknown option 'interfce'; did you mean 'interface'%?%)",
      err_of(ns.neighbors, { interfce = "eth0" }))
    assert.matches("bad argument #1 to 'neighbors' %(unknown option 'sorce'; did you mean 'source'%?%)",
      err_of(ns.neighbors, { sorce = "proc" }))
    assert.matches("bad argument #1 to 'neighbors' %(source must be one of",
      err_of(ns.neighbors, { source = "arp" }))
  end)

  it("rejects bad enum values and types", function()
    assert.matches("source must be one of auto, netlink, proc, got 'prc'; did you mean 'proc'%?",
      err_of(ns.interfaces, { source = "prc" }))
    assert.matches("family must be one of inet, inet6, got 'inet4'", err_of(ns.addresses, { family = "inet4" }))
    assert.matches("family must be one of inet, inet6", err_of(ns.neighbors, { family = 6 }))
    assert.matches("addresses must be a boolean, got string", err_of(ns.interfaces, { addresses = "yes" }))
    assert.matches("name must be an interface name, got number", err_of(ns.interfaces, { name = 1 }))
    assert.matches("interface must be an interface name, got ''", err_of(ns.addresses, { interface = "" }))
    assert.matches("proxy must be a boolean", err_of(ns.neighbors, { proxy = 1 }))
    assert.matches("bad argument #1 to 'interfaces' %(table expected, got string%)", err_of(ns.interfaces, "lo"))
    assert.matches("netns must be a name, a path or a pid", err_of(ns.addresses, { netns = true }))
  end)

  it("points the error at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, msg = pcall(function() ns.interfaces { nmae = "lo" } end)
    assert.is_false(ok)
    assert.matches("links_spec.lua:" .. line .. ": bad argument #1 to 'interfaces'", msg)
  end)

  it("returns nil, message, errno for a missing netns, whatever the source", function()
    local missing = "lnetstat-links-missing-" .. helpers.getpid()
    local calls = {
      { ns.interfaces, {} }, { ns.interfaces, { source = "proc" } },
      { ns.addresses, {} }, { ns.addresses, { source = "proc" } }, { ns.neighbors, {} },
    }
    for _, c in ipairs(calls) do
      c[2].netns = missing
      local list, msg, errno = c[1](c[2])
      assert.is_nil(list)
      assert.matches("netns '/var/run/netns/" .. missing:gsub("%-", "%%-") .. "': not a network namespace$", msg)
      assert.equal(2, errno)
    end
  end)
end)

describe("links: dump retries and fallback (this host)", function()
  local saved = {}
  local function patch(name, fn)
    saved[name] = saved[name] or core[name]
    core[name] = fn
  end
  after_each(function()
    for k, f in pairs(saved) do core[k] = f end
    saved = {}
  end)

  it("retries an interrupted dump and says when it never settles", function()
    local real, calls = core.links, 0
    patch("links", function(...)
      calls = calls + 1
      local list = real(...)
      return list, true -- as if NLM_F_DUMP_INTR were set every time
    end)
    local list = assert(ns.interfaces { addresses = false })
    assert.equal(5, calls)
    assert.is_true(#list > 0)
    assert.matches("link dump was interrupted 5 times", list.partial)
  end)

  it("keeps the answer of a retry that settles, without a partial note", function()
    local real, calls = core.addrs, 0
    patch("addrs", function(...)
      calls = calls + 1
      local list = real(...)
      return list, calls == 1
    end)
    local list = assert(ns.addresses {})
    assert.equal(2, calls)
    assert.is_nil(list.partial)
    assert.equal("netlink", list.source)
  end)

  it("falls back to /proc when netlink is refused (source auto), not otherwise", function()
    local real = core.open
    patch("open", function(netns, handles)
      if handles[1] == "route" then return nil, "open: Operation not permitted", 1 end
      return real(netns, handles)
    end)
    local list = assert(ns.interfaces {})
    assert.equal("proc", list.source)
    assert.truthy(by(list, "name").lo)
    assert.matches("from /proc/net/dev", list.partial)
    assert.matches("rtnetlink failed %(open: Operation not permitted%): read /proc instead", list.partial)
    local addrs = assert(ns.addresses {})
    assert.equal("proc", addrs.source)
    local neigh = assert(ns.neighbors {})
    assert.equal("proc", neigh.source)
    assert.matches("from /proc/net/arp.*rtnetlink failed", neigh.partial)
    for _, f in ipairs { ns.addresses, ns.neighbors } do
      local l, m, e = f { source = "netlink" }
      assert.same({ nil, "open: Operation not permitted", 1 }, { l, m, e })
    end
    local l2, msg, errno = ns.interfaces { source = "netlink" }
    assert.is_nil(l2)
    assert.equal("open: Operation not permitted", msg)
    assert.equal(1, errno)
  end)
end)

-- The scenario: namespace A holds veth0 (peer veth1 in namespace B), a
-- bridge br0 with veth2 enslaved (its peer veth3 stays down), addresses of
-- every kind, and permanent neighbours; a few UDP datagrams cross the veth.
local TRAFFIC = [[python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5): s.sendto(b"x" * 100, ("198.51.100.2", 9))']]

describe("links in a private netns", function()
  local A, B
  helpers.root_setup(function()
    A = helpers.netns_create("lnx-a")
    B = helpers.netns_create("lnx-b")
    local ip = helpers.ip
    ip(A, "link add veth0 type veth peer name veth1")
    ip(A, "link set veth1 netns " .. quote(B))
    ip(A, "link add br0 type bridge")
    ip(A, "link add veth2 type veth peer name veth3")
    ip(A, "link set veth2 master br0")
    ip(A, "link set veth0 mtu 1400 up")
    ip(A, "link set br0 up")
    ip(A, "link set veth2 up") -- veth3 stays down: veth2 is LOWERLAYERDOWN
    ip(A, "link set dev veth0 alias 'the uplink'")
    ip(A, "link property add dev veth0 altname lnx-uplink")
    ip(B, "link set veth1 up")
    ip(A, "addr add 198.51.100.1/24 broadcast 198.51.100.255 label veth0:web dev veth0")
    ip(A, "addr add 198.51.100.3/24 dev veth0") -- secondary
    ip(A, "addr add 2001:db8::1/64 dev veth0 nodad")
    ip(A, "addr add 2001:db8:1::1/64 dev veth0 nodad noprefixroute") -- a flag beyond u8
    ip(A, "addr add 2001:db8:2::1/64 dev veth0 nodad valid_lft 3600 preferred_lft 1800")
    ip(A, "addr add 203.0.113.1 peer 203.0.113.2 dev br0")
    ip(B, "addr add 198.51.100.2/24 dev veth1")
    ip(A, "neigh add 198.51.100.9 lladdr 02:00:00:00:00:09 dev veth0 nud permanent")
    ip(A, "neigh add 198.51.100.10 lladdr 02:00:00:00:00:0a dev veth0 nud permanent router")
    ip(A, "neigh add 2001:db8::9 lladdr 02:00:00:00:00:19 dev veth0 nud permanent")
    ip(A, "neigh add proxy 198.51.100.50 dev veth0")
    must("ip netns exec " .. quote(A) .. " " .. TRAFFIC)
  end, function()
    helpers.netns_delete(A, B)
    A, B = nil, nil
  end)

  -- The counters of two ip -j -s -s -d link readings are the same.
  local function same_counters(a, b)
    if #a ~= #b then return false end
    for i, l in ipairs(a) do
      for _, dir in ipairs { "rx", "tx" } do
        for k, v in pairs(l.stats64[dir]) do
          if b[i].stats64[dir][k] ~= v then return false end
        end
      end
    end
    return true
  end

  -- ip and interfaces(), read back to back; retried until two ip readings
  -- around ours agree (IPv6 may send a late MLD report or solicitation).
  local function stable_links(opts)
    for attempt = 1, 10 do
      local before = ip_json(A, "-s -s -d link")
      local mine = assert(ns.interfaces(opts))
      local after = ip_json(A, "-s -s -d link")
      if same_counters(before, after) then return mine, before end
      helpers.sleep(0.2 * attempt)
    end
    error("interface counters never stood still")
  end

  helpers.root_it("lists the interfaces as ip -s -s -d link does, field by field", function()
    local mine, theirs = stable_links { netns = A, addresses = false }
    assert.equal("netlink", mine.source)
    assert.is_nil(mine.partial)
    assert.equal(#theirs, #mine)
    local t = by(mine, "name")
    for _, l in ipairs(theirs) do
      local r = t[l.ifname]
      assert.is_table(r, l.ifname)
      local info = l.linkinfo or {}
      assert.same(
        { l.ifindex, l.mtu, l.operstate, l.address, l.broadcast, info.info_kind,
          info.info_slave_kind, l.master, l.qdisc, l.txqlen, l.link_type, l.promiscuity,
          l.allmulti, l.min_mtu, l.max_mtu, l.linkmode, l.num_tx_queues, l.num_rx_queues,
          l.gso_max_size, l.gso_max_segs, l.link_netnsid, l.ifalias, l.perm_address },
        { r.index, r.mtu, r.operstate, r.mac, r.broadcast, r.kind,
          r.slave_kind, r.master, r.qdisc, r.txqlen, r.type, r.promiscuity,
          r.allmulti, r.min_mtu, r.max_mtu, r.linkmode, r.num_tx_queues, r.num_rx_queues,
          r.gso_max_size, r.gso_max_segs, r.link_netnsid, r.alias, r.perm_address }, l.ifname)
      assert.equal(l.group == "default" and 0 or l.group, r.group)
      -- ip names the peer when it is in this netns, else gives its index
      if l.link_netnsid then
        assert.equal(l.link_index, r.link_index)
        assert.is_nil(r.link)
      else
        assert.equal(l.link, r.link)
      end
      -- flags: ip hides RUNNING and shows NO-CARRIER for UP without it;
      -- M-DOWN is ip's note about the master, not a flag of this link
      local want, no_carrier = {}, false
      for _, f in ipairs(l.flags) do
        if f == "NO-CARRIER" then no_carrier = true elseif f ~= "M-DOWN" then want[f] = true end
      end
      local got = {}
      for f in pairs(r.flags) do if f ~= "RUNNING" then got[f] = true end end
      assert.same(want, got, l.ifname)
      assert.equal(no_carrier, (r.flags.UP and not r.flags.RUNNING) == true, l.ifname)
      assert.same(l.altnames, r.altnames)
      -- every 64-bit counter ip prints
      assert.equal(64, r.stats.bits)
      for _, dir in ipairs { "rx", "tx" } do
        for k, v in pairs(l.stats64[dir]) do
          if k == "carrier_changes" then
            assert.equal(v, r.carrier_changes)
          else
            local key = (k == "multicast" or k == "collisions") and k or (dir .. "_" .. k)
            assert.equal(v, r.stats[key], l.ifname .. " " .. key)
          end
        end
      end
    end
  end)

  helpers.root_it("shows the scenario: veth pair across namespaces, bridge port, down link", function()
    local t = by(assert(ns.interfaces { netns = A }), "name")
    assert.same({ "br0", "lo", "veth0", "veth2", "veth3" }, sorted_keys(t))
    local v0 = t.veth0
    assert.same({ 1400, "veth", "UP", "the uplink", "ether" }, { v0.mtu, v0.kind, v0.operstate, v0.alias, v0.type })
    assert.same({ "lnx-uplink" }, v0.altnames)
    assert.matches("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$", v0.mac)
    assert.is_true(v0.flags.UP and v0.flags.LOWER_UP and v0.flags.RUNNING)
    assert.is_number(v0.link_netnsid) -- its peer lives in namespace B
    assert.is_nil(v0.link)
    -- traffic crossed it: datagrams out, an ARP reply in
    assert.is_true(v0.stats.tx_packets >= 5 and v0.stats.rx_packets >= 1)
    assert.is_true(v0.stats.tx_bytes >= 5 * 128)
    assert.same({ "br0", "bridge", "veth3", "LOWERLAYERDOWN" },
      { t.veth2.master, t.veth2.slave_kind, t.veth2.link, t.veth2.operstate })
    assert.is_true(t.veth2.flags.SLAVE == nil and t.veth2.master_index == t.br0.index)
    assert.same({ "DOWN", "veth2" }, { t.veth3.operstate, t.veth3.link })
    assert.is_nil(t.veth3.flags.UP)
    assert.equal("bridge", t.br0.kind)
    assert.same({ "loopback", "00:00:00:00:00:00", true }, { t.lo.type, t.lo.mac, t.lo.flags.LOOPBACK })
    assert.is_nil(getmetatable(t.veth0))
    -- addresses are attached to their interface
    local a = by(t.veth0.addresses, "addr")
    assert.truthy(a["198.51.100.1"] and a["2001:db8::1"])
    assert.equal(0, #t.veth3.addresses)
    assert.equal("203.0.113.2", t.br0.addresses[1].peer)
  end)

  helpers.root_it("answers for one interface by name or altname, empty for none", function()
    local l = assert(ns.interfaces { netns = A, name = "veth2", addresses = false })
    assert.equal(1, #l)
    assert.same({ "veth2", "br0", "veth3" }, { l[1].name, l[1].master, l[1].link })
    assert.is_nil(l[1].addresses)
    l = assert(ns.interfaces { netns = A, name = "lnx-uplink" })
    assert.same({ "veth0" }, { l[1].name })
    assert.is_true(#l[1].addresses >= 5)
    l = assert(ns.interfaces { netns = A, name = "nosuchif0" })
    assert.equal(0, #l)
    l = assert(ns.interfaces { netns = A, name = "a-name-longer-than-ifnamsiz" })
    assert.equal(0, #l)
    l = assert(ns.interfaces { netns = A, name = "veth3", source = "proc" })
    assert.same({ "veth3" }, { l[1].name })
    assert.equal(1, #l)
  end)

  -- ip's spelling of the IFA_F_* names that differ from the kernel's.
  local IP_FLAG = { home = "homeaddress", mngtmpaddr = "managetempaddr", autojoin = "mcautojoin" }
  local IP_FLAGS = { secondary = true, temporary = true, nodad = true, optimistic = true,
    dadfailed = true, home = true, deprecated = true, tentative = true, mngtmpaddr = true,
    noprefixroute = true, autojoin = true, ["stable-privacy"] = true }

  helpers.root_it("lists the addresses as ip -j addr does", function()
    local theirs = ip_json(A, "addr")
    local mine = assert(ns.addresses { netns = A })
    assert.equal("netlink", mine.source)
    local t = {}
    for _, r in ipairs(mine) do t[r.interface .. " " .. r.addr] = r end
    local n = 0
    for _, l in ipairs(theirs) do
      for _, a in ipairs(l.addr_info) do
        n = n + 1
        local key = l.ifname .. " " .. a["local"]
        local r = t[key]
        assert.is_table(r, key)
        assert.same({ a.family, a.prefixlen, a.scope, a.broadcast, a.label, a.address, l.ifindex },
          { r.family, r.prefixlen, r.scope, r.broadcast, r.label, r.peer, r.index }, key)
        local want = {}
        for k in pairs(a) do
          if IP_FLAGS[k] then want[IP_FLAG[k] or k] = true end
        end
        if not a.dynamic then want.permanent = true end
        assert.same(want, r.flags, key)
        assert.is_true(math.abs(a.valid_life_time - r.valid_lft) <= 2, key)
        assert.is_true(math.abs(a.preferred_life_time - r.preferred_lft) <= 2, key)
        assert.equal(a.valid_life_time == 4294967295, r.valid_forever, key)
      end
    end
    assert.equal(n, #mine)
  end)

  helpers.root_it("normalises local, peer, labels, flags and lifetimes", function()
    local t = by(assert(ns.addresses { netns = A }), "addr")
    assert.same({ "inet", 24, "198.51.100.255", "veth0:web", "global", "198.51.100.1/24" },
      { t["198.51.100.1"].family, t["198.51.100.1"].prefixlen, t["198.51.100.1"].broadcast,
        t["198.51.100.1"].label, t["198.51.100.1"].scope, t["198.51.100.1"].cidr })
    assert.is_nil(t["198.51.100.1"].peer)
    assert.is_true(t["198.51.100.3"].flags.secondary)
    assert.same({ "203.0.113.2", 32, "br0" },
      { t["203.0.113.1"].peer, t["203.0.113.1"].prefixlen, t["203.0.113.1"].interface })
    assert.is_nil(t["203.0.113.2"]) -- the peer is not an address of ours
    assert.same({ nodad = true, noprefixroute = true, permanent = true }, t["2001:db8:1::1"].flags)
    local dyn = t["2001:db8:2::1"]
    assert.is_nil(dyn.flags.permanent)
    assert.is_false(dyn.valid_forever)
    assert.is_true(dyn.valid_lft > 3500 and dyn.valid_lft <= 3600)
    assert.is_true(dyn.preferred_lft > 1700 and dyn.preferred_lft <= 1800)
    assert.is_true(t["2001:db8::1"].valid_forever)
    assert.equal("host", t["127.0.0.1"].scope)
    local ll = 0
    for k, r in pairs(t) do
      if k:match("^fe80:") then
        ll = ll + 1
        assert.same({ "link", 64 }, { r.scope, r.prefixlen })
      end
    end
    assert.is_true(ll >= 1) -- veth0's (br0 has none while it has no carrier)
  end)

  helpers.root_it("filters addresses by family and interface", function()
    local v4 = assert(ns.addresses { netns = A, family = "inet" })
    for _, r in ipairs(v4) do assert.equal("inet", r.family) end
    assert.equal(4, #v4) -- 127.0.0.1, 198.51.100.1, .3, 203.0.113.1
    local br = assert(ns.addresses { netns = A, interface = "br0" })
    assert.equal(1, #br)
    assert.equal("203.0.113.1", br[1].addr)
    local v6 = assert(ns.addresses { netns = A, family = "inet6", interface = "veth0" })
    for _, r in ipairs(v6) do assert.same({ "inet6", "veth0" }, { r.family, r.interface }) end
    assert.equal(4, #v6) -- three global ones and the link-local
  end)

  helpers.root_it("lists the neighbours as ip -j neigh show nud all does", function()
    -- the kernel may learn an entry (neighbour discovery on the veth) at any
    -- moment: compare a reading of ours taken between two equal readings of ip
    local function keys(list, dev, dst)
      local out = {}
      for _, l in ipairs(list) do out[#out + 1] = l[dev] .. " " .. l[dst] end
      table.sort(out)
      return table.concat(out, ",")
    end
    local theirs, mine
    for _ = 1, 10 do
      local before = ip_json(A, "neigh show nud all")
      mine = assert(ns.neighbors { netns = A })
      theirs = ip_json(A, "neigh show nud all")
      if keys(before, "dev", "dst") == keys(theirs, "dev", "dst") then break end
      helpers.sleep(0.2)
    end
    assert.equal(keys(theirs, "dev", "dst"), keys(mine, "interface", "addr"))
    assert.equal(#theirs, #mine)
    local t = {}
    for _, r in ipairs(mine) do t[r.interface .. " " .. r.addr] = r end
    for _, l in ipairs(theirs) do
      local key = l.dev .. " " .. l.dst
      local r = t[key]
      assert.is_table(r, key)
      assert.equal(l.lladdr, r.mac, key)
      assert.equal(l.router ~= nil, r.router, key)
      -- a learned entry may age between the two readings; configured ones cannot
      if l.state[1] == "PERMANENT" or l.state[1] == "NOARP" then
        assert.same(l.state, r.states, key)
        assert.equal(l.state[1], r.state, key)
      end
    end
    local t9 = t["veth0 198.51.100.9"]
    assert.same({ "inet", "02:00:00:00:00:09", "PERMANENT", false, false },
      { t9.family, t9.mac, t9.state, t9.router, t9.proxy })
    assert.is_true(t["veth0 198.51.100.10"].router)
    assert.equal("02:00:00:00:00:19", t["veth0 2001:db8::9"].mac)
    -- learned from the traffic
    assert.truthy(t["veth0 198.51.100.2"])
    assert.matches("^%x%x:", t["veth0 198.51.100.2"].mac)
  end)

  helpers.root_it("filters neighbours and lists proxy entries", function()
    local v6 = assert(ns.neighbors { netns = A, family = "inet6" })
    assert.is_true(#v6 > 0)
    for _, r in ipairs(v6) do assert.equal("inet6", r.family) end
    local br = assert(ns.neighbors { netns = A, interface = "br0" })
    for _, r in ipairs(br) do assert.equal("br0", r.interface) end
    assert.equal(0, #assert(ns.neighbors { netns = A, interface = "veth3" }))
    local proxy = assert(ns.neighbors { netns = A, proxy = true })
    local theirs = ip_json(A, "neigh show proxy")
    assert.equal(#theirs, #proxy)
    assert.same({ "198.51.100.50", "veth0", true, "NONE" },
      { proxy[1].addr, proxy[1].interface, proxy[1].proxy, proxy[1].state })
    assert.is_nil(proxy[1].mac)
  end)

  helpers.root_it("reads the IPv4 neighbours from /proc/net/arp as from netlink", function()
    -- NUD_VALID states: the ones /proc/net/arp shows with an address
    local VALID = { PERMANENT = true, REACHABLE = true, STALE = true, DELAY = true, PROBE = true,
      NOARP = true }
    for attempt = 1, 10 do
      local nl1 = assert(ns.neighbors { netns = A, family = "inet", source = "netlink" })
      local proc = assert(ns.neighbors { netns = A, source = "proc" })
      local nl2 = assert(ns.neighbors { netns = A, family = "inet", source = "netlink" })
      local function keyed(list)
        local t = {}
        for _, r in ipairs(list) do
          if r.state ~= "NOARP" then t[r.interface .. " " .. r.addr] = r end
        end
        return t
      end
      local a, b = keyed(nl1), keyed(nl2)
      if helpers.count_keys(a) == helpers.count_keys(b) then
        assert.equal("proc", proc.source)
        assert.matches("IPv4 only", proc.partial)
        assert.equal(helpers.count_keys(a), #proc)
        for _, p in ipairs(proc) do
          local r = a[p.interface .. " " .. p.addr]
          assert.is_table(r, p.addr)
          assert.equal("inet", p.family)
          if VALID[r.state] then assert.equal(r.mac, p.mac, p.addr) else assert.is_nil(p.mac) end
          assert.equal(r.state == "PERMANENT" and "PERMANENT" or nil, p.state)
          assert.is_false(p.proxy)
        end
        local pk = keyed(proc)
        assert.same({ "PERMANENT", "02:00:00:00:00:09" },
          { pk["veth0 198.51.100.9"].state, pk["veth0 198.51.100.9"].mac })
        local proxy = assert(ns.neighbors { netns = A, proxy = true, source = "proc" })
        local nl_proxy = assert(ns.neighbors { netns = A, proxy = true, family = "inet" })
        assert.equal(#nl_proxy, #proxy)
        assert.same({ "198.51.100.50", "veth0", true }, { proxy[1].addr, proxy[1].interface, proxy[1].proxy })
        assert.equal(0, #assert(ns.neighbors { netns = A, source = "proc", family = "inet6" }))
        return
      end
      helpers.sleep(0.2 * attempt)
    end
    error("the neighbour table never stood still")
  end)

  -- Columns /proc/net/dev prints unsummed, and the sums it prints.
  local PLAIN = { "rx_bytes", "rx_packets", "rx_errors", "rx_fifo_errors", "rx_compressed",
    "multicast", "tx_bytes", "tx_packets", "tx_errors", "tx_dropped", "tx_fifo_errors",
    "collisions", "tx_compressed", "rx_drop", "rx_frame", "tx_carrier" }

  helpers.root_it("reads the same counters from /proc/net/dev as from netlink", function()
    for attempt = 1, 10 do
      local nl1 = by(assert(ns.interfaces { netns = A, source = "netlink", addresses = false }), "name")
      local proc = assert(ns.interfaces { netns = A, source = "proc" })
      local nl2 = by(assert(ns.interfaces { netns = A, source = "netlink", addresses = false }), "name")
      local still = true
      for name, r in pairs(nl1) do
        for _, k in ipairs(PLAIN) do
          if nl2[name].stats[k] ~= r.stats[k] then still = false end
        end
      end
      if still then
        assert.equal("proc", proc.source)
        assert.matches("from /proc/net/dev", proc.partial)
        assert.equal(count(nl1), #proc)
        for _, p in ipairs(proc) do
          local r = nl1[p.name]
          assert.is_table(r, p.name)
          for _, k in ipairs(PLAIN) do assert.equal(r.stats[k], p.stats[k], p.name .. " " .. k) end
          assert.is_nil(p.mtu)
          assert.is_nil(p.flags)
          -- the index comes from if_inet6, for interfaces that have IPv6
          if #p.addresses > 0 then assert.equal(r.index, p.index) end
        end
        return
      end
      helpers.sleep(0.2 * attempt)
    end
    error("interface counters never stood still")
  end)

  helpers.root_it("reads the IPv6 addresses from /proc/net/if_inet6 as from netlink", function()
    local nl = assert(ns.addresses { netns = A, family = "inet6" })
    local proc = assert(ns.addresses { netns = A, source = "proc" })
    assert.equal("proc", proc.source)
    assert.matches("IPv6 only", proc.partial)
    assert.equal(#nl, #proc)
    local t = {}
    for _, r in ipairs(nl) do t[r.interface .. " " .. r.addr] = r end
    for _, p in ipairs(proc) do
      local r = t[p.interface .. " " .. p.addr]
      assert.is_table(r, p.addr)
      assert.same({ r.family, r.prefixlen, r.scope, r.index, r.cidr },
        { p.family, p.prefixlen, p.scope, p.index, p.cidr })
      assert.equal(r.flag_bits % 256, p.flag_bits) -- /proc has the low 8 bits
    end
    local v4 = assert(ns.addresses { netns = A, source = "proc", family = "inet" })
    assert.equal(0, #v4)
    assert.matches("no IPv4", v4.partial)
  end)

end)

describe("links: cleanup", function()
  helpers.root_it("deleted the scenario's namespaces", function()
    assert.is_nil(helpers.netns_leftover("lnx-a", "lnx-b"))
  end)
end)
