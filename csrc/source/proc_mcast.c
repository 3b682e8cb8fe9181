/* Multicast group memberships (netstat -g) from /proc/net/igmp and
 * /proc/net/igmp6, read in the session's netns.
 *
 *  - igmp: an interface line "Idx\tDevice    : Count Querier" (the name
 *    padded to 10, so a longer name touches the colon), then one line per
 *    group, indented with tabs: "Group Users Timer Reporter". The group is
 *    %08X of the __be32: the native u32 holds the bytes in network order,
 *    so it is copied as is (reversed-looking on little endian, like
 *    /proc/net/route).
 *  - igmp6: "idx device group users flags timer" with the group as 32 hex
 *    digits in network order. */
#include "source/proc.h"
#include "text/text.h"
#include "nl/nl.h"
#include "record/push.h"
#include "api.h"

#include <sys/socket.h>

struct mcast_parse {
	struct stat_parse sp;   /* L, out (the list), problems */
	lua_Integer n;
};

static void push_group(struct mcast_parse *mp, const char *ifname, size_t iflen,
		       uint32_t index, const struct addr *group, uint32_t users,
		       const char *querier, size_t qlen)
{
	lua_State *L = mp->sp.L;
	char text[INET6_ADDRSTRLEN];

	lua_createtable(L, 0, 7);
	lua_pushlstring(L, ifname, iflen);
	lua_setfield(L, -2, "interface");
	set_int(L, "index", index);
	set_str(L, "family", family_name(group->family));
	set_str(L, "group", addr_text(group, text));
	set_int(L, "users", users);
	if (querier != NULL) {
		lua_pushlstring(L, querier, qlen);
		lua_setfield(L, -2, "querier");
	}
	lua_rawseti(L, mp->sp.out, (int)++mp->n);
}

/* "Idx\tDevice    : Count Querier": index, name and querier version. */
static int parse_igmp_iface(struct cursor *c, uint64_t *index, const char **name,
			    size_t *nlen, const char **querier, size_t *qlen)
{
	const char *colon, *e;
	uint64_t count;

	if (token_dec(c, UINT32_MAX, index) != 0)
		return -1;
	colon = (const char *)memchr(c->p, ':', (size_t)(c->end - c->p));
	if (colon == NULL)
		return -1;
	while (c->p < colon && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	for (e = colon; e > c->p && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	if (e == c->p)
		return -1;
	*name = c->p;
	*nlen = (size_t)(e - c->p);
	c->p = colon + 1;
	if (token_dec(c, UINT32_MAX, &count) != 0 || !next_token(c, querier, qlen))
		return -1;
	return 0;
}

static void parse_igmp_text(struct mcast_parse *mp, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *t;
	const char *ifname = NULL, *querier = NULL;
	size_t iflen = 0, qlen = 0, n;
	uint64_t index = 0, v, users;
	struct cursor c;
	struct addr group;
	uint32_t w;

	while (next_line(&p, end, &c)) {
		const char *line = c.p;

		if (*line != ' ' && *line != '\t') {
			if (next_token(&c, &t, &n) && n == 3 && memcmp(t, "Idx", 3) == 0)
				continue;   /* the header */
			c.p = line;
			ifname = NULL;
			if (parse_igmp_iface(&c, &index, &ifname, &iflen, &querier, &qlen) != 0) {
				ifname = NULL;
				stat_problem(&mp->sp, "a malformed interface line");
			}
			continue;
		}
		if (!next_token(&c, &t, &n) || n != 8 || parse_hex(t, n, &v) != 0 ||
		    token_dec(&c, UINT32_MAX, &users) != 0) {
			stat_problem(&mp->sp, "a malformed group line");
			continue;
		}
		if (ifname == NULL) {
			stat_problem(&mp->sp, "a group line without its interface");
			continue;
		}
		memset(&group, 0, sizeof(group));
		group.family = AF_INET;
		w = (uint32_t)v;
		memcpy(group.bytes, &w, sizeof(w));
		push_group(mp, ifname, iflen, (uint32_t)index, &group, (uint32_t)users,
			   querier, qlen);
	}
}

/* "idx device group users flags timer" */
static int parse_igmp6_line(struct cursor *c, uint64_t *index, const char **name,
			    size_t *nlen, struct addr *group, uint64_t *users)
{
	const char *t;
	size_t n, i;
	uint64_t v;

	memset(group, 0, sizeof(*group));
	group->family = AF_INET6;
	if (token_dec(c, UINT32_MAX, index) != 0 || !next_token(c, name, nlen) ||
	    !next_token(c, &t, &n) || n != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		if (parse_hex(t + 2 * i, 2, &v) != 0)
			return -1;
		group->bytes[i] = (unsigned char)v;
	}
	return token_dec(c, UINT32_MAX, users);
}

static void parse_igmp6_text(struct mcast_parse *mp, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *name;
	size_t nlen;
	uint64_t index, users;
	struct cursor c;
	struct addr group;

	while (next_line(&p, end, &c)) {
		if (parse_igmp6_line(&c, &index, &name, &nlen, &group, &users) != 0)
			stat_problem(&mp->sp, "a malformed line");
		else
			push_group(mp, name, nlen, (uint32_t)index, &group, (uint32_t)users,
				   NULL, 0);
	}
}

static void mcast_init(struct mcast_parse *mp, lua_State *L, int list, const char *file)
{
	stat_parse_init(&mp->sp, L, list, file);
	mp->n = (lua_Integer)lua_rawlen(L, list);
}

/* core.proc_groups(session) -> list, partial | nil, msg, errno: the
 * memberships of whichever of igmp and igmp6 the session opened. */
int l_proc_groups(lua_State *L)
{
	struct session *s = check_session(L, 1);
	struct mcast_parse mp;
	size_t len;
	int list, err, v6;

	lua_settop(L, 1);
	lua_newtable(L);
	list = lua_gettop(L);
	mcast_init(&mp, L, list, "");
	for (v6 = 0; v6 <= 1; v6++) {
		int pf = v6 ? PROC_IGMP6 : PROC_IGMP;

		if (s->proc_fd[pf] < 0) {
			stat_unopened(&mp.sp, s, pf);
			continue;
		}
		if ((err = proc_read_all(s, s->proc_fd[pf], &len)) != 0)
			return push_error(L, lua_pushfstring(L, "read /proc/net/%s",
							     proc_file_names[pf]), err);
		mp.sp.file = proc_file_names[pf];
		if (v6)
			parse_igmp6_text(&mp, s->text, len);
		else
			parse_igmp_text(&mp, s->text, len);
	}
	lua_settop(L, list);
	push_partial(&mp.sp);
	return 2;
}

/* Test hooks: core._parse_igmp(text), core._parse_igmp6(text)
 * -> list, partial|nil */
static int l_parse_igmp_any(lua_State *L, int v6)
{
	struct mcast_parse mp;
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);

	lua_settop(L, 1);
	lua_newtable(L);
	mcast_init(&mp, L, 2, v6 ? "igmp6" : "igmp");
	if (v6)
		parse_igmp6_text(&mp, text, len);
	else
		parse_igmp_text(&mp, text, len);
	lua_settop(L, 2);
	push_partial(&mp.sp);
	return 2;
}

int l_parse_igmp(lua_State *L)
{
	return l_parse_igmp_any(L, 0);
}

int l_parse_igmp6(lua_State *L)
{
	return l_parse_igmp_any(L, 1);
}
