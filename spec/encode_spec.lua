-- lnetstat.encode.*: the one JSON encoder, the Prometheus exposition
-- helpers, XML text, and the UTF-8 rule they share; the human report's
-- colour and escaping.
local utf8 = require "lnetstat.encode.utf8"
local json = require "lnetstat.encode.json"
local prom = require "lnetstat.encode.prometheus"
local xml = require "lnetstat.encode.xml"
local human = require "lnetstat.report.human"
local helpers = require "helpers"

local format = string.format

describe("lnetstat.encode.utf8", function()
  it("accepts valid UTF-8 and rejects overlongs, surrogates, truncations", function()
    for _, s in ipairs { "", "plain", "é", "\226\130\172", "\240\159\152\128", "\244\143\191\191" } do
      assert.is_true(utf8.valid(s), s)
    end
    for _, s in ipairs { "\255", "\192\128", "\224\128\128", "\237\160\128", "\244\144\128\128", "\195",
      "\226\130", "a\128b", "\248\136\128\128\128" } do
      assert.is_false(utf8.valid(s), s)
    end
  end)

  it("repairs each stray byte into its Latin-1 character, valid text untouched", function()
    assert.equal("ok é", utf8.repair("ok é"))
    assert.equal("\195\191\195\190", utf8.repair("\255\254"))
    assert.equal("a\194\128b\195\131", utf8.repair("a\128b\195"))   -- lone continuation, truncated lead
    assert.equal("\195\173\194\160\194\128", utf8.repair("\237\160\128"))   -- a surrogate is three bytes
    assert.equal("x\240\159\152\128\195\191", utf8.repair("x\240\159\152\128\255"))
    assert.equal("12", utf8.repair(12))
    -- distinct inputs stay distinct
    assert.not_equal(utf8.repair("\255\254"), utf8.repair("\254\255"))
  end)

  it("printable: nothing a terminal acts on survives", function()
    assert.equal("a\\x1B[31mb\\nc\\x09\\x7F", utf8.printable("a\27[31mb\nc\t\127"))
    assert.equal("\\xFF\\xFE é", utf8.printable("\255\254 é"))
    assert.equal("csi\\u009B2J", utf8.printable("csi\194\1552J"))   -- C1 CSI as UTF-8
    assert.equal("\\x00", utf8.printable("\0"))
  end)
end)

