/*
 * git train log [--json] [--metric <name> [--best=min|max]] [<revision-range>...]:
 * the run history read back from refs/notes/train, newest run first; with
 * --metric, one metric across the runs as a table with a chart.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <git2.h>

#include "cmd/builtin.h"
#include "util/chart.h"
#include "git/history.h"
#include "cmd/parse-options.h"
#include "cmd/sweep.h"
#include "git/repo.h"
#include "util/time.h"
#include "util/util.h"

#define BAR_WIDTH 24

static const char *const log_usage[] = {
	"git train log [--json] [--all | <revision-range>...]",
	"git train log --metric <name> [--best=min|max] [--json] [--all | <revision-range>...]",
	NULL,
};

/* The columns of a parsed line: when, where, status, duration, metrics. */
static void entry_cells(struct buf cells[5], const struct run_record *r)
{
	size_t i;

	history_put_time(&cells[0], r->start);
	history_put_clean(&cells[1], r->backend ? r->backend : "-");
	history_put_clean(&cells[2], r->status ? r->status : "-");
	if (r->status && !strcmp(r->status, "failed") && r->exit_code >= 0)
		buf_printf(&cells[2], " (exit %d)", r->exit_code);
	if (r->duration >= 0)
		time_format_duration(&cells[3], r->duration);
	else
		buf_puts(&cells[3], "-");
	for (i = 0; i < r->nr_metrics; i++) {
		if (i)
			buf_putc(&cells[4], ' ');
		history_put_clean(&cells[4], r->metrics[i].name);
		buf_putc(&cells[4], '=');
		run_record_put_number(&cells[4], r->metrics[i].value);
	}
}

static void print_row(struct buf *line, const struct history_entry *e, struct buf *cells,
		      const size_t w[5], const char *indent, const char *tail)
{
	size_t j;

	buf_reset(line);
	buf_printf(line, "%s%s  ", indent, e->short_id);
	if (e->parsed) {
		for (j = 0; j < 5; j++) {
			if (!w[j])
				continue; /* no run has metrics */
			history_pad(line, buf_cstr(&cells[j]), w[j]);
			buf_puts(line, "  ");
		}
	} else {
		history_put_clean(line, e->line);
		buf_puts(line, "  ");
	}
	history_put_clean(line, tail ? tail : e->subject);
	buf_rtrim(line);
	puts(buf_cstr(line));
}

/* A sweep's run: its parameters, "lr=0.1 bs=32", in place of the subject. */
static void put_params(struct buf *out, const struct run_record *r)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < r->nr_extra; i++)
		if (!strncmp(r->extra[i].key, "param.", 6))
			buf_printf(out, "%s%s=%s", out->len ? " " : "", r->extra[i].key + 6,
				   r->extra[i].value);
}

static const char *sweep_of(const struct history_entry *e)
{
	return e->parsed ? run_record_extra(&e->rec, "sweep") : NULL;
}

/*
 * The runs, newest first; the runs of a sweep (cmd/sweep.h) together under
 * one line for the sweep, where its newest run is.
 */
static void print_text(const struct history *h)
{
	struct buf *cells = xcalloc(h->nr * 5 + 1, sizeof(*cells));
	size_t w[5] = { 0 }, i, j;
	struct buf line = BUF_INIT;
	struct strvec shown = STRVEC_INIT;
	struct buf params = BUF_INIT;

	for (i = 0; i < h->nr; i++) {
		if (!h->v[i].parsed)
			continue;
		entry_cells(&cells[i * 5], &h->v[i].rec);
		if (h->v[i].conflict)
			buf_puts(&cells[i * 5 + 2], " (conflict)");
		for (j = 0; j < 5; j++)
			if (history_width(buf_cstr(&cells[i * 5 + j])) > w[j])
				w[j] = history_width(buf_cstr(&cells[i * 5 + j]));
	}
	for (i = 0; i < h->nr; i++) {
		const char *sw = sweep_of(&h->v[i]);
		struct sweep_tally t = { 0 };
		size_t k;

		if (!sw) {
			print_row(&line, &h->v[i], &cells[i * 5], w, "", NULL);
			continue;
		}
		for (k = 0; k < shown.nr && strcmp(shown.v[k], sw); k++)
			;
		if (k < shown.nr)
			continue;
		strvec_push(&shown, sw);
		for (j = i; j < h->nr; j++)
			if (sweep_of(&h->v[j]) && !strcmp(sweep_of(&h->v[j]), sw))
				cmd_sweep_tally_add(&t, h->v[j].rec.status, &h->v[j].rec);
		buf_reset(&line);
		buf_printf(&line, "%s  ", h->v[i].short_id);
		cmd_sweep_tally_line(&line, sw, &t);
		buf_puts(&line, "  ");
		history_put_clean(&line, h->v[i].subject);
		puts(buf_cstr(&line));
		cmd_sweep_tally_release(&t);
		for (j = i; j < h->nr; j++)
			if (sweep_of(&h->v[j]) && !strcmp(sweep_of(&h->v[j]), sw)) {
				put_params(&params, &h->v[j].rec);
				print_row(&line, &h->v[j], &cells[j * 5], w, "  ",
					  buf_cstr(&params));
			}
	}
	for (i = 0; i < h->nr * 5; i++)
		buf_release(&cells[i]);
	free(cells);
	buf_release(&line);
	strvec_clear(&shown);
	buf_release(&params);
}

