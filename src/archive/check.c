/*
 * check: archive_check() (archive.h), what the archive needs of this machine,
 * known before anything is written or launched: every filter driver a
 * path of the tree names (filter=<driver>, export-ignore honoured) can run
 * here, and the Git LFS objects the commit's pointers name are here. The walk
 * reads trees (and LFS pointers) only, and attributes only where an
 * attribute file mentions "filter" (attrs.h).
 */
#include "archive/archive.h"

#include <errno.h>
#include <git2/sys/repository.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/attrs.h"
#include "archive/convert.h"
#include "util/util.h"

static const char *const marks[] = { "filter", "export-", NULL };

struct checker {
	git_repository *repo; /* private, its index empty, as the archiver's */
	struct attrs attrs;
	struct convert conv;
	struct buf path;
	char *lfs_objects; /* where Git LFS keeps its objects; NULL: not checked */
};

/* lfs.storage (relative to the common git directory), else <git dir>/lfs; then objects/. */
static int lfs_objects_dir(struct checker *c)
{
	const char *common = git_repository_commondir(c->repo);
	const char *skip = getenv("GIT_LFS_SKIP_SMUDGE");
	char *storage = NULL;
	int r;

	/* git-lfs then writes the pointers: no object is needed */
	if (skip && *skip && strcmp(skip, "0") && strcmp(skip, "false"))
		return 0;
	r = config_get_string_or(&storage, &c->conv.cfg, "lfs.storage", NULL);
	if (r < 0)
		return -1;
	if (!storage)
		c->lfs_objects = xstrfmt("%slfs/objects", common);
	else if (storage[0] == '/')
		c->lfs_objects = xstrfmt("%s/objects", storage);
	else
		c->lfs_objects = xstrfmt("%s%s/objects", common, storage);
	free(storage);
	return 0;
}

/*
 * A Git LFS pointer's object must be here: the archive is made here, from
 * what is here, before anything is launched (a smudge that would download
 * it could fail after an instance started). A blob that is no pointer is
 * what git-lfs writes as it is.
 */
static int lfs_object_present(struct checker *c, const git_tree_entry *te)
{
	static const char mark[] = "\noid sha256:";
	git_blob *blob = NULL;
	const char *data, *oid;
	struct stat st;
	size_t len;
	char *file;
	int ret = 0;

	if (!c->lfs_objects || git_blob_lookup(&blob, c->repo, git_tree_entry_id(te)) < 0) {
		git_error_clear();
		return 0;
	}
	data = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	if (len > 1024 || len < 100 || strncmp(data, "version https://git-lfs", 23) ||
	    !(oid = memmem(data, len, mark, sizeof(mark) - 1)) ||
	    (size_t)(oid + sizeof(mark) - 1 + 64 - data) > len)
		goto out;
	oid += sizeof(mark) - 1;
	file = xstrfmt("%s/%.2s/%.2s/%.64s", c->lfs_objects, oid, oid + 2, oid);
	if (stat(file, &st) && errno == ENOENT) {
		err_set("cannot archive '%s': its Git LFS object (sha256 %.12s) is not in this "
			"repository",
			c->path.ptr, oid);
		err_hint("get the objects of the commit with: git lfs fetch <remote> <commit> "
			 "(git lfs pull for the one checked out)");
		ret = -1;
	}
	free(file);
out:
	git_blob_free(blob);
	return ret;
}

static int check_tree(struct checker *c, git_tree *tree);

static int check_entry(struct checker *c, const git_tree_entry *te)
{
	git_filemode_t mode = git_tree_entry_filemode(te);
	struct convert_plan plan;
	struct attrs_values v;
	git_tree *sub = NULL;
	int r;

	if (mode == GIT_FILEMODE_COMMIT || mode == GIT_FILEMODE_LINK)
		return 0;
	buf_puts(&c->path, git_tree_entry_name(te));
	if (mode == GIT_FILEMODE_TREE)
		buf_putc(&c->path, '/');
	if (attrs_get(&v, &c->attrs, c->path.ptr))
		return -1;
	if (v.ignore)
		return 0;
	if (mode != GIT_FILEMODE_TREE) {
		if (!v.filter || convert_plan(&plan, &c->conv, &v, c->path.ptr))
			return v.filter ? -1 : 0;
		if (plan.driver && !strcmp(plan.driver->name, "lfs"))
			return lfs_object_present(c, te);
		return 0;
	}
	/* a missing tree is the archiver's to report, with its own words */
	if (git_tree_lookup(&sub, c->repo, git_tree_entry_id(te)) < 0) {
		git_error_clear();
		return 0;
	}
	r = check_tree(c, sub);
	git_tree_free(sub);
	return r;
}

static int check_tree(struct checker *c, git_tree *tree)
{
	size_t base = c->path.len, i, n = git_tree_entrycount(tree);
	int r = attrs_enter(&c->attrs, tree, c->path.ptr);

	if (r)
		return r;
	for (i = 0; !r && i < n; i++) {
		r = check_entry(c, git_tree_entry_byindex(tree, i));
		c->path.len = base;
		c->path.ptr[base] = '\0';
	}
	attrs_leave(&c->attrs);
	return r;
}

int archive_check(git_repository *repo, git_commit *commit)
{
	struct checker c = { 0 };
	git_index *index = NULL;
	git_tree *tree = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = -1;

	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	if (git_repository_open_bare(&c.repo, git_repository_path(repo)) < 0 ||
	    git_index_new(&index) < 0 || git_repository_set_index(c.repo, index) < 0 ||
	    git_tree_lookup(&tree, c.repo, git_commit_tree_id(commit)) < 0) {
		err_git("cannot read the tree to archive");
		goto out;
	}
	if (convert_init(&c.conv, repo, hex) || lfs_objects_dir(&c) ||
	    attrs_init(&c.attrs, c.repo, git_commit_id(commit), marks))
		goto out;
	buf_grow(&c.path, 256);
	ret = check_tree(&c, tree);
out:
	attrs_release(&c.attrs);
	convert_release(&c.conv);
	buf_release(&c.path);
	free(c.lfs_objects);
	git_tree_free(tree);
	git_index_free(index);
	git_repository_free(c.repo);
	return ret;
}
