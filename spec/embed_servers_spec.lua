-- The embedding helpers in the real servers, from the checkout's modules
-- (lnetstat.core built for each server's Lua): HAProxy 2.6 (Lua 5.3) with
-- per-thread states, chrooted as Debian's own configuration does, a
-- sampler task that survives an error, option mistakes found when HAProxy
-- checks its configuration; nginx with lua-nginx-module (LuaJIT), several
-- workers forked from a master that asked the kernel in init_by_lua, a
-- shared dict too small for the snapshot, option mistakes logged when the
-- workers start. Thousands of requests leave the fd count and the memory
-- of every server process where they were. Every server listens on a free
-- loopback port and is stopped by its pid.
local helpers = require "helpers"
local servers = require "servers"
local scratch = require "scratch"

local format = string.format
local quote = helpers.quote

local ROOT = (helpers.must("pwd"):gsub("%s+$", ""))

local read_file, write_file = helpers.read_file, scratch.write
local free_port, http_get, get_json = servers.free_port, servers.http_get, servers.get_json
local has_listener = servers.find_listener

-- n rounds of GETs of every path over keep-alive connections (a new one
-- every 50 requests, as a client pool would): "STATUS COUNT" lines.
local LOAD = [[python3 -c 'import sys, http.client, collections
port, n, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
seen = collections.Counter()
c = None
for i in range(n):
    if i % 50 == 0:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for p in paths:
        c.request("GET", p); r = c.getresponse(); r.read(); seen["%s %d" % (p, r.status)] += 1
for k, v in sorted(seen.items()):
    print(k, v)' ]]

local function load(port, n, paths)
  return helpers.must(LOAD .. format(" %d %d %s", port, n, table.concat(paths, " ")))
end

-- The open fds and the resident memory (KiB) of a process.
local function usage(pid)
  local fds = tonumber(helpers.must(format("ls /proc/%d/fd | wc -l", pid)):match("%d+"))
  local rss = tonumber((read_file(format("/proc/%d/status", pid)) or ""):match("VmRSS:%s*(%d+)"))
  return fds, rss
end

-- LUA_PATH and LUA_CPATH for the checkout's modules and build/<v>.
local function lua_env(v)
  return format("LUA_PATH=%s LUA_CPATH=%s", quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"),
    quote(ROOT .. "/build/" .. v .. "/?.so;;"))
end

-- Starts a server in dir on port with start (servers.start_haproxy or
-- servers.start_nginx) and the checkout's modules for Lua v; it is stopped
-- at the end of the test. Returns its log() and its pid.
local function start_server(start, v, dir, port)
  local server = start(dir, port, lua_env(v))
  finally(server.stop)
  return server.log, server.pid
end

-- Builds lnetstat.core for Lua v (make LUA_VERSION=v) in the checkout;
-- returns a fresh directory for the servers (servers.workdir).
local function checkout_workdir(v)
  helpers.must("make -s LUA_VERSION=" .. v .. " all")
  return servers.workdir()
end

-- the sample fetch lua.lnetstat_listeners, answered on /fetch
local FETCH_RULE = "    http-request return status 200 content-type text/plain lf-string "
  .. "\"listeners=%[lua.lnetstat_listeners]\\n\" if { path /fetch }\n"

describe("embedding in HAProxy 2.6 (Lua 5.3)", function()
  local base
  setup(function() base = checkout_workdir("5.3") end)
  teardown(function() helpers.remove_tree(base) end)

  -- Writes dir/haproxy.cfg (global lines, then a frontend on port with
  -- rules) and dir/lnetstat.lua; returns the config's path.
  local function config(dir, port, global, lua, rules)
    helpers.must("mkdir -p " .. quote(dir))
    write_file(dir .. "/lnetstat.lua", lua)
    write_file(dir .. "/haproxy.cfg", format([[
global
    nbthread 2
%s
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:%d
    http-request return status 200 content-type text/plain string "ok\n" if { path /static }
%s
]], global, port, rules))
    return dir .. "/haproxy.cfg"
  end

  local function start(dir, port) return start_server(servers.start_haproxy, "5.3", dir, port) end

  it("chrooted (no /proc, no Lua files at run time): listeners, fetches and a snapshot that says "
    .. "what is missing", function()
    local dir, port = base .. "/chroot", free_port()
    helpers.must(format("mkdir -p %s/empty", quote(dir)))
    local example = assert(read_file(ROOT .. "/examples/haproxy/lnetstat.lua"))
    config(dir, port, format("    chroot %s/empty\n    lua-load-per-thread lnetstat.lua", dir), example, [[
    http-request use-service lua.lnetstat if { path /lnetstat/snapshot }
    http-request use-service lua.lnetstat_live if { path /lnetstat/listeners }
]] .. FETCH_RULE)
    local log = start(dir, port)
    local doc = get_json(port, "/lnetstat/listeners")
    assert(has_listener(doc.listening, port), "own port not listed:\n" .. log())
    local body
    for _ = 1, 40 do
      local code
      code, body = http_get(port, "/fetch")
      assert.equal(200, code)
      if tonumber(body:match("^listeners=(%d+)\n$") or "0") >= 1 then break end
      helpers.sleep(0.1)
    end
    assert(tonumber(body:match("^listeners=(%d+)\n$") or "0") >= 1, "the task never sampled: " .. body .. log())
    doc = get_json(port, "/lnetstat/snapshot")
    assert(has_listener(doc.listening, port))
    assert.matches("stats: no Tcp or TcpExt counters", doc.partial)
    assert.is_nil(log():find("runtime error", 1, true), log())
  end)

  it("the sampler task survives a sample that raises an error", function()
    local dir, port = base .. "/raise", free_port()
    config(dir, port, "    lua-load-per-thread lnetstat.lua", [[
local lh = require "lnetstat.haproxy"
local real, calls = lh.sample, 0
-- the first sample of each thread raises
lh.sample = function()
  calls = calls + 1
  if calls == 1 then error("first sample fails") end
  return real()
end
lh.register_task { interval = 0.1 }
lh.register_fetches "lnetstat"
]], FETCH_RULE)
    local log = start(dir, port)
    local n = 0
    for _ = 1, 50 do
      local _, body = http_get(port, "/fetch")
      n = tonumber(body:match("^listeners=(%d+)\n$") or "0")
      if n >= 1 then break end
      helpers.sleep(0.1)
    end
    assert(n >= 1, "no sample after the failed one:\n" .. log())
    assert.matches("lnetstat sampler: [^\n]*first sample fails", log())
  end)

  it("option mistakes stop haproxy -c, naming the function and the option", function()
    for _, case in ipairs {
      { "lh.register_task { intervall = 2 }",
        "bad argument #1 to 'register_task' (unknown option 'intervall'; did you mean 'interval'?)" },
      { "lh.register_task { netns = 0 }",
        "bad argument #1 to 'register_task' (netns pid must be a positive integer, got 0" },
      { "lh.register_metrics('m', { prefix = 'a b' })",
        "bad argument #2 to 'register_metrics' (prefix must be a metric name prefix" },
      { "lh.register_service('s', { lve = true })",
        "bad argument #2 to 'register_service' (unknown option 'lve')" },
    } do
      local dir = base .. "/bad"
      config(dir, free_port(), "    lua-load-per-thread lnetstat.lua",
        "local lh = require 'lnetstat.haproxy'\n" .. case[1] .. "\n", "")
      local out, rc = servers.check_haproxy(dir, lua_env("5.3"))
      assert.are_not.equal(0, rc, case[1] .. ":\n" .. out)
      assert(out:find(case[2], 1, true), case[1] .. ":\n" .. out)
      assert.matches("lnetstat%.lua:2:", out)
    end
  end)

  it("nbthread 4, lua-load-per-thread: 1500 requests leave its fds and memory where they were", function()
    local dir, port = base .. "/load", free_port()
    local example = assert(read_file(ROOT .. "/examples/haproxy/lnetstat.lua"))
    config(dir, port, "    nbthread 4\n    lua-load-per-thread lnetstat.lua", example, [[
    http-request use-service lua.lnetstat if { path /lnetstat/snapshot }
    http-request use-service lua.lnetstat_live if { path /lnetstat/listeners }
    http-request use-service lua.lnetstat_metrics if { path /metrics }
]])
    local log, pid = start(dir, port)
    local paths = { "/lnetstat/listeners", "/metrics", "/lnetstat/snapshot" }
    load(port, 300, paths)   -- every thread's state warmed up
    local fds0, rss0 = usage(pid)
    local out = load(port, 1500, paths)
    for _, p in ipairs(paths) do assert.matches(p .. " 200 1500\n", out, 1, true) end
    local fds1, rss1 = usage(pid)
    assert.equal(fds0, fds1)
    assert(rss1 - rss0 < 4096, format("RSS grew from %d to %d KiB", rss0, rss1))
    assert.is_nil(log():find("ALERT", 1, true), log())
  end)
end)

describe("embedding in nginx with lua-nginx-module (LuaJIT)", function()
  local base
  setup(function() base = checkout_workdir("luajit") end)
  teardown(function() helpers.remove_tree(base) end)

  -- Writes dir/nginx.conf: several workers, the shared dict of size dict,
  -- init_by_lua and init_worker_by_lua code, locations.
  local function config(dir, port, dict, init, init_worker, locations)
    helpers.must(format("mkdir -p %s/logs && chmod 755 %s", quote(dir), quote(dir)))
    write_file(dir .. "/nginx.conf", format([[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
daemon off;
worker_processes 3;
pid logs/nginx.pid;
error_log logs/error.log info;
env LUA_PATH;
env LUA_CPATH;
events { worker_connections 64; }
http {
    access_log off;
    lua_shared_dict lnetstat %s;
    init_by_lua_block { %s }
    init_worker_by_lua_block { %s }
    server {
        listen 127.0.0.1:%d;
        location = /static { return 200 "ok\n"; }
        location = /lnetstat/snapshot { content_by_lua_block { require("lnetstat.openresty").snapshot() } }
        location = /lnetstat/listeners { content_by_lua_block { require("lnetstat.openresty").listeners() } }
%s
    }
}
]], dict, init, init_worker, port, locations or ""))
  end

  local function start(dir, port) return start_server(servers.start_nginx, "luajit", dir, port) end

  local function workers(pid)
    local out = {}
    for w in helpers.run(format("ps -o pid= --ppid %d", pid)):gmatch("%d+") do out[#out + 1] = tonumber(w) end
    return out
  end

  it("workers forked from a master that asked the kernel: right answers, fds and memory steady over "
    .. "1500 requests", function()
    local dir, port = base .. "/fork", free_port()
    config(dir, port, "1m", [[
        local ns = require "lnetstat"
        require "lnetstat.openresty"
        assert(ns.sockets { proto = "tcp", state = "LISTEN" })]],
      [[require("lnetstat.openresty").start_sampler { interval = 0.2 }]])
    local log, pid = start(dir, port)
    local ws = workers(pid)
    assert.equal(3, #ws)
    local paths = { "/lnetstat/listeners", "/lnetstat/snapshot" }
    load(port, 200, paths)
    local before = {}
    for _, w in ipairs(ws) do before[w] = { usage(w) } end
    local out = load(port, 1500, paths)
    for _, p in ipairs(paths) do assert.matches(p .. " 200 1500\n", out, 1, true) end
    for _ = 1, 20 do
      assert(has_listener(get_json(port, "/lnetstat/listeners").listening, port))
    end
    for _, w in ipairs(ws) do
      local fds, rss = usage(w)
      assert.equal(before[w][1], fds, "worker " .. w .. " fds")
      assert(rss - before[w][2] < 4096, format("worker %d RSS grew from %d to %d KiB", w, before[w][2], rss))
    end
    assert.same(ws, workers(pid))
    assert.is_nil(log():match("%[error%][^\n]*") or log():match("%[alert%][^\n]*"), log())
  end)

  it("a shared dict too small for the snapshot: the snapshot endpoint says so", function()
    -- 600 more listeners make a snapshot of some 60 KiB; the dict holds 32
    local holder, hh = helpers.spawn([[python3 -c 'import socket, time
ss = []
for _ in range(600):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); ss.append(s)
print("ready", flush=True); time.sleep(600)']])
    finally(function() helpers.kill(holder, 3, "python3"); hh.cleanup() end)
    assert(hh:wait_ready(20))
    local dir, port = base .. "/small", free_port()
    config(dir, port, "32k", "", [[require("lnetstat.openresty").start_sampler { interval = 0.2 }]])
    local log = start(dir, port)
    local doc
    for _ = 1, 30 do
      doc = get_json(port, "/lnetstat/snapshot", 503)
      if doc.error ~= "no snapshot yet" then break end
      helpers.sleep(0.1)
    end
    assert(doc.error:find("^cannot store the snapshot in the shared dict: no memory"), doc.error .. "\n" .. log())
    assert.matches("lnetstat sampler: cannot store the snapshot", log())
  end)

  it("option mistakes of start_sampler are logged when the workers start", function()
    local dir, port = base .. "/bad", free_port()
    config(dir, port, "1m", "", [[require("lnetstat.openresty").start_sampler { intervall = 5 }]])
    local log = start(dir, port)
    local text
    for _ = 1, 30 do
      text = log()
      if text:find("start_sampler", 1, true) then break end
      helpers.sleep(0.1)
    end
    assert(text:find("bad argument #1 to 'start_sampler' (unknown option 'intervall'; did you mean 'interval'?)",
      1, true), text)
  end)
end)
