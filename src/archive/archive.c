/*
 * archive: a commit's tree as a .tar.gz, byte for byte the tar `git archive`
 * writes (see tar.h), its blobs read ahead on helper threads (readahead.h)
 * and the tar gzip-compressed on others (gzpipe.h).
 */
#include "archive/archive.h"

#include <errno.h>
#include <git2/sys/repository.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/attrs.h"
#include "archive/blob-stream.h"
#include "archive/convert.h"
#include "archive/gzpipe.h"
#include "archive/readahead.h"
#include "archive/spool.h"
#include "archive/subst.h"
#include "archive/tar.h"
#include "git/config.h"
#include "util/util.h"

/*
 * Blobs up to this size are read whole; larger ones are streamed, which is
 * also faster: a whole read of a big blob pays for fresh pages twice.
 */
#define ARCHIVE_BIG_BLOB (1u << 20)
/*
 * Blobs read ahead and not yet written hold at most this much, whatever the
 * number of threads: enough to keep the readers ahead of the writer.
 */
#define ARCHIVE_READAHEAD_BUDGET (2u << 20)
/* Threads reading objects by default, the caller's included (see archive.h). */
#define ARCHIVE_THREADS_MAX 4

struct pending_dir {
	size_t len; /* of its path, trailing slash included */
	git_oid id;
};

/* One tar entry, queued in archive order while its blob is read ahead. */
struct entry {
	enum tar_type type;
	unsigned perm;
	int subst;
	struct convert_plan plan; /* files only */
	git_oid id;
	char path[]; /* NUL-terminated */
};

struct archiver {
	git_repository *repo; /* our own instance: its index is kept empty */
	git_commit *commit;
	git_odb *odb;
	struct attrs attrs;
	struct convert conv;
	struct spool spool; /* a converted file's content */
	struct readahead *ra;
	struct gzpipe *gz;
	struct tar tar;
	unsigned umask;
	struct buf path;
	/* Directories entered but not written yet (see put_pending_dirs). */
	struct pending_dir *pending;
	size_t nr_pending, alloc_pending;
};

static int missing_object(const char *path, const git_oid *id, const char *what)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	err_set("cannot archive '%s': %s %s is missing from the repository", path, what, hex);
	err_hint("the repository is corrupt or incomplete; 'git fsck' lists what is missing");
	return -1;
}

/* The writing side: the oldest queued entry into the tar. */

static int put_data(void *ctx, const void *data, size_t len)
{
	struct archiver *ar = ctx;

	return tar_data(&ar->tar, data, len);
}

/* The blob whole: as read ahead, or read here when it was too big for that. */
static int whole_blob(git_odb_object **out, struct archiver *ar, struct entry *e,
		      struct readahead_item *item)
{
	int r;

	if (item->obj) {
		*out = item->obj;
		item->obj = NULL;
		return 0;
	}
	r = git_odb_read(out, ar->odb, &e->id);
	if (r == GIT_ENOTFOUND)
		return missing_object(e->path, &e->id, "blob");
	if (r < 0)
		return err_git("cannot read '%s'", e->path);
	return 0;
}

static int put_symlink(struct archiver *ar, struct entry *e, struct readahead_item *item)
{
	git_odb_object *obj = NULL;
	char *target;
	int r;

	if (whole_blob(&obj, ar, e, item))
		return -1;
	target = xstrndup(git_odb_object_data(obj), git_odb_object_size(obj));
	r = tar_header(&ar->tar, TAR_SYMLINK, e->path, 0777, 0, target, &e->id);
	free(target);
	git_odb_object_free(obj);
	return r;
}

static int put_substituted(struct archiver *ar, struct entry *e, struct readahead_item *item)
{
	git_odb_object *obj = NULL;
	struct buf out = BUF_INIT;
	int r;

	if (whole_blob(&obj, ar, e, item))
		return -1;
	r = subst_expand(&out, ar->repo, ar->commit, git_odb_object_data(obj),
			 git_odb_object_size(obj));
	if (!r)
		r = tar_header(&ar->tar, TAR_FILE, e->path, e->perm, out.len, NULL, &e->id);
	if (!r)
		r = put_data(ar, out.ptr ? out.ptr : "", out.len);
	buf_release(&out);
	git_odb_object_free(obj);
	return r ? r : tar_end_data(&ar->tar);
}

static int append_to_buf(void *ctx, const void *data, size_t len)
{
	buf_add(ctx, data, len);
	return 0;
}

