/* RTM_GETLINK: interface records (the whole dump, or one interface by
 * name) and the ifindex -> name map of a session, read in the session's own
 * netns (if_indextoname would answer for the calling thread's netns). The
 * decoder reads one message into a struct link_rec; record/link.c makes the
 * record. */
#include "source/rtnl.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/link.h"
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>

/* The most names a session keeps: a netns with more interfaces than this
 * gets no names for the rest rather than an unbounded table. */
#define IFNAME_MAX_ENTRIES (1u << 20)

/* The position of index in m, or where it would be inserted. */
static uint32_t ifname_find(const struct ifname_map *m, uint32_t index)
{
	uint32_t lo = 0, hi = m->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->entries[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int ifname_store(struct ifname_map *m, int index, const char *name)
{
	uint32_t pos;

	if (index <= 0)
		return 0;
	pos = ifname_find(m, (uint32_t)index);
	if (pos >= m->count || m->entries[pos].index != (uint32_t)index) {
		if (m->count >= IFNAME_MAX_ENTRIES)
			return 0;
		if (m->count == m->cap) {
			uint32_t cap = m->cap == 0 ? 16 : m->cap * 2;
			struct ifname_entry *p;

			if (cap > IFNAME_MAX_ENTRIES)
				cap = IFNAME_MAX_ENTRIES;
			p = realloc(m->entries, (size_t)cap * sizeof(*p));
			if (p == NULL)
				return -ENOMEM;
			m->entries = p;
			m->cap = cap;
		}
		/* Dumps come in index order: this is nearly always an append. */
		memmove(m->entries + pos + 1, m->entries + pos,
			(size_t)(m->count - pos) * sizeof(*m->entries));
		m->count++;
		m->entries[pos].index = (uint32_t)index;
	}
	snprintf(m->entries[pos].name, IF_NAMESIZE, "%s", name);
	return 0;
}

/* The u32 attributes copied as they are. */
static const struct { uint16_t type; uint8_t field; } link_u32_attrs[] = {
	{IFLA_MTU, LU_MTU}, {IFLA_MASTER, LU_MASTER_INDEX}, {IFLA_TXQLEN, LU_TXQLEN},
	{IFLA_GROUP, LU_GROUP}, {IFLA_PROMISCUITY, LU_PROMISCUITY},
	{LK_IFLA_ALLMULTI, LU_ALLMULTI}, {LK_IFLA_MIN_MTU, LU_MIN_MTU},
	{LK_IFLA_MAX_MTU, LU_MAX_MTU}, {IFLA_NUM_TX_QUEUES, LU_NUM_TX_QUEUES},
	{IFLA_NUM_RX_QUEUES, LU_NUM_RX_QUEUES}, {IFLA_GSO_MAX_SIZE, LU_GSO_MAX_SIZE},
	{IFLA_GSO_MAX_SEGS, LU_GSO_MAX_SEGS}, {IFLA_CARRIER_CHANGES, LU_CARRIER_CHANGES},
	{LK_IFLA_CARRIER_UP_COUNT, LU_CARRIER_UP_COUNT},
	{LK_IFLA_CARRIER_DOWN_COUNT, LU_CARRIER_DOWN_COUNT},
};

static void link_hw(const struct nlattr *a, struct link_hw *out)
{
	if (a != NULL && (out->len = mnl_attr_get_payload_len(a)) > 0)
		out->p = (const unsigned char *)mnl_attr_get_payload(a);
	else
		out->len = 0;
}

/* A u8 attribute as 0..255, or -1 when it is absent or malformed. */
static int link_u8(const struct nlattr *a)
{
	uint8_t b;

	return nl_attr_u8(a, &b) ? b : -1;
}

/* The facts of one RTM_NEWLINK message; 0 when it is malformed or has no
 * name: skipped rather than guessed. */
static int link_decode(const struct nlmsghdr *nlh, struct link_rec *r)
{
	const struct nlattr *tb[LK_TB];
	const struct nlattr *info[LK_TB];
	const struct ifinfomsg *ifi;
	const char *name;
	uint32_t v;
	size_t i;
	int b;

	if ((ifi = (const struct ifinfomsg *)nl_msg_hdr(nlh, RTM_NEWLINK, sizeof(*ifi))) == NULL)
		return 0;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ifi), tb, LK_TB) < 0 ||
	    (name = nl_attr_str(tb[IFLA_IFNAME])) == NULL)
		return 0;
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->index = ifi->ifi_index;
	r->flags = ifi->ifi_flags;
	r->type = ifi->ifi_type;
	for (i = 0; i < sizeof(link_u32_attrs) / sizeof(link_u32_attrs[0]); i++)
		if (nl_attr_u32(tb[link_u32_attrs[i].type], &r->u32[link_u32_attrs[i].field]))
			r->have_u32 |= 1u << link_u32_attrs[i].field;
	r->has_link_index = nl_attr_u32(tb[IFLA_LINK], &r->link_index) && r->link_index != 0;
	if ((r->has_link_netnsid = nl_attr_u32(tb[IFLA_LINK_NETNSID], &v)))
		r->link_netnsid = (int32_t)v;
	r->operstate = link_u8(tb[IFLA_OPERSTATE]);
	r->linkmode = link_u8(tb[IFLA_LINKMODE]);
	b = link_u8(tb[IFLA_CARRIER]);
	r->carrier = b < 0 ? -1 : b != 0;
	b = link_u8(tb[IFLA_PROTO_DOWN]);
	r->proto_down = b < 0 ? -1 : b != 0;
	r->qdisc = nl_attr_str(tb[IFLA_QDISC]);
	r->alias = nl_attr_str(tb[IFLA_IFALIAS]);
	r->parent_dev = nl_attr_str(tb[LK_IFLA_PARENT_DEV_NAME]);
	r->parent_bus = nl_attr_str(tb[LK_IFLA_PARENT_DEV_BUS_NAME]);
	memset(info, 0, sizeof(info));
	if (tb[IFLA_LINKINFO] != NULL && nl_attrs_parse_nested(tb[IFLA_LINKINFO], info, LK_TB) >= 0) {
		r->kind = nl_attr_str(info[IFLA_INFO_KIND]);
		r->slave_kind = nl_attr_str(info[IFLA_INFO_SLAVE_KIND]);
	}
	link_hw(tb[IFLA_ADDRESS], &r->mac);
	link_hw(tb[IFLA_BROADCAST], &r->broadcast);
	link_hw(tb[LK_IFLA_PERM_ADDRESS], &r->perm_address);
	r->altnames = tb[LK_IFLA_PROP_LIST];
	r->altname_type = LK_IFLA_ALT_IFNAME;
	/* IFLA_STATS64, else the u32 IFLA_STATS; at least one counter */
	if ((r->stats = nl_attr_min(tb[IFLA_STATS64], sizeof(uint64_t))) != NULL)
		r->stats_bits = 64;
	else if ((r->stats = nl_attr_min(tb[IFLA_STATS], sizeof(uint32_t))) != NULL)
		r->stats_bits = 32;
	if (r->stats != NULL)
		r->stats_len = mnl_attr_get_payload_len(r->stats_bits == 64 ? tb[IFLA_STATS64]
						 : tb[IFLA_STATS]);
	return 1;
}

