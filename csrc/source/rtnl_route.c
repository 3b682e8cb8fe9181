/* RTM_GETROUTE: the routing tables (a dump) and the route the kernel would
 * use for one address (a get), decoded into route records.
 *
 * Traps handled here (doc/kernel-notes.md §4):
 *  - the table is RTA_TABLE (u32); rtm_table is a u8 that reads 252 for
 *    ids above 255;
 *  - dump filters work only with NETLINK_GET_STRICT_CHK, and are re-checked
 *    here anyway; without strict checking the kernel also dumps cached
 *    exceptions (RTM_F_CLONED), which `ip route show` does not list;
 *  - RTA_METRICS holds u32 values except RTAX_CC_ALGO, a string;
 *  - RTA_MULTIPATH is a packed array of rtnexthop, each followed by its own
 *    attributes; weight = rtnh_hops + 1;
 *  - a family-specific dump on a kernel without that family answers with
 *    every family: records are filtered on rtm_family;
 *  - interface names come from the session's netns (session_ifname), and
 *    are loaded before the route dump starts, because loading them is a
 *    request on the same socket. */
#include "source/proc.h"
#include "source/rtnl.h"
#include "nl/nl.h"
#include "text/text.h"
#include "record/push.h"
#include "record/route.h"
#include "api.h"

#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/in_route.h>

/* RTA_PREF values (linux/icmpv6.h clashes with netinet/in.h) */
#define ROUTE_PREF_MEDIUM 0
#define ROUTE_PREF_HIGH 1
#define ROUTE_PREF_LOW 3

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

struct route_ctx {
	lua_State *L;
	struct rkeys rk;
	struct session *s;
	int list;              /* stack index of the result list; 0: get */
	lua_Integer n;         /* records handed to the sink */
	int family;            /* records of other families are dropped */
	long long table;       /* -1: every table */
	long hz;               /* USER_HZ, for RTA_CACHEINFO expiry */
	int pushed;            /* get: a record is on the stack */
	uint32_t want;         /* RF_ bits of the fields to build */
	int size;              /* hash slots of a record: what want can fill */
};

/* A validated view of one route message's attributes. */
struct route_attrs {
	const struct nlattr *tb[RTA_MAX + 1];
};

static int route_attr_ok(const struct nlattr *a, int type)
{
	switch (type) {
	case RTA_OIF: case RTA_IIF: case RTA_PRIORITY: case RTA_TABLE:
	case RTA_MARK: case RTA_UID: case RTA_NH_ID: case RTA_FLOW:
		return mnl_attr_validate(a, MNL_TYPE_U32) >= 0;
	case RTA_PREF:
		return mnl_attr_validate(a, MNL_TYPE_U8) >= 0;
	case RTA_METRICS: case RTA_MULTIPATH:
		return mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0;
	case RTA_CACHEINFO:
		return mnl_attr_get_payload_len(a) >= sizeof(struct rta_cacheinfo);
	case RTA_VIA:
		return mnl_attr_get_payload_len(a) >= sizeof(struct rtvia);
	default:
		/* addresses: their length is checked against the family on use */
		return 1;
	}
}

static size_t family_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Copies an address attribute of the given family; -1 if it is absent or
 * its length does not fit the family. */
static int attr_addr(const struct nlattr *a, int family, struct addr *out)
{
	size_t want = family_addr_len(family);

	if (a == NULL || want == 0 || mnl_attr_get_payload_len(a) != want)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->bytes, mnl_attr_get_payload(a), want);
	return 0;
}

/* RTA_VIA: a gateway of another family (an IPv4 route via IPv6). */
static int attr_via(const struct nlattr *a, struct addr *out)
{
	const struct rtvia *via;
	size_t want;

	if (a == NULL)
		return -1;
	via = (const struct rtvia *)mnl_attr_get_payload(a);
	want = family_addr_len(via->rtvia_family);
	if (want == 0 || mnl_attr_get_payload_len(a) < sizeof(*via) + want)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = via->rtvia_family;
	memcpy(out->bytes, via->rtvia_addr, want);
	return 0;
}

static void set_interface(struct route_ctx *c, uint32_t index)
{
	rk_interface(&c->rk, index, session_ifname(c->s, index));
}

