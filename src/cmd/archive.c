/*
 * git train archive: writes exactly the code archive a run would use, for
 * inspection and scripting.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "util/util.h"

static const char *const archive_usage[] = {
	"git train archive [--rev <commit-ish> | --stash [--include-untracked]] [-o <file>]",
	"git train archive [<options>] <commit-ish>",
	NULL,
};

/* The temporary file being written, removed if a signal ends us. */
static char *volatile tmp_path;

static void remove_tmp_on_signal(int sig)
{
	if (tmp_path)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_tmp(char *path)
{
	tmp_path = path;
	signal(SIGINT, remove_tmp_on_signal);
	signal(SIGTERM, remove_tmp_on_signal);
	signal(SIGHUP, remove_tmp_on_signal);
}

static void unguard_tmp(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	tmp_path = NULL;
}

/* Written next to the target and renamed: a failure never leaves a partial file. */
/*
 * Something that is not a regular file (/dev/null, a FIFO, /dev/stdout) is
 * written in place: renaming a temp file over it would replace the device.
 */
static int archive_to_special(git_repository *repo, git_commit *commit, const char *file)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return err_set("cannot open '%s': %s", file, strerror(errno));
	ret = archive_commit_to_fd(repo, commit, fd);
	if (close(fd) && !ret)
		ret = err_set("cannot write '%s': %s", file, strerror(errno));
	return ret;
}

static int archive_to_file(git_repository *repo, git_commit *commit, const char *file)
{
	struct stat st;
	char *tmp;
	mode_t mask;
	int fd, ret = -1;

	if (!stat(file, &st) && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return err_set("cannot write the archive to '%s': it is a directory", file);
		return archive_to_special(repo, commit, file);
	}
	tmp = xstrfmt("%s.tmpXXXXXX", file);
	mask = umask(0);
	umask(mask);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set("cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	guard_tmp(tmp);
	fchmod(fd, 0666 & ~mask);
	if (archive_commit_to_fd(repo, commit, fd)) {
		close(fd);
		goto out;
	}
	if (close(fd)) {
		err_set("cannot write '%s': %s", file, strerror(errno));
		goto out;
	}
	if (rename(tmp, file)) {
		err_set("cannot rename '%s' to '%s': %s", tmp, file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret)
		unlink(tmp);
	unguard_tmp();
	free(tmp);
	return ret;
}

struct archive_opts {
	struct code_opts code;
	const char *output;
};

static int check_opts(struct archive_opts *o, const struct parsed_args *pa,
		      const struct option *options)
{
	const char *msg = NULL;

	if (pa->nr_args > 1 || pa->dashdash)
		msg = "too many arguments: name one commit";
	else if (pa->nr_args == 1 && o->code.rev)
		msg = "name the commit either with --rev or as an argument, not both";
	else if (pa->nr_args == 1)
		o->code.rev = pa->args[0];
	if (msg)
		msg_error("%s", msg);
	if (!msg && !cmd_code_check(&o->code))
		return 0;
	parse_options_usage(stderr, archive_usage, options);
	return -1;
}

static int write_archive(struct archive_opts *o)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	int r = -1;

	if (repo_open(&repo))
		goto out;
	if (cmd_code_resolve(&commit, repo, &o->code, "archiving"))
		goto out;
	if (o->output)
		r = archive_to_file(repo, commit, o->output);
	else
		r = archive_commit_to_fd(repo, commit, STDOUT_FILENO);
out:
	git_commit_free(commit);
	git_repository_free(repo);
	return r;
}

int cmd_archive(int argc, const char **argv)
{
	struct archive_opts o = { 0 };
	struct option options[] = {
		OPT_CODE(&o.code),
		OPT_STRING('o', "output", &o.output, "file", "write the archive to <file>"),
		OPT_END(),
	};
	struct parsed_args pa = { 0 };
	int ret = EXIT_USAGE;

	if (parse_options(&pa, argc, argv, options, archive_usage) != PARSE_OPT_OK)
		goto out;
	if (check_opts(&o, &pa, options))
		goto out;
	if (!o.output && isatty(STDOUT_FILENO)) {
		msg_error("refusing to write compressed data to a terminal");
		msg_hint(
			"name a file with -o <file>, or redirect the output: git train archive >code.tar.gz");
		ret = EXIT_FATAL;
		goto out;
	}
	ret = EXIT_OK;
	if (write_archive(&o)) {
		err_report();
		ret = EXIT_FATAL;
	}
out:
	parse_options_release(&pa);
	return ret;
}
