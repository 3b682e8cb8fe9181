/* Socket records: the one place where a decoded socket (struct sock_rec,
 * from sock_diag or /proc alike) becomes a Lua record, and the filters
 * applied before it does. */
#include "record/socket.h"
#include "record/push.h"
#include "record/keys.h"
#include "text/text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/netlink.h>

/* TCP_* numbering; index 0 is unused by the kernel. */
static const char *const tcp_state_names[] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
	"LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE",
};

/* The optional record fields and the F_* bit that builds each; fields that
 * come together share a bit. */
static const struct { const char *name; uint32_t bit; } field_bits[] = {
	{"recv_q", F_RECV_Q}, {"send_q", F_SEND_Q}, {"local_addr", F_LOCAL_ADDR},
	{"remote_addr", F_REMOTE_ADDR}, {"local_port", F_LOCAL_PORT},
	{"remote_port", F_REMOTE_PORT}, {"uid", F_UID}, {"inode", F_INODE},
	{"interface", F_INTERFACE}, {"ifindex", F_INTERFACE}, {"cookie", F_COOKIE},
	{"v6only", F_V6ONLY}, {"timer", F_TIMER}, {"timer_expires_ms", F_TIMER},
	{"retransmits", F_TIMER}, {"protocol", F_PROTOCOL}, {"path", F_PATH},
	{"type", F_TYPE}, {"peer_inode", F_PEER_INODE}, {"portid", F_PORTID},
	{"dst_portid", F_PORTID},
};

/* Sets the socket vocabularies on the table at the top of the stack:
 * socket_states (state name -> TCP_* number, the numbering of the states
 * option), socket_fields (field name -> bit of the fields mask) and
 * socket_fields_all (every bit). Lua reads them instead of copying. */
void sock_vocab_push(lua_State *L)
{
	size_t i;

	lua_createtable(L, 0, ST_BOUND_INACTIVE);
	for (i = 1; i <= ST_BOUND_INACTIVE; i++) {
		lua_pushinteger(L, (lua_Integer)i);
		lua_setfield(L, -2, tcp_state_names[i]);
	}
	lua_setfield(L, -2, "socket_states");
	lua_createtable(L, 0, (int)(sizeof(field_bits) / sizeof(field_bits[0])));
	for (i = 0; i < sizeof(field_bits) / sizeof(field_bits[0]); i++) {
		lua_pushinteger(L, (lua_Integer)field_bits[i].bit);
		lua_setfield(L, -2, field_bits[i].name);
	}
	lua_setfield(L, -2, "socket_fields");
	lua_pushinteger(L, (lua_Integer)F_ALL);
	lua_setfield(L, -2, "socket_fields_all");
}

static const char *state_name(const struct sock_rec *r)
{
	/* A closed socket that is not TCP is simply unconnected (ss: UNCONN). */
	if (r->state == ST_CLOSE && strcmp(r->proto, "tcp") != 0)
		return "UNCONN";
	if (r->state == ST_NEW_SYN_RECV) /* NEW_SYN_RECV is a SYN_RECV request sock */
		return "SYN_RECV";
	if (r->state >= 0 &&
	    r->state < (int)(sizeof(tcp_state_names) / sizeof(tcp_state_names[0])))
		return tcp_state_names[r->state];
	return "UNKNOWN";
}

static const char *timer_name(int timer)
{
	switch (timer) {
	case 0: return "off";
	case 1: return "on";
	case 2: return "keepalive";
	case 3: return "timewait";
	case 4: return "probe";
	default: return "unknown";
	}
}

static const char *sock_type_name(int type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	default: return "unknown";
	}
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* True when the IPv6 CIDR c is wider than ::ffff:0:0/96 and holds it:
 * every IPv4 address, as its mapped form, is inside (::/0, ::/80, ...). */
int cidr_holds_ipv4(const struct cidr *c)
{
	return c->set && c->addr.family == AF_INET6 && c->prefixlen < 96 &&
	       prefix_equal(c->addr.bytes, v4mapped_prefix, c->prefixlen);
}

/* An IPv4 CIDR also matches IPv4-mapped IPv6 addresses (::ffff:a.b.c.d),
 * and an IPv6 CIDR the IPv4 addresses whose mapped forms it holds (as
 * lnetstat.query's cidr does): read_cidr turns ::ffff:a.b.c.d/96+n into
 * a.b.c.d/n, which leaves the CIDRs wider than ::ffff:0:0/96. */
