/* Route records: from the facts of one route message (struct route_rec,
 * read by source/rtnl_route.c), and the fields the /proc parser
 * (source/proc_route.c) shares; enum names as iproute2 prints them,
 * addresses and prefixes as text; and the route vocabulary the Lua layer
 * reads (core.route_vocab). The netstat -r flag letters are not made here:
 * lnetstat.source.routes computes them from these facts. */
#include "record/route.h"
#include "api.h"
#include "record/push.h"
#include "text/text.h"

#include <stdio.h>
#include <linux/rtnetlink.h>
#include <linux/in_route.h>

static const char *const key_names[RK_COUNT] = {
	"family", "dst", "src", "gateway", "oif", "interface", "prefsrc",
	"metric", "table", "table_name", "type", "protocol", "scope", "pref",
};

/* The fields without a key, in the order of their RF_ bits. */
static const char *const extra_names[] = {
	"nexthops", "metrics", "kernel_flags", "nhid", "expires", "mark", "uid",
	"iif", "cloned", "rtf", "realms", "tos",
};
typedef char extra_names_match_rf_bits[
	RF_ALL == (1u << (RK_COUNT + sizeof(extra_names) / sizeof(extra_names[0]))) - 1 ? 1 : -1];

/* Pushes the keys; want is a mask of RF bits (RF_ALL: every field). */
void rkeys_push(lua_State *L, struct rkeys *rk, uint32_t want)
{
	memset(rk, 0, sizeof(*rk));
	keyset_push(L, &rk->ks, key_names, RK_COUNT, RX_COUNT);
	rk->ks.skip = ~want & ((1u << RK_COUNT) - 1);
}

void rkeys_letters(struct rkeys *rk, int letters)
{
	lua_pushliteral(rk->ks.L, "flags");
	lua_replace(rk->ks.L, ks_extra(&rk->ks, RX_FLAGS_KEY));
	rk->letters = letters;
	rk->has_facts = 0;
}

void rkeys_pop(struct rkeys *rk)
{
	keyset_pop(&rk->ks);
}

static void rk_int(struct rkeys *rk, enum rkey k, lua_Integer v)
{
	ks_int(&rk->ks, (int)k, v);
}

static void rk_lit(struct rkeys *rk, enum rkey k, const char *v)
{
	ks_lit(&rk->ks, (int)k, v);
}

static void rk_addr(struct rkeys *rk, enum rkey k, const struct addr *a)
{
	char text[INET6_ADDRSTRLEN];
	size_t n;

	if (ks_skipped(&rk->ks, (int)k))
		return;
	n = addr_ntop(a, text);

	ks_lstr(&rk->ks, (int)k, text, n);
}

/* The name of interface index in session s (none when unknown); the last
 * one is kept, as routes come grouped by interface, and looked up only
 * when the index changes (the session's names do not change in a dump). */
static void rk_interface(struct rkeys *rk, struct session *s, uint32_t index)
{
	const char *name;

	if (ks_skipped(&rk->ks, RK_INTERFACE))
		return;
	if (rk->ifindex != index || index == 0) {
		if ((name = session_ifname(s, index)) == NULL)
			return;
		lua_pushstring(rk->ks.L, name);
		lua_replace(rk->ks.L, ks_extra(&rk->ks, RX_IFNAME));
		rk->ifindex = index;
	}
	ks_from_extra(&rk->ks, RK_INTERFACE, RX_IFNAME);
}

/* Most routes of a big table share a few gateways: the last one's text is
 * kept and reused. */
static void rk_gateway(struct rkeys *rk, const struct addr *a)
{
	if (ks_skipped(&rk->ks, RK_GATEWAY))
		return;
	if (rk->gw.family != a->family || memcmp(rk->gw.bytes, a->bytes, sizeof(a->bytes)) != 0) {
		char text[INET6_ADDRSTRLEN];

		lua_pushlstring(rk->ks.L, text, addr_ntop(a, text));
		lua_replace(rk->ks.L, ks_extra(&rk->ks, RX_GATEWAY));
		rk->gw = *a;
	}
	ks_from_extra(&rk->ks, RK_GATEWAY, RX_GATEWAY);
}

