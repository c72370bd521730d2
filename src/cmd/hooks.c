/*
 * git train hooks install [--chain] | uninstall: git-train's pre-push hook in
 * the repository's hooks directory. What was done goes to stdout. Exit 1
 * when someone else's hook is in the way (the error says the ways out),
 * 128 when the directory cannot be read or written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/builtin.h"
#include "git/config.h"
#include "git/hooks.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "util/util.h"

static const char *const hooks_usage[] = {
	"git train hooks install [--chain]",
	"git train hooks uninstall",
	NULL,
};

static void say_done(enum hooks_action a, const char *dir)
{
	switch (a) {
	case HOOKS_INSTALLED:
		printf("installed the pre-push hook: %s/%s\n", dir, HOOKS_FILE);
		break;
	case HOOKS_UPDATED:
		printf("updated the pre-push hook: %s/%s\n", dir, HOOKS_FILE);
		break;
	case HOOKS_UP_TO_DATE:
		printf("the pre-push hook is already up to date: %s/%s\n", dir, HOOKS_FILE);
		break;
	case HOOKS_CHAINED:
		printf("kept the existing pre-push hook as %s/%s\n", dir, HOOKS_CHAINED_FILE);
		printf("installed the pre-push hook, which runs it first: %s/%s\n", dir,
		       HOOKS_FILE);
		break;
	case HOOKS_REMOVED:
		printf("removed the pre-push hook: %s/%s\n", dir, HOOKS_FILE);
		break;
	case HOOKS_RESTORED:
		printf("removed the pre-push hook; the one it ran first is back: %s/%s\n", dir,
		       HOOKS_FILE);
		break;
	case HOOKS_ABSENT:
		printf("no pre-push hook in %s: nothing to remove\n", dir);
		break;
	}
}

static int hooks_run(int install, int chain)
{
	git_repository *repo = NULL;
	struct config cfg;
	enum hooks_action done;
	char *dir = NULL;
	int r, code = EXIT_FATAL;

	memset(&cfg, 0, sizeof(cfg));
	if (repo_open(&repo) || config_load(&cfg, repo) || hooks_dir(&dir, repo, &cfg)) {
		err_report();
		goto out;
	}
	r = install ? hooks_install(&done, dir, chain) : hooks_uninstall(&done, dir);
	if (r) {
		err_report();
		code = r == HOOKS_REFUSED ? EXIT_FAILED : EXIT_FATAL;
		goto out;
	}
	say_done(done, dir);
	code = EXIT_OK;
out:
	config_release(&cfg);
	git_repository_free(repo);
	free(dir);
	return code;
}

int cmd_hooks(int argc, const char **argv)
{
	struct parsed_args pa;
	int chain = 0, r, install;
	const struct option options[] = {
		OPT_BOOL(0, "chain", &chain, "keep another pre-push hook, run it first"),
		OPT_END(),
	};

	r = parse_options(&pa, argc, argv, options, hooks_usage);
	if (r != PARSE_OPT_OK)
		goto usage;
	if (pa.nr_args != 1 || pa.dashdash ||
	    (strcmp(pa.args[0], "install") && strcmp(pa.args[0], "uninstall"))) {
		if (pa.nr_args > 1)
			msg_error("unexpected argument '%s'", pa.args[1]);
		else if (pa.nr_args)
			msg_error("unknown hooks command '%s'", pa.args[0]);
		else
			msg_error("say what to do: install or uninstall");
		parse_options_usage(stderr, hooks_usage, options);
		goto usage;
	}
	install = !strcmp(pa.args[0], "install");
	if (!install && chain) {
		msg_error("--chain goes with install");
		goto usage;
	}
	parse_options_release(&pa);
	return hooks_run(install, chain);
usage:
	parse_options_release(&pa);
	return EXIT_USAGE;
}
