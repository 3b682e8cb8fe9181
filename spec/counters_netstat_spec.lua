-- `lnetstat -s` and stats() against net-tools netstat -s and nstat, on the
-- same counters (root):
--  * a fabricated /proc in a private mount namespace: this kernel's snmp,
--    netstat and snmp6 with every value replaced, so that every line netstat
--    has a text for is printed, with values above 2^32, 2^53 and 2^63
--    (Lua 5.3+; below 2^53 for interpreters without integers);
--  * two network namespaces joined by a veth pair, with UDP datagrams that
--    are fragmented over IPv4 and IPv6 (the fragmentation counters of a
--    live kernel).
local helpers = require "helpers"

local root_it = helpers.root_it
local quote, run, must = helpers.quote, helpers.run, helpers.must
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = SPEC .. "../"
local LNETSTAT = helpers.LUA .. " " .. quote(ROOT .. "bin/lnetstat")
local INTEGERS = math.type ~= nil

local VIEWS = { "-s", "-st", "-su", "-sw", "-sU", "-s4", "-s6", "-st6", "-su6", "-sw6", "-sU6",
  "-s -t -u", "-s -U -t", "-sa", "-sn" }

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The i-th replacement value, as text: small, above 2^32, above 2^53,
-- above 2^63 and just below 2^64, in turn.
local function value_text(i)
  local k, n = i % 5, format("%03d", i % 1000)
  if k == 0 then return tostring(i) end
  if k == 1 then return "4294968" .. n end
  if not INTEGERS then return "9007199254" .. n end -- below 2^53
  if k == 2 then return "9007199254741" .. n end
  if k == 3 then return "9223372036854776" .. n end
  return "18446744073709550" .. n
end

