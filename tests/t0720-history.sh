#!/bin/sh
test_description='t0720-history (being written)'
. "$(dirname "$0")/test-lib.sh"

test_expect_success "placeholder" "false"

test_done
