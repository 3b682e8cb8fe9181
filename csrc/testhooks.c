/* lnetstat.testhooks: a test-only module (built by make test, never
 * installed) that gives the specs the parsers and decoders of lnetstat.core
 * over text and bytes they supply, so that what a live kernel rarely
 * produces can be tested without root. It is linked from the same objects
 * as lnetstat.core; only luaopen_lnetstat_testhooks is exported. The fuzz
 * targets (fuzz/) call the same functions.
 *
 * decode_rtnl(bytes, kind[, letters]): the link, address, neighbour and
 * route decoders over recorded rtnetlink messages instead of a live dump
 * (short STATS64, 32-bit IFLA_STATS only, truncated attributes). For
 * routes, letters is the table of flag letters by packed facts, as
 * core.route_dump takes it, or true for one that answers "U" to any facts.
 * decode_diag(bytes, proto): the sock_diag decoders over recorded
 * SOCK_DIAG_BY_FAMILY messages.
 * Both read bytes as a stream of nlmsghdr-framed messages and return the
 * list of records and the count of trailing bytes that are no message. */
#include "source/rtnl.h"
#include "source/diag.h"
#include "nl/nl.h"
#include "record/socket.h"
#include "api.h"

#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

/* An aligned copy of the string at idx, as a receive buffer would be. */
static const char *aligned_copy(lua_State *L, int idx, size_t *len)
{
	const char *bytes = luaL_checklstring(L, idx, len);
	char *buf = (char *)lua_newuserdatauv(L, *len + 4, 0);

	memcpy(buf, bytes, *len);
	return buf;
}

/* __index of the letters table of decode_rtnl(bytes, kind, true). */
static int any_letters(lua_State *L)
{
	lua_pushliteral(L, "U");
	return 1;
}

/* The stack index of the letters table of decode_rtnl's argument idx (a
 * table, or true: one is pushed); 0 when there is none. */
static int push_letters(lua_State *L, int idx)
{
	if (lua_istable(L, idx))
		return idx;
	if (!lua_toboolean(L, idx))
		return 0;
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, any_letters);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	return lua_gettop(L);
}

int l_decode_rtnl(lua_State *L)
{
	static const char *const kinds[] = {"link", "addr", "neigh", "route", "route6", NULL};
	size_t len, left;
	int kind = luaL_checkoption(L, 2, NULL, kinds);
	const char *buf = aligned_copy(L, 1, &len);
	struct link_ctx lc;
	struct adr_ctx ac;
	struct nei_ctx nc;
	int letters = kind >= 3 ? push_letters(L, 3) : 0;

	lua_newtable(L);
	memset(&lc, 0, sizeof(lc));
	memset(&ac, 0, sizeof(ac));
	memset(&nc, 0, sizeof(nc));
	lc.L = ac.L = nc.L = L;
	lc.list = ac.list = nc.list = lua_gettop(L);
	nc.hz = 100;
	switch (kind) {
	case 0: left = nl_msgs_walk(buf, len, link_msg_cb, &lc); break;
	case 1: left = nl_msgs_walk(buf, len, adr_msg_cb, &ac); break;
	case 2: left = nl_msgs_walk(buf, len, nei_msg_cb, &nc); break;
	default:
		left = route_decode(L, lua_gettop(L), kind == 3 ? AF_INET : AF_INET6, buf, len,
				    letters);
		break;
	}
	lua_pushinteger(L, (lua_Integer)left);   /* trailing bytes that are no message */
	return 2;
}

int l_decode_diag(lua_State *L)
{
	static const char *const protos[] = {
		"tcp", "udp", "udplite", "raw", "unix", "packet", "netlink", NULL
	};
	static const nl_msg_cb cbs[] = {
		inet_msg_cb, inet_msg_cb, inet_msg_cb, inet_msg_cb,
		unix_msg_cb, packet_msg_cb, netlink_msg_cb
	};
	int proto = luaL_checkoption(L, 2, NULL, protos);
	int want_info = lua_toboolean(L, 3);
	size_t len, left;
	const char *buf;
	struct diag_ctx c;

	lua_settop(L, 2);
	lua_pushnil(L);            /* 3: no filter: every socket, every field */
	buf = aligned_copy(L, 1, &len);
	memset(&c, 0, sizeof(c));
	c.L = L;
	c.proto = protos[proto];
	c.want_info = want_info;
	read_filter(L, 3, &c.f);
	lua_newtable(L);
	c.list = lua_gettop(L);
	sock_keys_push(L, &c.sk, NULL, 0);
	left = nl_msgs_walk(buf, len, cbs[proto], &c);
	sock_keys_pop(&c.sk);
	lua_settop(L, c.list);
	lua_pushinteger(L, (lua_Integer)left);
	return 2;
}

