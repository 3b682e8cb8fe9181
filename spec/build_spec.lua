-- The C build: what the two modules export and offer, and that the
-- Makefile rebuilds only what changed.
local helpers = require "helpers"

local core = require "lnetstat.core"
local hooks = require "lnetstat.testhooks"

-- The folder the interpreter running the suite loads lnetstat/core.so from
-- (build/5.4, build/luajit, ...).
local so = assert(package.searchpath("lnetstat.core", package.cpath))
local build = assert(so:match("^(.*)/lnetstat/core%.so$"), so)
local version = assert(build:match("build/([^/]+)$"), build)

local function exported(path)
  local out = helpers.must("nm -D --defined-only " .. helpers.quote(path))
  local t = {}
  for name in out:gmatch("%x+ %u ([%w_]+)") do t[#t + 1] = name end
  table.sort(t)
  return t
end

local function functions(module)
  local t = {}
  for k, v in pairs(module) do
    if type(v) == "function" then t[#t + 1] = k end
  end
  table.sort(t)
  return t
end

describe("C modules", function()
  it("lnetstat.core exports only its entry point", function()
    assert.same({ "luaopen_lnetstat_core" }, exported(so))
  end)

  it("lnetstat.testhooks exports only its entry point", function()
    assert.same({ "luaopen_lnetstat_testhooks" }, exported(build .. "/lnetstat/testhooks.so"))
  end)

  it("lnetstat.core offers the public functions and no test hook", function()
    local names = functions(core)
    assert.same({
      "addrs", "attach_owner", "attach_owners", "cancel_owner_map", "finish_owner_map", "ifname",
      "link_stat_names", "links", "neighs", "netns_list", "netns_nsid", "open", "owner_map", "parse_cidr",
      "proc_arp", "proc_dev", "proc_groups", "proc_if_inet6", "proc_routes", "proc_sockets", "proc_stats",
      "read_file", "release", "route_dump", "route_get", "sock_diag", "start_owner_map", "user_names",
      "watch", "write_atomic",
    }, names)
    for _, name in ipairs(names) do
      assert.is_nil(name:find("^_"), name)
    end
    assert.equal("lnetstat.core", core._NAME)
  end)

  it("lnetstat.testhooks offers the parser and decoder hooks, a fork, a thread and a namespace move", function()
    assert.same({
      "_addr_ntop", "_decode_diag", "_decode_rtnl", "_in_fork", "_in_thread", "_parse_if_inet6", "_parse_igmp",
      "_parse_igmp6",
      "_parse_proc", "_parse_proc_arp", "_parse_proc_dev", "_parse_proc_routes",
      "_parse_snmp", "_parse_snmp6", "_parse_sockstat", "_unshare_net", "_with_alloc_limit",
    }, functions(hooks))
    assert.equal(core._VERSION, hooks._VERSION)
  end)
end)

describe("rockspec", function()
  it("lists every C unit of lnetstat.core, and not the test hooks", function()
    local text = assert(helpers.read_file("rockspec/lnetstat-scm-1.rockspec"))
    local files = helpers.must("find csrc -name '*.c' | sort")
    local n = 0
    for path in files:gmatch("[^\n]+") do
      local listed = text:find('"' .. path .. '"', 1, true) ~= nil
      if path == "csrc/testhooks.c" then
        assert.is_false(listed, path)
      else
        assert.is_true(listed, path .. " is not in the rockspec's sources")
        n = n + 1
      end
    end
    assert.is_true(n >= 20)
  end)
end)

describe("make", function()
  -- A copy of the sources and of this interpreter's build, timestamps kept,
  -- so that touching a file never disturbs the checkout. make -n prints the
  -- commands it would run.
  local copy
  setup(function()
    copy = helpers.run("mktemp -d"):gsub("%s+$", "")
    helpers.must("mkdir -p " .. helpers.quote(copy .. "/build"))
    helpers.must("cp -a Makefile csrc build-aux " .. helpers.quote(copy))
    helpers.must("cp -a " .. helpers.quote(build) .. " " .. helpers.quote(copy .. "/build/"))
    -- brings the copy up to date if a source changed since the last build
    helpers.must("cd " .. helpers.quote(copy) .. " && make -s LUA_VERSION=" .. version
      .. " all testhooks >/dev/null")
  end)
  teardown(function()
    if copy then helpers.run("rm -rf " .. helpers.quote(copy)) end
  end)

  local function dry_run()
    local out = helpers.must("cd " .. helpers.quote(copy) .. " && make -n LUA_VERSION="
      .. version .. " all testhooks 2>&1")
    local compiled, linked = {}, 0
    for line in out:gmatch("[^\n]+") do
      local src = line:match(" %-c %-o %S+ (csrc/%S+%.c)$")
      if src then compiled[#compiled + 1] = src end
      if line:find(" -shared ", 1, true) then linked = linked + 1 end
    end
    return compiled, linked
  end

  it("rebuilds nothing when nothing changed", function()
    local compiled, linked = dry_run()
    assert.same({}, compiled)
    assert.equal(0, linked)
  end)

  it("recompiles one object after one C file changed, then links", function()
    helpers.must("touch " .. helpers.quote(copy .. "/csrc/text/addr.c"))
    local compiled, linked = dry_run()
    assert.same({ "csrc/text/addr.c" }, compiled)
    assert.equal(2, linked)   -- core.so and testhooks.so both hold it
  end)

  it("recompiles the units that include a header after it changed", function()
    helpers.must("touch " .. helpers.quote(copy .. "/csrc/record/route.h"))
    local compiled = dry_run()
    table.sort(compiled)
    assert.same({ "csrc/record/route.c", "csrc/source/proc_route.c",
      "csrc/source/rtnl_route.c", "csrc/text/addr.c" }, compiled)
  end)
end)