/* The facts of r that the netstat -r letters depend on, packed (FF_*). */
static lua_Integer route_flag_facts(const struct route_rec *r)
{
	struct route_hop hop;
	size_t pos = 0;
	lua_Integer facts = (lua_Integer)(r->dst_len & 0xff) * FF_DST_LEN
		+ (lua_Integer)(r->protocol & 0xff) * FF_PROTOCOL
		+ (lua_Integer)(r->type & 0xff) * FF_TYPE;

	if (r->family == AF_INET6)
		facts += FF_INET6;
	if (r->has_gateway)
		facts += FF_GATEWAY;
	if (r->multipath != NULL && r->next_hop(r, &pos, &hop) && hop.has_gateway)
		facts += FF_HOP_GATEWAY;
	return facts;
}

/* flags = letters[facts]. A big table has few distinct facts, in runs:
 * the last text is kept, and the table is read only when the facts change
 * (its __index, in Lua, makes the letters of facts it does not hold). */
static void rk_flags(struct rkeys *rk, const struct route_rec *r)
{
	lua_State *L = rk->ks.L;
	lua_Integer facts = route_flag_facts(r);

	if (!rk->has_facts || rk->facts != facts) {
		lua_pushinteger(L, facts);
		lua_gettable(L, rk->letters);
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return;
		}
		lua_replace(L, ks_extra(&rk->ks, RX_LETTERS));
		rk->facts = facts;
		rk->has_facts = 1;
	}
	lua_pushvalue(L, ks_extra(&rk->ks, RX_FLAGS_KEY));
	lua_pushvalue(L, ks_extra(&rk->ks, RX_LETTERS));
	lua_rawset(L, -3);
}

/* "addr/len" */
static void rk_cidr(struct rkeys *rk, enum rkey k, const struct addr *a, int len)
{
	char text[INET6_ADDRSTRLEN + 8];
	size_t n;

	if (ks_skipped(&rk->ks, (int)k))
		return;
	n = addr_ntop(a, text);
	text[n++] = '/';
	if (len >= 100)
		text[n++] = (char)('0' + len / 100);
	if (len >= 10)
		text[n++] = (char)('0' + len / 10 % 10);
	text[n++] = (char)('0' + len % 10);
	ks_lstr(&rk->ks, (int)k, text, n);
}

