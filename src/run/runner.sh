# git-train runner: one training run on this instance (src/run/runner.h).
#
# start.sh (written by runner_command()) sets RUNNER_DIR, RUN_ID, COMMIT,
# BUCKET, CODE_KEY, CODE_SHA256, LOG_KEY, RESULT_KEY, OUTPUTS_KEY, REGION, SCRIPT,
# INTERPRETER, SETUP, OUTPUTS_DIR, KEEP, LOG_INTERVAL, IDLE_TIMEOUT,
# DEADLINE and OUTPUTS_SUMS_KEY (and GPUS, FRAMEWORK, LAUNCHER, NPROC: what
# the instance has, and how the script starts), sets the script's
# arguments as "$@", then sources this file. It
# needs POSIX sh, curl, tar, gzip and the AWS CLI, which works with the
# instance's role: no credentials are ever written here. Whatever fails, the
# run ends with a log, a result and a shutdown (unless KEEP=1): an instance
# is never left running because the runner failed, and its watchdog ends it
# when the runner itself is killed. The result is the document
# src/run/layout.h describes.
# start.sh also sets DEPS_PREFIX: where the dependency cache is (runner.h),
# and CHECKPOINT_KEY, ATTEMPTS_KEY, CHECKPOINT_INTERVAL, RESUME_FROM_KEY,
# ATTEMPT, SPOT_REQUEST, MAX_INTERRUPTIONS and RETRY_ON_EXIT: checkpoints and
# attempts (below, "checkpoints and attempts"), and NODES, NODE_RANK,
# MASTER_ADDR, MASTER_PORT, NODES_KEY, RUN_RESULT_KEY, RESUME_TIMEOUT and
# NODE_SPOT_REQUESTS: a run on several instances (below, "several nodes").
# shellcheck disable=SC2153 # the upper-case settings come from start.sh

log=$RUNNER_DIR/log
work=$RUNNER_DIR/work
code=$RUNNER_DIR/code.tar.gz
result=$RUNNER_DIR/result
# Older AWS CLIs (Debian's 2.9, v1 before 1.29) ignore AWS_ENDPOINT_URL*.
s3_endpoint=${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-}}
imds=${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254/}
imds=${imds%/}
case $LOG_INTERVAL in '' | 0 | *[!0-9]*) LOG_INTERVAL=5 ;; esac
case ${IDLE_TIMEOUT:-} in '' | *[!0-9]*) IDLE_TIMEOUT=0 ;; esac
case ${DEADLINE:-} in '' | *[!0-9]*) DEADLINE=0 ;; esac
# The heartbeat's period in seconds: a minute, or a quarter of the
# watchdog's stage when that is shorter.
beat=$((IDLE_TIMEOUT / 4 < 60 ? IDLE_TIMEOUT / 4 : 60))
# The monitor's tick, a second: GIT_TRAIN_POLL_SCALE (0.001 to 1), which only
# the tests' stand-in instances set, shortens it as it shortens git-train's polls.
tick=1
case ${GIT_TRAIN_POLL_SCALE:-} in
0.*[!0-9]*) ;;
0.*[1-9]* | 1) tick=$GIT_TRAIN_POLL_SCALE ;;
esac
OUTPUTS_DIR=${OUTPUTS_DIR:-outputs}
case ${CHECKPOINT_INTERVAL:-} in '' | 0 | *[!0-9]*) CHECKPOINT_INTERVAL=300 ;; esac
case ${ATTEMPT:-} in '' | 0 | *[!0-9]*) ATTEMPT=1 ;; esac
case ${MAX_INTERRUPTIONS:-} in '' | *[!0-9]*) MAX_INTERRUPTIONS=0 ;; esac
case ${NODES:-} in '' | 0 | *[!0-9]*) NODES=1 ;; esac
case ${NODE_RANK:-} in '' | *[!0-9]*) NODE_RANK=0 ;; esac
case ${MASTER_PORT:-} in '' | 0 | *[!0-9]*) MASTER_PORT=29500 ;; esac
case ${RESUME_TIMEOUT:-} in '' | 0 | *[!0-9]*) RESUME_TIMEOUT=600 ;; esac
ckpt=$RUNNER_DIR/checkpoints
attempts_file=$RUNNER_DIR/attempts
attempt=1
instance_id=unknown

status=
exit_code=-1
stage=
interrupted=
job_pid=

runner_say() {
	printf 'git-train: %s\n' "$*" >>"$log"
}

runner_now() {
	date -u +%Y-%m-%dT%H:%M:%SZ
}

runner_s3() {
	if test -n "$s3_endpoint"; then
		aws --endpoint-url "$s3_endpoint" --region "$REGION" s3 "$@" --only-show-errors
	else
		aws --region "$REGION" s3 "$@" --only-show-errors
	fi
}

# A copy is uploaded: the log keeps growing while the CLI reads it.
runner_upload_log() {
	cp "$log" "$log.upload" &&
		runner_s3 cp "$log.upload" "s3://$BUCKET/$LOG_KEY" --content-type text/plain \
			--sse AES256
}

# The watchdog (runner.h): the instance's scheduled shutdown, which init
# keeps whatever becomes of this shell. runner_arm <seconds> moves it that
# far ahead (in whole minutes), never past DEADLINE: past it, now.
runner_arm() {
	test "$IDLE_TIMEOUT" -gt 0 || return 0
	ahead=$1
	beat_at=$(date +%s)
	if test "$DEADLINE" -gt 0 && test $((DEADLINE - beat_at)) -lt "$ahead"; then
		ahead=$((DEADLINE - beat_at))
	fi
	test "$ahead" -gt 0 || ahead=0
	minutes=$(((ahead + 59) / 60))
	runner_arm_cancel "$minutes"
	# systemd's shutdown would tell every terminal at each heartbeat
	shutdown --no-wall -h "+$minutes" >/dev/null 2>&1 ||
		shutdown -h "+$minutes" >/dev/null 2>&1 || :
	runner_arm_cancel_done
}

# The heartbeat, every LOG_INTERVAL ticks: the log to S3 when it grew, and
# once a beat the log anyway (gc reads a stale log as a dead runner) and
# the watchdog IDLE_TIMEOUT ahead again.
runner_beat() {
	size=$(wc -c <"$log")
	due=
	if test "$IDLE_TIMEOUT" -gt 0 && test $(($(date +%s) - beat_at)) -ge "$beat"; then
		due=1
	fi
	if { test "$size" != "$sent" || test -n "$due"; } && runner_upload_log; then
		sent=$size
	fi
	test -z "$due" || runner_arm "$IDLE_TIMEOUT"
}

