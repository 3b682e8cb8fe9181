/* Socket inode -> owning processes, by walking /proc/PID/fd (what ss -p and
 * netstat -p do), on the calling thread or on a helper thread beside the
 * socket dump; and uid -> user name. */
#include "record/class.h"
#include "nl/nl.h"
#include "record/push.h"
#include "source/dirbox.h"
#include "api.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
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
 * What netstat prints (its "command") is derived from argv0 in Lua. Both
 * are read, and the directory closed, before anything is pushed: a memory
 * error raised by the pushes must not leave the descriptor open. */
static void push_names(lua_State *L, int pid)
{
	/* comm: TASK_COMM_LEN (16) bytes, up to 64 for a kernel worker's
	 * name; argv[0] of at most a page is all netstat shows of it */
	char path[32], comm[256], cmdline[4096];
	ssize_t ncomm, ncmd;
	int pfd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return;
	ncomm = read_small(pfd, "comm", comm, sizeof(comm));
	ncmd = read_small(pfd, "cmdline", cmdline, sizeof(cmdline));
	close(pfd);
	if (ncomm > 0) {
		if (comm[ncomm - 1] == '\n')
			comm[--ncomm] = '\0';
		lua_pushlstring(L, comm, (size_t)ncomm);
		lua_setfield(L, -2, "program");
	}
	if (ncmd > 0 && cmdline[0] != '\0') {
		lua_pushstring(L, cmdline);   /* argv[0] ends at the first NUL */
		lua_setfield(L, -2, "argv0");
	}
}

/* What a scan found: socket inode -> its owners, in C memory owned by a
 * userdata (its __gc frees it, so a Lua error cannot leak it).
 *
 * slot: open addressing on the inode (0: free; no socket has inode 0),
 * twice as many slots as inodes, a power of two. A slot whose head is 0 is
 * a wanted socket not found (yet). With a list of records the slots are
 * the records' inodes, made before the scan; without one, every socket
 * the scan meets is added, and the slots grow.
 * entry: every owner found, appended in scan order, chained per inode
 * (next, 1-based; 0 ends the chain). The scan walks /proc in ascending pid
 * order and each fd table in ascending fd order (the kernel lists both in
 * that order), so each chain is sorted by pid, then fd. */
#define OWNER_MAP_MT "lnetstat.owner_map"

struct owner_slot {
	uint64_t inode;
	uint32_t head, tail;   /* 1-based entries; 0: no owner */
};

struct owner_entry {
	int pid, fd;
	uint32_t next;
};

struct owner_map {
	struct owner_slot *slot;
	size_t mask, used;
	struct owner_entry *entry;
	size_t entries, room;
};

static int owner_map_close(lua_State *L)
{
	struct owner_map *m = (struct owner_map *)luaL_checkudata(L, 1, OWNER_MAP_MT);

	free(m->slot);
	free(m->entry);
	m->slot = NULL;
	m->entry = NULL;
	m->mask = m->used = m->entries = m->room = 0;
	return 0;
}

static size_t inode_hash(uint64_t inode, size_t mask)
{
	return (size_t)((inode * 0x9e3779b97f4a7c15ull) >> 17) & mask;
}

/* The slot that holds inode, or the free slot where it would go. */
static struct owner_slot *map_slot(const struct owner_map *m, uint64_t inode)
{
	size_t i = inode_hash(inode, m->mask);

	while (m->slot[i].inode != 0 && m->slot[i].inode != inode)
		i = (i + 1) & m->mask;
	return &m->slot[i];
}

/* Gives the map room for `slots` slots (a power of two, more than twice
 * the inodes it holds), rehashing what it holds. 0, or -1 without memory. */
static int map_resize(struct owner_map *m, size_t slots)
{
	struct owner_map grown = *m;
	size_t i;

	if (slots > SIZE_MAX / sizeof(*m->slot))
		return -1;
	grown.slot = (struct owner_slot *)calloc(slots, sizeof(*m->slot));
	if (grown.slot == NULL)
		return -1;
	grown.mask = slots - 1;
	for (i = 0; m->slot != NULL && i <= m->mask; i++)
		if (m->slot[i].inode != 0)
			*map_slot(&grown, m->slot[i].inode) = m->slot[i];
	free(m->slot);
	*m = grown;
	return 0;
}

