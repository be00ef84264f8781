#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest: every selftests/test_*.sh (or the ones named), KTAP output on
# stdout and in OUTDIR/ktap.txt, and the dmesg check after each test.
#
#   selftests/run_guest.sh OUTDIR [test_name ...]
#
# Each script is one top-level result and its scenarios are nested results (lib.sh's
# plan/run_test), followed by one more, dmesg_clean: any new dmesg line matching $BAD
# (WARN, BUG, KASAN, lockdep, atomic sleep, Oops, kmemleak) while the script ran. A
# scenario skipped by its script is "ok ... # SKIP"; results missing from a script's plan
# fail. The script's other output becomes KTAP diagnostics ("# ..."). dmesg is checked at
# boot and after the last unload too. Writes OUTDIR/guest.status (0 when every test passed
# or was skipped).
set -u
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
export IPVSD_TOP=$(cd "$here/.." && pwd)
export PATH=/usr/sbin:/sbin:/usr/bin:/bin:$PATH
BAD='WARNING:|BUG:|KASAN|kmemleak:.*suspected|inconsistent lock state|possible recursive locking|circular locking|DEBUG_LOCKS_WARN_ON|sleeping function called from invalid context|Oops|general protection fault|Kernel panic|RCU stall|detected stalls|UBSAN'
KTAP=$out/ktap.txt
: > "$KTAP"; : > "$out/dmesg.log"

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
ulimit -c 0

if [ $# -gt 0 ]; then
  tests=(); for t in "$@"; do tests+=("$here/$t.sh"); done
else
  mapfile -t tests < <(ls "$here"/test_*.sh | sort)
fi

emit() { echo "$*"; echo "$*" >> "$KTAP"; }
# Processes started since boot (/proc/stat): under emulation each start costs about half a
# second, so a test's count says where its time goes.
forks() { local k v; while read -r k v _; do [ "$k" = processes ] && { echo "$v"; return; }; done < /proc/stat; }

emit "TAP version 13"
emit "1..$(( ${#tests[@]} + 2 ))"

# Boot messages: anything bad before our first test is reported as its own test.
boot=$(dmesg -c); echo "$boot" >> "$out/dmesg.log"
n=1
if bad=$(echo "$boot" | grep -E "$BAD"); then
  # Nothing of ours is loaded yet, so this is the kernel under emulation (an early-boot
  # KASAN report in an interrupt was seen once in a few boots). Such a report also turns
  # lockdep off for the rest of the boot, which would make our tests blind: ask the host to
  # boot again while it may, and fail otherwise.
  if [ "$(cat "$out/boots_left" 2>/dev/null || echo 0)" -gt 0 ]; then
    echo "$boot" | grep -E -A40 "$BAD" | head -60 > "$out/boot_splat.txt"
    echo reboot > "$out/guest.status"
    exit 0
  fi
  emit "# dmesg at boot:"; while IFS= read -r l; do emit "#   $l"; done <<< "$bad"
  emit "not ok $n dmesg_clean_at_boot # bad lines in dmesg before any test"
  failed=1
else
  emit "ok $n dmesg_clean_at_boot"
  failed=0
fi

# Prints a test's log as its nested KTAP results (4 spaces in): its plan and its
# scenarios' results, every other line a diagnostic; results missing from the plan (an
# early exit) as failures, or skips when the script skipped; then its dmesg check as one
# more result. Sets nested_fail to the first failure's reason (empty when none).
nested() { # log rc dmesg_bad
  local log=$1 rc=$2 bad=$3 planned=0 k=0 l why
  nested_fail=""
  planned=$(grep -m1 -E '^1\.\.[0-9]+$' "$log" | cut -d. -f3)
  emit "    KTAP version 1"
  emit "    1..$(( ${planned:-1} + 1 ))"
  while IFS= read -r l; do
    case "$l" in
      "ok "[0-9]*) k=$((k + 1)); emit "    $l" ;;
      "not ok "[0-9]*) k=$((k + 1)); emit "    $l"
        [ -n "$nested_fail" ] || nested_fail=${l#* # } ;;
      1..[0-9]*) ;;
      "#"*) emit "    $l" ;;
      *) emit "    # $l" ;;
    esac
  done < "$log"
  why=$(grep '^# FAIL' "$log" | tail -1 | sed 's/^# FAIL: //')
  [ $rc -eq 124 ] && why="timed out"
  if [ -z "$planned" ]; then
    # No plan: the script ended before it declared one; its exit is its one result.
    planned=1 k=1
    case $rc in
      0) emit "    ok 1 script" ;;
      4) emit "    ok 1 script # SKIP $(grep -m1 '^# SKIP' "$log" | sed 's/^# SKIP: //')" ;;
      *) nested_fail=${why:-exit code $rc}; emit "    not ok 1 script # $nested_fail" ;;
    esac
  fi
  while [ "$k" -lt "$planned" ]; do
    k=$((k + 1))
    if [ $rc -eq 4 ]; then
      emit "    ok $k not_run # SKIP $(grep -m1 '^# SKIP' "$log" | sed 's/^# SKIP: //')"
    else
      [ -n "$nested_fail" ] || nested_fail="the script ended before result $k: ${why:-exit code $rc}"
      emit "    not ok $k not_run # the script ended before it: ${why:-exit code $rc}"
    fi
  done
  if [ -n "$bad" ]; then
    nested_fail="dmesg: $(echo "$bad" | head -1 | cut -c1-120)"
    emit "    not ok $((k + 1)) dmesg_clean # $nested_fail"
  else
    emit "    ok $((k + 1)) dmesg_clean"
  fi
  if [ "$k" -gt "$planned" ] && [ -z "$nested_fail" ]; then
    nested_fail="$k results, but the plan was $planned"
  fi
  # A script that failed with every result ok (its own bug) still fails.
  if [ -z "$nested_fail" ] && [ $rc -ne 0 ] && [ $rc -ne 4 ]; then
    nested_fail="the script exited with ${why:-code $rc} after all its results"
  fi
  [ -z "$nested_fail" ] && return 0
  return 1
}

