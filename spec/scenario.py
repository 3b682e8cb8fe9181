#!/usr/bin/env python3
"""A fixed socket scenario for the lnetstat differential specs.

Run inside a private network namespace (never on the host's own):

    ip netns exec NS python3 spec/scenario.py TMPDIR [ABSTRACT_NAME]

It builds the sockets below, prints one JSON line with facts the specs need
(pids, ports, unix inodes), then the line "ready", and sleeps until SIGTERM
(or SIGINT), on which it stops its child and exits 0.

Ports are fixed: the namespace is private, so they cannot clash.

  TCP  LISTEN 127.0.0.1:40001
  TCP  LISTEN 0.0.0.0:40002         shared with a forked child (two owners),
                                    one connection left unaccepted in its queue
  TCP  LISTEN [::]:40003            dual-stack (IPV6_V6ONLY=0)
  TCP  LISTEN [::]:40004            v6only (IPV6_V6ONLY=1)
  TCP  ESTAB  127.0.0.1 pair        client -> 40001, 5 unread bytes at the server
  TCP  ESTAB  ::1 pair              client -> [::1]:40004
  TCP  ESTAB  IPv4 client -> 127.0.0.1:40003: the accepted socket has the
              IPv4-mapped addresses ::ffff:127.0.0.1
  TCP  TIME_WAIT 127.0.0.1:40009 -> 127.0.0.1:40008 (the client closed first)
  TCP  SYN_SENT  *:40010 -> 198.51.100.7:80 (routed into a veth whose peer
              namespace drops it; set up by the spec)
  UDP  UNCONN 0.0.0.0:40005
  UDP  ESTAB  127.0.0.1:40006 -> 127.0.0.1:40005 (connected)
  UDP  UNCONN 127.0.0.1:40007 with one queued datagram (recv_q > 0)
  UDP  UNCONN 0.0.0.0:40011 bound to device lo (SO_BINDTODEVICE)
  UDP  UNCONN 127.0.0.1:40012 created with euid 65534 (uid of the socket)
  UDP  UNCONN [::]:40013 dual-stack
  UNIX stream listener TMPDIR/listen.sock, a connected pair through it
  UNIX dgram TMPDIR/dgram.sock
  UNIX stream listener with the abstract name "\\0ABSTRACT_NAME"
"""
import ctypes
import errno
import json
import os
import signal
import socket
import sys
import time

P_LISTEN_LO = 40001
P_LISTEN_ANY = 40002
P_LISTEN_DUAL = 40003
P_LISTEN_V6ONLY = 40004
P_UDP_UNCONN = 40005
P_UDP_CONN = 40006
P_UDP_QUEUED = 40007
P_TW_SERVER = 40008
P_TW_CLIENT = 40009
P_SYN_SENT = 40010
SYN_SENT_DST = ("198.51.100.7", 80)
P_UDP_BOUND_DEV = 40011
P_UDP_NOBODY = 40012
P_UDP_DUAL = 40013
NOBODY = 65534

PR_SET_PDEATHSIG = 1

keep = []          # every socket stays referenced (and open) until exit
child_pid = 0


def ino(s):
    return os.fstat(s.fileno()).st_ino


def tcp_listener(family, addr, port, v6only=None, backlog=16):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind((addr, port))
    s.listen(backlog)
    keep.append(s)
    return s


def tcp_pair(listener, family, dst):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect(dst)
    a, _ = listener.accept()
    keep.extend([c, a])
    return c, a


