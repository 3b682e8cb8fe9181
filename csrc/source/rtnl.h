/* rtnetlink sources: links (source/rtnl_link.c), addresses
 * (source/rtnl_addr.c), neighbours (source/rtnl_neigh.c) and routes
 * (source/rtnl_route.c). Each decodes a message into a struct of facts that
 * record/ turns into the Lua record. Their message callbacks are declared
 * here so that the test hooks and source/watch.c can feed them messages. */
#ifndef LNETSTAT_SOURCE_RTNL_H
#define LNETSTAT_SOURCE_RTNL_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* Attribute numbers newer than some distributions' headers (linux 5.x/6.x
 * uapi); the kernel simply does not send the ones it does not know. */
enum {
	LK_IFLA_CARRIER_UP_COUNT = 47, LK_IFLA_CARRIER_DOWN_COUNT = 48,
	LK_IFLA_MIN_MTU = 50, LK_IFLA_MAX_MTU = 51, LK_IFLA_PROP_LIST = 52,
	LK_IFLA_ALT_IFNAME = 53, LK_IFLA_PERM_ADDRESS = 54,
	LK_IFLA_PARENT_DEV_NAME = 56, LK_IFLA_PARENT_DEV_BUS_NAME = 57,
	LK_IFLA_ALLMULTI = 61,
	LK_TB = 96,           /* attribute table size; higher types are ignored */
	LK_ALTIFNAMSIZ = 128  /* an alternative name, with its NUL (linux/if.h) */
};

struct link_ctx {
	lua_State *L;
	struct session *s;
	int list;
	lua_Integer n;
	int fill_names;    /* a whole dump: also fill the session's name map */
};

struct adr_ctx {
	lua_State *L;
	struct session *s;
	int list;
	lua_Integer n;
	uint32_t index;    /* only this interface's addresses; 0: all */
};

struct nei_ctx {
	lua_State *L;
	struct session *s;
	int list;
	lua_Integer n;
	long hz;           /* USER_HZ: the unit of nda_cacheinfo */
};

/* Message callbacks of nl_request: each appends one record to c->list. */
int link_msg_cb(const struct nlmsghdr *nlh, void *data);
int adr_msg_cb(const struct nlmsghdr *nlh, void *data);
int nei_msg_cb(const struct nlmsghdr *nlh, void *data);

/* source/rtnl_link.c: adds the attribute that names the interface of an
 * RTM_GETLINK request (name: shorter than LK_ALTIFNAMSIZ). */
void link_put_name(struct nlmsghdr *nlh, const char *name);

/* source/rtnl_route.c: pushes the record of one route message as
 * routes() builds it (interface names from s) and returns 1; returns 0 and
 * pushes nothing when the message is no route of table (-1: any table). */
int route_push_msg(lua_State *L, struct session *s, const struct nlmsghdr *nlh,
		   long long table);

/* The route decoder over recorded messages (the test hooks): appends the
 * routes of family (AF_INET or AF_INET6) in buf to the list at index list,
 * without a session; letters: the stack index of a letters table for the
 * flags field (as core.route_dump's), or 0. Returns the trailing bytes that
 * are no message. */
size_t route_decode(lua_State *L, int list, int family, const char *buf, size_t len,
		    int letters);

/* source/rtnl_list.c: the dump request of a list function (addresses,
 * neighbours). With the route socket there and the interface names loaded
 * (before the dump: loading them is a request on the same socket), sends a
 * dump request of type with the family header hdr (hdr_size bytes) and
 * hands each message to cb, whose records go to a new list at index
 * nargs + 1. Returns list, interrupted | nil, "what: strerror", errno. */
int rtnl_list(lua_State *L, struct session *s, int nargs, uint16_t type, const char *what,
	      const void *hdr, size_t hdr_size, nl_msg_cb cb, void *ctx);

#pragma GCC visibility pop

#endif
