/* Userdata classes: one way to give a C object its metatable, so that every
 * object that holds a descriptor is closed by the collector and, on 5.4, by
 * a to-be-closed variable. */
#include "record/class.h"

void class_register(lua_State *L, const char *name, lua_CFunction close,
		    lua_CFunction tostring, const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	lua_pushcfunction(L, close);
	lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
	lua_pushcfunction(L, close);
	lua_setfield(L, -2, "__close");
#endif
	if (tostring != NULL) {
		lua_pushcfunction(L, tostring);
		lua_setfield(L, -2, "__tostring");
	}
	if (methods != NULL) {
		lua_newtable(L);
		luaL_setfuncs(L, methods, 0);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
