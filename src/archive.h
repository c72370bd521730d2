/*
 * archive: the compressed tar of exactly one commit's tree, the code a run uses.
 *
 * The entries match `git archive <commit>`: same paths, file modes (after
 * tar.umask, default 002), directory entries, symlinks stored as symlinks (never
 * followed), submodules as empty directories, `export-ignore` paths left out
 * and `export-subst` placeholders expanded, attributes read from the archived
 * tree itself. The stream is gzip (stock `tar xzf` reads it) at a fast level.
 *
 * Memory does not grow with the number or size of files: the tree is walked
 * depth-first and each blob is streamed to the sink in chunks.
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <git2.h>
#include <stddef.h>

/* Receives the compressed bytes in order. Returns 0, or non-zero to abort. */
typedef int (*archive_sink_fn)(void *ctx, const void *data, size_t len);

/* 0, or -1 with err_set (naming the path and object of a missing blob). */
int archive_commit(git_repository *repo, git_commit *commit, archive_sink_fn sink, void *ctx);

/* archive_commit() into a file descriptor. */
int archive_commit_to_fd(git_repository *repo, git_commit *commit, int fd);

/*
 * Extracts a .tar.gz made by archive_commit() into dir (which must exist).
 * Refuses entries that would land outside dir. 0, or -1 with err_set.
 */
int archive_extract(const char *tarball, const char *dir);

#endif