/* Names as iproute2 prints them (rt_protos, rtnl_rtntype_n2a). */
static const char *route_type_name(unsigned int type)
{
	static const char *const names[] = {
		"unspec", "unicast", "local", "broadcast", "anycast", "multicast",
		"blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : NULL;
}

static const char *route_proto_name(unsigned int proto)
{
	switch (proto) {
	case 0: return "unspec";
	case 1: return "redirect";
	case 2: return "kernel";
	case 3: return "boot";
	case 4: return "static";
	case 8: return "gated";
	case 9: return "ra";
	case 10: return "mrt";
	case 11: return "zebra";
	case 12: return "bird";
	case 13: return "dnrouted";
	case 14: return "xorp";
	case 15: return "ntk";
	case 16: return "dhcp";
	case 18: return "keepalived";
	case 42: return "babel";
	case 99: return "openr";
	case 186: return "bgp";
	case 187: return "isis";
	case 188: return "ospf";
	case 189: return "rip";
	case 192: return "eigrp";
	default: return NULL;
	}
}

static const char *route_table_name(uint32_t table)
{
	switch (table) {
	case RT_TABLE_DEFAULT: return "default";
	case RT_TABLE_MAIN: return "main";
	case RT_TABLE_LOCAL: return "local";
	default: return NULL;
	}
}

static void rk_name_or_int(struct rkeys *rk, enum rkey k, const char *name, long long v)
{
	if (name != NULL)
		rk_lit(rk, k, name);
	else
		rk_int(rk, k, v);
}

/* ip's words for rtm_flags / rtnh_flags (print_rt_flags). The set is
 * pushed only when one of them is present. */
static void set_kernel_flags(lua_State *L, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } words[] = {
		{RTNH_F_DEAD, "dead"}, {RTNH_F_ONLINK, "onlink"},
		{RTNH_F_PERVASIVE, "pervasive"}, {RTNH_F_OFFLOAD, "offload"},
		{RTNH_F_TRAP, "trap"}, {RTM_F_NOTIFY, "notify"},
		{RTNH_F_LINKDOWN, "linkdown"}, {RTNH_F_UNRESOLVED, "unresolved"},
		{RTM_F_OFFLOAD, "rt_offload"}, {RTM_F_TRAP, "rt_trap"},
		{RTM_F_OFFLOAD_FAILED, "rt_offload_failed"},
	};
	const uint32_t named = RTNH_F_DEAD | RTNH_F_ONLINK | RTNH_F_PERVASIVE | RTNH_F_OFFLOAD |
		RTNH_F_TRAP | RTM_F_NOTIFY | RTNH_F_LINKDOWN | RTNH_F_UNRESOLVED |
		RTM_F_OFFLOAD | RTM_F_TRAP | RTM_F_OFFLOAD_FAILED;
	size_t i;
	int any = 0;

	if (!(flags & named))
		return;   /* most routes: no word, no walk */
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(flags & words[i].bit))
			continue;
		if (!any) {
			lua_createtable(L, 0, 2);
			any = 1;
		}
		set_bool(L, words[i].name, 1);
	}
	if (any)
		lua_setfield(L, -2, "kernel_flags");
}

/* Cache flags of a cloned IPv4 route (RTCF_*), as `ip route get` names them. */
static void set_cache_flags(lua_State *L, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } words[] = {
		{RTCF_LOCAL, "local"}, {RTCF_REJECT, "reject"}, {RTCF_MULTICAST, "mc"},
		{RTCF_BROADCAST, "brd"}, {RTCF_DNAT, "dst-nat"}, {RTCF_SNAT, "src-nat"},
		{RTCF_MASQ, "masq"}, {RTCF_DIRECTDST, "dst-direct"},
		{RTCF_DIRECTSRC, "src-direct"}, {RTCF_REDIRECTED, "redirected"},
		{RTCF_DOREDIRECT, "redirect"}, {RTCF_FAST, "fastroute"},
		{RTCF_NOTIFY, "notify"}, {RTCF_TPROXY, "proxy"},
	};
	size_t i;
	int n = 0;

	lua_createtable(L, 2, 0);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (flags & words[i].bit) {
			lua_pushstring(L, words[i].name);
			lua_rawseti(L, -2, ++n);
		}
	}
	lua_setfield(L, -2, "cache");
}


static void rk_table(struct rkeys *rk, uint32_t table)
{
	char text[16];
	const char *name = route_table_name(table);

	rk_int(rk, RK_TABLE, table);
	if (name != NULL) {
		rk_lit(rk, RK_TABLE_NAME, name);
	} else if (!ks_skipped(&rk->ks, RK_TABLE_NAME)) {
		/* a custom table: its number as text, as ip prints it; made
		 * once per run of routes of one table, not once per route */
		if (!rk->has_table || rk->table != table) {
			snprintf(text, sizeof(text), "%u", (unsigned int)table);
			lua_pushstring(rk->ks.L, text);
			lua_replace(rk->ks.L, ks_extra(&rk->ks, RX_TABLE_NAME));
			rk->has_table = 1;
			rk->table = table;
		}
		ks_from_extra(&rk->ks, RK_TABLE_NAME, RX_TABLE_NAME);
	}
}

