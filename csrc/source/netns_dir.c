/* The named network namespaces: the entries of /var/run/netns, what
 * `ip netns list` shows. */
#include "source/dirbox.h"
#include "record/push.h"
#include "api.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define NETNS_RUN_DIR "/var/run/netns"

/* core.netns_list([dir]) -> list | nil, msg, errno
 * The entries of dir (default /var/run/netns): {name=, path=, id=,
 * current=}. id is the inode of the nsfs file (two names of one netns share
 * it); an entry that is not a mounted netns (left over after a crash) has
 * no id. No directory: an empty list. */
int l_netns_list(lua_State *L)
{
	const char *arg = opt_text(L, 1, "directory", NULL);
	const char *dir = arg != NULL ? arg : NETNS_RUN_DIR;
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
		/* saved first: lua_pushfstring may run finalizers, which may
		 * set errno (and an argument's order is unspecified) */
		int err = errno;

		if (err == ENOENT) {
			lua_settop(L, list);
			return 1;
		}
		return push_error(L, lua_pushfstring(L, "opendir %s", dir), err);
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