/* The slot of inode, added when missing (growing the map); NULL without
 * memory. */
static struct owner_slot *map_add_slot(struct owner_map *m, uint64_t inode)
{
	struct owner_slot *s = map_slot(m, inode);

	if (s->inode == inode)
		return s;
	if ((m->used + 1) * 2 > m->mask + 1) {
		if (m->mask + 1 > SIZE_MAX / 2 || map_resize(m, (m->mask + 1) * 2) != 0)
			return NULL;
		s = map_slot(m, inode);
	}
	s->inode = inode;
	m->used++;
	return s;
}

/* Appends owner (pid, fd) to slot s; -1 without memory. */
static int map_add_owner(struct owner_map *m, struct owner_slot *s, int pid, int fd)
{
	struct owner_entry *e;

	if (m->entries == m->room) {
		size_t room = m->room ? m->room * 2 : 64;

		if (room > UINT32_MAX || room > SIZE_MAX / sizeof(*e))
			return -1;
		e = (struct owner_entry *)realloc(m->entry, room * sizeof(*e));
		if (e == NULL)
			return -1;
		m->entry = e;
		m->room = room;
	}
	e = &m->entry[m->entries++];
	e->pid = pid;
	e->fd = fd;
	e->next = 0;
	if (s->tail != 0)
		m->entry[s->tail - 1].next = (uint32_t)m->entries;
	else
		s->head = (uint32_t)m->entries;
	s->tail = (uint32_t)m->entries;
	return 0;
}

/* The fd directory of a live thread of process pid, for a process whose
 * own /proc/PID/fd lists nothing: a thread group leader that has exited
 * while its other threads go on shows an empty one, though the threads
 * share their open files. Only a process with more than one thread (the
 * task directory's link count is 2 plus the threads) is looked into, so a
 * kernel thread costs one stat. NULL when there is none. */
static DIR *live_thread_fds(int proc, int pid)
{
	char path[64];
	struct stat st;
	struct dirent *te;
	DIR *task, *fds = NULL;
	int tfd;

	snprintf(path, sizeof(path), "%d/task", pid);
	if (fstatat(proc, path, &st, 0) != 0 || st.st_nlink <= 3)
		return NULL;
	tfd = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return NULL;
	if ((task = fdopendir(tfd)) == NULL) {
		close(tfd);
		return NULL;
	}
	while (fds == NULL && (te = readdir(task)) != NULL) {
		int tid = parse_pid(te->d_name), dfd;

		if (tid <= 0 || tid == pid)
			continue;
		snprintf(path, sizeof(path), "%d/fd", tid);
		dfd = openat(dirfd(task), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && (fds = fdopendir(dfd)) == NULL)
			close(dfd);
	}
	closedir(task);
	return fds;
}

/* A walk of /proc/PID/fd, in C memory only: nothing in it calls Lua, so
 * it can run on a helper thread while the calling thread dumps the
 * sockets, and both threads can share it (start_owner_map). The pids are
 * listed first; each thread takes the next one in turn and records what
 * it finds in its own part, and the parts are merged once both are done.
 * The job's userdata (OWNER_JOB_MT) owns all that memory until the map
 * moves to an owner map userdata, and its __gc stops and joins a thread
 * still running, so neither a Lua error nor an abandoned job leaks memory
 * or a thread.
 * listed: only the inodes already in part 0's map are wanted (the map's
 * slots were made before the walk; such a walk has one part); otherwise
 * every socket met is added. first: each socket gets its first owner only,
 * and a listed walk stops once every wanted inode has one. */
#define OWNER_JOB_MT "lnetstat.owner_job"

struct walk_part {
	struct owner_map map;
	lua_Integer seen, unlisted;
	int unreadable, first_err;
	int nomem;      /* this part stopped for want of memory */
};

