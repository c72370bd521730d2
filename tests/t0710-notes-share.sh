#!/bin/sh
test_description='t0710-notes-share (being written)'
. "$(dirname "$0")/test-lib.sh"

test_expect_success "placeholder" "false"

test_done
