/*
 * git train compare [--json] <run-or-commit> <run-or-commit>: two runs side
 * by side, their configuration and every metric with its change from the
 * first (a) to the second (b).
 *
 * git train compare --sweep <sweep-id> [--metric <name>]: the runs of a
 * sweep (cmd/sweep.h), one row each, their parameters against their
 * metrics, best first by the metric (lower is better for a loss-like name,
 * as history_lower_is_better() guesses; --metric's default: the first
 * metric of the sweep's runs). Runs without the metric come last.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <git2.h>

#include "cmd/builtin.h"
#include "git/history.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "util/strvec.h"
#include "util/time.h"
#include "util/util.h"

static const char *const compare_usage[] = {
	"git train compare [--json] <run-or-commit> <run-or-commit>",
	"git train compare [--json] --sweep <sweep-id> [--metric <name>]",
	NULL,
};

/* A text table: cells row by row, columns padded to their widest cell. */
struct table {
	struct strvec cells;
	size_t cols;
	const char *right; /* per column: 'r' aligns right */
};

static void table_print(struct table *t)
{
	size_t *w = xcalloc(t->cols, sizeof(*w)), i, c;
	struct buf line = BUF_INIT;

	for (i = 0; i < t->cells.nr; i++)
		if (history_width(t->cells.v[i]) > w[i % t->cols])
			w[i % t->cols] = history_width(t->cells.v[i]);
	for (i = 0; i < t->cells.nr; i += t->cols) {
		buf_reset(&line);
		for (c = 0; c < t->cols; c++) {
			const char *s = t->cells.v[i + c];
			size_t n;

			for (n = history_width(s); t->right[c] == 'r' && n < w[c]; n++)
				buf_putc(&line, ' ');
			history_pad(&line, s, t->right[c] == 'r' ? 0 : w[c]);
			buf_puts(&line, "  ");
		}
		buf_rtrim(&line);
		puts(buf_cstr(&line));
	}
	free(w);
	buf_release(&line);
}

static void table_add(struct table *t, const char *s)
{
	struct buf clean = BUF_INIT;

	history_put_clean(&clean, s ? s : "-");
	strvec_push(&t->cells, buf_cstr(&clean));
	buf_release(&clean);
}

/* A commit's newest run, with a word on stderr when it has more than one. */
static int newest_on_commit(size_t *out, const struct history *h, const git_oid *commit,
			    const char *name)
{
	size_t i, nr = 0;

	for (i = 0; i < h->nr; i++) {
		if (!h->v[i].parsed || !h->v[i].rec.id || git_oid_cmp(&h->v[i].commit, commit))
			continue;
		if (!nr++)
			*out = i;
	}
	if (!nr) {
		msg_error("commit '%s' (%.7s) has no runs", name, git_oid_tostr_s(commit));
		msg_hint("'git train log --all' lists every run with its id");
		return EXIT_FAILED;
	}
	if (nr > 1)
		msg_hint("'%s' has %zu runs: comparing the newest, %s; "
			 "name a run id to pick another",
			 name, nr, h->v[*out].rec.id);
	return EXIT_OK;
}

/* A run id or a unique prefix of it first, then a commit-ish. An exit code. */
static int pick_run(size_t *out, const struct history *h, git_repository *repo, const char *name)
{
	git_object *obj = NULL;
	git_commit *c = NULL;
	int found = history_find_run(out, h, name), ret;

	if (!found)
		return EXIT_OK;
	if (git_revparse_single(&obj, repo, name) == 0 &&
	    git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT) == 0) {
		err_clear(); /* an ambiguous run id prefix that names a commit */
		ret = newest_on_commit(out, h, git_commit_id(c), name);
	} else if (found < 0) {
		err_report();
		ret = EXIT_FATAL;
	} else {
		msg_error("bad revision '%s': not a run id or a commit", name);
		msg_hint("name a run by its id or a unique prefix of it, as 'git train log' shows, "
			 "or a commit");
		ret = EXIT_FATAL;
	}
	git_commit_free(c);
	git_object_free(obj);
	return ret;
}

