/* Socket inode -> owning processes, by walking /proc/PID/fd (what ss -p and
 * netstat -p do), and uid -> user name. */
#include "record/class.h"
#include "record/push.h"
#include "source/dirbox.h"
#include "api.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int dirbox_close(lua_State *L)
{
	struct dirbox *b = (struct dirbox *)luaL_checkudata(L, 1, DIRBOX_MT);

	if (b->fds != NULL)
		closedir(b->fds);
	if (b->proc != NULL)
		closedir(b->proc);
	b->fds = b->proc = NULL;
	return 0;
}

void procfd_register(lua_State *L)
{
	class_register(L, DIRBOX_MT, dirbox_close, NULL, NULL);
}

static int parse_pid(const char *name)
{
	long v = 0;

	if (*name == '\0')
		return -1;
	for (; *name; name++) {
		if (*name < '0' || *name > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*name - '0');
	}
	return (int)v;
}

/* Reads a small /proc/PID file into out (NUL-terminated); returns length or -1. */
static ssize_t read_small(int dirfd_, const char *name, char *out, size_t size)
{
	ssize_t n;
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return n;
}

/* Sets program (comm, as ss shows it) and argv0 (the first word of the
 * command line, up to its NUL) on the process table on top of the stack.
 * What netstat prints (its "command") is derived from argv0 in Lua. */
static void push_names(lua_State *L, DIR *proc, int pid)
{
	char path[32], buf[4096];
	ssize_t n;
	int pfd;

	snprintf(path, sizeof(path), "%d", pid);
	pfd = openat(dirfd(proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return;
	n = read_small(pfd, "comm", buf, sizeof(buf));
	if (n > 0) {
		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		lua_pushlstring(L, buf, (size_t)n);
		lua_setfield(L, -2, "program");
	}
	n = read_small(pfd, "cmdline", buf, sizeof(buf));
	close(pfd);
	if (n > 0 && buf[0] != '\0') {
		lua_pushstring(L, buf);   /* argv[0] ends at the first NUL */
		lua_setfield(L, -2, "argv0");
	}
}

/* The socket inodes a scan looks for: an open-addressing set sized by the
 * records that name them (twice their number, a power of two), in a
 * userdata so that a Lua error cannot leak it. 0 marks a free slot (no
 * socket has inode 0). */
struct inode_set {
	size_t mask;
	uint64_t slot[1];
};

static size_t inode_hash(uint64_t inode, size_t mask)
{
	return (size_t)((inode * 0x9e3779b97f4a7c15ull) >> 17) & mask;
}

/* The slot that holds inode, or the free slot where it would go. */
static uint64_t *inode_slot(struct inode_set *set, uint64_t inode)
{
	size_t i = inode_hash(inode, set->mask);

	while (set->slot[i] != 0 && set->slot[i] != inode)
		i = (i + 1) & set->mask;
	return &set->slot[i];
}

/* Marks a slot whose inode has been found, in a scan that wants one owner
 * per socket. The slot stays non-zero, so the probe chains through it hold;
 * no inode the scan parses equals it (those above INT64_MAX are skipped:
 * records hold inodes as Lua integers). */
#define INODE_FOUND UINT64_MAX

/* Adds inode; returns 1 when it was not there yet. */
static int inode_set_add(struct inode_set *set, uint64_t inode)
{
	uint64_t *slot = inode_slot(set, inode);

	if (*slot != 0)
		return 0;
	*slot = inode;
	return 1;
}

/* Pushes the set of the inode fields of the records in the list at idx
 * (records without one are skipped) and returns it; *count: the distinct
 * inodes. */
static struct inode_set *push_inode_set(lua_State *L, int idx, size_t *count)
{
	size_t n = (size_t)lua_rawlen(L, idx), slots = 16, i;
	struct inode_set *set;

	while (slots / 2 < n) {
		if (slots > ((size_t)-1 - sizeof(*set)) / (2 * sizeof(uint64_t)))
			luaL_error(L, "owners: too many sockets");
		slots *= 2;
	}
	set = (struct inode_set *)lua_newuserdatauv(L, sizeof(*set) + (slots - 1) * sizeof(uint64_t), 0);
	memset(set->slot, 0, slots * sizeof(uint64_t));
	set->mask = slots - 1;
	*count = 0;
	for (i = 1; i <= n; i++) {
		lua_Integer inode = 0;

		lua_rawgeti(L, idx, (int)i);
		if (lua_type(L, -1) == LUA_TTABLE) {
			lua_getfield(L, -1, "inode");
			if (lua_type(L, -1) == LUA_TNUMBER)
				inode = lua_tointeger(L, -1);
			lua_pop(L, 1);
			if (inode > 0)
				*count += (size_t)inode_set_add(set, (uint64_t)inode);
		}
		lua_pop(L, 1);
	}
	return set;
}

/* True when owners[inode] has an owner already. */
static int has_owner(lua_State *L, int owners, uint64_t inode)
{
	int known;

	lua_pushinteger(L, (lua_Integer)inode);
	lua_rawget(L, owners);   /* returns nothing before Lua 5.3 */
	known = !lua_isnil(L, -1);
	lua_pop(L, 1);
	return known;
}

/* Appends {pid, fd, program} to owners[inode]. The names table (stack
 * index names) holds one {program, argv0} per pid, read once. */
static void add_owner(lua_State *L, struct dirbox *b, int owners, int names,
		      uint64_t inode, int pid, int fd)
{
	lua_Integer n;

	lua_rawgeti(L, names, pid);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 2);
		push_names(L, b->proc, pid);
		lua_pushvalue(L, -1);
		lua_rawseti(L, names, pid);
	}
	lua_pushinteger(L, (lua_Integer)inode);
	lua_rawget(L, owners);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_createtable(L, 1, 0);
		lua_pushinteger(L, (lua_Integer)inode);
		lua_pushvalue(L, -2);
		lua_rawset(L, owners);
	}
	n = (lua_Integer)lua_rawlen(L, -1);
	/* sized for the command Lua adds */
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, pid);
	lua_setfield(L, -2, "pid");
	lua_pushinteger(L, fd);
	lua_setfield(L, -2, "fd");
	lua_getfield(L, -3, "program");
	lua_setfield(L, -2, "program");
	lua_rawseti(L, -2, (int)(n + 1));
	lua_pop(L, 2);   /* owner list, name prototype */
}

