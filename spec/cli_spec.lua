-- The lnetstat command against net-tools netstat, both run inside a private
-- network namespace holding a fixed scenario (spec/scenario.py and
-- spec/fixtures/cli/extra_sockets.py): titles and headers identical, body
-- lines identical as sorted multisets (the row order within a protocol is
-- the kernel's, which may differ between netlink and /proc). Timers are
-- compared by kind (their remaining time moves); counters are read right
-- after each other and compared again when something moved in between.
-- Needs root for the namespace (CI is root: nothing is skipped there).
local helpers = require "helpers"

local root_it = helpers.root_it
local quote = helpers.quote
local format = string.format

local SPEC, ROOT, LNETSTAT = helpers.SPEC, helpers.ROOT, helpers.LNETSTAT
local run_rc = helpers.run_rc

-- The lines of a netstat-like text split into header lines (titles and
-- column headers) and body lines.
local HEADER = {
  "^Active ", "^Proto ", "^Kernel ", "^Destination ", "^Iface ", "^IPv6/IPv4 Group",
  "^Interface ", "^%-%-%-", "^%a[%w]*:$",
}
local function split(text) return helpers.split_head(text, HEADER) end

-- sock_diag (and so ss and lnetstat) does not see a UNIX connection that
-- is not accepted yet; netstat reads it from /proc/net/unix.
local function without_embryos(text)
  return (text:gsub("unix  %d+ +%[ %] +%u+ +CONNECTING +0 [^\n]*\n", ""))
end
local function mask_timers(text)
  return (text:gsub("%(%d+%.%d%d/%d+/%d+%)", "(T/R/P)"))
end

-- Asserts two outputs show the same table; returns true or false, message.
local function compare(expected, actual)
  local eh, eb = split(expected)
  local ah, ab = split(actual)
  if table.concat(eh, "\n") ~= table.concat(ah, "\n") then
    return false, format("headers differ:\nnetstat:\n%s\nlnetstat:\n%s", table.concat(eh, "\n"),
      table.concat(ah, "\n"))
  end
  local missing, extra, seen = {}, {}, {}
  for _, l in ipairs(ab) do seen[l] = (seen[l] or 0) + 1 end
  for _, l in ipairs(eb) do
    if (seen[l] or 0) > 0 then seen[l] = seen[l] - 1 else missing[#missing + 1] = l end
  end
  for l, n in pairs(seen) do
    for _ = 1, n do extra[#extra + 1] = l end
  end
  if #missing > 0 or #extra > 0 then
    table.sort(extra)
    return false, format("bodies differ:\nonly netstat:\n  %s\nonly lnetstat:\n  %s",
      table.concat(missing, "\n  "), table.concat(extra, "\n  "))
  end
  return true
end

describe("lnetstat command", function()
  it("prints its usage with every flag", function()
    local out, code = run_rc(LNETSTAT .. " -h")
    assert.are.equal(0, code)
    for _, flag in ipairs { "-a", "-t", "-u", "-w", "-x", "-l", "-n", "-p", "-e", "-o", "-r", "-i", "-s",
      "-c", "-W", "-4", "-6", "-g", "-v", "-h", "--json", "--netns", "check", "tstconfig", "metrics" } do
      assert.is_truthy(out:find(flag, 1, true), "usage lacks " .. flag)
    end
  end)

  it("documents one exit-code convention in -h and the man page", function()
    local out = run_rc(LNETSTAT .. " -h")
    assert.is_truthy(out:find(require("lnetstat.cliargs").EXIT_TEXT, 1, true))
    local man = run_rc("MANWIDTH=80 man -l " .. quote(ROOT .. "man/lnetstat.1") .. " 2>&1")
    assert.matches("EXIT STATUS\n +One convention", man)
    assert.matches("\n +2 +usage error, or an error", man)
  end)

  it("exits 2 on a usage error and says why", function()
    local _, code = run_rc(LNETSTAT .. " -q 2>/dev/null")
    assert.are.equal(2, code)
    _, code = run_rc(LNETSTAT .. " -r -s 2>/dev/null")
    assert.are.equal(2, code)
  end)

  it("refuses a bad --netns or -c interval with a usage error, never a traceback", function()
    for _, case in ipairs {
      { "-t --netns ''", "lnetstat: %-%-netns: netns must be a name, a path or a pid, got ''" },
      { "-t --netns 0", "lnetstat: %-%-netns: netns pid must be a positive integer, got 0" },
      { "-t --netns rel/x", "lnetstat: %-%-netns: netns path must be absolute, got 'rel/x'" },
      { "-t --netns 99999999999999999999", "lnetstat: %-%-netns: netns pid must be a positive integer" },
      { "-r --netns 0", "lnetstat: %-%-netns: netns pid must be a positive integer, got 0" },
      { "-i --json --netns 0", "lnetstat: %-%-netns: netns pid must be a positive integer, got 0" },
      { "-t --continuous=99999999999999999999", "lnetstat: %-c needs a whole number of seconds from 1 to 86400, "
        .. "got 1e%+20" },
      { "-c0 -t", "lnetstat: %-c needs a whole number of seconds from 1 to 86400, got 0" },
      { "-tc86401", "lnetstat: %-c needs a whole number of seconds from 1 to 86400, got 86401" },
    } do
      -- killed after 15 s: a regression that loops must not hang the suite
      local out, code = run_rc("timeout -s KILL 15 " .. LNETSTAT .. " " .. case[1] .. " 2>&1")
      assert.are.equal(2, code, case[1] .. ": " .. out)
      assert.matches("^" .. case[2], out)
      assert.matches("\nTry 'lnetstat %-%-help' for more information%.\n$", out)
      assert.is_nil(out:find("traceback", 1, true), out)
    end
    -- the library's netstat(): netstat's usage code for argv, an error for opts
    local fmt = require "lnetstat.format"
    local out, err, code = fmt.netstat({ "-t", "--netns", "rel/x" })
    assert.are.same({ "", "lnetstat: --netns: netns path must be absolute, got 'rel/x'\n", 3 }, { out, err, code })
    assert.matches("bad argument #2 to 'netstat' %(netns must be a name, a path or a pid, got ''%)",
      helpers.err_of(fmt.netstat, { "-t" }, { netns = "" }))
    local run = require "lnetstat.netstat.run"
    assert.matches("bad argument #1 to 'collect' %(netns pid must be a positive integer, got 0%)",
      helpers.err_of(run.collect, { netns = 0, interfaces = true }))
  end)

  it("takes long options in full only, and names what an abbreviation could be", function()
    local err, code = run_rc(LNETSTAT .. " --num 2>&1")
    assert.are.equal(2, code)
    assert.matches("unrecognized option '%-%-num'; did you mean one of '%-%-numeric', "
      .. "'%-%-numeric%-hosts', '%-%-numeric%-ports', '%-%-numeric%-users'%?", err)
    err, code = run_rc(LNETSTAT .. " --listen 2>&1")
    assert.are.equal(2, code)
    assert.matches("did you mean '%-%-listening'%?", err)
    err, code = run_rc(LNETSTAT .. " metrics --out=x 2>&1")
    assert.are.equal(2, code)
    assert.matches("lnetstat metrics: unknown option %-%-out; did you mean '%-%-output'%?", err)
  end)

  it("exits 2 when the data cannot be read", function()
    local out, code = run_rc(LNETSTAT .. " --netns lnetstat-no-such-ns -t 2>&1")
    assert.are.equal(2, code)
    assert.matches("lnetstat%-no%-such%-ns", out)
    out, code = run_rc(LNETSTAT .. " metrics --netns lnetstat-no-such-ns 2>&1")
    assert.are.equal(2, code)
    assert.matches("lnetstat%-no%-such%-ns", out)
  end)

  it("refuses metrics --netns all: a usage error, exit 2, nothing on stdout", function()
    for _, arg in ipairs { "--netns all", "--netns=all", "--prefix node --netns all" } do
      local out, code = run_rc(LNETSTAT .. " metrics " .. arg .. " 2>/dev/null")
      assert.are.equal(2, code, arg)
      assert.are.equal("", out, arg)
      local err = run_rc(LNETSTAT .. " metrics " .. arg .. " 2>&1 >/dev/null")
      assert.matches("^lnetstat metrics: %-%-netns all is not supported: one namespace per scrape", err)
      assert.matches("\nTry 'lnetstat metrics %-%-help' for more information%.\n$", err)
    end
  end)

  it("takes --netns as a name, a path or a pid", function()
    -- the shell's pid and its namespace file: the namespace lnetstat is in
    for _, spec in ipairs { "$$", "/proc/$$/ns/net" } do
      local out, code = run_rc(LNETSTAT .. " --netns " .. spec .. " -tn 2>&1")
      assert.are.equal(0, code, out)
      assert.matches("^Active Internet connections %(w/o servers%)\n", out)
      out, code = run_rc(LNETSTAT .. " metrics --netns=" .. spec .. " 2>&1")
      assert.are.equal(0, code, out)
      assert.matches("\nlnetstat_netstat_Tcp_ActiveOpens %d+\n", out)
    end
  end)

  it("gives each subcommand its help, exit 0", function()
    local out, code = run_rc(LNETSTAT .. " metrics -h")
    assert.are.equal(0, code)
    for _, opt in ipairs { "--netns", "--prefix", "--output", "Exit status: 0 success" } do
      assert.is_truthy(out:find(opt, 1, true), "metrics -h lacks " .. opt)
    end
  end)

  it("prints its version", function()
    local out, code = run_rc(LNETSTAT .. " -V")
    assert.are.equal(0, code)
    assert.matches("^lnetstat %S+\n$", out)
  end)

  it("prints the JSON records of a view", function()
    local out, code = run_rc(LNETSTAT .. " -tan --json")
    assert.are.equal(0, code)
    local list = helpers.json_decode(out)
    assert.are.equal("table", type(list))
    for _, r in ipairs(list) do assert.are.equal("tcp", r.proto) end
    local stats = helpers.json_decode((helpers.run(LNETSTAT .. " -s --json")))
    assert.are.equal("number", type(stats.Tcp.ActiveOpens))
  end)

  it("prints Prometheus text and writes it atomically with -o", function()
    local out, code = run_rc(LNETSTAT .. " metrics")
    assert.are.equal(0, code)
    assert.matches("\n# TYPE lnetstat_netstat_Tcp_ActiveOpens untyped\nlnetstat_netstat_Tcp_ActiveOpens %d+\n", out)
    assert.matches('\nlnetstat_network_receive_bytes_total{device="lo"} %d+\n', out)
    local dir = helpers.mktemp_dir()
    local file = dir .. "/lnetstat.prom"
    local _, code2 = run_rc(LNETSTAT .. " metrics --prefix node -o " .. quote(file))
    local text = helpers.read_file(file)
    -- -oFILE and --output=FILE are the same option
    local _, code3 = run_rc(LNETSTAT .. " metrics --prefix=node -o" .. quote(file .. "2"))
    local text2 = helpers.read_file(file .. "2")
    local _, code4 = run_rc(LNETSTAT .. " metrics --output=" .. quote(file .. "3"))
    local text3 = helpers.read_file(file .. "3")
    local _, code5 = run_rc(LNETSTAT .. " metrics --prefix other 2>/dev/null")
    helpers.remove_tree(dir)
    assert.are.equal(0, code2)
    assert.matches("\nnode_netstat_Tcp_ActiveOpens %d+\n", text)
    assert.are.equal(0, code3)
    assert.matches("\nnode_netstat_Tcp_ActiveOpens %d+\n", text2)
    assert.are.equal(0, code4)
    assert.matches("\nlnetstat_netstat_Tcp_ActiveOpens %d+\n", text3)
    assert.are.equal(2, code5)
  end)

  it("has a man page that renders", function()
    local out, code = run_rc("MANWIDTH=80 man -l " .. quote(ROOT .. "man/lnetstat.1") .. " 2>&1")
    assert.are.equal(0, code)
    assert.matches("LNETSTAT%(1%)", out)
    for _, flag in ipairs { "--netns", "--json", "--statistics", "--groups", "--continuous" } do
      assert.is_truthy(out:find(flag, 1, true), "man page lacks " .. flag)
    end
  end)
end)

describe("lnetstat against netstat in a private netns", function()
  local state = {}

  local function cleanup()
    for _, key in ipairs { "scenario", "extra" } do
      local s = state[key]
      if s then
        helpers.kill_each(s.match, s.pid, s.reported, s.child)
        pcall(s.handle.cleanup)
      end
    end
    helpers.netns_delete(state.ns, state.peer)
    if state.tmpdir then helpers.remove_tree(state.tmpdir) end
    state = {}
  end

  local function start(key, cmd, match)
    local pid, handle = helpers.spawn(cmd)
    state[key] = { pid = pid, handle = handle, match = match }
    local ok, out = handle:wait_ready(20)
    assert(ok, out)
    local facts = helpers.json_decode(out:match("^(.-)\n"))
    state[key].reported, state[key].child = facts.pid, facts.child_pid
  end

  local function build()
    local NS = helpers.netns_create("lnetstat-cli")
    state.ns = NS
    local PEER = helpers.netns_create("lnetstat-clipeer")
    state.peer = PEER
    local va, vb = helpers.veth_names("lnc")
    local must = helpers.must
    must(format("ip link add %s netns %s type veth peer name %s netns %s", va, NS, vb, PEER))
    must(format("ip -n %s addr add 203.0.113.1/24 dev %s", NS, va))
    must(format("ip -n %s addr add 203.0.113.9/24 dev %s label %s:1", NS, va, va))
    must(format("ip -n %s addr add 2001:db8:1234:5678::1/64 dev %s nodad", NS, va))
    must(format("ip -n %s link set %s up", NS, va))
    must(format("ip -n %s addr add 203.0.113.2/24 dev %s", PEER, vb))
    must(format("ip -n %s link set %s up", PEER, vb))
    must(format("ip -n %s route add 198.51.100.0/24 via 203.0.113.2 dev %s", NS, va))
    must(format("ip -n %s route add 203.0.113.77 via 203.0.113.2 dev %s", NS, va))
    must(format("ip -n %s route add unreachable 198.51.100.128/25", NS))
    must(format("ip -n %s route add 192.0.2.64/26 via 203.0.113.2 dev %s metric 5 advmss 1400", NS, va))
    helpers.sysctl(PEER, "net.ipv4.ip_forward=0")
    state.tmpdir = helpers.mktemp_dir()
    start("scenario", format("ip netns exec %s python3 %s %s lnetstat-cli-%d", NS,
      quote(SPEC .. "scenario.py"), state.tmpdir, helpers.getpid()), "scenario.py")
    start("extra", format("ip netns exec %s python3 %s %s", NS,
      quote(SPEC .. "fixtures/cli/extra_sockets.py"), state.tmpdir), "extra_sockets.py")
    helpers.sleep(2)   -- IPv6 autoconfiguration and MLD reports settle
  end

  helpers.root_setup(build, cleanup)

  local function netstat(args)
    return (helpers.netns_run(state.ns, "netstat " .. args .. " 2>&1"))
  end
  local function lnetstat(args)
    return (helpers.netns_run(state.ns, LNETSTAT .. " " .. args .. " 2>&1"))
  end

  -- Compares one view; it is read again when something moved between the
  -- two reads (the SYN_SENT socket retransmits, and on a slow machine its
  -- connect can time out and start over between netstat and lnetstat).
  local function check(args, opts)
    opts = opts or {}
    local attempts = opts.counters and 5 or 3
    local ok, msg
    for _ = 1, attempts do
      local expected = without_embryos(netstat(args))
      local actual = opts.via_netns
        and (helpers.run(LNETSTAT .. " --netns " .. quote(state.ns) .. " " .. args .. " 2>&1"))
        or lnetstat(args)
      if opts.timers then expected, actual = mask_timers(expected), mask_timers(actual) end
      ok, msg = compare(expected, actual)
      if ok then return end
      helpers.sleep(0.3)
    end
    error(format("lnetstat %s differs from netstat %s\n%s", args, args, msg), 2)
  end

  for _, args in ipairs { "-tuna", "-tunl", "-tun", "-plnt", "-tulnp", "-anp", "-a", "-tua", "-tuaW",
    "-tunaW", "-wan", "-wa", "-x", "-xa", "-xap", "-xl", "-e", "-tuae", "-tunaep", "-n4", "-n6",
    "-rn", "-r", "-rne", "-rnee", "-g", "-gn", "-gn4", "-Ua" } do
    root_it("netstat " .. args, function() check(args) end)
  end

  for _, args in ipairs { "-o", "-tunao", "-tunaepo" } do
    root_it("netstat " .. args .. " (timer kinds; remaining times masked)", function()
      check(args, { timers = true })
    end)
  end

  for _, args in ipairs { "-i", "-ia", "-ie", "-iea", "-s", "-st", "-su", "-sw", "-s6" } do
    root_it("netstat " .. args .. " (counters read back to back)", function()
      check(args, { counters = true })
    end)
  end

  root_it("--netns NAME reads the namespace like ip netns exec", function()
    check("-tuna", { via_netns = true })
    check("-xa", { via_netns = true })
    check("-s", { via_netns = true, counters = true })
  end)

  root_it("--json lists the sockets netstat shows", function()
    local text = lnetstat("-tuna --json")
    local list = helpers.json_decode(text)
    local _, body = split(netstat("-tuna"))
    assert.are.equal(#body, #list)
    local ports = {}
    for _, r in ipairs(list) do ports[r.local_port] = true end
    assert.is_true(ports[40001] and ports[40020] and ports[53])
  end)

  root_it("-c refreshes every second until stopped", function()
    local out = helpers.netns_run(state.ns, "timeout -s TERM 2.5 " .. LNETSTAT .. " -tnc 2>/dev/null")
    local _, titles = out:gsub("Active Internet connections", "")
    assert.is_true(titles >= 2, "expected at least two refreshes, got " .. titles)
  end)

  root_it("-p as another user prints netstat's note on stderr", function()
    local cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups "
    -- netstat picks its note by whether it could read any process's fds,
    -- on the whole host: a process of that user that comes and goes (any
    -- other run as nobody) changes it; read both again when they differ
    local expected, actual
    for _ = 1, 10 do
      expected = helpers.netns_run(state.ns, cmd .. "netstat -tlnp 2>&1 >/dev/null")
      actual = helpers.netns_run(state.ns, cmd .. LNETSTAT .. " -tlnp 2>&1 >/dev/null")
      if expected == actual then break end
      helpers.sleep(0.5)
    end
    assert.are.equal(expected, actual)
    assert.matches("root", actual)
  end)
end)
