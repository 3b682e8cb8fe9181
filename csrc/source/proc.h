/* What the /proc sources share among themselves: the counter parse state
 * of source/proc_stats.c (reused by source/proc_mcast.c), the line reader
 * of source/proc_dev.c (reused by source/proc_arp.c) and the argument
 * readers of source/rtnl_route.c (reused by source/proc_route.c). */
#ifndef LNETSTAT_SOURCE_PROC_H
#define LNETSTAT_SOURCE_PROC_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* source/proc_stats.c */
/* One parse: the result table and the problems met (the first one is kept
 * as text for result.partial). */
struct stat_parse {
	lua_State *L;
	int out;                /* absolute index of the table being filled */
	const char *file;       /* "snmp", "netstat", ... for messages */
	int problems;
	char first[192];
};

void stat_problem(struct stat_parse *sp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Pushes the partial reason (or nil when the parse was clean). */
void push_partial(struct stat_parse *sp);
/* For /proc/net file pf of session s, asked for but not open: names it
 * as a problem on sp unless the namespace just lacks it (no IPv6). */
void stat_unopened(struct stat_parse *sp, const struct session *s, int pf);
void stat_parse_init(struct stat_parse *sp, lua_State *L, int out, const char *file);

/* source/proc_dev.c */
typedef int (*pdev_line_fn)(lua_State *L, const char *p, const char *end);

int pdev_read(lua_State *L, int which, pdev_line_fn fn);
int pdev_parse_arg(lua_State *L, pdev_line_fn fn);

/* source/rtnl_route.c */
int route_family_arg(lua_State *L, int idx);
uint32_t route_want_arg(lua_State *L, int idx, int *size);

#pragma GCC visibility pop

#endif
