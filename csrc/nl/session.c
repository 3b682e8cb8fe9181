/* Sessions: the netlink sockets and /proc files of one network namespace,
 * opened (optionally inside another netns) by core.open and closed by
 * session:close(), __gc or __close. */
#include "record/class.h"
#include "nl/nl.h"
#include "nl/pool.h"
#include "record/push.h"
#include "api.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/netlink.h>

/* linux/nsfs.h and linux/magic.h, not always installed */
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif
#define LNETSTAT_NSFS_MAGIC 0x6e736673UL

const char *const proc_file_names[PROC_COUNT] = {
	"tcp", "tcp6", "udp", "udp6", "udplite", "udplite6",
	"raw", "raw6", "unix", "packet", "netlink",
	"snmp", "netstat", "snmp6", "sockstat", "sockstat6",
	"dev", "if_inet6", "route", "ipv6_route", "igmp", "igmp6",
	"arp",
};

void session_close(struct session *s)
{
	int i;

	if (s->closed)
		return;
	s->closed = 1;
	nlsock_close(&s->diag);
	nlsock_close(&s->route);
	for (i = 0; i < PROC_COUNT; i++) {
		if (s->proc_fd[i] >= 0)
			close(s->proc_fd[i]);
		s->proc_fd[i] = -1;
	}
	free(s->text);
	s->text = NULL;
	free(s->ifnames.entries);
	s->ifnames.entries = NULL;
	s->ifnames.count = s->ifnames.cap = 0;
}

/* A session closed by close() (or by a to-be-closed variable) takes this
 * metatable: the same methods and metamethods but no __gc, so that the
 * collector calls no finalizer for a session with nothing left to close (in
 * a long-lived state asking for its listeners, that call was a fortieth of
 * each question). */
#define SESSION_CLOSED_MT "lnetstat.session (closed)"

/* The metatables sessions check against, also kept in the registry under
 * these addresses: a lookup by a light userdata key costs a fraction of
 * one by name, and check_session runs several times per question. */
static const char session_mt_key = 0, session_closed_mt_key = 0;

/* What a session's userdata holds: the session, and what keeps it whole
 * while a call reads it. A core call reading a session can run Lua code
 * in its middle: a sink, the __index of a route letters table, a finalizer
 * the collector runs during any allocation. Such code may call the core
 * again with the same session: a second request on its socket, a second
 * read into its /proc buffer, or close() would free or move the bytes the
 * first call is still walking. So every core function whose first
 * argument is a session runs held (session_guard, hold_pcall): meanwhile
 * a second call on it raises "session is busy", and close() only asks for
 * the close, which happens when the call returns. */
struct session_box {
	struct session s;      /* first: a struct session * is a box's address */
	const char *tag;       /* &session_tag: what box_at recognises */
	struct hold hold;
};

#define SESSION_BUSY_MSG "session is busy: a call reading it is running Lua code"

static const char session_tag = 0;

static struct session_box *box_of(struct session *s)
{
	return (struct session_box *)(void *)s;
}

struct hold *session_hold(struct session *s)
{
	return &box_of(s)->hold;
}

/* The box of the session at idx when idx holds one (open or not), else
 * NULL: no metatable lookup (the guard runs per call), only the userdata's
 * size and tag. */
static struct session_box *box_at(lua_State *L, int idx)
{
	struct session_box *b = (struct session_box *)lua_touserdata(L, idx);

	if (b == NULL || lua_rawlen(L, idx) != sizeof(*b) || b->tag != &session_tag)
		return NULL;
	return b;
}

/* The userdata at idx if its metatable is the one the registry keeps under
 * key, else NULL (luaL_testudata, which Lua 5.1 lacks, without its lookup
 * by name). */
static void *udata_of(lua_State *L, int idx, const char *key)
{
	void *p = lua_touserdata(L, idx);
	int same;

	if (p == NULL || !lua_getmetatable(L, idx))
		return NULL;
	lua_pushlightuserdata(L, (void *)key);
	lua_rawget(L, LUA_REGISTRYINDEX);
	same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return same ? p : NULL;
}

