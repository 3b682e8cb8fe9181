-- The command line of lnetstat.check: `lnetstat check FILE...`.
-- @module lnetstat.checks.cli
local type, ipairs, tostring, tonumber, error, pcall, format, sub, concat, floor =
  type, ipairs, tostring, tonumber, error, pcall, string.format, string.sub, table.concat, math.floor

local M = {}

local USAGE = [[
usage: lnetstat check FILE... [--format human|tap|junit|json|prometheus]
                              [--netns NAME] [--output FILE]
                              [--within SECONDS] [--every SECONDS]
                              [--cpu-limit SECONDS]
  Runs check files (Lua; see lnetstat.check). FILE "-" reads standard input.
  --format, -f   report format (default human)
  --netns NAME   read the data of a network namespace (name, path or pid)
  --output, -o   write the report to FILE (atomically) instead of stdout
  --within S     retry failing checks for up to S seconds (default: no retry)
  --every S      seconds between retries (default 1)
  --cpu-limit S  stop a check file that uses more than S seconds of CPU
                 (default 60; 0: no limit): an endless loop is an error
Exit status: 0 all checks passed, 1 a check failed, 2 an error (a bad check
file, data that could not be read, an owner that could not be identified).
]]

-- Writes text to path through a temporary file and a rename (a Prometheus
-- textfile collector never reads half a file).
local function write_atomic(path, text)
  local tmp = format("%s.tmp.%d", path, floor(os.clock() * 1e6) % 1000000)
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  f:close()
  if not ok then os.remove(tmp); return nil, werr end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp); return nil, rerr end
  return true
end

--- `lnetstat check ...` for the public module check (lnetstat.check):
-- returns the exit code (never exits); uses check.run, check.report and
-- check.FORMATS.
function M.main(check, argv, opts)
  opts = opts or {}
  local stdout, stderr = opts.stdout or io.stdout, opts.stderr or io.stderr
  if type(argv) ~= "table" then argv = {} end
  local files, fmt, netns, output = {}, "human", nil, nil
  local defaults = {}
  local cpu_limit
  local i = 1
  local function value(name)
    i = i + 1
    local v = argv[i]
    if v == nil then error({ usage = "option " .. name .. " needs a value" }) end
    return v
  end
  local ok, err = pcall(function()
    while i <= #argv do
      local a = argv[i]
      local name, inline = tostring(a):match("^(%-%-[%w%-]+)=(.*)$")
      if name then a = name end
      local function v() if inline then return inline end return value(a) end
      if a == "-h" or a == "--help" then
        error({ help = true })
      elseif a == "--format" or a == "-f" then
        fmt = v()
      elseif a == "--netns" then
        netns = v()
      elseif a == "--output" or a == "-o" then
        output = v()
      elseif a == "--cpu-limit" then
        cpu_limit = tonumber(v())
        if not cpu_limit or cpu_limit < 0 then
          error({ usage = "--cpu-limit needs a number of seconds (0: no limit)" })
        end
      elseif a == "--within" or a == "--every" then
        local n = tonumber(v())
        if not n or n < 0 then error({ usage = a .. " needs a number of seconds" }) end
        defaults[sub(a, 3)] = n
      elseif a == "--" then
        for j = i + 1, #argv do files[#files + 1] = argv[j] end
        break
      elseif a ~= "-" and sub(a, 1, 1) == "-" then
        error({ usage = "unknown option " .. a })
      else
        files[#files + 1] = a
      end
      i = i + 1
    end
  end)
  if not ok then
    if type(err) == "table" and err.help then stdout:write(USAGE); return 0 end
    local msg = type(err) == "table" and err.usage or tostring(err)
    stderr:write("lnetstat check: ", msg, "\n", USAGE)
    return 2
  end
  local known = false
  for _, f in ipairs(check.FORMATS) do if f == fmt then known = true end end
  if not known then
    stderr:write("lnetstat check: unknown format '", fmt, "' (", concat(check.FORMATS, ", "), ")\n")
    return 2
  end
  if #files == 0 then
    stderr:write("lnetstat check: no check file given\n", USAGE)
    return 2
  end
  if netns and tonumber(netns) then netns = tonumber(netns) end
  if output then
    -- fail before the checks run (and sleep through their windows)
    local probe = format("%s.tmp.probe", output)
    local f, perr = io.open(probe, "w")
    if not f then
      stderr:write("lnetstat check: cannot write ", output, ": ", tostring(perr), "\n")
      return 2
    end
    f:close()
    os.remove(probe)
  end
  local run = check.run(files, {
    data = opts.data, netns = netns, sleep = opts.sleep, clock = opts.clock,
    log = opts.log or function(s) stderr:write(s, "\n") end, defaults = defaults,
    cpu_limit = cpu_limit,
  })
  if run.data_error then stderr:write("lnetstat check: ", run.data_error, "\n") end
  local text = check.report(run, fmt)
  if output then
    local wok, werr = write_atomic(output, text)
    if not wok then
      stderr:write("lnetstat check: cannot write ", output, ": ", tostring(werr), "\n")
      return 2
    end
  else
    stdout:write(text)
  end
  return run.exit_code
end

return M
