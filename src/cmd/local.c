/*
 * git train local: run the training on this machine, on exactly the code of a
 * commit, and record the run in its note. The exit code is the script's
 * (130 when interrupted, 128+N when it was killed by signal N).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/backend-local.h"
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "git/config.h"
#include "git/notes.h"
#include "util/parse-options.h"
#include "git/repo.h"
#include "git/run-record.h"
#include "util/shell-quote.h"
#include "git/snapshot.h"
#include "util/util.h"

static const char *const local_usage[] = {
	"git train local [--rev <commit-ish> | --stash [--include-untracked]] [--script <path>]\n"
	"                [--setup <cmd>] [--keep-workdir] [-- <script-args>...]",
	NULL,
};

struct local_opts {
	struct code_opts code;
	const char *script;
	const char *setup;
	int keep_workdir;
	int smoke;
};

static int check_usage(const struct parsed_args *pa, const struct local_opts *o)
{
	if (pa->nr_args) {
		struct buf words = BUF_INIT;
		int i;

		for (i = 0; i < pa->nr_args; i++)
			buf_printf(&words, " %s", pa->args[i]);
		msg_error("unexpected argument '%s' before '--'", pa->args[0]);
		msg_hint("arguments for the training script go after '--': git train local --%s",
			 buf_cstr(&words));
		buf_release(&words);
		return -1;
	}
	return code_opts_check(&o->code);
}

/* mkdir, not mkdir -p: two runs must never share a directory. */
static int make_run_dir(char **out_dir, char **out_id, git_repository *repo, git_commit *commit)
{
	char *runs = NULL, *short_id = repo_short_id(repo, git_commit_id(commit));
	int tries, ret = -1;

	*out_dir = *out_id = NULL;
	if (repo_train_dir(&runs, repo, "runs", 1))
		goto out;
	for (tries = 0; tries < 100; tries++) {
		*out_id = run_id_new(short_id, time(NULL));
		*out_dir = xstrfmt("%s/%s", runs, *out_id);
		if (!mkdir(*out_dir, 0777)) {
			ret = 0;
			goto out;
		}
		if (errno != EEXIST) {
			err_set("cannot create the run directory '%s': %s", *out_dir,
				strerror(errno));
			break;
		}
		free(*out_dir);
		free(*out_id);
		*out_dir = *out_id = NULL;
	}
	if (tries == 100)
		err_set("cannot find a free run id in '%s'", runs);
	free(*out_dir);
	free(*out_id);
	*out_dir = *out_id = NULL;
out:
	free(runs);
	free(short_id);
	return ret;
}

