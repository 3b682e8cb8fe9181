/* What one Lua state keeps between its sessions (nl/pool.c): a parked
 * receive buffer, a spare sock_diag socket, and the epoch that tells a
 * forked child from the process that opened a session. */
#ifndef LNETSTAT_NL_POOL_H
#define LNETSTAT_NL_POOL_H

#include "nl/nl.h"

#pragma GCC visibility push(hidden)

struct state_pool;

/* The state's pool; with create, made if missing (which may raise a memory
 * error: only before anything is opened). NULL without one. */
struct state_pool *state_pool(lua_State *L, int create);
void pool_register(lua_State *L);

/* The epoch of this process: the same for every call of one process,
 * another in a forked child (p NULL: the pid). */
uint64_t pool_epoch(struct state_pool *p);

/* The calling thread's network namespace as /proc names it, into out
 * (NETNS_ID_SIZE bytes); 0 and "" when /proc cannot tell. epoch: the
 * caller's (pool_epoch). */
int thread_netns_id(struct state_pool *p, uint64_t epoch, char *out);

/* Moves the spare socket into *into (which holds none) when it was parked
 * in this epoch for the namespace netns_id; returns 1 then. A spare that
 * does not qualify is closed. */
int pool_take_spare(struct state_pool *p, struct nlsock *into, uint64_t epoch,
		    const char *netns_id);

/* Parks the sock_diag socket ns (then emptied) as the spare, when it is
 * clean, its session was opened in this epoch in the namespace netns_id
 * (not ""), and no spare is parked yet; returns 1 then. */
int pool_park_spare(struct state_pool *p, struct nlsock *ns, uint64_t epoch,
		    const char *netns_id);

/* Closes the spare socket (and the descriptor the namespace check keeps);
 * returns 1 if there was a socket. */
int pool_release(struct state_pool *p);

/* Parks the receive buffer of ns when the pool has none and the buffer
 * has a starting size (nl/dump.c decides). */
void pool_park_buffer(struct state_pool *p, struct nlsock *ns);

/* Hands the parked buffer to ns when ns is open and has no buffer yet. */
void pool_adopt_buffer(struct state_pool *p, struct nlsock *ns);

#pragma GCC visibility pop

#endif
