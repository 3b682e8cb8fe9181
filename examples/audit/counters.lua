-- Counter watch: what the kernel counted over a short window. Run it from
-- cron or a systemd timer and export the result for Prometheus:
--
--   lnetstat check examples/audit/counters.lua --format prometheus \
--       --output /var/lib/prometheus/node-exporter/lnetstat.prom
--
-- counter_delta takes two stats() snapshots WINDOW seconds apart (the
-- runner sleeps in between; every window of the file shares that one pair
-- of readings, so the three below take WINDOW seconds, not three times
-- that); a counter that went down was reset and counts from zero.
local WINDOW = 5

-- Accept queues that overflow drop connections silently: ListenOverflows
-- (and ListenDrops, which includes them) must not grow; SYN cookies mean a
-- listen queue was full (or a SYN flood).
counter_delta({ "TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.SyncookiesSent" },
  { window = WINDOW, max = 0, title = "no listen queue overflowed" })

-- Retransmissions and UDP receive-buffer drops stay low, per second.
counter_delta({ "Tcp.RetransSegs", "Udp.RcvbufErrors", "Udp.InErrors" },
  { window = WINDOW, max_rate = 50, title = "few retransmissions and UDP drops" })

-- No interface gained errors or drops during the window.
no_interface_errors(nil, { window = WINDOW })

-- Gauges: orphaned TCP sockets (closed by the application, still in the
-- kernel) and the sockets in use.
counter("sockstat.TCP.orphan", "<", 1000)
counter("sockstat.sockets_used", "<", 100000)
