/* record/push.c: helpers every record uses. */
#ifndef LNETSTAT_RECORD_PUSH_H
#define LNETSTAT_RECORD_PUSH_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* t[k] = v on the table at the top of the stack. */
void set_int(lua_State *L, const char *k, long long v);
void set_u64(lua_State *L, const char *k, unsigned long long v);
void set_num(lua_State *L, const char *k, double v);
void set_str(lua_State *L, const char *k, const char *v);
void set_bool(lua_State *L, const char *k, int v);
/* A kernel flag bit and its name. */
struct bit_name {
	uint32_t bit;
	const char *name;
};
/* Pushes { name = true, ... } for the bits of flags that names (n of them)
 * name, in a table made for room names. */
void push_bit_set(lua_State *L, const struct bit_name *names, size_t n, uint32_t flags,
		  int room);
/* The name of an RT_SCOPE_* number as ip prints it, universe being the
 * name of scope 0 (RT_SCOPE_UNIVERSE); NULL for a number without a name. */
const char *scope_name(unsigned int scope, const char *universe);
/* nil, "what: strerror", errno; returns 3. */
int push_error(lua_State *L, const char *what, int err);
/* The text of a into out (at least INET6_ADDRSTRLEN bytes). */
const char *addr_text(const struct addr *a, char *out);
const char *family_name(int family);
/* 0, or -1 when the len bytes of text (NUL-terminated after them, as a
 * Lua string is) are no address ("addr", or "addr/len" for a cidr, len in
 * decimal digits without sign, space or leading zero). A NUL byte among
 * them is no address. */
int parse_addr(const char *text, size_t len, struct addr *a);
int parse_cidr(const char *text, size_t len, struct cidr *c);
/* The string argument idx (its length in *len when len is not NULL), or
 * the argument error "<what> contains a NUL byte": C would read only the
 * text before it. opt_text: NULL for none or nil. */
const char *check_text(lua_State *L, int idx, const char *what, size_t *len);
const char *opt_text(lua_State *L, int idx, const char *what, size_t *len);
/* luaL_checkoption(L, idx, NULL, names) for the whole string: "tcp\0x" is
 * no "tcp". */
int check_enum(lua_State *L, int idx, const char *const names[]);
/* Hands the record on top of the stack to the sink at sink_idx. */
void append(lua_State *L, int sink_idx, lua_Integer *n);
/* A sink argument (list or function); the records already in a list. */
lua_Integer check_sink(lua_State *L, int idx);

#pragma GCC visibility pop

#endif
