/*
 * cmd/sweep: a set of runs of one commit over the cross product of
 * parameters (cmd/sweep.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/sweep.h"
#include "git/history.h"

int cmd_sweep_child;
static int report_fd = -1;

/* A parameter's name: a letter, then letters, digits or '_'. */
static int name_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

static struct sweep_param *find_param(const struct sweep *s, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < s->nr_params; i++)
		if (strlen(s->params[i].name) == n && !memcmp(s->params[i].name, name, n))
			return &s->params[i];
	return NULL;
}

/*
 * Calls fn for each piece of arg: a literal run (name NULL) or a
 * placeholder {name}. {{name}} is the literal {name}.
 */
struct piece_fn {
	void (*fn)(void *ctx, const char *p, size_t n, int placeholder);
	void *ctx;
};

static void scan(const char *arg, const struct piece_fn *f)
{
	const char *p = arg, *lit = arg;

	while (*p) {
		const char *close;
		size_t n;

		if (p[0] == '{' && p[1] == '{') {
			close = strstr(p + 2, "}}");
			n = close ? (size_t)(close - p - 2) : 0;
			if (close && name_ok(p + 2, n)) {
				f->fn(f->ctx, lit, (size_t)(p - lit), 0);
				f->fn(f->ctx, p + 1, n + 2, 0);
				p = lit = close + 2;
				continue;
			}
		}
		if (p[0] == '{') {
			close = strchr(p + 1, '}');
			n = close ? (size_t)(close - p - 1) : 0;
			if (close && name_ok(p + 1, n)) {
				f->fn(f->ctx, lit, (size_t)(p - lit), 0);
				f->fn(f->ctx, p + 1, n, 1);
				p = lit = close + 1;
				continue;
			}
		}
		p++;
	}
	f->fn(f->ctx, lit, (size_t)(p - lit), 0);
}

struct check_ctx {
	struct sweep *s;
	int *used;
	int bad;
};

static void check_piece(void *ctx, const char *p, size_t n, int placeholder)
{
	struct check_ctx *c = ctx;
	struct sweep_param *param;

	if (!placeholder)
		return;
	param = find_param(c->s, p, n);
	if (param) {
		c->used[param - c->s->params] = 1;
	} else if (!c->bad) {
		msg_error("the script arguments name {%.*s}, but no --sweep %.*s=... gives it",
			  (int)n, p, (int)n, p);
		msg_hint("write {{%.*s}} for a literal {%.*s}", (int)n, p, (int)n, p);
		c->bad = 1;
	}
}

static void new_id(struct sweep *s)
{
	time_t now = time(NULL);
	unsigned short r;
	struct tm tm;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned short)(getpid() ^ (unsigned)now);
	gmtime_r(&now, &tm);
	s->id = xstrfmt("sweep-%04d%02d%02d-%02d%02d%02d-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)r);
}

/* One --sweep name=v1,v2: 0, or -1 after the error. */
static int add_spec(struct sweep *s, const char *spec)
{
	const char *eq = strchr(spec, '='), *v;
	struct sweep_param *p;

	if (!eq || !name_ok(spec, (size_t)(eq - spec))) {
		msg_error("--sweep takes <name>=<value>,<value>..., a name being a letter then "
			  "letters, digits or '_': not '%s'",
			  spec);
		return -1;
	}
	if (find_param(s, spec, (size_t)(eq - spec))) {
		msg_error("--sweep %.*s is given twice: give its values in one --sweep",
			  (int)(eq - spec), spec);
		return -1;
	}
	s->params = xrealloc(s->params, (s->nr_params + 1) * sizeof(*s->params));
	p = &s->params[s->nr_params++];
	p->name = xstrndup(spec, (size_t)(eq - spec));
	memset(&p->values, 0, sizeof(p->values));
	for (v = eq + 1;; v++) {
		const char *end = strchrnul(v, ',');
		char *value = xstrndup(v, (size_t)(end - v));
		size_t i;

		if (!*value) {
			msg_error("--sweep %s: an empty value (values are separated by ',' and "
				  "cannot hold one)",
				  p->name);
			free(value);
			return -1;
		}
		for (i = 0; i < p->values.nr; i++)
			if (!strcmp(p->values.v[i], value)) {
				msg_error("--sweep %s: the value '%s' is given twice", p->name,
					  value);
				free(value);
				return -1;
			}
		strvec_push_nodup(&p->values, value);
		if (!*end)
			break;
		v = end;
	}
	return 0;
}

