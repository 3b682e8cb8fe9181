-- Every ```lua block of README.md runs: a library example under the
-- interpreter that runs this suite (with this tree's module), a check file
-- (a block that starts with "-- <name>.lua" and calls assertions) through
-- `lnetstat check`, where it may pass or fail on this host but must not be
-- an error (exit 2: a bad check file). Examples read the live host, so only
-- their running without an error is asserted.
-- Root: several examples read owners or other namespaces (CI is root).
local helpers = require "helpers"

local root_it = helpers.root_it
local quote = helpers.quote
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = SPEC .. "../"
local LUA, BUILD = helpers.LUA, helpers.BUILD

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local function blocks()
  local list = {}
  local text = read(ROOT .. "README.md")
  local line_no = 1
  local pos = 1
  while true do
    local s, e, code = text:find("```lua\n(.-)```", pos)
    if not s then break end
    local _, nl = text:sub(pos, s):gsub("\n", "")
    line_no = line_no + nl
    list[#list + 1] = { code = code, line = line_no + 1 }
    local _, inner = code:gsub("\n", "")
    line_no = line_no + inner + 1
    pos = e + 1
  end
  return list
end

-- Runs cmd; returns its output (stdout and stderr) and exit code.
local function run_rc(cmd)
  local out = helpers.run(cmd .. " 2>&1; echo \"lnetstat-spec-rc=$?\"")
  local body, rc = out:match("^(.-)lnetstat%-spec%-rc=(%d+)\n$")
  return body or out, tonumber(rc)
end

describe("README.md examples", function()
  local dir

  setup(function() dir = helpers.mktemp_dir() end)
  teardown(function() if dir then helpers.remove_tree(dir) end end)

  it("has Lua examples to run", function()
    assert.is_true(#blocks() >= 15)
  end)

  for i, b in ipairs(blocks()) do
    local check_file = b.code:match("^%-%- ([%w_]+%.lua)\n")
    local title = format("README.md:%d %s runs", b.line, check_file and ("check file " .. check_file)
      or "example")
    root_it(title, function()
      local path = format("%s/example%d.lua", dir, i)
      local f = assert(io.open(path, "w"))
      if check_file then
        f:write(b.code)
      else
        f:write(format("package.path = %q .. package.path\npackage.cpath = %q .. package.cpath\n",
          ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;", ROOT .. "build/" .. BUILD .. "/?.so;"))
        f:write(b.code)
      end
      f:close()
      if check_file then
        local out, rc = run_rc(format("%s %s check %s --format json", LUA,
          quote(ROOT .. "bin/lnetstat"), quote(path)))
        assert(rc == 0 or rc == 1, format("exit %s (2 = an error in the check file):\n%s",
          tostring(rc), out))
        local report = helpers.json_decode(out)
        assert.is_true(#report.results > 0)
        for _, r in ipairs(report.results) do
          assert(r.status ~= "error", format("%s: %s", tostring(r.title), tostring(r.details)))
        end
      else
        local out, rc = run_rc(format("%s %s", LUA, quote(path)))
        assert(rc == 0, format("exit %s:\n%s", tostring(rc), out))
      end
    end)
  end
end)
