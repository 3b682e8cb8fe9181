-- `lnetstat check` stops a hostile check file within seconds, whatever it
-- does: a loop in an xpcall handler, a pattern that backtracks inside one
-- C call, a loop of heavy C calls, a 2 GB allocation, a table that grows
-- without end. Each becomes an error result and the command exits 2. The
-- command line: -fX and -f X, no silent abbreviations, a progress line
-- on a terminal only.
local helpers = require "helpers"

local quote = helpers.quote
local format = string.format

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = HERE .. "../"
local LNETSTAT = helpers.LUA .. " " .. quote(ROOT .. "bin/lnetstat")

local tmpdir
local function write(name, text)
  local path = tmpdir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- Runs the command; returns stdout, the exit code and the wall time.
local function lnetstat(args)
  local t0 = os.time()
  local out = helpers.run(format("%s check %s 2>&1; echo \"<rc=$?>\"", LNETSTAT, args))
  local t1 = os.time()
  local code = tonumber(out:match("<rc=(%d+)>%s*$"))
  return out:gsub("<rc=%d+>%s*$", ""), code, t1 - t0
end

describe("lnetstat check budgets", function()
  setup(function() tmpdir = helpers.mktemp_dir() end)
  teardown(function() helpers.remove_tree(tmpdir) end)

  local CASES = {
    { "an xpcall handler that loops",
      "while true do xpcall(function() error('x') end, function() while true do end end) end\n",
      "CPU limit of 1 s exceeded" },
    { "a pattern that backtracks inside one string.find",
      "string.find(string.rep('a', 60), 'a*a*a*a*a*a*a*a*a*a*a*a*a*a*b')\n",
      "CPU limit of 1 s exceeded" },
    { "a loop of heavy C calls (string.rep) under pcall",
      "while true do pcall(string.rep, 'x', 5e7) end\n",
      "CPU limit of 1 s exceeded" },
    { "a 2 GB string",
      "local s = string.rep('x', 2^31 - 1)\n",
      "memory limit of 64 MiB exceeded" },
    { "a table that grows without end",
      "local t = {}\nfor i = 1, 1e9 do t[i] = { i } end\n",
      "memory limit of 64 MiB exceeded" },
  }
  for i, case in ipairs(CASES) do
    it("stops " .. case[1] .. " within seconds: an error result, exit 2", function()
      local f = write(format("hostile%d.lua", i), "check('declared first', function() return true end)\n"
        .. case[2] .. "check('declared after', function() return true end)\n")
      local limits = case[3]:find("CPU") and "--cpu-limit 1" or "--cpu-limit 10 --memory-limit 64"
      local out, code, wall = lnetstat(format("%s %s -f tap", quote(f), limits))
      assert.equal(2, code, out)
      assert.matches(case[3], out, 1, true)
      assert.matches("not ok", out, 1, true)
      assert.is_true(wall <= 20, format("took %s s", tostring(wall)))
    end)
  end

  it("a check file that stays within its budgets is not disturbed by them", function()
    local f = write("fine.lua", "local t = {}\nfor i = 1, 1e5 do t[i] = i end\n"
      .. "check('sum', function() local s = 0 for _, v in ipairs(t) do s = s + v end return s == 5000050000 end)\n")
    local out, code = lnetstat(format("%s --cpu-limit 5 --memory-limit 64", quote(f)))
    assert.equal(0, code, out)
    assert.matches("1 check: 1 passed", out, 1, true)
  end)

  it("bad limits and retry values are usage errors (exit 2, no report)", function()
    local f = write("ok.lua", "check('a', function() return true end)\n")
    for _, args in ipairs { "--cpu-limit soon", "--memory-limit=-1", "--within nan", "--within 1e9",
      "--every 0", "--within inf" } do
      local out, code = lnetstat(quote(f) .. " " .. args)
      assert.equal(2, code, args .. ": " .. out)
      assert.matches("needs a number", out, 1, true)
      assert.not_matches("%d+ checks?:", out)
    end
  end)
end)

describe("lnetstat.check.run budgets in the calling process", function()
  local check = require "lnetstat.check"
  local fake = require "fixtures.check.fake"

  local function run(src, opts)
    local o = { data = fake.data {}, log = function() end }
    for k, v in pairs(opts) do o[k] = v end
    local t0 = os.clock()
    local r = check.run_string(src, "h.lua", o)
    return r, os.clock() - t0
  end

  it("stop a loop in an xpcall handler, in pcall, and a loop of heavy C calls", function()
    local before = { debug.gethook() }
    for _, src in ipairs {
      "while true do xpcall(function() error('x') end, function() while true do end end) end",
      "check('h', function() while true do pcall(error, 'x') end end)",
      "while true do pcall(string.rep, 'x', 2e7) end",
    } do
      local r, cpu = run("check('ok', function() return true end)\n" .. src, { cpu_limit = 0.5 })
      assert.equal(2, r.exit_code, src)
      local text = check.report(r, "human")
      assert.matches("CPU limit of 0.5 s exceeded", text, 1, true)
      assert.is_true(cpu < 5, src .. ": " .. cpu .. " s of CPU")
    end
    assert.same(before, { debug.gethook() })
  end)

  it("stop a Lua heap that grows past memory_limit", function()
    local r = run("local t = {}\nfor i = 1, 1e8 do t[i] = { i } end\ncheck('never', function() return true end)",
      { memory_limit = 32, cpu_limit = 30 })
    assert.equal(2, r.exit_code)
    assert.matches("memory limit of 32 MiB exceeded", r.results[1].actual, 1, true)
    collectgarbage()
  end)
end)

describe("lnetstat check command line", function()
  setup(function() tmpdir = helpers.mktemp_dir() end)
  teardown(function() helpers.remove_tree(tmpdir) end)

  it("takes -fX and -f X; long options are never abbreviated silently", function()
    local f = write("a.lua", "check('a', function() return true end)\n")
    local out, code = lnetstat(quote(f) .. " -ftap")
    assert.equal(0, code, out)
    assert.matches("^TAP version 13\n", out)
    out, code = lnetstat(quote(f) .. " -f tap")
    assert.equal(0, code, out)
    assert.matches("^TAP version 13\n", out)
    out, code = lnetstat(quote(f) .. " --form tap")
    assert.equal(2, code, out)
    assert.matches("unknown option --form; did you mean '--format'?", out, 1, true)
  end)

  it("-o writes the report by rename, through a temporary name, nothing left over", function()
    local f = write("b.lua", "check('b', function() return true end)\n")
    local dest = tmpdir .. "/out.tap"
    local out, code = lnetstat(quote(f) .. " -f tap -o " .. quote(dest))
    assert.equal(0, code, out)
    assert.equal("", out)
    assert.matches("^TAP version 13\n", helpers.read_file(dest))
    assert.equal("0", helpers.run("ls -a " .. quote(tmpdir) .. " | grep -c -e tmp -e probe || true"):match("%d+"))
  end)

  it("shows a progress line on a terminal while a retry waits, and clears it", function()
    local f = write("wait.lua", "check('late', function() return false end, { within = 2, every = 1 })\n")
    -- script(1) gives the command a terminal; stderr is the terminal too
    local out = helpers.run(format("script -qec %s /dev/null 2>&1",
      quote(format("%s check %s --format tap", LNETSTAT, quote(f)))))
    assert.matches("waiting for 'wait%.1': %d s left", out)
    assert.matches("\r\27%[K", out)
    -- not a terminal: no progress line
    local plain = lnetstat(quote(f) .. " --format tap")
    assert.not_matches("waiting for", plain, 1, true)
    assert.not_matches("\27", plain, 1, true)
  end)
end)