struct owner_job {
	int *pids;      /* /proc's processes, ascending */
	size_t npids;
	size_t next;    /* the next pids[] to walk: taken atomically */
	int listed, first;
	size_t wanted, found;
	int proc;       /* /proc, open while the walk runs, or -1 */
	int proc_err;   /* /proc would not open: its errno */
	int stop;       /* set (atomically) to end the walk early */
	struct walk_part part[2];   /* the calling thread's, the helper's */
	pthread_t thread;
	pid_t starter;  /* the process that started the thread */
	int running;    /* a thread was started and not yet joined */
};

/* Opens /proc for the walk (j->proc: one descriptor its threads share)
 * and lists its processes into j->pids (the kernel lists them in
 * ascending order). 0, or -1 with j->proc_err or nomem set. */
static int list_pids(struct owner_job *j)
{
	DIR *proc;
	struct dirent *pe;
	size_t room = 0;
	int listing;

	j->proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	listing = j->proc >= 0 ? fcntl(j->proc, F_DUPFD_CLOEXEC, 0) : -1;
	if (listing < 0 || (proc = fdopendir(listing)) == NULL) {
		j->proc_err = errno;
		if (listing >= 0)
			close(listing);
		return -1;
	}
	while ((pe = readdir(proc)) != NULL) {
		int pid = parse_pid(pe->d_name);

		if (pid <= 0)
			continue;
		if (j->npids == room) {
			int *grown;

			room = room ? room * 2 : 512;
			grown = room <= SIZE_MAX / sizeof(int) ?
				(int *)realloc(j->pids, room * sizeof(int)) : NULL;
			if (grown == NULL) {
				j->part[0].nomem = 1;
				closedir(proc);
				return -1;
			}
			j->pids = grown;
		}
		j->pids[j->npids++] = pid;
	}
	closedir(proc);
	return 0;
}

/* Walks the job's pids not yet taken, into part p. */
static void owner_walk(struct owner_job *j, struct walk_part *p)
{
	struct owner_map *m = &p->map;
	struct dirent *fe;
	char path[48], link[64];
	int self = (int)getpid();
	unsigned int links = 0;
	int proc = j->proc;
	DIR *fds;

	while (proc >= 0 && (!j->listed || j->found < j->wanted) && !__atomic_load_n(&j->stop, __ATOMIC_RELAXED)) {
		size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
		int pid, listed_fds = 0, tried_threads = 0, dfd;

		if (i >= j->npids)
			break;
		pid = j->pids[i];
		snprintf(path, sizeof(path), "%d/fd", pid);
		dfd = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || (fds = fdopendir(dfd)) == NULL) {
			/* A process that exited meanwhile is not a gap. */
			if (errno != ENOENT && errno != ESRCH) {
				p->unreadable++;
				p->unlisted++;
				if (p->first_err == 0)
					p->first_err = errno;
			}
			if (dfd >= 0)
				close(dfd);
			continue;
		}
	read_fds:
		while ((fe = readdir(fds)) != NULL) {
			struct owner_slot *s;
			ssize_t n;
			char *end;
			unsigned long long inode;

			if (fe->d_name[0] == '.')
				continue;
			/* a cancelled walk ends within a thousand links, however
			 * many files one process holds */
			if ((++links & 1023) == 0 && __atomic_load_n(&j->stop, __ATOMIC_RELAXED))
				break;
			listed_fds = 1;
			n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);
			if (n < 0 && (errno == EACCES || errno == EPERM)) {
				/* Listing allowed but links hidden (a protected
				 * process): its sockets' owners are unknown. */
				p->unreadable++;
				if (p->first_err == 0)
					p->first_err = errno;
				break;
			}
			if (n < 9 || memcmp(link, "socket:[", 8) != 0)
				continue;
			link[n] = '\0';
			inode = strtoull(link + 8, &end, 10);
			if (*end != ']' || inode == 0 || inode > INT64_MAX)
				continue;
			if (pid != self)
				p->seen++;
			s = j->listed ? map_slot(m, (uint64_t)inode) : map_add_slot(m, (uint64_t)inode);
			if (s == NULL) {
				p->nomem = 1;
				break;
			}
			if (s->inode != (uint64_t)inode || (j->first && s->head != 0))
				continue;   /* not wanted, or its first owner is known */
			if (map_add_owner(m, s, pid, atoi(fe->d_name)) != 0) {
				p->nomem = 1;
				break;
			}
			/* with first, only a socket without an owner gets here (a
			 * listed walk has one thread: found is its own) */
			if (j->listed && j->first && ++j->found == j->wanted)
				break;   /* the last wanted socket: no process after this one is read */
		}
		closedir(fds);
		if (p->nomem)
			break;
		if (!listed_fds && !tried_threads) {
			tried_threads = 1;
			if ((fds = live_thread_fds(proc, pid)) != NULL)
				goto read_fds;
		}
	}
}