describe("lnetstat.encode.json", function()
  it("writes object keys in byte order and arrays as arrays", function()
    assert.equal('{"A":1,"a":[1,2,3],"b":{"x":true,"y":false}}',
      json.encode { b = { y = false, x = true }, a = { 1, 2, 3 }, A = 1 })
    assert.equal('{"1":"a","3":"c"}', json.encode { [1] = "a", [3] = "c" })   -- a hole: an object
    assert.equal('{"1":"s","x":1}', json.encode { [1] = "n", ["1"] = "s", x = 1 })   -- string key wins
    assert.equal("[]", json.encode {})
    assert.equal("{}", json.encode({}, { empty = "object" }))
    assert.equal('{"a":{},"b":[]}', json.encode { a = json.object {}, b = {} })
    assert.equal('{"a":[]}', json.encode({ a = json.array {} }, { empty = "object" }))
  end)

  it("the same text for the same table however it was built", function()
    local a, b = {}, {}
    for i = 1, 200 do a["k" .. i] = i end
    for i = 200, 1, -1 do b["k" .. i] = i end
    assert.equal(json.encode(a), json.encode(b))
  end)

  it("keyorder puts the named keys first, the others in byte order", function()
    assert.equal('{"title":null,"id":"x","a":1,"z":2}',
      json.encode({ z = 2, a = 1, id = "x", title = json.null }, { keyorder = { "title", "id" } }))
    assert.equal('{"r":[{"id":1,"b":2}]}', json.encode({ r = { { b = 2, id = 1 } } }, { keyorder = { "id" } }))
  end)

  it("numbers: integers exact, shortest round trip, no NaN or infinity", function()
    assert.equal("3", json.encode(3))
    assert.equal("3", json.encode(3.0))
    assert.equal("-7", json.encode(-7))
    assert.equal("0", json.encode(-0.0))
    assert.equal("0.1", json.encode(0.1))
    assert.equal("0.3333333333333333", json.encode(1 / 3))
    assert.equal("1e+300", json.encode(1e300))
    assert.equal("9007199254740992", json.encode(2 ^ 53))
    if math.type then
      assert.equal("9007199254740993", json.encode(9007199254740993))
      assert.equal("-9223372036854775808", json.encode(math.mininteger))
    end
    assert.equal("[null,null,null]", json.encode { 0 / 0, 1 / 0, -1 / 0 })
    for _, v in ipairs { 0.1, 1 / 3, 123456.789, 2 ^ -30, 1e-7 } do
      assert.equal(v, tonumber(json.encode(v)))
    end
  end)

  it("strings: escapes, a backslash doubled, each byte outside UTF-8 as \\xHH", function()
    -- a backslash is doubled (utf8.distinct) before JSON escapes it
    assert.equal([["a\"b\\\\c\n\r\t\b\f\u0001\u001b\u007f/"]], json.encode("a\"b\\c\n\r\t\b\f\1\27\127/"))
    assert.equal([["ok é \\xFF\\xFE"]], json.encode("ok é \255\254"))
    assert.equal('"\240\159\152\128"', json.encode("\240\159\152\128"))   -- valid UTF-8 stays as it is
    assert.equal('{"\195\191":2,"\\\\xFF":1}', json.encode { ["\255"] = 1, ["\195\191"] = 2 })   -- raw byte order
  end)

  it("Python's strict decoder reads what it writes", function()
    local value = { path = "/tmp/\255\254.sock", name = "ng\27[31minx\1", list = { 1, 0.5, "é" }, none = json.null }
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    f:write(json.encode(value))
    f:close()
    local out, ok = helpers.run("/usr/bin/python3 -c " .. helpers.quote([=[
import sys, json
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    d = json.load(f)
print(json.dumps([d["path"], d["name"], d["list"], d["none"]], ensure_ascii=True))
]=]) .. " " .. tmp .. " 2>&1")
    os.remove(tmp)
    assert(ok, out)
    assert.equal('["/tmp/\\\\xFF\\\\xFE.sock", "ng\\u001b[31minx\\u0001", [1, 0.5, "\\u00e9"], null]\n', out)
  end)

  it("the text does not depend on lua-cjson or dkjson being installed", function()
    local value = { b = { 1, 2 }, a = "\255", n = 0.1, e = {} }
    local expected = json.encode(value)
    local saved = { cjson = package.loaded.cjson, dkjson = package.loaded.dkjson,
      json = package.loaded["lnetstat.encode.json"] }
    local pre = { cjson = package.preload.cjson, dkjson = package.preload.dkjson }
    local ok, text = pcall(function()
      for _, m in ipairs { "cjson", "dkjson" } do
        package.loaded[m] = nil
        package.preload[m] = function() error("module '" .. m .. "' not found") end
      end
      package.loaded["lnetstat.encode.json"] = nil
      return require("lnetstat.encode.json").encode(value)
    end)
    package.preload.cjson, package.preload.dkjson = pre.cjson, pre.dkjson
    package.loaded.cjson, package.loaded.dkjson = saved.cjson, saved.dkjson
    package.loaded["lnetstat.encode.json"] = saved.json
    assert(ok, text)
    assert.equal(expected, text)
  end)

  it("functions and userdata are null; a cycle and bad options are argument errors", function()
    assert.equal('[null,null]', json.encode { print, io.stdout })
    local t = {}
    t.self = t
    assert.has_error(function() json.encode(t) end, "bad argument #1 to 'encode' (a table contains itself)")
    assert.has_error(function() json.encode({}, { keyordr = {} }) end,
      "bad argument #2 to 'encode' (unknown option 'keyordr'; did you mean 'keyorder'?)")
    assert.has_error(function() json.encode({}, { empty = "list" }) end,
      "bad argument #2 to 'encode' (empty must be \"array\" or \"object\", got 'list')")
    assert.has_error(function() json.array("x") end, "bad argument #1 to 'array' (table expected, got string)")
    -- a key JSON cannot name is an error, never a dropped entry
    assert.has_error(function() json.encode({ [true] = 1, a = 2 }) end,
      "bad argument #1 to 'encode' (a table has a key JSON cannot name: boolean)")
    assert.has_error(function() json.encode({ a = { [{}] = 1 } }) end,
      "bad argument #1 to 'encode' (a table has a key JSON cannot name: table)")
    assert.has_error(function() json.encode({ [-1 / 0] = 1 }) end,
      "bad argument #1 to 'encode' (a table has a key JSON cannot name: -inf)")
    assert.equal('{"1":1,"2":2,"x":3}', json.encode { 1, 2, x = 3 })
    -- the same table twice (not inside itself) is fine
    local shared = { 1 }
    assert.equal("[[1],[1]]", json.encode { shared, shared })
  end)
end)