static int parse(struct sweep *out, const struct sweep_opts *o, const struct parsed_args *pa,
		 int def_parallel)
{
	struct check_ctx c;
	struct piece_fn f = { check_piece, &c };
	size_t i;
	int k;

	memset(out, 0, sizeof(*out));
	if (!o->specs.nr) {
		if (o->parallel) {
			msg_error("--parallel needs --sweep");
			return -1;
		}
		return 1;
	}
	if (o->parallel < 0) {
		msg_error("--parallel takes a number of runs, at least 1");
		return -1;
	}
	out->total = 1;
	for (i = 0; i < o->specs.nr; i++) {
		if (add_spec(out, o->specs.v[i]))
			return -1;
		out->total *= out->params[out->nr_params - 1].values.nr;
		if (out->total > 10000) {
			msg_error("--sweep: more than 10000 runs");
			return -1;
		}
	}
	c.s = out;
	c.used = xcalloc(out->nr_params, sizeof(int));
	c.bad = 0;
	for (k = 0; k < pa->nr_rest && !c.bad; k++)
		scan(pa->rest[k], &f);
	for (i = 0; i < out->nr_params && !c.bad; i++)
		if (!c.used[i]) {
			msg_error("--sweep %s: no script argument uses {%s}", out->params[i].name,
				  out->params[i].name);
			msg_hint(
				"name it after '--', e.g. git train ... --sweep %s=... -- --%s {%s}",
				out->params[i].name, out->params[i].name, out->params[i].name);
			c.bad = 1;
		}
	free(c.used);
	if (c.bad)
		return -1;
	out->parallel = o->parallel ? o->parallel : def_parallel;
	if (!out->parallel || (size_t)out->parallel > out->total)
		out->parallel = (int)out->total;
	new_id(out);
	return 0;
}

/* A usage error leaves nothing to release: what was read is released here. */
int cmd_sweep_parse(struct sweep *out, const struct sweep_opts *o, const struct parsed_args *pa,
		    int def_parallel)
{
	int r = parse(out, o, pa, def_parallel);

	if (r < 0)
		cmd_sweep_release(out);
	return r;
}

void cmd_sweep_release(struct sweep *s)
{
	size_t i;

	for (i = 0; i < s->nr_params; i++) {
		free(s->params[i].name);
		strvec_clear(&s->params[i].values);
	}
	free(s->params);
	free(s->id);
	memset(s, 0, sizeof(*s));
}

void cmd_sweep_opts_release(struct sweep_opts *o)
{
	strvec_clear(&o->specs);
}

/* The value of parameter p in run i: the last parameter varies fastest. */
static const char *value_of(const struct sweep *s, size_t p, size_t i)
{
	size_t k;

	for (k = s->nr_params; k-- > p + 1;)
		i /= s->params[k].values.nr;
	return s->params[p].values.v[i % s->params[p].values.nr];
}

struct subst_ctx {
	const struct sweep *s;
	size_t i;
	struct buf *out;
};

static void subst_piece(void *ctx, const char *p, size_t n, int placeholder)
{
	struct subst_ctx *c = ctx;

	if (placeholder)
		buf_puts(c->out,
			 value_of(c->s, (size_t)(find_param(c->s, p, n) - c->s->params), c->i));
	else
		buf_add(c->out, p, n);
}

/* The script arguments of run i, placeholders replaced. */
static void sweep_args(struct strvec *out, const struct sweep *s, size_t i,
		       const struct parsed_args *pa)
{
	struct buf b = BUF_INIT;
	struct subst_ctx c = { s, i, &b };
	struct piece_fn f = { subst_piece, &c };
	int k;

	for (k = 0; k < pa->nr_rest; k++) {
		buf_reset(&b);
		scan(pa->rest[k], &f);
		strvec_push(out, buf_cstr(&b));
	}
	buf_release(&b);
}

