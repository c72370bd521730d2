#include "git/repo.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int repo_open(git_repository **out)
{
	const char *ceil = getenv("GIT_CEILING_DIRECTORIES");
	int r;

	*out = NULL;
	if (getenv("GIT_DIR")) {
		r = git_repository_open_ext(
			out, getenv("GIT_DIR"),
			GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_FROM_ENV, NULL);
	} else {
		r = git_repository_open_ext(out, ".", GIT_REPOSITORY_OPEN_FROM_ENV, ceil);
	}
	if (r == GIT_ENOTFOUND) {
		err_set("not a git repository (or any of the parent directories): .git");
		err_hint(
			"run git-train inside the repository whose code you want to train, or 'git init' one");
		return -1;
	}
	if (r < 0)
		return err_git("cannot open the repository");
	return 0;
}

int repo_resolve_commit(git_commit **out, git_repository *repo, const char *rev)
{
	git_object *obj = NULL;
	int r;

	*out = NULL;
	if (!rev || !strcmp(rev, "HEAD")) {
		if (git_repository_head_unborn(repo) == 1) {
			char *branch = repo_branch_name(repo);

			err_set("HEAD has no commit yet (branch '%s' is unborn): nothing to train",
				branch);
			err_hint(
				"commit your training code first: git add train.py && git commit -m 'training code'");
			free(branch);
			return -1;
		}
		rev = "HEAD";
	}
	r = git_revparse_single(&obj, repo, rev);
	if (r == GIT_ENOTFOUND || r == GIT_EINVALIDSPEC || r == GIT_EAMBIGUOUS) {
		err_set("bad revision '%s'%s", rev,
			r == GIT_EAMBIGUOUS ? ": it is ambiguous"
					    : ": unknown revision or path not in the working tree");
		err_hint("name a commit: a branch, a tag, a SHA, or an expression like HEAD~1");
		return -1;
	}
	if (r < 0)
		return err_git("cannot resolve '%s'", rev);
	r = git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (r < 0)
		return err_set("'%s' does not name a commit", rev);
	return 0;
}

int repo_train_dir(char **out, git_repository *repo, const char *sub, int create)
{
	const char *common = git_repository_commondir(repo);
	size_t n = strlen(common);

	*out = xstrfmt("%s%strain%s%s", common, (n && common[n - 1] == '/') ? "" : "/",
		       sub ? "/" : "", sub ? sub : "");
	if (create && mkdir_p(*out, 0777)) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* A commit of repo without parents: a root. */
static int is_root(git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	int r = git_commit_lookup(&c, repo, id) == 0 && git_commit_parentcount(c) == 0;

	git_commit_free(c);
	return r;
}

/* The root kept by an earlier call, when it still is one. */
static int kept_root(git_oid *out, git_repository *repo, const char *path)
{
	struct buf b = BUF_INIT;
	int ok;

	ok = !read_file(&b, path) && b.len == GIT_OID_HEXSZ + 1 && b.ptr[GIT_OID_HEXSZ] == '\n' &&
	     strspn(b.ptr, "0123456789abcdef") == GIT_OID_HEXSZ &&
	     !git_oid_fromstrn(out, b.ptr, GIT_OID_HEXSZ) && is_root(repo, out);
	err_clear();
	buf_release(&b);
	return ok;
}

/* Walks HEAD's first parents to the root. 0, or -1 with err_set. */
static int walk_to_root(git_oid *out, git_repository *repo)
{
	git_commit *c = NULL, *parent;
	int r;

	if (git_repository_head_unborn(repo) == 1) {
		err_set("this repository has no commit yet");
		err_hint(
			"git-train names a repository by its first commit: commit something first");
		return -1;
	}
	if (repo_resolve_commit(&c, repo, NULL))
		return -1;
	while (git_commit_parentcount(c)) {
		r = git_commit_parent(&parent, c, 0);
		if (r < 0) {
			int shallow = git_repository_is_shallow(repo) == 1;

			git_commit_free(c);
			if (!shallow)
				return err_git("cannot walk the history to its first commit");
			err_set("this is a shallow clone: its first commit, which names the "
				"repository in S3 and in the instances' tags, is not here");
			err_hint("fetch the whole history once with 'git fetch --unshallow', or "
				 "set train.repo (see git-train(1))");
			return -1;
		}
		git_commit_free(c);
		c = parent;
	}
	git_oid_cpy(out, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

int repo_root_commit(git_oid *out, git_repository *repo)
{
	char *dir = NULL, *path;
	char hex[GIT_OID_HEXSZ + 2];

	repo_train_dir(&dir, repo, NULL, 0);
	path = xstrfmt("%s/root", dir);
	if (kept_root(out, repo, path))
		goto out;
	if (walk_to_root(out, repo)) {
		free(path);
		free(dir);
		return -1;
	}
	/* only a cache: a repository it cannot be written in walks again next time */
	git_oid_tostr(hex, sizeof(hex), out);
	strcat(hex, "\n");
	if (mkdir_p(dir, 0777) || write_file_atomic(path, hex, strlen(hex), 0666))
		err_clear();
out:
	free(path);
	free(dir);
	return 0;
}

int repo_has_commit(git_repository *repo, const char *hex, size_t len)
{
	git_commit *c = NULL;
	git_oid id;
	int r;

	if (len != GIT_OID_HEXSZ || strspn(hex, "0123456789abcdef") < len ||
	    git_oid_fromstrn(&id, hex, len))
		return 0;
	r = git_commit_lookup(&c, repo, &id) == 0;
	git_commit_free(c);
	return r;
}

char *repo_short_id(git_repository *repo, const git_oid *id)
{
	git_object *obj = NULL;
	git_buf b = { 0 };
	char *s;

	if (!git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) && !git_object_short_id(&b, obj)) {
		s = xstrdup(b.ptr);
	} else {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, 8, id);
		s = xstrdup(hex);
	}
	git_buf_dispose(&b);
	git_object_free(obj);
	return s;
}

char *repo_branch_name(git_repository *repo)
{
	git_reference *head = NULL;
	char *name;

	if (git_reference_lookup(&head, repo, "HEAD") < 0)
		return xstrdup("HEAD");
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *t = git_reference_symbolic_target(head), *s = t;

		skip_prefix(t, "refs/heads/", &s);
		name = xstrdup(s);
	} else {
		name = xstrdup("HEAD");
	}
	git_reference_free(head);
	return name;
}
