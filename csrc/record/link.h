/* record/link.c: interface records from the facts of one RTM_NEWLINK. */
#ifndef LNETSTAT_RECORD_LINK_H
#define LNETSTAT_RECORD_LINK_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* A hardware address (or a tunnel's IP address); len 0: none. */
struct link_hw {
	const unsigned char *p;
	size_t len;
};

/* The u32 attributes a link record carries as they are, in record order
 * (record/link.c names them). */
enum link_u32 {
	LU_MTU, LU_MASTER_INDEX, LU_TXQLEN, LU_GROUP, LU_PROMISCUITY, LU_ALLMULTI,
	LU_MIN_MTU, LU_MAX_MTU, LU_NUM_TX_QUEUES, LU_NUM_RX_QUEUES, LU_GSO_MAX_SIZE,
	LU_GSO_MAX_SEGS, LU_CARRIER_CHANGES, LU_CARRIER_UP_COUNT, LU_CARRIER_DOWN_COUNT,
	LU_COUNT
};

/* What source/rtnl_link.c reads from one message; the pointers point into
 * it and live as long as the message callback. */
struct link_rec {
	const char *name;
	int32_t index;
	uint32_t flags;              /* IFF_* */
	uint16_t type;               /* ARPHRD_* */
	uint32_t have_u32;           /* bit k: u32[k] was sent */
	uint32_t u32[LU_COUNT];
	int has_link_index;          /* IFLA_LINK, when not 0 */
	uint32_t link_index;
	int has_link_netnsid;
	int32_t link_netnsid;
	int operstate, linkmode;     /* IF_OPER_*, IF_LINK_MODE_*; -1: not sent */
	int carrier, proto_down;     /* 0 or 1; -1: not sent */
	const char *qdisc, *alias, *kind, *slave_kind, *parent_dev, *parent_bus;   /* NULL: none */
	struct link_hw mac, broadcast, perm_address;
	const struct nlattr *altnames;   /* IFLA_PROP_LIST; NULL: none */
	int altname_type;                /* the type of a name inside it */
	const void *stats;           /* rtnl_link_stats64 (stats_bits 64) or
				      * rtnl_link_stats (32) of stats_len bytes,
				      * maybe shorter than this header's; NULL: none */
	size_t stats_len;
	int stats_bits;
};

/* Pushes the record of r. */
void link_record_push(lua_State *L, const struct link_rec *r);

#pragma GCC visibility pop

#endif
