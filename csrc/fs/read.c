/* core.read_file: the content of a regular file, read without ever
 * blocking on what the path names and never more than a given size.
 *
 * A path a caller gives may name a FIFO (an open for reading waits for a
 * writer), a terminal, a device (/dev/zero never ends) or a directory. The
 * path is looked at with stat() first, so nothing but a regular file is
 * ever opened; the open itself uses O_NONBLOCK | O_NOCTTY, and fstat() on
 * the descriptor checks again what was opened (the path may have been
 * replaced in between). /proc and /sys files are regular files whose size
 * says 0: the read goes on until end of file, stopped one byte past the
 * limit. The descriptor belongs to a userdata whose __gc closes it, so a
 * memory error while the text is gathered never leaks it; it is closed as
 * soon as the last byte is read. */
#include "fs/fs.h"
#include "record/class.h"
#include "record/push.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#define FILEBOX_MT "lnetstat.filebox"

/* The descriptor being read; -1 once closed. */
struct filebox {
	int fd;
};

static void filebox_release(struct filebox *b)
{
	if (b->fd >= 0)
		(void)close(b->fd);
	b->fd = -1;
}

static int filebox_close(lua_State *L)
{
	filebox_release((struct filebox *)luaL_checkudata(L, 1, FILEBOX_MT));
	return 0;
}

void read_register(lua_State *L)
{
	class_register(L, FILEBOX_MT, filebox_close, NULL, NULL);
}

static const char *kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a file";
}

/* nil, "'path': not a regular file (a FIFO)", EISDIR or EINVAL. */
static int not_regular(lua_State *L, const char *path, mode_t mode)
{
	lua_pushnil(L);
	lua_pushfstring(L, "'%s': not a regular file (%s)", path, kind_of(mode));
	lua_pushinteger(L, S_ISDIR(mode) ? EISDIR : EINVAL);
	return 3;
}

/* nil, "'path': larger than N bytes", EFBIG. */
static int too_big(lua_State *L, const char *path, lua_Integer max)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", (long long)max);
	lua_pushnil(L);
	lua_pushfstring(L, "'%s': larger than %s bytes", path, n);
	lua_pushinteger(L, EFBIG);
	return 3;
}

static int failed(lua_State *L, const char *path, int err)
{
	return push_error(L, lua_pushfstring(L, "'%s'", path), err);
}

/* Room for the next read: as much as the Lua version's buffer gives. */
#if LUA_VERSION_NUM == 501
#define READ_CHUNK ((size_t)LUAL_BUFFERSIZE)
#define prep_chunk(b) luaL_prepbuffer(b)
#else
#define READ_CHUNK ((size_t)65536)
#define prep_chunk(b) luaL_prepbuffsize((b), READ_CHUNK)
#endif

int l_read_file(lua_State *L)
{
	size_t plen, got = 0, limit;
	const char *path = luaL_checklstring(L, 1, &plen);
	lua_Integer max = luaL_checkinteger(L, 2);
	struct filebox *b;
	struct stat st;
	luaL_Buffer buf;
	int err = 0;

	if (strlen(path) != plen)
		return luaL_argerror(L, 1, "path contains a NUL byte");
	luaL_argcheck(L, max >= 0 && (unsigned long long)max < (unsigned long long)SIZE_MAX, 2,
		      "a size in bytes >= 0 expected");
	limit = (size_t)max;
	lua_settop(L, 2);

	/* Nothing but a regular file is opened. */
	if (stat(path, &st) != 0)
		return failed(L, path, errno);
	if (!S_ISREG(st.st_mode))
		return not_regular(L, path, st.st_mode);
	if (st.st_size > 0 && (unsigned long long)st.st_size > (unsigned long long)limit)
		return too_big(L, path, max);

	/* The box exists before the descriptor does: an error raised from here
	 * on (memory) leaves the descriptor to its __gc. */
	b = (struct filebox *)lua_newuserdatauv(L, sizeof(*b), 0);
	b->fd = -1;
	luaL_getmetatable(L, FILEBOX_MT);
	lua_setmetatable(L, -2);
	b->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (b->fd < 0)
		return failed(L, path, errno);
	if (fstat(b->fd, &st) != 0) {
		err = errno;
		filebox_release(b);
		return failed(L, path, err);
	}
	if (!S_ISREG(st.st_mode)) {
		filebox_release(b);
		return not_regular(L, path, st.st_mode);
	}

	luaL_buffinit(L, &buf);
	for (;;) {
		char *p = prep_chunk(&buf);
		size_t want = READ_CHUNK;
		ssize_t n;

		/* one byte past the limit tells a file of exactly max bytes from
		 * a longer one */
		if (want > limit - got + 1)
			want = limit - got + 1;
		n = read(b->fd, p, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (n == 0)
			break;
		luaL_addsize(&buf, (size_t)n);
		got += (size_t)n;
		if (got > limit)
			break;
	}
	filebox_release(b);
	/* An abandoned buffer is garbage like any other: the answer goes on
	 * top of it. */
	if (err != 0)
		return failed(L, path, err);
	if (got > limit)
		return too_big(L, path, max);
	luaL_pushresult(&buf);
	return 1;
}