/* Each run with different lines, once: which is right only its owner can tell. */
static void warn_conflicts(const struct history *h)
{
	size_t i, j;

	for (i = 0; i < h->nr; i++) {
		if (!h->v[i].conflict)
			continue;
		for (j = 0; j < i; j++)
			if (h->v[j].conflict && !strcmp(h->v[j].rec.id, h->v[i].rec.id))
				break;
		if (j == i)
			msg_warning("run %s has different note lines (pulled, forged, or a race); "
				    "'git notes --ref=train edit <commit>' removes the wrong one",
				    h->v[i].rec.id);
	}
}

static void print_json(const struct history *h)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;
	size_t i;

	for (i = 0; i < h->nr; i++)
		cJSON_AddItemToArray(arr, history_entry_json(&h->v[i]));
	text = cJSON_Print(arr);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(arr);
}

/* One metric across the runs that have it, newest first. */
struct metric_view {
	const char *name;
	int lower; /* a lower value is better */
	const struct history_entry **runs;
	double *values;
	size_t nr;
	double best;
	size_t best_at; /* the newest run with the best value */
	int have_best;
};

static void view_release(struct metric_view *mv)
{
	free(mv->runs);
	free(mv->values);
}

static void view_collect(struct metric_view *mv, const struct history *h)
{
	size_t i;
	double v;

	mv->runs = xcalloc(h->nr + 1, sizeof(*mv->runs));
	mv->values = xcalloc(h->nr + 1, sizeof(*mv->values));
	for (i = 0; i < h->nr; i++) {
		if (!h->v[i].parsed || !history_metric(&v, &h->v[i].rec, mv->name))
			continue;
		/* NaN is never best, and an infinity only when nothing else is */
		if (v == v && (!mv->have_best || (mv->lower ? v < mv->best : v > mv->best))) {
			mv->best = v;
			mv->best_at = mv->nr;
			mv->have_best = 1;
		}
		mv->runs[mv->nr] = &h->v[i];
		mv->values[mv->nr++] = v;
	}
}

/* What the runs do record, for the error when none has the metric. */
static void hint_known_metrics(const struct history *h)
{
	struct buf names = BUF_INIT, quoted = BUF_INIT;
	size_t i, j;

	for (i = 0; i < h->nr; i++) {
		for (j = 0; h->v[i].parsed && j < h->v[i].rec.nr_metrics; j++) {
			buf_reset(&quoted);
			buf_printf(&quoted, "'%s'", h->v[i].rec.metrics[j].name);
			if (strstr(buf_cstr(&names), buf_cstr(&quoted)))
				continue;
			if (names.len)
				buf_puts(&names, ", ");
			buf_puts(&names, buf_cstr(&quoted));
		}
	}
	if (names.len)
		msg_hint("metrics recorded on these commits: %s", buf_cstr(&names));
	else if (h->nr)
		msg_hint("no run on these commits recorded a metric: "
			 "the script writes them to metrics.json");
	else if (h->any_notes)
		msg_hint("no runs recorded on these commits: "
			 "'git train log --all' shows every run");
	else
		msg_hint("no runs recorded yet: try 'git train local'");
	buf_release(&names);
	buf_release(&quoted);
}

static void view_row(struct buf *line, const struct metric_view *mv, size_t i,
		     const struct chart_scale *scale, size_t value_w, enum chart_style style)
{
	const struct history_entry *e = mv->runs[i];
	struct buf value = BUF_INIT;
	size_t n;

	buf_printf(line, "%s  ", e->short_id);
	history_put_time(line, e->rec.start);
	buf_puts(line, "  ");
	run_record_put_number(&value, mv->values[i]);
	for (n = value.len; n < value_w; n++)
		buf_putc(line, ' ');
	buf_puts(line, buf_cstr(&value));
	buf_puts(line, "  ");
	chart_bar(line, scale, mv->values[i], BAR_WIDTH, style);
	if (mv->have_best && mv->values[i] == mv->best)
		buf_puts(line, style == CHART_UNICODE ? "  \xe2\x86\x90 best   " : "  <- best  ");
	else
		buf_puts(line, "           ");
	history_put_clean(line, e->subject);
	buf_rtrim(line);
	buf_release(&value);
}

