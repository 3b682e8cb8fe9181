/* core._decode_rtnl(bytes, kind): the link, address and neighbour decoders
 * over recorded rtnetlink messages instead of a live dump, so that the
 * specs can feed them what a live kernel rarely sends (short STATS64,
 * 32-bit IFLA_STATS only, truncated attributes) without root. */
#include "lnetstat.h"

static int l_decode_rtnl(lua_State *L)
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
