/* Change events: netlink sockets subscribed to multicast groups, read
 * without blocking. rtnetlink's groups report links, addresses, routes and
 * neighbours; sock_diag's destroy groups report sockets as they close.
 * Each message becomes an event { kind, action, change, record } whose
 * record is built by the decoder the list function uses (link_msg_cb,
 * adr_msg_cb, nei_msg_cb, route_push_msg, inet_msg_cb), with interface
 * names from a second session of the same netns: the subscribed socket
 * cannot also carry name requests, because multicast messages would be
 * interleaved with their answers.
 *
 * A receive queue that overflowed (ENOBUFS) becomes one event of kind
 * "overflow": events were dropped and the caller re-reads the state. */
#include "record/class.h"
#include "source/watch.h"
#include "source/rtnl.h"
#include "source/diag.h"
#include "nl/nl.h"
#include "text/text.h"
#include "record/push.h"
#include "record/socket.h"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define WATCH_MT "lnetstat.watch"
/* Datagrams read from one socket per call: a steady stream of events
 * cannot keep a poll() from returning. */
#define WATCH_BATCH 256
/* Links gone (RTM_DELLINK) whose names the next read forgets; more in one
 * read make it forget every name (they are loaded again when asked). */
#define WATCH_GONE_MAX 64

/* The kinds a watch reports (bits of the kinds argument). */
enum { W_LINK = 1, W_ADDR = 2, W_ROUTE = 4, W_NEIGH = 8, W_SOCKET = 16 };

struct watch {
	struct nlsock route;     /* rtnetlink groups; nl NULL when none */
	struct nlsock diag;      /* sock_diag destroy groups; nl NULL when none */
	int epfd;                /* both sockets: what w:fd() hands out */
	int kinds;
	int family;              /* AF_UNSPEC: both */
	long long table;         /* route events of this table; -1: any */
	struct sock_filter f;    /* the fields of socket records */
	/* The names session learns each link's name from its messages, so
	 * that an event read after its link went away still names it. The
	 * names of links that went away are forgotten at the start of the
	 * next read (the caller has completed the last read's records by
	 * then), so that link churn does not grow the map. */
	uint32_t gone[WATCH_GONE_MAX];
	unsigned int gone_n;
	int forget_all;          /* too many gone, or events lost: forget every name */
	int closed;
	/* A read builds Lua tables, and a finalizer the collector runs then
	 * may call w:close() or w:read(): while a read holds the watch, read
	 * raises and close waits for the read to end (l_watch_read). */
	struct hold hold;
};

static void watch_close(struct watch *w)
{
	if (w->closed)
		return;
	w->closed = 1;
	nlsock_close(&w->route);
	nlsock_close(&w->diag);
	if (w->epfd >= 0)
		close(w->epfd);
	w->epfd = -1;
}

/* The close a watch's hold does when the read holding it ends. */
static void hold_close_watch(lua_State *L, int idx, struct hold *h)
{
	(void)L;
	(void)idx;
	watch_close((struct watch *)(void *)((char *)h - offsetof(struct watch, hold)));
}

static struct watch *check_watch(lua_State *L, int idx)
{
	struct watch *w = (struct watch *)luaL_checkudata(L, idx, WATCH_MT);

	if (w->closed || w->hold.close_pending)
		luaL_argerror(L, idx, "watch is closed");
	if (w->hold.busy > 0)
		luaL_argerror(L, idx, "watch is busy: a read of it is running Lua code");
	return w;
}

static int l_watch_close(lua_State *L)
{
	struct watch *w = (struct watch *)luaL_checkudata(L, 1, WATCH_MT);

	if (!hold_defer_close(&w->hold))   /* held: when the read ends */
		watch_close(w);
	return 0;
}

static int l_watch_fd(lua_State *L)
{
	lua_pushinteger(L, check_watch(L, 1)->epfd);
	return 1;
}

static int l_watch_tostring(lua_State *L)
{
	struct watch *w = (struct watch *)luaL_checkudata(L, 1, WATCH_MT);

	lua_pushfstring(L, "lnetstat.watch (%s)", w->closed || w->hold.close_pending ? "closed" : "open");
	return 1;
}

