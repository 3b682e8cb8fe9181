/* What one Lua state keeps between its sessions, so that a server worker
 * asking the same small question again and again pays neither a socket nor
 * a buffer per question: a parked receive buffer, a spare sock_diag socket
 * of the thread's own network namespace, and the mark that tells a forked
 * child from the process that opened a session.
 *
 * The registry holds the pool under the address of pool_key, as a userdata
 * whose __gc (lua_close) frees the buffer, closes the spare socket and the
 * ns directory, and unmaps the mark. The first core.open of a state makes
 * it, never require.
 *
 * The spare socket is reused only when it is safe:
 * - it was parked clean: its last request ran to NLMSG_DONE, nothing is
 *   queued on it, it never joined a multicast group (nlsock.clean,
 *   nlsock.member);
 * - this process is the one that parked it (a forked child holds a copy
 *   of its parent's socket, and a request there would mix both answers);
 * - the calling thread is still in the network namespace it was opened in
 *   (a sock_diag socket answers for its own namespace; a host that moved
 *   its thread with setns must get the new one's sockets). The thread's
 *   namespace is read from /proc/thread-self/ns/net (one readlink, half
 *   of what a socket and its close cost; the first thread that asks keeps
 *   its ns directory open and reads one name there); without /proc
 *   nothing is parked.
 * doc/kernel-notes.md §1 says why a dump cut short must not be reused, §7
 * why the namespace and the fork are checked. */
#include "nl/pool.h"
#include "record/class.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/mman.h>

#define STATE_POOL_MT "lnetstat.state_pool"
static const char pool_key = 0;

struct state_pool {
	char *buf;      /* the parked buffer, or NULL */
	size_t size;
	struct nlsock spare;          /* spare.nl != NULL: a socket is parked */
	char spare_netns[NETNS_ID_SIZE];   /* the namespace it answers for */
	uint64_t spare_epoch;         /* the epoch it was parked in */
	/* A page advised MADV_WIPEONFORK: it reads 0 in a forked child until
	 * the child's first session stamps an epoch of its own. NULL when the
	 * kernel lacks the advice (before 4.14): the pid is the epoch then. */
	uint64_t *mark;
	uint64_t last_epoch;          /* the last epoch handed out */
	/* /proc/thread-self/ns of the thread that asked first (O_PATH), so
	 * that its later checks read one name instead of walking the whole
	 * path; -1 when none is open. It answers only for that thread in the
	 * epoch that opened it. */
	int ns_dir;
	pthread_t ns_dir_thread;
	uint64_t ns_dir_epoch;
	int closed;     /* finalized (lua_close): keeps nothing more */
};

struct state_pool *state_pool(lua_State *L, int create)
{
	struct state_pool *p;
	void *page;

	lua_pushlightuserdata(L, (void *)&pool_key);
	lua_rawget(L, LUA_REGISTRYINDEX);
	/* only this file knows the key: what it holds is the pool */
	p = (struct state_pool *)lua_touserdata(L, -1);
	lua_pop(L, 1);
	if (p != NULL || !create)
		return p;
	lua_pushlightuserdata(L, (void *)&pool_key);
	p = (struct state_pool *)lua_newuserdatauv(L, sizeof(*p), 0);
	memset(p, 0, sizeof(*p));
	p->ns_dir = -1;
	luaL_getmetatable(L, STATE_POOL_MT);
	lua_setmetatable(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
#ifdef MADV_WIPEONFORK
	/* mapped once the userdata that unmaps it exists */
	page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page != MAP_FAILED) {
		if (madvise(page, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK) == 0)
			p->mark = (uint64_t *)page;
		else
			munmap(page, (size_t)sysconf(_SC_PAGESIZE));
	}
#else
	(void)page;
#endif
	return p;
}

static int l_pool_gc(lua_State *L)
{
	struct state_pool *p = (struct state_pool *)luaL_checkudata(L, 1, STATE_POOL_MT);

	free(p->buf);
	p->buf = NULL;
	pool_release(p);
	if (p->mark != NULL)
		munmap(p->mark, (size_t)sysconf(_SC_PAGESIZE));
	p->mark = NULL;
	p->closed = 1;
	return 0;
}

