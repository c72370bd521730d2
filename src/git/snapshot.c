/*
 * snapshot: the working tree as a commit, like `git stash create`.
 *
 * The tree is built in the repository's in-memory index: the working tree's
 * changes are added to it, the tree is written from it, and it is then read
 * back from disk. The index file is never written, so its bytes and mtime,
 * and every ref, stay as they were; only blobs, trees and the commit are new.
 */
#include "git/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "git/repo.h"
#include "util/util.h"

/* Used when neither the environment nor user.name/user.email name anyone. */
#define FALLBACK_NAME  "git-train"
#define FALLBACK_EMAIL "git-train@localhost"

static int check_repo(git_repository *repo)
{
	char *branch;

	if (git_repository_is_bare(repo)) {
		err_set("--stash needs a working tree, and '%s' is a bare repository",
			git_repository_path(repo));
		err_hint(
			"run it in a clone with a working tree, or leave out --stash to use a commit");
		return -1;
	}
	if (git_repository_head_unborn(repo) != 1)
		return 0;
	branch = repo_branch_name(repo);
	err_set("cannot snapshot the working tree: HEAD has no commit yet (branch '%s' is unborn)",
		branch);
	err_hint(
		"a snapshot is made on top of a commit: git add train.py && git commit -m 'training code'");
	free(branch);
	return -1;
}

static int check_conflicts(git_index *idx)
{
	const git_index_entry *ancestor, *ours, *theirs;
	git_index_conflict_iterator *it = NULL;
	char *path = NULL;
	size_t n = 0;

	if (!git_index_has_conflicts(idx))
		return 0;
	if (git_index_conflict_iterator_new(&it, idx) < 0)
		return err_git("cannot read the conflicts in the index");
	while (!git_index_conflict_next(&ancestor, &ours, &theirs, it)) {
		const git_index_entry *e = ours ? ours : theirs ? theirs : ancestor;

		if (!path && e)
			path = xstrdup(e->path);
		n++;
	}
	git_index_conflict_iterator_free(it);
	err_set("cannot snapshot the working tree: %zu path%s unresolved conflicts (first: '%s')",
		n, n == 1 ? " has" : "s have", path ? path : "?");
	err_hint(
		"resolve them and mark them with 'git add <path>', or run a commit without --stash");
	free(path);
	return -1;
}

/*
 * Nested repositories show up as untracked directories: leave them out rather
 * than record an unrelated project's HEAD as a gitlink.
 */
static int is_directory_delta(const git_diff_delta *d)
{
	return d->new_file.mode == GIT_FILEMODE_TREE || d->new_file.mode == GIT_FILEMODE_COMMIT ||
	       ends_with(d->new_file.path, "/");
}

