/*
 * builtin: the subcommands. Each takes the words after its name and returns
 * the process exit code: 0 ok, 1 the run or operation failed, 128 fatal,
 * 129 usage; `local` returns the training script's own exit code.
 */
#ifndef CMD_BUILTIN_H
#define CMD_BUILTIN_H

/* git-train's exit statuses (the man page's EXIT STATUS); a script's own passes through. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_NO_SPOT = 75, /* EX_TEMPFAIL: no spot capacity and no fallback; try again later */
	EXIT_FATAL = 128,
	EXIT_USAGE = 129,
	EXIT_INTERRUPTED = 130, /* 128 + SIGINT, as a shell reports Ctrl-C */
};

int cmd_local(int argc, const char **argv);
int cmd_archive(int argc, const char **argv);
int cmd_log(int argc, const char **argv);
int cmd_doctor(int argc, const char **argv);
int cmd_upload(int argc, const char **argv);
int cmd_aws_call(int argc, const char **argv);
int cmd_run(int argc, const char **argv);
int cmd_status(int argc, const char **argv);
int cmd_logs(int argc, const char **argv);
int cmd_stop(int argc, const char **argv);
int cmd_gc(int argc, const char **argv);
int cmd_smoke(int argc, const char **argv);
int cmd_hooks(int argc, const char **argv);
int cmd_notes(int argc, const char **argv);
int cmd_init(int argc, const char **argv);
int cmd_compare(int argc, const char **argv);
int cmd_outputs(int argc, const char **argv);
int cmd_resume(int argc, const char **argv);
/* git train resume of a run on EC2 (cmd/resume-ec2.c): cmd_resume's argv as it came. */
int cmd_resume_ec2(int argc, const char **argv);
struct remote_runs_ctx;
struct remote_entry;
/*
 * Attaches to e (its run.json read: remote_runs_complete()) with the right
 * to move it, its log shown from byte shown on, to its end; *ended when it
 * ended. The exit status, as --wait's (cmd/resume-ec2.c).
 */
int cmd_resume_ec2_attach(struct remote_runs_ctx *ctx, struct remote_entry *e, long long shown,
			  int *ended);

struct run;
/*
 * The end of a local run (git train local, git train resume): its note's
 * fate and the summary on stderr; returns the exit code.
 */
int cmd_local_finish(struct run *run);

#endif
