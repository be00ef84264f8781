#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make run`'s demo (selftests/demo.sh), run as a test so that the README's first command
# cannot break unnoticed: it must end with status 0 and its last line.
. "$(dirname "$0")/lib.sh"
plan 1
mod_unload

demo_runs_to_its_end() {
  local out rc why
  out=$(bash "$IPVSD_TOP/selftests/demo.sh" 2>&1); rc=$?
  echo "$out" | sed 's/^/# demo: /'
  why=$(echo "$out" | sed -n 's/^# FAIL: //p' | head -1)
  [ "$rc" = 0 ] || fail "demo.sh exited with $rc${why:+: $why}"
  [ "$(echo "$out" | tail -1)" = "== demo done" ] || fail "demo.sh did not reach its end"
}

run_test demo_runs_to_its_end demo_runs_to_its_end
finish
