-- stats(), groups() and namespaces(): the /proc parsers on fixtures (any
-- user), argument errors, and differential checks in private namespaces
-- against nstat, /proc/net/sockstat, `ss -s`, `netstat -gn`, `ip -j maddr`
-- and `ip netns` (root).
local ns = require "lnetstat"
local core = require "lnetstat.core"
-- the parser and decoder hooks: a test-only module that make test builds
local hooks = require "lnetstat.testhooks"
local helpers = require "helpers"

local quote, run, must = helpers.quote, helpers.run, helpers.must
local format = string.format

local fixture = helpers.fixtures("stats")
local err_of, is_integer, count = helpers.err_of, helpers.is_integer, helpers.count_keys

-- /proc/net/igmp prints the native u32 of a __be32: the fixtures were
-- recorded on a little-endian host.
local little_endian = true
if string.pack then little_endian = string.pack("=I4", 1):byte(1) == 1 end

local PAGESIZE = tonumber((run("getconf PAGESIZE")):match("%d+")) or 4096

-- An independent reader of the "Prefix: names" / "Prefix: values" files,
-- for the differential checks: { Prefix = { name = value } }.
local function read_pairs(text)
  local out, header = {}, nil
  for line in text:gmatch("[^\n]+") do
    local prefix, rest = line:match("^(%w+):%s*(.*)$")
    if header and header.prefix == prefix then
      local names, values = {}, {}
      for w in header.rest:gmatch("%S+") do names[#names + 1] = w end
      for w in rest:gmatch("%S+") do values[#values + 1] = tonumber(w) end
      out[prefix] = out[prefix] or {}
      for i, n in ipairs(names) do out[prefix][n] = values[i] end
      header = nil
    else
      header = { prefix = prefix, rest = rest }
    end
  end
  return out
end

-- sockstat text -> { sockets_used = n, TCP = { inuse = n, ... }, ... }
local function read_sockstat(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local prefix, rest = line:match("^(%w+):%s*(.*)$")
    local t = {}
    for k, v in rest:gmatch("(%a+)%s+(%-?%d+)") do t[k] = tonumber(v) end
    if prefix == "sockets" then
      for k, v in pairs(t) do out["sockets_" .. k] = v end
    else
      out[prefix] = t
    end
  end
  return out
end

describe("stats() parsers on fixtures", function()
  it("zips snmp names and values by name, for other column counts and orders", function()
    local t, partial = hooks._parse_snmp(fixture("snmp.other-columns"))
    assert.is_nil(partial)
    -- Ip without Forwarding and OutTransmits, with a column this kernel lacks
    assert.equal(19, count(t.Ip))
    assert.is_nil(t.Ip.Forwarding)
    assert.equal(64, t.Ip.DefaultTTL)
    assert.equal(1001, t.Ip.InReceives)
    assert.equal(996, t.Ip.InDelivers)
    assert.equal(424242, t.Ip.InFutureThing)
    -- Tcp with MaxConn moved to the front: signed, and found by name
    assert.equal(-1, t.Tcp.MaxConn)
    assert.equal(1, t.Tcp.RtoAlgorithm)
    assert.equal(120000, t.Tcp.RtoMax)
    assert.equal(31, t.Tcp.ActiveOpens)
    assert.equal(4, t.Tcp.CurrEstab)
    assert.equal(9223372036854775807, t.Tcp.InSegs)
    assert.equal(4294967296000, t.Tcp.OutSegs)
    assert.equal(3, t.Tcp.OutRsts)
    assert.is_nil(t.Tcp.InCsumErrors)
    assert.same({ InType3 = 17, InType8 = 2, OutType0 = 2, OutType3 = 5 }, t.IcmpMsg)
    assert.same({ InMsgs = 17, InErrors = 0, InDestUnreachs = 17, OutMsgs = 5, OutDestUnreachs = 5 }, t.Icmp)
    assert.equal(6, count(t.Udp))
    assert.equal(9, count(t.UdpLite))
    for _, g in pairs(t) do
      for k, v in pairs(g) do assert.is_true(is_integer(v), k) end
    end
  end)

  it("merges a group printed as several pairs (IcmpMsg, 16 types a line)", function()
    local t, partial = hooks._parse_snmp(fixture("snmp.icmpmsg-split"))
    assert.is_nil(partial)
    assert.equal(19, count(t.IcmpMsg))
    assert.equal(100, t.IcmpMsg.InType0)
    assert.equal(115, t.IcmpMsg.InType15)
    assert.equal(200, t.IcmpMsg.OutType0)
    assert.equal(202, t.IcmpMsg.OutType8)
    assert.same({ RtoAlgorithm = 1, MaxConn = -1 }, t.Tcp)
  end)

  it("reads netstat (TcpExt, IpExt) with columns added and dropped", function()
    local t, partial = hooks._parse_snmp(fixture("netstat.other-columns"))
    assert.is_nil(partial)
    assert.same({ SyncookiesSent = 0, TW = 12, ListenOverflows = 3, ListenDrops = 4,
      TCPBrandNewCounter = 77, DelayedACKs = 19 }, t.TcpExt)
    assert.same({ InNoRoutes = 0, InMcastPkts = 2, InOctets = 123456789012,
      OutOctets = 98765432109 }, t.IpExt)
  end)

  it("zips the common part of a value line of another length and says so", function()
    local t, partial = hooks._parse_snmp(fixture("snmp.short-values"))
    assert.same({ RtoAlgorithm = 1, RtoMin = 200, RtoMax = 120000, MaxConn = -1 }, t.Tcp)
    assert.same({ InDatagrams = 5, NoPorts = 6 }, t.Udp)
    assert.same({ SyncookiesSent = 1, TW = 2 }, t.TcpExt)
    assert.equal("snmp: Tcp has 6 names but 4 values (and 1 more)", partial)
  end)

  it("skips a non-number and a header without values, and says so", function()
    local t, partial = hooks._parse_snmp(fixture("snmp.malformed"))
    assert.same({ InDatagrams = 5, InErrors = 7 }, t.Udp)
    assert.matches("^snmp: Udp NoPorts: not a number 'x6' %(and 1 more%)$", partial)
    local _, p2 = hooks._parse_snmp("IpExt: InOctets OutOctets\n")
    assert.equal("snmp: IpExt names without a value line", p2)
    local t3, p3 = hooks._parse_snmp("")
    assert.same({}, t3)
    assert.is_nil(p3)
  end)

  it("splits snmp6 names into groups the way nstat names them", function()
    local t, partial = hooks._parse_snmp6(fixture("snmp6"))
    assert.is_nil(partial)
    assert.same({ InReceives = 1001, InHdrErrors = 0, InOctets = 4294967296000,
      InFutureCounter = 9 }, t.Ip6)
    assert.same({ InMsgs = 4, InType1 = 1, InType135 = 3, OutType143 = 8 }, t.Icmp6)
    assert.same({ InDatagrams = 12, IgnoredMulti = 0 }, t.Udp6)
    assert.same({ InDatagrams = 0, MemErrors = 2 }, t.UdpLite6)
    assert.equal(4, count(t))
    local _, p2 = hooks._parse_snmp6("Ip6InReceives\nIcmp6InMsgs 1 2\n")
    assert.equal("snmp6: a line that is not 'Name value' (and 1 more)", p2)
  end)

  it("reads sockstat and sockstat6 into one table, mem in pages and bytes", function()
    local t, partial = hooks._parse_sockstat(fixture("sockstat"))
    assert.is_nil(partial)
    local t2, partial2 = hooks._parse_sockstat(fixture("sockstat6"), t)
    assert.equal(t, t2)
    assert.is_nil(partial2)
    -- pages as read; stats() derives the bytes with the page size
    assert.same({ 3, nil }, { t.TCP.mem, t.TCP.mem_bytes })
    local notes = {}
    require("lnetstat.source.counters").sockstat_bytes(notes, t, PAGESIZE)
    assert.is_nil(notes.partial)
    assert.same({
      sockets_used = 290,
      TCP = { inuse = 5, orphan = 1, tw = 7, alloc = 9, mem = 3, mem_bytes = 3 * PAGESIZE },
      UDP = { inuse = 2, mem = 4, mem_bytes = 4 * PAGESIZE },
      UDPLITE = { inuse = 0 },
      RAW = { inuse = 1 },
      FRAG = { inuse = 0, memory = 0 },
      TCP6 = { inuse = 4 },
      UDP6 = { inuse = 3 },
      UDPLITE6 = { inuse = 0 },
      RAW6 = { inuse = 1 },
      FRAG6 = { inuse = 2, memory = 4096 },
    }, t)
    local _, p3 = hooks._parse_sockstat("TCP: inuse 1 orphan\nnonsense\n")
    assert.equal("sockstat: TCP: 'orphan' without a value (and 1 more)", p3)
  end)
end)

describe("groups() parsers on fixtures", function()
  it("reads igmp: interface lines, tab-indented groups, reversed hex", function()
    local list, partial = hooks._parse_igmp(fixture("igmp"))
    assert.is_nil(partial)
    if not little_endian then pending("igmp fixture recorded on little endian") return end
    assert.same({
      { interface = "lo", index = 1, family = "inet", group = "224.0.0.1", users = 1, querier = "V3" },
      { interface = "veth-lnx-long0", index = 7, family = "inet", group = "239.1.2.3", users = 2, querier = "V2" },
      { interface = "veth-lnx-long0", index = 7, family = "inet", group = "224.0.0.251", users = 1, querier = "V2" },
      { interface = "veth-lnx-long0", index = 7, family = "inet", group = "224.0.0.1", users = 1, querier = "V2" },
    }, list)
  end)

  it("reads igmp6 (network-order hex)", function()
    local list, partial = hooks._parse_igmp6(fixture("igmp6"))
    assert.is_nil(partial)
    assert.same({
      { interface = "lo", index = 1, family = "inet6", group = "ff02::1", users = 1 },
      { interface = "veth-lnx-long0", index = 7, family = "inet6", group = "ff15::1234", users = 2 },
      { interface = "veth-lnx-long0", index = 7, family = "inet6", group = "ff02::1:ff00:2", users = 1 },
    }, list)
  end)

  it("notes malformed lines and groups without an interface", function()
    local list, partial = hooks._parse_igmp("\t\t\t\t010000E0     1 0:00000000\t\t0\n1\tlo :\n")
    assert.same({}, list)
    assert.equal("igmp: a group line without its interface (and 1 more)", partial)
    local list6, partial6 = hooks._parse_igmp6("1 lo ff02 1 0 0\n")
    assert.same({}, list6)
    assert.equal("igmp6: a malformed line", partial6)
  end)
end)

describe("namespaces() listing (core.netns_list)", function()
  it("gives an empty list for a missing directory", function()
    assert.same({}, core.netns_list("/nonexistent/lnetstat-netns-dir"))
  end)

  it("lists entries that are not namespaces without an id", function()
    local dir = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(dir) end)
    must("touch " .. quote(dir .. "/stale"))
    assert.same({ { name = "stale", path = dir .. "/stale", current = false } },
      core.netns_list(dir))
  end)
end)

describe("counters argument errors", function()
  it("rejects non-tables and unknown options, with suggestions", function()
    assert.matches("bad argument #1 to 'stats' %(table expected, got string%)", err_of(ns.stats, "Tcp"))
    assert.matches("bad argument #1 to 'stats' %(unknown option 'onyl'; did you mean 'only'%?%)",
      err_of(ns.stats, { onyl = "Tcp" }))
    assert.matches("bad argument #1 to 'groups' %(unknown option 'familly'; did you mean 'family'%?%)",
      err_of(ns.groups, { familly = "inet" }))
    assert.matches("bad argument #1 to 'groups' %(unknown option 'netsn'; did you mean 'netns'%?%)",
      err_of(ns.groups, { netsn = "x" }))
    assert.matches("bad argument #1 to 'namespaces' %(unknown option 'netns'%)",
      err_of(ns.namespaces, { netns = "x" }))
    assert.matches("bad argument #1 to 'namespaces' %(table expected, got number%)",
      err_of(ns.namespaces, 1))
  end)

  it("rejects unknown group names and families", function()
    assert.matches("only must be one of .* got 'TCPExt'; did you mean 'TcpExt'%?",
      err_of(ns.stats, { only = "TCPExt" }))
    assert.matches("only must be one of", err_of(ns.stats, { only = { "Tcp", "Tpc" } }))
    assert.matches("only list is empty", err_of(ns.stats, { only = {} }))
    assert.matches("only must be one of .* got number", err_of(ns.stats, { only = 1 }))
    assert.matches("family must be one of inet, inet6, got 'inet4'; did you mean 'inet'%?",
      err_of(ns.groups, { family = "inet4" }))
    assert.matches("netns must be a name, a path or a pid", err_of(ns.stats, { netns = {} }))
    assert.matches("netns pid must be a positive integer", err_of(ns.groups, { netns = 0 }))
  end)

  it("points the error at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, msg = pcall(function() ns.stats { onyl = 1 } end)
    assert.is_false(ok)
    assert.matches("counters_spec.lua:" .. line .. ":", msg)
  end)

  it("returns nil, message, errno for a missing netns", function()
    for _, f in ipairs { ns.stats, ns.groups } do
      local list, msg, errno = f { netns = "lnetstat-no-such-netns" }
      assert.is_nil(list)
      assert.matches("netns '/var/run/netns/lnetstat%-no%-such%-netns': not a network namespace$", msg)
      assert.equal(2, errno)
    end
  end)
end)

describe("stats() on this host", function()
  it("has every group and name of /proc/net/snmp and netstat, as integers", function()
    -- the host's traffic may add names (IcmpMsg gets one per new ICMP type)
    -- while we read: stats() has the names of the file read before it and
    -- only names of the file read after it
    local function files()
      return read_pairs(helpers.read_file("/proc/net/snmp") .. helpers.read_file("/proc/net/netstat"))
    end
    local before = files()
    local s = assert(ns.stats())
    local after = files()
    assert.is_nil(s.partial)
    for g, names in pairs(before) do
      assert.is_table(s[g], g)
      for k in pairs(names) do assert.is_true(is_integer(s[g][k]), g .. "." .. k) end
    end
    for g in pairs(after) do
      if s[g] then
        for k in pairs(s[g]) do assert.is_not_nil(after[g][k], g .. "." .. k) end
      end
    end
    assert.is_true(count(before.Tcp) > 10)
    assert.equal(-1, s.Tcp.MaxConn) -- Linux has no limit: RFC 2012 says -1
    assert.is_true(is_integer(s.sockstat.sockets_used))
    assert.is_true(is_integer(s.sockstat.TCP.inuse))
    assert.equal(s.sockstat.TCP.mem * PAGESIZE, s.sockstat.TCP.mem_bytes)
    assert.is_nil(s.page_size) -- the unit of mem, taken off once used
  end)

  it("opens and returns only the groups asked for", function()
    local s = assert(ns.stats { only = { "Tcp", "TcpExt" } })
    assert.same({ "Tcp", "TcpExt" }, helpers.keys(s))
    local s2 = assert(ns.stats { only = "sockstat" })
    assert.same({ "sockstat" }, helpers.keys(s2))
    if helpers.read_file("/proc/net/sockstat6") then assert.is_table(s2.sockstat.TCP6) end
  end)
end)

-- Non-counters nstat leaves out (iproute2 misc/nstat.c useless_number).
local NON_COUNTERS = {
  IpForwarding = true, IpDefaultTTL = true, TcpRtoAlgorithm = true, TcpRtoMin = true,
  TcpRtoMax = true, TcpMaxConn = true, TcpCurrEstab = true,
}

-- Three loopback TCP connections closed by the server side (three
-- TIME_WAIT sockets there), one UDP datagram to a closed port (an ICMP port
-- unreachable) and one UDP datagram over ::1.
local TRAFFIC = [[python3 -c '
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
for i in range(3):
    c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
    c.sendall(b"x" * 100); assert a.recv(100)
    a.close(); c.recv(1); c.close()
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); closed.bind(("127.0.0.1", 0))
port = closed.getsockname()[1]; closed.close()
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hi", ("127.0.0.1", port))
r6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); r6.bind(("::1", 0))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.sendto(b"hi", r6.getsockname())
assert r6.recv(10) == b"hi"
']]

local function flatten(stats)
  local flat = {}
  for g, t in pairs(stats) do
    if type(t) == "table" and g ~= "sockstat" then
      for k, v in pairs(t) do flat[g .. k] = v end
    end
  end
  return flat
end

local function nstat(netns)
  local hist = (must("mktemp /tmp/lnetstat-nstat.XXXXXX")):gsub("%s+$", "")
  local out, ok = run(format("NSTAT_HISTORY=%s ip netns exec %s nstat -az --json 2>&1",
    quote(hist), quote(netns)))
  os.remove(hist)
  assert(ok, out)
  return helpers.json_decode(out).kernel
end

describe("stats() in a private netns", function()
  local netns
  setup(function()
    if not helpers.is_root() then return end -- the tests below are pending
    netns = helpers.netns_create("cnt-stats")
    must("ip netns exec " .. quote(netns) .. " " .. TRAFFIC)
    helpers.sleep(0.3) -- let delayed-ACK timers of the closed connections fire
  end)
  teardown(function() helpers.netns_delete(netns) end)

  helpers.root_it("equals nstat -az for every counter, both ways", function()
    local before = nstat(netns)
    local s = assert(ns.stats { netns = netns })
    local after = nstat(netns)
    assert.is_nil(s.partial)
    local flat = flatten(s)
    local compared, moved = 0, {}
    for k, v in pairs(before) do
      if not k:match("^Sctp") then -- nstat also reads /proc/net/sctp/snmp
        assert.is_not_nil(flat[k], "nstat counter missing from stats(): " .. k)
        -- counters only grow: before <= ours <= after; equal when quiet
        assert.is_true(v <= flat[k] and flat[k] <= after[k],
          format("%s: nstat %s then %s, stats() %s", k, v, after[k], flat[k]))
        if v ~= after[k] then moved[#moved + 1] = k end
        compared = compared + 1
      end
    end
    assert.same({}, moved) -- an idle private netns: nothing moves
    for k, v in pairs(flat) do
      assert.is_true(is_integer(v), k)
      if not NON_COUNTERS[k] then
        assert.is_not_nil(before[k], "stats() field unknown to nstat: " .. k)
      end
    end
    assert.is_true(compared > 300, "compared " .. compared)
  end)

  helpers.root_it("counts exactly the traffic the scenario made", function()
    local s = assert(ns.stats { netns = netns })
    assert.equal(3, s.Tcp.ActiveOpens)
    assert.equal(3, s.Tcp.PassiveOpens)
    assert.equal(0, s.Tcp.CurrEstab)
    assert.equal(-1, s.Tcp.MaxConn)
    assert.equal(1, s.Udp.NoPorts)
    assert.equal(1, s.Icmp.OutDestUnreachs)
    assert.equal(1, s.IcmpMsg.OutType3)
    assert.equal(1, s.IcmpMsg.InType3)
    assert.equal(1, s.Udp6.InDatagrams)
    assert.equal(1, s.Udp6.OutDatagrams)
    assert.equal(3, s.sockstat.TCP.tw)
    assert.equal(0, s.sockstat.TCP.inuse)
  end)

  helpers.root_it("reads sockstat of the netns, as the file and ss -s show it", function()
    local text = must("ip netns exec " .. quote(netns) .. " cat /proc/net/sockstat /proc/net/sockstat6")
    local s = assert(ns.stats { netns = netns, only = "sockstat" })
    local ss = must("ip netns exec " .. quote(netns) .. " ss -s")
    local want, got = read_sockstat(text), s.sockstat
    -- TCP orphan, alloc and mem and UDP mem are host-wide counters that
    -- other processes move: present, not compared.
    local global = { ["TCP.orphan"] = true, ["TCP.alloc"] = true, ["TCP.mem"] = true, ["UDP.mem"] = true }
    for proto, t in pairs(want) do
      if type(t) == "number" then
        assert.equal(t, got[proto], proto)
      else
        for k, v in pairs(t) do
          assert.is_true(is_integer(got[proto][k]), proto .. "." .. k)
          if not global[proto .. "." .. k] then assert.equal(v, got[proto][k], proto .. "." .. k) end
        end
        if t.mem then assert.equal(got[proto].mem * PAGESIZE, got[proto].mem_bytes) end
      end
    end
    assert.equal(tonumber(ss:match("Total:%s*(%d+)")), got.sockets_used)
    assert.equal(tonumber(ss:match("timewait (%d+)")), got.TCP.tw)
    local rows = {}
    for name, total, ip, ip6 in ss:gmatch("\n(%u+)%s+(%d+)%s+(%d+)%s+(%d+)") do
      rows[name] = { tonumber(total), tonumber(ip), tonumber(ip6) }
    end
    assert.same({ got.RAW.inuse + got.RAW6.inuse, got.RAW.inuse, got.RAW6.inuse }, rows.RAW)
    assert.same({ got.UDP.inuse + got.UDP6.inuse, got.UDP.inuse, got.UDP6.inuse }, rows.UDP)
    assert.same({ got.TCP.inuse + got.TCP6.inuse, got.TCP.inuse, got.TCP6.inuse }, rows.TCP)
    assert.same({ got.FRAG.inuse + got.FRAG6.inuse, got.FRAG.inuse, got.FRAG6.inuse }, rows.FRAG)
  end)
end)

-- Two IPv4 sockets join 239.1.2.3 and one IPv6 socket ff15::1234 on lnxg0.
local JOINER = [[python3 -c '
import socket, struct, time
idx = socket.if_nametoindex("lnxg0")
keep = []
for i in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
        struct.pack("4s4si", socket.inet_aton("239.1.2.3"), socket.inet_aton("0.0.0.0"), idx))
    keep.append(s)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
    socket.inet_pton(socket.AF_INET6, "ff15::1234") + struct.pack("@I", idx))
print("ready", flush=True)
time.sleep(600)
']]

describe("groups() in a private netns", function()
  local netns, pid
  setup(function()
    if not helpers.is_root() then return end -- the tests below are pending
    netns = helpers.netns_create("cnt-grp")
    local n = quote(netns)
    must("ip -n " .. n .. " link add lnxg0 type veth peer name lnxg1")
    must("ip -n " .. n .. " link set lnxg0 up")
    must("ip -n " .. n .. " link set lnxg1 up")
    must("ip -n " .. n .. " addr add 198.51.100.1/24 dev lnxg0")
    local h
    pid, h = helpers.spawn("ip netns exec " .. n .. " " .. JOINER)
    local ok, out = h:wait_ready(10)
    h.cleanup()
    assert(ok, out)
  end)
  teardown(function()
    helpers.kill(pid, 5, "python3")
    helpers.netns_delete(netns)
  end)

  local function key(r) return format("%s %s %s", r.interface, r.family, r.group) end

  -- Memberships settle after the links come up (IPv6 solicited-node
  -- groups): read until two reads agree.
  local function settled()
    local prev
    for _ = 1, 50 do
      local list = assert(ns.groups { netns = netns })
      local set, lines = {}, {}
      for _, r in ipairs(list) do
        set[key(r)] = r.users
        lines[#lines + 1] = key(r) .. " " .. r.users
      end
      table.sort(lines)
      local text = table.concat(lines, "\n")
      if text == prev then return list, set end
      prev = text
      helpers.sleep(0.1)
    end
    error("memberships did not settle")
  end

  helpers.root_it("has the groups our sockets joined, with their user counts", function()
    local list = settled()
    local idx = helpers.json_decode(must("ip -n " .. quote(netns) .. " -j link show lnxg0"))[1].ifindex
    local found = {}
    for _, r in ipairs(list) do
      assert.is_nil(getmetatable(r))
      if r.interface == "lnxg0" then assert.equal(idx, r.index) end
      found[key(r)] = r
    end
    assert.equal(2, found["lnxg0 inet 239.1.2.3"].users)
    assert.equal(1, found["lnxg0 inet6 ff15::1234"].users)
    assert.equal("inet", found["lo inet 224.0.0.1"].family)
    assert.matches("^V%d$", found["lnxg0 inet 239.1.2.3"].querier)
    assert.is_nil(list.partial)
  end)

  helpers.root_it("equals netstat -gn and ip -j maddr", function()
    local _, set = settled()
    local out = must("ip netns exec " .. quote(netns) .. " netstat -gn")
    local nt = {}
    for ifname, users, group in out:gmatch("\n(%S+)%s+(%d+)%s+(%S+)") do
      local fam = group:find(":", 1, true) and "inet6" or "inet"
      nt[format("%s %s %s", ifname, fam, group)] = tonumber(users)
    end
    assert.is_not_nil(nt["lnxg0 inet 239.1.2.3"])
    assert.same(nt, set)
    local ipm = {}
    for _, link in ipairs(helpers.json_decode(must("ip -n " .. quote(netns) .. " -j maddr show"))) do
      for _, m in ipairs(link.maddr or {}) do
        if m.family == "inet" or m.family == "inet6" then
          ipm[format("%s %s %s", link.ifname, m.family, m.address)] = true
        end
      end
    end
    local ours = {}
    for k in pairs(set) do ours[k] = true end
    assert.same(ipm, ours)
  end)

  helpers.root_it("filters by family", function()
    local _, set = settled()
    local v4 = assert(ns.groups { netns = netns, family = "inet" })
    local v6 = assert(ns.groups { netns = netns, family = "inet6" })
    for _, r in ipairs(v4) do assert.equal("inet", r.family) end
    for _, r in ipairs(v6) do assert.equal("inet6", r.family) end
    assert.equal(count(set), #v4 + #v6)
    assert.is_true(#v4 >= 3 and #v6 >= 1)
  end)
end)

describe("namespaces()", function()
  local function lookup(list)
    local by = {}
    for _, r in ipairs(list) do by[r.name] = r end
    return by
  end

  helpers.root_it("lists named namespaces with paths and ids, and forgets deleted ones", function()
    local a, b, alias
    finally(function()
      helpers.netns_delete(alias)
      helpers.netns_delete(a)
      helpers.netns_delete(b)
    end)
    a = helpers.netns_create("cnt-nsa")
    b = helpers.netns_create("cnt-nsb")
    -- a second name of a's namespace, as `ip netns attach` would make
    alias = a .. "-alias"
    must(format("touch /var/run/netns/%s && mount --bind /var/run/netns/%s /var/run/netns/%s",
      quote(alias), quote(a), quote(alias)))

    local list = assert(ns.namespaces())
    for i = 2, #list do assert.is_true(list[i - 1].name < list[i].name) end
    local by = lookup(list)
    for _, name in ipairs { a, b, alias } do
      local r = by[name]
      assert.is_table(r, name)
      assert.equal("/var/run/netns/" .. name, r.path)
      assert.is_true(is_integer(r.id) and r.id > 0)
      assert.is_false(r.current)
      assert.is_nil(getmetatable(r))
    end
    assert.equal(by[a].id, by[alias].id)
    assert.not_equal(by[a].id, by[b].id)
    -- the inode ip netns / stat see
    assert.equal(tonumber((must("stat -L -c %i /var/run/netns/" .. quote(b))):match("%d+")), by[b].id)
    -- the names `ip netns list` shows, of those this test made (other
    -- namespaces of the host come and go while it runs)
    local shown = {}
    for line in (must("ip netns list")):gmatch("[^\n]+") do shown[line:match("^(%S+)")] = true end
    for _, name in ipairs { a, b, alias } do assert.is_true(shown[name], name) end

    assert.is_true(helpers.netns_delete(alias))
    assert.is_true(helpers.netns_delete(b))
    by = lookup(assert(ns.namespaces()))
    assert.is_nil(by[alias])
    assert.is_nil(by[b])
    assert.is_table(by[a])
  end)

  helpers.root_it("gives each namespace the nsid ip netns list shows", function()
    local a, b
    finally(function()
      helpers.netns_delete(a)
      helpers.netns_delete(b)
    end)
    a = helpers.netns_create("cnt-nsid")
    b = helpers.netns_create("cnt-nonsid")
    -- a free id: one ip does not list yet
    local used = {}
    -- (ip's complaints about namespaces of others that vanish mid-listing
    -- go to stderr, not into the JSON)
    for _, j in ipairs(helpers.json_decode((run("ip -j netns list 2>/dev/null")))) do
      if j.id then used[j.id] = true end
    end
    local id = 4242
    while used[id] do id = id + 1 end
    must(format("ip netns set %s %d", quote(a), id))
    local by = lookup(assert(ns.namespaces()))
    assert.equal(id, by[a].nsid)
    assert.is_nil(by[b].nsid)   -- none assigned
    -- ours: the same id as ip's, or none where ip shows none (other
    -- namespaces of the host come and go while it runs)
    by = lookup(assert(ns.namespaces()))
    local ip = {}
    for _, j in ipairs(helpers.json_decode((run("ip -j netns list 2>/dev/null")))) do ip[j.name] = j end
    for _, name in ipairs { a, b } do
      assert.is_table(ip[name], name)
      assert.is_table(by[name], name)
      assert.equal(ip[name].id, by[name].nsid, name)
    end
  end)

  helpers.root_it("marks the namespace the calling thread is in as current", function()
    local a
    finally(function() helpers.netns_delete(a) end)
    a = helpers.netns_create("cnt-nsc")
    local lua = helpers.LUA
    local script = format([[package.path = %q; package.cpath = %q
for _, r in ipairs(require("lnetstat").namespaces()) do print(r.name, tostring(r.current)) end]],
      package.path, package.cpath)
    local out = must(format("ip netns exec %s %s -e %s", quote(a), lua, quote(script)))
    local current = {}
    for name, cur in out:gmatch("(%S+)\t(%a+)") do
      if cur == "true" then current[#current + 1] = name end
    end
    assert.same({ a }, current)
    local here = lookup(assert(ns.namespaces()))
    assert.is_false(here[a].current)
  end)
end)
