/* Safe file writing (fs/atomic.c). */
#ifndef LNETSTAT_FS_H
#define LNETSTAT_FS_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* core.write_atomic(path[, data]) -> true | nil, msg, errno; without data
 * it only checks that a temporary file can be created beside path. */
int l_write_atomic(lua_State *L);

#pragma GCC visibility pop

#endif
