-- Socket records against ss and against the /proc fallback, in two private
-- network namespaces joined by a veth pair: a server namespace whose
-- listeners hold half-open (SYN_RECV) request sockets, because their
-- SYN-ACKs go to a MAC address nobody has, a listener with a full accept
-- queue, and IPv4-mapped connections; a client namespace whose connects
-- stay in SYN_SENT. Needs root.
local helpers = require "helpers"
local ns = require "lnetstat"
local q = require "lnetstat.query"

local root_it = helpers.root_it
local format = string.format

local SERVER = [[
import socket, signal
keep = []
# first (it shares no other socket): a process whose main thread has
# exited while another one goes on: its own /proc/PID/fd lists nothing,
# its thread's has the listener
import ctypes, os, threading, time
r, w = os.pipe()
zpid = os.fork()
if zpid == 0:
    ctypes.CDLL(None).prctl(1, 9)   # PR_SET_PDEATHSIG: SIGKILL
    z = socket.socket(socket.AF_INET6); z.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    z.bind(("::1", 43020)); z.listen(1)
    threading.Thread(target=lambda: time.sleep(3600)).start()
    os.write(w, b"x")
    ctypes.CDLL(None).pthread_exit(None)
os.read(r, 1)
for _ in range(500):
    with open("/proc/%d/stat" % zpid) as f:
        if f.read().rsplit(")", 1)[1].split()[0] == "Z":
            break
    time.sleep(0.01)
print("leader", zpid, flush=True)
def listen(fam, addr, port, backlog, v6only=None):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port)); s.listen(backlog); keep.append(s); return s
listen(socket.AF_INET, "203.0.113.1", 43001, 8)
listen(socket.AF_INET6, "::", 43002, 8, 0)
# a full accept queue: backlog 1, three clients, none accepted
listen(socket.AF_INET, "127.0.0.1", 43005, 1)
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", 43005))
    except BlockingIOError: pass
    keep.append(c)
# an IPv4 client of a dual-stack listener: accepted as ::ffff:127.0.0.1
d = listen(socket.AF_INET6, "::", 43012, 4, 0)
c = socket.socket(); c.connect(("127.0.0.1", 43012)); keep.append(c)
keep.append(d.accept()[0])
for fam, addr, port in ((socket.AF_INET, "203.0.113.1", 43010), (socket.AF_INET6, "2001:db8::1", 43011)):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, port)); keep.append(u)
# unix: an abstract name with a NUL byte and a blank in it
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind(b"\0lnetstat-sockdiff\0x y"); a.listen(1)
keep.append(a)
# netlink: one bound into a multicast group, one bound without any
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 1)); keep.append(n)
m = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); m.bind((0, 0)); keep.append(m)
print("netlink", n.getsockname()[0], m.getsockname()[0], flush=True)
# raw: ICMPv6, read from /proc/net/raw6 (no v6only there)
keep.append(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
# the IPv4 listener at three fds, and every socket above shared with a child
keep.extend([os.dup(keep[0].fileno()), os.dup(keep[0].fileno())])
spid = os.fork()
if spid == 0:
    ctypes.CDLL(None).prctl(1, 9)
    signal.sigwait([signal.SIGTERM])
    os._exit(0)
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
for child in (zpid, spid):
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
]]

local CLIENT = [[
import socket, signal
keep = []
for fam, dst in ((socket.AF_INET, ("203.0.113.1", 43001)), (socket.AF_INET, ("203.0.113.1", 43002)),
                 (socket.AF_INET6, ("2001:db8::1", 43002))):
    c = socket.socket(fam, socket.SOCK_STREAM); c.setblocking(False)
    try: c.connect(dst)
    except BlockingIOError: pass
    keep.append(c)
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
]]

local function key(r)
  return helpers.inet_key(r.proto, r.local_addr, r.local_port, r.remote_addr, r.remote_port)
end

