/* RTM_GETNSID: the id the current network namespace gives another one
 * (the "(id: N)" of ip netns list). */
#include "nl/nl.h"
#include "record/push.h"
#include "api.h"

#include <unistd.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

struct nsid_ctx {
	int found;
	int32_t nsid;
};

static int nsid_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nsid_ctx *c = (struct nsid_ctx *)data;
	const struct nlattr *a;

	if (nl_msg_hdr(nlh, RTM_NEWNSID, sizeof(struct rtgenmsg)) == NULL)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg)) {
		if (mnl_attr_get_type(a) == NETNSA_NSID &&
		    nl_attr_copy(a, &c->nsid, sizeof(c->nsid)))
			c->found = 1;
	}
	return 0;
}

/* core.netns_nsid(session, path) -> nsid | false | nil, msg, errno
 * The id the session's namespace gives the namespace of the nsfs file at
 * path; false when it has none (NETNSA_NSID_NOT_ASSIGNED). A path that is
 * no network namespace: nil, "netns 'PATH': not a network namespace",
 * ENOENT, as core.open says it. */
int l_netns_nsid(lua_State *L)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct session *s = check_session(L, 1);
	const char *path = check_text(L, 2, "path", NULL);
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	struct nl_result res;
	struct nsid_ctx c;
	int fd, err;

	if (s->route.nl == NULL)
		return luaL_argerror(L, 1, "session has no route socket");
	/* never a blocking open(): path may name a FIFO (nl/session.c) */
	fd = netns_open(path);
	if (fd < 0)
		return push_netns_error(L, path, fd);
	memset(buf, 0, sizeof(buf));
	g = (struct rtgenmsg *)nl_put_request(buf, &nlh, RTM_GETNSID, NLM_F_REQUEST,
					sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)fd);
	memset(&c, 0, sizeof(c));
	err = nl_request(&s->route, nlh, nsid_msg_cb, &c, &res);
	close(fd);
	if (err != 0)
		return push_error(L, lua_pushfstring(L, "RTM_GETNSID %s", path), err);
	if (!c.found)
		return push_error(L, lua_pushfstring(L, "RTM_GETNSID %s", path), EBADMSG);
	if (c.nsid < 0)
		lua_pushboolean(L, 0);
	else
		lua_pushinteger(L, c.nsid);
	return 1;
}
