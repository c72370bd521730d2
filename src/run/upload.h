/*
 * upload: the code of a commit into S3, keyed by the commit, streamed.
 *
 * upload_commit() puts the archive of a commit (archive.h) at
 *   s3://<train.bucket>/<train.prefix>/<repo>/<commit-sha>/code.tar.gz
 * unless it is already there. train.prefix defaults to "git-train"; <repo> is
 * the last path component of the `origin` remote's URL without ".git", else
 * the name of the working tree's directory (of the git directory when bare),
 * so that clones of one repository share their uploads.
 *
 * "Already there" needs no download and no hashing: the archive is a pure
 * function of the commit, tar.umask and the archiver's format (UPLOAD_FORMAT),
 * and the object records all three as metadata (x-amz-meta-git-train-commit,
 * -umask, -format). One HEAD request decides (a 403 to it counts as absent:
 * the upload then says what is wrong); an object whose metadata differs
 * (another tar.umask, an older git-train) is replaced.
 *
 * upload_stream() is the engine, usable for any object: the producer's bytes
 * fill parts of UPLOAD_PART_SIZE; a short object goes in one PUT, a longer
 * one as a multipart upload whose parts a few worker threads send in
 * parallel, each on its own connection. At most jobs parts exist at once,
 * so memory stays flat whatever the size. Each part is signed with its
 * SHA-256 and carries its CRC32 (see s3.h), so S3 rejects a corrupted one.
 * Any failure, or the cancel flag (set from a SIGINT/SIGTERM handler),
 * aborts the multipart upload: no incomplete upload is left behind to be
 * billed.
 */
#ifndef RUN_UPLOAD_H
#define RUN_UPLOAD_H

#include <git2.h>
#include <signal.h>
#include <stdint.h>

#include "archive/archive.h"
#include "aws/client.h"
#include "git/config.h"

#define UPLOAD_PART_SIZE (8u << 20)
#define UPLOAD_JOBS 4
/* Bump whenever the archive of a commit changes bytes (compression, tar layout). */
#define UPLOAD_FORMAT "2"

struct upload_opts {
	const volatile sig_atomic_t *cancel; /* non-zero: stop and abort; may be NULL */
	const char *progress_title; /* progress bar on a TTY with this title; NULL: none */
	uint64_t size_hint;	    /* expected size for the progress bar, 0: unknown */
	int jobs;		    /* parallel parts; 0: UPLOAD_JOBS */
	size_t part_size;	    /* 0: UPLOAD_PART_SIZE */
};

struct upload_stats {
	uint64_t bytes; /* bytes uploaded (0 when skipped) */
	int parts;	/* 0 for a single PUT or a skip */
	double seconds;
};

/* Writes the object's bytes, in order, through sink. 0, or -1 with err_set. */
typedef int (*upload_producer_fn)(void *ctx, archive_sink_fn sink, void *sink_ctx);

/*
 * Streams produce()'s bytes to bucket/key with metadata meta (names without
 * x-amz-meta-). 0, or -1 with err_set("cannot upload '<name>': ...");
 * after a cancel the message says "interrupted".
 */
int upload_stream(struct upload_stats *out, struct aws_client *c, const char *bucket,
		  const char *key, const struct aws_header *meta, size_t nr_meta,
		  upload_producer_fn produce, void *ctx, const struct upload_opts *opts);

struct upload_target {
	char *bucket;
	char *key;
	char *uri;    /* s3://bucket/key */
	char *commit; /* full hex SHA */
	char *short_id;
	char *umask;  /* the effective tar.umask, "0002" */
};

/*
 * Where the code of commit goes. -1 with err_set and the fix
 * (`git config train.bucket <name>`) when train.bucket is unset.
 */
int upload_target_init(struct upload_target *out, const struct config *cfg,
		       git_repository *repo, const git_commit *commit);
void upload_target_release(struct upload_target *t);

/* The repository's name in keys (see above); caller frees. */
char *upload_repo_name(git_repository *repo, const struct config *cfg);

/*
 * Uploads the archive of commit to t unless it is already there.
 * 0 with *out_skipped 1 (nothing sent, one HEAD) or 0 (uploaded, *out
 * filled); -1 with err_set.
 */
int upload_commit(struct upload_stats *out, int *out_skipped, struct aws_client *c,
		  git_repository *repo, git_commit *commit, const struct upload_target *t,
		  const struct upload_opts *opts);

#endif
