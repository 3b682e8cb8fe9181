-- Every check report read by its real consumer when the ids, titles,
-- files, expected and actual values and details are hostile host strings:
-- newlines that forge lines, quotes, backslashes, `#` directives, YAML and
-- XML markup, invalid UTF-8, C0 and C1 controls, DEL, U+FFFF, a very long
-- name, names that a lossy repair would merge ("p\xff" and "pÿ").
-- TAP: prove and TAP::Parser; JUnit: xmllint and python3-junitparser (each
-- test case a name of its own); JSON: Python's strict decoder and
-- lua-cjson (each id read back exactly); Prometheus: promtool, Python's
-- parser and node_exporter's textfile collector (root: one scrape without
-- an error, every series kept).
local check = require "lnetstat.check"
local format_mod = require "lnetstat.format"
local helpers = require "helpers"
local consumers = require "consumers"
local scratch = require "scratch"

local quote = helpers.quote
local root_it = helpers.root_it
local format = string.format

local HOSTILE = {
  "p\255", "p\195\191", "a\\b", "a\\", "q\"x", "nl\nok 9 - forged", "cr\rx", "tab\tx", "nul\0x",
  "esc\27[2J", "del\127", "c1\194\133\194\155", "bad\128\200", "sur\237\160\128", "ffff\239\191\191",
  "hash # TODO x", "colon: x", "- item", "...", "---", "&<>'", "]]>", string.rep("L", 5000), "\\xFF",
  "\226\128\168", "ends\\", "x #", "  lead", "trail  ", "ok 1", "1..2", "\239\187\191bom", "\\#",
  "Bail out! x", "\195\191", "\255",
}

local STATUSES = { "pass", "fail", "error", "skip" }

