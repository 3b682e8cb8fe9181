/* inet_diag bytecode (INET_DIAG_REQ_BYTECODE): the port and address filters
 * of a socket query compiled into the program the kernel runs on each
 * socket of a dump, so that only matching sockets are sent. It only speeds
 * a dump up: every record is still checked by filter_match.
 *
 * The program is an AND of at most four conditions. Each op either falls
 * through to the next one (the condition holds) or jumps to 4 bytes past the
 * end of the program, which the kernel reads as "reject". Running off the
 * end exactly means "accept". */
#include "source/diag.h"

#include <sys/socket.h>
#include <linux/inet_diag.h>

/* One op of the program as the kernel lays it out: a condition code, the
 * byte offset to go to when it holds (the op's own length: the next op) and
 * the one when it does not (filled in once the total length is known). */
struct bc_writer {
	unsigned char *out;
	size_t cap, len;
	size_t reject_at[8];      /* offsets of ops whose 'no' means reject */
	int nreject;
	int overflow;
};

static void put_op(struct bc_writer *w, uint8_t code, size_t yes, int rejects)
{
	struct inet_diag_bc_op op;

	if (w->len + sizeof(op) > w->cap || w->nreject >= 8) {
		w->overflow = 1;
		return;
	}
	op.code = code;
	op.yes = (uint8_t)yes;
	op.no = 0;
	if (rejects)
		w->reject_at[w->nreject++] = w->len;
	memcpy(w->out + w->len, &op, sizeof(op));
	w->len += sizeof(op);
}

static void put_bytes(struct bc_writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->overflow = 1;
		return;
	}
	memcpy(w->out + w->len, p, n);
	w->len += n;
}

/* port >= lo and port <= hi (source or destination port). An exact port is
 * one host condition of any address; a range is two comparisons, each an op
 * followed by a second one carrying the port in its 'no' field. */
static void put_ports(struct bc_writer *w, int src, int lo, int hi)
{
	if (lo < 0)
		return;
	if (lo == hi) {
		struct inet_diag_hostcond hc;

		memset(&hc, 0, sizeof(hc));
		hc.family = AF_UNSPEC;
		hc.prefix_len = 0;
		hc.port = lo;
		put_op(w, src ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND,
		       sizeof(struct inet_diag_bc_op) + sizeof(hc), 1);
		put_bytes(w, &hc, sizeof(hc));
		return;
	}
	if (lo > 0) {
		struct inet_diag_bc_op arg = {0, 0, (uint16_t)lo};

		put_op(w, src ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, 2 * sizeof(arg), 1);
		put_bytes(w, &arg, sizeof(arg));
	}
	if (hi < 65535) {
		struct inet_diag_bc_op arg = {0, 0, (uint16_t)hi};

		put_op(w, src ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE, 2 * sizeof(arg), 1);
		put_bytes(w, &arg, sizeof(arg));
	}
}

/* The address is in the CIDR (source or destination address). The kernel
 * matches an IPv4 condition against IPv4-mapped IPv6 addresses too, as
 * filter_match does. An IPv6 CIDR holding every IPv4 address (::/0) also
 * matches IPv4 sockets, which no condition of the kernel's says (an IPv6
 * one rejects them): that one is left to filter_match alone. */
static void put_cidr(struct bc_writer *w, int src, const struct cidr *c)
{
	struct inet_diag_hostcond hc;
	size_t alen;

	if (!c->set || cidr_holds_ipv4(c))
		return;
	alen = c->addr.family == AF_INET ? 4 : 16;
	memset(&hc, 0, sizeof(hc));
	hc.family = (uint8_t)c->addr.family;
	hc.prefix_len = (uint8_t)c->prefixlen;
	hc.port = -1;
	put_op(w, src ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND,
	       sizeof(struct inet_diag_bc_op) + sizeof(hc) + alen, 1);
	put_bytes(w, &hc, sizeof(hc));
	put_bytes(w, c->addr.bytes, alen);
}

/* Compiles the port and address filters of f into out (cap bytes, at least
 * DIAG_BYTECODE_MAX). Returns the program's length, 0 when f has no such
 * filter (or it does not fit: the dump is then filtered in userspace only). */
size_t diag_bytecode(const struct sock_filter *f, unsigned char *out, size_t cap)
{
	struct bc_writer w;
	int i;

	memset(&w, 0, sizeof(w));
	w.out = out;
	w.cap = cap;
	put_ports(&w, 1, f->lport_lo, f->lport_hi);
	put_ports(&w, 0, f->rport_lo, f->rport_hi);
	put_cidr(&w, 1, &f->laddr);
	put_cidr(&w, 0, &f->raddr);
	if (w.overflow || w.len == 0 || w.len % 4 != 0 || w.len > 0xfff0)
		return 0;
	/* 'no' is relative to the op: 4 bytes past the end rejects. */
	for (i = 0; i < w.nreject; i++) {
		struct inet_diag_bc_op op;

		memcpy(&op, out + w.reject_at[i], sizeof(op));
		op.no = (uint16_t)(w.len + 4 - w.reject_at[i]);
		memcpy(out + w.reject_at[i], &op, sizeof(op));
	}
	return w.len;
}
