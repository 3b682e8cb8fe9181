-- `lnetstat -g` against net-tools netstat -g for interface names of 11 to
-- 15 bytes (netstat reads /proc/net/igmp's device column as 15 characters
-- up to the colon), in a private namespace (root).
local helpers = require "helpers"

local root_it = helpers.root_it
local quote, run, must = helpers.quote, helpers.run, helpers.must
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(SPEC .. "../bin/lnetstat")

describe("lnetstat -g with long interface names", function()
  local a, b, names
  setup(function()
    if not helpers.is_root() then return end
    a = helpers.netns_create("cnt-grp-a")
    b = helpers.netns_create("cnt-grp-b")
    local pid = helpers.getpid() % 1000000
    -- 15, 12 and 11 bytes: longer than the 10 of the kernel's padding
    names = { format("cgl%012d", pid), format("cgm%09d", pid), format("cgn%08d", pid) }
    for i, name in ipairs(names) do
      local peer = format("cgp%d-%d", i, pid)
      must(format("ip link add %s netns %s type veth peer name %s netns %s",
        name, quote(a), peer, quote(b)))
      must(format("ip -n %s addr add 198.51.100.%d/32 dev %s && ip -n %s link set %s up",
        quote(a), i, name, quote(a), name))
    end
    must(format("ip -n %s link set lo up", quote(a)))
  end)
  teardown(function()
    helpers.netns_delete(a)
    helpers.netns_delete(b)
  end)

  for _, args in ipairs { "-g", "-gn", "-gn4", "-gn6" } do
    root_it("prints netstat " .. args .. " byte for byte", function()
      local want = run(format("ip netns exec %s netstat %s 2>&1", quote(a), args))
      local got = run(format("%s --netns %s %s 2>&1", LNETSTAT, quote(a), args))
      for _, name in ipairs(names) do
        -- the memberships of each interface are in netstat's table
        assert.matches("\n" .. name .. " ", want, 1, true)
      end
      assert.equal(want, got)
    end)
  end
end)