void cmd_sweep_point(struct parsed_args *pa, struct strvec *args, struct strvec *fields,
		     const struct sweep *s, size_t i, const struct parsed_args *base)
{
	size_t p;

	*pa = *base;
	sweep_args(args, s, i, base);
	pa->rest = (const char **)args->v;
	pa->nr_rest = (int)args->nr;
	strvec_push_nodup(fields, xstrfmt("sweep=%s", s->id));
	for (p = 0; p < s->nr_params; p++)
		strvec_push_nodup(fields,
				  xstrfmt("param.%s=%s", s->params[p].name, value_of(s, p, i)));
}

void cmd_sweep_label(struct buf *out, const struct sweep *s, size_t i)
{
	size_t p;

	for (p = 0; p < s->nr_params; p++)
		buf_printf(out, "%s%s=%s", p ? " " : "", s->params[p].name, value_of(s, p, i));
}

void cmd_sweep_started(const char *run_id)
{
	if (report_fd >= 0) {
		char *line = xstrfmt("%s\n", run_id);

		write_all(report_fd, line, strlen(line));
		free(line);
	}
}

/* One run of the sweep, as the parent sees it. */
struct slot {
	pid_t pid; /* 0: not started; -1: reaped */
	int fd[3]; /* stdout, stderr, the run id; -1: closed */
	struct buf part[3];
	char *prefix;
	char *run_id;
	int status; /* the exit status once reaped */
};

static void emit(struct slot *sl, int k, const char *p, size_t n)
{
	struct buf line = BUF_INIT;
	int fd = k == 0 ? STDOUT_FILENO : STDERR_FILENO;

	if (k == 2) {
		if (!sl->run_id)
			sl->run_id = xstrndup(p, n);
		return;
	}
	buf_printf(&line, "%s ", sl->prefix);
	buf_add(&line, p, n);
	buf_putc(&line, '\n');
	if (k == 0)
		fflush(stdout);
	write_all(fd, line.ptr, line.len);
	buf_release(&line);
}

/* Reads what fd k of sl has; closes it at its end. The bytes read, 0 at the end, -1 for none yet.
 */
static ssize_t drain(struct slot *sl, int k)
{
	char chunk[8192];
	ssize_t n = read(sl->fd[k], chunk, sizeof(chunk));
	struct buf *b = &sl->part[k];
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0) {
		if (b->len)
			emit(sl, k, b->ptr, b->len);
		buf_reset(b);
		close(sl->fd[k]);
		sl->fd[k] = -1;
		return 0;
	}
	buf_add(b, chunk, (size_t)n);
	while ((nl = memchr(b->ptr, '\n', b->len))) {
		size_t len = (size_t)(nl - b->ptr);

		emit(sl, k, b->ptr, len);
		memmove(b->ptr, nl + 1, b->len - len - 1);
		b->len -= len + 1;
	}
	return n;
}

static int spawn(struct slot *slots, size_t nr, size_t i, int (*one)(void *, size_t), void *ctx,
		 const struct sigaction saved[2])
{
	int p[3][2], k, devnull;
	size_t j;
	pid_t pid;

	for (k = 0; k < 3; k++)
		if (pipe2(p[k], O_CLOEXEC)) {
			while (k-- > 0) {
				close(p[k][0]);
				close(p[k][1]);
			}
			return err_set("cannot start run %zu of the sweep: %s", i + 1,
				       strerror(errno));
		}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		for (k = 0; k < 3; k++) {
			close(p[k][0]);
			close(p[k][1]);
		}
		return err_set("cannot start run %zu of the sweep: %s", i + 1, strerror(errno));
	}
	if (!pid) {
		/* the others' pipes are not this run's: their ends must close with theirs */
		for (j = 0; j < nr; j++)
			for (k = 0; k < 3; k++)
				if (slots[j].fd[k] >= 0)
					close(slots[j].fd[k]);
		cmd_restore_signals(saved);
		cmd_interrupted = 0;
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			close(devnull);
		}
		dup2(p[0][1], STDOUT_FILENO);
		dup2(p[1][1], STDERR_FILENO);
		for (k = 0; k < 3; k++)
			close(p[k][0]);
		close(p[0][1]);
		close(p[1][1]);
		report_fd = p[2][1];
		cmd_sweep_child = 1;
		k = one(ctx, i);
		fflush(NULL);
		_exit(k);
	}
	for (k = 0; k < 3; k++) {
		close(p[k][1]);
		slots[i].fd[k] = p[k][0];
	}
	slots[i].pid = pid;
	return 0;
}

