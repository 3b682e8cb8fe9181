/* lnetstat.core: the registration table. The other C files are included
 * here so that the module is one translation unit in which every function
 * is static; only luaopen_lnetstat_core is exported. */
#include "lnetstat.h"

#include "addrtext.c"
#include "keys.c"
#include "push.c"
#include "nl.c"
#include "proctext.c"
#include "link.c"
#include "tcpinfo.c"
#include "sockdiag.c"
#include "sockdiag_local.c"
#include "routefmt.c"
#include "route.c"
#include "procroute.c"
#include "addr.c"
#include "neigh.c"
#include "procdev.c"
#include "procarp.c"   /* after procdev.c: uses its tokenizer */
#include "rtnl_decode.c"
#include "procnet.c"
#include "procfd.c"
#include "procstats.c"   /* after procnet.c and procfd.c: uses their helpers */
#include "procmcast.c"
#include "netns.c"      /* after procfd.c: uses its dirbox */

static const luaL_Reg core_funcs[] = {
	{"open", l_open},
	{"route_dump", l_route_dump},
	{"route_get", l_route_get},
	{"proc_routes", l_proc_routes},
	{"_parse_proc_routes", l_parse_proc_routes},
	{"_addr_ntop", l_addr_ntop},
	{"sock_diag", l_sock_diag},
	{"proc_sockets", l_proc_sockets},
	{"_parse_proc", l_parse_proc_sockets},
	{"owners", l_owners},
	{"parse_cidr", l_parse_cidr},
	{"user_names", l_user_names},
	{"proc_stats", l_proc_stats},
	{"proc_groups", l_proc_groups},
	{"netns_list", l_netns_list},
	{"netns_nsid", l_netns_nsid},
	{"_parse_snmp", l_parse_snmp},
	{"_parse_snmp6", l_parse_snmp6},
	{"_parse_sockstat", l_parse_sockstat},
	{"_parse_igmp", l_parse_igmp},
	{"_parse_igmp6", l_parse_igmp6},
	{"links", l_links},
	{"ifname", l_ifname},
	{"addrs", l_addrs},
	{"neighs", l_neighs},
	{"proc_dev", l_proc_dev},
	{"proc_if_inet6", l_proc_if_inet6},
	{"_parse_proc_dev", l_parse_proc_dev},
	{"_parse_if_inet6", l_parse_if_inet6},
	{"proc_arp", l_proc_arp},
	{"_parse_proc_arp", l_parse_proc_arp},
	{"_decode_rtnl", l_decode_rtnl},
	{NULL, NULL}
};

__attribute__((visibility("default")))
int luaopen_lnetstat_core(lua_State *L);

int luaopen_lnetstat_core(lua_State *L)
{
#if LUA_VERSION_NUM >= 502
	luaL_checkversion(L);
#endif
	session_register(L);
	procfd_register(L);
	lua_newtable(L);
	luaL_setfuncs(L, core_funcs, 0);
	lua_pushliteral(L, LNETSTAT_VERSION);
	lua_setfield(L, -2, "_VERSION");
	lua_pushliteral(L, "lnetstat.core");
	lua_setfield(L, -2, "_NAME");
	return 1;
}
