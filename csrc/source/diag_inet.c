/* NETLINK_SOCK_DIAG dumps of TCP, UDP, UDPLite and RAW sockets
 * (inet_diag), turned into socket records. */
#include "source/diag.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/socket.h"
#include "record/tcpinfo.h"

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

static void copy_addr(struct addr *a, int family, const __be32 *src)
{
	a->family = family;
	memcpy(a->bytes, src, family == AF_INET ? 4 : 16);
}

int inet_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	const struct inet_diag_msg *m;
	struct sock_rec r;
	const struct nlattr *a;
	int family;

	/* TCPDIAG_GETSOCK: the answer to the one-walk request of both families */
	if ((nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct inet_diag_msg *)mnl_nlmsg_get_payload(nlh);
	family = m->idiag_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	c->messages++;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*m), tb, INET_DIAG_MAX + 1) < 0)
		return 0;   /* malformed attributes: skip rather than guess */

	sock_rec_init(&r, c->proto, family);
	r.state = m->idiag_state;
	r.has_queues = 1;
	r.recv_q = m->idiag_rqueue;
	r.send_q = m->idiag_wqueue;
	copy_addr(&r.laddr, family, m->id.idiag_src);
	copy_addr(&r.raddr, family, m->id.idiag_dst);
	r.has_ports = 1;
	r.lport = ntohs(m->id.idiag_sport);
	r.rport = ntohs(m->id.idiag_dport);
	r.uid = m->idiag_uid;
	r.inode = m->idiag_inode;     /* 0 for TIME_WAIT and request socks */
	r.ifindex = m->id.idiag_if;
	r.has_cookie = 1;
	r.cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	r.timer = m->idiag_timer;
	r.timer_expires_ms = m->idiag_expires;
	r.retransmits = m->idiag_retrans;
	/* Request sockets (SYN_RECV, inode 0) and time-wait minisocks have no
	 * uid of their own: sock_diag reports 0 for them. */
	r.has_uid = !is_timewait(&r) && !is_request(&r);
	if ((a = tb[INET_DIAG_SKV6ONLY]) != NULL && mnl_attr_get_payload_len(a) >= 1)
		r.v6only = *(const uint8_t *)mnl_attr_get_payload(a) != 0;
	if ((a = tb[INET_DIAG_PROTOCOL]) != NULL && mnl_attr_get_payload_len(a) >= 1 &&
	    strcmp(c->proto, "raw") == 0)
		r.protocol = *(const uint8_t *)mnl_attr_get_payload(a);

	if (!filter_match(&c->f, &r))
		return 0;
	push_sock_record(&c->sk, &r, c->f.fields, c->f.room);
	if (c->want_info) {
		lua_createtable(c->L, 0, 48);
		push_inet_info(c->L, tb);
		lua_setfield(c->L, -2, "info");
	}
	if (c->later != 0 && family == AF_INET6)
		append(c->L, c->later, &c->nlater);   /* listed after the IPv4 ones */
	else
		append(c->L, c->list, &c->n);
	return 0;
}

static int inet_protocol(const char *proto)
{
	if (strcmp(proto, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcmp(proto, "udp") == 0)
		return IPPROTO_UDP;
	if (strcmp(proto, "udplite") == 0)
		return IPPROTO_UDPLITE;
	if (strcmp(proto, "raw") == 0)
		return IPPROTO_RAW;   /* raw_diag answers for every raw protocol */
	return -1;
}

/* An exact port goes into the request's socket id as well: TCP and UDP
 * dumps compare it with each socket before they run the bytecode (a
 * cheaper test on a busy host), and TCP skips its table of listeners
 * when a remote port is given. Port 0 there means "any", and RAW dumps do
 * not read it: those keep the bytecode alone. */
static void set_exact_ports(struct inet_diag_sockid *id, int protocol, const struct sock_filter *f)
{
	if (protocol == IPPROTO_RAW)
		return;
	if (f->lport_lo > 0 && f->lport_lo <= 0xffff && f->lport_lo == f->lport_hi)
		id->idiag_sport = htons((uint16_t)f->lport_lo);
	if (f->rport_lo > 0 && f->rport_lo <= 0xffff && f->rport_lo == f->rport_hi)
		id->idiag_dport = htons((uint16_t)f->rport_lo);
}

int dump_inet(struct diag_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_sockid *id;
	struct nlmsghdr *nlh;
	struct nl_result res;
	unsigned char bc[DIAG_BYTECODE_MAX];
	size_t bclen;
	uint32_t states = c->f.states;
	uint8_t ext = 0;
	int protocol = inet_protocol(c->proto);

	/* BOUND_INACTIVE (13) is a query-only bit we never ask for. */
	states &= (1u << (ST_MAX_KERNEL + 1)) - 1;
	if (states & (1u << ST_SYN_RECV))
		states |= 1u << ST_NEW_SYN_RECV;   /* request sockets */
	/* idiag_ext is a u8: only attributes 1..8 can be asked for. */
	if (c->want_info)
		ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)) |
		      (1 << (INET_DIAG_SKMEMINFO - 1)) | (1 << (INET_DIAG_TOS - 1)) |
		      (1 << (INET_DIAG_TCLASS - 1));
	if (c->family == AF_UNSPEC) {
		/* TCP of both families in one walk (see diag.h) */
		struct inet_diag_req *req;

		if (protocol != IPPROTO_TCP)
			return -EINVAL;
		req = (struct inet_diag_req *)nl_put_request(buf, &nlh, TCPDIAG_GETSOCK,
							     NLM_F_REQUEST | NLM_F_DUMP, sizeof(*req));
		req->idiag_family = AF_INET;   /* not read: every family is answered */
		req->idiag_states = states;
		req->idiag_ext = ext;
		id = &req->id;
	} else {
		struct inet_diag_req_v2 *req;

		req = (struct inet_diag_req_v2 *)diag_request(buf, &nlh, sizeof(*req));
		req->sdiag_family = (uint8_t)c->family;
		req->sdiag_protocol = (uint8_t)protocol;
		req->idiag_states = states;
		req->idiag_ext = ext;
		id = &req->id;
	}
	set_exact_ports(id, protocol, &c->f);
	/* Port and address filters run in the kernel too: it then sends only
	 * the sockets that match (inet_msg_cb still checks each one). */
	bclen = diag_bytecode(&c->f, bc, sizeof(bc));
	if (bclen > 0)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bclen, bc);
	return nl_request(&c->s->diag, nlh, inet_msg_cb, c, &res);
}

