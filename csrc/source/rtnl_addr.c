/* RTM_GETADDR: IPv4 and IPv6 interface addresses as records.
 *
 * IFA_LOCAL and IFA_ADDRESS are normalised as `ip` does: a missing LOCAL
 * takes ADDRESS and vice versa; the record's addr is LOCAL, and ADDRESS is
 * the peer when it differs (point-to-point). IFA_FLAGS (u32) wins over the
 * u8 ifa_flags of the header. */
#include "source/rtnl.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/attr.h"
#include "api.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

/* IFA_* attribute numbers newer than some headers. */
enum { ADR_IFA_RT_PRIORITY = 9, ADR_IFA_PROTO = 11 };

/* IFA_F_* bit names (kernel spelling, lowercase). IFA_F_SECONDARY is
 * "temporary" on IPv6 (IFA_F_TEMPORARY), as ip prints it. */
static const struct { uint32_t bit; const char *name; } adr_flag_names[] = {
	{0x01, "secondary"}, {0x02, "nodad"}, {0x04, "optimistic"},
	{0x08, "dadfailed"}, {0x10, "homeaddress"}, {0x20, "deprecated"},
	{0x40, "tentative"}, {0x80, "permanent"}, {0x100, "managetempaddr"},
	{0x200, "noprefixroute"}, {0x400, "mcautojoin"}, {0x800, "stable-privacy"},
};

/* flags = { name = true, ... } and flag_bits = the raw number. */
void adr_set_flags(lua_State *L, int family, uint32_t flags)
{
	size_t i;

	set_int(L, "flag_bits", flags);
	lua_createtable(L, 0, 4);
	for (i = 0; i < sizeof(adr_flag_names) / sizeof(adr_flag_names[0]); i++) {
		if (!(flags & adr_flag_names[i].bit))
			continue;
		if (adr_flag_names[i].bit == 0x01 && family == AF_INET6)
			set_bool(L, "temporary", 1);
		else
			set_bool(L, adr_flag_names[i].name, 1);
	}
	lua_setfield(L, -2, "flags");
}

/* RT_SCOPE_* names; other values as their decimal text. */
static void adr_set_scope(lua_State *L, unsigned int scope)
{
	char buf[8];

	switch (scope) {
	case 0: set_str(L, "scope", "global"); break;
	case 200: set_str(L, "scope", "site"); break;
	case 253: set_str(L, "scope", "link"); break;
	case 254: set_str(L, "scope", "host"); break;
	case 255: set_str(L, "scope", "nowhere"); break;
	default:
		snprintf(buf, sizeof(buf), "%u", scope);
		set_str(L, "scope", buf);
	}
}

/* An address attribute of the family's size, as text; 0 if malformed. */
static int adr_text(const struct nlattr *a, int family, char *out, size_t size)
{
	size_t want = family == AF_INET ? 4 : 16;

	if (a == NULL || mnl_attr_get_payload_len(a) < want)
		return 0;
	return inet_ntop(family, mnl_attr_get_payload(a), out, (socklen_t)size) != NULL;
}

/* The address, its prefix length and "addr/len"; shared with the
 * /proc/net/if_inet6 parser. */
void adr_set_addr(lua_State *L, const char *text, unsigned int prefixlen)
{
	set_str(L, "addr", text);
	set_int(L, "prefixlen", prefixlen);
	lua_pushfstring(L, "%s/%d", text, (int)prefixlen);
	lua_setfield(L, -2, "cidr");
}


static void adr_set_lifetimes(lua_State *L, const struct nlattr *a)
{
	struct ifa_cacheinfo ci;

	if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(ci))
		return;
	memcpy(&ci, mnl_attr_get_payload(a), sizeof(ci));
	set_int(L, "valid_lft", ci.ifa_valid);
	set_bool(L, "valid_forever", ci.ifa_valid == 0xFFFFFFFFu);
	set_int(L, "preferred_lft", ci.ifa_prefered);
	set_bool(L, "preferred_forever", ci.ifa_prefered == 0xFFFFFFFFu);
	/* hundredths of a second since boot */
	set_int(L, "created_cs", ci.cstamp);
	set_int(L, "updated_cs", ci.tstamp);
}

