/*
 * readahead: the entries of an archive in their order, with their blobs read
 * ahead by helper threads. The caller queues entries as the tree walk finds
 * them and takes them back, oldest first, to write them: the order, and so
 * the archive's bytes, do not depend on which thread read what or when.
 *
 * Each helper thread reads through a repository handle of its own (libgit2 is
 * thread-safe with one git_repository per thread; the pack files themselves
 * are shared). A blob is read whole when it is at most whole_max bytes; a
 * bigger one comes back unread, to be streamed by the caller. Memory stays
 * bounded: at most READAHEAD_SLOTS entries are queued, and the blobs read and
 * not yet taken hold at most `budget` bytes (the oldest entry is always read,
 * whatever its size, so the queue never stalls).
 *
 * With no helper threads the caller's own thread reads each blob when it
 * takes the entry: the same entries, the same bytes. Even with helpers it
 * reads the oldest entry itself when no helper has started on it yet.
 *
 * Only the thread that called readahead_start() calls the other functions.
 */
#ifndef ARCHIVE_READAHEAD_H
#define ARCHIVE_READAHEAD_H

#include <git2.h>
#include <stddef.h>

#define READAHEAD_SLOTS 512

struct readahead;

/* One entry taken back from the queue. */
struct readahead_item {
	void *payload;	     /* as queued; the caller's again */
	git_odb_object *obj; /* the blob, read whole; NULL when too big or not read */
	size_t size;	     /* the blob's size, from its header (0 when not read) */
	int error;	     /* 0, GIT_ENOTFOUND, or another libgit2 error: see msg */
	char *msg;	     /* libgit2's message for error, if it gave one */
};

/*
 * threads: helper threads, 0 or more. The caller's reads go through repo's
 * object database, the helpers' through handles of their own on repo's
 * directory. 0, or -1 with err_set.
 */
int readahead_start(struct readahead **out, git_repository *repo, unsigned threads,
		    size_t whole_max, size_t budget);

/* True when the queue is full: take an entry before queueing the next. */
int readahead_full(const struct readahead *ra);

/*
 * Queues an entry (never when full). read: read blob id ahead; 0 for an
 * entry that only keeps its place (a directory). payload is the caller's, a
 * single malloc'd block (readahead_free() frees those never taken back).
 */
void readahead_queue(struct readahead *ra, const git_oid *id, int read, void *payload);

/*
 * Takes the oldest entry, waiting for its blob. 0 and *out filled, or 1
 * when the queue is empty. Release *out with readahead_item_release().
 */
int readahead_next(struct readahead_item *out, struct readahead *ra);
void readahead_item_release(struct readahead_item *item);

/* Stops the helper threads and frees what is left. NULL is fine. */
void readahead_free(struct readahead *ra);

#endif