struct session *check_session(lua_State *L, int idx)
{
	struct session *s = (struct session *)udata_of(L, idx, &session_mt_key);

	if (s == NULL) {
		if (udata_of(L, idx, &session_closed_mt_key) != NULL)
			luaL_argerror(L, idx, "session is closed");
		s = (struct session *)luaL_checkudata(L, idx, SESSION_MT);   /* raises */
	}
	if (s->closed || box_of(s)->hold.close_pending)
		luaL_argerror(L, idx, "session is closed");
	return s;
}

struct session *check_idle_session(lua_State *L, int idx)
{
	struct session *s = check_session(L, idx);

	if (box_of(s)->hold.busy > 0)
		luaL_argerror(L, idx, SESSION_BUSY_MSG);
	return s;
}

/* Closes the open session s, the userdata at idx: its sock_diag socket
 * serves the state's next question if it may, else its buffer does; then
 * it takes the metatable without __gc. */
static void close_now(lua_State *L, int idx, struct session *s)
{
	struct state_pool *pool = state_pool(L, 0);

	if (!pool_park_spare(pool, &s->diag, s->epoch, s->netns_id))
		pool_park_buffer(pool, &s->diag);
	pool_park_buffer(pool, &s->route);
	session_close(s);
	lua_pushlightuserdata(L, (void *)&session_closed_mt_key);
	lua_rawget(L, LUA_REGISTRYINDEX);
	lua_setmetatable(L, idx);
}

static int l_session_close(lua_State *L)
{
	struct session *s = (struct session *)udata_of(L, 1, &session_mt_key);

	if (s == NULL) {
		luaL_checkudata(L, 1, SESSION_CLOSED_MT);   /* closed before: nothing to do */
		return 0;
	}
	if (s->closed) {
		lua_pushlightuserdata(L, (void *)&session_closed_mt_key);
		lua_rawget(L, LUA_REGISTRYINDEX);
		lua_setmetatable(L, 1);
	} else if (!hold_defer_close(&box_of(s)->hold)) {   /* held: when the call returns */
		close_now(L, 1, s);
	}
	return 0;
}

/* The close a session's hold does when its last hold ends. */
static void hold_close_session(lua_State *L, int idx, struct hold *h)
{
	struct session_box *b = (struct session_box *)(void *)
		((char *)h - offsetof(struct session_box, hold));

	close_now(L, idx, &b->s);
}

static int session_guard(lua_State *L);

/* The message handler of a guarded call. An error the guarded function
 * raises itself (luaL_error, luaL_argerror) lacks what it would say called
 * directly: its caller is the guard, a C function, so there is no
 * "file:line:" and an argument error names the function '?'. Both are
 * taken from the guard and its caller. Errors raised deeper (by a sink)
 * are left as they are. Levels: 0 this handler, 1 the guarded function, 2
 * the guard, 3 its caller. */
static int guard_msgh(lua_State *L)
{
	const char *msg = lua_tostring(L, 1), *q;
	lua_Debug ar;
	int own;

	if (lua_type(L, 1) != LUA_TSTRING || !lua_getstack(L, 2, &ar) || !lua_getinfo(L, "fn", &ar))
		return 1;
	own = lua_tocfunction(L, -1) == session_guard;
	lua_pop(L, 1);
	if (!own)
		return 1;
	if (strncmp(msg, "bad argument #", 14) == 0 && (q = strstr(msg, " to '?'")) != NULL &&
	    ar.name != NULL) {
		lua_pushlstring(L, msg, (size_t)(q - msg));
		lua_pushfstring(L, "%s to '%s'%s", lua_tostring(L, -1), ar.name, q + 7);
		lua_replace(L, 1);
		lua_settop(L, 1);
	}
	luaL_where(L, 3);
	lua_insert(L, 1);
	lua_concat(L, 2);
	return 1;
}

/* The registered form of a core function whose first argument is a
 * session (upvalue 1; upvalue 2 is guard_msgh): one hold for the whole
 * call. It refuses a session already held (a call from Lua code running
 * inside another call reading it), holds the session, runs the function
 * under one lua_pcall, releases it, closes it if close() was asked
 * meanwhile (then a call that succeeded fails: what it returned may name
 * what is gone), and raises the function's error again last, so that
 * nothing stays held. A first argument that is no open session is the
 * function's own to refuse: it is called in the guard's place. */
