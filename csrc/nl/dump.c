/* The netlink transport: a socket with its own receive buffer, one
 * request and the dump loop every request uses (NLMSG_DONE and NLMSG_ERROR
 * handling, NLM_F_DUMP_INTR reporting, whole-datagram receives); the kernel
 * behaviour it relies on is in doc/kernel-notes.md §1. */
#include "nl/nl.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#define NL_MIN_BUFFER (32 * 1024)
/* A bounded socket receives two datagrams per call, each in its own half. */
#define NL_BOUNDED_BUFFER (2 * NL_MIN_BUFFER)
/* The datagrams of a dump read on the calling thread before a helper reads
 * ahead: about a thousand TCP sockets, where a thread's start (tens of
 * microseconds) is a small part of the call. */
#define READER_AFTER 4

void nlsock_close(struct nlsock *ns)
{
	nl_reader_finish(ns);
	if (ns->nl != NULL)
		mnl_socket_close(ns->nl);
	ns->nl = NULL;
	free(ns->buf);
	ns->buf = NULL;
	ns->size = 0;
	ns->queued = 0;
	ns->queued_err = 0;
	ns->clean = 0;
	ns->member = 0;
}

int nlsock_open(struct nlsock *ns, int bus)
{
	/* Not bound: the first sendto binds it (autobind), which saves a
	 * bind and a getsockname per session. Replies are matched by
	 * sequence number; these sockets join no multicast group while they
	 * carry requests, so everything the kernel sends them is an answer. */
	ns->reader = NULL;
	ns->nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (ns->nl == NULL)
		return -errno;
	ns->seq = 0;
	/* sock_diag never sets a minimum dump allocation, so its datagrams
	 * fit 32 KiB (doc/kernel-notes.md §1). */
	ns->bounded = bus == NETLINK_SOCK_DIAG;
	ns->queued = 0;
	ns->queued_err = 0;
	ns->clean = 1;
	ns->member = 0;
	return 0;
}

int nlsock_bind(struct nlsock *ns)
{
	struct sockaddr_nl addr;
	socklen_t len = sizeof(addr);
	int fd = mnl_socket_get_fd(ns->nl);

	nl_reader_finish(ns);
	ns->member = 1;   /* multicast will arrive on it: never a request socket again */
	if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		return -errno;
	if (addr.nl_pid != 0)
		return 0;   /* bound by an earlier request */
	memset(&addr, 0, sizeof(addr));
	addr.nl_family = AF_NETLINK;
	return bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : -errno;
}

char *nlsock_release_buffer(struct nlsock *ns, size_t *size)
{
	char *buf;

	nl_reader_finish(ns);
	buf = ns->buf;

	if (buf == NULL || ns->size > NL_BOUNDED_BUFFER)
		return NULL;
	*size = ns->size;
	ns->buf = NULL;
	ns->size = 0;
	return buf;
}

