/*
 * git train upload: puts the code archive of a commit where a cloud run
 * reads it, and prints its s3:// URI (and with --presign a URL that fetches
 * it without credentials). The work is upload_commit()'s; this file reads
 * options, handles Ctrl-C and chooses the exit code.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "git/config.h"
#include "cmd/parse-options.h"
#include "util/progress.h"
#include "git/repo.h"
#include "services/s3.h"
#include "aws/sigv4.h"
#include "run/upload.h"
#include "util/util.h"

static const char *const upload_usage[] = {
	"git train upload [--rev <commit-ish> | --stash [--include-untracked]] [--presign <seconds>]",
	NULL,
};

struct upload_cmd {
	struct code_opts code;
	int presign; /* seconds, -1: none */
};

static int check_opts(const struct upload_cmd *o, const struct parsed_args *pa,
		      const struct option *options)
{
	const char *msg = NULL;

	if (pa->nr_args || pa->dashdash)
		msg = "too many arguments: name the commit with --rev";
	else if (o->presign != -1 && (o->presign < 1 || o->presign > SIGV4_MAX_EXPIRES))
		msg = "--presign takes seconds, from 1 to 604800 (7 days)";
	if (msg)
		msg_error("%s", msg);
	if (!msg && !cmd_code_check(&o->code))
		return 0;
	parse_options_usage(stderr, upload_usage, options);
	return -1;
}

static int upload(const struct upload_cmd *o)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	struct config cfg = { 0 };
	struct upload_target t = { 0 };
	struct aws_client client;
	struct s3_upload_stats st;
	struct s3_upload_opts uo = { 0 };
	struct buf done = BUF_INIT;
	struct sigaction saved[2];
	char *title = NULL, *url = NULL;
	int have_client = 0, have_cfg = 0, skipped, ret = EXIT_FATAL;

	if (repo_open(&repo) || cmd_code_resolve(&commit, repo, &o->code, "uploading"))
		goto out;
	if (config_load(&cfg, repo))
		goto out;
	have_cfg = 1;
	if (upload_target_init(&t, &cfg, repo, commit))
		goto out;
	ret = EXIT_FAILED;
	if (aws_client_init(&client, &cfg))
		goto out;
	have_client = 1;
	title = xstrfmt("Uploading code for %s", t.short_id);
	uo.cancel = &cmd_interrupted;
	uo.progress_title = title;
	uo.ui = cmd_plain_ui();
	cmd_catch_signals(saved);
	if (upload_commit(&st, &skipped, &client, repo, commit, &t, &uo)) {
		cmd_restore_signals(saved);
		if (cmd_interrupted)
			ret = EXIT_INTERRUPTED;
		goto out;
	}
	cmd_restore_signals(saved);
	upload_describe(&done, &t, &st, skipped);
	fprintf(stderr, "%s\n", buf_cstr(&done));
	if (o->presign > 0 && s3_presign(&url, &client, "GET", t.bucket, t.key, o->presign))
		goto out;
	printf("%s\n", t.uri);
	if (url)
		printf("%s\n", url);
	ret = EXIT_OK;
out:
	if (ret != EXIT_OK)
		err_report();
	free(url);
	free(title);
	buf_release(&done);
	if (have_client)
		aws_client_release(&client);
	upload_target_release(&t);
	if (have_cfg)
		config_release(&cfg);
	git_commit_free(commit);
	git_repository_free(repo);
	return ret;
}

int cmd_upload(int argc, const char **argv)
{
	struct upload_cmd o = { { NULL, 0, 0 }, -1 };
	struct option options[] = {
		OPT_CODE(&o.code),
		OPT_INT(0, "presign", &o.presign, "seconds",
			"also print a URL that downloads the archive for <seconds>"),
		OPT_END(),
	};
	struct parsed_args pa = { 0 };
	int ret = EXIT_USAGE;

	if (parse_options(&pa, argc, argv, options, upload_usage) != PARSE_OPT_OK)
		goto out;
	if (check_opts(&o, &pa, options))
		goto out;
	ret = upload(&o);
out:
	parse_options_release(&pa);
	return ret;
}