-- A decimal text read into a Lua integer modulo 2^64: how stats() holds a
-- u64 counter (two's complement above 2^63). Without integers, a number.
local function wrapped(text)
  if not INTEGERS then return tonumber(text) end
  local v = 0
  for d in text:gmatch("%d") do v = v * 10 + (d:byte() - 48) end
  return v
end

-- snmp/netstat: the value line of each pair replaced; snmp6: each value.
-- Tcp MaxConn keeps its -1 (signed).
local function fabricate(text, counter, pairs_file)
  local out, header = {}, nil
  for line in text:gmatch("[^\n]+") do
    if pairs_file then
      local prefix = line:match("^(%w+):")
      if header and header[1] == prefix then
        local names, i, vals = {}, 0, { prefix .. ":" }
        for w in header[2]:gmatch("%S+") do names[#names + 1] = w end
        for w in line:gmatch("%S+") do
          if i > 0 then
            counter.n = counter.n + 1
            vals[#vals + 1] = (prefix == "Tcp" and names[i + 1] == "MaxConn") and w
              or value_text(counter.n)
          end
          i = i + 1
        end
        out[#out + 1] = header[2]
        out[#out + 1] = table.concat(vals, " ")
        header = nil
      else
        header = { prefix, line }
      end
    else
      local name = line:match("^(%S+)")
      counter.n = counter.n + 1
      out[#out + 1] = format("%-32s\t%s", name, value_text(counter.n))
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Runs the commands inside a private mount namespace whose /proc is a tmpfs
-- holding dir/src's files as /proc/net/* (and /proc/thread-self/net).
local function in_fake_proc(dir, commands)
  local script = table.concat({
    "set -e",
    format("mount -t tmpfs lnetstat-spec %s", quote(dir .. "/proc")),
    format("mkdir -p %s %s", quote(dir .. "/proc/net"), quote(dir .. "/proc/thread-self")),
    format("cp %s/src/* %s", quote(dir), quote(dir .. "/proc/net/")),
    format("ln -s ../net %s", quote(dir .. "/proc/thread-self/net")),
    format("mount --bind %s /proc", quote(dir .. "/proc")),
    "set +e",
    commands,
  }, "\n")
  write(dir .. "/run.sh", script .. "\n")
  must("unshare -m sh " .. quote(dir .. "/run.sh"))
end

local function first_difference(a, b)
  local la, lb = {}, {}
  for l in a:gmatch("([^\n]*)\n") do la[#la + 1] = l end
  for l in b:gmatch("([^\n]*)\n") do lb[#lb + 1] = l end
  for i = 1, math.max(#la, #lb) do
    if la[i] ~= lb[i] then
      return format("line %d:\n  netstat:  %s\n  lnetstat: %s", i, tostring(la[i]), tostring(lb[i]))
    end
  end
  return "same lines"
end

describe("lnetstat -s on fabricated counters", function()
  local dir
  setup(function()
    if not helpers.is_root() then return end
    dir = helpers.mktemp_dir()
    must(format("mkdir -p %s %s %s", quote(dir .. "/src"), quote(dir .. "/proc"), quote(dir .. "/out")))
    local counter = { n = 0 }
    write(dir .. "/src/snmp", fabricate(read("/proc/net/snmp"), counter, true))
    write(dir .. "/src/netstat", fabricate(read("/proc/net/netstat"), counter, true))
    write(dir .. "/src/snmp6", fabricate(read("/proc/net/snmp6"), counter, false))
    local cmds = {}
    for i, args in ipairs(VIEWS) do
      cmds[#cmds + 1] = format("netstat %s > %s 2>&1", args, quote(format("%s/out/n%d", dir, i)))
      cmds[#cmds + 1] = format("%s %s > %s 2>&1", LNETSTAT, args, quote(format("%s/out/l%d", dir, i)))
    end
    cmds[#cmds + 1] = format("NSTAT_HISTORY=%s nstat -az > %s 2>&1", quote(dir .. "/out/hist"),
      quote(dir .. "/out/nstat"))
    -- stats() of the same files, one "Group Name value" line each
    write(dir .. "/dump.lua", format([[
package.path = %q; package.cpath = %q
local s = assert(require("lnetstat").stats())
for g, t in pairs(s) do
  if type(t) == "table" and g ~= "sockstat" then
    for k, v in pairs(t) do
      local text = math.type and math.type(v) == "integer" and string.format("%%d", v)
        or string.format("%%.17g", v)
      io.write(g, " ", k, " ", text, "\n")
    end
  end
end
io.write("partial ", tostring(s.partial), "\n")
]], package.path, package.cpath))
    cmds[#cmds + 1] = format("%s %s > %s 2>&1", helpers.LUA, quote(dir .. "/dump.lua"),
      quote(dir .. "/out/stats"))
    in_fake_proc(dir, table.concat(cmds, "\n"))
  end)
  teardown(function()
    if dir then helpers.remove_tree(dir) end
  end)

  for i, args in ipairs(VIEWS) do
    root_it("prints netstat " .. args .. " byte for byte", function()
      local want, got = read(format("%s/out/n%d", dir, i)), read(format("%s/out/l%d", dir, i))
      assert.is_true(#want > 0 and want:find("\n") ~= nil, want)
      assert(want == got, format("lnetstat %s differs from netstat %s: %s", args, args,
        first_difference(want, got)))
    end)
  end

  root_it("prints every line netstat prints for the fabricated counters", function()
    -- the counters are not zero: the optional lines and the histograms
    -- are all there (the fabricated files did reach both programs)
    local text = read(dir .. "/out/n1")
    for _, line in ipairs { "outgoing packets fragmented ok", "outgoing packets failed fragmentation",
      "packets rejected in established connections because of timestamp",
      "ICMP input histogram:", INTEGERS and "18446744073709550" or "9007199254" } do
      assert.is_truthy(text:find(line, 1, true), line)
    end
  end)

  root_it("gives stats() every value nstat reads, above 2^32, 2^53 and 2^63 too", function()
    local got = {}
    local dump = read(dir .. "/out/stats")
    assert.matches("partial nil\n", dump, 1, true)
    for g, k, v in dump:gmatch("(%S+) (%S+) (%S+)\n") do
      if g ~= "partial" then got[g .. k] = v end
    end
    local compared = 0
    for name, v in read(dir .. "/out/nstat"):gmatch("\n(%S+)%s+(%d+)%s+%S+") do
      assert.is_not_nil(got[name], "nstat counter missing from stats(): " .. name)
      local want = wrapped(v)
      local have = INTEGERS and math.tointeger(tonumber(got[name])) or tonumber(got[name])
      if not INTEGERS then
        -- doubles: the nearest one
        assert.is_true(math.abs(have - want) <= want * 2 ^ -52, name)
      else
        assert.equal(want, have, name .. ": nstat " .. v)
      end
      compared = compared + 1
    end
    assert.is_true(compared > 300, "compared " .. compared)
  end)
end)

describe("lnetstat -s in namespaces with fragmented traffic", function()
  local a, b
  setup(function()
    if not helpers.is_root() then return end
    a = helpers.netns_create("cnt-frag-a")
    b = helpers.netns_create("cnt-frag-b")
    local pid = helpers.getpid()
    local va, vb = "cfa" .. pid, "cfb" .. pid
    must(format("ip link add %s netns %s type veth peer name %s netns %s", va, quote(a), vb, quote(b)))
    for _, c in ipairs {
      { a, va, "198.51.100.1/24", "2001:db8::1/64" }, { b, vb, "198.51.100.2/24", "2001:db8::2/64" },
    } do
      local n = quote(c[1])
      must(format("ip -n %s link set lo up && ip -n %s addr add %s dev %s && "
        .. "ip -n %s addr add %s dev %s nodad && ip -n %s link set %s up",
        n, n, c[3], c[2], n, c[4], c[2], n, c[2]))
    end
    -- datagrams bigger than the veth's MTU, to a port nobody has (the
    -- peer reassembles them, then answers port unreachable)
    must("ip netns exec " .. quote(a) .. [[ python3 -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(4):
    u.sendto(b"z" * 3000, ("198.51.100.2", 9))
    u6.sendto(b"z" * 3000, ("2001:db8::2", 9))
    time.sleep(0.05)
']])
    helpers.sleep(0.3)
  end)
  teardown(function()
    helpers.netns_delete(a)
    helpers.netns_delete(b)
  end)

  for _, args in ipairs { "-s", "-sw", "-s6", "-sw6", "-sU", "-sU6" } do
    root_it("prints netstat " .. args .. " in each namespace", function()
      for _, n in ipairs { a, b } do
        local ok, msg
        for _ = 1, 3 do -- read again when a counter moved in between
          local want = run(format("ip netns exec %s netstat %s 2>&1", quote(n), args))
          local got = run(format("%s --netns %s %s 2>&1", LNETSTAT, quote(n), args))
          ok, msg = want == got, first_difference(want, got)
          if ok then break end
          helpers.sleep(0.3)
        end
        assert(ok, format("%s in %s: %s", args, n, msg))
      end
    end)
  end

  root_it("has the fragmentation counters of each namespace", function()
    local text = run(format("%s --netns %s -sw", LNETSTAT, quote(a)))
    assert.matches("\n    4 outgoing packets fragmented ok\n", text, 1, true)
    text = run(format("%s --netns %s -sw6", LNETSTAT, quote(a)))
    assert.matches("\n    4 outgoing packets fragmented ok\n", text, 1, true)
    text = run(format("%s --netns %s -sw", LNETSTAT, quote(b)))
    assert.matches("\n    4 packets reassembled ok\n", text, 1, true)
  end)
end)
