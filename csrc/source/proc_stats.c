/* Protocol counters from /proc/net/{snmp,netstat,snmp6,sockstat,sockstat6}
 * (what nstat, netstat -s and node_exporter read).
 *
 * Traps handled here (doc/kernel-notes.md §5):
 *  - snmp/netstat come as "Prefix: names..." / "Prefix: values..." line
 *    pairs whose columns vary by kernel: they are zipped by name, never by
 *    a fixed position, and a count mismatch is reported, not guessed.
 *  - Values are signed (Tcp MaxConn is -1) or u64 (IpExt InOctets).
 *  - sockstat "mem" is in pages: it is handed over as read, with the page
 *    size as result.page_size; lnetstat.source.counters derives mem_bytes
 *    (as node_exporter reports it) and takes page_size off the result.
 *
 * Results are keyed exactly as the kernel names them: stats.TcpExt.TW,
 * stats.Tcp.MaxConn, stats.sockstat.TCP.inuse. */
#include "source/proc.h"
#include "text/text.h"
#include "nl/nl.h"
#include "record/push.h"
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>




void stat_problem(struct stat_parse *sp, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sp->problems++ > 0)
		return;
	n = snprintf(sp->first, sizeof(sp->first), "%s: ", sp->file);
	if (n < 0 || (size_t)n >= sizeof(sp->first))
		return;
	va_start(ap, fmt);
	vsnprintf(sp->first + n, sizeof(sp->first) - (size_t)n, fmt, ap);
	va_end(ap);
}

void stat_unopened(struct stat_parse *sp, const struct session *s, int pf)
{
	int err = session_proc_errno(s, pf);

	if (err == ENOENT)
		return;
	sp->file = proc_file_names[pf];
	stat_problem(sp, "cannot open: %s", strerror(err));
}

/* Pushes the partial reason (or nil when the parse was clean). */
void push_partial(struct stat_parse *sp)
{
	if (sp->problems == 0)
		lua_pushnil(sp->L);
	else if (sp->problems == 1)
		lua_pushstring(sp->L, sp->first);
	else
		lua_pushfstring(sp->L, "%s (and %d more)", sp->first, sp->problems - 1);
}

/* Pushes t[name], creating it as an empty table when absent. */
static void push_subtable(lua_State *L, int t, const char *name, size_t len)
{
	lua_pushlstring(L, name, len);
	lua_rawget(L, t);
	if (lua_istable(L, -1))
		return;
	lua_pop(L, 1);
	lua_createtable(L, 0, 16);
	lua_pushlstring(L, name, len);
	lua_pushvalue(L, -2);
	lua_rawset(L, t);
}

/* A decimal value, possibly negative; pushes it and returns 0, or pushes
 * nothing and returns -1. */
static int push_counter(lua_State *L, const char *t, size_t n, long long *value)
{
	uint64_t v;
	int neg;

	if (parse_dec(t, n, &v, &neg) != 0)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*value = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)v;
		lua_pushinteger(L, (lua_Integer)*value);
	} else {
		*value = (long long)v;
		lnetstat_pushu64(L, v);
	}
	return 0;
}

/* Sets table[-1][key] = the decimal value in t; notes a problem otherwise. */
static int set_counter(struct stat_parse *sp, const char *group, size_t glen,
		       const char *key, size_t klen, const char *t, size_t n, long long *value)
{
	lua_State *L = sp->L;

	lua_pushlstring(L, key, klen);
	if (push_counter(L, t, n, value) != 0) {
		lua_pop(L, 1);
		stat_problem(sp, "%.*s %.*s: not a number '%.*s'", (int)glen, group,
			     (int)klen, key, (int)(n > 32 ? 32 : n), t);
		return -1;
	}
	lua_rawset(L, -3);
	return 0;
}

/* A line's leading "Prefix:" token: returns its length without the colon,
 * or -1 when the line does not start with one. */
static int line_prefix(struct cursor *c, const char **name)
{
	size_t n;

	if (!next_token(c, name, &n) || n < 2 || (*name)[n - 1] != ':')
		return -1;
	return (int)(n - 1);
}

/* Zips one header line with its value line, by position, into
 * out[prefix][name] = value. Column counts are whatever the kernel prints;
 * a mismatch keeps the common part and is reported. */
static void zip_pair(struct stat_parse *sp, const char *prefix, int plen,
		     struct cursor *names, struct cursor *values)
{
	lua_State *L = sp->L;
	const char *k, *v;
	size_t kn, vn;
	int nk = 0, nv = 0, hk, hv;
	long long value;

