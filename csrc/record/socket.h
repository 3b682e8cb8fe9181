/* record/socket.c: socket records and the filters applied before a record
 * is built. */
#ifndef LNETSTAT_RECORD_SOCKET_H
#define LNETSTAT_RECORD_SOCKET_H

#include "lnetstat.h"
#include "record/keys.h"

#pragma GCC visibility push(hidden)

/* The fields of socket records, in the order of struct sock_rec. */
enum sock_key {
	SK_PROTO, SK_FAMILY, SK_STATE, SK_RECV_Q, SK_SEND_Q, SK_LOCAL_ADDR,
	SK_REMOTE_ADDR, SK_LOCAL_PORT, SK_REMOTE_PORT, SK_UID, SK_INODE,
	SK_INTERFACE, SK_IFINDEX, SK_COOKIE, SK_V6ONLY, SK_TIMER,
	SK_TIMER_EXPIRES_MS, SK_RETRANSMITS, SK_PROTOCOL, SK_PATH, SK_TYPE,
	SK_PEER_INODE, SK_PORTID, SK_DST_PORTID, SK_COUNT
};

/* Extra slots: the last local and remote address texts (consecutive
 * sockets mostly share them: a hit skips formatting and interning) and the
 * last interface name. */
enum { SX_LOCAL_ADDR, SX_REMOTE_ADDR, SX_IFNAME, SX_COUNT };

struct sock_keys {
	struct keyset ks;
	struct session *s;          /* for interface names; NULL without one */
	struct addr addr[2];        /* what SX_LOCAL_ADDR and SX_REMOTE_ADDR hold */
	int have_addr[2];
	uint32_t ifindex;           /* what SX_IFNAME holds; 0 none */
	int reuse;                  /* stack index of the table refilled per record; 0 none */
	lua_Integer unnamed;        /* records with an ifindex whose name is unknown */
};

/* With reuse, records are one table refilled for each socket (streaming
 * callers that copy what they keep). */
void sock_keys_push(lua_State *L, struct sock_keys *sk, struct session *s, int reuse);
void sock_keys_pop(const struct sock_keys *sk);
/* Pushes the record of r with the fields of want (enum sock_field mask),
 * room extra hash slots. */
void push_sock_record(struct sock_keys *sk, const struct sock_rec *r, uint32_t want,
		      int room);
void sock_rec_init(struct sock_rec *r, const char *proto, int family);
int is_timewait(const struct sock_rec *r);
int is_request(const struct sock_rec *r);
/* has_queues of a record whose recv_q is known but not its send_q. */
#define QUEUES_RECV_ONLY 2
int filter_match(const struct sock_filter *f, const struct sock_rec *r);
/* An IPv6 CIDR that holds ::ffff:0:0/96, so every IPv4 address too. */
int cidr_holds_ipv4(const struct cidr *c);
/* Sets socket_states, socket_fields and socket_fields_all on the table at
 * the top of the stack (the module table). */
void sock_vocab_push(lua_State *L);
/* The filter table at idx (nil: no filter) into f. */
void read_filter(lua_State *L, int idx, struct sock_filter *f);

#pragma GCC visibility pop

#endif
