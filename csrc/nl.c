/* Netlink sessions: opening sockets and /proc files (optionally inside
 * another network namespace) and the one dump loop every request uses. */
#include "lnetstat.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>

#define NL_MIN_BUFFER (32 * 1024)

static const char *const proc_file_names[PROC_COUNT] = {
	"tcp", "tcp6", "udp", "udp6", "udplite", "udplite6",
	"raw", "raw6", "unix", "packet", "netlink",
	"snmp", "netstat", "snmp6", "sockstat", "sockstat6",
	"dev", "if_inet6", "route", "ipv6_route", "igmp", "igmp6",
	"arp",
};

static void nlsock_close(struct nlsock *ns)
{
	if (ns->nl != NULL)
		mnl_socket_close(ns->nl);
	ns->nl = NULL;
	free(ns->buf);
	ns->buf = NULL;
	ns->size = 0;
}

static int nlsock_open(struct nlsock *ns, int bus)
{
	ns->nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (ns->nl == NULL)
		return -errno;
	if (mnl_socket_bind(ns->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(ns->nl);
		ns->nl = NULL;
		return -err;
	}
	ns->portid = mnl_socket_get_portid(ns->nl);
	ns->seq = 0;
	return 0;
}

static void session_close(struct session *s)
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
	free(s->ifnames.names);
	s->ifnames.names = NULL;
}

static struct session *check_session(lua_State *L, int idx)
{
	struct session *s = (struct session *)luaL_checkudata(L, idx, SESSION_MT);

	if (s->closed)
		luaL_argerror(L, idx, "session is closed");
	return s;
}

static int l_session_close(lua_State *L)
{
	struct session *s = (struct session *)luaL_checkudata(L, 1, SESSION_MT);
	session_close(s);
	return 0;
}

static int l_session_tostring(lua_State *L)
{
	struct session *s = (struct session *)luaL_checkudata(L, 1, SESSION_MT);

	lua_pushfstring(L, "lnetstat.session (%s)", s->closed ? "closed" : "open");
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
	}
	return 0;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Opens the plan's handles inside the netns at path. Returns 0 or a negative
 * errno, with *what naming the failed step. Never returns with the thread
 * outside its own namespace. */
static int open_in_netns(struct session *s, const struct open_plan *p,
			 const char *path, const char **what)
{
	int self, target, err = 0;

	*what = "open netns";
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		err = -errno;
		close(self);
		return err;
	}
	if (same_file(self, target)) {
		*what = "open";
		err = open_handles(s, p);
	} else if (setns(target, CLONE_NEWNET) != 0) {
		*what = "setns";
		err = -errno;
	} else {
		*what = "open";
		err = open_handles(s, p);
		if (setns(self, CLONE_NEWNET) != 0) {
			/* The thread is stranded in a foreign namespace: every
			 * later socket or /proc read would silently describe the
			 * wrong host. There is no safe way to go on. */
			fprintf(stderr, "lnetstat: cannot return to the original network namespace: %s\n",
				strerror(errno));
			abort();
		}
	}
	close(target);
	close(self);
	return err;
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
 * /proc/net/route, since "route" means the rtnetlink socket. */