static void status_cell(struct buf *out, const struct run_record *r)
{
	buf_puts(out, r->status ? r->status : "-");
	if (r->exit_code > 0)
		buf_printf(out, " (exit %d)", r->exit_code);
}

/* One configuration row; optional rows are left out when neither run has the field. */
static void config_row(struct table *t, const char *label, const char *a, const char *b,
		       int optional)
{
	if (optional && !a && !b)
		return;
	table_add(t, label);
	table_add(t, a);
	table_add(t, b);
}

static void config_fields(struct buf cells[5], const struct history_entry *e)
{
	buf_printf(&cells[0], "%s %s", e->short_id, e->subject);
	status_cell(&cells[1], &e->rec);
	history_put_time(&cells[2], e->rec.start);
	if (e->rec.duration >= 0)
		time_format_duration(&cells[3], e->rec.duration);
	else
		buf_puts(&cells[3], "-");
}

static void print_config(const struct history_entry *a, const struct history_entry *b)
{
	static const char *const extra[] = { "instance", "market", "az", "price", "cost", "smoke" };
	struct table t = { STRVEC_INIT, 3, "lll" };
	struct buf ca[5] = { BUF_INIT }, cb[5] = { BUF_INIT };
	size_t i;

	config_fields(ca, a);
	config_fields(cb, b);
	config_row(&t, "", "a", "b", 0);
	config_row(&t, "run", a->rec.id, b->rec.id, 0);
	config_row(&t, "commit", buf_cstr(&ca[0]), buf_cstr(&cb[0]), 0);
	config_row(&t, "backend", a->rec.backend, b->rec.backend, 0);
	config_row(&t, "status", buf_cstr(&ca[1]), buf_cstr(&cb[1]), 0);
	config_row(&t, "args", run_record_extra(&a->rec, "args"), run_record_extra(&b->rec, "args"),
		   0);
	config_row(&t, "start", buf_cstr(&ca[2]), buf_cstr(&cb[2]), 0);
	config_row(&t, "duration", buf_cstr(&ca[3]), buf_cstr(&cb[3]), 0);
	for (i = 0; i < ARRAY_SIZE(extra); i++)
		config_row(&t, extra[i], run_record_extra(&a->rec, extra[i]),
			   run_record_extra(&b->rec, extra[i]), 1);
	table_print(&t);
	strvec_clear(&t.cells);
	for (i = 0; i < 5; i++) {
		buf_release(&ca[i]);
		buf_release(&cb[i]);
	}
}

/* The metric names of both runs: a's in its order, then those only b has. */
static void metric_names(struct strvec *out, const struct run_record *a, const struct run_record *b)
{
	double v;
	size_t i;

	for (i = 0; i < a->nr_metrics; i++)
		strvec_push(out, a->metrics[i].name);
	for (i = 0; i < b->nr_metrics; i++)
		if (!history_metric(&v, a, b->metrics[i].name))
			strvec_push(out, b->metrics[i].name);
}

/* The change from a to b in percent of |a|. */
static double change_percent(double a, double b)
{
	return (b - a) / (a < 0 ? -a : a) * 100;
}

/* 1 better, -1 worse, 0 the same, for b against a. */
static int verdict(const char *name, double a, double b)
{
	if (a == b)
		return 0;
	return (b < a) == !!history_lower_is_better(name) ? 1 : -1;
}

