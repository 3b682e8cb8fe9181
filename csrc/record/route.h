/* record/route.c: the fields of route records. */
#ifndef LNETSTAT_RECORD_ROUTE_H
#define LNETSTAT_RECORD_ROUTE_H

#include "lnetstat.h"
#include "record/keys.h"

#pragma GCC visibility push(hidden)

/* RTF_* route flags (linux/route.h, linux/ipv6_route.h): the bits of the
 * /proc files' flags column, handed over as the rtf field and exported as
 * core.route_vocab.rtf. */
#define RTF_BIT_UP 0x0001u
#define RTF_BIT_GATEWAY 0x0002u
#define RTF_BIT_HOST 0x0004u
#define RTF_BIT_REINSTATE 0x0008u
#define RTF_BIT_DYNAMIC 0x0010u
#define RTF_BIT_MODIFIED 0x0020u
#define RTF_BIT_REJECT 0x0200u
#define RTF_BIT_ADDRCONF 0x00040000u
#define RTF_BIT_ANYCAST 0x00100000u
#define RTF_BIT_CACHE 0x01000000u
#define RTF_BIT_LOCAL 0x80000000u

/* The keys every route record has (a key set, record/keys.h), with two extra
 * slots: the last gateway text and interface name. The flags field (netstat's
 * letters) is no key: lnetstat.source.routes computes it from these facts. */
enum rkey {
	RK_FAMILY, RK_DST, RK_SRC, RK_GATEWAY, RK_OIF, RK_INTERFACE, RK_PREFSRC,
	RK_METRIC, RK_TABLE, RK_TABLE_NAME, RK_TYPE, RK_PROTOCOL, RK_SCOPE,
	RK_PREF, RK_COUNT
};

enum { RX_GATEWAY, RX_IFNAME, RX_TABLE_NAME, RX_FLAGS_KEY, RX_LETTERS, RX_COUNT };

/* The facts the netstat -r letters depend on, packed into one integer (the
 * key of the letters table that lnetstat.source.routes hands to
 * core.route_dump): each fact times its multiplier, exported as
 * core.route_vocab.flag_facts. A fact runs from its multiplier up to the
 * next one; FF_LIMIT ends the last. */
#define FF_INET6 1              /* the route is AF_INET6 */
#define FF_GATEWAY 2            /* RTA_GATEWAY or RTA_VIA */
#define FF_HOP_GATEWAY 4        /* the first hop of RTA_MULTIPATH has a gateway */
#define FF_DST_LEN 8            /* rtm_dst_len, 0..255 */
#define FF_PROTOCOL 2048        /* rtm_protocol, 0..255 */
#define FF_TYPE 524288          /* rtm_type, 0..255 */
#define FF_LIMIT 134217728

/* The fields a caller may ask for (opts.fields): the keys above, bit k for
 * key k, then the fields set without a key (core.route_vocab.fields names
 * them all). */
#define RF_NEXTHOPS (1u << RK_COUNT)
#define RF_METRICS (1u << (RK_COUNT + 1))
#define RF_KERNEL_FLAGS (1u << (RK_COUNT + 2))
#define RF_NHID (1u << (RK_COUNT + 3))
#define RF_EXPIRES (1u << (RK_COUNT + 4))
#define RF_MARK (1u << (RK_COUNT + 5))
#define RF_UID (1u << (RK_COUNT + 6))
#define RF_IIF (1u << (RK_COUNT + 7))
#define RF_CLONED (1u << (RK_COUNT + 8))   /* cloned and cache */
#define RF_RTF (1u << (RK_COUNT + 9))      /* /proc records: the flags column */
#define RF_REALMS (1u << (RK_COUNT + 10))  /* RTA_FLOW */
#define RF_TOS (1u << (RK_COUNT + 11))     /* rtm_tos */
#define RF_ALL ((1u << (RK_COUNT + 12)) - 1)

struct rkeys {
	struct keyset ks;
	struct addr gw;                 /* the address in the gateway slot */
	uint32_t ifindex;               /* the interface in the name slot */
	int has_table;                  /* the table name slot holds table's text */
	uint32_t table;
	int letters;                    /* stack index of the letters table; 0: no flags */
	int has_facts;                  /* the letters slot holds the text of facts */
	lua_Integer facts;
};

