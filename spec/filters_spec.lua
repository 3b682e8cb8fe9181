-- Kernel-side socket filters: state masks per protocol and the port and
-- address filters compiled to inet_diag bytecode. In a private network
-- namespace holding a fixed set of sockets, each query counts the socket
-- messages the kernel sent (each_socket's summary.messages): they must equal
-- the records that match, and the records must equal the answer /proc gives
-- (filtered in userspace only). Needs root.
local helpers = require "helpers"
local ns = require "lnetstat"

local root_it = helpers.root_it
local format = string.format

-- The sockets: python3 in the namespace opens them, prints "ready", and
-- waits for SIGTERM.
local FARM = [[
import socket, signal, sys, time
V4, V6 = socket.AF_INET, socket.AF_INET6
keep = []
def listen(fam, addr, port, v6only=None):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port)); s.listen(64); keep.append(s); return s
def connect(fam, src, dst, port):
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.bind((src, 0)); c.connect((dst, port)); keep.append(c)
for p in range(41000, 41010):
    listen(V4, "127.0.0.1", p)
listen(V4, "127.0.0.3", 41010)
listen(V4, "127.0.0.3", 41011)
listen(V6, "::1", 41020)
listen(V6, "2001:db8::1", 41021)
listen(V6, "::", 41022, 0)
for _ in range(5):
    connect(V4, "127.0.0.2", "127.0.0.1", 41000)
for _ in range(2):
    connect(V4, "127.0.0.5", "127.0.0.1", 41022)   # accepted as ::ffff:127.0.0.1
for _ in range(3):
    connect(V6, "::1", "2001:db8::1", 41021)
for fam, addr, port in ((V4, "127.0.0.3", 41030), (V6, "::1", 41031), (V4, "0.0.0.0", 41032)):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, port)); keep.append(u)
# a connected UDP socket (connect sends nothing), outside 127.0.0.0/30
u = socket.socket(V4, socket.SOCK_DGRAM); u.bind(("127.0.0.9", 41029)); keep.append(u)
u.connect(("127.0.0.3", 41030))
time.sleep(0.2)
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
]]

