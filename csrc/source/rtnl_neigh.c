/* RTM_GETNEIGH: the ARP and NDP neighbour tables (or the proxy entries).
 * The decoder reads one message into a struct neigh_rec; record/neigh.c
 * makes the record. */
#include "source/rtnl.h"
#include "source/proc.h"
#include "nl/nl.h"
#include "text/text.h"
#include "record/push.h"
#include "record/neigh.h"
#include "api.h"

#include <linux/rtnetlink.h>
#include <linux/neighbour.h>

/* The facts of one RTM_NEWNEIGH message; 0 when it is no neighbour of
 * AF_INET or AF_INET6 or is malformed. */
static int nei_decode(const struct nlmsghdr *nlh, struct neigh_rec *r)
{
	const struct nlattr *tb[LK_TB];
	const struct ndmsg *ndm;
	const struct nlattr *ll;

	if ((ndm = (const struct ndmsg *)nl_msg_hdr(nlh, RTM_NEWNEIGH, sizeof(*ndm))) == NULL)
		return 0;
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return 0;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ndm), tb, LK_TB) < 0)
		return 0;
	memset(r, 0, sizeof(*r));
	r->family = ndm->ndm_family;
	r->dst = nl_attr_min(tb[NDA_DST], r->family == AF_INET ? 4 : 16);
	if (r->dst == NULL)
		return 0;
	if ((ll = tb[NDA_LLADDR]) != NULL && mnl_attr_get_payload_len(ll) > 0) {
		r->lladdr = (const unsigned char *)mnl_attr_get_payload(ll);
		r->lladdr_len = mnl_attr_get_payload_len(ll);
	}
	r->ifindex = ndm->ndm_ifindex;
	r->state = ndm->ndm_state;
	r->flags = ndm->ndm_flags;
	r->has_probes = nl_attr_u32(tb[NDA_PROBES], &r->probes);
	r->has_cacheinfo = nl_attr_copy(tb[NDA_CACHEINFO], &r->ci, sizeof(r->ci));
	return 1;
}

int nei_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nei_ctx *c = (struct nei_ctx *)data;
	struct neigh_rec r;

	if (nei_decode(nlh, &r)) {
		r.hz = c->hz;
		if (r.ifindex > 0)
			r.ifname = session_ifname(c->s, (uint32_t)r.ifindex);
		neigh_record_push(c->L, &r);
		append(c->L, c->list, &c->n);
	}
	return 0;
}

/* core.neighs(session [, family [, proxy]]) -> list, interrupted
 * | nil, msg, errno. family "inet" | "inet6" | nil (both); proxy true: the
 * proxy entries (ip neigh show proxy) instead of the neighbour cache. */
int l_neighs(lua_State *L)
{
	struct session *s = check_session(L, 1);
	struct ndmsg ndm;
	struct nei_ctx c;

	memset(&ndm, 0, sizeof(ndm));
	if (!lua_isnoneornil(L, 2))
		ndm.ndm_family = (unsigned char)route_family_arg(L, 2);
	if (lua_toboolean(L, 3))
		ndm.ndm_flags = NTF_PROXY;
	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = s;
	c.list = 4;   /* the list rtnl_list pushes above the 3 arguments */
	c.hz = user_hz();
	return rtnl_list(L, s, 3, RTM_GETNEIGH, "RTM_GETNEIGH", &ndm, sizeof(ndm), nei_msg_cb, &c);
}
