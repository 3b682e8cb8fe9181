-- --netns NAME|PATH|PID, the same everywhere it is documented: the netstat
-- command, metrics, check --init, tstconfig and the Lua functions, all read
-- a private namespace (a listener on port 4711 and an interface lnx0 that
-- only it has) whichever of the three forms names it.
local helpers = require "helpers"

local quote, must = helpers.quote, helpers.must
local root_it = helpers.root_it
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(SPEC .. "../bin/lnetstat")

describe("--netns", function()
  it("options.netns_arg: digits are a pid, anything else a name or a path", function()
    local options = require "lnetstat.options"
    assert.are.equal(1234, options.netns_arg("1234"))
    assert.are.equal("web", options.netns_arg("web"))
    assert.are.equal("/proc/1/ns/net", options.netns_arg("/proc/1/ns/net"))
    assert.are.equal("0x10", options.netns_arg("0x10"))
    assert.are.equal("1e3", options.netns_arg("1e3"))
    assert.are.equal(" 12", options.netns_arg(" 12"))
    assert.is_nil(options.netns_arg(nil))
    assert.are.equal(1234, require("lnetstat.cliargs").netns("1234"))
  end)

  root_it("a name, a path and a pid name the same namespace everywhere", function()
    local ns, dir, remove = helpers.netns_with_dir("lnarg")
    local pid, h
    finally(function()
      if pid then helpers.kill(pid, 5, "python3") end
      if h then h.cleanup() end
      remove()
    end)
    must(format("ip -n %s link add lnx0 type veth peer name lnx1", quote(ns)))
    pid, h = helpers.spawn(format("ip netns exec %s python3 -c %s", quote(ns), quote(
      "import socket,sys,time\ns=socket.socket()\ns.bind(('0.0.0.0',4711))\ns.listen()\n"
      .. "print('ready');sys.stdout.flush();time.sleep(120)")))
    assert(h:wait_ready(10))
    local tst = dir .. "/listen.tstconfig"
    local f = assert(io.open(tst, "w"))
    f:write("command netstat -lnt\nparse_mode fixed\npositions 0 6 13 20 44 68 80\n"
      .. "skip_header_lines 2\ncolumns 3 5\nproperty 0.0.0.0:4711\nassert_eq LISTEN\n")
    f:close()
    local ns_lib = require "lnetstat"
    for _, spec in ipairs { ns, "/var/run/netns/" .. ns, tostring(pid) } do
      local out = must(format("%s -tln --netns %s", LNETSTAT, quote(spec)))
      assert.matches("\ntcp +0 +0 0%.0%.0%.0:4711 ", out)
      out = must(format("%s metrics --netns %s", LNETSTAT, quote(spec)))
      assert.matches('lnetstat_network_receive_bytes_total{device="lnx0"}', out, 1, true)
      out = must(format("%s metrics --prefix node --netns=%s", LNETSTAT, quote(spec)))
      assert.matches('node_network_receive_bytes_total{device="lnx0"}', out, 1, true)
      out = must(format("%s check --init --netns %s", LNETSTAT, quote(spec)))
      assert.matches("port = 4711", out, 1, true)
      out = must(format("%s tstconfig --netns %s %s", LNETSTAT, quote(spec), quote(tst)))
      -- passes only where 0.0.0.0:4711 listens
      assert.matches("\nSUMMARY REPORT: PASS\n", out)
      assert.matches("\nAssertions passed: 1\n", out)
      -- from Lua: the text form through options.netns_arg, as the commands do
      local list = assert(ns_lib.listening { proto = "tcp",
        netns = require("lnetstat.options").netns_arg(spec) })
      local ports = {}
      for _, s in ipairs(list) do ports[#ports + 1] = s.local_port end
      assert.are.same({ 4711 }, ports)
    end
  end)
end)
