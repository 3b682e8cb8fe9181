/* One libFuzzer target of lnetstat's parsers and decoders, chosen at build
 * time by FUZZ_TARGET (make fuzz builds one binary per target).
 *
 * Each input is fed through the lnetstat.testhooks function that the specs
 * use, in one lua_State kept for the whole process. The first byte picks the
 * variant (the /proc file, the protocol, the address family); the rest is
 * the text or the stream of nlmsghdr-framed messages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET must name the target"
#endif

int luaopen_lnetstat_testhooks(lua_State *L);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct variant {
	const char *hook;      /* testhooks function */
	const char *arg2, *arg3;
	int flag3;             /* arg3 is a boolean: true */
};

struct target {
	const char *name;
	const struct variant *v;
};

static const struct variant proc_sockets[] = {
	{"_parse_proc", "tcp", "inet", 0}, {"_parse_proc", "tcp", "inet6", 0},
	{"_parse_proc", "udp", "inet", 0}, {"_parse_proc", "udp", "inet6", 0},
	{"_parse_proc", "udplite", "inet", 0}, {"_parse_proc", "raw", "inet", 0},
	{"_parse_proc", "raw", "inet6", 0}, {"_parse_proc", "unix", NULL, 0},
	{"_parse_proc", "packet", NULL, 0}, {"_parse_proc", "netlink", NULL, 0},
	{NULL, NULL, NULL, 0}
};
/* snmp and netstat share one parser */
static const struct variant proc_stats[] = {
	{"_parse_snmp", NULL, NULL, 0}, {"_parse_snmp6", NULL, NULL, 0},
	{"_parse_sockstat", NULL, NULL, 0}, {NULL, NULL, NULL, 0}
};
static const struct variant proc_net[] = {
	{"_parse_proc_dev", NULL, NULL, 0}, {"_parse_if_inet6", NULL, NULL, 0},
	{"_parse_proc_routes", "inet", NULL, 0}, {"_parse_proc_routes", "inet6", NULL, 0},
	{"_parse_igmp", NULL, NULL, 0}, {"_parse_igmp6", NULL, NULL, 0},
	{"_parse_proc_arp", NULL, NULL, 0}, {NULL, NULL, NULL, 0}
};
static const struct variant diag_inet[] = {
	{"_decode_diag", "tcp", NULL, 0}, {"_decode_diag", "tcp", NULL, 1},
	{"_decode_diag", "udp", NULL, 0}, {"_decode_diag", "udplite", NULL, 0},
	{"_decode_diag", "raw", NULL, 0}, {"_decode_diag", "raw", NULL, 1},
	{NULL, NULL, NULL, 0}
};
static const struct variant diag_local[] = {
	{"_decode_diag", "unix", NULL, 0}, {"_decode_diag", "packet", NULL, 0},
	{"_decode_diag", "netlink", NULL, 0}, {NULL, NULL, NULL, 0}
};
static const struct variant rtnl_link[] = {
	{"_decode_rtnl", "link", NULL, 0}, {NULL, NULL, NULL, 0}
};
static const struct variant rtnl_route[] = {
	{"_decode_rtnl", "route", NULL, 0}, {"_decode_rtnl", "route6", NULL, 0},
	{"_decode_rtnl", "route", NULL, 1}, {"_decode_rtnl", "route6", NULL, 1},
	{NULL, NULL, NULL, 0}
};
static const struct variant rtnl_addr_neigh[] = {
	{"_decode_rtnl", "addr", NULL, 0}, {"_decode_rtnl", "neigh", NULL, 0},
	{NULL, NULL, NULL, 0}
};

static const struct target targets[] = {
	{"proc_sockets", proc_sockets}, {"proc_stats", proc_stats},
	{"proc_net", proc_net}, {"diag_inet", diag_inet},
	{"diag_local", diag_local}, {"rtnl_link", rtnl_link},
	{"rtnl_route", rtnl_route}, {"rtnl_addr_neigh", rtnl_addr_neigh},
	{NULL, NULL}
};

static lua_State *L;
static const struct variant *variants;
static size_t nvariants;

static void setup(void)
{
	size_t i;

	for (i = 0; targets[i].name != NULL; i++)
		if (strcmp(targets[i].name, FUZZ_TARGET) == 0)
			variants = targets[i].v;
	if (variants == NULL) {
		fprintf(stderr, "unknown fuzz target %s\n", FUZZ_TARGET);
		abort();
	}
	while (variants[nvariants].hook != NULL)
		nvariants++;
	L = luaL_newstate();
	if (L == NULL)
		abort();
	luaL_requiref(L, "lnetstat.testhooks", luaopen_lnetstat_testhooks, 0);
	/* stack: [1] = the hooks table */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct variant *v;
	int nargs = 1;

	if (L == NULL)
		setup();
	if (size < 1)
		return 0;
	v = &variants[data[0] % nvariants];
	lua_settop(L, 1);
	lua_getfield(L, 1, v->hook);
	lua_pushlstring(L, (const char *)data + 1, size - 1);
	if (v->arg2 != NULL) {
		lua_pushstring(L, v->arg2);
		nargs++;
	}
	if (v->arg3 != NULL) {
		lua_pushstring(L, v->arg3);
		nargs++;
	} else if (v->flag3) {
		lua_pushboolean(L, 1);
		nargs++;
	}
	/* A parser or decoder never raises on what it reads: an error is a
	 * finding, like a crash. */
	if (lua_pcall(L, nargs, 0, 0) != 0) {
		fprintf(stderr, "%s raised: %s\n", v->hook, lua_tostring(L, -1));
		abort();
	}
	lua_settop(L, 1);
	return 0;
}
