/* NETLINK_SOCK_DIAG dumps of AF_PACKET sockets (packet_diag). */
#include "source/diag.h"
#include "nl/nl.h"
#include "record/socket.h"

#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <linux/packet_diag.h>

int packet_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[DIAG_ATTR_MAX + 1];
	const struct packet_diag_msg *m;
	const struct nlattr *a;
	struct sock_rec r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct packet_diag_msg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*m), tb, DIAG_ATTR_MAX + 1) < 0)
		return 0;
	sock_rec_init(&r, "packet", AF_PACKET);
	r.state = ST_CLOSE;   /* packet sockets have no connection state */
	r.sock_type = m->pdiag_type;
	r.protocol = m->pdiag_num;
	r.inode = m->pdiag_ino;
	r.has_cookie = 1;
	r.cookie = (uint64_t)m->pdiag_cookie[1] << 32 | m->pdiag_cookie[0];
	if ((a = tb[PACKET_DIAG_INFO]) != NULL &&
	    mnl_attr_get_payload_len(a) >= sizeof(struct packet_diag_info)) {
		struct packet_diag_info info;

		memcpy(&info, mnl_attr_get_payload(a), sizeof(info));
		r.ifindex = info.pdi_index;
	}
	r.has_uid = nl_attr_u32(tb[PACKET_DIAG_UID], &r.uid);
	diag_queues_from_meminfo(tb[PACKET_DIAG_MEMINFO], &r);
	diag_emit(c, &r);
	return 0;
}

int dump_packet(struct diag_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct packet_diag_req *req;
	struct nlmsghdr *nlh;
	struct nl_result res;

	req = (struct packet_diag_req *)diag_request(buf, &nlh, sizeof(*req));
	req->sdiag_family = AF_PACKET;
	req->pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO;
	return nl_request(&c->s->diag, nlh, packet_msg_cb, c, &res);
}
