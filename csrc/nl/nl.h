/* Netlink transport (nl/dump.c), sessions (nl/session.c) and attribute
 * readers (nl/attr.c). */
#ifndef LNETSTAT_NL_H
#define LNETSTAT_NL_H

#include "lnetstat.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <linux/netlink.h>

#pragma GCC visibility push(hidden)

/* nl/dump.c */
struct nl_result {
	int interrupted;   /* NLM_F_DUMP_INTR seen: the dump may be inconsistent */
	int messages;      /* data messages handed to the callback */
};

int nlsock_open(struct nlsock *ns, int bus);
void nlsock_close(struct nlsock *ns);
/* Gives a socket that has sent nothing yet its port id. A multicast
 * member needs one: the kernel skips members whose id is its own, 0. */
int nlsock_bind(struct nlsock *ns);
/* One whole datagram: its length (or a negative errno, 0 when the socket
 * was closed), *data pointing to it inside ns's buffer until the next
 * receive. */
ssize_t nlsock_recv(struct nlsock *ns, int flags, char **data);
/* Takes the receive buffer of ns away (ns gets a new one when it needs
 * one) if it has the size every socket starts with; NULL otherwise. */
char *nlsock_release_buffer(struct nlsock *ns, size_t *size);
/* Gives ns the buffer buf of size bytes in place of its own. */
void nlsock_adopt_buffer(struct nlsock *ns, char *buf, size_t size);
int nl_request(struct nlsock *ns, struct nlmsghdr *req, nl_msg_cb cb,
	       void *data, struct nl_result *res);
void *nl_put_request(char *buf, struct nlmsghdr **nlh, uint16_t type, uint16_t flags,
		     size_t hdr_size);

/* What one received datagram is: 1 to hand on, 0 to skip (not from the
 * kernel), or -EMSGSIZE (cut short: never handed on). */
static inline int nl_datagram_verdict(const struct msghdr *msg)
{
	const struct sockaddr_nl *from = (const struct sockaddr_nl *)msg->msg_name;

	if (msg->msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return from->nl_pid == 0;
}

/* nl/reader.c: the read-ahead of a long dump on a helper thread. */
/* The CPUs the calling thread may run on: a helper gains nothing on one. */
int nl_usable_cpus(void);
/* Starts a helper that receives the rest of the answer to request seq on
 * ns; 0, or a negative errno (one usable CPU: -EAGAIN), and the caller
 * goes on receiving by itself. */
int nl_reader_start(struct nlsock *ns, unsigned int seq);
/* The answer's next datagram (the one before it is released): its length
 * or a negative errno, *data pointing to it until the next call. */
ssize_t nl_reader_next(struct nlsock *ns, char **data);
/* Stops ns's helper, if it has one, waits for it and frees it. Every user
 * of ns calls it first. */
void nl_reader_finish(struct nlsock *ns);

/* True when a whole message starts at nlh within left bytes. Unsigned all
 * the way: a length of 2^31 or more is not a negative number that passes. */
static inline int nl_msg_fits(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(struct nlmsghdr) && nlh->nlmsg_len >= sizeof(struct nlmsghdr)
		&& nlh->nlmsg_len <= left;
}

/* The message after nlh (which fits), and the bytes left after it; the
 * last message of a datagram may lack its padding. */
static inline const struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nlh, size_t *left)
{
	size_t step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);

	if (step > *left)
		step = *left;
	*left -= step;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

/* nl/session.c */
/* The file names under /proc/net, indexed by enum proc_file. */
extern const char *const proc_file_names[PROC_COUNT];

/* Why /proc/net file pf of s is not open: the errno its open gave
 * (ENOENT when the namespace has no such file, or it was not asked for). */
static inline int session_proc_errno(const struct session *s, int pf)
{
	return s->proc_err[pf] != 0 ? s->proc_err[pf] : ENOENT;
}

/* The hold of an object that a call reads while it runs Lua code (a sink,
 * a route letters table's __index, a finalizer the collector runs during
 * any allocation). That code may call the core again with the object, or
 * close it, while the call is still walking its buffers: while an object
 * is held, a second call on it is refused ("busy") and a close() only
 * asks for the close, which happens when the last hold ends. One mechanism
 * for every such call: the guard of the functions that take a session
 * (session_setfuncs) and w:read, which holds its watch and its names
 * session. */
struct hold {
	unsigned int busy;     /* held by calls reading the object */
	int close_pending;     /* close() asked while busy */
	/* Closes the object, whose userdata is at idx, once the last hold of
	 * it ends after a close was asked. */
	void (*close)(lua_State *L, int idx, struct hold *h);
};

/* One object a guarded call holds: its hold and its userdata's absolute
 * stack index. */
struct held {
	struct hold *hold;
	int idx;
};

/* A close() of the object of h: 1 when h is held (the close is asked for,
 * and happens when the last hold ends), 0 when the caller closes now. */
static inline int hold_defer_close(struct hold *h)
{
	if (h->busy == 0)
		return 0;
	h->close_pending = 1;
	return 1;
}

