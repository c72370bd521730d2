/*
 * git train logs [-f] <run>: the run's full log, from S3, so it works while
 * the run is live and long after its instance is gone. -f follows a live
 * run: new bytes every two seconds (a ranged GET from what was already
 * printed), until the run's result appears; then it prints the rest, writes
 * the note and exits 0, like `kubectl logs -f`: the run's own exit code is the
 * launch's (`--wait`) or status's to tell, not the log's.
 *
 * Across attempts (issue 13): an instance a spot interruption stopped,
 * whose persistent request is still there, is waiting for capacity, not
 * gone: -f says so on stderr and keeps following (the runner appends the
 * next attempt to the same log), and once the wait passes
 * train.resumeTimeout it moves the run to another zone as
 * `git train resume` does (cmd/resume-ec2.c) and follows it on there.
 *
 * The log is read from where this clone's configuration puts the run
 * (remote-runs.h), whatever a pulled note's log= says; a log= that names
 * another place is shown in a warning. The log is the script's output, so
 * on a terminal its control characters are made visible the way `cat -v`
 * shows them (ESC as ^[, a carriage return ends the line): a log cannot
 * move the cursor, retitle the window or hide what came before. Piped or
 * redirected, the bytes go through unchanged.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "run/remote-progress.h"
#include "run/remote-runs.h"
#include "util/time.h"
#include "services/s3-objects.h"
#include "util/util.h"

#define FOLLOW_INTERVAL_MS 2000
/* Polls between looks at the instance, to notice one that died without a result. */
#define FOLLOW_CHECK_EVERY 15

static const char *const logs_usage[] = {
	"git train logs [-f | --follow] [--node <rank>] <run>",
	NULL,
};

struct printed {
	int node; /* --node: whose log (0: the run's, node 0's) */
	long long bytes;
	int clean; /* stdout is a terminal: control characters made visible */
	int held;  /* clean: the last byte, held back: 0, '\r' or 0xc2 */
};

/* One byte for a terminal, as `cat -v` shows it, after what p->held says. */
static void put_clean(struct buf *out, struct printed *p, unsigned char c)
{
	if (p->held == '\r') {
		p->held = 0;
		buf_putc(out, '\n'); /* "\r\n" is one newline, a lone "\r" ends its line too */
		if (c == '\n')
			return;
	} else if (p->held == 0xc2) {
		p->held = 0;
		if (c >= 0x80 && c < 0xa0) { /* U+0080..U+009F: the C1 controls (CSI ...) */
			buf_printf(out, "M-^%c", c - 0x80 + 0x40);
			return;
		}
		buf_putc(out, 0xc2);
	}
	if (c == '\r' || c == 0xc2)
		p->held = c;
	else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
		buf_printf(out, "^%c", c == 0x7f ? '?' : c + 0x40);
	else
		buf_putc(out, (char)c);
}

static int write_out(const void *data, size_t len)
{
	if (fwrite(data, 1, len, stdout) != len)
		return err_set("cannot write the log: %s", strerror(errno));
	return 0;
}

static int to_stdout(void *ctx, const void *data, size_t len)
{
	struct printed *p = ctx;
	struct buf b = BUF_INIT;
	size_t i;
	int r;

	p->bytes += (long long)len;
	if (!p->clean)
		return write_out(data, len);
	for (i = 0; i < len; i++)
		put_clean(&b, p, ((const unsigned char *)data)[i]);
	r = write_out(b.ptr, b.len);
	buf_release(&b);
	return r;
}

/* What a byte held back at the end of a chunk stands for, once the log ends. */
static void flush_held(struct printed *p)
{
	if (p->held)
		putchar(p->held == '\r' ? '\n' : p->held);
	p->held = 0;
	fflush(stdout);
}

static void printed_init(struct printed *p, int node)
{
	memset(p, 0, sizeof(*p));
	p->node = node;
	p->clean = isatty(1);
}

/* The log from p->bytes on. 0, 1 when there is nothing (new), -1. */
static int print_from(struct printed *p, struct remote_runs_ctx *ctx, const struct remote_run *r)
{
	char *key = remote_run_node_key(r->run_prefix, p->node, LAYOUT_LOG);
	int ret = s3_get_object(NULL, &ctx->client, r->bucket, key, p->bytes, to_stdout, p);

	fflush(stdout);
	free(key);
	return ret;
}

