-- lnetstat.check reads the host once per attempt (one snapshot answers
-- every assertion), loses no check when a data call fails while the file
-- loads, serves every counter window of an attempt with one pair of
-- readings, and validates retry parameters.
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"
local helpers = require "helpers"
local records = require "records"

local quote = helpers.quote

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local EXAMPLES = HERE .. "../examples/audit/"

-- sshd, nginx, postgres and chrony listening, two connections
local HOST = records.web_host()
local IFACES = {
  { name = "lo", index = 1, flags = { UP = true, RUNNING = true }, operstate = "UNKNOWN",
    stats = { rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0 } },
}

local function calls_of(data)
  local n = {}
  for _, c in ipairs(data.calls) do n[c.fname] = (n[c.fname] or 0) + 1 end
  return n
end

local run = records.run

describe("lnetstat.check snapshots", function()
  it("examples/audit/web.lua reads the sockets once, with owners, for its 7 checks", function()
    local clock, sleep = fake.clock()
    local data = fake.data { sockets = HOST }
    local r = check.run({ EXAMPLES .. "web.lua" }, { data = data, clock = clock, sleep = sleep })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.equal(7, #r.results)
    assert.same({ sockets = 1 }, calls_of(data))
    local c = data.calls[1]
    assert.is_true(c.opts.process)
    assert.equal("all", c.opts.state)
    assert.same({ "tcp", "udp" }, c.opts.proto)
  end)

  it("one read per function and attempt, whatever the number of assertions", function()
    local src = [[
      listening_only { { proto = "tcp", port = { 22, 80, 443 } }, ignore = { addr = loopback } }
      is_listening { port = 22 }
      not_listening { port = 25 }
      no_connection { remote_port = 6667 }
      has_connection { local_port = 22 }
      expect_count(sockets { state = "TIME_WAIT" }, "<", 10)
      expect_count(connections { proto = "tcp" }, ">=", 1)
      check("own", function() return #listening { proto = "udp" } == 1 end)
      interface_up "lo"
      interface { name = "lo", up = true }
      no_interface_errors "lo"
      counter("Tcp.CurrEstab", "<", 10)
      counter("Tcp.ActiveOpens", ">=", 0)
      default_route()
      route_present { dst = "0.0.0.0/0" }
    ]]
    local r, data = run(src, { sockets = HOST, interfaces = IFACES,
      stats = { { Tcp = { CurrEstab = 1, ActiveOpens = 4 } } },
      routes = { { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.254", table = 254 } } })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.equal(15, #r.results)
    assert.same({ sockets = 1, interfaces = 1, stats = 1, routes = 1 }, calls_of(data))
  end)

  it("a file that asks about listeners only reads listening sockets", function()
    local r, data = run([[
      listening_only { { proto = "tcp", port = { 22, 80, 443 } }, ignore = { addr = loopback } }
      not_listening { port = 25 }
      expect_count(listening { proto = "udp" }, "==", 1)
    ]], { sockets = HOST })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.same({ sockets = 1 }, calls_of(data))
    assert.equal("listening", data.calls[1].opts.state)
  end)

  it("the answers filter the snapshot as the data functions would", function()
    local r = run([[
      expect_count(sockets { proto = "tcp" }, "==", 7)
      expect_count(sockets { proto = "udp" }, "==", 1)
      expect_count(sockets { family = "inet6" }, "==", 3)
      expect_count(listening {}, "==", 6)
      expect_count(connections {}, "==", 2)
      expect_count(sockets { state = { "ESTAB", "time-wait" } }, "==", 2)
      expect_count(sockets { local_port = { 20, 100 } }, "==", 4)
      expect_count(sockets { remote_addr = "203.0.113.0/24" }, "==", 1)
      expect_count(sockets { local_addr = "127.0.0.1" }, "==", 2)
      check("owners only when asked", function()
        return sockets{}[1].program == nil and sockets { process = true }[1].program == "sshd"
      end)
    ]], { sockets = HOST })
    assert.equal(0, r.exit_code, check.report(r, "human"))
  end)

  it("options it does not model go to the data function (and its argument errors)", function()
    local r, data = run([[
      expect_count(sockets { source = "proc" }, ">=", 0)
      expect_count(sockets { state = "LISTEN" }, "==", 5)
    ]], { sockets = HOST })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.same({ sockets = 2 }, calls_of(data))
    assert.equal("proc", data.calls[1].opts.source)
  end)

  it("takes its state names from the C core; those sockets() refuses go to sockets()", function()
    local r, data = run([[
      expect_count(sockets { state = "CLOSING" }, "==", 0)
      expect_count(sockets { state = { "LAST_ACK", "unconn", "FIN_WAIT_2" } }, "==", 1) -- chronyd
      expect_count(sockets { state = "NEW_SYN_RECV" }, ">=", 0)
    ]], { sockets = HOST })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    -- the snapshot read, then NEW_SYN_RECV (not a state sockets() filters on) on its own
    assert.same({ sockets = 2 }, calls_of(data))
    assert.equal("all", data.calls[1].opts.state)
    assert.equal("NEW_SYN_RECV", data.calls[2].opts.state)
  end)

  it("protocols asked for later extend the snapshot once", function()
    local r, data = run([[
      expect_count(sockets { proto = "unix" }, ">=", 0)
      expect_count(sockets { proto = "unix" }, ">=", 0)
      is_listening { port = 22 }
    ]], { sockets = HOST })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    -- unix while loading, then tcp/udp with owners for the attempt
    assert.equal(2, calls_of(data).sockets)
  end)

  it("every retry takes a fresh snapshot; one read per attempt", function()
    local n = 0
    local function sockets()
      n = n + 1
      if n >= 3 then return HOST end
      return {}
    end
    local r, data, state = run([[
      is_listening { port = 443, within = 10 }
      is_listening { port = 22, within = 10 }
      not_listening { port = 25 }
    ]], { sockets = sockets })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.equal(3, r.results[1].attempts)
    assert.equal(3, r.results[2].attempts)
    assert.equal(1, r.results[3].attempts)
    assert.same({ 1, 1 }, state.sleeps)
    assert.equal(3, calls_of(data).sockets)
  end)
end)

describe("lnetstat check examples/audit/web.lua, live (strace)", function()
  local netns = require "fixtures.check.netns"
  local lab, tmpdir
  setup(function()
    tmpdir = helpers.mktemp_dir()
    if helpers.is_root() then lab = netns.new("lnetstat-snap") end
  end)
  teardown(function()
    if lab then lab:cleanup() end
    helpers.remove_tree(tmpdir)
  end)

  helpers.root_it("opens one sock_diag session and scans the owners once for its 7 checks", function()
    lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22", "tcp:[::]:22:v6only")
    lab:listen("nginx", "nginx", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
    local trace = tmpdir .. "/trace"
    local out = helpers.run(string.format("strace -f -qq -e trace=socket,openat,sendto -o %s %s %s check %s --netns %s"
      .. " 2>&1; echo \"<rc=$?>\"", quote(trace), helpers.LUA, quote(HERE .. "../bin/lnetstat"),
      quote(EXAMPLES .. "web.lua"), quote(lab.ns)))
    assert.matches("<rc=0>", out, 1, true)
    assert.matches("7 checks: 7 passed", out, 1, true)
    -- the owners' walk runs on a helper thread beside the calling one
    local text = helpers.strace_joined(helpers.read_file(trace))
    local function count(pattern)
      local n = 0
      for _ in text:gmatch(pattern) do n = n + 1 end
      return n
    end
    assert.equal(1, count("socket%(AF_NETLINK, [^\n]*NETLINK_SOCK_DIAG"))
    assert.equal(1, count('openat%([^\n]*"/proc", O_RDONLY[^\n]*O_DIRECTORY'))
    -- one dump per protocol and family: TCP's two families in one walk,
    -- UDP's IPv4 and IPv6 (strace cannot decode a socket of another netns:
    -- count the sends on its fd)
    local fd = assert(text:match("NETLINK_SOCK_DIAG%) = (%d+)"), text)
    assert.equal(3, count("sendto%(" .. fd .. ", "))
  end)
end)

describe("lnetstat.check loses no check", function()
  it("a data call that fails while the file loads is an error result; the rest still runs", function()
    local src = [[
      interface_up "lo"
      expect_count(sockets { netns = "missing" }, "<", 10)
      local l = routes { netns = "missing" }
      not_listening { port = 25 }
      listening_only { { port = 22, prot = "tcp" } }
      is_listening { port = 22 }
    ]]
    local t = { sockets = HOST, interfaces = IFACES }
    local data = fake.data(t)
    local real_sockets, real_routes = data.sockets, data.routes
    data.sockets = function(o)
      if o.netns == "missing" then return nil, "netns 'missing': No such file or directory", 2 end
      return real_sockets(o)
    end
    data.routes = function(o)
      if o.netns == "missing" then return nil, "netns 'missing': No such file or directory", 2 end
      return real_routes(o)
    end
    local clock, sleep = fake.clock()
    for _ = 1, 3 do -- the same count and order every time
      local r = check.run_string(src, "t.lua", { data = data, clock = clock, sleep = sleep })
      assert.equal(6, #r.results, check.report(r, "human"))
      local got = {}
      for i, res in ipairs(r.results) do got[i] = res.status .. "@" .. res.source end
      assert.same({ "pass@t.lua:1", "error@t.lua:2", "error@t.lua:3", "pass@t.lua:4", "error@t.lua:5",
        "pass@t.lua:6" }, got)
      assert.equal("sockets(): netns 'missing': No such file or directory", r.results[2].actual)
      assert.equal("routes(): netns 'missing': No such file or directory", r.results[3].actual)
      assert.matches("^t%.lua:5: bad argument #1 to 'listening_only' %(unknown field 'prot'", r.results[5].actual)
      assert.equal(2, r.exit_code)
      -- ids do not depend on whether the data could be read
      local ids = {}
      for i, res in ipairs(r.results) do ids[i] = res.id end
      assert.same({ "t.1", "t.2", "t.data1", "t.3", "t.4", "t.5" }, ids)
    end
  end)
end)

describe("lnetstat.check counter windows", function()
  it("every window of a run is served by one pair of readings of the longest", function()
    local snaps = { { TcpExt = { ListenDrops = 1 } }, { TcpExt = { ListenDrops = 1 } } }
    local ifaces = 0
    local r, data, state = run([[
      counter_delta("TcpExt.ListenDrops", { window = 5 })
      counter_delta("TcpExt.ListenDrops", { window = 10 })
      no_interface_errors("lo", { window = 3 })
      counter("TcpExt.ListenDrops", "<", 5)
    ]], { stats = snaps, interfaces = function() ifaces = ifaces + 1; return IFACES end })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.same({ 10 }, state.sleeps)
    assert.same({ stats = 2, interfaces = 2 }, calls_of(data))
    assert.equal("TcpExt.ListenDrops +0 in 10s", r.results[1].actual)
    assert.equal(10, r.results[1].duration)
  end)
end)

describe("lnetstat.check retry parameters", function()
  local BAD = {
    { "within = 0/0", "within must be a number of seconds >= 0 and <= 3600, got " },
    { "within = 1e9", "within must be a number of seconds >= 0 and <= 3600" },
    { "within = 1/0", "within must be a number of seconds >= 0 and <= 3600" },
    { "every = 0", "every must be a number of seconds > 0 and <= 3600, got 0" },
    { "every = -1", "every must be a number of seconds > 0" },
    { "stable = 1e9", "stable must be an integer >= 1 and <= 3600" },
    { "stable = 0/0", "stable must be an integer >= 1 and <= 3600" },
  }
  for _, case in ipairs(BAD) do
    it("rejects " .. case[1], function()
      local r = run("interface_up('lo', { " .. case[1] .. " })\ninterface_up 'lo'", { interfaces = IFACES })
      assert.equal(2, r.exit_code)
      assert.equal(2, #r.results)
      assert.equal("error", r.results[1].status)
      assert.matches(case[2], r.results[1].actual, 1, true)
      assert.equal("pass", r.results[2].status)
    end)
  end
  it("rejects bad windows and bad run defaults", function()
    local r = run("counter_delta('Tcp.X', { window = 1e9 })\ncounter_delta('Tcp.X', { window = 0/0 })")
    assert.matches("window must be a number of seconds > 0 and <= 3600", r.results[1].actual, 1, true)
    assert.matches("window must be a number of seconds > 0 and <= 3600", r.results[2].actual, 1, true)
    local ok, err = pcall(check.run_string, "", "x", { defaults = { within = 0 / 0 } })
    assert.is_false(ok)
    assert.matches("bad argument #3 to 'run_string' (within must be", err, 1, true)
  end)
end)
