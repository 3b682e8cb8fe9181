-- `lnetstat check --init` writes a check file for the host it runs on:
-- the listeners with their programs and users, the default route, the
-- interfaces that are up, a no_connection example. It passes where it was
-- made and fails once the host changes.
local check = require "lnetstat.check"
local baseline = require "lnetstat.checks.baseline"
local fake = require "fixtures.check.fake"
local helpers = require "helpers"

local root_it = helpers.root_it
local quote = helpers.quote
local format = string.format
local L, C = fake.listener, fake.connection

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local LNETSTAT = helpers.LUA .. " " .. quote(HERE .. "../bin/lnetstat")

local HOST = {
  L("tcp", "0.0.0.0", 22, "sshd", "root", 812),
  L("tcp", "::", 22, "sshd", "root", 812, { v6only = true }),
  L("tcp", "::", 80, "nginx", "www-data", 900),
  L("tcp", "::", 443, "nginx", "www-data", 900),
  L("tcp", "127.0.0.1", 5432, "postgres", "postgres", 1000),
  L("udp", "0.0.0.0", 123, "chronyd", "_chrony", 700),
  L("udp", "0.0.0.0", 45000, "resolver", "root", 701),   -- a client socket
  C("198.51.100.1", 22, "203.0.113.9", 50000, "ESTABLISHED", "sshd", 1500),
}
local IFACES = {
  { name = "lo", flags = { UP = true, RUNNING = true }, operstate = "UNKNOWN" },
  { name = "eth0", flags = { UP = true, RUNNING = true }, operstate = "UP" },
  { name = "eth1", flags = { BROADCAST = true }, operstate = "DOWN" },
}
local ROUTES = {
  { family = "inet", dst = "0.0.0.0/0", gateway = "198.51.100.254", interface = "eth0", table = 254 },
}

describe("lnetstat check --init", function()
  it("writes an editable, commented check file that passes on the host it was made on", function()
    local t = { sockets = HOST, interfaces = IFACES, routes = ROUTES }
    local text = assert(baseline.generate { data = fake.data(t) })
    assert.matches('{ proto = "tcp", port = 22, program = "sshd", user = "root" },', text, 1, true)
    assert.matches('{ proto = "tcp", port = { 80, 443 }, program = "nginx", user = "www-data" },', text, 1, true)
    assert.matches('{ proto = "udp", port = 123, program = "chronyd", user = "_chrony" },', text, 1, true)
    assert.not_matches("5432", text, 1, true)     -- loopback only: ignored
    assert.not_matches("45000", text, 1, true)    -- an ephemeral UDP client socket
    assert.matches('default_route { via = "198.51.100.254", interface = "eth0" }', text, 1, true)
    assert.matches('interface_up "eth0"\ninterface_up "lo"\n', text, 1, true)
    assert.not_matches('interface_up "eth1"', text, 1, true)
    assert.matches("no_connection {", text, 1, true)
    assert.matches("^%-%- A baseline", text)
    local r = check.run_string(text, "baseline.lua", { data = fake.data(t) })
    assert.equal(0, r.exit_code, check.report(r, "human"))
    assert.equal(5, #r.results)
    -- and it fails once the host changes
    local changed = fake.copy(HOST)
    changed[#changed + 1] = L("tcp", "0.0.0.0", 8080, "python3", "root", 2000)
    changed[3].program, changed[3].processes = "apache2", nil
    r = check.run_string(text, "baseline.lua", { data = fake.data { sockets = changed, interfaces = IFACES,
      routes = ROUTES } })
    assert.equal(1, r.exit_code)
    local d = table.concat(r.results[1].details, "\n")
    assert.matches("unexpected: tcp 0.0.0.0:8080 (python3", d, 1, true)
    assert.matches("wrong owner: tcp [::]:80 dual-stack (apache2", d, 1, true)
  end)

  it("says when there is no default route and when owners are unknown", function()
    local t = { sockets = { L("tcp", "0.0.0.0", 22, nil, nil, nil) }, interfaces = IFACES, routes = {} }
    local text = assert(baseline.generate { data = fake.data(t) })
    assert.matches("had none when the file was made", text, 1, true)
    assert.matches("1 listeners had no readable owner", text, 1, true)
    assert.matches('{ proto = "tcp", port = 22 },', text, 1, true)
    local r = check.run_string(text, "baseline.lua", { data = fake.data(t) })
    assert.equal(0, r.exit_code, check.report(r, "human"))
  end)

  describe("live, in a private netns", function()
    local netns = require "fixtures.check.netns"
    local lab, tmpdir
    setup(function()
      tmpdir = helpers.mktemp_dir()
      if helpers.is_root() then lab = netns.new("lnetstat-init") end
    end)
    teardown(function()
      if lab then lab:cleanup() end
      helpers.remove_tree(tmpdir)
    end)

    local function lnetstat(args)
      local out = helpers.run(format("%s check %s 2>&1; echo \"<rc=$?>\"", LNETSTAT, args))
      return out:gsub("<rc=%d+>%s*$", ""), tonumber(out:match("<rc=(%d+)>%s*$"))
    end

    root_it("init, then run: passes; a new listener fails and is named", function()
      local sshd = lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22", "tcp:[::]:22:v6only")
      lab:listen("nginx", "nginx", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      local file = tmpdir .. "/baseline.lua"
      local out, code = lnetstat(format("--init --netns %s -o %s", quote(lab.ns), quote(file)))
      assert.equal(0, code, out)
      local text = helpers.read_file(file)
      assert.matches('{ proto = "tcp", port = 22, program = "sshd", user = "root" },', text, 1, true)
      assert.matches('{ proto = "tcp", port = { 80, 443 }, program = "nginx", user = "root" },', text, 1, true)
      assert.matches('default_route { via = "198.51.100.254", interface = "' .. lab.veth .. '" }', text, 1, true)
      assert.matches('interface_up "' .. lab.veth .. '"', text, 1, true)
      out, code = lnetstat(format("%s --netns %s", quote(file), quote(lab.ns)))
      assert.equal(0, code, out)
      assert.matches("5 checks: 5 passed", out, 1, true)
      local rogue = lab:listen("python3", "python3", "tcp:0.0.0.0:8080")
      out, code = lnetstat(format("%s --netns %s", quote(file), quote(lab.ns)))
      assert.equal(1, code, out)
      assert.matches("unexpected: tcp 0.0.0.0:8080 (python3, pid " .. rogue, out, 1, true)
      lab:stop(rogue)
      lab:stop(sshd)
      out, code = lnetstat(format("%s --netns %s", quote(file), quote(lab.ns)))
      assert.equal(1, code, out)
      assert.matches("missing: tcp/22", out, 1, true)
    end)
  end)
end)