# 0 when IMDSv2 announces a spot interruption. The token lives in this
# process only; it is not a credential of the user's.
runner_spot_notice() {
	if test -z "$imds_token"; then
		imds_token=$(curl -sf --noproxy '*' -m 2 -X PUT \
			-H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
			"$imds/latest/api/token") || imds_token=
		test -n "$imds_token" || return 1
	fi
	action=$(curl -s --noproxy '*' -m 2 -w '\n%{http_code}' \
		-H "X-aws-ec2-metadata-token: $imds_token" \
		"$imds/latest/meta-data/spot/instance-action") || return 1
	case $action in
	*'
200')
		notice=${action%'
200'}
		return 0
		;;
	*'
401') imds_token= ;;
	esac
	return 1
}

# Stops what runs as a job: its whole process group when setsid made one.
runner_signal_job() {
	pid=$(cat "$RUNNER_DIR/job.pid" 2>/dev/null) || return 0
	test -n "$pid" || return 0
	# dash's kill takes "-s SIG -- -pgid", not "-SIG -- -pgid"
	kill -s "$1" -- "-$pid" 2>/dev/null || kill -s "$1" "$pid" 2>/dev/null
	return 0
}

# In the background while the run lasts, and while this runner's shell
# does (else the watchdog must run out): the heartbeat, and the spot watch
# (IMDS at most every 5 ticks).
runner_monitor() {
	ticks=0 sent=-1 imds_token='' notice_at='' kill_s='' nodes_stop_at='' mon_attempt=''
	nodes_list_file=$RUNNER_DIR/nodes.monitor.list
	spot_every=$((LOG_INTERVAL < 5 ? LOG_INTERVAL : 5))
	test "${AWS_EC2_METADATA_DISABLED:-}" = true && spot_every=0
	while ! test -e "$RUNNER_DIR/stop" && kill -0 $$ 2>/dev/null; do
		sleep "$tick"
		ticks=$((ticks + 1))
		# several nodes: the attempt under way is the runner's, which this
		# subshell cannot see; a new one starts with no stop of its own
		if test "$NODES" -gt 1; then
			{ read -r cur <"$RUNNER_DIR/attempt.cur"; } 2>/dev/null || cur=
			if test "$cur" != "$mon_attempt"; then
				mon_attempt=$cur nodes_stop_at=''
			fi
		fi
		if test -z "$notice_at" && test "$spot_every" != 0 &&
			test $((ticks % spot_every)) = 0 && runner_spot_notice; then
			notice_at=$ticks
			runner_nodes_notice
			printf '%s\n' "$notice" >"$RUNNER_DIR/preempted"
			runner_say "spot interruption notice: stopping the run"
			runner_signal_job TERM
			runner_kill_time
		elif test -n "$notice_at" && test -n "$kill_s" && test "$(date +%s)" -ge "$kill_s"; then
			runner_signal_job KILL
			kill_s=
		elif test -n "$notice_at" && test -z "$kill_s" && test $((ticks - notice_at)) = 30; then
			runner_signal_job KILL
		fi
		if test -n "$nodes_stop_at" && test $((ticks - nodes_stop_at)) = 30; then
			runner_signal_job KILL
		fi
		if test $((ticks % LOG_INTERVAL)) = 0; then
			runner_beat
			date +%s >"$RUNNER_DIR/alive"
			markers=
			test -e "$RUNNER_DIR/script.on" && markers=markers
			if test -z "$nodes_stop_at" && runner_nodes_watch $markers; then
				nodes_stop_at=$ticks
				runner_signal_job TERM
			fi
		fi
		if test $((ticks % CHECKPOINT_INTERVAL)) = 0 && ! test -d "$RUNNER_DIR/sync.lock"; then
			runner_sync_locked 0 &
		fi
	done
}

# The heartbeat alone, while the last uploads run (the monitor's log would
# race theirs), until "$RUNNER_DIR/done".
runner_keepalive() {
	ticks=0 sent=$(wc -c <"$log")
	while ! test -e "$RUNNER_DIR/done" && kill -0 $$ 2>/dev/null; do
		sleep "$tick"
		ticks=$((ticks + 1))
		test $((ticks % LOG_INTERVAL)) != 0 || runner_beat
	done
}

runner_keepalive_end() {
	: >"$RUNNER_DIR/done"
	while test -n "$keepalive_pid" && kill -0 "$keepalive_pid" 2>/dev/null; do
		wait "$keepalive_pid"
	done
}

runner_on_signal() {
	interrupted=1
	runner_say "interrupted: the runner received a signal"
	runner_signal_job TERM
}

# 0 when this node stops: its own notice, a signal, another node's failure,
# the run's end; or, with several nodes, a peer's preemption (until the next
# attempt starts)
runner_stopping() {
	runner_ending || test -e "$RUNNER_DIR/peer.preempted"
}

# 0 when this node's run ends: runner_stopping but for a peer's preemption
runner_ending() {
	test -n "$interrupted" || test -e "$RUNNER_DIR/preempted" ||
		test -e "$RUNNER_DIR/node.failed" || test -e "$RUNNER_DIR/run.ended"
}

# runner_job <command>...: runs it in $work, in its own process group (so
# that a spot notice stops all of it), output into the log; sets job_rc.
runner_job() {
	if command -v setsid >/dev/null 2>&1; then
		(cd "$work" && runner_job_env && exec setsid "$@") </dev/null >>"$log" 2>&1 &
	else
		(cd "$work" && runner_job_env && exec "$@") </dev/null >>"$log" 2>&1 &
	fi
	job_pid=$!
	echo "$job_pid" >"$RUNNER_DIR/job.pid"
	# a notice or a signal that came just before the job started
	! runner_stopping || runner_signal_job TERM
	# a signal interrupts wait; the job is then stopped and waited for again
	while :; do
		wait "$job_pid"
		job_rc=$?
		kill -0 "$job_pid" 2>/dev/null || break
	done
	rm -f "$RUNNER_DIR/job.pid"
	job_pid=
}

runner_fail() {
	stage=$1 exit_code=$2
	shift 2
	runner_say "$*"
	status=failed
}

# The archive's SHA-256 in hex, by whichever tool the image has.
runner_sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum <"$1" | cut -c 1-64
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 -r <"$1" | cut -c 1-64
	else
		return 1
	fi
}

# Anyone who can write the object could have replaced it: only the archive
# whose SHA-256 the client computed is this commit's code.
runner_check_code() {
	case $CODE_SHA256 in
	*[!0-9a-f]* | '')
		runner_fail code 126 "no SHA-256 to check the code archive $where against"
		return 1
		;;
	esac
	if ! sum=$(runner_sha256 "$code") || test ${#sum} != 64; then
		runner_fail code 127 "cannot check the code archive $where: neither sha256sum nor openssl works here"
	elif test "$sum" != "$CODE_SHA256"; then
		runner_fail code 126 "the code archive $where is not the code of commit $COMMIT: its SHA-256 is $sum, not $CODE_SHA256; nothing of it was run"
	else
		return 0
	fi
	return 1
}

runner_fetch_code() {
	where=s3://$BUCKET/$CODE_KEY
	# a later attempt on this volume: the code as the first one extracted it
	if test -e "$RUNNER_DIR/code.ok" && test -d "$work"; then
		return 0
	fi
	rm -rf "$work"
	if ! command -v aws >/dev/null 2>&1; then
		runner_fail code 127 "cannot download $where: the AWS CLI (aws) is not installed"
	elif ! runner_s3 cp "$where" "$code" 2>>"$log"; then
		runner_fail code 127 "cannot download $where"
	elif ! runner_check_code; then
		return 1
	elif ! mkdir -p "$work" || ! (cd "$work" && gzip -dc "$code" | tar -xf -) 2>>"$log"; then
		runner_fail code 126 "cannot extract the code archive $where into $work"
	else
		: >"$RUNNER_DIR/code.ok"
		return 0
	fi
	return 1
}

# --- data, secrets and the environment (train.data, train.secret, train.env) ---
# start.sh sets DATA ("name TAB variable TAB fingerprint TAB bucket TAB
# prefix" lines), SECRETS ("NAME TAB ssm|secretsmanager TAB reference"
# lines) and USER_ENV (names; each value in USER_ENV_<NAME>), all checked by
# the client (git/inputs.h). A secret's value lives in this shell's
# variables only: exported to the setup and the script (runner_job_env),
# never to the runner's own AWS CLI calls, never echoed, never in a file.
data_tab=$(printf '\t')
secret_names=

# runner_aws_at <endpoint> <aws args>...: the AWS CLI, at endpoint when set.
runner_aws_at() {
	at=$1
	shift
	if test -n "$at"; then
		aws --endpoint-url "$at" --region "$REGION" "$@"
	else
		aws --region "$REGION" "$@"
	fi
}

# runner_data_key <key relative to the prefix>: 0 when it stays inside the
# source's directory (run/data.h: no leading '/', no empty, "." or ".."
# component but a trailing '/').
runner_data_key() {
	test -z "$1" && return 0
	case /$1/ in
	//* | */../* | */./*) return 1 ;;
	esac
	case $1 in
	*//*) return 1 ;;
	esac
	return 0
}

# runner_data_fingerprint <bucket> <prefix> <listing file>: the listing
# (run/data.h's lines, sorted) into the file and its fingerprint on stdout;
# 2 when a key would land outside the source's directory.
runner_data_fingerprint() {
	runner_aws_at "$s3_endpoint" s3api list-objects-v2 --bucket "$1" --prefix "$2" \
		--query 'Contents[].[Key,Size,ETag]' --output text >"$3.raw" 2>>"$log" || return 1
	while IFS=$data_tab read -r key size etag; do
		test -z "$size" && test "$key" = None && continue
		etag=${etag#\"}
		etag=${etag%\"}
		printf '%s\t%s\t%s\n' "${key#"$2"}" "$size" "$etag"
	done <"$3.raw" | LC_ALL=C sort >"$3" || return 1
	while IFS=$data_tab read -r key size etag; do
		if ! runner_data_key "$key"; then
			runner_say "refusing the data at s3://$1/$2: its object key '$2$key' would land outside the data's directory"
			return 2
		fi
	done <"$3"
	sum=$(runner_sha256 "$3") || return 1
	printf '%s\n' "$sum" | cut -c 1-12
}

# Each source into $RUNNER_DIR/data/<name>, then checked against the
# fingerprint of the launch: data that changed since fails the run.
runner_fetch_data() {
	test -n "${DATA:-}" || return 0
	count=0 first_data=
	while IFS=$data_tab read -r name var fp bucket prefix; do
		test -n "$name" || continue
		count=$((count + 1))
		dir=$RUNNER_DIR/data/$name
		where=s3://$bucket/$prefix
		if ! mkdir -p "$dir" ||
			! runner_s3 sync "$where" "$dir" --exclude '../*' --exclude '*/../*' \
				--exclude '*/..' --exclude '/*' 2>>"$log"; then
			runner_fail setup 1 "cannot sync the data '$name' from $where"
			return 1
		fi
		got=$(runner_data_fingerprint "$bucket" "$prefix" "$RUNNER_DIR/data.$count.list")
		case $? in
		0) ;;
		2)
			runner_fail setup 1 "the data '$name' at $where is refused"
			return 1
			;;
		*)
			runner_fail setup 1 "cannot list the data '$name' at $where"
			return 1
			;;
		esac
		if test "$got" != "$fp"; then
			runner_fail setup 1 "the data '$name' at $where changed since the launch (fingerprint $got, not $fp): the run does not use it; run again to use the new data"
			return 1
		fi
		runner_say "data $name: $where in $dir (fingerprint $got)"
		export "$var=$dir"
		test "$count" != 1 || first_data=$dir
	done <<GIT_TRAIN_DATA_EOF
$DATA
GIT_TRAIN_DATA_EOF
	test "$count" != 1 || export GIT_TRAIN_DATA="$first_data"
	return 0
}

# The secrets into this shell's memory, with the instance's role.
runner_fetch_secrets() {
	test -n "${SECRETS:-}" || return 0
	count=0
	while IFS=$data_tab read -r name kind ref; do
		test -n "$name" || continue
		count=$((count + 1))
		# shellcheck disable=SC2034 # eval reads value
		case $kind in
		ssm)
			value=$(runner_aws_at "${AWS_ENDPOINT_URL_SSM:-${AWS_ENDPOINT_URL:-}}" \
				ssm get-parameter --name "$ref" --with-decryption \
				--query Parameter.Value --output text 2>>"$log")
			;;
		secretsmanager)
			value=$(runner_aws_at "${AWS_ENDPOINT_URL_SECRETS_MANAGER:-${AWS_ENDPOINT_URL:-}}" \
				secretsmanager get-secret-value --secret-id "$ref" \
				--query SecretString --output text 2>>"$log")
			;;
		*) false ;;
		esac || {
			unset value
			runner_fail setup 1 "cannot read the secret $name ($kind:$ref) with the instance's role"
			return 1
		}
		eval "secret_value_$count=\$value"
		unset value
		secret_names="$secret_names $name"
	done <<GIT_TRAIN_SECRETS_EOF
