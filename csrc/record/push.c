/* Table-building helpers every record uses: typed field setters, address
 * text, family names, error triples and result sinks. */
#include "record/push.h"
#include "text/text.h"
#include "api.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/netlink.h>

void set_int(lua_State *L, const char *k, long long v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

void set_u64(lua_State *L, const char *k, unsigned long long v)
{
	lnetstat_pushu64(L, v);
	lua_setfield(L, -2, k);
}

void set_num(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, (lua_Number)v);
	lua_setfield(L, -2, k);
}

void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

void set_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

/* nil, "what: strerror", errno — the contract for system failures. */
int push_error(lua_State *L, const char *what, int err)
{
	char msg[128];
	const char *text;

	if (err < 0)
		err = -err;
	/* GNU strerror_r may return a static string instead of filling msg. */
	text = strerror_r(err, msg, sizeof(msg));
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", what, text);
	lua_pushinteger(L, err);
	return 3;
}

/* The text of a into out (at least INET6_ADDRSTRLEN bytes). */
const char *addr_text(const struct addr *a, char *out)
{
	out[addr_ntop(a, out)] = '\0';
	return out;
}

const char *family_name(int family)
{
	switch (family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_UNIX: return "unix";
	case AF_PACKET: return "packet";
	case AF_NETLINK: return "netlink";
	default: return "unknown";
	}
}

int parse_addr(const char *text, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* "addr" or "addr/len"; returns 0 or -1 when malformed. */
int parse_cidr(const char *text, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long len;
	int max;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (parse_addr(buf, &c->addr) != 0)
		return -1;
	max = c->addr.family == AF_INET ? 32 : 128;
	len = max;
	if (slash != NULL) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || len < 0 || len > max)
			return -1;
	}
	c->prefixlen = (int)len;
	c->set = 1;
	return 0;
}

/* Hands the record on top of the stack to the sink at sink_idx: appended
 * when the sink is a list, passed to it when it is a function (streaming:
 * the record becomes garbage at once instead of staying in memory). */
void append(lua_State *L, int sink_idx, lua_Integer *n)
{
	if (lua_type(L, sink_idx) == LUA_TFUNCTION) {
		lua_pushvalue(L, sink_idx);
		lua_insert(L, -2);
		lua_call(L, 1, 0);
		++*n;
		return;
	}
	lua_rawseti(L, sink_idx, (int)++*n);
}

/* A sink argument: a list to append to, or a function to call per record.
 * Returns the records already in a list (0 for a function). */
lua_Integer check_sink(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TFUNCTION)
		return 0;
	luaL_checktype(L, idx, LUA_TTABLE);
	return (lua_Integer)lua_rawlen(L, idx);
}

/* core.parse_cidr(text) -> family, prefixlen | nil: the validator the Lua
 * layer uses, so that Lua and C agree on what an address is. */
int l_parse_cidr(lua_State *L)
{
	struct cidr c;

	if (parse_cidr(luaL_checkstring(L, 1), &c) != 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushstring(L, family_name(c.addr.family));
	lua_pushinteger(L, c.prefixlen);
	return 2;
}

void push_bit_set(lua_State *L, const struct bit_name *names, size_t n, uint32_t flags,
		  int room)
{
	size_t i;

	lua_createtable(L, 0, room);
	for (i = 0; i < n; i++) {
		if (flags & names[i].bit) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, names[i].name);
		}
	}
}

const char *scope_name(unsigned int scope, const char *universe)
{
	switch (scope) {
	case 0: return universe;
	case 200: return "site";
	case 253: return "link";
	case 254: return "host";
	case 255: return "nowhere";
	default: return NULL;
	}
}
