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
 *  - RTA_FLOW (realms) packs two u16: from in the high half, to in the low;
 *  - a family-specific dump on a kernel without that family answers with
 *    every family: records are filtered on rtm_family;
 *  - interface names come from the session's netns (session_ifname), and
 *    are loaded before the route dump starts, because loading them is a
 *    request on the same socket; so are the nexthop objects, for routes
 *    that name theirs by id only (see "nexthop objects" below). */
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
	int nh_table;          /* stack index of the nexthop objects; 0: none */
	uint32_t want;         /* RF_ bits of the fields to build */
	int size;              /* hash slots of a record: what want can fill */
};

/* A nested attribute as mnl_attr_validate accepts one: empty, or room
 * for at least one attribute header. */
static int nested_ok(const struct nlattr *a)
{
	return a != NULL && (mnl_attr_get_payload_len(a) == 0 ||
			     mnl_attr_get_payload_len(a) >= MNL_ATTR_HDRLEN);
}

static size_t family_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Copies an address attribute of the given family; 0 if it is absent or
 * its length does not fit the family. */
static int attr_addr(const struct nlattr *a, int family, struct addr *out)
{
	size_t want = family_addr_len(family);

	/* read in place: three per route, a library call each was a tenth
	 * of the decoding */
	if (a == NULL || want == 0 || a->nla_len != NLA_HDRLEN + want)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->bytes, (const char *)a + NLA_HDRLEN, want);
	return 1;
}

/* RTA_VIA: a gateway of another family (an IPv4 route via IPv6). */
static int attr_via(const struct nlattr *a, struct addr *out)
{
	const struct rtvia *via;
	size_t want;

	if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(*via))
		return 0;
	via = (const struct rtvia *)mnl_attr_get_payload(a);
	want = family_addr_len(via->rtvia_family);
	if (want == 0 || mnl_attr_get_payload_len(a) < sizeof(*via) + want)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = via->rtvia_family;
	memcpy(out->bytes, via->rtvia_addr, want);
	return 1;
}

/* The gateway of a route or a hop: RTA_GATEWAY, else RTA_VIA. */
static int route_gateway(const struct nlattr *gw, const struct nlattr *via, int family,
			 struct addr *out)
{
	return attr_addr(gw, family, out) || attr_via(via, out);
}

/* RTA_METRICS: nested RTAX_* attributes, u32 except RTAX_CC_ALGO. */
static void route_metrics(const struct nlattr *nest, struct route_rec *r)
{
	const struct nlattr *a;
	int type;

	r->has_metrics = 1;
	mnl_attr_for_each_nested(a, nest) {
		type = mnl_attr_get_type(a);
		if (type <= 0 || type >= ROUTE_NMETRICS)
			continue;
		if (type == RTAX_CC_ALGO) {
			r->cc_algo = (const char *)mnl_attr_get_payload(a);
			r->cc_algo_len = strnlen(r->cc_algo, mnl_attr_get_payload_len(a));
		} else if (nl_attr_u32(a, &r->metrics[type])) {
			r->metrics_set |= 1u << type;
		}
	}
}

static int nh_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = (const struct nlattr **)data;
	int type = mnl_attr_get_type(attr);

	if (type == RTA_GATEWAY || type == RTA_FLOW ||
	    (type == RTA_VIA && mnl_attr_get_payload_len(attr) >= sizeof(struct rtvia)))
		tb[type] = attr;
	return MNL_CB_OK;
}

/* RTA_MULTIPATH: a packed array of rtnexthop, each followed by its own
 * attributes; weight = rtnh_hops + 1. */
static int route_next_hop(const struct route_rec *r, size_t *pos, struct route_hop *hop)
{
	const struct rtnexthop *nh;
	const struct nlattr *tb[RTA_MAX + 1];
	int len = (int)mnl_attr_get_payload_len(r->multipath) - (int)*pos;
	int attrs_len;

	nh = (const struct rtnexthop *)((const char *)mnl_attr_get_payload(r->multipath) + *pos);
	if (len < (int)sizeof(*nh) || !RTNH_OK(nh, len))
		return 0;
	memset(tb, 0, sizeof(tb));
	attrs_len = (int)nh->rtnh_len - (int)sizeof(*nh);
	if (attrs_len > 0)
		mnl_attr_parse_payload(RTNH_DATA(nh), (size_t)attrs_len, nh_attr_cb, tb);
	hop->has_gateway = route_gateway(tb[RTA_GATEWAY], tb[RTA_VIA], r->family, &hop->gateway);
	hop->ifindex = nh->rtnh_ifindex;
	hop->weight = nh->rtnh_hops + 1;
	hop->flags = nh->rtnh_flags;
	hop->has_flow = nl_attr_u32(tb[RTA_FLOW], &hop->flow);
	*pos += RTNH_ALIGN(nh->rtnh_len);
	return 1;
}

