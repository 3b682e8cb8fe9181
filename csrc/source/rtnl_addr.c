/* RTM_GETADDR: IPv4 and IPv6 interface addresses. The decoder reads one
 * message into a struct addr_rec; record/addr.c makes the record.
 *
 * IFA_LOCAL and IFA_ADDRESS are normalised as `ip` does: a missing LOCAL
 * takes ADDRESS and vice versa; the record's addr is LOCAL, and ADDRESS is
 * the peer when it differs (point-to-point). IFA_FLAGS (u32) wins over the
 * u8 ifa_flags of the header. */
#include "source/rtnl.h"
#include "source/proc.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/addr.h"
#include "api.h"

#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

/* IFA_* attribute numbers newer than some headers. */
enum { ADR_IFA_RT_PRIORITY = 9, ADR_IFA_PROTO = 11 };

/* The facts of one RTM_NEWADDR message; 0 when it is no address of
 * AF_INET or AF_INET6, is malformed, or belongs to another interface than
 * index (0: any). */
static int adr_decode(const struct nlmsghdr *nlh, uint32_t index, struct addr_rec *r)
{
	const struct nlattr *tb[LK_TB];
	const struct ifaddrmsg *ifa;
	size_t alen;

	if ((ifa = (const struct ifaddrmsg *)nl_msg_hdr(nlh, RTM_NEWADDR, sizeof(*ifa))) == NULL)
		return 0;
	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    (index != 0 && ifa->ifa_index != index))
		return 0;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ifa), tb, LK_TB) < 0)
		return 0;
	memset(r, 0, sizeof(*r));
	r->family = ifa->ifa_family;
	alen = r->family == AF_INET ? 4 : 16;
	r->local = nl_attr_min(tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], alen);
	r->address = nl_attr_min(tb[IFA_ADDRESS] != NULL ? tb[IFA_ADDRESS] : tb[IFA_LOCAL], alen);
	if (r->local == NULL || r->address == NULL)
		return 0;   /* no address, or a malformed one */
	r->broadcast = nl_attr_min(tb[IFA_BROADCAST], alen);
	r->anycast = nl_attr_min(tb[IFA_ANYCAST], alen);
	r->prefixlen = ifa->ifa_prefixlen;
	r->scope = ifa->ifa_scope;
	r->label = nl_attr_str(tb[IFA_LABEL]);
	if (!nl_attr_u32(tb[IFA_FLAGS], &r->flags))
		r->flags = ifa->ifa_flags;
	r->has_cacheinfo = nl_attr_copy(tb[IFA_CACHEINFO], &r->ci, sizeof(r->ci));
	r->has_metric = nl_attr_u32(tb[ADR_IFA_RT_PRIORITY], &r->metric);
	r->has_proto = nl_attr_u8(tb[ADR_IFA_PROTO], &r->proto);
	r->index = ifa->ifa_index;
	return 1;
}

int adr_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct adr_ctx *c = (struct adr_ctx *)data;
	struct addr_rec r;

	if (!adr_decode(nlh, c->index, &r))
		return 0;
	r.ifname = session_ifname(c->s, r.index);
	addr_record_push(c->L, &r);
	append(c->L, c->list, &c->n);
	return 0;
}

/* core.addrs(session [, family [, index]]) -> list, interrupted
 * | nil, msg, errno. family "inet" or "inet6" (the kernel dumps only that
 * family), nil: both; index: only that interface's (filtered here: the
 * kernel honours ifa_index only under strict checking). */
int l_addrs(lua_State *L)
{
	struct session *s = check_session(L, 1);
	lua_Integer index = luaL_optinteger(L, 3, 0);
	struct ifaddrmsg ifa;
	struct adr_ctx c;

	memset(&ifa, 0, sizeof(ifa));
	if (!lua_isnoneornil(L, 2))
		ifa.ifa_family = (unsigned char)route_family_arg(L, 2);
	luaL_argcheck(L, index >= 0 && index <= 0x7fffffff, 3, "interface index expected");
	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = s;
	c.list = 4;   /* the list rtnl_list pushes above the 3 arguments */
	c.index = (uint32_t)index;
	return rtnl_list(L, s, 3, RTM_GETADDR, "RTM_GETADDR", &ifa, sizeof(ifa), adr_msg_cb, &c);
}
