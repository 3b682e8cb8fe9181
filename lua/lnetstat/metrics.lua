--- `lnetstat metrics`: the counters (ns.stats()) and interface statistics
-- (ns.interfaces()) as Prometheus text (lnetstat.format.prometheus), on
-- stdout or written atomically for node_exporter's textfile collector.
--
-- With --prefix node the text is a drop-in for node_exporter's netstat,
-- sockstat and netdev collectors: run node_exporter with those three off
-- (--no-collector.netstat --no-collector.sockstat --no-collector.netdev)
-- and this file in its --collector.textfile.directory, and the series,
-- help and types are the ones those collectors export by default.
-- --fields and --devices take node_exporter's --collector.netstat.fields
-- and --collector.netdev.device-include regular expressions.
-- @module lnetstat.metrics
local cliargs = require "lnetstat.cliargs"
local util = require "lnetstat.util"
local prometheus = require "lnetstat.format.prometheus"
local regex = require "lnetstat.format.regex"

local tostring = tostring

local M = {}

local function parser()
  local p = cliargs.parser("lnetstat metrics",
    "Counters and interface statistics as Prometheus text.")
  p:option("--netns", "Read another network namespace (a name, a path or a pid).")
    :argname "NAME"
  p:option("--prefix", "Metric name prefix: lnetstat (default: every field and device) or "
    .. "node (node_exporter's names and default series; only with its netstat, sockstat "
    .. "and netdev collectors off).")
    :choices { "lnetstat", "node" }
  p:option("--fields", "Netstat series to export: those whose <Group>_<Field> matches "
    .. "REGEX (node_exporter's --collector.netstat.fields; default with --prefix node: "
    .. "its default, otherwise all).")
    :argname "REGEX"
  p:option("--devices", "Interfaces to export: those whose name matches REGEX "
    .. "(node_exporter's --collector.netdev.device-include; default with --prefix node: "
    .. "all but lo, otherwise all).")
    :argname "REGEX"
  p:option("-o --output", "Write FILE atomically (a temporary file, then a rename), "
    .. "for the textfile collector.")
    :argname "FILE"
  return p
end

local function fail(msg)
  -- a namespace name or a path in the message comes from the host or the
  -- user: no raw control bytes to the terminal
  io.stderr:write("lnetstat metrics: ", require("lnetstat.netstat.text.inet").cell(tostring(msg)), "\n")
  return cliargs.ERROR
end

local function usage_error(msg)
  io.stderr:write("lnetstat metrics: ", msg, "\n",
    "Try 'lnetstat metrics --help' for more information.\n")
  return cliargs.USAGE
end

--- Runs `lnetstat metrics ARGS`; returns the exit code.
function M.main(argv)
  local args, code = cliargs.parse(parser(), argv or {})
  if not args then return code end
  for _, key in ipairs { "fields", "devices" } do
    if args[key] then
      local ok, err = regex.compile(args[key])
      if not ok then return usage_error("--" .. key .. ": " .. tostring(err)) end
    end
  end
  if args.netns == "all" then
    -- one scrape is one namespace: the series carry no namespace label
    return usage_error("--netns all is not supported: one namespace per scrape "
      .. "(run lnetstat metrics once per namespace)")
  end
  local netns, ncode = cliargs.netns_or_usage("lnetstat metrics", args.netns)
  if ncode then return ncode end
  local ns = require "lnetstat"
  local stats, err = ns.stats { netns = netns }
  if not stats then return fail(tostring(err)) end
  local ifs
  ifs, err = ns.interfaces { netns = netns }
  if not ifs then return fail(tostring(err)) end
  local text = prometheus.prometheus({ stats = stats, interfaces = ifs },
    { prefix = args.prefix, fields = args.fields, devices = args.devices })
  if not args.output then
    io.stdout:write(text)
    return cliargs.OK
  end
  -- the textfile collector must never read a half-written file
  local ok, werr = util.write_atomic(args.output, text)
  if not ok then return fail("cannot write " .. args.output .. ": " .. tostring(werr)) end
  return cliargs.OK
end

return M
