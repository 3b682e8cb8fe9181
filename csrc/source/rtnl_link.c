/* RTM_GETLINK: interface records (the whole dump, or one interface by
 * name) and the ifindex -> name map of a session, read in the session's own
 * netns (if_indextoname would answer for the calling thread's netns).
 */
#include "source/rtnl.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/attr.h"
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>


/* ---- names ---- */

static const struct { unsigned int bit; const char *name; } link_flag_names[] = {
	{0x1, "UP"}, {0x2, "BROADCAST"}, {0x4, "DEBUG"}, {0x8, "LOOPBACK"},
	{0x10, "POINTOPOINT"}, {0x20, "NOTRAILERS"}, {0x40, "RUNNING"},
	{0x80, "NOARP"}, {0x100, "PROMISC"}, {0x200, "ALLMULTI"},
	{0x400, "MASTER"}, {0x800, "SLAVE"}, {0x1000, "MULTICAST"},
	{0x2000, "PORTSEL"}, {0x4000, "AUTOMEDIA"}, {0x8000, "DYNAMIC"},
	{0x10000, "LOWER_UP"}, {0x20000, "DORMANT"}, {0x40000, "ECHO"},
};

static const char *const lk_operstate_names[] = {
	"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP",
};

static const char *const lk_linkmode_names[] = { "DEFAULT", "DORMANT", "TESTING" };

/* ARPHRD_* as `ip link` names them. */
static const struct { unsigned short type; const char *name; } lk_arphrd_names[] = {
	{0, "generic"}, {ARPHRD_ETHER, "ether"}, {ARPHRD_EETHER, "eether"},
	{ARPHRD_AX25, "ax25"}, {ARPHRD_PRONET, "pronet"}, {ARPHRD_CHAOS, "chaos"},
	{ARPHRD_IEEE802, "ieee802"}, {ARPHRD_ARCNET, "arcnet"},
	{ARPHRD_APPLETLK, "atalk"}, {ARPHRD_DLCI, "dlci"}, {ARPHRD_ATM, "atm"},
	{ARPHRD_METRICOM, "metricom"}, {ARPHRD_IEEE1394, "ieee1394"},
	{ARPHRD_INFINIBAND, "infiniband"}, {ARPHRD_SLIP, "slip"},
	{ARPHRD_CSLIP, "cslip"}, {ARPHRD_SLIP6, "slip6"}, {ARPHRD_CSLIP6, "cslip6"},
	{ARPHRD_RSRVD, "rsrvd"}, {ARPHRD_ADAPT, "adapt"}, {ARPHRD_ROSE, "rose"},
	{ARPHRD_X25, "x25"}, {ARPHRD_HWX25, "hwx25"}, {280, "can"},
	{ARPHRD_PPP, "ppp"}, {ARPHRD_HDLC, "hdlc"}, {ARPHRD_LAPB, "lapb"},
	{ARPHRD_DDCMP, "ddcmp"}, {ARPHRD_RAWHDLC, "rawhdlc"}, {519, "rawip"},
	{ARPHRD_TUNNEL, "ipip"}, {ARPHRD_TUNNEL6, "tunnel6"}, {ARPHRD_FRAD, "frad"},
	{ARPHRD_SKIP, "skip"}, {ARPHRD_LOOPBACK, "loopback"},
	{ARPHRD_LOCALTLK, "ltalk"}, {ARPHRD_FDDI, "fddi"}, {ARPHRD_BIF, "bif"},
	{ARPHRD_SIT, "sit"}, {ARPHRD_IPDDP, "ip/ddp"}, {ARPHRD_IPGRE, "gre"},
	{ARPHRD_PIMREG, "pimreg"}, {ARPHRD_HIPPI, "hippi"}, {ARPHRD_ASH, "ash"},
	{ARPHRD_ECONET, "econet"}, {ARPHRD_IRDA, "irda"}, {ARPHRD_FCPP, "fcpp"},
	{ARPHRD_FCAL, "fcal"}, {ARPHRD_FCPL, "fcpl"}, {ARPHRD_FCFABRIC, "fcfb0"},
	{ARPHRD_IEEE802_TR, "tr"}, {ARPHRD_IEEE80211, "ieee802.11"},
	{ARPHRD_IEEE80211_PRISM, "ieee802.11/prism"},
	{ARPHRD_IEEE80211_RADIOTAP, "ieee802.11/radiotap"},
	{ARPHRD_IEEE802154, "ieee802.15.4"}, {805, "ieee802.15.4/monitor"},
	{820, "phonet"}, {821, "phonet_pipe"}, {822, "caif"}, {823, "gre6"},
	{824, "netlink"}, {825, "6lowpan"}, {826, "vsockmon"}, {290, "mctp"},
	{ARPHRD_VOID, "void"}, {ARPHRD_NONE, "none"},
};

