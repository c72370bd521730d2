/*
 * gzpipe: gzip compression on helper threads, so that reading objects and
 * compressing share the cores. The producer hands bytes to gzpipe_write();
 * the helper threads compress them and call the sink, one call at a time, in
 * order (from whichever helper finished the next piece).
 *
 * One gzip member, deflated by zlib directly rather than by libarchive's
 * gzip filter (DESIGN.md's "libarchive does compression"), in pieces of
 * 256 KiB that the helpers compress side by side, as pigz does: each piece
 * is a deflate stream of its own, primed with the 32 KiB before it as the
 * dictionary (so it compresses almost as one stream would) and ended at a
 * byte boundary (a sync flush); an empty final block and the CRC-32 of the
 * whole, combined from the pieces', close the member. Compressing is most of
 * an archive's work on a real tree, and one thread alone would set its pace.
 *
 * The level is chosen per piece: level 1 for what compresses and stored
 * blocks for what does not (random or already compressed data: weights,
 * images), something libarchive's filter cannot do. Deflating
 * incompressible data costs several times a copy and gains nothing, so a
 * large binary file archives at the speed of reading it while text and code
 * still compress as before.
 *
 * The stream is deterministic: the same input gives the same bytes, whatever
 * the number of helpers and their timing, with no timestamp in the gzip
 * header. The uploader relies on it (see upload.h).
 *
 * Errors of the sink or of the compressor are reported back to the
 * producer's thread (the message only; hints set by the sink are lost).
 */
#ifndef ARCHIVE_GZPIPE_H
#define ARCHIVE_GZPIPE_H

#include <stddef.h>

#include "archive/archive.h"

struct gzpipe;

/* threads: the helper threads that compress, at least 1. 0, or -1 with err_set. */
int gzpipe_start(struct gzpipe **out, unsigned threads, archive_sink_fn sink, void *ctx);
/* Queues len bytes. 0, or -1 with err_set when a helper has failed. */
int gzpipe_write(void *pipe, const void *data, size_t len);
/* Flushes, writes the gzip trailer and joins the threads. 0, or -1 with err_set. */
int gzpipe_finish(struct gzpipe *p);
/*
 * Stops the threads if they run (without a gzip trailer: a partial stream
 * must not look complete) and frees everything. NULL is fine.
 */
void gzpipe_free(struct gzpipe *p);

#endif
