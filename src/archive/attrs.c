/*
 * attrs: see attrs.h. What counts as "mentions" errs on the side of asking:
 * any mark in any case, any attribute file that cannot be read or is
 * not a regular file, any .gitattributes that is not a blob. Asking costs
 * time, never correctness.
 */
#include "archive/attrs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

const char *const attrs_archive_marks[] = {
	"export-", "ident", "filter", "crlf", "encoding", NULL
};

static int mentions_one(const char *mark, const char *data, size_t len)
{
	size_t n = strlen(mark), i, j;

	for (i = 0; i + n <= len; i++) {
		for (j = 0; j < n; j++) {
			char c = data[i + j];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != mark[j])
				break;
		}
		if (j == n)
			return 1;
	}
	return 0;
}

static int mentions(const char *const *marks, const char *data, size_t len)
{
	const char *const *m;

	for (m = marks; *m; m++)
		if (mentions_one(*m, data, len))
			return 1;
	return 0;
}

/* A file outside the tree: 0 when it is absent or does not mention the mark. */
static int file_mentions(const char *const *marks, const char *path)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int r;

	if (stat(path, &st))
		return errno != ENOENT && errno != ENOTDIR;
	if (!S_ISREG(st.st_mode))
		return 1;
	if (read_file(&b, path)) {
		err_clear();
		return 1;
	}
	r = mentions(marks, b.ptr, b.len);
	buf_release(&b);
	return r;
}

/* name in every directory of a libgit2 search path (a ':'-separated list). */
static int search_path_mentions(const char *const *marks, int level, const char *name)
{
	git_buf list = { 0 };
	const char *p, *end;
	int r = 0;

	if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, level, &list) < 0) {
		git_error_clear();
		return 1;
	}
	for (p = list.ptr; !r && p && *p; p = *end ? end + 1 : end) {
		char *path;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			continue;
		path = xstrfmt("%.*s/%s", (int)(end - p), p, name);
		r = file_mentions(marks, path);
		free(path);
	}
	git_buf_dispose(&list);
	return r;
}

static int config_file_mentions(const char *const *marks, git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf path = { 0 };
	int r;

	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		git_error_clear();
		return 1;
	}
	r = git_config_get_path(&path, cfg, "core.attributesfile");
	if (r == GIT_ENOTFOUND)
		r = 0;
	else if (r < 0)
		r = 1;
	else
		r = file_mentions(marks, path.ptr);
	git_error_clear();
	git_buf_dispose(&path);
	git_config_free(cfg);
	return r;
}

static int info_file_mentions(const char *const *marks, git_repository *repo)
{
	git_buf dir = { 0 };
	char *path;
	int r;

	if (git_repository_item_path(&dir, repo, GIT_REPOSITORY_ITEM_INFO) < 0) {
		git_error_clear();
		return 1;
	}
	path = xstrfmt("%s%sattributes", dir.ptr,
		       dir.size && dir.ptr[dir.size - 1] == '/' ? "" : "/");
	r = file_mentions(marks, path);
	free(path);
	git_buf_dispose(&dir);
	return r;
}

int attrs_init(struct attrs *a, git_repository *repo, const git_oid *commit,
	       const char *const *marks)
{
	memset(a, 0, sizeof(*a));
	a->repo = repo;
	a->marks = marks;
	a->opts.version = GIT_ATTR_OPTIONS_VERSION;
	a->opts.flags = GIT_ATTR_CHECK_INDEX_ONLY | GIT_ATTR_CHECK_INCLUDE_COMMIT;
	git_oid_cpy(&a->opts.attr_commit_id, commit);
	if (!marks) {
		a->outside = 1;
		return 0;
	}
	/* the sources libgit2 reads besides the tree (attr.c: collect_attr_files) */
	a->outside = info_file_mentions(marks, repo) || config_file_mentions(marks, repo) ||
		     search_path_mentions(marks, GIT_CONFIG_LEVEL_XDG, "attributes") ||
		     search_path_mentions(marks, GIT_CONFIG_LEVEL_SYSTEM, "gitattributes");
	return 0;
}

static int tree_file_mentions(int *out, struct attrs *a, git_tree *tree, const char *path)
{
	const git_tree_entry *te = git_tree_entry_byname(tree, ".gitattributes");
	git_blob *blob = NULL;
	int r;

	*out = 0;
	if (!te)
		return 0;
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		*out = 1;
		return 0;
	}
	r = git_blob_lookup(&blob, a->repo, git_tree_entry_id(te));
	if (r == GIT_ENOTFOUND) {
		/* libgit2 is asked, and says what is missing as it always did */
		git_error_clear();
		*out = 1;
		return 0;
	}
	if (r < 0)
		return err_git("cannot read '%s.gitattributes'", path);
	*out = mentions(a->marks, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

int attrs_enter(struct attrs *a, git_tree *tree, const char *path)
{
	int above = a->depth ? a->mentioned[a->depth - 1] : a->outside, here = 0;

	if (!above && tree_file_mentions(&here, a, tree, path))
		return -1;
	if (a->depth == a->alloc) {
		a->alloc = a->alloc ? 2 * a->alloc : 16;
		a->mentioned = xrealloc(a->mentioned, a->alloc);
	}
	a->mentioned[a->depth++] = (unsigned char)(above || here);
	return 0;
}

void attrs_leave(struct attrs *a)
{
	if (a->depth)
		a->depth--;
}

int attrs_get(struct attrs_values *out, struct attrs *a, const char *path)
{
	static const char *names[] = { "export-ignore", "export-subst",
				       "text",		"eol",
				       "crlf",		"ident",
				       "filter",	"working-tree-encoding" };
	const char *values[8];

	memset(out, 0, sizeof(*out));
	if (a->depth && !a->mentioned[a->depth - 1])
		return 0;
	if (git_attr_get_many_ext(values, a->repo, &a->opts, path, 8, names) < 0)
		return err_git("cannot read the attributes of '%s'", path);
	out->ignore = GIT_ATTR_IS_TRUE(values[0]);
	out->subst = GIT_ATTR_IS_TRUE(values[1]);
	out->text = values[2];
	out->eol = values[3];
	out->crlf = values[4];
	out->ident = values[5];
	out->filter = values[6];
	out->encoding = values[7];
	return 0;
}

void attrs_release(struct attrs *a)
{
	free(a->mentioned);
	a->mentioned = NULL;
	a->depth = a->alloc = 0;
}