/* The header facts of one RTM_NEWROUTE message; 0 when it is no route of
 * AF_INET or AF_INET6. */
static int route_decode_hdr(const struct nlmsghdr *nlh, struct route_rec *r)
{
	const struct rtmsg *rtm;

	if ((rtm = (const struct rtmsg *)nl_msg_hdr(nlh, RTM_NEWROUTE, sizeof(*rtm))) == NULL)
		return 0;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->src_len = rtm->rtm_src_len;
	r->tos = rtm->rtm_tos;
	r->type = rtm->rtm_type;
	r->protocol = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->flags = rtm->rtm_flags;
	r->table = rtm->rtm_table;
	return 1;
}

/* The attribute facts of the message whose header route_decode_hdr read
 * into r. Every attribute's length is checked where it is read (the
 * scalar readers, the family's address length, nested_ok): a malformed
 * one counts as not sent. */
static void route_decode_attrs(const struct nlmsghdr *nlh, struct route_rec *r)
{
	const struct nlattr *tb[RTA_MAX + 1];
	struct rta_cacheinfo ci;
	uint8_t pref;

	memset(tb, 0, sizeof(tb));
	(void)nl_attrs_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX + 1);   /* stops at a truncated attribute */
	(void)nl_attr_u32(tb[RTA_TABLE], &r->table);   /* rtm_table reads 252 above 255 */
	if (!attr_addr(tb[RTA_DST], r->family, &r->dst))
		r->dst.family = r->family;
	r->has_src = r->src_len > 0 && attr_addr(tb[RTA_SRC], r->family, &r->src);
	r->has_gateway = route_gateway(tb[RTA_GATEWAY], tb[RTA_VIA], r->family, &r->gateway);
	r->has_prefsrc = attr_addr(tb[RTA_PREFSRC], r->family, &r->prefsrc);
	r->has_oif = nl_attr_u32(tb[RTA_OIF], &r->oif);
	r->has_iif = nl_attr_u32(tb[RTA_IIF], &r->iif);
	(void)nl_attr_u32(tb[RTA_PRIORITY], &r->metric);   /* IPv4 leaves a metric of 0 out */
	r->has_nhid = nl_attr_u32(tb[RTA_NH_ID], &r->nhid);
	r->has_mark = nl_attr_u32(tb[RTA_MARK], &r->mark);
	r->has_uid = nl_attr_u32(tb[RTA_UID], &r->uid);
	r->has_flow = nl_attr_u32(tb[RTA_FLOW], &r->flow);
	if ((r->has_pref = nl_attr_u8(tb[RTA_PREF], &pref)))
		r->pref = pref;
	if (nl_attr_copy(tb[RTA_CACHEINFO], &ci, sizeof(ci)) && ci.rta_expires != 0) {
		r->has_expires = 1;
		r->expires = (int32_t)ci.rta_expires;   /* clock_t: USER_HZ ticks */
	}
	if (nested_ok(tb[RTA_METRICS]))
		route_metrics(tb[RTA_METRICS], r);
	if (nested_ok(tb[RTA_MULTIPATH])) {
		r->multipath = tb[RTA_MULTIPATH];
		r->next_hop = route_next_hop;
	}
}

/* ---- nexthop objects ----
 *
 * RTM_GETNEXTHOP: the nexthop objects of a netns (`ip nexthop`), for the
 * routes that name their nexthop by id only. With
 * net.ipv4.nexthop_compat_mode = 0 (what routing daemons that use nexthop
 * objects set) the kernel dumps such a route with RTA_NH_ID and nothing
 * else: no RTA_GATEWAY, RTA_OIF or RTA_MULTIPATH. The route dump loads the
 * objects first (a request on the same socket cannot run inside the route
 * dump) and fills the gateway, interface and hops of those routes from
 * them, as the kernel does in compatibility mode.
 *
 * The objects are kept as a Lua table id -> a copy of the object's message
 * (a string), on the stack of the route dump: nothing is allocated outside
 * Lua, so a memory error while records are built leaks nothing. */

