#include "run/runner.h"

#include <stdlib.h>
#include <string.h>

#include "run/deps.h"
#include "run/layout.h"
#include "util/shell.h"

/* 1 when a line of text is exactly word. */
static int has_line(const char *text, const char *word)
{
	size_t n = strlen(word);
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len == n && !memcmp(p, word, n))
			return 1;
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

/*
 * Appends `cat >"$dir/<name>" <<'EOF'` with body and a delimiter that no
 * line of body is: the body arrives as it is, whatever it holds.
 */
static void here_doc(struct buf *out, const char *name, const char *body)
{
	struct buf delim = BUF_INIT;
	int i;

	buf_puts(&delim, "GIT_TRAIN_EOF");
	for (i = 1; has_line(body, buf_cstr(&delim)); i++) {
		buf_reset(&delim);
		buf_printf(&delim, "GIT_TRAIN_EOF_%d", i);
	}
	buf_printf(out, "cat >\"$dir/%s\" <<'%s'\n%s", name, delim.ptr, body);
	if (!*body || body[strlen(body) - 1] != '\n')
		buf_putc(out, '\n');
	buf_printf(out, "%s\n", delim.ptr);
	buf_release(&delim);
}

static void assign(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, "%s=", name);
	shell_quote(out, value ? value : "", value ? strlen(value) : 0);
	buf_putc(out, '\n');
}

static void assign_key(struct buf *out, const char *name, const char *run_prefix,
		       enum layout_item item)
{
	char *key = layout_run_key(run_prefix, item);

	assign(out, name, key);
	free(key);
}

/* A key of node job->node_rank's: "<run prefix>nodes/<R>/<item's name>". */
static void assign_node_key(struct buf *out, const char *name, const struct runner_job *job,
			    enum layout_item item)
{
	char *nodes = layout_run_key(job->run_prefix, LAYOUT_NODES);
	char *prefix = xstrfmt("%s/%d/", nodes, job->node_rank);

	assign_key(out, name, prefix, item);
	free(prefix);
	free(nodes);
}

/*
 * DATA: "name TAB variable TAB fingerprint TAB bucket TAB prefix" lines;
 * USER_ENV: the names of train.env's variables, each value in
 * USER_ENV_<NAME>; SECRETS: "NAME TAB ssm|secretsmanager TAB reference"
 * lines. Names and references are checked (git/inputs.h): no tab, newline
 * or quote in them.
 */
static void assign_inputs(struct buf *out, const struct run_inputs *in)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < in->nr_data; i++) {
		const struct inputs_data *d = &in->data[i];

		buf_printf(&b, "%s\t%s\t%s\t%s\t%s\n", d->name, d->var,
			   d->fingerprint ? d->fingerprint : "", d->bucket, d->prefix);
	}
	assign(out, "DATA", buf_cstr(&b));
	buf_reset(&b);
	for (i = 0; i < in->nr_env; i++) {
		char *name = xstrfmt("USER_ENV_%s", in->env[i].name);

		buf_printf(&b, "%s%s", i ? " " : "", in->env[i].name);
		assign(out, name, in->env[i].value);
		free(name);
	}
	assign(out, "USER_ENV", buf_cstr(&b));
	buf_reset(&b);
	for (i = 0; i < in->nr_secrets; i++)
		buf_printf(&b, "%s\t%s\t%s\n", in->secrets[i].name,
			   in->secrets[i].manager ? "secretsmanager" : "ssm", in->secrets[i].ref);
	assign(out, "SECRETS", buf_cstr(&b));
	buf_release(&b);
}

