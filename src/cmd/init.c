/*
 * git train init [--remote <name>]: sets up the repository's own config the
 * way the manual recommends, and says what it changed and why:
 *
 *   notes.rewriteRef=refs/notes/train     runs follow git commit --amend and git rebase
 *   notes.train.mergeStrategy=cat_sort_uniq  git notes merge keeps both sides' runs
 *   remote.<name>.fetch=+refs/notes/train*:refs/notes/remotes/<name>/train*
 *                                          (with --remote) git fetch brings the runs
 *   train.cloneId=<random>                 this clone's own secret (git/clone-id.h):
 *                                          the smoke passes it seals are the only
 *                                          ones the pre-push hook trusts
 *
 * A setting already in effect (from any config file) is left alone, so
 * running it twice changes nothing.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cmd/builtin.h"
#include "git/clone-id.h"
#include "git/notes-merge.h"
#include "git/notes.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "git/run-git.h"
#include "util/util.h"

static const char *const init_usage[] = {
	"git train init [--remote <name>]",
	NULL,
};

/* True when a value of the multi-valued key matches want (glob values as git reads them). */
static int has_value(git_config *cfg, const char *key, const char *want, int glob)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int found = 0;

	if (git_config_multivar_iterator_new(&it, cfg, key, NULL) < 0)
		return 0;
	while (!found && git_config_next(&e, it) == 0)
		found = glob ? !fnmatch(e->value, want, 0) : !strcmp(e->value, want);
	git_config_iterator_free(it);
	git_error_clear();
	return found;
}

/*
 * Sets key to value in the repository's own config (adds it, for a
 * multi-valued key) with git itself: git's file format, and none of
 * libgit2 1.5's leaking regex matching.
 */
static int config_write(git_repository *repo, int multi, const char *key, const char *value)
{
	const char *set[] = { "config", "--local", key, value, NULL };
	const char *add[] = { "config", "--local", "--add", key, value, NULL };
	int r = run_git(NULL, repo, multi ? add : set);

	if (r > 0)
		err_set("cannot set %s in the repository's config: git config failed", key);
	return r ? -1 : 0;
}

static int set_rewrite_ref(int *changed, git_config *cfg, git_repository *repo)
{
	const char *key = "notes.rewriteRef";

	if (has_value(cfg, key, NOTES_REF, 1))
		return 0;
	if (config_write(repo, 1, key, NOTES_REF))
		return -1;
	printf("set %s=%s: runs follow their commits through git commit --amend and git rebase\n",
	       key, NOTES_REF);
	(*changed)++;
	return 0;
}

static int set_merge_strategy(int *changed, git_config *cfg, git_repository *repo)
{
	const char *key = "notes.train.mergeStrategy", *want = "cat_sort_uniq";
	git_buf old = GIT_BUF_INIT;
	int had = git_config_get_string_buf(&old, cfg, key) == 0;
	int r = 0;

	git_error_clear();
	if (had && !strcmp(old.ptr, want))
		goto out;
	r = config_write(repo, 0, key, want);
	if (r)
		goto out;
	printf("set %s=%s%s%s%s: git notes merge keeps the runs of both sides\n", key, want,
	       had ? " (was '" : "", had ? old.ptr : "", had ? "')" : "");
	(*changed)++;
out:
	git_buf_dispose(&old);
	return r;
}

static int add_fetch_refspec(int *changed, git_config *cfg, git_repository *repo,
			     const char *remote)
{
	char *key = xstrfmt("remote.%s.fetch", remote);
	char *refspec = notes_merge_refspec(remote);
	int r = 0;

	if (!has_value(cfg, key, refspec, 0)) {
		r = config_write(repo, 1, key, refspec);
		if (!r) {
			printf("added %s=%s: git fetch %s also fetches its runs "
			       "('git train notes pull %s' merges them)\n",
			       key, refspec, remote, remote);
			(*changed)++;
		}
	}
	free(key);
	free(refspec);
	return r;
}

static int set_clone_id(int *changed, git_repository *repo)
{
	char *secret = NULL;
	int r = clone_id_get(&secret, repo, 0);

	if (r == 1) {
		r = clone_id_get(&secret, repo, 1);
		if (!r) {
			printf("set %s (random, in this clone's config only): the pre-push hook "
			       "trusts only the smoke passes this clone recorded\n",
			       CLONE_ID_KEY);
			(*changed)++;
		}
	}
	free(secret);
	return r < 0 ? -1 : 0;
}

/* git reads these as booleans, true by default; false means runs stay behind. */
static void warn_rewrite_off(git_config *cfg)
{
	const char *keys[] = { "notes.rewrite.amend", "notes.rewrite.rebase" };
	size_t i;
	int on;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (git_config_get_bool(&on, cfg, keys[i]) == 0 && !on)
			msg_warning("%s is false: runs do not follow their commits there; "
				    "'git config --unset %s' turns it back on",
				    keys[i], keys[i]);
	git_error_clear();
}

static int init_config(git_repository *repo, const char *remote)
{
	git_config *cfg = NULL;
	int changed = 0, r = -1;

	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		err_git("cannot read the repository's config");
		goto out;
	}
	if (set_rewrite_ref(&changed, cfg, repo) || set_merge_strategy(&changed, cfg, repo) ||
	    set_clone_id(&changed, repo) ||
	    (remote && add_fetch_refspec(&changed, cfg, repo, remote)))
		goto out;
	if (!changed)
		printf("git-train is already set up in this repository: nothing changed\n");
	warn_rewrite_off(cfg);
	r = 0;
out:
	git_config_free(cfg);
	return r;
}

int cmd_init(int argc, const char **argv)
{
	const char *given = NULL;
	git_repository *repo = NULL;
	char *remote = NULL;
	struct parsed_args pa;
	int ret = EXIT_FATAL;
	const struct option opts[] = {
		OPT_STRING(0, "remote", &given, "name",
			   "also make git fetch <name> fetch the remote's runs"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, init_usage) != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	if (pa.nr_args || pa.dashdash) {
		msg_error("unexpected argument '%s'", pa.nr_args ? pa.args[0] : "--");
		parse_options_usage(stderr, init_usage, opts);
		ret = EXIT_USAGE;
		goto out;
	}
	if (repo_open(&repo) || (given && notes_merge_remote(&remote, repo, given))) {
		err_report();
		goto out;
	}
	if (init_config(repo, remote)) {
		err_report();
		ret = EXIT_FAILED;
		goto out;
	}
	ret = EXIT_OK;
out:
	free(remote);
	git_repository_free(repo);
	parse_options_release(&pa);
	return ret;
}
