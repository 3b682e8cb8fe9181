/* RTM_GETLINK: interface names by index, read in the session's own netns
 * (if_indextoname would answer for the calling thread's netns instead). */
#include "lnetstat.h"

#include <stdlib.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>

struct ifname_ctx {
	struct ifname_map *map;
	int err;
};

static int ifname_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = (const struct nlattr **)data;
	int type = mnl_attr_get_type(attr);

	if (type == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		tb[IFLA_IFNAME] = attr;
	return MNL_CB_OK;
}

static int ifname_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifname_ctx *c = (struct ifname_ctx *)data;
	struct ifname_map *m = c->map;
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	ifi = (const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*ifi), ifname_attr_cb, tb) < 0 ||
	    tb[IFLA_IFNAME] == NULL || ifi->ifi_index <= 0)
		return 0;
	if ((uint32_t)ifi->ifi_index >= m->count) {
		uint32_t count = (uint32_t)ifi->ifi_index + 16;
		char (*p)[IF_NAMESIZE] = realloc(m->names, (size_t)count * IF_NAMESIZE);

		if (p == NULL)
			return -ENOMEM;
		memset(p + m->count, 0, (size_t)(count - m->count) * IF_NAMESIZE);
		m->names = p;
		m->count = count;
	}
	snprintf(m->names[ifi->ifi_index], IF_NAMESIZE, "%s",
		 mnl_attr_get_str(tb[IFLA_IFNAME]));
	return 0;
}

/* Loads the whole index->name table once per session; no Lua calls. */
static int ifnames_load(struct session *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct ifname_ctx ctx;
	struct nl_result res;
	int err, tries;

	if (s->route.nl == NULL)
		return -ENOTCONN;
	ctx.map = &s->ifnames;
	ctx.err = 0;
	/* A link added or removed mid-dump flags it interrupted: retry. */
	for (tries = 0; tries < 5; tries++) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		ifi = (struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		err = nl_request(&s->route, nlh, ifname_msg_cb, &ctx, &res);
		if (err != 0 || !res.interrupted)
			break;
	}
	return err;
}

static const char *session_ifname(struct session *s, uint32_t index)
{
	if (s == NULL)
		return NULL;   /* parsing text without a session (fixture specs) */
	if (!s->ifnames.loaded) {
		s->ifnames.loaded = 1;
		(void)ifnames_load(s);
	}
	if (index < s->ifnames.count && s->ifnames.names[index][0] != '\0')
		return s->ifnames.names[index];
	return NULL;
}