/* Closes the job's /proc descriptor, once no walk uses it. */
static void close_proc(struct owner_job *j)
{
	if (j->proc >= 0)
		close(j->proc);
	j->proc = -1;
}

static void *owner_walk_thread(void *arg)
{
	struct owner_job *j = (struct owner_job *)arg;

	owner_walk(j, &j->part[1]);
	return NULL;
}

/* Appends the owners of chain a (in map ma) and chain b (in mb), merged
 * by pid (each is in ascending pid, then fd order, and no pid is in both:
 * each was walked by one thread), to slot s of out; with first, only the
 * first of them. -1 without memory. */
static int merge_chains(struct owner_map *out, struct owner_slot *s, const struct owner_map *ma,
			uint32_t a, const struct owner_map *mb, uint32_t b, int first)
{
	while (a != 0 || b != 0) {
		const struct owner_entry *e;

		if (b == 0 || (a != 0 && ma->entry[a - 1].pid < mb->entry[b - 1].pid)) {
			e = &ma->entry[a - 1];
			a = e->next;
		} else {
			e = &mb->entry[b - 1];
			b = e->next;
		}
		if (map_add_owner(out, s, e->pid, e->fd) != 0)
			return -1;
		if (first)
			break;
	}
	return 0;
}

/* Merges the helper's part into the calling thread's; -1 without memory. */
static int merge_parts(struct owner_job *j)
{
	struct owner_map *a = &j->part[0].map, *b = &j->part[1].map, out;
	size_t slots = 64, i;

	memset(&out, 0, sizeof(out));
	if (b->used == 0) {
		free(b->slot);
		free(b->entry);
		memset(b, 0, sizeof(*b));
		return 0;
	}
	while (slots / 2 < a->used + b->used && slots <= SIZE_MAX / 4)
		slots *= 2;
	if (map_resize(&out, slots) != 0)
		return -1;
	for (i = 0; a->slot != NULL && i <= a->mask; i++) {
		const struct owner_slot *sa = &a->slot[i], *sb;
		struct owner_slot *s;

		if (sa->inode == 0)
			continue;
		sb = map_slot(b, sa->inode);
		if ((s = map_add_slot(&out, sa->inode)) == NULL ||
		    merge_chains(&out, s, a, sa->head, b, sb->inode == sa->inode ? sb->head : 0, j->first) != 0)
			goto nomem;
	}
	for (i = 0; i <= b->mask; i++) {
		const struct owner_slot *sb = &b->slot[i];
		struct owner_slot *s;

		if (sb->inode == 0 || (a->slot != NULL && map_slot(a, sb->inode)->inode == sb->inode))
			continue;
		if ((s = map_add_slot(&out, sb->inode)) == NULL ||
		    merge_chains(&out, s, b, sb->head, a, 0, j->first) != 0)
			goto nomem;
	}
	free(a->slot);
	free(a->entry);
	free(b->slot);
	free(b->entry);
	memset(b, 0, sizeof(*b));
	*a = out;
	return 0;
nomem:
	free(out.slot);
	free(out.entry);
	return -1;
}

/* Waits for the job's thread, if it still runs; with stop, asks its walk
 * to end first. A process forked while the thread ran has no such thread
 * (and its copy of the walk's memory may be half-updated): it neither
 * waits nor frees. Returns 0 when the job's memory may be used. */
