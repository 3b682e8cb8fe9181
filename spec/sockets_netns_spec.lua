-- Differential specs: sockets() against what the kernel shows through `ss`,
-- inside a private network namespace holding a fixed scenario
-- (spec/scenario.py). Needs root (CI is root: nothing is skipped there).
local helpers = require "helpers"
local ns = require "lnetstat"

local root_it = helpers.root_it
local format = string.format
-- Lua 5.1/LuaJIT have no integer subtype: there, integral is all we can ask.
local function math_type(v)
  if math.type then return math.type(v) end
  return type(v) == "number" and v == math.floor(v) and "integer" or "float"
end

-- The scenario's fixed ports and addresses (see spec/scenario.py).
local P = {
  listen_lo = 40001, listen_any = 40002, listen_dual = 40003, listen_v6only = 40004,
  udp_unconn = 40005, udp_conn = 40006, udp_queued = 40007,
  tw_server = 40008, tw_client = 40009, syn_sent = 40010,
  udp_bound_dev = 40011, udp_nobody = 40012, udp_dual = 40013,
}
local SYN_DST, SYN_DST_NET = "198.51.100.7", "198.51.100.0/24"
local VETH_ADDR, VETH_PEER_ADDR = "203.0.113.1", "203.0.113.2"

local inet_key = helpers.inet_key
-- scenario.py next to this file, whatever the working directory
local SCENARIO = ((debug.getinfo(1, "S").source:match("^@(.*/)")) or "./") .. "scenario.py"

local rkey = helpers.record_key

-- Indexes a list of inet records by key; duplicates are an error.
local function index(list, what)
  local t, n = {}, 0
  for _, r in ipairs(list) do
    local k = rkey(r)
    assert(t[k] == nil, format("%s: two records with key %s", what, k))
    t[k] = r
    n = n + 1
  end
  return t, n
end

local function keyset(list)
  local t = {}
  for _, r in ipairs(list) do t[rkey(r)] = true end
  return t
end

local function sorted_keys(set)
  return helpers.keys(set)
end

