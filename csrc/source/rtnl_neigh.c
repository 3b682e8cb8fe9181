/* RTM_GETNEIGH: the ARP and NDP neighbour tables (or the proxy entries)
 * as records. */
#include "source/rtnl.h"
#include "nl/nl.h"
#include "text/text.h"
#include "record/push.h"
#include "record/attr.h"
#include "api.h"

#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>

/* NUD_* bits in the order ip prints them. */
static const struct { unsigned int bit; const char *name; } nei_state_names[] = {
	{0x01, "INCOMPLETE"}, {0x02, "REACHABLE"}, {0x04, "STALE"}, {0x08, "DELAY"},
	{0x10, "PROBE"}, {0x20, "FAILED"}, {0x40, "NOARP"}, {0x80, "PERMANENT"},
};

/* state: the NUD state (the first bit in ip's order when several are set,
 * "NONE" when none); states: every set bit's name, as ip -j lists them. */
static void nei_set_state(lua_State *L, unsigned int state)
{
	const char *first = NULL;
	lua_Integer n = 0;
	size_t i;

	set_int(L, "state_bits", state);
	lua_createtable(L, 1, 0);
	for (i = 0; i < sizeof(nei_state_names) / sizeof(nei_state_names[0]); i++) {
		if (!(state & nei_state_names[i].bit))
			continue;
		if (first == NULL)
			first = nei_state_names[i].name;
		lua_pushstring(L, nei_state_names[i].name);
		lua_rawseti(L, -2, (int)++n);
	}
	lua_setfield(L, -2, "states");
	set_str(L, "state", first != NULL ? first : "NONE");
}


static uint64_t nei_ms(uint32_t ticks, long hz)
{
	return (uint64_t)ticks * 1000 / (uint64_t)hz;
}

int nei_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nei_ctx *c = (struct nei_ctx *)data;
	lua_State *L = c->L;
	const struct nlattr *tb[LK_TB];
	const struct ndmsg *ndm;
	char text[INET6_ADDRSTRLEN];
	struct nda_cacheinfo ci;
	const char *ifname;
	size_t want;
	int family;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return 0;
	ndm = (const struct ndmsg *)mnl_nlmsg_get_payload(nlh);
	family = ndm->ndm_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ndm), tb, LK_TB) < 0)
		return 0;
	want = family == AF_INET ? 4 : 16;
	if (tb[NDA_DST] == NULL || mnl_attr_get_payload_len(tb[NDA_DST]) < want ||
	    inet_ntop(family, mnl_attr_get_payload(tb[NDA_DST]), text, sizeof(text)) == NULL)
		return 0;

	lua_createtable(L, 0, 16);
	set_str(L, "family", family_name(family));
	set_str(L, "addr", text);
	attr_set_hw(L, "mac", tb[NDA_LLADDR]);   /* none while INCOMPLETE/FAILED */
	if (ndm->ndm_ifindex > 0) {
		set_int(L, "ifindex", ndm->ndm_ifindex);
		if ((ifname = session_ifname(c->s, (uint32_t)ndm->ndm_ifindex)) != NULL)
			set_str(L, "interface", ifname);
	}
	nei_set_state(L, ndm->ndm_state);   /* proxy entries: NUD_NONE */
	set_bool(L, "router", (ndm->ndm_flags & NTF_ROUTER) != 0);
	set_bool(L, "proxy", (ndm->ndm_flags & NTF_PROXY) != 0);
	if (ndm->ndm_flags & NTF_EXT_LEARNED)
		set_bool(L, "extern_learn", 1);
	set_int(L, "flag_bits", ndm->ndm_flags);
	attr_set_u32(L, "probes", tb[NDA_PROBES]);
	if (tb[NDA_CACHEINFO] != NULL && mnl_attr_get_payload_len(tb[NDA_CACHEINFO]) >= sizeof(ci)) {
		memcpy(&ci, mnl_attr_get_payload(tb[NDA_CACHEINFO]), sizeof(ci));
		set_u64(L, "used_ms", nei_ms(ci.ndm_used, c->hz));
		set_u64(L, "confirmed_ms", nei_ms(ci.ndm_confirmed, c->hz));
		set_u64(L, "updated_ms", nei_ms(ci.ndm_updated, c->hz));
		set_int(L, "refcnt", ci.ndm_refcnt);
	}
	append(L, c->list, &c->n);
	return 0;
}

/* core.neighs(session [, family [, proxy]]) -> list, interrupted
 * | nil, msg, errno. family "inet" | "inet6" | nil (both); proxy true: the
 * proxy entries (ip neigh show proxy) instead of the neighbour cache. */
int l_neighs(lua_State *L)
{
	static const char *const families[] = {"inet", "inet6", NULL};
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct session *s = check_session(L, 1);
	int family = AF_UNSPEC, proxy = lua_toboolean(L, 3);
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	struct nl_result res;
	struct nei_ctx c;
	int err;

	if (!lua_isnoneornil(L, 2))
		family = luaL_checkoption(L, 2, NULL, families) ? AF_INET6 : AF_INET;
	if (s->route.nl == NULL)
		return push_error(L, "RTM_GETNEIGH", ENOTCONN);
	(void)session_ifname(s, 1);   /* load names before the dump (same socket) */
	lua_settop(L, 3);
	lua_newtable(L);
	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = s;
	c.list = lua_gettop(L);
	c.hz = user_hz();

	memset(req, 0, sizeof(req));   /* attribute padding goes out too */
	ndm = (struct ndmsg *)nl_put_request(req, &nlh, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP,
					sizeof(*ndm));
	ndm->ndm_family = (unsigned char)family;
	if (proxy)
		ndm->ndm_flags = NTF_PROXY;
	err = nl_request(&s->route, nlh, nei_msg_cb, &c, &res);
	if (err != 0)
		return push_error(L, "RTM_GETNEIGH", err);
	lua_pushboolean(L, res.interrupted);
	return 2;
}