/* core.route_vocab: what the Lua layer needs to read route records, so that
 * it copies no number by hand.
 *   fields: field name -> its bit in the want mask of core.route_dump and
 *           core.proc_routes (the sum of bits is the mask);
 *   rtf:    RTF_* name (without the prefix) -> its bit in the rtf field;
 *   types:  route type name (the type field) -> rtm_type;
 *   protocols: route protocol name (the protocol field) -> rtm_protocol;
 *   flag_facts: fact name -> its multiplier in the keys of the letters
 *           table that core.route_dump takes (FF_*; limit ends the last). */
void route_vocab_push(lua_State *L)
{
	static const struct { const char *name; uint32_t bit; } rtf[] = {
		{"UP", RTF_BIT_UP}, {"GATEWAY", RTF_BIT_GATEWAY}, {"HOST", RTF_BIT_HOST},
		{"REINSTATE", RTF_BIT_REINSTATE}, {"DYNAMIC", RTF_BIT_DYNAMIC},
		{"MODIFIED", RTF_BIT_MODIFIED}, {"REJECT", RTF_BIT_REJECT},
		{"ADDRCONF", RTF_BIT_ADDRCONF}, {"ANYCAST", RTF_BIT_ANYCAST},
		{"CACHE", RTF_BIT_CACHE}, {"LOCAL", RTF_BIT_LOCAL},
	};
	size_t i;
	unsigned int t;
	const char *name;

	static const struct { const char *name; lua_Integer mult; } facts[] = {
		{"inet6", FF_INET6}, {"gateway", FF_GATEWAY}, {"hop_gateway", FF_HOP_GATEWAY},
		{"dst_len", FF_DST_LEN}, {"protocol", FF_PROTOCOL}, {"type", FF_TYPE},
		{"limit", FF_LIMIT},
	};

	lua_createtable(L, 0, 5);
	lua_createtable(L, 0, RK_COUNT + (int)(sizeof(extra_names) / sizeof(extra_names[0])));
	for (i = 0; i < RK_COUNT; i++)
		set_int(L, key_names[i], (lua_Integer)1 << i);
	for (i = 0; i < sizeof(extra_names) / sizeof(extra_names[0]); i++)
		set_int(L, extra_names[i], (lua_Integer)1 << (RK_COUNT + i));
	lua_setfield(L, -2, "fields");
	lua_createtable(L, 0, (int)(sizeof(rtf) / sizeof(rtf[0])));
	for (i = 0; i < sizeof(rtf) / sizeof(rtf[0]); i++)
		set_int(L, rtf[i].name, rtf[i].bit);
	lua_setfield(L, -2, "rtf");
	lua_createtable(L, 0, 12);
	for (t = 0; (name = route_type_name(t)) != NULL; t++)
		set_int(L, name, t);
	lua_setfield(L, -2, "types");
	lua_createtable(L, 0, 24);
	for (t = 0; t < 256; t++)
		if ((name = route_proto_name(t)) != NULL)
			set_int(L, name, t);
	lua_setfield(L, -2, "protocols");
	lua_createtable(L, 0, (int)(sizeof(facts) / sizeof(facts[0])));
	for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		set_int(L, facts[i].name, facts[i].mult);
	lua_setfield(L, -2, "flag_facts");
}

/* RTA_PREF values (linux/icmpv6.h clashes with netinet/in.h) */
static const char *route_pref_name(unsigned int pref)
{
	switch (pref) {
	case 0: return "medium";
	case 1: return "high";
	case 3: return "low";
	default: return NULL;
	}
}

/* metrics = { name = value, ..., locked = { name = true } }: RTA_METRICS
 * by their RTAX_* names, in ip's units (rtt in 1/8 ms and rttvar in
 * 1/4 ms become ms); no table when nothing is set. */