static void view_print_text(const struct metric_view *mv, enum chart_style style)
{
	struct chart_scale scale;
	struct buf line = BUF_INIT, value = BUF_INIT;
	double *oldest_first = xcalloc(mv->nr, sizeof(*oldest_first));
	size_t value_w = 0, i;

	chart_scale_init(&scale, mv->values, mv->nr);
	for (i = 0; i < mv->nr; i++) {
		buf_reset(&value);
		run_record_put_number(&value, mv->values[i]);
		if (value.len > value_w)
			value_w = value.len;
		oldest_first[mv->nr - 1 - i] = mv->values[i];
	}
	for (i = 0; i < mv->nr; i++) {
		buf_reset(&line);
		view_row(&line, mv, i, &scale, value_w, style);
		puts(buf_cstr(&line));
	}
	buf_reset(&line);
	history_put_clean(&line, mv->name);
	buf_puts(&line, style == CHART_UNICODE ? ", oldest \xe2\x86\x92 newest: "
					       : ", oldest -> newest: ");
	chart_sparkline(&line, &scale, oldest_first, mv->nr, style);
	puts(buf_cstr(&line));
	if (!mv->have_best)
		goto out;
	buf_reset(&line);
	buf_puts(&line, mv->lower ? "best: lowest " : "best: highest ");
	history_put_clean(&line, mv->name);
	buf_puts(&line, ", ");
	run_record_put_number(&line, mv->best);
	buf_printf(&line, " (%s, run %s)", mv->runs[mv->best_at]->short_id,
		   mv->runs[mv->best_at]->rec.id);
	puts(buf_cstr(&line));
out:
	free(oldest_first);
	buf_release(&line);
	buf_release(&value);
}

static void view_print_json(const struct metric_view *mv)
{
	cJSON *arr = cJSON_CreateArray();
	struct buf when = BUF_INIT;
	char *text;
	size_t i;

	for (i = 0; i < mv->nr; i++) {
		cJSON *o = cJSON_CreateObject();

		buf_reset(&when);
		history_put_time(&when, mv->runs[i]->rec.start);
		cJSON_AddStringToObject(o, "commit", git_oid_tostr_s(&mv->runs[i]->commit));
		cJSON_AddStringToObject(o, "run_id", mv->runs[i]->rec.id);
		if (mv->runs[i]->rec.start)
			cJSON_AddStringToObject(o, "start", buf_cstr(&when));
		else
			cJSON_AddNullToObject(o, "start");
		cJSON_AddItemToObject(o, "value", history_number_json(mv->values[i]));
		cJSON_AddBoolToObject(o, "best", mv->have_best && mv->values[i] == mv->best);
		cJSON_AddStringToObject(o, "subject", mv->runs[i]->subject);
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_Print(arr);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(arr);
	buf_release(&when);
}

static int print_metric(const struct history *h, const char *metric, const char *best, int json)
{
	struct metric_view mv = { 0 };
	int ret = EXIT_OK;

	mv.name = metric;
	mv.lower = best ? !strcmp(best, "min") : history_lower_is_better(metric);
	view_collect(&mv, h);
	if (!mv.nr) {
		msg_error("no run on these commits has the metric '%s'", metric);
		hint_known_metrics(h);
		ret = EXIT_FAILED;
	} else if (json) {
		view_print_json(&mv);
	} else {
		view_print_text(&mv, isatty(STDOUT_FILENO) ? CHART_UNICODE : CHART_ASCII);
	}
	view_release(&mv);
	return ret;
}

static int check_usage(const struct parsed_args *pa, const char *metric, const char *best)
{
	if (pa->nr_rest) {
		msg_error("'git train log' takes revisions, not paths: '%s'", pa->rest[0]);
		return -1;
	}
	if (best && !metric) {
		msg_error("--best needs --metric <name>");
		return -1;
	}
	if (best && strcmp(best, "min") && strcmp(best, "max")) {
		msg_error("--best takes 'min' or 'max', not '%s'", best);
		return -1;
	}
	if (metric && !*metric) {
		msg_error("--metric needs a metric name, e.g. --metric loss");
		return -1;
	}
	return 0;
}

int cmd_log(int argc, const char **argv)
{
	int json = 0, all = 0, ret = EXIT_OK;
	const char *metric = NULL, *best = NULL;
	git_repository *repo = NULL;
	struct history h = { 0 };
	struct parsed_args pa;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print the runs as a JSON array, for scripts"),
		OPT_BOOL(0, "all", &all, "runs on every branch, tag and remote-tracking branch"),
		OPT_STRING(0, "metric", &metric, "name", "chart this metric across the runs"),
		OPT_STRING(0, "best", &best, "min|max", "with --metric: which value is best"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, log_usage) != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	if (check_usage(&pa, metric, best)) {
		parse_options_usage(stderr, log_usage, opts);
		ret = EXIT_USAGE;
		goto out;
	}
	if (repo_open(&repo) || history_walk(&h, repo, all, pa.args, pa.nr_args)) {
		err_report();
		ret = EXIT_FATAL;
		goto out;
	}
	if (metric) {
		ret = print_metric(&h, metric, best, json);
		goto out;
	}
	if (json)
		print_json(&h);
	else
		print_text(&h);
	warn_conflicts(&h);
	if (!h.any_notes)
		msg_hint("no runs recorded yet: try 'git train local'");
	else if (!h.nr)
		msg_hint("no runs recorded on these commits: "
			 "'git train log --all' shows every run");
out:
	history_release(&h);
	git_repository_free(repo);
	parse_options_release(&pa);
	return ret;
}
