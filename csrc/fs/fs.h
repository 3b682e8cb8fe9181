/* Safe file writing (fs/atomic.c) and reading (fs/read.c). */
#ifndef LNETSTAT_FS_H
#define LNETSTAT_FS_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* core.write_atomic(path[, data]) -> true | nil, msg, errno; without data
 * it only checks that a temporary file can be created beside path. */
int l_write_atomic(lua_State *L);
/* core.read_file(path, max_bytes) -> text | nil, msg, errno: a regular
 * file's content, never blocking (nothing else is opened) and refused
 * beyond max_bytes (EFBIG). */
int l_read_file(lua_State *L);
/* The metatable of the descriptor box read_file reads through. */
void read_register(lua_State *L);

#pragma GCC visibility pop

#endif
