#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest: every selftests/test_*.sh (or the ones named), KTAP output on
# stdout and in OUTDIR/ktap.txt, and the dmesg check after each test.
#
#   selftests/run_guest.sh OUTDIR [test_name ...]
#
# A test script passes with exit 0, is skipped with exit 4 (kselftest's KSFT_SKIP), and
# fails otherwise; its own output becomes KTAP diagnostics ("# ..."). Any new dmesg line
# matching $BAD (WARN, BUG, KASAN, lockdep, atomic sleep, Oops, kmemleak) while a test runs
# fails that test. Writes OUTDIR/guest.status (0 when every test passed or was skipped).
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

emit "TAP version 13"
emit "1..$(( ${#tests[@]} + 1 ))"

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

for t in "${tests[@]}"; do
  n=$((n + 1))
  name=$(basename "$t" .sh); name=${name#test_}
  emit "# selftests: ipvs_defense: $name"
  start=$(date +%s)
  # A test may ask for more than the default 1500 s with a line "# timeout: SECONDS" (as
  # kselftest's per-directory `settings` file does); TEST_TIMEOUT overrides both.
  limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\)$/\1/p' "$t" | head -1)
  IPVSD_DIAG_TIMES=$out/$name.times \
    timeout --kill-after=30 "${TEST_TIMEOUT:-${limit:-1500}}" bash "$t" > "$out/$name.log" 2>&1
  rc=$?
  while IFS= read -r l; do
    case "$l" in "#"*) emit "$l" ;; *) emit "# $l" ;; esac
  done < "$out/$name.log"
  new=$(dmesg -c); echo "$new" >> "$out/dmesg.log"
  bad=$(echo "$new" | grep -E "$BAD")
  secs=$(( $(date +%s) - start ))
  if [ -n "$bad" ]; then
    emit "# dmesg during $name:"
    echo "$new" | grep -E -A25 "$BAD" | head -60 | while IFS= read -r l; do emit "#   $l"; done
    emit "not ok $n $name # dmesg: $(echo "$bad" | head -1 | cut -c1-120)"
    failed=1
  elif [ $rc -eq 0 ]; then
    emit "# dmesg check: clean"
    emit "ok $n $name # ${secs}s"
  elif [ $rc -eq 4 ]; then
    emit "ok $n $name # SKIP $(grep -m1 '^# SKIP' "$out/$name.log" | sed 's/^# SKIP: //')"
  else
    reason=$(grep -m1 '^# FAIL' "$out/$name.log" | sed 's/^# FAIL: //')
    [ $rc -eq 124 ] && reason="timed out"
    emit "not ok $n $name # ${reason:-exit code $rc}"
    failed=1
  fi
done
# Leave nothing loaded behind.
rmmod ipvs_defense 2>/dev/null
echo "$failed" > "$out/guest.status"
exit "$failed"