describe("socket records against ss and /proc", function()
  local A, B, spid, shandle, sdir, cpid, chandle, cdir

  setup(function()
    if not helpers.is_root() then return end
    local ok, err = pcall(function()
      A = helpers.netns_create("lnetstat-sockdiff-srv")
      B = helpers.netns_create("lnetstat-sockdiff-cli")
      helpers.must(format("ip -n %s link add sdva type veth peer name sdvb netns %s", A, B))
      helpers.must(format("ip -n %s addr add 203.0.113.1/24 dev sdva", A))
      helpers.must(format("ip -n %s addr add 2001:db8::1/64 dev sdva nodad", A))
      helpers.must(format("ip -n %s addr add 203.0.113.2/24 dev sdvb", B))
      helpers.must(format("ip -n %s addr add 2001:db8::2/64 dev sdvb nodad", B))
      helpers.must(format("ip -n %s link set sdva up", A))
      helpers.must(format("ip -n %s link set sdvb up", B))
      -- the server's answers go to a MAC address nobody has: its request
      -- sockets stay SYN_RECV (retried for minutes), the clients SYN_SENT
      for _, addr in ipairs { "203.0.113.2", "2001:db8::2" } do
        helpers.must(format("ip -n %s neigh replace %s lladdr 02:00:00:00:00:99 dev sdva nud permanent",
          A, addr))
      end
      -- and the clients need no neighbour discovery to reach the server
      local mac = helpers.must(format("ip -n %s -br link show sdva", A)):match("(%x%x:%x%x:%x%x:%x%x:%x%x:%x%x)")
      for _, addr in ipairs { "203.0.113.1", "2001:db8::1" } do
        helpers.must(format("ip -n %s neigh replace %s lladdr %s dev sdvb nud permanent", B, addr, mac))
      end
      helpers.must(format("ip netns exec %s sysctl -qw net.ipv4.tcp_synack_retries=10", A))
      sdir = helpers.mktemp_dir()
      spid, shandle = helpers.spawn_farm(A, sdir, SERVER)
      cdir = helpers.mktemp_dir()
      cpid, chandle = helpers.spawn_farm(B, cdir, CLIENT)
      -- wait for the three request sockets
      for _ = 1, 200 do
        local list = assert(ns.sockets { netns = A, proto = "tcp", state = "SYN_RECV" })
        if #list == 3 then return end
        helpers.sleep(0.05)
      end
      error("no SYN_RECV sockets in " .. A)
    end)
    if not ok then
      helpers.stop_farm(cpid, chandle, B, cdir)
      helpers.stop_farm(spid, shandle, A, sdir)
      error(err, 0)
    end
  end)

  teardown(function()
    helpers.stop_farm(cpid, chandle, B, cdir)
    helpers.stop_farm(spid, shandle, A, sdir)
  end)

  -- ss -tanepH, keyed like records
  local function ss_tcp()
    local out = {}
    for _, s in ipairs(assert(helpers.ss(A, "-tanepH"))) do
      out[helpers.inet_key("tcp", s.local_addr, s.local_port, s.remote_addr, s.remote_port)] = s
    end
    return out
  end

  root_it("SYN_RECV request sockets have no uid and no owner, from netlink and from /proc", function()
    local ss = ss_tcp()
    local seen = 0
    for _, source in ipairs { "netlink", "proc" } do
      local list = assert(ns.sockets { netns = A, proto = "tcp", state = "SYN_RECV",
        source = source, process = true })
      assert.equal(3, #list, source)
      for _, r in ipairs(list) do
        local s = ss[key(r)]
        assert.is_table(s, source .. ": ss has " .. key(r))
        assert.equal("SYN_RECV", s.state)
        assert.equal(0, r.inode)
        assert.equal(s.inode, r.inode)
        assert.is_nil(r.uid, source .. " uid of " .. key(r))
        assert.is_nil(r.user, source .. " user of " .. key(r))
        assert.is_nil(r.pid, source .. " pid of " .. key(r))
        seen = seen + 1
      end
    end
    assert.equal(6, seen)
    -- the listeners keep theirs
    local l = assert(ns.sockets { netns = A, proto = "tcp", state = "LISTEN", source = "proc",
      local_port = 43001 })
    assert.equal(1, #l)
    assert.equal(0, l[1].uid)
  end)

  root_it("a listener's send_q is its backlog (netlink, as ss) and unknown from /proc", function()
    local ss = ss_tcp()
    local nl = assert(ns.sockets { netns = A, proto = "tcp", state = "LISTEN" })
    local pr = assert(ns.sockets { netns = A, proto = "tcp", state = "LISTEN", source = "proc" })
    assert.equal(5, #nl)
    assert.equal(#nl, #pr)
    local by = {}
    for _, r in ipairs(pr) do by[key(r)] = r end
    local full
    for _, r in ipairs(nl) do
      local s = ss[key(r)]
      assert.is_table(s, "ss has " .. key(r))
      assert.equal(s.send_q, r.send_q, "send_q of " .. key(r))
      assert.equal(s.recv_q, r.recv_q, "recv_q of " .. key(r))
      local p = by[key(r)]
      assert.is_table(p, "/proc has " .. key(r))
      assert.equal(r.recv_q, p.recv_q, "/proc recv_q of " .. key(r))
      assert.is_nil(p.send_q, "/proc send_q of " .. key(r))
      if r.local_port == 43005 then full = r end
    end
    -- the full queue: backlog 1, accept queue over it
    assert.equal(1, full.send_q)
    assert.is_true(full.recv_q >= 1)
  end)

  -- A filter gives what the unfiltered list gives through q.cidr and
  -- q.range, from netlink and from /proc; where the kernel can run the
  -- filter, it sends only the matches.
  root_it("address and port filters agree with lnetstat.query on every address form", function()
    local protos = { "tcp", "udp" }
    local all = {
      netlink = assert(ns.sockets { netns = A, proto = protos }),
      proc = assert(ns.sockets { netns = A, proto = protos, source = "proc" }),
    }
    assert.is_true(#all.netlink >= 14)
    local cases = {
      { { local_addr = "::ffff:203.0.113.1" }, true },
      { { local_addr = "::ffff:203.0.113.0/120" }, true },
      { { local_addr = "::ffff:127.0.0.1/128", local_port = { 43012, 65535 } }, true },
      { { remote_addr = "::ffff:127.0.0.0/104" }, true },
      { { local_addr = "::ffff:0.0.0.0/96" }, true },
      { { local_addr = "::/0" }, false },
      { { remote_addr = "::/0", local_port = { 43002, 43002 } }, false },
      { { local_addr = "::/64" }, false },
      { { local_addr = "0.0.0.0/0" }, true },
      { { local_addr = "2001:db8::1/128" }, true },
      { { local_addr = "2001:db8::/32", local_port = 0 }, true },
      { { remote_port = { 0, 0 } }, true },
      { { local_port = { 0, 65535 } }, true },
      { { local_port = { 65535, 65535 } }, true },
      { { remote_addr = "203.0.113.2/32", remote_port = { 1, 65535 } }, true },
    }
    local function matches(f, r)
      for _, side in ipairs { "local", "remote" } do
        local a, p = f[side .. "_addr"], f[side .. "_port"]
        if a and not q.cidr(a)(r[side .. "_addr"]) then return false end
        if type(p) == "number" and r[side .. "_port"] ~= p then return false end
        if type(p) == "table" and not q.range(p[1], p[2])(r[side .. "_port"]) then return false end
      end
      return true
    end
    for _, case in ipairs(cases) do
      local f, in_kernel = case[1], case[2]
      local what = q.describe(f)
      for source, list in pairs(all) do
        local want, got = {}, {}
        for _, r in ipairs(list) do
          if matches(f, r) then want[key(r) .. " " .. r.state] = true end
        end
        local o = { netns = A, proto = protos, source = source }
        for k, v in pairs(f) do o[k] = v end
        local count, summary = assert(ns.each_socket(o, function(r)
          got[key(r) .. " " .. r.state] = true
        end))
        assert.same(want, got, source .. ": " .. what)
        if source == "netlink" and in_kernel then
          assert.equal(count, summary.messages, "the kernel sent only the matches of " .. what)
        end
      end
    end
  end)

  -- The kernel sends a bound netlink socket that is in a multicast group
  -- twice (ss prints it twice); /proc/net/netlink has each socket once.
  root_it("netlink sockets: each once, the same as /proc and as ss's set", function()
    local nl = assert(ns.sockets { netns = A, proto = "netlink", process = true })
    local pr = assert(ns.sockets { netns = A, proto = "netlink", source = "proc" })
    -- (but for the sock_diag socket of the netlink query itself)
    local function set(list)
      local out, n = {}, 0
      for _, r in ipairs(list) do
        assert.is_nil(out[r.inode], "inode " .. r.inode .. " listed twice")
        if not (r.protocol == 4 and r.portid ~= 0) then
          out[r.inode] = r.protocol .. ":" .. r.portid
          n = n + 1
        end
      end
      return out, n
    end
    local nl_set, n = set(nl)
    assert.same(set(pr), nl_set)
    -- ss -A netlink: "UNCONN rq sq proto:portid *" (a portid above 2^31
    -- printed negative); the grouped socket comes twice there
    local text = helpers.must(format("ip netns exec %s ss -A netlink -a -n -H", A))
    local ss_count = {}
    for proto, portid in text:gmatch("%s(%d+):(%-?%d+)%s+%*") do
      portid = tonumber(portid)
      if portid < 0 then portid = portid + 4294967296 end
      local k = proto .. ":" .. portid
      ss_count[k] = (ss_count[k] or 0) + 1
    end
    local grouped_id, plain_id = shandle.stdout():match("netlink (%d+) (%d+)")
    local grouped, plain
    for _, r in ipairs(nl) do
      if not (r.protocol == 4 and r.portid ~= 0) then
        assert.is_number(ss_count[r.protocol .. ":" .. r.portid], "ss has " .. r.protocol .. ":" .. r.portid)
      end
      if r.protocol == 0 and r.portid == tonumber(grouped_id) then grouped = r end
      if r.protocol == 0 and r.portid == tonumber(plain_id) then plain = r end
    end
    assert.is_table(grouped, "the socket bound into group 1")
    assert.is_table(plain, "the socket bound without groups")
    assert.equal(2, ss_count["0:" .. grouped.portid])
    assert.equal(1, ss_count["0:" .. plain.portid])
    assert.equal(n, #pr)
    assert.is_true(n >= 2)
  end)

  -- The record keeps the name's bytes; netstat -x shows each NUL of an
  -- abstract name as "@" (as /proc/net/unix prints it) and cuts the path
  -- at its first blank.
  root_it("an abstract unix name with a NUL byte: the record and netstat -x's line", function()
    local unix_text = require("lnetstat.netstat.text.unix").unix_text
    local want
    for line in helpers.must(format("ip netns exec %s netstat -xa", A)):gmatch("[^\n]+") do
      if line:find("@lnetstat-sockdiff", 1, true) then want = line end
    end
    assert.is_string(want)
    for _, source in ipairs { "netlink", "proc" } do
      local list = assert(ns.sockets { netns = A, proto = "unix", source = source })
      local found
      for _, r in ipairs(list) do
        if r.path and r.path:find("^@lnetstat%-sockdiff") then found = r end
      end
      assert.is_table(found, source)
      if source == "netlink" then
        assert.equal("@lnetstat-sockdiff\0x y", found.path)
      else
        assert.equal("@lnetstat-sockdiff@x y", found.path)   -- as /proc prints it
      end
      local text = unix_text({ found }, { all = true }, { header = false })
      assert.equal(want .. "\n", text, source)
    end
  end)

  -- ss -p and netstat -p read /proc/PID/fd alone and show no owner there.
  root_it("a process whose main thread has exited still owns its sockets", function()
    local leader = tonumber(shandle.stdout():match("leader (%d+)"))
    assert.is_number(leader)
    assert.equal("Z", helpers.read_file(format("/proc/%d/stat", leader)):match("%)%s+(%a)"))
    for _, source in ipairs { "netlink", "proc" } do
      for _, process in ipairs { true, "first" } do
        local list = assert(ns.listening { netns = A, proto = "tcp", local_port = 43020,
          process = process, source = source })
        assert.equal(1, #list)
        assert.equal(leader, list[1].pid, source)
        assert.equal(leader, list[1].processes[1].pid)
        assert.is_nil(list.partial)
      end
    end
  end)

  -- lnetstat.ss (for Tstconfig's `command ss`) byte for byte against ss:
  -- owners as ss orders them (the last found first), an IPv6 raw socket
  -- from /proc/net/raw6 (v6only unknown) shown as ss shows a dual-stack
  -- one. With -p, IPv4 only: ss sees no owner of the exited leader's.
  root_it("lnetstat.ss prints what ss prints", function()
    local render = require("lnetstat.ss").render
    for _, args in ipairs { "-tuwanp4", "-tlnp4", "-uanp", "-wan", "-w6an", "-tan6", "-tuwan", "-tl" } do
      local argv = {}
      for w in args:gmatch("%S+") do argv[#argv + 1] = w end
      local want = helpers.must(format("ip netns exec %s ss %s", A, args))
      local out, err, code = render(argv, { netns = A })
      assert.same({ "", 0 }, { err, code }, args)
      assert.equal(want, out, "ss " .. args)
    end
  end)

  -- ss measures a cell when the next one starts: the last row's Process
  -- cell never widens its column. Two listeners, one of them held at
  -- four fds (a long owner list), each way round: whichever ss prints
  -- last, lnetstat.ss lays the table out the same.
  root_it("lnetstat.ss: a long owner list in the last row, as ss lays it out", function()
    local render = require("lnetstat.ss").render
    for _, port in ipairs { 43101, 43102 } do
      local C, pid, handle, dir = helpers.netns_farm("lnetstat-sockdiff-ss", format([[
import os, signal, socket
keep = []
for port in (43101, 43102):
    s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(1); keep.append(s)
    if port == %d:
        keep.extend(os.dup(s.fileno()) for _ in range(3))
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
]], port))
      local ok, err = pcall(function()
        for _, args in ipairs { "-tlnp", "-tlp", "-tanp" } do
          local want = helpers.must(format("ip netns exec %s ss %s", C, args))
          local out = render({ args }, { netns = C })
          assert.equal(want, out, "ss " .. args .. ", four fds at " .. port)
        end
      end)
      helpers.stop_farm(pid, handle, C, dir)
      assert(ok, err)
    end
  end)

  -- The netstat views against net-tools' netstat, which reads /proc (the
  -- exited leader's socket is IPv6: with -p, IPv4 only).
  root_it("lnetstat's netstat views print what netstat prints", function()
    local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
    local cmd = helpers.LUA .. " " .. helpers.quote(SPEC .. "../bin/lnetstat")
    for _, args in ipairs { "-tuwanp4", "-tuwan", "-tlnpe4", "-xa", "-wan6", "-uan" } do
      local want = helpers.must(format("ip netns exec %s netstat %s", A, args))
      local out = helpers.must(format("%s %s --netns %s", cmd, args, A))
      assert.equal(want, out, "netstat " .. args)
    end
  end)

  -- hidepid=invisible hides other users' processes from an unprivileged
  -- caller altogether: the owner scan cannot count them as unreadable.
  root_it("process = true under hidepid says the owners are hidden", function()
    local script = format("package.path = %q; package.cpath = %q\n", package.path, package.cpath) .. [[
      local ns = require "lnetstat"
      for _, source in ipairs { "netlink", "proc" } do
        local list = assert(ns.listening { proto = "tcp", process = true, source = source,
          local_port = 43001 })
        io.write(source, " ", #list, " ", tostring(list[1] and list[1].pid), " ",
          tostring(list.partial), "\n")
      end
    ]]
    local f = assert(io.open(sdir .. "/hidden.lua", "w"))
    f:write(script)
    f:close()
    helpers.must("chmod 755 " .. helpers.quote(sdir) .. " && chmod 644 " .. helpers.quote(sdir .. "/hidden.lua"))
    local out = helpers.must(format("ip netns exec %s unshare -m --propagation private sh -c %s", A,
      helpers.quote(format("mount -t proc -o hidepid=invisible proc /proc && "
        .. "setpriv --reuid 65534 --regid 65534 --clear-groups %s %s", helpers.LUA,
        helpers.quote(sdir .. "/hidden.lua")))))
    local lines = 0
    for source, n, pid, partial in out:gmatch("(%a+) (%d+) (%S+) ([^\n]*)\n") do
      lines = lines + 1
      assert.equal("1", n, source)
      assert.equal("nil", pid, source)
      assert.truthy(partial:find("hidepid=invisible", 1, true), source .. ": " .. partial)
      assert.truthy(partial:find("owners unknown for 1 sockets", 1, true), source .. ": " .. partial)
    end
    assert.equal(2, lines, out)
    -- root sees them: owners, and no note
    local list = assert(ns.listening { netns = A, proto = "tcp", process = true, local_port = 43001 })
    assert.equal(1, #list)
    assert.is_number(list[1].pid)
    assert.is_nil(list.partial)
  end)
end)
