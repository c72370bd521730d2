/*
 * layout: where a run's things are, and what its result document holds.
 * The one module that knows their names: every other module asks here.
 *
 * In S3 (bucket train.bucket), under the repository's prefix
 * <train.prefix>/<repo>/ (train.prefix "git-train" by default; "a/b/",
 * "/a/b" and "a/b" are one prefix, and an empty one puts <repo> at the top):
 *
 *   <sha>/code.tar.gz          the code of a commit (or --stash snapshot),
 *                              checked by the runner against the SHA-256 the
 *                              client sends it (upload.h, runner.h)
 *   <sha>/runs/<run-id>/       a run's prefix, holding
 *       run.json               the client's record of the launch
 *                              (read back only where it names this run)
 *       log                    the script's output, uploaded as it grows
 *       result.json            the result document (below), at the end
 *       outputs/...            the script's outputs directory, at the end
 *       outputs.sha256         their SHA-256 sums ("<hex>  ./<path>" lines, as
 *                              sha256sum writes them), uploaded with them, for
 *                              `git train outputs` to check and skip files
 *                              whose ETag is no MD5 (a multipart upload's)
 *       checkpoints/...        GIT_TRAIN_CHECKPOINT_DIR's complete files, synced by
 *                              the runner every train.checkpointInterval, at a
 *                              spot notice and at the end; restored before a
 *                              later attempt (or a run --resume-from this one)
 *       attempts.json          the runner's attempts so far (below), rewritten at
 *                              each attempt's start and end
 *       nodes/<R>/log          a run on several instances (runner.h): node R's
 *       nodes/<R>/result.json  log and result (R > 0; node 0's are the run's own)
 *       nodes/<R>/preempted-<a>  node R (0 too) stopped by a spot interruption in
 *                              attempt a, and coming back (the others stop it too)
 *       nodes/<R>/attempt-<a>  node R (0 too) ready to run attempt a > 1: every
 *                              node starts it once all N are there
 *   envs/<key>.tar.gz          a packed environment of the commits' dependencies
 *                              (deps.h), written by the runs, shared by all
 *                              the commits whose dependencies have that key
 *
 * <repo> is the repository's identity, also the value of the instances'
 * git-train:repo tag: its readable name, the last path component of the
 * `origin` remote's URL without ".git" (else the name of the working tree's
 * directory, of the git directory when bare), a '-', and the first 12 hex
 * digits of its root commit (repo_root_commit: where HEAD's first-parent
 * chain ends, kept in <git dir>/train/root), like "model-1a2b3c4d5e6f".
 * Clones of one repository share their uploads and see each other's runs;
 * alice/model and bob/model, with different histories, never meet.
 * train.repo, when set, is <repo> as it is (a shallow clone, that cannot
 * see its root, needs it, or `git fetch --unshallow` once).
 *
 * The legacy layout: git-train 0.1 used the readable name alone as
 * <repo> (prefix and tag). Runs recorded then stay readable: a run is looked
 * for under both prefixes (layout_run_prefixes), and an instance tagged with
 * the readable name alone counts as this repository's only when its commit
 * is one of this repository's. Nothing that may be another repository's
 * (one that shares the readable name) is ever taken for this one's: under
 * the legacy prefix, gc touches only the objects of commits this
 * repository has.
 *
 * On this machine a local run's directory <git dir>/train/runs/<run-id>/
 * holds the same: code.tar.gz (the exact archive that ran), log,
 * result.json, outputs/, checkpoints/ and attempts.json (backend-local.h),
 * and work/ (where the code is extracted) and data/
 * (train.data's sources, links into the data cache) while the run lasts.
 *
 * The result document (result.json), the same wherever the run was:
 *   {"run_id": "...", "commit": "<sha>",
 *    "status": "succeeded" | "failed" | "preempted" | "interrupted",
 *    "exit_code": N,            -1 when the script never ran
 *    "stage": "code" | "setup" | "script" | "outputs",
 *                               only when the run failed before its script
 *                               ran to the end (exit_code: setup's; 127 for
 *                               missing code or script; 126 for code that
 *                               cannot be used or a script that cannot run)
 *    "start": "<ISO 8601 UTC>", "end": "<ISO 8601 UTC>", "duration": seconds,
 *                               covering setup and the script
 *    "metrics": {...},          metrics.json's numbers, {} when it has none
 *    "deps": "<key>",           the dependencies' cache key (deps.h), only
 *                               when the run installed or restored them
 *    "attempts": [...],         every attempt, in order (below); only when the
 *                               run had more than one. Then "start" is the
 *                               first attempt's, "duration" the sum of theirs
 *    "lost": seconds,           time between attempts (an interruption to the
 *                               next attempt's start), with "attempts"
 *    "failed_node": R}          a run on several instances whose end another
 *                               node's made (runner.h): node R's result was
 *                               failed, preempted or interrupted, and the run's
 *                               status, exit_code and stage are node R's; its
 *                               log is nodes/<R>/log. Node 0's result only
 * An attempt (result.json's "attempts", attempts.json's):
 *   {"attempt": N (1, 2, ...), "instance": "<id>" (EC2; "local" locally),
 *    "start": "<ISO>", "end": "<ISO>" (absent while it runs),
 *    "duration": seconds (absent while it runs),
 *    "status": "running" | "preempted" | "retried" (its script exited with a
 *              train.retryOnExit code) | "interrupted" | "succeeded" | "failed",
 *    "exit_code": N (-1 when its script never ended)}
 * attempts.json: {"run_id": "...", "attempts": [<attempt>, ...]}.
 * and, where the writer knows them, "backend" (where it ran: "local" or
 * the instance type), "parent" (the commit a --stash snapshot was made
 * on, or null) and "args" (the script's arguments). Local runs also write
 * "id" and "duration_seconds", as git-train 0.1 did, for scripts that read
 * them. src/run/runner.sh writes it on the instance with the same keys.
 */
