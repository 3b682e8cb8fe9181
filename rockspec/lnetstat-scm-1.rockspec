rockspec_format = "3.0"
package = "lnetstat"
version = "scm-1"
source = {
  url = "git+https://example.invalid/lnetstat.git",
}
description = {
  summary = "The network state of a Linux host as Lua tables, from netlink",
  detailed = [[
lnetstat lists every socket (TCP, UDP, UDPLite, RAW, UNIX, packet, netlink)
with its owners, read from NETLINK_SOCK_DIAG through libmnl with /proc as
fallback, in this or another network namespace.
  ]],
  license = "MIT",
  labels = { "linux", "netlink", "netstat", "audit" },
}
supported_platforms = { "linux" }
dependencies = {
  "lua >= 5.1, < 5.5",
}
external_dependencies = {
  LIBMNL = {
    header = "libmnl/libmnl.h",
    library = "mnl",
  },
}
build = {
  type = "builtin",
  modules = {
    ["lnetstat.core"] = {
      -- one translation unit: core.c includes the other C files
      sources = { "csrc/core.c" },
      libraries = { "mnl" },
      incdirs = { "$(LIBMNL_INCDIR)" },
      libdirs = { "$(LIBMNL_LIBDIR)" },
      defines = {},
    },
    ["lnetstat"] = "lua/lnetstat/init.lua",
    ["lnetstat.options"] = "lua/lnetstat/options.lua",
    ["lnetstat.cli"] = "lua/lnetstat/cli.lua",
    ["lnetstat.routes"] = "lua/lnetstat/routes.lua",
    ["lnetstat.links"] = "lua/lnetstat/links.lua",
    ["lnetstat.counters"] = "lua/lnetstat/counters.lua",
    ["lnetstat.util"] = "lua/lnetstat/util.lua",
    ["lnetstat.query"] = "lua/lnetstat/query.lua",
    ["lnetstat.query.base"] = "lua/lnetstat/query/base.lua",
    ["lnetstat.query.lists"] = "lua/lnetstat/query/lists.lua",
    ["lnetstat.query.addr"] = "lua/lnetstat/query/addr.lua",
    ["lnetstat.query.matchers"] = "lua/lnetstat/query/matchers.lua",
    ["lnetstat.query.diff"] = "lua/lnetstat/query/diff.lua",
    ["lnetstat.check"] = "lua/lnetstat/check.lua",
    ["lnetstat.checks.util"] = "lua/lnetstat/checks/util.lua",
    ["lnetstat.checks.patterns"] = "lua/lnetstat/checks/patterns.lua",
    ["lnetstat.checks.runner"] = "lua/lnetstat/checks/runner.lua",
    ["lnetstat.checks.sandbox"] = "lua/lnetstat/checks/sandbox.lua",
    ["lnetstat.checks.sockets"] = "lua/lnetstat/checks/sockets.lua",
    ["lnetstat.checks.values"] = "lua/lnetstat/checks/values.lua",
    ["lnetstat.checks.network"] = "lua/lnetstat/checks/network.lua",
    ["lnetstat.checks.routes"] = "lua/lnetstat/checks/routes.lua",
    ["lnetstat.checks.counters"] = "lua/lnetstat/checks/counters.lua",
    ["lnetstat.checks.cli"] = "lua/lnetstat/checks/cli.lua",
    ["lnetstat.tstconfig"] = "lua/lnetstat/tstconfig.lua",
    ["lnetstat.tstconfig.parse"] = "lua/lnetstat/tstconfig/parse.lua",
    ["lnetstat.tstconfig.source"] = "lua/lnetstat/tstconfig/source.lua",
    ["lnetstat.tstconfig.asserts"] = "lua/lnetstat/tstconfig/asserts.lua",
    ["lnetstat.tstconfig.regex"] = "lua/lnetstat/tstconfig/regex.lua",
    ["lnetstat.ss"] = "lua/lnetstat/ss.lua",
    ["lnetstat.format"] = "lua/lnetstat/format.lua",
    ["lnetstat.format.args"] = "lua/lnetstat/format/args.lua",
    ["lnetstat.format.names"] = "lua/lnetstat/format/names.lua",
    ["lnetstat.format.util"] = "lua/lnetstat/format/util.lua",
    ["lnetstat.format.sockets"] = "lua/lnetstat/format/sockets.lua",
    ["lnetstat.format.unix"] = "lua/lnetstat/format/unix.lua",
    ["lnetstat.format.interfaces"] = "lua/lnetstat/format/interfaces.lua",
    ["lnetstat.format.routes"] = "lua/lnetstat/format/routes.lua",
    ["lnetstat.format.groups"] = "lua/lnetstat/format/groups.lua",
    ["lnetstat.format.statistics"] = "lua/lnetstat/format/statistics.lua",
    ["lnetstat.format.json"] = "lua/lnetstat/format/json.lua",
    ["lnetstat.format.prometheus"] = "lua/lnetstat/format/prometheus.lua",
    ["lnetstat.format.view"] = "lua/lnetstat/format/view.lua",
    ["lnetstat.report.util"] = "lua/lnetstat/report/util.lua",
    ["lnetstat.report.human"] = "lua/lnetstat/report/human.lua",
    ["lnetstat.report.tap"] = "lua/lnetstat/report/tap.lua",
    ["lnetstat.report.junit"] = "lua/lnetstat/report/junit.lua",
    ["lnetstat.report.json"] = "lua/lnetstat/report/json.lua",
    ["lnetstat.report.prometheus"] = "lua/lnetstat/report/prometheus.lua",
  },
  install = {
    bin = { lnetstat = "bin/lnetstat" },
  },
}
test = {
  -- Debian's busted, not a rock: `luarocks test` works offline.
  type = "command",
  command = "make test",
}
