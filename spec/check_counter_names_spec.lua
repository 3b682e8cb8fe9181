-- interface{} in a check file: a stats counter it names must be one an
-- interface record can have (the kernel's, /proc/net/dev's sums, bits).
-- A typo could only ever fail at run time ("stats.rx_errorz is nil"): it
-- is an argument error at the line that has it, with the name meant.
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"

local IFACES = {
  { name = "eth0", index = 2, mtu = 1500, flags = { UP = true }, operstate = "UP",
    stats = { rx_errors = 0, tx_errors = 0, rx_dropped = 0, rx_drop = 0, bits = 64 } },
}

local function one(src)
  local clock, sleep = fake.clock()
  local r = check.run_string(src, "t.lua", { data = fake.data { interfaces = IFACES }, clock = clock,
    sleep = sleep, log = function() end })
  assert.equal(1, #r.results)
  return r.results[1]
end

describe("interface{} counter names", function()
  it("refuses a dotted counter name no interface has, naming the one meant", function()
    local res = one("interface { name = 'eth0', ['stats.rx_errorz'] = 0 }")
    assert.equal("error", res.status)
    assert.matches("bad argument #1 to 'interface' (unknown interface counter 'stats.rx_errorz'; "
      .. "did you mean 'stats.rx_errors'?)", res.actual, 1, true)
  end)

  it("refuses one in a nested stats pattern", function()
    local res = one("interface { name = 'eth0', stats = { tx_erors = 0 } }")
    assert.equal("error", res.status)
    assert.matches("unknown interface counter 'stats.tx_erors'; did you mean 'stats.tx_errors'?", res.actual,
      1, true)
  end)

  it("leaves a nested pattern's array entries, which test the whole stats table, alone", function()
    local res = one("interface { name = 'eth0', stats = { function(t) return t.rx_errors == 0 end } }")
    assert.equal("pass", res.status)
  end)

  it("takes the kernel's counters, /proc/net/dev's sums and bits", function()
    local res = one("interface { name = 'eth0', ['stats.rx_errors'] = 0, ['stats.rx_drop'] = 0, "
      .. "stats = { tx_errors = 0, bits = 64, rx_nohandler = q.absent } }")
    assert.equal("pass", res.status)
  end)
end)
