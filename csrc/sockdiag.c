/* NETLINK_SOCK_DIAG dumps of TCP, UDP, UDPLite and RAW sockets
 * (inet_diag), turned into socket records. */
#include "lnetstat.h"

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

struct diag_ctx {
	lua_State *L;
	struct session *s;
	int list;               /* stack index of the result list */
	lua_Integer n;          /* records in it so far */
	const char *proto;
	int family;
	int want_info;
	struct sock_filter f;
	struct sock_keys sk;
};

/* In sockdiag_local.c: AF_UNIX, AF_PACKET and AF_NETLINK dumps. */
static int dump_unix(struct diag_ctx *c);
static int dump_packet(struct diag_ctx *c);
static int dump_netlink(struct diag_ctx *c);

static int diag_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = (const struct nlattr **)data;
	int type = mnl_attr_get_type(attr);

	if (type <= INET_DIAG_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static void copy_addr(struct addr *a, int family, const __be32 *src)
{
	a->family = family;
	memcpy(a->bytes, src, family == AF_INET ? 4 : 16);
}

/* A SOCK_DIAG_BY_FAMILY dump request with a zeroed family header of
 * req_size bytes; returns that header for the caller to fill. */
static void *diag_request(char *buf, struct nlmsghdr **nlh, size_t req_size)
{
	*nlh = mnl_nlmsg_put_header(buf);
	(*nlh)->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	(*nlh)->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	return mnl_nlmsg_put_extra_header(*nlh, req_size);
}

static int inet_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ctx *c = (struct diag_ctx *)data;
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	const struct inet_diag_msg *m;
	struct sock_rec r;
	const struct nlattr *a;
	int family;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = (const struct inet_diag_msg *)mnl_nlmsg_get_payload(nlh);
	family = m->idiag_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*m), diag_attr_cb, tb) < 0)
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
	r.has_uid = !is_timewait(&r) &&
		    !(r.inode == 0 && (r.state == ST_SYN_RECV || r.state == ST_NEW_SYN_RECV));
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

static int dump_inet(struct diag_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	struct nl_result res;
	uint32_t states = c->f.states;

	/* BOUND_INACTIVE (13) is a query-only bit we never ask for. */
	states &= (1u << (ST_MAX_KERNEL + 1)) - 1;
	if (states & (1u << ST_SYN_RECV))
		states |= 1u << ST_NEW_SYN_RECV;   /* request sockets */

	req = (struct inet_diag_req_v2 *)diag_request(buf, &nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)c->family;
	req->sdiag_protocol = (uint8_t)inet_protocol(c->proto);
	req->idiag_states = states;
	/* idiag_ext is a u8: only attributes 1..8 can be asked for. */
	if (c->want_info)
		req->idiag_ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)) |
				 (1 << (INET_DIAG_SKMEMINFO - 1)) | (1 << (INET_DIAG_TOS - 1)) |
				 (1 << (INET_DIAG_TCLASS - 1));
	return nl_request(&c->s->diag, nlh, inet_msg_cb, c, &res);
}

static int parse_family(lua_State *L, int idx)
{
	static const char *const names[] = {"inet", "inet6", "any", NULL};
	static const int values[] = {AF_INET, AF_INET6, AF_UNSPEC};

	return values[luaL_checkoption(L, idx, "any", names)];
}

/* core.sock_diag(session, sink, proto, family, filter, want_info)
 * -> true, count | nil, msg, errno. Appends records to the sink list, or
 * calls the sink function with each. ENOENT/EOPNOTSUPP
 * mean "no sock_diag handler for this protocol": the caller falls back. */
static int l_sock_diag(lua_State *L)
{
	static const char *const protos[] = {
		"tcp", "udp", "udplite", "raw", "unix", "packet", "netlink", NULL
	};
	struct diag_ctx c;
	lua_Integer start;
	int err;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = check_session(L, 1);
	c.n = start = check_sink(L, 2);
	c.list = 2;
	c.proto = protos[luaL_checkoption(L, 3, NULL, protos)];
	c.family = parse_family(L, 4);
	read_filter(L, 5, &c.f);
	c.want_info = lua_toboolean(L, 6);
	if (c.s->diag.nl == NULL)
		return luaL_argerror(L, 1, "session has no sock_diag socket");
	if (strcmp(c.proto, "unix") != 0 && strcmp(c.proto, "packet") != 0 &&
	    strcmp(c.proto, "netlink") != 0 && c.family == AF_UNSPEC)
		return luaL_argerror(L, 4, "'inet' or 'inet6' expected");
	lua_settop(L, 6);

	sock_keys_push(L, &c.sk, c.s, c.f.reuse && lua_type(L, 2) == LUA_TFUNCTION);
	if (strcmp(c.proto, "unix") == 0)
		err = dump_unix(&c);
	else if (strcmp(c.proto, "packet") == 0)
		err = dump_packet(&c);
	else if (strcmp(c.proto, "netlink") == 0)
		err = dump_netlink(&c);
	else
		err = dump_inet(&c);
	sock_keys_pop(&c.sk);
	if (err != 0)
		return push_error(L, lua_pushfstring(L, "sock_diag %s", c.proto), err);
	lua_pushboolean(L, 1);
	lua_pushinteger(L, c.n - start);   /* records handed to the sink */
	return 2;
}
