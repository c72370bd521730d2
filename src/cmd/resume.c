/*
 * git train resume <run>: runs an ended run again from its checkpoints,
 * under the same run id (issue 13). A local run that was interrupted
 * (Ctrl-C, SIGTERM), preempted, or failed with a train.retryOnExit code
 * runs again in its run directory: the code of its commit (archived again),
 * the same arguments, attempt n+1 with its checkpoints kept; its note line
 * is replaced by one with attempts=N and the attempts' summed duration. A
 * run that succeeded, failed otherwise, or is still running is refused. A
 * run on EC2 is cmd_resume_ec2()'s (cmd/resume-ec2.c).
 *
 * The run's commit, status and arguments come from its note line in this
 * repository; the run directory from the run id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "cmd/run-target.h"
#include "cmd/ui.h"
#include "git/config.h"
#include "git/notes.h"
#include "git/repo.h"
#include "run/attempts.h"
#include "run/backend-local.h"
#include "run/run.h"
#include "util/shell.h"
#include "util/strvec.h"

static const char *const resume_usage[] = {
	"git train resume <run>",
	NULL,
};

/*
 * The note line of run id, and the commit it is on. 0 found, 1 none, -1
 * with err_set.
 */
static int find_note_line(struct run_record *out, char hex[GIT_OID_HEXSZ + 1], git_repository *repo,
			  const char *id)
{
	struct notes_index idx;
	size_t i;
	int found = 1;

	if (notes_index_load(&idx, repo))
		return -1;
	for (i = 0; found == 1 && i < idx.nr; i++) {
		char *note = NULL;
		const char *p;
		int r = notes_index_read(&note, repo, &idx, &idx.entries[i].commit);

		if (r < 0) {
			found = -1;
			break;
		}
		for (p = note; r == 0 && *p;) {
			size_t n = strcspn(p, "\n");
			struct run_record rec;

			run_record_init(&rec);
			if (!run_record_parse(&rec, p, n) && rec.id && !strcmp(rec.id, id) &&
			    rec.backend && !strcmp(rec.backend, "local")) {
				*out = rec;
				git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &idx.entries[i].commit);
				found = 0;
				break;
			}
			err_clear();
			run_record_release(&rec);
			p += n + (p[n] == '\n');
		}
		free(note);
	}
	notes_index_release(&idx);
	return found;
}

/* Whether rec's outcome may be resumed; says why not. 0, or -1 with err_set. */
static int check_resumable(const struct run_record *rec, const struct config *cfg)
{
	struct retry_codes codes;
	const char *status = rec->status ? rec->status : "";
	int ok;

	if (!strcmp(status, "interrupted") || !strcmp(status, "preempted"))
		return 0;
	if (!strcmp(status, "succeeded")) {
		err_set("run %s succeeded: there is nothing to resume", rec->id);
		err_hint("start a new run with its checkpoints: git train local --resume-from %s",
			 rec->id);
		return -1;
	}
	if (strcmp(status, "failed"))
		return err_set("run %s %s: only an interrupted or preempted run is resumed",
			       rec->id, status);
	if (run_retry_codes_parse(&codes, cfg))
		return -1;
	ok = rec->exit_code > 0 && run_retry_codes_has(&codes, rec->exit_code);
	run_retry_codes_release(&codes);
	if (ok)
		return 0;
	err_set("run %s failed (exit %d): its script's own error, not an interruption", rec->id,
		rec->exit_code);
	err_hint("exit codes that mean \"retry\" go in train.retryOnExit; fix the script and "
		 "start a new run with: git train local --resume-from %s",
		 rec->id);
	return -1;
}

