# Runs the commands of the guides in docs/ as written (tests/doc-commands.py),
# for t9000 and t9010, which share the guides between them (two scripts side
# by side take half the time of one): each guide in its own repository,
# docs/<name>.md's output in out-<name>.md, in the order given.
#
# The EC2 commands run against moto behind the fake, which runs the
# instances' side in sandboxes; the guides' `aws` commands reach them through
# a wrapper that adds --endpoint-url, as older AWS CLIs ignore AWS_ENDPOINT_URL.
DOCS_T9000="ec2-runs.md gpu.md outputs-and-metrics.md preemption.md several-machines.md sweeps.md"
DOCS_T9010="data-and-secrets.md dependencies.md local-runs.md workflow.md"

test_start_ec2
if test_have_prereq EC2; then
	mkdir -p "$TRASH_DIRECTORY/aws-bin"
	cat >"$TRASH_DIRECTORY/aws-bin/aws" <<-EOF
	#!/bin/sh
	PATH='$PATH' exec aws --endpoint-url "\$AWS_ENDPOINT_URL" "\$@"
	EOF
	chmod +x "$TRASH_DIRECTORY/aws-bin/aws"
fi

# docs/dependencies.md installs a package as a user would, from PyPI; here a
# package index on 127.0.0.1 serves a stand-in of it (PIP_INDEX_URL).
if test_have_prereq PYTHON; then
	test_make_wheel "$TRASH_DIRECTORY/index/simple/tabulate" tabulate 0.9.0 &&
	test_make_wheel "$TRASH_DIRECTORY/index/simple/tabulate" tabulate 0.8.10 &&
	test_start_package_index "$TRASH_DIRECTORY/index" || exit 1
	PIP_INDEX_URL=$INDEX_URL
	export PIP_INDEX_URL
fi

# docs_interrupter <text>: in the background until the fake has interrupted
# an instance whose runner's log has a line that starts with <text> (once, EC2 giving the
# capacity back a second later), as EC2 would interrupt a guide's spot run
# that it means to show resuming; $docs_interrupter_pid
docs_interrupter() {
	/usr/bin/python3 - "$FAKE_URL" "$1" 2>"$TRASH_DIRECTORY/interrupter.log" <<-\EOF &
	import glob, json, sys, time, urllib.request
	url, text = sys.argv[1:3]
	for _ in range(3000):
	    with urllib.request.urlopen(url + "/__fake/instances") as r:
	        instances = json.load(r)
	    for iid, i in instances.items():
	        for log in glob.glob((i["sandbox"] or "/nonexistent") + "/var/lib/git-train/*/log"):
	            with open(log, errors="replace") as f:
	                if any(l.startswith(text) for l in f) and not i["terminated"]:
	                    body = json.dumps({"instance": iid, "restart_after": 1}).encode()
	                    urllib.request.urlopen(url + "/__fake/interrupt", body)
	                    sys.exit(0)
	    time.sleep(0.2)
	sys.exit("no instance logged " + text)
	EOF
	docs_interrupter_pid=$!
	# its complaints, if any, are in interrupter.log
}

# test_docs_run <name>...: a test for each guide docs/<name>; a guide with a
# line <!-- t9000: interrupt after "<text>" --> has its spot instance
# interrupted once its runner logged that line (docs_interrupter)
test_docs_run() {
	for name in "$@"; do
		doc=$SRCDIR/docs/$name
		# a guide that runs on EC2 (the emulated one) says so in a comment
		prereq=PYTHON
		! grep -q "^<!-- t9000: EC2 -->" "$doc" || prereq=EC2
		! grep -q "^\$ git lfs " "$doc" || prereq=$prereq,LFS
		! grep -q "^import torch" "$doc" || prereq=$prereq,TORCH
		interrupt=$(sed -n 's/^<!-- t9000: interrupt after "\(.*\)" -->$/\1/p' "$doc")
		test_expect_success $prereq "docs/$name: every command runs" '
			rm -rf "doc-$name" && mkdir "doc-$name" && cd "doc-$name" &&
			git init -q &&
			"$SRCDIR/tests/doc-commands.py" "$doc" >../doc.sh &&
			{ test -z "$interrupt" || docs_interrupter "$interrupt"; } &&
			PATH="$TRASH_DIRECTORY/aws-bin:$PATH" bash ../doc.sh >../out-$name 2>&1 ||
			{ cat ../out-$name; false; }
		'
		if test -n "${docs_interrupter_pid:-}"; then
			kill "$docs_interrupter_pid" 2>/dev/null
			wait "$docs_interrupter_pid"
			docs_interrupter_pid=
		fi
	done
}
