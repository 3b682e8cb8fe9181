/* NETLINK_SOCK_DIAG: core.sock_diag, which hands one protocol's dump to
 * its source (diag_inet.c, diag_unix.c, diag_packet.c, diag_netlink.c),
 * and what those share. */
#include "source/diag.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/socket.h"
#include "api.h"

#include <sys/socket.h>
#include <linux/sock_diag.h>

/* A SOCK_DIAG_BY_FAMILY dump request with a zeroed family header of
 * req_size bytes; returns that header for the caller to fill. */
void *diag_request(char *buf, struct nlmsghdr **nlh, size_t req_size)
{
	return nl_put_request(buf, nlh, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, req_size);
}

/* Packet and netlink sockets have no queue lengths of their own: ss shows
 * the memory their queued buffers use, from the SK_MEMINFO array. */
void diag_queues_from_meminfo(const struct nlattr *a, struct sock_rec *r)
{
	uint32_t mem[SK_MEMINFO_WMEM_ALLOC + 1];

	if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(mem))
		return;
	memcpy(mem, mnl_attr_get_payload(a), sizeof(mem));
	r->has_queues = 1;
	r->recv_q = mem[SK_MEMINFO_RMEM_ALLOC];
	r->send_q = mem[SK_MEMINFO_WMEM_ALLOC];
}

void diag_emit(struct diag_ctx *c, const struct sock_rec *r)
{
	if (!filter_match(&c->f, r))
		return;
	push_sock_record(&c->sk, r, c->f.fields, c->f.room);
	append(c->L, c->list, &c->n);
}

static int parse_family(lua_State *L, int idx)
{
	static const char *const names[] = {"inet", "inet6", "any", NULL};
	static const int values[] = {AF_INET, AF_INET6, AF_UNSPEC};

	return values[luaL_checkoption(L, idx, "any", names)];
}

/* core.sock_diag(session, sink, proto, family, filter, want_info)
 * -> true, count, messages, unnamed | nil, msg, errno. messages counts the
 * socket messages the kernel sent (inet protocols; before userspace
 * filtering); unnamed the records with an ifindex but no interface name
 * (the session has no rtnetlink socket to name it). Appends records to the sink list, or
 * calls the sink function with each. ENOENT/EOPNOTSUPP
 * mean "no sock_diag handler for this protocol": the caller falls back. */
int l_sock_diag(lua_State *L)
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
	lua_pushinteger(L, c.messages);
	lua_pushinteger(L, c.sk.unnamed);
	return 4;
}
