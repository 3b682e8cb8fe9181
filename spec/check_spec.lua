-- lnetstat.check: check files, assertions, retries, reporters, exit codes.
-- Everything runs against a fake data source (spec/fixtures/check/fake.lua)
-- and a fake clock; the examples also run live in a private network
-- namespace (root).
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"
local helpers = require "helpers"
local records = require "records"
local scratch = require "scratch"

local root_it = helpers.root_it
local format = string.format
local L, C = fake.listener, fake.connection

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = HERE .. "../"
local EXAMPLES = ROOT .. "examples/audit/"

-- Runs check source against fake data; returns the run, the data and the clock.
local run = records.run

local function one(src, t, opts)
  local r, data, state = run(src, t, opts)
  assert.equal(1, #r.results, "expected one result, got " .. #r.results .. ": "
    .. check.report(r, "human"))
  return r.results[1], r, data, state
end

local function details(res)
  return table.concat(res.details or {}, "\n")
end

-- A host: sshd on 22, nginx on a dual-stack [::] 80/443, postgres on
-- loopback, chrony's UDP on loopback (and the records of a list extra).
local web_host = records.web_host

local IFACES = {
  { name = "lo", index = 1, mtu = 65536, flags = { UP = true, LOOPBACK = true, RUNNING = true, LOWER_UP = true },
    operstate = "UNKNOWN", stats = { rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0 } },
  { name = "eth0", index = 2, mtu = 1500, flags = { UP = true, BROADCAST = true, RUNNING = true, LOWER_UP = true },
    operstate = "UP", stats = { rx_errors = 0, tx_errors = 0, rx_dropped = 4, tx_dropped = 0 },
    addresses = { { family = "inet", addr = "198.51.100.1", prefixlen = 24 } } },
  { name = "eth1", index = 3, mtu = 9000, flags = { BROADCAST = true }, operstate = "DOWN",
    stats = { rx_errors = 2, tx_errors = 0, rx_dropped = 0, tx_dropped = 0 } },
}
local ADDRS = {
  { family = "inet", addr = "127.0.0.1", prefixlen = 8, interface = "lo", index = 1 },
  { family = "inet", addr = "198.51.100.1", prefixlen = 24, interface = "eth0", index = 2 },
  { family = "inet6", addr = "2001:db8::1", prefixlen = 64, interface = "eth0", index = 2 },
}
local ROUTES = {
  { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.254", interface = "eth0", type = "unicast",
    table = 254, metric = 100 },
  { family = "inet", dst = "198.51.100.0/24", interface = "eth0", type = "unicast", table = 254 },
  { family = "inet", dst = "203.0.113.0/24", gateway = "198.51.100.253", interface = "eth0", type = "unicast",
    table = 254 },
  { family = "inet6", dst = "::/0", gateway = "2001:db8::fffe", interface = "eth0", type = "unicast", table = 254 },
}
local ROUTE_GET = {
  ["203.0.113.5"] = { family = "inet", dst = "203.0.113.5/32", gateway = "198.51.100.253", interface = "eth0",
    type = "unicast", prefsrc = "198.51.100.1" },
  ["127.0.0.1"] = { family = "inet", dst = "127.0.0.1/32", interface = "lo", type = "local", prefsrc = "127.0.0.1" },
  ["192.0.2.1"] = { nil, "Network is unreachable", 101 },
  ["192.0.2.2"] = { nil, "Operation not permitted", 1 },
}