$SECRETS
GIT_TRAIN_SECRETS_EOF
	runner_say "secrets read:$secret_names"
	return 0
}

# In the job's subshell only: train.env's variables, then the secrets.
runner_job_env() {
	for _gt_name in ${USER_ENV:-}; do
		case $_gt_name in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
		eval "$_gt_name=\$USER_ENV_$_gt_name"
		export "${_gt_name?}"
	done
	_gt_n=0
	for _gt_name in $secret_names; do
		_gt_n=$((_gt_n + 1))
		case $_gt_name in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
		eval "$_gt_name=\$secret_value_$_gt_n"
		export "${_gt_name?}"
	done
}

# --- GPUs and the launcher: what the instance has, and torchrun -------------

# runner_image_path <path>: an absolute path of the image's, from
# GIT_TRAIN_IMAGE_ROOT when that has it (the tests' stand-in instances hold
# the image's files there, as GIT_TRAIN_RUNNER_DIR holds the runner's).
runner_image_path() {
	case $1 in
	/*)
		if test -n "${GIT_TRAIN_IMAGE_ROOT:-}" && test -e "$GIT_TRAIN_IMAGE_ROOT$1"; then
			printf '%s\n' "$GIT_TRAIN_IMAGE_ROOT$1"
			return 0
		fi
		;;
	esac
	printf '%s\n' "$1"
}

# The interpreter words, their first one from the image: sets interpreter.
runner_interpreter_words() {
	set -f
	# shellcheck disable=SC2086 # words, as train.interpreter is split locally
	set -- $INTERPRETER
	set +f
	interpreter=
	test $# -gt 0 || return 0
	first=$(runner_image_path "$1")
	shift
	interpreter="$first${*:+ $*}"
}

# The log starts with the GPUs and the framework's version. With GPUS > 0 a
# driver that does not answer fails the run (stage setup) before the script.
runner_gpu_check() {
	case ${GPUS:-0} in '' | *[!0-9]*) GPUS=0 ;; esac
	if ! command -v nvidia-smi >/dev/null 2>&1; then
		test "$GPUS" = 0 && return 0
		runner_fail setup 127 "the instance has $GPUS NVIDIA GPU(s) but no nvidia-smi: no NVIDIA driver in this image (train.image)"
		return 1
	fi
	if ! gpu_list=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1) ||
		test -z "$gpu_list"; then
		test "$GPUS" = 0 && return 0
		runner_fail setup 127 "the NVIDIA driver does not answer: nvidia-smi: $(printf '%s\n' "$gpu_list" | head -n 3 | tr '\n' ' ' | sed 's/ *$//')"
		return 1
	fi
	cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' | head -n 1)
	printf '%s\n' "$gpu_list" | sort | uniq -c | while read -r count line; do
		runner_say "GPU: $count x $line (CUDA ${cuda:-unknown})"
	done
	if test "${FRAMEWORK:-}" = torch; then
		runner_interpreter_words
		# its installed version, not an import: that takes seconds with CUDA
		# shellcheck disable=SC2086 # words
		if version=$(cd "$work" && ${interpreter:-python3} -c 'from importlib.metadata import version; print(version("torch"))' 2>/dev/null); then
			runner_say "PyTorch $version (${INTERPRETER:-python3})"
		else
			runner_say "torch is not installed for ${INTERPRETER:-python3}"
		fi
	fi
	return 0
}

# torchrun for train.launcher: beside the interpreter when it has one
# there, else on PATH; sets torchrun.
runner_torchrun() {
	torchrun_module=
	case $first in
	*/*)
		if test -x "${first%/*}/torchrun"; then
			torchrun=${first%/*}/torchrun
			return 0
		fi
		;;
	esac
	# the dependencies' environment has none of its own: the image's would
	# start the workers with the image's Python, which cannot see it
	if test -n "${VIRTUAL_ENV:-}" && test "$first" = "$VIRTUAL_ENV/bin/python"; then
		torchrun=$first torchrun_module=torch.distributed.run
		return 0
	fi
	if command -v torchrun >/dev/null 2>&1; then
		torchrun=torchrun
		return 0
	fi
	runner_fail script 127 "train.launcher is torchrun, but there is no torchrun beside ${INTERPRETER:-the interpreter} or on PATH"
	return 1
}

# --- outputs back (git train outputs) -------------------------------------
# The SHA-256 of each output, as sha256sum writes them ("<hex>  ./<path>"),
# uploaded beside the outputs to OUTPUTS_SUMS_KEY: `git train outputs`
# checks a download against it and skips a file already there when the
# object's ETag is no MD5 (a multipart upload's). Without sha256sum, none.
runner_upload_outputs_sums() {
	test -n "${OUTPUTS_SUMS_KEY:-}" && command -v sha256sum >/dev/null 2>&1 || return 0
	(cd "$1" && find -L . -type f -exec sha256sum {} +) >"$RUNNER_DIR/outputs.sha256" &&
		runner_s3 cp "$RUNNER_DIR/outputs.sha256" "s3://$BUCKET/$OUTPUTS_SUMS_KEY" \
			--content-type text/plain --sse AES256 ||
		echo "git-train: cannot upload the outputs' checksums" >&2
	return 0
}

# --- dependencies (src/run/deps.h) -----------------------------------------
# deps.sh, written beside this file, installs the commit's dependencies into
# a virtual environment under /var/lib/git-train/envs (the runner
# directory's parent), or restores it from the repository's cache in S3
# (s3://$BUCKET/$DEPS_PREFIX<key>.tar.gz); setup and the script then run in
# it. deps_key goes into the result.
deps_key=

# The image's AMI id from IMDSv2, part of the cache key: an environment is
# only restored on the image it was built on.
runner_image_id() {
	test "${AWS_EC2_METADATA_DISABLED:-}" != true || return 0
	token=$(curl -sf --noproxy '*' -m 2 -X PUT \
		-H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token") || return 0
	ami=$(curl -sf --noproxy '*' -m 2 -H "X-aws-ec2-metadata-token: $token" \
		"$imds/latest/meta-data/ami-id") || return 0
	case $ami in ami-*[!0-9a-f-]* | *[!0-9a-z-]*) ;; ami-*) echo "$ami" ;; esac
}

runner_deps() {
	for f in requirements.txt pyproject.toml environment.yml environment.yaml ''; do
		test -n "$f" || return 0 # none of the files deps.sh looks for
		test -f "$work/$f" && break
	done
	first=${INTERPRETER%%[ 	]*}
	case ${first##*/} in
	python | python[0-9]*) python=$(runner_image_path "$first") ;;
	*) python=python3 first= ;;
	esac
	rm -f "$RUNNER_DIR/deps.out"
	runner_job env DEPS_PYTHON="$python" DEPS_ROOT="${RUNNER_DIR%/*}/envs" \
		DEPS_CACHE="${DEPS_PREFIX:+s3://$BUCKET/$DEPS_PREFIX}" DEPS_IMAGE="$(runner_image_id)" \
		DEPS_OUT="$RUNNER_DIR/deps.out" REGION="$REGION" AWS_ENDPOINT_URL_S3="$s3_endpoint" \
		sh "$RUNNER_DIR/deps.sh"
	if test "$job_rc" != 0; then
		runner_stopping && return 1
		runner_fail setup "$job_rc" "the dependencies were not installed (exit $job_rc): nothing of the script ran"
		return 1
	fi
	test -f "$RUNNER_DIR/deps.out" || return 0
	deps_key=$(sed -n 's/^key=//p' "$RUNNER_DIR/deps.out")
	venv=$(sed -n 's/^venv=//p' "$RUNNER_DIR/deps.out")
	VIRTUAL_ENV=$venv
	PATH=$venv/bin:$PATH
	export VIRTUAL_ENV PATH
	test -z "$first" || INTERPRETER=$venv/bin/python${INTERPRETER#"$first"}
}

runner_run_setup() {
	test -n "$SETUP" || return 0
	runner_job sh -c "$SETUP"
	test "$job_rc" = 0 && return 0
	runner_stopping && return 1
	runner_fail setup "$job_rc" "setup failed (exit $job_rc): $SETUP"
	return 1
}

# How to run the script: the interpreter words the client chose as the
# local backend does (train.interpreter, else by extension), or the file
# itself by its #! line; sets interpreter and script_arg.
runner_script_command() {
	first=
	runner_interpreter_words
	script_arg=$SCRIPT
	case $interpreter in
	*[!\ \	]*) ;;
	*)
		if test "$(head -c 2 "$work/$SCRIPT")" != '#!'; then
			runner_fail script 126 "cannot tell how to run '$SCRIPT': its extension is not known and it has no #! line"
			return 1
		fi
		chmod u+x "$work/$SCRIPT"
		interpreter=
		script_arg=./$SCRIPT
		;;
	esac
	# an interpreter would take it for an option
	case $script_arg in -*) script_arg=./$script_arg ;; esac
}

