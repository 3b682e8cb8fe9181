-- The suite's busted helper (spec/suite_guard.lua) fails a run whose spec
-- file leaves a process running, after busted's own summary, and stops
-- that process. A child busted runs a spec that starts a sleeper and
-- forgets it.
local helpers = require "helpers"

local format, quote = string.format, helpers.quote

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = HERE .. "../"

describe("the suite guard", function()
  it("fails the run, names the file and the process, and stops it", function()
    local dir = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(dir) end)
    local secs = 300 + helpers.getpid() % 500   -- a sleep this run alone starts
    local spec = dir .. "/leaky_spec.lua"
    local f = assert(io.open(spec, "w"))
    f:write(format([[
describe("a leaky spec", function()
  it("starts a process and forgets it", function()
    assert(os.execute("sleep %d >/dev/null 2>&1 &"))
  end)
end)
]], secs))
    f:close()
    local out = helpers.run(format("cd %s && LNETSTAT_SPEC_RUN=guard-$$ %s /usr/bin/busted "
      .. "--helper=spec/suite_guard.lua %s 2>&1; echo \"exit $?\"", quote(ROOT), helpers.LUA, quote(spec)))
    assert.matches("1 success / 0 failures", out, 1, true)   -- the test itself passed
    assert.matches("left behind by spec files (now removed):", out, 1, true)
    assert.matches(format("leaky_spec.lua left pid %%d+ running: sleep %d", secs), out)
    assert.matches("exit 1\n$", out)
    local pid = tonumber(out:match("left pid (%d+)"))
    assert.is_false(helpers.alive(pid))
  end)
end)
