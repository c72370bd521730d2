/*
 * cmd/sweep: `--sweep <name>=<v1>,<v2>,... --parallel K` of `git train
 * local` and `git train <type>`: the cross product of the values, one run
 * each, all of one commit (the caller resolves it once and gives it to each
 * run as --rev would), at most K at once.
 *
 * Each run is a child process (fork, no exec) that runs the command's own
 * code for one point of the product; its stdout and stderr come back through
 * pipes and are printed line by line with the point as a prefix
 * ("[lr=0.1 bs=32] ..."), so that runs side by side stay readable and no
 * child has a terminal (no live status line, no question: stdin is
 * /dev/null). A child says its run id, once started, with
 * cmd_sweep_started(). The run's note gets the fields `sweep=<id>` and
 * `param.<name>=<value>` (cmd_sweep_fields()).
 *
 * Script arguments name a parameter as {name}; {{name}} is a literal
 * {name}; any other brace is left alone. A placeholder with no --sweep of
 * its name, or a --sweep whose name no argument uses, is a usage error.
 *
 * Ctrl-C: no new run is started; the children are sent SIGINT once (a run
 * on EC2 being launched is cleaned up, one that has started detaches and
 * goes on; a local one is interrupted, as a single run would be), and the
 * sweep says which runs started and how to follow or stop them.
 */
#ifndef CMD_SWEEP_H
#define CMD_SWEEP_H

#include <stddef.h>

#include "cmd/parse-options.h"
#include "git/run-record.h"
#include "util/strvec.h"
#include "util/util.h"

struct sweep_param {
	char *name;
	struct strvec values;
};

struct sweep {
	struct sweep_param *params;
	size_t nr_params;
	size_t total; /* runs: the product of the numbers of values */
	int parallel; /* at most this many at once */
	char *id;     /* sweep-YYYYmmdd-HHMMSS-xxxx */
};

/* --sweep (repeatable) and --parallel. */
struct sweep_opts {
	struct strvec specs;
	int parallel; /* 0: not given */
};

#define OPT_SWEEP(o)                                                                               \
	OPT_STRING_LIST(0, "sweep", &(o)->specs, "name=v1,v2,...",                                 \
			"a run for each value; several: the cross product (repeatable)"),          \
		OPT_INT(0, "parallel", &(o)->parallel, "K",                                        \
			"with --sweep: at most K runs at once")

/*
 * Reads the options against the script arguments (pa->rest): 0, 1 when
 * there is no --sweep (then --parallel is an error), or -1 after printing
 * the usage error. def_parallel: K when --parallel is not given (0: all).
 */
int cmd_sweep_parse(struct sweep *out, const struct sweep_opts *o, const struct parsed_args *pa,
		    int def_parallel);
void cmd_sweep_release(struct sweep *s);
void cmd_sweep_opts_release(struct sweep_opts *o);

/*
 * Run i of the sweep, for the command's own run: pa, a copy of base whose
 * script arguments are the point's (placeholders replaced; the strings in
 * args), and its note fields: "sweep=<id>", "param.<name>=<value>"...
 */
void cmd_sweep_point(struct parsed_args *pa, struct strvec *args, struct strvec *fields,
		     const struct sweep *s, size_t i, const struct parsed_args *base);
/* "lr=0.1 bs=32" */
void cmd_sweep_label(struct buf *out, const struct sweep *s, size_t i);

/*
 * Runs one(ctx, i) for every i in a child process, at most s->parallel at
 * once, printing their output, then a summary on stdout. what: "local" or
 * the instance type, for the messages; detached: the runs go on after their
 * child ends (EC2 without waiting), so an exit of 0 means "started". Returns
 * the exit status: 0 when every child exited 0, 130 when interrupted, else 1.
 */
int cmd_sweep_run(const struct sweep *s, int (*one)(void *ctx, size_t i), void *ctx,
		  const char *what, int detached);

/* In a sweep's child: its run started (a no-op elsewhere). */
void cmd_sweep_started(const char *run_id);
/* Set in a sweep's children. */
extern int cmd_sweep_child;

/*
 * A sweep on one line, for status and log: "sweep <id>: 4 runs, 2
 * succeeded, 1 failed, 1 running, best loss=0.25 (<run>)". Add each run's
 * status word (succeeded, failed..., running; NULL: running) and its record
 * when there is one; the best is by the first metric the runs have.
 */
struct sweep_tally {
	size_t nr, succeeded, failed, running, other;
	char *metric;
	double best;
	char *best_run;
};

void cmd_sweep_tally_add(struct sweep_tally *t, const char *status, const struct run_record *rec);
void cmd_sweep_tally_line(struct buf *out, const char *id, const struct sweep_tally *t);
void cmd_sweep_tally_release(struct sweep_tally *t);

#endif