int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_ctx *c = (struct link_ctx *)data;
	struct link_rec r;

	if (!link_decode(nlh, &r))
		return 0;
	if (c->fill_names && ifname_store(&c->s->ifnames, r.index, r.name) != 0)
		return -ENOMEM;
	link_record_push(c->L, &r);
	append(c->L, c->list, &c->n);
	return 0;
}

/* Names the interface of a request: IFLA_IFNAME holds a name or a short
 * alternative name (the kernel looks both up); one longer than IFNAMSIZ
 * can only be an alternative name, sent as IFLA_ALT_IFNAME. */
void link_put_name(struct nlmsghdr *nlh, const char *name)
{
	if (strlen(name) < IF_NAMESIZE)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	else
		mnl_attr_put_strz(nlh, LK_IFLA_ALT_IFNAME, name);
}

/* core.links(session [, name]) -> list, interrupted | nil, msg, errno.
 * Without name: the whole RTM_GETLINK dump (interrupted: the kernel set
 * NLM_F_DUMP_INTR, the caller retries). With name: that interface alone
 * (ENODEV when there is none); name may be an alternative name, up to
 * 127 bytes. */
int l_links(lua_State *L)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct session *s = check_session(L, 1);
	const char *name = opt_text(L, 2, "interface name", NULL);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_result res;
	struct link_ctx c;
	int err;

	if (name != NULL && strlen(name) >= LK_ALTIFNAMSIZ)
		return push_error(L, "RTM_GETLINK", ENODEV);
	if (s->route.nl == NULL)
		return push_error(L, "RTM_GETLINK", ENOTCONN);
	lua_settop(L, 2);
	lua_newtable(L);
	memset(&c, 0, sizeof(c));
	c.L = L;
	c.s = s;
	c.list = lua_gettop(L);
	c.fill_names = name == NULL;

	memset(req, 0, sizeof(req));   /* attribute padding goes out too */
	ifi = (struct ifinfomsg *)nl_put_request(req, &nlh, RTM_GETLINK,
						 NLM_F_REQUEST | (name == NULL ? NLM_F_DUMP : 0),
						 sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (name != NULL)
		link_put_name(nlh, name);
	err = nl_request(&s->route, nlh, link_msg_cb, &c, &res);
	if (err != 0)
		return push_error(L, "RTM_GETLINK", err);
	if (name == NULL)
		s->ifnames.loaded = 1;   /* the map now holds this dump's names */
	lua_pushboolean(L, res.interrupted);
	return 2;
}

