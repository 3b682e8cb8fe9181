--- lnetstat.check's value assertions: expect_count, expect, check, and
-- defaults for the checks that follow.
-- (Check files call these assertions; they are documented in lnetstat.check.)
-- @submodule lnetstat.check
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"

local type, pairs, ipairs, tostring, format, huge =
  type, pairs, ipairs, tostring, string.format, math.huge
local describe = util.describe
local bad = util.bad
local num = util.num
local check_common = util.check_common
local OPS = util.OPS
local compare = util.compare
local check_op = util.check_op

local M = {}

-- Adds the assertions to the sandbox env of one check file.
-- @tparam table env the sandbox
-- @tparam table k the file's run, ctx, fetch, fetch_raw, run_check, refetcher
function M.install(env, kit)
  local ctx = kit.ctx
  local run_check = kit.run_check
  local refetcher = kit.refetcher


  --- The number of records (a list from a data function, a function
  -- returning a list or a number, or a number) compares with n.
  -- @function expect_count
  -- @param subject a list, a function returning a list or a number, or a number
  -- @tparam string op "==", "~=", "<", "<=", ">" or ">="
  -- @tparam number n the number
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage expect_count(sockets { state = "TIME_WAIT" }, "<", 10000)
  function env.expect_count(subject, op, n, opts)
    local ts = type(subject)
    if ts ~= "table" and ts ~= "function" and ts ~= "number" then
      bad("expect_count", 1, "list, function or number expected, got " .. ts)
    end
    check_op("expect_count", 2, op)
    if type(n) ~= "number" then bad("expect_count", 3, "number expected, got " .. type(n)) end
    -- NaN compares with nothing and no count is infinite: either is a
    -- mistake to report, as the query matchers do
    if n ~= n or n == huge or n == -huge then bad("expect_count", 3, "finite number expected, got " .. describe(n)) end
    local o = check_common("expect_count", 4, opts)
    local refetch, desc
    if ts == "table" then refetch, desc = refetcher(subject) end
    desc = desc or (ts == "function" and "<function>" or (ts == "table" and "<list>" or num(subject)))
    return run_check({
      kind = "expect_count",
      title = format("count(%s) %s %s", desc, op, num(n)),
      expected = format("%s %s", op, num(n)),
      eval = function()
        local v
        if ts == "number" then v = subject
        elseif ts == "function" then v = subject()
        elseif refetch then v = refetch()
        else v = subject end
        if type(v) == "table" then v = #v end
        if type(v) ~= "number" then return "error", "the query gave " .. type(v) .. ", not a list or a number" end
        return compare(op, v, n) and "pass" or "fail", num(v)
      end,
    }, o)
  end

  --- A value (or the result of a function, re-run on every attempt)
  -- compares with expected (`expect(x, "<", 5)`) or matches
  -- (`expect(x, q.range(1, 5))`).
  -- @function expect
  -- @param subject a value, or a function returning it
  -- @param op a comparison ("<", "==", ...) or an expectation (a value, a matcher)
  -- @param[opt] expected the value compared with, when op is a comparison
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage expect(function() return #listening() end, "<", 50)
  function env.expect(subject, op, expected, opts)
    local matcher_form = not (type(op) == "string" and OPS[op])
    if matcher_form then
      if op == nil then bad("expect", 2, "operator or matcher expected, got nil") end
      opts = expected
    end
    local o = check_common("expect", matcher_form and 3 or 4, opts)
    local exp_desc = matcher_form and describe(op) or (op .. " " .. describe(expected))
    local subj = type(subject) == "function" and "<function>" or describe(subject)
    return run_check({
      kind = "expect",
      title = format("%s %s", subj, exp_desc),
      expected = exp_desc,
      eval = function()
        local v = subject
        if type(subject) == "function" then v = subject() end
        local ok
        if matcher_form then ok = q.test(op, v, v, nil) else ok = compare(op, v, expected) end
        return ok and "pass" or "fail", describe(v)
      end,
    }, o)
  end

  --- A custom check: fn() returns ok (boolean, or a status string), actual,
  -- expected; errors it raises make an error result.
  -- @function check
  -- @tparam string title the title of the result
  -- @tparam function fn returns ok, actual, expected
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage check("lo has an address", function()
  --   local a = addresses { interface = "lo" }
  --   return #a > 0, #a .. " addresses", "at least one"
  -- end)
  function env.check(title, fn, opts)
    if type(title) ~= "string" then bad("check", 1, "title (string) expected, got " .. type(title)) end
    if type(fn) ~= "function" then bad("check", 2, "function expected, got " .. type(fn)) end
    local o = check_common("check", 3, opts)
    local res = { kind = "check", title = title, expected = nil }
    local result
    res.eval = function()
      local ok, actual, expected = fn()
      if expected ~= nil then result.expected = tostring(expected) end
      local status
      if ok == "pass" or ok == "fail" or ok == "skip" or ok == "error" then status = ok
      else status = ok and "pass" or "fail" end
      if actual ~= nil and type(actual) ~= "string" then actual = describe(actual) end
      return status, actual
    end
    result = run_check(res, o)
    return result
  end

  --- Default retry options for the checks that follow in this file.
  -- @function defaults
  -- @tparam table t within, every, stable (the retry options)
  -- @usage defaults { within = 10, every = 1 }
  function env.defaults(t)
    local o = check_common("defaults", 1, t)
    for _, k in ipairs { "id", "title", "skip" } do
      if o[k] ~= nil then bad("defaults", 1, "option '" .. k .. "' cannot be a default") end
    end
    for k, v in pairs(o) do ctx.defaults[k] = v end
  end
end

return M
