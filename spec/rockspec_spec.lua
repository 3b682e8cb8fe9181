-- The rockspec builds and installs offline, and the installed module loads
-- from its tree alone.
local helpers = require "helpers"

local ROCKSPEC = "rockspec/lnetstat-scm-1.rockspec"

describe("rockspec", function()
  it("maps every Lua module of lua/lnetstat", function()
    local text = assert(helpers.read_file(ROCKSPEC))
    local files = helpers.run("find lua/lnetstat -name '*.lua' | sort")
    local n = 0
    for path in files:gmatch("[^\n]+") do
      n = n + 1
      local name = path:match("lua/lnetstat/(.-)%.lua$")
      local module = name == "init" and "lnetstat" or "lnetstat." .. name:gsub("/", ".")
      assert.truthy(text:find('["' .. module .. '"] = "' .. path .. '"', 1, true),
        module .. " is not mapped in the rockspec")
    end
    assert.is_true(n >= 2)
  end)

  it("builds with luarocks make into a private tree, offline, and loads from it", function()
    local tree = helpers.run("mktemp -d"):gsub("%s+$", "")
    local copy = helpers.run("mktemp -d"):gsub("%s+$", "")
    finally(function()
      helpers.run("rm -rf " .. helpers.quote(tree) .. " " .. helpers.quote(copy))
    end)
    -- Build from a copy so object files never land in the checkout.
    helpers.must("cp -r csrc lua bin man rockspec " .. helpers.quote(copy))
    -- No network at all when root can make a namespace without one.
    local offline = helpers.is_root() and "unshare -n " or ""
    local out = helpers.must("cd " .. helpers.quote(copy) .. " && " .. offline
      .. "luarocks --lua-version=5.4 make --tree " .. helpers.quote(tree) .. " " .. ROCKSPEC)
    assert.matches("lnetstat scm%-1 is now installed", out)

    local script = [[
      package.path = TREE .. "/share/lua/5.4/?.lua;" .. TREE .. "/share/lua/5.4/?/init.lua"
      package.cpath = TREE .. "/lib/lua/5.4/?.so"
      local ns = require "lnetstat"
      local list = assert(ns.sockets { proto = "unix" })
      print(package.searchpath("lnetstat.core", package.cpath), list.sources.unix)
    ]]
    local result = helpers.must("cd / && lua5.4 -e " .. helpers.quote("TREE=" .. string.format("%q", tree)
      .. " " .. script))
    assert.equal(tree .. "/lib/lua/5.4/lnetstat/core.so\tnetlink\n", result)
    -- links libmnl, never liblua, and exports only the entry point
    local ldd = helpers.must("ldd " .. tree .. "/lib/lua/5.4/lnetstat/core.so")
    assert.matches("libmnl", ldd)
    assert.is_nil(ldd:find("liblua", 1, true))
    local syms = helpers.must("nm -D --defined-only " .. tree .. "/lib/lua/5.4/lnetstat/core.so")
    assert.same({ "luaopen_lnetstat_core" }, (function()
      local t = {}
      for name in syms:gmatch("%x+ %u ([%w_]+)") do t[#t + 1] = name end
      return t
    end)())
  end)
end)
