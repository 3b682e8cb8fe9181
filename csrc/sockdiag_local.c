/* NETLINK_SOCK_DIAG dumps of UNIX, packet and netlink sockets. */
#include "lnetstat.h"

#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/packet_diag.h>
#include <linux/netlink_diag.h>

#define LOCAL_ATTR_MAX 16

static int local_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = (const struct nlattr **)data;
	int type = mnl_attr_get_type(attr);

	if (type <= LOCAL_ATTR_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int attr_u32(const struct nlattr *a, uint32_t *out)
{
	if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
		return 0;
	memcpy(out, mnl_attr_get_payload(a), sizeof(*out));
	return 1;
}

/* Packet and netlink sockets have no queue lengths of their own: ss shows
 * the memory their queued buffers use, from the SK_MEMINFO array. */
static void queues_from_meminfo(const struct nlattr *a, struct sock_rec *r)
{
	uint32_t mem[SK_MEMINFO_WMEM_ALLOC + 1];

	if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(mem))
		return;
	memcpy(mem, mnl_attr_get_payload(a), sizeof(mem));
	r->has_queues = 1;
	r->recv_q = mem[SK_MEMINFO_RMEM_ALLOC];
	r->send_q = mem[SK_MEMINFO_WMEM_ALLOC];
}

static void emit(struct diag_ctx *c, const struct sock_rec *r)
{
	if (!filter_match(&c->f, r))
		return;
	push_sock_record(&c->sk, r, c->f.fields, c->f.room);
	append(c->L, c->list, &c->n);
}

static int unix_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[LOCAL_ATTR_MAX + 1];
	const struct unix_diag_msg *m;
	const struct nlattr *a;
	struct sock_rec r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct unix_diag_msg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*m), local_attr_cb, tb) < 0)
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
	r.has_peer = attr_u32(tb[UNIX_DIAG_PEER], &r.peer_inode);
	if ((a = tb[UNIX_DIAG_RQLEN]) != NULL &&
	    mnl_attr_get_payload_len(a) >= sizeof(struct unix_diag_rqlen)) {
		struct unix_diag_rqlen q;

		memcpy(&q, mnl_attr_get_payload(a), sizeof(q));
		r.has_queues = 1;
		r.recv_q = q.udiag_rqueue;
		r.send_q = q.udiag_wqueue;
	}
	r.has_uid = attr_u32(tb[UNIX_DIAG_UID], &r.uid);
	emit(c, &r);
	return 0;
}

static int dump_unix(struct diag_ctx *c)
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

static int packet_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[LOCAL_ATTR_MAX + 1];
	const struct packet_diag_msg *m;
	const struct nlattr *a;
	struct sock_rec r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct packet_diag_msg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*m), local_attr_cb, tb) < 0)
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
	r.has_uid = attr_u32(tb[PACKET_DIAG_UID], &r.uid);
	queues_from_meminfo(tb[PACKET_DIAG_MEMINFO], &r);
	emit(c, &r);
	return 0;
}

static int dump_packet(struct diag_ctx *c)
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

static int netlink_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[LOCAL_ATTR_MAX + 1];
	const struct netlink_diag_msg *m;
	struct sock_rec r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct netlink_diag_msg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*m), local_attr_cb, tb) < 0)
		return 0;
	sock_rec_init(&r, "netlink", AF_NETLINK);
	/* NETLINK_CONNECTED (1) vs unconnected */
	r.state = m->ndiag_state == 1 ? ST_ESTABLISHED : ST_CLOSE;
	r.sock_type = m->ndiag_type;
	r.protocol = m->ndiag_protocol;
	r.inode = m->ndiag_ino;
	r.has_portid = 1;
	r.portid = m->ndiag_portid;
	r.dst_portid = m->ndiag_dst_portid;
	r.has_cookie = 1;
	r.cookie = (uint64_t)m->ndiag_cookie[1] << 32 | m->ndiag_cookie[0];
	queues_from_meminfo(tb[NETLINK_DIAG_MEMINFO], &r);
	emit(c, &r);
	return 0;
}

static int dump_netlink(struct diag_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct netlink_diag_req *req;
	struct nlmsghdr *nlh;
	struct nl_result res;

	req = (struct netlink_diag_req *)diag_request(buf, &nlh, sizeof(*req));
	req->sdiag_family = AF_NETLINK;
	req->sdiag_protocol = NDIAG_PROTO_ALL;
	req->ndiag_show = NDIAG_SHOW_MEMINFO;
	return nl_request(&c->s->diag, nlh, netlink_msg_cb, c, &res);
}
