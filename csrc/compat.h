/* Lua 5.1/LuaJIT .. 5.4 shims. Everything here is static inline and prefixed so it
 * never clashes with LuaJIT's own copies of the 5.2 API. */
#ifndef LNETSTAT_COMPAT_H
#define LNETSTAT_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM == 501
#ifndef LUA_OK
#define LUA_OK 0
#endif
#define lua_rawlen(L, i) lua_objlen((L), (i))
static inline void lnetstat_setfuncs(lua_State *L, const luaL_Reg *l)
{
	for (; l->name != NULL; l++) {
		lua_pushcfunction(L, l->func);
		lua_setfield(L, -2, l->name);
	}
}
#define luaL_setfuncs(L, l, nup) lnetstat_setfuncs((L), (l))
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#elif LUA_VERSION_NUM == 502 || LUA_VERSION_NUM == 503
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#elif LUA_VERSION_NUM == 504
/* native */
#else
#error "lnetstat supports Lua 5.1 (and LuaJIT), 5.2, 5.3 and 5.4"
#endif

/* lua_absindex, on every version (5.1 and LuaJIT lack it). */
static inline int lnetstat_absindex(lua_State *L, int idx)
{
	return idx > 0 || idx <= LUA_REGISTRYINDEX ? idx : lua_gettop(L) + idx + 1;
}

/* Integers beyond 2^53 lose precision as doubles on 5.1/LuaJIT; callers
 * that may exceed it (cookies) push strings instead. */
static inline void lnetstat_pushu64(lua_State *L, unsigned long long v)
{
#if LUA_VERSION_NUM >= 503
	lua_pushinteger(L, (lua_Integer)v);
#else
	lua_pushnumber(L, (lua_Number)v);
#endif
}

#endif
