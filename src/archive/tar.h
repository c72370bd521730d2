/*
 * tar: the tar stream git archive writes, byte for byte: ustar headers (name
 * split into prefix/name when it fits), pax extended headers only for what
 * ustar cannot hold (long paths and link targets, sizes of 8 GiB and more),
 * uid/gid 0 "root", 10240-byte records. Writing it ourselves keeps names as
 * raw bytes (no charset conversion, no hdrcharset records stock tar warns
 * about) and makes the output reproducible.
 *
 * The bytes go to out() in chunks of up to TAR_BUFFER; out returns 0, or
 * non-zero (having set the error) to stop.
 */
#ifndef ARCHIVE_TAR_H
#define ARCHIVE_TAR_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TAR_BUFFER (64u << 10)

typedef int (*tar_out_fn)(void *ctx, const void *data, size_t len);

struct tar {
	tar_out_fn out;
	void *ctx;
	time_t mtime;
	uint64_t offset; /* bytes produced so far */
	size_t used;
	char *buffer;
};

void tar_init(struct tar *t, tar_out_fn out, void *ctx, time_t mtime);
void tar_release(struct tar *t);

/* git's pax global header: "comment=<commit id>" (git get-tar-commit-id). */
int tar_global_header(struct tar *t, const git_oid *commit);

enum tar_type {
	TAR_FILE = '0',
	TAR_SYMLINK = '2',
	TAR_DIR = '5'
};

/*
 * One entry's header. mode is the permission bits; size counts only for
 * files; link is the symlink target; id names the object in the names git
 * invents for pax headers. The data (files only) follows with tar_data().
 */
int tar_header(struct tar *t, enum tar_type type, const char *path, unsigned mode, uint64_t size,
	       const char *link, const git_oid *id);
int tar_data(struct tar *t, const void *data, size_t len);
/* Pads the data just written to the 512-byte block. */
int tar_end_data(struct tar *t);
/* The end-of-archive blocks, up to a whole 10240-byte record, and the flush. */
int tar_finish(struct tar *t);

#endif