/* Calls the function under its nargs arguments on top of the stack, as
 * lua_pcall(L, nargs, LUA_MULTRET, msgh), with the n objects of objs held
 * for that time (the caller has refused any that is busy or closed); then
 * releases them and closes each whose close was asked meanwhile. Returns
 * lua_pcall's status, and *closed the number of objects closed; raises
 * nothing, so the caller raises the error after everything is released.
 * Inline: the guard runs once per call, and with n a constant the loops
 * cost no more than one hold taken by hand. */
static inline int hold_pcall(lua_State *L, const struct held *objs, int n, int nargs,
			     int msgh, int *closed)
{
	int i, status;

	for (i = 0; i < n; i++)
		objs[i].hold->busy++;
	status = lua_pcall(L, nargs, LUA_MULTRET, msgh);
	for (i = 0; i < n; i++)
		objs[i].hold->busy--;   /* every hold ends before any close runs */
	*closed = 0;
	for (i = 0; i < n; i++) {
		struct hold *h = objs[i].hold;

		if (h->busy > 0 || !h->close_pending)
			continue;
		h->close_pending = 0;
		h->close(L, objs[i].idx, h);
		++*closed;
	}
	return status;
}

/* The open session at idx; raises when it is closed. A core function
 * whose first argument is a session is registered guarded
 * (session_setfuncs), and the guard has refused a session already held
 * by another call before the function runs. */
struct session *check_session(lua_State *L, int idx);
/* The same for a session that is no first argument (w:read's names):
 * raises also when another call holds it. */
struct session *check_idle_session(lua_State *L, int idx);
/* The hold of the open session s, for a call that holds it itself
 * (hold_pcall). */
struct hold *session_hold(struct session *s);
void session_close(struct session *s);
void session_register(lua_State *L);
/* Every way a netns argument can fail to be a network namespace (missing,
 * unreadable, a FIFO, a device, a regular file, another namespace type)
 * gives this one errno and the caller one message, so the answer says
 * nothing about other files. */
#define NOT_A_NETNS ENOENT
/* Opens the network namespace file at path for setns or NETNSA_FD without
 * side effects (never blocks on a FIFO, never opens a device): the fd, or a
 * negative errno (-NOT_A_NETNS: not a network namespace). */
int netns_open(const char *path);
/* nil, "netns 'PATH': ...", errno for a failure err of netns_open; 3. */
int push_netns_error(lua_State *L, const char *path, int err);

/* nl/attr.c: tb[type] = the last attribute of each type below size (the
 * caller zeroes tb); other types are ignored, and the first attribute that
 * does not fit ends the walk. Return MNL_CB_OK, as libmnl's parsers do. */
int nl_attrs_parse(const struct nlmsghdr *nlh, unsigned int offset,
		   const struct nlattr **tb, int size);
int nl_attrs_parse_nested(const struct nlattr *nest, const struct nlattr **tb, int size);
/* The scalar readers test what mnl_attr_validate tests for their type (a
 * payload of exactly the scalar's size), inline: a route record reads
 * seven of them. 1 and *out set, or 0. */
static inline int nl_attr_u32(const struct nlattr *a, uint32_t *out)
{
	if (a == NULL || a->nla_len != NLA_HDRLEN + sizeof(uint32_t))
		return 0;
	memcpy(out, (const char *)a + NLA_HDRLEN, sizeof(uint32_t));
	return 1;
}

static inline int nl_attr_u8(const struct nlattr *a, uint8_t *out)
{
	if (a == NULL || a->nla_len != NLA_HDRLEN + sizeof(uint8_t))
		return 0;
	*out = *((const uint8_t *)a + NLA_HDRLEN);
	return 1;
}
const char *nl_attr_str(const struct nlattr *a);
/* The family header of nlh (hdr_size bytes) when nlh is a message of type
 * long enough to hold it, else NULL. */
const void *nl_msg_hdr(const struct nlmsghdr *nlh, uint16_t type, size_t hdr_size);
/* The payload of a when it holds at least min bytes, else NULL. */
const void *nl_attr_min(const struct nlattr *a, size_t min);
/* Copies the first size bytes of a's payload to out (it may be unaligned)
 * and returns 1 when it holds that many; 0 and out untouched otherwise. */
int nl_attr_copy(const struct nlattr *a, void *out, size_t size);
/* The next NUL-terminated string attribute of type inside nest after *pos
 * (*pos NULL: from the first), or NULL when there is none; *pos follows. */
const char *nl_nest_next_str(const struct nlattr *nest, uint16_t type,
			     const struct nlattr **pos);

/* Hands every whole nlmsghdr-framed message of buf to cb, in order; stops
 * at a length field that is too short or runs past the end (all lengths
 * compared unsigned: a nlmsg_len of 2^31 or more is no negative length).
 * Returns the bytes left over that are no whole message. */
size_t nl_msgs_walk(const void *buf, size_t len, nl_msg_cb cb, void *data);

#pragma GCC visibility pop

#endif