runner_run_script() {
	if ! test -f "$work/$SCRIPT"; then
		runner_fail script 127 "the script '$SCRIPT' is not in commit $COMMIT"
		return 1
	fi
	runner_script_command || return 1
	# several nodes: torchrun's static rendezvous at node 0 (global rank 0
	# there), or without a launcher the standard variables, one process a node
	nnodes='' node_rank='' master='' ranks=''
	if test "$NODES" -gt 1; then
		case $MASTER_ADDR in
		'' | *[!0-9A-Za-z.:-]*)
			runner_fail script 126 "the run has $NODES nodes, but node 0's address is not known ('${MASTER_ADDR:-}')"
			return 1
			;;
		esac
		nnodes="--nnodes $NODES" node_rank="--node_rank $NODE_RANK"
		master="--master_addr $MASTER_ADDR --master_port $MASTER_PORT"
		ranks="env RANK=$NODE_RANK LOCAL_RANK=0 WORLD_SIZE=$NODES LOCAL_WORLD_SIZE=1 MASTER_ADDR=$MASTER_ADDR MASTER_PORT=$MASTER_PORT"
	fi
	# the monitor looks for a peer's preemption while the script runs
	test "$NODES" = 1 || : >"$RUNNER_DIR/script.on"
	set -f
	if test "${LAUNCHER:-}" = torchrun; then
		runner_torchrun || {
			set +f
			return 1
		}
		no_python=
		test -n "$interpreter" || no_python=--no-python
		# shellcheck disable=SC2086 # no_python, nnodes, node_rank, master: words or none
		if test -n "$torchrun_module"; then
			# shellcheck disable=SC2086
			runner_job "$torchrun" -m "$torchrun_module" $nnodes $node_rank \
				--nproc_per_node "${NPROC:-1}" $master $no_python "$script_arg" "$@"
		else
			# shellcheck disable=SC2086
			runner_job "$torchrun" $nnodes $node_rank --nproc_per_node "${NPROC:-1}" $master \
				$no_python "$script_arg" "$@"
		fi
	else
		# the interpreter is words, like train.interpreter locally
		# shellcheck disable=SC2086
		runner_job $ranks $interpreter "$script_arg" "$@"
	fi
	set +f
	rm -f "$RUNNER_DIR/script.on"
	exit_code=$job_rc
}

runner_metrics() {
	file=$work/metrics.json
	metrics='{}'
	test -f "$file" || return 0
	str='"([^"\\[:cntrl:]]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
	num='-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?'
	member="[[:space:]]*${str}[[:space:]]*:[[:space:]]*${num}[[:space:]]*"
	text=$(head -c 65536 "$file" | tr '\n\r\t' '   ')
	if test "$(wc -c <"$file")" -le 65536 &&
		printf '%s\n' "$text" | grep -E -q "^[[:space:]]*\{($member(,$member)*|[[:space:]]*)\}[[:space:]]*\$"; then
		metrics=$text
	else
		runner_say "metrics.json is not a flat JSON object of numbers: no metrics recorded"
	fi
}

runner_json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

runner_write_result() {
	end=$(runner_now)
	end_s=$(date +%s)
	runner_metrics
	{
		printf '{"run_id": %s, "commit": %s, ' "$(runner_json_string "$RUN_ID")" \
			"$(runner_json_string "$COMMIT")"
		printf '"status": "%s", "exit_code": %d, ' "$status" "$exit_code"
		test -z "$stage" || printf '"stage": "%s", ' "$stage"
		test -z "$deps_key" || printf '"deps": "%s", ' "$deps_key"
		test -z "$failed_node" || printf '"failed_node": %d, ' "$failed_node"
		if test "$(wc -l <"$attempts_file")" -gt 1; then
			runner_attempts_sums
			printf '"start": "%s", "end": "%s", "duration": %d, ' "$first_start" "$end" \
				"$total"
			printf '"attempts": [\n'
			runner_attempts_json
			printf '\n], "lost": %d, ' "$lost"
		else
			printf '"start": "%s", "end": "%s", "duration": %d, ' "$start" "$end" \
				$((end_s - start_s))
		fi
		printf '"metrics": %s}\n' "$metrics"
	} >"$result.tmp" && mv "$result.tmp" "$result"
}

runner_upload_outputs() {
	test -n "${OUTPUTS_KEY:-}" || return 0 # node R > 0: node 0's are the run's
	dir=$work/$OUTPUTS_DIR
	test -d "$dir" && test -n "$(ls -A "$dir")" || return 0
	runner_s3 cp --recursive "$dir" "s3://$BUCKET/$OUTPUTS_KEY" --sse AES256 ||
		echo "git-train: cannot upload the outputs" >&2
	runner_upload_outputs_sums "$dir"
	return 0
}

# The log, then the result: a client that sees the result reads the log
# once more, and must find all of it.
runner_upload_result() {
	runner_s3 cp "$log" "s3://$BUCKET/$LOG_KEY" --content-type text/plain --sse AES256 ||
		echo "git-train: cannot upload the log" >&2
	runner_s3 cp "$result" "s3://$BUCKET/$RESULT_KEY" --content-type application/json \
		--sse AES256 || echo "git-train: cannot upload the result" >&2
	return 0
}

# --- checkpoints and attempts (issue 13) -----------------------------------
# GIT_TRAIN_CHECKPOINT_DIR is $RUNNER_DIR/checkpoints: restored before the
# script (at attempt 1 from RESUME_FROM_KEY when set, at a later one from
# CHECKPOINT_KEY), synced to CHECKPOINT_KEY every CHECKPOINT_INTERVAL ticks,
# at a spot notice once the script has stopped, and at the end. The
# attempts are lines of $RUNNER_DIR/attempts ("n instance start start_s end
# end_s status exit_code", "-" for an end not yet known), on the instance's
# volume: a start after a reboot is the next attempt. attempts.json
# (layout.h) is written from them, one attempt a line, to ATTEMPTS_KEY at
# each attempt's start and end. With SPOT_REQUEST a stop notice (EC2 stops
# the instance and starts it again when it can) suspends the run instead
# of ending it, while MAX_INTERRUPTIONS allows; a per-boot hook starts the
# runner again at the next boot, and the request is cancelled when the run
# ends, so that the instance's end makes AWS start no other.

# runner_iso_s <ISO 8601 UTC>: seconds since the epoch (0 when date cannot)
runner_iso_s() {
	date -u -d "$1" +%s 2>/dev/null || echo 0
}

# runner_span <seconds>: as "45s", "1m05s", "2h03m"
runner_span() {
	if test "$1" -ge 3600; then
		printf '%dh%02dm' $(($1 / 3600)) $(($1 % 3600 / 60))
	elif test "$1" -ge 60; then
		printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
	else
		printf '%ds' "$1"
	fi
}

# runner_sh_quote <text>: text as one shell word
runner_sh_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# This instance's id from IMDSv2 into instance_id ("unknown" without one).
runner_instance_id() {
	test "${AWS_EC2_METADATA_DISABLED:-}" != true || return 0
	token=$(curl -sf --noproxy '*' -m 2 -X PUT \
		-H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token") || return 0
	id=$(curl -sf --noproxy '*' -m 2 -H "X-aws-ec2-metadata-token: $token" \
		"$imds/latest/meta-data/instance-id") || return 0
	case $id in i-*[!0-9a-z]* | i-) ;; i-*) instance_id=$id ;; esac
}

# runner_attempt_record <status> <exit code>: the current attempt's line,
# ended unless the status is running.
runner_attempt_record() {
	if test "$1" = running; then
		end_iso=- end_at=-
		test "$NODES" = 1 || echo "$attempt" >"$RUNNER_DIR/attempt.cur"
	else
		end_iso=$(runner_now) end_at=$(date +%s)
	fi
	{
		grep -v "^$attempt " "$attempts_file" 2>/dev/null
		printf '%s %s %s %s %s %s %s %s\n' "$attempt" "$instance_id" "$attempt_start" \
			"$attempt_start_s" "$end_iso" "$end_at" "$1" "$2"
	} >"$attempts_file.tmp" && mv "$attempts_file.tmp" "$attempts_file"
}

# The attempts as JSON objects, one a line, separated by commas.
runner_attempts_json() {
	sep=
	while read -r n inst st st_s en en_s stat a_code; do
		printf '%s{"attempt": %d, "instance": "%s", "start": "%s", ' "$sep" "$n" "$inst" "$st"
		test "$en" = - || printf '"end": "%s", "duration": %d, ' "$en" $((en_s - st_s))
		printf '"status": "%s", "exit_code": %d}' "$stat" "$a_code"
		sep=',
'
	done <"$attempts_file"
}

# attempts.json to ATTEMPTS_KEY.
runner_upload_attempts() {
	test -n "${ATTEMPTS_KEY:-}" && test -s "$attempts_file" || return 0
	{
		printf '{"run_id": %s, "attempts": [\n' "$(runner_json_string "$RUN_ID")"
		runner_attempts_json
		printf '\n]}\n'
	} >"$RUNNER_DIR/attempts.json" || return 0
	runner_s3 cp "$RUNNER_DIR/attempts.json" "s3://$BUCKET/$ATTEMPTS_KEY" \
		--content-type application/json --sse AES256 2>>"$log" ||
		runner_say "cannot upload the attempts to s3://$BUCKET/$ATTEMPTS_KEY"
}

