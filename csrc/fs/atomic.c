/* core.write_atomic: replaces a file so that a reader sees the old content
 * or the new, never half of it, and so that nothing planted beside it can
 * redirect the write.
 *
 * The directory is opened once and every later step is relative to that
 * descriptor. The temporary file gets a random name and is created with
 * O_CREAT | O_EXCL | O_NOFOLLOW: a symlink, FIFO or file already at that
 * name makes the create fail (and another name is tried), so no existing
 * file is ever opened, truncated or written. The data is written, synced,
 * and renamed over the target; rename replaces a symlink at the target
 * itself, never the file it points to. The mode, owner and group are the
 * target's when it is a regular file (the owner when the caller may give
 * it, the group when the caller belongs to it), else 0644 less the umask
 * and the caller's, as a plain create would give. A target that is neither
 * a regular file nor a symlink (a device, a FIFO, a directory) is refused
 * before anything is created. */
#include "fs/fs.h"
#include "record/push.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <linux/limits.h>

#define TEMP_TRIES 16

/* A random 16-hex-digit suffix; getrandom never blocks with GRND_NONBLOCK
 * and falls back on a counter mixed with the address of the stack. */
static void temp_suffix(char *out, unsigned int attempt)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&r ^
		    ((uint64_t)attempt * 0x9e3779b97f4a7c15ULL);
	snprintf(out, 17, "%016llx", (unsigned long long)r);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What a target that is not a regular file or a symlink is, for the
 * message refusing it. */
static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

/* The replaced file's owner and group on the temporary file, so that a
 * reader allowed in by its group (a textfile collector) still is. Only
 * root may give a file away: anyone else keeps the group when they belong
 * to it, and otherwise the file is theirs, as a plain create makes it.
 * Returns 0 or an errno. */
static int keep_owner(int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) == 0)
		return 0;
	if (errno != EPERM)
		return errno;
	if (fchown(fd, (uid_t)-1, st->st_gid) == 0 || errno == EPERM)
		return 0;
	return errno;
}

static int fail(lua_State *L, const char *path, const char *step, int err)
{
	return push_error(L, lua_pushfstring(L, "'%s': %s", path, step), err);
}

int l_write_atomic(lua_State *L)
{
	size_t len, plen;
	const char *path = luaL_checklstring(L, 1, &plen);
	const char *data = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &len);
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	char tmp[NAME_MAX + 1], suffix[17];
	struct stat st;
	size_t blen = strlen(base);
	mode_t mode = 0644;
	int dirfd, fd = -1, err, keep_mode = 0;
	unsigned int attempt;

	if (strlen(path) != plen)
		return luaL_argerror(L, 1, "path contains a NUL byte");
	if (blen == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return fail(L, path, "not a file name", EISDIR);

	/* The directory, opened once: the later steps cannot be redirected by
	 * a rename of a path component. */
	if (slash == NULL) {
		lua_pushliteral(L, ".");
	} else if (slash == path) {
		lua_pushliteral(L, "/");
	} else {
		lua_pushlstring(L, path, (size_t)(slash - path));
	}
	dirfd = open(lua_tostring(L, -1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		err = errno;
		if (err == ENOENT) {
			lua_pushnil(L);
			lua_pushfstring(L, "directory '%s' does not exist", lua_tostring(L, -2));
			lua_pushinteger(L, err);
			return 3;
		}
		return push_error(L, lua_pushfstring(L, "directory '%s'", lua_tostring(L, -1)), err);
	}

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(st.st_mode)) {
			mode = st.st_mode & 0777;
			keep_mode = 1;
		} else if (!S_ISLNK(st.st_mode)) {
			/* A device, FIFO, socket or directory is never replaced by
			 * a regular file: refused before anything is created. */
			close(dirfd);
			lua_pushnil(L);
			lua_pushfstring(L, "'%s': not a regular file (%s)", path, file_kind(st.st_mode));
			lua_pushinteger(L, S_ISDIR(st.st_mode) ? EISDIR : EEXIST);
			return 3;
		}
	}

	/* "." + up to 200 bytes of the name + ".tmp" + 16 hex digits: hidden,
	 * recognisable, and within NAME_MAX for any name. */
	if (blen > 200)
		blen = 200;
	for (attempt = 0; attempt < TEMP_TRIES; attempt++) {
		temp_suffix(suffix, attempt);
		snprintf(tmp, sizeof(tmp), ".%.*s.tmp%s", (int)blen, base, suffix);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
			    keep_mode ? 0600 : mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		close(dirfd);
		return fail(L, path, "cannot create a temporary file", err);
	}

	if (data == NULL) {
		/* A probe: the directory exists and takes a new file. */
		close(fd);
		(void)unlinkat(dirfd, tmp, 0);
		close(dirfd);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (keep_mode) {
		if ((err = keep_owner(fd, &st)) != 0)
			goto failed;
		/* after the chown, which may clear the set-id bits */
		if (fchmod(fd, mode) != 0) {
			err = errno;
			goto failed;
		}
	}
	if ((err = -write_all(fd, data, len)) != 0)
		goto failed;
	if (fsync(fd) != 0) {
		err = errno;
		goto failed;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = errno;
		goto failed;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, base) != 0) {
		err = errno;
		goto failed;
	}
	/* The rename itself reaches the disk; some file systems cannot sync a
	 * directory, which does not undo the rename. */
	(void)fsync(dirfd);
	close(dirfd);
	lua_pushboolean(L, 1);
	return 1;

failed:
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	close(dirfd);
	return fail(L, path, "write", err);
}