-- One result per hostile string (as id, title, values, and every third
-- one as its file's name), then two checks that differ only in a missing
-- file and an empty one.
local function hostile_run()
  local results, files = {}, {}
  for i, s in ipairs(HOSTILE) do
    local file = (i % 3 == 0) and ("f" .. s .. ".lua") or "t.lua"
    results[#results + 1] = { id = s, title = s, status = STATUSES[i % 4 + 1], file = file,
      source = file .. ":" .. i, expected = s, actual = s, details = { s, s .. "\n2" },
      duration = 0.001, attempts = 1 + i % 2, kind = "custom" }
    files[#files + 1] = file
  end
  for _, f in ipairs { false, "" } do
    results[#results + 1] = { id = "same", title = "same", status = "pass", file = f or nil,
      source = "x:1", duration = 0, attempts = 1 }
  end
  return check.new_run_of(results, { files = files })
end

-- The inverse of lnetstat.encode.utf8 `distinct`: `\\` is a backslash,
-- `\xHH` the byte HH.
local undo = consumers.undo_distinct
local consume, python = consumers.consume, consumers.python

local function decode(text) return require("cjson").decode(text) end

describe("hostile check results", function()
  local r
  setup(function() r = hostile_run() end)

  local function expected_counts()
    local c = { pass = 0, fail = 0, error = 0, skip = 0 }
    for _, x in ipairs(r.results) do c[x.status] = c[x.status] + 1 end
    return c
  end

  it("TAP: prove and TAP::Parser read every test, no forged line, no directive but SKIP", function()
    local tap = check.report(r, "tap")
    local c = expected_counts()
    local out, rc = consume("prove --exec cat", tap)
    assert.equal(1, rc, out)
    assert.not_matches("Parse errors", out, 1, true)
    assert.matches(format("Tests: %d Failed: %d)", #r.results, c.fail + c.error), out, 1, true)
    out, rc = consume("perl -e " .. quote([[
use strict; use warnings; use TAP::Parser; use JSON::PP;
local $/; open my $fh, '<:raw', $ARGV[0] or die; my $tap = <$fh>;
my $p = TAP::Parser->new({ tap => $tap });
my (@tests, @other);
while (my $x = $p->next) {
  if ($x->is_test) { push @tests, { ok => ($x->is_ok ? 1 : 0), skip => ($x->has_skip ? 1 : 0),
                                    todo => ($x->has_todo ? 1 : 0) } }
  elsif ($x->is_yaml) { $tests[-1]{id} = $x->data->{id}; $tests[-1]{n} = scalar @{$x->data->{details}} }
  elsif (!$x->is_plan && !$x->is_version && !$x->is_comment) { push @other, $x->as_string }
}
print JSON::PP->new->canonical->encode({ tests => \@tests, errors => [$p->parse_errors], other => \@other,
  planned => $p->tests_planned, run => $p->tests_run, bailed => ($p->is_good_plan ? 0 : 1) });
]]), tap)
    assert.equal(0, rc, out)
    local d = decode(out)
    assert.same({}, d.errors)
    assert.same({}, d.other)   -- no line of a host string became a line of its own
    assert.equal(#r.results, d.planned)
    assert.equal(#r.results, d.run)
    for i, t in ipairs(d.tests) do
      local x = r.results[i]
      assert.equal(x.status == "skip" and 1 or 0, t.skip, x.id)
      assert.equal((x.status == "pass" or x.status == "skip") and 1 or 0, t.ok, x.id)
      assert.equal(0, t.todo, x.id)
      if x.status == "fail" or x.status == "error" then
        assert.equal(2, t.n, x.id)
        -- the YAML value reads back as the id (ASCII ones exactly)
        if not x.id:find("[\128-\255]") then assert.equal(x.id, t.id) end
      end
    end
  end)

  it("JUnit: xmllint reads it; junitparser counts every status and names every case once", function()
    local xml = check.report(r, "junit")
    local out, rc = consume("xmllint --noout", xml)
    assert.equal(0, rc, out)
    assert.equal("", out)
    out, rc = python([=[
import sys, json, junitparser
x = junitparser.JUnitXml.fromfile(sys.argv[1])
cases = []
for s in x:
    for c in s:
        cases.append([s.name, c.classname, c.name, [type(k).__name__ for k in c.result]])
print(json.dumps({"tests": x.tests, "failures": x.failures, "errors": x.errors, "skipped": x.skipped,
                  "cases": cases}, ensure_ascii=True))
]=], xml)
    assert.equal(0, rc, out)
    local d = decode(out)
    local c = expected_counts()
    assert.same({ #r.results, c.fail, c.error, c.skip }, { d.tests, d.failures, d.errors, d.skipped })
    local seen, suites = {}, {}
    for _, case in ipairs(d.cases) do
      local key = case[1] .. "\0" .. case[2] .. "\0" .. case[3]
      assert.is_nil(seen[key], "two test cases named " .. key)
      seen[key] = true
      suites[case[1]] = true
    end
    -- one suite per file, however the file names are spelled
    local files = {}
    for _, x in ipairs(r.results) do files[x.file or "?"] = true end
    assert.equal(helpers.count_keys(files), helpers.count_keys(suites))
  end)

  it("JSON: Python's strict decoder and lua-cjson read every id back exactly", function()
    local text = check.report(r, "json")
    local out, rc = python([=[
import sys, json
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    d = json.load(f)
print(json.dumps([[x["id"], x["file"], x["details"]] for x in d["results"]], ensure_ascii=True))
]=], text)
    assert.equal(0, rc, out)
    local from_python = decode(out)
    local from_cjson = decode(text).results
    for i, x in ipairs(r.results) do
      assert.equal(x.id, undo(from_python[i][1]))
      assert.equal(x.id, undo(from_cjson[i].id))
      if x.details then
        assert.equal(x.details[2], undo(from_python[i][3][2]))
        assert.equal(x.details[2], undo(from_cjson[i].details[2]))
      end
    end
  end)

  -- The series of Prometheus text as Python's parser reads them.
  local function python_series(text)
    local out, rc = python([=[
import sys, json
from prometheus_client.parser import text_string_to_metric_families
with open(sys.argv[1], encoding="utf-8", errors="strict", newline="") as f:
    text = f.read()
print(json.dumps([[s.name, s.labels] for fam in text_string_to_metric_families(text) for s in fam.samples],
                 ensure_ascii=True))
]=], text)
    assert.equal(0, rc, out)
    return decode(out)
  end

  it("Prometheus: promtool accepts it, every check is a series of its own", function()
    local text = check.report(r, "prometheus")
    local out, rc = consume("promtool check metrics <", text)
    assert.equal(0, rc, out)
    assert.equal("", out)
    local seen, ids = {}, {}
    for _, s in ipairs(python_series(text)) do
      local name, labels = s[1], s[2]
      local keys = {}
      for k, v in pairs(labels) do keys[#keys + 1] = k .. "=" .. v end
      table.sort(keys)
      local key = name .. "{" .. table.concat(keys, "\0") .. "}"
      assert.is_nil(seen[key], "duplicate series " .. key)
      seen[key] = true
      if name == "lnetstat_check_attempts" then ids[#ids + 1] = undo(labels.id) end
    end
    assert.equal(#r.results, #ids)
    for i = 1, #HOSTILE do assert.equal(HOSTILE[i], ids[i]) end
  end)

  root_it("Prometheus: node_exporter's textfile collector keeps every series", function()
    local ns, dir, remove = helpers.netns_with_dir("lnencode")
    finally(remove)
    local report = check.report(r, "prometheus")
    scratch.write(dir .. "/checks.prom", report)
    -- interface names from the same list, as lnetstat metrics writes them
    local ifs = {}
    for _, s in ipairs(HOSTILE) do
      if #s > 0 and #s < 16 then ifs[#ifs + 1] = { name = s, operstate = "UP", stats = { rx_bytes = #s } } end
    end
    local metrics = format_mod.prometheus({ interfaces = ifs }, { prefix = "lnetstat" })
    scratch.write(dir .. "/metrics.prom", metrics)
    local text, stderr = consumers.node_exporter(ns, dir, 19000 + helpers.getpid() % 1000)
    assert.truthy(text:find("\nnode_textfile_scrape_error 0\n", 1, true), text)
    assert.is_nil(text:find("collected before", 1, true), text)
    assert.is_nil(stderr:find("level=error", 1, true), stderr)
    -- node_exporter serves exactly the series of both files
    local want, got = {}, {}
    local function add(set, series)
      for _, s in ipairs(series) do
        if s[1]:find("^lnetstat_") then
          local keys = {}
          for k, v in pairs(s[2]) do keys[#keys + 1] = k .. "=" .. v end
          table.sort(keys)
          set[s[1] .. "{" .. table.concat(keys, "\0") .. "}"] = true
        end
      end
    end
    add(want, python_series(report))
    add(want, python_series(metrics))
    add(got, python_series(text))
    assert.same(want, got)
    assert.equal(#r.results * 3 + 7 + #ifs * 2, helpers.count_keys(got))
  end)
end)
