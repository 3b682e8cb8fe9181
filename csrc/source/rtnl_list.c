/* The request every rtnetlink list function (addresses, neighbours) sends
 * the same way: one dump on the session's route socket. */
#include "source/rtnl.h"
#include "nl/nl.h"
#include "record/push.h"

int rtnl_list(lua_State *L, struct session *s, int nargs, uint16_t type, const char *what,
	      const void *hdr, size_t hdr_size, nl_msg_cb cb, void *ctx)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nl_result res;
	void *h;
	int err;

	if (s->route.nl == NULL)
		return push_error(L, what, ENOTCONN);
	/* Names first: session_ifname may dump links, which must not happen
	 * in the middle of this dump on the same socket. */
	(void)session_ifname(s, 1);
	lua_settop(L, nargs);
	lua_newtable(L);
	memset(req, 0, sizeof(req));   /* attribute padding goes out too */
	h = nl_put_request(req, &nlh, type, NLM_F_REQUEST | NLM_F_DUMP, hdr_size);
	memcpy(h, hdr, hdr_size);
	err = nl_request(&s->route, nlh, cb, ctx, &res);
	if (err != 0)
		return push_error(L, what, err);
	lua_pushboolean(L, res.interrupted);
	return 2;
}