static void metric_row(struct table *t, const char *name, const struct run_record *a,
		       const struct run_record *b)
{
	static const char *const words[] = { "worse", "same", "better" };
	double va, vb;
	int ha = history_metric(&va, a, name), hb = history_metric(&vb, b, name);
	struct buf cell = BUF_INIT;

	table_add(t, name);
	run_record_put_number(&cell, va);
	table_add(t, ha ? buf_cstr(&cell) : NULL);
	buf_reset(&cell);
	run_record_put_number(&cell, vb);
	table_add(t, hb ? buf_cstr(&cell) : NULL);
	if (!ha || !hb || !isfinite(va) || !isfinite(vb)) {
		table_add(t, NULL);
		table_add(t, NULL);
		table_add(t, "");
		goto out;
	}
	buf_reset(&cell);
	buf_printf(&cell, vb == va ? "0" : "%+.6g", vb - va);
	table_add(t, buf_cstr(&cell));
	buf_reset(&cell);
	if (va != 0)
		buf_printf(&cell, "%+.1f%%", change_percent(va, vb));
	table_add(t, va != 0 ? buf_cstr(&cell) : NULL);
	table_add(t, words[verdict(name, va, vb) + 1]);
out:
	buf_release(&cell);
}

static void print_metrics(const struct run_record *a, const struct run_record *b)
{
	static const char *const head[] = { "metric", "a", "b", "delta", "change", "" };
	struct table t = { STRVEC_INIT, 6, "lrrrrl" };
	struct strvec names = STRVEC_INIT;
	size_t i;

	metric_names(&names, a, b);
	if (!names.nr) {
		puts("no metrics recorded by either run");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(head); i++)
		strvec_push(&t.cells, head[i]);
	for (i = 0; i < names.nr; i++)
		metric_row(&t, names.v[i], a, b);
	table_print(&t);
out:
	strvec_clear(&t.cells);
	strvec_clear(&names);
}