/* ---- opening ---- */

static int join(struct nlsock *ns, int group)
{
	if (setsockopt(mnl_socket_get_fd(ns->nl), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		       &group, sizeof(group)) != 0)
		return -errno;
	return 0;
}

/* Non-blocking, with the receive buffer asked for (0: 1 MiB, as ip monitor
 * uses; the kernel caps it at net.core.rmem_max and doubles it), and in
 * the epoll set under tag. */
static int prepare(struct watch *w, struct nlsock *ns, int rcvbuf, uint32_t tag)
{
	struct epoll_event ev;
	int fd = mnl_socket_get_fd(ns->nl), flags;

	if (rcvbuf <= 0)
		rcvbuf = 1024 * 1024;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = tag;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	return 0;
}

/* Joins the rtnetlink groups of the kinds. The link group is joined for
 * every watch: link events keep the interface names current. */
static int join_route(struct watch *w, const char **what)
{
	int v4 = w->family != AF_INET6, v6 = w->family != AF_INET, err = 0;

	*what = "join RTNLGRP_LINK";
	if ((err = join(&w->route, RTNLGRP_LINK)) != 0)
		return err;
	if (w->kinds & W_ADDR) {
		*what = "join RTNLGRP_IPV4_IFADDR";
		if (v4 && (err = join(&w->route, RTNLGRP_IPV4_IFADDR)) != 0)
			return err;
		*what = "join RTNLGRP_IPV6_IFADDR";
		if (v6 && (err = join(&w->route, RTNLGRP_IPV6_IFADDR)) != 0)
			return err;
	}
	if (w->kinds & W_ROUTE) {
		*what = "join RTNLGRP_IPV4_ROUTE";
		if (v4 && (err = join(&w->route, RTNLGRP_IPV4_ROUTE)) != 0)
			return err;
		*what = "join RTNLGRP_IPV6_ROUTE";
		if (v6 && (err = join(&w->route, RTNLGRP_IPV6_ROUTE)) != 0)
			return err;
	}
	*what = "join RTNLGRP_NEIGH";
	if ((w->kinds & W_NEIGH) && (err = join(&w->route, RTNLGRP_NEIGH)) != 0)
		return err;
	return 0;
}

static int join_diag(struct watch *w, const char **what)
{
	int v4 = w->family != AF_INET6, v6 = w->family != AF_INET, err;

	*what = "join the sock_diag destroy groups";
	if (v4 && ((err = join(&w->diag, SKNLGRP_INET_TCP_DESTROY)) != 0 ||
		   (err = join(&w->diag, SKNLGRP_INET_UDP_DESTROY)) != 0))
		return err;
	if (v6 && ((err = join(&w->diag, SKNLGRP_INET6_TCP_DESTROY)) != 0 ||
		   (err = join(&w->diag, SKNLGRP_INET6_UDP_DESTROY)) != 0))
		return err;
	return 0;
}

/* core.watch(session, kinds, family, table, rcvbuf, filter)
 * -> watch | nil, msg, errno.
 * Takes the session's netlink sockets over (they were opened in the
 * session's netns; the session keeps its /proc files and can be closed):
 * the route socket for kinds W_LINK..W_NEIGH, the diag socket for
 * W_SOCKET. family: "inet", "inet6" or nil (both); table: route events of
 * that table only (-1: every table); rcvbuf: the receive buffer in bytes
 * (0: the default); filter: the sock_diag filter table (its fields). */