/* Sleeps ms unless Ctrl-C comes first. */
static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (!cmd_interrupted)
		nanosleep(&ts, NULL);
}

/* A wait for capacity, as the follower saw it. */
struct waiting {
	int on;	      /* the instance waits for capacity */
	time_t since; /* since when */
	int attempt;  /* the attempt that was preempted */
	long timeout; /* train.resumeTimeout: then the run moves (resume-ec2.c) */
	char *said;   /* the line said last */
	int node;     /* several instances: the node that waits, and its instance */
	char *instance;
};

/* train.resumeTimeout, seconds. 0, or -1 with err_set. */
static int resume_timeout(long *out, const struct config *cfg)
{
	char *v = NULL;
	int ret = 0;

	if (config_get_string_or(&v, cfg, "train.resumeTimeout", "10m") < 0)
		return -1;
	if (time_parse_duration(out, v) || *out < 1) {
		err_clear();
		ret = err_set("bad config value '%s' for 'train.resumeTimeout': a duration, at "
			      "least 1s",
			      v);
	}
	free(v);
	return ret;
}

/* The wait, on stderr, once: the run moves in its own time. */
static void say_waiting(struct waiting *w, const char *id)
{
	struct buf b = BUF_INIT;

	if (w->said)
		return;
	buf_printf(&b, "run %s preempted", id);
	if (w->attempt > 0)
		buf_printf(&b, " (attempt %d)", w->attempt);
	buf_puts(&b, ", waiting for capacity since ");
	remote_progress_clock(&b, w->since);
	buf_puts(&b, " (moving elsewhere in ");
	time_format_elapsed(&b, (double)w->timeout - difftime(time(NULL), w->since));
	buf_putc(&b, ')');
	fflush(stdout);
	fprintf(stderr, "%s\n", buf_cstr(&b));
	w->said = buf_detach(&b);
}

/* The run waits for capacity (p), or no longer does; said once each. */
static void waiting_news(struct waiting *w, const struct remote_progress *p, const char *run_id,
			 const char *instance)
{
	if (p->phase == REMOTE_WAITING) {
		if (!w->on) {
			w->on = 1;
			w->attempt = p->attempt;
			w->since = p->since && p->since <= time(NULL) ? p->since : time(NULL);
		}
		say_waiting(w, run_id);
	} else if (w->on && p->phase == REMOTE_RUNNING) {
		w->on = 0;
		fflush(stdout);
		fprintf(stderr, "capacity came back: %s runs again (attempt %d)\n", instance,
			w->attempt + 1);
	}
}

/*
 * A run on several instances: it waits while any node waits, and is gone
 * when node 0 is (remote-progress.h). 1 gone, else 0.
 */
static int look_at_nodes(struct remote_runs_ctx *ctx, const struct remote_run *r, struct waiting *w)
{
	struct remote_progress p;
	char *who;
	int gone;

	remote_progress_read(&p, &ctx->client, r, NULL);
	if (!p.instance) { /* a transient failure: look again next time */
		remote_progress_release(&p);
		return 0;
	}
	gone = p.phase == REMOTE_GONE;
	who = xstrfmt("node %d (%s)", w->on ? w->node : p.node, w->on ? w->instance : p.instance);
	if (p.phase == REMOTE_WAITING && !w->on) {
		w->node = p.node;
		free(w->instance);
		w->instance = xstrdup(p.instance);
	}
	waiting_news(w, &p, r->run_id, who);
	free(who);
	remote_progress_release(&p);
	return gone;
}

/*
 * A look at the run's instance: 1 when it is gone (terminated, or no
 * longer known) and not waiting for capacity. A stopped instance whose
 * persistent spot request is still there waits (remote-progress.h).
 */
static int look_at_instance(struct remote_runs_ctx *ctx, const struct remote_run *r,
			    struct waiting *w)
{
	struct ec2_instance *v = NULL;
	struct remote_progress p;
	size_t nr = 0;
	const char *id = r->instance_id;
	int gone;

