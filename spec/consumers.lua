--- The real consumers of what lnetstat writes, run on a text: any command
-- that reads a file (prove, xmllint, perl), Python 3, promtool, and
-- node_exporter's textfile collector; and the inverse of the escape
-- (lnetstat.encode.utf8 `distinct`) that reads their answers back to bytes.
local helpers = require "helpers"
local scratch = require "scratch"
local luassert = require "luassert"

local quote, format = helpers.quote, string.format

local consumers = {}

--- The Python 3 interpreter the consumers run.
consumers.PYTHON = "/usr/bin/python3"

--- Runs cmd (shell text) with a temp file holding text as its last
-- argument ("promtool check metrics <" reads it from stdin); removes the
-- file. Returns the output (stdout and stderr) and the exit code (read
-- from the shell: a popen's close gives none on Lua 5.1 and LuaJIT).
function consumers.consume(cmd, text)
  local path = scratch.temp(text)
  local out = helpers.run(cmd .. " " .. quote(path) .. " 2>&1; echo \"consumer-rc=$?\"")
  os.remove(path)
  local body, rc = out:match("^(.-)consumer%-rc=(%d+)\n$")
  return body or out, tonumber(rc)
end

--- consume() of Python 3 source: the script reads the text from the file
-- named by sys.argv[1]. Returns its output and exit code.
function consumers.python(script, text)
  return consumers.consume(consumers.PYTHON .. " -c " .. quote(script), text)
end

--- Asserts that promtool reads Prometheus text: it exits 0, or 3 with
-- nothing but naming remarks (lnetstat metrics keeps the kernel's counter
-- names, node_netstat_Tcp_ActiveOpens as node_exporter does, which it
-- calls camelCase). Anything else fails the test.
function consumers.promtool_accepts(text)
  local out, rc = consumers.consume("promtool check metrics <", text)
  for line in out:gmatch("[^\n]+") do
    luassert.matches("^[%w_:]+ metric names should be written in 'snake_case' not 'camelCase'$", line)
  end
  luassert(rc == 0 or (rc == 3 and out ~= ""), format("promtool exit %s: %s", tostring(rc), out))
end

--- The inverse of lnetstat.encode.utf8 `distinct`: `\\` is a backslash,
-- `\xHH` the byte HH, anything else itself. Raises on a backslash that
-- starts no escape. Returns the bytes.
function consumers.undo_distinct(s)
  local out, i = {}, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c ~= "\\" then
      out[#out + 1], i = c, i + 1
    elseif s:sub(i + 1, i + 1) == "\\" then
      out[#out + 1], i = "\\", i + 2
    else
      local hex = s:sub(i + 1, i + 3):match("^x(%x%x)$")
      assert(hex, "a backslash that is no escape in " .. s)
      out[#out + 1], i = string.char(tonumber(hex, 16)), i + 4
    end
  end
  return table.concat(out)
end

--- Serves the *.prom files of dir with node_exporter's textfile collector
-- (Debian's prometheus-node-exporter, no other collector) inside network
-- namespace netns on 127.0.0.1:port, scrapes /metrics once it answers
-- (up to 10 s), then stops it by its pid and removes its output files.
-- Returns the scraped text and what node_exporter wrote to stderr; raises,
-- once it is stopped, when it exits or never answers.
function consumers.node_exporter(netns, dir, port)
  local inside = "ip netns exec " .. quote(netns) .. " "
  local pid, handle = helpers.spawn(format("%sprometheus-node-exporter --web.listen-address=127.0.0.1:%d "
    .. "--collector.disable-defaults --collector.textfile --collector.textfile.directory=%s",
    inside, port, quote(dir)))
  local ok, text, stderr = pcall(function()
    for _ = 1, 200 do
      -- (the exit status from the marker: io.popen's close gives none on Lua 5.1 and LuaJIT)
      local out = helpers.run(format("%scurl -sf http://127.0.0.1:%d/metrics && echo scrape-ok", inside, port))
      local body = out:match("^(.*)scrape%-ok\n$")
      if body then return body, handle.stderr() end
      luassert(helpers.alive(pid), "node_exporter exited: " .. handle.stderr())
      helpers.sleep(0.05)
    end
    error("node_exporter never answered: " .. handle.stderr(), 0)
  end)
  helpers.kill(pid, 5, "node-exporter")
  handle.cleanup()
  if not ok then error(text, 0) end
  return text, stderr
end

return consumers
