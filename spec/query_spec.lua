-- lnetstat.query: pure Lua, no data source needed.
local q = require "lnetstat.query"

local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

local err_of = require("helpers").err_of

-- Records shaped like lnetstat's.
local function sock(proto, family, addr, port, extra)
  local r = { proto = proto, family = family, state = proto == "tcp" and "LISTEN" or "UNCONN",
    local_addr = addr, local_port = port, remote_addr = family == "inet6" and "::" or "0.0.0.0",
    remote_port = 0, inode = port * 10, uid = 0 }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local LIST = {
  sock("tcp", "inet", "0.0.0.0", 22, { program = "sshd" }),
  sock("tcp", "inet6", "::", 80, { v6only = false, program = "nginx" }),
  sock("tcp", "inet6", "::", 443, { v6only = true, program = "nginx" }),
  sock("tcp", "inet", "127.0.0.1", 5432, { program = "postgres" }),
  sock("udp", "inet", "0.0.0.0", 53, { program = "named" }),
  sock("udp", "inet6", "::1", 323, { program = "chronyd", v6only = true }),
}

describe("lnetstat.query", function()
  it("defines no globals and needs no C module", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded["lnetstat.query"] = nil
    local saved = package.loaded["lnetstat.core"]
    package.loaded["lnetstat.core"] = nil
    local m = require "lnetstat.query"
    assert.is_nil(package.loaded["lnetstat.core"])
    package.loaded["lnetstat.core"] = saved
    for k in pairs(_G) do assert.is_true(before[k], "new global: " .. tostring(k)) end
    assert.equal("function", type(m.where))
  end)

  describe("where()", function()
    it("matches plain values, lists, predicates and matchers", function()
      assert.equal(4, #q.where(LIST, { proto = "tcp" }))
      assert.equal(2, #q.where(LIST, { local_port = { 22, 53 } }))
      assert.equal(1, #q.where(LIST, { local_port = function(v) return v > 5000 end }))
      assert.equal(3, #q.where(LIST, { local_port = q.range(1, 100) }))
      assert.equal(2, #q.where(LIST, { program = q.match "^ng" }))
      assert.equal(0, #q.where(LIST, { proto = "sctp" }))
      assert.same({}, q.where({}, { proto = "tcp" }))
    end)

    it("follows dotted paths and nested patterns", function()
      local ifs = {
        { name = "eth0", flags = { UP = true }, stats = { rx_errors = 0 }, addresses = { { addr = "198.51.100.1" } } },
        { name = "eth1", flags = {}, stats = { rx_errors = 7 } },
      }
      assert.equal("eth0", q.where(ifs, { ["stats.rx_errors"] = 0 })[1].name)
      assert.equal("eth1", q.where(ifs, { stats = { rx_errors = q.gt(0) } })[1].name)
      assert.equal(1, #q.where(ifs, { ["flags.UP"] = true }))
      assert.equal(1, #q.where(ifs, { flags = q.contains "UP" }))
      assert.equal("198.51.100.1", q.get(ifs[1], "addresses.1.addr"))
      assert.is_nil(q.get(ifs[2], "addresses.1.addr"))
      assert.is_nil(q.get(ifs[1], "stats.nope.deeper"))
    end)

    it("passes (value, record, field) to predicates and takes record predicates in the array part", function()
      local seen
      q.where({ LIST[1] }, { local_port = function(v, r, f) seen = { v, r, f } return true end })
      assert.same({ 22, LIST[1], "local_port" }, seen)
      assert.equal(1, #q.where(LIST, { function(r) return r.local_port == 5432 end }))
      assert.equal(4, #q.where(LIST, function(r) return r.proto == "tcp" end))
    end)

    it("carries list.partial over", function()
      local l = { LIST[1], partial = "owners unknown" }
      assert.equal("owners unknown", q.where(l, { proto = "tcp" }).partial)
      assert.equal("owners unknown", q.filter(l, function() return true end).partial)
      assert.equal("owners unknown", q.sort_by(l, "local_port").partial)
    end)

    it("rejects bad arguments naming the function, at the caller's line", function()
      local msg = err_of(q.where, "x", {})
      assert.matches("bad argument #1 to 'where' %(list of records expected, got string%)", msg)
      msg = err_of(q.where, LIST, 5)
      assert.matches("bad argument #2 to 'where'", msg)
      msg = err_of(q.where, LIST, { proto = {} })
      assert.matches("empty table for field 'proto'", msg)
      local ok, m = pcall(function() local n = q.count(nil); return n end)
      assert.is_false(ok)
      assert.matches("query_spec.lua:%d+: bad argument #1 to 'count'", m)
      ok, m = pcall(function() local x = q.one_of(); return x end)
      assert.is_false(ok)
      assert.matches("query_spec.lua:%d+: bad argument #1 to 'one_of'", m)
    end)
  end)

  describe("the dual-stack rule", function()
    local dual = LIST[2]
    local v6only = LIST[3]
    it("serves_ipv4 and the ipv4 matcher count a [::] that is not v6only", function()
      assert.is_true(q.serves_ipv4(LIST[1]))
      assert.is_true(q.serves_ipv4(dual))
      assert.is_false(q.serves_ipv4(v6only))
      assert.is_true(q.serves_ipv4(sock("tcp", "inet6", "::", 1)))   -- v6only unknown: kernel default
      assert.is_true(q.serves_ipv4({ family = "inet6", local_addr = "::ffff:127.0.0.1" }))
      assert.is_false(q.serves_ipv4({ family = "unix" }))
      assert.is_true(q.serves_ipv6(dual))
      assert.is_false(q.serves_ipv6({ family = "inet6", local_addr = "::ffff:127.0.0.1" }))
      -- family = "inet" compares the field; family = q.ipv4 asks the record
      local strict = q.where(LIST, { proto = "tcp", family = "inet" })
      local served = q.where(LIST, { proto = "tcp", family = q.ipv4 })
      assert.equal(2, #strict)
      assert.equal(3, #served)
      assert.equal(80, served[2].local_port)
      assert.equal(2, #q.where(LIST, { q.serves_ipv6, proto = "tcp" }))
    end)

    it("wildcard, wildcard4 and wildcard6", function()
      assert.equal(4, #q.where(LIST, { local_addr = q.wildcard }))
      local w4 = q.where(LIST, { local_addr = q.wildcard4 })
      assert.same({ 22, 80, 53 }, { w4[1].local_port, w4[2].local_port, w4[3].local_port })
      assert.equal(2, #q.where(LIST, { local_addr = q.wildcard6 }))
      assert.is_true(q.wildcard("*"))
      assert.is_true(q.wildcard("[::]"))
      assert.is_true(q.wildcard("0:0:0:0:0:0:0:0"))
      assert.is_false(q.wildcard("0.0.0.1"))
      assert.is_false(q.wildcard4("::"))   -- no record: cannot know it serves IPv4
      assert.is_true(q.wildcard4("::", nil, nil) == false)
      assert.is_true(q.wildcard4("::", { v6only = false }))
    end)
  end)

  describe("addresses", function()
    it("cidr matches IPv4, IPv6 and IPv4-mapped addresses", function()
      local m = q.cidr "10.0.0.0/8"
      assert.is_true(m("10.1.2.3"))
      assert.is_true(m("::ffff:10.1.2.3"))
      assert.is_false(m("11.0.0.1"))
      assert.is_false(m("::1"))
      assert.is_false(m(nil))
      assert.is_false(m("garbage"))
      local m6 = q.cidr "2001:db8::/32"
      assert.is_true(m6("2001:db8:0:1::5"))
      assert.is_true(m6("2001:DB8::1"))
      assert.is_false(m6("2001:db9::1"))
      assert.is_true(q.cidr("2001:db8::/33")("2001:db8:7fff::1"))
      assert.is_false(q.cidr("2001:db8::/33")("2001:db8:8000::1"))
      assert.is_true(q.cidr("198.51.100.0/25")("198.51.100.127"))
      assert.is_false(q.cidr("198.51.100.0/25")("198.51.100.128"))
      assert.is_true(q.cidr("0.0.0.0/0")("203.0.113.9"))
      assert.is_false(q.cidr("0.0.0.0/0")("2001:db8::1"))
      assert.is_true(q.cidr("::/0")("2001:db8::1"))
      assert.is_true(q.cidr("::ffff:0:0/96")("198.51.100.1"))
      assert.is_true(q.cidr("203.0.113.5")("203.0.113.5"))
      assert.is_true(q.cidr("fe80::/10")("fe80::1%eth0"))
      assert.is_true(q.cidr("10.0.0.0/8", "2001:db8::/32")("2001:db8::7"))
      assert.is_true(q.cidr { "10.0.0.0/8", "192.0.2.0/24" }("192.0.2.1"))
      assert.equal("cidr(10.0.0.0/8)", tostring(m))
    end)

    it("parses IPv6 text forms and rejects malformed ones", function()
      assert.same({ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, (q.parse_addr("::1")))
      assert.same({ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1 }, (q.parse_addr("127.0.0.1")))
      assert.same((q.parse_addr("::ffff:127.0.0.1")), (q.parse_addr("127.0.0.1")))
      assert.equal("inet6", select(2, q.parse_addr("2001:db8::1")))
      assert.equal("inet", select(2, q.parse_addr("192.0.2.1")))
      for _, bad in ipairs { "1.2.3", "1.2.3.256", "::1::", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "",
        "1:2:3:4:5:6:7", ":::", "01234.1.1.1" } do
        assert.is_nil(q.parse_addr(bad), bad)
      end
      assert.is_true(q.same_addr("2001:db8:0:0:0:0:0:1", "2001:db8::1"))
      assert.is_true(q.same_addr("::ffff:198.51.100.1", "198.51.100.1"))
      assert.is_false(q.same_addr("198.51.100.1", "198.51.100.2"))
      assert.is_true(q.addr "127.0.0.1" ("::ffff:127.0.0.1"))
      assert.is_true(q.in_cidr("198.51.100.9", "198.51.100.0/24"))
    end)

    it("rejects malformed CIDRs naming cidr()", function()
      assert.matches("bad argument #1 to 'cidr' %(malformed CIDR '10.0.0.0/33'", err_of(q.cidr, "10.0.0.0/33"))
      assert.matches("bad argument #2 to 'cidr'", err_of(q.cidr, "10.0.0.0/8", "nope"))
      assert.matches("bad argument #1 to 'cidr'", err_of(q.cidr, "2001:db8::/129"))
      assert.matches("bad argument #1 to 'cidr'", err_of(q.cidr))
      assert.matches("bad argument #1 to 'cidr'", err_of(q.cidr, 42))
      -- prefixes are plain decimal, as the data functions read them
      assert.matches("bad argument #1 to 'cidr' %(malformed CIDR '10.0.0.0/08'", err_of(q.cidr, "10.0.0.0/08"))
      assert.matches("bad argument #1 to 'cidr'", err_of(q.cidr, "10.0.0.0/+8"))
      assert.matches("bad argument #2 to 'in_cidr'", err_of(q.in_cidr, "10.0.0.1", "10.0.0.0/008"))
      assert.is_true(q.in_cidr("10.0.0.1", "0.0.0.0/0"))
    end)

    it("loopback covers 127/8, ::1 and ::ffff:127/104", function()
      for _, a in ipairs { "127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.53" } do
        assert.is_true(q.loopback(a), a)
      end
      for _, a in ipairs { "128.0.0.1", "::2", "::ffff:10.0.0.1", "0.0.0.0", "::" } do
        assert.is_false(q.loopback(a), a)
      end
      assert.equal(2, #q.where(LIST, { local_addr = q.loopback }))
      assert.equal(4, #q.where(LIST, { local_addr = q.not_(q.loopback) }))
    end)
  end)

  describe("matchers", function()
    it("compare, combine and describe themselves", function()
      assert.is_true(q.eq(5)(5)); assert.is_false(q.eq(5)(6))
      assert.is_true(q.ne(5)(6))
      assert.is_true(q.gt(5)(6)); assert.is_false(q.gt(5)(5)); assert.is_false(q.gt(5)("6"))
      assert.is_true(q.ge(5)(5)); assert.is_true(q.lt(5)(4)); assert.is_true(q.le(5)(5))
      assert.is_true(q.range(1, 1023)(1023)); assert.is_false(q.range(1, 1023)(1024))
      assert.is_true(q.one_of(80, 443)(443)); assert.is_true(q.one_of { 80, 443 }(80))
      assert.is_false(q.one_of(80, 443)(8080))
      assert.is_true(q.any_of(q.range(1, 10), 99)(99))
      assert.is_true(q.all_of(q.gt(1), q.lt(10))(5)); assert.is_false(q.all_of(q.gt(1), q.lt(10))(10))
      assert.is_true(q.contains "gin" ("nginx")); assert.is_true(q.contains(3)({ 1, 3 }))
      assert.is_false(q.contains "x" (nil))
      assert.is_true(q.starts_with "ng" ("nginx")); assert.is_false(q.starts_with "ng" (5))
      assert.is_true(q.ends_with "/sshd" ("812/sshd")); assert.is_true(q.ends_with "" ("x"))
      assert.is_true(q.match "^%d+$" (22)); assert.is_false(q.match "^a" (nil))
      assert.is_true(q.absent(nil)); assert.is_true(q.present(0)); assert.is_true(q.any(nil))
      assert.is_true(q.not_ { 1, 2 } (3)); assert.is_false(q.not_ { 1, 2 } (2))
      assert.equal("range(1, 1023)", tostring(q.range(1, 1023)))
      assert.equal("not loopback", tostring(q.not_(q.loopback)))
      assert.equal('one_of(80, 443)', q.one_of(80, 443).desc)
      assert.equal('match("^nginx")', tostring(q.match "^nginx"))
      assert.is_true(q.is_matcher(q.wildcard)); assert.is_false(q.is_matcher({}))
      local even = q.matcher("even", function(v) return v % 2 == 0 end)
      assert.equal(1, #q.where({ { n = 2 }, { n = 3 } }, { n = even }))
    end)

    it("are read-only and validate their arguments", function()
      assert.has_error(function() q.wildcard.test = function() return true end end)
      assert.has_error(function() q.loopback.anything = 1 end)
      assert.matches("bad argument #2 to 'range'", err_of(q.range, 1, "x"))
      assert.matches("bad argument #2 to 'range' %(empty range 5..1%)", err_of(q.range, 5, 1))
      assert.matches("bad argument #1 to 'match' %(malformed pattern", err_of(q.match, "[a"))
      assert.matches("bad argument #1 to 'not_'", err_of(q.not_, nil))
      assert.matches("bad argument #1 to 'gt'", err_of(q.gt, {}))
      assert.matches("bad argument #1 to 'starts_with'", err_of(q.starts_with, 1))
    end)
  end)

  describe("count, count_by, group_by, sort_by, pluck, distinct, find", function()
    it("work on any list", function()
      assert.equal(6, q.count(LIST))
      assert.equal(2, q.count(LIST, { proto = "udp" }))
      local by, nils = q.count_by(LIST, "proto")
      assert.same({ tcp = 4, udp = 2 }, by)
      assert.equal(0, nils)
      local _, n = q.count_by(LIST, "v6only")
      assert.equal(3, n)
      local g = q.group_by(LIST, "program")
      assert.equal(2, #g.nginx)
      assert.equal(80, g.nginx[1].local_port)
      local fam = q.group_by(LIST, function(r) return r.family end)
      assert.equal(3, #fam.inet6)
      assert.same({ 22, 80, 443, 5432, 53, 323 }, (q.pluck(LIST, "local_port")))
      assert.same({ "tcp", "udp" }, q.distinct(LIST, "proto"))
      assert.equal(5432, q.find(LIST, { program = "postgres" }).local_port)
      assert.is_nil(q.find(LIST, { program = "nope" }))
    end)

    it("sort_by is stable, takes several fields, puts nil last and can go down", function()
      local s = q.sort_by(LIST, "local_port")
      assert.same({ 22, 53, 80, 323, 443, 5432 }, (q.pluck(s, "local_port")))
      s = q.sort_by(LIST, { "proto", "local_port" }, true)
      assert.same({ 323, 53, 5432, 443, 80, 22 }, (q.pluck(s, "local_port")))
      s = q.sort_by(LIST, "v6only")
      assert.same({ false, true, true }, { s[1].v6only, s[2].v6only, s[3].v6only })
      assert.is_nil(s[6].v6only)
      -- stable: equal keys keep their order
      s = q.sort_by(LIST, "proto")
      assert.same({ 22, 80, 443, 5432, 53, 323 }, (q.pluck(s, "local_port")))
      assert.is_not.equal(LIST, s)
      assert.matches("bad argument #3 to 'sort_by'", err_of(q.sort_by, LIST, "x", "down"))
    end)
  end)

  describe("diff()", function()
    it("finds added, removed and changed sockets by their default key", function()
      local before = { LIST[1], LIST[2], LIST[4] }
      local moved = {}
      for k, v in pairs(LIST[4]) do moved[k] = v end
      moved.recv_q, moved.program = 3, "postgres: main"
      local after = { LIST[1], moved, LIST[5] }
      local d = q.diff(before, after)
      assert.equal(1, #d.added)
      assert.equal(53, d.added[1].local_port)
      assert.equal(1, #d.removed)
      assert.equal(80, d.removed[1].local_port)
      assert.equal(1, #d.changed)
      assert.same({ "program", "recv_q" }, d.changed[1].fields)
      assert.equal("tcp 127.0.0.1:5432 0.0.0.0:0", d.changed[1].key)
      local d2 = q.diff(before, after, { ignore = { "program", "recv_q" } })
      assert.equal(0, #d2.changed)
    end)

    it("keys routes, interfaces, addresses and neighbors by kind", function()
      assert.equal("254 0.0.0.0/0 100", (q.key_of { dst = "0.0.0.0/0", table = 254, metric = 100 }))
      assert.equal("eth0", (q.key_of { name = "eth0", index = 2, mtu = 1500 }))
      assert.equal("eth0 198.51.100.1/24", (q.key_of { interface = "eth0", addr = "198.51.100.1", prefixlen = 24 }))
      assert.equal("eth0 198.51.100.254", (q.key_of { interface = "eth0", addr = "198.51.100.254", mac = "aa" }))
      local a = { { name = "eth0", index = 2, mtu = 1500, stats = { rx_bytes = 1, tx_bytes = 1 } } }
      local b = { { name = "eth0", index = 2, mtu = 9000, stats = { rx_bytes = 5, tx_bytes = 1 } },
        { name = "eth1", index = 3, mtu = 1500 } }
      local d = q.diff(a, b)
      assert.equal("eth1", d.added[1].name)
      assert.same({ "mtu", "stats.rx_bytes" }, d.changed[1].fields)
      assert.same({ "mtu" }, q.diff(a, b, { ignore = { "stats" } }).changed[1].fields)
      local r1 = { { table = 254, dst = "0.0.0.0/0", metric = 0, gateway = "198.51.100.254" } }
      local r2 = { { table = 254, dst = "0.0.0.0/0", metric = 0, gateway = "198.51.100.253" } }
      assert.same({ "gateway" }, q.diff(r1, r2).changed[1].fields)
    end)

    it("takes a field, a list of fields or a function as the key; duplicates stay apart", function()
      local a = { { n = 1, v = "a" }, { n = 1, v = "b" } }
      local b = { { n = 1, v = "a" } }
      local d = q.diff(a, b, "n")
      assert.equal(1, #d.removed)
      assert.equal("b", d.removed[1].v)
      assert.equal(0, #q.diff(a, a, { "n", "v" }).changed)
      assert.equal(2, #q.diff({}, a, function(r) return r.v end).added)
      assert.matches("cannot tell the kind", err_of(q.diff, { { x = 1 } }, {}))
      assert.matches("bad argument #3 to 'diff'", err_of(q.diff, {}, {}, { nope = 1 }))
    end)
  end)

  describe("delta() and rate()", function()
    local prev = { Tcp = { InSegs = 100, OutSegs = 50, CurrEstab = 3 }, TcpExt = { ListenOverflows = 7 },
      sockstat = { TCP = { inuse = 4 } }, note = "x" }
    local cur = { Tcp = { InSegs = 160, OutSegs = 50, CurrEstab = 2, RtoMin = 200 },
      TcpExt = { ListenOverflows = 2 }, sockstat = { TCP = { inuse = 6 } }, note = "y" }
    it("rates nested counter groups per second", function()
      local r, resets = q.rate(prev, cur, 2)
      assert.equal(30, r.Tcp.InSegs)
      assert.equal(0, r.Tcp.OutSegs)
      assert.equal(1, r.sockstat.TCP.inuse)
      assert.is_nil(r.Tcp.RtoMin)          -- not in the first snapshot
      assert.is_nil(r.note)
      -- a counter that went down was reset: rate from the current value, flagged
      assert.equal(1, r.TcpExt.ListenOverflows)
      -- a gauge that went down fell: a signed change, no reset
      assert.equal(-0.5, r.Tcp.CurrEstab)
      assert.same({ "TcpExt.ListenOverflows" }, resets)
    end)
    it("deltas like rates over one second", function()
      local d, resets = q.delta(prev, cur)
      assert.equal(60, d.Tcp.InSegs)
      assert.equal(2, d.TcpExt.ListenOverflows)
      assert.equal(-1, d.Tcp.CurrEstab)
      assert.same({ "TcpExt.ListenOverflows" }, resets)
    end)
    it("count a u64 counter across 2^63 (a negative integer) as an increase, and its fall as a reset", function()
      if not math.ult then return end   -- integers: Lua 5.3 and later
      local top, wrapped = math.maxinteger - 9, math.mininteger + 5   -- 2^63 - 10, 2^63 + 5
      local d, resets = q.delta({ IpExt = { InOctets = top } }, { IpExt = { InOctets = wrapped } })
      assert.equal(15, d.IpExt.InOctets)
      assert.same({}, resets)
      d, resets = q.delta({ IpExt = { InOctets = wrapped } }, { IpExt = { InOctets = 3 } })
      assert.equal(3, d.IpExt.InOctets)
      assert.same({ "IpExt.InOctets" }, resets)
    end)
    it("take every sockstat value and the Tcp and Ip settings as gauges", function()
      local a = { sockstat = { sockets_used = 90, TCP = { inuse = 9, tw = 40, mem = 12, mem_bytes = 49152 } },
        Tcp = { MaxConn = -1, RtoMin = 200 }, Ip = { Forwarding = 1, DefaultTTL = 64, InReceives = 5 } }
      local b = { sockstat = { sockets_used = 70, TCP = { inuse = 3, tw = 2, mem = 4, mem_bytes = 16384 } },
        Tcp = { MaxConn = -1, RtoMin = 100 }, Ip = { Forwarding = 2, DefaultTTL = 60, InReceives = 1 } }
      local d, resets = q.delta(a, b)
      assert.same({ sockets_used = -20, TCP = { inuse = -6, tw = -38, mem = -8, mem_bytes = -32768 } }, d.sockstat)
      assert.same({ MaxConn = 0, RtoMin = -100 }, d.Tcp)
      assert.same({ Forwarding = 1, DefaultTTL = -4, InReceives = 1 }, d.Ip)
      assert.same({ "Ip.InReceives" }, resets)
    end)
    it("validate their arguments", function()
      assert.matches("bad argument #3 to 'rate'", err_of(q.rate, prev, cur, 0))
      assert.matches("bad argument #3 to 'rate'", err_of(q.rate, prev, cur, 0 / 0))
      assert.matches("bad argument #1 to 'rate'", err_of(q.rate, nil, cur, 1))
      assert.matches("bad argument #2 to 'delta'", err_of(q.delta, prev, 1))
    end)
  end)

  it("describes expectations for reports", function()
    assert.equal("{80, 443}", q.describe { 80, 443 })
    assert.equal("{a=1 b=x}", q.describe { a = 1, b = "x" })
    assert.equal('"two words"', q.describe "two words")
    assert.equal("22", q.describe(22))
    assert.equal("wildcard", q.describe(q.wildcard))
    local _ = unpack
  end)

  it("describes a table inside itself and deep nesting in a few steps", function()
    local t = {}
    t[1] = t
    assert.equal("{<cycle>}", q.describe(t))
    local r = { name = "r" }
    r.self = r
    assert.equal("{name=r self=<cycle>}", q.describe(r))
    -- a table seen twice, not inside itself, is shown twice
    local shared = { 1 }
    assert.equal("{{1}, {1}}", q.describe { shared, shared })
    local deep = {}
    local c = deep
    for _ = 1, 1000 do c[1] = {} c = c[1] end
    assert.equal(string.rep("{", 8) .. "{...}" .. string.rep("}", 8), q.describe(deep))
  end)
end)
