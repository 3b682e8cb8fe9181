--- Tstconfig's assertions, as directives: assert_eq, assert_defined,
-- assert_undefined, assert_empty, assert_not_empty, assert_contains,
-- assert_not_contains, assert_starts_with, assert_ends_with.
-- @module lnetstat.tstconfig.asserts
local ipairs, sub = ipairs, string.sub

local M = {}

-- 0.3 prints these four assertions without their arguments
local NOARGS = {}

--- Adds the assertion directives to D. ctx: count() (one more test),
-- values() (the current property values, a list with n; nil when
-- undefined), joinargs(list) (Tstconfig's joined text, nil for nil),
-- failed(name, args), warn_affix(name) (the run's one WARN line about
-- starts_with/ends_with really checking).
function M.add(D, ctx)
  local count, joinargs, failed = ctx.count, ctx.joinargs, ctx.failed

  local function values_list()
    local v = ctx.values()
    if v == nil then return nil end
    return v, v.n or #v
  end

  local function contains(v, n, x)
    for k = 1, n do if v[k] == x then return true end end
    return false
  end

  function D.assert_eq(args)
    count()
    local v, n = values_list()
    local ok = v ~= nil and n == #args
    if ok then for k = 1, n do if v[k] ~= args[k] then ok = false; break end end end
    if not ok then failed("assert_eq", args) end
  end
  function D.assert_defined()
    count()
    if ctx.values() == nil then failed("assert_defined", NOARGS) end
  end
  function D.assert_undefined()
    count()
    if ctx.values() ~= nil then failed("assert_undefined", NOARGS) end
  end
  function D.assert_empty()
    count()
    local j = joinargs(ctx.values())
    if j ~= nil and j ~= "" then failed("assert_empty", NOARGS) end
  end
  function D.assert_not_empty()
    count()
    local j = joinargs(ctx.values())
    if j == nil or j == "" then failed("assert_not_empty", NOARGS) end
  end
  function D.assert_contains(args)
    count()
    local v, n = values_list()
    local ok = true
    for _, a in ipairs(args) do
      if v == nil or not contains(v, n, a) then ok = false end
    end
    if not ok then failed("assert_contains", args) end
  end
  function D.assert_not_contains(args)
    count()
    local v, n = values_list()
    local ok = true
    for _, a in ipairs(args) do
      if v ~= nil and contains(v, n, a) then ok = false end
    end
    if not ok then failed("assert_not_contains", args) end
  end

  -- Unlike Tstconfig 0.3, these compare the value with the argument.
  local function affix(name, test)
    return function(args)
      count()
      local j = joinargs(ctx.values())
      local a = joinargs(args)
      if j == nil or not test(j, a) then
        ctx.warn_affix(name)
        failed(name, args)
      end
    end
  end
  D.assert_starts_with = affix("assert_starts_with", function(j, a) return sub(j, 1, #a) == a end)
  D.assert_ends_with = affix("assert_ends_with", function(j, a) return a == "" or sub(j, -#a) == a end)
end

return M
