#!/bin/sh
test_description='t0700-pre-push (being written)'
. "$(dirname "$0")/test-lib.sh"

test_expect_success "placeholder" "false"

test_done
