/* NETLINK_SOCK_DIAG dumps of AF_UNIX sockets (unix_diag). */
#include "source/diag.h"
#include "nl/nl.h"
#include "record/socket.h"

#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

int unix_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[DIAG_ATTR_MAX + 1];
	const struct unix_diag_msg *m;
	const struct nlattr *a;
	struct sock_rec r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct unix_diag_msg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*m), tb, DIAG_ATTR_MAX + 1) < 0)
		return 0;
	sock_rec_init(&r, "unix", AF_UNIX);
	r.state = m->udiag_state;
	r.sock_type = m->udiag_type;
	r.inode = m->udiag_ino;
	r.has_cookie = 1;
	r.cookie = (uint64_t)m->udiag_cookie[1] << 32 | m->udiag_cookie[0];
	if ((a = tb[UNIX_DIAG_NAME]) != NULL && mnl_attr_get_payload_len(a) > 0) {
		r.has_path = 1;
		r.path = (const char *)mnl_attr_get_payload(a);
		r.path_len = mnl_attr_get_payload_len(a);
	}
	r.has_peer = nl_attr_u32(tb[UNIX_DIAG_PEER], &r.peer_inode);
	if ((a = tb[UNIX_DIAG_RQLEN]) != NULL &&
	    mnl_attr_get_payload_len(a) >= sizeof(struct unix_diag_rqlen)) {
		struct unix_diag_rqlen q;

		memcpy(&q, mnl_attr_get_payload(a), sizeof(q));
		r.has_queues = 1;
		r.recv_q = q.udiag_rqueue;
		r.send_q = q.udiag_wqueue;
	}
	r.has_uid = nl_attr_u32(tb[UNIX_DIAG_UID], &r.uid);
	diag_emit(c, &r);
	return 0;
}

int dump_unix(struct diag_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct unix_diag_req *req;
	struct nlmsghdr *nlh;
	struct nl_result res;

	req = (struct unix_diag_req *)diag_request(buf, &nlh, sizeof(*req));
	req->sdiag_family = AF_UNIX;
	req->udiag_states = c->f.states & ((1u << (ST_MAX_KERNEL + 1)) - 1);
	req->udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
	req->udiag_cookie[0] = req->udiag_cookie[1] = ~0U;
	return nl_request(&c->s->diag, nlh, unix_msg_cb, c, &res);
}
