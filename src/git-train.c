/*
 * git-train: main(). Global init, the subcommand table, the exit code.
 *
 *   git train <instance-type> [<options>] [-- <script-args>...]
 *   git train <subcommand> [<options>] [-- <script-args>...]
 */
#include <git2.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cmd/builtin.h"
#include "git/config.h"
#include "util/util.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, const char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "local", cmd_local, "run the training on this machine" },
	{ "archive", cmd_archive, "write the code archive a run would use" },
	{ "log", cmd_log, "show the run history recorded in the notes" },
	{ "aws-call", cmd_aws_call, "(plumbing) make one AWS API call, print the response" },
	{ "doctor", cmd_doctor, "check that the AWS account is ready to train" },
	{ "upload", cmd_upload, "upload the code of a commit to S3" },
	{ "status", cmd_status, "show live and recent runs on EC2" },
	{ "logs", cmd_logs, "print (or follow) the log of a run" },
	{ "stop", cmd_stop, "terminate runs and record them as stopped" },
	{ "gc", cmd_gc, "remove what git-train left behind in AWS" },
	{ "init", cmd_init, "set up this repository for git-train (notes, remote)" },
	{ "notes", cmd_notes, "push or pull the run history to or from a remote" },
	{ "compare", cmd_compare, "compare the runs of two commits side by side" },
	{ "smoke", cmd_smoke, "smoke-train commits, as the pre-push hook does" },
	{ "hooks", cmd_hooks, "install git-train's git hooks" },
	{ "outputs", cmd_outputs, "download (or list) the outputs of a run" },
	{ "resume", cmd_resume, "run an interrupted run again from its checkpoints" },
};

static const char usage_text[] =
	"usage: git train <instance-type> [<options>] [-- <script-args>...]\n"
	"   or: git train <command> [<options>] [-- <script-args>...]\n"
	"\n"
	"Run a training script on exactly the code of a commit and record the run\n"
	"as a git note (see 'git log --notes=train').\n"
	"\n"
	"commands:\n";

static void print_usage(FILE *fp)
{
	size_t i;

	fputs(usage_text, fp);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(fp, "   %-10s %s\n", subcommands[i].name, subcommands[i].help);
	fputs("\n'git train --help' opens the manual.\n", fp);
}

/* An EC2 instance type: family, a dot, a size ("t3.micro", "p4d.24xlarge"). */
static int looks_like_instance_type(const char *s)
{
	const char *dot = strchr(s, '.');
	const char *p;

	if (!dot || dot == s || !dot[1] || strchr(dot + 1, '.'))
		return 0;
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return 0;
	return 1;
}

static const char *closest_subcommand(const char *word)
{
	const char *best = NULL;
	size_t best_d = 3, i;

	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		size_t d = levenshtein(word, subcommands[i].name);

		if (d < best_d) {
			best_d = d;
			best = subcommands[i].name;
		}
	}
	return best;
}

static int open_manual(void)
{
	fflush(stdout);
	execlp("git", "git", "help", "train", (char *)NULL);
	msg_error("cannot run 'git help train': %s", strerror(errno));
	return EXIT_FATAL;
}

int main(int argc, const char **argv)
{
	const char *word;
	size_t i;
	int ret;

	signal(SIGPIPE, SIG_DFL);
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	word = argv[1];
	if (!strcmp(word, "-h")) {
		print_usage(stdout);
		return EXIT_USAGE;
	}
	if (!strcmp(word, "--help") || !strcmp(word, "help"))
		return open_manual();
	if (!strcmp(word, "--version") || !strcmp(word, "version")) {
		printf("git-train version %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	if (word[0] == '-') {
		msg_error("unknown option '%s'", word);
		msg_hint("options come after the instance type or command: git train local %s",
			 word);
		print_usage(stderr);
		return EXIT_USAGE;
	}

	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (strcmp(word, subcommands[i].name))
			continue;
		git_libgit2_init();
		config_init_levels();
		archive_limit_mmap();
		ret = subcommands[i].fn(argc - 2, argv + 2);
		git_libgit2_shutdown();
		return ret;
	}

	if (looks_like_instance_type(word)) {
		/* cmd_run sees the instance type as argv[0] */
		git_libgit2_init();
		config_init_levels();
		archive_limit_mmap();
		ret = cmd_run(argc - 1, argv + 1);
		git_libgit2_shutdown();
		return ret;
	}

	msg_error("'%s' is not a git-train command or an instance type", word);
	if (closest_subcommand(word))
		msg_hint("did you mean '%s'?", closest_subcommand(word));
	else
		msg_hint(
			"an instance type looks like t3.micro or g5.xlarge; 'git train -h' lists the commands");
	return EXIT_USAGE;
}