void nlsock_adopt_buffer(struct nlsock *ns, char *buf, size_t size)
{
	nl_reader_finish(ns);
	free(ns->buf);
	ns->buf = buf;
	ns->size = size;
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

/* A bounded socket's receive: up to two datagrams with one recvmmsg, the
 * second only if it is already queued (MSG_WAITFORONE). The kernel builds
 * the next part of a dump while the recvmsg that takes the previous part
 * runs, so the NLMSG_DONE after a dump's last part is already there when
 * that part is taken: a small dump costs one receive call instead of two
 * (doc/kernel-notes.md §1). The second datagram waits in the upper half of
 * the buffer for the next call. */
static ssize_t recv_bounded(struct nlsock *ns, int flags, char **data)
{
	struct sockaddr_nl from[2];
	struct iovec iov[2];
	struct mmsghdr mm[2];
	int fd, nowait = (flags & MSG_DONTWAIT) != 0;
	int got, i, verdict[2], err;

	if (ns->queued > 0) {
		ssize_t len = (ssize_t)ns->queued;

		ns->queued = 0;
		*data = ns->buf + NL_MIN_BUFFER;
		return len;
	}
	if (ns->queued_err != 0) {
		err = ns->queued_err;
		ns->queued_err = 0;
		return err;
	}
	if ((err = nlsock_reserve(ns, NL_BOUNDED_BUFFER)) != 0)
		return err;
	fd = mnl_socket_get_fd(ns->nl);
	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < 2; i++) {
			iov[i].iov_base = ns->buf + (size_t)i * NL_MIN_BUFFER;
			iov[i].iov_len = NL_MIN_BUFFER;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		got = recvmmsg(fd, mm, 2, flags | MSG_WAITFORONE, NULL);
		if (got < 0 && (errno == EINTR || (errno == EAGAIN && !nowait)))
			continue;
		if (got < 0)
			return -errno;
		for (i = 0; i < 2; i++)
			verdict[i] = i < got ? nl_datagram_verdict(&mm[i].msg_hdr) : 0;
		if (verdict[0] < 0)
			return verdict[0];
		if (verdict[0] == 0 && verdict[1] == 0)
			continue;   /* nothing from the kernel */
		if (verdict[0] == 0) {
			/* only the second counts: it is handed on from where it lies */
			*data = ns->buf + NL_MIN_BUFFER;
			return verdict[1] < 0 ? verdict[1] : (ssize_t)mm[1].msg_len;
		}
		if (verdict[1] < 0)
			ns->queued_err = verdict[1];
		else if (verdict[1] > 0)
			ns->queued = mm[1].msg_len;
		*data = ns->buf;
		return (ssize_t)mm[0].msg_len;
	}
}

/* Receives one datagram whole; *data points to it, inside ns's buffer,
 * until the next receive. flags: 0 or MSG_DONTWAIT (then -EAGAIN when none
 * is queued). Returns its length or a negative errno (-EBADF when ns was
 * closed); 0 means the kernel's end was closed. */
ssize_t nlsock_recv(struct nlsock *ns, int flags, char **data)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr msg;
	ssize_t len;
	int fd, err, nowait = (flags & MSG_DONTWAIT) != 0;

	nl_reader_finish(ns);
	if (ns->nl == NULL)
		return -EBADF;
	if (ns->bounded)
		return recv_bounded(ns, flags, data);
	fd = mnl_socket_get_fd(ns->nl);
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		/* a fixed buffer would silently truncate a large message: its
		 * real size is peeked at first */
		iov.iov_base = NULL;
		iov.iov_len = 0;
		len = recvmsg(fd, &msg, MSG_PEEK | MSG_TRUNC | flags);
		if (len < 0 && (errno == EINTR || (errno == EAGAIN && !nowait)))
			continue;
		if (len < 0)
			return -errno;
		if ((err = nlsock_reserve(ns, (size_t)len)) != 0)
			return err;
		iov.iov_base = ns->buf;
		iov.iov_len = ns->size;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		len = recvmsg(fd, &msg, flags);
		if (len < 0 && (errno == EINTR || (errno == EAGAIN && !nowait)))
			continue;
		if (len < 0)
			return -errno;
		if ((err = nl_datagram_verdict(&msg)) < 0)
			return err;
		if (err == 0)
			continue;
		*data = ns->buf;
		return len;
	}
}

/* The last message of an answer was read: the socket is clean when nothing
 * else waits in its buffer. */
static void answer_read(struct nlsock *ns)
{
	ns->clean = ns->queued == 0 && ns->queued_err == 0;
}

/* Reads away what is left of the answer to the last request, which
 * stopped before its end (an error, or a Lua error raised while a callback
 * ran), up to that answer's NLMSG_DONE or error; never waits. The kernel
 * refuses a new dump on a socket whose dump still runs (EBUSY), and builds
 * the next part of a dump while the previous one is read, so what is left
 * is there to read (doc/kernel-notes.md §1). */
static void drain_answer(struct nlsock *ns)
{
	for (;;) {
		char *datagram;
		ssize_t len = nlsock_recv(ns, MSG_DONTWAIT, &datagram);
		const struct nlmsghdr *nlh;
		size_t remaining;

		if (len == -EMSGSIZE || len == -ENOBUFS)
			continue;   /* that datagram is gone: the answer goes on */
		if (len <= 0)
			return;     /* nothing more queued, or the socket failed */
		nlh = (const struct nlmsghdr *)datagram;
		remaining = (size_t)len;
		for (; nl_msg_fits(nlh, remaining); nlh = nl_msg_next(nlh, &remaining)) {
			if (nlh->nlmsg_seq == ns->seq &&
			    (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR))
				return;
		}
	}
}

