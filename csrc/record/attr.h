/* record/attr.c: record fields from netlink attributes. */
#ifndef LNETSTAT_RECORD_ATTR_H
#define LNETSTAT_RECORD_ATTR_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

void attr_set_u32(lua_State *L, const char *k, const struct nlattr *a);
void attr_set_str(lua_State *L, const char *k, const struct nlattr *a);
/* "aa:bb:cc:..." for a hardware address of any length. */
void attr_push_hw(lua_State *L, const unsigned char *p, size_t len);
void attr_set_hw(lua_State *L, const char *k, const struct nlattr *a);

#pragma GCC visibility pop

#endif