def wait_state_gone(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def tcp_states():
    """{(local, remote): state} from /proc/net/tcp (this netns): enough to
    wait for TIME_WAIT and SYN_SENT without guessing a sleep."""
    out = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            out[(parts[1], parts[2])] = int(parts[3], 16)
    return out


def hexaddr(ip, port):
    packed = socket.inet_aton(ip)
    return "%08X:%04X" % (int.from_bytes(packed, "little"), port)


def main():
    global child_pid
    if len(sys.argv) < 2:
        sys.stderr.write("usage: scenario.py TMPDIR [ABSTRACT_NAME]\n")
        return 2
    tmpdir = sys.argv[1]
    abstract = sys.argv[2] if len(sys.argv) > 2 else "lnetstat-scenario-%d" % os.getpid()
    # The fixed ports 40001-40013 lie in the default ephemeral range: a
    # connection made before one of them is bound may take it (EADDRINUSE).
    # The namespace is the spec's own, so move its ephemeral range above them.
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
            f.write("41000 60999\n")
    except OSError:
        pass

    def on_term(signum, frame):
        if child_pid:
            try:
                os.kill(child_pid, signal.SIGTERM)
                os.waitpid(child_pid, 0)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    facts = {"pid": os.getpid(), "tmpdir": tmpdir, "abstract": "@" + abstract}

    # --- TCP listeners
    l_lo = tcp_listener(socket.AF_INET, "127.0.0.1", P_LISTEN_LO)
    l_any = tcp_listener(socket.AF_INET, "0.0.0.0", P_LISTEN_ANY)
    l_dual = tcp_listener(socket.AF_INET6, "::", P_LISTEN_DUAL, v6only=False)
    l_v6 = tcp_listener(socket.AF_INET6, "::", P_LISTEN_V6ONLY, v6only=True)

    # A second process shares the 0.0.0.0 listener: fork after listen.
    r, w = os.pipe()
    child_pid = os.fork()
    if child_pid == 0:
        os.close(r)
        # Only the 0.0.0.0 listener is shared: drop the child's copies of
        # the others, so their owner lists stay single.
        for s in (l_lo, l_dual, l_v6):
            s.close()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        signal.signal(signal.SIGINT, lambda *_: os._exit(0))
        if os.getppid() != facts["pid"]:
            os._exit(0)   # the parent died before PDEATHSIG was set
        os.write(w, b"x")
        os.close(w)
        while True:
            signal.pause()
    os.close(w)
    os.read(r, 1)         # the child is alive and holds the listener
    os.close(r)
    facts["child_pid"] = child_pid

    # --- TCP connections
    c_lo, a_lo = tcp_pair(l_lo, socket.AF_INET, ("127.0.0.1", P_LISTEN_LO))
    c_lo.sendall(b"hello")            # 5 unread bytes in a_lo's receive queue
    a_lo.settimeout(5)
    a_lo.recv(5, socket.MSG_PEEK | socket.MSG_WAITALL)   # there, and still unread
    a_lo.settimeout(None)
    c_v6, a_v6 = tcp_pair(l_v6, socket.AF_INET6, ("::1", P_LISTEN_V6ONLY))
    c_map, a_map = tcp_pair(l_dual, socket.AF_INET, ("127.0.0.1", P_LISTEN_DUAL))
    facts["mapped_client_port"] = c_map.getsockname()[1]
    # Established but never accepted: sits in l_any's accept queue (inode 0).
    c_q = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c_q.connect(("127.0.0.1", P_LISTEN_ANY))
    keep.append(c_q)
    facts["unaccepted_client_port"] = c_q.getsockname()[1]
    q_key = (hexaddr("127.0.0.1", P_LISTEN_ANY), hexaddr("127.0.0.1", facts["unaccepted_client_port"]))
    if not wait_state_gone(lambda: tcp_states().get(q_key) == 1):
        sys.stderr.write("scenario: the unaccepted connection is not established\n")
        return 1

    # --- TIME_WAIT: the client closes first, the server answers with its FIN.
    l_tw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l_tw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l_tw.bind(("127.0.0.1", P_TW_SERVER))
    l_tw.listen(1)
    c_tw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c_tw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c_tw.bind(("127.0.0.1", P_TW_CLIENT))
    c_tw.connect(("127.0.0.1", P_TW_SERVER))
    a_tw, _ = l_tw.accept()
    c_tw.shutdown(socket.SHUT_WR)
    c_tw.close()
    a_tw.settimeout(5)
    while a_tw.recv(4096):            # until the client's FIN (EOF)
        pass
    a_tw.shutdown(socket.SHUT_WR)
    a_tw.close()
    l_tw.close()
    tw_key = (hexaddr("127.0.0.1", P_TW_CLIENT), hexaddr("127.0.0.1", P_TW_SERVER))
    if not wait_state_gone(lambda: tcp_states().get(tw_key) == 6):
        sys.stderr.write("scenario: no TIME_WAIT for %s\n" % (tw_key,))
        return 1
    # ... and the server side must be fully gone (no LAST_ACK left over).
    srv_key = (tw_key[1], tw_key[0])
    wait_state_gone(lambda: srv_key not in tcp_states())

    # --- SYN_SENT towards a documentation address nobody answers.
    s_syn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s_syn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s_syn.bind(("0.0.0.0", P_SYN_SENT))
    s_syn.setblocking(False)
    err = s_syn.connect_ex(SYN_SENT_DST)
    if err not in (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK):
        sys.stderr.write("scenario: SYN_SENT connect: %s\n" % os.strerror(err))
        return 1
    keep.append(s_syn)
    facts["syn_sent_local"] = s_syn.getsockname()[0]

    # --- UDP
    u_unconn = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u_unconn.bind(("0.0.0.0", P_UDP_UNCONN))
    u_conn = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u_conn.bind(("127.0.0.1", P_UDP_CONN))
    u_conn.connect(("127.0.0.1", P_UDP_UNCONN))
    u_queued = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u_queued.bind(("127.0.0.1", P_UDP_QUEUED))
    u_unconn.sendto(b"queued datagram", ("127.0.0.1", P_UDP_QUEUED))
    # Bound to a device (ss: 0.0.0.0%lo:40011), created by another uid
    # (the socket keeps its creator's uid), and a dual-stack UDP socket.
    u_dev = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u_dev.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
    u_dev.bind(("0.0.0.0", P_UDP_BOUND_DEV))
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        u_nobody = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    finally:
        os.seteuid(0)
        os.setegid(0)
    u_nobody.bind(("127.0.0.1", P_UDP_NOBODY))
    u_dual = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u_dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u_dual.bind(("::", P_UDP_DUAL))
    keep.extend([u_unconn, u_conn, u_queued, u_dev, u_nobody, u_dual])
    facts["nobody_uid"] = NOBODY
    # The datagram is delivered synchronously over loopback; make sure.
    import select
    if not select.select([u_queued], [], [], 5)[0]:
        sys.stderr.write("scenario: datagram not queued\n")
        return 1

    # --- UNIX
    unix = {}
    path_listen = os.path.join(tmpdir, "listen.sock")
    x_listen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    x_listen.bind(path_listen)
    x_listen.listen(4)
    x_client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    x_client.connect(path_listen)
    x_server, _ = x_listen.accept()
    path_dgram = os.path.join(tmpdir, "dgram.sock")
    x_dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    x_dgram.bind(path_dgram)
    x_abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    x_abstract.bind("\0" + abstract)
    x_abstract.listen(1)
    keep.extend([x_listen, x_client, x_server, x_dgram, x_abstract])
    unix["listen"] = {"inode": ino(x_listen), "path": path_listen}
    unix["client"] = {"inode": ino(x_client), "peer": ino(x_server)}
    unix["server"] = {"inode": ino(x_server), "peer": ino(x_client), "path": path_listen}
    unix["dgram"] = {"inode": ino(x_dgram), "path": path_dgram}
    unix["abstract"] = {"inode": ino(x_abstract), "path": "@" + abstract}
    facts["unix"] = unix

    # Wait until the kernel really shows SYN_SENT (state 2) for the probe.
    syn_key_remote = hexaddr(*SYN_SENT_DST)
    if not wait_state_gone(lambda: any(v == 2 and k[1] == syn_key_remote
                                       for k, v in tcp_states().items())):
        sys.stderr.write("scenario: no SYN_SENT socket\n")
        return 1

    sys.stdout.write(json.dumps(facts) + "\n")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
