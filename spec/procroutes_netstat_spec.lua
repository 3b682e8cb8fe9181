-- netstat -r's text from the /proc files (rtnetlink refused, or
-- source = "proc") against net-tools' netstat, which reads the same files,
-- in a private namespace: reject routes, an IPv4 route via an IPv6
-- gateway, IPv6 reject, expiring and local routes, and the placeholder
-- lines ipv6_route shows for each table without a default route.
local ns = require "lnetstat"
local fmt = require "lnetstat.format"
local helpers = require "helpers"

local format = string.format
local ROOT = helpers.ROOT
local quote, must, root_it = helpers.quote, helpers.must, helpers.root_it

-- A preloaded library that refuses rtnetlink sockets as a seccomp filter
-- or a locked-down container would (EPERM); every other socket is made.
local REFUSE_RTNL = [[
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netlink.h>

int socket(int domain, int type, int protocol)
{
	if (domain == AF_NETLINK && protocol == NETLINK_ROUTE) {
		errno = EPERM;
		return -1;
	}
	return (int)syscall(SYS_socket, domain, type, protocol);
}
]]

describe("records from the /proc files render as netstat -r renders them", function()
  local r4 = fmt.routes_text
  local r6 = fmt.routes6_text
  local function flags_of(arg) return fmt.parse_args { arg } end

  it("IPv4: the letters of the file's bits, a reject route with dashes", function()
    local list = {
      { family = "inet", dst = "203.0.113.9/32", gateway = "0.0.0.0", interface = "eth0", metric = 0,
        table = 254, rtf_flags = { UP = true, GATEWAY = true, HOST = true } },
      { family = "inet", dst = "203.0.113.10/32", metric = 0, table = 254,
        rtf_flags = { UP = true, HOST = true, REJECT = true } },
      { family = "inet", dst = "203.0.113.32/28", metric = 0, table = 254, rtf_flags = { UP = true } },
      { family = "inet", dst = "203.0.113.48/28", metric = 0, table = 254, rtf_flags = {} },
    }
    assert.are.equal("Kernel IP routing table\n"
      .. "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"
      .. "203.0.113.9     0.0.0.0         255.255.255.255 UGH       0 0          0 eth0\n"
      .. "203.0.113.10    -               255.255.255.255 !H        - -          - -\n"
      .. "203.0.113.32    0.0.0.0         255.255.255.240 U         0 0          0 *\n",
      r4(list, flags_of("-rn")))
  end)

  it("IPv6: a letter per bit, clones left out, null entries as the file has them", function()
    local list = {
      { family = "inet6", dst = "2001:db8:1::/48", interface = "lo", metric = 1024,
        rtf_flags = { REJECT = true, NONEXTHOP = true } },
      { family = "inet6", dst = "2001:db8:9::/48", gateway = "2001:db8::2", interface = "eth0",
        metric = 1024, rtf_flags = { UP = true, GATEWAY = true, EXPIRES = true } },
      { family = "inet6", dst = "::/0", gateway = "fe80::1", interface = "eth0", metric = 1024,
        rtf_flags = { UP = true, GATEWAY = true, DEFAULT = true, ADDRCONF = true, EXPIRES = true } },
      { family = "inet6", dst = "2001:db8:7::1/128", gateway = "2001:db8::2", interface = "eth0",
        metric = 0, rtf_flags = { UP = true, GATEWAY = true, CACHE = true } },
      { family = "inet6", dst = "::/0", interface = "lo", metric = 4294967295, null_entry = true,
        rtf_flags = { REJECT = true, NONEXTHOP = true } },
    }
    local line = "%-30s %-26s %-4s %-3d 1      0 %s\n"
    assert.are.equal("Kernel IPv6 routing table\n"
      .. "Destination                    Next Hop                   Flag Met Ref  Use If\n"
      .. line:format("2001:db8:1::/48", "::", "!n", 1024, "lo")
      .. line:format("2001:db8:9::/48", "2001:db8::2", "UGe", 1024, "eth0")
      .. line:format("::/0", "fe80::1", "UGDAe", 1024, "eth0")
      .. line:format("::/0", "::", "!n", -1, "lo"),
      r6(list, flags_of("-rn6")))
  end)
end)