	if (!id)
		return 0;
	if (r->nodes > 1 && r->node_instances.nr)
		return look_at_nodes(ctx, r, w);
	if (ec2_describe_instances(&v, &nr, &ctx->client, &id, 1, NULL, 0)) {
		err_clear(); /* a transient failure: look again next time */
		return 0;
	}
	gone = !nr || !remote_runs_instance_alive(&v[0]);
	/* a running instance needs no more looks, unless it was waiting */
	if (nr && !gone && (w->on || !v[0].state || strcmp(v[0].state, "running"))) {
		remote_progress_read(&p, &ctx->client, r, &v[0]);
		waiting_news(w, &p, r->run_id, id);
		remote_progress_release(&p);
	}
	ec2_instances_free(v, nr);
	return gone;
}

static int follow_printing(struct printed *p, struct remote_runs_ctx *ctx, struct remote_entry *e)
{
	struct waiting w;
	int polls = 0, waiting_said = 0, done, ret, ended = 0;
	/* one more look for a result after the instance is seen gone: it may have just come */
	int gone = e->instance && !remote_runs_instance_alive(e->instance);

	memset(&w, 0, sizeof(w));
	if (resume_timeout(&w.timeout, &ctx->cfg))
		return EXIT_FATAL;
	/* several instances: run.json names every node, any of which may wait */
	if (e->live_instances > 1 && remote_runs_complete(ctx, e))
		err_clear();
	for (;;) {
		ret = EXIT_FAILED;
		done = remote_runs_finalize(ctx, e);
		if (done < 0)
			goto out;
		if (print_from(p, ctx, &e->run) < 0)
			goto out;
		ret = EXIT_OK;
		if (done == 0)
			goto out;
		ret = EXIT_FAILED;
		if (gone) {
			err_set("run %s ended without a result: its instance %s is gone",
				e->run.run_id, e->run.instance_id);
			err_hint("the log above is all it uploaded");
			goto out;
		}
		if (!p->bytes && !waiting_said && isatty(2)) {
			fprintf(stderr, "waiting for run %s to start...\n", e->run.run_id);
			waiting_said = 1;
		}
		if (++polls % (w.on ? FOLLOW_CHECK_EVERY / 3 : FOLLOW_CHECK_EVERY) == 0)
			gone = look_at_instance(ctx, &e->run, &w);
		if (w.on && difftime(time(NULL), w.since) >= (double)w.timeout) {
			/* attached: this client moves it, and follows it on from here */
			flush_held(p);
			if (remote_runs_complete(ctx, e))
				goto out;
			ret = cmd_resume_ec2_attach(ctx, e, p->bytes, &ended);
			/* logs -f tells the run's end, not its outcome (see above) */
			if (ended)
				ret = EXIT_OK;
			goto out;
		}
		pause_ms((long)poll_interval(FOLLOW_INTERVAL_MS));
		ret = EXIT_INTERRUPTED;
		if (cmd_interrupted)
			goto out;
	}
out:
	free(w.said);
	free(w.instance);
	return ret;
}

static int follow(struct remote_runs_ctx *ctx, struct remote_entry *e, int node)
{
	struct printed p;
	int ret;

	printed_init(&p, node);
	ret = follow_printing(&p, ctx, e);
	flush_held(&p);
	return ret;
}

