/*
 * upload: the code of a commit into S3, keyed by the commit, streamed.
 *
 * upload_commit() puts the archive of a commit (archive.h) at its place in
 * the layout (layout.h: <train.prefix>/<repo>/<sha>/code.tar.gz in
 * train.bucket) unless it is already there, through s3-upload.h's
 * streaming uploader.
 *
 * The archive is a pure function of the commit, tar.umask, the conversions
 * that settings and filter drivers ask for (archive.h) and the archiver's
 * format (UPLOAD_FORMAT), so its SHA-256 is known before any
 * upload, and the runner checks the archive it downloads against it
 * (runner.h): whoever could write the object (a training run with the
 * instance role can) cannot hand another run other code.
 *
 * "Already there" is decided by what S3 computed from the object's bytes,
 * its stored SHA-256 checksum (s3.h), against the same checksum of the
 * archive made here without sending it; the metadata the object carries
 * (x-amz-meta-git-train-commit, -umask, -format) is only a claim and spares
 * that local archive when it is plainly another one. A 403 to the HEAD
 * counts as absent (the upload then says what is wrong); an object whose
 * metadata or checksum differs (another tar.umask, an older git-train, a
 * tampered archive) is replaced.
 */
#ifndef RUN_UPLOAD_H
#define RUN_UPLOAD_H

#include <git2.h>

#include "aws/client.h"
#include "git/config.h"
#include "run/layout.h"
#include "services/s3-upload.h"

/*
 * Bump whenever the archive of a commit changes bytes (compression, tar
 * layout; 3: files converted as a checkout converts them, Git LFS smudged).
 */
#define UPLOAD_FORMAT "3"

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

/* What upload_commit() did. */
enum {
	UPLOAD_SENT,	/* uploaded: nothing was there, or another archive */
	UPLOAD_SKIPPED, /* the same archive was there: nothing sent */
	UPLOAD_REPLACED /* uploaded over an object that claimed to be it but was not */
};

/*
 * Uploads the archive of commit to t unless it is already there.
 * 0 with *out_skipped UPLOAD_* and *out filled (out->sha256, the archive's
 * SHA-256, in every case; bytes, parts and time of the upload, or of the
 * local archive when skipped); -1 with err_set.
 */
int upload_commit(struct s3_upload_stats *out, int *out_skipped, struct aws_client *c,
		  git_repository *repo, git_commit *commit, const struct upload_target *t,
		  const struct s3_upload_opts *opts);

/*
 * What an upload did (skipped: UPLOAD_*), for a progress line: "code for
 * <short> is already in <uri>", "uploaded code for <short>: 1.5 MiB, 0.4 s"
 * or "... in 4 parts, 2.1 s", and " (replacing <uri>, whose checksum was
 * not the archive's)".
 */
void upload_describe(struct buf *out, const struct upload_target *t,
		     const struct s3_upload_stats *st, int skipped);

#endif