describe("netstat -r text from /proc, against netstat", function()
  local A, B, dir, shim

  helpers.root_setup(function()
    dir = helpers.mktemp_dir()
    local src = dir .. "/refuse_rtnl.c"
    local f = assert(io.open(src, "w"))
    f:write(REFUSE_RTNL)
    f:close()
    shim = dir .. "/refuse_rtnl.so"
    must(format("cc -shared -fPIC -o %s %s", quote(shim), quote(src)))
    A = helpers.netns_create("procroutes-a")
    B = helpers.netns_create("procroutes-b")
    local function ip(cmd) helpers.ip(A, cmd) end
    ip("link add pr0 type veth peer name pr1 netns " .. quote(B))
    ip("link set pr0 up")
    helpers.ip(B, "link set pr1 up")
    ip("addr add 198.51.100.1/24 dev pr0")
    ip("addr add 2001:db8::1/64 dev pr0 nodad")
    ip("route add default via 198.51.100.254")
    ip("route add 203.0.113.64/26 via 198.51.100.2")
    ip("route add 203.0.113.9/32 via inet6 2001:db8::2 dev pr0")
    ip("route add unreachable 203.0.113.10/32")
    ip("route add prohibit 203.0.113.16/28")
    ip("route add blackhole 203.0.113.32/28")
    ip("route add throw 203.0.113.48/28")
    ip("-6 route add unreachable 2001:db8:1::/48")
    ip("-6 route add prohibit 2001:db8:2::/48")
    ip("-6 route add blackhole 2001:db8:3::/48")
    ip("-6 route add throw 2001:db8:5::/48")
    ip("-6 route add 2001:db8:9::/48 via 2001:db8::2 expires 600")
    ip("-6 route add 2001:db8:c::/48 nexthop via 2001:db8::2 nexthop via 2001:db8::3 dev pr0")
    -- a custom table: its own placeholder line in ipv6_route
    ip("-6 route add 2001:db8:d::/48 via 2001:db8::2 table 100")
  end, function()
    helpers.netns_delete(A, B)
    helpers.remove_tree(dir)
    A, B, dir = nil, nil, nil
  end)

  -- netstat's text and ours, read back to back until they agree; the Ref
  -- column, the kernel's reference count which moves between two reads
  -- (and which rtnetlink does not report), masked: the rest byte for byte.
  local function compare(args, render)
    return helpers.compare_netstat(A, args, render, helpers.mask_route_ref)
  end

  -- The command in A with rtnetlink refused.
  local function refused(cmd)
    return helpers.netns_run(A, format("env LD_PRELOAD=%s %s", quote(shim), cmd))
  end

  root_it("with rtnetlink refused, routes come from /proc and say why", function()
    local code = "local l = assert(require('lnetstat').routes { family = 'inet6' }) "
      .. "io.write(l.source, '|', l.partial)"
    local out = refused(format("env LUA_PATH=%s LUA_CPATH=%s %s -e %s 2>&1",
      quote(ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;;"),
      quote(ROOT .. "build/" .. helpers.BUILD .. "/?.so;;"), helpers.LUA, quote(code)))
    assert.matches("^proc|.*rtnetlink failed %(.*Operation not permitted%): read /proc instead", out)
  end)

  root_it("lnetstat -rn, -rne, -rnee and -rn6 with rtnetlink refused print what netstat prints",
    function()
    for _, args in ipairs { "-rn", "-rne", "-rnee", "-rn6" } do
      local out = compare(args, function() return refused(helpers.LNETSTAT .. " " .. args .. " 2>&1") end)
      if args == "-rn6" then
        assert.matches("\n2001:db8:1::/48 +:: +!n +1024 ", out)
        assert.matches("\n2001:db8:9::/48 +2001:db8::2 +UGe +1024 ", out)
        -- tables 100, main and local each end with their placeholder
        local _, nulls = out:gsub("\n::/0 +:: +!n +%-1 +R +0 lo", "")
        assert.are.equal(3, nulls)
      else
        assert.matches("\n203%.0%.113%.9 +0%.0%.0%.0 +255%.255%.255%.255 UGH ", out)
        assert.matches("\n203%.0%.113%.10 +%- +255%.255%.255%.255 !H ", out)
      end
    end
  end)

  root_it("routes { source = 'proc' } through lnetstat.format prints what netstat prints", function()
    for _, args in ipairs { "-rn", "-rne", "-rnee" } do
      compare(args, function()
        local list = assert(ns.routes { netns = A, family = "inet", source = "proc" })
        return fmt.routes_text(list, fmt.parse_args { args })
      end)
    end
    compare("-rn6", function()
      local list = assert(ns.routes { netns = A, family = "inet6", table = "all", source = "proc",
        null_entries = true })
      return fmt.routes6_text(list, fmt.parse_args { "-rn6" })
    end)
    -- the route view, its data module answering from /proc
    local proc_ns = {
      routes = function(o)
        o.source = "proc"
        return ns.routes(o)
      end,
      each_route = function(o, fn)
        o.source = "proc"
        return ns.each_route(o, fn)
      end,
    }
    for _, args in ipairs { "-rn", "-rn6" } do
      compare(args, function()
        local chunks = {}
        assert(fmt.route_view(fmt.parse_args { args }, { netns = A, lnetstat = proc_ns,
          write = function(text) chunks[#chunks + 1] = text end }))
        return table.concat(chunks)
      end)
    end
  end)

  root_it("/proc records name the file's bits; null entries only when asked", function()
    local list = assert(ns.routes { netns = A, family = "inet6", table = "all", source = "proc" })
    local with = assert(ns.routes { netns = A, family = "inet6", table = "all", source = "proc",
      null_entries = true })
    local nulls = 0
    for _, r in ipairs(with) do
      if r.null_entry then
        nulls = nulls + 1
        assert.are.same({ REJECT = true, NONEXTHOP = true }, r.rtf_flags)
        assert.are.equal("::/0", r.dst)
      end
    end
    assert.are.equal(3, nulls)
    assert.are.equal(#with - 3, #list)
    for _, r in ipairs(list) do
      assert.is_nil(r.null_entry)
      assert.is_nil(r.rtf)
      assert.is_table(r.rtf_flags)
      if r.dst == "2001:db8:9::/48" then assert.is_true(r.rtf_flags.EXPIRES) end
    end
    -- fields: rtf_flags only when named
    local lean = assert(ns.routes { netns = A, family = "inet", source = "proc", fields = { "flags" } })
    for _, r in ipairs(lean) do
      assert.is_nil(r.rtf_flags)
      assert.is_string(r.flags)
    end
    local named = assert(ns.routes { netns = A, family = "inet", source = "proc", fields = { "rtf_flags" } })
    for _, r in ipairs(named) do
      assert.is_table(r.rtf_flags)
      assert.is_nil(r.rtf)
      assert.is_nil(r.flags)
    end
    assert.has_error(function() ns.routes { null_entries = 1 } end,
      "bad argument #1 to 'routes' (null_entries must be a boolean, got number)")
  end)
end)

describe("procroutes_netstat_spec cleanup", function()
  root_it("left no network namespace behind", function()
    assert.is_nil(helpers.netns_leftover("procroutes-a", "procroutes-b"))
  end)
end)