int adr_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct adr_ctx *c = (struct adr_ctx *)data;
	lua_State *L = c->L;
	const struct nlattr *tb[LK_TB];
	const struct nlattr *local, *address;
	const struct ifaddrmsg *ifa;
	char ltext[INET6_ADDRSTRLEN], ptext[INET6_ADDRSTRLEN];
	const char *ifname;
	uint32_t flags;
	uint8_t proto;
	int family;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	ifa = (const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh);
	family = ifa->ifa_family;
	if ((family != AF_INET && family != AF_INET6) ||
	    (c->index != 0 && ifa->ifa_index != c->index))
		return 0;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ifa), tb, LK_TB) < 0)
		return 0;
	local = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	address = tb[IFA_ADDRESS] != NULL ? tb[IFA_ADDRESS] : tb[IFA_LOCAL];
	if (!adr_text(local, family, ltext, sizeof(ltext)) ||
	    !adr_text(address, family, ptext, sizeof(ptext)))
		return 0;   /* no address, or a malformed one */

	lua_createtable(L, 0, 20);
	set_str(L, "family", family_name(family));
	adr_set_addr(L, ltext, ifa->ifa_prefixlen);
	if (memcmp(mnl_attr_get_payload(local), mnl_attr_get_payload(address),
		   family == AF_INET ? 4 : 16) != 0)
		set_str(L, "peer", ptext);
	if (adr_text(tb[IFA_BROADCAST], family, ptext, sizeof(ptext)))
		set_str(L, "broadcast", ptext);
	if (adr_text(tb[IFA_ANYCAST], family, ptext, sizeof(ptext)))
		set_str(L, "anycast", ptext);
	adr_set_scope(L, ifa->ifa_scope);
	attr_set_str(L, "label", tb[IFA_LABEL]);
	if (!nl_attr_u32(tb[IFA_FLAGS], &flags))
		flags = ifa->ifa_flags;
	adr_set_flags(L, family, flags);
	adr_set_lifetimes(L, tb[IFA_CACHEINFO]);
	attr_set_u32(L, "metric", tb[ADR_IFA_RT_PRIORITY]);
	if (nl_attr_u8(tb[ADR_IFA_PROTO], &proto))
		set_int(L, "proto", proto);
	set_int(L, "index", ifa->ifa_index);
	if ((ifname = session_ifname(c->s, ifa->ifa_index)) != NULL)
		set_str(L, "interface", ifname);
	append(L, c->list, &c->n);
	return 0;
}

/* core.addrs(session [, family [, index]]) -> list, interrupted
 * | nil, msg, errno. family "inet" or "inet6" (the kernel dumps only that
 * family), nil: both; index: only that interface's (filtered here: the
 * kernel honours ifa_index only under strict checking). */
int l_addrs(lua_State *L)
{
	static const char *const families[] = {"inet", "inet6", NULL};
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct session *s = check_session(L, 1);
	int family = AF_UNSPEC;
	lua_Integer index = luaL_optinteger(L, 3, 0);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct nl_result res;
	struct adr_ctx c;
	int err;

	if (!lua_isnoneornil(L, 2))
		family = luaL_checkoption(L, 2, NULL, families) ? AF_INET6 : AF_INET;
	luaL_argcheck(L, index >= 0 && index <= 0x7fffffff, 3, "interface index expected");
	if (s->route.nl == NULL)
		return push_error(L, "RTM_GETADDR", ENOTCONN);
	/* Names first: session_ifname may dump links, which must not happen
	 * in the middle of this dump on the same socket. */
	(void)session_ifname(s, 1);
	lua_settop(L, 3);
	lua_newtable(L);
	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = s;
	c.list = lua_gettop(L);
	c.index = (uint32_t)index;

	memset(req, 0, sizeof(req));   /* attribute padding goes out too */
	ifa = (struct ifaddrmsg *)nl_put_request(req, &nlh, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP,
					sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	err = nl_request(&s->route, nlh, adr_msg_cb, &c, &res);
	if (err != 0)
		return push_error(L, "RTM_GETADDR", err);
	lua_pushboolean(L, res.interrupted);
	return 2;
}
