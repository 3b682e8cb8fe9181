#!/usr/bin/env python3
"""sockfarm.py -- hold N loopback TCP sockets open for the socket-listing benchmark.

Why: listing the host's sockets is only interesting when there are many of
them, so this farm fills the network namespace with N (default 100000) TCP
sockets: one listener per worker plus established 127.0.0.1 connections whose
two ends both live in that worker (2 fds per connection).  The per-process fd
hard limit (20000 here) forces several worker processes (fork), each holding
at most --per-worker sockets.

Protocol: prints exactly one line "ready M" on stdout once the sockets are
established (M = sockets actually held; a warning goes to stderr if M < N after
--timeout seconds), then holds until SIGTERM/SIGINT or EOF on stdin.  On exit it
kills its workers by pid and waits for them.  Every socket has SO_LINGER {1,0},
so closing resets it: no TIME_WAIT sockets are left behind to eat ports.

Besides the N sockets, the parent itself holds --marked M connections to a
listener on 127.0.0.3:6667 (the filtered benchmark rows look for them:
M client sockets with remote port 6667, 1 + M sockets with local address
127.0.0.3) and --listeners L more listeners on 127.0.0.1; they are counted
in M of "ready M".

stdlib only.  Usage: bench/sockfarm.py [--count N] [--per-worker S] [--timeout T]
                     [--marked M] [--listeners L]
"""
import argparse, os, resource, select, signal, socket, struct, sys, time

LINGER0 = struct.pack("ii", 1, 0)
PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"


def log(msg):
    print(f"sockfarm: {msg}", file=sys.stderr, flush=True)


def new_sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    return s


def worker(nsock, deadline, report_w, ctrl_r):
    """Hold `nsock` sockets; write the count held to report_w; hold until ctrl_r EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held, nlisten = [], 2 - nsock % 2                # parity: total = nlisten + 2*conns
    for _ in range(nlisten):
        lst = new_sock()
        lst.bind(("127.0.0.1", 0))
        lst.listen(4096)
        held.append(lst)
    addr, want, err = held[0].getsockname(), (nsock - nlisten) // 2, None
    held[0].settimeout(5)
    done = 0
    while done < want and err is None and time.monotonic() < deadline:
        batch = []                                   # stay below the accept backlog
        for _ in range(min(1024, want - done)):
            c = None
            try:
                c = new_sock()
                c.settimeout(5)
                c.connect(addr)
            except OSError as e:
                err = e
                if c:
                    c.close()
                break
            batch.append(c)
        for c in batch:
            try:
                a, _ = held[0].accept()
            except OSError as e:
                err = e
                break
            a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
            held += (c, a)
            done += 1
    if err is not None:
        log(f"worker {os.getpid()}: connect failed after {done} connections: {err}")
    os.write(report_w, b"%d\n" % len(held))
    os.close(report_w)
    os.read(ctrl_r, 1)                               # EOF: the parent is gone or done
    os._exit(0)


def port_range():
    with open(PORT_RANGE) as f:
        return f.read().split()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100000, help="sockets to hold")
    ap.add_argument("--per-worker", type=int, default=18001, help="max sockets per worker (capped by the fd hard limit)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to reach --count")
    ap.add_argument("--marked", type=int, default=0, help="connections to 127.0.0.3:6667")
    ap.add_argument("--listeners", type=int, default=0, help="extra listeners on 127.0.0.1")
    args = ap.parse_args()
    fd_max = resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 32  # stdio, pipes
    per_worker = max(3, min(args.per_worker, fd_max))
    nworkers = max(0 if args.count == 0 else 1, -(-args.count // per_worker))
    shares = [args.count // nworkers + (i < args.count % nworkers) for i in range(nworkers)] if nworkers else []
    deadline = time.monotonic() + args.timeout

    # Each worker connects to its own listener, and connect() shares a local
    # port between different destinations, so a worker needs only about
    # shares/2 ephemeral ports.  Widen the range only if that is not enough.
    old_range = port_range()
    if int(old_range[1]) - int(old_range[0]) < max(shares, default=0) // 2 + 1000:
        try:
            with open(PORT_RANGE, "w") as f:
                f.write("1024 65000")
            log(f"widened ip_local_port_range from {' '.join(old_range)} to 1024 65000")
        except OSError as e:
            log(f"cannot widen ip_local_port_range: {e}")
            old_range = None
    else:
        old_range = None

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ctrl_r, ctrl_w = os.pipe()                       # workers exit on EOF of ctrl_r
    pids, reports = [], {}
    try:
        for share in shares:
            rep_r, rep_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(ctrl_w)
                    for fd in reports:
                        os.close(fd)
                    os.close(rep_r)
                    worker(share, deadline, rep_w, ctrl_r)
                finally:
                    os._exit(1)
            os.close(rep_w)
            pids.append(pid)
            reports[rep_r] = b""
        os.close(ctrl_r)
        own = []
        for _ in range(args.listeners):
            lst = new_sock()
            lst.bind(("127.0.0.1", 0))
            lst.listen(16)
            own.append(lst)
        if args.marked:
            lst = new_sock()
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind(("127.0.0.3", 6667))
            lst.listen(args.marked + 16)
            own.append(lst)
            for _ in range(args.marked):
                c = new_sock()
                c.connect(("127.0.0.3", 6667))
                a, _ = lst.accept()
                a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
                own += (c, a)

        # Collect each worker's count (EOF ends a report); give up at the deadline.
        pending = set(reports)
        while pending and not stop:
            left = deadline + 5 - time.monotonic()
            if left <= 0:
                break
            try:
                ready, _, _ = select.select(list(pending), [], [], left)
            except InterruptedError:
                continue
            for fd in ready:
                chunk = os.read(fd, 64)
                reports[fd] += chunk
                if not chunk:
                    pending.discard(fd)
        held = sum(int(v or 0) for v in reports.values()) + len(own)
        if held < args.count:
            log(f"warning: holding only {held} of {args.count} sockets")
        if old_range:                               # bound sockets keep their ports
            with open(PORT_RANGE, "w") as f:
                f.write(" ".join(old_range))
            old_range = None
        print(f"ready {held}", flush=True)

        # Hold until SIGTERM/SIGINT or stdin EOF.
        while not stop:
            try:
                r, _, _ = select.select([sys.stdin], [], [], 1.0)
            except InterruptedError:
                continue
            if r and not os.read(sys.stdin.fileno(), 4096):
                break
    finally:
        if old_range:
            with open(PORT_RANGE, "w") as f:
                f.write(" ".join(old_range))
        os.close(ctrl_w)                            # workers also exit on this EOF
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