/* start.sh: the run's settings and the script's arguments, then the runner. */
static void start_script(struct buf *out, const struct runner_job *job)
{
	int worker = job->nodes > 1 && job->node_rank > 0;

	buf_puts(out, "RUNNER_DIR=$1\n");
	assign(out, "RUN_ID", job->run_id);
	assign(out, "COMMIT", job->commit);
	assign(out, "BUCKET", job->bucket);
	assign(out, "CODE_KEY", job->code_key);
	assign(out, "CODE_SHA256", job->code_sha256);
	if (worker) {
		/* node R > 0: its own log and result, no outputs (layout.h) */
		assign_node_key(out, "LOG_KEY", job, LAYOUT_LOG);
		assign_node_key(out, "RESULT_KEY", job, LAYOUT_RESULT);
		assign(out, "OUTPUTS_KEY", NULL);
	} else {
		assign_key(out, "LOG_KEY", job->run_prefix, LAYOUT_LOG);
		assign_key(out, "RESULT_KEY", job->run_prefix, LAYOUT_RESULT);
		assign_key(out, "OUTPUTS_KEY", job->run_prefix, LAYOUT_OUTPUTS);
	}
	assign(out, "REGION", job->region);
	assign(out, "SCRIPT", job->script);
	assign(out, "INTERPRETER", job->interpreter);
	assign(out, "SETUP", job->setup);
	assign(out, "OUTPUTS_DIR", job->outputs_dir ? job->outputs_dir : "outputs");
	buf_printf(out, "KEEP=%d\n", job->keep ? 1 : 0);
	buf_printf(out, "LOG_INTERVAL=%d\n", job->log_interval > 0 ? job->log_interval : 5);
	buf_printf(out, "IDLE_TIMEOUT=%ld\n", job->idle_timeout > 0 ? job->idle_timeout : 0);
	buf_printf(out, "DEADLINE=%lld\n", job->deadline > 0 ? (long long)job->deadline : 0LL);
	if (worker)
		assign(out, "OUTPUTS_SUMS_KEY", NULL);
	else
		assign_key(out, "OUTPUTS_SUMS_KEY", job->run_prefix, LAYOUT_OUTPUTS_SUMS);
	assign(out, "DEPS_PREFIX", job->envs_prefix);
	buf_printf(out, "GPUS=%d\n", job->gpus > 0 ? job->gpus : 0);
	assign(out, "FRAMEWORK", job->framework);
	assign(out, "LAUNCHER", job->launcher);
	buf_printf(out, "NPROC=%d\n", job->nproc > 0 ? job->nproc : 1);
	if (job->inputs)
		assign_inputs(out, job->inputs);
	assign_key(out, "CHECKPOINT_KEY", job->run_prefix, LAYOUT_CHECKPOINTS);
	/* the run's attempts are node 0's */
	if (worker)
		assign(out, "ATTEMPTS_KEY", NULL);
	else
		assign_key(out, "ATTEMPTS_KEY", job->run_prefix, LAYOUT_ATTEMPTS);
	buf_printf(out, "CHECKPOINT_INTERVAL=%ld\n",
		   job->checkpoint_interval > 0 ? job->checkpoint_interval : 300);
	assign(out, "RESUME_FROM_KEY", job->resume_from_key);
	buf_printf(out, "ATTEMPT=%d\n", job->attempt > 0 ? job->attempt : 1);
	assign(out, "SPOT_REQUEST", job->spot_request);
	buf_printf(out, "MAX_INTERRUPTIONS=%d\n",
		   job->max_interruptions > 0 ? job->max_interruptions : 0);
	assign(out, "RETRY_ON_EXIT", job->retry_on_exit);
	buf_printf(out, "NODES=%d\n", job->nodes > 1 ? job->nodes : 1);
	buf_printf(out, "NODE_RANK=%d\n",
		   job->nodes > 1 && job->node_rank > 0 ? job->node_rank : 0);
	assign(out, "MASTER_ADDR", job->nodes > 1 ? job->master_addr : NULL);
	buf_printf(out, "MASTER_PORT=%d\n", job->master_port > 0 ? job->master_port : 29500);
	if (job->nodes > 1) {
		/* node 0 watches the others' results, the others the run's */
		char *nodes = layout_run_key(job->run_prefix, LAYOUT_NODES);
		char *prefix = xstrfmt("%s/", nodes);

		assign(out, "NODES_KEY", prefix);
		free(prefix);
		free(nodes);
		assign_key(out, "RUN_RESULT_KEY", job->run_prefix, LAYOUT_RESULT);
		buf_printf(out, "RESUME_TIMEOUT=%ld\n",
			   job->resume_timeout > 0 ? job->resume_timeout : 600);
		assign(out, "NODE_SPOT_REQUESTS", worker ? NULL : job->node_spot_requests);
	}
	buf_puts(out, "set --");
	if (job->nr_args) {
		buf_putc(out, ' ');
		shell_quote_argv(out, job->args, job->nr_args);
	}
	buf_puts(out, "\n. \"$RUNNER_DIR/runner.sh\"\n");
}