# runner_parse_attempts <attempts.json>: the attempts before this one, of
# a document another instance wrote, into the attempts file. Only lines that
# are exactly an attempt as runner_attempts_json writes them count; an
# attempt that never ended is taken as interrupted at its start.
runner_parse_attempts() {
	iso='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
	head -c 65536 "$1" | tr -d '\r' | sed -E -n "s/^\{\"attempt\": ([1-9][0-9]{0,3}), \"instance\": \"(i-[0-9a-z]{1,32}|local|unknown)\", \"start\": \"($iso)\"(, \"end\": \"($iso)\", \"duration\": ([0-9]{1,9}))?, \"status\": \"(running|preempted|retried|interrupted|succeeded|failed)\", \"exit_code\": (-?[0-9]{1,3})\},?\$/\1 \2 \3 x\5 x\6 \7 \8/p" |
		while read -r n inst st en dur stat a_code; do
			test "$n" -lt "$attempt" || continue
			st_s=$(runner_iso_s "$st")
			if test "$en" = x || test "$stat" = running; then
				en=$st dur=0 stat=interrupted
			else
				en=${en#x} dur=${dur#x}
			fi
			printf '%s %s %s %s %s %s %s %s\n' "$n" "$inst" "$st" "$st_s" "$en" \
				$((st_s + dur)) "$stat" "$a_code"
		done | sort -n -k 1,1 -u >"$attempts_file"
}

# The attempt this start makes (into attempt, attempt_start[_s]): after a
# reboot, the next of this volume's; else ATTEMPT, whose run's log and
# attempts (another instance's) are downloaded first and continued. Each
# attempt after the first starts with a "git-train: --- attempt" line.
runner_attempt_begin() {
	runner_instance_id
	attempt_start=$(runner_now) attempt_start_s=$(date +%s)
	if test -s "$attempts_file"; then
		# shellcheck disable=SC2046 # the last line's words
		set -- $(tail -n 1 "$attempts_file")
		attempt=$(($1 + 1))
		if test "$7" = running; then # it went down without a word
			end_s=$(cat "$RUNNER_DIR/alive" 2>/dev/null) || end_s=$4
			case $end_s in '' | *[!0-9]*) end_s=$4 ;; esac
			test "$end_s" -ge "$4" || end_s=$4
			{
				sed '$d' "$attempts_file"
				printf '%s %s %s %s %s %s interrupted -1\n' "$1" "$2" "$3" "$4" \
					"$(date -u -d "@$end_s" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo "$3")" "$end_s"
			} >"$attempts_file.tmp" && mv "$attempts_file.tmp" "$attempts_file"
		fi
	elif test "$ATTEMPT" -gt 1; then
		attempt=$ATTEMPT
		if runner_s3 cp "s3://$BUCKET/$LOG_KEY" "$log.prev" 2>/dev/null; then
			cat "$log.prev" "$log" >"$log.tmp" && mv "$log.tmp" "$log"
			rm -f "$log.prev"
		fi
		rm -f "$RUNNER_DIR/attempts.prev"
		test -n "${ATTEMPTS_KEY:-}" &&
			runner_s3 cp "s3://$BUCKET/$ATTEMPTS_KEY" "$RUNNER_DIR/attempts.prev" 2>/dev/null &&
			runner_parse_attempts "$RUNNER_DIR/attempts.prev"
	fi
	if test "$attempt" -gt 1; then
		why='after a restart'
		if test -s "$attempts_file"; then
			# shellcheck disable=SC2046
			set -- $(tail -n 1 "$attempts_file")
			gap=$((attempt_start_s - $6))
			test "$gap" -ge 0 || gap=0
			case $7 in
			preempted) why="after $(runner_span "$gap") without capacity" ;;
			*) why="after $(runner_span "$gap") down" ;;
			esac
		fi
		test -e "$log" && test -s "$log" && test -n "$(tail -c 1 "$log")" && echo >>"$log"
		runner_say "--- attempt $attempt of $((MAX_INTERRUPTIONS + 1)) ($instance_id, $why): restoring checkpoints ---"
	fi
	runner_attempt_record running -1
	runner_upload_attempts
}

# The checkpoint directory, exported with the attempt to setup and the script.
runner_checkpoint_env() {
	GIT_TRAIN_CHECKPOINT_DIR=$ckpt GIT_TRAIN_ATTEMPT=$attempt
	export GIT_TRAIN_CHECKPOINT_DIR GIT_TRAIN_ATTEMPT
}

# The checkpoints before the script: at attempt 1 from RESUME_FROM_KEY when
# set; at a later one from CHECKPOINT_KEY, unless this volume kept them.
runner_restore() {
	if ! mkdir -p "$ckpt"; then
		runner_fail setup 1 "cannot make the checkpoint directory $ckpt"
		return 1
	fi
	runner_checkpoint_env
	if test "$attempt" = 1; then
		from=${RESUME_FROM_KEY:-}
	elif test "$NODES" -gt 1 && test "$NODE_RANK" != 0 && test -z "${nodes_restore:-}"; then
		# node R > 0: the run's, once every node is ready (runner_nodes_restore)
		return 0
	else
		from=${CHECKPOINT_KEY:-}
		kept=$(find "$ckpt" -type f | wc -l)
		if test "$kept" -gt 0; then
			runner_say "checkpoints: $kept file(s) kept on this instance's volume"
			return 0
		fi
	fi
	test -n "$from" || return 0
	case $from in */) ;; *) from=$from/ ;; esac
	where=s3://$BUCKET/$from
	if ! runner_aws_at "$s3_endpoint" s3api list-objects-v2 --bucket "$BUCKET" --prefix "$from" \
		--query 'Contents[].[Key,Size,ETag]' --output text >"$RUNNER_DIR/checkpoints.list" 2>>"$log"; then
		runner_fail setup 1 "cannot list the checkpoints at $where"
		return 1
	fi
	count=0
	while IFS=$data_tab read -r key size etag; do
		test -z "$size" && test "$key" = None && continue
		case $key in */) continue ;; esac
		if ! runner_data_key "${key#"$from"}"; then
			runner_fail setup 1 "refusing the checkpoints at $where: the object key '$key' would land outside the checkpoint directory"
			return 1
		fi
		count=$((count + 1))
	done <"$RUNNER_DIR/checkpoints.list"
	if test "$count" = 0; then
		runner_say "checkpoints: none at $where yet"
		return 0
	fi
	if ! runner_s3 sync "$where" "$ckpt" --exclude '../*' --exclude '*/../*' \
		--exclude '*/..' --exclude '/*' 2>>"$log"; then
		runner_fail setup 1 "cannot restore the checkpoints from $where"
		return 1
	fi
	runner_say "checkpoints: $count file(s) restored from $where"
}

# runner_sync_up [final]: the checkpoint directory's complete files to
# CHECKPOINT_KEY: no *.tmp, *.part, *~ or dot-file, and, unless final (the
# script has ended), none modified in the last 2 seconds. Nothing in S3 is
# deleted, and links are not followed.
runner_sync_up() {
	# several nodes: rank 0's checkpoints, on node 0, are the run's
	test "$NODE_RANK" = 0 && test -n "${CHECKPOINT_KEY:-}" && test -d "$ckpt" || return 0
	test -n "$(ls -A "$ckpt" 2>/dev/null)" || return 0
	final=${1:-}
	set -- --exclude '*.tmp' --exclude '*.part' --exclude '*~' --exclude '.*' --exclude '*/.*'
	if test -z "$final"; then
		rm -f "$RUNNER_DIR/sync.recent"
		if touch -d "@$(($(date +%s) - 2))" "$RUNNER_DIR/sync.stamp" 2>/dev/null; then
			find "$ckpt" -type f -newer "$RUNNER_DIR/sync.stamp" >"$RUNNER_DIR/sync.recent"
		else
			find "$ckpt" -type f -mmin -1 >"$RUNNER_DIR/sync.recent"
		fi
		while read -r f; do
			set -- "$@" --exclude "$(printf '%s\n' "${f#"$ckpt"/}" | sed 's/[][*?]/[&]/g')"
		done <"$RUNNER_DIR/sync.recent"
	fi
	runner_s3 sync "$ckpt" "s3://$BUCKET/$CHECKPOINT_KEY" --no-follow-symlinks --sse AES256 \
		"$@" 2>>"$log" ||
		runner_say "cannot sync the checkpoints to s3://$BUCKET/$CHECKPOINT_KEY"
	return 0
}

# runner_sync_locked <ticks> [final]: runner_sync_up, never two at once:
# waits that many ticks for one under way.
runner_sync_locked() {
	i=0
	until mkdir "$RUNNER_DIR/sync.lock" 2>/dev/null; do
		i=$((i + 1))
		test "$i" -le "$1" || return 1
		sleep "$tick"
	done
	runner_sync_up "${2:-}"
	rmdir "$RUNNER_DIR/sync.lock"
}

# When to SIGKILL a script that a spot notice stopped (kill_s): after two
# thirds of the time the notice leaves (80 s of 2 minutes: the script may
# save a checkpoint at SIGTERM), the last third to the runner's uploads;
# unset (30 ticks then) when its time cannot be read.
runner_kill_time() {
	when=$(printf '%s\n' "$notice" | sed -n 's/.*"time" *: *"\([0-9TZ:-]*\)".*/\1/p')
	kill_s=
	test -n "$when" || return 0
	when_s=$(runner_iso_s "$when")
	now_s=$(date +%s)
	test "$when_s" -gt "$now_s" || return 0
	kill_s=$((now_s + (when_s - now_s) * 2 / 3))
}

# The run's spot request is cancelled by cancel.sh: by the runner at the end,
# by a systemd timer (runner_arm_cancel) before the watchdog's shutdown.
# Node 0 of several cancels the other nodes' requests (NODE_SPOT_REQUESTS)
# with its own: a node that never came back leaves none open.
runner_write_cancel() {
	test -n "${SPOT_REQUEST:-}" || return 0
	at=${AWS_ENDPOINT_URL_EC2:-${AWS_ENDPOINT_URL:-}}
	requests=$SPOT_REQUEST
	for r in ${NODE_SPOT_REQUESTS:-}; do
		case $r in sir-*[!0-9a-z-]* | sir-) ;; sir-*) requests="$requests $r" ;; esac
	done
	{
		echo "# git-train: cancels the spot request of run $(printf '%s' "$RUN_ID" | tr -cd 'A-Za-z0-9._-')"
		printf 'exec aws'
		test -z "$at" || printf ' --endpoint-url %s' "$(runner_sh_quote "$at")"
		printf ' --region %s ec2 cancel-spot-instance-requests --spot-instance-request-ids' \
			"$(runner_sh_quote "$REGION")"
		for r in $requests; do
			printf ' %s' "$(runner_sh_quote "$r")"
		done
		echo
	} >"$RUNNER_DIR/cancel.sh.tmp" && mv "$RUNNER_DIR/cancel.sh.tmp" "$RUNNER_DIR/cancel.sh"
}

