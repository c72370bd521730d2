#!/bin/sh
test_description='the command line: usage, unknown words, version'
. "$(dirname "$0")/test-lib.sh"

test_expect_success '-h prints usage on stdout and exits 129' '
	test_expect_code 129 git train -h >out 2>err &&
	grep "^usage: git train <instance-type>" out &&
	grep "local" out
'

test_expect_success 'no arguments is a usage error' '
	test_expect_code 129 git train 2>err &&
	grep "^usage:" err
'

test_expect_success 'an unknown subcommand is named, with the closest one' '
	test_expect_code 129 git train lcoal 2>err &&
	grep "error: .lcoal. is not a git-train command" err &&
	grep "did you mean .local.?" err
'

test_expect_success 'an unknown option is named' '
	test_expect_code 129 git train local --epohcs 3 2>err &&
	grep "unknown option .epohcs." err
'

test_expect_success '--version' '
	git train --version >out &&
	grep "^git-train version [0-9]" out
'

test_done