/*
 * A file that a conversion changes (convert.h): the result is spooled, as
 * its size goes into the header before it. export-subst then works on it
 * whole, as git's does.
 */
static int put_converted(struct archiver *ar, struct entry *e, struct readahead_item *item)
{
	git_odb_object *obj = NULL;
	struct buf whole = BUF_INIT, out = BUF_INIT;
	int r;

	if (whole_blob(&obj, ar, e, item))
		return -1;
	r = convert_apply(&ar->spool, &ar->conv, &e->plan, e->path, &e->id,
			  git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	if (!r && e->subst) {
		r = spool_replay(&ar->spool, append_to_buf, &whole);
		if (!r)
			r = subst_expand(&out, ar->repo, ar->commit, whole.ptr, whole.len);
		buf_release(&whole);
		if (!r)
			r = tar_header(&ar->tar, TAR_FILE, e->path, e->perm, out.len, NULL, &e->id);
		if (!r)
			r = put_data(ar, out.ptr ? out.ptr : "", out.len);
		buf_release(&out);
	} else if (!r) {
		r = tar_header(&ar->tar, TAR_FILE, e->path, e->perm, ar->spool.size, NULL, &e->id);
		if (!r)
			r = spool_replay(&ar->spool, put_data, ar);
	}
	spool_reset(&ar->spool);
	return r ? -1 : tar_end_data(&ar->tar);
}

static int put_blob(struct archiver *ar, struct entry *e, struct readahead_item *item)
{
	int r = tar_header(&ar->tar, TAR_FILE, e->path, e->perm, item->size, NULL, &e->id);

	if (r)
		return r;
	if (item->obj)
		r = put_data(ar, git_odb_object_data(item->obj), git_odb_object_size(item->obj));
	else
		r = blob_stream(ar->repo, &e->id, e->path, item->size, put_data, ar);
	return r ? r : tar_end_data(&ar->tar);
}

static int put_entry(struct archiver *ar, struct entry *e, struct readahead_item *item)
{
	if (item->error == GIT_ENOTFOUND)
		return missing_object(e->path, &e->id, "blob");
	if (item->error)
		return err_set("cannot read '%s'%s%s", e->path, item->msg ? ": " : "",
			       item->msg ? item->msg : "");
	if (e->type == TAR_DIR)
		return tar_header(&ar->tar, TAR_DIR, e->path, e->perm, 0, NULL, &e->id);
	if (e->type == TAR_SYMLINK)
		return put_symlink(ar, e, item);
	/* as git archive: a blob over core.bigFileThreshold is streamed as it is */
	if (!convert_plan_empty(&e->plan) &&
	    (e->subst || item->size <= ar->conv.big_file_threshold))
		return put_converted(ar, e, item);
	if (e->subst)
		return put_substituted(ar, e, item);
	return put_blob(ar, e, item);
}

/* Writes the oldest queued entry. 0, 1 when none is left, or -1 with err_set. */
static int write_next(struct archiver *ar)
{
	struct readahead_item item;
	int r = readahead_next(&item, ar->ra);

	if (r)
		return r;
	r = put_entry(ar, item.payload, &item);
	free(item.payload);
	readahead_item_release(&item);
	return r < 0 ? -1 : 0;
}

/* The walking side: entries queued in the order git archive writes them. */

static int queue_entry(struct archiver *ar, enum tar_type type, unsigned perm, int subst,
		       const struct convert_plan *plan, const git_oid *id)
{
	static const struct convert_plan none = { CONVERT_CRLF_BINARY, 0, NULL, NULL };
	struct entry *e;

	if (readahead_full(ar->ra) && write_next(ar))
		return -1;
	e = xmalloc(sizeof(*e) + ar->path.len + 1);
	e->type = type;
	e->perm = perm;
	e->subst = subst;
	e->plan = plan ? *plan : none;
	git_oid_cpy(&e->id, id);
	memcpy(e->path, ar->path.ptr, ar->path.len + 1);
	readahead_queue(ar->ra, id, type != TAR_DIR, e);
	return 0;
}

static int put_dir(struct archiver *ar, const git_oid *id)
{
	return queue_entry(ar, TAR_DIR, 0777 & ~ar->umask, 0, NULL, id);
}

/*
 * git archive writes a directory when the first non-directory inside it comes
 * (even one that is export-ignored), so a directory holding only ignored
 * directories is left out.
 */
static int put_pending_dirs(struct archiver *ar)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < ar->nr_pending; i++) {
		size_t at = ar->pending[i].len;
		char c = ar->path.ptr[at];
		size_t len = ar->path.len;

		ar->path.ptr[at] = '\0';
		ar->path.len = at;
		r = put_dir(ar, &ar->pending[i].id);
		ar->path.ptr[at] = c;
		ar->path.len = len;
	}
	ar->nr_pending = 0;
	return r;
}