static void link_set_type(lua_State *L, unsigned short type)
{
	char buf[16];
	size_t i;

	set_int(L, "type_id", type);
	for (i = 0; i < sizeof(lk_arphrd_names) / sizeof(lk_arphrd_names[0]); i++) {
		if (lk_arphrd_names[i].type == type) {
			set_str(L, "type", lk_arphrd_names[i].name);
			return;
		}
	}
	snprintf(buf, sizeof(buf), "[%u]", type);   /* as ip prints an unknown type */
	set_str(L, "type", buf);
}

/* The hardware address; tunnels carry an IP address in it, shown as ip
 * shows it. */
static void link_set_address(lua_State *L, const char *k, const struct nlattr *a,
			     unsigned short type)
{
	char text[INET6_ADDRSTRLEN];
	size_t len;

	if (a == NULL || (len = mnl_attr_get_payload_len(a)) == 0)
		return;
	if ((len == 4 && (type == ARPHRD_TUNNEL || type == ARPHRD_SIT || type == ARPHRD_IPGRE)) ||
	    (len == 16 && (type == ARPHRD_TUNNEL6 || type == 823))) {
		if (inet_ntop(len == 4 ? AF_INET : AF_INET6, mnl_attr_get_payload(a),
			      text, sizeof(text)) != NULL) {
			set_str(L, k, text);
			return;
		}
	}
	attr_set_hw(L, k, a);
}

/* ---- statistics ---- */

/* struct rtnl_link_stats64, field by field in kernel order; the u32
 * struct rtnl_link_stats has the same order (without the last field). */
static const char *const link_stat_names[] = {
	"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
	"rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
	"rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
	"rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
	"tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed",
	"rx_nohandler", "rx_otherhost_dropped",
};
#define LINK_NSTATS (sizeof(link_stat_names) / sizeof(link_stat_names[0]))

/* Pushes stats = {...} from IFLA_STATS64, else IFLA_STATS (stats.bits =
 * 32). The struct grows across kernels: it is copied by its real length
 * into a zeroed array (memcpy: the payload may be unaligned), and only the
 * fields the kernel sent are set. */
static void link_set_stats(lua_State *L, const struct nlattr *s64, const struct nlattr *s32)
{
	uint64_t v64[LINK_NSTATS];
	uint32_t v32[LINK_NSTATS];
	size_t len, n, i;

	if (s64 != NULL && (len = mnl_attr_get_payload_len(s64)) >= sizeof(uint64_t)) {
		memset(v64, 0, sizeof(v64));
		if (len > sizeof(v64))
			len = sizeof(v64);
		memcpy(v64, mnl_attr_get_payload(s64), len);
		n = len / sizeof(uint64_t);
		lua_createtable(L, 0, (int)n + 1);
		for (i = 0; i < n; i++)
			set_u64(L, link_stat_names[i], v64[i]);
		set_int(L, "bits", 64);
	} else if (s32 != NULL && (len = mnl_attr_get_payload_len(s32)) >= sizeof(uint32_t)) {
		memset(v32, 0, sizeof(v32));
		if (len > sizeof(v32))
			len = sizeof(v32);
		memcpy(v32, mnl_attr_get_payload(s32), len);
		n = len / sizeof(uint32_t);
		lua_createtable(L, 0, (int)n + 1);
		for (i = 0; i < n; i++)
			set_int(L, link_stat_names[i], v32[i]);
		set_int(L, "bits", 32);
	} else {
		return;
	}
	lua_setfield(L, -2, "stats");
}

/* ---- records ---- */


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

static void link_set_flags(lua_State *L, unsigned int flags)
{
	size_t i;

	set_int(L, "flag_bits", flags);
	lua_createtable(L, 0, 8);
	for (i = 0; i < sizeof(link_flag_names) / sizeof(link_flag_names[0]); i++)
		if (flags & link_flag_names[i].bit)
			set_bool(L, link_flag_names[i].name, 1);
	lua_setfield(L, -2, "flags");
}

static void link_set_info(lua_State *L, const struct nlattr *info)
{
	const struct nlattr *tb[LK_TB];

	memset(tb, 0, sizeof(tb));
	if (info == NULL || nl_attrs_parse_nested(info, tb, LK_TB) < 0)
		return;
	attr_set_str(L, "kind", tb[IFLA_INFO_KIND]);
	attr_set_str(L, "slave_kind", tb[IFLA_INFO_SLAVE_KIND]);
}

static void link_set_altnames(lua_State *L, const struct nlattr *list)
{
	const struct nlattr *a;
	lua_Integer n = 0;
	const char *name;

	if (list == NULL)
		return;
	lua_newtable(L);
	mnl_attr_for_each_nested(a, list) {
		if (mnl_attr_get_type(a) == LK_IFLA_ALT_IFNAME && (name = nl_attr_str(a)) != NULL) {
			lua_pushstring(L, name);
			lua_rawseti(L, -2, (int)++n);
		}
	}
	lua_setfield(L, -2, "altnames");
}