for t in "${tests[@]}"; do
  n=$((n + 1))
  name=$(basename "$t" .sh); name=${name#test_}
  emit "# selftests: ipvs_defense: $name"
  start=$(date +%s) forks0=$(forks)
  # A test may ask for more than the default 1500 s with a line "# timeout: SECONDS" (as
  # kselftest's per-directory `settings` file does); TEST_TIMEOUT overrides both.
  limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\)$/\1/p' "$t" | head -1)
  IPVSD_DIAG_TIMES=$out/$name.times \
    timeout --kill-after=30 "${TEST_TIMEOUT:-${limit:-1500}}" bash "$t" > "$out/$name.log" 2>&1
  rc=$?
  new=$(dmesg -c); echo "$new" >> "$out/dmesg.log"
  bad=$(echo "$new" | grep -E "$BAD")
  secs=$(( $(date +%s) - start ))
  if [ -n "$bad" ]; then
    emit "    # dmesg during $name:"
    echo "$new" | grep -E -A25 "$BAD" | head -60 | while IFS= read -r l; do emit "    #   $l"; done
  fi
  if nested "$out/$name.log" "$rc" "$bad"; then
    if [ $rc -eq 4 ]; then
      emit "ok $n $name # SKIP $(grep -m1 '^# SKIP' "$out/$name.log" | sed 's/^# SKIP: //')"
    else
      emit "ok $n $name # ${secs}s, $(( $(forks) - forks0 )) processes"
    fi
  else
    emit "not ok $n $name # $nested_fail"
    failed=1
  fi
done

# Leave nothing loaded behind, and check what the last unload printed.
n=$((n + 1))
rmmod ipvs_defense 2>/dev/null
new=$(dmesg -c); echo "$new" >> "$out/dmesg.log"
if bad=$(echo "$new" | grep -E "$BAD"); then
  emit "# dmesg after the last unload:"; while IFS= read -r l; do emit "#   $l"; done <<< "$bad"
  emit "not ok $n dmesg_clean_after_unload # bad lines in dmesg after the last unload"
  failed=1
else
  emit "ok $n dmesg_clean_after_unload"
fi
echo "$failed" > "$out/guest.status"
exit "$failed"
