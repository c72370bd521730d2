/*
 * git train status [--json] [<run>...]: the runs of this repository on EC2,
 * live (by tags, one DescribeInstances call) and recently finished (from the
 * notes). A run seen finished for the first time gets its note here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "cmd/sweep.h"
#include "run/remote-progress.h"
#include "run/remote-runs.h"
#include "git/repo.h"
#include "services/s3.h"
#include "util/time.h"
#include "util/util.h"
#include "util/json.h"

/* Finished runs shown besides the live ones when no run is named. */
#define STATUS_RECENT 10

enum {
	COL_RUN,
	COL_COMMIT,
	COL_TYPE,
	COL_MARKET,
	COL_STATE,
	COL_TRAINING,
	COL_UPTIME,
	COL_COST,
	COL_SUBJECT,
	NR_COLS
};

static const char *const headings[NR_COLS] = {
	"RUN", "COMMIT", "TYPE", "MARKET", "STATE", "TRAINING", "UPTIME", "COST", "SUBJECT",
};

static const char *const status_usage[] = {
	"git train status [--json] [<run>...]",
	NULL,
};

struct row {
	struct remote_entry *e;
	char *short_id;
	char *subject;
	char *training; /* starting, running, succeeded, failed exit 3, ... */
	double uptime;	/* seconds, < 0 unknown */
	double cost;	/* USD, < 0 unknown */
};

struct rows {
	struct row *v;
	size_t nr;
};

