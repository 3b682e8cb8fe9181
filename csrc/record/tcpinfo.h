/* record/tcpinfo.c: the info table of an inet socket record. */
#ifndef LNETSTAT_RECORD_TCPINFO_H
#define LNETSTAT_RECORD_TCPINFO_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* Fills the table at the top of the stack from an inet_diag attribute table
 * (tb indexed by INET_DIAG_*). */
void push_inet_info(lua_State *L, const struct nlattr *const *tb);

#pragma GCC visibility pop

#endif
