-- A sweep of netstat's flag combinations: lnetstat against net-tools
-- netstat inside a private network namespace that holds TCP sockets in
-- many states (LISTEN, ESTABLISHED, SYN_SENT, TIME_WAIT, CLOSE_WAIT,
-- FIN_WAIT2), UDP bound and connected, raw sockets, UNIX stream, datagram
-- and seqpacket sockets (named, abstract, unnamed), IPv6 with a link-local
-- listener, programs whose names hold spaces and a socket of another
-- user. Headers must be identical, body lines identical as multisets (the
-- row order within a protocol is the kernel's); remaining times of -o are
-- masked. The address-family rules of -s and -r, which netstat checks after
-- parsing, are compared by message; lnetstat's usage errors exit 2 where
-- netstat exits 1 or 3 (the command's documented convention). Output cut
-- short by the reader (| head -1) ends quietly, as netstat's does.
local helpers = require "helpers"

local root_it = helpers.root_it
local quote = helpers.quote
local format = string.format

local LNETSTAT = helpers.LNETSTAT
local run_rc, lines_of = helpers.run_rc, helpers.lines_of

local flags_mod = require "lnetstat.netstat.flags"

describe("netstat's address-family rules after parsing", function()
  it("an empty family name anywhere in -A is an unknown family (exit 1), as in netstat", function()
    for _, argv in ipairs { { "-A", "", "-t" }, { "-A", "inet,", "-t" }, { "-A", ",inet" },
      { "-A", "inet,,unix" }, { "--protocol=" }, { "--protocol=," } } do
      local flags, msg, code = flags_mod.parse_args(argv)
      assert.is_nil(flags, table.concat(argv, " "))
      assert.are.equal("Unknown address family `'.", msg)
      assert.are.equal(1, code)
    end
  end)

  it("-s takes one family, inet or inet6: any other list is netstat's error, in its order", function()
    local cases = {
      { { "-sx" }, "unix" }, { { "-s", "-A", "unix" }, "unix" }, { { "-s", "--unix" }, "unix" },
      { { "-sxt" }, "unix" }, { { "-s", "-x", "-4" }, "unix,inet" }, { { "-sx6" }, "unix,inet6" },
      { { "-s", "-4", "-6" }, "inet,inet6" }, { { "-s", "-4", "-4" }, "inet,inet" },
      { { "-s", "-A", "inet", "-4" }, "inet,inet" }, { { "-s", "-A", "ip,unix" }, "inet,unix" },
      { { "-s", "-6", "-A", "inet6" }, "inet6,inet6" }, { { "-x", "-s", "-u" }, "unix" },
    }
    for _, case in ipairs(cases) do
      local flags, msg, code = flags_mod.parse_args(case[1])
      assert.is_nil(flags, table.concat(case[1], " "))
      assert.are.equal("lnetstat: No statistics support for specified address family: " .. case[2], msg)
      assert.are.equal(1, code)
    end
    for _, argv in ipairs { { "-s" }, { "-s4" }, { "-s6" }, { "-s", "-A", "ip" }, { "-s", "--inet6" },
      { "-st" }, { "-s", "-A", "inet6", "-u" } } do
      assert.is_table(flags_mod.parse_args(argv), table.concat(argv, " "))
    end
  end)

  it("keeps the families named in their order, each time named, for -r's tables", function()
    local cases = {
      { { "-r" }, {} }, { { "-rn", "-4", "-6" }, { "inet", "inet6" } },
      { { "-r", "-A", "inet6,ip,inet" }, { "inet6", "inet", "inet" } },
      { { "-r", "--inet6", "--inet" }, { "inet6", "inet" } }, { { "-tan6" }, { "inet6" } },
    }
    for _, case in ipairs(cases) do
      assert.are.same(case[2], flags_mod.parse_args(case[1]).families, table.concat(case[1], " "))
    end
  end)

  it("the library's netstat -r -6 -4 prints both tables, IPv6 first", function()
    local fmt = require "lnetstat.format"
    local ns = {
      routes = function(o)
        if o.family == "inet6" then
          return { { family = "inet6", dst = "2001:db8::", dst_len = 64, table = 254, type = "unicast",
            protocol = "kernel", scope = "universe", metric = 256, dev = "v0", flags = {} } }
        end
        return { { family = "inet", dst = "203.0.113.0", dst_len = 24, table = 254, type = "unicast",
          protocol = "kernel", scope = "link", dev = "v0", flags = {} } }
      end,
    }
    local out, err, code = fmt.netstat({ "-rn", "-6", "-4" }, { lnetstat = ns })
    assert.are.equal(0, code, err)
    local v6, v4 = out:find("Kernel IPv6 routing table", 1, true), out:find("Kernel IP routing table", 1, true)
    assert.is_truthy(v6 and v4 and v6 < v4, out)
    local _, titles = out:gsub("Kernel IP", "")
    assert.are.equal(2, titles)
  end)

  it("-r has no table for unix: netstat's usage error", function()
    for _, argv in ipairs { { "-rx" }, { "-r", "-A", "unix" }, { "-r", "--unix" },
      { "-r", "-A", "inet,unix" }, { "-rx6" } } do
      local flags, msg, code = flags_mod.parse_args(argv)
      assert.is_nil(flags, table.concat(argv, " "))
      assert.are.equal("No routing for address family `unix'.", msg)
      assert.are.equal(3, code)
    end
    assert.is_table(flags_mod.parse_args { "-r", "-4" })
    assert.is_table(flags_mod.parse_args { "-ix" })
    assert.is_table(flags_mod.parse_args { "-gx" })
  end)
end)

-- The sockets of the sweep. Children die with the farm (PDEATHSIG) and are
-- stopped by it on SIGTERM.
local FARM = [==[
import ctypes, json, os, signal, socket, subprocess, sys, time
libc = ctypes.CDLL(None)
def die_with_parent():
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)
kids = []
def stop(*_):
    for k in kids:
        try: os.kill(k, signal.SIGKILL)
        except OSError: pass
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
d = os.path.dirname(os.path.abspath(__file__))
keep = []
def listener(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port) if fam == socket.AF_INET else addr)
    s.listen(8)
    keep.append(s)
    return s
l1 = listener(socket.AF_INET, "127.0.0.1", 42001)
l2 = listener(socket.AF_INET, "0.0.0.0", 42002)
l6 = listener(socket.AF_INET6, ("::", 42003), None)
# ESTABLISHED pair, and a CLOSE_WAIT / FIN_WAIT2 pair
c = socket.create_connection(("127.0.0.1", 42001)); keep += [c, l1.accept()[0]]
c2 = socket.create_connection(("127.0.0.1", 42002)); a2 = l2.accept()[0]; keep += [c2, a2]
a2.shutdown(socket.SHUT_WR)
# TIME_WAIT: the client closes first
tw = socket.create_connection(("127.0.0.1", 42002)); atw = l2.accept()[0]
tw.close(); time.sleep(0.2); atw.close()
# SYN_SENT, IPv4 and IPv6, towards gateways that never answer
for fam, dst in ((socket.AF_INET, ("198.51.100.7", 80)), (socket.AF_INET6, ("2001:db8:99::7", 443))):
    s = socket.socket(fam, socket.SOCK_STREAM); s.setblocking(False)
    try: s.connect(dst)
    except BlockingIOError: pass
    keep.append(s)
# IPv6 link-local listener and a connection to it
idx = socket.if_nametoindex(sys.argv[1])
ll = [l.split()[0] for l in open("/proc/net/if_inet6").read().splitlines()
      if l.split()[5] == sys.argv[1] and l.split()[0].startswith("fe80")][0]
ll = ":".join(ll[i:i + 4] for i in range(0, 32, 4))
lll = socket.socket(socket.AF_INET6); lll.bind((ll, 42004, 0, idx)); lll.listen(2); keep.append(lll)
cll = socket.socket(socket.AF_INET6); cll.connect((ll, 42004, 0, idx)); keep += [cll, lll.accept()[0]]
# UDP bound and connected, both families; raw sockets
for fam, addr, peer in ((socket.AF_INET, ("0.0.0.0", 42005), None),
                        (socket.AF_INET, ("127.0.0.1", 42006), ("127.0.0.1", 42005)),
                        (socket.AF_INET6, ("::1", 42007), ("::1", 42008))):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind(addr)
    if peer: u.connect(peer)
    keep.append(u)
keep.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, 253))
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); r6.bind(("::1", 0)); keep.append(r6)
# UNIX: seqpacket pair through a listener, stream listener, abstract
# datagram, an unnamed pair
sp = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); sp.bind(d + "/seq.sock"); sp.listen(2)
spc = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); spc.connect(d + "/seq.sock")
keep += [sp, spc, sp.accept()[0]]
st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); st.bind(d + "/stream.sock"); st.listen(2); keep.append(st)
ad = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); ad.bind("\0clinet-abstract-dgram"); keep.append(ad)
keep += list(socket.socketpair())
# a program whose name has spaces, and a socket of user 65534
child = """
import os, socket, signal, sys
u = socket.socket(socket.AF_UNIX); u.bind(sys.argv[2]); u.listen(1)
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("up", flush=True)
signal.pause()
"""
for argv0, port, path in (("my prog x", 42010, d + "/spaced.sock"),
                          ("/opt/with space/prog arg", 42011, d + "/spaced2.sock")):
    p = subprocess.Popen([argv0, "-c", child, str(port), path], executable=sys.executable,
                         stdout=subprocess.PIPE, preexec_fn=die_with_parent)
    kids.append(p.pid)
    p.stdout.readline()