describe("lnetstat.encode.prometheus", function()
  it("sanitises metric and label names", function()
    assert.equal("lnetstat_netstat_Tcp_ActiveOpens", prom.metric_name("lnetstat_netstat_Tcp_ActiveOpens"))
    assert.equal("a:b_c_d", prom.metric_name("a:b-c.d"))
    assert.equal("_9lives", prom.metric_name("9lives"))
    assert.equal("_", prom.metric_name(""))
    assert.equal("a_b", prom.label_name("a:b"))
    assert.equal("___", prom.label_name("\255\254\1"))
  end)

  it("one label-value escaper: any bytes in, valid UTF-8 out, one-to-one", function()
    -- the backslash is doubled by utf8.distinct, then each escaped by the format
    assert.equal('a\\"b\\\\\\\\c\\nd', prom.label_value('a"b\\c\nd'))
    assert.equal("\\\\xFF\\\\xFE", prom.label_value("\255\254"))
    assert.is_true(utf8.valid(prom.label_value("x\128\200\255")))
    assert.equal("7", prom.label_value(7))
    assert.equal('{device="eth0",x_y="\\\\xFF"}', prom.labels { { "device", "eth0" }, { "x-y", "\255" } })
    assert.equal("", prom.labels {})
  end)

  it("HELP text, values, families and samples", function()
    assert.equal("one\\ntwo \\\\ \195\191", prom.help("one\ntwo \\ \255"))
    assert.equal("3", prom.value(3))
    assert.equal("3", prom.value(3.0))
    assert.equal("0.25", prom.value(0.25))
    assert.equal("+Inf", prom.value(1 / 0))
    assert.equal("-Inf", prom.value(-1 / 0))
    assert.equal("NaN", prom.value(0 / 0))
    assert.equal("NaN", prom.value("x"))
    if math.type then assert.equal("9007199254740993", prom.value(9007199254740993)) end
    assert.equal("# HELP x_up Up.\\nReally.\n# TYPE x_up gauge\n", prom.family("x_up", "Up.\nReally.", "gauge"))
    assert.equal('x_up{device="a\\"b"} 1\n', prom.sample("x_up", { { "device", 'a"b' } }, 1))
    assert.equal("x_total 2\n", prom.sample("x_total", nil, 2))
    assert.has_error(function() prom.family("x", "y", "gauges") end,
      "bad argument #3 to 'family' (metric type expected, got 'gauges')")
  end)
end)

describe("finite numbers", function()
  it("are the same text in JSON and in Prometheus values", function()
    for _, v in ipairs { 0, -0.0, 3, 3.0, -7, 0.1, 0.25, 1 / 3, 1e17, 1e18, 2 ^ 53 + 2, 1.5e300, -2.5e-300 } do
      local text = json.number(v)
      assert.equal(text, prom.value(v))
      assert.equal(v, tonumber(text))
    end
  end)
end)