static int session_guard(lua_State *L)
{
	struct session_box *b = box_at(L, 1);
	struct held one;
	int n = lua_gettop(L), i, status, closed;

	if (b == NULL || b->s.closed || b->hold.close_pending)
		return lua_tocfunction(L, lua_upvalueindex(1))(L);   /* it refuses the argument */
	if (b->hold.busy > 0)
		return luaL_argerror(L, 1, SESSION_BUSY_MSG);
	luaL_checkstack(L, n + 2, NULL);   /* may raise: nothing held yet */
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushvalue(L, lua_upvalueindex(1));
	for (i = 1; i <= n; i++)
		lua_pushvalue(L, i);
	one.hold = &b->hold;
	one.idx = 1;
	status = hold_pcall(L, &one, 1, n, n + 1, &closed);
	if (closed && status == LUA_OK) {
		lua_pushliteral(L, "lnetstat.core: the session was closed by Lua code "
				"running inside a call reading it");
		status = LUA_ERRRUN;
	}
	if (status != LUA_OK)
		return lua_error(L);
	return lua_gettop(L) - n - 1;
}

void session_setfuncs(lua_State *L, const luaL_Reg *funcs)
{
	for (; funcs->name != NULL; funcs++) {
		lua_pushcfunction(L, funcs->func);
		lua_pushcfunction(L, guard_msgh);
		lua_pushcclosure(L, session_guard, 2);
		lua_setfield(L, -2, funcs->name);
	}
}

static int l_session_tostring(lua_State *L)
{
	struct session *s = (struct session *)udata_of(L, 1, &session_mt_key);

	if (s == NULL)
		luaL_checkudata(L, 1, SESSION_CLOSED_MT);
	lua_pushfstring(L, "lnetstat.session (%s)",
			s == NULL || s->closed || box_of(s)->hold.close_pending ? "closed" : "open");
	return 1;
}

/* What to open, decided before entering the netns so that no Lua call
 * happens while the thread is there. */
struct open_plan {
	int diag, route;
	int proc[PROC_COUNT];
};

/* Opens everything the plan asks for in the thread's current netns. A /proc
 * file that does not exist (no IPv6, no UDPLite) stays -1; netlink failures
 * are returned. */
static int open_handles(struct session *s, const struct open_plan *p)
{
	char path[64];
	int i, err;

	if (p->diag && (err = nlsock_open(&s->diag, NETLINK_SOCK_DIAG)) != 0)
		return err;
	if (p->route && (err = nlsock_open(&s->route, NETLINK_ROUTE)) != 0)
		return err;
	for (i = 0; i < PROC_COUNT; i++) {
		if (!p->proc[i])
			continue;
		/* thread-self: /proc/self/net shows the thread-group leader's
		 * netns, not the one this thread just entered. */
		snprintf(path, sizeof(path), "/proc/thread-self/net/%s", proc_file_names[i]);
		s->proc_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		s->proc_err[i] = s->proc_fd[i] < 0 ? errno : 0;
	}
	return 0;
}

/* Opens the network namespace file at path without side effects: O_PATH
 * neither blocks on a FIFO nor opens a device, the file system must be nsfs,
 * and only then is it reopened for setns (which refuses O_PATH
 * descriptors) and asked its namespace type. Returns the fd or a negative
 * errno (-NOT_A_NETNS for anything that is not a network namespace). */