static void set_metrics(lua_State *L, const struct route_rec *r)
{
	static const char *const names[ROUTE_NMETRICS] = {
		NULL, "lock", "mtu", "window", "rtt", "rttvar", "ssthresh", "cwnd",
		"advmss", "reordering", "hoplimit", "initcwnd", "features", "rto_min",
		"initrwnd", "quickack", "congctl", "fastopen_no_cookie",
	};
	uint32_t lock = (r->metrics_set & (1u << RTAX_LOCK)) ? r->metrics[RTAX_LOCK] : 0;
	uint32_t v;
	int any = 0, t;

	lua_createtable(L, 0, 4);
	if (r->cc_algo != NULL) {
		lua_pushlstring(L, r->cc_algo, r->cc_algo_len);
		lua_setfield(L, -2, names[RTAX_CC_ALGO]);
		any = 1;
	}
	for (t = RTAX_LOCK + 1; t < ROUTE_NMETRICS; t++) {
		if (!(r->metrics_set & (1u << t)))
			continue;
		v = r->metrics[t];
		set_int(L, names[t], t == RTAX_RTT ? v / 8 : t == RTAX_RTTVAR ? v / 4 : v);
		any = 1;
	}
	if (lock != 0) {
		lua_createtable(L, 0, 1);
		for (t = 2; t < ROUTE_NMETRICS; t++)
			if (lock & (1u << t))
				set_bool(L, names[t], 1);
		lua_setfield(L, -2, "locked");
		any = 1;
	}
	if (any)
		lua_setfield(L, -2, "metrics");
	else
		lua_pop(L, 1);
}

/* realms = {from =, to =}: the two realms of RTA_FLOW (ip's "realms
 * FROM/TO"); 0 is no realm. */
static void set_realms(lua_State *L, uint32_t flow)
{
	lua_createtable(L, 0, 2);
	set_int(L, "from", flow >> 16);
	set_int(L, "to", flow & 0xffffu);
	lua_setfield(L, -2, "realms");
}

/* nexthops = {...}, each hop with its gateway and interface whatever the
 * route's fields (lnetstat.source.routes reads the first hop's gateway for
 * netstat's G flag). */
static void set_nexthops(struct rkeys *rk, struct session *s, const struct route_rec *r,
			 uint32_t want)
{
	lua_State *L = rk->ks.L;
	struct route_hop hop;
	lua_Integer n = 0;
	size_t pos = 0;
	uint32_t skip = rk->ks.skip;

	rk->ks.skip = 0;
	lua_createtable(L, 2, 0);
	while (r->next_hop(r, &pos, &hop)) {
		lua_createtable(L, 0, 6);
		if (hop.has_gateway)
			rk_gateway(rk, &hop.gateway);
		if (hop.ifindex > 0) {
			rk_int(rk, RK_OIF, hop.ifindex);
			rk_interface(rk, s, (uint32_t)hop.ifindex);
		}
		set_int(L, "weight", hop.weight);
		set_kernel_flags(L, hop.flags);
		if (hop.has_flow && (want & RF_REALMS))
			set_realms(L, hop.flow);
		lua_rawseti(L, -2, (int)++n);
	}
	rk->ks.skip = skip;
	lua_setfield(L, -2, "nexthops");
}