static void summary(const struct sweep *s, struct slot *slots, const char *what, int detached,
		    int interrupted)
{
	size_t i, ok = 0, failed = 0, not_started = 0, w = 0;
	struct buf b = BUF_INIT;

	for (i = 0; i < s->total; i++) {
		if (strlen(slots[i].prefix) > w)
			w = strlen(slots[i].prefix);
		if (!slots[i].pid)
			not_started++;
		else if (slots[i].status)
			failed++;
		else
			ok++;
	}
	buf_printf(&b, "sweep %s: %zu run%s", s->id, s->total, s->total == 1 ? "" : "s");
	if (ok)
		buf_printf(&b, ", %zu %s", ok, detached ? "started" : "succeeded");
	if (failed)
		buf_printf(&b, ", %zu %s", failed,
			   interrupted ? "interrupted"
			   : detached  ? "not started"
				       : "failed");
	if (not_started)
		buf_printf(&b, ", %zu not started", not_started);
	puts(buf_cstr(&b));
	for (i = 0; i < s->total; i++) {
		buf_reset(&b);
		buf_printf(&b, "  %-*s  %-28s  ", (int)w, slots[i].prefix,
			   slots[i].run_id ? slots[i].run_id : "-");
		if (!slots[i].pid)
			buf_puts(&b, "not started");
		else if (!slots[i].status)
			buf_puts(&b, detached ? "started" : "succeeded");
		else if (slots[i].status == EXIT_INTERRUPTED && slots[i].run_id &&
			 strcmp(what, "local"))
			buf_puts(&b, "started, goes on");
		else if (slots[i].status == EXIT_INTERRUPTED)
			buf_puts(&b, "interrupted");
		else
			buf_printf(&b, "failed (exit %d)", slots[i].status);
		puts(buf_cstr(&b));
	}
	fflush(stdout);
	buf_release(&b);
	if (strcmp(what, "local")) {
		size_t going = 0;

		for (i = 0; i < s->total; i++)
			going += slots[i].run_id && (detached || interrupted) &&
				 (!slots[i].status || slots[i].status == EXIT_INTERRUPTED);
		if (going)
			msg_hint("%zu run%s go%s on: 'git train status' shows them, "
				 "'git train logs -f <run>' follows one, 'git train stop <run>' "
				 "stops one",
				 going, going == 1 ? "" : "s", going == 1 ? "es" : "");
	}
	msg_hint("compare them: git train compare --sweep %s", s->id);
}