# a socket of user 65534, made with that effective uid: no process of that
# user lives (netstat's -p note for a user counts that user's processes on
# the whole host)
os.seteuid(65534)
nob = socket.socket(); nob.bind(("127.0.0.1", 42012)); nob.listen(1); keep.append(nob)
os.seteuid(0)
print(json.dumps({"pid": os.getpid(), "kids": kids}), flush=True)
print("ready", flush=True)
while True:
    time.sleep(100)
]==]

local HEADER = { "^Active ", "^Proto ", "^Kernel ", "^Destination ", "^Iface ", "^IPv6/IPv4 Group",
  "^Interface ", "^%-%-%-" }

-- Header lines in order, body lines sorted; sock_diag does not see a UNIX
-- connection that is not accepted yet (netstat reads /proc/net/unix), and
-- remaining times move.
local function normal(text)
  local head, lines = helpers.split_head((text:gsub("%(%d+%.%d%d/%d+/%d+%)", "(T/R/P)")), HEADER)
  local body = {}
  for _, line in ipairs(lines) do
    if not line:match("^unix  %d+ +%[ %] +%u+ +CONNECTING +0 ") then body[#body + 1] = line end
  end
  return table.concat(head, "\n") .. "\n--\n" .. table.concat(body, "\n")
end

describe("lnetstat against netstat, flag by flag, in a private netns", function()
  local ns, pid, handle, dir

  helpers.root_setup(function()
    local va, vb = helpers.veth_names("lcs")
    ns = helpers.netns_create("lnetstat-clinet")
    helpers.sysctl(ns, "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
    local function ip(cmd) helpers.ip(ns, cmd) end
    ip(format("link add %s type veth peer name %s", va, vb))
    ip(format("addr add 203.0.113.1/24 dev %s", va))
    ip(format("addr add 2001:db8:1234:5678::1/64 dev %s nodad", va))
    ip(format("link set %s up", va))
    ip(format("link set %s up", vb))
    ip(format("route add 198.51.100.0/24 via 203.0.113.2 dev %s", va))
    ip(format("route add 2001:db8:99::/48 via 2001:db8:1234:5678::2 dev %s", va))
    dir = helpers.mktemp_dir()
    helpers.must("chmod 755 " .. quote(dir))
    pid, handle = helpers.spawn_farm(ns, dir, FARM, va)
  end, function()
    helpers.stop_farm(pid, handle, ns, dir)
    ns, pid, handle, dir = nil, nil, nil, nil
  end)

  local function both(args)
    local n_out, n_rc = run_rc(format("ip netns exec %s netstat %s 2>/dev/null", ns, args))
    local l_out, l_rc = run_rc(format("ip netns exec %s %s %s 2>/dev/null", ns, LNETSTAT, args))
    return n_out, n_rc, l_out, l_rc
  end

  root_it("the namespace holds what the sweep is meant to compare", function()
    local text = both("-tuwxanpe")
    for _, want in ipairs { " LISTEN ", " ESTABLISHED ", " SYN_SENT ", " TIME_WAIT ", " CLOSE_WAIT ",
      " FIN_WAIT2 ", "\ntcp6 .-fe80::", "\nudp6 .- ESTABLISHED", "\nraw6 ", "\nraw ",
      "/my prog x ", "/prog arg ", " 65534 ", " SEQPACKET ", "@clinet%-abstract%-dgram" } do
      assert.matches(want, text)
    end
  end)

  local SWEEP = {
    "-t", "-u", "-w", "-x", "-l", "-a", "-n", "-tn", "-xn", "-ln", "-an", "-tln", "-tan", "-uan",
    "-wan", "-xan", "-xln", "-tulpn", "-tulnp", "-natp", "-natpe", "-tanee", "-tanpee", "-tanW",
    "-tuwxan", "-tanA inet", "-an -A inet6", "-an -A unix", "-an -A inet,inet6", "-A inet -an",
    "-tan4", "-tan6", "-uan6", "-wan6", "-an4", "-6tln", "--tcp -an", "--udp --all --numeric",
    "--tcp --listening --numeric --programs", "--tcp --listening --numeric-ports",
    "--tcp --listening --numeric-hosts", "--tcp --all --numeric-users -e", "-tla", "-tlnn", "-tt",
    "-tanpp", "-xa -p", "-xlp", "-x -a -n -p", "--unix --all", "--raw -an", "-wae",
    "-t -u -a -n -p -e", "-tuanpWe", "-tuane4", "--inet -an", "--inet6 -an", "--protocol=inet -an",
    "--protocol inet6 -an", "--extend --wide -tan", "-N -tan", "-tano", "-tuano", "-xoa", "-46 -tan",
    "-A inet6 -4 -tan", "-4 -x -an", "-t -A unix -an", "-tanv", "-tan extra operands",
    "-tan -- -u", "-s -4", "-s -6", "-s -A ip", "-st", "-su", "-rn -4", "-ix", "-gx", "-g -6",
  }
  for _, args in ipairs(SWEEP) do
    root_it("netstat " .. args, function()
      local ok, n_out, n_rc, l_out, l_rc
      for _ = 1, 3 do   -- a SYN_SENT socket retransmits, a counter moves: read again
        n_out, n_rc, l_out, l_rc = both(args)
        ok = n_rc == l_rc and normal(n_out) == normal(l_out)
        if ok then break end
        helpers.sleep(0.3)
      end
      assert.are.equal(n_rc, l_rc)
      assert.are.equal(normal(n_out), normal(l_out))
      assert.is_true(#lines_of(l_out) >= 1)
    end)
  end

  -- The Ref column of the IPv6 table is not reported by rtnetlink (lnetstat
  -- shows 1: its documented difference); the rest must match.
  local function without_ref6(text)
    local out, v6 = {}, false
    for _, line in ipairs(lines_of(text)) do
      if line:match("^Kernel ") then v6 = line:match("IPv6") ~= nil end
      if v6 and not line:match("^Kernel ") and not line:match("^Destination ") then
        local t = {}
        for w in line:gmatch("%S+") do t[#t + 1] = w end
        t[5] = "R"
        line = table.concat(t, " ")
      end
      out[#out + 1] = line
    end
    return table.concat(out, "\n")
  end

  for args, count in pairs { ["-rn -4 -6"] = 2, ["-rn -6 -4"] = 2, ["-rn -4 -4"] = 2,
    ["-rn -A inet,inet6,inet"] = 3, ["-r --inet --inet6"] = 2, ["-rne -6 -4"] = 2 } do
    root_it("netstat " .. args .. " shows a routing table per family named, in order", function()
      local n_out, n_rc, l_out, l_rc = both(args)
      assert.are.equal(n_rc, l_rc)
      assert.are.equal(without_ref6(n_out), without_ref6(l_out))
      local _, tables = l_out:gsub("Kernel IP", "")
      assert.are.equal(count, tables)
    end)
  end

  -- netstat's own words, where lnetstat keeps them (its usage errors exit 2).
  local ERRORS = {
    { "-A inet, -tn", "Unknown address family `'." }, { "--protocol=", "Unknown address family `'." },
    { "-A bogus -an", "Unknown address family `bogus'." },
    { "-sx", "No statistics support for specified address family: unix" },
    { "-s -x -4", "No statistics support for specified address family: unix,inet" },
    { "-s -4 -6", "No statistics support for specified address family: inet,inet6" },
    { "-rx", "No routing for address family `unix'." },
    { "-r -A unix", "No routing for address family `unix'." },
    { "-q", "invalid option -- 'q'" }, { "-tanX", "invalid option -- 'X'" },
    { "--bogus", "unrecognized option '--bogus'" },
    { "--numeric=yes", "option '--numeric' doesn't allow an argument" },
    { "-A", "option requires an argument -- 'A'" },
  }
  for _, case in ipairs(ERRORS) do
    root_it("netstat " .. case[1] .. " is an error in both, in the same words", function()
      local n_out, n_rc = run_rc(format("ip netns exec %s netstat %s 2>&1", ns, case[1]))
      local l_out, l_rc = run_rc(format("ip netns exec %s %s %s 2>&1 >/dev/null", ns, LNETSTAT, case[1]))
      assert.is_true(n_rc == 1 or n_rc == 3, "netstat exit " .. tostring(n_rc))
      assert.are.equal(2, l_rc)
      assert.is_truthy(n_out:find(case[2], 1, true), n_out)
      assert.are.equal(case[2], (lines_of(l_out)[1]:gsub("^lnetstat: ", "")))
      local stdout = run_rc(format("ip netns exec %s %s %s 2>/dev/null", ns, LNETSTAT, case[1]))
      assert.are.equal("", stdout)
    end)
  end

  root_it("-c repeats the table with netstat's framing until SIGINT, which exits 130", function()
    for _, args in ipairs { "-tnc", "-xc", "-tn -c" } do
      local cmd = "timeout --preserve-status -s INT 2.5 ip netns exec %s %s %s 2>&1"
      local n_out, n_rc = run_rc(format(cmd, ns, "netstat", args))
      local l_out, l_rc = run_rc(format(cmd, ns, LNETSTAT, args))
      assert.are.equal(130, n_rc)
      assert.are.equal(130, l_rc)
      local function frames(text)
        local t = {}
        for _, line in ipairs(lines_of(text)) do
          if line:match("^Active ") or line:match("^Proto ") then t[#t + 1] = line end
        end
        return t
      end
      local nf, lf = frames(n_out), frames(l_out)
      assert.is_true(#lf >= 4, args)
      -- the same titles, repeated; one refresh more or less is timing
      assert.is_true(math.abs(#nf - #lf) <= 2, format("%s: %d vs %d", args, #nf, #lf))
      for i = 1, math.min(#nf, #lf) do assert.are.equal(nf[i], lf[i]) end
    end
  end)

  root_it("a reader that stops early ends the command quietly, as netstat", function()
    for _, args in ipairs { "-tan", "-an", "-tanp", "-tnc", "-s", "-ie" } do
      local cmd = format("ip netns exec %s timeout 10 %s %s 2>%s/err | head -1 >/dev/null; "
        .. "echo ${PIPESTATUS[0]}", ns, LNETSTAT, args, dir)
      local rc = tonumber(helpers.run("bash -c " .. quote(cmd)):match("(%d+)"))
      assert.is_true(rc == 0 or rc == 141, args .. ": exit " .. tostring(rc))
      assert.are.equal("", helpers.read_file(dir .. "/err"), args)
    end
  end)
end)