# runner_arm_cancel <minutes>: a transient systemd timer, half a minute
# before the watchdog's shutdown, that cancels the spot request: killing
# the runner cannot cancel it, and the instance's end then starts no other.
# Two units take turns (-a, -b; the one in use in cancel.unit): the new one
# is started before the shutdown moves and the old one is stopped after, so
# that a runner killed at any point leaves a timer due before the shutdown.
runner_arm_cancel() {
	test -n "${SPOT_REQUEST:-}" && test -f "$RUNNER_DIR/cancel.sh" || return 0
	command -v systemd-run >/dev/null 2>&1 || return 0
	unit=git-train-cancel-$(printf '%s' "$RUN_ID" | tr -cd 'A-Za-z0-9._-')
	old=$(cat "$RUNNER_DIR/cancel.unit" 2>/dev/null) || old=
	case $old in a) new=b ;; *) new=a ;; esac
	secs=$(($1 * 60 - 30))
	test "$secs" -gt 0 || secs=1
	systemctl stop "$unit-$new.timer" >/dev/null 2>&1 || :
	systemd-run --unit="$unit-$new" --on-active="$secs" sh "$RUNNER_DIR/cancel.sh" \
		>/dev/null 2>&1 || :
	echo "$new" >"$RUNNER_DIR/cancel.unit"
}

# runner_arm_cancel_done: the turn's old unit stopped, once the shutdown moved
runner_arm_cancel_done() {
	test -n "${SPOT_REQUEST:-}" && test -f "$RUNNER_DIR/cancel.unit" || return 0
	case $(cat "$RUNNER_DIR/cancel.unit") in a) old=b ;; *) old=a ;; esac
	systemctl stop "git-train-cancel-$(printf '%s' "$RUN_ID" | tr -cd 'A-Za-z0-9._-')-$old.timer" \
		>/dev/null 2>&1 || :
}

# The spot request cancelled, at the run's end; a failure is logged.
runner_cancel_request() {
	test -n "${SPOT_REQUEST:-}" || return 0
	if sh "$RUNNER_DIR/cancel.sh" >/dev/null 2>>"$log"; then
		case $requests in
		*' '*) runner_say "spot requests $requests cancelled" ;;
		*) runner_say "spot request $SPOT_REQUEST cancelled" ;;
		esac
	else
		case $requests in
		*' '*) what="spot requests $requests" ;;
		*) what="spot request $SPOT_REQUEST" ;;
		esac
		runner_say "cannot cancel the $what: the instance's end may make AWS start another (git train gc cancels it)"
	fi
}

# The per-boot hook, with SPOT_REQUEST, when the runner's base directory is
# /var/lib/git-train (cloud-init's scripts-per-boot beside it): at every
# boot, the watchdog, then the runner again unless the run has ended.
runner_hook_path() {
	base=${RUNNER_DIR%/*}
	case $base in */var/lib/git-train) ;; *) return 1 ;; esac
	case $RUN_ID in '' | *[!A-Za-z0-9._-]*) return 1 ;; esac
	hooks=${base%/git-train}/cloud/scripts/per-boot
	hook=$hooks/git-train-$RUN_ID.sh
}

runner_boot_hook() {
	test -n "${SPOT_REQUEST:-}" && runner_hook_path || return 0
	test -e "$hook" && return 0
	d=$(runner_sh_quote "$RUNNER_DIR")
	minutes=$(((IDLE_TIMEOUT + 59) / 60))
	if mkdir -p "$hooks" && {
		echo '#!/bin/sh'
		echo "# git-train: run $RUN_ID, at each boot until it ends: the watchdog, then its runner"
		test "$IDLE_TIMEOUT" = 0 ||
			echo "shutdown --no-wall -h +$minutes >/dev/null 2>&1 || shutdown -h +$minutes >/dev/null 2>&1 || :"
		echo "test -d $d && ! test -e $d/ended || exit 0"
		echo "cd / || exit 1"
		echo "if command -v setsid >/dev/null 2>&1; then"
		echo "	setsid nohup sh $d/start.sh $d </dev/null >>$d/runner.out 2>&1 &"
		echo "else"
		echo "	nohup sh $d/start.sh $d </dev/null >>$d/runner.out 2>&1 &"
		echo "fi"
	} >"$hook.tmp" && chmod 755 "$hook.tmp" && mv "$hook.tmp" "$hook"; then
		return 0
	fi
	runner_say "cannot write the per-boot hook $hook: after a stop the run would not go on"
}

# runner_retry_code <exit code>: 0 when RETRY_ON_EXIT lists it
runner_retry_code() {
	for c in $(printf '%s\n' "${RETRY_ON_EXIT:-}" | tr ',' ' '); do
		case $c in '' | *[!0-9]*) continue ;; esac
		test "$c" = "$1" && return 0
	done
	return 1
}

# The script, and again in place (not the setup) while it exits with a
# RETRY_ON_EXIT code and interruptions are left: each such attempt retried.
runner_run_attempts() {
	# several nodes, a later attempt: together, from the run's checkpoints
	if test "$NODES" -gt 1 && test "$attempt" -gt 1; then
		runner_say "waiting for the other nodes: attempt $attempt starts on every node together"
		# node 0 stopped: what its suspension's sync did not finish in the
		# notice's time, before its marker tells the others to restore
		test "$NODE_RANK" != 0 || runner_sync_locked 600 final
		runner_nodes_barrier "$attempt" || return 0
		test "$NODE_RANK" = 0 || runner_nodes_restore || return 1
	fi
	while :; do
		runner_run_script "$@" || return 1
		runner_nodes_why
		if test -e "$RUNNER_DIR/peer.preempted" && ! runner_ending; then
			runner_nodes_next || return 0
			continue
		fi
		! runner_stopping && test "$exit_code" != 0 && runner_retry_code "$exit_code" ||
			return 0
		if test "$attempt" -gt "$MAX_INTERRUPTIONS"; then
			runner_say "the script exited $exit_code (train.retryOnExit), but train.maxInterruptions ($MAX_INTERRUPTIONS) was reached: the run fails"
			return 0
		fi
		runner_sync_locked 600 final
		runner_attempt_record retried "$exit_code"
		attempt=$((attempt + 1))
		attempt_start=$(runner_now) attempt_start_s=$(date +%s)
		runner_checkpoint_env
		runner_say "--- attempt $attempt of $((MAX_INTERRUPTIONS + 1)) ($instance_id, the script exited $exit_code, in train.retryOnExit): running it again ---"
		runner_attempt_record running -1
		runner_upload_attempts
	done
}

# A stop notice with attempts left: the attempt and the checkpoints saved,
# the log uploaded; no result and no shutdown: EC2 stops the instance, and
# its next boot starts the next attempt (runner_boot_hook). The attempt's
# end goes first: one small upload, which clients read to say since when
# the run waits for capacity, where the checkpoints' sync may take the rest
# of the notice's grace and be cut short by the stop.
runner_suspend() {
	runner_say "spot interruption (stop): attempt $attempt saved; the run goes on from its checkpoints when the instance starts again"
	test -n "$attempt_recorded" || runner_attempt_record preempted "$exit_code"
	runner_upload_attempts
	runner_sync_locked 600 final
	runner_upload_log || echo "git-train: cannot upload the log" >&2
}

# For the result: first_start, total (the attempts' durations) and lost (the
# time between an attempt's end and the next one's start).
runner_attempts_sums() {
	total=0 lost=0 prev_end='' first_start=''
	while read -r n inst st st_s en en_s stat a_code; do
		test -n "$first_start" || first_start=$st
		test "$en_s" != - || en_s=$st_s
		total=$((total + en_s - st_s))
		if test -n "$prev_end" && test "$st_s" -gt "$prev_end"; then
			lost=$((lost + st_s - prev_end))
		fi
		prev_end=$en_s
	done <"$attempts_file"
}

