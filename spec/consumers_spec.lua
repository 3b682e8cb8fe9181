-- Every report format read by a real consumer: TAP by prove and
-- TAP::Parser, JUnit by xmllint, python3-junitparser and an allow-list of
-- the attributes the common JUnit schema (Jenkins xunit's junit-10.xsd)
-- permits, Prometheus by promtool, JSON by Python's strict decoder. The run
-- has pass, fail (a multi-line listening_only failure), error and skip
-- results, and host strings holding control bytes and invalid UTF-8.
-- `lnetstat metrics` and `lnetstat --json` are read the same way on a
-- namespace holding an interface and a unix socket with such names (root).
local check = require "lnetstat.check"
local format_mod = require "lnetstat.format"
local fake = require "fixtures.check.fake"
local helpers = require "helpers"
local consumers = require "consumers"
local scratch = require "scratch"

local root_it = helpers.root_it
local quote = helpers.quote
local format = string.format
local L = fake.listener

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = SPEC .. "../"
local LUA = helpers.LUA
local LNETSTAT = LUA .. " " .. quote(ROOT .. "bin/lnetstat")

-- A process name that clears the screen's colours, with invalid UTF-8.
local EVIL = "ng\27[31minx\255\254\1"

local SOURCE = [[
interface_up 'eth0'
listening_only { { port = 22, program = "sshd" }, { port = 443 } }
check("boom \27[2J", function() error("kaput \255\n line 2") end)
interface_up('eth1', { skip = "not on this model: \1" })
interface_up("eth\255\27")
]]

local function mixed_run()
  local clock, sleep = fake.clock()
  local data = fake.data {
    sockets = {
      L("tcp", "0.0.0.0", 22, "sshd", "root", 812),
      L("tcp", "0.0.0.0", 8080, EVIL, "root", 900),
      L("tcp", "::", 6667, "irc: d", "nobody", 901),
    },
    interfaces = {
      { name = "eth0", index = 2, flags = { UP = true }, operstate = "UP", stats = {} },
      { name = "eth\255\27", index = 3, flags = {}, operstate = "DOWN", stats = {} },
    },
  }
  return check.run_string(SOURCE, "t.lua", { data = data, clock = clock, sleep = sleep, log = function() end })
end

local consume, python = consumers.consume, consumers.python

describe("report consumers", function()
  local run
  setup(function()
    run = mixed_run()
  end)

  it("the run has every status and a multi-line failure", function()
    local statuses = {}
    for i, r in ipairs(run.results) do statuses[i] = r.status end
    assert.same({ "pass", "fail", "error", "skip", "fail" }, statuses)
    assert.equal(3, #run.results[2].details)
    assert.matches("unexpected: tcp 0.0.0.0:8080 (ng\27", run.results[2].details[1], 1, true)
  end)

  -- TAP ---------------------------------------------------------------------
  it("TAP: prove parses every test (no parse errors, no bad plan)", function()
    local out, rc = consume("prove --exec cat", check.report(run, "tap"))
    assert.equal(1, rc, out)   -- failing checks fail the run, nothing else
    assert.not_matches("Parse errors", out, 1, true)
    assert.not_matches("Bad plan", out, 1, true)
    assert.not_matches("YAMLish", out, 1, true)
    assert.matches("Tests: 5 Failed: 3)", out, 1, true)
    assert.matches("Failed tests:  2-3, 5", out, 1, true)
    assert.matches("less 1 skipped subtest", out, 1, true)
  end)

  it("TAP: TAP::Parser reads the YAML diagnostics as data", function()
    local script = [[
use strict; use warnings; use TAP::Parser; use JSON::PP;
local $/; open my $fh, '<:raw', $ARGV[0] or die; my $tap = <$fh>;
my $p = TAP::Parser->new({ tap => $tap });
my @tests;
while (my $r = $p->next) {
  if ($r->is_test) { push @tests, { ok => ($r->is_ok ? 1 : 0), skip => ($r->has_skip ? 1 : 0) } }
  elsif ($r->is_yaml) { $tests[-1]{yaml} = $r->data }
}
print JSON::PP->new->canonical->encode({ tests => \@tests, errors => [$p->parse_errors],
  planned => $p->tests_planned, run => $p->tests_run });
]]
    local out, rc = consume("perl -e " .. quote(script), check.report(run, "tap"))
    assert.equal(0, rc, out)
    local d = helpers.json_decode(out)
    assert.same({}, d.errors)
    assert.equal(5, d.planned)
    assert.equal(5, d.run)
    local oks, skips = {}, {}
    for i, t in ipairs(d.tests) do oks[i], skips[i] = t.ok, t.skip end
    assert.same({ 1, 0, 0, 1, 0 }, oks)
    assert.same({ 0, 0, 0, 1, 0 }, skips)
    local y = d.tests[2].yaml
    assert.equal("fail", y.status)
    assert.equal("t.lua:2", y.source)
    assert.equal(3, #y.details)
    -- the bytes outside UTF-8 arrive as their Latin-1 characters (UTF-8)
    assert.equal("unexpected: tcp 0.0.0.0:8080 (ng\27[31minx\195\191\195\190\1, pid 900, user root)",
      y.details[1])
    assert.equal("unexpected: tcp [::]:6667 dual-stack (irc: d, pid 901, user nobody)", y.details[2])
    assert.equal("missing: port 443 (entry: port=443)", y.details[3])
    assert.equal("kaput \195\191\n line 2", d.tests[3].yaml.actual)
  end)

  it("TAP: the plan equals the test count, also for an empty run", function()
    local tap = check.report({ results = {}, files = {} }, "tap")
    local out, rc = consume("prove --exec cat", tap)
    assert.equal(0, rc, out)
    assert.matches("skipped: no checks", out, 1, true)
  end)

  -- JUnit -------------------------------------------------------------------
  -- What the junit-10 schema allows on each element (the attributes with
  -- use="required" marked true), and the parents each element may have.
  local SCHEMA = {
    testsuites = { attrs = { name = false, time = false, tests = false, failures = false, errors = false },
      parents = { ["#document"] = true } },
    testsuite = { attrs = { name = true, tests = true, failures = true, errors = true, group = false,
      time = false, skipped = false, timestamp = false, hostname = false, id = false, package = false,
      file = false, log = false, url = false },
      parents = { testsuites = true, testsuite = true, ["#document"] = true } },
    properties = { attrs = {}, parents = { testsuite = true } },
    property = { attrs = { name = true, value = true }, parents = { properties = true } },
    testcase = { attrs = { name = true, time = false, classname = false, group = false },
      parents = { testsuite = true } },
    failure = { attrs = { type = false, message = false }, parents = { testcase = true } },
    error = { attrs = { type = false, message = false }, parents = { testcase = true } },
    skipped = { attrs = { type = false, message = false }, parents = { testcase = true } },
    ["system-out"] = { attrs = {}, parents = { testcase = true, testsuite = true } },
    ["system-err"] = { attrs = {}, parents = { testcase = true, testsuite = true } },
  }
  -- SUREFIRE_TIME: (([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?
  local SUREFIRE_TIME = "^[0-9,]*%.?[0-9]*$"

  it("JUnit: only the elements and attributes the junit-10 schema allows", function()
    local xml = check.report(run, "junit")
    local out, rc = python([[
import sys, json, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
els = []
def walk(n):
    for c in n.childNodes:
        if c.nodeType == c.ELEMENT_NODE:
            els.append({"name": c.tagName, "parent": n.nodeName,
                        "attrs": {k: v for k, v in c.attributes.items()}})
            walk(c)
walk(d)
print(json.dumps(els))
]], xml)
    assert.equal(0, rc, out)
    local els = helpers.json_decode(out)
    local seen = {}
    for _, e in ipairs(els) do
      local rule = SCHEMA[e.name]
      assert(rule, "element not in the schema: " .. e.name)
      assert(rule.parents[e.parent], e.name .. " inside " .. e.parent)
      for k in pairs(e.attrs) do
        assert(rule.attrs[k] ~= nil, format("attribute %s not allowed on <%s>", k, e.name))
      end
      for k, required in pairs(rule.attrs) do
        if required then assert(e.attrs[k], format("<%s> lacks required %s", e.name, k)) end
      end
      if e.attrs.time and (e.name == "testsuite" or e.name == "testsuites") then
        assert.matches(SUREFIRE_TIME, e.attrs.time)
      end
      seen[e.name] = (seen[e.name] or 0) + 1
    end
    assert.same({ testsuites = 1, testsuite = 1, testcase = 5, failure = 2, error = 1, skipped = 1,
      ["system-out"] = 3 }, seen)
  end)

  it("JUnit: xmllint reads it and junitparser counts every status", function()
    local xml = check.report(run, "junit")
    local out, rc = consume("xmllint --noout", xml)
    assert.equal(0, rc, out)
    assert.equal("", out)
    out, rc = python([[
import sys, json, junitparser
x = junitparser.JUnitXml.fromfile(sys.argv[1])
suites = []
for s in x:
    cases = []
    for c in s:
        cases.append({"name": c.name, "results": [type(r).__name__ for r in c.result],
                      "messages": [r.message for r in c.result]})
    suites.append({"name": s.name, "tests": s.tests, "failures": s.failures, "errors": s.errors,
                   "skipped": s.skipped, "cases": cases})
print(json.dumps({"tests": x.tests, "failures": x.failures, "errors": x.errors, "suites": suites}))
]], xml)
    assert.equal(0, rc, out)
    local d = helpers.json_decode(out)
    assert.same({ 5, 2, 1 }, { d.tests, d.failures, d.errors })
    local s = d.suites[1]
    assert.equal(1, #d.suites)
    assert.same({ "t.lua", 5, 2, 1, 1 }, { s.name, s.tests, s.failures, s.errors, s.skipped })
    local kinds = {}
    for i, c in ipairs(s.cases) do kinds[i] = c.results[1] or "pass" end
    assert.same({ "pass", "Failure", "Error", "Skipped", "Failure" }, kinds)
    assert.equal("t.3: boom \\x1B[2J", s.cases[3].name)
    -- a test case's name is one-to-one (\xHH), its message readable (Latin-1)
    assert.equal("t.5: interface eth\\xFF\\x1B is up", s.cases[5].name)
    assert.matches("ng\\x1B[31minx\195\191\195\190\\x01", s.cases[2].messages[1], 1, true)
  end)

  -- Prometheus --------------------------------------------------------------
  it("Prometheus report: promtool accepts it without a remark", function()
    local out, rc = consume("promtool check metrics <", check.report(run, "prometheus"))
    assert.equal(0, rc, out)
    assert.equal("", out)
  end)

  local promtool_accepts = consumers.promtool_accepts

  it("Prometheus metrics text: interface names with any bytes parse", function()
    local text = format_mod.prometheus {
      stats = { Tcp = { ActiveOpens = 3 }, sockstat = { sockets_used = 7, TCP = { inuse = 2 } } },
      interfaces = {
        { name = "\255\254", operstate = "UP", stats = { rx_bytes = 1 } },
        { name = "a\"b\\c\nd", operstate = "DOWN", stats = { rx_bytes = 2 } },
        { name = "eth0", operstate = "UP", stats = { rx_bytes = 1 / 0, tx_bytes = 0 / 0 } },
      },
    }
    assert.matches('lnetstat_network_up{device="\\\\xFF\\\\xFE"} 1\n', text, 1, true)
    assert.matches('lnetstat_network_up{device="a\\"b\\\\\\\\c\\nd"} 0\n', text, 1, true)
    assert.matches('lnetstat_network_receive_bytes_total{device="eth0"} +Inf\n', text, 1, true)
    assert.matches('lnetstat_network_transmit_bytes_total{device="eth0"} NaN\n', text, 1, true)
    promtool_accepts(text)
  end)

  root_it("lnetstat metrics: promtool reads a namespace with an interface named \\xff\\xfe", function()
    local ns = helpers.netns_create("lnenc")
    finally(function() helpers.netns_delete(ns) end)
    helpers.must(format("ip -n %s link add %s type veth peer name p0", quote(ns), quote("\255\254")))
    for _, prefix in ipairs { "lnetstat", "node" } do
      local text = helpers.must(format("%s metrics --netns %s --prefix %s", LNETSTAT, quote(ns), prefix))
      -- (node_exporter's netclass collector owns node_network_up)
      assert.matches(prefix .. '_network_receive_bytes_total{device="\\\\xFF\\\\xFE"} 0\n', text, 1, true)
      promtool_accepts(text)
    end
  end)

  -- JSON --------------------------------------------------------------------
  -- Renders the run in a fresh interpreter (a new hash seed each time).
  local function render_elsewhere(fmt)
    local script = table.concat({
      "package.path = " .. format("%q", ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;" .. SPEC .. "?.lua;")
        .. " .. package.path",
      "package.cpath = " .. format("%q", ROOT .. "build/" .. helpers.BUILD .. "/?.so;") .. " .. package.cpath",
      "local fake = require 'fixtures.check.fake'",
      "local check = require 'lnetstat.check'",
      "local clock, sleep = fake.clock()",
      "local data = fake.data { sockets = { fake.listener('tcp', '0.0.0.0', 8080, "
        .. format("%q", EVIL) .. ", 'root', 900) } }",
      "local r = check.run_string(" .. format("%q", SOURCE) .. ", 't.lua', { data = data, clock = clock, "
        .. "sleep = sleep, log = function() end })",
      "r.started = 0",
      "io.write(check.report(r, " .. format("%q", fmt) .. "))",
    }, "\n")
    local path = scratch.temp(script)
    local ok, out = pcall(helpers.must, LUA .. " " .. quote(path))
    os.remove(path)
    if not ok then error(out, 0) end
    return out
  end

  it("JSON report: the same bytes in every process, strict UTF-8 JSON", function()
    local first = render_elsewhere("json")
    for _ = 1, 3 do assert.equal(first, render_elsewhere("json")) end
    local out, rc = python([[
import sys, json
keys = []
def hook(pairs):
    keys.append([k for k, _ in pairs])
    return dict(pairs)
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    d = json.load(f, object_pairs_hook=hook)
result = [k for k in keys if k[0] == "id"]
print(json.dumps({"top": keys[-1], "result": result[0], "details": d["results"][1]["details"]}))
]], first)
    assert.equal(0, rc, out)
    local d = helpers.json_decode(out)
    assert.same({ "tool", "version", "netns", "exit_code", "duration", "summary", "files", "results" }, d.top)
    assert.same({ "id", "title", "status", "expected", "actual", "details", "source", "file", "line",
      "duration", "attempts", "kind" }, d.result)
    -- bytes outside UTF-8 as \xHH (one-to-one, see lnetstat.encode.json)
    assert.equal("unexpected: tcp 0.0.0.0:8080 (ng\27[31minx\\xFF\\xFE\1, pid 900, user root)", d.details[1])
  end)

  root_it("lnetstat --json: a unix socket path with bytes 0xff 0xfe is valid JSON", function()
    local ns = helpers.netns_create("lnenc")
    local path = format("/tmp/lnenc-%d-\255\254.sock", helpers.getpid())
    local pid, handle
    finally(function()   -- busted keeps one finally per test
      if pid then helpers.kill(pid) end
      if handle then handle.cleanup() end
      os.remove(path)
      helpers.netns_delete(ns)
    end)
    local literal = "b'" .. path:gsub("[\128-\255]", function(c) return format("\\x%02x", c:byte()) end) .. "'"
    pid, handle = helpers.spawn(format("ip netns exec %s %s -c %s", quote(ns), consumers.PYTHON, quote(format([[
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(%s)
s.listen(1)
print("ready", flush=True)
time.sleep(60)
]], literal))))
    assert(handle:wait_ready(10))
    local texts = {}
    for i = 1, 2 do texts[i] = helpers.must(format("%s --netns %s -xa --json", LNETSTAT, quote(ns))) end
    assert.equal(texts[1], texts[2])
    assert.matches('"path":"/tmp/lnenc%-%d+%-\\\\xFF\\\\xFE%.sock"', texts[1])
    local out, rc = python([[
import sys, json
unsorted = []
def hook(pairs):
    keys = [k for k, _ in pairs]
    if keys != sorted(keys): unsorted.append(keys)
    return dict(pairs)
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    d = json.load(f, object_pairs_hook=hook)
print(json.dumps({"paths": [r["path"] for r in d if r.get("path", "").startswith("/tmp/lnenc-")],
                  "unsorted": unsorted, "keys": len(d[0])}))
]], texts[1])
    assert.equal(0, rc, out)
    local d = helpers.json_decode(out)
    assert.same({ (path:gsub("\255\254", "\\xFF\\xFE")) }, d.paths)
    assert.same({}, d.unsorted)   -- object keys in byte order
    assert.is_true(d.keys > 5)
  end)
end)
