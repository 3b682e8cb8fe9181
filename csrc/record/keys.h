/* Key sets: the field names of one kind of record, pushed on the stack once
 * per call, so that each field of each record is set with one lua_rawset
 * instead of a lua_setfield that hashes and looks its key up again (with
 * 100,000 records of 15 fields, that lookup was a tenth of the work). A key
 * set also keeps a small cache of literal value strings ("tcp",
 * "ESTABLISHED") and a few slots its user may fill with values it reuses
 * (the last address text, the last interface name). Keys in the skip mask
 * are never set: a caller that asked for fewer fields gets lighter records.
 *
 * The functions are static inline: they sit in the inner loop of every
 * record. */
#ifndef LNETSTAT_RECORD_KEYS_H
#define LNETSTAT_RECORD_KEYS_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

#define KS_LITERALS 32   /* direct-mapped cache of literal value strings */

struct keyset {
	lua_State *L;
	int base;     /* stack index of key 0; then the literal cache, then the extra slots */
	int nkeys;
	int nslots;   /* every slot the set occupies, the table of names first */
	uint32_t skip;   /* bit k set: key k is not wanted */
	uint32_t set;    /* bit k set: key k was set since the last reset */
	const char *lit[KS_LITERALS];   /* which literal each cache slot holds */
};

/* Pushes the nkeys names, the literal cache and nextra free slots (nil).
 * The names are made Lua strings once per Lua state: a table of them is kept
 * in the registry under the address of the (static) names array, so a call
 * copies references instead of hashing every name again (in a long-lived
 * state that asks for a few records at a time, the hashing was a tenth of
 * each call). */
static inline void keyset_push(lua_State *L, struct keyset *ks, const char *const *names,
			int nkeys, int nextra)
{
	int i, names_at;

	memset(ks, 0, sizeof(*ks));
	ks->L = L;
	ks->nkeys = nkeys;
	/* the table of names stays below the keys: removing it would shift
	 * every slot above it, once per dump */
	ks->nslots = 1 + nkeys + KS_LITERALS + nextra;
	luaL_checkstack(L, ks->nslots + 16, "record keys");
	lua_pushlightuserdata(L, (void *)names);
	lua_rawget(L, LUA_REGISTRYINDEX);
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, nkeys, 0);
		for (i = 0; i < nkeys; i++) {
			lua_pushstring(L, names[i]);
			lua_rawseti(L, -2, i + 1);
		}
		lua_pushlightuserdata(L, (void *)names);
		lua_pushvalue(L, -2);
		lua_rawset(L, LUA_REGISTRYINDEX);
	}
	names_at = lua_gettop(L);
	for (i = 0; i < nkeys; i++)
		lua_rawgeti(L, names_at, i + 1);
	ks->base = names_at + 1;
	lua_settop(L, names_at + ks->nslots - 1);   /* the other slots, nil */
}

static inline void keyset_pop(const struct keyset *ks)
{
	lua_pop(ks->L, ks->nslots);
}

/* Stack index of the lowest slot the set occupies: what is inserted there
 * stays on the stack when the set is popped. */
static inline int ks_bottom(const struct keyset *ks)
{
	return ks->base - 1;
}

/* Stack index of the caller's extra slot i. */
static inline int ks_extra(const struct keyset *ks, int i)
{
	return ks->base + ks->nkeys + KS_LITERALS + i;
}

/* True when key k is not wanted: its setter does nothing. */
static inline int ks_skipped(const struct keyset *ks, int k)
{
	return k < 32 && (ks->skip & (1u << k)) != 0;
}

/* record[key] = value, where the record lies just below: push the key,
 * then the value, then ks_set (after checking ks_skipped). */
static inline void ks_key(struct keyset *ks, int k)
{
	if (k < 32)
		ks->set |= 1u << k;
	lua_pushvalue(ks->L, ks->base + k);
}

static inline void ks_set(const struct keyset *ks)
{
	lua_rawset(ks->L, -3);
}

static inline void ks_int(struct keyset *ks, int k, lua_Integer v)
{
	if (ks_skipped(ks, k))
		return;
	ks_key(ks, k);
	lua_pushinteger(ks->L, v);
	ks_set(ks);
}

static inline void ks_u64(struct keyset *ks, int k, uint64_t v)
{
	if (ks_skipped(ks, k))
		return;
	ks_key(ks, k);
	lnetstat_pushu64(ks->L, v);
	ks_set(ks);
}

static inline void ks_bool(struct keyset *ks, int k, int v)
{
	if (ks_skipped(ks, k))
		return;
	ks_key(ks, k);
	lua_pushboolean(ks->L, v);
	ks_set(ks);
}

static inline void ks_lstr(struct keyset *ks, int k, const char *v, size_t len)
{
	if (ks_skipped(ks, k))
		return;
	ks_key(ks, k);
	lua_pushlstring(ks->L, v, len);
	ks_set(ks);
}

/* The value in the caller's extra slot i. */
static inline void ks_from_extra(struct keyset *ks, int k, int i)
{
	if (ks_skipped(ks, k))
		return;
	ks_key(ks, k);
	lua_pushvalue(ks->L, ks_extra(ks, i));
	ks_set(ks);
}

/* A string with static storage (a name from a constant table): reused
 * from the cache instead of being interned again for each record. */
static inline void ks_lit(struct keyset *ks, int k, const char *v)
{
	unsigned int i = (unsigned int)(((uintptr_t)v >> 3) % KS_LITERALS);
	int slot = ks->base + ks->nkeys + (int)i;

	if (ks_skipped(ks, k))
		return;
	ks_key(ks, k);
	if (ks->lit[i] == v) {
		lua_pushvalue(ks->L, slot);
	} else {
		lua_pushstring(ks->L, v);
		lua_pushvalue(ks->L, -1);
		lua_replace(ks->L, slot);
		ks->lit[i] = v;
	}
	ks_set(ks);
}

#pragma GCC visibility pop

#endif
