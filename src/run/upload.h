/*
 * upload: the code of a commit into S3, keyed by the commit, streamed.
 *
 * upload_commit() puts the archive of a commit (archive.h) at its place in
 * the layout (layout.h: <train.prefix>/<repo>/<sha>/code.tar.gz in
 * train.bucket) unless it is already there, through s3-upload.h's
 * streaming uploader.
 *
 * "Already there" needs no download and no hashing: the archive is a pure
 * function of the commit, tar.umask and the archiver's format (UPLOAD_FORMAT),
 * and the object records all three as metadata (x-amz-meta-git-train-commit,
 * -umask, -format). One HEAD request decides (a 403 to it counts as absent:
 * the upload then says what is wrong); an object whose metadata differs
 * (another tar.umask, an older git-train) is replaced.
 */
#ifndef RUN_UPLOAD_H
#define RUN_UPLOAD_H

#include <git2.h>

#include "aws/client.h"
#include "git/config.h"
#include "run/layout.h"
#include "services/s3-upload.h"

/* Bump whenever the archive of a commit changes bytes (compression, tar layout). */
#define UPLOAD_FORMAT "2"

struct upload_target {
	struct layout layout;
	const char *bucket; /* layout.bucket */
	char *key;
	char *uri;    /* s3://bucket/key */
	char *commit; /* full hex SHA */
	char *short_id;
	char *umask; /* the effective tar.umask, "0002" */
};

/*
 * Where the code of commit goes. -1 with err_set and the fix
 * (`git config train.bucket <name>`) when train.bucket is unset.
 */
int upload_target_init(struct upload_target *out, const struct config *cfg, git_repository *repo,
		       const git_commit *commit);
void upload_target_release(struct upload_target *t);

/*
 * Uploads the archive of commit to t unless it is already there.
 * 0 with *out_skipped 1 (nothing sent, one HEAD) or 0 (uploaded, *out
 * filled); -1 with err_set.
 */
int upload_commit(struct s3_upload_stats *out, int *out_skipped, struct aws_client *c,
		  git_repository *repo, git_commit *commit, const struct upload_target *t,
		  const struct s3_upload_opts *opts);

/*
 * What an upload did, for a progress line: "code for <short> is already in
 * <uri>", "uploaded code for <short>: 1.5 MiB, 0.4 s" or "... in 4 parts, 2.1 s".
 */
void upload_describe(struct buf *out, const struct upload_target *t,
		     const struct s3_upload_stats *st, int skipped);

#endif
