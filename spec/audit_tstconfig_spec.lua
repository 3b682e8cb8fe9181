-- lnetstat.tstconfig: the rules of Tstconfig 0.3's definition files as an
-- operator's file meets them: directive names and enum values are case
-- sensitive (Java reflection, Enum.valueOf), '#' starts a comment only as
-- the first non-blank character, there is no line continuation, quotes
-- group words, CRLF line ends are line ends.
local tstconfig = require "lnetstat.tstconfig"
local helpers = require "helpers"
local scratch = require "scratch"

describe("Tstconfig definition files", function()
  local dir

  setup(function() dir = helpers.mktemp_dir() end)
  teardown(function() helpers.remove_tree(dir) end)

  local function write(name, text) return scratch.write(dir .. "/" .. name, text) end

  -- Runs a definition; returns the report, the code and the counts.
  local function run(def, opts)
    return tstconfig.run({ write("t.tstconfig", def) }, opts)
  end

  it("takes parse_mode, syntax and duplicates_policy only as 0.3 spells them", function()
    local data = write("d.txt", "x 1\n")
    for _, mode in ipairs { "TOKENIZED", "Fixed", "KEYVALUE" } do
      local report, code, counts = run("file " .. data .. "\nparse_mode " .. mode .. "\n")
      assert.equal(1, counts.errors, report)
      assert.truthy(report:find("ERROR: unrecognized parse mode: " .. mode .. "\n", 1, true), report)
      assert.equal(2, code)
    end
    local report, _, counts = run("file " .. data .. "\nsyntax INI\nduplicates_policy Append\n")
    assert.equal(2, counts.errors, report)
    for _, mode in ipairs { "tokenized", "fixed", "keyvalue" } do
      local text, code, c = run("file " .. data .. "\nparse_mode " .. mode .. "\npositions 0 2\nkey_separator \" \"\n"
        .. "property x\nassert_eq 1\n")
      assert.equal(0, c.errors, text)
      assert.equal(0, code, text)
    end
  end)

  it("calls directives by their exact name, and prints the others", function()
    local data = write("d.txt", "x 1\n")
    local report, code, counts = run("file " .. data .. "\nproperty x\nAssert_eq 1\nASSERT_EQ 2\nassert_eq 1\n")
    assert.equal(1, counts.tested, report)
    assert.truthy(report:find("Test.Assert_eq([Ljava.lang.String;)", 1, true), report)
    assert.truthy(report:find("Test.ASSERT_EQ([Ljava.lang.String;)", 1, true), report)
    assert.equal(0, counts.errors)
    assert.equal(0, code)
    local _, strict_code, strict = run("file " .. data .. "\nproperty x\nAssert_eq 1\nassert_eq 1\n",
      { strict = true })
    assert.equal(1, strict.errors)
    assert.equal(2, strict_code)
  end)

  it("has comment lines, not comments after a directive, and no continuation lines", function()
    local data = write("d.txt", "x 1\n")
    local report, _, counts = run(table.concat({
      "# a comment", "   # indented", "\t#tab", "file " .. data, "property x",
      "assert_eq 1 # not a comment",      -- three more arguments: fails
      "assert_eq 1 \\",                   -- a backslash is an argument
      "  1",                              -- a directive named 1
      'assert_eq "1"',                    -- quotes group, then vanish
      "assert_defined \"a b\" c",         -- arguments 0.3 ignores
    }, "\n") .. "\n")
    assert.equal(4, counts.tested, report)
    assert.equal(2, counts.failed, report)
    assert.truthy(report:find(" Assertion: assert_eq 1 # not a comment\n", 1, true), report)
    assert.truthy(report:find(" Assertion: assert_eq 1 \\\n", 1, true), report)
    assert.truthy(report:find("Test.1([Ljava.lang.String;)", 1, true), report)
  end)

  it("reads CRLF definition and data files as lines", function()
    local data = write("crlf.txt", "x 1\r\ny 2\r\n")
    local report, code, counts = run("file " .. data .. "\r\nproperty y\r\nassert_eq 2\r\n\r\nsection_size\r\n"
      .. "assert_eq 2\r\n")
    assert.equal(2, counts.tested, report)
    assert.equal(0, counts.failed, report)
    assert.equal(0, code)
  end)
end)
