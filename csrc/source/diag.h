/* NETLINK_SOCK_DIAG sources: one dump per socket family (source/diag_*.c),
 * started by core.sock_diag (source/diag.c). */
#ifndef LNETSTAT_SOURCE_DIAG_H
#define LNETSTAT_SOURCE_DIAG_H

#include "lnetstat.h"
#include "record/socket.h"

#pragma GCC visibility push(hidden)

/* Attribute table size for unix, packet and netlink dumps. */
#define DIAG_ATTR_MAX 16

struct diag_ctx {
	lua_State *L;
	struct session *s;
	int list;               /* stack index of the result list */
	lua_Integer n;          /* records in it so far */
	const char *proto;
	int family;
	int want_info;
	lua_Integer messages;   /* socket messages the kernel sent */
	int later;              /* one walk into a list: stack index of the list that
				 * holds its IPv6 records until the walk ends (else 0) */
	lua_Integer nlater;     /* records in it */
	int seen;               /* netlink: stack index of the set of inodes listed
				 * so far (else 0): see dump_netlink */
	struct sock_filter f;
	struct sock_keys sk;
};

/* Each sends its family's dump request and appends the matching records;
 * 0 or a negative errno. dump_inet takes family AF_UNSPEC for TCP: both
 * families in one walk of the kernel's socket tables. An AF_INET or
 * AF_INET6 request walks the same tables and skips the other family's
 * sockets, so asking for both that way touches every socket twice; the
 * older TCPDIAG_GETSOCK request answers for every family at once. */
int dump_inet(struct diag_ctx *c);
int dump_unix(struct diag_ctx *c);
int dump_packet(struct diag_ctx *c);
int dump_netlink(struct diag_ctx *c);

/* Their message callbacks (of nl_request; the test hooks feed them
 * recorded messages, source/watch.c the messages of the sock_diag destroy
 * groups): each appends the record of one socket to c->list. */
int inet_msg_cb(const struct nlmsghdr *nlh, void *data);
int unix_msg_cb(const struct nlmsghdr *nlh, void *data);
int packet_msg_cb(const struct nlmsghdr *nlh, void *data);
int netlink_msg_cb(const struct nlmsghdr *nlh, void *data);
/* Longest program diag_bytecode emits: two port ranges (16 bytes each) and
 * two IPv6 address conditions (28 bytes each). */
#define DIAG_BYTECODE_MAX 88
/* The port and address filters of f as inet_diag bytecode in out (cap
 * bytes); its length, or 0 for none. */
size_t diag_bytecode(const struct sock_filter *f, unsigned char *out, size_t cap);

/* A SOCK_DIAG_BY_FAMILY dump request in buf; returns its family header. */
void *diag_request(char *buf, struct nlmsghdr **nlh, size_t req_size);
/* Appends r to the result unless the filter rejects it. */
void diag_emit(struct diag_ctx *c, const struct sock_rec *r);
/* Queue lengths of sockets that have none of their own, from SK_MEMINFO. */
void diag_queues_from_meminfo(const struct nlattr *a, struct sock_rec *r);

#pragma GCC visibility pop

#endif
