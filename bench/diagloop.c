/* diagloop.c -- the bare-C cost of one "listening TCP sockets" call.
 *
 * Each call does what lnetstat's listening{proto="tcp"} asks the kernel for:
 * opens a NETLINK_SOCK_DIAG socket, dumps TCP sockets in state LISTEN of
 * both families with one request (TCPDIAG_GETSOCK: one walk of the
 * kernel's tables) into a 32 KiB buffer, counts the records and closes the
 * socket.  With "per-family" as argument 2 it asks as ss does instead: one
 * request for AF_INET, then one for AF_INET6 (a diagnostic: what the one
 * request saves the kernel); with "kept", every call sends the one request
 * on the same socket, opened once (the reference of lnetstat.session).
 * Prints the CPU microseconds per call (user +
 * system, CLOCK_PROCESS_CPUTIME_ID) over CALLS calls (argument 1, default
 * 2000) and the records of the last call.  Build: cc -O2 -o diagloop diagloop.c
 */
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCP_LISTEN_BIT (1u << 10)

static char buf[32768];

/* Receives a dump's answer until NLMSG_DONE; returns its records. */
static long count_answer(int fd)
{
	long count = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0)
			return perror("recv"), -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return count;
			if (h->nlmsg_type == NLMSG_ERROR)
				return fprintf(stderr, "diagloop: netlink error\n"), -1;
			count++;
		}
	}
}

/* Sends a dump request: message type, then its family header (len bytes
 * at req); returns the records of the answer. */
static long dump_request(int fd, uint16_t type, const void *req, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		union {
			struct inet_diag_req v1;
			struct inet_diag_req_v2 v2;
		} req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	memset(&msg, 0, sizeof msg);
	msg.nlh.nlmsg_len = NLMSG_LENGTH(len);
	msg.nlh.nlmsg_type = type;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = 1;
	memcpy(&msg.req, req, len);
	if (sendto(fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return perror("sendto"), -1;
	return count_answer(fd);
}

/* One LISTEN dump of family AF_INET or AF_INET6 (SOCK_DIAG_BY_FAMILY). */
static long dump_family(int fd, int family)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		.idiag_states = TCP_LISTEN_BIT,
	};

	return dump_request(fd, SOCK_DIAG_BY_FAMILY, &req, sizeof req);
}

/* One LISTEN dump of both families (TCPDIAG_GETSOCK): what lnetstat asks,
 * one walk of the kernel's tables (idiag_family is not read). */
static long dump(int fd)
{
	struct inet_diag_req req = { .idiag_family = AF_INET, .idiag_states = TCP_LISTEN_BIT };

	return dump_request(fd, TCPDIAG_GETSOCK, &req, sizeof req);
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int per_family;   /* argument 2 "per-family": AF_INET, then AF_INET6 */
static int kept = -1;    /* argument 2 "kept": the socket every call uses */

static int open_socket(void)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return perror("socket"), -1;
	if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0)
		return perror("bind"), close(fd), -1;
	return fd;
}

static long one_call(void)
{
	int fd = kept >= 0 ? kept : open_socket();
	long records;

	if (fd < 0)
		return -1;
	if (kept >= 0)
		return dump(fd);
	if (per_family) {
		long v4 = dump_family(fd, AF_INET);

		records = v4 < 0 ? -1 : dump_family(fd, AF_INET6);
		records = records < 0 ? -1 : v4 + records;
	} else {
		records = dump(fd);
	}
	close(fd);
	return records;
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 2000, i, records = 0;
	double t0;

	if (calls < 1)
		calls = 1;
	per_family = argc > 2 && strcmp(argv[2], "per-family") == 0;
	if (argc > 2 && strcmp(argv[2], "kept") == 0 && (kept = open_socket()) < 0)
		return 1;
	for (i = 0; i < 50; i++)   /* warm-up, as in the Lua loop */
		if ((records = one_call()) < 0)
			return 1;
	t0 = cpu_us();
	for (i = 0; i < calls; i++)
		if ((records = one_call()) < 0)
			return 1;
	printf("%.1f %ld\n", (cpu_us() - t0) / calls, records);
	return 0;
}