/* linux/nexthop.h, which older headers lack: struct nhmsg and NHA_*. */
struct nh_hdr {
	unsigned char family, scope, protocol, resvd;
	uint32_t flags;
};
enum { NH_A_ID = 1, NH_A_GROUP = 2, NH_A_BLACKHOLE = 4, NH_A_OIF = 5, NH_A_GATEWAY = 6,
	NH_A_TB = 16 };
#ifndef RTM_NEWNEXTHOP
#define RTM_NEWNEXTHOP 104
#define RTM_GETNEXTHOP 106
#endif
/* One entry of NHA_GROUP (struct nexthop_grp): id u32, weight u8 (the
 * weight minus one), its high byte on kernels with 16-bit weights, u16
 * reserved. */
#define NH_GRP_SIZE 8
/* The loopback device's index, the same in every netns: a blackhole
 * object's device, as compatibility mode reports it. */
#define NH_LOOPBACK_IFINDEX 1

struct nh_load_ctx {
	lua_State *L;
	int table;
};

/* The attributes of a copied object message; 0 if it is malformed. */
static int nh_parse(const char *msg, size_t len, const struct nh_hdr **hdr,
		    const struct nlattr **tb)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;

	if (len < sizeof(*nlh) || nlh->nlmsg_len != len)
		return 0;
	if ((*hdr = (const struct nh_hdr *)nl_msg_hdr(nlh, RTM_NEWNEXTHOP, sizeof(**hdr))) == NULL)
		return 0;
	memset(tb, 0, sizeof(*tb) * NH_A_TB);
	return nl_attrs_parse(nlh, sizeof(**hdr), tb, NH_A_TB) >= 0;
}

static int nh_load_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nh_load_ctx *c = (struct nh_load_ctx *)data;
	const struct nlattr *tb[NH_A_TB];
	const struct nh_hdr *hdr;
	uint32_t id;

	if (!nh_parse((const char *)nlh, nlh->nlmsg_len, &hdr, tb) ||
	    !nl_attr_u32(tb[NH_A_ID], &id) || id == 0)
		return 0;
	lua_pushlstring(c->L, (const char *)nlh, nlh->nlmsg_len);
	lua_rawseti(c->L, c->table, (lua_Integer)id);
	return 0;
}

/* Pushes a table of the nexthop objects of the session's netns (id -> a
 * copy of the object's message); returns 1, or 0 when they could not be
 * read (a kernel without nexthop objects): the table is then empty. */
static int nexthops_load(lua_State *L, struct session *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nh_hdr *hdr;
	struct nl_result res;
	struct nh_load_ctx c;
	int tries, err = 0;

	lua_newtable(L);
	c.L = L;
	c.table = lua_gettop(L);
	if (s->route.nl == NULL)
		return 0;
	for (tries = 0; tries < 5; tries++) {
		memset(buf, 0, sizeof(buf));
		hdr = (struct nh_hdr *)nl_put_request(buf, &nlh, RTM_GETNEXTHOP,
						      NLM_F_REQUEST | NLM_F_DUMP, sizeof(*hdr));
		hdr->family = AF_UNSPEC;
		err = nl_request(&s->route, nlh, nh_load_cb, &c, &res);
		if (err != 0 || !res.interrupted)
			break;
	}
	return err == 0;
}

/* The object id of the table at stack index table: its message and
 * attributes; 0 when there is none. The message stays referenced by the
 * table, so the pointers stay valid while the table is on the stack. */
static int nh_find(lua_State *L, int table, uint32_t id, const struct nh_hdr **hdr,
		   const struct nlattr **tb)
{
	const char *msg;
	size_t len;

	lua_rawgeti(L, table, (lua_Integer)id);
	msg = lua_tolstring(L, -1, &len);
	lua_pop(L, 1);
	return msg != NULL && nh_parse(msg, len, hdr, tb);
}

