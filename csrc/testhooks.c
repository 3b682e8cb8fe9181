/* lnetstat.testhooks: a test-only module (built by make test, never
 * installed) that gives the specs the parsers and decoders of lnetstat.core
 * over text and bytes they supply, so that what a live kernel rarely
 * produces can be tested without root. It is linked from the same objects
 * as lnetstat.core; only luaopen_lnetstat_testhooks is exported.
 *
 * decode_rtnl(bytes, kind): the link, address and neighbour decoders over
 * recorded rtnetlink messages instead of a live dump (short STATS64, 32-bit
 * IFLA_STATS only, truncated attributes). */
#include "source/rtnl.h"
#include "api.h"

int l_decode_rtnl(lua_State *L)
{
	static const char *const kinds[] = {"link", "addr", "neigh", NULL};
	size_t len;
	const char *bytes = luaL_checklstring(L, 1, &len);
	int kind = luaL_checkoption(L, 2, NULL, kinds), remaining;
	const struct nlmsghdr *nlh;
	struct link_ctx lc;
	struct adr_ctx ac;
	struct nei_ctx nc;
	char *buf;

	/* an aligned copy, as a receive buffer would be */
	buf = (char *)lua_newuserdatauv(L, len + 4, 0);
	memcpy(buf, bytes, len);
	lua_newtable(L);
	memset(&lc, 0, sizeof(lc));
	memset(&ac, 0, sizeof(ac));
	memset(&nc, 0, sizeof(nc));
	lc.L = ac.L = nc.L = L;
	lc.list = ac.list = nc.list = lua_gettop(L);
	nc.hz = 100;
	remaining = (int)len;
	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, remaining);
	     nlh = mnl_nlmsg_next(nlh, &remaining)) {
		switch (kind) {
		case 0: (void)link_msg_cb(nlh, &lc); break;
		case 1: (void)adr_msg_cb(nlh, &ac); break;
		default: (void)nei_msg_cb(nlh, &nc); break;
		}
	}
	lua_pushinteger(L, remaining);   /* trailing bytes that are no message */
	return 2;
}

static const luaL_Reg testhook_funcs[] = {
	{"_parse_proc_routes", l_parse_proc_routes},
	{"_addr_ntop", l_addr_ntop},
	{"_parse_proc", l_parse_proc_sockets},
	{"_parse_snmp", l_parse_snmp},
	{"_parse_snmp6", l_parse_snmp6},
	{"_parse_sockstat", l_parse_sockstat},
	{"_parse_igmp", l_parse_igmp},
	{"_parse_igmp6", l_parse_igmp6},
	{"_parse_proc_dev", l_parse_proc_dev},
	{"_parse_if_inet6", l_parse_if_inet6},
	{"_parse_proc_arp", l_parse_proc_arp},
	{"_decode_rtnl", l_decode_rtnl},
	{NULL, NULL}
};

__attribute__((visibility("default")))
int luaopen_lnetstat_testhooks(lua_State *L);

int luaopen_lnetstat_testhooks(lua_State *L)
{
#if LUA_VERSION_NUM >= 502
	luaL_checkversion(L);
#endif
	lua_newtable(L);
	luaL_setfuncs(L, testhook_funcs, 0);
	lua_pushliteral(L, LNETSTAT_VERSION);
	lua_setfield(L, -2, "_VERSION");
	lua_pushliteral(L, "lnetstat.testhooks");
	lua_setfield(L, -2, "_NAME");
	return 1;
}