#ifndef RUN_LAYOUT_H
#define RUN_LAYOUT_H

#include <git2.h>
#include <stddef.h>

#include "git/config.h"
#include "git/run-record.h"
#include "util/util.h"

/* What a run leaves, by name. */
enum layout_item {
	LAYOUT_CODE,	     /* code.tar.gz */
	LAYOUT_RUN_JSON,     /* run.json */
	LAYOUT_LOG,	     /* log */
	LAYOUT_RESULT,	     /* result.json */
	LAYOUT_OUTPUTS,	     /* outputs/ ("outputs" as a local path) */
	LAYOUT_WORK,	     /* work/ (local runs only) */
	LAYOUT_OUTPUTS_SUMS, /* outputs.sha256 (runs on EC2): the outputs' SHA-256 sums */
	LAYOUT_ENVS,	     /* envs/: the repository's dependency cache (deps.h), not a run's */
	LAYOUT_DATA, /* data/<name>/: train.data, as the run saw it (local runs only, run/data.h) */
	LAYOUT_CHECKPOINTS, /* checkpoints/: GIT_TRAIN_CHECKPOINT_DIR, kept across attempts */
	LAYOUT_ATTEMPTS,    /* attempts.json: the runner's (a local run's) attempts so far */
	/*
	 * nodes/: a run on several instances (issue 14): nodes/<R>/log and
	 * nodes/<R>/result.json of each node R > 0; node 0's are the run's own
	 * log and result.json; and every node's preempted-<a> and attempt-<a>
	 * markers (the runners' resumption after a spot interruption)
	 */
	LAYOUT_NODES,
};

/* A repository's place in S3. */
struct layout {
	char *bucket;	   /* train.bucket */
	char *repo_name;   /* <repo>, also the git-train:repo tag's value */
	char *repo_prefix; /* "<train.prefix>/<repo>/" */
	/* the legacy layout (above); both NULL when it is the same as <repo> (train.repo) */
	char *legacy_name;   /* the readable name alone, the old git-train:repo tag's value */
	char *legacy_prefix; /* "<train.prefix>/<readable name>/" */
};

/* Hex digits of the root commit in <repo>. */
#define LAYOUT_ROOT_HEX 12

/*
 * Reads train.bucket, train.prefix and train.repo, and finds <repo>. -1
 * with err_set and the fix: train.bucket unset (`git config train.bucket
 * <name>`), a bad train.repo, no commit yet, a shallow clone that never
 * knew its root.
 */
int layout_init(struct layout *out, const struct config *cfg, git_repository *repo);
void layout_release(struct layout *l);

/* <repo> for repo (see above): train.repo, else "<name>-<root>". 0, or -1 with err_set. */
int layout_repo_id(char **out, git_repository *repo, const struct config *cfg);
/* The readable name of repo (see above), the legacy <repo>. Caller frees. */
char *layout_repo_name(git_repository *repo, const struct config *cfg);

/* "<repo prefix><sha>/code.tar.gz". Caller frees. */
char *layout_code_key(const struct layout *l, const char *commit);
/* "<repo prefix><sha>/runs/<run-id>/": where a run is written. Caller frees. */
char *layout_run_prefix(const struct layout *l, const char *commit, const char *run_id);
/* The same under the legacy prefix, NULL when there is none. Caller frees. */
char *layout_legacy_run_prefix(const struct layout *l, const char *commit, const char *run_id);