static int job_join(struct owner_job *j, int stop)
{
	if (!j->running)
		return 0;
	if (j->starter != getpid())
		return -1;
	/* a locked read-modify-write, where an atomic store would do: race
	 * checkers (valgrind's helgrind and DRD) see it as atomic, and would
	 * report a plain store racing the walk's loads */
	if (stop)
		(void)__atomic_fetch_or(&j->stop, 1, __ATOMIC_RELAXED);
	pthread_join(j->thread, NULL);
	j->running = 0;
	return 0;
}

static int owner_job_close(lua_State *L)
{
	struct owner_job *j = (struct owner_job *)luaL_checkudata(L, 1, OWNER_JOB_MT);
	int k;

	if (job_join(j, 1) == 0) {
		for (k = 0; k < 2; k++) {
			free(j->part[k].map.slot);
			free(j->part[k].map.entry);
		}
		free(j->pids);
	}
	/* else a forked copy: the memory is left as it is (its descriptor is
	 * its own) */
	close_proc(j);
	j->running = 0;
	j->pids = NULL;
	j->npids = 0;
	memset(j->part, 0, sizeof(j->part));
	return 0;
}

/* Pushes a new job, its map sized for the inodes of the records in the list
 * at idx (records without one are skipped; idx 0: every socket is wanted),
 * and lists the pids to walk. */
static struct owner_job *push_owner_job(lua_State *L, int idx, int first)
{
	size_t n = idx != 0 ? (size_t)lua_rawlen(L, idx) : 0, slots = 64, i;
	struct owner_job *j = (struct owner_job *)lua_newuserdatauv(L, sizeof(*j), 0);
	int k;

