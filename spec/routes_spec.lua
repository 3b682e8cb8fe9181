-- routes() and route_get(): argument errors, the /proc parsers on fixtures,
-- the DUMP_INTR retry, and (as root, in private namespaces) record-by-record
-- comparisons with `ip -j route show table all` and `ip -j route get`.
local helpers = require "helpers"
local ns = require "lnetstat"
local core = require "lnetstat.core"
-- the parser and decoder hooks: a test-only module that make test builds
local hooks = require "lnetstat.testhooks"
local routes_mod = require "lnetstat.source.routes"

local root_it = helpers.root_it
local format = string.format
local concat = table.concat
local unpack = table.unpack or unpack


local fixture = helpers.fixtures("routes")
local err_of, count_keys = helpers.err_of, helpers.count_keys

-- The C parser hands over the file's flags column as it is (rtf), and
-- the kernel names of its bits (rtf_flags, checked against rtf here); the
-- letters are computed in Lua (route_flags), as routes() does.
local function lettered(list, ...)
  local names = require("lnetstat.core").route_vocab.rtf
  for _, r in ipairs(list) do
    assert.is_nil(r.flags)
    assert.is_number(r.rtf)
    assert.is_table(r.rtf_flags)
    for name, bit in pairs(names) do
      assert.equal(r.rtf % (2 * bit) >= bit or nil, r.rtf_flags[name], r.dst .. " " .. name)
    end
    r.flags = routes_mod.route_flags(r)
    r.rtf, r.rtf_flags = nil, nil
  end
  return list, ...
end

local function by_dst(list)
  local t = {}
  for _, r in ipairs(list) do
    assert(t[r.dst] == nil, "two records for " .. r.dst)
    t[r.dst] = r
  end
  return t
end


describe("routes() argument errors", function()
  it("rejects a non-table and names unknown options with a suggestion", function()
    assert.matches("bad argument #1 to 'routes' %(table expected, got string%)", err_of(ns.routes, "main"))
    assert.matches("bad argument #1 to 'routes' %(unknown option 'tabel'; did you mean 'table'%?%)",
      err_of(ns.routes, { tabel = "main" }))
    assert.matches("unknown option 'famly'; did you mean 'family'%?", err_of(ns.routes, { famly = "inet" }))
    assert.matches("unknown option 'zzzzzz'%)", err_of(ns.routes, { zzzzzz = 1 }))
  end)

  it("reports the caller's position, not the library's", function()
    -- (not tail calls: a tail call leaves no caller to point at)
    assert.matches("routes_spec%.lua:%d+: bad argument", err_of(function()
      local list = ns.routes({ x = 1 })
      return list
    end))
    assert.matches("routes_spec%.lua:%d+: bad argument", err_of(function()
      local r = ns.route_get("nope")
      return r
    end))
  end)

  it("checks fields like sockets does", function()
    assert.matches("bad argument #1 to 'routes' %(fields entry must be one of .* got 'gatway'; did you "
      .. "mean 'gateway'%?%)", err_of(ns.routes, { fields = { "gatway" } }))
    assert.matches("bad argument #1 to 'each_route' %(fields must be a list of field names, got string%)",
      err_of(ns.each_route, { fields = "dst" }, print))
  end)

  it("rejects unknown enum values", function()
    assert.matches("family must be one of inet, inet6, got 'inet4'", err_of(ns.routes, { family = "inet4" }))
    assert.matches("table must be one of all, default, local, main, got 'mian'; did you mean 'main'%?",
      err_of(ns.routes, { table = "mian" }))
    assert.matches("source must be one of auto, netlink, proc, got 'kernel'", err_of(ns.routes, { source = "kernel" }))
    assert.matches("family must be one of", err_of(ns.routes, { family = 4 }))
  end)

  it("rejects table ids that are not 1..2^32-1", function()
    for _, t in ipairs { 0, -1, 1.5, 4294967296 } do
      assert.matches("table must be a table name or an id 1%.%.4294967295", err_of(ns.routes, { table = t }))
    end
    assert.matches("table must be one of", err_of(ns.routes, { table = true }))
  end)

  it("rejects bad netns values", function()
    assert.matches("netns must be a name, a path or a pid", err_of(ns.routes, { netns = "" }))
    assert.matches("netns pid must be a positive integer", err_of(ns.routes, { netns = -3 }))
  end)
end)

describe("route_get() argument errors", function()
  it("wants one address, not a prefix or a name", function()
    assert.matches("bad argument #1 to 'route_get' %(address expected, got nil%)", err_of(ns.route_get))
    assert.matches("address expected, got '198%.51%.100%.0/24'", err_of(ns.route_get, "198.51.100.0/24"))
    assert.matches("address expected, got '300%.1%.1%.1'", err_of(ns.route_get, "300.1.1.1"))
    assert.matches("address expected, got 'localhost'", err_of(ns.route_get, "localhost"))
    assert.matches("address expected, got number", err_of(ns.route_get, 42))
  end)

  it("checks its options as argument #2", function()
    assert.matches("bad argument #2 to 'route_get' %(unknown option 'frm'; did you mean 'from'%?%)",
      err_of(ns.route_get, "198.51.100.1", { frm = "198.51.100.2" }))
    assert.matches("bad argument #2 to 'route_get' %(table expected, got string%)",
      err_of(ns.route_get, "198.51.100.1", "veth0"))
    assert.matches("from must be an IPv4 address like the destination, got '2001:db8::1'",
      err_of(ns.route_get, "198.51.100.1", { from = "2001:db8::1" }))
    assert.matches("from must be an address, got 'x'", err_of(ns.route_get, "2001:db8::1", { from = "x" }))
    assert.matches("oif must be an interface name, got number", err_of(ns.route_get, "198.51.100.1", { oif = 3 }))
    -- longer than an alternative name can be (127 bytes)
    assert.matches("oif must be an interface name, got 'aaaaaaaa",
      err_of(ns.route_get, "198.51.100.1", { oif = ("a"):rep(128) }))
    for _, m in ipairs { -1, 1.5, 2 ^ 32, "5" } do
      assert.matches("mark must be an integer 0%.%.4294967295", err_of(ns.route_get, "198.51.100.1", { mark = m }))
    end
  end)
end)

