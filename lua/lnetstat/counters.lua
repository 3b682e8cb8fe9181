--- (in progress)
-- @module lnetstat.counters
local M = {}
return M
