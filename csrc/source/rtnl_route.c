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

	if (a == NULL || want == 0 || mnl_attr_get_payload_len(a) != want)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->bytes, mnl_attr_get_payload(a), want);
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
	rkeys_push(L, &c.rk, c.want);
	route_letters_arg(L, 6, &c);
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
