/* lnetstat.core: the registration table of the module's public functions.
 * The functions live in their own units (nl/, source/, record/, text/);
 * api.h declares them hidden, so only luaopen_lnetstat_core is exported.
 * The parser and decoder hooks the specs use are in lnetstat.testhooks
 * (testhooks.c), which is never installed. */
#include "api.h"
#include "lnetstat.h"
#include "fs/fs.h"
#include "record/socket.h"
#include "source/watch.h"

/* The functions whose first argument is a session: registered guarded
 * (session_setfuncs), so that Lua code running inside one of them (a
 * sink, a route letters table's __index, a finalizer) cannot reuse or
 * close the session under it. */
static const luaL_Reg session_funcs[] = {
	{"route_dump", l_route_dump},
	{"route_get", l_route_get},
	{"proc_routes", l_proc_routes},
	{"sock_diag", l_sock_diag},
	{"proc_sockets", l_proc_sockets},
	{"proc_stats", l_proc_stats},
	{"proc_groups", l_proc_groups},
	{"netns_nsid", l_netns_nsid},
	{"links", l_links},
	{"ifname", l_ifname},
	{"addrs", l_addrs},
	{"neighs", l_neighs},
	{"proc_dev", l_proc_dev},
	{"proc_if_inet6", l_proc_if_inet6},
	{"proc_arp", l_proc_arp},
	{"watch", l_watch},
	{NULL, NULL}
};

static const luaL_Reg core_funcs[] = {
	{"open", l_open},
	{"release", l_release},
	{"owner_map", l_owner_map},
	{"start_owner_map", l_start_owner_map},
	{"finish_owner_map", l_finish_owner_map},
	{"cancel_owner_map", l_cancel_owner_map},
	{"attach_owners", l_attach_owners},
	{"attach_owner", l_attach_owner},
	{"parse_cidr", l_parse_cidr},
	{"link_stat_names", l_link_stat_names},
	{"user_names", l_user_names},
	{"netns_list", l_netns_list},
	{"write_atomic", l_write_atomic},
	{"read_file", l_read_file},
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
	watch_register(L);
	read_register(L);
	lua_newtable(L);
	luaL_setfuncs(L, core_funcs, 0);
	session_setfuncs(L, session_funcs);
	sock_vocab_push(L);
	lua_pushliteral(L, LNETSTAT_VERSION);
	lua_setfield(L, -2, "_VERSION");
	lua_pushliteral(L, "lnetstat.core");
	lua_setfield(L, -2, "_NAME");
	route_vocab_push(L);
	lua_setfield(L, -2, "route_vocab");
	return 1;
}
