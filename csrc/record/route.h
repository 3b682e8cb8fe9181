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

enum { RX_GATEWAY, RX_IFNAME, RX_COUNT };

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
#define RF_ALL ((1u << (RK_COUNT + 10)) - 1)

struct rkeys {
	struct keyset ks;
	struct addr gw;                 /* the address in the gateway slot */
	uint32_t ifindex;               /* the interface in the name slot */
};

/* Pushes the keys; want is a mask of RF bits (RF_ALL: every field). */
void rkeys_push(lua_State *L, struct rkeys *rk, uint32_t want);
void rkeys_pop(struct rkeys *rk);
void rk_int(struct rkeys *rk, enum rkey k, lua_Integer v);
void rk_str(struct rkeys *rk, enum rkey k, const char *v);
void rk_lit(struct rkeys *rk, enum rkey k, const char *v);
void rk_addr(struct rkeys *rk, enum rkey k, const struct addr *a);
void rk_interface(struct rkeys *rk, uint32_t index, const char *name);
void rk_gateway(struct rkeys *rk, const struct addr *a);
void rk_cidr(struct rkeys *rk, enum rkey k, const struct addr *a, int len);
const char *route_type_name(unsigned int type);
const char *route_proto_name(unsigned int proto);
const char *route_scope_name(unsigned int scope);
void rk_name_or_int(struct rkeys *rk, enum rkey k, const char *name, long long v);
void set_kernel_flags(lua_State *L, uint32_t flags);
void set_cache_flags(lua_State *L, uint32_t flags);
void rk_table(struct rkeys *rk, uint32_t table);

#pragma GCC visibility pop

#endif