describe("routes() and route_get() system failures", function()
  local missing = format("lnetstat-missing-%d", helpers.getpid())

  it("return nil, message, ENOENT for a netns that does not exist", function()
    for _, source in ipairs { "auto", "netlink", "proc" } do
      local list, msg, errno = ns.routes { netns = missing, source = source }
      assert.is_nil(list)
      assert.equal(2, errno)
      assert.matches(missing, msg, 1, true)
    end
    local r, msg, errno = ns.route_get("198.51.100.1", { netns = missing })
    assert.is_nil(r)
    assert.equal(2, errno)
    assert.matches(missing, msg, 1, true)
  end)

  it("route_get of an unknown interface is ENODEV", function()
    local r, msg, errno = ns.route_get("127.0.0.1", { oif = "lnx-nosuchif0" })
    assert.is_nil(r)
    assert.equal(19, errno)
    assert.matches("interface 'lnx%-nosuchif0'", msg)
  end)
end)

describe("routes() here (no root needed)", function()
  it("lists table main by default, with the fields of the contract", function()
    local list = assert(ns.routes())
    assert.equal("netlink", list.source)
    for _, r in ipairs(list) do
      assert.equal(254, r.table)
      assert.equal("main", r.table_name)
      assert.truthy(r.family == "inet" or r.family == "inet6")
      assert.truthy(core.parse_cidr(r.dst) == r.family and r.dst:find("/", 1, true))
      assert.equal("number", type(r.metric))
      assert.equal("string", type(r.type))
      assert.matches("^U", r.flags)
      assert.is_nil(getmetatable(r))
      if r.interface then assert.equal("number", type(r.oif)) end
    end
    local v6 = assert(ns.routes { family = "inet6", table = "local" })
    for _, r in ipairs(v6) do
      assert.equal("inet6", r.family)
      assert.equal(255, r.table)
    end
  end)

  it("lists loopback's local routes in table local", function()
    local list = assert(ns.routes { table = "local", family = "inet" })
    local lo = by_dst(list)["127.0.0.1/32"]
    assert.is_table(lo)
    assert.same({ "local", "lo", "host", "kernel", "UH", "127.0.0.1" },
      { lo.type, lo.interface, lo.scope, lo.protocol, lo.flags, lo.prefsrc })
  end)

  it("route_get finds loopback", function()
    local r = assert(ns.route_get("127.0.0.1"))
    assert.same({ "inet", "127.0.0.1/32", "local", "lo", "UH" }, { r.family, r.dst, r.type, r.interface, r.flags })
    assert.same({ "local" }, r.cache)
    assert.equal("number", type(r.table))
  end)
end)

