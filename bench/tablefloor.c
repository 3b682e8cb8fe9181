/* tablefloor.c -- what the Lua tables of a socket listing cost alone.
 *
 * Makes COUNT (argument 1) tables of the 14 fields an established TCP
 * socket's record has (proto, family, state, queues, addresses, ports, uid,
 * inode, timer fields), through the same C API calls lnetstat makes (keys
 * pushed once and copied, values pushed, lua_rawset), in a Lua 5.4 state:
 *   each  (the default) each table is handed to a Lua function that drops
 *         it, as each_socket hands records to its function;
 *   list  (argument 2) every table is appended to one list, as sockets()
 *         holds them; with "owners" as argument 3, each record also has
 *         the owner fields of process = true (user, pid, program and
 *         processes = { {pid=, fd=, program=, command=} }): the floor of
 *         sockets{process = true}; with "routes", each record has 13 fields
 *         (as many as a route's) and one of them is a text of its own (a
 *         route's dst, "2001:db8:X:Y::/64", which Lua must intern): the
 *         floor of routes{table = "all"};
 *   calls (argument 2, then CALLS as argument 3) CALLS times, COUNT tables
 *         appended to a new list that is then dropped, as a call of
 *         listening{} in a long-lived state returns them; prints the CPU
 *         microseconds per call (clock()) and COUNT, as bench/longlived.lua
 *         prints its calls.
 * No kernel, no parsing: the floor of any design that gives Lua one table
 * per socket. Prints COUNT. Build:
 *   cc -O2 -I/usr/include/lua5.4 -o tablefloor tablefloor.c -llua5.4 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[] = {
	"proto", "family", "state", "recv_q", "send_q", "local_addr", "local_port",
	"remote_addr", "remote_port", "uid", "inode", "timer", "timer_expires_ms", "retransmits",
};
#define NFIELDS (int)(sizeof(names) / sizeof(names[0]))

/* The owner fields of a record with process = true, and their values. */
static const char *const owner_names[] = {
	"user", "pid", "program", "processes", "fd", "command",
};
#define NOWNER (int)(sizeof(owner_names) / sizeof(owner_names[0]))

/* Sets the owner fields on the record on top of the stack; okeys is the
 * stack index of owner_names, followed by the user and program texts. */
static void add_owner(lua_State *L, int okeys, long i)
{
	lua_pushvalue(L, okeys + 0);
	lua_pushvalue(L, okeys + NOWNER);
	lua_rawset(L, -3);
	lua_pushvalue(L, okeys + 1);
	lua_pushinteger(L, (lua_Integer)(1000 + i % 8));
	lua_rawset(L, -3);
	lua_pushvalue(L, okeys + 2);
	lua_pushvalue(L, okeys + NOWNER + 1);
	lua_rawset(L, -3);
	lua_pushvalue(L, okeys + 3);
	lua_createtable(L, 1, 0);
	lua_createtable(L, 0, 4);
	lua_pushvalue(L, okeys + 1);
	lua_pushinteger(L, (lua_Integer)(1000 + i % 8));
	lua_rawset(L, -3);
	lua_pushvalue(L, okeys + 4);
	lua_pushinteger(L, (lua_Integer)(3 + i));
	lua_rawset(L, -3);
	lua_pushvalue(L, okeys + 2);
	lua_pushvalue(L, okeys + NOWNER + 1);
	lua_rawset(L, -3);
	lua_pushvalue(L, okeys + 5);
	lua_pushvalue(L, okeys + NOWNER + 1);
	lua_rawset(L, -3);
	lua_rawseti(L, -2, 1);
	lua_rawset(L, -3);
}

/* Pushes "2001:db8:X:Y::/64" for route number i, the text a route's dst
 * has in bench/routes.sh (hex by hand: snprintf costs more than lnetstat's
 * own formatting). */
