/* NETLINK_SOCK_DIAG dumps of AF_NETLINK sockets (netlink_diag). */
#include "source/diag.h"
#include "nl/nl.h"
#include "record/socket.h"

#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <linux/netlink_diag.h>

int netlink_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[DIAG_ATTR_MAX + 1];
	const struct netlink_diag_msg *m;
	struct sock_rec r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct netlink_diag_msg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*m), tb, DIAG_ATTR_MAX + 1) < 0)
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
	diag_queues_from_meminfo(tb[NETLINK_DIAG_MEMINFO], &r);
	if (c->seen != 0) {
		int listed;

		lua_pushinteger(c->L, (lua_Integer)r.inode);
		lua_rawget(c->L, c->seen);
		listed = !lua_isnil(c->L, -1);
		lua_pop(c->L, 1);
		if (listed)
			return 0;
		lua_pushinteger(c->L, (lua_Integer)r.inode);
		lua_pushboolean(c->L, 1);
		lua_rawset(c->L, c->seen);
	}
	diag_emit(c, &r);
	return 0;
}

int dump_netlink(struct diag_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct netlink_diag_req *req;
	struct nlmsghdr *nlh;
	struct nl_result res;
	int err;

	req = (struct netlink_diag_req *)diag_request(buf, &nlh, sizeof(*req));
	req->sdiag_family = AF_NETLINK;
	req->sdiag_protocol = NDIAG_PROTO_ALL;
	req->ndiag_show = NDIAG_SHOW_MEMINFO;
	/* The kernel walks its bound sockets, then those in multicast groups
	 * without skipping the ones it already sent (its "hashed" test reads
	 * a list node netlink sockets do not use): a bound socket in a group
	 * comes twice. ss prints both; /proc/net/netlink lists it once, and
	 * so does this, by inode (a few hundred sockets at most). */
	lua_newtable(c->L);
	c->seen = lua_gettop(c->L);
	err = nl_request(&c->s->diag, nlh, netlink_msg_cb, c, &res);
	lua_remove(c->L, c->seen);
	c->seen = 0;
	return err;
}