	push_subtable(L, sp->out, prefix, (size_t)plen);
	for (;;) {
		hk = next_token(names, &k, &kn);
		hv = next_token(values, &v, &vn);
		if (hk)
			nk++;
		if (hv)
			nv++;
		if (!hk || !hv)
			break;
		(void)set_counter(sp, prefix, (size_t)plen, k, kn, v, vn, &value);
	}
	while (next_token(names, &k, &kn))
		nk++;
	while (next_token(values, &v, &vn))
		nv++;
	if (nk != nv)
		stat_problem(sp, "%.*s has %d names but %d values", plen, prefix, nk, nv);
	lua_pop(L, 1);
}

/* /proc/net/snmp and /proc/net/netstat: "Prefix: names" then "Prefix:
 * values". Groups met twice are merged. */
static void parse_snmp_text(struct stat_parse *sp, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	const char *hprefix = NULL, *prefix;
	struct cursor header, c;
	int hlen = 0, plen;

	while (next_line(&p, end, &c)) {
		if ((plen = line_prefix(&c, &prefix)) < 0) {
			stat_problem(sp, "a line without a 'Prefix:'");
			continue;
		}
		if (hprefix == NULL) {
			hprefix = prefix;
			hlen = plen;
			header = c;
			continue;
		}
		if (plen == hlen && memcmp(prefix, hprefix, (size_t)plen) == 0) {
			zip_pair(sp, hprefix, hlen, &header, &c);
			hprefix = NULL;
			continue;
		}
		/* Another prefix: the previous header had no values; this line
		 * starts the next pair. */
		stat_problem(sp, "%.*s names without a value line", hlen, hprefix);
		hprefix = prefix;
		hlen = plen;
		header = c;
	}
	if (hprefix != NULL)
		stat_problem(sp, "%.*s names without a value line", hlen, hprefix);
}

/* Groups of /proc/net/snmp6 names, as nstat and netstat -s know them. */
static const char *const snmp6_groups[] = {"UdpLite6", "Udp6", "Icmp6", "Ip6", NULL};

/* "Ip6InReceives" -> "Ip6", "InReceives". An unknown name is split after
 * its first "6" followed by an upper-case letter; failing that it is kept
 * whole in the group "snmp6". Returns the group length (0: no split). */
static size_t snmp6_split(const char *name, size_t len)
{
	size_t i, g;

	for (i = 0; snmp6_groups[i] != NULL; i++) {
		g = strlen(snmp6_groups[i]);
		if (len > g && memcmp(name, snmp6_groups[i], g) == 0)
			return g;
	}
	for (i = 1; i + 1 < len; i++)
		if (name[i] == '6' && name[i + 1] >= 'A' && name[i + 1] <= 'Z')
			return i + 1;
	return 0;
}

/* /proc/net/snmp6: one "Name value" per line. */
static void parse_snmp6_text(struct stat_parse *sp, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *name, *val, *extra;
	struct cursor c;
	size_t nlen, vlen, xlen, g;
	long long value;

	while (next_line(&p, end, &c)) {
		if (!next_token(&c, &name, &nlen) || !next_token(&c, &val, &vlen) ||
		    next_token(&c, &extra, &xlen)) {
			stat_problem(sp, "a line that is not 'Name value'");
			continue;
		}
		g = snmp6_split(name, nlen);
		if (g == 0) {
			push_subtable(sp->L, sp->out, "snmp6", 5);
			(void)set_counter(sp, "snmp6", 5, name, nlen, val, vlen, &value);
		} else {
			push_subtable(sp->L, sp->out, name, g);
			(void)set_counter(sp, name, g, name + g, nlen - g, val, vlen, &value);
		}
		lua_pop(sp->L, 1);
	}
}

/* /proc/net/sockstat and sockstat6: "PROTO: key value key value ...".
 * out is the sockstat table: out.PROTO = {key = value}; the "sockets:"
 * line becomes out.sockets_<key> (sockets_used), as node_exporter names it. */
