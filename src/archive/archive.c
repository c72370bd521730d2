/*
 * archive: a commit's tree as a .tar.gz, byte for byte the tar `git archive`
 * writes (see tar.h), gzip-compressed on a second thread (see gzpipe.h).
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
#include "git/config.h"
#include "archive/gzpipe.h"
#include "archive/subst.h"
#include "archive/tar.h"
#include "util/util.h"

/*
 * Blobs up to this size are read whole; larger ones are streamed, which is
 * also faster: a whole read of a big blob pays for fresh pages twice.
 */
#define ARCHIVE_BIG_BLOB (1u << 20)

struct pending_dir {
	size_t len; /* of its path, trailing slash included */
	git_oid id;
};

struct archiver {
	git_repository *repo; /* our own instance: its index is kept empty */
	git_commit *commit;
	git_odb *odb;
	struct attrs attrs;
	struct gzpipe *gz;
	struct tar tar;
	unsigned umask;
	struct buf path;
	/* Directories entered but not written yet (see put_pending_dirs). */
	struct pending_dir *pending;
	size_t nr_pending, alloc_pending;
};

static int put_header(struct archiver *ar, enum tar_type type, unsigned perm, uint64_t size,
		      const char *link, const git_oid *id)
{
	return tar_header(&ar->tar, type, ar->path.ptr, perm, size, link, id);
}

static int put_data(void *ctx, const void *data, size_t len)
{
	struct archiver *ar = ctx;

	return tar_data(&ar->tar, data, len);
}

static int put_dir(struct archiver *ar, const git_oid *id)
{
	return put_header(ar, TAR_DIR, 0777 & ~ar->umask, 0, NULL, id);
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

		ar->path.ptr[at] = '\0';
		r = put_dir(ar, &ar->pending[i].id);
		ar->path.ptr[at] = c;
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

static int missing_object(struct archiver *ar, const git_oid *id, const char *what)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	err_set("cannot archive '%s': %s %s is missing from the repository", ar->path.ptr, what, hex);
	err_hint("the repository is corrupt or incomplete; 'git fsck' lists what is missing");
	return -1;
}

static int read_object(git_odb_object **out, struct archiver *ar, const git_oid *id)
{
	int r = git_odb_read(out, ar->odb, id);

	if (r == GIT_ENOTFOUND)
		return missing_object(ar, id, "blob");
	if (r < 0)
		return err_git("cannot read '%s'", ar->path.ptr);
	return 0;
}

static int put_symlink(struct archiver *ar, const git_oid *id)
{
	git_odb_object *obj = NULL;
	char *target;
	int r;

	if (read_object(&obj, ar, id))
		return -1;
	target = xstrndup(git_odb_object_data(obj), git_odb_object_size(obj));
	r = put_header(ar, TAR_SYMLINK, 0777, 0, target, id);
	free(target);
	git_odb_object_free(obj);
	return r;
}

/* Writes size bytes of data: whole when given, else streamed from the blob. */
static int put_blob(struct archiver *ar, const git_oid *id, unsigned perm, size_t size,
		    const void *data)
{
	git_odb_object *obj = NULL;
	int r = put_header(ar, TAR_FILE, perm, size, NULL, id);

	if (r)
		return r;
	if (data)
		r = put_data(ar, data, size);
	else if (size > ARCHIVE_BIG_BLOB)
		r = blob_stream(ar->repo, id, ar->path.ptr, size, put_data, ar);
	else if (!(r = read_object(&obj, ar, id)))
		r = put_data(ar, git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	return r ? r : tar_end_data(&ar->tar);
}

static int put_substituted(struct archiver *ar, const git_oid *id, unsigned perm)
{
	git_odb_object *obj = NULL;
	struct buf out = BUF_INIT;
	int r;

	if (read_object(&obj, ar, id))
		return -1;
	r = subst_expand(&out, ar->repo, ar->commit, git_odb_object_data(obj),
			 git_odb_object_size(obj));
	if (!r)
		r = put_blob(ar, id, perm, out.len, out.ptr ? out.ptr : "");
	buf_release(&out);
	git_odb_object_free(obj);
	return r;
}

static int put_file(struct archiver *ar, const git_tree_entry *te, int subst)
{
	const git_oid *id = git_tree_entry_id(te);
	git_filemode_t mode = git_tree_entry_filemode(te);
	unsigned perm = (mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) & ~ar->umask;
	git_object_t type;
	size_t size;
	int r;

	if (mode == GIT_FILEMODE_LINK)
		return put_symlink(ar, id);
	if (subst)
		return put_substituted(ar, id, perm);
	/* the size first: only small blobs may be read whole */
	r = git_odb_read_header(&size, &type, ar->odb, id);
	if (r == GIT_ENOTFOUND)
		return missing_object(ar, id, "blob");
	if (r < 0)
		return err_git("cannot read '%s'", ar->path.ptr);
	return put_blob(ar, id, perm, size, NULL);
}

static int walk_tree(struct archiver *ar, git_tree *tree);

static int put_subtree(struct archiver *ar, const git_oid *id)
{
	git_tree *sub = NULL;
	int r = git_tree_lookup(&sub, ar->repo, id);

	if (r == GIT_ENOTFOUND)
		return missing_object(ar, id, "tree");
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
	int ignore = 0, subst = 0;

	buf_puts(&ar->path, git_tree_entry_name(te));
	if (mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_COMMIT)
		buf_putc(&ar->path, '/');
	if (mode != GIT_FILEMODE_TREE && put_pending_dirs(ar))
		return -1;
	if (attrs_get(&ignore, &subst, &ar->attrs, ar->path.ptr))
		return -1;
	if (ignore)
		return 0;
	if (mode == GIT_FILEMODE_TREE)
		return put_subtree(ar, git_tree_entry_id(te));
	/* a submodule is an empty directory, as git archive writes it */
	if (mode == GIT_FILEMODE_COMMIT)
		return put_dir(ar, git_tree_entry_id(te));
	return put_file(ar, te, subst);
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
			err_set("bad tar.umask '%s': expected an octal number like 022, or 'user'", v);
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
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)(8u << 20));
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)(32u << 20));
}

int archive_commit(git_repository *repo, git_commit *commit, archive_sink_fn sink, void *ctx)
{
	struct archiver ar = { 0 };
	git_tree *tree = NULL;
	int ret = -1;

	archive_limit_mmap();
	if (read_umask(&ar.umask, repo) || open_private(&ar, repo, commit) ||
	    attrs_init(&ar.attrs, ar.repo, git_commit_id(ar.commit)) ||
	    gzpipe_start(&ar.gz, sink, ctx))
		goto out;
	tar_init(&ar.tar, gzpipe_write, ar.gz, (time_t)git_commit_time(commit));
	if (git_commit_tree(&tree, ar.commit) < 0) {
		err_git("cannot read the tree of the commit");
		goto out;
	}
	buf_grow(&ar.path, 256);
	if (tar_global_header(&ar.tar, git_commit_id(ar.commit)) || walk_tree(&ar, tree) ||
	    tar_finish(&ar.tar) || gzpipe_finish(ar.gz))
		goto out;
	ret = 0;
out:
	gzpipe_free(ar.gz);
	attrs_release(&ar.attrs);
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