static void rows_release(struct rows *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		free(r->v[i].short_id);
		free(r->v[i].subject);
		free(r->v[i].training);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void add_row(struct rows *rows, struct remote_entry *e)
{
	size_t i;

	for (i = 0; i < rows->nr; i++)
		if (rows->v[i].e == e)
			return;
	rows->v = xrealloc(rows->v, (rows->nr + 1) * sizeof(*rows->v));
	memset(&rows->v[rows->nr], 0, sizeof(*rows->v));
	rows->v[rows->nr++].e = e;
}

/* Named runs, else every run with an instance and the most recent finished ones. */
static int select_rows(struct rows *out, struct remote_runs *l, struct remote_runs_ctx *ctx,
		       const char **names, int nr_names)
{
	size_t i, recent = 0;
	int k;

	for (k = 0; k < nr_names; k++) {
		struct remote_entry *e = remote_runs_find(l, ctx, names[k]);

		if (!e)
			return -1;
		add_row(out, e);
	}
	if (nr_names)
		return 0;
	for (i = 0; i < l->nr; i++) {
		if (l->v[i]->instance)
			add_row(out, l->v[i]);
		else if (recent++ < STATUS_RECENT)
			add_row(out, l->v[i]);
	}
	return 0;
}

static char *training_of_record(const struct run_record *r)
{
	if (r->status && !strcmp(r->status, "failed") && r->exit_code >= 0)
		return xstrfmt("failed exit %d", r->exit_code);
	return xstrdup(r->status ? r->status : "unknown");
}

/* Two different note lines: both said, neither taken for the run's outcome. */
static char *training_of_conflict(const struct remote_entry *e)
{
	char *a = training_of_record(&e->note), *b = training_of_record(&e->other);
	char *out = xstrfmt("conflict: %s or %s", a, b);

	free(a);
	free(b);
	return out;
}

/*
 * S3 failing for one run fails for all (a wrong region, no permission):
 * say it once, and show the rest as unknown without asking again.
 */
static char *s3_failed(int *failed)
{
	if (!*failed) {
		msg_warning("cannot read how the runs are doing: %s", err_msg());
		msg_hint("the training states it could not read show as unknown");
	}
	err_clear();
	*failed = 1;
	return xstrdup("unknown");
}

/*
 * A run that has begun, across its attempts: "running (attempt 3)",
 * "preempted (attempt 2, waiting for capacity since 12:03)".
 */
static char *training_of_attempts(struct remote_runs_ctx *ctx, struct remote_entry *e)
{
	struct remote_progress p;
	struct buf b = BUF_INIT;

	/* several instances: run.json names every node, any of which may wait */
	if (e->live_instances > 1 && remote_runs_complete(ctx, e))
		err_clear();

	remote_progress_read(&p, &ctx->client, &e->run, e->instance);
	if (p.phase == REMOTE_WAITING || (p.phase == REMOTE_RUNNING && p.attempt > 1))
		remote_progress_describe(&b, &p);
	else
		buf_puts(&b, "running");
	remote_progress_release(&p);
	return buf_detach(&b);
}

/* Without a result: has the runner uploaded a log yet? */
static char *training_of_live(struct remote_runs_ctx *ctx, struct remote_entry *e, int *failed)
{
	struct s3_object o;
	char *key = layout_run_key(e->run.run_prefix, LAYOUT_LOG);
	int r = s3_head_object(&o, &ctx->client, e->run.bucket, key);

	free(key);
	if (r == 0)
		s3_object_release(&o);
	if (r < 0)
		return s3_failed(failed);
	if (e->instance && !remote_runs_instance_alive(e->instance))
		return xstrdup(r == 0 ? "ended, no result" : "never started");
	if (r == 0 && e->instance)
		return training_of_attempts(ctx, e);
	return xstrdup(r == 0 ? "running" : "starting");
}

static void fill_times(struct row *row, time_t now)
{
	const struct remote_entry *e = row->e;
	const char *v;

	row->uptime = -1;
	row->cost = -1;
	if (e->instance && remote_runs_instance_alive(e->instance) && e->run.launched)
		row->uptime = difftime(now, e->run.launched);
	else if (e->recorded && !e->conflict && e->note.duration >= 0)
		row->uptime = e->note.duration;
	if (row->uptime >= 0 && e->run.price >= 0)
		row->cost =
			e->run.price * (e->run.nodes > 1 ? e->run.nodes : 1) * row->uptime / 3600;
	else if (e->recorded && !e->conflict && (v = run_record_extra(&e->note, "cost")))
		row->cost = strtod(v, NULL);
}

static void fill_commit(struct row *row, git_repository *repo)
{
	git_oid oid;
	git_commit *c = NULL;
	const char *hex = row->e->run.commit ? row->e->run.commit : "";

	if (!git_oid_fromstr(&oid, hex) && !git_commit_lookup(&c, repo, &oid)) {
		row->short_id = repo_short_id(repo, &oid);
		row->subject = xstrdup(git_commit_summary(c) ? git_commit_summary(c) : "");
	} else {
		row->short_id = xstrndup(hex, 7);
		row->subject = xstrdup("");
	}
	git_commit_free(c);
}

static void fill_row(struct row *row, struct remote_runs_ctx *ctx, time_t now, int *failed)
{
	struct remote_entry *e = row->e;
	int r = *failed ? -1 : 0;

	if (!e->recorded && !*failed)
		r = remote_runs_finalize(ctx, e);
	if (e->recorded && e->conflict)
		row->training = training_of_conflict(e);
	else if (e->recorded)
		row->training = training_of_record(&e->note);
	else if (*failed)
		row->training = xstrdup("unknown");
	else if (r < 0)
		row->training = s3_failed(failed);
	else
		row->training = training_of_live(ctx, e, failed);
	if (!e->recorded && e->early) {
		char *live = row->training, *noted = training_of_record(&e->other);

		row->training = xstrfmt("%s, but a note says %s", live, noted);
		free(live);
		free(noted);
	}
	fill_commit(row, ctx->repo);
	fill_times(row, now);
}

/* The sweep a run belongs to (cmd/sweep.h), from its note or its run.json; NULL: none. */
static const char *row_sweep(const struct row *row)
{
	const struct remote_entry *e = row->e;
	const char *v;
	size_t i;

	if (e->recorded && (v = run_record_extra(&e->note, "sweep")))
		return v;
	for (i = 0; i < e->run.fields.nr; i++)
		if (!strncmp(e->run.fields.v[i], "sweep=", 6))
			return e->run.fields.v[i] + 6;
	return NULL;
}

static void cells(struct buf c[NR_COLS], const struct row *row)
{
	const struct remote_entry *e = row->e;

	if (row_sweep(row))
		buf_puts(&c[COL_RUN], "  "); /* under its sweep's line */
	buf_puts(&c[COL_RUN], e->run.run_id);
	buf_puts(&c[COL_COMMIT], row->short_id);
	if (e->run.nodes > 1) /* a run on several instances: "2×c5.xlarge" */
		buf_printf(&c[COL_TYPE], "%d\xc3\x97" /* U+00D7, in UTF-8 */, e->run.nodes);
	buf_puts(&c[COL_TYPE], e->run.instance_type ? e->run.instance_type : "-");
	buf_puts(&c[COL_MARKET], e->run.market ? e->run.market : "-");
	buf_puts(&c[COL_STATE], e->instance && e->instance->state ? e->instance->state : "-");
	buf_puts(&c[COL_TRAINING], row->training);
	if (row->uptime >= 59.5)
		time_format_duration(&c[COL_UPTIME], row->uptime);
	else if (row->uptime >= 0)
		buf_printf(&c[COL_UPTIME], "%lds", (long)(row->uptime + 0.5));
	else
		buf_puts(&c[COL_UPTIME], "-");
	if (row->cost >= 0) {
		buf_putc(&c[COL_COST], '$');
		remote_run_format_usd(&c[COL_COST], row->cost);
	} else {
		buf_puts(&c[COL_COST], "-");
	}
	buf_puts(&c[COL_SUBJECT], row->subject);
}

/* Commit subjects can hold any byte: keep them from moving the cursor. */
static void put_clean(struct buf *out, const char *s, size_t width)
{
	size_t w = 0;

	for (; *s; s++) {
		buf_putc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
		w += ((unsigned char)*s & 0xc0) != 0x80;
	}
	while (w++ < width)
		buf_putc(out, ' ');
}

/* Row i's line of the table, from its cells. */
static void print_line(struct buf *line, struct buf *c, const size_t w[NR_COLS])
{
	size_t j;

	buf_reset(line);
	for (j = 0; j < NR_COLS; j++) {
		put_clean(line, buf_cstr(&c[j]), j + 1 < NR_COLS ? w[j] : 0);
		buf_puts(line, "  ");
	}
	buf_rtrim(line);
	puts(buf_cstr(line));
}

/*
 * The runs, newest first; the runs of a sweep together under one line for
 * the sweep, where its newest run is.
 */
static void print_table(const struct rows *rows)
{
	struct buf *c = xcalloc((rows->nr + 1) * NR_COLS, sizeof(*c));
	size_t w[NR_COLS] = { 0 }, i, j;
	struct buf line = BUF_INIT;
	struct strvec shown = STRVEC_INIT;

	for (j = 0; j < NR_COLS; j++)
		buf_puts(&c[j], headings[j]);
	for (i = 0; i < rows->nr; i++)
		cells(&c[(i + 1) * NR_COLS], &rows->v[i]);
	for (i = 0; i < (rows->nr + 1) * NR_COLS; i++)
		if (c[i].len > w[i % NR_COLS])
			w[i % NR_COLS] = c[i].len;
	print_line(&line, c, w);
	for (i = 0; i < rows->nr; i++) {
		const char *sw = row_sweep(&rows->v[i]);
		struct sweep_tally t = { 0 };
		size_t k;

		if (!sw) {
			print_line(&line, &c[(i + 1) * NR_COLS], w);
			continue;
		}
		for (k = 0; k < shown.nr && strcmp(shown.v[k], sw); k++)
			;
		if (k < shown.nr)
			continue;
		strvec_push(&shown, sw);
		for (j = i; j < rows->nr; j++)
			if (row_sweep(&rows->v[j]) && !strcmp(row_sweep(&rows->v[j]), sw))
				cmd_sweep_tally_add(&t, rows->v[j].training,
						    rows->v[j].e->recorded ? &rows->v[j].e->note
									   : NULL);
		buf_reset(&line);
		cmd_sweep_tally_line(&line, sw, &t);
		puts(buf_cstr(&line));
		cmd_sweep_tally_release(&t);
		for (j = i; j < rows->nr; j++)
			if (row_sweep(&rows->v[j]) && !strcmp(row_sweep(&rows->v[j]), sw))
				print_line(&line, &c[(j + 1) * NR_COLS], w);
	}
	for (i = 0; i < (rows->nr + 1) * NR_COLS; i++)
		buf_release(&c[i]);
	free(c);
	buf_release(&line);
	strvec_clear(&shown);
}

static cJSON *row_json(const struct row *row)
{
	const struct remote_entry *e = row->e;
	const struct run_record *n = &e->note;
	/* a conflict has no one outcome: its lines are in the notes, as `git train log` shows */
	int recorded = e->recorded && !e->conflict;
	cJSON *o = cJSON_CreateObject(), *m;
	char when[TIME_ISO8601_SIZE];
	size_t i;

	json_add_string_or_null(o, "run_id", e->run.run_id);
	json_add_string_or_null(o, "commit", e->run.commit);
	json_add_string_or_null(o, "subject", row->subject);
	json_add_string_or_null(o, "instance_id", e->run.instance_id);
	json_add_string_or_null(o, "instance_type", e->run.instance_type);
	cJSON_AddNumberToObject(o, "nodes", e->run.nodes > 1 ? e->run.nodes : 1);
	json_add_string_or_null(o, "market", e->run.market);
	json_add_string_or_null(o, "az", e->run.az);
	json_add_string_or_null(o, "instance_state", e->instance ? e->instance->state : NULL);
	json_add_string_or_null(o, "training", row->training);
	json_add_string_or_null(o, "sweep", row_sweep(row));
	json_add_string_or_null(o, "status", recorded ? n->status : NULL);
	json_add_number_or_null(o, "exit_code", recorded && n->exit_code >= 0, n->exit_code);
	time_format_iso8601(when, e->run.launched);
	json_add_string_or_null(o, "launched", e->run.launched ? when : NULL);
	json_add_number_or_null(o, "uptime_seconds", row->uptime >= 0, row->uptime);
	json_add_number_or_null(o, "price_per_hour", e->run.price >= 0, e->run.price);
	json_add_number_or_null(o, "cost", row->cost >= 0, row->cost);
	m = cJSON_AddObjectToObject(o, "metrics");
	for (i = 0; recorded && i < n->nr_metrics; i++)
		cJSON_AddNumberToObject(m, n->metrics[i].name, n->metrics[i].value);
	json_add_string_or_null(o, "log", NULL);
	/* where `git train logs` reads it, whatever a note says */
	if (e->run.bucket && e->run.run_prefix) {
		char *uri = layout_run_uri(e->run.bucket, e->run.run_prefix, LAYOUT_LOG);

		cJSON_ReplaceItemInObject(o, "log", cJSON_CreateString(uri));
		free(uri);
	}
	cJSON_AddBoolToObject(o, "recorded", e->recorded);
	cJSON_AddBoolToObject(o, "conflict", e->recorded && e->conflict);
	return o;
}

static void print_json(const struct rows *rows)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;
	size_t i;

	for (i = 0; i < rows->nr; i++)
		cJSON_AddItemToArray(arr, row_json(&rows->v[i]));
	text = cJSON_Print(arr);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(arr);
}

