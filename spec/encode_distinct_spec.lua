-- Distinct host strings stay distinct in every format that names things
-- with them: a JSON object key, a JSON string and a Prometheus label value
-- read back by real parsers (Python's json, lua-cjson, promtool) give two
-- different strings for two different byte strings, and the escape
-- (lnetstat.encode.utf8 `distinct`) reads back to the original bytes.
local json = require "lnetstat.encode.json"
local prom = require "lnetstat.encode.prometheus"
local utf8 = require "lnetstat.encode.utf8"
local format_mod = require "lnetstat.format"
local check = require "lnetstat.check"
local helpers = require "helpers"
local consumers = require "consumers"

local quote = helpers.quote
local format = string.format

-- Byte strings that a lossy repair would merge: "p\xff" and "pÿ" (valid
-- UTF-8 for U+00FF), the text "\xFF" and the byte 0xFF, backslashes.
local NAMES = {
  "p\255", "p\195\191", "\\xFF", "\255", "\\\\xFF", "\\\255", "a\\b", "a\\\\b", "a\\",
  "\237\160\128", "\195\173\194\160\194\128", "\192\128", "plain", "é", "",
  "q\"\n\r\t\0\27", "\194\133\194\155", "\\x", "\\xZZ",
}

-- The inverse of utf8.distinct: `\\` is a backslash, `\xHH` the byte HH.
local undo = consumers.undo_distinct
local consume, python = consumers.consume, consumers.python

describe("utf8.distinct reads back", function()
  it("undo(distinct(s)) == s for every name, and the text is valid UTF-8", function()
    for _, s in ipairs(NAMES) do
      local d = utf8.distinct(s)
      assert.is_true(utf8.valid(d), d)
      assert.equal(s, undo(d))
    end
  end)
end)

describe("JSON: distinct strings stay distinct through real parsers", function()
  local doc, list
  setup(function()
    local object = {}
    for i, s in ipairs(NAMES) do object[s] = i end
    doc = json.encode { object = object, list = NAMES }
    list = NAMES
  end)

  -- what a decoder gave back: each key's value is its index in NAMES
  local function check_decoded(keys, values)
    local n = 0
    for k, i in pairs(keys) do
      n = n + 1
      assert.equal(NAMES[i], undo(k), format("key %q", k))
    end
    assert.equal(#NAMES, n)   -- no key lost
    for i, v in ipairs(values) do assert.equal(list[i], undo(v)) end
    assert.equal(#NAMES, #values)
    -- valid UTF-8 without a backslash is written as it is
    assert.equal(2, keys["p\195\191"])
    assert.equal(13, keys.plain)
    assert.equal("q\"\n\r\t\0\27", values[16])
  end

  it("lua-cjson decodes every key and value, one-to-one", function()
    local cjson = require "cjson"
    local d = cjson.decode(doc)
    check_decoded(d.object, d.list)
  end)

  it("Python's strict json decoder reads every key, one-to-one", function()
    local out, rc = python([[
import sys, json
pairs_seen = []
def hook(pairs):
    pairs_seen.append(len(pairs))
    return dict(pairs)
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    d = json.load(f, object_pairs_hook=hook)
# every key and value back as UTF-8 bytes, written as \u escapes
print(json.dumps({"pairs": pairs_seen[0], "keys": len(d["object"]), "object": d["object"],
                  "list": d["list"]}, ensure_ascii=True))
]], doc)
    assert.equal(0, rc, out)
    local d = require("cjson").decode(out)
    assert.equal(#NAMES, d.pairs)
    assert.equal(#NAMES, d.keys)   -- no two keys read as the same string
    check_decoded(d.object, d.list)
  end)

  it("format.json writes keys one-to-one too", function()
    local d = require("cjson").decode(format_mod.json { ["p\255"] = 1, ["p\195\191"] = 2 })
    assert.same({ ["p\\xFF"] = 1, ["p\195\191"] = 2 }, d)
  end)
end)

describe("Prometheus label values: one escape, in one place", function()
  it("label_value: valid UTF-8 as it is, other bytes \\xHH, a backslash doubled", function()
    assert.equal("eth0", prom.label_value("eth0"))
    assert.equal("p\195\191\195\190 é", prom.label_value("p\195\191\195\190 é"))
    assert.equal('a\\"b\\nc', prom.label_value('a"b\nc'))
    -- distinct gives p\xFF and a\\b; the format escapes each backslash again
    assert.equal("p\\\\xFF", prom.label_value("p\255"))
    assert.equal("a\\\\\\\\b", prom.label_value("a\\b"))
    assert.equal('{device="p\\\\xFF",x="p\195\191"}', prom.labels { { "device", "p\255" }, { "x", "p\195\191" } })
  end)

  it("the renderers apply it once: the same text as label_value", function()
    for _, name in ipairs(NAMES) do
      if name ~= "" then
        local text = format_mod.prometheus { interfaces = { { name = name, operstate = "UP", stats = {} } } }
        assert.truthy(text:find('lnetstat_network_up{device="' .. prom.label_value(name) .. '"} 1\n', 1, true),
          text)
      end
      local report = check.report({ files = { "t.lua" }, results = { { id = name, title = "t", status = "pass",
        file = "t.lua", source = "t.lua:1", duration = 0, attempts = 1 } } }, "prometheus")
      assert.truthy(report:find('lnetstat_check_attempts{id="' .. prom.label_value(name) .. '",', 1, true), report)
    end
  end)

  it("promtool reads every name as a series of its own", function()
    local ifs = {}
    for _, name in ipairs(NAMES) do
      if name ~= "" then ifs[#ifs + 1] = { name = name, operstate = "UP", stats = { rx_bytes = 1 } } end
    end
    local text = format_mod.prometheus { interfaces = ifs }
    local out, rc = consume("promtool check metrics <", text)
    assert.equal(0, rc, out)
    assert.equal("", out)
    -- the series promtool's parser sees (Python's client has the same parser rules)
    out, rc = python([[
import sys, json
from prometheus_client.parser import text_string_to_metric_families
# newline="": a carriage return inside a label value is no line end
with open(sys.argv[1], encoding="utf-8", errors="strict", newline="") as f:
    text = f.read()
devices = [s.labels["device"] for fam in text_string_to_metric_families(text)
           if fam.name == "lnetstat_network_up" for s in fam.samples]
print(json.dumps(devices, ensure_ascii=True))
]], text)
    assert.equal(0, rc, out)
    local devices = require("cjson").decode(out)
    local seen = {}
    for _, d in ipairs(devices) do seen[undo(d)] = true end
    for _, r in ipairs(ifs) do assert.is_true(seen[r.name], format("%q", r.name)) end
    assert.equal(#ifs, #devices)
  end)
end)

describe("lnetstat --json on a live host", function()
  helpers.root_it("a process name with a newline, quotes, backslash and a byte 0xff reads back exactly", function()
    local ns = helpers.netns_create("lnencode")
    local pid, handle
    finally(function()
      if pid then helpers.kill(pid, 5, "python3") end
      if handle then handle.cleanup() end
      helpers.netns_delete(ns)
    end)
    local comm = "x\n\"\\\255\27y"
    pid, handle = helpers.spawn(format("ip netns exec %s %s -c %s", quote(ns), consumers.PYTHON, quote([[
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 7471))
s.listen(1)
with open("/proc/self/comm", "wb") as f:
    f.write(b'x\n"\\\xff\x1by')
print("ready", flush=True)
time.sleep(60)
]])))
    assert(handle:wait_ready(10))
    local lnetstat = helpers.LUA .. " " .. quote(((debug.getinfo(1, "S").source:match("^@(.*/)")) or "./")
      .. "../bin/lnetstat")
    local text = helpers.must(format("%s --netns %s -tlnp --json", lnetstat, quote(ns)))
    local out, rc = python([[
import sys, json
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    d = json.load(f)
print(json.dumps([r.get("program") for r in d if r.get("local_port") == 7471], ensure_ascii=True))
]], text)
    assert.equal(0, rc, out)
    local programs = require("cjson").decode(out)
    assert.equal(1, #programs)
    assert.equal(comm, undo(programs[1]))
    local from_cjson = {}
    for _, r in ipairs(require("cjson").decode(text)) do
      if r.local_port == 7471 then from_cjson[#from_cjson + 1] = undo(r.program) end
    end
    assert.same({ comm }, from_cjson)
  end)
end)