describe("routes() retries a dump flagged NLM_F_DUMP_INTR", function()
  local real = routes_mod._hooks.dump

  local function with_hook(interrupted_calls, fn)
    local calls = 0
    routes_mod._hooks.dump = function(session, list, family, tbl)
      calls = calls + 1
      local ok, intr, count = real(session, list, family, tbl)
      if not ok then return ok, intr, count end
      -- the hook alone says which dumps were interrupted: a route change
      -- elsewhere on the host must not add an attempt
      return ok, calls <= interrupted_calls, count
    end
    local ok, err = pcall(fn, function() return calls end)
    routes_mod._hooks.dump = real
    assert(ok, err)
  end

  it("starts again with a fresh list until a dump is clean", function()
    local clean = assert(ns.routes { table = "all" })
    with_hook(3, function(calls)
      local list = assert(ns.routes { table = "all" })
      -- 2 families per attempt: attempts 1 and 2 saw an interrupted dump
      assert.equal(6, calls())
      assert.is_nil(list.partial)
      assert.equal(#clean, #list)
    end)
  end)

  it("gives up after 5 attempts and says the list may be inconsistent", function()
    local clean = assert(ns.routes { family = "inet" })
    with_hook(math.huge, function(calls)
      local list = assert(ns.routes { family = "inet" })
      assert.equal(5, calls())
      assert.matches("route dump was interrupted 5 times in a row .* may be inconsistent", list.partial)
      assert.equal(#clean, #list)   -- the last attempt only, not five appended
    end)
  end)

  it("returns nil, message, errno when a dump fails, list or stream", function()
    routes_mod._hooks.dump = function() return nil, "route dump inet: Operation not permitted", 1 end
    local ok, err = pcall(function()
      assert.same({ nil, "route dump inet: Operation not permitted", 1 },
        { ns.routes { source = "netlink" } })
      assert.same({ nil, "route dump inet: Operation not permitted", 1 },
        { ns.each_route({ source = "netlink" }, print) })
      -- auto: refused netlink falls back to /proc, and says why
      local list = assert(ns.routes {})
      assert.equal("proc", list.source)
      assert.matches("rtnetlink failed %(route dump inet: Operation not permitted%)", list.partial)
    end)
    routes_mod._hooks.dump = real
    assert(ok, err)
  end)

  it("each_route does not retry what it already handed over, and says so", function()
    local clean = assert(ns.routes { family = "inet" })
    with_hook(1, function(calls)
      local seen = 0
      local count, summary = assert(ns.each_route({ family = "inet" }, function() seen = seen + 1 end))
      assert.equal(1, calls())
      assert.equal(#clean, count)
      assert.equal(count, seen)
      assert.matches("interrupted .* a stream cannot", summary.partial)
    end)
  end)
end)

describe("each_route()", function()
  it("checks its options and its function like routes()", function()
    assert.matches("bad argument #2 to 'each_route' %(function expected, got nil%)",
      err_of(ns.each_route, {}))
    assert.matches("bad argument #1 to 'each_route' .*unknown option 'tabel'; did you mean 'table'",
      err_of(ns.each_route, { tabel = "all" }, print))
  end)

  it("hands over what routes() lists, here and from /proc", function()
    for _, source in ipairs { "netlink", "proc" } do
      local list = assert(ns.routes { table = "all", source = source })
      local streamed = {}
      local count, summary = assert(ns.each_route({ table = "all", source = source },
        function(r) streamed[#streamed + 1] = r end))
      assert.equal(#list, count)
      assert.same({ unpack(list) }, streamed)   -- the same records, in the same order
      assert.equal(source, summary.source)
      assert.equal(list.partial, summary.partial)
    end
  end)

  it("returns nil, message, ENOENT for a netns that does not exist", function()
    local count, msg, errno = ns.each_route({ netns = "lnetstat-no-such-ns" }, print)
    assert.is_nil(count)
    assert.matches("lnetstat%-no%-such%-ns", msg)
    assert.equal(2, errno)
  end)
end)

describe("address text", function()
  it("is glibc's inet_ntop text, for every run of zero groups", function()
    math.randomseed(20240611)
    local bytes = {}
    local function check(n)
      local s = string.char(unpack(bytes, 1, n))
      local mine, libc = hooks._addr_ntop(s)
      assert.equal(libc, mine)
    end
    for w = 0, 255 do   -- every pattern of zero / non-zero groups
      for g = 1, 8 do
        local zero = math.floor(w / 2 ^ (g - 1)) % 2 == 1
        bytes[2 * g - 1], bytes[2 * g] = 0, zero and 0 or math.random(1, 255)
      end
      check(16)
      bytes[11], bytes[12] = 255, 255   -- IPv4-mapped shapes
      check(16)
    end
    for _ = 1, 20000 do
      for i = 1, 16 do
        local r = math.random()
        bytes[i] = r < 0.6 and 0 or r < 0.7 and 255 or math.random(0, 255)
      end
      check(16)
      check(4)
    end
  end)
end)

-- /proc fixtures ---------------------------------------------------------------
-- (x86: /proc/net/route prints each __be32 as a host-order %08X, so the bytes
-- look reversed; the fixtures are what a little-endian kernel prints)

describe("/proc/net/route parser", function()
  local list, skipped

  setup(function() list, skipped = lettered(hooks._parse_proc_routes(fixture("route"), "inet")) end)

  it("reads every line, in order, reversed hex in network order", function()
    assert.equal(0, skipped)
    local dsts = {}
    for i, r in ipairs(list) do dsts[i] = r.dst end
    assert.same({ "0.0.0.0/0", "198.51.100.0/24", "203.0.113.65/32", "203.0.113.128/25",
      "203.0.113.7/32", "203.0.113.8/32", "203.0.113.0/24", "198.51.100.128/25" }, dsts)
  end)

  it("fills what the file has: gateway, device, metric, mask, flags, table main", function()
    local t = by_dst(list)
    assert.same({ family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.254", interface = "veth0",
      metric = 0, table = 254, table_name = "main", flags = "UG" }, t["0.0.0.0/0"])
    assert.same({ family = "inet", dst = "203.0.113.65/32", gateway = "198.51.100.2", interface = "veth0",
      metric = 5, table = 254, table_name = "main", flags = "UGH" }, t["203.0.113.65/32"])
    assert.equal("UGD", t["198.51.100.128/25"].flags)
    assert.equal("br0", t["203.0.113.0/24"].interface)
    assert.is_nil(t["203.0.113.0/24"].gateway)
  end)

  it("turns MTU (advmss + 40), Window and IRTT into metrics", function()
    assert.same({ advmss = 1360, window = 65535, rtt = 100 }, by_dst(list)["203.0.113.128/25"].metrics)
    assert.is_nil(by_dst(list)["0.0.0.0/0"].metrics)
  end)

  it("marks routes without a device as reject routes, with no interface", function()
    local t = by_dst(list)
    assert.equal("UH!", t["203.0.113.7/32"].flags)     -- blackhole: no RTF_REJECT in the file
    assert.equal("UH!", t["203.0.113.8/32"].flags)     -- unreachable: RTF_REJECT
    assert.is_nil(t["203.0.113.7/32"].interface)
    for _, r in ipairs(list) do
      assert.is_nil(r.type)       -- the file has no type, protocol, scope or prefsrc
      assert.is_nil(r.protocol)
      assert.is_nil(r.scope)
      assert.is_nil(r.prefsrc)
      assert.is_nil(r.oif)
    end
  end)

  it("counts malformed lines and keeps the good ones", function()
    local l, n = hooks._parse_proc_routes(fixture("route.malformed"), "inet")
    -- bad hex, a mask with holes, too few columns; an extra column is fine
    assert.equal(3, n)
    assert.same({ "198.51.100.0/24", "198.51.100.0/24", "0.0.0.0/0" }, { l[1].dst, l[2].dst, l[3].dst })
  end)

  it("never reads past the text it is given", function()
    local text = fixture("route")
    for cut = 1, #text, 7 do
      local l, n = hooks._parse_proc_routes(text:sub(1, cut), "inet")
      assert.is_table(l)
      assert.truthy(n <= 1)
    end
  end)
end)

describe("/proc/net/ipv6_route parser", function()
  local list, skipped

  setup(function() list, skipped = lettered(hooks._parse_proc_routes(fixture("ipv6_route"), "inet6")) end)

  it("reads 32 hex digits in network order, not tcp6's host-order words", function()
    assert.equal(0, skipped)
    local t = by_dst(list)
    assert.is_table(t["2001:db8:1::/64"])          -- word order would give b80d:120:...
    assert.equal("2001:db8:1::2", t["2001:db8:2::/48"].gateway)
    assert.equal(200, t["2001:db8:2::/48"].metric)  -- metric is hex (c8)
    assert.equal("UG", t["2001:db8:2::/48"].flags)
  end)

  it("keeps source-specific routes, the device column and the flag letters", function()
    local t = by_dst(list)
    assert.same({ family = "inet6", dst = "2001:db8:4::/48", src = "2001:db8:1::/64",
      gateway = "2001:db8:1::4", interface = "veth0", metric = 1024, flags = "UG" }, t["2001:db8:4::/48"])
    assert.equal("UGA", t["::/0"].flags)            -- RTF_ADDRCONF: learned from an RA
    assert.equal("U!", t["2001:db8:5::/48"].flags)  -- reject: RTF_UP cleared in the file
    assert.is_nil(t["2001:db8:6::/48"].interface)   -- empty device column
    assert.equal(1024, t["2001:db8:6::/48"].metric)
  end)

  it("names local and anycast routes, and nothing else", function()
    local t = by_dst(list)
    assert.equal("local", t["::1/128"].type)
    assert.equal("UH", t["::1/128"].flags)
    assert.equal("anycast", t["2001:db8:1::80/128"].type)
    assert.is_nil(t["ff00::/8"].type)
    for _, r in ipairs(list) do
      assert.is_nil(r.table)   -- the file mixes every table without naming them
      assert.is_nil(r.protocol)
    end
  end)

  it("leaves out the kernel's placeholder root entry", function()
    assert.equal(9, #list)
    for _, r in ipairs(list) do
      assert.is_false(r.dst == "::/0" and r.metric == 4294967295)
    end
  end)

  it("keeps the placeholder, marked null_entry, when asked", function()
    local l = hooks._parse_proc_routes(fixture("ipv6_route"), "inet6", true)
    assert.equal(10, #l)
    local nulls = {}
    for i, r in ipairs(l) do
      if r.null_entry then nulls[#nulls + 1] = i end
    end
    assert.equal(1, #nulls)
    local null = l[nulls[1]]
    assert.same({ family = "inet6", dst = "::/0", metric = 4294967295, interface = "lo",
      rtf = null.rtf, rtf_flags = { REJECT = true, NONEXTHOP = true }, null_entry = true }, null)
  end)

  it("counts malformed lines and keeps the good ones", function()
    local l, n = hooks._parse_proc_routes(fixture("ipv6_route.malformed"), "inet6")
    -- 31 hex digits, a non-hex digit, prefix length 0x81, too few columns
    assert.equal(4, n)
    assert.equal(3, #l)
  end)
end)

describe("route flags from kernel facts", function()
  local vocab = core.route_vocab

  it("are read from the C core's vocabulary: RTF_* bits, types, field bits", function()
    -- linux/route.h and linux/ipv6_route.h
    assert.same({ UP = 0x1, GATEWAY = 0x2, HOST = 0x4, REINSTATE = 0x8, DYNAMIC = 0x10,
      MODIFIED = 0x20, REJECT = 0x200, ADDRCONF = 0x40000, ANYCAST = 0x100000,
      CACHE = 0x1000000, LOCAL = 0x80000000 }, vocab.rtf)
    -- linux/rtnetlink.h: RTN_*
    assert.equal(1, vocab.types.unicast)
    assert.equal(6, vocab.types.blackhole)
    assert.equal(9, vocab.types.throw)
    -- one distinct bit per field, family and dst first
    local seen = {}
    for name, bit in pairs(vocab.fields) do
      assert.is_nil(seen[bit], name)
      seen[bit] = name
      local b = bit
      while b > 1 do
        assert.equal(0, b % 2, name)
        b = b / 2
      end
    end
    assert.same({ "family", "dst" }, { seen[1], seen[2] })
    assert.is_nil(vocab.fields.flags)   -- computed in Lua: no bit
  end)

  it("give netlink records U, G (also from the first hop), H, D, A and !", function()
    local f = routes_mod.route_flags
    assert.equal("U", f { family = "inet", dst = "198.51.100.0/24", type = "unicast", protocol = "kernel" })
    assert.equal("UG", f { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.1" })
    assert.equal("UG", f { family = "inet", dst = "0.0.0.0/0",
      nexthops = { { gateway = "198.51.100.1" }, { interface = "lo" } } })
    assert.equal("U", f { family = "inet", dst = "0.0.0.0/0",
      nexthops = { { interface = "lo" }, { gateway = "198.51.100.1" } } })
    assert.equal("UH", f { family = "inet", dst = "203.0.113.1/32" })
    assert.equal("U", f { family = "inet6", dst = "2001:db8::/32" })
    assert.equal("UH", f { family = "inet6", dst = "2001:db8::1/128" })
    assert.equal("UGHD", f { family = "inet", dst = "203.0.113.1/32", gateway = "198.51.100.1",
      protocol = "redirect" })
    assert.equal("UGA", f { family = "inet6", dst = "::/0", gateway = "fe80::1", protocol = "ra" })
    assert.equal("UG", f { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.1", protocol = "ra" })
    for _, t in ipairs { "blackhole", "unreachable", "prohibit", "throw" } do
      assert.equal("UH!", f { family = "inet", dst = "203.0.113.7/32", type = t })
      assert.equal("U!", f { family = "inet6", dst = "2001:db8:5::/48", type = t })
    end
    assert.equal("UH", f { family = "inet", dst = "127.0.0.1/32", type = "local" })
  end)

  -- Letters are kept per distinct set of facts up to a bound; past it they
  -- are made each time, and must come out the same.
  it("stay right for more distinct facts than are kept", function()
    local f, seen, redirect = routes_mod.route_flags, 0, vocab.protocols.redirect
    for round = 1, 2 do
      for proto = 0, 255 do
        for len = 0, 32 do
          local want = "U" .. (len == 32 and "H" or "") .. (proto == redirect and "D" or "")
          assert.equal(want, f { family = "inet", dst = "203.0.113.0/" .. len, protocol = proto })
          if round == 1 then seen = seen + 1 end
        end
      end
    end
    assert.is_true(seen > 8000)
  end)

  it("give /proc records the file's bits, with H, U and ! made alike", function()
    local f, rtf = routes_mod.route_flags, vocab.rtf
    assert.equal("UGHRDM", f { family = "inet", dst = "198.51.100.0/24", interface = "veth0",
      rtf = rtf.UP + rtf.GATEWAY + rtf.HOST + rtf.REINSTATE + rtf.DYNAMIC + rtf.MODIFIED })
    assert.equal("UH", f { family = "inet", dst = "203.0.113.1/32", interface = "veth0", rtf = rtf.UP })
    assert.equal("UH!", f { family = "inet", dst = "203.0.113.7/32", rtf = rtf.UP })
    assert.equal("U!", f { family = "inet6", dst = "2001:db8:5::/48", rtf = rtf.REJECT })
    assert.equal("UC", f { family = "inet6", dst = "2001:db8:5::/48", interface = "lo",
      rtf = rtf.UP + rtf.CACHE + rtf.LOCAL + rtf.ANYCAST })
  end)
end)

-- Live comparisons in private namespaces ---------------------------------------

-- ip -j JSON, decoded.
local function ip_json(cmd)
  local out, ok = helpers.run(cmd .. " 2>/dev/null")
  assert(ok, "failed: " .. cmd)
  return helpers.json_decode(out)
end

local IP_TABLES = { main = 254, ["local"] = 255, default = 253 }
local IP_METRIC_KEYS = { congestion = "congctl" }

local function ip_dst(dst, family)
  if dst == "default" then return family == "inet" and "0.0.0.0/0" or "::/0" end
  if not dst:find("/", 1, true) then return dst .. (family == "inet" and "/32" or "/128") end
  return dst
end

local function flag_set(list)
  if list == nil or #list == 0 then return nil end
  local t = {}
  for _, f in ipairs(list) do t[f] = true end
  return t
end

-- An `ip -j -d route` record in lnetstat's shape (only the compared fields).
local function from_ip(j, family)
  local r = {
    family = family,
    dst = ip_dst(j.dst, family),
    src = j.from and ip_dst(j.from, family) or nil,
    gateway = j.gateway,
    interface = j.dev,
    prefsrc = j.prefsrc,
    metric = j.metric or 0,
    table = j.table and (IP_TABLES[j.table] or tonumber(j.table)) or nil,
    table_name = j.table,
    type = j.type,
    protocol = j.protocol,
    scope = j.scope == "global" and "universe" or j.scope,
    pref = j.pref,
    kernel_flags = flag_set(j.flags),
  }
  if j.nexthops then
    r.nexthops = {}
    for i, h in ipairs(j.nexthops) do
      r.nexthops[i] = { gateway = h.gateway, interface = h.dev, weight = h.weight,
        kernel_flags = flag_set(h.flags) }
    end
  end
  if j.metrics and j.metrics[1] then
    r.metrics = {}
    for k, v in pairs(j.metrics[1]) do
      if k ~= "lock" then r.metrics[IP_METRIC_KEYS[k] or k] = v end
    end
  end
  return r
end

-- The same fields of one of ours.
local function comparable(r)
  local c = {
    family = r.family, dst = r.dst, src = r.src, gateway = r.gateway, interface = r.interface,
    prefsrc = r.prefsrc, metric = r.metric, table = r.table, table_name = r.table_name,
    type = r.type, protocol = r.protocol and tostring(r.protocol) or nil,
    scope = r.scope and tostring(r.scope) or nil, pref = r.pref, kernel_flags = r.kernel_flags,
  }
  if r.nexthops then
    c.nexthops = {}
    for i, h in ipairs(r.nexthops) do
      c.nexthops[i] = { gateway = h.gateway, interface = h.interface, weight = h.weight,
        kernel_flags = h.kernel_flags }
      assert.equal("number", type(h.oif))
    end
  end
  if r.metrics then
    c.metrics = {}
    for k, v in pairs(r.metrics) do
      if k ~= "locked" then c.metrics[k] = v end
    end
  end
  return c
end

local function route_key(r)
  return concat({ r.family, format("%d", r.table), r.dst, r.src or "-", r.interface or "-",
    format("%d", r.metric), r.type or "?" }, " ")
end

local function index_routes(list, what)
  local t = {}
  for _, r in ipairs(list) do
    local k = route_key(r)
    assert(t[k] == nil, format("%s: two routes with key %s", what, k))
    t[k] = r
  end
  return t
end

describe("routes() in a private network namespace", function()
  local NS, PEER
  local state = {}
  local have_congctl = false

  local function cleanup()
    helpers.netns_delete(state.ns, state.peer)
    state = {}
  end

  local function ip(args) return helpers.ip(NS, args) end

  local function build()
    NS = helpers.netns_create("lnetstat-rt")
    state.ns = NS
    PEER = helpers.netns_create("lnetstat-rtpeer")
    state.peer = PEER
    -- no DAD: link-local addresses (and their local routes) settle at once
    for _, n in ipairs { NS, PEER } do
      helpers.sysctl(n, "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
    end
    ip(format("link add rtv0 type veth peer name rtv1 netns %s", PEER))
    ip("link add rtbr0 type bridge")
    ip("link set rtv0 up")
    ip("link set rtbr0 up")
    helpers.ip(PEER, "link set rtv1 up")
    ip("addr add 198.51.100.1/24 dev rtv0")
    ip("addr add 203.0.113.1/24 dev rtbr0")
    ip("addr add 2001:db8:1::1/64 dev rtv0 nodad")
    helpers.ip(PEER, "addr add 198.51.100.2/24 dev rtv1")
    helpers.ip(PEER, "addr add 2001:db8:1::2/64 dev rtv1 nodad")

    ip("route add default via 198.51.100.254")
    ip("route add 203.0.113.128/25 via 198.51.100.2 metric 50 mtu 1400 advmss 1360 window 65535 "
      .. "rtt 100ms rttvar 20ms hoplimit 32 initcwnd 10")
    ip("route add 203.0.113.96/27 via 198.51.100.2 mtu lock 1300")
    have_congctl = pcall(ip, "route add 198.51.100.64/26 via 198.51.100.3 congctl cubic")
    if have_congctl then ip("route add 198.51.100.65/32 via 198.51.100.3 congctl lock reno") end
    ip("route add blackhole 203.0.113.7")
    ip("route add unreachable 203.0.113.8")
    ip("route add prohibit 203.0.113.9")
    ip("route add 203.0.113.10 via 198.51.100.4 table 100")
    ip("route add 203.0.113.11 via 198.51.100.5 table 1000")
    ip("route add 203.0.113.64/26 nexthop via 198.51.100.2 weight 1 nexthop via 198.51.100.3 weight 3")
    ip("route add 203.0.113.20 via 198.51.100.6 proto 77")
    ip("route add 203.0.113.21 via 198.51.100.9 dev rtv0 onlink")
    ip("route add 203.0.113.22 dev rtbr0 proto static scope link")
    ip("-6 route add default via 2001:db8:1::fe")
    ip("-6 route add 2001:db8:2::/48 via 2001:db8:1::2 metric 200 mtu 1300")
    ip("-6 route add 2001:db8:3::/48 nexthop via 2001:db8:1::2 weight 2 nexthop via 2001:db8:1::3 weight 5")
    ip("-6 route add 2001:db8:4::/48 from 2001:db8:1::/64 via 2001:db8:1::4")
    ip("-6 route add blackhole 2001:db8:5::/48")
    ip("-6 route add 2001:db8:6::/48 via 2001:db8:1::6 table 1000")
    ip("-6 route add 2001:db8:9::/48 dev rtv0 pref high metric 5")
  end

  helpers.root_setup(build, cleanup)

  -- ip's view of every table (both families), and ours, taken until two of
  -- ip's snapshots around ours agree (nothing should change, but the
  -- kernel may still be settling a link).
  local function snapshot(opts)
    for _ = 1, 5 do
      local function ip_all()
        local list = {}
        for _, fam in ipairs { "inet", "inet6" } do
          local j = ip_json(format("ip -j -d -%s -n %s route show table all", fam == "inet" and 4 or 6, NS))
          for _, r in ipairs(j) do list[#list + 1] = from_ip(r, fam) end
        end
        return list
      end
      local before = ip_all()
      local ours = assert(ns.routes(opts))
      local after = ip_all()
      if #before == #after then
        local same = true
        local a = index_routes(after, "ip")
        for _, r in ipairs(before) do if not a[route_key(r)] then same = false end end
        if same then return ours, after end
      end
    end
    error("the routes kept changing")
  end

  root_it("lists every route ip lists in table all, field by field", function()
    local ours, theirs = snapshot { netns = NS, table = "all" }
    assert.equal("netlink", ours.source)
    assert.is_nil(ours.partial)
    local mine, ipidx = {}, index_routes(theirs, "ip")
    for _, r in ipairs(ours) do mine[#mine + 1] = comparable(r) end
    mine = index_routes(mine, "lnetstat")
    local missing, extra = {}, {}
    for k in pairs(ipidx) do if not mine[k] then missing[#missing + 1] = k end end
    for k in pairs(mine) do if not ipidx[k] then extra[#extra + 1] = k end end
    table.sort(missing)
    table.sort(extra)
    assert(#missing == 0 and #extra == 0, format("route sets differ\n  only ip: %s\n  only lnetstat: %s",
      concat(missing, "\n    "), concat(extra, "\n    ")))
    for k, r in pairs(ipidx) do
      assert.same(r, mine[k], k)
    end
    -- the scenario itself is there (two empty lists would agree too)
    local want = {
      "inet 254 0.0.0.0/0 - rtv0 0 unicast", "inet 254 203.0.113.7/32 - - 0 blackhole",
      "inet 254 203.0.113.8/32 - - 0 unreachable", "inet 254 203.0.113.9/32 - - 0 prohibit",
      "inet 100 203.0.113.10/32 - rtv0 0 unicast", "inet 1000 203.0.113.11/32 - rtv0 0 unicast",
      "inet 254 203.0.113.64/26 - - 0 unicast", "inet6 254 ::/0 - rtv0 1024 unicast",
      "inet6 254 2001:db8:3::/48 - - 1024 unicast", "inet6 1000 2001:db8:6::/48 - rtv0 1024 unicast",
      "inet6 254 2001:db8:4::/48 2001:db8:1::/64 rtv0 1024 unicast",
    }
    for _, k in ipairs(want) do assert.is_table(mine[k], k) end
    assert.is_true(count_keys(mine) >= #want + 10)
  end)

  root_it("decodes metrics, multipath weights, tables above 255 and kernel flags", function()
    local list = assert(ns.routes { netns = NS, table = "all" })
    local t = {}
    for _, r in ipairs(list) do t[r.family .. " " .. r.table .. " " .. r.dst] = r end
    local m = t["inet 254 203.0.113.128/25"]
    assert.same({ mtu = 1400, advmss = 1360, window = 65535, rtt = 100, rttvar = 20, hoplimit = 32,
      initcwnd = 10 }, m.metrics)
    assert.equal(50, m.metric)
    assert.same({ mtu = 1300, locked = { mtu = true } }, t["inet 254 203.0.113.96/27"].metrics)
    if have_congctl then
      assert.same({ congctl = "cubic" }, t["inet 254 198.51.100.64/26"].metrics)
      assert.same({ congctl = "reno", locked = { congctl = true } }, t["inet 254 198.51.100.65/32"].metrics)
    end
    local mp = t["inet 254 203.0.113.64/26"]
    assert.is_nil(mp.gateway)
    assert.equal(2, #mp.nexthops)
    assert.same({ "198.51.100.2", "rtv0", 1 }, { mp.nexthops[1].gateway, mp.nexthops[1].interface,
      mp.nexthops[1].weight })
    assert.same({ "198.51.100.3", "rtv0", 3 }, { mp.nexthops[2].gateway, mp.nexthops[2].interface,
      mp.nexthops[2].weight })
    assert.equal("UG", mp.flags)
    local mp6 = t["inet6 254 2001:db8:3::/48"]
    assert.same({ 2, 5 }, { mp6.nexthops[1].weight, mp6.nexthops[2].weight })
    assert.same({ 1000, "1000" }, { t["inet 1000 203.0.113.11/32"].table, t["inet 1000 203.0.113.11/32"].table_name })
    assert.same({ 100, "100" }, { t["inet 100 203.0.113.10/32"].table, t["inet 100 203.0.113.10/32"].table_name })
    assert.equal(77, t["inet 254 203.0.113.20/32"].protocol)   -- no name: the number
    assert.same({ onlink = true }, t["inet 254 203.0.113.21/32"].kernel_flags)
    assert.same({ "static", "link" }, { t["inet 254 203.0.113.22/32"].protocol, t["inet 254 203.0.113.22/32"].scope })
    assert.equal("UGH", t["inet 1000 203.0.113.11/32"].flags)
    for _, d in ipairs { "203.0.113.7/32", "203.0.113.8/32", "203.0.113.9/32" } do
      assert.equal("UH!", t["inet 254 " .. d].flags)
      assert.is_nil(t["inet 254 " .. d].interface)
    end
    assert.equal("U!", t["inet6 254 2001:db8:5::/48"].flags)
    assert.equal("high", t["inet6 254 2001:db8:9::/48"].pref)
    assert.equal("2001:db8:1::/64", t["inet6 254 2001:db8:4::/48"].src)
    assert.equal("::/0", t["inet6 254 ::/0"].dst)
  end)


  -- The C core packs each message's facts and looks the letters up in
  -- Lua's table; route_flags reads the same facts from a record's fields
  -- (watch events): both must give every route the same letters.
  root_it("gives each route of a dump the letters route_flags reads from its fields", function()
    local added = {
      "route add 203.0.113.30 via 198.51.100.2 proto redirect",
      "route add 203.0.113.31 via 198.51.100.2 proto ra",
      "-6 route add 2001:db8:7::/48 via 2001:db8:1::2 proto ra",
      "-6 route add 2001:db8:8::1/128 via 2001:db8:1::2 proto redirect",
      "-6 route add throw 2001:db8:a::/48",
    }
    local ok, err = pcall(function()
      for _, cmd in ipairs(added) do ip(cmd) end
      local t, seen = {}, {}
      for _, r in ipairs(assert(ns.routes { netns = NS, table = "all" })) do
        assert.is_string(r.flags)
        assert.equal(routes_mod.route_flags(r), r.flags)
        seen[r.flags] = true
        t[r.family .. " " .. r.dst] = r
      end
      assert.equal("UGHD", t["inet 203.0.113.30/32"].flags)
      assert.equal("UGH", t["inet 203.0.113.31/32"].flags)   -- A is IPv6's only
      assert.equal("UGA", t["inet6 2001:db8:7::/48"].flags)
      assert.equal("UGHD", t["inet6 2001:db8:8::1/128"].flags)
      assert.equal("U!", t["inet6 2001:db8:a::/48"].flags)
      assert.is_true(seen.U and seen.UG and seen["UH!"] and true)
      -- the same letters through each_route and route_get
      local streamed = 0
      assert(ns.each_route({ netns = NS, table = "all" }, function(r)
        assert.equal(routes_mod.route_flags(r), r.flags)
        streamed = streamed + 1
      end))
      assert.is_true(streamed > 20)
      local got = assert(ns.route_get("203.0.113.30", { netns = NS }))
      assert.equal(routes_mod.route_flags(got), got.flags)
      assert.matches("^UGH", got.flags)
    end)
    for i = #added, 1, -1 do
      pcall(ip, (added[i]:gsub("route add", "route del")))
    end
    assert(ok, err)
  end)
  root_it("builds only the fields asked for, plus family and dst", function()
    local full = assert(ns.routes { netns = NS, table = "all" })
    local sets = {
      { "gateway", "interface" },
      { "nexthops", "metrics", "table" },
      { "flags", "type", "pref", "kernel_flags", "table_name", "cache" },
      { "flags" },
      { "flags", "gateway", "nexthops" },
      {},
    }
    for _, fields in ipairs(sets) do
      local lean = assert(ns.routes { netns = NS, table = "all", fields = fields })
      assert.equal(#full, #lean)
      local keep = { family = true, dst = true }
      for _, f in ipairs(fields) do keep[f] = true end
      if keep.cache then keep.cloned = true end
      for i, r in ipairs(full) do
        local want = {}
        for k, v in pairs(r) do if keep[k] then want[k] = v end end
        assert.same(want, lean[i])
      end
      -- the same through each_route and from /proc
      local streamed = {}
      assert(ns.each_route({ netns = NS, table = "all", fields = fields },
        function(r) streamed[#streamed + 1] = r end))
      assert.same({ unpack(lean) }, streamed)
    end
    local proc_full = assert(ns.routes { netns = NS, table = "all", source = "proc" })
    local proc_lean = assert(ns.routes { netns = NS, table = "all", source = "proc", fields = { "metric" } })
    local proc_flags = assert(ns.routes { netns = NS, table = "all", source = "proc", fields = { "flags" } })
    for i, r in ipairs(proc_full) do
      assert.is_nil(r.rtf)   -- consumed by the flags
      assert.same({ family = r.family, dst = r.dst, metric = r.metric }, proc_lean[i])
      assert.same({ family = r.family, dst = r.dst, flags = r.flags }, proc_flags[i])
    end
  end)

  root_it("streams with each_route exactly what routes() lists", function()
    for _, opts in ipairs { { table = "all" }, { table = 1000 }, { family = "inet6" } } do
      opts.netns = NS
      local list = assert(ns.routes(opts))
      local streamed = {}
      local count, summary = assert(ns.each_route(opts, function(r) streamed[#streamed + 1] = r end))
      assert.equal(#list, count)
      assert.same({ unpack(list) }, streamed)
      assert.equal("netlink", summary.source)
      assert.is_nil(summary.partial)
    end
  end)

  root_it("filters by table and family, as ip does", function()
    local function keys(list)
      local t = {}
      for _, r in ipairs(list) do t[#t + 1] = route_key(comparable(r)) end
      table.sort(t)
      return t
    end
    -- ip leaves the table out of its output when one table is asked for
    local function ip_keys(tbl, id, fams)
      local t = {}
      for _, fam in ipairs(fams or { "inet", "inet6" }) do
        local cmd = format("ip -j -d -%d -n %s route show table %s", fam == "inet" and 4 or 6, NS, tbl)
        for _, j in ipairs(ip_json(cmd)) do
          local r = from_ip(j, fam)
          r.table = id
          t[#t + 1] = route_key(r)
        end
      end
      table.sort(t)
      return t
    end
    local main = assert(ns.routes { netns = NS })
    assert.is_true(#main > 10)
    assert.same(ip_keys("main", 254), keys(main))
    assert.same(ip_keys("local", 255), keys(assert(ns.routes { netns = NS, table = "local" })))
    assert.same(ip_keys("local", 255), keys(assert(ns.routes { netns = NS, table = 255 })))
    assert.same(ip_keys("1000", 1000), keys(assert(ns.routes { netns = NS, table = 1000 })))
    assert.same(ip_keys("100", 100, { "inet" }), keys(assert(ns.routes { netns = NS, table = 100, family = "inet" })))
    assert.same(ip_keys("main", 254, { "inet6" }), keys(assert(ns.routes { netns = NS, family = "inet6" })))
    assert.equal(2, #assert(ns.routes { netns = NS, table = 1000 }))
    local v4 = assert(ns.routes { netns = NS, family = "inet", table = "all" })
    for _, r in ipairs(v4) do assert.equal("inet", r.family) end
    -- tables that do not exist: empty, not an error
    assert.equal(0, #assert(ns.routes { netns = NS, table = 4242 }))
    assert.equal(0, #assert(ns.routes { netns = NS, table = "default" }))
    assert.equal(0, #assert(ns.routes { netns = PEER, table = 100, family = "inet6" }))
  end)

  -- `ip -j -d route get`, in lnetstat's shape.
  local function ip_get(args, family)
    local j = ip_json(format("ip -j -d -%d -n %s route get %s", family == "inet" and 4 or 6, NS, args))
    return from_ip(j[1], family)
  end

  local function assert_get(addr, opts, args, family)
    opts = opts or {}
    opts.netns = NS
    local r = assert(ns.route_get(addr, opts))
    local j = ip_get(args or addr, family)
    assert.equal(j.dst, r.dst)
    assert.equal(j.gateway, r.gateway)
    assert.equal(j.interface, r.interface)
    assert.equal(j.prefsrc, r.prefsrc)
    assert.equal(j.type or "unicast", r.type)
    if j.table then assert.equal(j.table, r.table) end
    if family == "inet6" then assert.equal(j.metric, r.metric) end
    if j.src then assert.equal((j.src:gsub("/%d+$", "")), (r.src:gsub("/%d+$", ""))) end
    if j.metrics then assert.same(j.metrics, comparable(r).metrics) end
    return r, j
  end

  root_it("route_get answers what ip route get answers", function()
    local r = assert_get("203.0.113.130", nil, nil, "inet")
    assert.equal("198.51.100.2", r.gateway)
    assert.equal(254, r.table)
    assert.is_true(r.cloned)
    r = assert_get("198.51.100.1", nil, nil, "inet")
    -- (the table is the kernel's lookup table: main while local and main
    -- are merged, i.e. as long as there are no custom rules)
    assert.same({ "local", "lo" }, { r.type, r.interface })
    assert.same({ "local" }, r.cache)
    r = assert_get("203.0.113.50", { from = "198.51.100.1", oif = "rtv0", mark = 5 },
      "203.0.113.50 from 198.51.100.1 oif rtv0 mark 5", "inet")
    assert.same({ "198.51.100.254", "198.51.100.1/32", 5 }, { r.gateway, r.src, r.mark })
    r = assert_get("2001:db8:2::5", nil, nil, "inet6")
    assert.same({ "2001:db8:1::2", 200, "2001:db8:1::1" }, { r.gateway, r.metric, r.prefsrc })
    assert.same({ mtu = 1300 }, r.metrics)
    r = assert_get("2001:db8:4::1", { from = "2001:db8:1::1" }, "2001:db8:4::1 from 2001:db8:1::1", "inet6")
    assert.equal("2001:db8:1::4", r.gateway)
    r = assert_get("2001:db8:7::1", nil, nil, "inet6")   -- the IPv6 default route
    assert.equal("2001:db8:1::fe", r.gateway)
  end)

  root_it("route_get fails as the kernel does when there is no usable route", function()
    local function ip_error(addr, netns)
      local out = helpers.run(format("ip -n %s route get %s 2>&1", netns, addr))
      return out:match("answers: ([^\n]+)") or out
    end
    for _, c in ipairs { { "203.0.113.8", 113 }, { "203.0.113.9", 13 } } do
      local r, msg, errno = ns.route_get(c[1], { netns = NS })
      assert.is_nil(r)
      assert.equal(c[2], errno)
      assert.matches(ip_error(c[1], NS), msg, 1, true)
    end
    local r, msg, errno = ns.route_get("203.0.113.99", { netns = PEER })   -- no default route there
    assert.is_nil(r)
    assert.equal(101, errno)
    assert.matches(ip_error("203.0.113.99", PEER), msg, 1, true)
    r, msg, errno = ns.route_get("2001:db8:ff::1", { netns = PEER })
    assert.is_nil(r)
    assert.equal(101, errno)
    assert.matches("route get 2001:db8:ff::1", msg, 1, true)
  end)

  root_it("/proc/net/route agrees with the netlink dump of table main", function()
    local proc = assert(ns.routes { netns = NS, family = "inet", source = "proc" })
    assert.equal("proc", proc.source)
    assert.is_nil(proc.partial)
    local nl = assert(ns.routes { netns = NS, family = "inet" })
    local want = {}
    for _, r in ipairs(nl) do
      if r.type ~= "broadcast" and r.type ~= "multicast" then   -- the file leaves those out
        local hop = r.nexthops and r.nexthops[1] or r   -- the file shows the first hop only
        local metrics
        if r.metrics and (r.metrics.advmss or r.metrics.window or r.metrics.rtt) then
          metrics = { advmss = r.metrics.advmss, window = r.metrics.window, rtt = r.metrics.rtt }
        end
        -- the file's bits, by name: the kernel sets U, G, H and ! (for two types)
        local bits = { UP = true }
        if hop.gateway then bits.GATEWAY = true end
        if r.dst:find("/32$") then bits.HOST = true end
        if r.type == "unreachable" or r.type == "prohibit" then bits.REJECT = true end
        want[#want + 1] = { family = "inet", dst = r.dst, gateway = hop.gateway, interface = hop.interface,
          metric = r.metric, table = 254, table_name = "main", flags = r.flags, metrics = metrics,
          rtf_flags = bits }
      end
    end
    local function sort(l) table.sort(l, function(a, b) return a.dst .. a.metric < b.dst .. b.metric end) end
    sort(want)
    sort(proc)
    assert.equal(#want, #proc)
    for i = 1, #want do assert.same(want[i], proc[i]) end
    assert.is_true(#proc >= 12, #proc)
  end)

  root_it("/proc/net/ipv6_route agrees with the netlink dump of every table", function()
    local proc = assert(ns.routes { netns = NS, family = "inet6", source = "proc", table = "all" })
    assert.is_nil(proc.partial)
    local nl = assert(ns.routes { netns = NS, family = "inet6", table = "all" })
    local function k(dst, src, gw, dev, metric, flags)
      return concat({ dst, src or "-", gw or "-", dev or "-", tostring(metric), flags }, " ")
    end
    local want, got = {}, {}
    for _, r in ipairs(nl) do
      -- one line per nexthop in the file
      for _, hop in ipairs(r.nexthops or { r }) do
        want[#want + 1] = k(r.dst, r.src, hop.gateway, hop.interface, r.metric, r.flags)
      end
    end
    for _, r in ipairs(proc) do
      got[#got + 1] = k(r.dst, r.src, r.gateway, r.interface, r.metric, r.flags)
      if r.type then assert.truthy(r.type == "local" or r.type == "anycast") end
    end
    table.sort(want)
    table.sort(got)
    assert.same(want, got)
    assert.is_true(#got >= 12)
    local main = assert(ns.routes { netns = NS, family = "inet6", source = "proc" })
    assert.matches("does not name tables", main.partial)
    assert.equal(#proc, #main)
  end)

  root_it("the /proc fallback says what it cannot list", function()
    local t100 = assert(ns.routes { netns = NS, table = 100, family = "inet", source = "proc" })
    assert.equal(0, #t100)
    assert.matches("only table main", t100.partial)
    local all = assert(ns.routes { netns = NS, table = "all", source = "proc" })
    assert.matches("only table main", all.partial)
    assert.equal("proc", all.source)
  end)

  root_it("interface names come from the namespace, not from the caller's", function()
    local list = assert(ns.routes { netns = NS, family = "inet" })
    local seen = {}
    for _, r in ipairs(list) do if r.interface then seen[r.interface] = r.oif end end
    local links = ip_json(format("ip -j -n %s link show", NS))
    local index = {}
    for _, l in ipairs(links) do index[l.ifname] = l.ifindex end
    assert.is_number(seen.rtv0)
    assert.is_number(seen.rtbr0)
    for name, oif in pairs(seen) do assert.equal(index[name], oif, name) end
  end)
end)

describe("routes_spec cleanup", function()
  root_it("left no network namespace behind", function()
    local out = helpers.run("ip netns list")
    assert.is_nil(out:find(format("lnetstat%%-rt%%a*%%-%d%%-", helpers.getpid())), out)
  end)
end)
