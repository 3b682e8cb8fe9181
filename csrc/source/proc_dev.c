/* /proc/net/dev and /proc/net/if_inet6: the interface fallback when
 * rtnetlink is unavailable.
 *
 * /proc/net/dev: two header lines, then "NAME: 16 counters". The name is
 * right-aligned and, on old kernels, glued to the first counter
 * ("eth0:123"), so the line is split at the colon (device names cannot
 * contain one). Four columns are sums, kept under their /proc meaning:
 *   rx drop    = rx_dropped + rx_missed_errors                   -> rx_drop
 *   rx frame   = rx_length + rx_over + rx_crc + rx_frame errors  -> rx_frame
 *   tx carrier = tx_carrier + aborted + window + heartbeat       -> tx_carrier
 * (tx drop, errs, fifo and colls are the plain fields.)
 *
 * /proc/net/if_inet6: "ADDR IFINDEX PLEN SCOPE FLAGS NAME", hex, the
 * address as 32 digits in network order, SCOPE the address class
 * (0x10 host, 0x20 link, 0x40 site), FLAGS the low 8 bits of IFA_F_*. */
#include "source/proc.h"
#include "text/text.h"
#include "nl/nl.h"
#include "record/push.h"
#include "record/addr.h"
#include "api.h"

#include <arpa/inet.h>

static const char *const pdev_columns[16] = {
	"rx_bytes", "rx_packets", "rx_errors", "rx_drop", "rx_fifo_errors", "rx_frame",
	"rx_compressed", "multicast",
	"tx_bytes", "tx_packets", "tx_errors", "tx_dropped", "tx_fifo_errors", "collisions",
	"tx_carrier", "tx_compressed",
};

/* One /proc/net/dev line; pushes a record and returns 1, or returns 0 for
 * a header or blank line, -1 for a malformed one. */
static int pdev_line(lua_State *L, const char *p, const char *end)
{
	const char *colon = (const char *)memchr(p, ':', (size_t)(end - p));
	const char *name, *name_end, *tok;
	struct cursor c;
	uint64_t v[16];
	size_t len;
	int i;

	if (colon == NULL)
		return is_blank(p, end) || memchr(p, '|', (size_t)(end - p)) != NULL ? 0 : -1;
	for (name = p; name < colon && is_space(*name); name++)
		;
	for (name_end = colon; name_end > name && is_space(name_end[-1]); name_end--)
		;
	if (name == name_end || name_end - name >= IF_NAMESIZE)
		return -1;
	c.p = colon + 1;
	c.end = end;
	for (i = 0; i < 16; i++)
		if (!next_token(&c, &tok, &len) || parse_dec(tok, len, &v[i], NULL) != 0)
			return -1;
	if (next_token(&c, &tok, &len))
		return -1;   /* more columns than this parser knows */

	lua_createtable(L, 0, 4);
	lua_pushlstring(L, name, (size_t)(name_end - name));
	lua_setfield(L, -2, "name");
	lua_createtable(L, 0, 16);
	for (i = 0; i < 16; i++)
		set_u64(L, pdev_columns[i], v[i]);
	lua_setfield(L, -2, "stats");
	return 1;
}

/* The RT_SCOPE_* of an IPv6 address class, as the kernel's rt_scope() maps
 * it for RTM_NEWADDR. */
static unsigned int pdev_scope(uint64_t class)
{
	if (class & 0x10)
		return 254;   /* RT_SCOPE_HOST */
	if (class & 0x20)
		return 253;   /* RT_SCOPE_LINK */
	if (class & 0x40)
		return 200;   /* RT_SCOPE_SITE */
	return 0;     /* RT_SCOPE_UNIVERSE */
}