/* A sparse checkout leaves skip-worktree files out on purpose: not deletions. */
static int is_skip_worktree(git_index *idx, const char *path)
{
	const git_index_entry *e = git_index_get_bypath(idx, path, 0);

	return e && (e->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
}

static int apply_delta(git_index *idx, const git_diff_delta *d)
{
	const char *path = d->new_file.path;

	switch (d->status) {
	case GIT_DELTA_DELETED:
		path = d->old_file.path;
		if (is_skip_worktree(idx, path))
			return 0;
		if (git_index_remove_bypath(idx, path) < 0)
			return err_git("cannot drop deleted file '%s' from the snapshot", path);
		return 0;
	case GIT_DELTA_UNTRACKED:
		if (is_directory_delta(d))
			return 0;
		/* fall through */
	case GIT_DELTA_MODIFIED:
	case GIT_DELTA_TYPECHANGE:
	case GIT_DELTA_ADDED:
		if (git_index_add_bypath(idx, path) < 0)
			return err_git("cannot add '%s' to the snapshot", path);
		return 0;
	default:
		return 0;
	}
}

/*
 * Adds the working tree's changes to idx, as `git add -u` (plus `git add -A`
 * for untracked files) would. Submodules are ignored: the gitlink the index
 * already has is kept, and nothing is recursed into.
 */
static int add_worktree_changes(git_index *idx, git_repository *repo, int include_untracked)
{
	git_diff_options opts;
	git_diff *diff = NULL;
	size_t i, n;
	int ret = -1;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_IGNORE_SUBMODULES;
	opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
	if (include_untracked)
		opts.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
	if (git_diff_index_to_workdir(&diff, repo, idx, &opts) < 0) {
		err_git("cannot compare the working tree with the index");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++)
		if (apply_delta(idx, git_diff_get_delta(diff, i)))
			goto out;
	ret = 0;
out:
	git_diff_free(diff);
	return ret;
}

/* Writes the snapshot's tree into *out, using (and then restoring) the repository's index. */
static int build_tree(git_oid *out, git_repository *repo, int include_untracked)
{
	git_index *idx = NULL;
	int ret = -1;

	if (git_repository_index(&idx, repo) < 0)
		return err_git("cannot read the index");
	if (git_index_read(idx, 1) < 0) {
		err_git("cannot read the index");
		goto out;
	}
	if (check_conflicts(idx) || add_worktree_changes(idx, repo, include_untracked))
		goto out;
	if (git_index_write_tree(out, idx) < 0) {
		err_git("cannot write the snapshot's tree");
		goto out;
	}
	ret = 0;
out:
	/* Drop our additions: the repository's index must again be the file's. */
	if (git_index_read(idx, 1) < 0 && !ret)
		ret = err_git("cannot read the index back");
	git_index_free(idx);
	return ret;
}

/* Like git: the environment, then user.name/user.email, then a fixed identity. */
static int make_signature(git_signature **out, git_repository *repo, const char *who)
{
	char name_var[32], email_var[32];
	git_signature *def = NULL;
	const char *name, *email;
	int r;

	snprintf(name_var, sizeof(name_var), "GIT_%s_NAME", who);
	snprintf(email_var, sizeof(email_var), "GIT_%s_EMAIL", who);
	git_signature_default(&def, repo);
	name = getenv(name_var);
	if (!name || !*name)
		name = def ? def->name : FALLBACK_NAME;
	email = getenv(email_var);
	if (!email)
		email = def ? def->email : FALLBACK_EMAIL;
	r = git_signature_now(out, name, email);
	git_signature_free(def);
	if (r < 0)
		return err_git("cannot make the snapshot's %s identity",
			       !strcmp(who, "AUTHOR") ? "author" : "committer");
	return 0;
}

static char *snapshot_message(git_repository *repo, git_commit *head)
{
	char *branch = repo_branch_name(repo);
	char *short_id = repo_short_id(repo, git_commit_id(head));
	const char *subject = git_commit_summary(head);
	/* Named as git stash names its commits, so that `git log` reads alike. */
	char *msg = xstrfmt("git-train snapshot on %s: %s %s\n",
			    strcmp(branch, "HEAD") ? branch : "(no branch)", short_id,
			    subject ? subject : "");

	free(short_id);
	free(branch);
	return msg;
}

static int write_commit(git_oid *out, git_repository *repo, git_commit *head,
			const git_oid *tree_id)
{
	git_signature *author = NULL, *committer = NULL;
	git_tree *tree = NULL;
	char *msg = NULL;
	const git_commit *parents[1] = { head };
	int ret = -1;

	if (make_signature(&author, repo, "AUTHOR") ||
	    make_signature(&committer, repo, "COMMITTER"))
		goto out;
	if (git_tree_lookup(&tree, repo, tree_id) < 0) {
		err_git("cannot read the snapshot's tree");
		goto out;
	}
	msg = snapshot_message(repo, head);
	/* No ref to update: the commit exists only as an object. */
	if (git_commit_create(out, repo, NULL, author, committer, NULL, msg, tree, 1, parents) <
	    0) {
		err_git("cannot write the snapshot commit");
		goto out;
	}
	ret = 0;
out:
	free(msg);
	git_tree_free(tree);
	git_signature_free(committer);
	git_signature_free(author);
	return ret;
}

int snapshot_create(git_oid *out, git_repository *repo, int include_untracked)
{
	git_commit *head = NULL;
	git_oid tree_id;
	int ret = -1;

	if (check_repo(repo) || repo_resolve_commit(&head, repo, NULL))
		return -1;
	if (build_tree(&tree_id, repo, include_untracked))
		goto out;
	if (git_oid_equal(&tree_id, git_commit_tree_id(head))) {
		git_oid_cpy(out, git_commit_id(head));
		ret = 1;
		goto out;
	}
	if (write_commit(out, repo, head, &tree_id))
		goto out;
	ret = 0;
out:
	git_commit_free(head);
	return ret;
}

int snapshot_count_changes(size_t *out_tracked, size_t *out_untracked, git_repository *repo)
{
	git_status_options opts;
	git_status_list *list = NULL;
	size_t i, n;

	*out_tracked = 0;
	*out_untracked = 0;
	if (git_repository_is_bare(repo))
		return 0;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		     GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo, &opts) < 0)
		return err_git("cannot read the status of the working tree");
	n = git_status_list_entrycount(list);
	for (i = 0; i < n; i++) {
		unsigned int st = git_status_byindex(list, i)->status;

		if (st == GIT_STATUS_WT_NEW)
			(*out_untracked)++;
		else if (st != GIT_STATUS_CURRENT && !(st & GIT_STATUS_IGNORED))
			(*out_tracked)++;
	}
	git_status_list_free(list);
	return 0;
}

int snapshot_keep(git_repository *repo, const git_oid *snapshot)
{
	char hex[GIT_OID_HEXSZ + 1], name[64 + GIT_OID_HEXSZ];
	git_reference *ref = NULL;

	git_oid_tostr(hex, sizeof(hex), snapshot);
	snprintf(name, sizeof(name), "refs/train/snapshots/%s", hex);
	if (git_reference_create(&ref, repo, name, snapshot, 1,
				 "git-train: keep a snapshot that ran") < 0)
		return err_git("cannot keep the snapshot %s as %s", hex, name);
	git_reference_free(ref);
	return 0;
}