static void iso_time(char *out, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *result_json(const struct run_record *rec, git_commit *commit,
			  const struct parsed_args *pa)
{
	cJSON *root = cJSON_CreateObject(), *metrics, *args;
	char hex[GIT_OID_HEXSZ + 1], when[32];
	size_t i;
	int k;

	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	cJSON_AddStringToObject(root, "id", rec->id);
	cJSON_AddStringToObject(root, "commit", hex);
	if (rec->parent)
		cJSON_AddStringToObject(root, "parent", rec->parent);
	else
		cJSON_AddNullToObject(root, "parent");
	cJSON_AddStringToObject(root, "backend", rec->backend);
	cJSON_AddStringToObject(root, "status", rec->status);
	cJSON_AddNumberToObject(root, "exit_code", rec->exit_code);
	iso_time(when, sizeof(when), rec->start);
	cJSON_AddStringToObject(root, "start", when);
	iso_time(when, sizeof(when), rec->start + (time_t)(rec->duration + 0.5));
	cJSON_AddStringToObject(root, "end", when);
	cJSON_AddNumberToObject(root, "duration_seconds", rec->duration);
	metrics = cJSON_AddObjectToObject(root, "metrics");
	for (i = 0; i < rec->nr_metrics; i++)
		cJSON_AddNumberToObject(metrics, rec->metrics[i].name, rec->metrics[i].value);
	args = cJSON_AddArrayToObject(root, "args");
	for (k = 0; k < pa->nr_rest; k++)
		cJSON_AddItemToArray(args, cJSON_CreateString(pa->rest[k]));
	return root;
}

static int write_result(const char *run_dir, cJSON *json)
{
	char *path = xstrfmt("%s/result.json", run_dir);
	char *text = cJSON_Print(json);
	struct buf b = BUF_INIT;
	int ret;

	buf_puts(&b, text ? text : "");
	buf_putc(&b, '\n');
	ret = write_file_atomic(path, b.ptr, b.len, 0666);
	buf_release(&b);
	free(text);
	free(path);
	return ret;
}

static int failed_in_setup(const struct run_record *rec)
{
	const char *stage = run_record_extra(rec, "stage");

	return stage && !strcmp(stage, "setup");
}

static void print_summary(const struct run_record *rec)
{
	struct buf b = BUF_INIT, d = BUF_INIT;
	size_t i;

	format_duration(&d, rec->duration);
	buf_printf(&b, "run %s ", rec->id);
	if (!strcmp(rec->status, "succeeded"))
		buf_printf(&b, "succeeded in %s", buf_cstr(&d));
	else if (!strcmp(rec->status, "interrupted"))
		buf_printf(&b, "interrupted after %s; log kept in %s", buf_cstr(&d), rec->log);
	else
		buf_printf(&b, "%s (%sexit %d) in %s; log: %s", rec->status,
			   failed_in_setup(rec) ? "setup " : "", rec->exit_code, buf_cstr(&d),
			   rec->log);
	for (i = 0; i < rec->nr_metrics; i++)
		buf_printf(&b, "%s%s=%g", i ? " " : ": ", rec->metrics[i].name,
			   rec->metrics[i].value);
	buf_putc(&b, '\n');
	fflush(stdout);
	write_all(2, b.ptr, b.len);
	buf_release(&b);
	buf_release(&d);
}

static int exit_code_of(const struct run_record *rec)
{
	if (!strcmp(rec->status, "interrupted"))
		return 130;
	if (rec->exit_code < 0 || rec->exit_code > 255)
		return EXIT_FAILED;
	return rec->exit_code;
}

/* Runs it, keeps result.json and the note; returns the exit code. */
static int run_and_record(struct local_run *run, struct run_record *rec,
			  const struct parsed_args *pa)
{
	struct buf warnings = BUF_INIT, line = BUF_INIT;
	cJSON *json = NULL;
	int code;

	if (backend_local_run(rec, &warnings, run)) {
		err_report();
		remove_tree(run->run_dir);
		err_clear();
		code = EXIT_FATAL;
		goto out;
	}
	msg_warning_lines(&warnings);
	code = exit_code_of(rec);
	json = result_json(rec, run->commit, pa);
	if (write_result(run->run_dir, json))
		err_report();
	run_record_format(&line, rec);
	if (notes_append(run->repo, git_commit_id(run->commit), buf_cstr(&line))) {
		err_report();
		msg_hint("the run is kept in %s", run->run_dir);
		if (!code)
			code = EXIT_FAILED;
	}
	if (rec->parent && snapshot_keep(run->repo, git_commit_id(run->commit))) {
		err_report();
		if (!code)
			code = EXIT_FAILED;
	}
	print_summary(rec);
out:
	cJSON_Delete(json);
	buf_release(&warnings);
	buf_release(&line);
	return code;
}

/* What `git train compare` and the pre-push hook read back from the note. */
static void describe_args(struct run_record *rec, const struct local_opts *o,
			  const struct parsed_args *pa)
{
	struct buf words = BUF_INIT;

	if (pa->nr_rest) {
		shell_quote_argv(&words, pa->rest, pa->nr_rest);
		run_record_add_extra(rec, "args", buf_cstr(&words));
	}
	if (o->smoke)
		run_record_add_extra(rec, "smoke", "1");
	buf_release(&words);
}

static int run_local(const struct local_opts *o, const struct parsed_args *pa)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	struct config cfg;
	struct train_settings settings;
	struct run_record rec;
	struct local_run run;
	char *parent = NULL, *run_dir = NULL, *id = NULL, *short_id = NULL;
	int loaded = 0, ran = 0, code = EXIT_FATAL;

	memset(&cfg, 0, sizeof(cfg));
	run_record_init(&rec);
	if (repo_open(&repo) || config_load(&cfg, repo))
		goto out;
	if (settings_load(&settings, &cfg))
		goto out;
	loaded = 1;
	run_settings_override(&settings, o->script, o->setup);
	if (code_opts_resolve(&commit, &parent, repo, &o->code, "running"))
		goto out;
	if (!o->code.stash && !o->code.rev)
		run_warn_uncommitted(repo, commit);
	if (run_script_check(commit, settings.script) || make_run_dir(&run_dir, &id, repo, commit))
		goto out;

	short_id = repo_short_id(repo, git_commit_id(commit));
	fprintf(stderr, "run %s: %s %s (local)\n", id, short_id,
		git_commit_summary(commit) ? git_commit_summary(commit) : "");
	rec.id = id;
	id = NULL;
	rec.backend = xstrdup("local");
	rec.parent = parent;
	parent = NULL;
	describe_args(&rec, o, pa);

	memset(&run, 0, sizeof(run));
	run.repo = repo;
	run.commit = commit;
	run.settings = &settings;
	run.args = pa->rest;
	run.nr_args = pa->nr_rest;
	run.run_dir = run_dir;
	run.keep_workdir = o->keep_workdir;
	code = run_and_record(&run, &rec, pa);
	ran = 1;
out:
	if (!ran)
		err_report();
	run_record_release(&rec);
	if (loaded)
		settings_release(&settings);
	config_release(&cfg);
	git_commit_free(commit);
	git_repository_free(repo);
	free(parent);
	free(run_dir);
	free(id);
	free(short_id);
	return code;
}

int cmd_local(int argc, const char **argv)
{
	struct local_opts o;
	struct parsed_args pa;
	int r;
	const struct option options[] = {
		OPT_CODE(&o.code),
		OPT_STRING(0, "script", &o.script, "path", "the training script (train.script)"),
		OPT_STRING(0, "setup", &o.setup, "cmd", "shell command run first (train.setup)"),
		OPT_BOOL(0, "keep-workdir", &o.keep_workdir, "keep the extracted code"),
		OPT_BOOL(0, "smoke", &o.smoke, "record the run as a smoke run (the pre-push hook's)"),
		OPT_END(),
	};

	memset(&o, 0, sizeof(o));
	r = parse_options(&pa, argc, argv, options, local_usage);
	if (r == PARSE_OPT_OK && check_usage(&pa, &o))
		r = PARSE_OPT_ERROR;
	if (r != PARSE_OPT_OK) {
		parsed_args_release(&pa);
		return EXIT_USAGE;
	}
	r = run_local(&o, &pa);
	parsed_args_release(&pa);
	return r;
}
