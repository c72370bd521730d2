/*
 * run-output: what `git train <instance-type>` prints. Results go to
 * stdout: with --output text a summary for people, with run-id,
 * instance-id or json only that, so that `id=$(git train t3.micro --output
 * run-id -- ...)` works; everything else goes to stderr.
 */
#ifndef CMD_RUN_OUTPUT_H
#define CMD_RUN_OUTPUT_H

#include "git/run-record.h"
#include "run/run.h"

enum run_output {
	RUN_OUTPUT_TEXT,
	RUN_OUTPUT_RUN_ID,
	RUN_OUTPUT_INSTANCE_ID,
	RUN_OUTPUT_JSON
};

/* "text", "run-id", "instance-id", "json". 0, or -1 for anything else. */
int run_output_parse(enum run_output *out, const char *s);

/*
 * The training has started: the summary and the commands that follow,
 * list and stop it (text), or the id. json waits for the end when
 * following (wait), so that one document says it all.
 */
void run_output_started(enum run_output mode, int wait, const struct run *r);

/* The run ended (--wait): its summary on stderr, and the json document. */
void run_output_finished(enum run_output mode, const struct run *r);

/* Ctrl-C while following: the training goes on, and how to get back to it. */
void run_output_detached(const struct run *r);

#endif