int l_watch(lua_State *L)
{
	static const char *const families[] = {"inet", "inet6", NULL};
	struct session *s = check_session(L, 1);
	lua_Integer kinds = luaL_checkinteger(L, 2);
	lua_Integer table = luaL_optinteger(L, 4, -1);
	lua_Integer rcvbuf = luaL_optinteger(L, 5, 0);
	const char *what = "watch";
	struct watch *w;
	int err = 0;

	luaL_argcheck(L, kinds > 0 && kinds <= 31, 2, "kinds mask expected");
	luaL_argcheck(L, table >= -1 && table <= 0xffffffffLL, 4, "table id out of range");
	luaL_argcheck(L, rcvbuf >= 0 && rcvbuf <= 0x7fffffff, 5, "buffer size out of range");
	if ((kinds & (W_LINK | W_ADDR | W_ROUTE | W_NEIGH)) && s->route.nl == NULL)
		return luaL_argerror(L, 1, "session has no route socket");
	if ((kinds & W_SOCKET) && s->diag.nl == NULL)
		return luaL_argerror(L, 1, "session has no sock_diag socket");

	w = (struct watch *)lua_newuserdatauv(L, sizeof(*w), 0);
	memset(w, 0, sizeof(*w));
	w->epfd = -1;
	w->hold.close = hold_close_watch;
	w->kinds = (int)kinds;
	w->family = AF_UNSPEC;
	if (!lua_isnoneornil(L, 3))
		w->family = check_enum(L, 3, families) ? AF_INET6 : AF_INET;
	w->table = table;
	read_filter(L, 6, &w->f);
	luaL_getmetatable(L, WATCH_MT);
	lua_setmetatable(L, -2);

	/* Ownership moves before anything can fail: __gc closes what the
	 * watch holds, session_close no longer sees it. */
	if (kinds & (W_LINK | W_ADDR | W_ROUTE | W_NEIGH)) {
		w->route = s->route;
		memset(&s->route, 0, sizeof(s->route));
	}
	if (kinds & W_SOCKET) {
		w->diag = s->diag;
		memset(&s->diag, 0, sizeof(s->diag));
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		what = "epoll_create1";
		err = -errno;
	}
	if (err == 0 && w->route.nl != NULL && (err = nlsock_bind(&w->route)) != 0)
		what = "rtnetlink socket";
	if (err == 0 && w->route.nl != NULL && (err = join_route(w, &what)) == 0) {
		what = "rtnetlink socket";
		err = prepare(w, &w->route, (int)rcvbuf, 0);
	}
	if (err == 0 && w->diag.nl != NULL && (err = nlsock_bind(&w->diag)) != 0)
		what = "sock_diag socket";
	if (err == 0 && w->diag.nl != NULL && (err = join_diag(w, &what)) == 0) {
		what = "sock_diag socket";
		err = prepare(w, &w->diag, (int)rcvbuf, 1);
	}
	if (err != 0) {
		watch_close(w);
		return push_error(L, what, err);
	}
	return 1;
}

/* ---- reading ---- */


/* What one call builds: the events list, a scratch list the decoders
 * append their one record to, and the names session. */
struct batch {
	lua_State *L;
	struct watch *w;
	struct session *names;
	int events;     /* stack index of the events list */
	int scratch;    /* stack index of the scratch list */
	lua_Integer n;  /* events so far */
	uint32_t nameless;   /* an index the names were reloaded for in vain */
};

/* Turns the record a decoder appended to the scratch list (if any) into an
 * event; change < 0: not known. */
static void emit(struct batch *b, lua_Integer appended, const char *kind,
		 const char *action, int change)
{
	lua_State *L = b->L;

	if (appended == 0)
		return;
	lua_createtable(L, 0, 4);
	set_str(L, "kind", kind);
	set_str(L, "action", action);
	if (change > 0)
		set_bool(L, "change", 1);
	lua_rawgeti(L, b->scratch, 1);
	lua_setfield(L, -2, "record");
	lua_pushnil(L);
	lua_rawseti(L, b->scratch, 1);
	lua_rawseti(L, b->events, (int)++b->n);
}

static void emit_overflow(struct batch *b, const char *source)
{
	lua_State *L = b->L;

	/* a lost RTM_DELLINK leaves a name the map would keep forever */
	b->w->forget_all = 1;
	lua_createtable(L, 0, 3);
	set_str(L, "kind", "overflow");
	set_str(L, "source", source);
	lua_pushfstring(L, "the %s receive queue overflowed (ENOBUFS): events were lost; "
			"re-read the state", source);
	lua_setfield(L, -2, "message");
	lua_rawseti(L, b->events, (int)++b->n);
}

/* The name of ifindex must be current: an interface that appeared since
 * the names were loaded makes them load again, once per index and read:
 * the events about a link already gone (its addresses, neighbours and
 * routes going with it) do not each reload the names in vain. */