static int resume_local(git_repository *repo, struct config *cfg, const char *id)
{
	struct run_record old;
	struct strvec args = STRVEC_INIT;
	struct script_settings script;
	struct backend_local_opts lo;
	struct run_request req;
	struct cmd_ui ui;
	struct run run;
	char hex[GIT_OID_HEXSZ + 1];
	const char *words;
	int r, loaded = 0, code = EXIT_FAILED;

	run_record_init(&old);
	memset(&run, 0, sizeof(run));
	memset(&lo, 0, sizeof(lo));
	cmd_ui_init(&ui, 0, NULL);
	r = find_note_line(&old, hex, repo, id);
	if (r < 0)
		goto fail;
	if (r) {
		if (backend_local_running(repo, id)) {
			err_set("run %s is still running", id);
			err_hint("wait for it to end, or stop its git train local (Ctrl-C)");
		} else {
			err_set("run %s has no recorded outcome: git-train ended before recording "
				"it",
				id);
			err_hint("start a new run with its checkpoints: git train local "
				 "--resume-from %s",
				 id);
		}
		goto fail;
	}
	if (check_resumable(&old, cfg))
		goto fail;
	words = run_record_extra(&old, "args");
	if (words && shell_split(&args, words))
		goto fail;
	if (script_settings_load(&script, cfg))
		goto fatal;
	loaded = 1;
	memset(&req, 0, sizeof(req));
	req.repo = repo;
	req.cfg = cfg;
	req.rev = hex;
	req.verb = "running";
	req.script = &script;
	req.args = (const char *const *)args.v;
	req.nr_args = (int)args.nr;
	req.smoke = run_record_extra(&old, "smoke") != NULL;
	req.ui = &ui.ui;
	lo.resume_id = id;
	lo.resumed = &old;
	if (run_init(&run, &req, &backend_local, &lo))
		goto fatal;
	if (old.parent && !run.rec.parent) /* a --stash snapshot's, as its first attempt said */
		run.rec.parent = xstrdup(old.parent);
	if (run_prepare(&run) || run_start(&run) || run_follow(&run, STDOUT_FILENO, STDERR_FILENO))
		goto fatal;
	code = cmd_local_finish(&run);
	goto out;
fatal:
	code = EXIT_FATAL;
fail:
	err_report();
out:
	run_release(&run);
	if (loaded)
		script_settings_release(&script);
	cmd_ui_release(&ui);
	strvec_clear(&args);
	run_record_release(&old);
	return code;
}

static int resume(const char *name, int argc, const char **argv)
{
	git_repository *repo = NULL;
	struct config cfg;
	struct strvec local = STRVEC_INIT;
	int code = EXIT_FAILED, have_cfg = 0;

	memset(&cfg, 0, sizeof(cfg));
	if (!*name) {
		err_set("name the run: 'git train log' lists them");
		goto fail;
	}
	if (repo_open(&repo) || config_load(&cfg, repo))
		goto fail;
	have_cfg = 1;
	if (run_target_local_matches(&local, repo, name))
		goto fail;
	if (local.nr > 1) {
		err_set("run '%s' is ambiguous: %zu runs start with it", name, local.nr);
		err_hint("give more of the run id; 'git train log' lists them");
		goto fail;
	}
	if (local.nr == 1) {
		code = resume_local(repo, &cfg, local.v[0]);
		goto out;
	}
	if (run_target_has_bucket(&cfg)) {
		code = cmd_resume_ec2(argc, argv);
		goto out;
	}
	err_set("no run '%s' in this repository", name);
	err_hint("'git train log' lists the recorded runs");
fail:
	err_report();
out:
	strvec_clear(&local);
	if (have_cfg)
		config_release(&cfg);
	git_repository_free(repo);
	return code;
}

int cmd_resume(int argc, const char **argv)
{
	struct parsed_args pa = { 0 };
	int ret = EXIT_USAGE;
	const struct option opts[] = {
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, resume_usage) != PARSE_OPT_OK)
		goto out;
	if (pa.nr_args != 1 || pa.dashdash) {
		msg_error("%s", pa.nr_args > 1
					? "'git train resume' takes one run at a time"
					: "name the run to resume ('git train log' lists them)");
		parse_options_usage(stderr, resume_usage, opts);
		goto out;
	}
	ret = resume(pa.args[0], argc, argv);
out:
	parse_options_release(&pa);
	return ret;
}
