/* The netlink transport: a socket with its own receive buffer, one
 * request and the dump loop every request uses (NLMSG_DONE and NLMSG_ERROR
 * handling, NLM_F_DUMP_INTR reporting, whole-datagram receives); the kernel
 * behaviour it relies on is in doc/kernel-notes.md §1. */
#include "nl/nl.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#define NL_MIN_BUFFER (32 * 1024)

void nlsock_close(struct nlsock *ns)
{
	if (ns->nl != NULL)
		mnl_socket_close(ns->nl);
	ns->nl = NULL;
	free(ns->buf);
	ns->buf = NULL;
	ns->size = 0;
}

int nlsock_open(struct nlsock *ns, int bus)
{
	/* Not bound: the first sendto binds it (autobind), which saves a
	 * bind and a getsockname per session. Replies are matched by
	 * sequence number; these sockets join no multicast group while they
	 * carry requests, so everything the kernel sends them is an answer. */
	ns->nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (ns->nl == NULL)
		return -errno;
	ns->seq = 0;
	/* sock_diag never sets a minimum dump allocation, so its datagrams
	 * fit the 32 KiB the buffer always has (doc/kernel-notes.md §1). */
	ns->bounded = bus == NETLINK_SOCK_DIAG;
	return 0;
}

int nlsock_bind(struct nlsock *ns)
{
	struct sockaddr_nl addr;
	socklen_t len = sizeof(addr);
	int fd = mnl_socket_get_fd(ns->nl);

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
	char *buf = ns->buf;

	if (buf == NULL || ns->size != NL_MIN_BUFFER)
		return NULL;
	*size = ns->size;
	ns->buf = NULL;
	ns->size = 0;
	return buf;
}

void nlsock_adopt_buffer(struct nlsock *ns, char *buf, size_t size)
{
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

/* Receives one datagram whole into ns->buf. flags: 0 or MSG_DONTWAIT
 * (then -EAGAIN when none is queued). Returns its length or a negative
 * errno; 0 means the socket was closed. */
ssize_t nlsock_recv(struct nlsock *ns, int flags)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr msg;
	ssize_t len;
	int fd = mnl_socket_get_fd(ns->nl), err;
	int nowait = (flags & MSG_DONTWAIT) != 0;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (ns->bounded) {
			/* one call: the datagram cannot outgrow the buffer */
			if ((err = nlsock_reserve(ns, 0)) != 0)
				return err;
		} else {
			/* a fixed buffer would silently truncate a large
			 * message: its real size is peeked at first */
			iov.iov_base = NULL;
			iov.iov_len = 0;
			len = recvmsg(fd, &msg, MSG_PEEK | MSG_TRUNC | flags);
			if (len < 0 && (errno == EINTR || (errno == EAGAIN && !nowait)))
				continue;
			if (len < 0)
				return -errno;
			if ((err = nlsock_reserve(ns, (size_t)len)) != 0)
				return err;
		}
		iov.iov_base = ns->buf;
		iov.iov_len = ns->size;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		len = recvmsg(fd, &msg, flags);
		if (len < 0 && (errno == EINTR || (errno == EAGAIN && !nowait)))
			continue;
		if (len < 0)
			return -errno;
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;   /* never handed on cut short */
		if (from.nl_pid != 0)
			continue;   /* not from the kernel */
		return len;
	}
}

/* Sends req (its nlmsg_seq and nlmsg_pid are set here) and hands every reply
 * message to cb until NLMSG_DONE, an error, or — for a request without
 * NLM_F_DUMP — the first answer. Returns 0 or a negative errno; the errno
 * carried inside NLMSG_DONE is returned too, not ignored. */
int nl_request(struct nlsock *ns, struct nlmsghdr *req, nl_msg_cb cb,
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
		ssize_t len = nlsock_recv(ns, 0);
		const struct nlmsghdr *nlh;
		size_t remaining;

		if (len < 0)
			return (int)len;
		if (len == 0)
			return -ECONNRESET;
		nlh = (const struct nlmsghdr *)ns->buf;
		remaining = (size_t)len;
		for (; nl_msg_fits(nlh, remaining); nlh = nl_msg_next(nlh, &remaining)) {
			if (nlh->nlmsg_seq != ns->seq)
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
