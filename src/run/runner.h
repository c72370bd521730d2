/*
 * runner: what runs on the instance. src/run/runner.sh is embedded in the binary
 * at build time (runner_sh), and runner_command() wraps it into the one
 * script SendCommand runs: it writes the runner into /var/lib/git-train/<run
 * id>/ ($GIT_TRAIN_RUNNER_DIR/<run id>/ when set, as in the tests' sandbox;
 * ${TMPDIR:-/tmp}/git-train-<uid>/<run id>/ when not root), with start.sh
 * holding the run's settings and the script's arguments as shell-quoted
 * assignments (nothing secret), starts it detached from SSM (setsid,
 * nohup, stdin from /dev/null) so that training can outlive SSM's 48 h cap,
 * prints "git-train: runner started (pid N)" and exits 0.
 *
 * The runner (POSIX sh, curl, tar, gzip, and the AWS CLI with the
 * instance's role: the user's credentials never reach the instance):
 *   1. downloads s3://<bucket>/<code_key>, checks that its SHA-256 is
 *      code_sha256 (the client's, of the archive it made: whoever can write
 *      the object cannot make this run run other code), extracts it into
 *      <dir>/work; any other archive fails the run at stage "code", before
 *      anything of it runs;
 *   2. installs the commit's dependencies with deps.sh, written beside the
 *      runner (deps.h), or restores them from s3://<bucket>/<envs_prefix>;
 *      a failed install fails the run at stage "setup";
 *      runs the setup command (sh -c) then the script, with its arguments
 *      exactly as given, PYTHONUNBUFFERED=1, GIT_TRAIN_RUN_ID,
 *      GIT_TRAIN_COMMIT and GIT_TRAIN_OUTPUTS, stdout and stderr into <dir>/log;
 *      the script by the interpreter words the client chose (script.h), else
 *      by its #! line;
 *   3. uploads the log to s3://<bucket>/<log_key> every log_interval seconds
 *      while it runs, and once more at the end;
 *   4. watches IMDSv2 spot/instance-action; on a notice it stops the script,
 *      and records the run as preempted;
 *   5. writes the result document (layout.h) to s3://<bucket>/<result_key>
 *      with the log, and the outputs directory under <outputs_key>:
 *      outputs first, so that a result means everything is there, except
 *      for preempted and interrupted runs, whose time is short: the result
 *      first;
 *   6. unless keep, calls `shutdown -h now` (by name, never by path): the
 *      instance terminates (InstanceInitiatedShutdownBehavior=terminate).
 *      With keep, the watchdog moves to the deadline and stays there.
 *
 * The watchdog (when idle_timeout > 0): the instance's own scheduled
 * shutdown, `shutdown -h +<minutes>`, which lives in init, not in the
 * runner: no signal to the runner (SIGKILL, the OOM killer) cancels it.
 * The user data set its first stage (launch.h); the runner's heartbeat,
 * at least every minute (a quarter of idle_timeout when shorter) while it
 * lives, moves it idle_timeout ahead, never past the deadline, and uploads
 * the log even when it did not grow. A runner that stops beating leaves an
 * instance that shuts down within idle_timeout, and a log older than that
 * (`git train gc` terminates such instances too).
 *
 * When not root and without GIT_TRAIN_RUNNER_DIR, the runner's directory
 * is in ${TMPDIR:-/tmp}, which other users share: it is made with mode
 * 700, and the command fails (naming it) when it is a symbolic link, another
 * user's, or open to group or others.
 * AWS endpoints come from AWS_ENDPOINT_URL[_S3] and
 * AWS_EC2_METADATA_SERVICE_ENDPOINT when set (the tests' sandbox), passed
 * explicitly to the AWS CLI.
 *
 * Data, secrets and variables (runner_job.inputs), after the code and
 * before the setup: each data source is synced (`aws s3 sync`) into
 * <dir>/data/<name> and listed again; a listing whose fingerprint
 * (run/data.h) is not the one the client saw at launch (the data changed
 * since), or that holds a key that would land outside the directory,
 * fails the run at stage "setup". GIT_TRAIN_DATA_<NAME> (and
 * GIT_TRAIN_DATA for a single source) name the directories. Secrets are
 * read with the instance's role (ssm get-parameter --with-decryption,
 * secretsmanager get-secret-value) into the runner's memory only, and
 * exported with train.env's variables to the setup and the script alone:
 * not to the runner's own AWS CLI calls, never echoed, never written to a
 * file; a secret that cannot be read fails the run at stage "setup",
 * naming its reference.
 *
 * What the instance has starts the log, before setup: its NVIDIA GPUs
 * (`nvidia-smi`: count, name, memory, driver, CUDA version) and, with
 * framework torch, torch.__version__ by the interpreter. On a type with
 * GPUs (gpus > 0), an nvidia-smi that does not answer fails the run at
 * stage "setup", with its message. With launcher torchrun the script runs
 * as `torchrun --nproc_per_node <nproc> <script> <args>`, torchrun from
 * the interpreter's directory when it has one, else from PATH.
 * GIT_TRAIN_IMAGE_ROOT, when set (the tests' stand-in instances, like
 * GIT_TRAIN_RUNNER_DIR), is where the image's files are: an absolute
 * interpreter path that exists under it is taken from there.
 *
 * Checkpoints and attempts (issue 13): the setup and the script get
 * GIT_TRAIN_CHECKPOINT_DIR=<dir>/checkpoints and GIT_TRAIN_ATTEMPT. Before
 * the script the directory is restored with `aws s3 sync` (at attempt 1
 * from resume_from_key when set; at a later attempt from the run's
 * checkpoints/, unless the instance's volume kept them; a key that would
 * land outside the directory fails the run at stage "setup"); its complete
 * files (no *.tmp, *.part, *~ or dot-file, none modified in the last 2
 * seconds while the script runs: the script writes then renames) go to
 * checkpoints/ every checkpoint_interval (in the background, one sync at a
 * time), at a spot notice once the script has stopped, and at the end;
 * nothing there is ever deleted. The attempts live in <dir>/attempts (the
 * volume survives a stop) and go to attempts.json (layout.h) at each
 * attempt's start and end; a start is the next attempt after a reboot,
 * else attempt (> 1: a client's relaunch elsewhere, which first downloads
 * the run's log and attempts.json and continues them, taking from
 * attempts.json only lines exactly as the runner writes them). Each attempt
 * after the first starts with a "git-train: --- attempt N of M (...) ---"
 * line. A script exit code in retry_on_exit, with interruptions left, runs
 * the script again in place (not the setup): that attempt "retried". With
 * spot_request set: a spot notice whose action is "stop", with fewer than
 * max_interruptions interruptions so far, stops the script, syncs the
 * checkpoints, records the attempt "preempted" and uploads the log, with no
 * result and no shutdown (EC2 stops the instance; the next boot goes on);
 * the first start writes a per-boot hook when its base directory is
 * /var/lib/git-train (/var/lib/cloud/scripts/per-boot/git-train-<run
 * id>.sh: at each boot the watchdog, then start.sh again unless
 * <dir>/ended exists), removed at the run's end; each watchdog arm also
 * schedules a transient systemd timer (systemd-run, when there is one)
 * that runs <dir>/cancel.sh half a minute before the shutdown; and at the
 * end the runner cancels the request (cancel.sh: `aws ec2
 * cancel-spot-instance-requests`, a failure logged) before it shuts down.
 * The result then has "attempts" and "lost" (when more than one attempt),
 * its "start" the first attempt's and its "duration" their sum. The
 * deadline stays absolute: a boot past it ends the run "interrupted".
 *
 * Several nodes (issue 14; nodes > 1): the client sends one runner to each
 * of the run's instances, each job alike but for node_rank (0 .. nodes-1),
 * with master_addr node 0's private IPv4 address. Every node does all of
 * the above up to the script (code, data, secrets, dependencies, setup):
 * each needs them. start.sh then has NODES, NODE_RANK, MASTER_ADDR,
 * MASTER_PORT (29500 when 0), NODES_KEY ("<run prefix>nodes/") and
 * RUN_RESULT_KEY (the run's result.json). With launcher torchrun (the
 * client's choice when nodes > 1 unless train.launcher says otherwise)
 * the script runs as `torchrun --nnodes <nodes> --node_rank <rank>
 * --nproc_per_node <nproc> --master_addr <addr> --master_port <port>
 * <script> <args>` (the static rendezvous: global rank 0 is on node 0;
 * torchrun found, and -m torch.distributed.run or --no-python used, as for
 * one node); without a launcher it runs once per node with RANK=<node
 * rank>, LOCAL_RANK=0, WORLD_SIZE=<nodes>, LOCAL_WORLD_SIZE=1, MASTER_ADDR
 * and MASTER_PORT, so that init_process_group("gloo") with env:// works.
 * A master_addr that is not an address (empty, or other than letters,
 * digits, '.', ':' and '-') fails the run at stage "script".
 * Node 0 is the run: its log, result, metrics, outputs, checkpoints and
 * attempts are the run's, as on one instance. Node R > 0 uploads its log
 * to nodes/<R>/log and its result to nodes/<R>/result.json (layout.h) the
 * same way, and nothing else: no outputs, no checkpoint sync (it restores
 * them like node 0: every rank may load them), no attempts.json. At each
 * log upload tick (log_interval) node 0 lists nodes/ (one ListObjectsV2)
 * and reads each other node's result once when it appears: one that is
 * not "succeeded" stops node 0's script (SIGTERM, SIGKILL 30 ticks later)
 * and ends the run with that node's status ("failed", "preempted" or
 * "interrupted"), exit code and stage, the result's "failed_node": R and
 * a log line "git-train: node R failed (exit N): its log is at
 * s3://<bucket>/<run prefix>nodes/R/log" ("node R was preempted (spot
 * interruption): ..." or "node R was interrupted: ..."); a node 0 whose
 * script failed on its own first looks once more, so that a failure that
 * reached it through the collective is taken for the other node's when
 * that node's result is already there. Node R > 0, at the same cadence,
 * lists the run's result.json: once node 0 has ended, it logs "git-train:
 * the run has ended on node 0: node R stops", stops its script if it
 * still runs (its result then "interrupted" unless the script exited 0),
 * uploads its log and result. Every node then shuts down as usual
 * (unless keep), so every instance terminates. A spot notice on a node
 * stops its script; without spot_request (one-time spot), or at the limit
 * of max_interruptions, its result is "preempted" and node 0 ends the run
 * preempted (as when the notice is node 0's).
 * With spot_request (each node's own persistent request, interruption
 * behaviour stop) a "stop" notice with interruptions left suspends the node
 * as it does one node (per-boot hook, attempt "preempted", no result), and
 * the nodes resume together, by markers under nodes/ (layout.h):
 * nodes/<R>/preempted-<a>, written by node R first at its notice (before
 * its script stops, so before its peers' collectives fail), and
 * nodes/<R>/attempt-<a>, node R ready to run attempt a. Every node's
 * monitor lists nodes/ at each log upload tick while the script runs and,
 * on a peer's preempted-<a> of the attempt under way, logs "git-train:
 * node r was preempted (spot interruption): attempt a stops on every
 * node" and stops the script (SIGTERM, SIGKILL 30 ticks later); a script
 * that failed first looks once more (node 0: for up to three watch
 * periods, for a peer's result too). That node records attempt a "preempted" (node
 * 0 uploads attempts.json and syncs its checkpoints), logs "git-train:
 * waiting for node r to come back: ...", writes attempt-<a+1> and waits
 * (heartbeat and spot watch going on) until every node has written it;
 * then attempt a+1 starts there ("git-train: --- attempt a+1 of M (<id>,
 * node r back after <span>): ..."), recorded running from then: the wait
 * is lost time. The node that was stopped starts attempt a+1 at its next
 * boot, does what a start does (node 0 syncs its checkpoints again), logs
 * "git-train: waiting for the other nodes: ...", writes attempt-<a+1> and
 * meets the others. Each node R > 0 then takes the run's checkpoints from
 * S3 (node 0's), never its volume's; node 0 keeps its volume's. Waiting
 * gives up after twice resume_timeout: node 0 ends the run "preempted",
 * failed_node the first node missing, "git-train: node r did not come back
 * within twice train.resumeTimeout (<span>): the run ends preempted"; node
 * R > 0 ends when the run's result appears ("interrupted"), or alone when
 * node 0 is the one missing; the deadline passed while waiting ends it
 * "interrupted". A boot of a node whose run has ended
 * meanwhile (the run's result; for node 0 its own) logs "git-train: the
 * run has ended while this instance was stopped: node R stops", cancels
 * its request, writes node R > 0's result "interrupted" and shuts down.
 * Node 0's cancel.sh cancels node_spot_requests with its own. The
 * instance role needs s3:ListBucket on the run's nodes/ and result.json
 * keys, s3:GetObject on nodes/<R>/result.json and s3:PutObject on
 * nodes/<R>/preempted-* and nodes/<R>/attempt-*.
 *
 * When the run fails before its script ran, the result's stage says where
 * ("code", "setup", "script", "outputs") and a "git-train: ..." line in the
 * log says what failed.
 */
