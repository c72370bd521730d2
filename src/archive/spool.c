/*
 * spool: see spool.h.
 */
#include "archive/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (256u << 10)

void spool_init(struct spool *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

void spool_reset(struct spool *s)
{
	buf_reset(&s->mem);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->size = 0;
}

void spool_release(struct spool *s)
{
	spool_reset(s);
	buf_release(&s->mem);
}

static int open_temp(struct spool *s)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	path = xstrfmt("%s/git-train-spool-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		err_set("cannot create a temporary file in '%s': %s", dir, strerror(errno));
		err_hint(
			"set TMPDIR to a writable directory with room for the largest filtered file");
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	s->fd = fd;
	return 0;
}

static int file_write(struct spool *s, const void *data, size_t len)
{
	if (write_all(s->fd, data, len))
		return err_set("cannot write a temporary file: %s", strerror(errno));
	return 0;
}

int spool_write(struct spool *s, const void *data, size_t len)
{
	if (s->fd < 0 && s->mem.len + len > SPOOL_MEMORY) {
		if (open_temp(s) || file_write(s, s->mem.ptr, s->mem.len))
			return -1;
		buf_release(&s->mem);
	}
	if (s->fd >= 0) {
		if (file_write(s, data, len))
			return -1;
	} else {
		buf_add(&s->mem, data, len);
	}
	s->size += len;
	return 0;
}

int spool_replay(struct spool *s, int (*fn)(void *ctx, const void *data, size_t len), void *ctx)
{
	uint64_t done = 0;
	char *chunk;
	int r = 0;

	if (s->fd < 0)
		return s->size ? fn(ctx, s->mem.ptr, s->mem.len) : 0;
	if (lseek(s->fd, 0, SEEK_SET) < 0)
		return err_set("cannot read a temporary file: %s", strerror(errno));
	chunk = xmalloc(CHUNK);
	while (!r && done < s->size) {
		ssize_t n = read(s->fd, chunk, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = err_set("cannot read a temporary file: %s",
				    n ? strerror(errno) : "it is shorter than written");
			break;
		}
		r = fn(ctx, chunk, (size_t)n);
		done += (size_t)n;
	}
	free(chunk);
	return r;
}