/* RTA_METRICS: nested RTAX_* attributes, u32 except RTAX_CC_ALGO. */
static void set_metrics(lua_State *L, const struct nlattr *nest)
{
	static const char *const names[] = {
		NULL, "lock", "mtu", "window", "rtt", "rttvar", "ssthresh", "cwnd",
		"advmss", "reordering", "hoplimit", "initcwnd", "features", "rto_min",
		"initrwnd", "quickack", "congctl", "fastopen_no_cookie",
	};
	const int count = (int)(sizeof(names) / sizeof(names[0]));
	const struct nlattr *a;
	uint32_t lock = 0;
	int any = 0, type, i;

	lua_createtable(L, 0, 4);
	mnl_attr_for_each_nested(a, nest) {
		type = mnl_attr_get_type(a);
		if (type <= 0 || type >= count)
			continue;
		if (type == RTAX_CC_ALGO) {
			size_t len = mnl_attr_get_payload_len(a);
			const char *s = (const char *)mnl_attr_get_payload(a);

			lua_pushlstring(L, s, strnlen(s, len));
			lua_setfield(L, -2, names[type]);
			any = 1;
			continue;
		}
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		if (type == RTAX_LOCK) {
			lock = mnl_attr_get_u32(a);
			continue;
		}
		/* ip's units: rtt in 1/8 ms and rttvar in 1/4 ms become ms. */
		if (type == RTAX_RTT)
			set_int(L, names[type], mnl_attr_get_u32(a) / 8);
		else if (type == RTAX_RTTVAR)
			set_int(L, names[type], mnl_attr_get_u32(a) / 4);
		else
			set_int(L, names[type], mnl_attr_get_u32(a));
		any = 1;
	}
	if (lock != 0) {
		lua_createtable(L, 0, 1);
		for (i = 2; i < count && i < 32; i++)
			if (lock & (1u << i))
				set_bool(L, names[i], 1);
		lua_setfield(L, -2, "locked");
		any = 1;
	}
	if (any)
		lua_setfield(L, -2, "metrics");
	else
		lua_pop(L, 1);
}

static int nh_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = (const struct nlattr **)data;
	int type = mnl_attr_get_type(attr);

	if (type == RTA_GATEWAY || (type == RTA_VIA && mnl_attr_get_payload_len(attr) >= sizeof(struct rtvia)))
		tb[type] = attr;
	return MNL_CB_OK;
}

/* RTA_MULTIPATH: pushes nexthops = {...}, each hop with its gateway and
 * interface (lnetstat.source.routes reads the first hop's gateway for
 * netstat's G flag). */