static void fresh_name(struct batch *b, uint32_t index)
{
	if (index == 0 || index == b->nameless || session_ifname(b->names, index) != NULL)
		return;
	b->names->ifnames.loaded = 0;
	if (session_ifname(b->names, index) == NULL)
		b->nameless = index;
}

/* The names of the links that went away during the last read leave the
 * map (all of them when that read lost events or saw too many go). */
static void forget_gone(struct watch *w, struct session *names)
{
	struct ifname_map *m = &names->ifnames;
	unsigned int g;
	uint32_t i;

	if (w->forget_all) {
		m->count = 0;
		m->loaded = 0;
	}
	for (g = 0; g < w->gone_n && !w->forget_all; g++) {
		for (i = 0; i < m->count && m->entries[i].index != w->gone[g]; i++)
			;
		if (i < m->count) {
			memmove(m->entries + i, m->entries + i + 1,
				(size_t)(m->count - i - 1) * sizeof(*m->entries));
			m->count--;
		}
	}
	w->gone_n = 0;
	w->forget_all = 0;
}

static void on_link(struct batch *b, struct nlmsghdr *nlh, const char *action)
{
	const struct ifinfomsg *ifi = (const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh);
	struct link_ctx c;

	if (ifi->ifi_family != AF_UNSPEC)
		return;   /* AF_BRIDGE port reports are no interfaces() records */
	if (action[0] == 'd' && ifi->ifi_index > 0) {
		if (b->w->gone_n < WATCH_GONE_MAX)
			b->w->gone[b->w->gone_n++] = (uint32_t)ifi->ifi_index;
		else
			b->w->forget_all = 1;
	}
	memset(&c, 0, sizeof(c));
	c.L = b->L;
	c.s = b->names;
	c.list = b->scratch;
	/* The map learns the name (or the new name) from the message itself:
	 * by the time the events that follow are read, the link may be gone
	 * from the kernel and from any dump. */
	c.fill_names = 1;
	nlh->nlmsg_type = RTM_NEWLINK;   /* the decoder reads both alike */
	(void)link_msg_cb(nlh, &c);
	if (c.n == 0 && c.fill_names) {
		c.fill_names = 0;   /* no room for the name: the record all the same */
		(void)link_msg_cb(nlh, &c);
	}
	if (!(b->w->kinds & W_LINK)) {
		if (c.n > 0) {
			lua_pushnil(b->L);
			lua_rawseti(b->L, b->scratch, 1);
		}
		return;
	}
	/* ifi_change: ~0 when the kernel announces a new link, the changed
	 * flags (or 0 for other attributes) when it reports an existing one. */
	emit(b, c.n, "link", action,
	     action[0] == 'n' ? ifi->ifi_change != 0xFFFFFFFFu : -1);
}

static void on_addr(struct batch *b, struct nlmsghdr *nlh, const char *action)
{
	const struct ifaddrmsg *ifa = (const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh);
	struct adr_ctx c;

	if (!(b->w->kinds & W_ADDR))
		return;
	fresh_name(b, ifa->ifa_index);
	memset(&c, 0, sizeof(c));
	c.L = b->L;
	c.s = b->names;
	c.list = b->scratch;
	nlh->nlmsg_type = RTM_NEWADDR;
	(void)adr_msg_cb(nlh, &c);
	emit(b, c.n, "address", action, -1);
}

static void on_neigh(struct batch *b, struct nlmsghdr *nlh, const char *action)
{
	const struct ndmsg *ndm = (const struct ndmsg *)mnl_nlmsg_get_payload(nlh);
	struct nei_ctx c;

	if (!(b->w->kinds & W_NEIGH) ||
	    (b->w->family != AF_UNSPEC && ndm->ndm_family != b->w->family))
		return;
	if (ndm->ndm_ifindex > 0)
		fresh_name(b, (uint32_t)ndm->ndm_ifindex);
	memset(&c, 0, sizeof(c));
	c.L = b->L;
	c.s = b->names;
	c.list = b->scratch;
	c.hz = user_hz();
	nlh->nlmsg_type = RTM_NEWNEIGH;
	(void)nei_msg_cb(nlh, &c);
	emit(b, c.n, "neighbor", action, -1);
}

