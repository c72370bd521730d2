/*
 * gzpipe: gzip compression on a helper thread, so that reading objects and
 * compressing share the two cores. The producer hands bytes to
 * gzpipe_write(); the helper thread compresses them and calls the sink, one
 * call at a time, in order.
 *
 * One gzip member, deflated by zlib directly rather than by libarchive's
 * gzip filter (DESIGN.md's "libarchive does compression"): the level is
 * chosen per 256 KiB of input, level 1 for what compresses and stored
 * blocks for what does not (random or already compressed data: weights,
 * images), and libarchive's filter cannot change its level mid-stream.
 * Deflating incompressible data costs several times a copy and gains
 * nothing, so a large binary file archives at the speed of reading it while
 * text and code still compress as before.
 *
 * The stream is deterministic: the same input gives the same bytes, with no
 * timestamp in the gzip header. The uploader relies on it (see upload.h).
 *
 * Errors of the sink or of the compressor are reported back to the
 * producer's thread (the message only; hints set by the sink are lost).
 */
#ifndef ARCHIVE_GZPIPE_H
#define ARCHIVE_GZPIPE_H

#include <stddef.h>

#include "archive/archive.h"

struct gzpipe;

/* 0, or -1 with err_set. */
int gzpipe_start(struct gzpipe **out, archive_sink_fn sink, void *ctx);
/* Queues len bytes. 0, or -1 with err_set when the thread has failed. */
int gzpipe_write(void *pipe, const void *data, size_t len);
/* Flushes, writes the gzip trailer and joins the thread. 0, or -1 with err_set. */
int gzpipe_finish(struct gzpipe *p);
/*
 * Stops the thread if it runs (without a gzip trailer: a partial stream
 * must not look complete) and frees everything. NULL is fine.
 */
void gzpipe_free(struct gzpipe *p);

#endif
