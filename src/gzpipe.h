/*
 * gzpipe: gzip compression (libarchive's gzip filter, level 1) on a helper
 * thread, so that reading objects and compressing share the two cores.
 * The producer hands bytes to gzpipe_write(); the helper thread compresses
 * them and calls the sink, one call at a time, in order.
 *
 * Errors of the sink or of the compressor are reported back to the
 * producer's thread (the message only; hints set by the sink are lost).
 */
#ifndef GZPIPE_H
#define GZPIPE_H

#include <stddef.h>

#include "archive.h"

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