static int l_open(lua_State *L)
{
	struct open_plan plan;
	struct session *s;
	const char *netns = luaL_optstring(L, 1, NULL);
	const char *what = "open";
	lua_Integer i, n;
	int err, idx;

	memset(&plan, 0, sizeof(plan));
	luaL_checktype(L, 2, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 2);
	for (i = 1; i <= n; i++) {
		const char *name;

		lua_rawgeti(L, 2, (int)i);
		name = lua_tostring(L, -1);
		if (name == NULL)
			return luaL_argerror(L, 2, "names expected");
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

	/* The userdata exists before anything is opened: if a later Lua error
	 * unwinds, __gc still closes what was opened. */
	s = (struct session *)lua_newuserdatauv(L, sizeof(*s), 0);
	memset(s, 0, sizeof(*s));
	for (idx = 0; idx < PROC_COUNT; idx++)
		s->proc_fd[idx] = -1;
	luaL_getmetatable(L, SESSION_MT);
	lua_setmetatable(L, -2);

	if (netns != NULL)
		err = open_in_netns(s, &plan, netns, &what);
	else
		err = open_handles(s, &plan);
	if (err != 0) {
		session_close(s);
		if (netns != NULL && strcmp(what, "open netns") == 0)
			return push_error(L, lua_pushfstring(L, "netns '%s'", netns), err);
		return push_error(L, what, err);
	}
	return 1;
}

/* Grows the buffer to hold at least need bytes (and never less than 32 KiB,
 * the size of the kernel's dump chunks). */
static int nlsock_reserve(struct nlsock *ns, size_t need)
{
	char *p;

	if (need < NL_MIN_BUFFER)
		need = NL_MIN_BUFFER;
	if (ns->size >= need)
		return 0;
	p = (char *)realloc(ns->buf, need);
	if (p == NULL)
		return -ENOMEM;
	ns->buf = p;
	ns->size = need;
	return 0;
}

/* Receives one datagram whole: peeks at its real size first, because a
 * fixed buffer silently truncates large messages. Returns its length or a
 * negative errno; 0 means the socket was closed. */
static ssize_t nlsock_recv(struct nlsock *ns)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr msg;
	ssize_t len;
	int fd = mnl_socket_get_fd(ns->nl), err;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = NULL;
		iov.iov_len = 0;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		len = recvmsg(fd, &msg, MSG_PEEK | MSG_TRUNC);
		if (len < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (len < 0)
			return -errno;
		if ((err = nlsock_reserve(ns, (size_t)len)) != 0)
			return err;
		iov.iov_base = ns->buf;
		iov.iov_len = ns->size;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		len = recvmsg(fd, &msg, 0);
		if (len < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (len < 0)
			return -errno;
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (from.nl_pid != 0)
			continue;   /* not from the kernel */
		return len;
	}
}

struct nl_result {
	int interrupted;   /* NLM_F_DUMP_INTR seen: the dump may be inconsistent */
	int messages;      /* data messages handed to the callback */
};

/* Sends req (its nlmsg_seq and nlmsg_pid are set here) and hands every reply
 * message to cb until NLMSG_DONE, an error, or — for a request without
 * NLM_F_DUMP — the first answer. Returns 0 or a negative errno; the errno
 * carried inside NLMSG_DONE is returned too, not ignored. */
static int nl_request(struct nlsock *ns, struct nlmsghdr *req, nl_msg_cb cb,
		      void *data, struct nl_result *res)
{
	int dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int stop_err = 0;

	memset(res, 0, sizeof(*res));
	req->nlmsg_seq = ++ns->seq;
	req->nlmsg_pid = 0;
	if (mnl_socket_sendto(ns->nl, req, req->nlmsg_len) < 0)
		return -errno;

	for (;;) {
		ssize_t len = nlsock_recv(ns);
		const struct nlmsghdr *nlh;
		int remaining;

		if (len < 0)
			return (int)len;
		if (len == 0)
			return -ECONNRESET;
		nlh = (const struct nlmsghdr *)ns->buf;
		remaining = (int)len;
		for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
			if (nlh->nlmsg_pid != ns->portid || nlh->nlmsg_seq != ns->seq)
				continue;   /* stale answer to an earlier request */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				res->interrupted = 1;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
					int err;

					memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
					if (err < 0)
						return err;
				}
				return stop_err;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr e;

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
					return -EBADMSG;
				memcpy(&e.error, NLMSG_DATA(nlh), sizeof(int));
				if (e.error != 0 || !dump)
					return e.error;
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (nlh->nlmsg_type == NLMSG_OVERRUN)
				return -ENOBUFS;
			/* After a callback error, keep draining to DONE so the
			 * socket stays usable for the next request. */
			if (stop_err == 0) {
				int r = cb(nlh, data);

				res->messages++;
				if (r < 0)
					stop_err = r;
			}
			if (!dump)
				return stop_err;
		}
		if (remaining > 0)
			return -EBADMSG;   /* trailing bytes that are not a message */
	}
}

static const luaL_Reg session_methods[] = {
	{"close", l_session_close},
	{NULL, NULL}
};

static void session_register(lua_State *L)
{
	luaL_newmetatable(L, SESSION_MT);
	lua_pushcfunction(L, l_session_close);
	lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
	lua_pushcfunction(L, l_session_close);
	lua_setfield(L, -2, "__close");
#endif
	lua_pushcfunction(L, l_session_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_newtable(L);
	luaL_setfuncs(L, session_methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}
