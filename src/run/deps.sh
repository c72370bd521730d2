# git-train deps: the commit's dependencies in a virtual environment, installed
# once and then taken from a cache (src/run/deps.h).
#
# Run with sh in the code's directory (the runner on EC2, the local backend
# here), configured by the environment:
#   DEPS_PYTHON  the run's interpreter (train.interpreter's first word, or
#                python3): the environment is made on top of it
#   DEPS_ROOT    an absolute directory: the environment of key K is DEPS_ROOT/K,
#                a path that depends on the key alone, so that an environment
#                is used at the path it was built at
#   DEPS_CACHE   where packed environments are kept, s3://<bucket>/<prefix>/
#                (K.tar.gz, through the AWS CLI, with REGION and
#                AWS_ENDPOINT_URL[_S3]); empty: DEPS_ROOT itself is the cache
#                (what is unpacked there stays)
#   DEPS_IMAGE   what the machine is (the AMI id on EC2), part of the key
#   DEPS_OUT     a file that gets "key=K" and "venv=<path>" once it is ready
# Exits 0 when there is nothing to install or the environment is ready, else
# with the installer's status after a "git-train: ..." line saying what failed.
# It needs POSIX sh, tar, gzip and sha256sum (or openssl); uv when the machine
# has it, else the interpreter's venv and pip.

deps_say() {
	printf 'git-train: %s\n' "$*"
}

# Milliseconds since the epoch, to the second where date has no %N.
deps_ms() {
	t=$(date +%s%N 2>/dev/null)
	case $t in
	*[!0-9]* | '') echo $(($(date +%s) * 1000)) ;;
	*) echo $((t / 1000000)) ;;
	esac
}

# deps_since <ms>: seconds since then, "4.2"
deps_since() {
	d=$(($(deps_ms) - $1))
	printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}

deps_sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum | cut -c 1-64
	else
		openssl dgst -sha256 -r | cut -c 1-64
	fi
}

# What to install, by the files at the top of the code: the first of a uv
# or poetry project with its lock, requirements.txt, environment.yml. Sets
# kind and files (hashed into the key); 1 when there is none.
deps_find() {
	if test -f uv.lock && test -f pyproject.toml; then
		kind=uv files='pyproject.toml uv.lock'
	elif test -f poetry.lock && test -f pyproject.toml; then
		kind=poetry files='pyproject.toml poetry.lock'
	elif test -f requirements.txt; then
		kind=pip files=requirements.txt
	elif test -f environment.yml; then
		kind=conda files=environment.yml
	elif test -f environment.yaml; then
		kind=conda files=environment.yaml
	else
		return 1
	fi
	what=$(echo "$files" | sed 's/.* //')
}

# The cache key: the files' contents, the image, the interpreter (its real
# path, version and the machine's architecture) and this file's version.
deps_key() {
	{
		echo "git-train deps 1 $kind"
		for f in $files; do
			printf '%s %s\n' "$f" "$(deps_sha256 <"$f")"
		done
		printf 'image %s\n%s\n' "${DEPS_IMAGE:-}" "$identity"
	} | deps_sha256 | cut -c 1-16
}

# The S3 store (DEPS_CACHE s3://...): deps_store_get <key> <file>, deps_store_put <file> <key>.
deps_s3() {
	endpoint=${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-}}
	if test -n "$endpoint"; then
		aws --endpoint-url "$endpoint" --region "${REGION:-${AWS_REGION:-}}" s3 "$@" --only-show-errors
	else
		aws --region "${REGION:-${AWS_REGION:-}}" s3 "$@" --only-show-errors
	fi
}

# 0 when the entry was there (in file), 1 when not; a failure that is not a
# missing entry is said, and counts as one
deps_store_get() {
	test -n "${DEPS_CACHE:-}" || return 1
	if deps_s3 cp "$DEPS_CACHE$1.tar.gz" "$2" 2>"$2.err"; then
		rm -f "$2.err"
		return 0
	fi
	if ! grep -q -e '404' -e 'does not exist' -e 'Not Found' "$2.err"; then
		deps_say "cannot read the dependency cache $DEPS_CACHE$1.tar.gz (installing instead):"
		cat "$2.err"
	fi
	rm -f "$2" "$2.err"
	return 1
}

