/* The Lua functions of lnetstat.core (registered by core.c) and of the
 * test-only module lnetstat.testhooks (registered by testhooks.c). */
#ifndef LNETSTAT_API_H
#define LNETSTAT_API_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* nl/session.c */
int l_open(lua_State *L);
int l_release(lua_State *L);
/* source/ */
int l_sock_diag(lua_State *L);
int l_links(lua_State *L);
int l_ifname(lua_State *L);
int l_addrs(lua_State *L);
int l_neighs(lua_State *L);
int l_route_dump(lua_State *L);
int l_route_get(lua_State *L);
int l_netns_list(lua_State *L);
int l_netns_nsid(lua_State *L);
int l_proc_sockets(lua_State *L);
int l_proc_routes(lua_State *L);
int l_proc_stats(lua_State *L);
int l_proc_groups(lua_State *L);
int l_proc_dev(lua_State *L);
int l_proc_if_inet6(lua_State *L);
int l_proc_arp(lua_State *L);
int l_owner_map(lua_State *L);
int l_start_owner_map(lua_State *L);
int l_finish_owner_map(lua_State *L);
int l_cancel_owner_map(lua_State *L);
int l_attach_owners(lua_State *L);
int l_attach_owner(lua_State *L);
int l_user_names(lua_State *L);
/* record/push.c */
int l_parse_cidr(lua_State *L);
/* record/link.c */
int l_link_stat_names(lua_State *L);

/* Metatables registered once by luaopen. */
void session_register(lua_State *L);   /* nl/session.c */
/* Sets funcs, each a function whose first argument is a session, in the
 * table on top, each guarded: the session is held for the whole call, a
 * call on a held session raises "session is busy", and a close() asked
 * meanwhile happens when the call returns (nl/session.c). */
void session_setfuncs(lua_State *L, const luaL_Reg *funcs);
void procfd_register(lua_State *L);    /* source/proc_fd.c */
/* Vocabulary tables luaopen sets on the module. */
void route_vocab_push(lua_State *L);   /* record/route.c: core.route_vocab */

/* Test hooks: the parsers and decoders over given text or bytes. */
int l_parse_proc_routes(lua_State *L);
int l_parse_proc_sockets(lua_State *L);
int l_parse_snmp(lua_State *L);
int l_parse_snmp6(lua_State *L);
int l_parse_sockstat(lua_State *L);
int l_parse_igmp(lua_State *L);
int l_parse_igmp6(lua_State *L);
int l_parse_proc_dev(lua_State *L);
int l_parse_if_inet6(lua_State *L);
int l_parse_proc_arp(lua_State *L);
int l_addr_ntop(lua_State *L);         /* text/addr.c */
int l_decode_rtnl(lua_State *L);       /* testhooks.c */
int l_decode_diag(lua_State *L);       /* testhooks.c */

#pragma GCC visibility pop

#endif