static int cidr_match(const struct cidr *c, const struct addr *a)
{
	if (!c->set)
		return 1;
	if (c->addr.family == a->family)
		return prefix_equal(c->addr.bytes, a->bytes, c->prefixlen);
	if (c->addr.family == AF_INET && a->family == AF_INET6 &&
	    memcmp(a->bytes, v4mapped_prefix, 12) == 0)
		return prefix_equal(c->addr.bytes, a->bytes + 12, c->prefixlen);
	if (a->family == AF_INET)
		return cidr_holds_ipv4(c);
	return 0;
}

int filter_match(const struct sock_filter *f, const struct sock_rec *r)
{
	int state = r->state == ST_NEW_SYN_RECV ? ST_SYN_RECV : r->state;

	if (state < 0 || state > 31 || !(f->states & (1u << state)))
		return 0;
	if (f->lport_lo >= 0 && (!r->has_ports || r->lport < f->lport_lo || r->lport > f->lport_hi))
		return 0;
	if (f->rport_lo >= 0 && (!r->has_ports || r->rport < f->rport_lo || r->rport > f->rport_hi))
		return 0;
	if (!f->laddr.set && !f->raddr.set)
		return 1;
	if (r->family != AF_INET && r->family != AF_INET6)
		return 0;
	return cidr_match(&f->laddr, &r->laddr) && cidr_match(&f->raddr, &r->raddr);
}

/* An address or CIDR text (nil: none), read with its length: a NUL byte
 * in it makes it invalid, not shorter. */
static void read_cidr(lua_State *L, const char *key, struct cidr *c)
{
	size_t len = 0;
	const char *text;

	memset(c, 0, sizeof(*c));
	if (lua_isnil(L, -1))
		return;
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "invalid %s (%s instead of text)", key, luaL_typename(L, -1));
	text = lua_tolstring(L, -1, &len);
	if (parse_cidr(text, len, c) != 0)
		luaL_error(L, "invalid %s '%s'", key, text);
	/* ::ffff:a.b.c.d/96+n holds exactly what a.b.c.d/n does: IPv4
	 * sockets and IPv4-mapped IPv6 ones (the kernel's bytecode too). */
	if (c->addr.family == AF_INET6 && c->prefixlen >= 96 &&
	    memcmp(c->addr.bytes, v4mapped_prefix, 12) == 0) {
		memmove(c->addr.bytes, c->addr.bytes + 12, 4);
		memset(c->addr.bytes + 4, 0, sizeof(c->addr.bytes) - 4);
		c->addr.family = AF_INET;
		c->prefixlen -= 96;
	}
}

/* A port bound (nil: none). */
static int read_port(lua_State *L)
{
	return lua_isnil(L, -1) ? -1 : (int)lua_tointeger(L, -1);
}

/* The filter table is built and validated by the Lua layer:
 * { states = mask, fields = mask, reuse, room, lport_lo, lport_hi,
 *   rport_lo, rport_hi, laddr, raddr }, every key optional. One walk over
 * the keys it has, rather than a lookup of each key it might have: a call
 * in a long-lived state reads it twice and uses two or three keys. */
void read_filter(lua_State *L, int idx, struct sock_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->states = 0xffffffffu;
	f->fields = F_ALL;
	f->lport_lo = f->lport_hi = f->rport_lo = f->rport_hi = -1;
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	idx = lnetstat_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		size_t klen = 0;
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &klen) : "";

		if (strlen(k) != klen)
			k = "";   /* "states\0x" is no key of the filter */

		if (strcmp(k, "states") == 0)
			f->states = (uint32_t)lua_tointeger(L, -1);
		else if (strcmp(k, "fields") == 0)
			f->fields = (uint32_t)lua_tointeger(L, -1) & F_ALL;
		else if (strcmp(k, "reuse") == 0)
			f->reuse = lua_toboolean(L, -1);
		else if (strcmp(k, "room") == 0)
			f->room = (int)lua_tointeger(L, -1);
		else if (strcmp(k, "lport_lo") == 0)
			f->lport_lo = read_port(L);
		else if (strcmp(k, "lport_hi") == 0)
			f->lport_hi = read_port(L);
		else if (strcmp(k, "rport_lo") == 0)
			f->rport_lo = read_port(L);
		else if (strcmp(k, "rport_hi") == 0)
			f->rport_hi = read_port(L);
		else if (strcmp(k, "laddr") == 0)
			read_cidr(L, "laddr", &f->laddr);
		else if (strcmp(k, "raddr") == 0)
			read_cidr(L, "raddr", &f->raddr);
		lua_pop(L, 1);
	}
	if (f->room < 0 || f->room > 64)
		f->room = 0;
}

