/* The types every unit of lnetstat.core shares.
 *
 * Each .c file under csrc/ is its own translation unit. The internal
 * headers (this one, api.h and the .h files of nl/, text/, record/ and
 * source/) declare what a unit offers between "#pragma GCC visibility
 * push(hidden)" and "pop", so those functions link between the objects of
 * the module but are never exported from it: only luaopen_lnetstat_core is
 * (and luaopen_lnetstat_testhooks from the test-only module). System and
 * Lua headers are included before the pragma, so their functions keep
 * default visibility. */
#ifndef LNETSTAT_H
#define LNETSTAT_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <net/if.h>
#include <libmnl/libmnl.h>

#include "compat.h"

#pragma GCC visibility push(hidden)

#define LNETSTAT_VERSION "0.1.0"
#define SESSION_MT "lnetstat.session"

struct nl_reader;

/* A netlink socket with its own receive buffer. The buffer belongs to the
 * session userdata, so a Lua error raised while decoding never leaks it. */
struct nlsock {
	struct mnl_socket *nl;
	char *buf;
	size_t size;
	unsigned int seq;
	int bounded;   /* the kernel's datagrams always fit 32 KiB: no peek */
	size_t queued;    /* bounded: a second datagram received, waiting at buf + 32 KiB */
	int queued_err;   /* bounded: the second receive's error, returned next */
	int clean;        /* every request sent got its whole answer: reusable by another call */
	int member;       /* bound for multicast groups: never reused for requests */
	struct nl_reader *reader;   /* a helper reading the answer ahead (nl/reader.c), or NULL */
};

/* /proc/net files a session may need; opened while inside the target netns. */
enum proc_file {
	PROC_TCP, PROC_TCP6, PROC_UDP, PROC_UDP6, PROC_UDPLITE, PROC_UDPLITE6,
	PROC_RAW, PROC_RAW6, PROC_UNIX, PROC_PACKET, PROC_NETLINK,
	PROC_SNMP, PROC_NETSTAT, PROC_SNMP6, PROC_SOCKSTAT, PROC_SOCKSTAT6,
	PROC_DEV, PROC_IF_INET6, PROC_ROUTE, PROC_IPV6_ROUTE, PROC_IGMP, PROC_IGMP6,
	PROC_ARP,
	PROC_COUNT
};

/* Socket states in the kernel's TCP_* numbering, which sock_diag uses for
 * every protocol (netinet/tcp.h and linux/tcp.h cannot both be included). */
enum sock_state {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1, ST_FIN_WAIT2,
	ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK, ST_LISTEN, ST_CLOSING,
	ST_NEW_SYN_RECV, ST_BOUND_INACTIVE,
	ST_MAX_KERNEL = 12   /* bits above this are not dump filters */
};

/* ifindex -> name of a session's netns: sorted by index, sized by the
 * number of interfaces (an index may be as large as 2^31-1). */
struct ifname_entry {
	uint32_t index;
	char name[IF_NAMESIZE];
};

struct ifname_map {
	struct ifname_entry *entries;
	uint32_t count;     /* entries in use, sorted by index */
	uint32_t cap;       /* entries allocated */
	int loaded;
};

/* One call's handles into (possibly another) network namespace. Lives in a
 * userdata; closed by session:close(), __gc or __close. */
/* Address in network order; family AF_INET uses the first 4 bytes. */
struct addr {
	int family;
	unsigned char bytes[16];
};

/* "net:[4026531840]" (a netns as /proc/PID/ns/net names it) and its NUL,
 * with room to spare */
#define NETNS_ID_SIZE 32

struct session {
	struct nlsock diag;
	struct nlsock route;
	int proc_fd[PROC_COUNT];
	int proc_err[PROC_COUNT];   /* why a file asked for did not open (errno), or 0 */
	char *text;           /* scratch buffer for /proc reads */
	size_t text_size;
	struct ifname_map ifnames;
	int closed;
	uint64_t epoch;       /* the process that opened it (nl/pool.h: a fork has a copy) */
	char netns_id[NETNS_ID_SIZE];   /* the caller's netns when it opened, or "" */
};

struct cidr {
	int set;
	struct addr addr;
	int prefixlen;
};

/* Optional fields of a socket record (opts.fields): a record built with a
 * mask carries only those, plus proto, family and state. */
enum sock_field {
	F_RECV_Q = 1 << 0, F_SEND_Q = 1 << 1, F_LOCAL_ADDR = 1 << 2,
	F_REMOTE_ADDR = 1 << 3, F_LOCAL_PORT = 1 << 4, F_REMOTE_PORT = 1 << 5,
	F_UID = 1 << 6, F_INODE = 1 << 7, F_INTERFACE = 1 << 8, F_COOKIE = 1 << 9,
	F_V6ONLY = 1 << 10, F_TIMER = 1 << 11, F_PROTOCOL = 1 << 12, F_PATH = 1 << 13,
	F_TYPE = 1 << 14, F_PEER_INODE = 1 << 15, F_PORTID = 1 << 16,
	F_ALL = (1 << 17) - 1
};

/* Filters applied while records are built, so unwanted sockets never cost a
 * Lua table. */
struct sock_filter {
	uint32_t states;           /* bitmask of 1 << TCP_* */
	uint32_t fields;           /* enum sock_field mask of the fields to build */
	int reuse;                 /* streaming: refill one record table per call */
	int room;                  /* hash slots to size each record for: the fields
				    * the caller adds (owners) are set without a rehash */
	int lport_lo, lport_hi;    /* -1: no filter */
	int rport_lo, rport_hi;
	struct cidr laddr, raddr;
};

/* The decoded form of one socket, from netlink or /proc alike. */
struct sock_rec {
	const char *proto;         /* "tcp", "udp", ... */
	int family;                /* AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_NETLINK */
	int state;                 /* TCP_* numbering */
	int has_queues;
	uint32_t recv_q, send_q;
	struct addr laddr, raddr;
	int has_ports;
	int lport, rport;
	int has_uid;
	uint32_t uid;
	uint64_t inode;
	uint32_t ifindex;          /* bound device, 0 none */
	int has_cookie;
	uint64_t cookie;
	int v6only;                /* -1 unknown */
	int timer;                 /* -1 unknown */
	uint32_t timer_expires_ms;
	uint32_t retransmits;
	int protocol;              /* raw: IP protocol; packet: ethertype; netlink: family; -1 none */
	/* unix */
	const char *path;          /* raw bytes, not NUL-terminated */
	size_t path_len;
	int has_path;
	int sock_type;             /* SOCK_STREAM, ... ; 0 unknown */
	int has_peer;
	uint32_t peer_inode;
	/* netlink */
	int has_portid;
	uint32_t portid, dst_portid;
};

/* Implemented in source/rtnl_link.c: ifindex -> name in the session's
 * netns, loaded on first use; NULL when unknown. */
const char *session_ifname(struct session *s, uint32_t index);

/* Message callback of nl_dump: 0 to go on, a negative errno to stop. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

#pragma GCC visibility pop

#endif