/* A gateway of the object's family into out; 0 without one. */
static int nh_gateway(const struct nh_hdr *hdr, const struct nlattr *a, struct addr *out)
{
	size_t want = hdr->family == AF_INET ? 4 : hdr->family == AF_INET6 ? 16 : 0;

	if (a == NULL || want == 0 || mnl_attr_get_payload_len(a) != want)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = hdr->family;
	memcpy(out->bytes, mnl_attr_get_payload(a), want);
	return 1;
}

/* route_rec.next_hop over a group's NHA_GROUP: each entry's member object
 * gives the hop's gateway and interface. */
static int nh_group_next_hop(const struct route_rec *r, size_t *pos, struct route_hop *hop)
{
	const unsigned char *p = (const unsigned char *)mnl_attr_get_payload(r->multipath);
	size_t len = mnl_attr_get_payload_len(r->multipath);
	const struct nlattr *tb[NH_A_TB];
	const struct nh_hdr *hdr;
	uint32_t id, oif;

	if (*pos + NH_GRP_SIZE > len)
		return 0;
	memcpy(&id, p + *pos, sizeof(id));
	memset(hop, 0, sizeof(*hop));
	hop->weight = 1 + p[*pos + 4] + (p[*pos + 5] << 8);
	if (nh_find(r->nh_L, r->nh_table, id, &hdr, tb)) {
		hop->has_gateway = nh_gateway(hdr, tb[NH_A_GATEWAY], &hop->gateway);
		if (nl_attr_u32(tb[NH_A_OIF], &oif))
			hop->ifindex = (int)oif;
		hop->flags = hdr->flags;
	}
	*pos += NH_GRP_SIZE;
	return 1;
}

/* Fills the gateway and interface (or the hops, for a group) of a route
 * that names its nexthop by id only, from the table at stack index table;
 * a route with any of them is left alone. */
static void route_nexthop_resolve(lua_State *L, int table, struct route_rec *r)
{
	const struct nlattr *tb[NH_A_TB];
	const struct nh_hdr *hdr;

	if (!r->has_nhid || r->has_oif || r->has_gateway || r->multipath != NULL ||
	    !nh_find(L, table, r->nhid, &hdr, tb))
		return;
	if (tb[NH_A_GROUP] != NULL && mnl_attr_get_payload_len(tb[NH_A_GROUP]) >= NH_GRP_SIZE) {
		r->multipath = tb[NH_A_GROUP];
		r->next_hop = nh_group_next_hop;
		r->nh_L = L;
		r->nh_table = table;
		return;
	}
	if (tb[NH_A_BLACKHOLE] != NULL) {
		r->has_oif = 1;   /* the kernel sends such packets to loopback */
		r->oif = NH_LOOPBACK_IFINDEX;
		return;
	}
	r->has_gateway = nh_gateway(hdr, tb[NH_A_GATEWAY], &r->gateway);
	r->has_oif = nl_attr_u32(tb[NH_A_OIF], &r->oif);
	r->flags |= hdr->flags;   /* RTNH_F_ONLINK and the like, as compat mode shows them */
}

static int route_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_ctx *c = (struct route_ctx *)data;
	struct route_rec r;

	if (!route_decode_hdr(nlh, &r))
		return 0;
	if (c->list != 0 && (r.family != c->family || (r.flags & RTM_F_CLONED)))
		return 0;   /* dump: another family, or a cached exception */
	route_decode_attrs(nlh, &r);
	if (c->table >= 0 && (long long)r.table != c->table)
		return 0;
	if (c->nh_table != 0)
		route_nexthop_resolve(c->L, c->nh_table, &r);
	r.hz = c->hz;
	route_record_push(&c->rk, c->s, &r, c->want, c->size);
	if (c->list != 0)
		append(c->L, c->list, &c->n);
	else
		c->pushed = 1;
	return 0;
}

int route_push_msg(lua_State *L, struct session *s, const struct nlmsghdr *nlh,
		   long long table)
{
	struct route_ctx c;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = s;
	c.table = table;
	c.hz = user_hz();
	c.want = RF_ALL;
	c.size = 16;
	rkeys_push(L, &c.rk, c.want);
	(void)route_msg_cb(nlh, &c);
	if (c.pushed)
		lua_insert(L, ks_bottom(&c.rk.ks));   /* the record below the keys */
	rkeys_pop(&c.rk);
	return c.pushed;
}

