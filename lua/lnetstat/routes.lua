--- (in progress)
-- @module lnetstat.routes
local M = {}
return M