	memset(j, 0, sizeof(*j));
	j->proc = -1;
	luaL_getmetatable(L, OWNER_JOB_MT);
	lua_setmetatable(L, -2);
	while (slots / 2 < n && slots <= SIZE_MAX / 4)
		slots *= 2;
	for (k = 0; k < 2; k++)
		if (map_resize(&j->part[k].map, k == 0 ? slots : 64) != 0)
			luaL_error(L, "owners: out of memory");
	for (i = 1; i <= n; i++) {
		lua_Integer inode = 0;

		lua_rawgeti(L, idx, (int)i);
		if (lua_type(L, -1) == LUA_TTABLE) {
			lua_getfield(L, -1, "inode");
			if (lua_type(L, -1) == LUA_TNUMBER)
				inode = lua_tointeger(L, -1);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (inode > 0 && map_add_slot(&j->part[0].map, (uint64_t)inode) == NULL)
			luaL_error(L, "owners: out of memory");
	}
	j->listed = idx != 0;
	j->first = first;
	j->wanted = j->part[0].map.used;   /* the map held nothing else */
	(void)list_pids(j);
	return j;
}

/* Sets processes[pid] = {program=, argv0=} (at names) unless it is there. */
static void name_process(lua_State *L, int names, int pid)
{
	lua_rawgeti(L, names, pid);
	if (!lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	lua_createtable(L, 0, 3);   /* and the command Lua adds */
	push_names(L, pid);
	lua_rawseti(L, names, pid);
}

/* The results of a finished walk (job at idx): map, unreadable, errno,
 * processes, seen, unlisted, as core.owner_map returns them; processes
 * names the owners of the records of the list at list (0: of every socket
 * in the map). Merges the parts, and moves the map's arrays to a new owner
 * map userdata. */
static int push_walk_results(lua_State *L, int idx, int list)
{
	struct owner_job *j = (struct owner_job *)lua_touserdata(L, idx);
	const struct walk_part *p0 = &j->part[0], *p1 = &j->part[1];
	struct owner_map *m;
	int map, names, last = -1;
	size_t i, n;

	if (j->proc_err != 0)
		return push_error(L, "opendir /proc", j->proc_err);
	if (p0->nomem || p1->nomem || merge_parts(j) != 0)
		return luaL_error(L, "owners: out of memory");
	m = (struct owner_map *)lua_newuserdatauv(L, sizeof(*m), 0);
	memset(m, 0, sizeof(*m));
	luaL_getmetatable(L, OWNER_MAP_MT);
	lua_setmetatable(L, -2);
	*m = j->part[0].map;
	memset(&j->part[0].map, 0, sizeof(j->part[0].map));
	map = lua_gettop(L);
	lua_newtable(L);
	names = lua_gettop(L);
	if (list == 0) {
		for (i = 0; i < m->entries; i++)
			if (m->entry[i].pid != last)
				name_process(L, names, last = m->entry[i].pid);
	} else {
		n = (size_t)lua_rawlen(L, list);
		for (i = 1; i <= n; i++) {
			const struct owner_slot *s;
			const struct owner_entry *e;
			lua_Integer inode = -1;

			lua_rawgeti(L, list, (int)i);
			if (lua_type(L, -1) == LUA_TTABLE) {
				lua_getfield(L, -1, "inode");
				inode = lua_type(L, -1) == LUA_TNUMBER ? lua_tointeger(L, -1) : -1;
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
			if (inode <= 0)
				continue;
			s = map_slot(m, (uint64_t)inode);
			if (s->inode != (uint64_t)inode)
				continue;
			for (e = s->head ? &m->entry[s->head - 1] : NULL; e != NULL;
			     e = e->next ? &m->entry[e->next - 1] : NULL)
				if (e->pid != last)
					name_process(L, names, last = e->pid);
		}
	}
	lua_pushvalue(L, map);
	lua_pushinteger(L, p0->unreadable + p1->unreadable);
	lua_pushinteger(L, p0->first_err != 0 ? p0->first_err : p1->first_err);
	lua_pushvalue(L, names);
	lua_pushinteger(L, p0->seen + p1->seen);
	lua_pushinteger(L, p0->unlisted + p1->unlisted);
	return 6;
}

/* core.owner_map([sockets [, first]]) -> map, unreadable, errno, processes, seen, unlisted
 * One walk of /proc/PID/fd. map: socket inode -> owners (pid, fd), for
 * attach_owners; processes[pid] = {program=, argv0=} for every pid that
 * owns one of them. sockets, if given, is a list of socket records: only
 * their inodes are looked for, and anything else in the list is skipped;
 * without it every socket of every process is. A socket may be shared by
 * several processes (fork, SCM_RIGHTS): each of them is an owner. With
 * first, each socket gets its first owner only (the lowest pid and its
 * lowest fd, which is the one netstat -p prints), and a scan for a list of
 * sockets stops at the process where the last of them is found.
 * unreadable counts processes whose fd list could not be read (other
 * users' processes without privilege), unlisted those of them whose fd
 * directory would not even open (the others list their files but hide
 * where they lead, as some do even from root). seen counts the sockets
 * the walk met in processes other than the caller's, wanted or not. The
 * two tell what netstat's note on -p tells: whether some processes could
 * not be read, and whether any socket's owner could. A scan stopped early
 * undercounts both. */
int l_owner_map(lua_State *L)
{
	struct owner_job *j;
	int listed;

	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	listed = lua_istable(L, 1);
	lua_settop(L, 2);
	j = push_owner_job(L, listed ? 1 : 0, lua_toboolean(L, 2));
	owner_walk(j, &j->part[0]);
	close_proc(j);
	return push_walk_results(L, 3, 0);
}

/* core.start_owner_map([first]) -> job, or nil when no helper thread can
 * run (one usable CPU, or pthread_create failed): the walk of
 * core.owner_map(nil, first) (every socket) begins on a helper thread, so
 * the caller can dump the sockets meanwhile. finish_owner_map(job[, list])
 * walks on beside it, waits for it and returns what owner_map returns;
 * cancel_owner_map(job) stops it. */
int l_start_owner_map(lua_State *L)
{
	struct owner_job *j;
	sigset_t all, old;
	int err;

	if (nl_usable_cpus() < 2) {
		lua_pushnil(L);
		return 1;
	}
	j = push_owner_job(L, 0, lua_toboolean(L, 1));
	j->starter = getpid();
	/* a full signal mask: the host's handlers never run on the helper */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&j->thread, NULL, owner_walk_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		close_proc(j);
		lua_pushnil(L);   /* the job's __gc frees its memory */
		return 1;
	}
	j->running = 1;
	return 1;
}

/* core.finish_owner_map(job[, list]) -> as core.owner_map: walks what the
 * helper has not yet taken, waits for it; processes names the owners of
 * list's records only (without list: of every socket). */
int l_finish_owner_map(lua_State *L)
{
	struct owner_job *j = (struct owner_job *)luaL_checkudata(L, 1, OWNER_JOB_MT);

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	if (j->starter != getpid() || j->part[0].map.slot == NULL)
		return luaL_argerror(L, 1, "finished owner job");
	if (j->running)
		owner_walk(j, &j->part[0]);
	job_join(j, 0);
	close_proc(j);
	return push_walk_results(L, 1, lua_istable(L, 2) ? 2 : 0);
}

/* core.cancel_owner_map(job): stops the job's walk and frees what it found. */
int l_cancel_owner_map(lua_State *L)
{
	lua_settop(L, 1);
	luaL_checkudata(L, 1, OWNER_JOB_MT);
	return owner_job_close(L);
}

/* Pushes the name of uid, or false when it has none. */
static void push_user_name(lua_State *L, lua_Integer uid)
{
	char buf[4096];
	struct passwd pw, *res;

	if (uid >= 0 && uid <= (lua_Integer)UINT32_MAX &&
	    getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		lua_pushstring(L, res->pw_name);
	else
		lua_pushboolean(L, 0);
}

/* Stack slots of an attach: the map's arguments, and the last process and
 * user looked up (records of one process or user often come together). */
struct attach {
	lua_State *L;
	const struct owner_map *m;
	int procs, users;
	int last_pid, program, command;   /* program and command: stack slots */
	lua_Integer last_uid;             /* -1: none yet */
	int user;                         /* stack slot */
};

static lua_Integer raw_integer(lua_State *L, int rec, const char *key)
{
	lua_Integer v;

	lua_pushstring(L, key);
	lua_rawget(L, rec);
	v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointeger(L, -1) : -1;
	lua_pop(L, 1);
	return v;
}

/* Sets user (from uid), and processes, pid and program (from inode) on the
 * record at rec. Returns 1 when the record names a socket inode whose
 * owner is not in the map. */
static int attach_one(struct attach *a, int rec)
{
	lua_State *L = a->L;
	const struct owner_slot *s;
	const struct owner_entry *e;
	lua_Integer uid = raw_integer(L, rec, "uid"), inode;
	int n, i;

	if (uid >= 0) {
		if (uid != a->last_uid) {
			/* uids reach 2^32 - 1: an integer key, not rawgeti's int */
			lua_pushinteger(L, uid);
			lua_rawget(L, a->users);
			if (lua_isnil(L, -1)) {
				lua_pop(L, 1);
				lua_pushinteger(L, uid);
				push_user_name(L, uid);
				lua_pushvalue(L, -1);
				lua_insert(L, -3);
				lua_rawset(L, a->users);
			}
			lua_replace(L, a->user);
			a->last_uid = uid;
		}
		if (lua_toboolean(L, a->user)) {
			lua_pushvalue(L, a->user);
			lua_setfield(L, rec, "user");
		}
	}
	inode = raw_integer(L, rec, "inode");
	if (inode <= 0)
		return 0;
	s = map_slot(a->m, (uint64_t)inode);
	if (s->inode != (uint64_t)inode || s->head == 0)
		return 1;
	for (n = 0, e = &a->m->entry[s->head - 1];; e = &a->m->entry[e->next - 1]) {
		n++;
		if (e->next == 0)
			break;
	}
	lua_createtable(L, n, 0);
	for (i = 1, e = &a->m->entry[s->head - 1];; i++, e = &a->m->entry[e->next - 1]) {
		if (e->pid != a->last_pid) {
			lua_rawgeti(L, a->procs, e->pid);
			if (lua_type(L, -1) != LUA_TTABLE) {   /* a process without names */
				lua_pop(L, 1);
				lua_newtable(L);
			}
			lua_getfield(L, -1, "program");
			lua_replace(L, a->program);
			lua_getfield(L, -1, "command");
			lua_replace(L, a->command);
			lua_pop(L, 1);
			a->last_pid = e->pid;
		}
		if (i == 1) {   /* the first owner is the record's */
			lua_pushinteger(L, e->pid);
			lua_setfield(L, rec, "pid");
			lua_pushvalue(L, a->program);
			lua_setfield(L, rec, "program");
		}
		lua_createtable(L, 0, 4);
		lua_pushinteger(L, e->pid);
		lua_setfield(L, -2, "pid");
		lua_pushinteger(L, e->fd);
		lua_setfield(L, -2, "fd");
		lua_pushvalue(L, a->program);
		lua_setfield(L, -2, "program");
		lua_pushvalue(L, a->command);
		lua_setfield(L, -2, "command");
		lua_rawseti(L, -2, i);
		if (e->next == 0)
			break;
	}
	lua_setfield(L, rec, "processes");
	return 0;
}

/* Checks the arguments (map, processes, users, records) and sets up the
 * attach's stack slots above them. */
static void attach_init(lua_State *L, struct attach *a)
{
	a->L = L;
	a->m = (const struct owner_map *)luaL_checkudata(L, 1, OWNER_MAP_MT);
	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TTABLE);
	luaL_checktype(L, 4, LUA_TTABLE);
	if (a->m->slot == NULL)
		luaL_argerror(L, 1, "closed owner map");
	lua_settop(L, 4);
	a->procs = 2;
	a->users = 3;
	lua_pushnil(L);
	a->program = lua_gettop(L);
	lua_pushnil(L);
	a->command = lua_gettop(L);
	lua_pushnil(L);
	a->user = lua_gettop(L);
	a->last_pid = -1;
	a->last_uid = -1;
}

/* core.attach_owners(map, processes, users, list) -> missing
 * Sets on each record of list: user (the name of uid; users caches the
 * names, uid -> name or false, and is filled here), and from map, for a
 * socket with an owner: processes = { {pid=, fd=, program=, command=}, ...}
 * in (pid, fd) order, pid and program (its first owner's). program and
 * command come from processes[pid] of owner_map, command once Lua has set
 * it. missing: the records with an inode that has no owner in the map. */
int l_attach_owners(lua_State *L)
{
	struct attach a;
	lua_Integer i, n, missing = 0;

	attach_init(L, &a);
	n = (lua_Integer)lua_rawlen(L, 4);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 4, (int)i);
		if (lua_type(L, -1) == LUA_TTABLE)
			missing += attach_one(&a, lua_gettop(L));
		lua_pop(L, 1);
	}
	lua_pushinteger(L, missing);
	return 1;
}

/* core.attach_owner(map, processes, users, record) -> missing (0 or 1):
 * attach_owners for one record (a stream's). */
int l_attach_owner(lua_State *L)
{
	struct attach a;

	attach_init(L, &a);
	lua_pushinteger(L, attach_one(&a, 4));
	return 1;
}

/* core.user_names({uid, ...}) -> { [uid] = name } for the uids that have one. */
int l_user_names(lua_State *L)
{
	lua_Integer i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 1);
	lua_newtable(L);
	for (i = 1; i <= n; i++) {
		lua_Integer uid;

		lua_rawgeti(L, 1, (int)i);
		uid = lua_tointeger(L, -1);
		lua_pop(L, 1);
		lua_pushinteger(L, uid);
		push_user_name(L, uid);
		if (lua_toboolean(L, -1))
			lua_rawset(L, -3);
		else
			lua_pop(L, 2);
	}
	return 1;
}

void procfd_register(lua_State *L)
{
	class_register(L, DIRBOX_MT, dirbox_close, NULL, NULL);
	class_register(L, OWNER_MAP_MT, owner_map_close, NULL, NULL);
	class_register(L, OWNER_JOB_MT, owner_job_close, NULL, NULL);
}