int netns_open(const char *path)
{
	char self[64];
	struct statfs sfs;
	int pfd, fd, type;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return errno == EMFILE || errno == ENFILE || errno == ENOMEM ? -errno : -NOT_A_NETNS;
	if (fstatfs(pfd, &sfs) != 0 || (unsigned long)sfs.f_type != LNETSTAT_NSFS_MAGIC) {
		close(pfd);
		return -NOT_A_NETNS;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(pfd);
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE || errno == ENOMEM ? -errno : -NOT_A_NETNS;
	type = ioctl(fd, NS_GET_NSTYPE);
	/* Kernels before 4.11 lack the ioctl (ENOTTY): setns(CLONE_NEWNET)
	 * then refuses any other namespace type. */
	if ((type >= 0 && type != CLONE_NEWNET) || (type < 0 && errno != ENOTTY)) {
		close(fd);
		return -NOT_A_NETNS;
	}
	return fd;
}

/* True when fd is the netns the calling thread is in. */
static int is_own_netns(int fd)
{
	struct stat self, target;

	if (stat("/proc/thread-self/ns/net", &self) != 0 || fstat(fd, &target) != 0)
		return 0;
	return self.st_dev == target.st_dev && self.st_ino == target.st_ino;
}

/* The work done in another namespace, by a short-lived helper thread: it
 * enters the namespace, opens the plan's handles and exits. Sockets and
 * open /proc files keep the namespace they were opened in, so the calling
 * thread never changes namespace and nothing can strand it in a foreign
 * one. The thread makes no Lua calls. */
struct netns_job {
	struct session *s;
	const struct open_plan *plan;
	int target;
	int err;
	const char *what;
};

static void *netns_worker(void *arg)
{
	struct netns_job *job = (struct netns_job *)arg;

	if (setns(job->target, CLONE_NEWNET) != 0) {
		job->what = "setns";
		job->err = -errno;
		return NULL;
	}
	job->what = "open";
	job->err = open_handles(job->s, job->plan);
	return NULL;
}

/* Opens the plan's handles inside the netns at path. Returns 0 or a negative
 * errno, with *what naming the failed step ("open netns" when path is not a
 * network namespace). */
static int open_in_netns(struct session *s, const struct open_plan *p,
			 const char *path, const char **what)
{
	struct netns_job job;
	sigset_t all, old;
	pthread_t tid;
	int target, err;

	*what = "open netns";
	target = netns_open(path);
	if (target < 0)
		return target;
	if (is_own_netns(target)) {
		close(target);
		*what = "open";
		return open_handles(s, p);
	}
	job.s = s;
	job.plan = p;
	job.target = target;
	job.err = 0;
	job.what = "open";
	/* The helper inherits a full signal mask: the embedding host's signal
	 * handlers never run on it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&tid, NULL, netns_worker, &job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		close(target);
		*what = "pthread_create";
		return -err;
	}
	err = pthread_join(tid, NULL);
	close(target);
	if (err != 0) {
		*what = "pthread_join";
		return -err;
	}
	*what = job.what;
	return job.err;
}

int push_netns_error(lua_State *L, const char *path, int err)
{
	if (err == -NOT_A_NETNS) {
		lua_pushnil(L);
		lua_pushfstring(L, "netns '%s': not a network namespace", path);
		lua_pushinteger(L, NOT_A_NETNS);
		return 3;
	}
	return push_error(L, lua_pushfstring(L, "netns '%s'", path), err);
}

static int plan_proc_index(const char *name)
{
	int i;

	for (i = 0; i < PROC_COUNT; i++)
		if (strcmp(name, proc_file_names[i]) == 0)
			return i;
	return -1;
}

/* core.open([netns_path], {"diag", "route", "tcp", "tcp6", ...})
 * -> session | nil, msg, errno
 * A /proc/net file may also be named "proc:NAME": the only way to ask for
 * /proc/net/route, since "route" means the rtnetlink socket. In the
 * caller's own namespace, "diag" is the state's spare socket when it
 * qualifies (nl/pool.c): a small question then costs no socket and no
 * close, two system calls of the five it would make. */
int l_open(lua_State *L)
{
	struct open_plan plan;
	struct session_box *box;
	struct session *s;
	struct state_pool *pool;
	size_t netns_len = 0;
	const char *netns = luaL_optlstring(L, 1, NULL, &netns_len);
	const char *what = "open";
	lua_Integer i, n;
	int err, idx;

	if (netns != NULL && strlen(netns) != netns_len)
		return luaL_argerror(L, 1, "netns path contains a NUL byte");

	memset(&plan, 0, sizeof(plan));
	luaL_checktype(L, 2, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 2);
	for (i = 1; i <= n; i++) {
		const char *name;
		size_t len;

		lua_rawgeti(L, 2, (int)i);
		name = lua_tolstring(L, -1, &len);
		if (name == NULL)
			return luaL_argerror(L, 2, "names expected");
		/* compared with strcmp below: "diag\0x" must not pass for "diag" */
		if (strlen(name) != len)
			return luaL_argerror(L, 2, "a handle name contains a NUL byte");
		if (strcmp(name, "diag") == 0)
			plan.diag = 1;
		else if (strcmp(name, "route") == 0)
			plan.route = 1;
		else if ((idx = plan_proc_index(name)) >= 0)
			plan.proc[idx] = 1;
		else if (strncmp(name, "proc:", 5) == 0 &&
			 (idx = plan_proc_index(name + 5)) >= 0)
			plan.proc[idx] = 1;   /* "proc:route": /proc/net/route, not rtnetlink */
		else
			return luaL_argerror(L, 2, lua_pushfstring(L, "unknown handle '%s'", name));
		lua_pop(L, 1);
	}

	pool = state_pool(L, 1);
	/* The userdata exists before anything is opened: if a later Lua error
	 * unwinds, __gc still closes what was opened. */
	box = (struct session_box *)lua_newuserdatauv(L, sizeof(*box), 0);
	memset(box, 0, sizeof(*box));
	box->tag = &session_tag;
	box->hold.close = hold_close_session;
	s = &box->s;
	for (idx = 0; idx < PROC_COUNT; idx++)
		s->proc_fd[idx] = -1;
	luaL_getmetatable(L, SESSION_MT);
	lua_setmetatable(L, -2);

	s->epoch = pool_epoch(pool);
	if (netns == NULL && plan.diag && thread_netns_id(pool, s->epoch, s->netns_id) &&
	    pool_take_spare(pool, &s->diag, s->epoch, s->netns_id))
		plan.diag = 0;   /* the spare answers */
	if (netns != NULL)
		err = open_in_netns(s, &plan, netns, &what);
	else
		err = open_handles(s, &plan);
	if (err != 0) {
		session_close(s);
		if (netns != NULL && strcmp(what, "open netns") == 0)
			return push_netns_error(L, netns, err);
		return push_error(L, what, err);
	}
	pool_adopt_buffer(pool, &s->diag);
	pool_adopt_buffer(pool, &s->route);
	return 1;
}

/* session:forked() -> true when this process is not the one that opened
 * the session: a forked child holds copies of its parent's sockets, and a
 * request on one would mix both processes' answers. No system call: the
 * pool's epoch (nl/pool.c). */
static int l_session_forked(lua_State *L)
{
	struct session *s = (struct session *)udata_of(L, 1, &session_mt_key);

	if (s == NULL)
		luaL_checkudata(L, 1, SESSION_CLOSED_MT);
	lua_pushboolean(L, s != NULL && s->epoch != pool_epoch(state_pool(L, 0)));
	return 1;
}

/* core.release() -> true when the state's spare sock_diag socket was open
 * and is closed now; the next question opens another. */
int l_release(lua_State *L)
{
	lua_pushboolean(L, pool_release(state_pool(L, 0)));
	return 1;
}
static const luaL_Reg session_methods[] = {
	{"close", l_session_close},
	{"forked", l_session_forked},
	{NULL, NULL}
};

void session_register(lua_State *L)
{
	class_register(L, SESSION_MT, l_session_close, l_session_tostring, session_methods);
	/* closed: the same, without __gc */
	class_register(L, SESSION_CLOSED_MT, l_session_close, l_session_tostring, session_methods);
	lua_pushlightuserdata(L, (void *)&session_closed_mt_key);
	luaL_getmetatable(L, SESSION_CLOSED_MT);
	lua_pushnil(L);
	lua_setfield(L, -2, "__gc");
	lua_rawset(L, LUA_REGISTRYINDEX);
	lua_pushlightuserdata(L, (void *)&session_mt_key);
	luaL_getmetatable(L, SESSION_MT);
	lua_rawset(L, LUA_REGISTRYINDEX);
	pool_register(L);
}