static void on_route(struct batch *b, struct nlmsghdr *nlh, const char *action)
{
	const struct rtmsg *rtm = (const struct rtmsg *)mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	lua_Integer n = 0;
	uint32_t oif;

	if (!(b->w->kinds & W_ROUTE) || (rtm->rtm_flags & RTM_F_CLONED))
		return;   /* cached exceptions are not routes() records */
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(a) == RTA_OIF && nl_attr_u32(a, &oif))
			fresh_name(b, oif);
	}
	nlh->nlmsg_type = RTM_NEWROUTE;
	if (route_push_msg(b->L, b->names, nlh, b->w->table)) {
		lua_rawseti(b->L, b->scratch, 1);
		n = 1;
	}
	/* NLM_F_REPLACE: the route replaced one the table had. */
	emit(b, n, "route", action,
	     action[0] == 'n' ? (nlh->nlmsg_flags & NLM_F_REPLACE) != 0 : -1);
}

static void on_socket(struct batch *b, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	const struct inet_diag_msg *m = (const struct inet_diag_msg *)mnl_nlmsg_get_payload(nlh);
	struct diag_ctx c;
	uint8_t proto;

	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*m), tb, INET_DIAG_MAX + 1) < 0 ||
	    !nl_attr_u8(tb[INET_DIAG_PROTOCOL], &proto))
		return;
	memset(&c, 0, sizeof(c));
	c.L = b->L;
	c.s = b->names;
	c.list = b->scratch;
	c.proto = proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" :
		  proto == IPPROTO_UDPLITE ? "udplite" : NULL;
	if (c.proto == NULL)
		return;
	c.family = m->idiag_family;
	c.f = b->w->f;
	sock_keys_push(b->L, &c.sk, b->names, 0);
	(void)inet_msg_cb(nlh, &c);
	sock_keys_pop(&c.sk);
	emit(b, c.n, "socket", "del", -1);
}

static void on_message(struct batch *b, struct nlmsghdr *nlh, int diag)
{
	size_t hdr;

	if (diag) {
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			on_socket(b, nlh);
		return;
	}
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK: case RTM_DELLINK: hdr = sizeof(struct ifinfomsg); break;
	case RTM_NEWADDR: case RTM_DELADDR: hdr = sizeof(struct ifaddrmsg); break;
	case RTM_NEWROUTE: case RTM_DELROUTE: hdr = sizeof(struct rtmsg); break;
	case RTM_NEWNEIGH: case RTM_DELNEIGH: hdr = sizeof(struct ndmsg); break;
	default: return;
	}
	if (nlh->nlmsg_len < NLMSG_LENGTH(hdr))
		return;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK: on_link(b, nlh, "new"); break;
	case RTM_DELLINK: on_link(b, nlh, "del"); break;
	case RTM_NEWADDR: on_addr(b, nlh, "new"); break;
	case RTM_DELADDR: on_addr(b, nlh, "del"); break;
	case RTM_NEWROUTE: on_route(b, nlh, "new"); break;
	case RTM_DELROUTE: on_route(b, nlh, "del"); break;
	case RTM_NEWNEIGH: on_neigh(b, nlh, "new"); break;
	default: on_neigh(b, nlh, "del"); break;
	}
}

/* Reads what is queued on one socket (at most WATCH_BATCH datagrams).
 * Returns 0 or a negative errno. */
