/* The read-ahead of a long netlink dump: a helper thread receives the
 * answer's datagrams into a ring of slots while the calling thread decodes
 * the ones before them and makes their records.
 *
 * Why: the kernel builds each part of a dump inside the recvmsg that asks
 * for it (doc/kernel-notes.md §1), so on one thread the kernel's walk of
 * its socket tables and the Lua side's tables take turns. Over 100,000 TCP
 * sockets that walk is about 60 ms, a quarter of a listing and half of a
 * stream (over 100,000 routes, about 35 ms); on a second CPU it runs while
 * the records are made.
 *
 * The helper calls no Lua and touches nothing but its own struct, the ring
 * and the socket's descriptor; it runs with every signal blocked. It ends
 * after the datagram that ends the answer (NLMSG_DONE, or an error), or
 * when asked to stop; it waits for data at most READER_POLL_MS at a time,
 * so a stop is seen even if the kernel sent nothing more. The caller's
 * struct nlsock points to it (ns->reader) until nl_reader_finish, which
 * every user of the socket calls first: a Lua error raised from a
 * callback that leaves nl_request mid-answer leaves the helper for the next
 * user (or the close) to stop, as it leaves the rest of the answer. */
#include "nl/nl.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define READER_SLOTS 8
/* sock_diag's datagrams fit 32 KiB, and so do those of every rtnetlink dump
 * but one sized by a message larger than that (doc/kernel-notes.md §1) */
#define READER_SLOT_SIZE (32 * 1024)
#define READER_POLL_MS 100

struct nl_reader {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t filled;    /* the helper filled a slot, or ended */
	pthread_cond_t emptied;   /* the caller released a slot, or asked a stop */
	pid_t starter;            /* the process whose thread runs it */
	int fd;
	int bounded;              /* every datagram fits a slot: no peek */
	unsigned int seq;
	unsigned int head;        /* slots filled (the next to fill: head % SLOTS) */
	unsigned int tail;        /* slots released (the next to read: tail % SLOTS) */
	int taken;                /* the caller holds slot tail */
	int stop, ended;
	ssize_t len[READER_SLOTS];   /* a datagram's length, or a negative errno */
	char ring[READER_SLOTS][READER_SLOT_SIZE];
};

int nl_usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

static int reader_stopped(struct nl_reader *r)
{
	int stop;

	pthread_mutex_lock(&r->lock);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* Receives the next datagram from the kernel into slot: its length, or a
 * negative errno (-EMSGSIZE: cut short; -ECANCELED: asked to stop;
 * -E2BIG: the next datagram does not fit a slot, and is left queued for
 * the caller, who reads on by itself). */
static ssize_t receive_one(struct nl_reader *r, char *slot)
{
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { slot, READER_SLOT_SIZE };
		struct msghdr msg;
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		ssize_t len;
		int verdict;

		/* rtnetlink sizes some dumps' datagrams by their largest
		 * message (doc/kernel-notes.md §1): its size is peeked at */
		len = r->bounded ? 0 : recv(r->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
		if (len > READER_SLOT_SIZE)
			return -E2BIG;
		if (len < 0 && errno == EAGAIN) {
			if (reader_stopped(r))
				return -ECANCELED;
			(void)poll(&pfd, 1, READER_POLL_MS);
			continue;
		}
		if (len < 0 && errno != EINTR)
			return -errno;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		len = recvmsg(r->fd, &msg, MSG_DONTWAIT);
		if (len < 0 && errno == EAGAIN) {
			if (reader_stopped(r))
				return -ECANCELED;
			(void)poll(&pfd, 1, READER_POLL_MS);
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return -errno;
		if ((verdict = nl_datagram_verdict(&msg)) < 0)
			return verdict;
		if (verdict > 0)
			return len;
	}
}

/* True when the datagram ends the answer to seq, as nl_request reads it:
 * its NLMSG_DONE, or an error. */
static int ends_answer(const char *datagram, size_t len, unsigned int seq)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)datagram;

	for (; nl_msg_fits(nlh, len); nlh = nl_msg_next(nlh, &len)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_OVERRUN)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			int err;

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
				return 1;
			memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
			if (err != 0)
				return 1;
		}
	}
	return len > 0;   /* trailing bytes: nl_request stops there */
}

static void *reader_main(void *arg)
{
	struct nl_reader *r = (struct nl_reader *)arg;

	for (;;) {
		unsigned int slot;
		ssize_t len;
		int end;

		pthread_mutex_lock(&r->lock);
		while (r->head - r->tail == READER_SLOTS && !r->stop)
			pthread_cond_wait(&r->emptied, &r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		slot = r->head % READER_SLOTS;
		pthread_mutex_unlock(&r->lock);

		len = receive_one(r, r->ring[slot]);
		end = len <= 0 || ends_answer(r->ring[slot], (size_t)len, r->seq);
		pthread_mutex_lock(&r->lock);
		if (len != -E2BIG) {
			r->len[slot] = len;
			r->head++;
		}
		r->ended = end;
		pthread_cond_signal(&r->filled);
		pthread_mutex_unlock(&r->lock);
		if (end)
			break;
	}
	return NULL;
}

int nl_reader_start(struct nlsock *ns, unsigned int seq)
{
	struct nl_reader *r;
	sigset_t all, old;
	int err;

	if (ns->reader != NULL || ns->nl == NULL || nl_usable_cpus() < 2)
		return -EAGAIN;
	r = (struct nl_reader *)malloc(sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	memset(r, 0, offsetof(struct nl_reader, ring));
	r->fd = mnl_socket_get_fd(ns->nl);
	r->bounded = ns->bounded;
	r->seq = seq;
	r->starter = getpid();
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return -ENOMEM;
	}
	pthread_cond_init(&r->filled, NULL);
	pthread_cond_init(&r->emptied, NULL);
	/* a full signal mask: the host's handlers never run on the helper */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&r->thread, NULL, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		pthread_cond_destroy(&r->filled);
		pthread_cond_destroy(&r->emptied);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return -err;
	}
	ns->reader = r;
	return 0;
}

void nl_reader_finish(struct nlsock *ns)
{
	struct nl_reader *r = ns->reader;

	if (r == NULL)
		return;
	ns->reader = NULL;
	/* A forked child has no such thread, and its copy of the ring may be
	 * half-written: it is left alone (never waited for, never freed). */
	if (r->starter != getpid())
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_signal(&r->emptied);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->filled);
	pthread_cond_destroy(&r->emptied);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

ssize_t nl_reader_next(struct nlsock *ns, char **data)
{
	struct nl_reader *r = ns->reader;
	ssize_t len;

	pthread_mutex_lock(&r->lock);
	if (r->taken) {
		r->tail++;
		r->taken = 0;
		pthread_cond_signal(&r->emptied);
	}
	while (r->head == r->tail && !r->ended)
		pthread_cond_wait(&r->filled, &r->lock);
	if (r->head == r->tail) {
		/* the helper ended and every datagram it read was taken: the
		 * caller reads on by itself */
		pthread_mutex_unlock(&r->lock);
		nl_reader_finish(ns);
		return nlsock_recv(ns, 0, data);
	}
	r->taken = 1;
	len = r->len[r->tail % READER_SLOTS];
	*data = r->ring[r->tail % READER_SLOTS];
	pthread_mutex_unlock(&r->lock);
	return len;
}