/* With reuse, records are one table refilled for each socket (streaming
 * callers that copy what they keep): no table to allocate and collect per
 * socket. */
void sock_keys_push(lua_State *L, struct sock_keys *sk, struct session *s, int reuse)
{
	static const char *const names[SK_COUNT] = {
		"proto", "family", "state", "recv_q", "send_q", "local_addr",
		"remote_addr", "local_port", "remote_port", "uid", "inode",
		"interface", "ifindex", "cookie", "v6only", "timer",
		"timer_expires_ms", "retransmits", "protocol", "path", "type",
		"peer_inode", "portid", "dst_portid",
	};

	memset(sk, 0, sizeof(*sk));
	if (reuse) {
		lua_createtable(L, 0, 16);
		sk->reuse = lua_gettop(L);
	}
	keyset_push(L, &sk->ks, names, SK_COUNT, SX_COUNT);
	sk->s = s;
}

void sock_keys_pop(const struct sock_keys *sk)
{
	keyset_pop(&sk->ks);
	if (sk->reuse)
		lua_pop(sk->ks.L, 1);
}

static void push_path(struct sock_keys *sk, const struct sock_rec *r)
{
	lua_State *L = sk->ks.L;
	luaL_Buffer b;
	size_t len = r->path_len;

	ks_key(&sk->ks, SK_PATH);
	/* sun_path is not NUL-terminated; an abstract name starts with NUL and
	 * is shown with a leading "@", as ss and netstat do. */
	if (len > 0 && r->path[0] == '\0') {
		luaL_buffinit(L, &b);
		luaL_addchar(&b, '@');
		luaL_addlstring(&b, r->path + 1, len - 1);
		luaL_pushresult(&b);
	} else {
		while (len > 0 && r->path[len - 1] == '\0')
			len--;
		lua_pushlstring(L, r->path, len);
	}
	ks_set(&sk->ks);
}

/* record[key] = text of a (which: 0 local, 1 remote), through the cache. */
static void push_addr(struct sock_keys *sk, int key, int which, const struct addr *a)
{
	const struct addr *last = &sk->addr[which];
	/* fixed sizes: the compiler compares in place, no call */
	int same = sk->have_addr[which] && last->family == a->family &&
		   (a->family == AF_INET ? memcmp(last->bytes, a->bytes, 4) == 0
					 : memcmp(last->bytes, a->bytes, 16) == 0);

	if (!same) {
		char text[INET6_ADDRSTRLEN];

		lua_pushstring(sk->ks.L, addr_text(a, text));
		lua_replace(sk->ks.L, ks_extra(&sk->ks, which));
		sk->addr[which] = *a;
		sk->have_addr[which] = 1;
	}
	ks_from_extra(&sk->ks, key, which);
}

static void push_ifname(struct sock_keys *sk, uint32_t index)
{
	const char *name;

	if (sk->ifindex != index) {
		/* Without an rtnetlink socket the name stays unknown: the caller
		 * learns how many records lack it and may name them later. */
		name = sk->s != NULL && sk->s->route.nl != NULL ? session_ifname(sk->s, index) : NULL;
		if (name == NULL) {
			sk->unnamed++;
			return;
		}
		lua_pushstring(sk->ks.L, name);
		lua_replace(sk->ks.L, ks_extra(&sk->ks, SX_IFNAME));
		sk->ifindex = index;
	}
	ks_from_extra(&sk->ks, SK_INTERFACE, SX_IFNAME);
}

/* Decimal text of v into out (at least 21 bytes); snprintf costs several
 * times more, once per socket. */
