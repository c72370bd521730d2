#!/bin/sh
test_description='t0730-completion (being written)'
. "$(dirname "$0")/test-lib.sh"

test_expect_success "placeholder" "false"

test_done
