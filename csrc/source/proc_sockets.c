/* /proc/net socket tables: the fallback when sock_diag has no handler
 * (raw sockets on many kernels) or netlink is unavailable. The text is
 * parsed into the same struct sock_rec as the netlink answers, so records
 * from both sources carry the same fields wherever /proc has them.
 *
 * Traps handled here (doc/kernel-notes.md §5):
 *  - IPv4 addresses are %08X of the __be32: the native u32 holds the bytes
 *    in network order, so it is copied as is.
 *  - IPv6 addresses are four %08X host-order words, not 32 hex digits in
 *    network order: each word is parsed and copied natively.
 *  - tx_queue comes before rx_queue; tm->when is in USER_HZ ticks.
 *  - /proc/net/unix paths are raw: a newline in a path splits the record,
 *    spaces are kept, "@" starts an abstract name. */
#include "text/text.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/socket.h"
#include "api.h"

#include <sys/socket.h>

#define UNIX_ACCEPTCON 0x10000   /* __SO_ACCEPTCON: a listening socket */

enum proc_kind { PK_INET, PK_UNIX, PK_PACKET, PK_NETLINK };

struct proc_parse {
	lua_State *L;
	struct session *s;         /* NULL for the text hook */
	int list;                  /* absolute stack index of the result list */
	lua_Integer n;             /* records in it so far */
	const char *proto;
	int family;                /* AF_INET or AF_INET6 for PK_INET */
	enum proc_kind kind;
	const struct sock_filter *f;
	long hz;                   /* USER_HZ */
	lua_Integer skipped;       /* malformed lines */
	struct sock_keys sk;
};

/* "HEX:HEX"; *wb receives the number of digits of the second part. */
static int split_colon(const char *t, size_t n, uint64_t *a, uint64_t *b, size_t *wb)
{
	const char *colon = (const char *)memchr(t, ':', n);
	size_t la;

	if (colon == NULL)
		return -1;
	la = (size_t)(colon - t);
	*wb = n - la - 1;
	if (parse_hex(t, la, a) != 0 || parse_hex(colon + 1, *wb, b) != 0)
		return -1;
	return 0;
}

/* "ADDR:PORT": 8 hex digits (one __be32 printed as a native u32) or 32
 * (four host-order u32 words). Copying each native word back gives the
 * network-order bytes on any endianness. */
static int parse_endpoint(const char *t, size_t n, int family, struct addr *a, int *port)
{
	size_t words = family == AF_INET ? 1 : 4, i;
	uint64_t v, p;
	uint32_t w;

	if (n < words * 8 + 2 || t[words * 8] != ':')
		return -1;
	for (i = 0; i < words; i++) {
		if (parse_hex(t + 8 * i, 8, &v) != 0)
			return -1;
		w = (uint32_t)v;
		memcpy(a->bytes + 4 * i, &w, sizeof(w));
	}
	if (parse_hex(t + words * 8 + 1, n - words * 8 - 1, &p) != 0 || p > 0xffff)
		return -1;
	a->family = family;
	*port = (int)p;
	return 0;
}

/* tm->when is printed with %08lX: a negative delta (older kernels did not
 * clamp it) shows up as a huge value of the printed width. */
