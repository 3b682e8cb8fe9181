/* rtnetlink sources: links (source/rtnl_link.c), addresses
 * (source/rtnl_addr.c) and neighbours (source/rtnl_neigh.c). Their message
 * decoders are declared here so that the test hooks can feed them recorded
 * messages; the /proc parsers of interfaces reuse the address fields. */
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
	LK_TB = 96            /* attribute table size; higher types are ignored */
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

/* The route decoder over recorded messages (the test hooks): appends the
 * routes of family (AF_INET or AF_INET6) in buf to the list at index list,
 * without a session; returns the trailing bytes that are no message. */
size_t route_decode(lua_State *L, int list, int family, const char *buf, size_t len);

/* Address record fields, shared with /proc/net/if_inet6. */
void adr_set_addr(lua_State *L, const char *text, unsigned int prefixlen);
void adr_set_flags(lua_State *L, int family, uint32_t flags);

#pragma GCC visibility pop

#endif
