rockspec_format = "3.0"
package = "lnetstat"
version = "scm-1"
-- lnetstat is not published anywhere yet (no repository host, no release
-- archive, no web page): the rock is built from a checkout of the source
-- with `luarocks make rockspec/lnetstat-scm-1.rockspec`, which builds the
-- directory it runs in and never fetches source.url. LuaRocks requires the
-- field; "." is that checkout. There is no homepage to name.
source = {
  url = ".",
}
description = {
  summary = "The network state of a Linux host as Lua tables, from netlink",
  detailed = [[
lnetstat lists every socket (TCP, UDP, UDPLite, RAW, UNIX, packet, netlink)
with its owners, read from NETLINK_SOCK_DIAG through libmnl with /proc as
fallback, in this or another network namespace. Build it from a checkout of
its source: luarocks make rockspec/lnetstat-scm-1.rockspec. The rock installs
the modules, the lnetstat command and its manual page (man/lnetstat.1 in the
rock's directory: luarocks show --rock-dir lnetstat).
  ]],
  license = "MIT",
  labels = { "linux", "netlink", "netstat", "audit" },
}
supported_platforms = { "linux" }
-- The lnetstat command and its subcommands read their options with
-- argparse (Debian: lua-argparse; LuaRocks: argparse); the library does not
-- need it, so the build does not pull it in.
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
      -- every C unit of the module (csrc/testhooks.c is test-only: not here)
      sources = {
        "csrc/core.c",
        "csrc/fs/atomic.c",
        "csrc/fs/read.c",
        "csrc/nl/attr.c",
        "csrc/nl/dump.c",
        "csrc/nl/pool.c",
        "csrc/nl/reader.c",
        "csrc/nl/session.c",
        "csrc/record/addr.c",
        "csrc/record/attr.c",
        "csrc/record/class.c",
        "csrc/record/link.c",
        "csrc/record/neigh.c",
        "csrc/record/push.c",
        "csrc/record/route.c",
        "csrc/record/socket.c",
        "csrc/record/tcpinfo.c",
        "csrc/source/diag.c",
        "csrc/source/diag_bytecode.c",
        "csrc/source/diag_inet.c",
        "csrc/source/diag_netlink.c",
        "csrc/source/diag_packet.c",
        "csrc/source/diag_unix.c",
        "csrc/source/netns_dir.c",
        "csrc/source/proc_arp.c",
        "csrc/source/proc_dev.c",
        "csrc/source/proc_fd.c",
        "csrc/source/proc_mcast.c",
        "csrc/source/proc_route.c",
        "csrc/source/proc_sockets.c",
        "csrc/source/proc_stats.c",
        "csrc/source/rtnl_addr.c",
        "csrc/source/rtnl_link.c",
        "csrc/source/rtnl_list.c",
        "csrc/source/rtnl_neigh.c",
        "csrc/source/rtnl_nsid.c",
        "csrc/source/rtnl_route.c",
        "csrc/source/watch.c",
        "csrc/text/addr.c",
        "csrc/text/proc.c",
      },
      libraries = { "mnl", "pthread" },
      incdirs = { "csrc", "$(LIBMNL_INCDIR)" },
      libdirs = { "$(LIBMNL_LIBDIR)" },
      defines = {},
    },
    ["lnetstat"] = "lua/lnetstat/init.lua",
    ["lnetstat.options"] = "lua/lnetstat/options.lua",
    ["lnetstat.util"] = "lua/lnetstat/util.lua",
    ["lnetstat.source.engine"] = "lua/lnetstat/source/engine.lua",
    ["lnetstat.source.sockets"] = "lua/lnetstat/source/sockets.lua",
    ["lnetstat.source.routes"] = "lua/lnetstat/source/routes.lua",
    ["lnetstat.source.links"] = "lua/lnetstat/source/links.lua",
    ["lnetstat.source.counters"] = "lua/lnetstat/source/counters.lua",
    ["lnetstat.source.watch"] = "lua/lnetstat/source/watch.lua",
    ["lnetstat.monitor"] = "lua/lnetstat/monitor.lua",
    ["lnetstat.cli"] = "lua/lnetstat/cli.lua",
    ["lnetstat.cliargs"] = "lua/lnetstat/cliargs.lua",
    ["lnetstat.metrics"] = "lua/lnetstat/metrics.lua",
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
    ["lnetstat.checks.snapshot"] = "lua/lnetstat/checks/snapshot.lua",
    ["lnetstat.checks.sandbox"] = "lua/lnetstat/checks/sandbox.lua",
    ["lnetstat.checks.sockets"] = "lua/lnetstat/checks/sockets.lua",
    ["lnetstat.checks.values"] = "lua/lnetstat/checks/values.lua",
    ["lnetstat.checks.network"] = "lua/lnetstat/checks/network.lua",
    ["lnetstat.checks.routes"] = "lua/lnetstat/checks/routes.lua",
    ["lnetstat.checks.counters"] = "lua/lnetstat/checks/counters.lua",
    ["lnetstat.checks.cli"] = "lua/lnetstat/checks/cli.lua",
    ["lnetstat.checks.child"] = "lua/lnetstat/checks/child.lua",
    ["lnetstat.checks.baseline"] = "lua/lnetstat/checks/baseline.lua",
    ["lnetstat.tstconfig"] = "lua/lnetstat/tstconfig.lua",
    ["lnetstat.tstconfig.parse"] = "lua/lnetstat/tstconfig/parse.lua",
    ["lnetstat.tstconfig.source"] = "lua/lnetstat/tstconfig/source.lua",
    ["lnetstat.tstconfig.asserts"] = "lua/lnetstat/tstconfig/asserts.lua",
    ["lnetstat.tstconfig.regex"] = "lua/lnetstat/tstconfig/regex.lua",
    ["lnetstat.ss"] = "lua/lnetstat/ss.lua",
    ["lnetstat.format"] = "lua/lnetstat/format.lua",
    ["lnetstat.format.util"] = "lua/lnetstat/format/util.lua",
    ["lnetstat.format.json"] = "lua/lnetstat/format/json.lua",
    ["lnetstat.format.prometheus"] = "lua/lnetstat/format/prometheus.lua",
    ["lnetstat.format.regex"] = "lua/lnetstat/format/regex.lua",
    ["lnetstat.encode.utf8"] = "lua/lnetstat/encode/utf8.lua",
    ["lnetstat.encode.json"] = "lua/lnetstat/encode/json.lua",
    ["lnetstat.encode.prometheus"] = "lua/lnetstat/encode/prometheus.lua",
    ["lnetstat.encode.xml"] = "lua/lnetstat/encode/xml.lua",
    ["lnetstat.netstat.flags"] = "lua/lnetstat/netstat/flags.lua",
    ["lnetstat.netstat.plan"] = "lua/lnetstat/netstat/plan.lua",
    ["lnetstat.netstat.rows"] = "lua/lnetstat/netstat/rows.lua",
    ["lnetstat.netstat.names"] = "lua/lnetstat/netstat/names.lua",
    ["lnetstat.netstat.run"] = "lua/lnetstat/netstat/run.lua",
    ["lnetstat.netstat.text.inet"] = "lua/lnetstat/netstat/text/inet.lua",
    ["lnetstat.netstat.text.unix"] = "lua/lnetstat/netstat/text/unix.lua",
    ["lnetstat.netstat.text.interfaces"] = "lua/lnetstat/netstat/text/interfaces.lua",
    ["lnetstat.netstat.text.routes"] = "lua/lnetstat/netstat/text/routes.lua",
    ["lnetstat.netstat.text.groups"] = "lua/lnetstat/netstat/text/groups.lua",
    ["lnetstat.netstat.text.statistics"] = "lua/lnetstat/netstat/text/statistics.lua",
    ["lnetstat.report.util"] = "lua/lnetstat/report/util.lua",
    ["lnetstat.report.human"] = "lua/lnetstat/report/human.lua",
    ["lnetstat.report.tap"] = "lua/lnetstat/report/tap.lua",
    ["lnetstat.report.junit"] = "lua/lnetstat/report/junit.lua",
    ["lnetstat.report.json"] = "lua/lnetstat/report/json.lua",
    ["lnetstat.report.prometheus"] = "lua/lnetstat/report/prometheus.lua",
    ["lnetstat.embed"] = "lua/lnetstat/embed.lua",
    ["lnetstat.openresty"] = "lua/lnetstat/openresty.lua",
    ["lnetstat.haproxy"] = "lua/lnetstat/haproxy.lua",
  },
  install = {
    bin = { lnetstat = "bin/lnetstat" },
  },
  -- the manual page, copied into the rock's directory:
  -- $(luarocks show --rock-dir lnetstat)/man/lnetstat.1
  copy_directories = { "man" },
}
test = {
  -- The specs against the installed rock (its modules and command, found on
  -- the paths `luarocks path` sets), with Debian's busted, not a rock: it
  -- works offline and installs nothing. The script runs under the
  -- interpreter the rock is built for.
  type = "command",
  script = "build-aux/rock-test.lua",
}
