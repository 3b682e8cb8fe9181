-- Installing lnetstat: `make install` into a temporary prefix for Lua 5.4
-- and 5.3 (the command runs with the interpreter its module was built for
-- and finds its modules from /, with no LUA_PATH set), DESTDIR staging,
-- `make uninstall`, the one-line message of build-aux/deps.sh for a Lua
-- whose packages are missing, and the rock (`luarocks make --tree`, offline:
-- its command, its manual page, `luarocks test` against the installed rock).
local helpers = require "helpers"

local quote, must, run = helpers.quote, helpers.must, helpers.run
local root_it = helpers.root_it
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = must("cd " .. quote(SPEC .. "..") .. " && pwd"):gsub("%s+$", "")

-- No Lua search path from the caller's environment.
local NO_LUA_ENV = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_2 -u LUA_CPATH_5_2 "
  .. "-u LUA_PATH_5_3 -u LUA_CPATH_5_3 -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT "

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- stdout and the exit code of cmd (Lua 5.1's popen:close() does not give it)
local function run_rc(cmd)
  local out = run("(" .. cmd .. "); echo \"exit=$?\"")
  local body, code = out:match("^(.-)exit=(%d+)\n?$")
  return body, tonumber(code)
end

local function make(args)
  return must(format("%s -s -C %s %s", "make", quote(ROOT), args))
end

describe("make install", function()
  for _, v in ipairs { "5.4", "5.3" } do
    it("LUA_VERSION=" .. v .. ": a prefix off Lua's path, run from / without LUA_PATH", function()
      local tmp = helpers.mktemp_dir()
      finally(function() helpers.remove_tree(tmp) end)
      local prefix = tmp .. "/opt/lnx"
      make(format("install LUA_VERSION=%s PREFIX=%s", v, quote(prefix)))
      local cmd = prefix .. "/bin/lnetstat"
      -- the interpreter it was built for, by its full path
      local interp = must("command -v lua" .. v):gsub("%s+$", "")
      assert.are.equal("#!" .. interp, read(cmd):match("^[^\n]*"))
      assert.is_truthy(read(cmd):find(prefix .. "/share/lua/" .. v .. "/?.lua;", 1, true))
      assert.is_truthy(exists(prefix .. "/lib/lua/" .. v .. "/lnetstat/core.so"))
      -- the man page
      assert.are.equal(read(ROOT .. "/man/lnetstat.1"), read(prefix .. "/share/man/man1/lnetstat.1"))
      -- runs from /, no LUA_PATH: -V, and the C module (built for this Lua:
      -- another interpreter refuses it with a version mismatch) reads counters
      local out = must(format("cd / && %s %s -V", NO_LUA_ENV, quote(cmd)))
      assert.matches("^lnetstat %d+%.%d+", out)
      out = must(format("cd / && %s %s metrics --prefix node --fields '^Tcp_CurrEstab$' --devices '^$'",
        NO_LUA_ENV, quote(cmd)))
      assert.matches("\nnode_netstat_Tcp_CurrEstab %d+\n", out)
      -- the modules it loads are the installed ones
      out = must(format("cd / && %s %s -e %s", NO_LUA_ENV, quote(interp), quote(
        "package.path = " .. format("%q", prefix .. "/share/lua/" .. v .. "/?.lua;") .. " .. package.path "
        .. "print(package.searchpath and package.searchpath('lnetstat.cli', package.path))")))
      assert.are.equal(prefix .. "/share/lua/" .. v .. "/lnetstat/cli.lua\n", out)
      -- uninstall removes every file install wrote
      make(format("uninstall LUA_VERSION=%s PREFIX=%s", v, quote(prefix)))
      assert.are.equal("", must("find " .. quote(prefix) .. " -type f"))
    end)
  end

  it("DESTDIR stages the files; the command names the final directories", function()
    local tmp = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(tmp) end)
    make(format("install DESTDIR=%s PREFIX=/opt/lnetstat-staged", quote(tmp)))
    local cmd = read(tmp .. "/opt/lnetstat-staged/bin/lnetstat")
    assert.is_truthy(cmd:find('package.path = [==[/opt/lnetstat-staged/share/lua/5.4/?.lua;', 1, true))
    assert.is_truthy(cmd:find('package.cpath = [==[/opt/lnetstat-staged/lib/lua/5.4/?.so;', 1, true))
    assert.is_nil(cmd:find(tmp, 1, true))
    assert.is_truthy(exists(tmp .. "/opt/lnetstat-staged/share/man/man1/lnetstat.1"))
    -- the checkout block is gone from the installed copy
    assert.is_nil(cmd:find("/build/", 1, true))
    -- a prefix Lua searches already: no paths set
    make(format("install DESTDIR=%s/std PREFIX=/usr/local", quote(tmp)))
    cmd = read(tmp .. "/std/usr/local/bin/lnetstat")
    assert.is_nil(cmd:find("package.path =", 1, true))
    assert.is_truthy(cmd:find('require "lnetstat.cli"', 1, true))
  end)

  it("a PREFIX with a space: installs there, runs, uninstalls; nothing lands in the checkout",
    function()
    local tmp = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(tmp) end)
    local prefix = tmp .. "/my prefix"
    local before = must(format("cd %s && git status --porcelain --ignored", quote(ROOT)))
    make(format("install PREFIX=%s", quote(prefix)))
    local after = must(format("cd %s && git status --porcelain --ignored", quote(ROOT)))
    assert.are.equal(before, after)
    local out = must(format("cd / && %s %s -V", NO_LUA_ENV, quote(prefix .. "/bin/lnetstat")))
    assert.matches("^lnetstat %d+%.%d+", out)
    assert.is_truthy(exists(prefix .. "/share/man/man1/lnetstat.1"))
    assert.is_truthy(exists(prefix .. "/lib/lua/5.4/lnetstat/core.so"))
    make(format("uninstall PREFIX=%s", quote(prefix)))
    assert.are.equal("", must("find " .. quote(prefix) .. " -type f"))
    -- lnetstat's own directories go; the shared ones stay (they may hold
    -- other packages' files, or have been there before)
    assert.are.equal("", must("find " .. quote(prefix) .. " -name lnetstat"))
    for _, dir in ipairs { "bin", "lib/lua/5.4", "share/lua/5.4", "share/man/man1" } do
      assert.are.equal(prefix .. "/" .. dir .. "\n", must(format("find %s -maxdepth 0 -type d",
        quote(prefix .. "/" .. dir))))
    end
  end)

  it("refuses install directories with a single quote, before writing anything", function()
    local tmp = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(tmp) end)
    local out, code = run_rc(format("make -s -C %s install PREFIX=%s 2>&1", quote(ROOT),
      quote(tmp .. "/it's")))
    assert.are_not.equal(0, code)
    assert.is_truthy(out:find("install directories must not contain a single quote", 1, true), out)
    assert.are.equal(tmp .. "\n", must("find " .. quote(tmp)))
  end)

  it("the checkout's bin/lnetstat runs through a symbolic link from another directory", function()
    local tmp = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(tmp) end)
    -- an absolute link, and a relative link to that link
    must(format("mkdir %s && ln -s %s %s && ln -s %s %s", quote(tmp .. "/a dir"),
      quote(ROOT .. "/bin/lnetstat"), quote(tmp .. "/a dir/lnetstat"), quote("a dir/lnetstat"),
      quote(tmp .. "/rel")))
    for _, link in ipairs { tmp .. "/a dir/lnetstat", tmp .. "/rel" } do
      local out = must(format("cd / && %s lua5.4 %s -h", NO_LUA_ENV, quote(link)))
      assert.matches("^usage: lnetstat ", out)
      out = must(format("cd / && %s %s -tln", NO_LUA_ENV, quote(link)))
      assert.matches("^Active Internet connections %(only servers%)\n", out)
    end
  end)

  it("the checkout's bin/lnetstat carries no machine path", function()
    local text = read(ROOT .. "/bin/lnetstat")
    assert.is_nil(text:find("/usr/local", 1, true))
    assert.is_nil(text:find(ROOT, 1, true))
    assert.are.equal("#!/usr/bin/env lua5.4", text:match("^[^\n]*"))
  end)