describe("lnetstat.check", function()
  describe("the sandbox", function()
    it("offers the data functions, query helpers, matchers and safe basics only", function()
      local res = one([[
        local seen = {}
        for _, k in ipairs { "os.execute", "io", "require", "load", "loadstring", "dofile", "loadfile",
          "package", "debug", "setmetatable", "getmetatable", "rawset", "rawget", "collectgarbage",
          "coroutine", "string.dump", "os.exit", "os.getenv", "os.remove" } do
          local v = _G
          for part in k:gmatch("[^.]+") do v = v and v[part] end
          if v ~= nil then seen[#seen + 1] = k end
        end
        check("nothing unsafe", function() return #seen == 0, table.concat(seen, ",") end)
      ]])
      assert.equal("pass", res.status, tostring(res.actual))
      res = one([[
        check("basics are there", function()
          return type(pairs) == "function" and string.format("%d", 5) == "5" and math.max(1, 2) == 2
            and type(sockets) == "function" and type(routes) == "function" and type(stats) == "function"
            and type(where) == "function" and type(q.where) == "function" and q.wildcard == wildcard
            and type(cidr) == "function" and type(not_) == "function" and type(unpack) == "function"
            and type(os.time) == "number" or type(os.time) == "function"
        end)
      ]])
      assert.equal("pass", res.status)
    end)

    it("keeps each file's globals and library tables to itself", function()
      local r = run([[
        string.upper = nil
        wildcard = 5
        leaked = true
        check("x", function() return true end)
      ]])
      assert.equal("pass", r.results[1].status)
      assert.is_nil(rawget(_G, "leaked"))
      assert.equal("function", type(string.upper))
      local r2 = run([[check("y", function() return type(string.upper) == "function" and leaked == nil
        and wildcard ~= 5 end)]])
      assert.equal("pass", r2.results[1].status)
    end)

    it("refuses binary chunks and reports syntax and runtime errors as file errors (exit 2)", function()
      local r = check.run_string(string.dump(function() end), "bin.lua", { data = fake.data {} })
      assert.equal(2, r.exit_code)
      assert.matches("binary chunks", r.results[1].actual)
      r = check.run_string("listening_only {", "syntax.lua", { data = fake.data {} })
      assert.equal(2, r.exit_code)
      assert.equal("error", r.results[1].status)
      assert.equal("syntax.file", r.results[1].id)
      r = check.run_string("check('a', function() return true end)\nlocal x = nil + 1\n", "rt.lua",
        { data = fake.data {} })
      assert.equal(2, r.exit_code)
      assert.equal(2, #r.results)
      assert.equal("pass", r.results[1].status)
      assert.equal("error", r.results[2].status)
      assert.equal("rt.lua:2", r.results[2].source)
      r = check.run_string("-- nothing", "empty.lua", { data = fake.data {} })
      assert.equal(2, r.exit_code)
      assert.matches("no checks", r.results[1].actual)
    end)

    it("stops a check file that spends its CPU budget, even one that catches errors", function()
      local before = { debug.gethook() }
      local src = "check('first', function() return true end)\n"
        .. "while true do pcall(function() while true do end end) end\n"
      local r = check.run_string(src, "loop.lua", { data = fake.data {}, cpu_limit = 0.2 })
      assert.equal(2, r.exit_code)
      assert.equal(2, #r.results)
      -- what was declared before the loop is reported, not lost
      assert.equal("first", r.results[1].title)
      assert.equal("error", r.results[1].status)
      assert.matches("^not run: CPU limit of 0%.2 s exceeded", r.results[1].actual)
      assert.equal("error", r.results[2].status)
      assert.matches("more than 0%.2 s of CPU %(an endless loop%?%)", r.results[2].actual)
      assert.same(before, { debug.gethook() })   -- the hook is gone again
      -- a loop inside a check's own function is that check's error
      r = check.run_string("check('spin', function() while true do end end)\n"
        .. "check('never', function() return true end)\n", "spin.lua",
        { data = fake.data {}, cpu_limit = 0.2 })
      assert.equal(2, r.exit_code)
      assert.equal("spin", r.results[1].title)
      assert.matches("more than 0%.2 s of CPU", r.results[1].actual)
      assert.equal("never", r.results[2].title)
      assert.matches("^not run: CPU limit", r.results[2].actual)
      -- 0: no limit; a bad limit names the function and argument
      r = check.run_string("check('a', function() return true end)", "nolimit.lua",
        { data = fake.data {}, cpu_limit = 0 })
      assert.equal(0, r.exit_code)
      assert.matches("^bad argument #3 to 'run_string' %(cpu_limit must be a number of seconds >= 0, got %-1%)",
        helpers.err_of(check.run_string, "", "x", { cpu_limit = -1 }))
      assert.matches("^bad argument #2 to 'run' %(cpu_limit must be a number of seconds >= 0, got 'x'%)",
        helpers.err_of(check.run, {}, { cpu_limit = "x" }))
    end)

    it("raises argument errors at the line of the check file, naming the function", function()
      local r = run("interface_up 'lo'\n\nnot_listening { prot = 'tcp' }\n")
      local res = r.results[2]
      assert.equal("error", res.status)
      assert.matches("^t%.lua:3: bad argument #1 to 'not_listening' %(unknown field 'prot'; did you mean 'proto'%?%)",
        res.actual)
      r = run("\nlistening_only { { port = 22 } , within = 'x' }\n")
      assert.matches("^t%.lua:2: bad argument #1 to 'listening_only' %(within must be a number", r.results[1].actual)
      r = run("expect_count({}, '<>', 5)")
      assert.matches("^t%.lua:1: bad argument #2 to 'expect_count'", r.results[1].actual)
      r = run("counter_delta('ListenOverflows')")
      assert.matches("bad argument #1 to 'counter_delta' %(counter path like", r.results[1].actual)
      r = run("sockets { prot = 'tcp' }", { sockets = {} })
      assert.equal(2, r.exit_code)
      r = run("local l = where(5, {})")
      assert.matches("^t%.lua:1: bad argument #1 to 'where'", r.results[1].actual)
    end)

    it("rejects unknown options, options of the wrong type and a bad netns, at the caller's line", function()
      local here = debug.getinfo(1, "S").short_src:gsub("%p", "%%%0")
      local function err_here(f, ...)
        local ok, msg = pcall(f, ...)   -- the error names this file, the caller
        assert.is_false(ok)
        return tostring(msg)
      end
      assert.matches("^" .. here .. ":%d+: bad argument #2 to 'run' %(unknown option 'cpu_limt'; "
        .. "did you mean 'cpu_limit'%?%)$", err_here(function() check.run({}, { cpu_limt = 1 }) end))
      assert.matches("^" .. here .. ":%d+: bad argument #3 to 'run_string' %(unknown option 'memroy_limit'; "
        .. "did you mean 'memory_limit'%?%)$",
        err_here(function() check.run_string("", "x", { memroy_limit = 1 }) end))
      assert.matches("^" .. here .. ":%d+: bad argument #2 to 'run' %(clock must be a function, got number%)$",
        err_here(function() check.run({}, { clock = 5 }) end))
      assert.matches("bad argument #3 to 'run_string' %(sleep must be a function, got string%)$",
        helpers.err_of(check.run_string, "", "x", { sleep = "1" }))
      assert.matches("bad argument #2 to 'run' %(data must be a table, got boolean%)$",
        helpers.err_of(check.run, {}, { data = true }))
      assert.matches("^" .. here .. ":%d+: bad argument #2 to 'run' %(netns pid must be a positive integer, got 0%)$",
        err_here(function() check.run({}, { netns = 0 }) end))
      assert.matches("bad argument #3 to 'run_string' %(netns must be a name, a path or a pid, got ''%)$",
        helpers.err_of(check.run_string, "", "x", { netns = "" }))
      assert.matches("bad argument #2 to 'run' %(netns path must be absolute, got 'rel/x'%)$",
        helpers.err_of(check.run, {}, { netns = "rel/x" }))
      assert.matches("bad argument #1 to 'run' %(file #2 must be a path, got number%)$",
        helpers.err_of(check.run, { "a.lua", 5 }))
      -- run_string's own arguments, named as run_string's
      assert.matches("^" .. here .. ":%d+: bad argument #1 to 'run_string' %(string expected, got number%)$",
        err_here(function() check.run_string(5) end))
      assert.matches("bad argument #2 to 'run_string' %(string expected, got table%)$",
        helpers.err_of(check.run_string, "", {}))
      -- the options that exist still pass
      assert.equal(0, check.run_string("check('a', function() return true end)", "ok.lua",
        { data = fake.data {}, netns = "web", progress = function() end, defaults = {} }).exit_code)
    end)

    it("describes a table inside itself, and an error inside the library names the file's line", function()
      local r = run("local t = {}\nt[1] = t\nexpect(t, '==', 1)\ncheck('after', function() return true end)\n")
      assert.equal(2, #r.results)
      assert.equal("fail", r.results[1].status)
      assert.equal("t.lua:3", r.results[1].source)
      assert.equal("{<cycle>}", r.results[1].actual)
      assert.equal("pass", r.results[2].status)
      -- deep nesting is cut short
      local deep = run("local t = {}\nlocal c = t\nfor _ = 1, 20 do c.x = {} c = c.x end\nexpect(t, '==', 1)\n")
      assert.equal(string.rep("{x=", 8) .. "{...}" .. string.rep("}", 8), deep.results[1].actual)
      -- a stack overflow in a call the file made is at the file's line
      r = run("check('first', function() return true end)\nlocal function f() return f() + 1 end\nf()\n")
      assert.equal("error", r.results[2].status)
      -- (LuaJIT's "stack overflow" has no position at all: no line then)
      assert.matches(rawget(_G, "jit") and "^t%.lua" or "^t%.lua:2$", r.results[2].source)
      assert.matches("stack overflow", r.results[2].actual)
      -- a message that names another file (the library) is not taken for
      -- the file's: the line is where the file was when it was raised
      r = run("\nerror('lua/lnetstat/query/base.lua:83: stack overflow', 0)\n")
      assert.equal("t.lua:2", r.results[1].source)
      assert.equal("t.lua:2: lua/lnetstat/query/base.lua:83: stack overflow", r.results[1].actual)
      -- a long name shortened by Lua ("...tail") is still the file's own
      local long = string.rep("d/", 40) .. "long.lua"
      r = check.run_string("\n\nlocal x = nil + 1\n", long, { data = fake.data {} })
      assert.equal(long .. ":3", r.results[1].source)
    end)

    it("passes --netns to every data function", function()
      local _, data = run([[
        interface_up "lo"
        not_listening { port = 25 }
        route_to("203.0.113.5")
        check("own", function() return #sockets { netns = "other" } >= 0 end)
      ]], { interfaces = IFACES, sockets = {}, route_get = ROUTE_GET }, { netns = "web" })
      local by = {}
      for _, c in ipairs(data.calls) do
        by[c.fname] = by[c.fname] or {}
        by[c.fname][c.opts.netns] = true
      end
      assert.same({ interfaces = { web = true }, route_get = { web = true },
        sockets = { web = true, other = true } }, by)
    end)
  end)

  describe("results", function()
    it("have id, title, status, expected, actual, source, duration and attempts", function()
      local r = run("\n\ninterface_up('eth0')\ninterface_up('eth1', { id = 'eth1-up', title = 'eth1 must be up' })\n",
        { interfaces = IFACES })
      local a, b = r.results[1], r.results[2]
      assert.equal("t.1", a.id)
      assert.equal("interface eth0 is up", a.title)
      assert.equal("pass", a.status)
      assert.is_string(a.expected)
      assert.equal("flags BROADCAST,LOWER_UP,RUNNING,UP, operstate UP", a.actual)
      assert.equal("t.lua:3", a.source)
      assert.equal(3, a.line)
      assert.equal(0, a.duration)
      assert.equal(1, a.attempts)
      assert.equal("eth1-up", b.id)
      assert.equal("eth1 must be up", b.title)
      assert.equal("fail", b.status)
      assert.equal("t.lua:4", b.source)
      assert.same({ total = 2, pass = 1, fail = 1, error = 0, skip = 0 }, r.summary)
      assert.equal(1, r.exit_code)
    end)

    it("skip = reason gives a skip result that does not fail the run", function()
      local res, r = one("interface_up('eth9', { skip = 'no such NIC on this model' })", { interfaces = IFACES })
      assert.equal("skip", res.status)
      assert.equal("no such NIC on this model", res.actual)
      assert.equal(0, r.exit_code)
    end)

    it("a check returns its result record, filled in when the run evaluates it", function()
      local r = run([[
        local r = interface_up "lo"
        check("returned", function() return r.status == "pass" and r.id == "t.1" end)
      ]], { interfaces = IFACES })
      assert.equal("pass", r.results[1].status)
      assert.equal("pass", r.results[2].status)
    end)
  end)

  describe("listening_only", function()
    local SRC = [[
      listening_only {
        { proto = "tcp", port = 22, program = "sshd", user = "root" },
        { proto = "tcp", port = { 80, 443 }, program = "nginx", addr = wildcard },
        ignore = { addr = loopback },
      }
    ]]

    it("passes when exactly the allowed sockets listen (loopback ignored)", function()
      local res, r = one(SRC, { sockets = web_host() })
      assert.equal("pass", res.status, details(res))
      assert.equal(0, r.exit_code)
      assert.matches("tcp 0.0.0.0:22 %(sshd, pid 812, user root%)", res.actual)
      assert.matches("tcp %[::%]:80 dual%-stack %(nginx, pid 900, user root%)", res.actual)
    end)

    it("reports unexpected listeners with their owners", function()
      local res = one(SRC, { sockets = web_host { L("tcp", "0.0.0.0", 8080, "python3", "alice", 4242),
        L("udp", "0.0.0.0", 69, "in.tftpd", "nobody", 77) } })
      assert.equal("fail", res.status)
      local d = details(res)
      assert.matches("unexpected: tcp 0.0.0.0:8080 %(python3, pid 4242, user alice%)", d)
      assert.matches("unexpected: udp 0.0.0.0:69 %(in.tftpd, pid 77, user nobody%)", d)
      assert.matches("^2 unexpected", res.actual)
    end)

    it("reports missing listeners, port by port", function()
      local hosts = web_host()
      table.remove(hosts, 4)   -- no 443
      local res = one(SRC, { sockets = hosts })
      assert.equal("fail", res.status)
      assert.matches("missing: tcp/443 %(entry: tcp/{80, 443} addr=wildcard program=nginx%)", details(res))
      assert.not_matches("missing: tcp/80", details(res))
    end)

    it("reports a listener on an allowed port with the wrong owner", function()
      local hosts = web_host()
      hosts[3] = L("tcp", "::", 80, "apache2", "www-data", 5000)
      local res = one(SRC, { sockets = hosts })
      assert.equal("fail", res.status)
      assert.matches("wrong owner: tcp %[::%]:80 dual%-stack %(apache2, pid 5000, user www%-data%); expected "
        .. "tcp/{80, 443} addr=wildcard program=nginx", details(res))
      local hosts2 = web_host()
      hosts2[1] = L("tcp", "0.0.0.0", 22, "sshd", "sshd", 812)
      res = one(SRC, { sockets = hosts2 })
      assert.matches("wrong owner: tcp 0.0.0.0:22 %(sshd, pid 812, user sshd%)", details(res))
    end)

    it("is an error, not a pass, when an asserted owner is unknown (list.partial)", function()
      local hosts = web_host()
      hosts[1].unreadable = true
      local res, r = one(SRC, { sockets = hosts, partial = "owners unknown for 1 sockets: run as root" })
      assert.equal("error", res.status)
      assert.equal(2, r.exit_code)
      assert.matches("owner unknown: tcp 0.0.0.0:22 %(owner unknown, user root%); expected tcp/22 program=sshd "
        .. "user=root %(owners unknown for 1 sockets: run as root%)", details(res))
      -- an entry without owner fields does not need the owner
      res = one([[listening_only { { port = 22 }, { port = { 80, 443 } }, ignore = { addr = loopback } }]],
        { sockets = hosts, partial = "owners unknown" })
      assert.equal("pass", res.status, details(res))
    end)

    it("addr = '0.0.0.0' also accepts a dual-stack [::], not a v6only one", function()
      local hosts = {
        L("tcp", "::", 22, "sshd", "root", 1),
        L("tcp", "::", 80, "nginx", "root", 2, { v6only = true }),
      }
      local res = one([[listening_only { { port = 22, addr = "0.0.0.0" }, { port = 80, addr = "0.0.0.0" } }]],
        { sockets = hosts })
      assert.equal("fail", res.status)
      assert.matches("unexpected: tcp %[::%]:80 %(nginx", details(res))
      assert.matches("missing: port 80", details(res))
      assert.not_matches("port 22", details(res))
      res = one([[listening_only { { port = 22, addr = "0.0.0.0", strict_family = true } }]],
        { sockets = { hosts[1] } })
      assert.equal("fail", res.status)
    end)

    it("scopes protocols, allows optional and required entries", function()
      local hosts = web_host { L("udp", "0.0.0.0", 5353, "avahi", "avahi", 9) }
      local res = one([[listening_only { { port = { 22, 80, 443 } }, proto = "tcp", ignore = { addr = loopback } }]],
        { sockets = hosts })
      assert.equal("pass", res.status, details(res))
      res = one([[listening_only {
        { port = { 22, 80, 443 } }, { proto = "udp", port = 5353 },
        { proto = "tcp", port = 8443, optional = true },
        { proto = "tcp", port = range(30000, 32767), required = true },
        ignore = { addr = loopback } }]], { sockets = hosts })
      assert.equal("fail", res.status)
      assert.equal("missing: tcp/range(30000, 32767)", res.details[1])
      assert.equal(1, #res.details)
    end)

    it("an empty allow-list means nothing may listen", function()
      local res = one([[listening_only { ignore = { addr = loopback } }]], { sockets = {} })
      assert.equal("pass", res.status)
      assert.equal("nothing listens", res.actual)
      res = one([[listening_only {}]], { sockets = web_host() })
      assert.equal("fail", res.status)
      assert.equal(6, #res.details)
    end)

    it("ignore takes a list of patterns, owners included", function()
      local hosts = web_host { L("tcp", "0.0.0.0", 9100, "node_exporter", "prometheus", 31) }
      local res = one([[listening_only { { port = { 22, 80, 443 } },
        ignore = { { addr = loopback }, { port = 9100, program = "node_exporter" } } }]], { sockets = hosts })
      assert.equal("pass", res.status, details(res))
    end)
  end)

  describe("not_listening, is_listening", function()
    it("nothing listens on a port (pass and fail)", function()
      local res = one("not_listening { port = 25 }", { sockets = web_host() })
      assert.equal("pass", res.status)
      assert.equal("nothing listens on port=25", res.title)
      res = one("not_listening(5432)", { sockets = web_host() })
      assert.equal("fail", res.status)
      assert.equal("tcp 127.0.0.1:5432 (postgres, pid 1000, user postgres)", res.actual)
      res = one("not_listening { port = 5432, addr = not_(loopback) }", { sockets = web_host() })
      assert.equal("pass", res.status)
      res = one("not_listening { port = { 25, 80 }, proto = 'tcp' }", { sockets = web_host() })
      assert.equal("fail", res.status)
    end)

    it("a family = 'inet' pattern sees a dual-stack [::] listener", function()
      local res = one("not_listening { port = 80, family = 'inet' }", { sockets = web_host() })
      assert.equal("fail", res.status)
      res = one("not_listening { port = 22, family = 'inet6', v6only = false }", { sockets = web_host() })
      assert.equal("pass", res.status)
    end)

    it("an owner pattern with unknown owners is an error", function()
      local hosts = web_host()
      for _, h in ipairs(hosts) do h.unreadable = true end
      local res = one("not_listening { program = 'telnetd' }", { sockets = hosts, partial = "not root" })
      assert.equal("error", res.status)
      res = one("not_listening { program = 'telnetd' }", { sockets = web_host() })
      assert.equal("pass", res.status)
    end)

    it("is_listening needs a match (count = n: that many)", function()
      local res = one("is_listening { port = 22, program = 'sshd' }", { sockets = web_host() })
      assert.equal("pass", res.status)
      res = one("is_listening { port = 22, program = 'sshd', count = 2 }", { sockets = web_host() })
      assert.equal("pass", res.status)
      res = one("is_listening { port = 22, program = 'sshd', count = 3 }", { sockets = web_host() })
      assert.equal("fail", res.status)
      res = one("is_listening { port = 8080 }", { sockets = web_host() })
      assert.equal("fail", res.status)
      assert.equal("none", res.actual)
      local hosts = web_host()
      hosts[1].unreadable, hosts[2].unreadable = true, true
      res = one("is_listening { port = 22, program = 'sshd' }", { sockets = hosts, partial = "x" })
      assert.equal("error", res.status)
    end)
  end)

  describe("no_connection, has_connection", function()
    local irc = C("198.51.100.1", 40000, "203.0.113.66", 6667, "ESTABLISHED", "xmrig", 666)
    it("no connection matching a pattern (pass and fail)", function()
      local SRC = "no_connection { state = 'ESTABLISHED', remote_port = 6667 }"
      assert.equal("pass", one(SRC, { sockets = web_host() }).status)
      local res = one(SRC, { sockets = web_host { irc } })
      assert.equal("fail", res.status)
      assert.equal("tcp 198.51.100.1:40000 -> 203.0.113.66:6667 ESTABLISHED (xmrig, pid 666, user alice)",
        res.actual)
    end)
    it("matches addresses by value and CIDR, owners by program", function()
      local hosts = web_host { irc }
      assert.equal("fail", one("no_connection { remote_addr = '203.0.113.66' }", { sockets = hosts }).status)
      assert.equal("fail", one("no_connection { remote_addr = '::ffff:203.0.113.66' }", { sockets = hosts }).status)
      assert.equal("fail", one("no_connection { remote_addr = cidr '203.0.113.0/24', local_port = not_(22) }",
        { sockets = hosts }).status)
      assert.equal("pass", one("no_connection { program = 'nc' }", { sockets = hosts }).status)
      assert.equal("pass", one("has_connection { local_port = 22, program = 'sshd' }", { sockets = hosts }).status)
      assert.equal("fail", one("has_connection { remote_port = 443 }", { sockets = hosts }).status)
    end)
  end)

  describe("expect_count, expect, counter, check", function()
    it("compares counts of lists, functions and numbers", function()
      local tw = {}
      for i = 1, 5 do tw[i] = C("127.0.0.1", 30000 + i, "127.0.0.1", 80, "TIME_WAIT") end
      local res = one("expect_count(sockets { state = 'TIME_WAIT' }, '<', 10000)", { sockets = tw })
      assert.equal("pass", res.status)
      assert.equal("5", res.actual)
      assert.equal('count(sockets{state=TIME_WAIT}) < 10000', res.title)
      res = one("expect_count(sockets { state = 'TIME_WAIT' }, '<', 5)", { sockets = tw })
      assert.equal("fail", res.status)
      res = one("expect_count(where(sockets(), { state = 'TIME_WAIT' }), '==', 5)", { sockets = tw })
      assert.equal("pass", res.status)
      assert.equal("count(where(sockets(), {state=TIME_WAIT})) == 5", res.title)
      res = one("expect_count(function() return sockets { state = 'TIME_WAIT' } end, '>=', 6)", { sockets = tw })
      assert.equal("fail", res.status)
      res = one("expect_count(3, '~=', 3)")
      assert.equal("fail", res.status)
      res = one("expect_count(count(sockets(), { state = 'TIME_WAIT' }), '!=', 4)", { sockets = tw })
      assert.equal("pass", res.status)
    end)

    it("expect compares or matches a value", function()
      assert.equal("pass", one("expect(5, '<', 6)").status)
      assert.equal("fail", one("expect('a', '>', 5)").status)
      assert.equal("pass", one("expect(22, range(1, 1023))").status)
      assert.equal("fail", one("expect(function() return 'nginx' end, match '^apache')").status)
    end)

    it("counter compares a stats() value", function()
      local st = { { Tcp = { CurrEstab = 12 }, sockstat = { TCP = { orphan = 0 } } } }
      assert.equal("pass", one("counter('Tcp.CurrEstab', '<', 5000)", { stats = st }).status)
      assert.equal("fail", one("counter('Tcp.CurrEstab', '<', 10)", { stats = st }).status)
      assert.equal("pass", one("counter('sockstat.TCP.orphan', '==', 0)", { stats = st }).status)
      local res = one("counter('Tcp.Nope', '<', 1)", { stats = st })
      assert.equal("error", res.status)
      assert.equal("no counter Tcp.Nope in stats()", res.actual)
      -- netns = "all": one stats table per namespace, never read as one
      local all = { { { Tcp = { CurrEstab = 1 } }, { netns = "web", Tcp = { CurrEstab = 2 } } } }
      res = one("counter('Tcp.CurrEstab', '<', 5000)", { stats = all })
      assert.equal("error", res.status)
      assert.matches("reads one namespace", res.actual, 1, true)
      local routes = { ["127.0.0.1"] = { { ROUTE_GET["127.0.0.1"], { netns = "web", dst = "127.0.0.1/32",
        interface = "lo", type = "local" } } } }
      res = one("route_to('127.0.0.1', { interface = 'lo' })", { route_get = routes })
      assert.equal("error", res.status)
      assert.matches("reads one namespace", res.actual, 1, true)
    end)

    it("check() runs a custom function; its errors are error results", function()
      assert.equal("pass", one("check('custom', function() return true, 'fine' end)").status)
      local res = one("check('custom', function() return false, 3, 'less than 3' end)")
      assert.equal("fail", res.status)
      assert.equal("3", res.actual)
      assert.equal("less than 3", res.expected)
      res = one("check('boom', function() error('kaput') end)")
      assert.equal("error", res.status)
      assert.equal("kaput", res.actual)
      assert.equal("skip", one("check('s', function() return 'skip', 'later' end)").status)
    end)
  end)

  describe("interfaces, addresses, routes", function()
    it("interface_up: admin and link up; lo's UNKNOWN with carrier counts", function()
      assert.equal("pass", one("interface_up 'eth0'", { interfaces = IFACES }).status)
      assert.equal("pass", one("interface_up 'lo'", { interfaces = IFACES }).status)
      local res = one("interface_up 'eth1'", { interfaces = IFACES })
      assert.equal("fail", res.status)
      assert.equal("flags BROADCAST, operstate DOWN", res.actual)
      res = one("interface_up 'wlan0'", { interfaces = IFACES })
      assert.equal("fail", res.status)
      assert.equal("no interface wlan0 (have: lo, eth0, eth1)", res.actual)
    end)

    it("interface{} checks fields and dotted paths", function()
      local res = one("interface { name = 'eth0', mtu = 1500, ['stats.rx_errors'] = 0, up = true }",
        { interfaces = IFACES })
      assert.equal("pass", res.status)
      res = one("interface { name = 'eth1', mtu = 1500, ['stats.rx_errors'] = 0, ['flags.UP'] = true }",
        { interfaces = IFACES })
      assert.equal("fail", res.status)
      assert.same({ "eth1: flags.UP is nil, expected true", "eth1: mtu is 9000, expected 1500",
        "eth1: stats.rx_errors is 2, expected 0" }, res.details)
      res = one("interface { name = match '^eth', mtu = range(1280, 9000) }", { interfaces = IFACES })
      assert.equal("pass", res.status)
      res = one("interface { name = 'eth0', ['addresses.1.addr'] = '198.51.100.1' }", { interfaces = IFACES })
      assert.equal("pass", res.status)
      assert.equal("fail", one("interface { name = 'nope' }", { interfaces = IFACES }).status)
      assert.equal("error", one("interface { mtu = 1500 }", { interfaces = IFACES }).status)
    end)

    it("no_interface_errors: absolute, without drops, and over a window", function()
      local res = one("no_interface_errors 'eth0'", { interfaces = IFACES })
      assert.equal("fail", res.status)
      assert.equal("eth0 rx_dropped 4", res.actual)
      assert.equal("pass", one("no_interface_errors('eth0', { drops = false })", { interfaces = IFACES }).status)
      assert.equal("fail", one("no_interface_errors()", { interfaces = IFACES }).status)
      assert.equal("pass", one("no_interface_errors(nil, { max = 4 })", { interfaces = IFACES }).status)
      -- a window: counters that did not move pass; growing ones fail
      local n = 0
      local function grow()
        n = n + 1
        local t = fake.copy(IFACES)
        t[2].stats.rx_errors = n == 1 and 10 or 13
        return t
      end
      local res2, _, _, clock = one("no_interface_errors('eth0', { window = 5 })", { interfaces = grow })
      assert.equal("fail", res2.status)
      assert.equal("eth0 rx_errors +3", res2.actual)
      assert.same({ 5 }, clock.sleeps)
      assert.equal("pass", one("no_interface_errors('lo', { window = 2 })", { interfaces = IFACES }).status)
    end)

    it("address_present and address_absent", function()
      local t = { addresses = ADDRS }
      assert.equal("pass", one("address_present('198.51.100.1/24', { interface = 'eth0' })", t).status)
      assert.equal("pass", one("address_present '2001:db8:0::1'", t).status)
      local res = one("address_present('198.51.100.1/25')", t)
      assert.equal("fail", res.status)
      assert.equal("198.51.100.1/24 on eth0", res.actual)
      assert.equal("fail", one("address_present('198.51.100.1', { interface = 'eth1' })", t).status)
      assert.equal("pass", one("address_absent '203.0.113.1'", t).status)
      assert.equal("fail", one("address_absent '127.0.0.1'", t).status)
      assert.equal("error", one("address_present '300.1.1.1'", t).status)
    end)

    it("default_route, route_present", function()
      local t = { routes = ROUTES }
      local res = one("default_route { via = '198.51.100.254' }", t)
      assert.equal("pass", res.status)
      assert.equal("0.0.0.0/0 via 198.51.100.254 dev eth0 metric 100 table 254", res.actual)
      assert.equal("pass", one("default_route { interface = 'eth0' }", t).status)
      assert.equal("pass", one("default_route()", t).status)
      assert.equal("pass", one("default_route { via = '2001:db8::fffe' }", t).status)
      res = one("default_route { via = '198.51.100.1' }", t)
      assert.equal("fail", res.status)
      assert.equal("0.0.0.0/0 via 198.51.100.254 dev eth0 metric 100 table 254", res.actual)
      res = one("default_route {}", { routes = {} })
      assert.equal("fail", res.status)
      assert.equal("no default route", res.actual)
      assert.equal("pass", one("route_present { dst = '203.0.113.0/24', via = '198.51.100.253' }", t).status)
      assert.equal("fail", one("route_present { dst = '203.0.113.0/24', via = '198.51.100.254' }", t).status)
      assert.equal("fail", one("route_present { dst = '192.0.2.0/24' }", t).status)
    end)

    it("route_to: the interface, gateway, source and type the kernel would use", function()
      local t = { route_get = ROUTE_GET }
      assert.equal("pass", one("route_to('203.0.113.5', { interface = 'eth0', via = '198.51.100.253' })", t).status)
      assert.equal("pass", one("route_to('203.0.113.5', { src = '198.51.100.1' })", t).status)
      local res = one("route_to('203.0.113.5', { interface = 'eth1' })", t)
      assert.equal("fail", res.status)
      assert.equal("203.0.113.5/32 via 198.51.100.253 dev eth0 src 198.51.100.1", res.actual)
      assert.equal("pass", one("route_to('127.0.0.1', { interface = 'lo' })", t).status)
      res = one("route_to('192.0.2.1')", t)
      assert.equal("fail", res.status)
      assert.equal("no route: Network is unreachable", res.actual)
      assert.equal("pass", one("route_to('192.0.2.1', { type = 'unreachable' })", t).status)
      assert.equal("fail", one("route_to('203.0.113.5', { type = 'unreachable' })", t).status)
      res = one("route_to('192.0.2.2')", t)
      assert.equal("error", res.status)
    end)
  end)

  describe("counter_delta", function()
    local function snaps(a, b)
      return { { TcpExt = { ListenOverflows = a, ListenDrops = a } },
        { TcpExt = { ListenOverflows = b, ListenDrops = b } } }
    end
    it("takes two snapshots a window apart and compares the increase", function()
      local res, _, data, clock = one("counter_delta('TcpExt.ListenOverflows', { window = 5, max = 0 })",
        { stats = snaps(7, 7) })
      assert.equal("pass", res.status)
      assert.equal("TcpExt.ListenOverflows +0 in 5s", res.actual)
      assert.same({ 5 }, clock.sleeps)
      assert.equal(5, res.duration)
      local n = 0
      for _, c in ipairs(data.calls) do if c.fname == "stats" then n = n + 1 end end
      assert.equal(2, n)
      res = one("counter_delta('TcpExt.ListenOverflows', { window = 5, max = 0 })", { stats = snaps(7, 9) })
      assert.equal("fail", res.status)
      assert.equal("TcpExt.ListenOverflows +2 in 5s", res.actual)
    end)
    it("max defaults to 0; min and max_rate; lists of counters; resets", function()
      assert.equal("fail", one("counter_delta('TcpExt.ListenDrops')", { stats = snaps(1, 2) }).status)
      assert.equal("pass", one("counter_delta('TcpExt.ListenDrops', { min = 1 })", { stats = snaps(1, 2) }).status)
      assert.equal("fail", one("counter_delta('TcpExt.ListenDrops', { window = 2, max_rate = 4 })",
        { stats = snaps(0, 10) }).status)
      assert.equal("pass", one("counter_delta('TcpExt.ListenDrops', { window = 2, max_rate = 5 })",
        { stats = snaps(0, 10) }).status)
      local res = one("counter_delta({ 'TcpExt.ListenOverflows', 'TcpExt.ListenDrops' }, { max = 3 })",
        { stats = snaps(100, 2) })
      assert.equal("pass", res.status)
      assert.equal("TcpExt.ListenOverflows +2 in 5s (reset); TcpExt.ListenDrops +2 in 5s (reset)", res.actual)
    end)
    it("an unknown counter or unreadable stats is an error", function()
      local res = one("counter_delta('TcpExt.Nope')", { stats = snaps(1, 1) })
      assert.equal("error", res.status)
      res = one("counter_delta('TcpExt.ListenDrops')", { fail = { stats = "cannot open /proc/net/netstat" } })
      assert.equal("error", res.status)
      assert.equal("stats(): cannot open /proc/net/netstat", res.actual)
    end)
  end)

  describe("retries", function()
    it("within/every re-run a check with fresh data until it passes", function()
      local clock
      local function sockets()
        -- the service starts listening 3 seconds in
        if clock.now >= 3 then return web_host() end
        return {}
      end
      local clk, sleep, state = fake.clock()
      clock = state
      local r = check.run_string("is_listening { port = 443, within = 30, every = 1 }", "t.lua",
        { data = fake.data { sockets = sockets }, clock = clk, sleep = sleep })
      local res = r.results[1]
      assert.equal("pass", res.status)
      assert.equal(4, res.attempts)
      assert.equal(3, res.duration)
      assert.same({ 1, 1, 1 }, state.sleeps)
    end)

    it("gives up after within seconds with the last answer", function()
      local res = one("is_listening { port = 443, within = 3, every = 1 }", { sockets = {} })
      assert.equal("fail", res.status)
      assert.equal(4, res.attempts)
      assert.equal(3, res.duration)
      res = one("not_listening { port = 22, within = 2.5, every = 1 }", { sockets = web_host() })
      assert.equal(4, res.attempts)
      assert.equal(2.5, res.duration)
    end)

    it("re-reads lists given to expect_count", function()
      local n = 0
      local function sockets()
        n = n + 1
        local t = {}
        for i = 1, 10 - n * 3 do t[i] = C("127.0.0.1", 30000 + i, "127.0.0.1", 80, "TIME_WAIT") end
        return t
      end
      local res = one("expect_count(sockets { state = 'TIME_WAIT' }, '<', 2, { within = 10 })",
        { sockets = sockets })
      assert.equal("pass", res.status)
      assert.equal(3, res.attempts)
      assert.equal("1", res.actual)
    end)

    it("defaults{} and the runner's defaults apply to the checks that follow", function()
      local r = run("interface_up 'eth1'\ndefaults { within = 2 }\ninterface_up 'eth1'\n", { interfaces = IFACES })
      assert.equal(1, r.results[1].attempts)
      assert.equal(3, r.results[2].attempts)
      r = run("interface_up 'eth1'", { interfaces = IFACES }, { defaults = { within = 1, every = 0.5 } })
      assert.equal(3, r.results[1].attempts)
    end)

    it("stable = n needs n passing samples in a row", function()
      local n = 0
      local function ifaces()
        n = n + 1
        local t = fake.copy(IFACES)
        if n == 2 then t[2].flags.UP = nil end   -- flaps once
        return t
      end
      local res = one("interface_up('eth0', { stable = 3, within = 10 })", { interfaces = ifaces })
      assert.equal("pass", res.status)
      assert.equal(5, res.attempts)
      n = 0
      res = one("interface_up('eth0', { stable = 3 })", { interfaces = ifaces })
      assert.equal("fail", res.status)
      assert.equal(2, res.attempts)
    end)
  end)

  describe("data errors", function()
    it("make error results and exit 2", function()
      local res, r = one("not_listening { port = 25 }",
        { fail = { sockets = "netns 'x': No such file or directory" } })
      assert.equal("error", res.status)
      assert.equal("listening(): netns 'x': No such file or directory", res.actual)
      assert.equal(2, r.exit_code)
      -- at the top level of a file: the file errors
      r = run("local l = sockets()\ninterface_up 'lo'", { fail = { sockets = "EPERM" }, interfaces = IFACES })
      assert.equal("error", r.results[1].status)
      assert.equal("sockets(): EPERM", r.results[1].actual)
    end)
  end)

  -- Reporters ------------------------------------------------------------------
  describe("reporters", function()
    -- A run with every status and hostile strings in titles and values.
    local NASTY = 'quote " backslash \\ newline\nlt < amp & hash # ctl \1 bad utf8 \255\254 ok é'
    local function mixed_run()
      local src = [[
        interface_up 'eth0'
        interface_up 'eth1'
        check("boom", function() error("kaput") end)
        interface_up('eth9', { skip = "not on this model" })
        check(NASTY, function() return false, NASTY end, { id = "nasty" })
        listening_only { { port = { 22, 80, 443 } }, ignore = { addr = loopback } }
      ]]
      src = "local NASTY = " .. string.format("%q", NASTY) .. "\n" .. src
      return run(src, { interfaces = IFACES, sockets = web_host() })
    end

    local function parse_tap(text)
      local lines = {}
      for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
      assert.equal("TAP version 13", lines[1])
      local plan = tonumber(lines[2]:match("^1%.%.(%d+)$"))
      assert(plan, "no plan: " .. lines[2])
      local tests, i = {}, 3
      local current
      while i <= #lines do
        local l = lines[i]
        local nok, num, desc = l:match("^(n?o?t? ?)ok (%d+) %- (.*)$")
        if num then
          current = { ok = nok == "", num = tonumber(num), desc = desc }
          assert.equal(#tests + 1, current.num)
          tests[#tests + 1] = current
        elseif l == "  ---" then
          current.yaml = {}
          i = i + 1
          while lines[i] ~= "  ..." do
            assert(lines[i], "unterminated YAML block")
            local k, v = lines[i]:match("^  ([%w_]+): (.*)$")
            if k then current.yaml[k] = v end
            i = i + 1
          end
        elseif not (l:match("^#") or l == "") then   -- comments and blank lines pass
          error("not a TAP line: " .. l)
        end
        i = i + 1
      end
      assert.equal(plan, #tests)
      return tests
    end

    it("TAP version 13 parses back: plan, ok/not ok, SKIP, YAML diagnostics", function()
      local r = mixed_run()
      local tests = parse_tap(check.report(r, "tap"))
      assert.equal(6, #tests)
      assert.is_true(tests[1].ok)
      assert.is_false(tests[2].ok)
      assert.equal('"fail"', tests[2].yaml.status)
      assert.equal('"t.lua:4"', tests[2].yaml.source)
      assert.is_false(tests[3].ok)
      assert.equal('"error"', tests[3].yaml.status)
      assert.is_true(tests[4].ok)
      assert.matches("# SKIP not on this model$", tests[4].desc)
      assert.is_false(tests[5].ok)
      assert.not_matches("\n", tests[5].desc)
      assert.matches("hash \\# ctl", tests[5].desc)
      -- YAML double-quoted strings with the escapes TAP::Parser reads
      local ESC = { n = "\n", t = "\t", r = "\r", ["\\"] = "\\", ['"'] = '"' }
      local quoted = assert(tests[5].yaml.actual:match('^"(.*)"$'))
      local buf, i = {}, 1
      while i <= #quoted do
        local c = quoted:sub(i, i)
        if c ~= "\\" then buf[#buf + 1], i = c, i + 1
        elseif quoted:sub(i + 1, i + 1) == "x" then
          buf[#buf + 1], i = string.char((assert(tonumber(quoted:sub(i + 2, i + 3), 16)))), i + 4
        else
          buf[#buf + 1], i = assert(ESC[quoted:sub(i + 1, i + 1)], "unknown escape"), i + 2
        end
      end
      local actual = table.concat(buf)
      -- bytes outside valid UTF-8 come out as their Latin-1 characters
      assert.matches('^quote " backslash \\ newline\nlt < amp & hash # ctl \1 bad utf8 \195\191\195\190', actual)
      assert.matches("ok é$", actual)
    end)

    local function python(script, input)
      local tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write(input)
      f:close()
      local out, ok = helpers.run(format("python3 -c %s < %s 2>&1", helpers.quote(script), tmp))
      os.remove(tmp)
      return out, ok
    end

    it("JUnit XML parses as XML, with failures, errors and skips counted", function()
      local r = mixed_run()
      local xml = check.report(r, "junit")
      local out, ok = python([[
import sys, json, xml.dom.minidom
d = xml.dom.minidom.parse(sys.stdin.buffer)
root = d.documentElement
cases = d.getElementsByTagName("testcase")
suite = d.getElementsByTagName("testsuite")[0]
print(json.dumps({"root": root.tagName, "tests": root.getAttribute("tests"),
  "failures": root.getAttribute("failures"), "errors": root.getAttribute("errors"),
  "skipped": suite.getAttribute("skipped"), "cases": len(cases),
  "failure": len(d.getElementsByTagName("failure")), "error": len(d.getElementsByTagName("error")),
  "skip": len(d.getElementsByTagName("skipped")),
  "names": [c.getAttribute("name") for c in cases],
  "nasty": [f.getAttribute("message") for f in d.getElementsByTagName("failure")]}))
]], xml)
      assert(ok, out)
      local d = helpers.json_decode(out)
      assert.equal("testsuites", d.root)
      assert.same({ "6", "2", "1", "1" }, { d.tests, d.failures, d.errors, d.skipped })
      assert.equal(6, d.cases)
      assert.equal(2, d.failure)
      assert.equal(1, d.error)
      assert.equal(1, d.skip)
      assert.equal("t.1: interface eth0 is up", d.names[1])
      assert.matches('^quote " backslash \\ newline\nlt < amp & hash # ctl \\x01 bad utf8', d.nasty[2])
      local _, lint_ok = helpers.run("command -v xmllint >/dev/null")
      if lint_ok then
        local tmp = os.tmpname()
        local f = assert(io.open(tmp, "wb")); f:write(xml); f:close()
        local lout, lok = helpers.run("xmllint --noout " .. tmp .. " 2>&1")
        os.remove(tmp)
        assert(lok, lout)
      end
    end)

    it("JSON is one document that decodes (also in Python's strict decoder)", function()
      local r = mixed_run()
      local text = check.report(r, "json")
      local d = helpers.json_decode(text)
      assert.equal("lnetstat check", d.tool)
      assert.equal(2, d.exit_code)
      assert.same({ total = 6, pass = 2, fail = 2, error = 1, skip = 1 }, d.summary)
      assert.equal(6, #d.results)
      assert.equal("t.1", d.results[1].id)
      assert.equal("pass", d.results[1].status)
      assert.equal("t.lua:3", d.results[1].source)
      assert.equal(1, d.results[1].attempts)
      assert.equal("table", type(d.results[1].details))
      assert.equal("nasty", d.results[5].id)
      local out, ok = python(
        "import sys, json; d = json.load(sys.stdin); print(len(d['results']), d['results'][5]['id'])", text)
      assert(ok, out)
      assert.equal("6 t.6\n", out)
      -- an empty run still has arrays
      local empty = helpers.json_decode(check.report({ results = {}, files = {} }, "json"))
      assert.same({}, empty.results)
    end)

    it("JSON falls back to dkjson, then to its own scalars, when lua-cjson is missing", function()
      local saved = { cjson = package.loaded.cjson, dkjson = package.loaded.dkjson,
        util = package.loaded["lnetstat.report.util"], json = package.loaded["lnetstat.report.json"] }
      local pre = { cjson = package.preload.cjson, dkjson = package.preload.dkjson }
      local r = mixed_run()
      local texts = {}
      local ok, err = pcall(function()
        for i, missing in ipairs { { "cjson" }, { "cjson", "dkjson" } } do
          for _, m in ipairs(missing) do
            package.loaded[m] = nil
            package.preload[m] = function() error("module '" .. m .. "' not found") end
          end
          package.loaded["lnetstat.report.util"], package.loaded["lnetstat.report.json"] = nil, nil
          texts[i] = check.report(r, "json")
        end
      end)
      package.preload.cjson, package.preload.dkjson = pre.cjson, pre.dkjson   -- nil ones too
      package.loaded.cjson, package.loaded.dkjson = saved.cjson, saved.dkjson
      package.loaded["lnetstat.report.util"], package.loaded["lnetstat.report.json"] = saved.util, saved.json
      assert(ok, err)
      for _, text in ipairs(texts) do
        local d = helpers.json_decode(text)
        assert.equal(6, #d.results)
        assert.equal(2, d.exit_code)
      end
    end)

    -- A strict reader of the Prometheus text format (0.0.4): HELP/TYPE
    -- before samples, valid names, label escapes, unique series, numbers.
    local function parse_prom(text)
      assert.equal("\n", text:sub(-1))
      local types, samples, seen = {}, {}, {}
      for line in text:gmatch("([^\n]*)\n") do
        if line:match("^# HELP ") then
          local name = line:match("^# HELP ([%a_:][%w_:]*) .+$")
          assert(name, "bad HELP: " .. line)
        elseif line:match("^# TYPE ") then
          local name, t = line:match("^# TYPE ([%a_:][%w_:]*) (%a+)$")
          assert(name and (t == "gauge" or t == "counter" or t == "untyped"), "bad TYPE: " .. line)
          assert(not types[name], "second TYPE for " .. name)
          types[name] = t
        else
          local name, rest = line:match("^([%a_:][%w_:]*)(.*)$")
          assert(name, "bad sample: " .. line)
          assert(types[name], "sample before its TYPE: " .. line)
          local labels = {}
          if rest:sub(1, 1) == "{" then
            local i = 2
            while rest:sub(i, i) ~= "}" do
              local lname, after = rest:match("^([%a_][%w_]*)=\"()", i)
              assert(lname, "bad label at " .. i .. ": " .. line)
              i = after
              local buf = {}
              while true do
                local c = rest:sub(i, i)
                assert(c ~= "", "unterminated label value: " .. line)
                if c == "\\" then
                  local e = rest:sub(i + 1, i + 1)
                  assert(e == "\\" or e == '"' or e == "n", "bad escape \\" .. e)
                  buf[#buf + 1] = e == "n" and "\n" or e
                  i = i + 2
                elseif c == '"' then
                  i = i + 1
                  break
                else
                  buf[#buf + 1] = c
                  i = i + 1
                end
              end
              labels[lname] = table.concat(buf)
              if rest:sub(i, i) == "," then i = i + 1 end
            end
            rest = rest:sub(i + 1)
          end
          local value = rest:match("^ (%S+)$")
          assert(value, "bad value: " .. line)
          assert(tonumber(value) or value == "NaN" or value == "+Inf" or value == "-Inf", "bad number " .. value)
          local keys = {}
          for k, v in pairs(labels) do keys[#keys + 1] = k .. "=" .. v end
          table.sort(keys)
          local series = name .. "{" .. table.concat(keys, ",") .. "}"
          assert(not seen[series], "duplicate series " .. series)
          seen[series] = true
          samples[#samples + 1] = { name = name, labels = labels, value = tonumber(value) }
        end
      end
      return samples, types
    end

    it("Prometheus text parses strictly, labels escaped, one series per check", function()
      local r = mixed_run()
      local samples, types = parse_prom(check.report(r, "prometheus"))
      assert.equal("gauge", types.lnetstat_check_status)
      local status, dur = {}, {}
      for _, s in ipairs(samples) do
        if s.name == "lnetstat_check_status" then status[#status + 1] = s end
        if s.name == "lnetstat_check_duration_seconds" then dur[#dur + 1] = s end
      end
      assert.equal(6, #status)
      assert.equal(6, #dur)
      assert.equal(1, status[1].value)
      assert.equal("pass", status[1].labels.status)
      assert.equal("t.1", status[1].labels.id)
      assert.equal("interface eth0 is up", status[1].labels.title)
      assert.equal(0, status[2].value)
      assert.equal("error", status[3].labels.status)
      assert.equal("skip", status[4].labels.status)
      assert.equal("nasty", status[5].labels.id)
      -- a backslash stays distinct from the \xHH of a byte that is not UTF-8
      assert.matches('^quote " backslash \\\\ newline\nlt < amp.* bad utf8 \\xFF\\xFE ok', status[5].labels.title)
      local by = {}
      for _, s in ipairs(samples) do
        if s.name == "lnetstat_checks" then by[s.labels.status] = s.value end
        if s.name == "lnetstat_check_run_success" then by.success = s.value end
      end
      assert.same({ pass = 2, fail = 2, error = 1, skip = 1, success = 0 }, by)
      -- Prometheus' own Python parser, when installed (Debian: python3-prometheus-client)
      local py
      for _, p in ipairs { "/usr/bin/python3", "python3" } do
        local _, has = helpers.run(p .. " -c 'import prometheus_client' 2>/dev/null")
        if has then py = p; break end
      end
      if py then
        local tmp = os.tmpname()
        local f = assert(io.open(tmp, "wb"))
        f:write(check.report(r, "prometheus"))
        f:close()
        local out, ok = helpers.run(py .. " -c " .. helpers.quote([[
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()))
st = [f for f in fams if f.name == "lnetstat_check_status"][0]
print(len(fams), len(st.samples), st.samples[4].labels["title"].count("\n"))
]]) .. " " .. tmp .. " 2>&1")
        os.remove(tmp)
        assert(ok, out)
        assert.equal("7 6 1\n", out)
      end
    end)

    it("Prometheus series stay unique when ids repeat", function()
      local r = run("check('a', function() return true end, { id = 'x' })\n"
        .. "check('a', function() return true end, { id = 'x' })\n")
      parse_prom(check.report(r, "prometheus"))
    end)

    it("human text names each check, what was expected and found, and sums up", function()
      local r = mixed_run()
      local text = check.report(r, "human")
      assert.matches("  PASS  t%.1 +interface eth0 is up  %(t%.lua:3%)", text)
      assert.matches("  FAIL  t%.2 +interface eth1 is up  %(t%.lua:4%)\n        expected: flags UP and operstate UP",
        text)
      assert.matches("        actual:   flags BROADCAST, operstate DOWN", text)
      assert.matches("  ERROR t%.3 +boom", text)
      assert.matches("  SKIP  t%.4", text)
      assert.matches("\n6 checks: 2 passed, 2 failed, 1 error, 1 skipped %(%d+%.%d+s%)\n$", text)
    end)

    it("report() rejects unknown formats", function()
      assert.has_error(function() check.report({ results = {} }, "xml") end,
        "bad argument #2 to 'report' (format must be one of human, tap, junit, json, prometheus, got xml)")
    end)
  end)

  -- The command ----------------------------------------------------------------------
  describe("main()", function()
    local sink = scratch.sink
    local tmpdir
    setup(function() tmpdir = helpers.mktemp_dir() end)
    teardown(function() helpers.remove_tree(tmpdir) end)

    local function write(name, text) return scratch.write(tmpdir .. "/" .. name, text) end

    local function main(argv, t)
      local out, err = sink(), sink()
      local clock, sleep = fake.clock()
      local code = check.main(argv, { data = fake.data(t or { interfaces = IFACES }), stdout = out, stderr = err,
        clock = clock, sleep = sleep })
      return code, out.text(), err.text()
    end

    it("exits 0 when every check passes, 1 when one fails, 2 on an error", function()
      local pass = write("pass.lua", "interface_up 'eth0'\n")
      local fail = write("fail.lua", "interface_up 'eth1'\n")
      local bad = write("bad.lua", "interface_up(\n")
      local code, out = main { pass }
      assert.equal(0, code)
      assert.matches("1 check: 1 passed", out)
      assert.equal(1, (main { pass, fail }))
      assert.equal(2, (main { pass, fail, bad }))
      assert.equal(2, (main { tmpdir .. "/missing.lua" }))
      local res = one("interface_up 'eth0'", { fail = { interfaces = "EPERM" } })
      assert.equal("error", res.status)
    end)

    it("--format and --output (written whole, by rename)", function()
      local pass = write("p2.lua", "interface_up 'eth0'\n")
      local code, out = main { pass, "--format", "tap" }
      assert.equal(0, code)
      assert.matches("^TAP version 13\n1%.%.1\nok 1 %- p2%.1 interface eth0 is up\n", out)
      local prom = tmpdir .. "/out.prom"
      code, out = main { "--format=prometheus", "-o", prom, pass }
      assert.equal(0, code)
      assert.equal("", out)
      local text = helpers.read_file(prom)
      assert.matches('lnetstat_check_status{id="p2.1",title="interface eth0 is up",file="[^"]*p2.lua",status="pass"} 1',
        text)
      local leftovers = helpers.run("ls " .. helpers.quote(tmpdir) .. " | grep -c tmp || true")
      assert.equal("0", leftovers:match("%d+"))
      code, out = main { "-f", "json", pass }
      assert.equal(0, code)
      assert.equal(0, helpers.json_decode(out).exit_code)
    end)

    it("usage errors exit 2; --help exits 0", function()
      local code, _, err = main {}
      assert.equal(2, code)
      assert.matches("no check file given", err)
      code, _, err = main { "x.lua", "--format", "yaml" }
      assert.equal(2, code)
      assert.matches("unknown format 'yaml'", err)
      code, _, err = main { "x.lua", "--bogus" }
      assert.equal(2, code)
      assert.matches("unknown option %-%-bogus", err)
      code, _, err = main { "x.lua", "--netns" }
      assert.equal(2, code)
      assert.matches("needs a value", err)
      code, _, err = main { write("w.lua", "interface_up 'eth0'\n"), "-o", tmpdir .. "/no/such/dir/x.prom" }
      assert.equal(2, code)
      assert.matches("cannot write", err)
      local out
      code, out = main { "--help" }
      assert.equal(0, code)
      assert.matches("^usage: lnetstat check FILE", out)
    end)

    it("--cpu-limit stops an endless check file; a bad value is a usage error", function()
      local f = write("spin.lua", "interface_up 'eth0'\nwhile true do end\n")
      local code, out = main { f, "--cpu-limit", "0.2" }
      assert.equal(2, code)
      assert.matches("more than 0%.2 s of CPU", out)
      local err
      code, out, err = main { f, "--cpu-limit", "soon" }
      assert.equal(2, code)
      assert.equal("", out)   -- a usage error: no report
      assert.matches("%-%-cpu%-limit needs a number of seconds", err)
    end)

    it("a bad --netns, --cpu-limit or --memory-limit is a usage error, before any file runs", function()
      local f = write("fine.lua", "interface_up 'lo'\n")
      for _, case in ipairs {
        { { f, "--netns", "0" }, "^lnetstat check: %-%-netns: netns pid must be a positive integer, got 0\n" },
        { { f, "--netns", "rel/x" }, "^lnetstat check: %-%-netns: netns path must be absolute, got 'rel/x'\n" },
        { { f, "--netns", "" }, "^lnetstat check: %-%-netns: netns must be a name, a path or a pid, got ''\n" },
        { { f, "--netns", "99999999999999999999" }, "^lnetstat check: %-%-netns: netns pid must be a positive" },
        { { f, "--cpu-limit", "1e30" }, "^lnetstat check: %-%-cpu%-limit needs a number of seconds %(0: no limit, "
          .. "at most 86400%)\n" },
        { { f, "--memory-limit", "1e30" }, "^lnetstat check: %-%-memory%-limit needs a number of MiB %(0: no limit, "
          .. "at most 1048576%)\n" },
      } do
        local code, out, err = main(case[1])
        assert.equal(2, code)
        assert.equal("", out)
        assert.matches(case[2], err)
      end
      -- the largest budgets are taken, and the child gets no rlimit it cannot express
      local child = require "lnetstat.checks.child"
      local cmd = child.command { file = f, cpu_limit = 86400, memory_limit = 1048576 }
      assert.matches("ulimit %-t 86401;", cmd)
      cmd = child.command { file = f, cpu_limit = 1e30, memory_limit = 1e30 }
      assert.is_nil(cmd:find("ulimit", 1, true))
    end)

    it("--within and --every set default retries; --netns reaches the data functions", function()
      local f = write("retry.lua", "interface_up 'eth1'\n")
      local out, err = sink(), sink()
      local clock, sleep, state = fake.clock()
      local data = fake.data { interfaces = IFACES }
      local code = check.main({ f, "--within", "2", "--every=0.5", "--netns", "web", "-f", "json" },
        { data = data, stdout = out, stderr = err, clock = clock, sleep = sleep })
      assert.equal(1, code)
      local d = helpers.json_decode(out.text())
      assert.equal(5, d.results[1].attempts)
      assert.equal("web", d.netns)
      assert.equal(2, state.now)
      assert.equal("web", data.calls[1].opts.netns)
    end)
  end)

  -- The examples --------------------------------------------------------------------
  describe("examples/audit", function()
    local function run_example(name, t, opts)
      local clock, sleep, state = fake.clock()
      local o = { data = fake.data(t), clock = clock, sleep = sleep, log = function() end }
      for k, v in pairs(opts or {}) do o[k] = v end
      return check.run({ EXAMPLES .. name }, o), state
    end
    local function statuses(r)
      local t = {}
      for i, res in ipairs(r.results) do t[i] = res.status end
      return table.concat(t, " ")
    end

    it("web.lua passes on a web server and names what is wrong on another", function()
      local r = run_example("web.lua", { sockets = web_host() })
      assert.equal(0, r.exit_code, check.report(r, "human"))
      assert.equal(7, #r.results)
      local bad = web_host {
        L("tcp", "0.0.0.0", 3306, "mysqld", "mysql", 3306),
        C("198.51.100.1", 40000, "203.0.113.66", 6667, "ESTABLISHED", "xmrig", 666),
      }
      bad[4] = L("tcp", "0.0.0.0", 443, "nginx", "root", 900)   -- IPv4 only now
      r = run_example("web.lua", { sockets = bad })
      assert.equal(1, r.exit_code)
      assert.equal("fail pass fail fail fail pass pass", statuses(r))
      assert.matches("unexpected: tcp 0.0.0.0:3306 %(mysqld", r.results[1].actual)
      assert.equal("HTTPS reachable over IPv6", r.results[3].title)
      local hosts = web_host()
      hosts[1].unreadable = true
      r = run_example("web.lua", { sockets = hosts, partial = "run as root" })
      assert.equal(2, r.exit_code)
      assert.equal("error", r.results[1].status)
    end)

    it("bastion.lua allows only sshd and outbound DNS/NTP", function()
      local hosts = {
        L("tcp", "0.0.0.0", 22, "sshd", "root", 812),
        L("tcp", "::", 22, "sshd", "root", 812, { v6only = true }),
        L("udp", "127.0.0.53", 53, "systemd-resolve", "systemd-resolve", 300),
        C("198.51.100.1", 22, "203.0.113.9", 50000, "ESTABLISHED", "sshd", 1500),
        C("198.51.100.1", 41000, "198.51.100.53", 53, "TIME_WAIT"),
        C("127.0.0.1", 41001, "127.0.0.53", 53, "ESTABLISHED"),
      }
      local r = run_example("bastion.lua", { sockets = hosts })
      assert.equal(0, r.exit_code, check.report(r, "human"))
      local extra = fake.copy(hosts)
      extra[#extra + 1] = C("198.51.100.1", 41002, "203.0.113.80", 443, "SYN_SENT", "curl", 999)
      extra[#extra + 1] = L("tcp", "0.0.0.0", 8080, "python3", "alice", 4242)
      r = run_example("bastion.lua", { sockets = extra })
      assert.equal(1, r.exit_code)
      assert.equal("fail pass pass fail", statuses(r))
      assert.matches("203.0.113.80:443 SYN_SENT %(curl", r.results[4].actual)
    end)

    it("counters.lua watches counters over its window", function()
      local quiet = { TcpExt = { ListenOverflows = 5, ListenDrops = 5, SyncookiesSent = 0 },
        Tcp = { RetransSegs = 100 }, Udp = { RcvbufErrors = 0, InErrors = 0 },
        sockstat = { sockets_used = 120, TCP = { orphan = 0 } } }
      local r, state = run_example("counters.lua", { stats = { quiet }, interfaces = IFACES })
      assert.equal(0, r.exit_code, check.report(r, "human"))
      -- the three 5 s windows share one pair of readings: 5 s, not 15 s
      assert.same({ 5 }, state.sleeps)
      local busy = fake.copy(quiet)
      busy.TcpExt.ListenOverflows, busy.TcpExt.ListenDrops = 9, 9
      busy.Tcp.RetransSegs = 100 + 5 * 60
      r = run_example("counters.lua", { stats = { quiet, busy, quiet, busy }, interfaces = IFACES })
      assert.equal(1, r.exit_code)
      assert.equal("fail fail pass pass pass", statuses(r))
      assert.matches("TcpExt.ListenOverflows %+4 in 5s", r.results[1].actual)
    end)
  end)

  -- Live, in private network namespaces (root) --------------------------------------
  describe("examples/audit live in a private netns", function()
    local netns = require "fixtures.check.netns"
    local lab

    setup(function()
      if not helpers.is_root() then return end
      lab = netns.new("lnetstat-chk")
    end)
    teardown(function()
      if lab then lab:cleanup() end
    end)
    after_each(function()
      if lab then lab:stop_all() end
    end)

    local function run_live(files, extra)
      local argv = { "--netns", lab.ns, "--format", "json" }
      for _, f in ipairs(files) do argv[#argv + 1] = f end
      for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
      local buf = {}
      local out = { write = function(self, ...) for _, x in ipairs { ... } do buf[#buf + 1] = x end return self end }
      local code = check.main(argv, { stdout = out, stderr = out })
      local text = table.concat(buf)
      local ok, doc = pcall(helpers.json_decode, text:match("{.*}") or "")
      assert(ok, text)
      return code, doc, text
    end

    local function summary(doc)
      local lines = {}
      for _, r in ipairs(doc.results) do
        lines[#lines + 1] = format("%s %s %s: %s", r.status, r.id, r.title, tostring(r.actual))
      end
      return table.concat(lines, "\n")
    end

    root_it("web.lua: passes with sshd and nginx, fails on an extra listener, names it", function()
      local sshd = lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22", "tcp:[::]:22:v6only")
      local nginx = lab:listen("nginx", "nginx: master process", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      local pg = lab:listen("postgres", "postgres", "tcp:127.0.0.1:5432")
      local code, doc = run_live { EXAMPLES .. "web.lua" }
      assert.equal(0, code, summary(doc))
      assert.equal(7, #doc.results)
      assert.matches("tcp 0%.0%.0%.0:22 %(sshd, pid " .. sshd .. ", user root%)", doc.results[1].actual)
      local rogue = lab:listen("python3", "python3", "tcp:0.0.0.0:8080")
      code, doc = run_live { EXAMPLES .. "web.lua" }
      assert.equal(1, code, summary(doc))
      assert.equal("fail", doc.results[1].status)
      assert.equal("unexpected: tcp 0.0.0.0:8080 (python3, pid " .. rogue .. ", user root)", doc.results[1].details[1])
      lab:stop(rogue)
      lab:stop(nginx)
      code, doc = run_live { EXAMPLES .. "web.lua" }
      assert.equal(1, code)
      assert.matches("missing: tcp/80", doc.results[1].actual)
      -- a service still starting: --within retries with fresh data until it listens
      nginx = lab:listen("nginx", "nginx", "--delay", "1.5", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      code, doc = run_live({ EXAMPLES .. "web.lua" }, { "--within", "15", "--every", "0.5" })
      assert.equal(0, code, summary(doc))
      assert.is_true(doc.results[1].attempts > 1)
      assert.is_true(doc.results[1].duration >= 1)
      lab:stop(nginx)
      lab:stop(pg)
      lab:stop(sshd)
    end)

    root_it("bastion.lua: only sshd, outbound DNS allowed, outbound HTTPS found", function()
      local sshd = lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22", "tcp:[::]:22:v6only")
      -- SYN_SENT towards the peer, which drops it: an outbound DNS-over-TCP attempt
      local dns = lab:listen("resolver", "resolver", "--connect", "203.0.113.53:53")
      local code, doc = run_live { EXAMPLES .. "bastion.lua" }
      assert.equal(0, code, summary(doc))
      local curl = lab:listen("curl", "curl", "--connect", "203.0.113.80:443")
      code, doc = run_live { EXAMPLES .. "bastion.lua" }
      assert.equal(1, code, summary(doc))
      assert.equal("fail", doc.results[4].status)
      assert.matches("198%.51%.100%.1:%d+ %-> 203%.0%.113%.80:443 SYN_SENT %(curl, pid " .. curl, doc.results[4].actual)
      assert.not_matches("203%.0%.113%.53", doc.results[4].actual)
      lab:stop(curl)
      lab:stop(dns)
      lab:stop(sshd)
    end)

    root_it("counters.lua: a quiet namespace passes; an overflowing listen queue fails", function()
      local f = assert(io.open(EXAMPLES .. "counters.lua"))
      local src = f:read("*a")
      f:close()
      src = src:gsub("local WINDOW = 5", "local WINDOW = 1")
      assert.matches("local WINDOW = 1", src)
      local r = check.run_string(src, "counters.lua", { netns = lab.ns })
      assert.equal(0, r.exit_code, check.report(r, "human"))
      assert.equal(5, #r.results)
      -- a listener that never accepts, flooded half a second into the window
      local flood = lab:listen("flood", "flood", "tcp:127.0.0.1:7000:backlog0", "--flood", "127.0.0.1:7000:40:0.3")
      r = check.run_string(src, "counters.lua", { netns = lab.ns })
      lab:stop(flood)
      assert.equal(1, r.exit_code, check.report(r, "human"))
      assert.equal("fail", r.results[1].status)
      assert.matches("TcpExt%.ListenOverflows %+%d+ in 1s", r.results[1].actual)
    end)

    root_it("interface, address and route assertions read the namespace", function()
      helpers.must(format("ip -n %s route add unreachable 192.0.2.0/25", lab.ns))
      helpers.must(format("ip -n %s route add blackhole 192.0.2.128/25", lab.ns))
      local v = lab.veth
      local src = table.concat({
        format("interface_up %q", v),
        format("interface { name = %q, mtu = 1500, up = true, ['stats.rx_errors'] = 0 }", v),
        format("address_present('198.51.100.1/24', { interface = %q })", v),
        "address_present '2001:db8::1/64'",
        format("default_route { via = '198.51.100.254', interface = %q }", v),
        "route_present { dst = '198.51.100.0/24' }",
        format("route_to('203.0.113.5', { interface = %q, via = '198.51.100.254', src = '198.51.100.1' })", v),
        "route_to('127.0.0.1', { interface = 'lo', type = 'local' })",
        "route_to('192.0.2.1', { type = 'unreachable' })",
        "route_to('192.0.2.200', { type = 'blackhole' })",
        format("no_interface_errors(%q, { window = 0.5 })", v),
        -- these fail
        "default_route { via = '198.51.100.1' }",
        "interface_up 'eth7'",
        "address_absent '198.51.100.1'",
        "route_to('192.0.2.1')",
        "route_to('203.0.113.5', { interface = 'lo' })",
      }, "\n") .. "\n"
      local r = check.run_string(src, "net.lua", { netns = lab.ns })
      local got = {}
      for i, res in ipairs(r.results) do got[i] = res.status end
      assert.equal("pass pass pass pass pass pass pass pass pass pass pass fail fail fail fail fail",
        table.concat(got, " "), check.report(r, "human"))
      assert.equal("no route: route get 192.0.2.1: No route to host", r.results[15].actual)
      assert.equal(1, r.exit_code)
    end)

    root_it("an owner asserted on a socket nobody can read is an error (exit 2)", function()
      -- another user cannot read root's /proc/PID/fd: run the check as nobody
      local sshd = lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22")
      local tmp = helpers.mktemp_dir()
      local file = tmp .. "/owner.lua"
      local fh = assert(io.open(file, "w"))
      fh:write("is_listening { port = 22, program = 'sshd' }\nis_listening { port = 22 }\n")
      fh:close()
      helpers.must("chmod 755 " .. helpers.quote(tmp) .. " && chmod 644 " .. helpers.quote(file))
      -- nobody cannot enter the netns: use the sshd's pid namespace view by running in it
      local lua = arg and arg[-1] or "lua5.4"
      local cmd = format("ip netns exec %s setpriv --reuid=65534 --regid=65534 --clear-groups %s -e %s",
        helpers.quote(lab.ns), helpers.quote(lua), helpers.quote(format(
          "package.path=%q; package.cpath=%q; os.exit(require('lnetstat.check').main({%q, '-f', 'json'}))",
          package.path, package.cpath, file)))
      -- (the exit status through the shell: Lua 5.1's popen cannot give it)
      local out = helpers.run(cmd .. " 2>&1; echo \"rc=$?\"")
      local code = tonumber(out:match("rc=(%d+)%s*$"))
      helpers.remove_tree(tmp)
      lab:stop(sshd)
      assert.equal(2, code, out)
      local doc = helpers.json_decode(out:match("{.*}"))
      assert.equal("error", doc.results[1].status)
      assert.equal("0 matching, 1 more whose owner is unknown", doc.results[1].actual)
      assert.matches("^owner unknown: tcp 0%.0%.0%.0:22 %(owner unknown, user root%) %(owners unknown",
        doc.results[1].details[1])
      assert.equal("pass", doc.results[2].status)
    end)
  end)
end)