int route_family_arg(lua_State *L, int idx)
{
	static const char *const names[] = {"inet", "inet6", NULL};

	return check_enum(L, idx, names) ? AF_INET6 : AF_INET;
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

/* The letters table at idx, if any: records then get a flags field from it
 * (rkeys_letters), one more hash slot. */
static void route_letters_arg(lua_State *L, int idx, struct route_ctx *c)
{
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	rkeys_letters(&c->rk, idx);
	if (c->size < 16)
		c->size++;
}

/* core.route_dump(session, sink, family, table[, want[, letters]]) -> true,
 * interrupted, count | nil, msg, errno. Hands the routes of one family
 * (table: an id, or -1 for every table) to the sink, a list to append to or
 * a function to call per record; want: the RF_ mask of the fields to build;
 * letters: the table of netstat flag letters by packed facts (see
 * rkeys_letters), when records should have a flags field.
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
	lua_settop(L, 6);
	/* Names and nexthop objects first: their dumps must not run inside
	 * the route dump. A kernel without nexthop objects leaves the table
	 * empty. */
	(void)session_ifname(c.s, 0);
	(void)nexthops_load(L, c.s);
	c.nh_table = lua_gettop(L);
	rkeys_push(L, &c.rk, c.want);
	route_letters_arg(L, 6, &c);
	c.list = 2;
	c.n = check_sink(L, 2);
	start = c.n;
	c.hz = user_hz();

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

	if ((ifi = (const struct ifinfomsg *)nl_msg_hdr(nlh, RTM_NEWLINK, sizeof(*ifi))) == NULL)
		return 0;
	*(int *)data = ifi->ifi_index;
	return 0;
}

/* The index of interface name (or alternative name) in the session's
 * netns (RTM_GETLINK by name): > 0, or a negative errno (-ENODEV: no such interface). */
static int route_ifindex(struct session *s, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_result res;
	int index = 0, err;

	if (name[0] == '\0' || strlen(name) >= LK_ALTIFNAMSIZ)
		return -ENODEV;
	memset(buf, 0, sizeof(buf));   /* libmnl 1.0.4 leaves attribute padding unset */
	ifi = (struct ifinfomsg *)nl_put_request(buf, &nlh, RTM_GETLINK, NLM_F_REQUEST,
					sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	link_put_name(nlh, name);   /* a name or an alternative name */
	err = nl_request(&s->route, nlh, route_link_cb, &index, &res);
	if (err != 0)
		return err;
	return index > 0 ? index : -ENODEV;
}

/* core.route_get(session, addr, from, oif, mark[, letters]) -> record | nil,
 * msg, errno (letters: as core.route_dump's).
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
	size_t addr_len, from_len;
	const char *addr = check_text(L, 2, "address", &addr_len);
	const char *from = opt_text(L, 3, "source address", &from_len);
	const char *oif = opt_text(L, 4, "interface name", NULL);
	lua_Integer mark = luaL_optinteger(L, 5, -1);
	size_t alen;
	int oif_index = 0, err;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = check_session(L, 1);
	if (parse_addr(addr, addr_len, &dst) != 0)
		return luaL_argerror(L, 2, "address expected");
	if (from != NULL && (parse_addr(from, from_len, &src) != 0 || src.family != dst.family))
		return luaL_argerror(L, 3, "source address of the same family expected");
	if (mark < -1 || mark > 0xffffffffLL)
		return luaL_argerror(L, 5, "mark out of range");
	if (c.s->route.nl == NULL)
		return luaL_argerror(L, 1, "session has no route socket");
	lua_settop(L, 6);
	c.want = RF_ALL;
	c.size = 16;
	rkeys_push(L, &c.rk, c.want);
	route_letters_arg(L, 6, &c);
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

size_t route_decode(lua_State *L, int list, int family, const char *buf, size_t len,
		    int letters)
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
	if (letters != 0)
		rkeys_letters(&c.rk, letters);
	left = nl_msgs_walk(buf, len, route_msg_cb, &c);
	rkeys_pop(&c.rk);
	return left;
}
