-- lnetstat monitor: argument parsing, the text and JSON lines of events, and
-- `bin/lnetstat monitor` run in the background against a private netns.
local monitor = require "lnetstat.monitor"
local helpers = require "helpers"

local format = string.format
local quote, must = helpers.quote, helpers.must

-- A file-like sink that keeps what is written.
local function sink()
  local parts = {}
  return {
    write = function(self, ...)
      for _, s in ipairs { ... } do parts[#parts + 1] = s end
      return self
    end,
    flush = function() end,
    text = function() return table.concat(parts) end,
  }
end

describe("lnetstat monitor arguments", function()
  it("takes kinds, --netns and --json", function()
    local o = assert(monitor.parse { "routes", "--json", "links", "--netns", "web", "routes" })
    assert.same({ "routes", "links" }, o.kinds)
    assert.equals("web", o.netns)
    assert.is_true(o.json)
    assert.equals("web", assert(monitor.parse { "--netns=web" }).netns)
    assert.equals(1234, assert(monitor.parse { "--netns", "1234" }).netns) -- a pid
  end)

  it("watches links, addresses, routes and neighbors by default", function()
    assert.same({ "links", "addresses", "routes", "neighbors" }, assert(monitor.parse {}).kinds)
  end)

  it("rejects unknown kinds and options with exit code 2", function()
    local out, err = sink(), sink()
    assert.equals(2, monitor.run({ "link" }, out, err))
    assert.matches("^lnetstat monitor: argument 'kinds' must be one of 'links'", err.text())
    assert.equals("", out.text())
    err = sink()
    assert.equals(2, monitor.run({ "--jsn" }, out, err))
    assert.matches("unknown option %-%-jsn; did you mean '%-%-json'%?", err.text())
    err = sink()
    assert.equals(2, monitor.run({ "--netns" }, out, err))
    assert.matches("option %-%-netns needs a value", err.text())
  end)

  it("prints its help with --help and exits 0", function()
    local out, err = sink(), sink()
    assert.equals(0, monitor.run({ "--help" }, out, err))
    assert.matches("^Usage: lnetstat monitor", out.text())
    assert.matches("Exit status: 0 success", out.text())
    assert.equals("", err.text())
  end)

  it("fails with exit code 2 when the namespace does not exist", function()
    local out, err = sink(), sink()
    local missing = "lnetstat-monitor-missing-" .. helpers.getpid()
    assert.equals(2, monitor.run({ "--netns", missing }, out, err))
    assert.matches("netns '/var/run/netns/" .. missing:gsub("%-", "%%-") .. "'", err.text())
  end)

  it("is a subcommand of lnetstat, listed in its usage", function()
    local out = must(format("%s bin/lnetstat -h", helpers.LUA))
    assert.matches("lnetstat monitor %[KIND%.%.%.%]", out)
    local help = must(format("%s bin/lnetstat monitor -h", helpers.LUA))
    assert.matches("^Usage: lnetstat monitor", help)
    -- the exit code through the shell: Lua 5.1's popen does not report it
    local rc = helpers.run(format("%s bin/lnetstat monitor lnks 2>/dev/null; echo $?", helpers.LUA))
    assert.equals("2\n", rc)
  end)
end)

describe("lnetstat monitor lines", function()
  it("escape the control bytes of names the host chose", function()
    local line = monitor.text_line { kind = "link", action = "del",
      record = { name = "ev\27[2Jil", index = 9, flags = {} } }
    assert.is_nil(line:find("\27", 1, true))
    assert.truthy(line:find("ev\\x1B[2Jil", 1, true), line)
  end)

  it("writes one line per event, like ip monitor", function()
    assert.equals("link new wl0 index 4 mtu 1500 state DOWN <BROADCAST,MULTICAST> kind veth "
      .. "link/ether 02:00:00:00:00:01", monitor.line {
        kind = "link", action = "new",
        record = { name = "wl0", index = 4, mtu = 1500, operstate = "DOWN", kind = "veth",
          flags = { MULTICAST = true, BROADCAST = true }, type = "ether", mac = "02:00:00:00:00:01" },
      })
    assert.equals("address del 198.51.100.7/24 dev wa0 scope global permanent", monitor.line {
      kind = "address", action = "del",
      record = { addr = "198.51.100.7", cidr = "198.51.100.7/24", interface = "wa0",
        scope = "global", flags = { permanent = true } },
    })
    -- as ip: no "proto boot", no "scope universe"
    assert.equals("route change 203.0.113.0/24 via 198.51.100.3 dev wa0 table main metric 7",
      monitor.line {
        kind = "route", action = "new", change = true,
        record = { dst = "203.0.113.0/24", gateway = "198.51.100.3", interface = "wa0",
          table = 254, table_name = "main", protocol = "boot", scope = "universe", metric = 7,
          type = "unicast" },
      })
    assert.equals("route new local 2001:db8::1 dev wa0 table local proto kernel metric 0 "
      .. "linkdown pref medium", monitor.line {
        kind = "route", action = "new",
        record = { family = "inet6", dst = "2001:db8::1/128", interface = "wa0", table = 255,
          table_name = "local", protocol = "kernel", scope = "universe", metric = 0,
          type = "local", pref = "medium", kernel_flags = { linkdown = true } },
      })
    assert.equals("route new default via 198.51.100.1 table 100 proto static", monitor.line {
      kind = "route", action = "new",
      record = { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.1", table = 100,
        protocol = "static", scope = "universe", metric = 0, type = "unicast" },
    })
    assert.equals("address new 198.51.100.9 peer 198.51.100.10/32 dev wa0 scope global "
      .. "dynamic noprefixroute", monitor.line {
        kind = "address", action = "new",
        record = { addr = "198.51.100.9", cidr = "198.51.100.9/32", prefixlen = 32,
          peer = "198.51.100.10", interface = "wa0", scope = "global",
          flags = { noprefixroute = true } },
      })
    assert.equals("link new wl0 index 4 <BROADCAST,MULTICAST,UP,RUNNING,LOWER_UP>", monitor.line {
      kind = "link", action = "new",
      record = { name = "wl0", index = 4, flags = { UP = true, LOWER_UP = true, RUNNING = true,
        MULTICAST = true, BROADCAST = true } },
    })
    assert.equals("neighbor new 198.51.100.9 dev wa0 lladdr 02:00:00:00:00:09 PERMANENT",
      monitor.line {
        kind = "neighbor", action = "new",
        record = { addr = "198.51.100.9", interface = "wa0", mac = "02:00:00:00:00:09",
          state = "PERMANENT", router = false },
      })
    assert.equals("socket del tcp6 [::1]:443 [::1]:50000 CLOSE", monitor.line {
      kind = "socket", action = "del",
      record = { proto = "tcp", family = "inet6", local_addr = "::1", local_port = 443,
        remote_addr = "::1", remote_port = 50000, state = "CLOSE" },
    })
    assert.equals("overflow rtnetlink: lost", monitor.line {
      kind = "overflow", source = "rtnetlink", message = "lost" })
  end)

  it("writes one JSON object per line with --json, kind and action first", function()
    assert.equals('{"kind":"address","action":"new","record":{"addr":"198.51.100.7"}}',
      monitor.json_line { kind = "address", action = "new", record = { addr = "198.51.100.7" } })
  end)
end)

describe("lnetstat monitor in a private netns", function()
  local NS
  setup(function()
    if helpers.is_root() then NS = helpers.netns_create("lnm") end
  end)
  teardown(function()
    helpers.netns_delete(NS)
  end)

  helpers.root_it("prints a JSON line per link event until stopped", function()
    local cmd = format("%s bin/lnetstat monitor --json links --netns %s", helpers.LUA, quote(NS))
    local pid, h = helpers.spawn(cmd)
    finally(function()
      helpers.kill(pid, 2, "lnetstat monitor")
      h.cleanup()
    end)
    -- the process subscribes at its own pace: make events until one shows
    local line
    for attempt = 1, 20 do
      must(format("ip -n %s link add ml%d type veth peer name mr%d", quote(NS), attempt, attempt))
      helpers.sleep(0.25)
      line = h.stdout():match("^([^\n]*)\n")
      if line then break end
    end
    assert.is_string(line, h.stderr())
    local ev = helpers.json_decode(line)
    assert.equals("link", ev.kind)
    assert.equals("new", ev.action)
    assert.matches("^m[lr]%d+$", ev.record.name)
    assert.is_number(ev.record.index)
    assert.is_true(helpers.alive(pid))
    assert.is_true(helpers.kill(pid, 2, "lnetstat monitor"))
  end)
end)