static int drain(struct batch *b, struct nlsock *ns, int diag)
{
	int i;

	for (i = 0; i < WATCH_BATCH; i++) {
		char *data;
		ssize_t len = nlsock_recv(ns, MSG_DONTWAIT, &data);
		struct nlmsghdr *nlh;   /* the decoders may retype it: the buffer is ours */
		size_t remaining;

		if (len == -EAGAIN)
			return 0;
		if (len == -ENOBUFS) {
			emit_overflow(b, diag ? "sock_diag" : "rtnetlink");
			continue;
		}
		if (len < 0)
			return (int)len;
		if (len == 0)
			return -ECONNRESET;
		nlh = (struct nlmsghdr *)data;
		remaining = (size_t)len;
		for (; nl_msg_fits(nlh, remaining);
		     nlh = (struct nlmsghdr *)nl_msg_next(nlh, &remaining)) {
			if (nlh->nlmsg_type == NLMSG_OVERRUN)
				emit_overflow(b, diag ? "sock_diag" : "rtnetlink");
			else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
				on_message(b, nlh, diag);
		}
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The read itself (l_watch_read): the watch, the names session and the
 * timeout at 1, 2 and 3, all checked. */
static int watch_read(lua_State *L)
{
	struct watch *w = (struct watch *)lua_touserdata(L, 1);
	struct session *names = (struct session *)lua_touserdata(L, 2);
	lua_Integer timeout = lua_tointeger(L, 3);
	long long deadline = timeout > 0 ? now_ms() + timeout : 0;
	struct batch b;
	int err = 0;

	forget_gone(w, names);
	memset(&b, 0, sizeof(b));
	b.L = L;
	b.w = w;
	b.names = names;
	lua_newtable(L);
	b.events = lua_gettop(L);
	lua_newtable(L);
	b.scratch = lua_gettop(L);
	for (;;) {
		struct pollfd pfd;
		long long wait;
		int r;

		if (w->route.nl != NULL && (err = drain(&b, &w->route, 0)) != 0)
			break;
		if (w->diag.nl != NULL && (err = drain(&b, &w->diag, 1)) != 0)
			break;
		if (b.n > 0 || timeout == 0)
			break;
		wait = -1;
		if (timeout > 0) {
			wait = deadline - now_ms();
			if (wait <= 0)
				break;
		}
		pfd.fd = w->epfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, wait > 0x7fffffff ? 0x7fffffff : (int)wait);
		if (r < 0 && errno == EINTR) {
			lua_pop(L, 1);
			lua_pushboolean(L, 1);
			if (timeout > 0) {
				wait = deadline - now_ms();
				lua_pushinteger(L, wait > 0 ? (lua_Integer)wait : 0);
			} else {
				lua_pushinteger(L, (lua_Integer)timeout);
			}
			return 3;
		}
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;   /* timed out */
	}
	if (err != 0)
		return push_error(L, "watch: receive", err);
	lua_pop(L, 1);
	lua_pushboolean(L, 0);
	lua_pushinteger(L, 0);
	return 3;
}

/* w:read(names, timeout_ms) -> events, interrupted, remaining_ms
 * | nil, msg, errno.
 * The events that have arrived; when there are none, waits up to
 * timeout_ms (0: not at all, -1: without limit) for some. A signal ends the
 * wait early: interrupted is true and remaining_ms what is left of it (the
 * caller calls again, after Lua has had the chance to act on the signal).
 * While it reads, the watch and the names session are held (a finalizer
 * run by the collector cannot close or reuse them under the decoders),
 * under lua_pcall, so that an error (memory) releases them before it goes
 * on; a close asked for meanwhile happens then. */
static int l_watch_read(lua_State *L)
{
	struct watch *w = check_watch(L, 1);
	struct session *names = check_idle_session(L, 2);
	lua_Integer timeout = luaL_optinteger(L, 3, 0);
	struct held two[2];
	int status, closed;

	lua_settop(L, 2);
	lua_pushinteger(L, timeout);
	lua_pushcfunction(L, watch_read);   /* 5.1: may raise (memory); nothing held yet */
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	two[0].hold = session_hold(names);
	two[0].idx = 2;
	two[1].hold = &w->hold;
	two[1].idx = 1;
	status = hold_pcall(L, two, 2, 3, 0, &closed);
	if (status != LUA_OK)
		lua_error(L);
	return lua_gettop(L) - 3;
}

static const luaL_Reg watch_methods[] = {
	{"read", l_watch_read},
	{"fd", l_watch_fd},
	{"close", l_watch_close},
	{NULL, NULL}
};

void watch_register(lua_State *L)
{
	class_register(L, WATCH_MT, l_watch_close, l_watch_tostring, watch_methods);
}
