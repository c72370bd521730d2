/*
 * upload: the code of a commit into S3 (see upload.h).
 */
#include "run/upload.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive.h"
#include "git/repo.h"
#include "services/s3.h"
#include "util/progress.h"

/* tar.umask as the archiver applies it (see archive.c), for the metadata. */
static char *effective_umask(const struct config *cfg)
{
	char *v = NULL, *end;
	unsigned long n = 002;
	int r = config_get_string(&v, cfg, "tar.umask");

	if (r == 0 && !strcmp(v, "user")) {
		mode_t m = umask(0);

		umask(m);
		n = m;
	} else if (r == 0) {
		n = strtoul(v, &end, 0);
		if (end == v || *end) { /* the archiver refuses it with the fix */
			free(v);
			return xstrdup("bad");
		}
	}
	err_clear();
	free(v);
	return xstrfmt("%04lo", n & 07777);
}

int upload_target_init(struct upload_target *out, const struct config *cfg, git_repository *repo,
		       const git_commit *commit)
{
	char hex[GIT_OID_HEXSZ + 1];

	memset(out, 0, sizeof(*out));
	if (layout_init(&out->layout, cfg, repo))
		return -1;
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	out->bucket = out->layout.bucket;
	out->key = layout_code_key(&out->layout, hex);
	out->uri = s3_uri(out->bucket, out->key);
	out->commit = xstrdup(hex);
	out->short_id = repo_short_id(repo, git_commit_id(commit));
	out->umask = effective_umask(cfg);
	return 0;
}

void upload_target_release(struct upload_target *t)
{
	layout_release(&t->layout);
	free(t->key);
	free(t->uri);
	free(t->commit);
	free(t->short_id);
	free(t->umask);
	memset(t, 0, sizeof(*t));
}

struct commit_producer {
	git_repository *repo;
	git_commit *commit;
};

static int produce_archive(void *ctx, s3_upload_sink_fn sink, void *sink_ctx)
{
	struct commit_producer *cp = ctx;

	return archive_commit(cp->repo, cp->commit, sink, sink_ctx);
}

static int add_blob_size(const char *root, const git_tree_entry *e, void *ctx)
{
	void **args = ctx;
	git_odb *odb = args[0];
	uint64_t *total = args[1];
	size_t size;
	git_object_t type;

	(void)root;
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    !git_odb_read_header(&size, &type, odb, git_tree_entry_id(e)))
		*total += size + 512; /* and its tar header */
	return 0;
}

/* The tree's size before compression, for the progress bar's estimate; 0 if unknown. */
static uint64_t estimate_size(git_repository *repo, git_commit *commit)
{
	git_tree *tree = NULL;
	git_odb *odb = NULL;
	uint64_t total = 0;
	void *args[2];

	if (!git_commit_tree(&tree, commit) && !git_repository_odb(&odb, repo)) {
		args[0] = odb;
		args[1] = &total;
		git_tree_walk(tree, GIT_TREEWALK_PRE, add_blob_size, args);
	}
	git_odb_free(odb);
	git_tree_free(tree);
	return total;
}

/*
 * Same commit, same tar.umask, same archiver: the object claims to hold the
 * same bytes. A claim only (whoever can write the object can write its
 * metadata), which spares the local archive when it is plainly outdated.
 */
static int claims_current(const struct s3_object *o, const struct upload_target *t)
{
	const char *commit = s3_object_meta(o, "git-train-commit");
	const char *mask = s3_object_meta(o, "git-train-umask");
	const char *format = s3_object_meta(o, "git-train-format");

	return commit && !strcmp(commit, t->commit) && mask && !strcmp(mask, t->umask) && format &&
	       !strcmp(format, UPLOAD_FORMAT) && o->checksum_sha256;
}

int upload_commit(struct s3_upload_stats *out, int *out_skipped, struct aws_client *c,
		  git_repository *repo, git_commit *commit, const struct upload_target *t,
		  const struct s3_upload_opts *opts)
{
	struct aws_header meta[] = {
		{ "git-train-commit", t->commit },
		{ "git-train-umask", t->umask },
		{ "git-train-format", UPLOAD_FORMAT },
	};
	struct commit_producer cp = { repo, commit };
	struct s3_upload_opts o = *opts;
	struct s3_object obj;
	int r, replacing = 0;

	memset(out, 0, sizeof(*out));
	*out_skipped = UPLOAD_SENT;
	r = s3_head_object(&obj, c, t->bucket, t->key);
	if (r < 0) {
		char *msg = xstrdup(err_msg());

		err_set("cannot upload '%s': %s", strrchr(t->key, '/') + 1, msg);
		free(msg);
		return -1;
	}
	if (r == 0 && claims_current(&obj, t)) {
		/* what S3 keeps is computed from the bytes it holds: it decides */
		if (s3_upload_digest(out, produce_archive, &cp, &o)) {
			s3_object_release(&obj);
			return -1;
		}
		if (s3_upload_matches(out, obj.checksum_sha256, obj.size))
			*out_skipped = UPLOAD_SKIPPED;
		replacing = 1;
	}
	s3_object_release(&obj);
	if (*out_skipped == UPLOAD_SKIPPED)
		return 0;
	if (o.progress_title && !o.size_hint && ui_live(o.ui))
		o.size_hint = estimate_size(repo, commit);
	r = s3_upload_stream(out, c, t->bucket, t->key, meta, ARRAY_SIZE(meta), produce_archive,
			     &cp, &o);
	if (r && strstr(err_msg(), ": NoSuchBucket: "))
		err_hint(
			"create it (aws s3 mb s3://%s) or name another: git config train.bucket <name>",
			t->bucket);
	if (!r && replacing)
		*out_skipped = UPLOAD_REPLACED;
	return r;
}

void upload_describe(struct buf *out, const struct upload_target *t,
		     const struct s3_upload_stats *st, int skipped)
{
	char size[32];

	if (skipped == UPLOAD_SKIPPED) {
		buf_printf(out, "code for %s is already in %s", t->short_id, t->uri);
		return;
	}
	progress_format_bytes(size, sizeof(size), st->bytes);
	if (st->parts)
		buf_printf(out, "uploaded code for %s: %s in %d parts, %.1f s", t->short_id, size,
			   st->parts, st->seconds);
	else
		buf_printf(out, "uploaded code for %s: %s, %.1f s", t->short_id, size, st->seconds);
	if (skipped == UPLOAD_REPLACED)
		buf_printf(out, " (replacing %s, whose checksum was not the archive's)", t->uri);
}
