-- lnetstat.check: limits and expected values that would make a check
-- unable to fail (NaN), interface fields of the wrong type, and check ids
-- a file uses twice. Runs against the fake data source
-- (spec/fixtures/check/fake.lua).
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"

local IFACES = {
  { name = "lo", index = 1, mtu = 65536, flags = { UP = true, LOOPBACK = true, RUNNING = true },
    operstate = "UNKNOWN", stats = { rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0 } },
  { name = "eth0", index = 2, mtu = 1500, flags = { UP = true, RUNNING = true }, operstate = "UP",
    stats = { rx_errors = 7, tx_errors = 0, rx_dropped = 0, tx_dropped = 0 } },
}

local function run(src, t)
  local clock, sleep = fake.clock()
  local o = { data = fake.data(t or {}), clock = clock, sleep = sleep, log = function() end }
  return check.run_string(src, "t.lua", o)
end

local function statuses(r)
  local out = {}
  for i, res in ipairs(r.results) do out[i] = res.status end
  return table.concat(out, " ")
end

local function stats(n)
  return { Tcp = { InSegs = n }, TcpExt = { ListenOverflows = n } }
end

describe("audit check values", function()
  it("refuses a limit of NaN or infinity, which no counter could ever exceed", function()
    local r = run([[
counter_delta("TcpExt.ListenOverflows", { window = 1, max = 0/0 })
counter_delta("TcpExt.ListenOverflows", { window = 1, min = 0/0 })
counter_delta("TcpExt.ListenOverflows", { window = 1, max_rate = math.huge })
no_interface_errors("eth0", { max = 0/0 })
counter("Tcp.InSegs", "<", 0/0)
counter_delta("TcpExt.ListenOverflows", { window = 1, max = 0 })
no_interface_errors("eth0", { max = 10 })
]], { interfaces = IFACES, stats = { stats(1), stats(50) } })
    assert.equal("error error error error error fail pass", statuses(r))
    for i = 1, 5 do
      assert.matches("^t%.lua:" .. i .. ": bad argument #%d to '%a[%w_]*' %(", r.results[i].actual)
    end
    assert.truthy(r.results[1].actual:find("max must be a finite number", 1, true), r.results[1].actual)
    assert.truthy(r.results[3].actual:find("max_rate must be a finite number, got inf", 1, true),
      r.results[3].actual)
    assert.equal(2, r.exit_code)
  end)

  it("refuses interface fields whose plain value could never equal the record's", function()
    local r = run([[
interface { name = "eth0", mtu = "1500" }
interface { name = "eth0", ["stats.rx_errors"] = "0" }
interface { name = "eth0", up = 1 }
interface { name = "eth0", mtu = { 1500, "9000" } }
interface { name = "eth0", mtu = 1500, up = true }
interface { name = "eth0", ["stats.rx_errors"] = 0 }
interface { name = "eth0", mtu = range(1280, 9000) }
]], { interfaces = IFACES })
    assert.equal("error error error error pass fail pass", statuses(r))
    assert.truthy(r.results[1].actual:find("mtu must be a number, a list of them or a matcher, got '1500'", 1, true),
      r.results[1].actual)
    assert.truthy(r.results[3].actual:find("up must be a boolean", 1, true), r.results[3].actual)
  end)

  it("makes a check whose id the file already used an error result", function()
    local r = run([[
interface_up("lo", { id = "lo-up" })
interface_up("eth0", { id = "lo-up" })
interface_up("lo", { id = "t.4" })
interface_up "lo"
interface_up("lo", { id = "other" })
]], { interfaces = IFACES })
    assert.equal("pass error pass error pass", statuses(r))
    assert.truthy(r.results[2].actual:find("duplicate id 'lo-up' (first used at t.lua:1)", 1, true),
      r.results[2].actual)
    assert.truthy(r.results[2].actual:find("was pass", 1, true), r.results[2].actual)
    assert.truthy(r.results[4].actual:find("duplicate id 't.4' (first used at t.lua:3)", 1, true),
      r.results[4].actual)
    assert.equal(2, r.exit_code)
    local ids = {}
    for _, res in ipairs(run('interface_up "lo"\ninterface_up "lo"', { interfaces = IFACES }).results) do
      ids[#ids + 1] = res.id .. "=" .. res.status
    end
    assert.equal("t.1=pass t.2=pass", table.concat(ids, " "))
  end)

  it("keeps ids of two files with the same name apart by file, not as an error", function()
    local clock, sleep = fake.clock()
    local many = check.new_run_of({})
    many.data, many.clock, many.sleep = fake.data { interfaces = IFACES }, clock, sleep
    check.run_source(many, 'interface_up "lo"', "a/web.lua")
    check.run_source(many, 'interface_up "lo"', "b/web.lua")
    local done = check.new_run_of(many.results, { files = many.files })
    assert.equal(0, done.exit_code)
    assert.equal("web.1", done.results[1].id)
    assert.equal("b/web.lua", done.results[2].file)
  end)
end)

describe("audit check file errors", function()
  it("name an unreadable file's error by the stem its checks have", function()
    local r = check.run({ "/nonexistent/dir/baseline.lua" }, { data = fake.data {}, log = function() end })
    assert.equal(1, #r.results)
    assert.equal("baseline.file", r.results[1].id)
    assert.equal("error", r.results[1].status)
    assert.equal(2, r.exit_code)
  end)
end)

describe("audit check --init", function()
  it("allows every program of a listener several programs hold, and passes where it was made", function()
    local baseline = require "lnetstat.checks.baseline"
    local shared = fake.listener("tcp", "0.0.0.0", 22, "systemd", "root", 1, {
      processes = { { pid = 1, program = "systemd", fd = 40 }, { pid = 812, program = "sshd", fd = 3 },
        { pid = 813, program = "sshd", fd = 3 } },
    })
    local t = { sockets = { shared, fake.listener("tcp", "0.0.0.0", 80, "nginx", "root", 900) },
      interfaces = IFACES, routes = {} }
    local text = assert(baseline.generate { data = fake.data(t) })
    assert.truthy(text:find('{ proto = "tcp", port = 22, program = { "sshd", "systemd" }, user = "root" },', 1, true),
      text)
    assert.truthy(text:find('{ proto = "tcp", port = 80, program = "nginx", user = "root" },', 1, true), text)
    local r = run(text, t)
    assert.equal(0, r.exit_code, check.report(r, "human"))
  end)
end)
