-- lnetstat.cliargs: every subcommand words an unknown option the same way
-- (with the nearest long name) and refuses a bad --netns as a usage error
-- (exit 2) before anything is read.
local helpers = require "helpers"

local quote = helpers.quote

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(SPEC .. "../bin/lnetstat")

-- Runs `lnetstat ARGS`: stderr (stdout discarded) and the exit code.
local function lnetstat(args)
  local out = helpers.run(LNETSTAT .. " " .. args .. " 2>&1 >/dev/null; echo \"lnetstat-spec-rc=$?\"")
  local body, rc = out:match("^(.-)lnetstat%-spec%-rc=(%d+)\n$")
  return body or out, tonumber(rc)
end

describe("lnetstat.cliargs", function()
  it("parse suggests the nearest long option of the parser", function()
    local cliargs = require "lnetstat.cliargs"
    local p = cliargs.parser("lnetstat demo", "A demo.")
    p:option("-o --output"):argname "FILE"
    p:flag("--json")
    local err = { text = "" }
    function err.write(self, ...) self.text = self.text .. table.concat({ ... }) return self end
    local args, code = cliargs.parse(p, { "--out", "x" }, { stderr = err })
    assert.is_nil(args)
    assert.equal(2, code)
    assert.equal("lnetstat demo: unknown option --out; did you mean '--output'?\n"
      .. "Try 'lnetstat demo --help' for more information.\n", err.text)
  end)

  for _, case in ipairs {
    { "metrics --out F", "unknown option --out; did you mean '--output'?" },
    { "monitor --js", "unknown option --js; did you mean '--json'?" },
    { "check --form x", "did you mean '--format'?" },
    { "tstconfig --exit", "did you mean '--exit-zero'?" },
  } do
    it("suggests the nearest option: lnetstat " .. case[1], function()
      local err, rc = lnetstat(case[1])
      assert.equal(2, rc, err)
      assert.matches(case[2], err, 1, true)
    end)
  end

  for _, case in ipairs {
    { "metrics --netns 0", "lnetstat metrics: --netns: netns pid must be a positive integer, got 0" },
    { "monitor --netns rel/x", "lnetstat monitor: --netns: netns path must be absolute" },
  } do
    it("refuses a bad --netns as a usage error: lnetstat " .. case[1], function()
      local err, rc = lnetstat(case[1])
      assert.equal(2, rc, err)
      assert.matches(case[2], err, 1, true)
      assert.not_matches("stats", err, 1, true)
      assert.not_matches("watch", err, 1, true)
    end)
  end
end)
