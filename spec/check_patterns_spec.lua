-- lnetstat.check: nothing a check file does reaches the modules of the
-- host or later check files, and `check --init` escapes what it writes.
-- Runs against the fake data source (spec/fixtures/check/fake.lua).
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"

local L = fake.listener

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
