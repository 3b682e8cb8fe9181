-- Hostile hosts and hostile arguments: files written as root cannot be
-- redirected by planted symlinks, a netns argument cannot hang the caller,
-- open a device or reveal other files, the calling thread never leaves its
-- namespace (a failed setns is an error, not an abort), a huge ifindex
-- costs nothing, and NaN, infinities and huge option names are rejected.
-- Needs root (CI is root: nothing is skipped there).
local helpers = require "helpers"
local scratch = require "scratch"
local ns = require "lnetstat"
local q = require "lnetstat.query"
local util = require "lnetstat.util"
local core = require "lnetstat.core"

local root_it = helpers.root_it
local quote, run, must = helpers.quote, helpers.run, helpers.must
local format = string.format

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = HERE .. "../"
local SHIM_SRC = HERE .. "fixtures/hardening/hostile.c"
local CORE_SO = ROOT .. "build/" .. helpers.BUILD .. "/lnetstat/core.so"

local tmpdir

local write = scratch.write

local function mode_of(path)
  return (must("stat -c %a " .. quote(path)):gsub("%s+$", ""))
end

-- Runs a Lua chunk in a child interpreter (this suite's, with this
-- checkout's modules) under `timeout`, so that a regression that hangs
-- cannot hang the suite. env: a prefix of VAR=value words. Returns the
-- output (stdout and stderr) and the exit code (124: timed out).
local function child(code, env, seconds)
  local script = tmpdir .. "/child.lua"
  write(script, code)
  local cmd = format("%s LUA_PATH=%s LUA_CPATH=%s timeout -s KILL %d %s %s 2>&1; echo \"<rc=$?>\"",
    env or "", quote(ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;;"),
    quote(ROOT .. "build/" .. helpers.BUILD .. "/?.so;;"), seconds or 20, helpers.LUA, quote(script))
  local out = run(cmd)
  local rc = tonumber(out:match("<rc=(%d+)>%s*$"))
  return (out:gsub("<rc=%d+>%s*$", "")), rc
end

local shim
local function hostile_shim()
  if not shim then
    shim = tmpdir .. "/hostile.so"
    must(format("cc -shared -fPIC -o %s %s", quote(shim), quote(SHIM_SRC)))
  end
  return shim
end

describe("hardening", function()
  setup(function() tmpdir = helpers.mktemp_dir() end)
  teardown(function() helpers.remove_tree(tmpdir) end)

  describe("write_atomic", function()
    local dir, victim
    before_each(function()
      dir = tmpdir .. "/w"
      must("rm -rf " .. quote(dir) .. " && mkdir " .. quote(dir))
      victim = tmpdir .. "/victim"
      write(victim, "precious\n")
      must("chmod 600 " .. quote(victim))
    end)

    it("replaces a symlink at the target instead of writing through it", function()
      local f = dir .. "/out.prom"
      must(format("ln -s %s %s", quote(victim), quote(f)))
      assert.is_true(util.write_atomic(f, "metric 1\n"))
      assert.equal("precious\n", helpers.read_file(victim))
      assert.equal("600", mode_of(victim))
      assert.equal("", run("find " .. quote(f) .. " -type l"))
      assert.equal("metric 1\n", helpers.read_file(f))
    end)

    it("never follows a symlink planted at a temporary name, even a predictable one", function()
      local f = dir .. "/out.prom"
      -- the names earlier writers used, and this writer's name when its
      -- random source is forced to give zeros (the shim)
      for _, name in ipairs { "out.prom.tmp0", "out.prom.tmp" .. helpers.getpid(),
                              "out.prom.probe0", ".out.prom.tmp0000000000000000" } do
        must(format("ln -s %s %s", quote(victim), quote(dir .. "/" .. name)))
      end
      for i = 0, 99 do
        must(format("ln -s %s %s", quote(victim), quote(format("%s/out.prom.tmp%d", dir, i + 100))))
      end
      assert.is_true(util.write_atomic(f, "metric 2\n"))
      assert.equal("metric 2\n", helpers.read_file(f))
      assert.equal("precious\n", helpers.read_file(victim))

      -- With every temporary name known and taken, the write fails rather
      -- than open what is there.
      local out, rc = child(format([[
        local util = require "lnetstat.util"
        print(util.write_atomic(%q, "metric 3\n"))
        print(util.check_writable(%q))
      ]], f, f), "LD_PRELOAD=" .. quote(hostile_shim()))
      assert.equal(0, rc, out)
      assert.matches("nil\t'[^']*/out.prom': cannot create a temporary file: File exists\t17\n", out)
      assert.equal("precious\n", helpers.read_file(victim))
      assert.equal("metric 2\n", helpers.read_file(f))
      assert.equal("600", mode_of(victim))
    end)

    it("keeps the target's mode, and gives a new file 0644 less the umask", function()
      local f = dir .. "/kept"
      write(f, "old\n")
      must("chmod 640 " .. quote(f))
      assert.is_true(util.write_atomic(f, "new\n"))
      assert.equal("640", mode_of(f))
      assert.equal("new\n", helpers.read_file(f))

      local out, rc = child(format([[
        print(require("lnetstat.util").write_atomic(%q, "x"))
      ]], dir .. "/fresh"), "umask 027;")
      assert.equal(0, rc, out)
      assert.equal("true\n", out)
      assert.equal("640", mode_of(dir .. "/fresh"))
    end)

    it("leaves no temporary file behind, and a probe leaves nothing at all", function()
      assert.is_true(util.write_atomic(dir .. "/a", "x"))
      assert.is_true(util.check_writable(dir .. "/b"))
      assert.equal("a\n", run("ls -A " .. quote(dir)))
    end)

    it("names the directory when it is missing", function()
      local ok, msg, errno = util.write_atomic(dir .. "/no/such/f", "x")
      assert.is_nil(ok)
      assert.equal(format("directory '%s/no/such' does not exist", dir), msg)
      assert.equal(2, errno)
      ok, msg, errno = util.check_writable(dir .. "/nope/f")
      assert.is_nil(ok)
      assert.equal(format("directory '%s/nope' does not exist", dir), msg)
      assert.equal(2, errno)
    end)

    it("lnetstat metrics -o writes the same way", function()
      local f = dir .. "/node.prom"
      must(format("ln -s %s %s", quote(victim), quote(f)))
      for i = 0, 99 do
        must(format("ln -s %s %s", quote(victim), quote(format("%s.tmp%d", f, i))))
      end
      local out, ok = run(format("%s %s metrics -o %s 2>&1", helpers.LUA,
        quote(ROOT .. "bin/lnetstat"), quote(f)))
      assert.is_true(ok, out)
      assert.matches("\nlnetstat_netstat_Tcp_ActiveOpens %d+\n", helpers.read_file(f))
      assert.equal("precious\n", helpers.read_file(victim))
      assert.equal("600", mode_of(victim))
    end)

    it("lnetstat check -o writes the same way", function()
      local checks = tmpdir .. "/c.lua"
      write(checks, "check('c', function() return true end)\n")
      local f = dir .. "/report.tap"
      must(format("ln -s %s %s", quote(victim), quote(f)))
      must(format("ln -s %s %s", quote(victim), quote(f .. ".probe0")))
      local out, ok = run(format("%s %s check %s -f tap -o %s 2>&1", helpers.LUA,
        quote(ROOT .. "bin/lnetstat"), quote(checks), quote(f)))
      assert.is_true(ok, out)
      assert.matches("^TAP version 13\n", helpers.read_file(f))
      assert.equal("precious\n", helpers.read_file(victim))
    end)
  end)

  describe("read_file", function()
    local fifo
    before_each(function()
      fifo = tmpdir .. "/fifo"
      must("rm -f " .. quote(fifo) .. " && mkfifo " .. quote(fifo))
    end)
    after_each(function() os.remove(fifo) end)

    -- Each of these read the FIFO (nobody writes to it) with a blocking
    -- open before: the child is killed by `timeout` then.
    it("never opens a FIFO a caller names: util, check files, Tstconfig files and targets, name files", function()
      local def = tmpdir .. "/target.tstconfig"
      write(def, format("file %s\nproperty x\nassert_defined\n", fifo))
      local out, rc = child(format([[
        local fifo, def = %q, %q
        print(require("lnetstat.util").read_file(fifo))
        local run = require("lnetstat.check").run({ fifo })
        print(run.results[1].status, run.results[1].actual)
        local tst = require "lnetstat.tstconfig"
        local text, code = tst.run({ fifo })
        print(code, text:match("ERROR: [^\n]*"))
        text, code = tst.run({ def })
        print(code, text:match("ERROR: [^\n]*"))
        local stdout, _, ncode = require("lnetstat.format").netstat({ "-t" }, { files = { services = fifo } })
        print(ncode, stdout:match("^Active Internet connections") ~= nil)
      ]], fifo, def), nil, 15)
      assert.equal(0, rc, out)
      local lines = {}
      for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.equal(format("nil\t'%s': not a regular file (a FIFO)\t22", fifo), lines[1])
      assert.equal(format("error\tcannot read: '%s': not a regular file (a FIFO)", fifo), lines[2])
      assert.equal(format("2\tERROR: cannot read file: %s ('%s': not a regular file (a FIFO))", fifo, fifo), lines[3])
      assert.equal(format("2\tERROR: cannot read file: %s ('%s': not a regular file (a FIFO))", fifo, fifo), lines[4])
      assert.equal("0\ttrue", lines[5])
    end)

    it("the command says so too: lnetstat check and tstconfig on a FIFO end at once", function()
      local out, ok = run(format("timeout -s KILL 15 %s %s check %s 2>&1; echo \"rc=$?\"", helpers.LUA,
        quote(ROOT .. "bin/lnetstat"), quote(fifo)))
      assert.is_true(ok, out)
      assert.matches("not a regular file %(a FIFO%)", out)
      assert.matches("rc=2\n$", out)
      out = run(format("timeout -s KILL 15 %s %s tstconfig %s 2>&1; echo \"rc=$?\"", helpers.LUA,
        quote(ROOT .. "bin/lnetstat"), quote(fifo)))
      assert.matches("not a regular file %(a FIFO%)", out)
      assert.matches("rc=2\n$", out)
    end)

    it("refuses devices, sockets and directories without opening them", function()
      -- in a child with its address space capped: /dev/zero never ends
      local out, rc = child([[print(require("lnetstat.util").read_file("/dev/zero"))]], "ulimit -v 400000;", 15)
      assert.equal(0, rc, out)
      assert.equal("nil\t'/dev/zero': not a regular file (a character device)\t22\n", out)
      local ok, msg, errno = util.read_file(tmpdir)
      assert.is_nil(ok)
      assert.equal(format("'%s': not a regular file (a directory)", tmpdir), msg)
      assert.equal(21, errno)
      ok, msg, errno = util.read_file(tmpdir .. "/none")
      assert.is_nil(ok)
      assert.equal(format("'%s/none': No such file or directory", tmpdir), msg)
      assert.equal(2, errno)
      ok, msg, errno = util.read_file("a\0b")
      assert.is_nil(ok)
      assert.matches("path contains a NUL byte", msg)
      assert.equal(22, errno)
    end)

    it("reads /proc files (size 0) to their end, and refuses what is longer than the limit", function()
      local status = assert(util.read_file("/proc/self/status"))
      assert.matches("\nUid:", status)
      local ok, msg, errno = util.read_file("/proc/self/status", 16)
      assert.is_nil(ok)
      assert.equal("'/proc/self/status': larger than 16 bytes", msg)
      assert.equal(27, errno)
      local f = tmpdir .. "/sized"
      write(f, "0123456789")
      assert.equal("0123456789", util.read_file(f, 10))
      write(tmpdir .. "/empty", "")
      assert.equal("", util.read_file(tmpdir .. "/empty", 0))
      ok, msg = util.read_file(f, 9)
      assert.is_nil(ok)
      assert.equal(format("'%s': larger than 9 bytes", f), msg)
      -- a sparse file beyond the default limit is refused without reading it
      local big = tmpdir .. "/big"
      must("truncate -s 17M " .. quote(big))
      ok, msg, errno = util.read_file(big)
      assert.is_nil(ok)
      assert.equal(format("'%s': larger than %d bytes", big, 16 * 1024 * 1024), msg)
      assert.equal(27, errno)
      os.remove(big)
      assert.has_error(function() util.read_file(f, -1) end,
        "bad argument #2 to 'read_file' (a size in bytes >= 0 expected, got -1)")
      assert.has_error(function() util.read_file(nil) end,
        "bad argument #1 to 'read_file' (string expected, got nil)")
    end)

    it("a check file or Tstconfig target too big, or a device, is an error, never read", function()
      local big = tmpdir .. "/big.lua"
      must("truncate -s 17M " .. quote(big))
      local def = tmpdir .. "/zero.tstconfig"
      write(def, format("file /dev/zero\nfile %s\n", big))
      -- the address space is capped: reading /dev/zero or the big file
      -- would end in a memory error
      local out, rc = child(format([[
        local run = require("lnetstat.check").run({ "/dev/zero", %q }, { memory_limit = 16 })
        for _, r in ipairs(run.results) do print(r.status, r.actual) end
        local text = require("lnetstat.tstconfig").run({ %q })
        for line in text:gmatch("ERROR: [^\n]*") do print(line) end
      ]], big, def), "ulimit -v 400000;", 15)
      os.remove(big)
      assert.equal(0, rc, out)
      assert.equal(table.concat({
        "error\tcannot read: '/dev/zero': not a regular file (a character device)",
        format("error\tcannot read: '%s': larger than 16777216 bytes", big),
        "ERROR: cannot read file: /dev/zero ('/dev/zero': not a regular file (a character device))",
        format("ERROR: cannot read file: %s ('%s': larger than 16777216 bytes)", big, big),
      }, "\n") .. "\n", out)
    end)

    it("closes every descriptor it opens, refused or read", function()
      local f = tmpdir .. "/small"
      write(f, "x")
      local out, rc = child(format([[
        local util = require "lnetstat.util"
        local stat = io.open("/proc/self/stat")
        local pid = stat:read("*l"):match("^%%d+")
        stat:close()
        local function fds()
          -- not pipes: popen's own pipe may be open at both ends here
          local p = io.popen("find /proc/" .. pid .. "/fd -mindepth 1 ! -lname 'pipe:*' -printf x")
          local n = #p:read("*a")
          p:close()
          return n
        end
        local before = fds()
        for _ = 1, 200 do
          assert(util.read_file(%q) == "x")
          assert(util.read_file(%q, 0) == nil)
          assert(util.read_file(%q) == nil)
          assert(util.read_file("/proc/self/stat"))
        end
        collectgarbage()
        collectgarbage()
        print(before, fds())
      ]], f, f, fifo), nil, 15)
      assert.equal(0, rc, out)
      local before, after = out:match("^(%d+)\t(%d+)\n$")
      assert.is_truthy(before, out)
      assert.equal(before, after)
    end)
  end)

  describe("netns arguments", function()
    local fifo, regular
    before_each(function()
      fifo, regular = tmpdir .. "/fifo", tmpdir .. "/regular"
      run("rm -f " .. quote(fifo))
      must("mkfifo " .. quote(fifo))
      write(regular, "not a namespace\n")
    end)

    it("a FIFO answers an error at once instead of hanging", function()
      local out, rc = child(format([[
        local ns = require "lnetstat"
        local t = os.time()
        for _, f in ipairs { "interfaces", "routes", "sockets", "addresses", "neighbors" } do
          print(f, ns[f] { netns = %q })
        end
        print("seconds", os.time() - t)
      ]], fifo), nil, 10)
      assert.equal(0, rc, out)   -- 137: killed by the timeout, the open hung
      for _, f in ipairs { "interfaces", "routes", "sockets", "addresses", "neighbors" } do
        assert.matches(format("%s\tnil\tnetns '%s': not a network namespace\t2\n", f, fifo), out, 1, true)
      end
      assert.is_true(tonumber(out:match("seconds\t(%d+)")) <= 1, out)
    end)

    root_it("a device, a regular file, another namespace type and a missing file look alike", function()
      local cases = { "/dev/null", "/dev/zero", regular, fifo, "/proc/self/ns/mnt",
                      "/proc/self/ns/uts", tmpdir .. "/missing", "/var/run/netns/lnetstat-none" }
      for _, path in ipairs(cases) do
        local list, msg, errno = ns.interfaces { netns = path }
        assert.is_nil(list, path)
        assert.equal(format("netns '%s': not a network namespace", path), msg)
        assert.equal(2, errno, path)
      end
      -- a pid without a process, too
      local _, msg, errno = ns.interfaces { netns = 4194304 + 1 }
      assert.equal("netns '/proc/4194305/ns/net': not a network namespace", msg)
      assert.equal(2, errno)
    end)

    it("names must be names, paths absolute, pids positive integers", function()
      local bad = {
        { "a/b", "netns path must be absolute, got 'a/b'" },
        { "./x", "netns path must be absolute" },
        { "..", "netns name '..' is not valid" },
        { ".", "netns name '.' is not valid" },
        { "x\0y", "netns must not contain a NUL byte" },
        { "", "netns must be a name, a path or a pid" },
        { 0, "netns pid must be a positive integer, got 0" },
        { -3, "netns pid must be a positive integer" },
        { 1.5, "netns pid must be a positive integer" },
        { math.huge, "netns pid must be a positive integer, got inf" },
        { 0 / 0, "netns pid must be a positive integer" },
        { true, "netns must be a name, a path or a pid" },
      }
      for _, f in ipairs { "sockets", "routes", "interfaces", "addresses", "neighbors" } do
        for _, case in ipairs(bad) do
          local msg = helpers.err_of(ns[f], { netns = case[1] })
          assert.matches(format("bad argument #1 to '%s' (%s", f, case[2]), msg, 1, true)
        end
      end
      local msg = helpers.err_of(ns.route_get, "127.0.0.1", { netns = math.huge })
      assert.matches("bad argument #2 to 'route_get' (netns pid must be a positive integer, got inf)",
        msg, 1, true)
    end)

    it("a check run with such a netns gets error results", function()
      local checks = tmpdir .. "/n.lua"
      write(checks, "interface_up 'lo'\n")
      for _, path in ipairs { fifo, "/dev/null", regular } do
        local out = run(format("timeout -s KILL 20 %s %s check --netns %s %s -f json 2>&1; echo \"<rc=$?>\"",
          helpers.LUA, quote(ROOT .. "bin/lnetstat"), quote(path), quote(checks)))
        assert.matches("<rc=2>", out, 1, true)
        local d = helpers.json_decode(out:gsub("<rc=%d+>%s*$", ""))
        assert.equal("error", d.results[1].status)
        assert.equal(format("interfaces(): netns '%s': not a network namespace", path), d.results[1].actual)
      end
    end)
  end)

  describe("the calling thread's namespace", function()
    local name, pid, handle
    before_each(function() name = helpers.netns_create("lnetstat-hard") end)
    after_each(function()
      if pid then helpers.kill(pid, 5, "hardening-listener") end
      if handle then handle.cleanup() end
      pid, handle = nil, nil
      helpers.netns_delete(name)
    end)

    root_it("sockets and /proc/net files opened by the helper thread stay in the netns", function()
      local before = must("readlink /proc/self/ns/net")
      pid, handle = helpers.spawn(format("ip netns exec %s python3 -c %s hardening-listener", quote(name),
        quote("import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen()\n"
          .. "print(s.getsockname()[1]);print('ready');sys.stdout.flush();time.sleep(60)")))
      local ok, out = handle:wait_ready(20)
      assert.is_true(ok, out)
      local port = tonumber(out:match("^(%d+)"))
      for _, source in ipairs { "proc", "netlink" } do
        local list = assert(ns.sockets { netns = name, source = source, proto = "tcp", state = "listen" })
        assert.equal(1, #list, source)
        assert.equal(port, list[1].local_port, source)
      end
      -- this thread (and the processes it starts) never changed namespace
      assert.equal(before, must("readlink /proc/self/ns/net"))
      -- and its calls without netns still describe the host
      local names, host = {}, {}
      for _, i in ipairs(assert(ns.interfaces())) do names[#names + 1] = i.name end
      for line in must("ip -o link show"):gmatch("[^\n]+") do
        host[#host + 1] = line:match("^%d+: ([^:@]+)")
      end
      table.sort(names)
      table.sort(host)
      assert.same(host, names)
    end)

    root_it("a setns that fails is an error: the process lives on, in its own namespace", function()
      local out, rc = child(format([[
        local ns = require "lnetstat"
        local function netns_now()
          local p = io.popen("readlink /proc/self/ns/net")
          local s = p:read("*l")
          p:close()
          return s
        end
        local before = netns_now()
        for _, f in ipairs { "interfaces", "routes", "sockets" } do
          print(f, ns[f] { netns = %q })
        end
        print("same namespace", before == netns_now())
        print("alive")
      ]], name), "LD_PRELOAD=" .. quote(hostile_shim()))
      assert.equal(0, rc, out)
      for _, f in ipairs { "interfaces", "routes", "sockets" } do
        assert.matches(f .. "\tnil\tsetns: Operation not permitted\t1\n", out, 1, true)
      end
      assert.matches("same namespace\ttrue\nalive\n", out, 1, true)
    end)

    it("the module calls neither abort nor exit", function()
      local undefined = must("nm -u " .. quote(CORE_SO))
      assert.matches("setns", undefined, 1, true)   -- nm sees the module's calls
      for sym in undefined:gmatch("U%s+([%w_@%.]+)") do
        local base = sym:match("^([^@]+)")
        assert.is_nil(({ abort = true, exit = true, _exit = true, _Exit = true, quick_exit = true,
          __assert_fail = true })[base], sym)
      end
    end)
  end)

  describe("interface indexes", function()
    local name
    before_each(function() name = helpers.netns_create("lnetstat-idx") end)
    after_each(function() helpers.netns_delete(name) end)

    root_it("an index of 100000000 or 2^31-1 costs no memory and keeps its name", function()
      local n = quote(name)
      must(format("ip -n %s link add name bigidx index 100000000 type veth peer name bigp index 2147483647", n))
      must(format("ip -n %s link set bigidx up && ip -n %s link set bigp up", n, n))
      must(format("ip -n %s addr add 198.51.100.1/24 dev bigidx", n))
      must(format("ip -n %s addr add 203.0.113.1/24 dev bigp", n))
      must(format("ip -n %s neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev bigidx nud permanent", n))
      local out, rc = child(format([[
        local ns = require "lnetstat"
        local function hwm()
          for line in io.lines("/proc/self/status") do
            local v = line:match("^VmHWM:%%s*(%%d+)")
            if v then return tonumber(v) end
          end
        end
        local h0 = hwm()
        for _, i in ipairs(assert(ns.interfaces { netns = %q })) do
          print("interface", i.index, i.name, i.link)
        end
        for _, r in ipairs(assert(ns.routes { netns = %q })) do
          print("route", r.dst, r.interface)
        end
        for _, a in ipairs(assert(ns.addresses { netns = %q })) do
          print("address", a.addr, a.interface)
        end
        for _, e in ipairs(assert(ns.neighbors { netns = %q })) do
          print("neighbor", e.addr, e.interface)
        end
        print("growth_kb", hwm() - h0)
      ]], name, name, name, name))
      assert.equal(0, rc, out)
      assert.matches("interface\t100000000\tbigidx\tbigp\n", out, 1, true)
      assert.matches("interface\t2147483647\tbigp\tbigidx\n", out, 1, true)
      assert.matches("route\t198.51.100.0/24\tbigidx\n", out, 1, true)
      assert.matches("route\t203.0.113.0/24\tbigp\n", out, 1, true)
      assert.matches("address\t198.51.100.1\tbigidx\n", out, 1, true)
      assert.matches("address\t203.0.113.1\tbigp\n", out, 1, true)
      assert.matches("neighbor\t198.51.100.2\tbigidx\n", out, 1, true)
      local growth = tonumber(out:match("growth_kb\t(%d+)"))
      assert.is_true(growth < 50 * 1024, out)
      -- and through a session in this process
      local s = assert(core.open("/var/run/netns/" .. name, { "route" }))
      assert.equal("bigp", core.ifname(s, 2147483647))
      assert.equal("bigidx", core.ifname(s, 100000000))
      assert.is_nil(core.ifname(s, 99999999))
      s:close()
    end)
  end)

  describe("arguments", function()
    it("query rejects NaN and infinities, naming the function", function()
      local cases = {
        { "range", q.range, { 0 / 0, 1023 }, 1 }, { "range", q.range, { 0, 0 / 0 }, 2 },
        { "range", q.range, { -math.huge, 5 }, 1 }, { "range", q.range, { 1, math.huge }, 2 },
        { "gt", q.gt, { 0 / 0 }, 1 }, { "ge", q.ge, { math.huge }, 1 },
        { "lt", q.lt, { -math.huge }, 1 }, { "le", q.le, { 0 / 0 }, 1 },
        { "eq", q.eq, { 0 / 0 }, 1 }, { "ne", q.ne, { math.huge }, 1 },
        { "one_of", q.one_of, { 1, 0 / 0 }, 2 }, { "all_of", q.all_of, { math.huge }, 1 },
        { "not_", q.not_, { 0 / 0 }, 1 }, { "contains", q.contains, { 0 / 0 }, 1 },
      }
      for _, c in ipairs(cases) do
        local msg = helpers.err_of(c[2], (table.unpack or unpack)(c[3]))
        assert.matches(format("bad argument #%d to '%s' (finite number expected, got ", c[4], c[1]),
          msg, 1, true)
      end
      assert.matches("bad argument #2 to 'pluck' (field index must be a finite number, got nan)",
        helpers.err_of(q.pluck, {}, 0 / 0), 1, true)
      assert.matches("bad argument #3 to 'rate' (a positive number of seconds expected",
        helpers.err_of(q.rate, {}, {}, math.huge), 1, true)
      -- the error points at the caller's line
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, msg = pcall(function() local m = q.gt(0 / 0) return m end)
      assert.is_false(ok)
      assert.matches("hardening_spec.lua:" .. line .. ": bad argument #1 to 'gt'", msg, 1, true)
      -- finite values still build matchers
      assert.is_true(q.range(0, 1023)(22))
      assert.is_false(q.range(0, 1023)(1024))
    end)

    it("a megabyte-long unknown option name is rejected without comparing it", function()
      local long = string.rep("x", 1024 * 1024)
      local orig = util.suggest
      local longest = 0
      util.suggest = function(name, ...)
        if type(name) == "string" and #name > longest then longest = #name end
        return orig(name, ...)
      end
      local ok, err = pcall(function()
        assert.matches("unknown option", helpers.err_of(ns.sockets, { [long] = 1 }), 1, true)
        assert.matches("unknown option", helpers.err_of(ns.routes, { [long] = 1 }), 1, true)
        assert.matches("unknown option", helpers.err_of(ns.interfaces, { [long] = 1 }), 1, true)
      end)
      util.suggest = orig
      assert(ok, err)
      -- did_you_mean reached suggest, which gives up on long names at once
      assert.equal(1024 * 1024, longest)
      assert.is_nil(orig(long, { [long .. "y"] = true }))
      -- check options (they share lnetstat.util's suggestion; their own
      -- edit distance took minutes on this name)
      local out, rc = child(format([[
        local check = require "lnetstat.check"
        local t = os.clock()
        local run = check.run_string("interface_up('lo', { [string.rep('x', %d)] = 1 })", "x")
        local r = run.results[1]
        print(r.status, r.actual:find("unknown option 'xxxx", 1, true) ~= nil, os.clock() - t < 0.5)
      ]], 1024 * 1024))
      assert.equal(0, rc, out)
      assert.equal("error\ttrue\ttrue\n", out)
    end)
  end)
end)
