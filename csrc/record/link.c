/* Interface records: the IFF_* flag, operstate, link mode and ARPHRD_*
 * names as ip prints them, hardware addresses as text, the 64-bit (or
 * 32-bit) statistics by their kernel field names. */
#include "record/link.h"
#include "record/push.h"
#include "record/attr.h"
#include "nl/nl.h"
#include "api.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <net/if_arp.h>

static const struct bit_name link_flag_names[] = {
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
static void link_set_address(lua_State *L, const char *k, const struct link_hw *a,
			     unsigned short type)
{
	char text[INET6_ADDRSTRLEN];
	size_t len = a->len;

	if (len == 0)
		return;
	if ((len == 4 && (type == ARPHRD_TUNNEL || type == ARPHRD_SIT || type == ARPHRD_IPGRE)) ||
	    (len == 16 && (type == ARPHRD_TUNNEL6 || type == 823))) {
		if (inet_ntop(len == 4 ? AF_INET : AF_INET6, a->p, text, sizeof(text)) != NULL) {
			set_str(L, k, text);
			return;
		}
	}
	attr_push_hw(L, a->p, len);
	lua_setfield(L, -2, k);
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

/* core.link_stat_names() -> the names the stats of a link record can have,
 * in the kernel's order (the list that knows them all: a check names its
 * counters from it). */
int l_link_stat_names(lua_State *L)
{
	size_t i;

	lua_createtable(L, (int)LINK_NSTATS, 0);
	for (i = 0; i < LINK_NSTATS; i++) {
		lua_pushstring(L, link_stat_names[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

/* Pushes stats = {...} from the struct the kernel sent (stats.bits = 64
 * or 32). The struct grows across kernels: only the fields the kernel sent
 * are set, each copied out (memcpy: the payload may be unaligned). */
static void link_set_stats(lua_State *L, const struct link_rec *r)
{
	const unsigned char *p = (const unsigned char *)r->stats;
	size_t width = r->stats_bits == 64 ? sizeof(uint64_t) : sizeof(uint32_t);
	size_t n = r->stats_len / width, i;
	uint64_t v64;
	uint32_t v32;

	if (n > LINK_NSTATS)
		n = LINK_NSTATS;
	lua_createtable(L, 0, (int)n + 1);
	for (i = 0; i < n; i++, p += width) {
		if (width == sizeof(v64)) {
			memcpy(&v64, p, sizeof(v64));
			set_u64(L, link_stat_names[i], v64);
		} else {
			memcpy(&v32, p, sizeof(v32));
			set_int(L, link_stat_names[i], v32);
		}
	}
	set_int(L, "bits", r->stats_bits);
	lua_setfield(L, -2, "stats");
}

/* The u32 fields, by enum link_u32. */
static const char *const link_u32_names[LU_COUNT] = {
	"mtu", "master_index", "txqlen", "group", "promiscuity", "allmulti",
	"min_mtu", "max_mtu", "num_tx_queues", "num_rx_queues", "gso_max_size",
	"gso_max_segs", "carrier_changes", "carrier_up_count", "carrier_down_count",
};

static void link_set_u32s(lua_State *L, const struct link_rec *r, int from, int to)
{
	int k;

	for (k = from; k < to; k++)
		if (r->have_u32 & (1u << k))
			set_int(L, link_u32_names[k], r->u32[k]);
}

static void link_set_altnames(lua_State *L, const struct link_rec *r)
{
	const struct nlattr *pos = NULL;
	lua_Integer n = 0;
	const char *name;

	lua_newtable(L);
	while ((name = nl_nest_next_str(r->altnames, (uint16_t)r->altname_type, &pos)) != NULL) {
		lua_pushstring(L, name);
		lua_rawseti(L, -2, (int)++n);
	}
	lua_setfield(L, -2, "altnames");
}

static void link_set_opt_str(lua_State *L, const char *k, const char *v)
{
	if (v != NULL)
		set_str(L, k, v);
}

void link_record_push(lua_State *L, const struct link_rec *r)
{
	lua_createtable(L, 0, 32);
	set_str(L, "name", r->name);
	set_int(L, "index", r->index);
	link_set_u32s(L, r, LU_MTU, LU_MTU + 1);
	set_int(L, "flag_bits", r->flags);
	push_bit_set(L, link_flag_names, sizeof(link_flag_names) / sizeof(link_flag_names[0]),
		     r->flags, 8);
	lua_setfield(L, -2, "flags");
	if (r->operstate >= 0)
		set_str(L, "operstate",
			(size_t)r->operstate < sizeof(lk_operstate_names) / sizeof(lk_operstate_names[0])
			? lk_operstate_names[r->operstate] : "UNKNOWN");
	if (r->linkmode >= 0 &&
	    (size_t)r->linkmode < sizeof(lk_linkmode_names) / sizeof(lk_linkmode_names[0]))
		set_str(L, "linkmode", lk_linkmode_names[r->linkmode]);
	link_set_type(L, r->type);
	link_set_address(L, "mac", &r->mac, r->type);
	link_set_address(L, "broadcast", &r->broadcast, r->type);
	link_set_address(L, "perm_address", &r->perm_address, r->type);
	link_set_opt_str(L, "kind", r->kind);
	link_set_opt_str(L, "slave_kind", r->slave_kind);
	link_set_u32s(L, r, LU_MASTER_INDEX, LU_MASTER_INDEX + 1);
	if (r->has_link_index)
		set_int(L, "link_index", r->link_index);
	if (r->has_link_netnsid)
		set_int(L, "link_netnsid", r->link_netnsid);
	link_set_opt_str(L, "qdisc", r->qdisc);
	link_set_u32s(L, r, LU_TXQLEN, LU_CARRIER_CHANGES);
	if (r->carrier >= 0)
		set_bool(L, "carrier", r->carrier);
	link_set_u32s(L, r, LU_CARRIER_CHANGES, LU_COUNT);
	if (r->proto_down >= 0)
		set_bool(L, "proto_down", r->proto_down);
	link_set_opt_str(L, "alias", r->alias);
	if (r->altnames != NULL)
		link_set_altnames(L, r);
	link_set_opt_str(L, "parent_dev", r->parent_dev);
	link_set_opt_str(L, "parent_bus", r->parent_bus);
	if (r->stats != NULL)
		link_set_stats(L, r);
}
