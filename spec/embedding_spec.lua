-- The embedding helpers as a user gets them: the rock is built with
-- `luarocks make --tree` from a copy of the checkout (LuaJIT for nginx's Lua
-- module, Lua 5.3 for HAProxy 2.6), then examples/openresty and
-- examples/haproxy are started for real on free loopback ports with only
-- that tree on their Lua path, and every endpoint is asked over HTTP: JSON
-- parsed, /metrics read by promtool and compared with `lnetstat metrics`,
-- the audit endpoint answering 200 and 503. Each handler's cost per
-- request is measured against a static answer of the same server.
local helpers = require "helpers"
local servers = require "servers"
local consumers = require "consumers"
local scratch = require "scratch"
local cjson = require "cjson"

local format = string.format
local quote = helpers.quote

local ROOT = (helpers.must("pwd"):gsub("%s+$", ""))
local LNETSTAT = "lua5.4 " .. quote(ROOT .. "/bin/lnetstat")

local read_file, write_file = helpers.read_file, scratch.write
local free_port, http_get, find_listener = servers.free_port, servers.http_get, servers.find_listener

-- GET path and decode its JSON; asserts the status and the content type.
local function get_json(port, path, want)
  local doc, ctype = servers.get_json(port, path, want)
  assert.matches("^application/json", ctype)
  return doc
end

local function ports_of(list)
  local out = {}
  for _, s in ipairs(list) do out[#out + 1] = format("%s %s:%s %s", s.proto, s.local_addr, s.local_port, s.state) end
  return table.concat(out, ", ")
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
    base = servers.workdir()
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
    local dir, port, server

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
      server = servers.start_nginx(dir, port, lua_env(TREES.luajit, "5.1"))
    end)

    -- a graceful stop of the master and its workers
    teardown(function() if server then server.stop() end end)

    it("serves the sampler's snapshot from the shared dict, and the sampler keeps sampling", function()
      local code, body
      for _ = 1, 50 do
        code, body = http_get(port, "/lnetstat/snapshot")
        if code == 200 then break end
        helpers.sleep(0.1)
      end
      assert(code == 200, format("no snapshot after 5 s: status %d, %s\n%s", code, body, server.log()))
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
      consumers.promtool_accepts(text)
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
      local med = measure("nginx", port, tree_pids(server.pid), "/static", { "/lnetstat/snapshot",
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
        or text:match("%[emerg%][^\n]*"), server.log())
    end)
  end)

  describe("examples/haproxy", function()
    local dir, port, server

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
      local out, rc = servers.check_haproxy(dir, env)
      assert(rc == 0, "haproxy -c failed:\n" .. out)
      server = servers.start_haproxy(dir, port, env)
    end)

    teardown(function() if server then server.stop() end end)

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
      consumers.promtool_accepts(text)
    end)

    it("costs per request (server CPU over 200, against a static answer)", function()
      local paths = { "/lnetstat/snapshot", "/lnetstat/listeners", "/metrics", "/fetch" }
      local med = measure("haproxy", port, tree_pids(server.pid), "/static", paths, 200)
      for _, p in ipairs(paths) do
        assert.is_number(med[p], p)
        assert.is_true(med[p] < 100, p .. " costs " .. tostring(med[p]) .. " ms of CPU")
      end
    end)
  end)
end)
