-- The parsers and decoders over hostile input: the fuzz targets' seed
-- corpora (fuzz/corpus, captured from a private netns) decode through the
-- same lnetstat.testhooks functions the targets call, inputs the fuzzers
-- made crash are kept as fixtures (spec/fixtures/fuzz) and must now decode,
-- and the length and overflow checks hold at their limits.
local hooks = require "lnetstat.testhooks"
local helpers = require "helpers"

local format = string.format

-- Little-endian u32 and u16 (no string.pack on Lua 5.1).
local function u32(n)
  local b = {}
  for i = 1, 4 do
    b[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(b)
end
local function u16(n)
  return string.char(n % 256, math.floor(n / 256) % 256)
end

-- A nlmsghdr: len, type, flags, seq, pid.
local function nlmsghdr(len, mtype)
  return u32(len) .. u16(mtype) .. u16(0) .. u32(1) .. u32(0)
end

-- What each fuzz target calls for the variant its input's first byte picks
-- (fuzz/harness.c has the same tables).
local TARGETS = {
  proc_sockets = {
    { "_parse_proc", "tcp", "inet" }, { "_parse_proc", "tcp", "inet6" },
    { "_parse_proc", "udp", "inet" }, { "_parse_proc", "udp", "inet6" },
    { "_parse_proc", "udplite", "inet" }, { "_parse_proc", "raw", "inet" },
    { "_parse_proc", "raw", "inet6" }, { "_parse_proc", "unix" },
    { "_parse_proc", "packet" }, { "_parse_proc", "netlink" },
  },
  proc_stats = { { "_parse_snmp" }, { "_parse_snmp6" }, { "_parse_sockstat" } },
  proc_net = {
    { "_parse_proc_dev" }, { "_parse_if_inet6" }, { "_parse_proc_routes", "inet" },
    { "_parse_proc_routes", "inet6" }, { "_parse_igmp" }, { "_parse_igmp6" },
    { "_parse_proc_arp" },
  },
  diag_inet = {
    { "_decode_diag", "tcp" }, { "_decode_diag", "tcp", true }, { "_decode_diag", "udp" },
    { "_decode_diag", "udplite" }, { "_decode_diag", "raw" }, { "_decode_diag", "raw", true },
  },
  diag_local = { { "_decode_diag", "unix" }, { "_decode_diag", "packet" }, { "_decode_diag", "netlink" } },
  rtnl_link = { { "_decode_rtnl", "link" } },
  rtnl_route = {
    { "_decode_rtnl", "route" }, { "_decode_rtnl", "route6" },
    { "_decode_rtnl", "route", true }, { "_decode_rtnl", "route6", true },
  },
  rtnl_addr_neigh = { { "_decode_rtnl", "addr" }, { "_decode_rtnl", "neigh" } },
}

local function feed(target, input)
  local variants = TARGETS[target]
  local v = variants[input:byte(1) % #variants + 1]
  local f = hooks[v[1]]
  return v, f(input:sub(2), v[2], v[3])
end

local function files(dir)
  local out = {}
  for path in helpers.must("find " .. dir .. " -type f | sort"):gmatch("[^\n]+") do
    out[#out + 1] = path
  end
  return out
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

describe("fuzz seed corpora", function()
  it("every target has seeds, and each seed decodes to records", function()
    local seen = {}
    for _, path in ipairs(files("fuzz/corpus")) do
      local target = path:match("^fuzz/corpus/([^/]+)/")
      assert.is_not_nil(TARGETS[target], path)
      seen[target] = true
      local v, list, rest = feed(target, slurp(path))
      assert.is_table(list, path)
      assert.is_true(#list > 0 or next(list) ~= nil, path .. ": no record")
      if v[1]:match("^_decode_") then
        assert.equal(0, rest, path .. ": trailing bytes") -- whole messages only
      end
    end
    for target in pairs(TARGETS) do
      assert.is_true(seen[target], "no seed for " .. target)
    end
  end)
end)

describe("inputs the fuzzers found", function()
  it("decode without error (a crash here would stop the interpreter)", function()
    local n = 0
    for _, path in ipairs(files("spec/fixtures/fuzz")) do
      local target = path:match("^spec/fixtures/fuzz/(.-)%-[^/]*$")
      if TARGETS[target] then
        local _, list = feed(target, slurp(path))
        assert.is_table(list, path)
        n = n + 1
      end
    end
    assert.is_true(n > 0, "no fixture")
  end)
end)

describe("decoder hooks and nlmsg_len", function()
  -- libmnl's mnl_nlmsg_ok compares (int)nlmsg_len with the bytes left: a
  -- length of 2^31 or more read as negative and passed, the decoder ran
  -- with it, and the next header was looked for up to 4 GB further
  -- (spec/fixtures/fuzz/rtnl_link-nlmsg-len-4g-16 crashed the hook).
  -- The body: a family header, then attributes of 4 bytes that a walk
  -- bounded by nlmsg_len would follow past the end.
  local body = string.rep("\0", 16) .. string.rep(u16(4) .. u16(99), 8)
  for _, len in ipairs { 2 ^ 31, 2 ^ 31 + 16, 2 ^ 32 - 16, 2 ^ 32 - 4, 2 ^ 32 - 1 } do
    it(format("a message of nlmsg_len %.0f is trailing bytes, not a message", len), function()
      local bytes = nlmsghdr(len, 16) .. body
      for _, kind in ipairs { "link", "addr", "neigh", "route", "route6" } do
        local list, rest = hooks._decode_rtnl(bytes, kind)
        assert.same({ {}, #bytes }, { list, rest }, kind)
      end
      for _, proto in ipairs { "tcp", "unix", "packet", "netlink" } do
        local list, rest = hooks._decode_diag(nlmsghdr(len, 20) .. body, proto, true)
        assert.same({ {}, #bytes }, { list, rest }, proto)
      end
    end)
  end

  it("a good message before one with a huge length still decodes", function()
    -- an RTM_NEWNEIGH: ndmsg (family 2, ifindex 3, state NUD_PERMANENT) + NDA_DST
    local msg = nlmsghdr(16 + 12 + 8, 28) .. string.char(2, 0, 0, 0) .. u32(3) ..
      u16(0x80) .. string.char(0, 0) .. u16(8) .. u16(1) .. string.char(198, 51, 100, 9)
    local bad = nlmsghdr(2 ^ 31, 28) .. string.rep("\0", 20)
    local list, rest = hooks._decode_rtnl(msg .. bad, "neigh")
    assert.equal(1, #list)
    assert.same({ "198.51.100.9", 3 }, { list[1].addr, list[1].ifindex })
    assert.equal(#bad, rest)
  end)

  it("a length past the end, or shorter than a header, stops the walk", function()
    for _, len in ipairs { 0, 15, 16 + 65, 4096 } do
      local bytes = nlmsghdr(len, 16) .. body
      local list, rest = hooks._decode_rtnl(bytes, "link")
      assert.same({ {}, #bytes }, { list, rest }, tostring(len))
    end
  end)
end)

describe("sockstat mem_bytes", function()
  -- the parser hands "mem" over in pages, as read; lnetstat.source.counters
  -- derives the bytes
  local counters = require "lnetstat.source.counters"

  it("is mem pages times the page size", function()
    local t, partial = hooks._parse_sockstat("TCP: inuse 1 orphan 0 tw 0 alloc 2 mem 3\n")
    assert.is_nil(partial)
    assert.equal(3, t.TCP.mem)
    assert.is_nil(t.TCP.mem_bytes)
    local notes = {}
    counters.sockstat_bytes(notes, t, 4096)
    assert.is_nil(notes.partial)
    assert.equal(3 * 4096, t.TCP.mem_bytes)
    -- the largest byte count a signed 64-bit integer holds, exactly
    t = hooks._parse_sockstat("TCP: mem 2251799813685247\n")
    counters.sockstat_bytes(notes, t, 4096)
    assert.is_nil(notes.partial)
    assert.equal("9223372036854771712", string.format("%.0f", t.TCP.mem_bytes))
  end)

  it("is left out without a page size", function()
    local t = hooks._parse_sockstat("TCP: inuse 1 mem 3\n")
    local notes = {}
    counters.sockstat_bytes(notes, t, nil)
    assert.same({ {}, { inuse = 1, mem = 3 } }, { notes, t.TCP })
  end)

  -- mem * page size overflowed a signed 64-bit integer (undefined
  -- behaviour) when "mem" was huge.
  it("is left out, with a problem noted, when the product does not fit", function()
    for _, mem in ipairs { "9223372036854775807", "4611686018427387904", "2251799813685248", "-5" } do
      local t, partial = hooks._parse_sockstat("TCP: inuse 1 mem " .. mem .. "\nUDP: inuse 2 mem 1\n")
      assert.is_nil(partial, mem)
      local notes = {}
      counters.sockstat_bytes(notes, t, 4096)
      assert.is_nil(t.TCP.mem_bytes, mem)
      assert.is_not_nil(t.TCP.mem, mem)
      assert.matches("^sockstat: TCP mem: .* pages is no byte count$", notes.partial)
      assert.equal(4096, t.UDP.mem_bytes) -- the other groups get theirs
    end
  end)
end)

describe("route nests", function()
  local function attr(atype, payload)
    local len = 4 + #payload
    return u16(len) .. u16(atype) .. payload .. string.rep("\0", (4 - len % 4) % 4)
  end
  local function ipv4(a, b, c, d) return string.char(a, b, c, d) end
  -- rtnexthop: len, flags, hops, ifindex; then its attributes
  local function hop(len, hops, rest) return u16(len) .. string.char(0, hops) .. u32(0) .. rest end

  it("reads multipath hops up to the nest's end and the metrics by type", function()
    -- the second hop says 16 bytes where 12 are left: the list ends there
    local multipath = hop(16, 1, attr(5, ipv4(198, 51, 100, 1))) .. hop(16, 0, u32(0))
    local metrics = attr(2, u32(1400)) .. attr(1, u32(4)) .. attr(4, u32(800)) ..
      attr(16, "cubic\0")
    -- rtmsg: inet, /24, table main, static, universe, unicast, no flags
    local body = string.char(2, 24, 0, 0, 254, 4, 0, 1) .. u32(0) ..
      attr(1, ipv4(203, 0, 113, 0)) .. attr(15, u32(254)) .. attr(9, multipath) ..
      attr(8, metrics)
    local list, rest = hooks._decode_rtnl(nlmsghdr(16 + #body, 24) .. body, "route")
    assert.equal(0, rest)
    assert.equal(1, #list)
    local r = list[1]
    assert.same({ "inet", "203.0.113.0/24", 254, "main", "unicast", "static", "universe", 0 },
      { r.family, r.dst, r.table, r.table_name, r.type, r.protocol, r.scope, r.metric })
    assert.same({ { gateway = "198.51.100.1", weight = 2 } }, r.nexthops)
    -- rtt in 1/8 ms becomes ms; RTAX_LOCK bit 2 is mtu
    assert.same({ mtu = 1400, rtt = 100, congctl = "cubic", locked = { mtu = true } }, r.metrics)

    -- the facts the C core packs for the flag letters, read back through a
    -- letters table that answers with the key it was asked for
    local F = require("lnetstat.core").route_vocab.flag_facts
    local asked = setmetatable({}, { __index = function(_, facts) return "facts " .. facts end })
    list = hooks._decode_rtnl(nlmsghdr(16 + #body, 24) .. body, "route", asked)
    -- no gateway of its own; the first hop's; /24; static (4); unicast (1)
    local want = F.hop_gateway + 24 * F.dst_len + 4 * F.protocol + 1 * F.type
    assert.equal(format("facts %d", want), list[1].flags)
    -- and what lnetstat.source.routes makes of them
    local routes_mod = require "lnetstat.source.routes"
    assert.equal("UG", routes_mod.route_flags(list[1]))
    assert.equal("U", hooks._decode_rtnl(nlmsghdr(16 + #body, 24) .. body, "route", true)[1].flags)
  end)

  -- Each attribute's length is checked where it is read: one of the wrong
  -- size counts as not sent, and the others of the message still count.
  it("takes an attribute of the wrong size for one not sent", function()
    local function decode(attrs)
      -- rtmsg: inet, /24, table main (254 in the header), static, universe, unicast
      local body = string.char(2, 24, 0, 0, 254, 4, 0, 1) .. u32(0) ..
        attr(1, ipv4(203, 0, 113, 0)) .. attrs
      local list = hooks._decode_rtnl(nlmsghdr(16 + #body, 24) .. body, "route")
      assert.equal(1, #list)
      return list[1]
    end
    -- well formed: table 100, oif 1, metric 7, gateway via RTA_VIA
    local good = decode(attr(15, u32(100)) .. attr(4, u32(1)) .. attr(6, u32(7)) ..
      attr(18, u16(2) .. ipv4(198, 51, 100, 1)))
    assert.same({ 100, 1, 7, "198.51.100.1" }, { good.table, good.oif, good.metric, good.gateway })
    -- a table of 2 bytes, an oif of 8, a metric of 2, a via without its address
    local bad = decode(attr(15, u16(100)) .. attr(4, u32(1) .. u32(1)) .. attr(6, u16(7)) ..
      attr(18, u16(2)) .. attr(5, ipv4(198, 51, 100, 9)))
    assert.same({ 254, 0, "198.51.100.9" }, { bad.table, bad.metric, bad.gateway })
    assert.is_nil(bad.oif)
    assert.equal("203.0.113.0/24", bad.dst)
    -- a via whose family header is cut short
    assert.is_nil(decode(attr(18, "\2")).gateway)
  end)
end)
