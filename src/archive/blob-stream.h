/*
 * blob-stream: a blob's content in chunks, for blobs too big to hold in
 * memory. libgit2 streams loose objects only, so packed ones come from a
 * `git cat-file blob` child process. Memory stays at one chunk whatever the
 * blob's size.
 */
#ifndef ARCHIVE_BLOB_STREAM_H
#define ARCHIVE_BLOB_STREAM_H

#include <git2.h>
#include <stddef.h>

/* Receives the next chunk. Returns 0, or -1 (with err_set) to stop. */
typedef int (*blob_stream_fn)(void *ctx, const void *data, size_t len);

/*
 * Sends exactly size bytes of blob id to fn; path names the blob in
 * messages. 0, or -1 with err_set (a missing object names path and id).
 */
int blob_stream(git_repository *repo, const git_oid *id, const char *path, size_t size,
		blob_stream_fn fn, void *ctx);

#endif
