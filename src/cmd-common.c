#include "cmd-common.h"

#include <stdio.h>
#include <stdlib.h>

#include "repo.h"
#include "snapshot.h"
#include "util.h"

int code_opts_check(const struct code_opts *o)
{
	if (o->rev && o->stash) {
		msg_error("--rev and --stash cannot be used together");
		return -1;
	}
	if (o->include_untracked && !o->stash) {
		msg_error("--include-untracked needs --stash");
		return -1;
	}
	return 0;
}

int code_opts_resolve(git_commit **out, char **out_parent, git_repository *repo,
		      const struct code_opts *o, const char *verb)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	char *s;
	int r;

	if (out_parent)
		*out_parent = NULL;
	if (!o->stash)
		return repo_resolve_commit(out, repo, o->rev);
	r = snapshot_create(&id, repo, o->include_untracked);
	if (r < 0)
		return -1;
	if (git_commit_lookup(out, repo, &id) < 0)
		return err_git("cannot read the snapshot commit");
	s = repo_short_id(repo, &id);
	if (r == 1) {
		fprintf(stderr, "nothing to snapshot: the working tree matches HEAD, %s HEAD (%s)\n",
			verb, s);
	} else {
		fprintf(stderr, "%s snapshot %s of the working tree\n", verb, s);
		if (out_parent && git_commit_parentcount(*out) > 0) {
			git_oid_tostr(hex, sizeof(hex), git_commit_parent_id(*out, 0));
			*out_parent = xstrdup(hex);
		}
	}
	free(s);
	return 0;
}
