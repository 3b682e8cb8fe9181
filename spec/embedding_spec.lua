-- examples/openresty and examples/haproxy: started for real (nginx with the
-- Debian Lua module on LuaJIT, HAProxy 2.6 on Lua 5.3) on free loopback
-- ports, asked over HTTP, and their JSON checked. A server that does not
-- start fails the test with its log.
local helpers = require "helpers"
local cjson = require "cjson"

local format = string.format
local quote = helpers.quote

local ROOT = (helpers.must("pwd"):gsub("%s+$", ""))
local PLACEHOLDER = "@LNETSTAT_ROOT@"

-- Builds the module for one Lua (make is a no-op when it is up to date,
-- and rebuilds a stale one).
local function build(version)
  helpers.must("make -s LUA_VERSION=" .. version)
  local so = format("%s/build/%s/lnetstat/core.so", ROOT, version)
  assert(io.open(so, "rb"), "not built: " .. so):close()
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

-- The ports any TCP or UDP socket of this netns uses.
local function used_ports()
  local used = {}
  for _, name in ipairs { "tcp", "tcp6", "udp", "udp6" } do
    local text = read_file("/proc/net/" .. name) or ""
    for hex in text:gmatch("\n%s*%d+: %x+:(%x%x%x%x) ") do used[tonumber(hex, 16)] = true end
  end
  return used
end

math.randomseed(os.time() + helpers.getpid())
local taken = {}
-- A free port above the kernel's default ephemeral range (32768-60999).
local function free_port()
  local used = used_ports()
  for _ = 1, 200 do
    local port = math.random(61000, 64999)
    if not used[port] and not taken[port] then
      taken[port] = true
      return port
    end
  end
  error("no free port in 61000-64999")
end

-- The example config with the checkout path and the port filled in.
local function instantiate(src, dst, default_port, port)
  local text = assert(read_file(ROOT .. "/" .. src), "missing " .. src)
  assert(text:find(PLACEHOLDER, 1, true), src .. " has no " .. PLACEHOLDER)
  local listen = "127.0.0.1:" .. default_port
  assert(text:find(listen, 1, true), src .. " does not listen on " .. listen)
  text = text:gsub(PLACEHOLDER, (ROOT:gsub("%%", "%%%%")))
  text = text:gsub(listen:gsub("%.", "%%."), "127.0.0.1:" .. port)
  write_file(dst, text)
end

