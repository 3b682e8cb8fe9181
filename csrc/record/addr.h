/* record/addr.c: interface address records, from the facts of one
 * RTM_NEWADDR (source/rtnl_addr.c) or one /proc/net/if_inet6 line
 * (source/proc_dev.c). */
#ifndef LNETSTAT_RECORD_ADDR_H
#define LNETSTAT_RECORD_ADDR_H

#include "lnetstat.h"

#include <linux/if_addr.h>

#pragma GCC visibility push(hidden)

/* What source/rtnl_addr.c reads from one message; the pointers point into
 * it and live as long as the message callback. Addresses are 4 or 16
 * bytes, by family. */
struct addr_rec {
	int family;                  /* AF_INET or AF_INET6 */
	const void *local;           /* the address (IFA_LOCAL, else IFA_ADDRESS) */
	const void *address;         /* IFA_ADDRESS, else IFA_LOCAL: the peer when it differs */
	const void *broadcast;       /* NULL: none */
	const void *anycast;         /* NULL: none */
	unsigned int prefixlen;
	unsigned int scope;          /* RT_SCOPE_* */
	const char *label;           /* NULL: none */
	uint32_t flags;              /* IFA_F_* */
	int has_cacheinfo;
	struct ifa_cacheinfo ci;     /* lifetimes in s, stamps in 1/100 s */
	int has_metric;
	uint32_t metric;
	int has_proto;
	uint8_t proto;
	uint32_t index;
	const char *ifname;          /* NULL: unknown */
};

/* Pushes the record of r. */
void addr_record_push(lua_State *L, const struct addr_rec *r);

/* Fields shared with the /proc/net/if_inet6 records, set on the table at
 * the top of the stack: addr, prefixlen and cidr; flags = {name = true}
 * and flag_bits; scope, the name of an RT_SCOPE_* number. */
void addr_set_addr(lua_State *L, const char *text, unsigned int prefixlen);
void addr_set_flags(lua_State *L, int family, uint32_t flags);
void addr_set_scope(lua_State *L, unsigned int scope);

#pragma GCC visibility pop

#endif
