-- Host strings in what lnetstat writes: distinct names stay distinct
-- Prometheus series (node_exporter's textfile collector keeps every one),
-- a newline in a process name never makes a report line of its own, and
-- the progress line and check-file errors send a terminal no control byte.
local check = require "lnetstat.check"
local format_mod = require "lnetstat.format"
local utf8 = require "lnetstat.encode.utf8"
local cli = require "lnetstat.checks.cli"
local fake = require "fixtures.check.fake"
local helpers = require "helpers"
local consumers = require "consumers"
local scratch = require "scratch"

local quote, must, run = helpers.quote, helpers.must, helpers.run
local root_it = helpers.root_it
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(SPEC .. "../bin/lnetstat")

-- Two names that differ only in how a byte that is not UTF-8 would be
-- repaired: "p\xff\xfe" and "pÿþ" (valid UTF-8).
local BAD, GOOD = "p\255\254", "p\195\191\195\190"

local function result(id, title, status, extra)
  local r = { id = id, title = title, status = status, file = "t.lua", source = "t.lua:1",
    duration = 0.001, attempts = 1 }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- The series (name and labels) of Prometheus text, each at most once.
local function series_of(text)
  local seen = {}
  for line in text:gmatch("[^\n]+") do
    if not line:find("^#") then
      local s = line:match("^(%S+) ")
      assert(s, "cannot parse: " .. line)
      assert.is_nil(seen[s], "duplicate series " .. s)
      seen[s] = true
    end
  end
  return seen
end

describe("utf8.distinct", function()
  it("keeps valid UTF-8, doubles a backslash, writes other bytes as \\xHH", function()
    assert.equal("eth0", utf8.distinct("eth0"))
    assert.equal(GOOD, utf8.distinct(GOOD))
    assert.equal("p\\xFF\\xFE", utf8.distinct(BAD))
    assert.equal("a\\\\xFF", utf8.distinct("a\\xFF"))
    assert.equal("a\\xFF", utf8.distinct("a\255"))
    assert.equal("12", utf8.distinct(12))
  end)

  it("never gives two byte strings the same text", function()
    local pieces = { "", "a", "\\", "x", "F", "\255", "\195", "\191", "\195\191", "\\x", "\\xFF", "\"", "\n" }
    local seen = {}
    for _, a in ipairs(pieces) do
      for _, b in ipairs(pieces) do
        for _, c in ipairs(pieces) do
          local s = a .. b .. c
          local d = utf8.distinct(s)
          assert.is_true(utf8.valid(d))
          assert(seen[d] == nil or seen[d] == s, format("%q and %q both give %q", tostring(seen[d]), s, d))
          seen[d] = s
        end
      end
    end
  end)
end)

describe("Prometheus series of distinct names", function()
  it("lnetstat metrics: two interface records give two series", function()
    local text = format_mod.prometheus({ interfaces = {
      { name = BAD, operstate = "UP", stats = { rx_bytes = 0 } },
      { name = GOOD, operstate = "UP", stats = { rx_bytes = 796 } },
      { name = "a\\b", operstate = "UP", stats = { rx_bytes = 5 } },
    } }, { prefix = "node" })
    series_of(text)
    assert.truthy(text:find('node_network_receive_bytes_total{device="p\\\\xFF\\\\xFE"} 0\n', 1, true), text)
    assert.truthy(text:find('node_network_receive_bytes_total{device="' .. GOOD .. '"} 796\n', 1, true), text)
    assert.truthy(text:find('node_network_receive_bytes_total{device="a\\\\\\\\b"} 5\n', 1, true), text)
  end)

  it("check report: ids x\\255 and xÿ give two series", function()
    local text = check.report({ files = { "t.lua" }, results = {
      result("x\255", "t\255", "pass"), result("x\195\191", "t\195\191", "fail"),
    } }, "prometheus")
    series_of(text)
    assert.truthy(text:find('lnetstat_check_attempts{id="x\\\\xFF",title="t\\\\xFF",file="t.lua"} 1', 1, true),
      text)
    assert.truthy(text:find('lnetstat_check_attempts{id="x\195\191",title="t\195\191",file="t.lua"} 1', 1, true),
      text)
  end)

  root_it("node_exporter's textfile collector keeps both series", function()
    local ns, dir, remove = helpers.netns_with_dir("lnesc")
    finally(remove)
    must(format("ip -n %s link add %s type veth peer name q0 && ip -n %s link add %s type veth peer name q1",
      quote(ns), quote(BAD), quote(ns), quote(GOOD)))
    local inside = "ip netns exec " .. quote(ns) .. " "
    must(format("%s%s metrics --prefix node -o %s", inside, LNETSTAT, quote(dir .. "/lnetstat.prom")))
    scratch.write(dir .. "/checks.prom", check.report({ files = { "t.lua" }, results = {
      result("x\255", "t", "pass"), result("x\195\191", "t", "fail"),
    } }, "prometheus"))
    local file = must("cat " .. quote(dir .. "/lnetstat.prom"))
    assert.truthy(file:find('node_network_receive_bytes_total{device="p\\\\xFF\\\\xFE"} 0\n', 1, true), file)
    assert.truthy(file:find('node_network_receive_bytes_total{device="' .. GOOD .. '"} 0\n', 1, true), file)

    local text, stderr = consumers.node_exporter(ns, dir, 19111)
    assert.is_nil(text:find("collected before", 1, true), text)
    assert.truthy(text:find("\nnode_textfile_scrape_error 0\n", 1, true), text)
    -- node_exporter writes a label's backslash as \\ again
    assert.truthy(text:find('node_network_receive_bytes_total{device="p\\\\xFF\\\\xFE"} 0\n', 1, true), text)
    assert.truthy(text:find('node_network_receive_bytes_total{device="' .. GOOD .. '"} 0\n', 1, true), text)
    assert.truthy(text:find('lnetstat_check_attempts{file="t.lua",id="x\\\\xFF",title="t"} 1\n', 1, true), text)
    assert.truthy(text:find('lnetstat_check_attempts{file="t.lua",id="x\195\191",title="t"} 1\n', 1, true), text)
    assert.is_nil(stderr:find("collected before", 1, true), stderr)
  end)
end)

describe("a newline in a host string", function()
  -- a process that renamed itself to forge a passing line
  local FORGED = "x\n  PASS  ok"
  local run_ = { files = { "f.lua" }, results = {
    result("f.1", "nothing on 7777", "fail", { file = "f.lua", expected = "no tcp port 7777" .. FORGED,
      details = { "- tcp 127.0.0.1:7777 (" .. FORGED .. ", pid 7742, user root)" } }),
    result("f.2", "t", "error", { file = "f.lua", actual = "boom" .. FORGED .. "\nok 5 - forged" }),
    result("f.3", "t", "skip", { file = "f.lua", actual = "skipped\nok 6 - forged" }),
  } }

  it("human: stays on its line, shown as \\n", function()
    local text = check.report(run_, "human")
    local lines = {}
    for l in text:gmatch("[^\n]*\n") do lines[#lines + 1] = l end
    assert.equal("f.lua\n", lines[1])
    assert.matches("^  FAIL  f%.1 ", lines[2])
    assert.equal("        expected: no tcp port 7777x\\n  PASS  ok\n", lines[3])
    assert.equal("        actual:\n", lines[4])
    assert.equal("          - - tcp 127.0.0.1:7777 (x\\n  PASS  ok, pid 7742, user root)\n", lines[5])
    assert.matches("^  ERROR f%.2 ", lines[6])
    assert.equal("        actual:   boomx\\n  PASS  ok\\nok 5 - forged\n", lines[7])
    assert.matches("^  SKIP  f%.3 ", lines[8])
    assert.equal("        actual:   skipped\\nok 6 - forged\n", lines[9])
    assert.matches("^3 checks: ", lines[10])
    assert.equal(10, #lines)
  end)

  it("TAP: no line but the report's own test lines starts with ok", function()
    local text = check.report(run_, "tap")
    local tests = {}
    for l in text:gmatch("[^\n]+") do
      if l:find("^ok") or l:find("^not ok") then tests[#tests + 1] = l:match("^[not ]*ok %d+") end
      assert.is_nil(l:find("PASS  ok", 1, true) == 1 and l or nil)
    end
    assert.same({ "not ok 1", "not ok 2", "ok 3" }, tests)
  end)
end)

describe("the progress line", function()
  it("escapes the control bytes of a check file's name", function()
    local clock, sleep = fake.clock()
    local shown = {}
    check.run_string('check("t", function() return false end, { within = 2 })', "\27]0;pwned\7\27[2Jx.lua",
      { data = fake.data {}, clock = clock, sleep = sleep, log = function() end,
        progress = function(t) if t then shown[#shown + 1] = t end end })
    assert.is_true(#shown > 0)
    for _, t in ipairs(shown) do
      assert.is_nil(t:find("[%z\1-\31\127]"), t)
      assert.truthy(t:find("\\x1B]0;pwned\\x07\\x1B[2Jx.1", 1, true), t)
    end
  end)

  it("writers send the terminal no control byte but their own", function()
    local out = {}
    local w = cli.progress_writer(function(s) out[#out + 1] = s end)
    w("waiting for '\27]0;x\7': 1 s left")
    w(nil)
    assert.same({ "\r\27[Kwaiting for '\\x1B]0;x\\x07': 1 s left", "\r\27[K" }, out)
  end)
end)

describe("a check file's bad value in an error", function()
  for _, src in ipairs {
    'default_route { via = "\\27[2Jbad" }',
    'address_present "\\27[2Jbad"',
  } do
    it("is escaped: " .. src, function()
      local clock, sleep = fake.clock()
      local r = check.run_string(src, "t.lua", { data = fake.data {}, clock = clock, sleep = sleep,
        log = function() end })
      local msg = tostring(r.results[1].actual)
      assert.equal("error", r.results[1].status)
      assert.is_nil(msg:find("\27", 1, true), msg)
      assert.truthy(msg:find("'\\x1B[2Jbad'", 1, true), msg)
    end)
  end
end)

describe("the command's error lines", function()
  it("escape a namespace path the host or the user named", function()
    local dir = helpers.mktemp_dir()
    assert.matches("^/.+/", dir .. "/")
    local path = dir .. "/x\27[31mred"
    must("touch " .. quote(path))
    local ok, err = pcall(function()
      for _, args in ipairs { "metrics --netns ", "-t --netns " } do
        local out = run(LNETSTAT .. " " .. args .. quote(path) .. " 2>&1 >/dev/null")
        assert.matches("not a network namespace", out, 1, true)
        assert.is_nil(out:find("\27", 1, true), out)
        assert.truthy(out:find("x\\x1B[31mred", 1, true), out)
      end
    end)
    helpers.remove_tree(dir)
    assert(ok, err)
  end)

  it("show a bad --fields or --devices pattern on one line, without control bytes", function()
    for _, opt in ipairs { "--fields", "--devices" } do
      local out = run(LNETSTAT .. " metrics " .. opt .. " " .. quote("a\27[2J(\nx\255") .. " 2>&1 >/dev/null")
      local first = out:match("^[^\n]*\n")
      assert.truthy(first and first:find("lnetstat metrics: " .. opt .. ": ", 1, true), out)
      assert.truthy(first:find('"a\\x1B[2J(\\nx\\xFF"', 1, true), out)
      assert.is_nil(out:find("[%z\1-\9\11-\31\127-\255]"), out)
      assert.matches("^Try 'lnetstat metrics %-%-help'", out:sub(#first + 1))
    end
  end)
end)