/* One /proc/net/if_inet6 line: 1 record pushed, 0 blank, -1 malformed. */
static int pdev_inet6_line(lua_State *L, const char *p, const char *end)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	uint64_t index, plen, scope, flags, b;
	const char *tok;
	struct cursor c;
	size_t len, i;

	if (is_blank(p, end))
		return 0;
	c.p = p;
	c.end = end;
	if (!next_token(&c, &tok, &len) || len != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		if (parse_hex(tok + 2 * i, 2, &b) != 0)
			return -1;
		bytes[i] = (unsigned char)b;
	}
	if (!next_token(&c, &tok, &len) || parse_hex(tok, len, &index) != 0 ||
	    index == 0 || index > 0x7fffffff ||
	    !next_token(&c, &tok, &len) || parse_hex(tok, len, &plen) != 0 || plen > 128 ||
	    !next_token(&c, &tok, &len) || parse_hex(tok, len, &scope) != 0 ||
	    !next_token(&c, &tok, &len) || parse_hex(tok, len, &flags) != 0 ||
	    flags > 0xffffffffu || !next_token(&c, &tok, &len) || len >= IF_NAMESIZE)
		return -1;
	if (inet_ntop(AF_INET6, bytes, text, sizeof(text)) == NULL)
		return -1;

	lua_createtable(L, 0, 10);
	set_str(L, "family", "inet6");
	addr_set_addr(L, text, (unsigned int)plen);
	addr_set_scope(L, pdev_scope(scope));
	set_int(L, "scope_class", (lua_Integer)scope);
	addr_set_flags(L, AF_INET6, (uint32_t)flags);
	set_int(L, "index", (lua_Integer)index);
	lua_pushlstring(L, tok, len);
	lua_setfield(L, -2, "interface");
	if (next_token(&c, &tok, &len)) {
		lua_pop(L, 1);
		return -1;
	}
	return 1;
}

/* Pushes the list of records of text[0..len) and returns the number of
 * malformed lines. */
static lua_Integer pdev_parse(lua_State *L, const char *text, size_t len, pdev_line_fn fn)
{
	const char *p = text, *end = text + len;
	lua_Integer n = 0, skipped = 0;
	struct cursor line;
	int list, r;

	lua_newtable(L);
	list = lua_gettop(L);
	while (proc_line(&p, end, &line)) {
		r = fn(L, line.p, line.end);
		if (r > 0)
			append(L, list, &n);
		else if (r < 0)
			skipped++;
	}
	return skipped;
}

int pdev_read(lua_State *L, int which, pdev_line_fn fn)
{
	struct session *s = check_session(L, 1);
	size_t len = 0;
	int err;

	if (s->proc_fd[which] < 0)
		return push_error(L, lua_pushfstring(L, "open /proc/net/%s",
						     proc_file_names[which]),
				  session_proc_errno(s, which));
	if ((err = proc_read_all(s, s->proc_fd[which], &len)) != 0)
		return push_error(L, lua_pushfstring(L, "read /proc/net/%s",
						     proc_file_names[which]), err);
	lua_pushinteger(L, pdev_parse(L, s->text, len, fn));
	return 2;
}

/* core.proc_dev(session) -> list, skipped | nil, msg, errno:
 * { name=, stats={...} } per /proc/net/dev line. */
int l_proc_dev(lua_State *L)
{
	return pdev_read(L, PROC_DEV, pdev_line);
}

/* core.proc_if_inet6(session) -> list, skipped | nil, msg, errno. */
int l_proc_if_inet6(lua_State *L)
{
	return pdev_read(L, PROC_IF_INET6, pdev_inet6_line);
}

/* A parser over the string argument 1 -> list, skipped: the hooks that
 * let the specs run every parser on fixtures. */
int pdev_parse_arg(lua_State *L, pdev_line_fn fn)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);

	lua_pushinteger(L, pdev_parse(L, text, len, fn));
	return 2;
}

/* core._parse_proc_dev(text), core._parse_if_inet6(text) -> list, skipped. */
int l_parse_proc_dev(lua_State *L)
{
	return pdev_parse_arg(L, pdev_line);
}

int l_parse_if_inet6(lua_State *L)
{
	return pdev_parse_arg(L, pdev_inet6_line);
}
