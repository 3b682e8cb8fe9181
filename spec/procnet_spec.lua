-- The /proc/net socket parsers (csrc/source/proc_sockets.c), run on fixture files
-- through lnetstat.testhooks._parse_proc: no root, no live /proc needed.
--
-- The fixtures are real lines of this kernel (6.18) plus hand-made lines for
-- the traps. The expected values below are fixture values. Durations assume
-- USER_HZ = 100, which is what sysconf(_SC_CLK_TCK) returns on Linux.

-- the parser and decoder hooks: a test-only module that make test builds
local hooks = require "lnetstat.testhooks"

local fixture = require("helpers").fixtures("proc")

local function parse(name, proto, family, filter)
   return hooks._parse_proc(fixture(name), proto, family, filter)
end

local function by_inode(list, inode)
   for _, r in ipairs(list) do
      if r.inode == inode then
         return r
      end
   end
end

local function by_ports(list, lport, rport)
   for _, r in ipairs(list) do
      if r.local_port == lport and r.remote_port == rport then
         return r
      end
   end
end

local function inodes(list)
   local t = {}
   for i, r in ipairs(list) do
      t[i] = r.inode
   end
   return t
end

-- 1 << TCP_* state, as lnetstat/init.lua builds the filter mask.
local ST = { ESTABLISHED = 1, SYN_SENT = 2, FIN_WAIT2 = 5, TIME_WAIT = 6, CLOSE = 7, LISTEN = 10 }
local function mask(...)
   local m = 0
   for _, name in ipairs({ ... }) do
      m = m + math.floor(2 ^ ST[name])   -- no bit operators: specs also run on 5.1
   end
   return m
end

