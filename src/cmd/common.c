#include "cmd/common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/builtin.h"
#include "cmd/ui.h"
#include "run/run.h"
#include "util/util.h"

int cmd_code_check(const struct code_opts *o)
{
	if (o->rev && o->stash) {
		msg_error("--rev and --stash cannot be used together");
		return -1;
	}
	if (o->include_untracked && !o->stash) {
		msg_error("--include-untracked needs --stash");
		return -1;
	}
	return 0;
}

int cmd_check_script_args(const struct parsed_args *pa, const char *what)
{
	struct buf words = BUF_INIT;
	int i;

	if (!pa->nr_args)
		return 0;
	for (i = 0; i < pa->nr_args; i++)
		buf_printf(&words, " %s", pa->args[i]);
	msg_error("unexpected argument '%s' before '--'", pa->args[0]);
	msg_hint("arguments for the training script go after '--': git train %s --%s", what,
		 buf_cstr(&words));
	buf_release(&words);
	return -1;
}

int cmd_code_resolve(git_commit **out, git_repository *repo, const struct code_opts *o,
		     const char *verb)
{
	return run_resolve_code(out, NULL, repo, o->rev, o->stash, o->include_untracked, verb,
				cmd_plain_ui());
}

void cmd_run_request(struct run_request *out, git_repository *repo, const struct config *cfg,
		     const struct code_opts *code, const struct script_settings *script,
		     const struct parsed_args *pa, int smoke, const struct ui *ui,
		     volatile sig_atomic_t *cancel)
{
	memset(out, 0, sizeof(*out));
	out->repo = repo;
	out->cfg = cfg;
	out->rev = code->rev;
	out->stash = code->stash;
	out->include_untracked = code->include_untracked;
	out->verb = "running";
	out->script = script;
	out->args = pa->rest;
	out->nr_args = pa->nr_rest;
	out->smoke = smoke;
	out->ui = ui;
	out->cancel = cancel;
}

int cmd_exit_status(const struct run_record *rec)
{
	const char *status = rec->status ? rec->status : "";

	if (!strcmp(status, "succeeded"))
		return EXIT_OK;
	if (!strcmp(status, "interrupted"))
		return EXIT_INTERRUPTED;
	if (!strcmp(status, "failed") && rec->exit_code > 0 && rec->exit_code < 256)
		return rec->exit_code;
	return EXIT_FAILED;
}

/* Quoted as git quotes GIT_CONFIG_PARAMETERS, so any value survives. */
int cmd_config_override(struct config *cfg, const char *key, const char *value)
{
	struct buf param = BUF_INIT;
	const char *p;
	int ret;

	buf_printf(&param, "'%s'='", key);
	for (p = value; *p; p++) {
		if (*p == '\'')
			buf_puts(&param, "'\\''");
		else
			buf_putc(&param, *p);
	}
	buf_putc(&param, '\'');
	ret = config_parse_parameters(cfg, buf_cstr(&param));
	buf_release(&param);
	return ret;
}

int cmd_inputs_apply(struct config *cfg, const struct inputs_opts *o)
{
	size_t i;

	for (i = 0; i < o->data.nr; i++)
		if (cmd_config_override(cfg, "train.data", o->data.v[i]))
			return -1;
	for (i = 0; i < o->env.nr; i++)
		if (cmd_config_override(cfg, "train.env", o->env.v[i]))
			return -1;
	return 0;
}

void cmd_inputs_release(struct inputs_opts *o)
{
	strvec_clear(&o->data);
	strvec_clear(&o->env);
}

volatile sig_atomic_t cmd_interrupted;
static struct cmd_ui plain;

static void plain_ui_init(void)
{
	cmd_ui_init(&plain, 0, &cmd_interrupted);
}

const struct ui *cmd_plain_ui(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, plain_ui_init);
	return &plain.ui;
}

static void on_signal(int sig)
{
	(void)sig;
	cmd_interrupted = 1;
}

void cmd_catch_signals(struct sigaction saved[2])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &saved[0]);
	sigaction(SIGTERM, &sa, &saved[1]);
}

void cmd_restore_signals(const struct sigaction saved[2])
{
	sigaction(SIGINT, &saved[0], NULL);
	sigaction(SIGTERM, &saved[1], NULL);
}

void cmd_warn_metrics_skipped(const struct buf *skipped)
{
	const char *p = skipped->ptr;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		msg_warning("%.*s; left out here: runs recorded now get no metric from it", (int)n,
			    p);
		p += n;
		if (*p)
			p++;
	}
}
