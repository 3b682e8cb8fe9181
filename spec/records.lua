--- The fake host records the check specs share (built with
-- spec/fixtures/check/fake.lua), and a check run against fake data.
local check = require "lnetstat.check"
local fake = require "fixtures.check.fake"

local L, C = fake.listener, fake.connection

local records = {}

--- The sockets of a web host: sshd on 22 (IPv4, and IPv6 v6only), nginx
-- on a dual-stack [::] 80 and 443, postgres on loopback 5432, chrony's
-- UDP on loopback 323, an established SSH connection and a TIME_WAIT one
-- to DNS; then the records of the list extra, if given. Returns a new list.
function records.web_host(extra)
  local s = {
    L("tcp", "0.0.0.0", 22, "sshd", "root", 812),
    L("tcp", "::", 22, "sshd", "root", 812, { v6only = true }),
    L("tcp", "::", 80, "nginx", "root", 900),
    L("tcp", "::", 443, "nginx", "root", 900),
    L("tcp", "127.0.0.1", 5432, "postgres", "postgres", 1000),
    L("udp", "127.0.0.1", 323, "chronyd", "_chrony", 700),
    C("198.51.100.1", 22, "203.0.113.9", 50000, "ESTABLISHED", "sshd", 1500),
    C("198.51.100.1", 41000, "198.51.100.53", 53, "TIME_WAIT"),
  }
  for _, r in ipairs(extra or {}) do s[#s + 1] = r end
  return s
end

--- Runs check source src (as the file t.lua) against fake.data(t) and a
-- fake clock, quietly; the fields of opts are added to (or replace) the
-- run's options. Returns the run, the fake data and the clock's state.
function records.run(src, t, opts)
  local clock, sleep, state = fake.clock()
  local data = fake.data(t or {})
  local o = { data = data, clock = clock, sleep = sleep, log = function() end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return check.run_string(src, "t.lua", o), data, state
end

return records
