--- (in progress)
-- @module lnetstat.links
local M = {}
return M
