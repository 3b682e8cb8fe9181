/* /proc/net/arp: the IPv4 neighbour fallback when rtnetlink is unavailable.
 *
 * "IP address  HW type  Flags  HW address  Mask  Device", one entry per
 * line, the numbers in hex with a "0x" prefix. The flags are what the
 * kernel derives from the NUD state (arp_state_to_flags): ATF_COM for a
 * valid entry, ATF_PERM as well for a permanent one, ATF_PUBL for a proxy
 * entry; the state itself (REACHABLE, STALE, DELAY ...) is not in the
 * file. The kernel leaves NOARP entries out. Uses the line reader of
 * source/proc_dev.c and the tokenizer of text/proc.c. */
#include "source/proc.h"
#include "text/text.h"
#include "record/push.h"
#include "record/neigh.h"
#include "api.h"

#include <arpa/inet.h>

#define ARP_ATF_COM 0x02
#define ARP_ATF_PERM 0x04
#define ARP_ATF_PUBL 0x08

/* A "0x"-prefixed hex number. */
static int arp_hex(const char *tok, size_t len, uint64_t *out)
{
	if (len < 3 || tok[0] != '0' || (tok[1] != 'x' && tok[1] != 'X'))
		return -1;
	return parse_hex(tok + 2, len - 2, out);
}

/* One /proc/net/arp line: 1 record pushed, 0 header or blank, -1 malformed. */
static int arp_line(lua_State *L, const char *p, const char *end)
{
	const char *addr, *mac, *dev, *tok;
	size_t addr_len, mac_len, dev_len, len;
	char text[INET_ADDRSTRLEN];
	unsigned char bytes[4];
	uint64_t hw_type, flags;
	struct cursor c;

	if (is_blank(p, end))
		return 0;
	if ((size_t)(end - p) >= 10 && memcmp(p, "IP address", 10) == 0)
		return 0;
	c.p = p;
	c.end = end;
	if (!next_token(&c, &addr, &addr_len) || addr_len >= sizeof(text) ||
	    !next_token(&c, &tok, &len) || arp_hex(tok, len, &hw_type) != 0 ||
	    hw_type > 0xffff ||
	    !next_token(&c, &tok, &len) || arp_hex(tok, len, &flags) != 0 ||
	    flags > 0xffffffffu ||
	    !next_token(&c, &mac, &mac_len) ||
	    !next_token(&c, &tok, &len) ||   /* mask: "*" */
	    !next_token(&c, &dev, &dev_len) || dev_len >= IF_NAMESIZE ||
	    next_token(&c, &tok, &len))
		return -1;
	memcpy(text, addr, addr_len);
	text[addr_len] = '\0';
	if (inet_pton(AF_INET, text, bytes) != 1)
		return -1;

	lua_createtable(L, 0, 10);
	set_str(L, "family", "inet");
	set_str(L, "addr", text);
	if (flags & ARP_ATF_COM) {   /* the address is only meaningful then */
		lua_pushlstring(L, mac, mac_len);
		lua_setfield(L, -2, "mac");
	}
	lua_pushlstring(L, dev, dev_len);
	lua_setfield(L, -2, "interface");
	if (flags & ARP_ATF_PERM)
		neigh_set_states(L, NUD_PERMANENT);   /* the only state the file shows */
	set_bool(L, "proxy", (flags & ARP_ATF_PUBL) != 0);
	set_int(L, "arp_flags", (lua_Integer)flags);
	set_int(L, "hw_type", (lua_Integer)hw_type);
	return 1;
}

/* core.proc_arp(session) -> list, skipped | nil, msg, errno. */
int l_proc_arp(lua_State *L)
{
	return pdev_read(L, PROC_ARP, arp_line);
}

/* core._parse_proc_arp(text) -> list, skipped, for the fixture specs. */
int l_parse_proc_arp(lua_State *L)
{
	return pdev_parse_arg(L, arp_line);
}