-- GET over loopback (python3, no proxy): status (0 when there was no HTTP
-- answer) and body.
local GET = [[python3 -c 'import sys, urllib.request, urllib.error
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    r = o.open(sys.argv[1], timeout=3); code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except Exception as e:
    code, body = 0, str(e).encode()
sys.stdout.write("%d\n" % code); sys.stdout.buffer.write(body)' ]]

local function http_get(port, path)
  local out = helpers.run(GET .. quote(format("http://127.0.0.1:%d%s", port, path)) .. " 2>&1")
  local code, body = out:match("^(%d+)\n(.*)$")
  return tonumber(code) or 0, body or out
end

-- Waits until pid answers HTTP (any status) on port; raises with log() when it exits or
-- stays silent.
local function wait_http(pid, port, path, what, log)
  for _ = 1, 100 do
    if not helpers.alive(pid) then
      error(format("%s exited at start:\n%s", what, log()), 0)
    end
    local code = http_get(port, path)
    if code ~= 0 then return end
    helpers.sleep(0.1)
  end
  error(format("%s does not answer on 127.0.0.1:%d after 10 s:\n%s", what, port, log()), 0)
end

-- GET path and decode its JSON; asserts status 200.
local function get_json(port, path)
  local code, body = http_get(port, path)
  assert(code == 200, format("GET %s: status %d, body:\n%s", path, code, body))
  local ok, doc = pcall(cjson.decode, body)
  assert(ok, format("GET %s: not JSON (%s):\n%s", path, tostring(doc), body))
  return doc
end

-- The entry of list for a TCP listener on 127.0.0.1:port, if any.
local function find_listener(list, port)
  for _, s in ipairs(list) do
    if s.local_port == port and s.local_addr == "127.0.0.1" and s.proto == "tcp" then return s end
  end
end

local function ports_of(list)
  local out = {}
  for _, s in ipairs(list) do out[#out + 1] = format("%s %s:%s %s", s.proto, s.local_addr, s.local_port, s.state) end
  return table.concat(out, ", ")
end

describe("examples/openresty", function()
  local dir, port, pid, handle

  local function log()
    return format("--- logs/error.log\n%s\n--- stdout\n%s\n--- stderr\n%s",
      read_file(dir .. "/logs/error.log") or "(none)",
      handle and handle.stdout() or "", handle and handle.stderr() or "")
  end

  setup(function()
    build("luajit")
    dir = helpers.mktemp_dir()
    helpers.must("chmod 755 " .. quote(dir) .. " && mkdir " .. quote(dir .. "/logs"))
    port = free_port()
    instantiate("examples/openresty/nginx.conf", dir .. "/nginx.conf", 61080, port)
    pid, handle = helpers.spawn(format("nginx -p %s -e %s -c %s", quote(dir .. "/"),
      quote(dir .. "/logs/error.log"), quote(dir .. "/nginx.conf")))
    wait_http(pid, port, "/lnetstat/live", "nginx", log)
  end)

  teardown(function()
    if pid then
      -- graceful stop of the master (the spawned pid) and its workers
      if helpers.alive(pid) then helpers.run(format("kill -QUIT %d >/dev/null 2>&1", pid)) end
      for _ = 1, 100 do
        if not helpers.alive(pid) then break end
        helpers.sleep(0.05)
      end
      helpers.kill(pid, 3, "nginx")
    end
    if handle then handle.cleanup() end
    helpers.remove_tree(dir)
  end)

  it("serves the sampler's snapshot from the shared dict", function()
    local code, body
    for _ = 1, 50 do
      code, body = http_get(port, "/lnetstat/listening")
      if code == 200 then break end
      helpers.sleep(0.1)
    end
    assert(code == 200, format("no snapshot after 5 s: status %d, %s\n%s", code, body, log()))
    local snap = cjson.decode(body)
    local own = find_listener(snap.listening, port)
    assert(own, format("port %d not in the snapshot: %s", port, ports_of(snap.listening)))
    assert.equal("LISTEN", own.state)
    for _, s in ipairs(snap.listening) do
      assert.is_true(s.proto == "tcp" or s.proto == "udp")
      assert.is_string(s.local_addr)
      assert.is_number(s.local_port)
    end
    assert.is_number(snap.counters.CurrEstab)
    assert.is_true(snap.counters.CurrEstab >= 0)
    assert.is_number(snap.counters.ListenOverflows)
    assert.is_number(snap.time)
  end)

  it("keeps sampling (the timer runs again)", function()
    local first = get_json(port, "/lnetstat/listening").time
    local later
    for _ = 1, 40 do
      helpers.sleep(0.1)
      later = get_json(port, "/lnetstat/listening").time
      if later > first then break end
    end
    assert(later > first, format("the snapshot did not change in 4 s (time %s)", tostring(first)))
  end)

  it("answers a live query of the TCP listeners", function()
    local doc = get_json(port, "/lnetstat/live")
    local own = find_listener(doc.listening, port)
    assert(own, format("port %d not in /lnetstat/live: %s", port, ports_of(doc.listening)))
    assert.equal("LISTEN", own.state)
    for _, s in ipairs(doc.listening) do
      assert.equal("tcp", s.proto)
      assert.equal("LISTEN", s.state)
    end
  end)

  it("logged no Lua error", function()
    local text = read_file(dir .. "/logs/error.log") or ""
    assert.is_nil(text:match("%[error%][^\n]*") or text:match("%[alert%][^\n]*")
      or text:match("%[emerg%][^\n]*"), log())
  end)
end)

describe("examples/haproxy", function()
  local dir, port, pid, handle

  local function log()
    return format("--- stdout\n%s\n--- stderr\n%s", handle and handle.stdout() or "",
      handle and handle.stderr() or "")
  end

  setup(function()
    build("5.3")
    dir = helpers.mktemp_dir()
    port = free_port()
    local cfg = dir .. "/haproxy.cfg"
    instantiate("examples/haproxy/haproxy.cfg", cfg, 61081, port)
    local out, ok = helpers.run("haproxy -c -f " .. quote(cfg) .. " 2>&1")
    assert(ok, "haproxy -c failed:\n" .. out)
    pid, handle = helpers.spawn("haproxy -db -f " .. quote(cfg))
    wait_http(pid, port, "/fetch", "haproxy", log)
  end)

  teardown(function()
    if pid then helpers.kill(pid, 3, "haproxy") end
    if handle then handle.cleanup() end
    helpers.remove_tree(dir)
  end)

  it("answers the TCP listeners as JSON, its own port among them", function()
    local doc = get_json(port, "/lnetstat/listening")
    local own = find_listener(doc.listening, port)
    assert(own, format("port %d not in the service's list: %s", port, ports_of(doc.listening)))
    assert.equal("LISTEN", own.state)
    assert.equal(#doc.listening, doc.count)
    for _, s in ipairs(doc.listening) do
      assert.equal("tcp", s.proto)
      assert.equal("LISTEN", s.state)
    end
  end)

  it("fetches the same count for lf-string", function()
    -- other processes may open or close listeners meanwhile: compare a
    -- fetch with the service's count before and after it
    local last
    for _ = 1, 10 do
      local before = get_json(port, "/lnetstat/listening").count
      local code, body = http_get(port, "/fetch")
      assert(code == 200, format("GET /fetch: status %d, %s", code, body))
      local n = tonumber(body:match("^listeners=(%d+)\n$"))
      assert(n, "GET /fetch: unexpected body " .. body)
      assert.is_true(n >= 1)
      local after = get_json(port, "/lnetstat/listening").count
      last = format("service %d, fetch %d, service %d", before, n, after)
      if before == n and n == after then return end
      helpers.sleep(0.2)
    end
    error("the fetch never matched the service: " .. last)
  end)

  it("runs in per-thread Lua states (core.thread is not 0)", function()
    local seen = {}
    for _ = 1, 6 do
      seen[get_json(port, "/lnetstat/listening").thread] = true
    end
    for t in pairs(seen) do assert.is_true(t == 1 or t == 2, "thread " .. tostring(t)) end
  end)
end)
