/* /proc/net/route and /proc/net/ipv6_route: the routing fallback when
 * rtnetlink is unavailable. Records carry the same field names as the
 * netlink ones, but only the fields these files have.
 *
 * Traps handled here (doc/kernel-notes.md §5):
 *  - /proc/net/route lists IPv4 table main only, without broadcast and
 *    multicast routes; Destination, Gateway and Mask are %08X of the
 *    __be32, so the native u32 already holds the bytes in network order
 *    (on little endian the text looks reversed);
 *  - its "MTU" column is advmss + 40, its "IRTT" the rtt in ms, not the mtu;
 *  - /proc/net/ipv6_route mixes every table; its addresses are 32 hex
 *    digits in network order (unlike tcp6's four host-order words); the
 *    metric and flags are hex; the device column is empty for routes
 *    without one; a multipath route is one line per nexthop. */
#include "source/proc.h"
#include "text/text.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/route.h"
#include "api.h"

#include <stdio.h>
#include <linux/rtnetlink.h>
#include <linux/route.h>
#include <linux/ipv6_route.h>

#define PROCROUTE_FIELDS 11

struct rt_token {
	const char *p;
	size_t n;
};

/* Splits one line on blanks into at most max tokens; returns their
 * number, or max + 1 when the line has more. */
static int rt_split(const char *p, const char *end, struct rt_token *tok, int max)
{
	struct cursor c;
	const char *t;
	size_t len;
	int n = 0;

	c.p = p;
	c.end = end;
	while (next_token(&c, &t, &len)) {
		if (n == max)
			return max + 1;
		tok[n].p = t;
		tok[n].n = len;
		n++;
	}
	return n;
}

