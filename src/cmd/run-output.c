#include "cmd/run-output.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "services/pricing.h"
#include "util/util.h"
#include "util/json.h"

static const char *const names[] = { "text", "run-id", "instance-id", "json" };

int run_output_parse(enum run_output *out, const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return *out = (enum run_output)i, 0;
	return -1;
}

static void put(const struct buf *b, int fd)
{
	fflush(stdout);
	write_all(fd, b->ptr, b->len);
}

static void print_text(const struct backend_aws_run *r)
{
	const struct remote_run *run = &r->run;
	struct buf b = BUF_INIT;

	buf_printf(&b, "run %s started: %s %s instance %s in %s", run->run_id,
		   run->instance_type, run->market, run->instance_id,
		   run->az ? run->az : run->region);
	if (run->price >= 0) {
		buf_puts(&b, ", est. ");
		pricing_format(&b, run->price);
	}
	buf_printf(&b, "\n  git train logs -f %s\t# follow its log\n", run->run_id);
	buf_printf(&b, "  git train status\t# see it with the other runs\n");
	buf_printf(&b, "  git train stop %s\t# stop it\n", run->run_id);
	put(&b, STDOUT_FILENO);
	buf_release(&b);
}

static void print_json(const struct backend_aws_run *r, const struct run_record *rec)
{
	const struct remote_run *run = &r->run;
	cJSON *o = cJSON_CreateObject(), *m;
	struct buf b = BUF_INIT;
	char *text;
	size_t i;

	json_add_string_or_null(o, "run_id", run->run_id);
	json_add_string_or_null(o, "commit", run->commit);
	json_add_string_or_null(o, "parent", run->parent);
	json_add_string_or_null(o, "instance_id", run->instance_id);
	json_add_string_or_null(o, "instance_type", run->instance_type);
	json_add_string_or_null(o, "market", run->market);
	json_add_string_or_null(o, "region", run->region);
	json_add_string_or_null(o, "az", run->az);
	json_add_number_or_null(o, "price", run->price >= 0, run->price);
	json_add_string_or_null(o, "log", r->log_uri);
	json_add_string_or_null(o, "outputs", r->outputs_uri);
	if (rec) {
		json_add_string_or_null(o, "status", rec->status);
		cJSON_AddNumberToObject(o, "exit_code", rec->exit_code);
		if (rec->duration >= 0)
			cJSON_AddNumberToObject(o, "duration", rec->duration);
		if (run_record_extra(rec, "cost"))
			cJSON_AddNumberToObject(o, "cost", strtod(run_record_extra(rec, "cost"), NULL));
		m = cJSON_AddObjectToObject(o, "metrics");
		for (i = 0; i < rec->nr_metrics; i++)
			cJSON_AddNumberToObject(m, rec->metrics[i].name, rec->metrics[i].value);
	}
	text = cJSON_Print(o);
	buf_puts(&b, text);
	buf_putc(&b, '\n');
	put(&b, STDOUT_FILENO);
	buf_release(&b);
	free(text);
	cJSON_Delete(o);
}

void run_output_started(enum run_output mode, int wait, const struct backend_aws_run *r)
{
	switch (mode) {
	case RUN_OUTPUT_TEXT:
		print_text(r);
		break;
	case RUN_OUTPUT_RUN_ID:
		printf("%s\n", r->run.run_id);
		break;
	case RUN_OUTPUT_INSTANCE_ID:
		printf("%s\n", r->run.instance_id);
		break;
	case RUN_OUTPUT_JSON:
		if (!wait)
			print_json(r, NULL);
		break;
	}
	fflush(stdout);
	if (wait)
		fprintf(stderr, "following the log of %s; Ctrl-C detaches, the training goes on\n",
			r->run.run_id);
}

void run_output_finished(enum run_output mode, const struct backend_aws_run *r,
			 const struct run_record *rec)
{
	struct buf b = BUF_INIT, d = BUF_INIT;
	const char *cost = run_record_extra(rec, "cost");
	size_t i;

	format_duration(&d, rec->duration);
	buf_printf(&b, "run %s ", rec->id);
	if (!strcmp(rec->status, "succeeded"))
		buf_printf(&b, "succeeded in %s", buf_cstr(&d));
	else if (!strcmp(rec->status, "failed"))
		buf_printf(&b, "failed (exit %d) in %s", rec->exit_code, buf_cstr(&d));
	else if (!strcmp(rec->status, "preempted"))
		buf_printf(&b, "was preempted after %s: EC2 reclaimed the spot instance",
			   buf_cstr(&d));
	else
		buf_printf(&b, "%s after %s", rec->status, buf_cstr(&d));
	buf_printf(&b, " (%s %s%s%s)", r->run.instance_type, r->run.market, cost ? ", $" : "",
		   cost ? cost : "");
	for (i = 0; i < rec->nr_metrics; i++)
		buf_printf(&b, "%s%s=%g", i ? " " : ": ", rec->metrics[i].name,
			   rec->metrics[i].value);
	if (strcmp(rec->status, "succeeded"))
		buf_printf(&b, "\nlog: %s", rec->log);
	buf_putc(&b, '\n');
	put(&b, STDERR_FILENO);
	if (mode == RUN_OUTPUT_JSON)
		print_json(r, rec);
	buf_release(&b);
	buf_release(&d);
}

void run_output_detached(const struct backend_aws_run *r)
{
	fprintf(stderr, "\ndetached from run %s: the training goes on on %s\n", r->run.run_id,
		r->run.instance_id);
	msg_hint("follow it again: git train logs -f %s", r->run.run_id);
	msg_hint("stop it:         git train stop %s", r->run.run_id);
}

int run_output_exit_code(const struct run_record *rec)
{
	if (!strcmp(rec->status, "succeeded"))
		return EXIT_OK;
	if (!strcmp(rec->status, "interrupted"))
		return 130;
	if (!strcmp(rec->status, "failed") && rec->exit_code > 0 && rec->exit_code < 256)
		return rec->exit_code;
	return EXIT_FAILED;
}
