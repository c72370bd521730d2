/*
 * git train notes pull [<remote>] / git train notes push [<remote>]: the run
 * history travels with the repository.
 *
 * The network is the user's own git (spawned from PATH with an argv, never
 * through a shell), so remotes, URLs, insteadOf, credentials and ssh behave
 * exactly as for git fetch and git push. A remote's runs land in
 * refs/notes/remotes/<remote>/train and notes-merge unites them with the
 * local ones; the push that follows is then a fast-forward, never a force.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cmd/builtin.h"
#include "git/notes-merge.h"
#include "git/notes.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "git/run-git.h"
#include "util/util.h"

/* Pushes rejected because the remote moved in between: fetch, merge, push again. */
#define PUSH_ATTEMPTS 3

static const char *const notes_usage[] = {
	"git train notes pull [<remote>]",
	"git train notes push [<remote>]",
	NULL,
};

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/*
 * Fetches the remote's runs into its tracking ref. The pattern refspec with
 * --prune makes a remote without notes no error and drops a tracking ref
 * whose notes are gone there. 0 with *out its tip, 1 when the remote has no
 * runs, -1 with err_set.
 */
static int fetch_runs(git_oid *out, git_repository *repo, const char *remote)
{
	char *refspec = notes_merge_refspec(remote);
	char *tracking = notes_merge_remote_ref(remote);
	const char *args[] = { "fetch", "--quiet", "--prune", "--no-tags", remote, refspec, NULL };
	int r = run_git(NULL, repo, args);

	if (r > 0) {
		err_set("cannot fetch the runs from '%s': git fetch failed", remote);
		err_hint("git's own message is above; 'git fetch %s' should work first", remote);
		r = -1;
	} else if (!r) {
		r = git_reference_name_to_id(out, repo, tracking);
		if (r == GIT_ENOTFOUND)
			r = 1;
		else if (r < 0)
			r = err_git("cannot read %s", tracking);
	}
	free(refspec);
	free(tracking);
	return r;
}

/* Fetches and merges; *out_fetched (when not NULL) gets the remote's tip, zero when it has none. */
static int pull(git_oid *out_fetched, git_repository *repo, const char *remote, int quiet)
{
	struct notes_merge_result res;
	char *tracking = NULL;
	git_oid theirs;
	int r = fetch_runs(&theirs, repo, remote);

	if (out_fetched)
		memset(out_fetched, 0, sizeof(*out_fetched));
	if (r == 1 && !quiet)
		printf("%s has no runs yet\n", remote);
	if (r)
		return r < 0 ? -1 : 0;
	if (out_fetched)
		git_oid_cpy(out_fetched, &theirs);
	tracking = notes_merge_remote_ref(remote);
	r = notes_merge(&res, repo, &theirs, tracking);
	free(tracking);
	if (r)
		return -1;
	if (res.new_lines)
		printf("merged %zu new %s from %s (%zu %s)\n", res.new_lines,
		       plural(res.new_lines, "run", "runs"), remote, res.commits,
		       plural(res.commits, "commit", "commits"));
	else if (!quiet && res.kind == NOTES_MERGE_UP_TO_DATE)
		printf("already up to date with %s\n", remote);
	else if (!quiet)
		printf("no new runs from %s\n", remote);
	return 0;
}

/* The porcelain status of our ref in `git push --porcelain` output: the flag, or 0. */
static char push_flag(const char *output)
{
	const char *want = "\t" NOTES_REF ":" NOTES_REF "\t";
	const char *p = output;

	for (; (p = strstr(p, want)); p++)
		if (p > output && (p == output + 1 || p[-2] == '\n'))
			return p[-1];
	return 0;
}

/* Our notes' tip; 1 when there are none. */
static int local_tip(git_oid *out, git_repository *repo)
{
	int r = git_reference_name_to_id(out, repo, NOTES_REF);

	if (r == GIT_ENOTFOUND)
		return 1;
	return r < 0 ? err_git("cannot read %s", NOTES_REF) : 0;
}

/*
 * Pushes our notes to the remote whose tip (zero: none) we just merged.
 * 0 pushed or nothing to push, 1 rejected (git's output in output), -1 failed.
 */
