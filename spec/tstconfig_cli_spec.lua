-- `lnetstat tstconfig` as a command: its exit codes (0 PASS, 1 an
-- assertion failed, 2 an error) and a report that never writes the host's
-- or a file's control bytes or invalid UTF-8 to the terminal.
local tstconfig = require "lnetstat.tstconfig"
local helpers = require "helpers"
local scratch = require "scratch"

local root_it = helpers.root_it

-- A writable handle that keeps what is written.
local sink = scratch.sink

local dir
local function write(name, text) return scratch.write(dir .. "/" .. name, text) end

-- main(argv, opts) -> code, stdout, stderr
local function main(argv, opts)
  local out, err = sink(), sink()
  opts = opts or {}
  opts.stdout, opts.stderr = out, err
  local code = tstconfig.main(argv, opts)
  return code, out:text(), err:text()
end

-- Whether s has a raw control character (C0 but newline, DEL, C1) or a
-- byte outside valid UTF-8.
local function unsafe(s)
  if s:find("[%z\1-\9\11-\31\127]") then return true end
  local utf8 = require "lnetstat.encode.utf8"
  if utf8.repair(s) ~= s then return true end
  return s:find("\194[\128-\159]") ~= nil
end

describe("lnetstat tstconfig", function()
  setup(function() dir = helpers.mktemp_dir() end)
  teardown(function() helpers.remove_tree(dir) end)

  describe("exit codes", function()
    it("exits 2 on an unreadable definition file, 0 with --exit-zero", function()
      local code, out = main { dir .. "/missing.tstconfig" }
      assert.equal(2, code, out)
      assert.matches("Errors: 1", out, 1, true)
      assert.equal(0, (main { dir .. "/missing.tstconfig", "--exit-zero" }))
      local _, rcode, counts = tstconfig.run { dir .. "/missing.tstconfig" }
      assert.equal(2, rcode)
      assert.equal(1, counts.errors)
    end)

    it("exits 1 when an assertion failed and no error was counted, 0 when all passed", function()
      local data = write("data.txt", "a 1\nb 2\n")
      local fail = write("fail.tstconfig", "file " .. data .. "\nproperty a\nassert_eq 2\n")
      local pass = write("pass.tstconfig", "file " .. data .. "\nproperty a\nassert_eq 1\n")
      assert.equal(1, (main { fail }))
      assert.equal(0, (main { pass }))
      -- an error and a failure: the error decides
      local both = write("both.tstconfig", "file " .. data .. "\nproperty a\nassert_eq 2\nparse_mode nonsense\n")
      assert.equal(2, (main { both }))
    end)

    it("exits 2 when lnetstat's own netstat or ss could not answer", function()
      local def = write("ns.tstconfig", "command ss -tlnp\nsection_size\nassert_eq 0\n")
      local code, out = main({ def }, { ss = function() return "", "ss: netns 'x': not a network namespace\n", 1 end })
      assert.equal(2, code, out)
      assert.matches("Errors: 1", out, 1, true)
      -- any other command's code is printed, not counted (as Tstconfig does)
      local other = write("other.tstconfig", "command false\nsection_size\nassert_eq 0\n")
      code, out = main({ other, "--exec-commands" }, { exec = function() return "", "", 1 end })
      assert.equal(0, code, out)
      assert.matches("ERROR: Command returned error code: 1", out, 1, true)
    end)

    root_it("exits 2 for a --netns that names no namespace", function()
      local code, out = main { "--netns", "lnetstat-no-such-ns-" .. helpers.getpid(),
        "spec/fixtures/tstconfig/ss.tstconfig" }
      assert.equal(2, code, out)
    end)

    it("exits 2 on a usage error", function()
      local code, _, err = main { "--exit" }
      assert.equal(2, code)
      assert.matches("did you mean '--exit-zero'", err, 1, true)
    end)
  end)

  describe("the report", function()
    local HOSTILE = "e\27[31mvil\1\7\8\127\255\194\155x\r"

    it("escapes what a command printed: values, stderr lines, the code", function()
      local def = write("hostile.tstconfig", "command netstat -plnt\nproperty tcp\nassert_eq nothing\n")
      local netstat = function()
        return "tcp 0 " .. HOSTILE .. "\n", "warn\27]0;title\7\nsecond line\n", 0
      end
      local code, out = main({ def }, { netstat = netstat })
      assert.equal(1, code, out)
      assert.is_false(unsafe(out), out)
      assert.matches(" Value:     0 e\\x1B[31mvil\\x01\\x07\\x08\\x7F\\xFF\\u009Bx\n", out, 1, true)
      -- the command's stderr keeps its lines, each escaped
      assert.matches("WARN: Command wrote to stderr:\nwarn\\x1B]0;title\\x07\nsecond line\n", out, 1, true)
    end)

    it("escapes a file's content, its name and the definition file's own arguments", function()
      local data = write("esc\27[2J.txt", "key " .. HOSTILE .. "\n")
      local def = write("file.tstconfig", "file " .. data .. "\nproperty key\nassert_eq x\27[0m\n"
        .. "no_such\27directive\nquote_char \27\27\n")
      local code, out = main { def }
      assert.equal(2, code, out)
      assert.is_false(unsafe(out), out)
      assert.matches(" File:      " .. dir .. "/esc\\x1B[2J.txt\n", out, 1, true)
      assert.matches(" Value:     e\\x1B[31mvil", out, 1, true)
      assert.matches(" Assertion: assert_eq x\\x1B[0m\n", out, 1, true)
      assert.matches("Test.no_such\\x1Bdirective(", out, 1, true)
      assert.matches("ERROR: illegal quote char: \\x1B\\x1B\n", out, 1, true)
      -- an unreadable file's name, as given on the command line
      code, out = main { dir .. "/gone\n\27[1m" }
      assert.equal(2, code)
      assert.is_false(unsafe(out), out)
      assert.matches("Reading definition file: " .. dir .. "/gone\\x0A\\x1B[1m\n", out, 1, true)
    end)
  end)
end)
