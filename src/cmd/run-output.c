#include "cmd/run-output.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/backend-aws.h"
#include "run/layout.h"
#include "services/pricing.h"
#include "util/time.h"
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

static void print_text(const struct run *r)
{
	const struct remote_run *run = backend_aws_remote(r);
	struct buf b = BUF_INIT;
	size_t i;

	if (run->nodes > 1) {
		/* a run on several instances: all of them, and what they cost together */
		buf_printf(&b, "run %s started: %d %s %s instances ", run->run_id, run->nodes,
			   run->instance_type, run->market);
		for (i = 0; i < run->node_instances.nr; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", run->node_instances.v[i]);
		buf_printf(&b, " in %s", run->az ? run->az : run->region);
	} else {
		buf_printf(&b, "run %s started: %s %s instance %s in %s", run->run_id,
			   run->instance_type, run->market, run->instance_id,
			   run->az ? run->az : run->region);
	}
	if (run->price >= 0) {
		buf_puts(&b, ", est. ");
		pricing_format(&b, run->price * (run->nodes > 1 ? run->nodes : 1));
	}
	buf_printf(&b, "\n  git train logs -f %s\t# follow its log\n", run->run_id);
	buf_printf(&b, "  git train status\t# see it with the other runs\n");
	buf_printf(&b, "  git train stop %s\t# stop it\n", run->run_id);
	put(&b, STDOUT_FILENO);
	buf_release(&b);
}

static void print_json(const struct run *r, const struct run_record *rec)
{
	const struct remote_run *run = backend_aws_remote(r);
	cJSON *o = cJSON_CreateObject(), *m;
	struct buf b = BUF_INIT;
	char *text, *log, *outputs;
	size_t i;

	remote_run_add_json(o, run);
	if (run->nodes > 1) {
		cJSON *a;

		cJSON_AddNumberToObject(o, "nodes", run->nodes);
		a = cJSON_AddArrayToObject(o, "node_instances");
		for (i = 0; i < run->node_instances.nr; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(run->node_instances.v[i]));
	}
	log = layout_run_uri(run->bucket, run->run_prefix, LAYOUT_LOG);
	outputs = layout_run_uri(run->bucket, run->run_prefix, LAYOUT_OUTPUTS);
	json_add_string_or_null(o, "log", log);
	json_add_string_or_null(o, "outputs", outputs);
	free(log);
	free(outputs);
	if (rec) {
		json_add_string_or_null(o, "status", rec->status);
		cJSON_AddNumberToObject(o, "exit_code", rec->exit_code);
		if (rec->duration >= 0)
			cJSON_AddNumberToObject(o, "duration", rec->duration);
		if (run_record_extra(rec, "cost"))
			cJSON_AddNumberToObject(o, "cost",
						strtod(run_record_extra(rec, "cost"), NULL));
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

void run_output_started(enum run_output mode, int wait, const struct run *r)
{
	const struct remote_run *run = backend_aws_remote(r);
	size_t i;

	switch (mode) {
	case RUN_OUTPUT_TEXT:
		print_text(r);
		break;
	case RUN_OUTPUT_RUN_ID:
		printf("%s\n", run->run_id);
		break;
	case RUN_OUTPUT_INSTANCE_ID:
		if (run->nodes > 1) /* one a line, by node rank */
			for (i = 0; i < run->node_instances.nr; i++)
				printf("%s\n", run->node_instances.v[i]);
		else
			printf("%s\n", run->instance_id);
		break;
	case RUN_OUTPUT_JSON:
		if (!wait)
			print_json(r, NULL);
		break;
	}
	fflush(stdout);
	if (wait)
		fprintf(stderr, "following the log of %s; Ctrl-C detaches, the training goes on\n",
			run->run_id);
}

void run_output_finished(enum run_output mode, const struct run *r)
{
	struct buf b = BUF_INIT;

	run_summary(&b, &r->rec);
	buf_putc(&b, '\n');
	put(&b, STDERR_FILENO);
	if (mode == RUN_OUTPUT_JSON)
		print_json(r, &r->rec);
	buf_release(&b);
}

void run_output_detached(const struct run *r)
{
	const struct remote_run *run = backend_aws_remote(r);

	fprintf(stderr, "\ndetached from run %s: the training goes on on %s\n", run->run_id,
		run->instance_id);
	msg_hint("follow it again: git train logs -f %s", run->run_id);
	msg_hint("stop it:         git train stop %s", run->run_id);
}
