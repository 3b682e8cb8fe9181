-- The embedding helpers as a user gets them: the rock is built with
-- `luarocks make --tree` from a copy of the checkout (LuaJIT for nginx's Lua
-- module, Lua 5.3 for HAProxy 2.6), then examples/openresty and
-- examples/haproxy are started for real on free loopback ports with only
-- that tree on their Lua path, and every endpoint is asked over HTTP: JSON
-- parsed, /metrics read by promtool and compared with `lnetstat metrics`,
-- the audit endpoint answering 200 and 503. Each handler's cost per
-- request is measured against a static answer of the same server.
local helpers = require "helpers"
local cjson = require "cjson"

local format = string.format
local quote = helpers.quote

local ROOT = (helpers.must("pwd"):gsub("%s+$", ""))
local LNETSTAT = "lua5.4 " .. quote(ROOT .. "/bin/lnetstat")

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
    local port = math.random(61100, 64999)
    if not used[port] and not taken[port] then
      taken[port] = true
      return port
    end
  end
  error("no free port in 61100-64999")
end

-- GET over loopback (python3, no proxy): status (0 when there was no HTTP
-- answer), body, content type.
local GET = [[python3 -c 'import sys, urllib.request, urllib.error
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    r = o.open(sys.argv[1], timeout=10); code, body, ct = r.status, r.read(), r.headers.get("content-type")
except urllib.error.HTTPError as e:
    code, body, ct = e.code, e.read(), e.headers.get("content-type")
except Exception as e:
    code, body, ct = 0, str(e).encode(), ""
sys.stdout.write("%d %s\n" % (code, ct)); sys.stdout.buffer.write(body)' ]]

local function http_get(port, path)
  local out = helpers.run(GET .. quote(format("http://127.0.0.1:%d%s", port, path)) .. " 2>&1")
  local code, ctype, body = out:match("^(%d+) ([^\n]*)\n(.*)$")
  return tonumber(code) or 0, body or out, ctype
end

-- Waits until pid answers HTTP (any status) on port; raises with log() when
-- it exits or stays silent.
local function wait_http(pid, port, path, what, log)
  for _ = 1, 150 do
    if not helpers.alive(pid) then
      error(format("%s exited at start:\n%s", what, log()), 0)
    end
    if http_get(port, path) ~= 0 then return end
    helpers.sleep(0.1)
  end
  error(format("%s does not answer on 127.0.0.1:%d after 15 s:\n%s", what, port, log()), 0)
end

-- GET path and decode its JSON; asserts the status and the content type.
local function get_json(port, path, want)
  local code, body, ctype = http_get(port, path)
  assert(code == (want or 200), format("GET %s: status %d, body:\n%s", path, code, body))
  assert.matches("^application/json", ctype)
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

-- Runs cmd; returns its output (stdout and stderr) and exit status (echoed:
-- Lua 5.1's popen close does not give it).
local function run_rc(cmd)
  local out = helpers.run(cmd .. " 2>&1; echo \"exit=$?\"")
  local body, rc = out:match("^(.*)exit=(%d+)\n$")
  return body or out, tonumber(rc)
end

-- promtool exits 3 for naming remarks alone: the metrics keep the kernel's
-- counter names (Tcp_ActiveOpens, as node_exporter does), which it calls
-- camelCase. Anything else is a failure.
local function promtool_accepts(dir, text)
  local file = dir .. "/metrics.txt"
  write_file(file, text)
  local out, rc = run_rc("promtool check metrics < " .. quote(file))
  for line in out:gmatch("[^\n]+") do
    assert.matches("^[%w_:]+ metric names should be written in 'snake_case' not 'camelCase'$", line)
  end
  assert(rc == 0 or (rc == 3 and out ~= ""), format("promtool exit %s: %s", tostring(rc), out))
end

-- The metric families (# TYPE lines) of a Prometheus text.
local function families(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do
    local name = line:match("^# TYPE (%S+ %S+)$")
    if name then t[#t + 1] = name end
  end
  table.sort(t)
  return table.concat(t, "\n")
end

-- /metrics has the families `lnetstat metrics` prints (asked around the
-- same moment: a group the kernel starts printing in between is retried).
local function same_families(port)
  local got, want
  for _ = 1, 3 do
    local code, text = http_get(port, "/metrics")
    assert(code == 200, "GET /metrics: status " .. code)
    got = families(text)
    want = families(helpers.must(LNETSTAT .. " metrics"))
    if got == want then return text end
  end
  assert.equal(want, got)
end

-- n sequential GETs of each path (after 20 unmeasured ones) over one
-- keep-alive connection: the median wall time, and the CPU time the
-- server's processes (pids, every thread: /proc/PID/task/TID/schedstat, in
-- ns) spent per request.
local MEASURE = [[python3 -c 'import sys, time, glob, http.client
port, n, pids = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
def cpu():
    t = 0
    for pid in pids:
        for f in glob.glob("/proc/%s/task/*/schedstat" % pid):
            try:
                t += int(open(f).read().split()[0])
            except OSError:
                pass
    return t
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for path in sys.argv[4:]:
    for _ in range(20):
        c.request("GET", path); c.getresponse().read()
    ts = []
    c0 = cpu()
    for _ in range(n):
        t0 = time.perf_counter(); c.request("GET", path); r = c.getresponse(); r.read()
        ts.append((time.perf_counter() - t0) * 1000)
    c1 = cpu()
    ts.sort()
    print("%s %.3f %.3f %d" % (path, ts[len(ts) // 2], (c1 - c0) / n / 1e6, r.status))' ]]

-- The cost of each path per request: the server's CPU time per request
-- minus the static path's (wall times on a shared machine say more about
-- the load than about the handler).
local function measure(what, port, pids, static, paths, n)
  local out = helpers.must(format("%s %d %d %s %s %s", MEASURE, port, n, table.concat(pids, ","), static,
    table.concat(paths, " ")))
  local cpu, lines = {}, {}
  for path, med, c, status in out:gmatch("(%S+) ([%d.]+) ([%d.]+) (%d+)\n") do
    cpu[path] = tonumber(c)
    lines[#lines + 1] = { path = path, med = tonumber(med), cpu = tonumber(c), status = status }
  end
  local report = { format("%s, %d requests per path: wall median, server CPU per request, cost "
    .. "(CPU - %s's):", what, n, static) }
  for _, l in ipairs(lines) do
    report[#report + 1] = format("  %-20s %7.3f ms %7.3f ms  status %s  cost %.3f ms", l.path, l.med, l.cpu,
      l.status, l.cpu - cpu[static])
  end
  io.stderr:write(table.concat(report, "\n"), "\n")
  local cost = {}
  for p, c in pairs(cpu) do cost[p] = c - cpu[static] end
  return cost
end

-- The pids of a process and its children.
local function tree_pids(pid)
  local pids = { pid }
  local out = helpers.run(format("ps -o pid= --ppid %d", pid))
  for child in out:gmatch("%d+") do pids[#pids + 1] = child end
  return pids
end

-- Builds the rock into a tree for each Lua, from copies of the checkout (the
-- builtin backend writes its objects next to the sources), both at once.
local TREES = {}
local function build_rocks(base)
  local cmds = {}
  for _, v in ipairs { "luajit", "5.3" } do
    local src, tree = base .. "/src-" .. v, base .. "/tree-" .. v
    helpers.must(format("mkdir -p %s && git ls-files -co --exclude-standard -z -- csrc lua bin man rockspec "
      .. "Makefile | xargs -0 tar -cf - | tar -xf - -C %s", quote(src), quote(src)))
    local args = v == "luajit" and "--lua-version 5.1" or "--lua-version 5.3"
    local extra = v == "luajit" and " LUA_INCDIR=/usr/include/luajit-2.1" or ""
    cmds[#cmds + 1] = format("(cd %s && luarocks %s --tree %s make rockspec/lnetstat-scm-1.rockspec%s "
      .. ">%s 2>&1 || echo FAILED %s)", quote(src), args, quote(tree), extra, quote(base .. "/log-" .. v), v)
    TREES[v] = tree
  end
  local out = helpers.run("{ " .. table.concat(cmds, " & ") .. " & wait; } 2>&1")
  for v in out:gmatch("FAILED (%S+)") do
    error(format("luarocks make for %s failed:\n%s", v, read_file(base .. "/log-" .. v) or ""), 0)
  end
  helpers.must("chmod -R a+rX " .. quote(base))
end

-- LUA_PATH and LUA_CPATH of a tree, as environment assignments.
local function lua_env(tree, abi)
  return format("LUA_PATH=%s LUA_CPATH=%s",
    quote(format("%s/share/lua/%s/?.lua;%s/share/lua/%s/?/init.lua;;", tree, abi, tree, abi)),
    quote(format("%s/lib/lua/%s/?.so;;", tree, abi)))
end

describe("embedding", function()
  local base

  setup(function()
    base = helpers.mktemp_dir()
    helpers.must("chmod 755 " .. quote(base))
    build_rocks(base)
  end)

  teardown(function()
    helpers.remove_tree(base)
  end)

  it("the rock installs the embedding modules for each Lua, and they load there", function()
    for v, abi in pairs { luajit = "5.1", ["5.3"] = "5.3" } do
      for _, m in ipairs { "openresty", "haproxy", "embed" } do
        assert(read_file(format("%s/share/lua/%s/lnetstat/%s.lua", TREES[v], abi, m)), v .. ": no " .. m)
      end
      local lua = v == "luajit" and "luajit" or "lua" .. v
      local out = helpers.must(format("cd / && env %s %s -e %s", lua_env(TREES[v], abi), lua,
        quote([[local e = require "lnetstat.embed"; local l = assert(e.listeners());
          print(package.searchpath and package.searchpath("lnetstat.core", package.cpath) or "", #l)]])))
      assert.matches("^" .. TREES[v]:gsub("%p", "%%%0") .. "/lib/lua/" .. abi .. "/lnetstat/core.so\t%d+\n$", out)
    end
  end)

  describe("examples/openresty", function()
    local dir, port, pid, handle

    local function log()
      return format("--- logs/error.log\n%s\n--- stdout\n%s\n--- stderr\n%s",
        read_file(dir .. "/logs/error.log") or "(none)",
        handle and handle.stdout() or "", handle and handle.stderr() or "")
    end

    setup(function()
      dir = base .. "/nginx"
      helpers.must(format("mkdir -p %s/logs && chmod 755 %s", quote(dir), quote(dir)))
      port = free_port()
      local conf = assert(read_file(ROOT .. "/examples/openresty/nginx.conf"))
      assert.is_nil(conf:find("@", 1, true), "a placeholder in nginx.conf")
      conf = conf:gsub("127%.0%.0%.1:61080", "127.0.0.1:" .. port)
      -- a static answer of the same server, the baseline of the costs
      conf = conf:gsub("(server {\n)", "%1        location = /static { return 200 \"ok\\n\"; }\n", 1)
      write_file(dir .. "/nginx.conf", conf)
      write_file(dir .. "/audit.lua", (assert(read_file(ROOT .. "/examples/openresty/audit.lua"))
        :gsub("61080", tostring(port))))
      helpers.must("chmod 644 " .. quote(dir .. "/nginx.conf") .. " " .. quote(dir .. "/audit.lua"))
      pid, handle = helpers.spawn(format("env %s nginx -p %s -e %s -c %s", lua_env(TREES.luajit, "5.1"),
        quote(dir .. "/"), quote(dir .. "/logs/error.log"), quote(dir .. "/nginx.conf")))
      wait_http(pid, port, "/static", "nginx", log)
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
    end)

    it("serves the sampler's snapshot from the shared dict, and the sampler keeps sampling", function()
      local code, body
      for _ = 1, 50 do
        code, body = http_get(port, "/lnetstat/snapshot")
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
      for _, k in ipairs { "CurrEstab", "ActiveOpens", "PassiveOpens", "ListenOverflows", "ListenDrops" } do
        assert.is_number(snap.counters[k], k)
      end
      local later
      for _ = 1, 40 do
        helpers.sleep(0.1)
        later = get_json(port, "/lnetstat/snapshot").time
        if later > snap.time then break end
      end
      assert(later > snap.time, format("the snapshot did not change in 4 s (time %s)", tostring(snap.time)))
    end)

    it("answers the live listeners", function()
      local doc = get_json(port, "/lnetstat/listeners")
      local own = find_listener(doc.listening, port)
      assert(own, format("port %d not in /lnetstat/listeners: %s", port, ports_of(doc.listening)))
      assert.equal(#doc.listening, doc.count)
      for _, s in ipairs(doc.listening) do
        assert.is_true(s.state == "LISTEN" or s.state == "UNCONN")
      end
    end)

    it("serves /metrics that promtool reads, with the families of lnetstat metrics", function()
      local code, _, ctype = http_get(port, "/metrics")
      assert.equal(200, code)
      assert.matches("^text/plain; version=0%.0%.4", ctype)
      local text = same_families(port)
      assert.matches("\nlnetstat_network_up{device=\"lo\"} [01]\n", "\n" .. text)
      promtool_accepts(dir, text)
    end)

    it("audit: 200 with the JSON report when the check file passes, 503 when it fails", function()
      local doc = get_json(port, "/lnetstat/audit", 200)
      assert.equal(0, doc.exit_code)
      assert.equal(2, doc.summary.pass)
      assert.equal("pass", doc.results[1].status)
      -- the same file, now asking that nothing listens on nginx's port
      write_file(dir .. "/audit.lua", format("not_listening { proto = 'tcp', port = %d }\n", port))
      doc = get_json(port, "/lnetstat/audit", 503)
      assert.equal(1, doc.exit_code)
      assert.equal(1, doc.summary.fail)
      assert.equal("fail", doc.results[1].status)
      assert.matches("127%.0%.0%.1:" .. port, doc.results[1].actual)
    end)

    it("costs per request (server CPU over 200, against a static answer)", function()
      local med = measure("nginx", port, tree_pids(pid), "/static", { "/lnetstat/snapshot",
        "/lnetstat/listeners", "/metrics", "/lnetstat/audit" }, 200)
      for _, p in ipairs { "/lnetstat/snapshot", "/lnetstat/listeners", "/metrics", "/lnetstat/audit" } do
        assert.is_number(med[p], p)
        -- generous bounds: a blocking handler must stay far below a timeout
        assert.is_true(med[p] < 100, p .. " costs " .. tostring(med[p]) .. " ms of CPU")
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
      dir = base .. "/haproxy"
      helpers.must("mkdir -p " .. quote(dir))
      port = free_port()
      local cfg = assert(read_file(ROOT .. "/examples/haproxy/haproxy.cfg"))
      assert.is_nil(cfg:find("@", 1, true), "a placeholder in haproxy.cfg")
      assert.is_nil(cfg:find("lua-prepend-path", 1, true))
      cfg = cfg:gsub("61081", tostring(port))
      -- a fetch for a port nothing listens on, and a static answer
      local unused = free_port()
      local extra = format("    http-request return status 200 content-type text/plain lf-string "
        .. "\"%%[lua.lnetstat_listening(%d)]\\n\" if { path /probe }\n"
        .. "    http-request return status 200 content-type text/plain string \"ok\\n\" if { path /static }\n", unused)
      cfg = cfg:gsub("(    http%-request return status 404)", function(s) return extra .. s end, 1)
      write_file(dir .. "/haproxy.cfg", cfg)
      write_file(dir .. "/lnetstat.lua", assert(read_file(ROOT .. "/examples/haproxy/lnetstat.lua")))
      local env = lua_env(TREES["5.3"], "5.3")
      local out, rc = run_rc(format("env -C %s %s haproxy -c -f haproxy.cfg", quote(dir), env))
      assert(rc == 0, "haproxy -c failed:\n" .. out)
      pid, handle = helpers.spawn(format("env -C %s %s haproxy -db -f haproxy.cfg", quote(dir), env))
      wait_http(pid, port, "/static", "haproxy", log)
    end)

    teardown(function()
      if pid then helpers.kill(pid, 3, "haproxy") end
      if handle then handle.cleanup() end
    end)

    it("answers the task's snapshot and the live listeners as JSON, its own port among them", function()
      for _, path in ipairs { "/lnetstat/snapshot", "/lnetstat/listeners" } do
        local doc = get_json(port, path)
        local own = find_listener(doc.listening, port)
        assert(own, format("%s: port %d not listed: %s", path, port, ports_of(doc.listening)))
        assert.equal("LISTEN", own.state)
        assert.is_number(doc.counters.CurrEstab)
        assert.is_true(doc.thread == 1 or doc.thread == 2, "thread " .. tostring(doc.thread))
      end
    end)

    it("the task samples on its interval (per-thread states)", function()
      -- one process polls for up to 8 s (a python3 per request can take
      -- seconds to start on a loaded machine)
      local out = helpers.must(format([=[python3 -c 'import sys, json, time, http.client
c = http.client.HTTPConnection("127.0.0.1", %d, timeout=10)
first, end = {}, time.time() + 8
while time.time() < end:
    c.request("GET", "/lnetstat/snapshot"); d = json.loads(c.getresponse().read())
    print(d["thread"], repr(d["time"]), flush=True)
    if d["thread"] in first and d["time"] > first[d["thread"]]:
        break
    first.setdefault(d["thread"], d["time"])
    time.sleep(0.1)']=], port))
      local first, changed = {}, nil
      for thread, t in out:gmatch("(%d+) ([%d.e+]+)\n") do
        thread, t = tonumber(thread), tonumber(t)
        assert.is_true(thread == 1 or thread == 2, "thread " .. thread)
        if first[thread] and t > first[thread] then changed = thread end
        first[thread] = first[thread] or t
      end
      assert(changed, "no thread's sample changed in 8 s:\n" .. out)
    end)

    it("the sample fetches: a count for lf-string, a port test for an ACL", function()
      local code, body = http_get(port, "/fetch")
      assert(code == 200, format("GET /fetch: status %d, %s", code, body))
      local n = tonumber(body:match("^listeners=(%d+)\n$"))
      assert(n and n >= 1, "GET /fetch: unexpected body " .. body)
      code, body = http_get(port, "/up")
      assert.equal(200, code)
      assert.equal("up\n", body)
      code, body = http_get(port, "/probe")
      assert.equal(200, code)
      assert.equal("0\n", body)
    end)

    it("serves /metrics that promtool reads, with the families of lnetstat metrics", function()
      local text = same_families(port)
      promtool_accepts(dir, text)
    end)

    it("costs per request (server CPU over 200, against a static answer)", function()
      local paths = { "/lnetstat/snapshot", "/lnetstat/listeners", "/metrics", "/fetch" }
      local med = measure("haproxy", port, tree_pids(pid), "/static", paths, 200)
      for _, p in ipairs(paths) do
        assert.is_number(med[p], p)
        assert.is_true(med[p] < 100, p .. " costs " .. tostring(med[p]) .. " ms of CPU")
      end
    end)
  end)
end)