end)

describe("build-aux/deps.sh", function()
  -- a dpkg-query that knows no package: every package is missing
  local function fake_dpkg(tmp)
    must(format("mkdir -p %s/bin && printf '#!/bin/sh\\nexit 1\\n' > %s/bin/dpkg-query && chmod 755 %s/bin/dpkg-query",
      quote(tmp), quote(tmp), quote(tmp)))
    return format("PATH=%s/bin:$PATH", quote(tmp))
  end

  for v, pkgs in pairs { ["5.1"] = "lua5.1 liblua5.1-0-dev", ["5.3"] = "lua5.3 liblua5.3-dev",
    luajit = "luajit2 libluajit2-5.1-dev" } do
    root_it("LUA_VERSION=" .. v .. " as a user: one line naming the missing packages", function()
      local tmp = helpers.mktemp_dir()
      finally(function() helpers.remove_tree(tmp) end)
      must("chmod 755 " .. quote(tmp))
      local path = fake_dpkg(tmp)
      local as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups env " .. path .. " "
      local out, code = run_rc(format("cd %s && %s build-aux/deps.sh build %s 2>&1 >/dev/null",
        quote(ROOT), as_nobody, v))
      assert.are.equal(1, code)
      assert.are.equal(format("missing Debian packages: gcc make pkg-config libc6-dev libmnl-dev "
        .. "lua-argparse %s (as root: apt-get install gcc make pkg-config libc6-dev libmnl-dev "
        .. "lua-argparse %s)\n", pkgs, pkgs), out)
      -- make stops there, before the compiler looks for lua.h
      out, code = run_rc(format("cd %s && %s make LUA_VERSION=%s 2>&1", quote(ROOT), as_nobody, v))
      assert.are_not.equal(0, code)
      assert.is_truthy(out:find("missing Debian packages: ", 1, true), out)
      assert.is_truthy(out:find(pkgs, 1, true), out)
      assert.is_nil(out:find("lua.h", 1, true), out)
    end)
  end

  it("refuses a Lua it does not know", function()
    local out, code = run_rc(format("cd %s && build-aux/deps.sh build 5.2 2>&1", quote(ROOT)))
    assert.are.equal(2, code)
    assert.are.equal("deps.sh: unknown Lua version '5.2' (5.1, 5.3, 5.4 or luajit)\n", out)
  end)
end)