void route_record_push(struct rkeys *rk, struct session *s, const struct route_rec *r,
		       uint32_t want, int size)
{
	lua_State *L = rk->ks.L;

	lua_createtable(L, 0, size);
	rk_lit(rk, RK_FAMILY, family_name(r->family));
	rk_cidr(rk, RK_DST, &r->dst, (int)r->dst_len);
	if (r->has_src)
		rk_cidr(rk, RK_SRC, &r->src, (int)r->src_len);
	if (r->has_gateway)
		rk_gateway(rk, &r->gateway);
	if (r->has_oif) {
		rk_int(rk, RK_OIF, r->oif);
		rk_interface(rk, s, r->oif);
	}
	if (r->has_iif && (want & RF_IIF))
		set_int(L, "iif", r->iif);
	if (r->has_prefsrc)
		rk_addr(rk, RK_PREFSRC, &r->prefsrc);
	rk_int(rk, RK_METRIC, r->metric);
	rk_table(rk, r->table);
	rk_name_or_int(rk, RK_TYPE, route_type_name(r->type), r->type);
	rk_name_or_int(rk, RK_PROTOCOL, route_proto_name(r->protocol), r->protocol);
	rk_name_or_int(rk, RK_SCOPE, scope_name(r->scope, "universe"), r->scope);
	if (r->multipath != NULL && (want & RF_NEXTHOPS))
		set_nexthops(rk, s, r, want);
	if (r->has_metrics && (want & RF_METRICS))
		set_metrics(L, r);
	if (r->has_pref)
		rk_name_or_int(rk, RK_PREF, route_pref_name(r->pref), r->pref);
	if (r->has_nhid && (want & RF_NHID))
		set_int(L, "nhid", r->nhid);
	if (r->has_mark && (want & RF_MARK))
		set_int(L, "mark", r->mark);
	if (r->has_uid && (want & RF_UID))
		set_int(L, "uid", r->uid);
	if (r->has_flow && (want & RF_REALMS))
		set_realms(L, r->flow);
	if (r->tos != 0 && (want & RF_TOS))
		set_int(L, "tos", r->tos);   /* the DS field the route matches */
	if (r->has_expires && (want & RF_EXPIRES))
		set_int(L, "expires", r->expires / r->hz);
	if (want & RF_KERNEL_FLAGS)
		set_kernel_flags(L, r->flags);
	if ((r->flags & RTM_F_CLONED) && (want & RF_CLONED)) {
		set_bool(L, "cloned", 1);
		if (r->family == AF_INET)
			set_cache_flags(L, r->flags);
	}
	if (rk->letters != 0)
		rk_flags(rk, r);
}

/* The record of one /proc/net/route or ipv6_route line. */
void proc_route_record_push(struct rkeys *rk, const struct proc_route *r, uint32_t want, int size)
{
	lua_State *L = rk->ks.L;

	lua_createtable(L, 0, size < 12 ? size : 12);
	rk_lit(rk, RK_FAMILY, family_name(r->family));
	rk_cidr(rk, RK_DST, &r->dst, r->dst_len);
	if (r->src_len > 0)
		rk_cidr(rk, RK_SRC, &r->src, r->src_len);
	if (r->flags & RTF_BIT_GATEWAY)
		rk_gateway(rk, &r->gw);
	if (r->dev_len > 0 && r->dev_len < IF_NAMESIZE) {
		ks_lstr(&rk->ks, RK_INTERFACE, r->dev, r->dev_len);
	}
	rk_int(rk, RK_METRIC, r->metric);
	if (r->family == AF_INET) {
		rk_table(rk, RT_TABLE_MAIN);   /* the only table this file shows */
		if ((want & RF_METRICS) && (r->mtu > 40 || r->window > 0 || r->irtt > 0)) {
			lua_createtable(L, 0, 3);
			if (r->mtu > 40)
				set_int(L, "advmss", r->mtu - 40);
			if (r->window > 0)
				set_int(L, "window", r->window);
			if (r->irtt > 0)
				set_int(L, "rtt", r->irtt);
			lua_setfield(L, -2, "metrics");
		}
	} else if (r->flags & RTF_BIT_LOCAL) {
		rk_lit(rk, RK_TYPE, "local");
	} else if (r->flags & RTF_BIT_ANYCAST) {
		rk_lit(rk, RK_TYPE, "anycast");
	}
	/* The flags column as it is: lnetstat.source.routes turns it into
	 * netstat's letters (and drops it from the record). */
	if (want & RF_RTF)
		set_int(L, "rtf", r->flags);
}