static void set_nexthops(struct route_ctx *c, const struct nlattr *mp, int family)
{
	lua_State *L = c->L;
	const struct rtnexthop *nh = (const struct rtnexthop *)mnl_attr_get_payload(mp);
	int len = (int)mnl_attr_get_payload_len(mp);
	lua_Integer n = 0;
	uint32_t skip;

	/* a hop has its gateway and interface whatever the route's fields */
	skip = c->rk.ks.skip;
	c->rk.ks.skip = 0;
	lua_createtable(L, 2, 0);
	while (len >= (int)sizeof(*nh) && RTNH_OK(nh, len)) {
		const struct nlattr *tb[RTA_MAX + 1];
		struct addr gw;
		int attrs_len = (int)nh->rtnh_len - (int)sizeof(*nh);

		memset(tb, 0, sizeof(tb));
		if (attrs_len > 0)
			mnl_attr_parse_payload(RTNH_DATA(nh), (size_t)attrs_len, nh_attr_cb, tb);
		lua_createtable(L, 0, 6);
		if (attr_addr(tb[RTA_GATEWAY], family, &gw) == 0 || attr_via(tb[RTA_VIA], &gw) == 0)
			rk_gateway(&c->rk, &gw);
		if (nh->rtnh_ifindex > 0) {
			rk_int(&c->rk, RK_OIF, nh->rtnh_ifindex);
			set_interface(c, (uint32_t)nh->rtnh_ifindex);
		}
		set_int(L, "weight", nh->rtnh_hops + 1);
		set_kernel_flags(L, nh->rtnh_flags);
		lua_rawseti(L, -2, (int)++n);
		len -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	c->rk.ks.skip = skip;
	lua_setfield(L, -2, "nexthops");
}

static uint32_t route_table(const struct rtmsg *rtm, const struct route_attrs *ra)
{
	return ra->tb[RTA_TABLE] != NULL ? mnl_attr_get_u32(ra->tb[RTA_TABLE]) : rtm->rtm_table;
}

/* Pushes the record of one RTM_NEWROUTE message. */
static void push_route(struct route_ctx *c, const struct rtmsg *rtm,
		       const struct route_attrs *ra, uint32_t table)
{
	lua_State *L = c->L;
	struct rkeys *rk = &c->rk;
	const struct nlattr *const *tb = ra->tb;
	int family = rtm->rtm_family;
	struct addr a, gw;

	lua_createtable(L, 0, c->size);
	rk_lit(rk, RK_FAMILY, family_name(family));
	if (attr_addr(tb[RTA_DST], family, &a) != 0) {
		memset(&a, 0, sizeof(a));
		a.family = family;
	}
	rk_cidr(rk, RK_DST, &a, rtm->rtm_dst_len);
	if (rtm->rtm_src_len > 0 && attr_addr(tb[RTA_SRC], family, &a) == 0)
		rk_cidr(rk, RK_SRC, &a, rtm->rtm_src_len);
	if (attr_addr(tb[RTA_GATEWAY], family, &gw) == 0 || attr_via(tb[RTA_VIA], &gw) == 0)
		rk_gateway(rk, &gw);
	if (tb[RTA_OIF] != NULL) {
		uint32_t oif = mnl_attr_get_u32(tb[RTA_OIF]);

		rk_int(rk, RK_OIF, oif);
		set_interface(c, oif);
	}
	if (tb[RTA_IIF] != NULL && (c->want & RF_IIF))
		set_int(L, "iif", mnl_attr_get_u32(tb[RTA_IIF]));
	if (attr_addr(tb[RTA_PREFSRC], family, &a) == 0)
		rk_addr(rk, RK_PREFSRC, &a);
	/* IPv4 leaves RTA_PRIORITY out when the metric is 0. */
	rk_int(rk, RK_METRIC, tb[RTA_PRIORITY] != NULL ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0);
	rk_table(rk, table);
	rk_name_or_int(rk, RK_TYPE, route_type_name(rtm->rtm_type), rtm->rtm_type);
	rk_name_or_int(rk, RK_PROTOCOL, route_proto_name(rtm->rtm_protocol), rtm->rtm_protocol);
	rk_name_or_int(rk, RK_SCOPE, route_scope_name(rtm->rtm_scope), rtm->rtm_scope);
	if (tb[RTA_MULTIPATH] != NULL && (c->want & RF_NEXTHOPS))
		set_nexthops(c, tb[RTA_MULTIPATH], family);
	if (tb[RTA_METRICS] != NULL && (c->want & RF_METRICS))
		set_metrics(L, tb[RTA_METRICS]);
	if (tb[RTA_PREF] != NULL) {
		uint8_t pref = mnl_attr_get_u8(tb[RTA_PREF]);

		rk_name_or_int(rk, RK_PREF, pref == ROUTE_PREF_LOW ? "low" :
				pref == ROUTE_PREF_MEDIUM ? "medium" :
				pref == ROUTE_PREF_HIGH ? "high" : NULL, pref);
	}
	if (tb[RTA_NH_ID] != NULL && (c->want & RF_NHID))
		set_int(L, "nhid", mnl_attr_get_u32(tb[RTA_NH_ID]));
	if (tb[RTA_MARK] != NULL && (c->want & RF_MARK))
		set_int(L, "mark", mnl_attr_get_u32(tb[RTA_MARK]));
	if (tb[RTA_UID] != NULL && (c->want & RF_UID))
		set_int(L, "uid", mnl_attr_get_u32(tb[RTA_UID]));
	if (tb[RTA_CACHEINFO] != NULL && (c->want & RF_EXPIRES)) {
		struct rta_cacheinfo ci;

		memcpy(&ci, mnl_attr_get_payload(tb[RTA_CACHEINFO]), sizeof(ci));
		if (ci.rta_expires != 0)   /* clock_t: USER_HZ ticks */
			set_int(L, "expires", (int32_t)ci.rta_expires / c->hz);
	}
	if (c->want & RF_KERNEL_FLAGS)
		set_kernel_flags(L, rtm->rtm_flags);
	if ((rtm->rtm_flags & RTM_F_CLONED) && (c->want & RF_CLONED)) {
		set_bool(L, "cloned", 1);
		if (family == AF_INET)
			set_cache_flags(L, rtm->rtm_flags);
	}
}

static int route_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_ctx *c = (struct route_ctx *)data;
	const struct rtmsg *rtm;
	const struct nlattr *attr;
	struct route_attrs ra;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return 0;
	rtm = (const struct rtmsg *)mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	if (c->list != 0 && (rtm->rtm_family != c->family || (rtm->rtm_flags & RTM_F_CLONED)))
		return 0;   /* dump: another family, or a cached exception */
	memset(&ra, 0, sizeof(ra));
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {   /* stops at a truncated attribute */
		int type = mnl_attr_get_type(attr);

		if (type <= RTA_MAX && route_attr_ok(attr, type))
			ra.tb[type] = attr;
	}
	table = route_table(rtm, &ra);
	if (c->table >= 0 && (long long)table != c->table)
		return 0;
	push_route(c, rtm, &ra, table);
	if (c->list != 0)
		append(c->L, c->list, &c->n);
	else
		c->pushed = 1;
	return 0;
}