/* ---- the name map ---- */

struct ifname_ctx {
	struct ifname_map *map;
	int err;
};

static int ifname_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifname_ctx *c = (struct ifname_ctx *)data;
	const struct nlattr *tb[LK_TB];
	const struct ifinfomsg *ifi;
	const char *name;

	if ((ifi = (const struct ifinfomsg *)nl_msg_hdr(nlh, RTM_NEWLINK, sizeof(*ifi))) == NULL)
		return 0;
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ifi), tb, LK_TB) < 0 ||
	    (name = nl_attr_str(tb[IFLA_IFNAME])) == NULL)
		return 0;
	return ifname_store(c->map, ifi->ifi_index, name);
}

/* Loads the whole index->name table once per session; no Lua calls. The
 * dump asks the kernel to skip statistics (RTEXT_FILTER_SKIP_STATS trims
 * IFLA_AF_SPEC). */
static int ifnames_load(struct session *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct ifname_ctx ctx;
	struct nl_result res;
	int err, tries;

	if (s->route.nl == NULL)
		return -ENOTCONN;
	ctx.map = &s->ifnames;
	ctx.err = 0;
	/* A link added or removed mid-dump flags it interrupted: retry. */
	for (tries = 0; tries < 5; tries++) {
		ifi = (struct ifinfomsg *)nl_put_request(buf, &nlh, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP,
						sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		err = nl_request(&s->route, nlh, ifname_msg_cb, &ctx, &res);
		if (err != 0 || !res.interrupted)
			break;
	}
	return err;
}

const char *session_ifname(struct session *s, uint32_t index)
{
	if (s == NULL)
		return NULL;   /* parsing text without a session (fixture specs) */
	if (!s->ifnames.loaded) {
		s->ifnames.loaded = 1;
		(void)ifnames_load(s);
	}
	if (index != 0 && s->ifnames.count > 0) {
		uint32_t pos = ifname_find(&s->ifnames, index);

		if (pos < s->ifnames.count && s->ifnames.entries[pos].index == index &&
		    s->ifnames.entries[pos].name[0] != '\0')
			return s->ifnames.entries[pos].name;
	}
	return NULL;
}

/* core.ifname(session, index) -> name | nil, in the session's netns. */
int l_ifname(lua_State *L)
{
	struct session *s = check_session(L, 1);
	lua_Integer index = luaL_checkinteger(L, 2);
	const char *name = NULL;

	if (index > 0 && index <= 0x7fffffff)
		name = session_ifname(s, (uint32_t)index);
	if (name == NULL)
		lua_pushnil(L);
	else
		lua_pushstring(L, name);
	return 1;
}
