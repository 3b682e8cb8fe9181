/* Userdata classes of the module: sessions, watches, directory guards. */
#ifndef LNETSTAT_RECORD_CLASS_H
#define LNETSTAT_RECORD_CLASS_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* Registers the metatable name: __gc (and __close on 5.4) call close,
 * __tostring calls tostring (if any), and __index holds methods (if any). */
void class_register(lua_State *L, const char *name, lua_CFunction close,
		    lua_CFunction tostring, const luaL_Reg *methods);

#pragma GCC visibility pop

#endif
