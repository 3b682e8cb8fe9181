-- lnetstat in OpenResty: a sampler that keeps a JSON snapshot in a
-- lua_shared_dict, and the handlers of the two endpoints of nginx.conf.
-- Every call here is a short blocking call into the kernel (netlink,
-- /proc/net): listeners only, so it costs well under a millisecond.
-- luacheck: globals ngx
local ns = require "lnetstat"
local cjson = require "cjson.safe"

local M = {}

M.DICT = "lnetstat"      -- the lua_shared_dict of nginx.conf
M.KEY = "snapshot"
M.INTERVAL = 1           -- seconds between samples

-- Keeps only what the endpoints show.
local function brief(list)
  local out = {}
  for i, s in ipairs(list) do
    out[i] = { proto = s.proto, state = s.state, local_addr = s.local_addr, local_port = s.local_port }
  end
  return out
end

-- One sample as a Lua table, or nil, err.
function M.sample()
  local list, err = ns.listening { proto = { "tcp", "udp" } }
  if not list then return nil, "listening: " .. tostring(err) end
  local st, serr = ns.stats { only = { "Tcp", "TcpExt" } }
  if not st then return nil, "stats: " .. tostring(serr) end
  local tcp, ext = st.Tcp or {}, st.TcpExt or {}
  return {
    time = ngx.now(),
    pid = ngx.worker.pid(),
    listening = brief(list),
    counters = { CurrEstab = tcp.CurrEstab, ListenOverflows = ext.ListenOverflows },
  }
end

-- The timer callback: stores the JSON of a sample (or the error) in the dict.
local function tick(premature)
  if premature then return end
  local dict = ngx.shared[M.DICT]
  local snap, err = M.sample()
  local json = snap and cjson.encode(snap)
  if json then
    dict:set(M.KEY, json)
    dict:delete("error")
  else
    dict:set("error", err or "cjson: cannot encode the sample")
    ngx.log(ngx.ERR, "lnetstat sampler: ", err)
  end
end

-- For init_worker_by_lua: worker 0 samples now and every INTERVAL seconds.
function M.start_sampler()
  if ngx.worker.id() ~= 0 then return end
  local ok, err = ngx.timer.at(0, tick)
  if ok then ok, err = ngx.timer.every(M.INTERVAL, tick) end
  if not ok then ngx.log(ngx.ERR, "lnetstat sampler: cannot start the timer: ", err) end
end

-- Sends a JSON body with a status.
local function reply(status, json)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json)
  return ngx.exit(status)
end

-- location = /lnetstat/listening: the last snapshot (503 before the first).
function M.serve_snapshot()
  local dict = ngx.shared[M.DICT]
  local json = dict:get(M.KEY)
  if json then return reply(200, json) end
  return reply(503, cjson.encode({ error = dict:get("error") or "no snapshot yet" }))
end

-- location = /lnetstat/live: TCP listeners, asked for now.
function M.serve_live()
  local list, err = ns.listening { proto = "tcp" }
  if not list then return reply(500, cjson.encode({ error = tostring(err) })) end
  return reply(200, cjson.encode({ time = ngx.now(), pid = ngx.worker.pid(), listening = brief(list) }))
end

return M
