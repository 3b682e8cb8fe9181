/* The named network namespaces (/var/run/netns, what `ip netns list`
 * shows) and the id the current namespace gives each of them (RTM_GETNSID,
 * the "(id: N)" of ip netns list). */
#include "lnetstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define NETNS_RUN_DIR "/var/run/netns"

/* core.netns_list([dir]) -> list | nil, msg, errno
 * The entries of dir (default /var/run/netns): {name=, path=, id=,
 * current=}. id is the inode of the nsfs file (two names of one netns share
 * it); an entry that is not a mounted netns (left over after a crash) has
 * no id. No directory: an empty list. */
static int l_netns_list(lua_State *L)
{
	const char *dir = luaL_optstring(L, 1, NETNS_RUN_DIR);
	struct dirbox *b;
	struct dirent *e;
	struct stat self, st;
	struct statfs fs;
	char path[PATH_MAX];
	int have_self, is_ns, list;
	lua_Integer n = 0;

	lua_settop(L, 1);
	lua_newtable(L);
	list = lua_gettop(L);
	have_self = stat("/proc/thread-self/ns/net", &self) == 0;
	/* The DIR lives in a userdata, so a Lua error while records are
	 * built still closes it (__gc). */
	b = (struct dirbox *)lua_newuserdatauv(L, sizeof(*b), 0);
	b->proc = b->fds = NULL;
	luaL_getmetatable(L, DIRBOX_MT);
	lua_setmetatable(L, -2);
	b->proc = opendir(dir);
	if (b->proc == NULL) {
		if (errno == ENOENT) {
			lua_settop(L, list);
			return 1;
		}
		return push_error(L, lua_pushfstring(L, "opendir %s", dir), errno);
	}
	while ((e = readdir(b->proc)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		/* A name left over after a crash (the bind mount gone) is an
		 * empty file on tmpfs, not an nsfs inode. */
		is_ns = stat(path, &st) == 0 && statfs(path, &fs) == 0 &&
			(unsigned long)fs.f_type == (unsigned long)NSFS_MAGIC;
		lua_createtable(L, 0, 4);
		set_str(L, "name", e->d_name);
		set_str(L, "path", path);
		if (is_ns)
			set_u64(L, "id", (unsigned long long)st.st_ino);
		set_bool(L, "current", is_ns && have_self &&
			 st.st_dev == self.st_dev && st.st_ino == self.st_ino);
		lua_rawseti(L, list, (int)++n);
	}
	closedir(b->proc);
	b->proc = NULL;
	lua_settop(L, list);
	return 1;
}

struct nsid_ctx {
	int found;
	int32_t nsid;
};

static int nsid_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nsid_ctx *c = (struct nsid_ctx *)data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNSID ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtgenmsg)))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg)) {
		if (mnl_attr_get_type(a) == NETNSA_NSID &&
		    mnl_attr_get_payload_len(a) >= sizeof(int32_t)) {
			memcpy(&c->nsid, mnl_attr_get_payload(a), sizeof(int32_t));
			c->found = 1;
		}
	}
	return 0;
}

/* core.netns_nsid(session, path) -> nsid | false | nil, msg, errno
 * The id the session's namespace gives the namespace of the nsfs file at
 * path; false when it has none (NETNSA_NSID_NOT_ASSIGNED). */
static int l_netns_nsid(lua_State *L)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct session *s = check_session(L, 1);
	const char *path = luaL_checkstring(L, 2);
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	struct nl_result res;
	struct nsid_ctx c;
	int fd, err;

	if (s->route.nl == NULL)
		return luaL_argerror(L, 1, "session has no route socket");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return push_error(L, lua_pushfstring(L, "open %s", path), errno);
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNSID;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = (struct rtgenmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
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