static void push_pending_dir(struct archiver *ar, const git_oid *id)
{
	if (ar->nr_pending == ar->alloc_pending) {
		ar->alloc_pending = ar->alloc_pending ? 2 * ar->alloc_pending : 16;
		ar->pending = xrealloc(ar->pending, ar->alloc_pending * sizeof(*ar->pending));
	}
	ar->pending[ar->nr_pending].len = ar->path.len;
	git_oid_cpy(&ar->pending[ar->nr_pending].id, id);
	ar->nr_pending++;
}

static int put_file(struct archiver *ar, const git_tree_entry *te, const struct attrs_values *v)
{
	git_filemode_t mode = git_tree_entry_filemode(te);
	unsigned perm = (mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) & ~ar->umask;
	struct convert_plan plan;

	if (mode == GIT_FILEMODE_LINK)
		return queue_entry(ar, TAR_SYMLINK, 0777, 0, NULL, git_tree_entry_id(te));
	if (convert_plan(&plan, &ar->conv, v, ar->path.ptr))
		return -1;
	return queue_entry(ar, TAR_FILE, perm, v->subst, &plan, git_tree_entry_id(te));
}

static int walk_tree(struct archiver *ar, git_tree *tree);

static int put_subtree(struct archiver *ar, const git_oid *id)
{
	git_tree *sub = NULL;
	int r = git_tree_lookup(&sub, ar->repo, id);

	if (r == GIT_ENOTFOUND)
		return missing_object(ar->path.ptr, id, "tree");
	if (r < 0)
		return err_git("cannot read '%s'", ar->path.ptr);
	push_pending_dir(ar, id);
	r = walk_tree(ar, sub);
	/* still pending: nothing was written inside, so it is not written either */
	if (ar->nr_pending && ar->pending[ar->nr_pending - 1].len == ar->path.len)
		ar->nr_pending--;
	git_tree_free(sub);
	return r;
}

static int put_tree_entry(struct archiver *ar, const git_tree_entry *te)
{
	git_filemode_t mode = git_tree_entry_filemode(te);
	struct attrs_values v;

	buf_puts(&ar->path, git_tree_entry_name(te));
	if (mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_COMMIT)
		buf_putc(&ar->path, '/');
	if (mode != GIT_FILEMODE_TREE && put_pending_dirs(ar))
		return -1;
	if (attrs_get(&v, &ar->attrs, ar->path.ptr))
		return -1;
	if (v.ignore)
		return 0;
	if (mode == GIT_FILEMODE_TREE)
		return put_subtree(ar, git_tree_entry_id(te));
	/* a submodule is an empty directory, as git archive writes it */
	if (mode == GIT_FILEMODE_COMMIT)
		return put_dir(ar, git_tree_entry_id(te));
	return put_file(ar, te, &v);
}

/* Depth-first in tree order, as git archive goes: only the current path's trees are held. */
static int walk_tree(struct archiver *ar, git_tree *tree)
{
	size_t base = ar->path.len, i, n = git_tree_entrycount(tree);
	int r = attrs_enter(&ar->attrs, tree, ar->path.ptr);

	if (r)
		return r;
	for (i = 0; !r && i < n; i++) {
		r = put_tree_entry(ar, git_tree_entry_byindex(tree, i));
		ar->path.len = base;
		ar->path.ptr[base] = '\0';
	}
	attrs_leave(&ar->attrs);
	return r;
}

/* The whole walk, then what is still queued. */
static int write_tree(struct archiver *ar, git_tree *tree)
{
	int r;

	if (walk_tree(ar, tree))
		return -1;
	while (!(r = write_next(ar)))
		;
	return r < 0 ? -1 : 0;
}