static void parse_sockstat_text(struct stat_parse *sp, const char *text, size_t len)
{
	lua_State *L = sp->L;
	const char *p = text, *end = text + len, *prefix, *k, *v;
	struct cursor c;
	size_t kn, vn;
	int plen, top = lua_gettop(L);
	long long value;

	while (next_line(&p, end, &c)) {
		if ((plen = line_prefix(&c, &prefix)) < 0) {
			stat_problem(sp, "a line without a 'PROTO:'");
			continue;
		}
		if (plen == 7 && memcmp(prefix, "sockets", 7) == 0)
			lua_pushvalue(L, sp->out);
		else
			push_subtable(L, sp->out, prefix, (size_t)plen);
		while (next_token(&c, &k, &kn)) {
			if (!next_token(&c, &v, &vn)) {
				stat_problem(sp, "%.*s: '%.*s' without a value", plen, prefix,
					     (int)kn, k);
				break;
			}
			if (lua_rawequal(L, -1, sp->out)) {
				/* sockets_used */
				luaL_Buffer b;

				luaL_buffinit(L, &b);
				luaL_addlstring(&b, prefix, (size_t)plen);
				luaL_addchar(&b, '_');
				luaL_addlstring(&b, k, kn);
				luaL_pushresult(&b);
				if (push_counter(L, v, vn, &value) != 0) {
					lua_pop(L, 1);
					stat_problem(sp, "%.*s %.*s: not a number", plen, prefix,
						     (int)kn, k);
					continue;
				}
				lua_rawset(L, -3);
				continue;
			}
			(void)set_counter(sp, prefix, (size_t)plen, k, kn, v, vn, &value);
		}
		lua_settop(L, top);
	}
}

void stat_parse_init(struct stat_parse *sp, lua_State *L, int out, const char *file)
{
	memset(sp, 0, sizeof(*sp));
	sp->L = L;
	sp->out = out;
	sp->file = file;
}

/* core.proc_stats(session) -> stats, partial | nil, msg, errno.
 * Reads whichever of snmp, netstat, snmp6, sockstat, sockstat6 the session
 * opened; a file the netns lacks (no IPv6) just leaves its groups out.
 * stats.page_size is the unit of the sockstat "mem" counters (the host's
 * page size, sysconf(_SC_PAGESIZE); absent when unknown). */
int l_proc_stats(lua_State *L)
{
	static const int files[] = {PROC_SNMP, PROC_NETSTAT, PROC_SNMP6,
				    PROC_SOCKSTAT, PROC_SOCKSTAT6};
	struct session *s = check_session(L, 1);
	struct stat_parse sp;
	size_t i, len;
	int out, sock = 0, err, pf;
	long ps;

	lua_settop(L, 1);
	lua_createtable(L, 0, 16);
	out = lua_gettop(L);
	stat_parse_init(&sp, L, out, "");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		pf = files[i];
		if (s->proc_fd[pf] < 0) {
			stat_unopened(&sp, s, pf);
			continue;
		}
		if ((err = proc_read_all(s, s->proc_fd[pf], &len)) != 0)
			return push_error(L, lua_pushfstring(L, "read /proc/net/%s",
							     proc_file_names[pf]), err);
		sp.file = proc_file_names[pf];
		if (pf == PROC_SOCKSTAT || pf == PROC_SOCKSTAT6) {
			if (!sock) {
				lua_createtable(L, 0, 12);
				lua_pushvalue(L, -1);
				lua_setfield(L, out, "sockstat");
				sock = lua_gettop(L);
			}
			sp.out = sock;
			parse_sockstat_text(&sp, s->text, len);
		} else {
			sp.out = out;
			if (pf == PROC_SNMP6)
				parse_snmp6_text(&sp, s->text, len);
			else
				parse_snmp_text(&sp, s->text, len);
		}
	}
	lua_settop(L, out);
	if ((ps = sysconf(_SC_PAGESIZE)) > 0)
		set_int(L, "page_size", ps);
	push_partial(&sp);
	return 2;
}

/* The test hooks: the same parsers over a string.
 * core._parse_snmp(text) (snmp and netstat), core._parse_snmp6(text),
 * core._parse_sockstat(text[, into]) -> table, partial|nil */
static int parse_hook(lua_State *L, const char *file,
		      void (*parse)(struct stat_parse *, const char *, size_t))
{
	struct stat_parse sp;
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);

	if (lua_istable(L, 2)) {
		lua_settop(L, 2);
	} else {
		luaL_argcheck(L, lua_isnoneornil(L, 2), 2, "table expected");
		lua_settop(L, 1);
		lua_newtable(L);
	}
	stat_parse_init(&sp, L, 2, file);
	parse(&sp, text, len);
	lua_settop(L, 2);
	push_partial(&sp);
	return 2;
}

int l_parse_snmp(lua_State *L)
{
	return parse_hook(L, "snmp", parse_snmp_text);
}

int l_parse_snmp6(lua_State *L)
{
	return parse_hook(L, "snmp6", parse_snmp6_text);
}

int l_parse_sockstat(lua_State *L)
{
	return parse_hook(L, "sockstat", parse_sockstat_text);
}
