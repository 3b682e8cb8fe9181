-- The check reporters on hostile results: the ids of the Prometheus series
-- stay unique whatever ids the checks have, and the reporters a terminal
-- shows (TAP through prove, the human text) escape the C1 controls
-- U+0080..U+009F as they do C0.
local check = require "lnetstat.check"
local helpers = require "helpers"

local quote = helpers.quote

local function result(id, title, status, extra)
  local r = { id = id, title = title, status = status, file = "t.lua", source = "t.lua:1",
    duration = 0.001, attempts = 1 }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- Runs cmd on a file holding text; returns the output and the exit code.
local function consume(cmd, text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  local out = helpers.run(cmd .. " " .. quote(path) .. " 2>&1; echo \"consumer-rc=$?\"")
  os.remove(path)
  local body, rc = out:match("^(.-)consumer%-rc=(%d+)\n$")
  return body or out, tonumber(rc)
end

-- The C1 controls as UTF-8 (C2 80..C2 9F) anywhere in s
local function has_c1(s)
  return s:find("\194[\128-\159]") ~= nil
end

describe("report ids", function()
  it("Prometheus: a #N suffix never takes an id a check already has", function()
    local run = { files = { "t.lua" }, results = {
      result("a", "same", "pass"), result("a", "same", "pass"), result("a#2", "same", "pass"),
      result("a", "same", "fail"), result("a#3", "same", "pass"),
    } }
    local text = check.report(run, "prometheus")
    local seen, ids = {}, {}
    for line in text:gmatch("[^\n]+") do
      if not line:find("^#") then
        local series = line:match("^(%S+)")
        assert.is_nil(seen[series], "duplicate series " .. series)
        seen[series] = true
        local id = line:match('^lnetstat_check_attempts{id="([^"]*)"')
        if id then ids[#ids + 1] = id end
      end
    end
    -- the checks keep their own ids; the repeats take unused suffixes
    assert.same({ "a", "a#4", "a#2", "a#5", "a#3" }, ids)
  end)

  it("Prometheus: the same id in two files keeps its name in both", function()
    local run = { files = { "x/t.lua", "y/t.lua" }, results = {
      result("a", "t", "pass", { file = "x/t.lua" }), result("a", "t", "pass", { file = "y/t.lua" }),
    } }
    local text = check.report(run, "prometheus")
    assert.truthy(text:find('lnetstat_check_attempts{id="a",title="t",file="x/t.lua"} 1', 1, true), text)
    assert.truthy(text:find('lnetstat_check_attempts{id="a",title="t",file="y/t.lua"} 1', 1, true), text)
  end)
end)

describe("reports on a terminal", function()
  -- CSI as a C1 control (U+009B), and as a lone byte (invalid UTF-8, shown
  -- as its Latin-1 character, the same control)
  local run = { files = { "t.lua" }, results = {
    result("csi\194\155", "clear \194\1552J now", "fail",
      { actual = "got \194\1552J", expected = "x\194\133y", details = { "- \155[2J" } }),
    result("ok\194\155", "title\155", "pass"),
    result("skip", "skipped", "skip", { actual = "not here \194\159" }),
  } }

  it("TAP: C1 controls are escaped in descriptions and YAML, and prove reads it", function()
    local tap = check.report(run, "tap")
    assert.is_false(has_c1(tap), tap)
    assert.truthy(tap:find("not ok 1 - csi\\x9B clear \\x9B2J now\n", 1, true), tap)
    assert.truthy(tap:find("ok 2 - ok\\x9B title\\x9B\n", 1, true), tap)
    assert.truthy(tap:find("# SKIP not here \\x9F\n", 1, true), tap)
    assert.truthy(tap:find('  actual: "got \\x9B2J"\n', 1, true), tap)
    assert.truthy(tap:find('  expected: "x\\x85y"\n', 1, true), tap)
    local out, rc = consume("prove -v --exec cat", tap)
    assert.equal(1, rc, out)
    assert.is_false(has_c1(out), out)
    assert.not_matches("Parse errors", out, 1, true)
    assert.truthy(out:find("not ok 1 - csi\\x9B clear \\x9B2J now", 1, true), out)
    -- TAP::Parser reads the escape back as the character U+009B
    local script = [[
use strict; use warnings; use TAP::Parser;
local $/; open my $fh, '<:raw', $ARGV[0] or die; my $tap = <$fh>;
my $p = TAP::Parser->new({ tap => $tap });
while (my $r = $p->next) {
  if ($r->is_yaml) { printf "%vd|%vd\n", $r->data->{actual}, $r->data->{expected} }
}
print scalar($p->parse_errors), "\n";
]]
    out, rc = consume("perl -e " .. quote(script), tap)
    assert.equal(0, rc, out)
    assert.equal("103.111.116.32.155.50.74|120.133.121\n0\n", out)
  end)

  it("human: C1 controls are escaped like C0", function()
    local text = check.report(run, "human")
    assert.is_false(has_c1(text), text)
    assert.truthy(text:find("csi\\u009B", 1, true), text)
    assert.truthy(text:find("clear \\u009B2J now", 1, true), text)
    assert.truthy(text:find("- - \\x9B[2J", 1, true), text)
    assert.truthy(text:find("x\\u0085y", 1, true), text)
    -- a lone byte outside UTF-8 is shown as the byte
    assert.truthy(text:find("title\\x9B", 1, true), text)
  end)
end)

