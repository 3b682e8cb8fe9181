/* Table-building helpers every record uses: typed field setters, address
 * text, family names, error triples and result sinks. */
#include "record/push.h"
#include "nl/nl.h"
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

int parse_addr(const char *text, size_t len, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	/* inet_pton reads up to the first NUL: the text must end there */
	if (memchr(text, '\0', len) != NULL || text[len] != '\0')
		return -1;
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

/* A prefix length: 1 to 3 decimal digits, "0" alone or none leading,
 * at most max; -1 otherwise (no sign, no space, no "08"). */
static int parse_prefixlen(const char *text, size_t len, int max)
{
	size_t i;
	int v = 0;

	if (len == 0 || len > 3 || (len > 1 && text[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	return v <= max ? v : -1;
}

/* "addr" or "addr/len"; returns 0 or -1 when malformed. */
int parse_cidr(const char *text, size_t len, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = memchr(text, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - text) : len;
	int max, plen;

	if (alen >= sizeof(buf))
		return -1;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (parse_addr(buf, alen, &c->addr) != 0)
		return -1;
	max = c->addr.family == AF_INET ? 32 : 128;
	plen = max;
	if (slash != NULL &&
	    (plen = parse_prefixlen(slash + 1, len - alen - 1, max)) < 0)
		return -1;
	c->prefixlen = plen;
	c->set = 1;
	return 0;
}

const char *check_text(lua_State *L, int idx, const char *what, size_t *len)
{
	size_t n;
	const char *s = luaL_checklstring(L, idx, &n);

	if (memchr(s, '\0', n) != NULL)
		luaL_argerror(L, idx, lua_pushfstring(L, "%s contains a NUL byte", what));
	if (len != NULL)
		*len = n;
	return s;
}

const char *opt_text(lua_State *L, int idx, const char *what, size_t *len)
{
	if (lua_isnoneornil(L, idx)) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	return check_text(L, idx, what, len);
}

int check_enum(lua_State *L, int idx, const char *const names[])
{
	size_t n;
	const char *s = luaL_checklstring(L, idx, &n);
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	}
	return luaL_argerror(L, idx, lua_pushfstring(L, "invalid option '%s'", s));
}

/* Hands the record on top of the stack to the sink at sink_idx: appended
 * when the sink is a list, passed to it when it is a function (streaming:
 * the record becomes garbage at once instead of staying in memory). The
 * function may call the core again, even with the session the caller is
 * reading: the caller's guard (session_setfuncs, nl/session.c) holds that
 * session for the whole call, and an error the function raises unwinds to
 * that guard, which releases it. */
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
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);

	if (parse_cidr(text, len, &c) != 0) {
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