describe("the rock", function()
  it("luarocks lint accepts the rockspec; luarocks test runs the specs, not make", function()
    must(format("cd %s && luarocks lint rockspec/lnetstat-scm-1.rockspec", quote(ROOT)))
    local text = read(ROOT .. "/rockspec/lnetstat-scm-1.rockspec")
    assert.is_nil(text:find("make test", 1, true))
    assert.is_nil(text:find("example", 1, true))
    assert.matches('script = "build%-aux/rock%-test%.lua"', text)
  end)

  root_it("luarocks make --tree (offline): the command, the man page, luarocks test", function()
    local tmp = helpers.mktemp_dir()
    finally(function() helpers.remove_tree(tmp) end)
    local tree = tmp .. "/tree"
    must(format("cd %s && %s unshare -n luarocks --lua-version=5.4 --tree %s make "
      .. "rockspec/lnetstat-scm-1.rockspec", quote(ROOT), NO_LUA_ENV, quote(tree)))
    assert.are.equal(read(ROOT .. "/man/lnetstat.1"),
      read(tree .. "/lib/luarocks/rocks-5.4/lnetstat/scm-1/man/lnetstat.1"))
    local out = must(format("cd / && %s %s/bin/lnetstat -V", NO_LUA_ENV, quote(tree)))
    assert.matches("^lnetstat %d+%.%d+", out)
    out = must(format("cd / && %s %s/bin/lnetstat -tln", NO_LUA_ENV, quote(tree)))
    assert.matches("^Active Internet connections %(only servers%)\n", out)
    -- luarocks test: the specs from a copy, against the rock (a subset here:
    -- LNETSTAT_ROCK_SPECS), offline
    out = must(format("cd %s && eval \"$(luarocks --lua-version=5.4 --tree %s path)\" && "
      .. "LNETSTAT_ROCK_SPECS=api unshare -n luarocks --lua-version=5.4 --tree %s test "
      .. "rockspec/lnetstat-scm-1.rockspec", quote(ROOT), quote(tree), quote(tree)))
    assert.is_truthy(out:find("rock-test: /usr/bin/lua5.4 from " .. tree .. "/share/lua/5.4 and "
      .. tree .. "/lib/lua/5.4\n", 1, true), out)
    assert.matches("\n%d+ successes / 0 failures / 0 errors", out)
  end)
end)