int route_family_arg(lua_State *L, int idx)
{
	static const char *const names[] = {"inet", "inet6", NULL};

	return luaL_checkoption(L, idx, NULL, names) ? AF_INET6 : AF_INET;
}

/* The fields a route record gets: the RF_ mask at idx (all when absent),
 * and the hash size that holds them (family and dst always come; a full
 * record has 13..16 fields: one power of two). */
uint32_t route_want_arg(lua_State *L, int idx, int *size)
{
	uint32_t want = (uint32_t)luaL_optinteger(L, idx, (lua_Integer)RF_ALL) & RF_ALL;
	int n = 2;
	uint32_t m;

	for (m = want; m != 0; m &= m - 1)
		n++;
	*size = n < 16 ? n : 16;
	return want;
}

/* core.route_dump(session, sink, family, table[, want]) -> true,
 * interrupted, count | nil, msg, errno. Hands the routes of one family
 * (table: an id, or -1 for every table) to the sink, a list to append to or
 * a function to call per record; want: the RF_ mask of the fields to build.
 * interrupted is true when the kernel flagged the dump NLM_F_DUMP_INTR (the
 * caller retries, or says so). */
int l_route_dump(lua_State *L)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct route_ctx c;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nl_result res;
	int one = 1, strict, err;
	lua_Integer start;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = check_session(L, 1);
	c.family = route_family_arg(L, 3);
	c.table = (long long)luaL_checkinteger(L, 4);
	if (c.table < -1 || c.table > 0xffffffffLL)
		return luaL_argerror(L, 4, "table id out of range");
	c.want = route_want_arg(L, 5, &c.size);
	if (c.s->route.nl == NULL)
		return luaL_argerror(L, 1, "session has no route socket");
	lua_settop(L, 5);
	rkeys_push(L, &c.rk, c.want);
	c.list = 2;
	c.n = check_sink(L, 2);
	start = c.n;
	c.hz = user_hz();

	/* Names first: the link dump must not run inside the route dump. */
	(void)session_ifname(c.s, 0);

	/* As ip does: strict checking makes the kernel honour the table filter
	 * and leave cached exceptions out. Kernels before 4.20 refuse the
	 * option; then both are filtered here only. */
	strict = setsockopt(mnl_socket_get_fd(c.s->route.nl), SOL_NETLINK,
			    NETLINK_GET_STRICT_CHK, &one, sizeof(one)) == 0;
	rtm = (struct rtmsg *)nl_put_request(buf, &nlh, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP,
					sizeof(*rtm));
	rtm->rtm_family = (unsigned char)c.family;
	if (strict && c.table >= 0)
		mnl_attr_put_u32(nlh, RTA_TABLE, (uint32_t)c.table);
	err = nl_request(&c.s->route, nlh, route_msg_cb, &c, &res);
	rkeys_pop(&c.rk);
	if (err == -ENOENT && strict && c.table >= 0)
		err = 0;   /* the table does not exist in this family: no routes */
	if (err != 0)
		return push_error(L, lua_pushfstring(L, "route dump %s", family_name(c.family)), err);
	lua_pushboolean(L, 1);
	lua_pushboolean(L, res.interrupted);
	lua_pushinteger(L, c.n - start);   /* records handed to the sink */
	return 3;
}

