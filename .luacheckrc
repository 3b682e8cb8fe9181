std = "max"
max_line_length = 120
files["spec/**"] = { std = "+busted" }
exclude_files = { "build/**" }
-- check files run in a sandbox that provides these names
files["examples/audit/**"] = { std = "max", read_globals = { "listening_only", "is_listening", "not_listening",
  "no_connection", "has_connection", "expect_count", "expect", "check", "defaults", "interface_up", "interface",
  "no_interface_errors", "address_present", "address_absent", "default_route", "route_present", "route_to",
  "counter_delta", "counter", "sockets", "listening", "connections", "routes", "route_get", "interfaces",
  "addresses", "neighbors", "stats", "q", "where", "filter", "count", "wildcard", "wildcard4", "wildcard6",
  "loopback", "cidr", "range", "match", "one_of", "any_of", "all_of", "not_", "eq", "ne", "gt", "ge", "lt", "le",
  "contains", "starts_with", "ends_with", "absent", "present", "ipv4", "ipv6", "serves_ipv4", "serves_ipv6" } }