static int print_all(struct remote_runs_ctx *ctx, struct remote_entry *e, int node)
{
	struct printed p;
	int r;

	printed_init(&p, node);
	r = print_from(&p, ctx, &e->run);
	flush_held(&p);
	if (r < 0)
		return EXIT_FAILED;
	/* what every command does when it sees a result first */
	if (!e->recorded && remote_runs_finalize(ctx, e) < 0) {
		msg_warning("cannot record run %s: %s", e->run.run_id, err_msg());
		err_clear();
	}
	if (r == 1 && node) {
		err_set("node %d of run %s has no log%s", node, e->run.run_id,
			e->recorded ? "" : " yet: its instance is still starting");
		return EXIT_FAILED;
	}
	if (r == 1) {
		err_set("run %s has no log yet: its instance is still starting", e->run.run_id);
		err_hint("follow it with: git train logs -f %s", e->run.run_id);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* A note's text, for a message: it came from elsewhere, so no control characters. */
static char *printable(const char *s)
{
	char *out = xstrdup(s), *p;

	for (p = out; *p; p++) {
		unsigned char c = (unsigned char)*p;

		/* C0 controls, DEL, and C1 controls as UTF-8 writes them (0xc2 0x80..0x9f) */
		if (c < 0x20 || c == 0x7f)
			*p = '?';
		else if (c == 0xc2 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] < 0xa0)
			p[0] = p[1] = '?';
	}
	return out;
}

/* What the run's notes say that this command does not follow. */
static void warn_note(const struct remote_entry *e)
{
	const char *elsewhere = remote_runs_note_elsewhere(e);
	char *uri, *named;

	if (elsewhere) {
		uri = layout_run_uri(e->run.bucket, e->run.run_prefix, LAYOUT_LOG);
		named = printable(elsewhere);
		msg_warning("a note of run %s says its log is at '%s'; reading it from %s, "
			    "where this repository's runs are",
			    e->run.run_id, named, uri);
		free(named);
		free(uri);
	}
	if (e->conflict)
		msg_warning("run %s has two different note lines: see 'git train log'",
			    e->run.run_id);
}

/* --node: a node the run has (run.json says how many). 0, or -1 with err_set. */
static int check_node(struct remote_runs_ctx *ctx, struct remote_entry *e, int node)
{
	if (!node)
		return 0;
	if (remote_runs_complete(ctx, e))
		return -1;
	if (e->run.nodes <= 1) {
		err_set("run %s ran on one instance: it has no node %d", e->run.run_id, node);
		err_hint("its log is node 0's: git train logs %s", e->run.run_id);
		return -1;
	}
	if (node >= e->run.nodes)
		return err_set("run %s has %d nodes: --node takes 0 to %d, not %d", e->run.run_id,
			       e->run.nodes, e->run.nodes - 1, node);
	return 0;
}

static int logs(const char *name, int follow_it, int node)
{
	struct remote_runs_ctx ctx;
	struct remote_runs runs = { 0 };
	struct remote_entry *e;
	struct sigaction saved[2];
	int ret = EXIT_FATAL;

	if (remote_runs_ctx_init(&ctx))
		goto out;
	cmd_warn_metrics_skipped(&ctx.metrics_skipped);
	ret = EXIT_FAILED;
	if (remote_runs_load(&runs, &ctx, 1) || !(e = remote_runs_find(&runs, &ctx, name)))
		goto out;
	warn_note(e);
	if (check_node(&ctx, e, node))
		goto out;
	if (!follow_it || e->recorded) {
		ret = print_all(&ctx, e, node);
		goto out;
	}
	cmd_catch_signals(saved);
	ret = follow(&ctx, e, node);
	cmd_restore_signals(saved);
	if (ret == 128 + SIGINT)
		err_clear();
out:
	if (ret != EXIT_OK)
		err_report();
	remote_runs_release(&runs);
	remote_runs_ctx_release(&ctx);
	return ret;
}

int cmd_logs(int argc, const char **argv)
{
	int follow_it = 0, ret = EXIT_USAGE, node = 0;
	const char *node_arg = NULL;
	char *end;
	long v;
	struct parsed_args pa = { 0 };
	const struct option opts[] = {
		OPT_BOOL('f', "follow", &follow_it, "keep printing the log until the run ends"),
		OPT_STRING(0, "node", &node_arg, "rank",
			   "the log of this node of a run on several instances (0: the run's)"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, logs_usage) != PARSE_OPT_OK)
		goto out;
	if (pa.nr_args != 1 || pa.dashdash) {
		msg_error(
			"%s",
			pa.nr_args
				? "'git train logs' shows one run at a time"
				: "name the run whose log to show ('git train status' lists them)");
		parse_options_usage(stderr, logs_usage, opts);
		goto out;
	}
	if (node_arg) {
		v = strtol(node_arg, &end, 10);
		if (!*node_arg || *end || v < 0 || v >= REMOTE_MAX_NODES) {
			msg_error("--node takes a node rank from 0 to %d, not '%s'",
				  REMOTE_MAX_NODES - 1, node_arg);
			goto out;
		}
		node = (int)v;
	}
	ret = logs(pa.args[0], follow_it, node);
out:
	parse_options_release(&pa);
	return ret;
}
