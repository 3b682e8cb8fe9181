/* Interface address records: the IFA_F_* flag names and the RT_SCOPE_*
 * names as ip prints them, addresses as text. */
#include "record/addr.h"
#include "record/push.h"

#include <stdio.h>
#include <arpa/inet.h>

/* IFA_F_* bit names (kernel spelling, lowercase); the first entry is
 * IFA_F_SECONDARY, which is IFA_F_TEMPORARY on IPv6 and named so, as ip
 * prints it. */
static const struct bit_name adr_flag_names[] = {
	{0x01, "secondary"}, {0x02, "nodad"}, {0x04, "optimistic"},
	{0x08, "dadfailed"}, {0x10, "homeaddress"}, {0x20, "deprecated"},
	{0x40, "tentative"}, {0x80, "permanent"}, {0x100, "managetempaddr"},
	{0x200, "noprefixroute"}, {0x400, "mcautojoin"}, {0x800, "stable-privacy"},
};
#define ADR_NFLAGS (sizeof(adr_flag_names) / sizeof(adr_flag_names[0]))

void addr_set_flags(lua_State *L, int family, uint32_t flags)
{
	set_int(L, "flag_bits", flags);
	push_bit_set(L, adr_flag_names + 1, ADR_NFLAGS - 1, flags, 4);
	if (flags & adr_flag_names[0].bit)
		set_bool(L, family == AF_INET6 ? "temporary" : adr_flag_names[0].name, 1);
	lua_setfield(L, -2, "flags");
}

/* RT_SCOPE_* names (scope 0 is "global" on addresses, as ip prints it);
 * other values as their decimal text. */
void addr_set_scope(lua_State *L, unsigned int scope)
{
	const char *name = scope_name(scope, "global");
	char buf[16];

	if (name == NULL) {
		snprintf(buf, sizeof(buf), "%u", scope);
		name = buf;
	}
	set_str(L, "scope", name);
}

void addr_set_addr(lua_State *L, const char *text, unsigned int prefixlen)
{
	set_str(L, "addr", text);
	set_int(L, "prefixlen", prefixlen);
	lua_pushfstring(L, "%s/%d", text, (int)prefixlen);
	lua_setfield(L, -2, "cidr");
}

static void addr_set_text(lua_State *L, const char *k, int family, const void *a)
{
	char text[INET6_ADDRSTRLEN];

	if (a != NULL && inet_ntop(family, a, text, sizeof(text)) != NULL)
		set_str(L, k, text);
}

void addr_record_push(lua_State *L, const struct addr_rec *r)
{
	char text[INET6_ADDRSTRLEN];

	lua_createtable(L, 0, 20);
	set_str(L, "family", family_name(r->family));
	if (inet_ntop(r->family, r->local, text, sizeof(text)) != NULL)
		addr_set_addr(L, text, r->prefixlen);
	if (memcmp(r->local, r->address, r->family == AF_INET ? 4 : 16) != 0)
		addr_set_text(L, "peer", r->family, r->address);
	addr_set_text(L, "broadcast", r->family, r->broadcast);
	addr_set_text(L, "anycast", r->family, r->anycast);
	addr_set_scope(L, r->scope);
	if (r->label != NULL)
		set_str(L, "label", r->label);
	addr_set_flags(L, r->family, r->flags);
	if (r->has_cacheinfo) {
		set_int(L, "valid_lft", r->ci.ifa_valid);
		set_bool(L, "valid_forever", r->ci.ifa_valid == 0xFFFFFFFFu);
		set_int(L, "preferred_lft", r->ci.ifa_prefered);
		set_bool(L, "preferred_forever", r->ci.ifa_prefered == 0xFFFFFFFFu);
		/* hundredths of a second since boot */
		set_int(L, "created_cs", r->ci.cstamp);
		set_int(L, "updated_cs", r->ci.tstamp);
	}
	if (r->has_metric)
		set_int(L, "metric", r->metric);
	if (r->has_proto)
		set_int(L, "proto", r->proto);
	set_int(L, "index", r->index);
	if (r->ifname != NULL)
		set_str(L, "interface", r->ifname);
}
