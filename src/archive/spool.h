/*
 * spool: bytes whose size must be known before they are written (a tar
 * header comes before the content), kept in memory while small and moved to
 * an unlinked temporary file (in $TMPDIR, else /tmp) once they pass
 * SPOOL_MEMORY, so that a filter's output of any size costs bounded memory.
 */
#ifndef ARCHIVE_SPOOL_H
#define ARCHIVE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define SPOOL_MEMORY (1u << 20)

struct spool {
	struct buf mem; /* the bytes, while they fit */
	int fd;		/* the temporary file once they did not, else -1 */
	uint64_t size;
};

void spool_init(struct spool *s);
void spool_release(struct spool *s);
/* Drops what was written; the spool is empty again. */
void spool_reset(struct spool *s);
/* 0, or -1 with err_set. */
int spool_write(struct spool *s, const void *data, size_t len);
/* Sends every byte written to fn, in chunks. 0, or what fn returned (non-zero). */
int spool_replay(struct spool *s, int (*fn)(void *ctx, const void *data, size_t len), void *ctx);

#endif