/* One hop of a multipath route. */
struct route_hop {
	int has_gateway;
	struct addr gateway;
	int ifindex;               /* > 0; else none */
	int weight;                /* rtnh_hops + 1 */
	uint32_t flags;            /* RTNH_F_* */
	int has_flow;
	uint32_t flow;             /* RTA_FLOW: realm from << 16 | realm to */
};

/* RTAX_* metrics up to this type have a name (record/route.c). */
#define ROUTE_NMETRICS 18

/* What source/rtnl_route.c reads from one route message; the pointers
 * point into it and live as long as the message callback. */
struct route_rec {
	int family;                /* AF_INET or AF_INET6 */
	unsigned int dst_len, src_len, tos, type, protocol, scope;   /* of struct rtmsg */
	uint32_t flags;            /* rtm_flags: RTM_F_*, RTNH_F_* */
	uint32_t table;            /* RTA_TABLE, else rtm_table */
	struct addr dst;           /* all zero when not sent (a default route) */
	int has_src, has_gateway, has_prefsrc;
	struct addr src, gateway, prefsrc;   /* gateway: RTA_GATEWAY, else RTA_VIA */
	int has_oif, has_iif, has_nhid, has_mark, has_uid, has_pref, has_expires, has_flow;
	uint32_t oif, iif, nhid, mark, uid;
	uint32_t flow;             /* RTA_FLOW: realm from << 16 | realm to */
	uint32_t metric;           /* RTA_PRIORITY; 0 when not sent */
	unsigned int pref;         /* RTA_PREF */
	int32_t expires;           /* RTA_CACHEINFO rta_expires, in ticks; 0: none */
	long hz;                   /* USER_HZ: the unit of expires */
	int has_metrics;           /* RTA_METRICS was sent */
	uint32_t metrics_set;      /* bit t: metrics[t] was sent */
	uint32_t metrics[ROUTE_NMETRICS];   /* by RTAX_* type; RTAX_LOCK: the locked bits */
	const char *cc_algo;       /* RTAX_CC_ALGO; NULL: none */
	size_t cc_algo_len;
	/* RTA_MULTIPATH, read hop by hop: next_hop fills hop with the hop at
	 * *pos (0: the first) and moves *pos on; 0 after the last. */
	const struct nlattr *multipath;   /* NULL: none */
	int (*next_hop)(const struct route_rec *r, size_t *pos, struct route_hop *hop);
	/* The hops of a nexthop group (source/rtnl_route.c): multipath is
	 * its NHA_GROUP, each member looked up in the table of nexthop
	 * objects at stack index nh_table of nh_L. */
	lua_State *nh_L;
	int nh_table;
};

/* What source/proc_route.c reads from one line of /proc/net/route or
 * /proc/net/ipv6_route; dev points into the text. */
struct proc_route {
	int family;
	struct addr dst, src, gw;
	int dst_len, src_len;
	const char *dev;
	size_t dev_len;
	uint32_t metric, flags;       /* flags: the RTF_* column */
	uint32_t mtu, window, irtt;   /* IPv4 only */
};

/* Pushes the keys; want is a mask of RF bits (RF_ALL: every field). */
void rkeys_push(lua_State *L, struct rkeys *rk, uint32_t want);
/* Records get a flags field from then on: the value of the table at stack
 * index letters under the record's packed facts (FF_*). The table is Lua's:
 * its __index computes the letters of facts it has not seen. */
void rkeys_letters(struct rkeys *rk, int letters);
void rkeys_pop(struct rkeys *rk);
/* Pushes the record of r with the fields of want (RF_ bits) in a table of
 * size hash slots; interface names from s (NULL: none). */
void route_record_push(struct rkeys *rk, struct session *s, const struct route_rec *r,
		       uint32_t want, int size);
/* Pushes the record of r (the same fields, with what /proc tells). */
void proc_route_record_push(struct rkeys *rk, const struct proc_route *r, uint32_t want,
			    int size);

#pragma GCC visibility pop

#endif
