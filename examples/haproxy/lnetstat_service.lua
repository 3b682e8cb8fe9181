-- lnetstat in HAProxy 2.6 (Lua 5.3), loaded with lua-load-per-thread:
--   lua.lnetstat              an HTTP service answering the TCP listeners as JSON
--   lua.lnetstat_listeners    a sample fetch: how many TCP sockets listen
-- Each call is a short blocking call into the kernel (netlink, listeners
-- only: well under a millisecond); with lua-load-per-thread it only holds
-- up its own thread, never a global Lua lock.
-- luacheck: read globals core
local ns = require "lnetstat"
local cjson = require "cjson.safe"

local function listeners()
  local list, err = ns.listening { proto = "tcp" }
  if not list then return nil, err end
  local out = {}
  for i, s in ipairs(list) do
    out[i] = { proto = s.proto, state = s.state, local_addr = s.local_addr, local_port = s.local_port }
  end
  return out
end

core.register_service("lnetstat", "http", function(applet)
  local list, err = listeners()
  local status, body
  if list then
    status, body = 200, cjson.encode({ count = #list, thread = core.thread, listening = list })
  else
    status, body = 500, cjson.encode({ error = tostring(err) })
  end
  body = (body or '{"error":"cjson: cannot encode"}') .. "\n"
  applet:set_status(status)
  applet:add_header("content-type", "application/json")
  applet:add_header("content-length", tostring(#body))
  applet:start_response()
  applet:send(body)
end)

-- nil (an empty sample) when the kernel cannot be asked
core.register_fetches("lnetstat_listeners", function()
  local list = listeners()
  return list and #list or nil
end)