describe("testhooks._parse_proc", function()
   describe("tcp", function()
      local list, skipped = parse("tcp", "tcp", "inet")

      it("reads every line and skips the header", function()
         assert.are.equal(8, #list)
         assert.are.equal(0, skipped)
      end)

      -- A listener's tx_queue column is 0, not its backlog (the send_q
      -- sock_diag reports): send_q stays unknown.
      it("decodes a LISTEN line", function()
         assert.are.same({
            proto = "tcp", family = "inet", state = "LISTEN",
            recv_q = 0,
            local_addr = "0.0.0.0", local_port = 2024,
            remote_addr = "0.0.0.0", remote_port = 0,
            uid = 0, inode = 1059,
            timer = "off", timer_expires_ms = 0, retransmits = 0,
         }, by_inode(list, 1059))
      end)

      it("reads the byte-reversed IPv4 addresses of a little-endian host", function()
         local r = by_inode(list, 150001)
         assert.are.equal("10.0.2.15", r.local_addr)
         assert.are.equal("198.51.100.7", r.remote_addr)
         assert.are.equal(54321, r.local_port)
         assert.are.equal(443, r.remote_port)
      end)

      it("decodes a TIME_WAIT line: no owner uid (the file says 0), inode 0, timewait timer", function()
         assert.are.same({
            proto = "tcp", family = "inet", state = "TIME_WAIT",
            recv_q = 0, send_q = 0,
            local_addr = "127.0.0.1", local_port = 43716,
            remote_addr = "127.0.0.1", remote_port = 5556,
            inode = 0,
            timer = "timewait", timer_expires_ms = 57480, retransmits = 0,
         }, by_ports(list, 43716, 5556))
      end)

      it("keeps the FIN_WAIT2 substate of a timewait socket", function()
         local r = by_ports(list, 43718, 5556)
         assert.are.equal("FIN_WAIT2", r.state)
         assert.are.equal("timewait", r.timer)
         assert.is_nil(r.uid)
         assert.are.equal(0, r.inode)
         assert.are.equal(57480, r.timer_expires_ms)
      end)

      it("reads rx_queue into recv_q and tx_queue into send_q", function()
         local r = by_inode(list, 150002)   -- tx 0x1F4, rx 0x80
         assert.are.equal(128, r.recv_q)
         assert.are.equal(500, r.send_q)
         local cw = by_inode(list, 140733)  -- CLOSE_WAIT with one unread byte
         assert.are.equal("CLOSE_WAIT", cw.state)
         assert.are.equal(1, cw.recv_q)
         assert.are.equal(0, cw.send_q)
      end)

      it("converts tm->when from USER_HZ ticks and reads the timer kinds", function()
         local syn = by_inode(list, 150001)
         assert.are.equal("SYN_SENT", syn.state)
         assert.are.equal("on", syn.timer)
         assert.are.equal(4000, syn.timer_expires_ms)   -- 0x190 ticks
         assert.are.equal(2, syn.retransmits)
         assert.are.equal(1000, syn.uid)
         local ka = by_inode(list, 150002)
         assert.are.equal("keepalive", ka.timer)
         assert.are.equal(70000, ka.timer_expires_ms)   -- 0x1B58 ticks
         assert.are.equal(33, ka.uid)
      end)

      it("leaves the fields /proc does not have unset", function()
         for _, r in ipairs(list) do
            assert.is_nil(r.cookie)
            assert.is_nil(r.v6only)
            assert.is_nil(r.interface)
            assert.is_nil(r.ifindex)
            assert.is_nil(r.protocol)
            assert.is_nil(r.path)
            assert.is_nil(getmetatable(r))
         end
      end)
   end)

   describe("tcp6", function()
      local list, skipped = parse("tcp6", "tcp", "inet6")

      it("reads every line", function()
         assert.are.equal(5, #list)
         assert.are.equal(0, skipped)
         for _, r in ipairs(list) do
            assert.are.equal("inet6", r.family)
         end
      end)

      it("decodes a [::] listener", function()
         local r = by_inode(list, 140726)
         assert.are.equal("LISTEN", r.state)
         assert.are.equal("::", r.local_addr)
         assert.are.equal("::", r.remote_addr)
         assert.are.equal(5555, r.local_port)
      end)

      it("prints IPv4-mapped addresses as ::ffff:a.b.c.d", function()
         local r = by_inode(list, 140728)
         assert.are.equal("::ffff:127.0.0.1", r.local_addr)
         assert.are.equal("::ffff:127.0.0.1", r.remote_addr)
         assert.are.equal(5555, r.local_port)
         assert.are.equal(51168, r.remote_port)
         assert.are.equal("ESTABLISHED", r.state)
      end)

      it("reads IPv6 addresses as four host-order words", function()
         assert.are.equal("2001:db8::1", by_inode(list, 140777).local_addr)
         local r = by_inode(list, 150003)
         assert.are.equal("2001:db8:1234:5678:9abc:def0:1:2", r.local_addr)
         assert.are.equal("2001:db8::2", r.remote_addr)
         assert.are.equal(443, r.local_port)
         assert.are.equal(58000, r.remote_port)
         assert.are.equal(600000, r.timer_expires_ms)
         assert.are.equal(101, r.uid)
         assert.are.equal("fe80::1", by_inode(list, 150004).local_addr)
      end)
   end)

   describe("udp", function()
      it("names unconnected sockets UNCONN and reads the rx queue", function()
         local list, skipped = parse("udp", "udp", "inet")
         assert.are.equal(3, #list)
         assert.are.equal(0, skipped)
         local r = by_inode(list, 140778)
         assert.are.equal("udp", r.proto)
         assert.are.equal("UNCONN", r.state)
         assert.are.equal(832, r.recv_q)
         assert.are.equal(0, r.send_q)
         assert.are.equal("127.0.0.1", r.local_addr)
         assert.are.equal(5559, r.local_port)
         assert.are.equal("off", r.timer)
         local c = by_inode(list, 150005)
         assert.are.equal("ESTABLISHED", c.state)
         assert.are.equal(5559, c.remote_port)
         assert.are.equal(100, c.uid)
      end)

      it("reads udp6", function()
         local list = parse("udp6", "udp", "inet6")
         assert.are.equal(2, #list)
         assert.are.equal("2001:db8::1", by_inode(list, 140776).local_addr)
         local r = by_inode(list, 150006)
         assert.are.equal("::", r.local_addr)
         assert.are.equal(5353, r.local_port)
         assert.are.equal(2304, r.recv_q)
         assert.are.equal("UNCONN", r.state)
      end)

      it("accepts udplite as a protocol name", function()
         local list = parse("udp", "udplite", "inet")
         assert.are.equal(3, #list)
         assert.are.equal("udplite", list[1].proto)
      end)
   end)

   describe("raw", function()
      it("reads the IP protocol from the port column", function()
         local list = parse("raw", "raw", "inet")
         assert.are.equal(2, #list)
         local icmp = by_inode(list, 140780)
         assert.are.equal("raw", icmp.proto)
         assert.are.equal(1, icmp.protocol)
         assert.are.equal(1, icmp.local_port)
         assert.are.equal(0, icmp.remote_port)
         assert.are.equal("UNCONN", icmp.state)
         assert.are.equal(255, by_inode(list, 150007).protocol)
      end)

      it("reads raw6 (ICMPv6 is protocol 58)", function()
         local list = parse("raw6", "raw", "inet6")
         assert.are.equal(1, #list)
         assert.are.equal(58, list[1].protocol)
         assert.are.equal("::", list[1].local_addr)
         assert.are.equal("inet6", list[1].family)
      end)
   end)

   describe("unix", function()
      local list, skipped = parse("unix", "unix")

      it("reads every socket that has an inode", function()
         assert.are.equal(0, skipped)
         assert.are.same({ 140783, 140784, 140786, 140785, 140787, 1055, 1056, 140782,
                           150210, 150211, 150212, 150213, 150214 }, inodes(list))
      end)

      it("skips embryo sockets without an inode, as unix_diag does", function()
         assert.is_nil(by_inode(list, 0))
      end)

      it("decodes a listening stream socket whose path has a space", function()
         assert.are.same({
            proto = "unix", family = "unix", state = "LISTEN", type = "stream",
            inode = 140783, path = "/tmp/pn/with space.sock",
         }, by_inode(list, 140783))
      end)

      it("joins a path split by a newline", function()
         assert.are.equal("/tmp/pn/new\nline.sock", by_inode(list, 140784).path)
         assert.are.equal("/tmp/pn/a\nb\nc", by_inode(list, 150210).path)
         assert.are.equal("/tmp/pn/ends-with-newline\n", by_inode(list, 150211).path)
         assert.are.equal("dgram", by_inode(list, 140784).type)
      end)

      it("keeps abstract names and spaces verbatim", function()
         local r = by_inode(list, 140782)
         assert.are.equal("@lnetstat-abstract", r.path)
         assert.are.equal("LISTEN", r.state)
         assert.are.equal("@embedded@nul", by_inode(list, 150212).path)
         assert.are.equal(" leading space", by_inode(list, 150214).path)
      end)

      it("decodes unbound sockets without a path", function()
         local d = by_inode(list, 140785)
         assert.are.equal("dgram", d.type)
         assert.are.equal("UNCONN", d.state)
         assert.is_nil(d.path)
         local s = by_inode(list, 140786)
         assert.are.equal("seqpacket", s.type)
         assert.is_nil(s.path)
      end)

      it("maps SS_CONNECTED to ESTABLISHED", function()
         assert.are.equal("ESTABLISHED", by_inode(list, 1055).state)
         assert.are.equal("ESTABLISHED", by_inode(list, 150213).state)
      end)

      it("leaves peer, queues and uid unset", function()
         for _, r in ipairs(list) do
            assert.is_nil(r.peer_inode)
            assert.is_nil(r.recv_q)
            assert.is_nil(r.send_q)
            assert.is_nil(r.uid)
            assert.is_nil(r.cookie)
            assert.is_nil(r.local_addr)
            assert.is_nil(r.local_port)
         end
      end)

      it("ignores the family argument", function()
         assert.are.equal(#list, #hooks._parse_proc(fixture("unix"), "unix", "inet6"))
      end)
   end)

   describe("packet", function()
      local list, skipped = parse("packet", "packet")

      it("decodes type, ethertype, interface index, Rmem and uid", function()
         assert.are.equal(3, #list)
         assert.are.equal(0, skipped)
         assert.are.same({
            proto = "packet", family = "packet", state = "UNCONN", type = "raw",
            protocol = 3, ifindex = 1, recv_q = 0, uid = 0, inode = 140788,
         }, by_inode(list, 140788))
         local ip = by_inode(list, 140789)
         assert.are.equal("dgram", ip.type)
         assert.are.equal(0x0800, ip.protocol)
         assert.is_nil(ip.ifindex)
         local lldp = by_inode(list, 150100)
         assert.are.equal(0x88cc, lldp.protocol)
         assert.are.equal(2304, lldp.recv_q)
         assert.are.equal(1000, lldp.uid)
         assert.are.equal(2, lldp.ifindex)
      end)

      it("has no send queue and, without a session, no interface name", function()
         for _, r in ipairs(list) do
            assert.is_nil(r.send_q)
            assert.is_nil(r.interface)
         end
      end)
   end)

   describe("netlink", function()
      it("decodes protocol, portid and queues", function()
         local list, skipped = parse("netlink", "netlink")
         assert.are.equal(5, #list)
         assert.are.equal(0, skipped)
         assert.are.same({
            proto = "netlink", family = "netlink", state = "UNCONN",
            protocol = 0, portid = 4197, dst_portid = 0,
            recv_q = 0, send_q = 0, inode = 140790,
         }, by_inode(list, 140790))
         local r = by_inode(list, 150101)
         assert.are.equal(16, r.protocol)
         assert.are.equal(2147483651, r.portid)
         assert.are.equal(4352, r.recv_q)
         assert.are.equal(1280, r.send_q)
         assert.are.equal(10, by_inode(list, 1040).protocol)
      end)
   end)

   describe("filter", function()
      it("keeps only the states in the mask", function()
         local list = parse("tcp", "tcp", "inet", { states = mask("LISTEN") })
         assert.are.same({ 1059, 140729 }, inodes(list))
         list = parse("tcp", "tcp", "inet", { states = mask("TIME_WAIT", "FIN_WAIT2") })
         assert.are.same({ 0, 0 }, inodes(list))
      end)

      it("applies the CLOSE bit to UNCONN sockets", function()
         local list = parse("udp", "udp", "inet", { states = mask("CLOSE") })
         assert.are.same({ 140778, 140779 }, inodes(list))
         list = parse("unix", "unix", nil, { states = mask("LISTEN") })
         assert.are.same({ 140783, 140782 }, inodes(list))
      end)

      it("filters on port ranges", function()
         local list = parse("tcp", "tcp", "inet", { lport_lo = 5556, lport_hi = 5556 })
         assert.are.same({ 140729, 140733 }, inodes(list))
         list = parse("tcp", "tcp", "inet", { rport_lo = 1, rport_hi = 1023 })
         assert.are.same({ 150001 }, inodes(list))
         list = parse("raw", "raw", "inet", { lport_lo = 1, lport_hi = 1 })
         assert.are.same({ 140780 }, inodes(list))
      end)

      it("filters on CIDRs", function()
         local list = parse("tcp", "tcp", "inet", { laddr = "10.0.0.0/8" })
         assert.are.same({ 150001, 150002 }, inodes(list))
         list = parse("tcp", "tcp", "inet", { raddr = "198.51.100.0/24" })
         assert.are.same({ 150001 }, inodes(list))
         list = parse("tcp6", "tcp", "inet6", { laddr = "2001:db8::/32" })
         assert.are.same({ 140777, 150003 }, inodes(list))
      end)

      it("matches an IPv4 CIDR against IPv4-mapped addresses", function()
         local list = parse("tcp6", "tcp", "inet6", { laddr = "127.0.0.0/8" })
         assert.are.same({ 140728 }, inodes(list))
      end)

      it("combines conditions", function()
         local list = parse("tcp", "tcp", "inet", {
            states = mask("ESTABLISHED"), laddr = "127.0.0.1", rport_lo = 5555, rport_hi = 5555,
         })
         assert.are.same({ 140727 }, inodes(list))
      end)

      it("never matches an address filter on unix, packet or netlink sockets", function()
         assert.are.equal(0, #parse("unix", "unix", nil, { laddr = "0.0.0.0/0" }))
         assert.are.equal(0, #parse("packet", "packet", nil, { lport_lo = 0, lport_hi = 65535 }))
         assert.are.equal(0, #parse("netlink", "netlink", nil, { raddr = "::/0" }))
      end)
   end)

   describe("malformed input", function()
      it("skips and counts bad tcp lines, keeps the good ones", function()
         local list, skipped = parse("tcp.malformed", "tcp", "inet")
         assert.are.same({ 160001, 160009 }, inodes(list))   -- the last has no final newline
         assert.are.equal(9, skipped)                         -- blank lines are not counted
      end)

      it("skips bad unix lines that cannot be path continuations", function()
         local list, skipped = parse("unix.malformed", "unix")
         assert.are.same({ 170001, 170003 }, inodes(list))
         assert.are.equal(3, skipped)
         assert.are.equal("/ok.sock", list[2].path)
      end)

      it("skips bad packet and netlink lines", function()
         local list, skipped = parse("packet.malformed", "packet")
         assert.are.same({ 170005 }, inodes(list))
         assert.are.equal(2, skipped)
         list, skipped = parse("netlink.malformed", "netlink")
         assert.are.same({ 170007 }, inodes(list))
         assert.are.equal(2, skipped)
         assert.are.equal(0, list[1].recv_q)   -- a negative Rmem reads as 0
      end)

      it("rejects lines of the other address family", function()
         local list, skipped = parse("tcp6", "tcp", "inet")
         assert.are.equal(0, #list)
         assert.are.equal(5, skipped)
         list, skipped = parse("tcp", "tcp", "inet6")
         assert.are.equal(0, #list)
         assert.are.equal(8, skipped)
      end)

      it("survives every truncation of every fixture", function()
         for _, spec in ipairs({
            { "tcp", "tcp", "inet" }, { "tcp6", "tcp", "inet6" }, { "unix", "unix" },
            { "packet", "packet" }, { "netlink", "netlink" },
         }) do
            local text = fixture(spec[1])
            for cut = 0, #text do
               local list = hooks._parse_proc(text:sub(1, cut), spec[2], spec[3])
               assert.is_table(list)
            end
         end
      end)

      it("survives binary garbage", function()
         local bytes = {}
         for i = 0, 255 do
            bytes[#bytes + 1] = string.char(i)
         end
         local junk = table.concat(bytes):rep(8)
         for _, p in ipairs({ "tcp", "unix", "packet", "netlink" }) do
            local list = hooks._parse_proc(junk, p, "inet6")
            assert.are.equal(0, #list)
         end
      end)
   end)

   describe("edge cases", function()
      it("gives an empty list for an empty string", function()
         for _, p in ipairs({ "tcp", "udp", "raw", "unix", "packet", "netlink" }) do
            local list, skipped = hooks._parse_proc("", p, "inet")
            assert.are.same({}, list)
            assert.are.equal(0, skipped)
         end
      end)

      it("gives an empty list for a header alone", function()
         local header = fixture("tcp"):match("^[^\n]*\n")
         local list, skipped = hooks._parse_proc(header, "tcp", "inet")
         assert.are.same({}, list)
         assert.are.equal(0, skipped)
      end)

      it("raises on bad arguments", function()
         assert.has_error(function() hooks._parse_proc("", "sctp", "inet") end)
         assert.has_error(function() hooks._parse_proc("", "tcp", nil) end)
         assert.has_error(function() hooks._parse_proc("", "tcp", "any") end)
         assert.has_error(function() hooks._parse_proc(nil, "tcp", "inet") end)
         assert.has_error(function() hooks._parse_proc("", "tcp", "inet", { laddr = "10.0.0.300" }) end)
      end)
   end)
end)
