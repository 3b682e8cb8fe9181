-- lnetstat.format without the kernel: records in, netstat's text out.
--
-- Part one renders records captured in a private namespace
-- (spec/fixtures/cli/records.lua) and compares them with what net-tools
-- netstat printed there at the same moment (spec/fixtures/cli/netstat/);
-- capture.sh in that directory recreates both. Part two checks single
-- rules with records made by hand: column widths, truncation, the
-- PID/Program rule, timers, flags, statistics quirks, the argument grammar,
-- JSON and Prometheus text.
local format = require "lnetstat.format"

local sformat = string.format

local FIXTURES = ((debug.getinfo(1, "S").source:match("^@(.*/)")) or "./") .. "fixtures/cli/"
local FILES = {
  services = FIXTURES .. "etc/services", protocols = FIXTURES .. "etc/protocols",
  hosts = FIXTURES .. "etc/hosts", networks = FIXTURES .. "etc/networks",
}

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("*a")
  f:close()
  return s
end

local function lines_of(text)
  local t = {}
  for line in text:gmatch("([^\n]*)\n") do t[#t + 1] = line end
  return t
end

-- An assertion that shows the first differing line.
local function same_text(expected, actual, what)
  if expected == actual then return end
  local e, a = lines_of(expected), lines_of(actual)
  for i = 1, math.max(#e, #a) do
    if e[i] ~= a[i] then
      error(sformat("%s: line %d differs\n  netstat:  %q\n  lnetstat: %q\n(%d lines expected, %d got)",
        what, i, tostring(e[i]), tostring(a[i]), #e, #a), 2)
    end
  end
  error(what .. ": texts differ (trailing newline?)", 2)
end

-- sock_diag does not list a UNIX connection that is not accepted yet (an
-- embryo, CONNECTING with inode 0; ss does not show it either), so no
-- record has it: leave netstat's line for it out.
local function without_embryos(text)
  return (text:gsub("unix  %d+ +%[ %] +%u+ +CONNECTING +0 [^\n]*\n", ""))
end

-- netstat -ie lists an interface's IPv6 addresses in /proc/net/if_inet6's
-- hash order, lnetstat in rtnetlink's: compare the lines, not their order.
local function sorted_lines(text)
  local t = lines_of(text)
  table.sort(t)
  return table.concat(t, "\n") .. "\n"
end

-- The remaining time and counts of -o timers change between two reads.
local function mask_timers(text)
  return (text:gsub("%(%d+%.%d%d/%d+/%d+%)", "(T/R/P)"))
end

local function flags_of(...)
  return assert(format.parse_args { ... })
end

describe("lnetstat.format against captured netstat output", function()
  local records = dofile(FIXTURES .. "records.lua")
  local counters = dofile(FIXTURES .. "counters.lua")
  local data = {
    sockets = records.sockets, routes = records.routes, groups = records.groups,
    interfaces = counters.interfaces, stats = counters.stats,
  }
  local cases = {}
  for line in read(FIXTURES .. "cases.txt"):gmatch("[^\n]+") do
    local name, args = line:match("^(%S+)%s+(.*)$")
    local argv = {}
    for a in args:gmatch("%S+") do argv[#argv + 1] = a end
    cases[#cases + 1] = { name = name, argv = argv }
  end

  it("has the fixtures", function()
    assert.is_true(#cases >= 30)
    assert.is_true(#data.sockets > 20)
  end)

  for _, case in ipairs(cases) do
    it("netstat " .. table.concat(case.argv, " "), function()
      local expected = read(FIXTURES .. "netstat/" .. case.name .. ".out")
      local out, err, code = format.netstat(case.argv, { data = data, files = FILES, euid = 0 })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      expected = without_embryos(expected)
      if case.argv[1]:find("o", 1, true) then
        same_text(mask_timers(expected), mask_timers(out), case.name)
      elseif case.name == "ie" then
        same_text(sorted_lines(expected), sorted_lines(out), case.name)
      else
        same_text(expected, out, case.name)
      end
    end)
  end
end)

describe("lnetstat.format inet sockets", function()
  local function tcp(t)
    local r = { proto = "tcp", family = "inet", state = "ESTABLISHED", recv_q = 0, send_q = 0,
      local_addr = "10.1.2.3", local_port = 40000, remote_addr = "10.1.2.4", remote_port = 443,
      uid = 0, inode = 1234, timer = "off", timer_expires_ms = 0, retransmits = 0 }
    for k, v in pairs(t or {}) do r[k] = v end
    return r
  end
  local function body(list, ...)
    local text = format.sockets_text(list, flags_of(...), { files = FILES, header = false })
    return text
  end

  it("prints the title and header as netstat does", function()
    assert.are.equal("Active Internet connections (w/o servers)\n"
      .. "Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n",
      format.sockets_text({}, flags_of("-tn"), {}))
    assert.are.equal("Active Internet connections (only servers)\n"
      .. "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
      .. "User       Inode      PID/Program name     Timer\n",
      format.sockets_text({}, flags_of("-tlnepo"), {}))
  end)

  -- port texts are made from digit pieces, not by tostring: every port
  -- must read as its decimal number, on both ends, padded alike
  it("writes every port number as its decimal digits", function()
    local list = {}
    for port = 1, 65535 do
      list[port] = tcp { local_addr = "10.1.2.3", local_port = port, remote_port = 65536 - port }
    end
    local n = 0
    for line in body(list, "-tn"):gmatch("[^\n]+") do
      n = n + 1
      local expected = string.format("tcp        0      0 %-23s %-23s ESTABLISHED",
        "10.1.2.3:" .. n, "10.1.2.4:" .. (65536 - n))
      if line ~= expected then assert.are.equal(expected, line) end
    end
    assert.are.equal(65535, n)
  end)

  it("pads columns to netstat's widths", function()
    assert.are.equal(
      "tcp        3     17 10.1.2.3:40000          10.1.2.4:443            ESTABLISHED\n",
      body({ tcp { recv_q = 3, send_q = 17 } }, "-tn"))
    assert.are.equal(
      "udp        0      0 0.0.0.0:53              0.0.0.0:*                          \n",
      body({ { proto = "udp", family = "inet", state = "UNCONN", local_addr = "0.0.0.0", local_port = 53,
        remote_addr = "0.0.0.0", remote_port = 0, recv_q = 0, send_q = 0 } }, "-uln"))
  end)

  it("shows a listener's Send-Q as 0, as /proc does", function()
    assert.are.equal(
      "tcp        2      0 0.0.0.0:22              0.0.0.0:*               LISTEN     \n",
      body({ tcp { state = "LISTEN", recv_q = 2, send_q = 128, local_addr = "0.0.0.0", local_port = 22,
        remote_addr = "0.0.0.0", remote_port = 0 } }, "-tln"))
  end)

  it("cuts host:port to 22 characters without -W, keeping the port", function()
    local r = tcp { family = "inet6", local_addr = "2001:db8:aaaa:bbbb:cccc::1", local_port = 40020,
      remote_addr = "2001:db8::2", remote_port = 443 }
    assert.are.equal(
      "tcp6       0      0 2001:db8:aaaa:bbb:40020 2001:db8::2:443         ESTABLISHED\n",
      body({ r }, "-tn"))
    assert.are.equal(
      "tcp6       0      0 2001:db8:aaaa:bbbb:cccc::1:40020 2001:db8::2:443         ESTABLISHED\n",
      body({ r }, "-tnW"))
  end)

  it("prints an IPv4-mapped address as IPv4 and :: as ::: or [::]", function()
    local mapped = tcp { family = "inet6", local_addr = "::ffff:127.0.0.1", remote_addr = "::ffff:10.0.0.9" }
    assert.matches("^tcp6       0      0 127%.0%.0%.1:40000         10%.0%.0%.9:443 ", body({ mapped }, "-tn"))
    local any = tcp { family = "inet6", state = "LISTEN", local_addr = "::", local_port = 22,
      remote_addr = "::", remote_port = 0 }
    assert.matches("^tcp6       0      0 :::22 ", body({ any }, "-tln"))
    assert.matches("^tcp6       0      0 %[::%]:ssh ", body({ any }, "-tl"))
  end)

  it("names ports from /etc/services and hosts from /etc/hosts only", function()
    local r = tcp { local_addr = "127.0.0.1", local_port = 22, remote_addr = "198.51.100.9", remote_port = 80 }
    assert.matches("^tcp        0      0 localhost:ssh           198%.51%.100%.9:http ", body({ r }, "-t"))
    assert.matches("localhost:22 ", body({ r }, "-t", "--numeric-ports"))
    assert.matches("127%.0%.0%.1:ssh ", body({ r }, "-t", "--numeric-hosts"))
  end)

  it("selects like netstat: -l servers, default connected, -a both", function()
    local list = { tcp {}, tcp { state = "LISTEN", remote_port = 0, remote_addr = "0.0.0.0" } }
    assert.are.equal(1, #lines_of(body(list, "-tn")))
    assert.are.equal(1, #lines_of(body(list, "-tln")))
    assert.are.equal(2, #lines_of(body(list, "-tan")))
  end)

  it("orders TCP, UDP, raw and IPv4 before IPv6, whatever the input order", function()
    local list = {
      { proto = "raw", family = "inet", state = "UNCONN", local_addr = "0.0.0.0", local_port = 1,
        remote_addr = "0.0.0.0", remote_port = 0 },
      tcp { family = "inet6", local_addr = "::1", remote_addr = "::1" },
      { proto = "udp", family = "inet", state = "ESTABLISHED", local_addr = "10.0.0.1", local_port = 5,
        remote_addr = "10.0.0.2", remote_port = 6 },
      tcp {},
    }
    local protos = {}
    for line in body(list, "-tuwan"):gmatch("[^\n]+") do protos[#protos + 1] = line:match("^%S+") end
    assert.are.same({ "tcp", "tcp6", "udp", "raw" }, protos)
  end)

  it("prints User and Inode with -e, the uid with -n", function()
    local r = tcp { uid = 65534, inode = 987654, user = "nobody" }
    assert.matches("ESTABLISHED nobody     987654    \n$", body({ r }, "-te"))
    assert.matches("ESTABLISHED 65534      987654    \n$", body({ r }, "-tne"))
  end)
end)

describe("lnetstat.format PID/Program name", function()
  it("is pid/command cut to 19 characters, padded to 20", function()
    local r = { processes = { { pid = 31448, command = "averyveryverylongprogramname",
      program = "averyveryverylon" } } }
    assert.are.equal("31448/averyveryvery", format.program_field(r))
    assert.are.equal(19, #format.program_field(r))
  end)

  it("takes the first owner (the lowest pid)", function()
    local r = { processes = { { pid = 7, command = "nginx" }, { pid = 9, command = "nginx" } } }
    assert.are.equal("7/nginx", format.program_field(r))
  end)

  it("is - when the owner is unknown", function()
    assert.are.equal("-", format.program_field({ inode = 0 }))
  end)

  it("keeps netstat's command text (sshd's proctitle stays as it is)", function()
    local r = { processes = { { pid = 812, command = "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100" } } }
    assert.are.equal("812/sshd: /usr/sbin", format.program_field(r))
  end)
end)

describe("lnetstat.format timers", function()
  local function t(r)
    r.proto = r.proto or "tcp"
    return format.timer_field(r)
  end
  it("formats the four kinds as netstat -o", function()
    assert.are.equal("off (0.00/0/0)", t { timer = "off" })
    assert.are.equal("on (0.20/3/0)", t { timer = "on", timer_expires_ms = 204, retransmits = 3 })
    assert.are.equal("keepalive (7199.54/0/2)", t { timer = "keepalive", timer_expires_ms = 7199549, retransmits = 2 })
    assert.are.equal("timewait (59.87/0/0)", t { timer = "timewait", timer_expires_ms = 59871 })
    assert.are.equal("unkn-4 (1.50/0/1)", t { timer = "probe", timer_expires_ms = 1500, retransmits = 1 })
  end)
  it("is off for UDP and raw sockets", function()
    assert.are.equal("off (0.00/0/0)", t { proto = "udp", timer = "on", timer_expires_ms = 5 })
  end)
end)

describe("lnetstat.format UNIX sockets", function()
  local function unix(t)
    local r = { proto = "unix", family = "unix", type = "stream", state = "ESTABLISHED", inode = 100 }
    for k, v in pairs(t) do r[k] = v end
    return r
  end
  it("prints flags, state, inode and path in netstat's columns", function()
    local list = {
      unix { state = "LISTEN", inode = 10, path = "/run/a.sock" },
      unix { inode = 11, peer_inode = 12 },
      unix { inode = 12, peer_inode = 11, path = "/run/a.sock" },
      unix { type = "dgram", state = "UNCONN", inode = 13, path = "@abstract" },
      unix { inode = 0, peer_inode = 14, path = "/run/a.sock" },
      unix { inode = 14, peer_inode = 0 },
      unix { type = "seqpacket", state = "UNCONN", inode = 0 },
    }
    local text = format.unix_text(list, flags_of("-xa"), {})
    assert.are.equal(table.concat({
      "Active UNIX domain sockets (servers and established)",
      "Proto RefCnt Flags       Type       State         I-Node   Path",
      "unix  2      [ ACC ]     STREAM     LISTENING     10       /run/a.sock",
      "unix  3      [ ]         STREAM     CONNECTED     11       ",
      "unix  3      [ ]         STREAM     CONNECTED     12       /run/a.sock",
      "unix  2      [ ]         DGRAM                    13       @abstract",
      "unix  3      [ ]         STREAM     CONNECTING    0        /run/a.sock",
      "unix  3      [ ]         STREAM     CONNECTED     14       ",
      "unix  2      [ ]         SEQPACKET  DISCONNECTING 0        ",
    }, "\n") .. "\n", text)
  end)
  it("leaves listeners out by default and keeps only them with -l", function()
    local list = { unix { state = "LISTEN", inode = 1 }, unix { inode = 2 } }
    assert.are.equal(3, #lines_of(format.unix_text(list, flags_of("-x"), {})))
    assert.matches("LISTENING", format.unix_text(list, flags_of("-xl"), {}))
  end)
  it("cuts the path at the first blank, as netstat's sscanf", function()
    local text = format.unix_text({ unix { path = "/tmp/a b" } }, flags_of("-x"), {})
    assert.matches("/tmp/a\n$", text)
  end)
end)

describe("lnetstat.format interfaces", function()
  local function link(name, flags, stats, extra)
    local r = { name = name, mtu = 1500, flags = flags, stats = stats, addresses = {} }
    for k, v in pairs(extra or {}) do r[k] = v end
    return r
  end
  local stats = { rx_packets = 10, rx_errors = 1, rx_dropped = 2, rx_missed_errors = 3, rx_fifo_errors = 4,
    tx_packets = 20, tx_errors = 5, tx_dropped = 6, tx_fifo_errors = 7 }
  it("prints netstat -i's columns, RX-DRP summing dropped and missed", function()
    local text = format.interfaces_text({ link("eth0", { UP = true, BROADCAST = true, RUNNING = true,
      MULTICAST = true }, stats) }, flags_of("-i"), {})
    assert.are.equal("Kernel Interface table\n"
      .. "Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n"
      .. "eth0             1500       10      1      5 4            20      5      6      7 BMRU\n", text)
  end)
  it("sorts names as netstat (eth2 before eth10), hides down links without -a", function()
    local list = { link("eth10", { UP = true }, stats), link("eth2", { UP = true }, stats), link("dummy0", {}, stats) }
    local names = {}
    for line in format.interfaces_text(list, flags_of("-i"), {}):gmatch("\n(%S+) ") do names[#names + 1] = line end
    assert.are.same({ "Iface", "eth2", "eth10" }, names)
    assert.matches("dummy0 .*%[NO FLAGS%]\n", format.interfaces_text(list, flags_of("-ia"), {}))
  end)
  it("lists an IPv4 label as an interface without statistics", function()
    local r = link("eth0", { UP = true, RUNNING = true }, stats,
      { addresses = { { family = "inet", addr = "10.0.0.1", prefixlen = 24, label = "eth0" },
        { family = "inet", addr = "10.0.0.2", prefixlen = 24, label = "eth0:1" } } })
    local text = format.interfaces_text({ r }, flags_of("-i"), { title = false })
    assert.matches("\neth0:1           1500      %- no statistics available %-                        RU\n$", text)
  end)
  it("compares names as net-tools' nstrcmp", function()
    assert.is_true(format._nstrcmp("eth1", "eth13") < 0)
    assert.is_true(format._nstrcmp("eth2:10", "eth2:1") > 0)
    assert.is_true(format._nstrcmp("a1b12", "a1b2") > 0)
    assert.are.equal(0, format._nstrcmp("eth0:1", "eth0:1"))
  end)
end)

describe("lnetstat.format routes and groups", function()
  it("flags reject and host routes as netstat -r", function()
    local list = {
      { family = "inet", dst = "0.0.0.0/0", gateway = "192.0.2.1", interface = "eth0", type = "unicast", metric = 100 },
      { family = "inet", dst = "198.51.100.128/25", type = "unreachable" },
      { family = "inet", dst = "203.0.113.7/32", interface = "eth0", type = "unicast" },
      { family = "inet", dst = "203.0.113.0/24", interface = "eth0", type = "broadcast" },
    }
    assert.are.equal("Kernel IP routing table\n"
      .. "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"
      .. "0.0.0.0         192.0.2.1       0.0.0.0         UG        0 0          0 eth0\n"
      .. "198.51.100.128  -               255.255.255.128 !         - -          - -\n"
      .. "203.0.113.7     0.0.0.0         255.255.255.255 UH        0 0          0 eth0\n",
      format.routes_text(list, flags_of("-rn"), {}))
    assert.matches("\ndefault         192%.0%.2%.1       0%.0%.0%.0         UG    100    0        0 eth0\n",
      format.routes_text(list, flags_of("-re"), { files = FILES }))
  end)
  it("streams netstat -r through each_route with the text routes_text gives", function()
    local list = {
      { family = "inet", dst = "0.0.0.0/0", gateway = "192.0.2.1", interface = "eth0", type = "unicast", metric = 100 },
      { family = "inet", dst = "198.51.100.128/25", type = "unreachable" },
      { family = "inet", dst = "203.0.113.7/32", interface = "eth0", type = "unicast" },
      { family = "inet", dst = "203.0.113.0/24", interface = "eth0", type = "broadcast" },
      { family = "inet", dst = "10.11.12.0/24", gateway = "a-very-long-gateway-name", interface = "veth-abcdefghij",
        type = "unicast", metrics = { advmss = 1460, window = 7, rtt = 9 } },
      { family = "inet", dst = "10.0.0.0/8", interface = "eth1", type = "unicast", table = 100 },
    }
    for i = 1, 600 do   -- more than one batch of written lines
      list[#list + 1] = { family = "inet", dst = string.format("10.%d.%d.0/24", math.floor(i / 256), i % 256),
        gateway = "198.51.100.2", interface = "eth0", type = "unicast" }
    end
    local fake = { each_route = function(opts, fn)
      assert.equal("inet", opts.family)
      assert.equal("web", opts.netns)
      for _, r in ipairs(list) do fn(r) end
      return #list, { source = "netlink" }
    end }
    for _, args in ipairs { "-rn", "-rne", "-rnee", "-r" } do
      local chunks = {}
      local out, err = format.route_view(flags_of(args), { lnetstat = fake, netns = "web", files = FILES,
        write = function(text) chunks[#chunks + 1] = text end })
      assert.are.same({ "", "" }, { out, err })
      assert.is_true(#chunks >= 2)
      assert.are.equal(format.routes_text(list, flags_of(args), { files = FILES }), table.concat(chunks))
    end
    -- a failure before any line: nothing written, the error returned
    local wrote = false
    local ok, msg, errno = format.route_view(flags_of("-rn"), { write = function() wrote = true end,
      lnetstat = { each_route = function() return nil, "no such netns", 2 end } })
    assert.are.same({ nil, "no such netns", 2, false }, { ok, msg, errno, wrote })
  end)
  it("prints netstat -r -6's columns: widths, no cut, signed metric, Ref 1 unless known", function()
    local list = {
      { family = "inet6", dst = "::/0", gateway = "2001:db8::1", interface = "eth0", type = "unicast",
        metric = 1024 },
      { family = "inet6", dst = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:0/112", interface = "veth-abcdefghij",
        type = "unicast", metric = 4294967295, refcnt = 12 },
      { family = "inet6", dst = "2001:db8:1::/48", type = "unreachable", metric = 0 },
      { family = "inet6", dst = "::1", interface = "lo", type = "local", metric = 0 },
      { family = "inet6", dst = "fe80::/64", nexthops = { { gateway = "fe80::1", interface = "eth1" } },
        type = "unicast", metric = 256 },
      { family = "inet", dst = "0.0.0.0/0", gateway = "192.0.2.1", interface = "eth0", type = "unicast" },
    }
    local line = "%-30s %-26s %-4s %-3d %-1d %6d %s\n"
    assert.are.equal("Kernel IPv6 routing table\n"
      .. "Destination                    Next Hop                   Flag Met Ref  Use If\n"
      .. line:format("::/0", "2001:db8::1", "UG", 1024, 1, 0, "eth0")
      .. line:format("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0/112", "::", "U", -1, 12, 0, "veth-abcdefghij")
      .. line:format("2001:db8:1::/48", "::", "!n", 0, 1, 0, "lo")
      .. line:format("::1/128", "::", "Un", 0, 1, 0, "lo")
      .. line:format("fe80::/64", "fe80::1", "UG", 256, 1, 0, "eth1"),
      format.routes6_text(list, flags_of("-rn6"), {}))
  end)
  it("asks routes() for -r -6 text with only the fields its lines show", function()
    local list = {
      { family = "inet6", dst = "::/0", gateway = "2001:db8::1", interface = "eth0", type = "unicast",
        metric = 1024 },
      { family = "inet6", dst = "2001:db8:1::/48", type = "unreachable", metric = 0 },
      { family = "inet6", dst = "2001:db8:2::/64", interface = "eth0", type = "anycast", metric = 0 },
    }
    local asked
    local fake = { routes = function(opts)
      asked = opts
      return list
    end }
    local chunks = {}
    local out, err = format.route_view(flags_of("-rn6"), { lnetstat = fake, netns = "web",
      write = function(text) chunks[#chunks + 1] = text end })
    assert.are.same({ "", "" }, { out, err })
    assert.are.equal(format.routes6_text(list, flags_of("-rn6"), {}), table.concat(chunks))
    assert.are.same({ family = "inet6", table = "all", netns = "web", null_entries = true,
      fields = { "gateway", "interface", "type", "metric", "nexthops", "cloned", "table", "expires",
        "protocol", "rtf_flags" } }, asked)
  end)
  it("prints IPv4 groups before IPv6, device names whole (netstat reads 15 bytes)", function()
    local list = {
      { family = "inet6", interface = "averylongname0", group = "ff02::1", users = 1 },
      { family = "inet", interface = "averylongname0", group = "224.0.0.1", users = 2 },
    }
    assert.are.equal("IPv6/IPv4 Group Memberships\nInterface       RefCnt Group\n"
      .. "--------------- ------ ---------------------\n"
      .. "averylongname0  2      224.0.0.1\n"
      .. "averylongname0  1      ff02::1\n", format.groups_text(list, flags_of("-gn"), {}))
  end)
end)

describe("lnetstat.format statistics", function()
  local function stats_text(stats, ...)
    return format.statistics_text(stats, flags_of("-s", ...))
  end
  it("reproduces netstat's misses: Forwarding and TCPTimeouts print by name", function()
    local text = stats_text { Ip = { Forwarding = 2, DefaultTTL = 64, InReceives = 5 },
      TcpExt = { TCPTimeouts = 3, TW = 4, TCPPureAcks = 0 } }
    assert.are.equal("Ip:\n    Forwarding: 2\n    5 total packets received\n"
      .. "TcpExt:\n    4 TCP sockets finished time wait in fast timer\n    TCPTimeouts: 3\n", text)
  end)
  it("carries the histogram indent over to the next section, as netstat", function()
    local text = stats_text { Icmp = { InMsgs = 1, InDestUnreachs = 1, OutMsgs = 0 }, IcmpMsg = { InType3 = 1 } }
    assert.are.equal("Icmp:\n    1 ICMP messages received\n    ICMP input histogram:\n"
      .. "        destination unreachable: 1\n    0 ICMP messages sent\nIcmpMsg:\n    InType3: 1\n", text)
  end)
  it("starts a new IcmpMsg section every 16 counters, as the kernel's lines", function()
    local msg = {}
    for i = 1, 17 do msg["OutType" .. i] = i end
    local _, sections = stats_text({ IcmpMsg = msg }):gsub("IcmpMsg:\n", "")
    assert.are.equal(2, sections)
  end)
  it("selects sections with -t, -u, -w and always prints unknown ones", function()
    local stats = { Ip = { InReceives = 1 }, Tcp = { ActiveOpens = 2 }, Udp = { InDatagrams = 3 },
      UdpLite = { InDatagrams = 0 }, TcpExt = {} }
    assert.are.equal("Tcp:\n    2 active connection openings\nUdpLite:\nTcpExt:\n", stats_text(stats, "-t"))
  end)
  it("prints a negative counter as netstat's strtoull does", function()
    assert.matches("MaxSomething: 18446744073709551615",
      stats_text { Tcp = { MaxSomething = -1, MaxConn = -1 } })
  end)
  it("prints the IPv6 counters with -6", function()
    local text = stats_text({ Ip6 = { InReceives = 3, OutRequests = 1 }, Icmp6 = { InMsgs = 0 },
      Tcp = { ActiveOpens = 1 } }, "-6")
    assert.are.equal("Ip6:\n    3 total packets received\n    1 requests sent out\n"
      .. "Icmp6:\n    0 ICMP messages received\nTcp:\n    1 active connection openings\n", text)
  end)
end)

describe("lnetstat.format.parse_args", function()
  it("bundles short options and applies netstat's defaults", function()
    local f = flags_of("-tulnp")
    assert.is_true(f.tcp and f.udp and f.listening and f.programs)
    assert.is_true(f.numeric_hosts and f.numeric_ports and f.numeric_users)
    assert.is_true(f.inet and f.inet6)
    assert.is_false(f.unix)
  end)
  it("takes long options, unique prefixes and -A families", function()
    local f = flags_of("--tcp", "--listen", "--numeric-hosts", "-A", "inet6")
    assert.is_true(f.tcp and f.listening and f.numeric_hosts and f.inet6)
    assert.is_false(f.numeric_ports)
    assert.is_false(f.inet)
    assert.is_true(flags_of("--protocol=inet").inet)
  end)
  it("reports errors with netstat's exit code 3", function()
    local f, msg, code = format.parse_args { "-q" }
    assert.is_nil(f)
    assert.matches("invalid option %-%- 'q'", msg)
    assert.are.equal(3, code)
    f, msg, code = format.parse_args { "--num" }
    assert.is_nil(f)
    assert.matches("ambiguous", msg)
    assert.are.equal(3, code)
    assert.are.equal(3, select(3, format.parse_args { "-r", "-i" }))
    assert.are.equal(1, select(3, format.parse_args { "-A", "bogus" }))
  end)
  it("reads -c, -cN and lnetstat's own options", function()
    assert.are.equal(1, flags_of("-tc").interval)
    assert.are.equal(5, flags_of("-c5", "-t").interval)
    local f = flags_of("--netns", "web", "--json", "-s")
    assert.are.equal("web", f.netns)
    assert.is_true(f.json and f.statistics)
    assert.are.equal(812, flags_of("--netns=812").netns)
    assert.are.equal("/proc/812/ns/net", flags_of("--netns", "/proc/812/ns/net").netns)
  end)
  it("wants long options in full with exact = true (the command's rule)", function()
    assert.is_true(flags_of("--numeric-h").numeric_hosts)
    local f, msg, code = format.parse_args({ "--numeric-h" }, { exact = true })
    assert.are.same({ nil, 3 }, { f, code })
    assert.matches("unrecognized option '%-%-numeric%-h'; did you mean '%-%-numeric%-hosts'%?", msg)
    f, msg = format.parse_args({ "--udpp" }, { exact = true })
    assert.is_nil(f)
    assert.matches("did you mean '%-%-udp'%?", msg)
    assert.is_true(assert(format.parse_args({ "--numeric-hosts", "-tulp" }, { exact = true })).udp)
  end)
  it("skips a leading program name", function()
    assert.is_true(flags_of("netstat", "-plnt").programs)
  end)
  it("rejects what is not a list", function()
    assert.has_error(function() format.parse_args("-t") end)
    assert.has_error(function() format.netstat("-t") end)
  end)
end)

describe("lnetstat.format arguments", function()
  it("raises errors that name the function and the argument", function()
    assert.has_error(function() format.sockets_text("x", {}) end,
      "bad argument #1 to 'sockets_text' (list expected, got string)")
    assert.has_error(function() format.routes_text({}, nil) end,
      "bad argument #2 to 'routes_text' (table expected, got nil)")
    assert.has_error(function() format.render({}, {}, 5) end,
      "bad argument #3 to 'render' (table or nil expected, got number)")
    assert.has_error(function() format.program_field(nil) end,
      "bad argument #1 to 'program_field' (record expected, got nil)")
  end)
end)

describe("lnetstat.format.netstat", function()
  it("answers tstconfig's netstat -plnt from records, and reports usage errors", function()
    local data = { sockets = { { proto = "tcp", family = "inet", state = "LISTEN", recv_q = 0, send_q = 128,
      local_addr = "0.0.0.0", local_port = 22, remote_addr = "0.0.0.0", remote_port = 0, inode = 5,
      processes = { { pid = 812, command = "sshd" } } } } }
    local out, err, code = format.netstat({ "-plnt" }, { data = data, euid = 0 })
    assert.are.equal(0, code)
    assert.are.equal("", err)
    assert.are.equal("Active Internet connections (only servers)\n"
      .. "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n"
      .. "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd            \n", out)
    local _, err2 = format.netstat({ "-plnt" }, { data = data, euid = 1000 })
    assert.are.equal("(Not all processes could be identified, non-owned process info\n"
      .. " will not be shown, you would have to be root to see it all.)\n", err2)
    -- the same when the records stream from each_socket: an owner seen
    -- decides the note of -p without root
    local function streaming(record)
      return { each_socket = function(_, fn) fn(record); return 1, {} end }
    end
    local _, err_owned = format.netstat({ "-plnt" }, { lnetstat = streaming(data.sockets[1]), euid = 1000 })
    assert.are.equal(err2, err_owned)
    local unowned = {}
    for k, v in pairs(data.sockets[1]) do if k ~= "processes" then unowned[k] = v end end
    local _, err_unowned = format.netstat({ "-plnt" }, { lnetstat = streaming(unowned), euid = 1000 })
    assert.are.equal("(No info could be read for \"-p\": geteuid()=1000 but you should be root.)\n", err_unowned)
    local _, err3, code3 = format.netstat({ "-Q" }, { data = data })
    assert.are.equal(3, code3)
    assert.matches("invalid option", err3)
  end)

  -- the error of f(), which must be raised at this file's line
  local function error_here(f)
    local ok, err = pcall(f)
    assert.is_false(ok)
    err = tostring(err)
    assert.matches("^[^\n]*format_spec%.lua:%d+: ", err, 1)
    return (err:gsub("^[^\n]-:%d+: ", ""))
  end

  it("checks its arguments up front and names itself, at the caller's line", function()
    local cases = {
      { { 5 }, nil, "bad argument #1 to 'netstat' (argv[1] must be a string, got number)" },
      { { "-t" }, { nets = "x" }, "bad argument #2 to 'netstat' (unknown option 'nets'; did you mean 'netns'?)" },
      { { "-t" }, { netns = "" },
        "bad argument #2 to 'netstat' (netns must be a name, a path or a pid, got '')" },
      { { "-t" }, { netns = "a/b" }, "bad argument #2 to 'netstat' (netns path must be absolute, got 'a/b')" },
      { { "-t" }, { data = { sockets = 5 } },
        "bad argument #2 to 'netstat' (data.sockets must be a list of socket records, got number)" },
      { { "-t" }, { data = { sockets = { 5 } } },
        "bad argument #2 to 'netstat' (data.sockets[1] must be a socket record (a table), got number)" },
      { { "-i" }, { data = { interfaces = { {}, "eth0" } } },
        "bad argument #2 to 'netstat' (data.interfaces[2] must be an interface record (a table), got string)" },
      { { "-s" }, { data = { stats = 5 } },
        "bad argument #2 to 'netstat' (data.stats must be a table (stats()), got number)" },
      { { "-t" }, { data = { socket = {} } },
        "bad argument #2 to 'netstat' (data: unknown field 'socket'; did you mean 'sockets'?)" },
      { { "-t" }, { data = {}, files = { hots = "/etc/hosts" } },
        "bad argument #2 to 'netstat' (files: unknown field 'hots'; did you mean 'hosts'?)" },
      { { "-t" }, { data = {}, euid = -1 },
        "bad argument #2 to 'netstat' (euid must be a non-negative integer, got -1)" },
      { { "-t" }, { data = {}, write = "x" }, "bad argument #2 to 'netstat' (write must be a function, got string)" },
    }
    for _, c in ipairs(cases) do
      local msg = error_here(function() local out = format.netstat(c[1], c[2]) return out end)
      assert.are.equal(c[3], msg)
    end
    -- a bad --netns in argv is a usage error of netstat's (exit code 3), not a raise
    local out, err, code = format.netstat({ "-t", "--netns", "" })
    assert.are.same({ "", "lnetstat: --netns: netns must be a name, a path or a pid, got ''\n", 3 },
      { out, err, code })
    local _, err0, code0 = format.netstat({ "-t", "--netns", "0" })
    assert.are.equal(3, code0)
    assert.matches("netns pid must be a positive integer", err0)
    -- every documented option still works
    out, _, code = format.netstat({ "-tn" }, { data = { sockets = {} }, files = { hosts = "/nonexistent" },
      euid = 0, names = {}, users = {}, lnetstat = {} })
    assert.are.equal(0, code)
    assert.matches("^Active Internet connections", out)
  end)
end)

describe("the streamed socket view", function()
  -- each_socket hands TCP's two families over in one walk, mixed: netstat
  -- shows the tcp lines, then the tcp6 ones, then the next protocol
  it("prints a protocol's IPv6 lines after its IPv4 ones, whatever order they come in", function()
    local function sock(proto, family, laddr, lport, raddr, rport)
      return { proto = proto, family = family, state = proto == "tcp" and "ESTABLISHED" or "UNCONN",
        recv_q = 0, send_q = 0, local_addr = laddr, local_port = lport, remote_addr = raddr,
        remote_port = rport }
    end
    local records = {
      sock("tcp", "inet6", "::1", 8080, "::1", 40001),
      sock("tcp", "inet", "127.0.0.1", 8080, "127.0.0.1", 40002),
      sock("tcp", "inet6", "::1", 8081, "::1", 40003),
      sock("tcp", "inet", "127.0.0.1", 8081, "127.0.0.1", 40004),
      sock("udp", "inet", "127.0.0.1", 53, "0.0.0.0", 0),
      sock("udp", "inet6", "::1", 53, "::", 0),
    }
    local fake = { each_socket = function(_, fn)
      for _, r in ipairs(records) do fn(r) end
      return #records, {}
    end }
    local written = {}
    local out, notes = format.socket_view(format.parse_args { "-tuan" },
      { lnetstat = fake, write = function(text) written[#written + 1] = text end })
    assert.are.equal("", out)
    assert.are.equal("", notes)
    local ports = {}
    -- the local port of each line, in order
    for proto, port in table.concat(written):gmatch("\n(%a+6?) +%d+ +%d+ [^\n]-:(%d+) ") do
      ports[#ports + 1] = proto .. ":" .. port
    end
    assert.are.same({ "tcp:8080", "tcp:8081", "tcp6:8080", "tcp6:8081", "udp:53", "udp6:53" }, ports)
  end)
end)

describe("lnetstat.format.json", function()
  it("writes large counters exactly and lists as arrays", function()
    local big = math.type and 9007199254740993 or 2 ^ 53
    local text = format._json_builtin { { n = big, s = "a\"b\n", t = true, list = {} } }
    assert.are.equal(sformat('[{"list":[],"n":%s,"s":"a\\"b\\n","t":true}]',
      math.type and "9007199254740993" or "9007199254740992"), text)
    assert.are.equal("[]", format.json({}))
    local decoded = format.json({ { a = 1 }, partial = "x" })
    assert.are.equal('[{"a":1}]', decoded)
  end)

  it("drops only a data function's result fields: a mixed table keeps every entry", function()
    -- the result fields of a list of records go; nothing else does
    assert.are.equal('[{"a":1}]', format.json({ { a = 1 }, partial = "x", source = "netlink",
      sources = { tcp = "netlink" }, netns_errors = {} }))
    assert.are.equal('{"1":1,"2":2,"x":3}', format.json({ 1, 2, x = 3 }))
    assert.are.equal('{"1":1,"1000000000":2}', format.json({ [1] = 1, [1e9] = 2 }))
    assert.are.equal('{"1":{"a":1},"partial":"x","z":0}', format.json({ { a = 1 }, partial = "x", z = 0 }))
    assert.are.equal('{"l":{"1":"a","k":"b"}}', format.json({ l = { "a", k = "b" } }))
    -- a key JSON cannot name is an error naming json, at the caller's line
    for _, bad in ipairs { { [true] = 1, x = 2 }, { 1, [false] = 2 }, { a = { [{}] = 1 } }, { [1 / 0] = 1 } } do
      local ok, err = pcall(function() local text = format.json(bad) return text end)
      assert.is_false(ok)
      assert.matches("^[^\n]*format_spec%.lua:%d+: bad argument #1 to 'json' %(a table has a key JSON cannot name: ",
        err)
    end
    -- still valid UTF-8 with control bytes escaped
    assert.are.equal('{"1":"\\\\xFF\\u0001","x":"\\n"}', format.json({ "\255\1", x = "\n" }))
  end)

  it("takes the encoder's options and refuses unknown ones", function()
    assert.are.equal("{}", format.json({}, { empty = "object" }))
    assert.are.equal('{"b":1,"a":2}', format.json({ a = 2, b = 1 }, { keyorder = { "b" } }))
    assert.has_error(function() format.json({}, { indnet = 2 }) end,
      "bad argument #2 to 'json' (unknown option 'indnet')")
    assert.has_error(function() format.json({}, { keyordr = {} }) end,
      "bad argument #2 to 'json' (unknown option 'keyordr'; did you mean 'keyorder'?)")
    assert.has_error(function() format.json({}, 5) end, "bad argument #2 to 'json' (table or nil expected, got number)")
  end)
end)

describe("lnetstat.format.prometheus", function()
  it("writes lnetstat_* names, HELP and TYPE, device labels", function()
    local text = format.prometheus {
      stats = { Tcp = { ActiveOpens = 3 }, sockstat = { sockets_used = 7, TCP = { inuse = 2 } } },
      interfaces = { { name = "eth0", operstate = "UP",
        stats = { rx_bytes = 10, rx_dropped = 1, rx_missed_errors = 2 } } },
    }
    assert.matches("# HELP lnetstat_netstat_Tcp_ActiveOpens Statistic TcpActiveOpens%.\n"
      .. "# TYPE lnetstat_netstat_Tcp_ActiveOpens untyped\nlnetstat_netstat_Tcp_ActiveOpens 3\n", text)
    assert.matches("\nlnetstat_sockstat_TCP_inuse 2\n", text)
    assert.matches('\nlnetstat_network_receive_drop_total{device="eth0"} 3\n', text)
    assert.matches('\nlnetstat_network_up{device="eth0"} 1\n', text)
    assert.matches("\nnode_netstat_Tcp_ActiveOpens 3\n", format.prometheus({ stats = { Tcp = { ActiveOpens = 3 } } },
      { prefix = "node" }))
    assert.has_error(function() format.prometheus({}, { prefix = "bad name" }) end)
  end)

  it("node prefix: node_exporter's default fields and devices, no network_up", function()
    local data = {
      stats = { Tcp = { ActiveOpens = 3, InCsumErrors = 1, InErrs = 2, MaxConn = -1 },
        TcpExt = { ListenDrops = 4, TCPTimeouts = 5, TCPTimeoutsX = 6 }, IpExt = { InOctets = 7 } },
      interfaces = {
        { name = "lo", operstate = "UNKNOWN", stats = { rx_bytes = 1 } },
        { name = "eth0", operstate = "UP", stats = { rx_bytes = 10, rx_nohandler = 9 } },
      },
    }
    local text = format.prometheus(data, { prefix = "node" })
    local names = {}
    for line in text:gmatch("[^\n]+") do
      if line:sub(1, 1) ~= "#" then
        local name = line:match("^[%w_]+")
        if names[#names] ~= name then names[#names + 1] = name end
      end
    end
    assert.same({ "node_netstat_IpExt_InOctets", "node_netstat_Tcp_ActiveOpens", "node_netstat_Tcp_InErrs",
      "node_netstat_TcpExt_ListenDrops", "node_netstat_TcpExt_TCPTimeouts",
      "node_network_receive_bytes_total", "node_network_receive_nohandler_total" }, names)
    assert.matches('\nnode_network_receive_nohandler_total{device="eth0"} 9\n', text)
    assert.is_nil(text:find("network_up", 1, true))
    assert.is_nil(text:find('device="lo"', 1, true))
    -- --fields and --devices replace the defaults
    text = format.prometheus(data, { prefix = "node", fields = "^Tcp_M", devices = "^lo$" })
    assert.matches("\nnode_netstat_Tcp_MaxConn %-1\n", text)
    assert.is_nil(text:find("ActiveOpens", 1, true))
    assert.matches('\nnode_network_receive_bytes_total{device="lo"} 1\n', text)
    assert.is_nil(text:find('device="eth0"', 1, true))
    -- the lnetstat prefix keeps every field and device unless told
    text = format.prometheus(data)
    assert.matches("\nlnetstat_netstat_TcpExt_TCPTimeoutsX 6\n", text)
    assert.matches('\nlnetstat_network_up{device="lo"} 0\n', text)
    assert.has_error(function() format.prometheus(data, { fields = "(" }) end,
      [[bad argument #2 to 'prometheus' (fields: missing ) at offset 1 of "(")]])
  end)

  it("refuses unknown options and malformed data, naming prometheus at the caller's line", function()
    local cases = {
      { {}, { prefx = "node", feilds = "^Ip" }, "bad argument #2 to 'prometheus' (unknown option '" },
      { {}, { prefix = "node", feilds = "^Ip" },
        "bad argument #2 to 'prometheus' (unknown option 'feilds'; did you mean 'fields'?)" },
      { { interfaces = { 5 } }, nil,
        "bad argument #1 to 'prometheus' (interfaces[1] must be an interface record (a table), got number)" },
      { { interfaces = 5 }, nil,
        "bad argument #1 to 'prometheus' (interfaces must be a list of interface records, got number)" },
      { { interfaces = { { name = "x", stats = 5 } } }, nil,
        "bad argument #1 to 'prometheus' (interfaces[1].stats must be a table, got number)" },
      { { interfaces = { { name = "x", stats = { rx_bytes = {} } } } }, nil,
        "bad argument #1 to 'prometheus' (interfaces[1].stats.rx_bytes must be a number, got table)" },
      { { stats = "x" }, nil, "bad argument #1 to 'prometheus' (stats must be a table (stats()), got string)" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(function() local text = format.prometheus(c[1], c[2]) return text end)
      assert.is_false(ok)
      assert.matches("^[^\n]*format_spec%.lua:%d+: ", err)
      local msg = err:gsub("^[^\n]-:%d+: ", "")
      assert.are.equal(c[3], msg:sub(1, #c[3]))
    end
    -- keys that are no metric name are left out, never a raw error
    local text = format.prometheus { stats = { Tcp = { 1, X = 3 }, [5] = { Y = 1 },
      sockstat = { [1] = 2, TCP = { [1] = 3, inuse = 1 } } } }
    assert.matches("\nlnetstat_netstat_Tcp_X 3\n", text)
    assert.matches("\nlnetstat_sockstat_TCP_inuse 1\n", text)
    assert.is_nil(text:find("_1 ", 1, true))
  end)
end)

describe("lnetstat.format.regex", function()
  local regex = require "lnetstat.format.regex"
  it("matches as Go's MatchString: anywhere unless anchored", function()
    local cases = {
      { "^lo$", "lo", true }, { "^lo$", "lo0", false }, { "eth", "veth0", true },
      { "^v[0-9]{1,2}$", "v12", true }, { "^v[0-9]{1,2}$", "v123", false },
      { "a{2,}b", "caab", true }, { "a{2,}b", "cab", false }, { "(a*)*b", "aaaac", false },
      { "^(?:Tcp|Udp)6?_In\\w+$", "Udp6_InErrors", true }, { "[^a-z]", "abc", false },
      { "^Ip(6|Ext)_(InOctets|OutOctets)$", "IpExt_OutOctets", true }, { "x.y", "x\ny", false },
      { "\\.", "a.b", true }, { "\\.", "ab", false }, { "^$", "", true }, { "a+?", "a", true },
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[3], assert(regex.compile(c[1]))(c[2]), c[1] .. " on " .. c[2])
    end
    -- as Go, text and pattern are UTF-8: one character per `.` or class, a
    -- byte outside a valid sequence is U+FFFD, \w is ASCII
    local utf = {
      { "^p.$", "p\195\191", true }, { "^p..$", "p\195\191", false }, { "^.$", "\226\130\172", true },
      { "^p.$", "p\255", true }, { "^p\239\191\189$", "p\255", true }, { "^[é]$", "é", true },
      { "^[à-ÿ]+$", "éü", true }, { "^[^a]$", "\195\191", true }, { "^p\\w$", "p\195\191", false },
      { "^.{2}$", "\240\159\152\128é", true }, { "^.$", "\237\160\128", false },
    }
    for _, c in ipairs(utf) do
      assert.are.equal(c[3], assert(regex.compile(c[1]))(c[2]), c[1] .. " on " .. c[2])
    end
    for _, bad in ipairs { "(", ")", "[z-a]", "\\1", "(?P<n>a)", "*a", "a{3,1}", "[a", "a\255", "\\é" } do
      local f, err = regex.compile(bad)
      assert.is_nil(f, bad)
      assert.is_string(err)
    end
  end)

  -- The work of a match, counted in VM instructions rather than time: the
  -- count hook raises once the budget is spent (LuaJIT runs hooks only in
  -- the interpreter, hence jit.off).
  local function within(budget, f, ...)
    local jit = rawget(_G, "jit")
    if jit then jit.off() end
    debug.sethook(function() error("over budget", 0) end, "", budget)
    local ok, result = pcall(f, ...)
    debug.sethook()
    if jit then jit.on() end
    if not ok and result ~= "over budget" then error(result, 0) end
    return ok, result
  end

  it("matches in linear time: nested quantifiers do not backtrack", function()
    local text = string.rep("a", 40)
    for _, p in ipairs { "(.*)*x", "(.*.*)*y", "(\\w+\\w+)+!", "^(a|aa)*$b", "(a*)*(a*)*(a*)*z" } do
      local f = assert(regex.compile(p))
      local done, hit = within(2000000, f, text)
      assert.is_true(done, p .. " took more than 2e6 instructions on " .. #text .. " bytes")
      assert.is_false(hit, p)
    end
    local done, hit = within(2000000, assert(regex.compile("(.*)*x")), text .. "x")
    assert.is_true(done and hit)
    -- the same through format.prometheus's field filter
    local fields = {}
    for i = 1, 20 do fields["Field" .. string.rep("a", 30) .. i] = i end
    local ok, text_out = within(20000000, format.prometheus, { stats = { Tcp = fields } },
      { fields = "(.*.*)*y" })
    assert.is_true(ok, "format.prometheus with fields (.*.*)*y did not finish within its budget")
    assert.are.equal("", text_out)
  end)

  it("refuses patterns too large or too deep to compile, as RE2 does", function()
    local f, err = regex.compile("(a{1000}){1000}")
    assert.is_nil(f)
    assert.matches("pattern too large", err)
    f, err = regex.compile(string.rep("(", 5000))
    assert.is_nil(f)
    assert.matches("nested too deeply", err)
    assert.is_true(#err < 200, "the message quotes a cut pattern")
    f, err = regex.compile("a" .. string.rep("{1}", 5000))
    assert.is_nil(f)
    assert.matches("nested too deeply", err)
    -- node_exporter's default field list compiles and matches as before
    local fields = assert(regex.compile(require("lnetstat.format.prometheus").NODE_FIELDS))
    assert.is_true(fields("TcpExt_ListenDrops"))
    assert.is_false(fields("TcpExt_TCPTimeoutsX"))
    assert.is_true(assert(regex.compile("^v.{0,1000}$"))("v" .. string.rep("x", 1000)))
    assert.is_false(assert(regex.compile("^v.{0,1000}$"))("v" .. string.rep("x", 1001)))
  end)
end)

-- The renderers (lnetstat.format.* and lnetstat.netstat.* but the runner)
-- loaded with a require that refuses lnetstat, lnetstat.core and the
-- runner, and with io, os, load and loadfile that raise: records, name
-- texts and flags in, text out, nothing read.
describe("lnetstat renderers read nothing", function()
  local ROOT = FIXTURES .. "../../../"
  local PURE = {
    "lnetstat.format.util", "lnetstat.format.json", "lnetstat.format.prometheus",
    "lnetstat.netstat.flags", "lnetstat.netstat.plan", "lnetstat.netstat.rows",
    "lnetstat.netstat.names", "lnetstat.netstat.text.inet", "lnetstat.netstat.text.unix",
    "lnetstat.netstat.text.interfaces", "lnetstat.netstat.text.routes",
    "lnetstat.netstat.text.groups", "lnetstat.netstat.text.statistics",
  }
  local function path_of(name)
    return ROOT .. "lua/" .. name:gsub("%.", "/") .. ".lua"
  end

  -- A fresh sandbox: sb.require loads project modules from their files in
  -- it; sb.touched lists what was refused.
  local function sandbox()
    local sb = { loaded = {}, touched = {} }
    local function refuse(what)
      sb.touched[#sb.touched + 1] = what
      error("renderer touched " .. what, 3)
    end
    local function trap(lib)
      return setmetatable({}, { __index = function(_, k) refuse(lib .. "." .. tostring(k)) end })
    end
    local env = {}
    for k, v in pairs(_G) do env[k] = v end
    env.io, env.os = trap("io"), trap("os")
    env.package, env._G = nil, env
    for _, f in ipairs { "load", "loadfile", "dofile", "loadstring" } do
      env[f] = function() refuse(f) end
    end
    function env.require(name)
      if sb.loaded[name] then return sb.loaded[name] end
      if name == "cjson" or name == "dkjson" then return require(name) end
      -- the encoders are renderers too: text in, text out
      local allowed = name == "lnetstat.util" or (name:match("^lnetstat%.format%.")
        or name:match("^lnetstat%.netstat%.") or name:match("^lnetstat%.encode%."))
        and name ~= "lnetstat.netstat.run"
      if not allowed then refuse("require '" .. name .. "'") end
      local chunk = assert(loadfile(path_of(name)))
      if setfenv then setfenv(chunk, env) else chunk = assert(load(read(path_of(name)), "@" .. name, "t", env)) end
      sb.loaded[name] = chunk(name)
      return sb.loaded[name]
    end
    sb.env, sb.require = env, env.require
    return sb
  end

  it("refuses what a renderer must not do (the sandbox itself)", function()
    local sb = sandbox()
    assert.has_error(function() sb.require("lnetstat") end)
    assert.has_error(function() sb.require("lnetstat.core") end)
    assert.has_error(function() sb.require("lnetstat.netstat.run") end)
    assert.has_error(function() return sb.env.io.open("/etc/hosts") end)
    assert.are.equal(4, #sb.touched)
  end)

  it("loads every renderer without lnetstat, lnetstat.core, io or os", function()
    local sb = sandbox()
    for _, name in ipairs(PURE) do
      assert.are.equal("table", type(sb.require(name)), name)
    end
    assert.are.same({}, sb.touched)
    for _, name in ipairs(PURE) do
      local text = read(path_of(name))
      assert.is_nil(text:find("require%s*%(?%s*[\"']lnetstat[\"']"), name .. " requires lnetstat")
      assert.is_nil(text:find("lnetstat.core", 1, true), name .. " names lnetstat.core")
      assert.is_nil(text:find("%f[%w_]io%.[%a_]+%s*[%(:]"), name .. " uses io")
      assert.is_nil(text:find("%f[%w_]os%.[%a_]+%s*%("), name .. " uses os")
    end
  end)

  it("renders every captured view from records and name texts alone", function()
    local sb = sandbox()
    local flags_mod, plan = sb.require("lnetstat.netstat.flags"), sb.require("lnetstat.netstat.plan")
    local names_mod = sb.require("lnetstat.netstat.names")
    local inet, unix = sb.require("lnetstat.netstat.text.inet"), sb.require("lnetstat.netstat.text.unix")
    local groups, routes = sb.require("lnetstat.netstat.text.groups"), sb.require("lnetstat.netstat.text.routes")
    local interfaces = sb.require("lnetstat.netstat.text.interfaces")
    local statistics = sb.require("lnetstat.netstat.text.statistics")
    local records, counters = dofile(FIXTURES .. "records.lua"), dofile(FIXTURES .. "counters.lua")
    local texts = {}
    for k, path in pairs(FILES) do texts[k] = read(path) end
    local n = 0
    for line in read(FIXTURES .. "cases.txt"):gmatch("[^\n]+") do
      local argv = {}
      for a in line:match("^%S+%s+(.*)$"):gmatch("%S+") do argv[#argv + 1] = a end
      local flags = assert(flags_mod.parse_args(argv))
      local p = plan.new(flags)
      -- the runner's user table, as getpwuid answers on any system
      local opts = { names = names_mod.new_names(texts), users = { [0] = "root" } }
      local text
      if p.view == "statistics" then
        text = statistics.statistics_text(counters.stats, flags)
      elseif p.view == "interfaces" then
        text = interfaces.interfaces_text(counters.interfaces, flags, opts)
      elseif p.view == "route" then
        text = (p.each_route and routes.routes_text or routes.routes6_text)(records.routes, flags, opts)
      else
        local parts = {}
        if p.inet_view then parts[#parts + 1] = inet.sockets_text(records.sockets, p.shown, opts) end
        if p.groups then parts[#parts + 1] = groups.groups_text(records.groups, p.shown, opts) end
        if p.unix_view then parts[#parts + 1] = unix.unix_text(records.sockets, p.shown, opts) end
        text = table.concat(parts)
      end
      local expected = format.netstat(argv, { files = FILES, euid = 0, data = {
        sockets = records.sockets, routes = records.routes, groups = records.groups,
        interfaces = counters.interfaces, stats = counters.stats } })
      same_text(expected, text, line)
      n = n + 1
    end
    assert.is_true(n >= 30)
    assert.are.same({}, sb.touched)
  end)
end)