static void link_push_record(lua_State *L, const struct ifinfomsg *ifi,
			     const struct nlattr **tb, const char *name)
{
	uint32_t v;
	uint8_t b;

	lua_createtable(L, 0, 32);
	set_str(L, "name", name);
	set_int(L, "index", ifi->ifi_index);
	attr_set_u32(L, "mtu", tb[IFLA_MTU]);
	link_set_flags(L, ifi->ifi_flags);
	if (nl_attr_u8(tb[IFLA_OPERSTATE], &b))
		set_str(L, "operstate", b < sizeof(lk_operstate_names) / sizeof(lk_operstate_names[0])
			? lk_operstate_names[b] : "UNKNOWN");
	if (nl_attr_u8(tb[IFLA_LINKMODE], &b) && b < sizeof(lk_linkmode_names) / sizeof(lk_linkmode_names[0]))
		set_str(L, "linkmode", lk_linkmode_names[b]);
	link_set_type(L, ifi->ifi_type);
	link_set_address(L, "mac", tb[IFLA_ADDRESS], ifi->ifi_type);
	link_set_address(L, "broadcast", tb[IFLA_BROADCAST], ifi->ifi_type);
	link_set_address(L, "perm_address", tb[LK_IFLA_PERM_ADDRESS], ifi->ifi_type);
	link_set_info(L, tb[IFLA_LINKINFO]);
	attr_set_u32(L, "master_index", tb[IFLA_MASTER]);
	if (nl_attr_u32(tb[IFLA_LINK], &v) && v != 0)
		set_int(L, "link_index", v);
	if (nl_attr_u32(tb[IFLA_LINK_NETNSID], &v))
		set_int(L, "link_netnsid", (int32_t)v);
	attr_set_str(L, "qdisc", tb[IFLA_QDISC]);
	attr_set_u32(L, "txqlen", tb[IFLA_TXQLEN]);
	attr_set_u32(L, "group", tb[IFLA_GROUP]);
	attr_set_u32(L, "promiscuity", tb[IFLA_PROMISCUITY]);
	attr_set_u32(L, "allmulti", tb[LK_IFLA_ALLMULTI]);
	attr_set_u32(L, "min_mtu", tb[LK_IFLA_MIN_MTU]);
	attr_set_u32(L, "max_mtu", tb[LK_IFLA_MAX_MTU]);
	attr_set_u32(L, "num_tx_queues", tb[IFLA_NUM_TX_QUEUES]);
	attr_set_u32(L, "num_rx_queues", tb[IFLA_NUM_RX_QUEUES]);
	attr_set_u32(L, "gso_max_size", tb[IFLA_GSO_MAX_SIZE]);
	attr_set_u32(L, "gso_max_segs", tb[IFLA_GSO_MAX_SEGS]);
	if (nl_attr_u8(tb[IFLA_CARRIER], &b))
		set_bool(L, "carrier", b != 0);
	attr_set_u32(L, "carrier_changes", tb[IFLA_CARRIER_CHANGES]);
	attr_set_u32(L, "carrier_up_count", tb[LK_IFLA_CARRIER_UP_COUNT]);
	attr_set_u32(L, "carrier_down_count", tb[LK_IFLA_CARRIER_DOWN_COUNT]);
	if (nl_attr_u8(tb[IFLA_PROTO_DOWN], &b))
		set_bool(L, "proto_down", b != 0);
	attr_set_str(L, "alias", tb[IFLA_IFALIAS]);
	link_set_altnames(L, tb[LK_IFLA_PROP_LIST]);
	attr_set_str(L, "parent_dev", tb[LK_IFLA_PARENT_DEV_NAME]);
	attr_set_str(L, "parent_bus", tb[LK_IFLA_PARENT_DEV_BUS_NAME]);
	link_set_stats(L, tb[IFLA_STATS64], tb[IFLA_STATS]);
}

int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_ctx *c = (struct link_ctx *)data;
	const struct nlattr *tb[LK_TB];
	const struct ifinfomsg *ifi;
	const char *name;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	ifi = (const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh);
	memset(tb, 0, sizeof(tb));
	if (nl_attrs_parse(nlh, sizeof(*ifi), tb, LK_TB) < 0 ||
	    (name = nl_attr_str(tb[IFLA_IFNAME])) == NULL)
		return 0;   /* malformed: skip rather than guess */
	if (c->fill_names && ifname_store(&c->s->ifnames, ifi->ifi_index, name) != 0)
		return -ENOMEM;
	link_push_record(c->L, ifi, tb, name);
	append(c->L, c->list, &c->n);
	return 0;
}

/* core.links(session [, name]) -> list, interrupted | nil, msg, errno.
 * Without name: the whole RTM_GETLINK dump (interrupted: the kernel set
 * NLM_F_DUMP_INTR, the caller retries). With name: that interface alone
 * (ENODEV when there is none). */
int l_links(lua_State *L)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct session *s = check_session(L, 1);
	const char *name = luaL_optstring(L, 2, NULL);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_result res;
	struct link_ctx c;
	int err;

	if (name != NULL && strlen(name) >= IF_NAMESIZE)
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
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
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

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	ifi = (const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh);
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