/* GIT_TRAIN_ARCHIVE_THREADS, else the CPUs online up to ARCHIVE_THREADS_MAX. */
static int read_threads(unsigned *out)
{
	const char *v = getenv("GIT_TRAIN_ARCHIVE_THREADS");
	char *end;
	long n;

	if (!v || !*v) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		*out = n < 1 ? 1 : n > ARCHIVE_THREADS_MAX ? ARCHIVE_THREADS_MAX : (unsigned)n;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (end == v || *end || n < 1 || n > 64)
		return err_set("bad GIT_TRAIN_ARCHIVE_THREADS '%s': expected a number from 1 to 64",
			       v);
	*out = (unsigned)n;
	return 0;
}

/* tar.umask: an octal number (git reads it with base 0) or "user". Default 002. */
static int read_umask(unsigned *out, git_repository *repo)
{
	struct config cfg;
	char *v = NULL, *end;
	long n;
	int r;

	*out = 002;
	if (config_load(&cfg, repo))
		return -1;
	r = config_get_string(&v, &cfg, "tar.umask");
	config_release(&cfg);
	if (r < 0)
		return -1;
	if (r == 1)
		return 0;
	if (!strcmp(v, "user")) {
		mode_t m = umask(0);

		umask(m);
		*out = m;
	} else {
		n = strtol(v, &end, 0);
		if (end == v || *end || n < 0) {
			err_set("bad tar.umask '%s': expected an octal number like 022, or 'user'",
				v);
			err_hint("fix it with: git config tar.umask 022");
			free(v);
			return -1;
		}
		*out = (unsigned)n & 07777;
	}
	free(v);
	return 0;
}

/* A private instance with an empty index: attributes come from the commit only. */
static int open_private(struct archiver *ar, git_repository *repo, git_commit *commit)
{
	git_index *index = NULL;
	int r;

	if (git_repository_open_bare(&ar->repo, git_repository_path(repo)) < 0)
		return err_git("cannot open the repository");
	r = git_index_new(&index);
	if (!r)
		r = git_repository_set_index(ar->repo, index);
	git_index_free(index);
	if (r < 0)
		return err_git("cannot set up the archive");
	if (git_repository_odb(&ar->odb, ar->repo) < 0)
		return err_git("cannot open the object database");
	if (git_commit_lookup(&ar->commit, ar->repo, git_commit_id(commit)) < 0)
		return err_git("cannot read the commit to archive");
	return 0;
}

void archive_limit_mmap(void)
{
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)(4u << 20));
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)(16u << 20));
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
}

int archive_commit(git_repository *repo, git_commit *commit, archive_sink_fn sink, void *ctx)
{
	struct archiver ar = { 0 };
	git_tree *tree = NULL;
	unsigned threads = 1;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = -1;

	archive_limit_mmap();
	spool_init(&ar.spool);
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	if (read_threads(&threads) || read_umask(&ar.umask, repo) ||
	    open_private(&ar, repo, commit) || convert_init(&ar.conv, repo, hex) ||
	    attrs_init(&ar.attrs, ar.repo, git_commit_id(ar.commit), convert_marks(&ar.conv)) ||
	    readahead_start(&ar.ra, ar.repo, threads - 1, ARCHIVE_BIG_BLOB,
			    ARCHIVE_READAHEAD_BUDGET) ||
	    gzpipe_start(&ar.gz, threads, sink, ctx))
		goto out;
	tar_init(&ar.tar, gzpipe_write, ar.gz, (time_t)git_commit_time(commit));
	if (git_commit_tree(&tree, ar.commit) < 0) {
		err_git("cannot read the tree of the commit");
		goto out;
	}
	buf_grow(&ar.path, 256);
	if (tar_global_header(&ar.tar, git_commit_id(ar.commit)) || write_tree(&ar, tree) ||
	    tar_finish(&ar.tar) || gzpipe_finish(ar.gz))
		goto out;
	ret = 0;
out:
	/* the readers first: the queue's blobs and payloads go with them */
	readahead_free(ar.ra);
	gzpipe_free(ar.gz);
	attrs_release(&ar.attrs);
	convert_release(&ar.conv);
	spool_release(&ar.spool);
	tar_release(&ar.tar);
	git_tree_free(tree);
	buf_release(&ar.path);
	free(ar.pending);
	git_commit_free(ar.commit);
	git_odb_free(ar.odb);
	git_repository_free(ar.repo);
	return ret;
}

static int fd_sink(void *ctx, const void *data, size_t len)
{
	if (write_all(*(int *)ctx, data, len))
		return err_set("cannot write the archive: %s", strerror(errno));
	return 0;
}

int archive_commit_to_fd(git_repository *repo, git_commit *commit, int fd)
{
	return archive_commit(repo, commit, fd_sink, &fd);
}