static int route_link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	ifi = (const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh);
	*(int *)data = ifi->ifi_index;
	return 0;
}

/* The index of interface name in the session's netns (RTM_GETLINK by
 * IFLA_IFNAME): > 0, or a negative errno (-ENODEV: no such interface). */
static int route_ifindex(struct session *s, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_result res;
	int index = 0, err;

	if (name[0] == '\0' || strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	memset(buf, 0, sizeof(buf));   /* libmnl 1.0.4 leaves attribute padding unset */
	ifi = (struct ifinfomsg *)nl_put_request(buf, &nlh, RTM_GETLINK, NLM_F_REQUEST,
					sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	err = nl_request(&s->route, nlh, route_link_cb, &index, &res);
	if (err != 0)
		return err;
	return index > 0 ? index : -ENODEV;
}

/* core.route_get(session, addr, from, oif, mark) -> record | nil, msg, errno.
 * One RTM_GETROUTE without NLM_F_DUMP, as `ip route get` sends it: the
 * route the kernel would use for addr (from: source address, oif: output
 * interface name, mark: fwmark; each may be nil). */
int l_route_get(lua_State *L)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct route_ctx c;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nl_result res;
	struct addr dst, src;
	const char *addr = luaL_checkstring(L, 2);
	const char *from = luaL_optstring(L, 3, NULL);
	const char *oif = luaL_optstring(L, 4, NULL);
	lua_Integer mark = luaL_optinteger(L, 5, -1);
	size_t alen;
	int oif_index = 0, err;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = check_session(L, 1);
	if (parse_addr(addr, &dst) != 0)
		return luaL_argerror(L, 2, "address expected");
	if (from != NULL && (parse_addr(from, &src) != 0 || src.family != dst.family))
		return luaL_argerror(L, 3, "source address of the same family expected");
	if (mark < -1 || mark > 0xffffffffLL)
		return luaL_argerror(L, 5, "mark out of range");
	if (c.s->route.nl == NULL)
		return luaL_argerror(L, 1, "session has no route socket");
	lua_settop(L, 5);
	c.want = RF_ALL;
	c.size = 16;
	rkeys_push(L, &c.rk, c.want);
	c.family = dst.family;
	c.table = -1;
	c.hz = user_hz();
	alen = family_addr_len(dst.family);

	(void)session_ifname(c.s, 0);   /* names before the request, see above */
	if (oif != NULL && (oif_index = route_ifindex(c.s, oif)) < 0)
		return push_error(L, lua_pushfstring(L, "interface '%s'", oif), oif_index);

	rtm = (struct rtmsg *)nl_put_request(buf, &nlh, RTM_GETROUTE, NLM_F_REQUEST,
					sizeof(*rtm));
	rtm->rtm_family = (unsigned char)dst.family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	if (dst.family == AF_INET)
		rtm->rtm_flags = RTM_F_LOOKUP_TABLE;   /* report the FIB table */
	mnl_attr_put(nlh, RTA_DST, alen, dst.bytes);
	if (from != NULL) {
		rtm->rtm_src_len = (unsigned char)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, alen, src.bytes);
	}
	if (oif_index > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif_index);
	if (mark >= 0)
		mnl_attr_put_u32(nlh, RTA_MARK, (uint32_t)mark);

	err = nl_request(&c.s->route, nlh, route_msg_cb, &c, &res);
	if (err == 0 && !c.pushed)
		err = -EBADMSG;   /* an answer that was not a route */
	if (err != 0) {
		if (c.pushed)
			lua_pop(L, 1);
		return push_error(L, lua_pushfstring(L, "route get %s", addr), err);
	}
	return 1;
}

size_t route_decode(lua_State *L, int list, int family, const char *buf, size_t len)
{
	struct route_ctx c;
	size_t left;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.list = list;
	c.family = family;
	c.table = -1;
	c.hz = 100;
	c.want = RF_ALL;
	c.size = 16;
	rkeys_push(L, &c.rk, c.want);
	left = nl_msgs_walk(buf, len, route_msg_cb, &c);
	rkeys_pop(&c.rk);
	return left;
}