-- Asserts two key sets are equal, listing the differences.
local function assert_same_keys(a, b, what)
  local only_a, only_b = {}, {}
  for k in pairs(a) do if not b[k] then only_a[#only_a + 1] = k end end
  for k in pairs(b) do if not a[k] then only_b[#only_b + 1] = k end end
  table.sort(only_a)
  table.sort(only_b)
  assert(#only_a == 0 and #only_b == 0, format("%s differ:\n  only in first: %s\n  only in second: %s",
    what, table.concat(only_a, ", "), table.concat(only_b, ", ")))
end

-- IPv4 CIDR match, also for IPv4-mapped IPv6 text (::ffff:a.b.c.d).
local function v4_in(addr, cidr)
  local net, len = cidr:match("^(.-)/(%d+)$")
  len = tonumber(len)
  local v4 = addr:match("^::ffff:(%d+%.%d+%.%d+%.%d+)$") or addr:match("^(%d+%.%d+%.%d+%.%d+)$")
  if not v4 then return false end
  local function num(a)
    local b1, b2, b3, b4 = a:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return ((tonumber(b1) * 256 + tonumber(b2)) * 256 + tonumber(b3)) * 256 + tonumber(b4)
  end
  local div = 2 ^ (32 - len)
  return math.floor(num(v4) / div) == math.floor(num(net) / div)
end

local function find(list, pred)
  for _, r in ipairs(list) do
    if pred(r) then return r end
  end
end

local function where(list, pred)
  local out = {}
  for _, r in ipairs(list) do
    if pred(r) then out[#out + 1] = r end
  end
  return out
end

describe("sockets() in a private netns", function()
  local NS, PEER, tmpdir, pid, handle, facts
  local state = {}

  local function cleanup()
    -- Never raises: every step is protected.
    -- by pid, and only while the pid still runs the scenario
    helpers.kill_each("scenario.py", state.pid, state.reported_pid, state.child_pid)
    if state.handle then pcall(state.handle.cleanup) end
    helpers.netns_delete(state.ns, state.peer)
    if state.tmpdir then helpers.remove_tree(state.tmpdir) end
    state = {}
  end

  local function build()
    NS = helpers.netns_create("lnetstat-spec")
    state.ns = NS
    PEER = helpers.netns_create("lnetstat-peer")
    state.peer = PEER
    -- A veth pair towards PEER, which has no 198.51.100.7 and does not
    -- forward: a SYN routed there is never answered (SYN_SENT).
    local va, vb = helpers.veth_names("lnv")
    helpers.must(format("ip link add %s netns %s type veth peer name %s netns %s", va, NS, vb, PEER))
    helpers.must(format("ip -n %s addr add %s/24 dev %s", NS, VETH_ADDR, va))
    helpers.must(format("ip -n %s link set %s up", NS, va))
    helpers.must(format("ip -n %s addr add %s/24 dev %s", PEER, VETH_PEER_ADDR, vb))
    helpers.must(format("ip -n %s link set %s up", PEER, vb))
    helpers.must(format("ip -n %s route add %s via %s dev %s", NS, SYN_DST_NET, VETH_PEER_ADDR, va))
    helpers.sysctl(PEER, "net.ipv4.ip_forward=0")

    tmpdir = helpers.mktemp_dir()
    state.tmpdir = tmpdir
    pid, handle = helpers.spawn(format("ip netns exec %s python3 %s %s lnetstat-abstract-%d",
      NS, helpers.quote(SCENARIO), tmpdir, helpers.getpid()))
    state.pid, state.handle = pid, handle
    local ok, out = handle:wait_ready(20)
    assert(ok, out)
    facts = helpers.json_decode(out:match("^(.-)\n"))
    state.reported_pid, state.child_pid = facts.pid, facts.child_pid
    assert(facts.pid == pid, format("scenario pid %s is not the spawned pid %d", tostring(facts.pid), pid))
  end

  helpers.root_setup(build, cleanup)

  -- The scenario's sockets that must be seen by both sides (so that two
  -- empty lists never "agree").
  local function expected_keys()
    return {
      inet_key("tcp", "127.0.0.1", P.listen_lo, "0.0.0.0", 0),
      inet_key("tcp", "0.0.0.0", P.listen_any, "0.0.0.0", 0),
      inet_key("tcp", "::", P.listen_dual, "::", 0),
      inet_key("tcp", "::", P.listen_v6only, "::", 0),
      inet_key("tcp", "::ffff:127.0.0.1", P.listen_dual, "::ffff:127.0.0.1", facts.mapped_client_port),
      inet_key("tcp", "127.0.0.1", facts.mapped_client_port, "127.0.0.1", P.listen_dual),
      inet_key("tcp", "127.0.0.1", P.listen_any, "127.0.0.1", facts.unaccepted_client_port),
      inet_key("tcp", "127.0.0.1", P.tw_client, "127.0.0.1", P.tw_server),
      inet_key("tcp", VETH_ADDR, P.syn_sent, SYN_DST, 80),
      inet_key("udp", "0.0.0.0", P.udp_unconn, "0.0.0.0", 0),
      inet_key("udp", "127.0.0.1", P.udp_conn, "127.0.0.1", P.udp_unconn),
      inet_key("udp", "127.0.0.1", P.udp_queued, "0.0.0.0", 0),
      inet_key("udp", "0.0.0.0", P.udp_bound_dev, "0.0.0.0", 0),
      inet_key("udp", "127.0.0.1", P.udp_nobody, "0.0.0.0", 0),
      inet_key("udp", "::", P.udp_dual, "::", 0),
    }
  end

  local function ss_key(s)
    return inet_key(s.proto, s.local_addr, s.local_port, s.remote_addr, s.remote_port)
  end

  root_it("sees the same TCP and UDP sockets as ss -tuanpe, field by field", function()
    -- info = true: the extended fields ss -e shows, the cookie among them
    local list, err, errno = ns.sockets { netns = NS, proto = { "tcp", "udp" }, process = true,
      info = true }
    local ss_list, ss_err = helpers.ss(NS, "-tuanpeH")
    assert(list, format("sockets: %s (%s)", tostring(err), tostring(errno)))
    assert(ss_list, ss_err)
    assert.is_nil(list.partial)
    assert.equal("netlink", list.sources.tcp)
    assert.equal("netlink", list.sources.udp)

    local mine = index(list, "lnetstat")
    local theirs = {}
    for _, s in ipairs(ss_list) do
      local k = ss_key(s)
      assert(theirs[k] == nil, "ss: two records with key " .. k)
      theirs[k] = s
    end
    assert_same_keys(keyset(list), theirs, "lnetstat and ss socket sets")
    assert.equal(#ss_list, #list)
    for _, k in ipairs(expected_keys()) do
      assert(mine[k], "scenario socket missing: " .. k .. "\nhave: " .. table.concat(sorted_keys(mine), "\n"))
    end

    for k, s in pairs(theirs) do
      local r = mine[k]
      local ctx = " of " .. k
      assert.equal(s.state, r.state, "state" .. ctx)
      assert.equal(s.family, r.family, "family" .. ctx)
      assert.equal(s.recv_q, r.recv_q, "recv_q" .. ctx)
      assert.equal(s.send_q, r.send_q, "send_q" .. ctx)
      assert.equal(s.inode, r.inode, "inode" .. ctx)
      if s.state == "TIME_WAIT" then
        -- the kernel reports no uid for TIME_WAIT sockets (ss: none, 0)
        assert(r.uid == nil or r.uid == 0, "uid" .. ctx)
      else
        assert.equal(s.uid, r.uid, "uid" .. ctx)
      end
      assert.equal(s.local_dev, r.interface, "bound device" .. ctx)
      if s.dual_stack then
        -- ss "*": a [::] socket that also serves IPv4
        assert.equal("inet6", r.family, "family" .. ctx)
        assert.equal("::", r.local_addr, "local_addr" .. ctx)
        assert.is_false(r.v6only, "v6only" .. ctx)
      end
      if s.v6only ~= nil then
        assert.equal(s.v6only, r.v6only, "v6only" .. ctx)
      end
      -- ss prints the socket cookie in hex as sk:
      if s.sk then
        assert.is_string(r.cookie, "cookie" .. ctx)
        assert.equal(s.sk, format("%x", tonumber(r.cookie)), "cookie" .. ctx)
      end
      -- the timer's kind (not its value, which runs down between the reads)
      if s.timer then
        assert.equal(s.timer == "persist" and "probe" or s.timer, r.timer, "timer" .. ctx)
      end
      -- owners: the same set of (pid, fd); pid/program of the first (lowest pid)
      if #s.users == 0 then
        assert.is_nil(r.pid, "pid" .. ctx)
        assert.is_nil(r.processes, "processes" .. ctx)
      else
        assert.is_table(r.processes, "processes" .. ctx)
        assert.equal(#s.users, #r.processes, "owner count" .. ctx)
        local want, min_pid = {}, math.huge
        for _, u in ipairs(s.users) do
          want[u.pid .. "/" .. u.fd] = u.name
          if u.pid < min_pid then min_pid = u.pid end
        end
        for _, p in ipairs(r.processes) do
          local name = want[p.pid .. "/" .. p.fd]
          assert(name, format("owner pid=%d fd=%d%s not in ss %s", p.pid, p.fd, ctx, s.extra))
          assert.equal(name, p.program, "owner program" .. ctx)
        end
        assert.equal(min_pid, r.pid, "pid" .. ctx)
        assert.equal(r.processes[1].program, r.program, "program" .. ctx)
      end
    end
  end)

  root_it("shows the scenario's particular sockets as they are", function()
    local list, err = ns.sockets { netns = NS, proto = { "tcp", "udp" }, process = true }
    assert(list, err)
    local by = index(list, "lnetstat")
    local function get(...)
      local k = inet_key(...)
      local r = by[k]
      assert(r, "missing " .. k)
      return r
    end

    -- TIME_WAIT: no inode, no owner, the timewait timer
    local tw = get("tcp", "127.0.0.1", P.tw_client, "127.0.0.1", P.tw_server)
    assert.equal("TIME_WAIT", tw.state)
    assert.equal(0, tw.inode)
    assert.equal("timewait", tw.timer)
    assert.is_nil(tw.pid)
    assert.is_nil(tw.processes)

    -- SYN_SENT towards the documentation address
    local syn = get("tcp", VETH_ADDR, P.syn_sent, SYN_DST, 80)
    assert.equal("SYN_SENT", syn.state)
    assert.equal("inet", syn.family)
    assert.equal("on", syn.timer)
    assert.equal(pid, syn.pid)
    local syns = where(list, function(r) return r.state == "SYN_SENT" end)
    assert.equal(1, #syns)

    -- IPv4 client accepted by the dual-stack listener: IPv4-mapped addresses
    local mapped = get("tcp", "::ffff:127.0.0.1", P.listen_dual, "::ffff:127.0.0.1", facts.mapped_client_port)
    assert.equal("inet6", mapped.family)
    assert.equal("ESTABLISHED", mapped.state)
    assert.equal(pid, mapped.pid)
    local client = get("tcp", "127.0.0.1", facts.mapped_client_port, "127.0.0.1", P.listen_dual)
    assert.equal("inet", client.family)

    -- v6only and dual-stack listeners
    local dual = get("tcp", "::", P.listen_dual, "::", 0)
    local v6 = get("tcp", "::", P.listen_v6only, "::", 0)
    assert.equal("LISTEN", dual.state)
    assert.equal("LISTEN", v6.state)
    assert.is_false(dual.v6only)
    assert.is_true(v6.v6only)
    local c6 = find(list, function(r) return r.local_addr == "::1" and r.remote_port == P.listen_v6only end)
    assert(c6, "::1 client missing")
    assert.equal("ESTABLISHED", c6.state)
    assert.equal("ESTABLISHED", get("tcp", "::1", P.listen_v6only, "::1", c6.local_port).state)

    -- UDP: a queued datagram, connected and unconnected sockets
    local q = get("udp", "127.0.0.1", P.udp_queued, "0.0.0.0", 0)
    assert.equal("UNCONN", q.state)
    assert.is_true(q.recv_q > 0)
    assert.equal("ESTABLISHED", get("udp", "127.0.0.1", P.udp_conn, "127.0.0.1", P.udp_unconn).state)
    assert.equal("UNCONN", get("udp", "0.0.0.0", P.udp_unconn, "0.0.0.0", 0).state)

    -- bound to a device; created by another uid; dual-stack UDP
    local dev = get("udp", "0.0.0.0", P.udp_bound_dev, "0.0.0.0", 0)
    assert.equal("lo", dev.interface)
    assert.is_number(dev.ifindex)
    assert.is_nil(q.interface)
    local nobody = get("udp", "127.0.0.1", P.udp_nobody, "0.0.0.0", 0)
    assert.equal(facts.nobody_uid, nobody.uid)
    local name = (helpers.run(format("getent passwd %d | cut -d: -f1", facts.nobody_uid))):gsub("%s+$", "")
    if name ~= "" then assert.equal(name, nobody.user) end
    assert.equal(pid, nobody.pid)   -- the owner is the process, whatever the socket's uid
    assert.equal(0, q.uid)
    assert.equal("root", q.user)
    local udual = get("udp", "::", P.udp_dual, "::", 0)
    assert.equal("inet6", udual.family)
    assert.is_false(udual.v6only)

    -- 5 unread bytes at the server end of the 127.0.0.1 pair
    local srv = find(list, function(r)
      return r.proto == "tcp" and r.local_port == P.listen_lo and r.state == "ESTABLISHED"
    end)
    assert(srv, "accepted 127.0.0.1 socket missing")
    assert.equal(5, srv.recv_q)

    -- The 0.0.0.0 listener is shared by the scenario and its child; one
    -- connection waits in its accept queue (inode 0 until accepted).
    local shared = get("tcp", "0.0.0.0", P.listen_any, "0.0.0.0", 0)
    assert.equal(1, shared.recv_q)
    assert.is_table(shared.processes)
    assert.equal(2, #shared.processes)
    local pids = { shared.processes[1].pid, shared.processes[2].pid }
    local want = { facts.pid, facts.child_pid }
    table.sort(want)
    assert.same(want, pids)
    assert.equal(want[1], shared.pid)
    local comm = (helpers.read_file(format("/proc/%d/comm", pid)) or ""):gsub("%s+$", "")
    assert.equal("python3", comm)
    assert.equal(comm, shared.program)
    for _, p in ipairs(shared.processes) do
      assert.equal("python3", p.program)
      assert.is_number(p.fd)
    end
    local queued = get("tcp", "127.0.0.1", P.listen_any, "127.0.0.1", facts.unaccepted_client_port)
    assert.equal("ESTABLISHED", queued.state)
    assert.equal(0, queued.inode)
    assert.is_nil(queued.pid)
    -- the other listeners have one owner only
    assert.equal(1, #get("tcp", "127.0.0.1", P.listen_lo, "0.0.0.0", 0).processes)
  end)

  -- sockets{process = true} hands its records to the C core, which reads
  -- their inodes into a map of its own: anything else in the list is
  -- skipped, and only their owners are kept.
  root_it("looks for the owners of the records it is given, and of no others", function()
    local core = require "lnetstat.core"
    local list = assert(ns.sockets { netns = NS, proto = "tcp", state = "LISTEN" })
    local a, b
    for _, r in ipairs(list) do
      if r.inode and r.inode > 0 then
        if not a then a = r elseif not b and r.inode ~= a.inode then b = r end
      end
    end
    assert(a and b, "two listeners with inodes")
    local map, unreadable, _, procs = core.owner_map { a, { inode = a.inode }, {}, "not a record",
      { inode = 0 }, { inode = "1" }, { inode = -3 } }
    assert.equal("userdata", type(map))
    assert.is_number(unreadable)
    local comm = (helpers.read_file(format("/proc/%d/comm", pid)) or ""):gsub("%s+$", "")
    assert.equal(comm, procs[pid].program)
    for _, names in pairs(procs) do names.command = "the command" end
    local users = {}
    local ra, rb, rnone = { inode = a.inode, uid = 0 }, { inode = b.inode }, { inode = 0 }
    assert.equal(1, core.attach_owners(map, procs, users, { ra, rb, rnone, "not a record" }))
    assert.equal(pid, ra.pid)
    assert.equal(comm, ra.program)
    assert.equal("root", ra.user)
    assert.same({ [0] = "root" }, users)
    assert.same({ pid = pid, fd = ra.processes[1].fd, program = comm, command = "the command" },
      ra.processes[1])
    assert.is_number(ra.processes[1].fd)
    -- the processes that own a, and no other: only a was asked for
    local owning = {}
    for _, p in ipairs(ra.processes) do owning[p.pid] = true end
    for p in pairs(procs) do assert.is_true(owning[p], "pid " .. p .. " owns a") end
    assert.is_nil(rb.pid)           -- b was not asked for: its owner was not kept
    assert.is_nil(rb.processes)
    assert.is_nil(rnone.pid)
    -- one record, as a stream attaches them
    local rc = { inode = a.inode }
    assert.equal(0, core.attach_owner(map, procs, users, rc))
    assert.same(ra.processes, rc.processes)
    assert.equal(1, core.attach_owner(map, procs, users, { inode = b.inode }))
    -- no list: every socket of every process
    local all, _, _, allprocs = core.owner_map()
    local rb2 = { inode = b.inode }
    assert.equal(0, core.attach_owners(all, allprocs, users, { rb2 }))
    assert.equal(pid, rb2.pid)
    assert.has_error(function() core.owner_map("x") end)
    assert.has_error(function() core.attach_owners("x", procs, users, {}) end)
    assert.has_error(function() core.attach_owners(map, procs, users, nil) end)
  end)

  -- process = "first": the lowest pid of each socket alone (netstat -p's
  -- owner), so the /proc scan ends at the process where the last wanted
  -- socket turns up. strace shows which fd tables were opened.
  root_it("process = 'first' gives the lowest pid and stops the scan there", function()
    local lowest = math.min(facts.pid, facts.child_pid)
    local every = assert(ns.sockets { netns = NS, proto = "tcp", state = "LISTEN",
      local_port = P.listen_any, process = true })
    local first = assert(ns.sockets { netns = NS, proto = "tcp", state = "LISTEN",
      local_port = P.listen_any, process = "first" })
    assert.equal(1, #every)
    assert.equal(1, #first)
    assert.equal(2, #every[1].processes)
    assert.equal(1, #first[1].processes)
    assert.equal(lowest, first[1].pid)
    assert.same(every[1].processes[1], first[1].processes[1])
    assert.equal(every[1].program, first[1].program)
    -- a stream reads every process's files before its first record, and
    -- keeps the first owner of each socket
    local streamed = {}
    assert(ns.each_socket({ netns = NS, proto = "tcp", state = "LISTEN", local_port = P.listen_any,
      process = "first" }, function(r) streamed[#streamed + 1] = r end))
    assert.equal(1, #streamed)
    assert.same(first[1].processes, streamed[1].processes)
    assert.equal(lowest, streamed[1].pid)
    -- the pids whose fd table the scan opened, in a separate traced process
    local function maxof(list)
      local m = -1
      for _, v in ipairs(list) do m = math.max(m, v) end
      return m
    end
    local function opened(process)
      local trace = tmpdir .. "/trace-owners"
      local out = helpers.run(format("strace -f -qq -e trace=openat -o %s %s -e %s; echo \"<rc=$?>\"",
        helpers.quote(trace), helpers.LUA, helpers.quote(format(
          "package.path = %q; package.cpath = %q\n"
            .. "local l = assert(require('lnetstat').sockets { netns = %q, proto = 'tcp', "
            .. "state = 'LISTEN', local_port = %d, process = %s })\n"
            .. "io.write(#l[1].processes)",
          package.path, package.cpath, NS, P.listen_any, process))))
      local pids, text = {}, helpers.strace_joined(helpers.read_file(trace))
      for p in text:gmatch('openat%(%d+, "(%d+)/fd"') do
        pids[#pids + 1] = tonumber(p)
      end
      -- the traced process: the caller of its first openat
      return out, pids, tonumber(text:match("^(%d+)"))
    end
    local out, pids = opened("'first'")
    assert.equal("1<rc=0>\n", out)
    assert.is_true(#pids > 0)
    assert.equal(lowest, maxof(pids))
    -- every owner: the scan goes on past it, to the other owner and to
    -- the traced process itself (pids are compared as sets: the host's
    -- pids wrap around, and a new process may have a lower one)
    local traced
    out, pids, traced = opened("true")
    assert.equal("2<rc=0>\n", out)
    local walked = {}
    for _, p in ipairs(pids) do walked[p] = true end
    assert.same({ true, true, true }, { walked[facts.pid], walked[facts.child_pid], walked[traced] })
  end)

  root_it("sees the same unix sockets as ss -xa", function()
    local list, err, errno = ns.sockets { netns = NS, proto = "unix", process = true }
    local ss_list, ss_err = helpers.ss(NS, "-xapH")
    assert(list, format("sockets: %s (%s)", tostring(err), tostring(errno)))
    assert(ss_list, ss_err)
    assert.equal("netlink", list.sources.unix)

    local mine, theirs = {}, {}
    for _, r in ipairs(list) do
      assert.equal("unix", r.proto)
      assert.equal("unix", r.family)
      assert(mine[r.inode] == nil, "lnetstat: duplicate unix inode " .. tostring(r.inode))
      mine[r.inode] = r
    end
    for _, s in ipairs(ss_list) do theirs[s.inode] = s end

    -- unix_diag is netns-aware: both see exactly this namespace's sockets
    local a, b = {}, {}
    for k in pairs(mine) do a[tostring(k)] = true end
    for k in pairs(theirs) do b[tostring(k)] = true end
    assert_same_keys(a, b, "unix inodes of lnetstat and ss")

    for name, f in pairs(facts.unix) do
      local r, s = mine[f.inode], theirs[f.inode]
      assert(r, "lnetstat misses the scenario's unix socket " .. name)
      assert(s, "ss misses the scenario's unix socket " .. name)
      if f.path then assert.equal(f.path, r.path, name .. " path") end
      if f.peer then assert.equal(f.peer, r.peer_inode, name .. " peer") end
    end

    for inode, s in pairs(theirs) do
      local r = mine[inode]
      local ctx = " of unix inode " .. inode
      assert.equal(s.type, r.type, "type" .. ctx)
      assert.equal(s.state, r.state, "state" .. ctx)
      assert.equal(s.path, r.path, "path" .. ctx)
      assert.equal(s.peer_inode, r.peer_inode or 0, "peer inode" .. ctx)
      assert.equal(s.recv_q, r.recv_q, "recv_q" .. ctx)
      assert.equal(s.send_q, r.send_q, "send_q" .. ctx)
      -- owners, as ss -p: the same (pid, fd) pairs
      local want = {}
      for _, o in ipairs(s.users) do want[#want + 1] = o.pid .. "/" .. o.fd end
      local got = {}
      for _, o in ipairs(r.processes or {}) do got[#got + 1] = o.pid .. "/" .. o.fd end
      table.sort(want)
      table.sort(got)
      assert.same(want, got, "owners" .. ctx)
    end
    for name, f in pairs(facts.unix) do
      assert.equal(pid, mine[f.inode].pid, "owner of the scenario's unix socket " .. name)
    end

    -- the state filter applies to unix sockets too (unix_diag states)
    local lst, lerr = ns.sockets { netns = NS, proto = "unix", state = "listening" }
    assert(lst, lerr)
    local want_l, got_l = {}, {}
    for inode, r in pairs(mine) do
      if r.state == "LISTEN" or r.state == "UNCONN" then want_l[tostring(inode)] = true end
    end
    for _, r in ipairs(lst) do got_l[tostring(r.inode)] = true end
    assert(next(want_l), "the scenario has listening unix sockets")
    assert_same_keys(want_l, got_l, "unix state=listening")

    local u = facts.unix
    assert.equal("LISTEN", mine[u.listen.inode].state)
    assert.equal("stream", mine[u.listen.inode].type)
    assert.equal("ESTABLISHED", mine[u.client.inode].state)
    assert.is_nil(mine[u.client.inode].path)
    assert.equal("dgram", mine[u.dgram.inode].type)
    assert.equal("UNCONN", mine[u.dgram.inode].state)
    assert.equal(facts.abstract, mine[u.abstract.inode].path)
    assert.equal("@", mine[u.abstract.inode].path:sub(1, 1))
  end)

  root_it("reads the same TCP and UDP sockets through /proc as through netlink", function()
    local nl, err = ns.sockets { netns = NS, proto = { "tcp", "udp" } }
    assert(nl, err)
    local pr, perr, perrno = ns.sockets { netns = NS, proto = { "tcp", "udp" }, source = "proc" }
    assert(pr, format("source=proc: %s (%s)", tostring(perr), tostring(perrno)))
    assert.equal("proc", pr.sources.tcp)
    assert.equal("proc", pr.sources.udp)
    local a, na = index(nl, "netlink")
    local b, nb = index(pr, "proc")
    assert_same_keys(keyset(nl), keyset(pr), "netlink and /proc socket sets")
    assert.equal(na, nb)
    for _, k in ipairs(expected_keys()) do assert(b[k], "/proc misses " .. k) end
    for k, r in pairs(a) do
      local p = b[k]
      assert.equal(r.proto, p.proto, "proto of " .. k)
      assert.equal(r.family, p.family, "family of " .. k)
      assert.equal(r.state, p.state, "state of " .. k)
      assert.equal(r.inode, p.inode, "inode of " .. k)
      assert.equal(r.uid, p.uid, "uid of " .. k)
    end
  end)

  describe("filters", function()
    local all
    local function subset(pred) return keyset(where(all, pred)) end
    local function check(opts, pred, what, fn)
      opts.netns, opts.proto = NS, { "tcp", "udp" }
      local got, err = (fn or ns.sockets)(opts)
      assert(got, err)
      local want = subset(pred)
      assert(next(want) ~= nil, what .. ": the scenario should have such sockets")
      assert_same_keys(keyset(got), want, what .. ": filtered and expected sets")
      return got
    end

    before_each(function()
      if not helpers.is_root() then return end
      local err
      all, err = ns.sockets { netns = NS, proto = { "tcp", "udp" } }
      assert(all, err)
    end)

    root_it("state = 'listening'", function()
      check({ state = "listening" }, function(r) return r.state == "LISTEN" or r.state == "UNCONN" end,
        "listening")
      check({}, function(r) return r.state == "LISTEN" or r.state == "UNCONN" end,
        "listening()", ns.listening)
      check({}, function(r) return r.state ~= "LISTEN" and r.state ~= "UNCONN" end,
        "connections()", ns.connections)
    end)

    root_it("state = 'TIME_WAIT' (and the ss spelling)", function()
      check({ state = "TIME_WAIT" }, function(r) return r.state == "TIME_WAIT" end, "TIME_WAIT")
      check({ state = "time-wait" }, function(r) return r.state == "TIME_WAIT" end, "time-wait")
      check({ state = { "SYN_SENT", "TIME_WAIT" } },
        function(r) return r.state == "TIME_WAIT" or r.state == "SYN_SENT" end, "state list")
    end)

    root_it("local_port = PORT and {lo, hi}", function()
      local got = check({ local_port = P.listen_lo }, function(r) return r.local_port == P.listen_lo end,
        "local_port")
      assert.is_true(#got >= 2)   -- the listener and the accepted socket
      check({ local_port = { P.listen_lo, P.listen_v6only } },
        function(r) return r.local_port >= P.listen_lo and r.local_port <= P.listen_v6only end,
        "local_port range")
      check({ remote_port = 80 }, function(r) return r.remote_port == 80 end, "remote_port")
    end)

    root_it("remote_addr = '198.51.100.0/24'", function()
      local got = check({ remote_addr = SYN_DST_NET }, function(r) return v4_in(r.remote_addr, SYN_DST_NET) end,
        "remote_addr")
      assert.equal(1, #got)
      assert.equal("SYN_SENT", got[1].state)
    end)

    root_it("local_addr = '127.0.0.0/8' also matches IPv4-mapped addresses", function()
      local got = check({ local_addr = "127.0.0.0/8" }, function(r) return v4_in(r.local_addr, "127.0.0.0/8") end,
        "local_addr")
      assert(find(got, function(r) return r.local_addr == "::ffff:127.0.0.1" end),
        "the ::ffff:127.0.0.1 socket is not matched by 127.0.0.0/8")
      check({ local_addr = "::1" }, function(r) return r.local_addr == "::1" end, "local_addr ::1")
    end)

    root_it("family = 'inet6'", function()
      check({ family = "inet6" }, function(r) return r.family == "inet6" end, "inet6")
      check({ family = "inet" }, function(r) return r.family == "inet" end, "inet")
    end)
  end)

  root_it("accepts a pid for netns, and reports a missing netns", function()
    local by_name, err = ns.sockets { netns = NS, proto = { "tcp", "udp" } }
    assert(by_name, err)
    local by_pid, perr = ns.sockets { netns = pid, proto = { "tcp", "udp" } }
    assert(by_pid, perr)
    assert_same_keys(keyset(by_name), keyset(by_pid), "netns by name and by pid")
    local a, b = index(by_name, "by name"), index(by_pid, "by pid")
    for k, r in pairs(a) do assert.equal(r.inode, b[k].inode, "inode of " .. k) end
    local by_path, patherr = ns.sockets { netns = "/var/run/netns/" .. NS, proto = { "tcp", "udp" } }
    assert(by_path, patherr)
    assert_same_keys(keyset(by_name), keyset(by_path), "netns by name and by path")
    -- not this namespace's sockets
    local here = assert(ns.sockets { proto = { "tcp", "udp" } })
    for _, r in ipairs(here) do
      assert(not (a[rkey(r)] and a[rkey(r)].inode == r.inode and r.inode ~= 0),
        "the host namespace's socket shows up in the private one: " .. rkey(r))
    end

    local missing = format("lnetstat-missing-%d", helpers.getpid())
    local list, msg, errno = ns.sockets { netns = missing }
    assert.is_nil(list)
    assert.is_string(msg)
    assert.equal(2, errno)
    assert.truthy(msg:find(missing, 1, true), msg)
  end)

  root_it("returns an empty list, not nil, when nothing matches (process = true too)", function()
    -- PEER holds no sockets at all; ss agrees
    local ss_list = assert(helpers.ss(PEER, "-tuanpeH"))
    assert.equal(0, #ss_list)
    for _, process in ipairs { false, true } do
      local list, err, errno = ns.sockets { netns = PEER, proto = { "tcp", "udp" }, process = process }
      assert(list, format("process=%s: sockets returned %s, %s, %s", tostring(process),
        tostring(list), tostring(err), tostring(errno)))
      assert.same({}, { (table.unpack or unpack)(list) })
      -- a filter matching nothing in the scenario
      list, err, errno = ns.sockets { netns = NS, local_port = 1, process = process }
      assert(list, format("process=%s, local_port=1: sockets returned %s, %s, %s", tostring(process),
        tostring(list), tostring(err), tostring(errno)))
      assert.equal(0, #list)
    end
    -- only sockets without an inode (TIME_WAIT): no owner to look up
    local tw, err, errno = ns.sockets { netns = NS, state = "TIME_WAIT", process = true }
    assert(tw, format("TIME_WAIT, process=true: sockets returned %s, %s, %s", tostring(tw),
      tostring(err), tostring(errno)))
    assert.equal(1, #tw)
    assert.is_nil(tw[1].pid)
  end)

  root_it("info = true gives TCP internals of established sockets, as ss -ti", function()
    local list, err = ns.sockets { netns = NS, proto = "tcp", state = "ESTABLISHED", info = true }
    local ss_list = assert(helpers.ss(NS, "-tinH state established"))
    assert(list, err)
    assert(#list >= 8, "the scenario has 8 established TCP sockets, got " .. #list)
    assert.equal(#ss_list, #list)
    local default_cc = (helpers.netns_run(NS, "sysctl -n net.ipv4.tcp_congestion_control")):gsub("%s+$", "")
    assert.is_true(#default_cc > 0)
    local theirs = {}
    for _, s in ipairs(ss_list) do
      -- ss -i: options (ts sack ecn ...) come first, then the congestion name
      local cc
      for w in (s.detail or ""):gmatch("%S+") do
        if not w:find(":", 1, true) and w ~= "ts" and w ~= "sack" and w ~= "ecn" and w ~= "ecnseen"
          and w ~= "fastopen" and w ~= "noecn" then
          cc = w
          break
        end
      end
      s.cc = cc
      s.mss = tonumber((s.detail or ""):match("%f[%w]mss:(%d+)"))
      s.cwnd = tonumber((s.detail or ""):match("%f[%w]cwnd:(%d+)"))
      theirs[ss_key(s)] = s
    end
    for _, r in ipairs(list) do
      local k = rkey(r)
      assert.equal("ESTABLISHED", r.state)
      assert.is_table(r.info, "info of " .. k)
      local i = r.info
      assert.is_number(i.rtt_ms, "rtt_ms of " .. k)
      assert.is_true(i.rtt_ms >= 0)
      assert.equal("integer", math_type(i.cwnd), "cwnd of " .. k)
      assert.is_true(i.cwnd > 0)
      assert.is_not_nil(i.bytes_acked, "bytes_acked of " .. k)
      assert.is_string(i.congestion, "congestion of " .. k)
      assert.equal(default_cc, i.congestion, "congestion of " .. k)
      local s = theirs[k]
      assert(s, "ss -ti misses " .. k)
      assert.equal(s.cc, i.congestion, "congestion (ss) of " .. k)
      assert.equal(s.mss, i.mss, "mss of " .. k)
      assert.equal(s.cwnd, i.cwnd, "cwnd of " .. k)
    end
  end)
end)