describe("kernel-side socket filters", function()
  local NS, pid, handle, tmpdir

  setup(function()
    if not helpers.is_root() then return end
    NS, pid, handle, tmpdir = helpers.netns_farm("lnetstat-filt", FARM, function(netns)
      helpers.ip(netns, "addr add 2001:db8::1/64 dev lo nodad")
      -- client ports above every port the farm listens on
      helpers.sysctl(netns, "net.ipv4.ip_local_port_range=50000 60000")
    end)
  end)

  teardown(function()
    helpers.stop_farm(pid, handle, NS, tmpdir)
  end)

  local function key(r) return helpers.record_key(r) .. " " .. r.state end

  -- Runs opts through each_socket (netlink) and sockets (source "proc");
  -- asserts that the kernel sent exactly the matching sockets and that both
  -- answers hold the same ones. Returns the keys and the record count.
  local function check(opts, what)
    local q = { netns = NS }
    for k, v in pairs(opts) do q[k] = v end
    local got, n = {}, 0
    local count, summary = ns.each_socket(q, function(r)
      got[key(r)] = true
      n = n + 1
    end)
    assert(count, summary)
    assert.equal(n, count)
    assert.equal(count, summary.messages,
      what .. ": the kernel sent " .. tostring(summary.messages) .. " sockets for " .. count .. " matches")
    q.source = "proc"
    local want = assert(ns.sockets(q))
    local wanted = {}
    for _, r in ipairs(want) do wanted[key(r)] = true end
    assert.same(wanted, got, what .. ": netlink and /proc answers")
    return got, count
  end

  -- The same query without the filter, for the count the kernel sent then.
  local function unfiltered(opts)
    local q = { netns = NS }
    for k, v in pairs(opts) do q[k] = v end
    local count, summary = assert(ns.each_socket(q, function() end))
    return count, summary.messages
  end

  root_it("listening TCP asks for LISTEN alone", function()
    local _, count = check({ proto = "tcp", state = "listening" }, "listening")
    assert.equal(15, count)   -- 10 + 2 IPv4 listeners, 3 IPv6
    local list = assert(ns.listening { netns = NS, proto = "tcp" })
    assert.equal(15, #list)
    for _, r in ipairs(list) do assert.equal("LISTEN", r.state) end
    -- UDP: unconnected sockets are its listening ones
    local udp = check({ proto = "udp", state = "listening" }, "listening udp")
    assert.is_true(udp["udp 127.0.0.3:41030 0.0.0.0:0 UNCONN"] ~= nil)
  end)

  root_it("local_port and remote_port, exact and ranges", function()
    local total, sent = unfiltered { proto = "tcp" }
    assert.equal(total, sent)
    local _, n = check({ proto = "tcp", local_port = 41000 }, "local_port = 41000")
    assert.equal(6, n)   -- the listener and 5 accepted
    _, n = check({ proto = "tcp", remote_port = 41000 }, "remote_port = 41000")
    assert.equal(5, n)
    _, n = check({ proto = "tcp", local_port = { 41001, 41011 } }, "local_port range")
    assert.equal(11, n)
    _, n = check({ proto = "tcp", remote_port = { 41020, 41022 } }, "remote_port range")
    assert.equal(5, n)   -- 3 IPv6 and 2 IPv4 clients
    _, n = check({ proto = "tcp", local_port = { 0, 41000 } }, "range from 0")
    assert.equal(6, n)
    _, n = check({ proto = "tcp", local_port = { 50000, 65535 } }, "range to 65535: the clients")
    assert.equal(5 + 2 + 3, n)
    _, n = check({ proto = "udp", local_port = { 41031, 65535 } }, "udp range to 65535")
    assert.equal(2, n)
    assert.is_true(n < total)
  end)

  -- Both TCP families come from one walk of the kernel's tables (one
  -- request): the list keeps IPv4 before IPv6, the stream gets the same
  -- sockets, and each family alone gives its own.
  root_it("TCP's two families in one request: the list orders them, the stream has them all", function()
    local list = assert(ns.sockets { netns = NS, proto = "tcp" })
    local v4 = assert(ns.sockets { netns = NS, proto = "tcp", family = "inet" })
    local v6 = assert(ns.sockets { netns = NS, proto = "tcp", family = "inet6" })
    assert.is_true(#v4 > 0 and #v6 > 0)
    assert.equal(#v4 + #v6, #list)
    for i, r in ipairs(list) do
      assert.equal(i <= #v4 and "inet" or "inet6", r.family, "record " .. i)
    end
    local listed, streamed = {}, {}
    for _, r in ipairs(list) do listed[key(r)] = true end
    for _, r in ipairs(v4) do assert.is_true(listed[key(r)], key(r)) end
    for _, r in ipairs(v6) do assert.is_true(listed[key(r)], key(r)) end
    local count, summary = assert(ns.each_socket({ netns = NS, proto = "tcp" }, function(r)
      streamed[key(r)] = true
    end))
    assert.equal(#list, count)
    assert.equal(#list, summary.messages)
    assert.same(listed, streamed)
    -- one request on the sock_diag socket for both (strace counts its sends)
    -- inject: strace's fault injection for the first request, if any
    local function traced(inject)
      local trace = tmpdir .. "/trace"
      local out = helpers.run(format("strace -f -qq -e trace=socket,sendto %s -o %s %s -e %s; echo \"<rc=$?>\"",
        inject or "", helpers.quote(trace), helpers.LUA, helpers.quote(format(
          "package.path = %q; package.cpath = %q\n"
            .. "io.write(#assert(require('lnetstat').sockets { netns = %q, proto = 'tcp' }))",
          package.path, package.cpath, NS))))
      local text = helpers.strace_joined(helpers.read_file(trace))
      local fd = assert(text:match("NETLINK_SOCK_DIAG%) = (%d+)"), text)
      local sends = 0
      for _ in text:gmatch("sendto%(" .. fd .. ", ") do sends = sends + 1 end
      return out, sends
    end
    local out, sends = traced()
    assert.equal(#list .. "<rc=0>\n", out)
    assert.equal(1, sends)
    -- a kernel that refuses that request: one request per family instead
    out, sends = traced("-e inject=sendto:error=EINVAL:when=1")
    assert.equal(#list .. "<rc=0>\n", out)
    assert.equal(3, sends)
  end)

  -- An exact port also goes into the request's socket id, which the
  -- kernel's TCP and UDP dumps compare before the bytecode: a wrong one
  -- there would lose the matches.
  root_it("exact UDP ports", function()
    local got, n = check({ proto = "udp", local_port = 41029 }, "udp local_port = 41029")
    assert.equal(1, n)
    assert.is_true(got["udp 127.0.0.9:41029 127.0.0.3:41030 ESTABLISHED"] ~= nil)
    got, n = check({ proto = "udp", remote_port = 41030 }, "udp remote_port = 41030")
    assert.equal(1, n)
    assert.is_true(got["udp 127.0.0.9:41029 127.0.0.3:41030 ESTABLISHED"] ~= nil)
    got, n = check({ proto = "udp", local_port = 41030 }, "udp local_port = 41030")
    assert.equal(1, n)
    assert.is_true(got["udp 127.0.0.3:41030 0.0.0.0:0 UNCONN"] ~= nil)
    got, n = check({ proto = "udp", local_port = 41030, remote_port = 41029 }, "udp both ports")
    assert.same({}, got)
    assert.equal(0, n)
  end)

  root_it("local_addr and remote_addr: IPv4 addresses and CIDRs", function()
    local _, got, n
    got, n = check({ proto = "tcp", local_addr = "127.0.0.3" }, "local_addr 127.0.0.3")
    assert.equal(2, n)
    assert.is_true(got["tcp 127.0.0.3:41010 0.0.0.0:0 LISTEN"] ~= nil)
    _, n = check({ proto = "tcp", remote_addr = "127.0.0.2/32" }, "remote_addr /32")
    assert.equal(5, n)
    _, n = check({ proto = { "tcp", "udp" }, local_addr = "127.0.0.0/30" }, "local_addr /30")
    -- listeners, accepted, the clients from .2, udp, and the accepted
    -- IPv4-mapped sockets (::ffff:127.0.0.1)
    assert.equal(12 + 5 + 5 + 1 + 2, n)
    _, n = check({ proto = "tcp", local_addr = "127.0.0.0/8", local_port = 41010 }, "address and port")
    assert.equal(1, n)
  end)

  root_it("IPv6 addresses and CIDRs", function()
    local _, n = check({ proto = "tcp", local_addr = "2001:db8::/32" }, "local_addr 2001:db8::/32")
    assert.equal(4, n)   -- the listener and 3 accepted
    _, n = check({ proto = "tcp", remote_addr = "2001:db8::1" }, "remote_addr 2001:db8::1")
    assert.equal(3, n)
    _, n = check({ proto = { "tcp", "udp" }, local_addr = "::1/128" }, "local_addr ::1")
    assert.equal(1 + 3 + 1, n)
  end)

  root_it("an IPv4 CIDR matches IPv4-mapped IPv6 sockets, in the kernel too", function()
    local _, got, n
    got, n = check({ proto = "tcp", family = "inet6", local_addr = "127.0.0.1" },
      "v4-mapped local")
    assert.equal(2, n)
    for k in pairs(got) do assert.truthy(k:find("::ffff:127.0.0.1", 1, true), k) end
    _, n = check({ proto = "tcp", family = "inet6", remote_addr = "127.0.0.5/32" }, "v4-mapped remote")
    assert.equal(2, n)
    _, n = check({ proto = "tcp", local_addr = "127.0.0.1" }, "both families")
    assert.equal(10 + 5 + 2, n)   -- listeners and accepted (IPv4), accepted mapped (IPv6)
  end)
end)

describe("a socket list call opens only what it needs", function()
  local core = require "lnetstat.core"

  -- Wraps core[name], recording each call's first two arguments, runs fn,
  -- and restores every wrapped function.
  local function recording(names, fn)
    local saved, calls = {}, {}
    for _, name in ipairs(names) do
      saved[name] = core[name]
      calls[name] = {}
      core[name] = function(...)
        local list = calls[name]
        list[#list + 1] = { ... }
        return saved[name](...)
      end
    end
    local ok, err = pcall(fn)
    for name, f in pairs(saved) do core[name] = f end
    assert(ok, err)
    return calls
  end

  it("listening{proto = 'tcp'}: one sock_diag socket, no rtnetlink, no /proc, no user names", function()
    local list
    local calls = recording({ "open", "user_names", "owner_map", "attach_owners", "ifname" }, function()
      list = assert(ns.listening { proto = "tcp" })
    end)
    assert.equal(1, #calls.open)
    assert.same({ "diag" }, calls.open[1][2])
    assert.equal(0, #calls.user_names)
    assert.equal(0, #calls.owner_map)
    assert.equal(0, #calls.attach_owners)
    assert.equal(0, #calls.ifname)
    for _, r in ipairs(list) do assert.equal("LISTEN", r.state) end
  end)

  it("each_socket opens rtnetlink too: a streamed record cannot be named afterwards", function()
    local calls = recording({ "open" }, function()
      assert(ns.each_socket({ proto = "tcp", state = "listening" }, function() end))
    end)
    assert.equal(1, #calls.open)
    assert.same({ "diag", "route" }, calls.open[1][2])
  end)
end)
