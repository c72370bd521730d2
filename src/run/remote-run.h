/*
 * remote-run: a run on EC2, as every command sees it (run, status, logs,
 * stop, gc), and the one place its note is written.
 *
 * The source of truth is where the run lives: the instance's tags
 * (REMOTE_TAG_*, set at launch) and the run's S3 objects under
 *   <train.prefix>/<repo>/<commit-sha>/runs/<run-id>/
 *     run.json     written by the client at launch (remote_run_save)
 *     log          the runner's, updated every few seconds
 *     result.json  the runner's, at the end (runner.h)
 *     outputs/...  the runner's, at the end
 *
 * run.json: {"run_id", "commit", "parent" (for --stash), "instance_id",
 * "instance_type", "market": "spot" | "on-demand", "az", "price" (USD/h,
 * < 0 unknown), "region", "launched" (ISO 8601), "args": [...]}.
 */
#ifndef RUN_REMOTE_RUN_H
#define RUN_REMOTE_RUN_H

#include <git2.h>
#include <time.h>

#include "aws/client.h"
#include "git/config.h"
#include "git/run-record.h"

#define REMOTE_TAG_RUN_ID "git-train:run-id"
#define REMOTE_TAG_COMMIT "git-train:commit"
#define REMOTE_TAG_REPO "git-train:repo"
#define REMOTE_TAG_BRANCH "git-train:branch"
#define REMOTE_TAG_USER "git-train:user"
#define REMOTE_TAG_MARKET "git-train:market"
#define REMOTE_TAG_PRICE "git-train:price"
/* Seconds the instance may live (the watchdog's); gc terminates it after that. */
#define REMOTE_TAG_MAX_RUNTIME "git-train:max-runtime"

struct remote_run {
	char *run_id;
	char *commit;	/* full hex SHA */
	char *parent;	/* NULL unless a --stash snapshot */
	char *instance_id;
	char *instance_type;
	char *market;	/* "spot" or "on-demand" */
	char *az;
	double price;	/* USD/h; < 0 unknown */
	char *region;
	time_t launched;
	char *bucket;
	char *run_prefix; /* <prefix>/<repo>/<sha>/runs/<run-id>/ */
	char *args;	/* the script's arguments as shell words; NULL when none */
	int smoke;	/* a smoke run (the pre-push hook's) */
};

void remote_run_release(struct remote_run *r);

/* "<train.prefix>/<repo>/<sha>/runs/<run-id>/" (caller frees). */
char *remote_run_prefix(const struct config *cfg, git_repository *repo, const char *commit,
			const char *run_id);

/* "<train.prefix>/<repo>/" (caller frees): everything of this repository's runs. */
char *remote_repo_prefix(const struct config *cfg, git_repository *repo);

/* Writes run.json. 0, or -1. */
int remote_run_save(struct aws_client *c, const struct remote_run *r, const char *const *args,
		    int nr_args);

/* Reads run.json of the run at run_prefix. 0, 1 when absent, or -1. */
int remote_run_load(struct remote_run *out, struct aws_client *c, const char *bucket,
		    const char *run_prefix);

/*
 * Reads result.json into rec (id, backend = instance type, status, exit
 * code, start, duration, metrics, log = s3://.../log, and extra fields
 * market, az, price, cost, instance, outputs). 0, 1 when the run has no
 * result yet, or -1.
 */
int remote_run_result(struct run_record *out, struct aws_client *c, const struct remote_run *r);

/*
 * Writes rec as the run's note on its commit, unless a line for that run id
 * is there already (every command that sees a finished run calls this:
 * the first one writes it). 0 written, 1 already there, -1 error.
 */
int remote_run_record(git_repository *repo, const struct run_record *rec, const char *commit);

/*
 * The fields every note of r has, whatever its status: id, backend, start
 * (r->launched when start is 0), duration, parent, log, the extra fields
 * listed at remote_run_result(), and args and smoke (run_record_describe_args). Status, exit code and metrics are the
 * caller's.
 */
void remote_run_describe(struct run_record *out, const struct remote_run *r, time_t start,
			 double duration);

/*
 * What every command does with a run it sees: reads result.json and, when
 * there is one, writes the note (remote_run_record). 0 finished (*out
 * filled), 1 not finished yet, -1 error.
 */
int remote_run_finalize(struct run_record *out, git_repository *repo, struct aws_client *c,
			const struct remote_run *r);

/* ISO 8601 UTC as AWS writes it ("2026-11-29T04:35:12Z", ".000Z" too). 0, or -1. */
int remote_parse_time(time_t *out, const char *s);

/* Dollars for notes and tables: "0.0031", "1.25" (no exponent, no trailing zeros). */
void remote_format_usd(struct buf *out, double usd);

#endif
