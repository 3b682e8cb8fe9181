/* Neighbour records: the NUD state names as ip prints them, the NTF_* flags
 * as booleans, the cache ages in milliseconds. */
#include "record/neigh.h"
#include "record/push.h"
#include "record/attr.h"

#include <arpa/inet.h>

/* NUD_* bits in the order ip prints them. */
static const struct { unsigned int bit; const char *name; } nei_state_names[] = {
	{0x01, "INCOMPLETE"}, {0x02, "REACHABLE"}, {0x04, "STALE"}, {0x08, "DELAY"},
	{0x10, "PROBE"}, {0x20, "FAILED"}, {0x40, "NOARP"}, {0x80, "PERMANENT"},
};

/* state: the NUD state (the first bit in ip's order when several are set,
 * "NONE" when none); states: every set bit's name, as ip -j lists them. */
void neigh_set_states(lua_State *L, unsigned int state)
{
	const char *first = NULL;
	lua_Integer n = 0;
	size_t i;

	lua_createtable(L, 1, 0);
	for (i = 0; i < sizeof(nei_state_names) / sizeof(nei_state_names[0]); i++) {
		if (!(state & nei_state_names[i].bit))
			continue;
		if (first == NULL)
			first = nei_state_names[i].name;
		lua_pushstring(L, nei_state_names[i].name);
		lua_rawseti(L, -2, (int)++n);
	}
	lua_setfield(L, -2, "states");
	set_str(L, "state", first != NULL ? first : "NONE");
}

static uint64_t nei_ms(uint32_t ticks, long hz)
{
	return (uint64_t)ticks * 1000 / (uint64_t)hz;
}

void neigh_record_push(lua_State *L, const struct neigh_rec *r)
{
	char text[INET6_ADDRSTRLEN];

	lua_createtable(L, 0, 16);
	set_str(L, "family", family_name(r->family));
	if (inet_ntop(r->family, r->dst, text, sizeof(text)) != NULL)
		set_str(L, "addr", text);
	if (r->lladdr != NULL) {
		attr_push_hw(L, r->lladdr, r->lladdr_len);
		lua_setfield(L, -2, "mac");
	}
	if (r->ifindex > 0) {
		set_int(L, "ifindex", r->ifindex);
		if (r->ifname != NULL)
			set_str(L, "interface", r->ifname);
	}
	set_int(L, "state_bits", r->state);
	neigh_set_states(L, r->state);   /* proxy entries: NUD_NONE */
	set_bool(L, "router", (r->flags & NTF_ROUTER) != 0);
	set_bool(L, "proxy", (r->flags & NTF_PROXY) != 0);
	if (r->flags & NTF_EXT_LEARNED)
		set_bool(L, "extern_learn", 1);
	set_int(L, "flag_bits", r->flags);
	if (r->has_probes)
		set_int(L, "probes", r->probes);
	if (r->has_cacheinfo) {
		set_u64(L, "used_ms", nei_ms(r->ci.ndm_used, r->hz));
		set_u64(L, "confirmed_ms", nei_ms(r->ci.ndm_confirmed, r->hz));
		set_u64(L, "updated_ms", nei_ms(r->ci.ndm_updated, r->hz));
		set_int(L, "refcnt", r->ci.ndm_refcnt);
	}
}
