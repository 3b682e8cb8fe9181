/* source/watch.c: change events from netlink multicast groups. */
#ifndef LNETSTAT_SOURCE_WATCH_H
#define LNETSTAT_SOURCE_WATCH_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

int l_watch(lua_State *L);
void watch_register(lua_State *L);   /* the metatable, once by luaopen */

#pragma GCC visibility pop

#endif