/* 1..8 hex digits into a u32. */
static int rt_hex32(const struct rt_token *t, uint32_t *out)
{
	uint64_t v;

	if (t->n > 8 || parse_hex(t->p, t->n, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A decimal integer (netstat prints some columns with %d). */
static int rt_dec(const struct rt_token *t, long long *out)
{
	long long v = 0;
	size_t i = 0;
	int neg = 0;

	if (t->n > 0 && t->p[0] == '-')
		neg = i = 1;
	if (i == t->n || t->n > 12)
		return -1;
	for (; i < t->n; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return -1;
		v = v * 10 + (t->p[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* 32 hex digits in network order (ipv6_route; not tcp6's word order). */
static int rt_hex128(const struct rt_token *t, struct addr *a)
{
	size_t i;
	int hi, lo;

	if (t->n != 32)
		return -1;
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	for (i = 0; i < 16; i++) {
		if ((hi = hex_digit(t->p[2 * i])) < 0 || (lo = hex_digit(t->p[2 * i + 1])) < 0)
			return -1;
		a->bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* A %08X __be32: the parsed native value holds the bytes in network order. */
static void rt_be32(uint32_t v, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->bytes, &v, 4);
}

/* The prefix length of a contiguous netmask; -1 if it has holes. */
static int rt_mask_len(const struct addr *mask)
{
	int len = 0, i, bit;

	for (i = 0; i < 4; i++)
		for (bit = 7; bit >= 0; bit--) {
			if (mask->bytes[i] & (1 << bit)) {
				if (len != i * 8 + (7 - bit))
					return -1;
				len++;
			}
		}
	return len;
}

/* Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT */
static int parse_route4_line(const char *p, const char *end, struct proc_route *r)
{
	struct rt_token t[PROCROUTE_FIELDS];
	struct addr mask;
	uint32_t dst, gw, m;
	long long metric, mtu, window, irtt, dummy;

	/* columns a later kernel might append are ignored */
	if (rt_split(p, end, t, PROCROUTE_FIELDS) < PROCROUTE_FIELDS)
		return -1;
	if (rt_hex32(&t[1], &dst) != 0 || rt_hex32(&t[2], &gw) != 0 ||
	    rt_hex32(&t[3], &r->flags) != 0 || rt_dec(&t[4], &dummy) != 0 ||
	    rt_dec(&t[5], &dummy) != 0 || rt_dec(&t[6], &metric) != 0 ||
	    rt_hex32(&t[7], &m) != 0 || rt_dec(&t[8], &mtu) != 0 ||
	    rt_dec(&t[9], &window) != 0 || rt_dec(&t[10], &irtt) != 0)
		return -1;
	r->family = AF_INET;
	rt_be32(dst, &r->dst);
	rt_be32(gw, &r->gw);
	rt_be32(m, &mask);
	if ((r->dst_len = rt_mask_len(&mask)) < 0)
		return -1;
	r->src_len = 0;
	r->metric = (uint32_t)metric;
	r->mtu = mtu > 0 ? (uint32_t)mtu : 0;
	r->window = window > 0 ? (uint32_t)window : 0;
	r->irtt = irtt > 0 ? (uint32_t)irtt : 0;
	r->dev = t[0].p;
	r->dev_len = t[0].n;
	if (r->dev_len == 1 && r->dev[0] == '*')
		r->dev_len = 0;   /* no device (blackhole, unreachable, ...) */
	return 0;
}

/* dst plen src splen nexthop metric refcnt use flags [dev]; 1: not a route */
static int parse_route6_line(const char *p, const char *end, struct proc_route *r)
{
	struct rt_token t[10];
	uint32_t plen, splen, dummy;
	int n = rt_split(p, end, t, 10);

	if (n < 9)
		return -1;   /* the device column is empty for routes without one */
	if (rt_hex128(&t[0], &r->dst) != 0 || t[1].n != 2 || rt_hex32(&t[1], &plen) != 0 ||
	    rt_hex128(&t[2], &r->src) != 0 || t[3].n != 2 || rt_hex32(&t[3], &splen) != 0 ||
	    rt_hex128(&t[4], &r->gw) != 0 || rt_hex32(&t[5], &r->metric) != 0 ||
	    rt_hex32(&t[6], &dummy) != 0 || rt_hex32(&t[7], &dummy) != 0 ||
	    rt_hex32(&t[8], &r->flags) != 0 || plen > 128 || splen > 128)
		return -1;
	r->family = AF_INET6;
	r->dst_len = (int)plen;
	r->src_len = (int)splen;
	r->mtu = r->window = r->irtt = 0;
	r->dev = n >= 10 ? t[9].p : NULL;
	r->dev_len = n >= 10 ? t[9].n : 0;
	/* The root's placeholder (fib6_null_entry: ::/0 on lo, metric ~0,
	 * reject, not up) is not a route; the netlink dump leaves it out. It
	 * ends each table without a ::/0 route. */
	if (plen == 0 && splen == 0 && r->metric == 0xffffffffu &&
	    (r->flags & (RTF_BIT_UP | RTF_BIT_REJECT)) == RTF_BIT_REJECT)
		return 1;
	return 0;
}

/* The RTF_* bits the two files may show (linux/route.h and
 * linux/ipv6_route.h), by their kernel names without the prefix. */
static const struct {
	const char *name;
	uint32_t bit;
} rtf_names[] = {
	{"UP", RTF_UP}, {"GATEWAY", RTF_GATEWAY}, {"HOST", RTF_HOST},
	{"REINSTATE", RTF_REINSTATE}, {"DYNAMIC", RTF_DYNAMIC}, {"MODIFIED", RTF_MODIFIED},
	{"MTU", RTF_MTU}, {"WINDOW", RTF_WINDOW}, {"IRTT", RTF_IRTT}, {"REJECT", RTF_REJECT},
	{"DEFAULT", RTF_DEFAULT}, {"ALLONLINK", RTF_ALLONLINK}, {"ADDRCONF", RTF_ADDRCONF},
	{"PREFIX_RT", RTF_PREFIX_RT}, {"ANYCAST", RTF_ANYCAST}, {"NONEXTHOP", RTF_NONEXTHOP},
	{"EXPIRES", RTF_EXPIRES}, {"ROUTEINFO", RTF_ROUTEINFO}, {"CACHE", RTF_CACHE},
	{"FLOW", RTF_FLOW}, {"POLICY", RTF_POLICY}, {"PCPU", RTF_PCPU}, {"LOCAL", RTF_LOCAL},
};

/* Sets rtf_flags of the record on top of the stack: the set of the names
 * of the bits in flags (a bit without a name is left out). */
static void set_rtf_flags(lua_State *L, uint32_t flags)
{
	size_t i;

	lua_createtable(L, 0, 4);
	for (i = 0; i < sizeof(rtf_names) / sizeof(rtf_names[0]); i++) {
		if (flags & rtf_names[i].bit) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, rtf_names[i].name);
		}
	}
	lua_setfield(L, -2, "rtf_flags");
}

/* Hands the routes of text[0..len) to the sink at sink_idx (a list or a
 * function), adding their number to *n; returns the number of malformed
 * lines skipped. Never reads past len. */
static lua_Integer parse_proc_routes(lua_State *L, int sink_idx, int family,
				     const char *text, size_t len, lua_Integer *n, uint32_t want,
				     int size, int nulls)
{
	struct rkeys rk;
	const char *next = text, *end = text + len, *p, *eol;
	lua_Integer skipped = 0;
	struct proc_route r;
	struct cursor line;
	int first = 1, ok;

	rkeys_push(L, &rk, want);

	for (; proc_line(&next, end, &line); first = 0) {
		p = line.p;
		eol = line.end;
		if (family == AF_INET && first && (size_t)(eol - p) >= 5 && memcmp(p, "Iface", 5) == 0)
			continue;   /* the header line */
		memset(&r, 0, sizeof(r));
		ok = family == AF_INET ? parse_route4_line(p, eol, &r) : parse_route6_line(p, eol, &r);
		if (ok > 0 && !nulls)
			continue;   /* not a route */
		if (ok < 0) {
			if (!is_blank(p, eol))
				skipped++;
			continue;
		}
		proc_route_record_push(&rk, &r, want, size);
		if (want & RF_RTF)
			set_rtf_flags(L, r.flags);
		if (ok > 0) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, "null_entry");
		}
		append(L, sink_idx, n);
	}
	rkeys_pop(&rk);
	return skipped;
}

/* core.proc_routes(session, sink, family[, want[, nulls]]) -> true,
 * skipped, count | nil, msg, errno. Hands to the sink (a list to append
 * to, or a function to call per record) the routes of /proc/net/route
 * ("inet") or /proc/net/ipv6_route ("inet6"), opened in the session's netns
 * by core.open(netns, {"proc:route", "proc:ipv6_route"}); want as for
 * core.route_dump (its rtf bit also gives each record rtf_flags, the set
 * of the RTF_* names of the flags column). With nulls true, the placeholder
 * lines of ipv6_route (fib6_null_entry) come too, marked null_entry. */
int l_proc_routes(lua_State *L)
{
	struct session *s = check_session(L, 1);
	int family = route_family_arg(L, 3);
	int pf = family == AF_INET ? PROC_ROUTE : PROC_IPV6_ROUTE;
	size_t len = 0;
	lua_Integer start = check_sink(L, 2), n = start, skipped;
	int err, size;
	uint32_t want = route_want_arg(L, 4, &size);
	int nulls = lua_toboolean(L, 5);

	lua_settop(L, 5);
	if (s->proc_fd[pf] < 0)
		return push_error(L, lua_pushfstring(L, "open /proc/net/%s", proc_file_names[pf]),
				  session_proc_errno(s, pf));
	if ((err = proc_read_all(s, s->proc_fd[pf], &len)) != 0)
		return push_error(L, lua_pushfstring(L, "read /proc/net/%s", proc_file_names[pf]),
				  err);
	skipped = parse_proc_routes(L, 2, family, s->text, len, &n, want, size, nulls);
	lua_pushboolean(L, 1);
	lua_pushinteger(L, skipped);
	lua_pushinteger(L, n - start);   /* records handed to the sink */
	return 3;
}

/* core._parse_proc_routes(text, family[, nulls]) -> list, skipped: the
 * same parser over a string, for the fixture specs. */
int l_parse_proc_routes(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	int family = route_family_arg(L, 2);
	lua_Integer skipped, n = 0;

	int nulls = lua_toboolean(L, 3);

	lua_settop(L, 2);
	lua_newtable(L);
	skipped = parse_proc_routes(L, 3, family, text, len, &n, RF_ALL, 16, nulls);
	lua_pushinteger(L, skipped);
	return 2;
}
