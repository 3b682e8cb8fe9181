#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, captured from a private network
namespace: its /proc/net files and raw rtnetlink and sock_diag dumps.

Run as root:  fuzz/capture.sh  (creates the netns, runs this inside it,
deletes it). Writes fuzz/corpus/<target>/<name>: the first byte picks the
target's variant (see fuzz/harness.c), the rest is the captured text or
message stream."""
import os
import socket
import struct
import subprocess
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus"
LIMIT = 6000          # keep seeds small: a few records each


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


def setup():
    ip("link", "set", "lo", "up")
    ip("link", "add", "fz0", "type", "veth", "peer", "name", "fz1")
    ip("link", "set", "fz1", "up")
    ip("link", "set", "fz0", "up")
    ip("addr", "add", "198.51.100.1/24", "dev", "fz0")
    ip("addr", "add", "2001:db8::1/64", "dev", "fz0", "nodad")
    ip("route", "add", "203.0.113.0/24", "via", "198.51.100.254", "dev", "fz0", "metric", "7")
    ip("-6", "route", "add", "2001:db8:1::/48", "via", "2001:db8::fe", "dev", "fz0")
    ip("route", "add", "198.51.100.128/25", "dev", "fz0", "table", "1000")
    ip("neigh", "add", "198.51.100.9", "lladdr", "02:00:00:00:00:09", "dev", "fz0")
    ip("neigh", "add", "2001:db8::9", "lladdr", "02:00:00:00:00:0a", "dev", "fz0")


def sockets():
    keep = []
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    c = socket.create_connection(ls.getsockname())
    a, _ = ls.accept()
    c.send(b"x" * 100)
    keep += [ls, c, a]
    l6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    l6.bind(("::1", 0))
    l6.listen(1)
    keep.append(l6)
    for fam, addr in ((socket.AF_INET, "198.51.100.1"), (socket.AF_INET6, "2001:db8::1")):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((addr, 0))
        keep.append(u)
        r = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP if fam == socket.AF_INET
                          else socket.IPPROTO_ICMPV6)
        keep.append(r)
    m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    m.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton("239.1.2.3") + socket.inet_aton("198.51.100.1"))
    keep.append(m)
    m6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    m6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                  socket.inet_pton(socket.AF_INET6, "ff05::1:3") + struct.pack("@I", socket.if_nametoindex("fz0")))
    keep.append(m6)
    ul = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)   # IPPROTO_UDPLITE
    ul.bind(("127.0.0.1", 0))
    keep.append(ul)
    us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    us.bind("\0lnetstat-fuzz-seed")
    us.listen(1)
    keep.append(us)
    keep += list(socket.socketpair())
    keep.append(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)))
    keep.append(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
    return keep


def write(target, sel, name, data):
    if not data:
        return                 # nothing of that kind here (no raw_diag module)
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([sel]) + data[:LIMIT])


def proc(target, sel, name):
    with open("/proc/net/" + name, "rb") as f:
        write(target, sel, name, f.read())


def dump(proto, mtype, body, flags=0x300):
    """One dump request; returns the reply messages up to NLMSG_DONE, cut at
    a message boundary below LIMIT."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    s.bind((0, 0))
    s.send(struct.pack("=IHHII", 16 + len(body), mtype, 0x1 | flags, 1, 0) + body)
    out = b""
    done = False
    while not done:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            n, t = struct.unpack_from("=IH", data, off)
            if t in (2, 3):            # NLMSG_ERROR, NLMSG_DONE
                done = True
                break
            if len(out) + n < LIMIT:
                out += data[off:off + ((n + 3) & ~3)]
            off += (n + 3) & ~3
    s.close()
    return out


def main():
    setup()
    keep = sockets()
    for i, (name) in enumerate(["tcp", "tcp6", "udp", "udp6", "udplite", "raw", "raw6",
                                "unix", "packet", "netlink"]):
        proc("proc_sockets", i, name)
    for sel, name in ((0, "snmp"), (0, "netstat"), (1, "snmp6"), (2, "sockstat"), (2, "sockstat6")):
        proc("proc_stats", sel, name)
    for sel, name in enumerate(["dev", "if_inet6", "route", "ipv6_route", "igmp", "igmp6", "arp"]):
        proc("proc_net", sel, name)

    rt, diag = socket.NETLINK_ROUTE, 4
    write("rtnl_link", 0, "links", dump(rt, 18, struct.pack("=BxHiII", 0, 0, 0, 0, 0)))
    write("rtnl_addr_neigh", 0, "addrs", dump(rt, 22, struct.pack("=BBBBI", 0, 0, 0, 0, 0)))
    write("rtnl_addr_neigh", 1, "neighs", dump(rt, 30, struct.pack("=BxxxiHBB", 0, 0, 0, 0, 0)))
    write("rtnl_route", 0, "routes", dump(rt, 26, struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 0, 0, 0, 0, 0)))
    write("rtnl_route", 1, "routes6", dump(rt, 26, struct.pack("=BBBBBBBBI", 10, 0, 0, 0, 0, 0, 0, 0, 0)))

    def inet(family, protocol, ext, raw_proto=None):
        # inet_diag_req_v2: family, protocol, ext, pad, states, zeroed sockid;
        # raw sockets are matched by INET_DIAG_REQ_PROTOCOL
        req = struct.pack("=BBBxI", family, protocol, ext, 0xffffffff) + bytes(48)
        if raw_proto is not None:
            req += struct.pack("=HHI", 8, 1, raw_proto)
        return dump(diag, 20, req)
    write("diag_inet", 1, "tcp4_info", inet(2, 6, 0xff))
    write("diag_inet", 0, "tcp6", inet(10, 6, 0))
    write("diag_inet", 2, "udp4", inet(2, 17, 0))
    # raw sockets come in the same inet_diag_msg as UDP ones
    write("diag_inet", 5, "raw_as_udp4", inet(2, 17, 0xff))
    write("diag_inet", 2, "udp6", inet(10, 17, 0))
    write("diag_inet", 5, "raw4_info", inet(2, 255, 0xff, 1))
    write("diag_inet", 4, "raw6", inet(10, 255, 0, 58))
    write("diag_local", 0, "unix",
          dump(diag, 20, struct.pack("=BBxxIIIII", 1, 0, 0xffffffff, 0, 0x7f, 0xffffffff, 0xffffffff)))
    write("diag_local", 1, "packet",
          dump(diag, 20, struct.pack("=BBxxIIII", 17, 0, 0, 0x3f, 0xffffffff, 0xffffffff)))
    write("diag_local", 2, "netlink",
          dump(diag, 20, struct.pack("=BBxxIIII", 16, 255, 0, 0xf, 0xffffffff, 0xffffffff)))
    for s in keep:
        s.close()


main()