/* in_fork(fn) -> text: calls fn() in a forked child of this process and
 * returns the string it returned, or "error: ..." for an error it
 * raised. Lets the specs check what a session does in a child (lnetstat's
 * own Lua has no fork). The child ends with _exit: nothing of the parent's
 * state (buffers, atexit handlers, busted's output) runs twice. */
static int l_in_fork(lua_State *L)
{
	int fds[2], status;
	pid_t pid;
	luaL_Buffer b;
	char chunk[512];
	ssize_t n;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	if (pipe(fds) != 0)
		return luaL_error(L, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return luaL_error(L, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		const char *text;
		size_t len, off = 0;

		close(fds[0]);
		lua_pushvalue(L, 1);
		if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
			lua_pushfstring(L, "error: %s", lua_tostring(L, -1));
		}
		text = lua_tolstring(L, -1, &len);
		if (text == NULL)
			text = "(not a string)", len = strlen(text);
		while (off < len && (n = write(fds[1], text + off, len - off)) > 0)
			off += (size_t)n;
		_exit(0);
	}
	close(fds[1]);
	luaL_buffinit(L, &b);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		luaL_addlstring(&b, chunk, (size_t)n);
	close(fds[0]);
	(void)waitpid(pid, &status, 0);
	luaL_pushresult(&b);
	return 1;
}

/* in_thread(fn) -> text: calls fn() on a new thread of this process,
 * with this Lua state, while the calling thread waits for it; returns the
 * string fn returned, or "error: ...". Lets the specs ask from a second
 * thread (an HAProxy state used by several threads in turn). */
struct thread_call {
	lua_State *L;
	int status;
};

static void *thread_call_run(void *arg)
{
	struct thread_call *c = (struct thread_call *)arg;

	c->status = lua_pcall(c->L, 0, 1, 0);
	return NULL;
}

static int l_in_thread(lua_State *L)
{
	struct thread_call c;
	pthread_t tid;
	int err;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 1);
	c.L = L;
	c.status = LUA_OK;
	if ((err = pthread_create(&tid, NULL, thread_call_run, &c)) != 0)
		return luaL_error(L, "pthread_create: %s", strerror(err));
	(void)pthread_join(tid, NULL);
	if (c.status != LUA_OK)
		lua_pushfstring(L, "error: %s", lua_tostring(L, -1));
	return 1;
}

/* unshare_net() -> true | nil, msg: moves the calling thread into a new,
 * empty network namespace, as a host that calls unshare or setns between
 * two questions does. Only for a child _in_fork runs: the spec process
 * itself stays where it is. */
static int l_unshare_net(lua_State *L)
{
	if (unshare(CLONE_NEWNET) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* with_alloc_limit(n, fn, ...) -> true, fn's results | false, error:
 * calls fn(...) with the Lua state's allocator failing every allocation
 * or growth after the first n (frees and shrinks always succeed), then
 * puts the allocator back. Lets the specs raise a memory error at each
 * allocation of a call in turn, and check that none leaks a resource. */
struct alloc_limit {
	lua_Alloc f;
	void *ud;
	lua_Integer left;
};

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct alloc_limit *a = (struct alloc_limit *)ud;

	if (nsize > 0 && (ptr == NULL || nsize > osize)) {
		if (a->left <= 0)
			return NULL;
		a->left--;
	}
	return a->f(a->ud, ptr, osize, nsize);
}

static int l_with_alloc_limit(lua_State *L)
{
	struct alloc_limit a;
	int status;

	a.left = luaL_checkinteger(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	a.f = lua_getallocf(L, &a.ud);
	lua_setallocf(L, limited_alloc, &a);
	status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
	lua_setallocf(L, a.f, a.ud);
	luaL_checkstack(L, 1, NULL);
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, 2);
	return lua_gettop(L) - 1;
}

static const luaL_Reg testhook_funcs[] = {
	{"_with_alloc_limit", l_with_alloc_limit},
	{"_in_fork", l_in_fork},
	{"_unshare_net", l_unshare_net},
	{"_in_thread", l_in_thread},
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
	{"_decode_diag", l_decode_diag},
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
