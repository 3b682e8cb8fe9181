/* record/neigh.c: neighbour records from the facts of one RTM_NEWNEIGH. */
#ifndef LNETSTAT_RECORD_NEIGH_H
#define LNETSTAT_RECORD_NEIGH_H

#include "lnetstat.h"

#include <linux/neighbour.h>

#pragma GCC visibility push(hidden)

/* What source/rtnl_neigh.c reads from one message; the pointers point into
 * it and live as long as the message callback. */
struct neigh_rec {
	int family;                  /* AF_INET or AF_INET6 */
	const void *dst;             /* 4 or 16 bytes */
	const unsigned char *lladdr; /* NULL: none (INCOMPLETE, FAILED) */
	size_t lladdr_len;
	int32_t ifindex;
	const char *ifname;          /* NULL: unknown */
	uint16_t state;              /* NUD_* bits */
	uint8_t flags;               /* NTF_* bits */
	int has_probes;
	uint32_t probes;
	int has_cacheinfo;
	struct nda_cacheinfo ci;     /* ages in ticks */
	long hz;                     /* USER_HZ: the unit of the ages */
};

/* Pushes the record of r. */
void neigh_record_push(lua_State *L, const struct neigh_rec *r);
/* state (the first NUD_* name in ip's order, "NONE" for none) and states
 * (every set bit's name) on the table at the top of the stack; shared with
 * /proc/net/arp. */
void neigh_set_states(lua_State *L, unsigned int state);

#pragma GCC visibility pop

#endif