static const char *u64_text(uint64_t v, char *out)
{
	char *p = out + 20;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

/* Pushes the record table for r (fields absent in r, or not in the mask
 * want, stay nil), sized for room more fields than a record has. The caller
 * may add fields, then appends it. */
void push_sock_record(struct sock_keys *sk, const struct sock_rec *r, uint32_t want,
			     int room)
{
	struct keyset *ks = &sk->ks;
	char cookie[24];
	const char *text;
	int inet = r->family == AF_INET || r->family == AF_INET6;
	uint32_t prev;

	prev = ks->set;   /* what the refilled table holds, caller's additions included */
	ks->set = 0;
	if (sk->reuse)
		lua_pushvalue(ks->L, sk->reuse);
	else
		lua_createtable(ks->L, 0, 15 + room);
	ks_lit(ks, SK_PROTO, r->proto);
	ks_lit(ks, SK_FAMILY, family_name(r->family));
	ks_lit(ks, SK_STATE, state_name(r));
	if (r->has_queues && (want & F_RECV_Q))
		ks_int(ks, SK_RECV_Q, r->recv_q);
	if (r->has_queues && r->has_queues != QUEUES_RECV_ONLY && (want & F_SEND_Q))
		ks_int(ks, SK_SEND_Q, r->send_q);
	if (inet && (want & F_LOCAL_ADDR))
		push_addr(sk, SK_LOCAL_ADDR, SX_LOCAL_ADDR, &r->laddr);
	if (inet && (want & F_REMOTE_ADDR))
		push_addr(sk, SK_REMOTE_ADDR, SX_REMOTE_ADDR, &r->raddr);
	if (r->has_ports && (want & F_LOCAL_PORT))
		ks_int(ks, SK_LOCAL_PORT, r->lport);
	if (r->has_ports && (want & F_REMOTE_PORT))
		ks_int(ks, SK_REMOTE_PORT, r->rport);
	if (r->has_uid && (want & F_UID))
		ks_int(ks, SK_UID, r->uid);
	if (want & F_INODE)
		ks_u64(ks, SK_INODE, r->inode);
	if (r->ifindex != 0 && (want & F_INTERFACE)) {
		push_ifname(sk, r->ifindex);
		ks_int(ks, SK_IFINDEX, r->ifindex);
	}
	if (r->has_cookie && (want & F_COOKIE)) {
		text = u64_text(r->cookie, cookie);
		ks_lstr(ks, SK_COOKIE, text, (size_t)(cookie + 20 - text));
	}
	if (r->v6only >= 0 && (want & F_V6ONLY))
		ks_bool(ks, SK_V6ONLY, r->v6only);
	if (r->timer >= 0 && (want & F_TIMER)) {
		ks_lit(ks, SK_TIMER, timer_name(r->timer));
		ks_int(ks, SK_TIMER_EXPIRES_MS, r->timer_expires_ms);
		ks_int(ks, SK_RETRANSMITS, r->retransmits);
	}
	if (r->protocol >= 0 && (want & F_PROTOCOL))
		ks_int(ks, SK_PROTOCOL, r->protocol);
	if (r->has_path && (want & F_PATH))
		push_path(sk, r);
	if (r->sock_type != 0 && (want & F_TYPE))
		ks_lit(ks, SK_TYPE, sock_type_name(r->sock_type));
	if (r->has_peer && (want & F_PEER_INODE))
		ks_u64(ks, SK_PEER_INODE, r->peer_inode);
	if (r->has_portid && (want & F_PORTID)) {
		ks_int(ks, SK_PORTID, r->portid);
		ks_int(ks, SK_DST_PORTID, r->dst_portid);
	}
	if (sk->reuse) {
		/* fields of the last socket this one does not have */
		uint32_t stale = prev & ~ks->set;
		int k;

		for (k = 0; stale != 0; k++, stale >>= 1) {
			if (stale & 1u) {
				lua_pushvalue(ks->L, ks->base + k);
				lua_pushnil(ks->L);
				lua_rawset(ks->L, -3);
			}
		}
	}
}

/* Time-wait minisocks carry no owner: the kernel reports uid 0 for them,
 * which is not "root". Their state may read FIN_WAIT2 (the substate), but
 * their timer is always the time-wait one. */
int is_timewait(const struct sock_rec *r)
{
	return r->state == ST_TIME_WAIT || r->timer == 3;
}

/* Request sockets (SYN_RECV before accept(), inode 0) have no owner of
 * their own: sock_diag reports uid 0, /proc their listener's. */
int is_request(const struct sock_rec *r)
{
	return r->inode == 0 && (r->state == ST_SYN_RECV || r->state == ST_NEW_SYN_RECV);
}

void sock_rec_init(struct sock_rec *r, const char *proto, int family)
{
	memset(r, 0, sizeof(*r));
	r->proto = proto;
	r->family = family;
	r->laddr.family = r->raddr.family = family;
	r->v6only = -1;
	r->timer = -1;
	r->protocol = -1;
}

