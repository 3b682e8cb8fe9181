-- The check file of the /lnetstat/audit endpoint (lnetstat check syntax):
-- this nginx listens on loopback only, and nothing listens on telnet.
-- luacheck: read globals is_listening not_listening
is_listening { proto = "tcp", port = 61080, addr = "127.0.0.1" }
not_listening { proto = "tcp", port = 23 }