/* core.owners([sockets [, first]]) -> owners, unreadable, errno, processes
 * owners[inode] = { {pid=, fd=, program=}, ... } in /proc order (ascending
 * pid); processes[pid] = {program=, argv0=} for every pid in owners.
 * sockets, if given, is a list of socket records: only their inodes are
 * looked for, in a set made here, and owners is sized for them; other
 * sockets are skipped without a table. Every process is read: a socket may
 * be shared by several (fork, SCM_RIGHTS), and each of them is listed.
 * With first, each socket gets its first owner only (the lowest pid and
 * its lowest fd, which is the one netstat -p prints), and a scan for a list
 * of sockets stops at the process where the last of them is found.
 * unreadable counts processes whose fd list could not be read (other
 * users' processes without privilege). */
int l_owners(lua_State *L)
{
	struct dirbox *b;
	struct dirent *pe, *fe;
	char path[48], link[64];
	struct inode_set *wanted = NULL;
	size_t nwanted = 0, found = 0;
	int owners, names, first;
	int unreadable = 0, first_err = 0;

	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	first = lua_toboolean(L, 2);
	lua_settop(L, 1);
	if (lua_istable(L, 1))
		wanted = push_inode_set(L, 1, &nwanted);
	lua_createtable(L, 0, nwanted > 0x7fffffff ? 0x7fffffff : (int)nwanted);
	owners = lua_gettop(L);
	lua_newtable(L);
	names = lua_gettop(L);
	b = (struct dirbox *)lua_newuserdatauv(L, sizeof(*b), 0);
	b->proc = b->fds = NULL;
	luaL_getmetatable(L, DIRBOX_MT);
	lua_setmetatable(L, -2);

	b->proc = opendir("/proc");
	if (b->proc == NULL)
		return push_error(L, "opendir /proc", errno);
	while ((wanted == NULL || found < nwanted) && (pe = readdir(b->proc)) != NULL) {
		int pid = parse_pid(pe->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%d/fd", pid);
		{
			int dfd = openat(dirfd(b->proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (dfd < 0 || (b->fds = fdopendir(dfd)) == NULL) {
				/* A process that exited meanwhile is not a gap. */
				if (errno != ENOENT && errno != ESRCH) {
					unreadable++;
					if (first_err == 0)
						first_err = errno;
				}
				if (dfd >= 0)
					close(dfd);
				continue;
			}
		}
		while ((fe = readdir(b->fds)) != NULL) {
			ssize_t n;
			char *end;
			unsigned long long inode;

			if (fe->d_name[0] == '.')
				continue;
			n = readlinkat(dirfd(b->fds), fe->d_name, link, sizeof(link) - 1);
			if (n < 0 && (errno == EACCES || errno == EPERM)) {
				/* Listing allowed but links hidden (a protected
				 * process): its sockets' owners are unknown. */
				unreadable++;
				if (first_err == 0)
					first_err = errno;
				break;
			}
			if (n < 9 || memcmp(link, "socket:[", 8) != 0)
				continue;
			link[n] = '\0';
			inode = strtoull(link + 8, &end, 10);
			if (*end != ']' || inode == 0 || inode > INT64_MAX)
				continue;
			if (wanted != NULL) {
				uint64_t *slot = inode_slot(wanted, (uint64_t)inode);

				if (*slot == 0)
					continue;
				if (first) {
					*slot = INODE_FOUND;   /* its later owners are not wanted */
					found++;
				}
			} else if (first && has_owner(L, owners, inode)) {
				continue;
			}
			add_owner(L, b, owners, names, inode, pid, atoi(fe->d_name));
			if (wanted != NULL && found == nwanted)
				break;   /* the last wanted socket: no process after this one is read */
		}
		closedir(b->fds);
		b->fds = NULL;
	}
	closedir(b->proc);
	b->proc = NULL;
	lua_pushvalue(L, owners);
	lua_pushinteger(L, unreadable);
	lua_pushinteger(L, first_err);
	lua_pushvalue(L, names);
	return 4;
}

/* core.user_names({uid, ...}) -> { [uid] = name } for the uids that have one. */
int l_user_names(lua_State *L)
{
	char buf[4096];
	struct passwd pw, *res;
	lua_Integer i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 1);
	lua_newtable(L);
	for (i = 1; i <= n; i++) {
		lua_Integer uid;

		lua_rawgeti(L, 1, (int)i);
		uid = lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
			lua_pushinteger(L, uid);
			lua_pushstring(L, res->pw_name);
			lua_rawset(L, -3);
		}
	}
	return 1;
}