static cJSON *metrics_json(const struct run_record *a, const struct run_record *b)
{
	struct strvec names = STRVEC_INIT;
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	metric_names(&names, a, b);
	for (i = 0; i < names.nr; i++) {
		cJSON *o = cJSON_CreateObject();
		double va, vb;
		int ha = history_metric(&va, a, names.v[i]);
		int hb = history_metric(&vb, b, names.v[i]);
		int both = ha && hb && isfinite(va) && isfinite(vb);

		cJSON_AddStringToObject(o, "name", names.v[i]);
		cJSON_AddItemToObject(o, "a", ha ? history_number_json(va) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "b", hb ? history_number_json(vb) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "delta",
				      both ? cJSON_CreateNumber(vb - va) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "change_percent",
				      both && va != 0 ? cJSON_CreateNumber(change_percent(va, vb))
						      : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "better",
				      both && va != vb
					      ? cJSON_CreateBool(verdict(names.v[i], va, vb) > 0)
					      : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	strvec_clear(&names);
	return arr;
}

static void print_json(const struct history_entry *a, const struct history_entry *b)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddItemToObject(o, "a", history_entry_json(a));
	cJSON_AddItemToObject(o, "b", history_entry_json(b));
	cJSON_AddItemToObject(o, "metrics", metrics_json(&a->rec, &b->rec));
	text = cJSON_Print(o);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(o);
}

/* A sweep's runs, for sorting by the metric. */
struct sweep_row {
	const struct history_entry *e;
	int has;
	double v;
};

static int sweep_lower; /* qsort has no context */

static int sweep_row_cmp(const void *pa, const void *pb)
{
	const struct sweep_row *a = pa, *b = pb;

	if (a->has != b->has)
		return b->has - a->has;
	if (a->has && a->v != b->v)
		return (a->v < b->v) == sweep_lower ? -1 : 1;
	return strcmp(a->e->rec.id, b->e->rec.id); /* in the order they started */
}

/* The names of a field family ("param." or metrics) over the rows, in first-seen order. */
static void sweep_names(struct strvec *params, struct strvec *metrics, const struct sweep_row *rows,
			size_t nr)
{
	size_t i, j, k;

	for (i = 0; i < nr; i++) {
		const struct run_record *r = &rows[i].e->rec;

		for (j = 0; j < r->nr_extra; j++) {
			const char *name = r->extra[j].key;

			if (strncmp(name, "param.", 6))
				continue;
			for (k = 0; k < params->nr && strcmp(params->v[k], name + 6); k++)
				;
			if (k == params->nr)
				strvec_push(params, name + 6);
		}
		for (j = 0; j < r->nr_metrics; j++) {
			for (k = 0; k < metrics->nr && strcmp(metrics->v[k], r->metrics[j].name);
			     k++)
				;
			if (k == metrics->nr)
				strvec_push(metrics, r->metrics[j].name);
		}
	}
}

static int compare_sweep(const char *id, const char *metric, int json)
{
	git_repository *repo = NULL;
	struct history h = { 0 };
	struct sweep_row *rows = NULL;
	struct strvec params = STRVEC_INIT, metrics = STRVEC_INIT;
	struct buf cell = BUF_INIT;
	size_t nr = 0, i, j;
	int ret = EXIT_FATAL;

	if (repo_open(&repo) || history_every_note(&h, repo)) {
		err_report();
		goto out;
	}
	rows = xcalloc(h.nr + 1, sizeof(*rows));
	for (i = 0; i < h.nr; i++) {
		const char *sw = h.v[i].parsed ? run_record_extra(&h.v[i].rec, "sweep") : NULL;

		if (sw && !strcmp(sw, id))
			rows[nr++].e = &h.v[i];
	}
	if (!nr) {
		msg_error("no run of sweep '%s' is recorded", id);
		msg_hint("'git train log' and 'git train status' show the sweeps with their ids; a "
			 "run on EC2 is recorded once it has ended");
		ret = EXIT_FAILED;
		goto out;
	}
	sweep_names(&params, &metrics, rows, nr);
	if (!metric && metrics.nr)
		metric = metrics.v[0];
	for (i = 0; i < nr; i++)
		rows[i].has = metric && history_metric(&rows[i].v, &rows[i].e->rec, metric) &&
			      isfinite(rows[i].v);
	sweep_lower = metric ? history_lower_is_better(metric) : 1;
	qsort(rows, nr, sizeof(*rows), sweep_row_cmp);
	if (metric) {
		/* the sorting metric first */
		for (j = 0; j < metrics.nr && strcmp(metrics.v[j], metric); j++)
			;
		if (j == metrics.nr)
			msg_warning("no run of sweep %s has the metric '%s'", id, metric);
	}
	if (json) {
		cJSON *o = cJSON_CreateObject(), *arr;
		char *text;

		cJSON_AddStringToObject(o, "sweep", id);
		if (metric)
			cJSON_AddStringToObject(o, "metric", metric);
		cJSON_AddBoolToObject(o, "lower_is_better", sweep_lower);
		arr = cJSON_AddArrayToObject(o, "runs");
		for (i = 0; i < nr; i++) {
			cJSON *r = history_entry_json(rows[i].e), *p = cJSON_CreateObject();

			for (j = 0; j < params.nr; j++) {
				char *k = xstrfmt("param.%s", params.v[j]);
				const char *v = run_record_extra(&rows[i].e->rec, k);

				cJSON_AddItemToObject(p, params.v[j],
						      v ? cJSON_CreateString(v)
							: cJSON_CreateNull());
				free(k);
			}
			cJSON_AddItemToObject(r, "params", p);
			cJSON_AddItemToArray(arr, r);
		}
		text = cJSON_Print(o);
		if (text)
			puts(text);
		free(text);
		cJSON_Delete(o);
	} else {
		struct table t = { STRVEC_INIT, 0, NULL };
		char *right;
		size_t c = 0;

		t.cols = 4 + params.nr + metrics.nr; /* at most */
		right = xcalloc(t.cols + 1, 1);
		right[c++] = 'l';
		table_add(&t, "run");
		for (j = 0; j < params.nr; j++, c++) {
			right[c] = 'l';
			table_add(&t, params.v[j]);
		}
		right[c++] = 'l';
		table_add(&t, "status");
		if (metric) {
			right[c++] = 'r';
			table_add(&t, metric);
		}
		for (j = 0; j < metrics.nr; j++)
			if (!metric || strcmp(metrics.v[j], metric)) {
				right[c++] = 'r';
				table_add(&t, metrics.v[j]);
			}
		right[c++] = 'l';
		table_add(&t, "");
		t.cols = c;
		t.right = right;
		for (i = 0; i < nr; i++) {
			const struct run_record *r = &rows[i].e->rec;
			double v;

			table_add(&t, r->id);
			for (j = 0; j < params.nr; j++) {
				char *k = xstrfmt("param.%s", params.v[j]);

				table_add(&t, run_record_extra(r, k));
				free(k);
			}
			buf_reset(&cell);
			status_cell(&cell, r);
			table_add(&t, buf_cstr(&cell));
			for (j = 0; j <= metrics.nr; j++) {
				const char *name = j ? metrics.v[j - 1] : metric;

				if (!name || (j && metric && !strcmp(name, metric)))
					continue;
				buf_reset(&cell);
				if (history_metric(&v, r, name))
					run_record_put_number(&cell, v);
				table_add(&t, history_metric(&v, r, name) ? buf_cstr(&cell) : NULL);
			}
			table_add(&t, i == 0 && rows[i].has ? "best" : "");
		}
		printf("sweep %s: %zu run%s", id, nr, nr == 1 ? "" : "s");
		if (metric)
			printf(", best first by %s (%s is better)", metric,
			       sweep_lower ? "lower" : "higher");
		printf("\n\n");
		table_print(&t);
		strvec_clear(&t.cells);
		free(right);
	}
	ret = EXIT_OK;
out:
	buf_release(&cell);
	strvec_clear(&params);
	strvec_clear(&metrics);
	free(rows);
	history_release(&h);
	git_repository_free(repo);
	return ret;
}

int cmd_compare(int argc, const char **argv)
{
	int json = 0, ret = EXIT_FATAL;
	const char *sweep = NULL, *metric = NULL;
	git_repository *repo = NULL;
	struct history h = { 0 };
	struct parsed_args pa;
	size_t a, b;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print both runs and the metric changes as JSON"),
		OPT_STRING(0, "sweep", &sweep, "sweep-id", "the runs of a sweep, best first"),
		OPT_STRING(0, "metric", &metric, "name",
			   "with --sweep: rank by this metric (default: the first)"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, compare_usage) != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	if (sweep || metric) {
		if (!sweep || pa.nr_args || pa.dashdash) {
			msg_error(!sweep ? "--metric needs --sweep"
					 : "'git train compare --sweep' takes no runs or commits");
			parse_options_usage(stderr, compare_usage, opts);
			ret = EXIT_USAGE;
		} else {
			ret = compare_sweep(sweep, metric, json);
		}
		goto out_args;
	}
	if (pa.nr_args != 2 || pa.dashdash) {
		msg_error("'git train compare' takes two runs or commits, %s",
			  pa.nr_args < 2 ? "too few given" : "too many given");
		parse_options_usage(stderr, compare_usage, opts);
		ret = EXIT_USAGE;
		goto out;
	}
	if (repo_open(&repo) || history_every_note(&h, repo)) {
		err_report();
		goto out;
	}
	ret = pick_run(&a, &h, repo, pa.args[0]);
	if (!ret)
		ret = pick_run(&b, &h, repo, pa.args[1]);
	if (ret)
		goto out;
	if (json) {
		print_json(&h.v[a], &h.v[b]);
	} else {
		print_config(&h.v[a], &h.v[b]);
		putchar('\n');
		print_metrics(&h.v[a].rec, &h.v[b].rec);
	}
out:
	history_release(&h);
	git_repository_free(repo);
out_args:
	parse_options_release(&pa);
	return ret;
}
