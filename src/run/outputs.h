/*
 * outputs: a run's outputs brought back (`git train outputs`, and --download
 * when a run ends). Where they are comes from this clone's configuration
 * and the run id (layout.h), never from a note: a run on EC2's
 * <run prefix>outputs/ in S3, a local run's <run dir>/outputs.
 *
 * The names are the run's (its script, its instance wrote them): each is
 * checked before anything is written, and one that is absolute, has a ".."
 * (or "." or empty) component or a control character is refused, and
 * nothing is downloaded. Files are written under the destination directory
 * only, component by component without following a symbolic link
 * (O_NOFOLLOW): a symbolic link in the destination, where a directory or a
 * file of the outputs goes, is refused too.
 *
 * A file already there with the same size and checksum is skipped: the
 * checksum is the object's ETag when it is an MD5 (a single PUT, as the
 * runner's uploads are), else the SHA-256 the runner wrote in
 * outputs.sha256 (layout.h); a file with neither is downloaded again. A
 * local run's files are compared by their SHA-256. A download goes into
 * "<name>.part" first, renamed when it is complete and its checksum
 * matches; a .part left by an interrupted download is continued from its
 * end (a ranged GET), and started over once when the result does not match.
 */
#ifndef RUN_OUTPUTS_H
#define RUN_OUTPUTS_H

#include <stddef.h>

#include "aws/client.h"
#include "run/layout.h"
#include "util/ui.h"

struct outputs_file {
	char *name; /* relative to the outputs, '/' between components */
	long long size;
	char *md5; /* hex, from an ETag that is one; NULL otherwise */
};

struct outputs {
	struct outputs_file *v; /* sorted by name */
	size_t nr;
	/* local: the run directory's outputs; else S3 */
	char *local_dir;
	struct aws_client *client; /* borrowed */
	char *bucket, *prefix, *sums_key;
	/* outputs.sha256, read once when needed */
	int sums_loaded;
	char **sum_names, **sums;
	size_t nr_sums;
	/* local: files that are not regular files (symbolic links, ...), not copied */
	char **skipped;
	size_t nr_skipped;
};

/*
 * The outputs of a local run whose directory is run_dir, or of a run on EC2
 * whose prefix (layout.h) is run_prefix in bucket. No outputs is no error
 * (nr 0). 0, or -1 with err_set.
 */
int outputs_list_local(struct outputs *out, const char *run_dir);
int outputs_list_s3(struct outputs *out, struct aws_client *c, const char *bucket,
		    const char *run_prefix);
/*
 * The same for another of a run's directories (layout.h), such as its
 * checkpoints (LAYOUT_CHECKPOINTS): --resume-from copies them with
 * outputs_download(), with the same checks of their names.
 */
int outputs_list_local_item(struct outputs *out, const char *run_dir, enum layout_item item);
int outputs_list_s3_item(struct outputs *out, struct aws_client *c, const char *bucket,
			 const char *run_prefix, enum layout_item item);
void outputs_release(struct outputs *o);

/* 1 when name is safe to write under a directory (see above), else 0. */
int outputs_name_ok(const char *name);

struct outputs_stats {
	size_t fetched, skipped;
	long long bytes; /* transferred */
};

/*
 * Brings every output into dir (created when missing), with a progress
 * meter titled title on ui's status line. 0, or -1 with err_set (an
 * unsafe name: nothing is written; a failed transfer: what was fetched
 * stays, a .part continues next time).
 */
int outputs_download(struct outputs_stats *out, struct outputs *o, const char *dir,
		     const struct ui *ui, const char *title);

#endif
