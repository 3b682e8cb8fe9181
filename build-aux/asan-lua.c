/* A minimal Lua 5.4 interpreter for `make check-memory`: built with ASan
 * and UBSan, so that the sanitizer runtime is part of this program rather
 * than preloaded (LD_PRELOAD would reach every child process a spec starts:
 * ip, python, compilers, interpreters under resource limits).
 *
 * Usage: asan-lua [-e CODE]... [SCRIPT [ARGS...]]: runs each CODE, then
 * SCRIPT with the global `arg` and `...` set as lua.c sets them; exits 1 on
 * an error. With ASAN_LUA_ARGV0 set, the interpreter's name in `arg` is
 * that instead of argv[0]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	luaL_traceback(L, L, msg != NULL ? msg : "(error object is not a string)", 1);
	return 1;
}

static int run(lua_State *L, int status)
{
	if (status == LUA_OK)
		status = lua_pcall(L, lua_gettop(L) - 2, 0, 1);
	if (status != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	lua_State *L;
	int i, script = 1, first, status, err = 0;

	L = luaL_newstate();
	if (L == NULL)
		return 1;
	luaL_openlibs(L);
	while (script + 1 < argc && strcmp(argv[script], "-e") == 0)
		script += 2;
	/* arg[0] is the script, the interpreter and its options come before;
	 * without a script, arg[0] is the interpreter (as lua.c does) */
	first = script < argc ? script : 0;
	lua_createtable(L, argc, first + 1);
	for (i = 0; i < argc; i++) {
		/* arg[-n], the interpreter, is what check files' child processes
		 * are started with: make check-memory names the lua5.4 in PATH */
		const char *a = i == 0 && getenv("ASAN_LUA_ARGV0") != NULL ?
				getenv("ASAN_LUA_ARGV0") : argv[i];

		lua_pushstring(L, a);
		lua_rawseti(L, -2, i - first);
	}
	lua_setglobal(L, "arg");
	lua_pushcfunction(L, traceback);   /* 1 */
	for (i = 1; i < script && !err; i += 2) {
		lua_settop(L, 1);
		err = run(L, luaL_loadbuffer(L, argv[i + 1], strlen(argv[i + 1]), "=(command line)"));
	}
	if (!err && script < argc) {
		lua_settop(L, 1);
		status = luaL_loadfile(L, argv[script]);
		/* the script's arguments go on the stack: room for all of them
		 * first (busted is given every spec file, far more than the
		 * LUA_MINSTACK slots a C function may use unchecked) */
		if (status == LUA_OK && !lua_checkstack(L, argc - script)) {
			fprintf(stderr, "asan-lua: too many arguments\n");
			lua_close(L);
			return 1;
		}
		if (status == LUA_OK)
			for (i = script + 1; i < argc; i++)
				lua_pushstring(L, argv[i]);
		err = run(L, status);
	}
	lua_close(L);
	return err;
}
