#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make run`'s demo (selftests/demo.sh), run as a test so that the README's first command
# cannot break unnoticed: it must end with status 0 and its last line.
. "$(dirname "$0")/lib.sh"
mod_unload
out=$(bash "$IPVSD_TOP/selftests/demo.sh" 2>&1); rc=$?
echo "$out" | sed 's/^/# demo: /'
[ "$rc" = 0 ] || fail "demo.sh exited with $rc"
[ "$(echo "$out" | tail -1)" = "== demo done" ] || fail "demo.sh did not reach its end"
