#include "cmd/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git/repo.h"
#include "git/snapshot.h"
#include "util/util.h"

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

/* How many root entries the "script not found" error lists. */
#define MAX_LISTED 20

const char *run_script_path(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2 + strspn(path + 2, "/");
	return path;
}

static void replace_setting(char **setting, const char *value)
{
	if (!value)
		return;
	free(*setting);
	*setting = xstrdup(value);
}

void run_settings_override(struct train_settings *s, const char *script, const char *setup)
{
	replace_setting(&s->script, script);
	replace_setting(&s->setup, setup);
	if (s->script != run_script_path(s->script)) {
		char *path = xstrdup(run_script_path(s->script));

		free(s->script);
		s->script = path;
	}
}

void run_warn_uncommitted(git_repository *repo, git_commit *commit)
{
	size_t tracked = 0, untracked = 0;
	char *short_id;

	if (snapshot_count_changes(&tracked, &untracked, repo)) {
		msg_warning("cannot check for uncommitted changes: %s", err_msg());
		err_clear();
		return;
	}
	if (!tracked)
		return;
	short_id = repo_short_id(repo, git_commit_id(commit));
	msg_warning("%zu changed file%s not part of this run (it uses commit %s)", tracked,
		    tracked == 1 ? " is" : "s are", short_id);
	msg_hint("commit them, or run the working tree with --stash "
		 "(add --include-untracked for new files)");
	free(short_id);
}

int run_script_check(git_commit *commit, const char *script)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	char *short_id = NULL;
	struct buf list = BUF_INIT;
	size_t i, n;
	int ret = 0;

	if (git_commit_tree(&tree, commit))
		return err_git("cannot read the tree of the commit");
	if (!git_tree_entry_bypath(&entry, tree, script) &&
	    git_tree_entry_type(entry) == GIT_OBJECT_BLOB)
		goto out;
	short_id = repo_short_id(git_commit_owner(commit), git_commit_id(commit));
	ret = err_set("the training script '%s' is not in commit %s (%s)", script, short_id,
		      git_commit_summary(commit) ? git_commit_summary(commit) : "");
	n = git_tree_entrycount(tree);
	for (i = 0; i < n && i < MAX_LISTED; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);

		buf_printf(&list, "%s%s%s", i ? ", " : "", git_tree_entry_name(e),
			   git_tree_entry_type(e) == GIT_OBJECT_TREE ? "/" : "");
	}
	if (n > MAX_LISTED)
		buf_printf(&list, ", ... (%zu more)", n - MAX_LISTED);
	if (n)
		err_hint("the commit's top directory has: %s", buf_cstr(&list));
	else
		err_hint("the commit's tree is empty");
	err_hint("name the script to run: git config train.script <path> (or --script <path>)");
out:
	buf_release(&list);
	free(short_id);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return ret;
}

/* Quoted as git quotes GIT_CONFIG_PARAMETERS, so any value survives. */
int cmd_config_override(struct config *cfg, const char *key, const char *value)
{
	struct buf param = BUF_INIT;
	const char *p;
	int ret;

	buf_printf(&param, "'%s'='", key);
	for (p = value; *p; p++) {
		if (*p == '\'')
			buf_puts(&param, "'\\''");
		else
			buf_putc(&param, *p);
	}
	buf_putc(&param, '\'');
	ret = config_parse_parameters(cfg, buf_cstr(&param));
	buf_release(&param);
	return ret;
}

volatile sig_atomic_t cmd_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	cmd_interrupted = 1;
}

void cmd_catch_signals(struct sigaction saved[2])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &saved[0]);
	sigaction(SIGTERM, &sa, &saved[1]);
}

void cmd_restore_signals(const struct sigaction saved[2])
{
	sigaction(SIGINT, &saved[0], NULL);
	sigaction(SIGTERM, &saved[1], NULL);
}
