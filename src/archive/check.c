/*
 * check: archive_check() (archive.h), what the archive needs of this machine,
 * known before anything is written or launched: every filter driver a
 * path of the tree names (filter=<driver>, export-ignore honoured) can run
 * here. The walk reads trees only, and attributes only where an attribute
 * file mentions "filter" (attrs.h).
 */
#include "archive/archive.h"

#include <git2/sys/repository.h>

#include "archive/attrs.h"
#include "archive/convert.h"
#include "util/util.h"

static const char *const marks[] = { "filter", "export-", NULL };

struct checker {
	git_repository *repo; /* private, its index empty, as the archiver's */
	struct attrs attrs;
	struct convert conv;
	struct buf path;
};

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
	if (mode != GIT_FILEMODE_TREE)
		return v.filter ? convert_plan(&plan, &c->conv, &v, c->path.ptr) : 0;
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
	if (convert_init(&c.conv, repo, hex) ||
	    attrs_init(&c.attrs, c.repo, git_commit_id(commit), marks))
		goto out;
	buf_grow(&c.path, 256);
	ret = check_tree(&c, tree);
out:
	attrs_release(&c.attrs);
	convert_release(&c.conv);
	buf_release(&c.path);
	git_tree_free(tree);
	git_index_free(index);
	git_repository_free(c.repo);
	return ret;
}
