-- lnetstat.check: the values of socket patterns are validated as the data
-- functions validate theirs, expected counts are numbers, nothing a check
-- file does reaches the modules of the host or later check files, and
-- `check --init` escapes what it writes.
-- Runs against the fake data source (spec/fixtures/check/fake.lua).
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"

local L, C = fake.listener, fake.connection

local function run(src, t)
  local clock, sleep = fake.clock()
  local o = { data = fake.data(t or {}), clock = clock, sleep = sleep, log = function() end }
  return check.run_string(src, "t.lua", o)
end

local function one(src, t)
  local r = run(src, t)
  assert.equal(1, #r.results, "expected one result, got " .. #r.results .. ": " .. check.report(r, "human"))
  return r.results[1]
end

-- 0.0.0.0:2024 listens (nc), and one IRC connection is established.
local function host()
  return {
    L("tcp", "0.0.0.0", 2024, "nc", "root", 500),
    L("tcp", "::", 8080, "web", "root", 600),
    C("198.51.100.1", 40000, "203.0.113.66", 6667, "ESTABLISHED", "xmrig", 666),
  }
end

-- An error result of the assertion fname whose message names the value.
local function assert_invalid(src, fname, value_text)
  local res = one(src, { sockets = host() })
  assert.equal("error", res.status, src .. " gave " .. tostring(res.status) .. ": " .. tostring(res.actual))
  assert.equal(fname, res.kind)
  assert.truthy(res.actual:find("bad argument #1 to '" .. fname .. "'", 1, true), res.actual)
  assert.truthy(res.actual:find(value_text, 1, true), res.actual)
  assert.matches("^t%.lua:1: ", res.actual)
end

describe("lnetstat.check socket patterns", function()
  it("reject values the data functions reject, naming the assertion and the value", function()
    assert_invalid('not_listening { port = "2024" }', "not_listening", "'2024'")
    assert_invalid("not_listening { port = 70000 }", "not_listening", "70000")
    assert_invalid("not_listening { port = 20.5 }", "not_listening", "20.5")
    assert_invalid("not_listening { port = 0/0 }", "not_listening", "nan")
    assert_invalid('not_listening { port = { 22, "x" } }', "not_listening", "'x'")
    assert_invalid('not_listening { family = "ipv4", port = 2024 }', "not_listening", "'ipv4'")
    assert_invalid('not_listening { local_addr = "bogus", port = 2024 }', "not_listening", "'bogus'")
    assert_invalid('not_listening { addr = "10.0.0.0/33" }', "not_listening", "'10.0.0.0/33'")
    assert_invalid('no_connection { state = "ESTABLISHD", remote_port = 6667 }', "no_connection",
      "'ESTABLISHD'; did you mean 'ESTABLISHED'?")
    assert_invalid('no_connection { proto = "tcpp" }', "no_connection", "'tcpp'")
    assert_invalid('no_connection { remote_addr = 203 }', "no_connection", "203")
    assert_invalid('is_listening { pid = "500" }', "is_listening", "'500'")
    assert_invalid('is_listening { program = 5 }', "is_listening", "5")
    assert_invalid('is_listening { v6only = "no" }', "is_listening", "'no'")
    assert_invalid("is_listening { port = 2024, 7 }", "is_listening", "7")
    assert_invalid("is_listening { port = 2024, count = 0/0 }", "is_listening", "nan")
  end)

  it("an invalid entry of listening_only is an error, not a failure", function()
    local res = one('listening_only { { proto = "tcp", port = 2024 }, { proto = "udpp", port = 53 } }',
      { sockets = host() })
    assert.equal("error", res.status)
    assert.matches("proto must be one of .*got 'udpp'; did you mean 'udp'%?", res.actual)
    res = one('listening_only { { port = 2024 }, proto = { "tcp", "sctp" } }', { sockets = host() })
    assert.equal("error", res.status)
    assert.matches("got 'sctp'", res.actual)
    res = one('listening_only { { port = 2024 }, ignore = { addr = "nowhere" } }', { sockets = host() })
    assert.equal("error", res.status)
    assert.matches("got 'nowhere'", res.actual)
  end)

  it("the checks after an invalid one still run", function()
    local r = run('not_listening { port = "2024" }\nnot_listening { port = 2024 }\n', { sockets = host() })
    assert.equal(2, #r.results)
    assert.equal("error", r.results[1].status)
    assert.equal("fail", r.results[2].status)
  end)

  it("match CIDRs as ranges, IPv4 CIDRs holding IPv4-mapped addresses", function()
    local s = host()
    assert.equal("fail", one('not_listening { addr = "0.0.0.0/0", port = 2024 }', { sockets = s }).status)
    assert.equal("fail", one('no_connection { remote_addr = "203.0.113.0/24" }', { sockets = s }).status)
    assert.equal("pass", one('no_connection { remote_addr = "198.51.100.0/24" }', { sockets = s }).status)
    assert.equal("fail", one('no_connection { remote_addr = { "10.0.0.0/8", "203.0.113.64/30" } }',
      { sockets = s }).status)
    local mapped = { C("::ffff:198.51.100.1", 40001, "::ffff:203.0.113.67", 6697, "ESTABLISHED", "irc", 700) }
    mapped[1].family = "inet6"
    assert.equal("fail", one('no_connection { remote_addr = "203.0.113.0/24" }', { sockets = mapped }).status)
    assert.equal("fail", one('no_connection { remote_addr = "203.0.113.67" }', { sockets = mapped }).status)
    assert.equal("pass", one('no_connection { remote_addr = "2001:db8::/32" }', { sockets = mapped }).status)
  end)

  it("accept ss spellings of states, as sockets() does", function()
    local s = host()
    assert.equal("fail", one('no_connection { state = "ESTAB", remote_port = 6667 }', { sockets = s }).status)
    assert.equal("fail", one('no_connection { state = "established", remote_port = 6667 }', { sockets = s }).status)
    assert.equal("pass", one('no_connection { state = "time-wait", remote_port = 6667 }', { sockets = s }).status)
  end)

  it("still take matchers, functions and lists of valid values", function()
    local s = host()
    assert.equal("fail", one("not_listening { port = range(2000, 2100) }", { sockets = s }).status)
    assert.equal("fail", one("not_listening { port = { 25, 2024 }, family = { 'inet', 'inet6' } }",
      { sockets = s }).status)
    assert.equal("fail", one("not_listening { port = function(p) return p > 2000 end }", { sockets = s }).status)
    assert.equal("fail", one("not_listening { addr = '*', port = 2024 }", { sockets = s }).status)
    assert.equal("fail", one("is_listening { port = 2024, user = 'nobody' }", { sockets = s }).status)
    assert.equal("pass", one("is_listening { port = 2024, user = 0, pid = 500 }", { sockets = s }).status)
  end)
end)

describe("lnetstat.check expect_count", function()
  it("an expected count that is NaN or not a number is an error naming expect_count", function()
    for _, n in ipairs { "0/0", "'5'", "math.huge" } do
      local res = one("expect_count(5, '>=', " .. n .. ")")
      assert.equal("error", res.status, n)
      assert.matches("bad argument #3 to 'expect_count'", res.actual)
      assert.not_matches("%-nan", res.actual)
    end
    assert.equal("pass", one("expect_count(5, '>=', 0)").status)
  end)
end)

describe("lnetstat.check's sandbox", function()
  it("leaves the host's modules as they were, for the host and later check files", function()
    local q = require "lnetstat.query"
    local a = { proto = "tcp", local_addr = "127.0.0.1", local_port = 1, remote_addr = "0.0.0.0", remote_port = 0 }
    local b = { proto = "tcp", local_addr = "127.0.0.1", local_port = 2, remote_addr = "0.0.0.0", remote_port = 0 }
    local function counts()
      local d = q.diff({ a }, { b })
      return #d.added, #d.removed, #d.changed
    end
    local before = { counts() }
    local socket_key, upper, insert, floor = q.keys.socket, string.upper, table.insert, math.floor
    local r = run([[
      keys.socket = function() return "same" end
      q.keys.route = nil
      q.describe = nil
      string.upper, table.insert, math.floor, os.time = nil, nil, nil, nil
      where, q.where = nil, nil
      check("tampered", function() return true end)
    ]])
    assert.equal("pass", r.results[1].status)
    assert.same(before, { counts() })
    assert.equal(socket_key, q.keys.socket)
    assert.equal("function", type(q.keys.route))
    assert.equal("function", type(q.describe))
    assert.equal(upper, string.upper)
    assert.equal(insert, table.insert)
    assert.equal(floor, math.floor)
    -- a later check file sees the originals
    r = run([[
      check("untouched", function()
        return keys.socket ~= nil and q.keys.route ~= nil and type(q.describe) == "function"
          and type(string.upper) == "function" and type(table.insert) == "function"
          and type(os.time) == "function" and type(where) == "function"
          and #diff({ { proto = "tcp", local_port = 1 } }, { { proto = "tcp", local_port = 2 } }).added == 1
      end)
    ]])
    assert.equal("pass", r.results[1].status, tostring(r.results[1].actual))
  end)

  it("shares no plain table with the modules of the host", function()
    local sandbox = require "lnetstat.checks.sandbox"
    local env = sandbox.make_env(sandbox.new_run { data = fake.data {} }, "x.lua")
    local theirs = {}
    local function mark(t, seen)
      if type(t) ~= "table" or seen[t] then return end
      seen[t] = true
      theirs[t] = true
      for k, v in pairs(t) do mark(k, seen); mark(v, seen) end
    end
    mark(package.loaded, {})
    mark(_G, {})
    local shared = {}
    local function walk(t, path, seen)
      if type(t) ~= "table" or seen[t] then return end
      seen[t] = true
      -- matchers are read-only objects: sharing them is harmless
      if getmetatable(t) == nil and theirs[t] then shared[#shared + 1] = path end
      for k, v in pairs(t) do walk(v, path .. "." .. tostring(k), seen) end
    end
    walk(env, "env", {})
    assert.same({}, shared)
    assert.has_error(function() env.q.wildcard.desc = "x" end)
  end)

  it("xpcall's argument errors name xpcall and the line of the check file", function()
    local r = run('check("a", function() return true end)\nxpcall(function() end, matcher("h", function() end))\n')
    local res = r.results[#r.results]
    assert.equal("error", res.status)
    assert.matches("^t%.lua:2: bad argument #2 to 'xpcall' %(function expected, got table%)$", res.actual)
    res = one([[
      check("x", function()
        return xpcall(function() end, 5)
      end)]])
    assert.equal("error", res.status)
    assert.matches("bad argument #2 to 'xpcall' %(function expected, got number%)$", res.actual)
    assert.not_matches("sandbox", res.actual)
  end)
end)

describe("lnetstat check --init", function()
  it("escapes host names and the netns it writes into the generated file", function()
    local baseline = require "lnetstat.checks.baseline"
    local evil = 'x\n"y\\z\0' .. '1\r\127]]--'
    local t = {
      sockets = { L("tcp", "0.0.0.0", 22, evil, evil, 5) },
      interfaces = { { name = evil, flags = { UP = true, RUNNING = true }, operstate = "UP" } },
      routes = { { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.254", interface = evil } },
    }
    local text = assert(baseline.generate { data = fake.data(t),
      netns = '/tmp/x\ninterface_up "injected0"\r--' })
    assert.not_matches("[%z\1-\9\11-\31\127]", text)
    assert.not_matches("\ninterface_up \"injected0\"", text, 1, true)
    local first = text:match("^[^\n]*")
    assert.matches('namespace /tmp/x\\x0Ainterface_up "injected0"\\x0D--', first, 1, true)
    -- every name reads back as it was: the file passes where it was made
    local r = check.run_string(text, "baseline.lua", { data = fake.data(t) })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.equal(4, #r.results)
    local n = 0
    for _ in text:gmatch("\ninterface_up ") do n = n + 1 end
    assert.equal(1, n)
  end)
end)