char *runner_interpreter(const struct script_settings *s)
{
	struct strvec words = STRVEC_INIT;
	struct buf out = BUF_INIT;
	size_t i;

	script_interpreter(&words, s);
	for (i = 0; i < words.nr; i++)
		buf_printf(&out, "%s%s", i ? " " : "", words.v[i]);
	strvec_clear(&words);
	if (!out.len) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out);
}

/*
 * private_dir <dir>: makes dir with mode 700 unless it exists, then fails
 * unless it is a directory (not a symbolic link) of this user's that no one
 * else may enter: in a /tmp that every user shares, another may have made
 * it first, or planted a link to somewhere of theirs.
 */
static const char private_dir_sh[] =
	"private_dir() {\n"
	"\tmkdir -m 700 \"$1\" 2>/dev/null || :\n"
	"\tset -- \"$1\" $(LC_ALL=C ls -ldn \"$1\" 2>/dev/null)\n"
	"\tif test -L \"$1\"; then\n"
	"\t\twhy='it is a symbolic link'\n"
	"\telif ! test -d \"$1\"; then\n"
	"\t\twhy='it is not a directory, and cannot be made one'\n"
	"\telif test \"$4\" != \"$(id -u)\"; then\n"
	"\t\twhy=\"it belongs to user $4\"\n"
	"\telse\n"
	"\t\tcase $2 in\n"
	"\t\td[r-][w-][xsS-]------ | d[r-][w-][xsS-]------.) return 0 ;;\n"
	"\t\tesac\n"
	"\t\twhy=\"other users may use it ($2)\"\n"
	"\tfi\n"
	"\techo \"git-train: refusing the runner directory $1: $why\" >&2\n"
	"\texit 1\n"
	"}\n";

char *runner_command(const struct runner_job *job)
{
	struct buf out = BUF_INIT, start = BUF_INIT;

	start_script(&start, job);
	buf_puts(&out, "set -e\n");
	buf_puts(&out, private_dir_sh);
	buf_puts(&out, "if test -n \"${GIT_TRAIN_RUNNER_DIR:-}\"; then\n"
		       "\tbase=$GIT_TRAIN_RUNNER_DIR\n"
		       "elif test \"$(id -u)\" = 0; then\n"
		       "\tbase=/var/lib/git-train\n"
		       "else\n"
		       "\tbase=${TMPDIR:-/tmp}/git-train-$(id -u)\n"
		       "\tprivate_dir \"$base\"\n"
		       "fi\n");
	buf_puts(&out, "dir=$base/");
	shell_quote(&out, job->run_id, strlen(job->run_id));
	buf_puts(&out, "\nmkdir -p \"$dir\"\n");
	here_doc(&out, "runner.sh", runner_sh);
	here_doc(&out, "deps.sh", deps_sh);
	here_doc(&out, "start.sh", buf_cstr(&start));
	/* detached: training outlives this command and SSM's 48 h cap */
	buf_puts(
		&out,
		"if command -v setsid >/dev/null 2>&1; then\n"
		"\tsetsid nohup sh \"$dir/start.sh\" \"$dir\" </dev/null >\"$dir/runner.out\" 2>&1 &\n"
		"else\n"
		"\tnohup sh \"$dir/start.sh\" \"$dir\" </dev/null >\"$dir/runner.out\" 2>&1 &\n"
		"fi\n"
		"echo \"git-train: runner started (pid $!)\"\n");
	buf_release(&start);
	return buf_detach(&out);
}