static uint32_t ticks_to_ms(uint64_t ticks, size_t width, long hz)
{
	uint64_t ms;

	if ((width <= 8 && ticks >= 0x80000000ULL) || (width > 8 && ticks >> 63))
		return 0;
	ms = ticks / (uint64_t)hz * 1000 + ticks % (uint64_t)hz * 1000 / (uint64_t)hz;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* "sl: local remote st tx:rx tr:when retrnsmt uid timeout inode ..." */
static int parse_inet_line(struct cursor *c, struct proc_parse *pp, struct sock_rec *r)
{
	const char *t;
	size_t n, wb;
	uint64_t v, a, b;

	if (!next_token(c, &t, &n) || n < 2 || t[n - 1] != ':' ||
	    parse_dec(t, n - 1, &v, NULL) != 0)
		return -1;
	if (!next_token(c, &t, &n) || parse_endpoint(t, n, pp->family, &r->laddr, &r->lport) != 0)
		return -1;
	if (!next_token(c, &t, &n) || parse_endpoint(t, n, pp->family, &r->raddr, &r->rport) != 0)
		return -1;
	r->has_ports = 1;
	if (token_hex(c, 0xff, &v) != 0)
		return -1;
	r->state = (int)v;
	/* tx_queue first, rx_queue second */
	if (!next_token(c, &t, &n) || split_colon(t, n, &a, &b, &wb) != 0 ||
	    a > UINT32_MAX || b > UINT32_MAX)
		return -1;
	r->has_queues = 1;
	r->send_q = (uint32_t)a;
	r->recv_q = (uint32_t)b;
	if (!next_token(c, &t, &n) || split_colon(t, n, &a, &b, &wb) != 0 || a > 0xff)
		return -1;
	r->timer = (int)a;
	r->timer_expires_ms = ticks_to_ms(b, wb, pp->hz);
	if (token_hex(c, UINT32_MAX, &v) != 0)
		return -1;
	r->retransmits = (uint32_t)v;
	if (token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	r->has_uid = !is_timewait(r);   /* time-wait lines print uid 0 */
	r->uid = (uint32_t)v;
	if (!next_token(c, &t, &n))   /* timeout (probes), a signed int */
		return -1;
	if (token_dec(c, UINT64_MAX, &v) != 0)
		return -1;
	r->inode = v;
	/* Request sockets (SYN_RECV, inode 0) print their listener's uid:
	 * they have no owner of their own, and sock_diag reports none. */
	r->has_uid = r->has_uid && !is_request(r);
	/* A listener's tx_queue column is 0, not its backlog (which is what
	 * sock_diag reports as its send queue): /proc has no backlog. */
	if (r->state == ST_LISTEN && strcmp(r->proto, "tcp") == 0)
		r->has_queues = QUEUES_RECV_ONLY;
	if (strcmp(r->proto, "raw") == 0)
		r->protocol = r->lport;   /* the raw tables print the protocol as the port */
	return 0;
}

/* "Num: RefCount Protocol Flags Type St Inode[ Path]". Returns 0 and sets
 * *path_at to the first byte of the path (or c->end when none). */
static int parse_unix_head(struct cursor *c, struct sock_rec *r, const char **path_at)
{
	const char *t;
	size_t n;
	uint64_t v, flags, st;

	if (!next_token(c, &t, &n) || n < 2 || t[n - 1] != ':' || parse_hex(t, n - 1, &v) != 0)
		return -1;
	if (token_hex(c, UINT32_MAX, &v) != 0 || token_hex(c, UINT32_MAX, &v) != 0 ||
	    token_hex(c, UINT32_MAX, &flags) != 0 || token_hex(c, 0xffff, &v) != 0)
		return -1;
	r->sock_type = (int)v;
	if (token_hex(c, 0xff, &st) != 0 || token_dec(c, UINT64_MAX, &v) != 0)
		return -1;
	r->inode = v;
	/* St is the socket state the kernel derives from sk_state: CONNECTED
	 * (3) or CONNECTING (2, an embryo without a struct socket) both mean
	 * sk_state ESTABLISHED, which is what unix_diag reports. */
	if (flags & UNIX_ACCEPTCON)
		r->state = ST_LISTEN;
	else if (st == 3 || st == 2)
		r->state = ST_ESTABLISHED;
	else
		r->state = ST_CLOSE;
	/* The path follows the inode after exactly one space, verbatim. */
	if (c->p == c->end)
		*path_at = c->end;
	else if (*c->p == ' ')
		*path_at = c->p + 1;
	else
		return -1;
	return 0;
}

/* "sk RefCnt Type Proto Iface R Rmem User Inode" */
static int parse_packet_line(struct cursor *c, struct sock_rec *r, uint32_t *rmem)
{
	uint64_t v;

	if (token_hex(c, UINT64_MAX, &v) != 0 || token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	if (token_dec(c, 0xffff, &v) != 0)
		return -1;
	r->sock_type = (int)v;
	if (token_hex(c, 0xffff, &v) != 0)
		return -1;
	r->protocol = (int)v;
	if (token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	r->ifindex = (uint32_t)v;
	if (token_dec(c, 1, &v) != 0 || token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	*rmem = (uint32_t)v;
	if (token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	r->has_uid = 1;
	r->uid = (uint32_t)v;
	if (token_dec(c, UINT64_MAX, &v) != 0)
		return -1;
	r->inode = v;
	r->state = ST_CLOSE;
	return 0;
}

/* "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode" */
static int parse_netlink_line(struct cursor *c, struct sock_rec *r)
{
	uint64_t v;
	uint32_t i;

	if (token_hex(c, UINT64_MAX, &v) != 0 || token_dec(c, 0xff, &v) != 0)
		return -1;
	r->protocol = (int)v;
	if (token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	r->has_portid = 1;
	r->portid = (uint32_t)v;
	r->dst_portid = 0;
	if (token_hex(c, UINT32_MAX, &v) != 0 || token_int(c, &r->recv_q) != 0 ||
	    token_int(c, &r->send_q) != 0)
		return -1;
	r->has_queues = 1;
	if (token_int(c, &i) != 0 || token_int(c, &i) != 0 || token_dec(c, UINT32_MAX, &v) != 0)
		return -1;
	if (token_dec(c, UINT64_MAX, &v) != 0)
		return -1;
	r->inode = v;
	r->state = ST_CLOSE;
	return 0;
}

static void proc_emit(struct proc_parse *pp, const struct sock_rec *r,
		      int has_rmem, uint32_t rmem)
{
	if (!filter_match(pp->f, r))
		return;
	push_sock_record(&pp->sk, r, pp->f->fields, pp->f->room);
	if (has_rmem && (pp->f->fields & F_RECV_Q))   /* packet: Rmem, no send queue */
		ks_int(&pp->sk.ks, SK_RECV_Q, rmem);
	append(pp->L, pp->list, &pp->n);
}

static int is_header(const char *line, const char *end, enum proc_kind kind)
{
	struct cursor c;
	const char *t;
	size_t n;

	c.p = line;
	c.end = end;
	if (!next_token(&c, &t, &n))
		return 0;
	switch (kind) {
	case PK_INET: return n == 2 && memcmp(t, "sl", 2) == 0;
	case PK_UNIX: return n == 3 && memcmp(t, "Num", 3) == 0;
	default: return n == 2 && memcmp(t, "sk", 2) == 0;
	}
}

/* The parser shared by core.proc_sockets and core._parse_proc: appends the
 * records of text[0..len) that pass the filter to the list at pp->list and
 * counts the malformed lines in pp->skipped. Never reads past len. */
static void parse_proc_sockets(struct proc_parse *pp, const char *text, size_t len)
{
	const char *next = text, *end = text + len, *p, *eol, *path_at;
	struct sock_rec r, pending;
	struct cursor c, line;
	int have_pending = 0;
	uint32_t rmem;

	while (proc_line(&next, end, &line)) {
		p = line.p;
		eol = line.end;
		if (is_header(p, eol, pp->kind))
			continue;
		c.p = p;
		c.end = eol;
		sock_rec_init(&r, pp->proto, pp->kind == PK_INET ? pp->family :
			      pp->kind == PK_UNIX ? AF_UNIX :
			      pp->kind == PK_PACKET ? AF_PACKET : AF_NETLINK);
		switch (pp->kind) {
		case PK_INET:
			if (parse_inet_line(&c, pp, &r) == 0)
				proc_emit(pp, &r, 0, 0);
			else if (!is_blank(p, eol))
				pp->skipped++;
			break;
		case PK_PACKET:
			if (parse_packet_line(&c, &r, &rmem) == 0)
				proc_emit(pp, &r, 1, rmem);
			else if (!is_blank(p, eol))
				pp->skipped++;
			break;
		case PK_NETLINK:
			if (parse_netlink_line(&c, &r) == 0)
				proc_emit(pp, &r, 0, 0);
			else if (!is_blank(p, eol))
				pp->skipped++;
			break;
		case PK_UNIX:
			if (parse_unix_head(&c, &r, &path_at) == 0) {
				/* A new record: the previous one is complete. */
				if (have_pending && pending.inode != 0)
					proc_emit(pp, &pending, 0, 0);
				pending = r;
				pending.has_path = path_at < eol;
				pending.path = path_at;
				pending.path_len = (size_t)(eol - path_at);
				have_pending = 1;
			} else if (have_pending && pending.has_path) {
				/* A newline inside the path: the text between
				 * the two lines is the path, "\n" included. */
				pending.path_len = (size_t)(eol - pending.path);
			} else if (!is_blank(p, eol)) {
				pp->skipped++;
			}
			break;
		}
	}
	/* unix_diag skips sockets without an inode (embryos queued on a
	 * listener, not yet accepted); so do we. */
	if (have_pending && pending.inode != 0)
		proc_emit(pp, &pending, 0, 0);
}

static const char *const proc_protos[] = {
	"tcp", "udp", "udplite", "raw", "unix", "packet", "netlink", NULL
};

/* Decodes the proto (idx) and family (idx + 1) arguments; returns the
 * /proc/net file index. Raises on bad arguments. */
static int proc_args(lua_State *L, int idx, struct proc_parse *pp)
{
	static const char *const families[] = {"inet", "inet6", NULL};
	int proto = check_enum(L, idx, proc_protos), v6;

	pp->proto = proc_protos[proto];
	switch (proto) {
	case 4: pp->kind = PK_UNIX; return PROC_UNIX;
	case 5: pp->kind = PK_PACKET; return PROC_PACKET;
	case 6: pp->kind = PK_NETLINK; return PROC_NETLINK;
	default: break;
	}
	pp->kind = PK_INET;
	v6 = check_enum(L, idx + 1, families);
	pp->family = v6 ? AF_INET6 : AF_INET;
	switch (proto) {
	case 0: return PROC_TCP + v6;
	case 1: return PROC_UDP + v6;
	case 2: return PROC_UDPLITE + v6;
	default: return PROC_RAW + v6;
	}
}

/* core.proc_sockets(session, list, proto, family, filter)
 * -> true, skipped | nil, msg, errno. Appends the records of
 * /proc/net/<proto>[6] that pass the filter to list; skipped counts the
 * malformed lines. */
int l_proc_sockets(lua_State *L)
{
	struct proc_parse pp;
	struct sock_filter f;
	size_t len = 0;
	int pf, err;

	memset(&pp, 0, sizeof(pp));
	pp.L = L;
	pp.s = check_session(L, 1);
	pp.n = check_sink(L, 2);
	pf = proc_args(L, 3, &pp);
	read_filter(L, 5, &f);
	lua_settop(L, 5);
	pp.list = 2;
	pp.f = &f;
	pp.hz = user_hz();

	if (pp.s->proc_fd[pf] < 0)
		return push_error(L, lua_pushfstring(L, "open /proc/net/%s", proc_file_names[pf]),
				  session_proc_errno(pp.s, pf));
	if ((err = proc_read_all(pp.s, pp.s->proc_fd[pf], &len)) != 0)
		return push_error(L, lua_pushfstring(L, "read /proc/net/%s", proc_file_names[pf]),
				  err);
	{
		lua_Integer before = pp.n;

		sock_keys_push(L, &pp.sk, pp.s, f.reuse && lua_type(L, 2) == LUA_TFUNCTION);
		parse_proc_sockets(&pp, pp.s->text, len);
		sock_keys_pop(&pp.sk);
		lua_pushboolean(L, 1);
		lua_pushinteger(L, pp.skipped);
		lua_pushinteger(L, pp.n - before);   /* records handed to the sink */
		return 3;
	}
}

/* core._parse_proc(text, proto, family, filter) -> list, skipped.
 * The same parser over a string: lets the specs run on fixtures without
 * root or a live /proc. */
int l_parse_proc_sockets(lua_State *L)
{
	struct proc_parse pp;
	struct sock_filter f;
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);

	memset(&pp, 0, sizeof(pp));
	pp.L = L;
	pp.s = NULL;
	(void)proc_args(L, 2, &pp);
	read_filter(L, 4, &f);
	lua_settop(L, 4);
	lua_newtable(L);
	pp.list = lua_gettop(L);
	pp.f = &f;
	pp.hz = user_hz();
	sock_keys_push(L, &pp.sk, NULL, 0);
	parse_proc_sockets(&pp, text, len);
	sock_keys_pop(&pp.sk);
	lua_pushinteger(L, pp.skipped);
	return 2;
}