#define LAYOUT_MAX_PREFIXES 2
/*
 * Where a run of this repository may be, in the order to look: its prefix
 * (layout_run_prefix), then the legacy one, for runs recorded before.
 * Returns how many (1 or 2); caller frees each.
 */
size_t layout_run_prefixes(char *out[LAYOUT_MAX_PREFIXES], const struct layout *l,
			   const char *commit, const char *run_id);
/* Whether prefix is one of layout_run_prefixes(l, commit, run_id). */
int layout_is_run_prefix(const struct layout *l, const char *commit, const char *run_id,
			 const char *prefix);
/*
 * 1 when run_prefix is the prefix of run run_id of commit (it ends in
 * "<commit>/runs/<run_id>/"), else 0: what a run's documents say of
 * themselves (run.json is writable by every run) must match where they are.
 */
int layout_run_prefix_is(const char *run_prefix, const char *commit, const char *run_id);
/* "<repo prefix>envs/": where the runs keep packed environments (deps.h). Caller frees. */
char *layout_envs_prefix(const struct layout *l);
/* A run's item in S3: run_prefix followed by its name ("outputs/" for LAYOUT_OUTPUTS). Caller
 * frees. */
char *layout_run_key(const char *run_prefix, enum layout_item item);
/* The same as an s3:// URI in bucket. Caller frees. */
char *layout_run_uri(const char *bucket, const char *run_prefix, enum layout_item item);
/* A local run's item: "<run_dir>/<name>" (no trailing slash). Caller frees. */
char *layout_local_path(const char *run_dir, enum layout_item item);

/*
 * Whether key is a commit's code archive under repo_prefix (a struct
 * layout's repo_prefix or legacy_prefix): its SHA (40 or 64 hex digits,
 * borrowed from key, *out_len of them), else NULL.
 */
const char *layout_code_commit(size_t *out_len, const char *repo_prefix, const char *key);
/* Whether key is under repo_prefix's prefix of the commit sha (sha_len bytes): its archive or
 * its runs. */
int layout_key_of_commit(const char *repo_prefix, const char *key, const char *sha, size_t sha_len);

/* The run's script arguments, for the result document (NULL when it has none). */
struct layout_args {
	const char *const *v;
	int nr;
};

/*
 * The result document of rec (its id, status, exit code, stage, start,
 * duration, metrics, backend and parent) for commit, with args, as
 * pretty-printed JSON ending in a newline.
 */
void layout_result_format(struct buf *out, const struct run_record *rec, const char *commit,
			  const struct layout_args *args);

/*
 * Reads a result document into the status, exit code, start, duration
 * (from "duration", else "end" - "start") and metrics of *out, and its
 * stage and dependency key (a valid one only: deps.h) as extra fields,
 * and, for a run of more than one attempt, "attempts" (their number) and
 * "lost" (the note's form of a duration, whole seconds: "125s");
 * fields it lacks are left as they are, except status ("failed" when
 * missing). 0, or -1 with err_set when text is not a JSON object (what
 * names the document in the message).
 */
int layout_result_parse(struct run_record *out, const char *text, size_t len, const char *what);

/*
 * An attempt as the instance wrote it (attempts.json's or result.json's
 * "attempts"; see above), checked: the instance is untrusted, so a number is
 * clamped, an instance id that is neither "i-" and hex nor "local" is left
 * out (""), an unknown status is "" and an entry that is no object, or whose
 * attempt number is not above the one before, is skipped.
 */
struct layout_attempt {
	int attempt;	   /* 1 ... LAYOUT_MAX_ATTEMPTS */
	char instance[24]; /* "i-..." or "local"; "": not known */
	char status[16];   /* running, preempted, retried, ...; "": not known */
	time_t start, end; /* 0: not known (end: still running) */
	double duration;   /* seconds; < 0 not known */
	int exit_code;	   /* -1: not known, or its script never ended */
};

#define LAYOUT_MAX_ATTEMPTS 1000

struct layout_attempts {
	struct layout_attempt *v;
	size_t nr;
	double lost; /* result.json's "lost", seconds; < 0 absent */
};

/*
 * The attempts of an attempts.json or a result document (both have
 * "attempts"), in order. 0 (out->nr may be 0), or -1 with err_set when text
 * is not a JSON object (what names it). Caller releases.
 */
int layout_attempts_parse(struct layout_attempts *out, const char *text, size_t len,
			  const char *what);
void layout_attempts_release(struct layout_attempts *a);
/* The last attempt; NULL when there is none. Borrowed. */
const struct layout_attempt *layout_attempts_last(const struct layout_attempts *a);

#endif
