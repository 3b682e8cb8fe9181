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

/* The family name at the top of the stack (popped), or the argument
 * error of argument idx. */
static int pop_family(lua_State *L, int idx)
{
	static const char *const names[] = {"inet", "inet6", "any", NULL};
	static const int values[] = {AF_INET, AF_INET6, AF_UNSPEC};
	size_t len = 0;
	const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
	int i;

	for (i = 0; name != NULL && names[i] != NULL; i++) {
		if (strlen(names[i]) == len && memcmp(name, names[i], len) == 0) {
			lua_pop(L, 1);
			return values[i];
		}
	}
	return luaL_argerror(L, idx, lua_pushfstring(L, "invalid family '%s'",
						     name != NULL ? name : "?"));
}

/* TCP of both families in one walk (diag.h). Into a list, the IPv6
 * records wait in a list of their own and follow the IPv4 ones: the order
 * two requests give. A function gets each record as it comes. */
static int dump_tcp_one_walk(struct diag_ctx *c)
{
	lua_State *L = c->L;
	lua_Integer k;
	int err;

	c->family = AF_UNSPEC;
	c->later = 0;
	c->nlater = 0;
	if (lua_type(L, c->list) == LUA_TTABLE) {
		lua_newtable(L);
		c->later = lua_gettop(L);
	}
	err = dump_inet(c);
	if (c->later != 0) {
		for (k = 1; err == 0 && k <= c->nlater; k++) {
			lua_rawgeti(L, c->later, (int)k);
			lua_rawseti(L, c->list, (int)++c->n);
		}
		lua_settop(L, c->later - 1);
		c->later = 0;
	}
	return err;
}

#define DIAG_MAX_FAMILIES 3

/* Argument idx: a family name (none: "any"), or a list of one to three of
 * them (one call then dumps them in turn). Returns how many went into out. */
static int read_families(lua_State *L, int idx, int *out)
{
	lua_Integer i, n;

	if (lua_isnoneornil(L, idx)) {
		out[0] = AF_UNSPEC;
		return 1;
	}
	if (lua_type(L, idx) != LUA_TTABLE) {
		luaL_checkstring(L, idx);
		lua_pushvalue(L, idx);
		out[0] = pop_family(L, idx);
		return 1;
	}
	n = (lua_Integer)lua_rawlen(L, idx);
	luaL_argcheck(L, n >= 1 && n <= DIAG_MAX_FAMILIES, idx, "one to three families expected");
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, (int)i);
		out[i - 1] = pop_family(L, idx);
	}
	return (int)n;
}

/* core.sock_diag(session, sink, proto, families, filter, want_info[, first])
 * -> true, count, messages, unnamed
 *  | nil, msg, errno, {failed =, count =, messages =, unnamed =}
 * families: a family name ("inet", "inet6", "any") or a list of them,
 * dumped in turn from the first-th (default 1) with one key set (a long-
 * lived state asking for inet and inet6 pays the call once); TCP's inet
 * followed by inet6 is one walk (dump_tcp_one_walk). messages
 * counts the socket messages the kernel sent (inet protocols; before
 * userspace filtering); unnamed the records with an ifindex but no
 * interface name (the session has no rtnetlink socket to name it). Appends
 * records to the sink list, or calls the sink function with each. When a
 * family's dump fails, the table says its place in the list (failed) and
 * the counts of the families before it, whose records the sink has. ENOENT/
 * EOPNOTSUPP mean "no sock_diag handler for this protocol": the caller
 * falls back. */
int l_sock_diag(lua_State *L)
{
	static const char *const protos[] = {
		"tcp", "udp", "udplite", "raw", "unix", "packet", "netlink", NULL
	};
	static int (*const dumps[])(struct diag_ctx *) = {
		dump_inet, dump_inet, dump_inet, dump_inet, dump_unix, dump_packet, dump_netlink
	};
	struct diag_ctx c;
	int families[DIAG_MAX_FAMILIES], nfamilies, first, i, proto;
	int (*dump)(struct diag_ctx *);
	lua_Integer start;
	int err = 0;

	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = check_session(L, 1);
	c.n = start = check_sink(L, 2);
	c.list = 2;
	proto = check_enum(L, 3, protos);
	c.proto = protos[proto];
	dump = dumps[proto];
	nfamilies = read_families(L, 4, families);
	read_filter(L, 5, &c.f);
	c.want_info = lua_toboolean(L, 6);
	first = (int)luaL_optinteger(L, 7, 1);
	luaL_argcheck(L, first >= 1 && first <= nfamilies, 7, "no such family in the list");
	if (c.s->diag.nl == NULL)
		return luaL_argerror(L, 1, "session has no sock_diag socket");
	for (i = 0; i < nfamilies; i++)
		if (dump == dump_inet && families[i] == AF_UNSPEC)
			return luaL_argerror(L, 4, "'inet' or 'inet6' expected");
	lua_settop(L, 6);

	sock_keys_push(L, &c.sk, c.s, c.f.reuse && lua_type(L, 2) == LUA_TFUNCTION);
	for (i = first - 1; i < nfamilies && err == 0; i++) {
		if (dump == dump_inet && strcmp(c.proto, "tcp") == 0 &&
		    i + 1 < nfamilies && families[i] == AF_INET && families[i + 1] == AF_INET6) {
			lua_Integer before = c.n, sent = c.messages;

			err = dump_tcp_one_walk(&c);
			if (err == 0) {
				i++;   /* both families done */
				continue;
			}
			/* A kernel without that request refuses it before any
			 * socket: then family by family. Once sockets came, the
			 * failure stands, as the first family's. */
			if (c.n != before || c.messages != sent) {
				i++;
				break;
			}
			err = 0;
		}
		c.family = families[i];
		err = dump(&c);
	}
	sock_keys_pop(&c.sk);
	if (err != 0) {
		int n = push_error(L, lua_pushfstring(L, "sock_diag %s", c.proto), err);

		lua_createtable(L, 0, 4);
		set_int(L, "failed", i);   /* the loop went past the family that failed */
		set_int(L, "count", c.n - start);
		set_int(L, "messages", c.messages);
		set_int(L, "unnamed", c.sk.unnamed);
		return n + 1;
	}
	lua_pushboolean(L, 1);
	lua_pushinteger(L, c.n - start);   /* records handed to the sink */
	lua_pushinteger(L, c.messages);
	lua_pushinteger(L, c.sk.unnamed);
	return 4;
}