# --- several nodes (issue 14) ----------------------------------------------
# With NODES > 1 this runner is node NODE_RANK of the run. The script runs
# under torchrun's static rendezvous (node 0's MASTER_ADDR:MASTER_PORT), or
# without a launcher once per node with the standard variables. Node 0 is
# the run (LOG_KEY, RESULT_KEY: the run's own; outputs, metrics,
# checkpoints and attempts); node R > 0 writes its log and result under
# NODES_KEY<R>/ (start.sh's LOG_KEY and RESULT_KEY) and nothing else. At
# each heartbeat tick node 0 lists NODES_KEY for the other nodes' results
# (one call) and reads each new one once: a node that failed, was
# preempted or interrupted ends the run here (node.failed: "R status
# exit_code stage"). Node R > 0 looks for the run's result (RUN_RESULT_KEY,
# one call): once node 0 has ended, so does it (run.ended).
#
# A spot interruption that stops a node (SPOT_REQUEST, a persistent
# request; attempts left) suspends it as one node's (runner_suspend), and
# every node resumes together. Markers under NODES_KEY, on every node:
# <R>/preempted-<a>, written by node R first thing at its stop notice
# (before its script stops: its peers' collectives fail only after it is
# there), and <R>/attempt-<a>, node R ready to run attempt a. Each node's
# monitor, while the script runs, looks for a peer's preempted-<a> of the
# attempt under way (attempt.cur: the monitor is a subshell) and stops the
# script (peer.preempted: "r a"); the runner then records attempt a
# preempted, writes attempt-<a+1> and waits, at most 2 x RESUME_TIMEOUT,
# until every node has written it (runner_nodes_barrier); the node that
# was stopped comes back by its per-boot hook, as one node does, and
# meets the others there. Node R > 0 then takes the run's checkpoints from
# CHECKPOINT_KEY (node 0's, synced before node 0 wrote its marker), never
# its volume's: rank 0's are the run's.
failed_node=
attempt_recorded=
nodes_list_file=$RUNNER_DIR/nodes.list

# runner_node_field <file> <name>: the document's first "name": value (the
# result's own fields come before its attempts'), quotes removed
runner_node_field() {
	head -c 65536 "$1" | tr '\n\r\t' '   ' | grep -o "\"$2\": *\"*[-a-z0-9]*" | head -n 1 |
		sed 's/.*: *"*//'
}

# runner_nodes_list <prefix>: the keys under it, a line each, from one
# listing (the same call as the data's: one permission, s3:ListBucket)
runner_nodes_list() {
	runner_aws_at "$s3_endpoint" s3api list-objects-v2 --bucket "$BUCKET" --prefix "$1" \
		--query 'Contents[].[Key,Size,ETag]' --output text 2>/dev/null >"$nodes_list_file" ||
		return 1
	while IFS=$data_tab read -r key size etag; do
		test -z "$size" && test "$key" = None && continue
		printf '%s\n' "$key"
	done <"$nodes_list_file"
}

# runner_nodes_mark <name>: this node's marker NODES_KEY<rank>/<name>
runner_nodes_mark() {
	runner_now >"$RUNNER_DIR/marker" &&
		runner_s3 cp "$RUNNER_DIR/marker" "s3://$BUCKET/$NODES_KEY$NODE_RANK/$1" \
			--content-type text/plain --sse AES256 2>>"$log" && return 0
	runner_say "cannot write s3://$BUCKET/$NODES_KEY$NODE_RANK/$1"
	return 1
}

# The monitor, at this node's stop notice: preempted-<a> first, when this
# node will be back (a stop, a persistent request, attempts left).
runner_nodes_notice() {
	test "$NODES" -gt 1 && test -n "${SPOT_REQUEST:-}" && test -n "${NODES_KEY:-}" || return 0
	case $notice in *'"action"'*:*'"stop"'*) ;; *) return 0 ;; esac
	{ read -r cur <"$RUNNER_DIR/attempt.cur"; } 2>/dev/null || return 0
	case $cur in '' | *[!0-9]*) return 0 ;; esac
	test "$cur" -le "$MAX_INTERRUPTIONS" || return 0
	runner_nodes_mark "preempted-$cur"
}

# runner_nodes_peer <keys>: 0 when a peer's preempted-<a> of the attempt
# under way is among them (said once, in peer.preempted)
runner_nodes_peer() {
	{ read -r cur <"$RUNNER_DIR/attempt.cur"; } 2>/dev/null || return 1
	for key in $1; do
		case $key in "$NODES_KEY"*/preempted-"$cur") ;; *) continue ;; esac
		r=${key#"$NODES_KEY"}
		r=${r%/preempted-"$cur"}
		case $r in '' | *[!0-9]*) continue ;; esac
		test "$r" = "$NODE_RANK" && continue
		test "$r" -lt "$NODES" || continue
		# the monitor and the runner may both see it: one says it
		if (set -C && echo "$r $cur" >"$RUNNER_DIR/peer.preempted") 2>/dev/null; then
			runner_say "node $r was preempted (spot interruption): attempt $cur stops on every node"
		fi
		return 0
	done
	return 1
}

# runner_nodes_watch [markers]: 0 when the run must stop on this node, the
# reason logged and in node.failed (node 0), run.ended (node R > 0) or
# peer.preempted (a peer's preemption; looked for only with "markers":
# the monitor passes it while the script runs)
runner_nodes_watch() {
	test "$NODES" -gt 1 || return 1
	if test "$NODE_RANK" != 0; then
		if test -n "${RUN_RESULT_KEY:-}" && keys=$(runner_nodes_list "$RUN_RESULT_KEY") &&
			printf '%s\n' "$keys" | grep -qxF "$RUN_RESULT_KEY"; then
			if (set -C && : >"$RUNNER_DIR/run.ended") 2>/dev/null; then
				runner_say "the run has ended on node 0: node $NODE_RANK stops"
			fi
			return 0
		fi
		test -n "${1:-}" && test -n "${NODES_KEY:-}" || return 1
		keys=$(runner_nodes_list "$NODES_KEY") || return 1
		runner_nodes_peer "$keys"
		return
	fi
	test -n "${NODES_KEY:-}" || return 1
	keys=$(runner_nodes_list "$NODES_KEY") || return 1
	test -z "${1:-}" || ! runner_nodes_peer "$keys" || return 0
	for key in $keys; do
		case $key in "$NODES_KEY"*/result.json) ;; *) continue ;; esac
		r=${key#"$NODES_KEY"}
		r=${r%/result.json}
		case $r in '' | 0* | *[!0-9]*) continue ;; esac
		test "$r" -lt "$NODES" || continue
		! grep -qx "$r" "$RUNNER_DIR/nodes.seen" 2>/dev/null || continue
		f=$RUNNER_DIR/node.$r.json
		runner_s3 cp "s3://$BUCKET/$key" "$f" 2>/dev/null || continue
		echo "$r" >>"$RUNNER_DIR/nodes.seen"
		st=$(runner_node_field "$f" status)
		test "$st" != succeeded || continue
		code=$(runner_node_field "$f" exit_code)
		case $code in -1 | [0-9] | [0-9][0-9] | [0-9][0-9][0-9]) ;; *) code=-1 ;; esac
		stg=$(runner_node_field "$f" stage)
		case $stg in code | setup | script | outputs) ;; *) stg=- ;; esac
		case $st in preempted | interrupted) ;; *) st=failed ;; esac
		# the monitor and the runner may both read it: one says it
		(set -C && echo "$r $st $code $stg" >"$RUNNER_DIR/node.failed") 2>/dev/null || return 0
		at="its log is at s3://$BUCKET/$NODES_KEY$r/log"
		case $st in
		preempted) runner_say "node $r was preempted (spot interruption): $at" ;;
		interrupted) runner_say "node $r was interrupted: $at" ;;
		*) runner_say "node $r failed (exit $code): $at" ;;
		esac
		return 0
	done
	return 1
}

# After the script failed on its own: a peer's preemption or failure (or
# the run's end) often fails the collectives here before the watch sees
# it. A peer's preempted-<a> is there before its script stops: one more
# look now finds it; node 0 looks for up to three more watch periods, for
# a peer's result (which a node R > 0 uploads once it has looked, at once)
runner_nodes_why() {
	test "$NODES" -gt 1 && test "$exit_code" != 0 && ! runner_stopping || return 0
	w_max=0
	test "$NODE_RANK" != 0 || w_max=3
	w=0
	until runner_nodes_watch markers || test $w -ge $w_max; do
		sleep "$(awk "BEGIN { print $LOG_INTERVAL * $tick }")"
		w=$((w + 1))
	done
	return 0
}

# runner_nodes_barrier <attempt> [<peer>]: this node's attempt-<attempt>
# written, then 0 once every node has written its own; 1 when this node
# stops instead (its own notice, a signal, the run's end, the max runtime:
# status set), or after 2 x RESUME_TIMEOUT: node 0 then ends the run,
# which ends the others; node R > 0 gives up alone only when node 0 is the
# one missing.
runner_nodes_barrier() {
	b_next=$1
	runner_nodes_mark "attempt-$b_next"
	b_limit=$(($(date +%s) + 2 * RESUME_TIMEOUT))
	b_period=$(awk "BEGIN { print $LOG_INTERVAL * $tick }")
	b_missing=${2:-}
	while :; do
		runner_ending && return 1
		if keys=$(runner_nodes_list "$NODES_KEY"); then
			b_missing='' n=0
			while test "$n" -lt "$NODES"; do
				printf '%s\n' "$keys" | grep -qxF "$NODES_KEY$n/attempt-$b_next" ||
					b_missing="$b_missing${b_missing:+ }$n"
				n=$((n + 1))
			done
			test -n "$b_missing" || return 0
		fi
		if test "$NODE_RANK" != 0 && runner_nodes_watch; then
			status=interrupted
			return 1
		fi
		# the watchdog never goes past the max runtime: no result then
		if test "$DEADLINE" -gt 0 && test "$(date +%s)" -ge "$DEADLINE"; then
			runner_say "the run's max runtime ended while it waited: attempt $b_next does not start"
			status=interrupted
			return 1
		fi
		if test "$(date +%s)" -ge "$b_limit"; then
			twice="twice train.resumeTimeout ($(runner_span $((2 * RESUME_TIMEOUT))))"
			case $b_missing in *' '*) who="nodes $b_missing did" ;; *) who="node $b_missing did" ;; esac
			if test "$NODE_RANK" = 0; then
				runner_say "$who not come back within $twice: the run ends preempted"
				status=preempted failed_node=${b_missing%% *}
				return 1
			fi
			case " $b_missing " in
			*' 0 '*)
				runner_say "node 0 did not come back within $twice: node $NODE_RANK stops"
				status=preempted
				return 1
				;;
			esac
		fi
		sleep "$b_period"
	done
}