#ifndef RUN_RUNNER_H
#define RUN_RUNNER_H

#include <time.h>

#include "git/inputs.h"
#include "run/script.h"
#include "util/util.h"

extern const char runner_sh[];

struct runner_job {
	const char *run_id;
	const char *commit; /* full hex SHA */
	const char *bucket;
	const char *code_key;	 /* layout.h: the commit's code */
	const char *code_sha256; /* hex SHA-256 of the archive (upload.h) */
	const char
		*run_prefix; /* layout.h: the run's prefix, for the log, result and outputs keys */
	const char *region;
	const char *script;	 /* path in the tree */
	const char *interpreter; /* words; NULL: the script's #! line (script_interpreter()) */
	const char *setup;	 /* NULL: none */
	const char *outputs_dir; /* relative to the tree */
	const char *const *args;
	int nr_args;
	int keep;	   /* 1: do not shut down at the end */
	int log_interval;  /* seconds; 0: 5 */
	long idle_timeout; /* the watchdog's stage in seconds (rounded up to minutes); 0: none */
	time_t deadline;   /* when the max runtime ends (seconds since the epoch); 0: none */
	const char *envs_prefix; /* layout.h: the dependency cache's prefix; NULL: no cache */
	int gpus;	       /* the type's NVIDIA GPUs: their driver must answer (stage setup) */
	const char *framework; /* "torch": its version starts the log; NULL: none */
	const char *launcher;  /* "torchrun"; NULL: the interpreter runs the script */
	int nproc;	       /* the launcher's --nproc_per_node */
	/*
	 * train.data (with each source's fingerprint at launch), train.env and
	 * train.secret (git/inputs.h): names, values of variables and the
	 * secrets' references, never a secret's value. NULL: none.
	 */
	const struct run_inputs *inputs;
	/*
	 * Checkpoints and attempts (issue 13; runner.sh: CHECKPOINT_KEY,
	 * ATTEMPTS_KEY from run_prefix; the rest below). The script gets
	 * GIT_TRAIN_CHECKPOINT_DIR=<dir>/checkpoints and GIT_TRAIN_ATTEMPT.
	 */
	long checkpoint_interval;    /* CHECKPOINT_INTERVAL seconds; 0: 300 */
	const char *resume_from_key; /* RESUME_FROM_KEY: another run's checkpoints/ prefix, restored
					at attempt 1; NULL: none */
	int attempt;		     /* ATTEMPT: the first attempt this start makes; 0: 1 */
	const char *spot_request;  /* SPOT_REQUEST: the persistent request to cancel; NULL: none */
	int max_interruptions;	   /* MAX_INTERRUPTIONS: attempts after the first, at most */
	const char *retry_on_exit; /* RETRY_ON_EXIT: exit codes, space-separated; NULL: none */
	/*
	 * Several instances (issue 14, "several nodes" above; runner.sh: NODES,
	 * NODE_RANK, MASTER_ADDR, MASTER_PORT, NODES_KEY, RUN_RESULT_KEY). With
	 * nodes > 1 each node's runner gets its own job, alike but for
	 * node_rank (0..nodes-1; the same run_prefix and master_addr: node 0's
	 * private IP). Node 0 writes the run's log, result, metrics, outputs,
	 * checkpoints and attempts; for node R > 0 runner_command() makes
	 * LOG_KEY and RESULT_KEY <run_prefix>nodes/<R>/log and .../result.json
	 * (layout.h) and leaves OUTPUTS_KEY, OUTPUTS_SUMS_KEY and ATTEMPTS_KEY
	 * empty. spot_request: each node's own, or none (one-time spot).
	 */
	int nodes;		 /* NODES; 0 or 1: one instance */
	int node_rank;		 /* NODE_RANK */
	const char *master_addr; /* MASTER_ADDR: node 0's private IPv4 address */
	int master_port;	 /* MASTER_PORT; 0: 29500 */
	/*
	 * A spot interruption of one node (issue 14): its peers stop the
	 * attempt and wait at most twice resume_timeout for it to come back
	 * (RESUME_TIMEOUT seconds; 0: 600), then start the next attempt together
	 * (nodes/<R>/attempt-<N> and nodes/<R>/preempted-<N>, layout.h).
	 * node_spot_requests (NODE_SPOT_REQUESTS; node 0 only, the other nodes'
	 * persistent requests, space-separated): cancelled with node 0's own at
	 * the run's end. NULL: none.
	 */
	long resume_timeout;
	const char *node_spot_requests;
};

/*
 * The interpreter words for job.interpreter as script.h chooses them
 * (train.interpreter, else by extension), joined by spaces: the runner
 * splits them on white space again, as train.interpreter is split locally.
 * NULL when the script runs by its #! line. Caller frees.
 */
char *runner_interpreter(const struct script_settings *s);

/* The SendCommand script for job (caller frees). Contains no secret. */
char *runner_command(const struct runner_job *job);

#endif
