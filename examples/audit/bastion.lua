-- Bastion host: only sshd listens (IPv4 and IPv6), and the host itself
-- talks to the outside world only for DNS (53) and NTP (123). Inbound SSH
-- sessions are what a bastion is for; anything else outbound is a finding.
--
--   lnetstat check examples/audit/bastion.lua --format tap

listening_only {
  { proto = "tcp", port = 22, program = "sshd", user = "root" },
  ignore = { addr = loopback },          -- e.g. systemd-resolved's stub on 127.0.0.53
}

-- sshd answers on IPv4 and on IPv6 (one dual-stack [::] socket or two).
is_listening { proto = "tcp", port = 22, family = "inet", program = "sshd" }
is_listening { proto = "tcp", port = 22, family = "inet6", program = "sshd" }

-- Outbound traffic: every connection that is not an inbound SSH session
-- (local port 22) and does not stay on the host must go to DNS or NTP.
-- This covers TCP and connected UDP, in every state (SYN_SENT and
-- TIME_WAIT included: a connection that was tried or just ended counts).
no_connection {
  local_port = not_(22),
  remote_addr = not_(loopback),
  remote_port = not_(one_of(53, 123)),
  title = "no outbound connection except DNS and NTP",
}