# Node R > 0 of several, at an attempt after the first: the run's
# checkpoints from CHECKPOINT_KEY, in place of what its volume has.
runner_nodes_restore() {
	if test "$NODE_RANK" != 0; then
		rm -rf "$ckpt"
		nodes_restore=1
	fi
	runner_restore
}

# After a peer's preemption stopped the script of attempt a: attempt a
# preempted, then the next one once every node is ready; 1 when the run
# ends instead (status set).
runner_nodes_next() {
	read -r peer _ <"$RUNNER_DIR/peer.preempted"
	if test "$attempt" -gt "$MAX_INTERRUPTIONS"; then
		runner_say "train.maxInterruptions ($MAX_INTERRUPTIONS) was reached: the run ends preempted"
		status=preempted
		test "$NODE_RANK" != 0 || failed_node=$peer
		return 1
	fi
	runner_attempt_record preempted "$exit_code"
	attempt_recorded=1 stopped_s=$end_at
	runner_upload_attempts
	# node 0's attempt-<a+1> tells the others that these are the run's
	runner_sync_locked 600 final
	runner_say "waiting for node $peer to come back: attempt $((attempt + 1)) starts on every node when it does (at most $(runner_span $((2 * RESUME_TIMEOUT))))"
	runner_nodes_barrier $((attempt + 1)) "$peer" || return 1
	waited=$(($(date +%s) - stopped_s))
	attempt=$((attempt + 1))
	attempt_start=$(runner_now) attempt_start_s=$(date +%s)
	rm -f "$RUNNER_DIR/peer.preempted"
	runner_checkpoint_env
	runner_say "--- attempt $attempt of $((MAX_INTERRUPTIONS + 1)) ($instance_id, node $peer back after $(runner_span "$waited")): restoring checkpoints ---"
	runner_attempt_record running -1
	attempt_recorded=
	runner_upload_attempts
	runner_nodes_restore
}

# The run's status as the nodes make it, once this node's script has ended
# (and the monitor with it): another node's failure ends node 0's run as
# that node's (its status, exit code and stage, failed_node), unless this
# node was itself preempted or interrupted; a node R > 0 that the run's end
# stopped is interrupted.
runner_nodes_status() {
	test "$NODES" -gt 1 || return 0
	case $status in preempted | interrupted) return 0 ;; esac
	if test "$NODE_RANK" != 0; then
		if test -e "$RUNNER_DIR/run.ended" && test "$status" = failed && test -z "$stage"; then
			status=interrupted
		fi
		return 0
	fi
	test -e "$RUNNER_DIR/node.failed" || return 0
	read -r failed_node status exit_code stage <"$RUNNER_DIR/node.failed"
	test "$stage" != - || stage=
}

# A start after a reboot of a run on several nodes that has ended while
# this instance was stopped (for node R > 0 the run's result, for node 0
# its own): 0, and nothing runs.
runner_nodes_over() {
	test "$NODES" -gt 1 && test -s "$attempts_file" || return 1
	k=$RESULT_KEY
	test "$NODE_RANK" = 0 || k=${RUN_RESULT_KEY:-}
	test -n "$k" && keys=$(runner_nodes_list "$k") && printf '%s\n' "$keys" | grep -qxF "$k"
}

# The end of such a start: the requests cancelled, node R > 0's result
# "interrupted", the hook removed, the instance shut down.
runner_nodes_ended() {
	runner_say "the run has ended while this instance was stopped: node $NODE_RANK stops"
	status=interrupted exit_code=-1
	: >"$RUNNER_DIR/ended"
	! runner_hook_path || rm -f "$hook"
	runner_write_cancel
	runner_cancel_request
	if test "$NODE_RANK" != 0; then
		runner_write_result
		runner_upload_result
	fi
	test "$KEEP" = 1 || shutdown -h now || poweroff
}

runner_main() {
	start=$(runner_now)
	start_s=$(date +%s)
	trap runner_on_signal TERM INT HUP
	if test -e "$RUNNER_DIR/ended"; then
		echo "git-train: run $RUN_ID has ended: nothing to do" >&2
		return 0
	fi
	: >>"$log"
	rm -rf "$RUNNER_DIR/stop" "$RUNNER_DIR/done" "$RUNNER_DIR/preempted" "$RUNNER_DIR/job.pid" \
		"$RUNNER_DIR/sync.lock" "$RUNNER_DIR/node.failed" "$RUNNER_DIR/run.ended" \
		"$RUNNER_DIR/nodes.seen" "$RUNNER_DIR/peer.preempted" "$RUNNER_DIR/script.on"
	if runner_nodes_over; then
		runner_nodes_ended
		return 0
	fi
	runner_attempt_begin
	over=
	if test "$attempt" -gt 1 && test "$DEADLINE" -gt 0 && test "$(date +%s)" -ge "$DEADLINE"; then
		over=deadline
	elif test "$attempt" -gt $((MAX_INTERRUPTIONS + 1)); then
		over=limit
	fi
	runner_write_cancel
	runner_boot_hook
	# the user data's first stage (or the per-boot hook's) becomes the heartbeat's
	test "$over" = deadline || runner_arm "$IDLE_TIMEOUT"
	runner_monitor &
	monitor_pid=$!

	case $over:$OUTPUTS_DIR in
	deadline:*)
		runner_say "the run's max runtime ended while it was stopped: attempt $attempt does not start"
		status=interrupted
		;;
	limit:*)
		runner_say "train.maxInterruptions ($MAX_INTERRUPTIONS) was reached: attempt $attempt does not start"
		status=interrupted
		;;
	:/* | :.. | :../* | :*/.. | :*/../*)
		runner_fail outputs 126 "the outputs directory must be relative to the script's directory, not '$OUTPUTS_DIR'"
		;;
	*)
		if runner_fetch_code && ! runner_stopping && mkdir -p "$work/$OUTPUTS_DIR"; then
			# the run's time is setup's and the script's, as for local runs
			start=$(runner_now)
			start_s=$(date +%s)
			PYTHONUNBUFFERED=1 GIT_TRAIN_RUN_ID=$RUN_ID GIT_TRAIN_COMMIT=$COMMIT
			GIT_TRAIN_OUTPUTS=$work/$OUTPUTS_DIR
			export PYTHONUNBUFFERED GIT_TRAIN_RUN_ID GIT_TRAIN_COMMIT GIT_TRAIN_OUTPUTS
			runner_checkpoint_env
			runner_gpu_check && runner_fetch_data && runner_fetch_secrets &&
				! runner_stopping && runner_restore && ! runner_stopping && runner_deps &&
				! runner_stopping && runner_run_setup && ! runner_stopping &&
				runner_run_attempts "$@"
		fi
		;;
	esac

	if test -e "$RUNNER_DIR/preempted"; then
		status=preempted
	elif test -n "$interrupted"; then
		status=interrupted
	elif test -z "$status"; then
		if test "$exit_code" = 0; then status=succeeded; else status=failed; fi
	fi
	: >"$RUNNER_DIR/stop"
	# a signal interrupts wait: an upload still running would overwrite the last
	while kill -0 "$monitor_pid" 2>/dev/null; do
		wait "$monitor_pid"
	done
	runner_nodes_status
	# the heartbeat goes on while the last uploads run
	keepalive_pid=
	if test "$IDLE_TIMEOUT" -gt 0; then
		runner_keepalive &
		keepalive_pid=$!
	fi
	action=
	test "$status" != preempted ||
		action=$(sed -n 's/.*"action" *: *"\([a-z]*\)".*/\1/p' "$RUNNER_DIR/preempted" 2>/dev/null)
	# several nodes resume in place too, together (runner_nodes_barrier)
	if test "$action" = stop && test -n "${SPOT_REQUEST:-}"; then
		if test "$attempt" -le "$MAX_INTERRUPTIONS"; then
			runner_suspend
			runner_keepalive_end
			return 0
		fi
		runner_say "train.maxInterruptions ($MAX_INTERRUPTIONS) was reached: the run ends preempted"
	fi
	runner_sync_locked 600 final
	# an attempt a peer's preemption ended keeps its end: the wait after it is lost time
	test -n "$attempt_recorded" || runner_attempt_record "$status" "$exit_code"
	runner_write_result
	# the run has ended: no boot starts it again, and no instance replaces this one
	: >"$RUNNER_DIR/ended"
	! runner_hook_path || rm -f "$hook"
	runner_cancel_request
	runner_upload_attempts
	# the outputs after the result when time is short (a spot notice gives
	# 2 minutes), else before it: then a result means all is there
	case $status in
	preempted | interrupted) runner_upload_result && runner_upload_outputs ;;
	*) runner_upload_outputs && runner_upload_result ;;
	esac
	runner_keepalive_end
	if test "$KEEP" != 1; then
		shutdown -h now || poweroff
	elif test "$DEADLINE" -gt 0; then
		runner_arm "$DEADLINE" # no more heartbeats: kept until the max runtime
	elif test "$IDLE_TIMEOUT" -gt 0; then
		shutdown -c >/dev/null 2>&1 || :
	fi
}

runner_main "$@"