static void push_dst(lua_State *L, long i)
{
	static const char hex[] = "0123456789abcdef";
	char text[40] = "2001:db8:", *p = text + 9;
	unsigned int part[2] = { (unsigned int)(i / 256) & 0xffff, (unsigned int)(i % 256) };
	int j, shift;

	for (j = 0; j < 2; j++) {
		for (shift = 12; shift > 0 && (part[j] >> shift) == 0; shift -= 4)
			;
		for (; shift >= 0; shift -= 4)
			*p++ = hex[(part[j] >> shift) & 0xf];
		*p++ = ':';
	}
	memcpy(p, ":/64", 4);
	lua_pushlstring(L, text, (size_t)(p + 4 - text));
}

/* Makes one record table of record number i on top of the stack, sized for
 * room more fields; keys is the stack index of the field names, the reused
 * values above them. With route, the shape of a route record (see above). */
static void make_table(lua_State *L, int keys, long i, int room, int route)
{
	int k;

	lua_createtable(L, 0, 15 + room);
	for (k = 0; k < NFIELDS - route; k++) {
		lua_pushvalue(L, keys + k);
		if (route && k == 5) {
			push_dst(L, i);
			lua_rawset(L, -3);
			continue;
		}
		switch (k) {
		case 0: case 1: case 2: lua_pushvalue(L, keys + NFIELDS + k); break;
		case 5: case 7: lua_pushvalue(L, keys + NFIELDS + 3); break;
		case 11: lua_pushvalue(L, keys + NFIELDS + 4); break;
		default: lua_pushinteger(L, (lua_Integer)(i + k)); break;
		}
		lua_rawset(L, -3);
	}
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 100000, i, c;
	int list = argc > 2 && strcmp(argv[2], "list") == 0;
	int owners = list && argc > 3 && strcmp(argv[3], "owners") == 0;
	int route = list && argc > 3 && strcmp(argv[3], "routes") == 0;
	long calls = argc > 3 && strcmp(argv[2], "calls") == 0 ? atol(argv[3]) : 0;
	lua_State *L = luaL_newstate();
	int sink, keys, okeys, k;

	if (L == NULL)
		return 1;
	luaL_openlibs(L);
	if (list || calls > 0)
		lua_newtable(L);
	else if (luaL_dostring(L, "return function(record) end") != LUA_OK)
		return fprintf(stderr, "%s\n", lua_tostring(L, -1)), 1;
	sink = lua_gettop(L);
	keys = sink + 1;
	for (k = 0; k < NFIELDS; k++)
		lua_pushstring(L, names[k]);
	/* the values lnetstat reuses: literal names and the last address text */
	lua_pushstring(L, "tcp");
	lua_pushstring(L, "inet");
	lua_pushstring(L, "ESTABLISHED");
	lua_pushstring(L, "127.0.0.1");
	lua_pushstring(L, "off");
	okeys = lua_gettop(L) + 1;
	for (k = 0; k < NOWNER; k++)
		lua_pushstring(L, owner_names[k]);
	lua_pushstring(L, "root");
	lua_pushstring(L, "python3");
	if (calls > 0) {
		clock_t t0 = clock();

		for (c = 0; c < calls; c++) {
			lua_newtable(L);
			for (i = 0; i < count; i++) {
				make_table(L, keys, i, 0, 0);
				lua_rawseti(L, -2, (lua_Integer)i + 1);
			}
			lua_pop(L, 1);
		}
		printf("%.1f %ld\n", (double)(clock() - t0) * 1e6 / CLOCKS_PER_SEC / (double)calls, count);
		lua_close(L);
		return 0;
	}
	for (i = 0; i < count; i++) {
		if (!list)
			lua_pushvalue(L, sink);
		make_table(L, keys, i, owners ? 4 : 0, route);
		if (owners)
			add_owner(L, okeys, i);
		if (list)
			lua_rawseti(L, sink, (lua_Integer)i + 1);
		else
			lua_call(L, 1, 0);
	}
	printf("%ld\n", count);
	lua_close(L);
	return 0;
}