static int push_merged(struct buf *output, git_repository *repo, const char *remote,
		       const git_oid *theirs)
{
	const char *args[] = { "push", "--porcelain", remote, NOTES_REF ":" NOTES_REF, NULL };
	size_t lines = 0, commits = 0;
	int remote_has = !git_oid_is_zero(theirs);
	git_oid ours;
	char flag;
	int r = local_tip(&ours, repo);

	if (r) {
		if (r == 1)
			printf("no runs to push yet\n");
		return r < 0 ? -1 : 0;
	}
	if (remote_has && git_oid_equal(theirs, &ours)) {
		printf("everything up to date with %s\n", remote);
		return 0;
	}
	if (notes_merge_count(&lines, &commits, repo, remote_has ? theirs : NULL, &ours))
		return -1;
	buf_reset(output);
	r = run_git(output, repo, args);
	if (r < 0)
		return -1;
	flag = push_flag(buf_cstr(output));
	if (flag == '!')
		return 1;
	if (flag == '=') {
		printf("everything up to date with %s\n", remote);
	} else if (flag) {
		printf("pushed %zu new %s to %s (%zu %s)\n", lines, plural(lines, "run", "runs"),
		       remote, commits, plural(commits, "commit", "commits"));
	} else {
		fputs(buf_cstr(output), stderr);
		return err_set("cannot push the runs to '%s': git push failed", remote);
	}
	return 0;
}

/*
 * Fetch, merge, push; again while the push is rejected because the remote
 * moved in between. A rejection while the remote stays where it was (a hook,
 * a protected ref) is final: git's own words say why.
 */
static int push(git_repository *repo, const char *remote)
{
	struct buf output = BUF_INIT;
	git_oid theirs, before;
	int attempt, r = 1;

	for (attempt = 0; attempt < PUSH_ATTEMPTS && r == 1; attempt++) {
		r = pull(&theirs, repo, remote, 1);
		if (!r && attempt && git_oid_equal(&theirs, &before)) {
			fputs(buf_cstr(&output), stderr);
			r = err_set("cannot push the runs to '%s': it rejected them", remote);
			break;
		}
		if (!r)
			r = push_merged(&output, repo, remote, &theirs);
		git_oid_cpy(&before, &theirs);
	}
	if (r == 1) {
		fputs(buf_cstr(&output), stderr);
		err_set("cannot push the runs to '%s': its runs kept changing while merging them",
			remote);
		err_hint("tried %d times; run 'git train notes push %s' again", PUSH_ATTEMPTS,
			 remote);
		r = -1;
	}
	buf_release(&output);
	return r;
}

static int bad_usage(const struct parsed_args *pa, const struct option *opts)
{
	if (!pa->nr_args)
		msg_error("say what to do: pull or push");
	else if (strcmp(pa->args[0], "pull") && strcmp(pa->args[0], "push"))
		msg_error("unknown notes command '%s'", pa->args[0]);
	else if (pa->nr_args > 2)
		msg_error("unexpected argument '%s'", pa->args[2]);
	else
		msg_error("unexpected '--'");
	parse_options_usage(stderr, notes_usage, opts);
	return EXIT_USAGE;
}

int cmd_notes(int argc, const char **argv)
{
	git_repository *repo = NULL;
	char *remote = NULL;
	struct parsed_args pa;
	int ret = EXIT_FATAL;
	const struct option opts[] = { OPT_END() };

	if (parse_options(&pa, argc, argv, opts, notes_usage) != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	if (pa.nr_args < 1 || pa.nr_args > 2 || pa.dashdash ||
	    (strcmp(pa.args[0], "pull") && strcmp(pa.args[0], "push"))) {
		ret = bad_usage(&pa, opts);
		goto out;
	}
	if (repo_open(&repo) ||
	    notes_merge_remote(&remote, repo, pa.nr_args > 1 ? pa.args[1] : NULL)) {
		err_report();
		goto out;
	}
	if (!strcmp(pa.args[0], "pull"))
		ret = pull(NULL, repo, remote, 0);
	else
		ret = push(repo, remote);
	if (ret) {
		err_report();
		ret = EXIT_FAILED;
	}
out:
	free(remote);
	git_repository_free(repo);
	parse_options_release(&pa);
	return ret;
}
