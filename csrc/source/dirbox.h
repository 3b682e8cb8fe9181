/* Directory handles that a Lua error cannot leak (source/proc_fd.c
 * registers the metatable; source/netns_dir.c uses it). */
#ifndef LNETSTAT_SOURCE_DIRBOX_H
#define LNETSTAT_SOURCE_DIRBOX_H

#include "lnetstat.h"

#include <dirent.h>

#pragma GCC visibility push(hidden)

#define DIRBOX_MT "lnetstat.dirbox"

/* The directory handles of a scan live in a userdata, so a Lua error while
 * results are built (out of memory) still closes them through __gc. */
struct dirbox {
	DIR *proc;
	DIR *fds;
};

#pragma GCC visibility pop

#endif