static int status(int json, const char **names, int nr_names)
{
	struct remote_runs_ctx ctx;
	struct remote_runs runs = { 0 };
	struct rows rows = { 0 };
	time_t now = time(NULL);
	size_t i;
	int ret = EXIT_FATAL, failed = 0;

	if (remote_runs_ctx_init(&ctx))
		goto out;
	cmd_warn_metrics_skipped(&ctx.metrics_skipped);
	ret = EXIT_FAILED;
	if (remote_runs_load(&runs, &ctx, 1) || select_rows(&rows, &runs, &ctx, names, nr_names))
		goto out;
	for (i = 0; i < rows.nr; i++) {
		fill_row(&rows.v[i], &ctx, now, &failed);
		/* a sweep's live run says its sweep in run.json */
		if (!rows.v[i].e->recorded && !failed && remote_runs_complete(&ctx, rows.v[i].e))
			err_clear();
	}
	for (i = 0; i < rows.nr; i++)
		if (rows.v[i].e->recorded && rows.v[i].e->conflict)
			msg_warning("run %s has two different note lines (pulled, forged, or a "
				    "race): neither is taken for its outcome; 'git train log' "
				    "shows both",
				    rows.v[i].e->run.run_id);
	if (json)
		print_json(&rows);
	else if (rows.nr)
		print_table(&rows);
	if (!rows.nr)
		msg_hint("no runs on EC2 for '%s' yet: try 'git train t3.micro'", ctx.repo_name);
	ret = EXIT_OK;
out:
	if (ret != EXIT_OK)
		err_report();
	rows_release(&rows);
	remote_runs_release(&runs);
	remote_runs_ctx_release(&ctx);
	return ret;
}

int cmd_status(int argc, const char **argv)
{
	int json = 0, ret = EXIT_USAGE;
	struct parsed_args pa = { 0 };
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print the runs as a JSON array, for scripts"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, status_usage) != PARSE_OPT_OK)
		goto out;
	if (pa.nr_rest || pa.dashdash) {
		msg_error("'git train status' takes run ids, not '--'");
		parse_options_usage(stderr, status_usage, opts);
		goto out;
	}
	ret = status(json, pa.args, pa.nr_args);
out:
	parse_options_release(&pa);
	return ret;
}