deps_store_put() {
	deps_s3 cp "$1" "$DEPS_CACHE$2.tar.gz" --sse AES256
}

# deps_relocate <dir> <from> <to>: the environment in dir, made at from,
# now for to: the paths that tools wrote into its scripts (#! lines,
# activate, pyvenv.cfg), rewritten.
deps_relocate() {
	if test "$2" != "$3"; then
		from=$(printf '%s\n' "$2" | sed 's/[][\\/.^$*|]/\\&/g')
		to=$(printf '%s\n' "$3" | sed 's/[\\/&|]/\\&/g')
		for f in "$1"/bin/* "$1"/pyvenv.cfg; do
			test -f "$f" && ! test -L "$f" || continue
			grep -q -I -F "$2" "$f" 2>/dev/null || continue
			sed "s|$from|$to|g" "$f" >"$f.tmp" && cat "$f.tmp" >"$f" && rm -f "$f.tmp" ||
				return 1
		done
	fi
	echo "$3" >"$1/.git-train-deps"
}

# deps_publish: the complete environment in $tmp becomes $venv, unless
# another run's already did (then $tmp goes).
deps_publish() {
	if ! test -f "$venv/.git-train-deps"; then
		# left by a run that stopped half-way (a complete one has the file),
		# unless a conda build is making it there
		test -d "$venv.lock" && return 1
		rm -rf "$venv"
		mv "$tmp" "$venv" || return 1
	fi
	# another run's came first: mv put this one inside it, or it is still here
	rm -rf "$tmp" "$venv/.$key.$$"
	test -f "$venv/.git-train-deps"
}

# The lock of one conda build of $venv: a directory holding the builder's
# pid; one left by a process that is gone is taken over.
deps_lock() {
	if ! mkdir "$venv.lock" 2>/dev/null; then
		pid=$(cat "$venv.lock/pid" 2>/dev/null) || pid=
		test -n "$pid" && ! kill -0 "$pid" 2>/dev/null || return 1
		rm -rf "$venv.lock"
		mkdir "$venv.lock" 2>/dev/null || return 1
	fi
	echo $$ >"$venv.lock/pid"
	locked=1
}

deps_abort() {
	rm -rf "$tmp" "$tmp.tar.gz" "$tmp.tar.gz.err"
	test -z "${locked:-}" || rm -rf "$venv"
	deps_unlock
}

deps_unlock() {
	test -z "${locked:-}" || rm -rf "$venv.lock"
	locked=
}

# A virtual environment in $1 over the interpreter, its packages visible.
deps_venv() {
	if test -n "$uv"; then
		uv venv --quiet --system-site-packages --python "$python" "$1"
	elif "$python" -c 'import importlib.util, sys
sys.exit(importlib.util.find_spec("pip") is None)' 2>/dev/null; then
		# the interpreter's pip serves the environment: no copy of it to make
		"$python" -m venv --system-site-packages --without-pip "$1"
	else
		"$python" -m venv --system-site-packages "$1"
	fi
}

deps_pip() {
	dir=$1
	shift
	if test -n "$uv"; then
		VIRTUAL_ENV=$dir uv pip install --python "$dir/bin/python" "$@"
	else
		"$dir/bin/python" -m pip install "$@"
	fi
}

# Installs what deps_find found into the directory $1.
deps_install_into() {
	case $kind in
	pip)
		deps_venv "$1" && deps_pip "$1" -r requirements.txt
		;;
	uv)
		if test -n "$uv"; then
			deps_venv "$1" &&
				UV_PROJECT_ENVIRONMENT=$1 uv sync --frozen --no-install-project
		else
			deps_say "uv is not installed here: installing pyproject.toml's dependencies with pip (uv.lock is not used)"
			deps_venv "$1" && deps_pip "$1" .
		fi
		;;
	poetry)
		if command -v poetry >/dev/null 2>&1; then
			deps_venv "$1" &&
				VIRTUAL_ENV=$1 POETRY_VIRTUALENVS_CREATE=false \
					poetry install --no-root --no-interaction
		else
			deps_say "poetry is not installed here: installing pyproject.toml's dependencies with pip (poetry.lock is not used)"
			deps_venv "$1" && deps_pip "$1" .
		fi
		;;
	conda)
		for tool in mamba micromamba conda; do
			command -v $tool >/dev/null 2>&1 && break
			tool=
		done
		if test -z "$tool"; then
			deps_say "cannot install $what: it needs conda, mamba or micromamba, and this machine has none (install one in the image, or use requirements.txt)"
			return 127
		fi
		if test "$tool" = micromamba; then
			micromamba create --yes --prefix "$1" --file "$what"
		else
			$tool env create --prefix "$1" --file "$what"
		fi
		;;
	esac
}

deps_main() {
	deps_find || return 0
	case ${DEPS_ROOT:-} in
	/*) ;;
	*)
		deps_say "cannot install $what: no place for the environment (XDG_CACHE_HOME or HOME, an absolute path, is needed)"
		return 1
		;;
	esac
	python=${DEPS_PYTHON:-python3}
	uv=
	test "$kind" = conda || ! command -v uv >/dev/null 2>&1 || uv=uv
	if ! identity=$("$python" -c 'import os, platform, sys
print(os.path.realpath(sys.executable), platform.machine(), " ".join(sys.version.split()))' 2>&1); then
		deps_say "cannot install $what: the interpreter '$python' does not run: $identity"
		return 127
	fi
	key=$(deps_key) && test ${#key} = 16 || {
		deps_say "cannot install $what: neither sha256sum nor openssl works here"
		return 127
	}
	export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
	venv=$DEPS_ROOT/$key
	tmp=$DEPS_ROOT/.$key.$$
	t0=$(deps_ms)
	locked=
	# stopped half-way (Ctrl-C, a spot notice): nothing half-made stays
	trap 'deps_abort; exit 143' TERM
	trap 'deps_abort; exit 130' INT
	mkdir -p "$DEPS_ROOT" || return 1
	rm -rf "$tmp" "$tmp.tar.gz"
	if test -f "$venv/.git-train-deps"; then
		deps_say "dependencies from $what restored from cache in $(deps_since "$t0") s ($key)"
	elif deps_store_get "$key" "$tmp.tar.gz"; then
		if mkdir "$tmp" && (cd "$tmp" && gzip -dc "$tmp.tar.gz" | tar -xf -) &&
			deps_relocate "$tmp" "$(cat "$tmp/.git-train-deps")" "$venv" && deps_publish; then
			deps_say "dependencies from $what restored from cache in $(deps_since "$t0") s ($key)"
		else
			deps_say "cannot unpack the cached environment $key: installing instead"
			rm -rf "$tmp"
		fi
	fi
	if ! test -f "$venv/.git-train-deps"; then
		deps_say "installing the dependencies from $what${uv:+ with uv} ($key)"
		build=$tmp
		# conda writes its prefix into binaries too: such an environment is
		# built where it stays, by one run at a time
		if test "$kind" = conda; then
			if ! deps_lock; then
				deps_say "cannot install $what: another run is installing environment $key on this machine right now (run again once it is done)"
				return 75
			fi
			build=$venv
			rm -rf "$venv"
		fi
		deps_install_into "$build"
		rc=$?
		if test $rc != 0; then
			rm -rf "$build"
			deps_unlock
			deps_say "cannot install the dependencies from $what (exit $rc)"
			return $rc
		fi
		if test "$build" = "$venv"; then
			echo "$venv" >"$venv/.git-train-deps"
			deps_unlock
		# tested last: a directory there is complete
		elif ! deps_relocate "$tmp" "$tmp" "$venv" || ! deps_publish; then
			rm -rf "$tmp"
			deps_say "cannot keep the environment in $venv"
			return 1
		fi
		cached="cached as $key"
		if test -n "${DEPS_CACHE:-}"; then
			if ! (cd "$venv" && tar -cf - .) | gzip -1 >"$tmp.tar.gz" ||
				! deps_store_put "$tmp.tar.gz" "$key"; then
				cached="not cached: cannot upload it to $DEPS_CACHE$key.tar.gz"
			fi
			rm -f "$tmp.tar.gz"
		fi
		deps_say "dependencies from $what installed in $(deps_since "$t0") s ($cached)"
	fi
	rm -f "$tmp.tar.gz"
	printf 'key=%s\nvenv=%s\n' "$key" "$venv" >"$DEPS_OUT"
}

deps_main
