-- `luarocks test`: runs the specs against the installed rock, offline.
--
-- LuaRocks runs this script with the interpreter the rock is built for, in
-- the checkout. The rock must be installed and on the paths, for instance:
--   luarocks --tree T make rockspec/lnetstat-scm-1.rockspec
--   eval "$(luarocks --tree T path)"
--   luarocks --tree T test rockspec/lnetstat-scm-1.rockspec
-- The specs run with Debian's busted (lua-busted, /usr/bin/busted) from a
-- temporary directory holding a copy of spec/, the rock's own lnetstat
-- script as bin/lnetstat, its manual page as man/ and its module directory
-- as lua/, so neither the checkout's modules nor its build can be loaded:
-- every require and every command the specs run is the installed rock's.
-- Extra arguments go to busted.
local interp = arg[-1]
for i = -2, -10, -1 do
  if arg[i] == nil then break end
  interp = arg[i]
end

-- The specs that test the library and the command; the others read the
-- checkout itself (Makefile, README, rockspec, C sources) or need the
-- test-only lnetstat.testhooks module, which a rock does not install.
-- The environment variable LNETSTAT_ROCK_SPECS (names separated by
-- spaces, e.g. "api cli") runs those instead.
local SPECS = {
  "api", "query", "format", "encode", "cli", "consumers", "check_init",
}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function search(name, path)
  local file = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local candidate = template:gsub("%?", file)
    local f = io.open(candidate, "r")
    if f then
      f:close()
      return candidate
    end
  end
end

local function die(msg)
  io.stderr:write("rock-test: ", msg, "\n")
  os.exit(1)
end

local cwd = os.getenv("PWD") or "."
local cli = search("lnetstat.cli", package.path)
local core = search("lnetstat.core", package.cpath)
if not cli or not core then
  die("the lnetstat rock is not on the paths: install it, then eval \"$(luarocks --tree TREE path)\"")
end
if cli:sub(1, 1) ~= "/" or core:sub(1, 1) ~= "/" or cli:find(cwd .. "/", 1, true) == 1 then
  die("lnetstat.cli resolves to " .. cli .. ", not to an installed rock")
end
local luadir = cli:match("^(.*)/lnetstat/cli%.lua$")
local libdir = core:match("^(.*)/lnetstat/core%.so$")
local tree, abi = luadir:match("^(.*)/share/lua/([%d.]+)$")
if not tree then die("cannot tell the rock tree from " .. luadir) end
local script = ("%s/lib/luarocks/rocks-%s/lnetstat/scm-1/bin/lnetstat"):format(tree, abi)
if not io.open(script, "r") then die("the rock's command is not at " .. script) end

local tmp = os.tmpname()
os.remove(tmp)
local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end
-- lua/ and man/ in the copy are the rock's own (specs read module sources
-- and the manual page)
local rockdir = script:match("^(.*)/bin/lnetstat$")
if not sh(("mkdir -p %s/bin && cp -R spec %s/ && cp %s %s/bin/lnetstat && ln -s %s %s/lua"
  .. " && cp -R %s/man %s/"):format(quote(tmp), quote(tmp), quote(script), quote(tmp), quote(luadir),
  quote(tmp), quote(rockdir), quote(tmp))) then
  die("cannot prepare " .. tmp)
end
-- LNETSTAT_ROCK_SPECS="api cli": only those
local only = os.getenv("LNETSTAT_ROCK_SPECS")
if only and only:match("%S") then
  SPECS = {}
  for name in only:gmatch("[%w_]+") do SPECS[#SPECS + 1] = name end
end
local files = {}
for i, s in ipairs(SPECS) do files[i] = "spec/" .. s .. "_spec.lua" end
local extra = {}
for i = 1, #arg do extra[i] = quote(arg[i]) end
io.stdout:write(("rock-test: %s from %s and %s\n"):format(interp, luadir, libdir))
-- LUA_PATH and LUA_CPATH too: the commands the specs start find the rock
local lpath = luadir .. "/?.lua;" .. luadir .. "/?/init.lua;"
local cpath = libdir .. "/?.so;"
local ok = sh(("cd %s && env -u LUA_PATH_5_2 -u LUA_CPATH_5_2 -u LUA_PATH_5_3 -u LUA_CPATH_5_3 "
  .. "-u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH=%s LUA_CPATH=%s LNETSTAT_SPEC_RUN=$$ "
  .. "%s /usr/bin/busted --helper=spec/suite_guard.lua --lpath=%s --cpath=%s %s %s"):format(
  quote(tmp), quote(lpath .. ";"), quote(cpath .. ";"), quote(interp),
  quote(lpath .. "spec/?.lua"), quote(cpath), table.concat(files, " "), table.concat(extra, " ")))
sh("rm -rf " .. quote(tmp))
os.exit(ok and 0 or 1)