uint64_t pool_epoch(struct state_pool *p)
{
	if (p == NULL || p->mark == NULL)
		return (uint64_t)getpid();
	/* after a fork the child counts on from its parent's last epoch, so
	 * the epochs along a line of forks all differ */
	if (*p->mark == 0)
		*p->mark = ++p->last_epoch;
	return *p->mark;
}

/* The link's text into out (NETNS_ID_SIZE bytes, NUL-terminated); 0 and ""
 * when it cannot be read whole. */
static int read_ns_link(int dir, const char *path, char *out)
{
	ssize_t len = readlinkat(dir, path, out, NETNS_ID_SIZE);

	if (len <= 0 || len >= NETNS_ID_SIZE) {
		out[0] = '\0';
		return 0;
	}
	out[len] = '\0';
	return 1;
}

static void close_ns_dir(struct state_pool *p)
{
	if (p->ns_dir >= 0)
		close(p->ns_dir);
	p->ns_dir = -1;
}

int thread_netns_id(struct state_pool *p, uint64_t epoch, char *out)
{
	/* a forked child's copy names its parent's thread */
	if (p->ns_dir >= 0 && p->ns_dir_epoch != epoch)
		close_ns_dir(p);
	if (p->ns_dir >= 0 && pthread_equal(p->ns_dir_thread, pthread_self())) {
		if (read_ns_link(p->ns_dir, "net", out))
			return 1;
		/* that thread has exited and its pthread_t was reused: the
		 * directory of a dead task answers nothing */
		close_ns_dir(p);
	}
	if (!read_ns_link(AT_FDCWD, "/proc/thread-self/ns/net", out))
		return 0;
	if (p->ns_dir < 0 && !p->closed) {
		p->ns_dir = open("/proc/thread-self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
		p->ns_dir_thread = pthread_self();
		p->ns_dir_epoch = epoch;
	}
	return 1;
}

int pool_take_spare(struct state_pool *p, struct nlsock *into, uint64_t epoch,
		    const char *netns_id)
{
	if (p == NULL || p->spare.nl == NULL)
		return 0;
	if (p->spare_epoch != epoch || strcmp(p->spare_netns, netns_id) != 0) {
		/* a forked child's copy, or a namespace the thread has left */
		nlsock_close(&p->spare);
		return 0;
	}
	*into = p->spare;
	memset(&p->spare, 0, sizeof(p->spare));
	return 1;
}

int pool_park_spare(struct state_pool *p, struct nlsock *ns, uint64_t epoch,
		    const char *netns_id)
{
	if (p == NULL || p->closed || p->spare.nl != NULL || ns->nl == NULL || !ns->bounded ||
	    !ns->clean || ns->member || netns_id[0] == '\0' || epoch != pool_epoch(p))
		return 0;
	p->spare = *ns;
	memcpy(p->spare_netns, netns_id, NETNS_ID_SIZE);
	p->spare_epoch = epoch;
	memset(ns, 0, sizeof(*ns));
	return 1;
}

int pool_release(struct state_pool *p)
{
	int had;

	if (p == NULL)
		return 0;
	had = p->spare.nl != NULL;
	nlsock_close(&p->spare);
	close_ns_dir(p);
	return had;
}

void pool_park_buffer(struct state_pool *p, struct nlsock *ns)
{
	if (p != NULL && !p->closed && p->buf == NULL)
		p->buf = nlsock_release_buffer(ns, &p->size);
}

void pool_adopt_buffer(struct state_pool *p, struct nlsock *ns)
{
	if (p != NULL && p->buf != NULL && ns->nl != NULL && ns->buf == NULL) {
		nlsock_adopt_buffer(ns, p->buf, p->size);
		p->buf = NULL;
	}
}

void pool_register(lua_State *L)
{
	class_register(L, STATE_POOL_MT, l_pool_gc, NULL, NULL);
}