describe("lnetstat.encode.xml", function()
  it("escapes markup and keeps to the characters XML 1.0 allows", function()
    assert.equal("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;", xml.text([[a <b> & "c" 'd']]))
    assert.equal("ctl \\x01\\x1B\\x7F tab\tnl\ncr&#13;", xml.text("ctl \1\27\127 tab\tnl\ncr\r"))
    assert.equal("\195\191 é \\uFFFE \\uFFFF", xml.text("\255 é \239\191\190 \239\191\191"))
    assert.equal("a&#10;b&#9;c&#13;d", xml.attr("a\nb\tc\rd"))
  end)

  it("xmllint reads any input turned into text and attributes", function()
    local nasty = {}
    for b = 0, 255 do nasty[#nasty + 1] = string.char(b) end
    nasty = table.concat(nasty) .. "\239\191\190\237\160\128]]>"
    local doc = format('<?xml version="1.0" encoding="UTF-8"?>\n<a v="%s">%s</a>\n', xml.attr(nasty), xml.text(nasty))
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    f:write(doc)
    f:close()
    local out, ok = helpers.run("xmllint --noout " .. tmp .. " 2>&1")
    os.remove(tmp)
    assert(ok, out)
    assert.equal("", out)
  end)
end)

describe("lnetstat.report.human", function()
  local run = {
    files = { "t\27]0;x\7.lua" },
    results = {
      { id = "t.1", title = "ok", status = "pass", source = "t.lua:1", file = "t\27]0;x\7.lua" },
      { id = "t.2", title = "bad \27[2J", status = "fail", source = "t.lua:2", file = "t\27]0;x\7.lua",
        expected = "x", details = { "prog ng\27[31minx\255", "two\nlines\27c" } },
      { id = "t.3", title = "boom", status = "error", source = "t.lua:3", file = "t\27]0;x\7.lua", actual = "e" },
      { id = "t.4", title = "later", status = "skip", source = "t.lua:4", file = "t\27]0;x\7.lua", actual = "s" },
    },
    duration = 0.5,
  }

  it("escapes the control bytes of every host string", function()
    local text = human.render(run)
    assert.not_matches("[%z\1-\9\11-\31\127]", text)   -- only newlines
    assert.matches("t\\x1B]0;x\\x07.lua\n", text, 1, true)
    assert.matches("bad \\x1B[2J", text, 1, true)
    assert.matches("- prog ng\\x1B[31minx\\xFF\n", text, 1, true)
    assert.matches("- two\\nlines\\x1Bc\n", text, 1, true)
  end)

  it("colours status words only when asked", function()
    assert.equal(human.render(run), human.render(run, { color = false }))
    local plain = human.render(run)
    local text = human.render(run, { color = true })
    assert.matches("  \27[32mPASS\27[0m  t.1", text, 1, true)
    assert.matches("  \27[31mFAIL\27[0m  t.2", text, 1, true)
    assert.matches("  \27[35mERROR\27[0m t.3", text, 1, true)
    assert.matches("  \27[33mSKIP\27[0m  t.4", text, 1, true)
    -- without the escapes it is the plain report
    assert.equal(plain, (text:gsub("\27%[%d+m", "")))
    local escapes = 0
    for _ in text:gmatch("\27") do escapes = escapes + 1 end
    assert.equal(8, escapes)   -- the renderer's own, nothing from the host
  end)

  it("rejects unknown options", function()
    assert.has_error(function() human.render(run, { colour = true }) end,
      "bad argument #2 to 'render' (unknown option 'colour'; did you mean 'color'?)")
    assert.has_error(function() human.render(run, { color = "yes" }) end,
      "bad argument #2 to 'render' (color must be a boolean, got string)")
  end)
end)
