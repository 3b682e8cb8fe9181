--- The real servers the embedding specs run lnetstat in (HAProxy, and nginx
-- with lua-nginx-module): free loopback ports, starting each on one and
-- waiting until it answers HTTP, asking it over HTTP, and stopping it by
-- its pid.
local helpers = require "helpers"

local format, quote = string.format, helpers.quote

local servers = {}

-- The ports any TCP or UDP socket of this netns uses (a set).
local function used_ports()
  local used = {}
  for _, name in ipairs { "tcp", "tcp6", "udp", "udp6" } do
    local text = helpers.read_file("/proc/net/" .. name) or ""
    for hex in text:gmatch("\n%s*%d+: %x+:(%x%x%x%x) ") do used[tonumber(hex, 16)] = true end
  end
  return used
end

math.randomseed(os.time() + helpers.getpid() * 7)
local taken = {}

--- A loopback port no socket of this netns uses, above the kernel's
-- default ephemeral range (32768-60999), and never the same twice in this
-- process. Raises when none is found.
function servers.free_port()
  local used = used_ports()
  for _ = 1, 200 do
    local port = math.random(61100, 64999)
    if not used[port] and not taken[port] then
      taken[port] = true
      return port
    end
  end
  error("no free port in 61100-64999")
end

--- A fresh temp directory (helpers.mktemp_dir) that the servers' workers,
-- running as another user, may enter (mode 755). Returns its path.
function servers.workdir()
  local dir = helpers.mktemp_dir()
  local ok, err = pcall(helpers.must, "chmod 755 " .. quote(dir))
  if not ok then
    helpers.remove_tree(dir)
    error(err, 0)
  end
  return dir
end

-- GET over loopback (python3's http.client: no proxy): "STATUS TYPE" on a
-- line, then the body; status 0 and the error when there was no HTTP answer.
local GET = [[python3 -c 'import sys, http.client
try:
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    c.request("GET", sys.argv[2]); r = c.getresponse(); b = r.read()
    code, ct = r.status, r.getheader("content-type") or ""
except Exception as e:
    code, b, ct = 0, str(e).encode(), ""
sys.stdout.write("%d %s\n" % (code, ct)); sys.stdout.buffer.write(b)' ]]

--- GET path from 127.0.0.1:port. Returns the status (0 when there was no
-- HTTP answer), the body (or the error) and the content type.
function servers.http_get(port, path)
  local out = helpers.run(format("%s %d %s 2>&1", GET, port, quote(path)))
  local code, ctype, body = out:match("^(%d+) ([^\n]*)\n(.*)$")
  return tonumber(code) or 0, body or out, ctype
end

--- GET path and decode its JSON body; asserts the status (want, 200 by
-- default) and that the body is JSON. Returns the document and the
-- content type.
function servers.get_json(port, path, want)
  local code, body, ctype = servers.http_get(port, path)
  assert(code == (want or 200), format("GET %s: status %d, body:\n%s", path, code, body))
  local ok, doc = pcall(require("cjson").decode, body)
  assert(ok, format("GET %s: not JSON (%s):\n%s", path, tostring(doc), body))
  return doc, ctype
end

--- The entry of a list of socket records for a TCP listener on
-- 127.0.0.1:port, or nil.
function servers.find_listener(list, port)
  for _, s in ipairs(list) do
    if s.local_port == port and s.local_addr == "127.0.0.1" and s.proto == "tcp" then return s end
  end
end

-- Waits until pid answers HTTP (any status) for path on port, for up to
-- 15 s; raises with log() when it exits first or stays silent.
local function wait_http(pid, port, path, what, log)
  for _ = 1, 150 do
    if not helpers.alive(pid) then
      error(format("%s exited at start:\n%s", what, log()), 0)
    end
    if servers.http_get(port, path) ~= 0 then return end
    helpers.sleep(0.1)
  end
  error(format("%s does not answer on 127.0.0.1:%d after 15 s:\n%s", what, port, log()), 0)
end

-- Stops haproxy by its pid.
local function stop_haproxy(pid)
  helpers.kill(pid, 3, "haproxy")
end

-- Stops nginx: QUIT to the master (pid), which lets its workers finish;
-- after 5 s helpers.kill.
local function stop_nginx(pid)
  if helpers.alive(pid) then helpers.run(format("kill -QUIT %d >/dev/null 2>&1", pid)) end
  for _ = 1, 100 do
    if not helpers.alive(pid) then break end
    helpers.sleep(0.05)
  end
  helpers.kill(pid, 3, "nginx")
end

-- Spawns cmd, then waits until it answers /static on port. Returns the
-- server (see start_haproxy); stops it before raising when it does not
-- answer.
local function start(what, cmd, port, log_of, stop_pid)
  local pid, handle = helpers.spawn(cmd)
  local server, stopped = { pid = pid }, false
  function server.log() return log_of(handle) end
  function server.stop()
    if stopped then return end
    stopped = true
    pcall(stop_pid, pid)
    pcall(handle.cleanup)
  end
  local ok, err = pcall(wait_http, pid, port, "/static", what, server.log)
  if not ok then
    server.stop()
    error(err, 0)
  end
  return server
end

--- `haproxy -c` on dir/haproxy.cfg (run in dir, with env, the LUA_PATH
-- and LUA_CPATH assignments): its output (stdout and stderr) and exit
-- status (echoed: Lua 5.1's popen close does not give it).
function servers.check_haproxy(dir, env)
  local out = helpers.run(format("env -C %s %s haproxy -c -f haproxy.cfg 2>&1; echo \"exit=$?\"", quote(dir), env))
  local body, rc = out:match("^(.*)exit=(%d+)\n$")
  return body or out, tonumber(rc)
end

--- Starts haproxy in the foreground in dir with dir/haproxy.cfg, env
-- (the LUA_PATH and LUA_CPATH assignments) in its environment, and waits
-- until it answers /static on port (the config must answer it). Returns
-- the server: server.pid, server.log() (its stdout and stderr) and
-- server.stop() (by its pid; removes its output files; never raises, and
-- does nothing the second time). Raises, once it is stopped, when it does
-- not answer.
function servers.start_haproxy(dir, port, env)
  return start("haproxy", format("env -C %s %s haproxy -db -f haproxy.cfg", quote(dir), env), port,
    function(h) return format("--- stdout\n%s\n--- stderr\n%s", h.stdout(), h.stderr()) end,
    stop_haproxy)
end

--- Starts nginx with prefix dir and dir/nginx.conf (its error log in
-- dir/logs/error.log), env (the LUA_PATH and LUA_CPATH assignments) in its
-- environment, and waits until it answers /static on port (the config
-- must answer it). Returns the server, as start_haproxy does: server.pid
-- is the master's, server.log() the error log, stdout and stderr, and
-- server.stop() sends the master QUIT (its workers finish) and after 5 s
-- stops it with helpers.kill.
function servers.start_nginx(dir, port, env)
  return start("nginx", format("env %s nginx -p %s -e %s -c %s", env, quote(dir .. "/"),
    quote(dir .. "/logs/error.log"), quote(dir .. "/nginx.conf")), port,
    function(h)
      return format("--- logs/error.log\n%s\n--- stdout\n%s\n--- stderr\n%s",
        helpers.read_file(dir .. "/logs/error.log") or "(none)", h.stdout(), h.stderr())
    end, stop_nginx)
end

return servers
