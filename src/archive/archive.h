/*
 * archive: the compressed tar of exactly one commit's tree, the code a run uses.
 *
 * The tar inside is byte for byte what `git archive <commit>` writes: same
 * paths, file modes (after tar.umask, default 002), directory entries,
 * symlinks stored as symlinks (never followed), submodules as empty
 * directories, `export-ignore` paths left out
 * and `export-subst` placeholders expanded, files converted as a checkout
 * converts them (convert.h: `eol`/`text`/`crlf` with core.autocrlf and
 * core.eol, `ident`, `working-tree-encoding`, filter drivers' smudge, Git
 * LFS's above all), attributes read from the archived tree itself. The
 * stream is gzip (stock `tar xzf` reads it) at a fast level. The same
 * commit, settings and filters give the same bytes.
 *
 * Threads: the caller's thread walks the tree (depth-first, in tree order)
 * and writes the tar; helper threads read the blobs ahead (readahead.h, each
 * with a repository handle of its own) and others compress the tar, 256 KiB
 * pieces side by side (gzpipe.h). The archive's bytes do not depend on how
 * many threads there are or on their timing. GIT_TRAIN_ARCHIVE_THREADS=<n>
 * sets both how many threads read objects, the caller's included (1: it
 * alone), and how many compress; the default is the number of CPUs online,
 * at most 4. The sink is called on one of the compressing threads.
 *
 * Memory does not grow with the number or size of files: the walk holds only
 * the current path's trees; at most READAHEAD_SLOTS entries wait to be
 * written, the blobs read ahead holding at most 2 MiB whatever the number of
 * threads; blobs over 1 MiB are never held whole but streamed to the sink in
 * chunks when their turn comes; a filter's output over 1 MiB waits in a
 * temporary file (spool.h), not in memory; the compressors hold n + 2 pieces of
 * 256 KiB, in and out, for n threads; libgit2's pack windows are bounded too
 * (archive_limit_mmap()). Each thread still adds 1-3 MiB (its stack, its
 * zlib state, what its reads leave in malloc's arenas): on libgit2's own
 * repository (15.6k files, deltas of 16k commits) the peak RSS is about
 * 48 MiB with one thread and 56 MiB with four.
 */
#ifndef ARCHIVE_ARCHIVE_H
#define ARCHIVE_ARCHIVE_H

#include <git2.h>
#include <stddef.h>

/*
 * Receives the compressed bytes in order. Returns 0, or non-zero (after
 * err_set) to abort. It is called on the helper threads that compress while
 * the caller's thread reads the tree, never two calls at once; its error
 * message (not its hints) reaches archive_commit()'s caller.
 */
typedef int (*archive_sink_fn)(void *ctx, const void *data, size_t len);

/* 0, or -1 with err_set (naming the path and object of a missing blob). */
int archive_commit(git_repository *repo, git_commit *commit, archive_sink_fn sink, void *ctx);

/*
 * How libgit2 reads objects, for the whole process. libgit2 maps pack files
 * in 1 GiB windows and every page read stays resident, so memory would grow
 * with the pack: this bounds the mapped total (4 MiB windows, 16 MiB in all;
 * each thread reading objects holds a window of its own, and smaller
 * windows cost no more time). And libgit2 hashes every object it reads again
 * to check its name, up to a fifth of an archive's reading time; git archive
 * does not for the blobs it writes, and zlib's own checksums still catch
 * damaged data: this turns that off. Windows opened before stay as they
 * were: call it right after git_libgit2_init(), before any object is read;
 * archive_commit() calls it too, for later packs.
 */
void archive_limit_mmap(void);

/*
 * What archive_commit() needs of this machine, checked by a run before
 * anything is archived or launched: each filter driver that a path of the
 * commit's tree names can run here (for Git LFS: git-lfs is installed and
 * set up, and the objects the commit's pointers name are here, so that no
 * smudge has to download one). archive_commit() alone would fail only when
 * it reaches the file. 0, or -1 with err_set naming a path and saying how
 * to get what lacks.
 */
int archive_check(git_repository *repo, git_commit *commit);

/* archive_commit() into a file descriptor. */
int archive_commit_to_fd(git_repository *repo, git_commit *commit, int fd);

/*
 * Extracts a .tar.gz made by archive_commit() into dir (which must exist).
 * Refuses entries that would land outside dir. 0, or -1 with err_set.
 */
int archive_extract(const char *tarball, const char *dir);

#endif
