/*
 * git train outputs [--list] [-o <dir>] <run>: a run's outputs, brought
 * back into <dir> (default ./<run-id>/, the way `git clone` names its
 * directory), or listed with their sizes. A run on EC2's come from S3, a
 * local run's from its run directory; where they are is this clone's
 * configuration and the run id (run/outputs.h), never a note's text. Run
 * ids take unique prefixes, as logs and stop do.
 *
 * Also what --download does when a run ends (cmd_download_outputs()).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "cmd/run-target.h"
#include "cmd/ui.h"
#include "git/repo.h"
#include "run/backend-aws.h"
#include "run/outputs.h"
#include "run/remote-runs.h"
#include "util/progress.h"
#include "util/strvec.h"

static const char *const outputs_usage[] = {
	"git train outputs [-o <dir>] <run>",
	"git train outputs --list <run>",
	NULL,
};

/* A name as it came, for a terminal: control characters, quotes and '\' escaped, like git's. */
static void put_name(struct buf *out, const char *s)
{
	const char *p;
	int plain = 1;

	for (p = s; *p && plain; p++)
		plain = (unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\';
	if (plain) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c == '\n')
			buf_puts(out, "\\n");
		else if (c == '\t')
			buf_puts(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\%03o", c);
		else
			buf_putc(out, (char)c);
	}
	buf_putc(out, '"');
}

/* The run's outputs, listed. 0, or -1 with err_set. */
static int list_outputs(struct outputs *out, struct run_target *t)
{
	struct remote_entry *e = t->remote;
	char *runs = NULL, *dir;
	int r;

	if (t->local_id) {
		if (repo_train_dir(&runs, t->repo, "runs", 0))
			return -1;
		dir = xstrfmt("%s/%s", runs, t->local_id);
		r = outputs_list_local(out, dir);
		free(dir);
		free(runs);
		return r;
	}
	/* what every command does when it sees a result first: the note */
	r = e->recorded ? 0 : remote_runs_finalize(&t->ctx, e);
	if (r < 0) {
		msg_warning("cannot record run %s: %s", e->run.run_id, err_msg());
		err_clear();
	} else if (r == 1) {
		return err_set("run %s has not ended: its outputs are uploaded when it ends",
			       e->run.run_id);
	}
	return outputs_list_s3(out, &t->ctx.client, e->run.bucket, e->run.run_prefix);
}

static void print_list(const struct outputs *o)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < o->nr; i++) {
		buf_reset(&b);
		buf_printf(&b, "%12lld  ", o->v[i].size);
		put_name(&b, o->v[i].name);
		puts(buf_cstr(&b));
	}
	buf_release(&b);
}

static void say_skipped(const struct outputs *o)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < o->nr_skipped; i++) {
		buf_reset(&b);
		put_name(&b, o->skipped[i]);
		msg_warning("'%s' is not a regular file: not copied", buf_cstr(&b));
	}
	buf_release(&b);
}

/* Downloads o into dir and says how it went, on stderr. 0, or -1 with err_set. */
static int download(struct outputs *o, const char *run_id, const char *dir)
{
	struct outputs_stats st;
	struct cmd_ui ui;
	char *title = xstrfmt("%s outputs of %s", o->local_dir ? "Copying" : "Downloading", run_id);
	char size[32];
	int r;

	say_skipped(o);
	if (!o->nr) {
		free(title);
		fprintf(stderr, "run %s has no outputs\n", run_id);
		return 0;
	}
	cmd_ui_init(&ui, 0, &cmd_interrupted);
	r = outputs_download(&st, o, dir, &ui.ui, title);
	cmd_ui_release(&ui);
	free(title);
	if (r)
		return -1;
	progress_format_bytes(size, sizeof(size), (uint64_t)st.bytes);
	if (!st.fetched) {
		fprintf(stderr,
			"nothing to download: the %zu file%s of run %s %s already in '%s'\n",
			st.skipped, st.skipped == 1 ? "" : "s", run_id,
			st.skipped == 1 ? "is" : "are", dir);
		return 0;
	}
	fprintf(stderr, "%s %zu file%s (%s) of run %s into '%s'",
		o->local_dir ? "copied" : "downloaded", st.fetched, st.fetched == 1 ? "" : "s",
		size, run_id, dir);
	if (st.skipped)
		fprintf(stderr, ", %zu already there", st.skipped);
	fputc('\n', stderr);
	return 0;
}

static int outputs(const char *name, const char *dir, int list)
{
	struct run_target t;
	struct outputs o;
	char *def = NULL;
	const char *id;
	int ret = EXIT_FAILED;

	memset(&t, 0, sizeof(t));
	memset(&o, 0, sizeof(o));
	if (run_target_find(&t, name) || list_outputs(&o, &t))
		goto out;
	id = t.local_id ? t.local_id : t.remote->run.run_id;
	if (list) {
		say_skipped(&o);
		print_list(&o);
		ret = EXIT_OK;
		goto out;
	}
	if (!dir)
		dir = def = xstrdup(id);
	if (!download(&o, id, dir))
		ret = EXIT_OK;
out:
	if (ret != EXIT_OK)
		err_report();
	outputs_release(&o);
	run_target_release(&t);
	free(def);
	return ret;
}

int cmd_download_outputs(const struct run *r, const struct config *cfg)
{
	struct aws_client client;
	const struct remote_run *remote;
	struct outputs o;
	char *runs = NULL, *dir;
	int ret = -1;

	memset(&o, 0, sizeof(o));
	if (!strcmp(r->backend->name, "local")) {
		if (repo_train_dir(&runs, r->req->repo, "runs", 0))
			goto out;
		dir = xstrfmt("%s/%s", runs, r->rec.id);
		ret = outputs_list_local(&o, dir);
		free(dir);
		free(runs);
		if (!ret)
			ret = download(&o, r->rec.id, r->rec.id);
	} else {
		remote = backend_aws_remote(r);
		if (aws_client_init(&client, cfg))
			goto out;
		ret = outputs_list_s3(&o, &client, remote->bucket, remote->run_prefix);
		if (!ret)
			ret = download(&o, r->rec.id, r->rec.id);
		outputs_release(&o); /* before the client it borrows */
		aws_client_release(&client);
	}
out:
	outputs_release(&o);
	if (ret) {
		err_report();
		msg_hint("get them later with: git train outputs %s", r->rec.id);
	}
	return ret;
}

int cmd_outputs(int argc, const char **argv)
{
	const char *dir = NULL;
	int list = 0, ret = EXIT_USAGE;
	struct parsed_args pa = { 0 };
	const struct option opts[] = {
		OPT_STRING('o', "output-dir", &dir, "dir",
			   "where to put them (default: ./<run-id>/)"),
		OPT_BOOL(0, "list", &list, "list them with their sizes in bytes, download nothing"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, outputs_usage) != PARSE_OPT_OK)
		goto out;
	if (pa.nr_args != 1 || pa.dashdash || (list > 0 && dir)) {
		msg_error(
			"%s",
			list > 0 && dir ? "--list downloads nothing: it takes no -o"
			: pa.nr_args
				? "'git train outputs' takes one run at a time"
				: "name the run whose outputs to get ('git train log' lists them)");
		parse_options_usage(stderr, outputs_usage, opts);
		goto out;
	}
	if (dir && !*dir) {
		msg_error("-o takes a directory, not ''");
		goto out;
	}
	ret = outputs(pa.args[0], dir, list > 0);
out:
	parse_options_release(&pa);
	return ret;
}