int cmd_sweep_run(const struct sweep *s, int (*one)(void *ctx, size_t i), void *ctx,
		  const char *what, int detached)
{
	struct slot *slots = xcalloc(s->total, sizeof(*slots));
	struct pollfd *pfd = xcalloc(s->total * 3, sizeof(*pfd));
	struct sigaction saved[2];
	size_t next = 0, live = 0, i, done = 0;
	int stopping = 0, ret = EXIT_OK, k;
	struct buf label = BUF_INIT;

	for (i = 0; i < s->total; i++) {
		buf_reset(&label);
		cmd_sweep_label(&label, s, i);
		slots[i].prefix = xstrfmt("[%s]", buf_cstr(&label));
		slots[i].fd[0] = slots[i].fd[1] = slots[i].fd[2] = -1;
	}
	buf_release(&label);
	fprintf(stderr, "sweep %s: %zu run%s (%s), at most %d at once\n", s->id, s->total,
		s->total == 1 ? "" : "s", what, s->parallel);
	cmd_catch_signals(saved);
	while (done < s->total) {
		size_t n = 0;
		pid_t pid;
		int st;

		if (cmd_interrupted && !stopping) {
			stopping = 1;
			msg_warning("interrupted: no new run of the sweep is started");
			for (i = 0; i < next; i++)
				if (slots[i].pid > 0)
					kill(slots[i].pid, SIGINT);
			done += s->total - next;
			next = s->total;
			if (done >= s->total)
				break;
		}
		while (!stopping && live < (size_t)s->parallel && next < s->total) {
			if (spawn(slots, s->total, next, one, ctx, saved)) {
				err_report();
				stopping = 1;
				ret = EXIT_FAILED;
				done += s->total - next;
				next = s->total;
				break;
			}
			next++;
			live++;
		}
		for (i = 0; i < next; i++)
			for (k = 0; k < 3; k++)
				if (slots[i].fd[k] >= 0) {
					pfd[n].fd = slots[i].fd[k];
					pfd[n].events = POLLIN;
					pfd[n].revents = 0;
					n++;
				}
		if (n && poll(pfd, n, 200) > 0) {
			size_t m = 0;

			for (i = 0; i < next; i++)
				for (k = 0; k < 3; k++)
					if (slots[i].fd[k] >= 0 && pfd[m++].revents)
						drain(&slots[i], k);
		} else if (!n && live) {
			usleep(100000);
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (i = 0; i < next && slots[i].pid != pid; i++)
				;
			if (i == next)
				continue;
			/* what is left in its pipes, without waiting for other holders */
			for (k = 0; k < 3; k++)
				if (slots[i].fd[k] >= 0) {
					int fl = fcntl(slots[i].fd[k], F_GETFL);

					fcntl(slots[i].fd[k], F_SETFL, fl | O_NONBLOCK);
					while (slots[i].fd[k] >= 0) {
						if (drain(&slots[i], k) < 0) {
							if (slots[i].part[k].len)
								emit(&slots[i], k,
								     slots[i].part[k].ptr,
								     slots[i].part[k].len);
							close(slots[i].fd[k]);
							slots[i].fd[k] = -1;
						}
					}
				}
			slots[i].status = WIFEXITED(st)	    ? WEXITSTATUS(st)
					  : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
							    : EXIT_FAILED;
			live--;
			done++;
		}
	}
	cmd_restore_signals(saved);
	summary(s, slots, what, detached, stopping);
	for (i = 0; i < s->total; i++) {
		if (ret == EXIT_OK && slots[i].pid && slots[i].status)
			ret = EXIT_FAILED;
		for (k = 0; k < 3; k++)
			buf_release(&slots[i].part[k]);
		free(slots[i].prefix);
		free(slots[i].run_id);
	}
	if (stopping && cmd_interrupted)
		ret = EXIT_INTERRUPTED;
	free(slots);
	free(pfd);
	return ret;
}

void cmd_sweep_tally_add(struct sweep_tally *t, const char *status, const struct run_record *rec)
{
	double v;

	t->nr++;
	if (!status || !strcmp(status, "running") || !strcmp(status, "starting") ||
	    !strncmp(status, "waiting", 7))
		t->running++;
	else if (!strcmp(status, "succeeded"))
		t->succeeded++;
	else if (!strncmp(status, "failed", 6))
		t->failed++;
	else
		t->other++;
	if (!rec || !rec->nr_metrics)
		return;
	if (!t->metric)
		t->metric = xstrdup(rec->metrics[0].name);
	if (!history_metric(&v, rec, t->metric) || v != v)
		return;
	if (!t->best_run || (history_lower_is_better(t->metric) ? v < t->best : v > t->best)) {
		t->best = v;
		free(t->best_run);
		t->best_run = xstrdup(rec->id);
	}
}

void cmd_sweep_tally_line(struct buf *out, const char *id, const struct sweep_tally *t)
{
	buf_printf(out, "sweep %s: %zu run%s", id, t->nr, t->nr == 1 ? "" : "s");
	if (t->succeeded)
		buf_printf(out, ", %zu succeeded", t->succeeded);
	if (t->failed)
		buf_printf(out, ", %zu failed", t->failed);
	if (t->running)
		buf_printf(out, ", %zu running", t->running);
	if (t->other)
		buf_printf(out, ", %zu other", t->other);
	if (t->best_run) {
		buf_printf(out, ", best %s=", t->metric);
		run_record_put_number(out, t->best);
		buf_printf(out, " (%s)", t->best_run);
	}
}

void cmd_sweep_tally_release(struct sweep_tally *t)
{
	free(t->metric);
	free(t->best_run);
	memset(t, 0, sizeof(*t));
}
