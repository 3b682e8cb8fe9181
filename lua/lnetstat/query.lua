--- Queries over lists of records: where/filter/count/group/sort, matchers
-- (CIDR, ranges, patterns, wildcard and loopback addresses), diff and
-- counter rates.
--
-- Pure Lua: works on any list of plain tables (the records lnetstat's data
-- functions return, or your own), under Lua 5.1/LuaJIT to 5.4.
--
-- A *pattern* maps fields to expectations. A field is a record key or a
-- dotted path into nested tables ("stats.rx_errors", "flags.UP",
-- "processes.1.pid"). An expectation is
--
-- * a plain value: the field must equal it;
-- * a list of expectations (`{80, 443}`): any of them;
-- * a table without an array part (`{rx_errors = 0}`): a nested pattern,
--   applied to the field's table;
-- * a function `f(value, record, field)`: truthy passes;
-- * a matcher (`q.cidr"10.0.0.0/8"`, `q.range(1, 1023)`, `q.wildcard` ...),
--   which also receives `(value, record, field)`.
--
-- The array part of a pattern holds predicates on the whole record:
-- `q.where(list, { q.serves_ipv4, proto = "tcp" })`.
--
-- Dual stack: a socket bound to `[::]` with `v6only == false` also serves
-- IPv4. `family = "inet"` compares the field and so does not match it; use
-- `q.serves_ipv4` (a record predicate) or `family = q.ipv4` (a matcher that
-- looks at the record) instead. `q.wildcard4` matches 0.0.0.0 and such a
-- dual-stack `::`. A socket whose v6only is unknown (nil: read from /proc)
-- counts as dual-stack, the kernel's default (net.ipv6.bindv6only = 0).
-- @module lnetstat.query
local ipairs, pairs, require = ipairs, pairs, require

local M = { _NAME = "lnetstat.query" }

-- The parts, by concern; every public name lands in this one table.
for _, part in ipairs { "base", "lists", "addr", "matchers", "diff" } do
  for k, v in pairs(require("lnetstat.query." .. part)) do
    if M[k] == nil then M[k] = v end
  end
end
-- internal helpers of the parts, not part of the API
M.argerror, M.is_integer, M.new_matcher, M.check_list, M.less = nil, nil, nil, nil, nil

return M