/* Sends req (its nlmsg_seq and nlmsg_pid are set here) and hands every reply
 * message to cb until NLMSG_DONE, an error, or — for a request without
 * NLM_F_DUMP — the first answer. Returns 0 or a negative errno; the errno
 * carried inside NLMSG_DONE is returned too, not ignored. -EBADF: ns is
 * closed; -ECANCELED: Lua code that a callback ran (a finalizer, a
 * metamethod) closed ns or sent another request on it, and the answer
 * cannot be read on. */
static int read_answer(struct nlsock *ns, struct nlmsghdr *req, nl_msg_cb cb,
		       void *data, struct nl_result *res)
{
	int dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int stop_err = 0, datagrams = 0, ahead_tried = 0;
	unsigned int seq;

	memset(res, 0, sizeof(*res));
	nl_reader_finish(ns);
	if (ns->nl == NULL)
		return -EBADF;
	if (!ns->clean)
		drain_answer(ns);
	seq = ++ns->seq;
	req->nlmsg_seq = seq;
	req->nlmsg_pid = 0;
	/* Clean again only once the whole answer is read: a socket left in
	 * the middle of a dump (an error, a Lua error raised from a callback)
	 * is never handed to another call. */
	ns->clean = 0;
	if (mnl_socket_sendto(ns->nl, req, req->nlmsg_len) < 0)
		return -errno;

	for (;;) {
		char *datagram;
		ssize_t len;
		const struct nlmsghdr *nlh;
		size_t remaining;

		/* A long dump is read ahead on a helper thread from its
		 * READER_AFTER-th datagram on (nl/reader.c): small answers
		 * never start one. */
		if (dump && !ahead_tried && datagrams >= READER_AFTER && !ns->member &&
		    ns->queued == 0 && ns->queued_err == 0) {
			ahead_tried = 1;   /* once: on one CPU it never starts */
			(void)nl_reader_start(ns, seq);
		}
		datagrams++;
		len = ns->reader != NULL ? nl_reader_next(ns, &datagram) : nlsock_recv(ns, 0, &datagram);
		if (len < 0)
			return (int)len;
		if (len == 0)
			return -ECONNRESET;
		nlh = (const struct nlmsghdr *)datagram;
		remaining = (size_t)len;
		for (; nl_msg_fits(nlh, remaining); nlh = nl_msg_next(nlh, &remaining)) {
			if (nlh->nlmsg_seq != seq)
				continue;   /* stale answer to an earlier request */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				res->interrupted = 1;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				answer_read(ns);
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
				if (e.error != 0 || !dump) {
					answer_read(ns);   /* an error ends the answer */
					return e.error;
				}
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
				/* the datagram may be gone: never read on */
				if (ns->nl == NULL || ns->seq != seq) {
					ns->clean = 0;
					return -ECANCELED;
				}
				if (r < 0)
					stop_err = r;
			}
			if (!dump) {
				answer_read(ns);
				return stop_err;
			}
		}
		if (remaining > 0)
			return -EBADMSG;   /* trailing bytes that are not a message */
	}
}

int nl_request(struct nlsock *ns, struct nlmsghdr *req, nl_msg_cb cb,
		      void *data, struct nl_result *res)
{
	int err = read_answer(ns, req, cb, data, res);

	/* the helper may have read past where the answer stopped being
	 * read: the socket is clean only if the answer was read whole */
	nl_reader_finish(ns);
	return err;
}

/* A request header of the given type and flags in buf, followed by a
 * zeroed family header of hdr_size bytes that is returned for the caller to
 * fill (struct ifinfomsg, rtmsg, inet_diag_req_v2, ...). */
void *nl_put_request(char *buf, struct nlmsghdr **nlh, uint16_t type, uint16_t flags,
		     size_t hdr_size)
{
	*nlh = mnl_nlmsg_put_header(buf);
	(*nlh)->nlmsg_type = type;
	(*nlh)->nlmsg_flags = flags;
	return mnl_nlmsg_put_extra_header(*nlh, hdr_size);
}
