#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fuzzes the IPVS_DEFENSE generic netlink family (selftests/genl_fuzz.py): 8,000 random and
# mutated messages as root, then 2,000 as nobody (no CAP_NET_ADMIN), with wrong lengths,
# unknown commands and attributes, truncated headers, nested garbage, lying nlmsg_len,
# several messages per send and dumps abandoned half-way. Checks that every reply parses
# and is a valid answer or an error, that EPERM always carries "CAP_NET_ADMIN is required"
# (and that nothing needing CAP_NET_ADMIN succeeds or reaches its handler without it), that
# EINVAL carries an extended-ack message but where the core gives none (see genl_fuzz.py),
# that the unprivileged run changed nothing, that the module still serves (ipvsdadm -A, -a,
# -L -n) and that nothing leaked (kmemleak); the runner checks dmesg. The fuzzer's changes
# are undone: services flushed, defense_level back to 0.
# No topology: netlink only. The seed is fixed unless FUZZ_SEED is set; it is printed.
# timeout: 900
. "$(dirname "$0")/lib.sh"
plan 4
mod_unload
pub=
trap '[ -z "$pub" ] || rm -rf "$pub"; "$IPVSDADM" -C >/dev/null 2>&1; mod_loaded && { sc_write defense_level 0 >/dev/null; }; mod_unload' EXIT
mod_load

# A fixed seed, so that a run is repeatable; FUZZ_SEED=random draws one.
SEED=${FUZZ_SEED:-731580}
[ "$SEED" = random ] && SEED=$(( $(date +%s%N) % 1000000 ))
ROOT_COUNT=${FUZZ_ROOT_COUNT:-8000} NOBODY_COUNT=${FUZZ_NOBODY_COUNT:-2000}
export PYTHONDONTWRITEBYTECODE=1
FUZZ="python3 -S $IPVSD_TOP/selftests/genl_fuzz.py"
diag "seed $SEED (FUZZ_SEED=$SEED reproduces both runs)"
# The fuzzer, readable by the unprivileged user.
pub=$(mktemp -d /tmp/fuzz-nonroot.XXXXXX) && chmod 755 "$pub" &&
  cp "$IPVSD_TOP/selftests/genl.py" "$IPVSD_TOP/selftests/genl_fuzz.py" "$pub/" &&
  chmod a+rX "$pub"/* || fail "could not copy the fuzzer for the unprivileged user"
nonroot() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }

# Prints the fuzzer's summary as diagnostics, and its violations (at most 40 lines).
report() { # tag file
  grep -E '^(messages|cases|outcome|by command|replies|cleanup|no cleanup|populated|uid)' "$2" |
    sed "s/^/# $1: /"
  sed -n '/^extended-ack messages:/,/^replies/p' "$2" | grep '^  ' | head -25 |
    sed "s/^/# $1: extack /"
  awk '/^VIOLATION/ { p = 1 } /^RESULT/ { p = 0 } p' "$2" | cut -c1-400 | head -40 |
    sed "s/^/# $1: /"
  grep '^RESULT' "$2" | sed "s/^/# $1: /"
}

leak_begin

# As root: every command runs; FLUSH, DEL_* and SET_DEFENSE from the fuzz are expected.
# 200 services and a service with 300 real servers first, so that dumps span several
# messages and the abandoned ones stop half-way. What the fuzzer changed is undone (it
# flushes and sets the level it found, 0).
root_fuzz_replies_valid() {
  local t0 rc n problems=()
  t0=$(date +%s)
  $FUZZ --seed "$SEED" --count "$ROOT_COUNT" --time-limit 200 --populate 200 \
    --expect privileged > /tmp/fuzz_root.out 2>&1
  rc=$?
  report root /tmp/fuzz_root.out
  diag "root run: $(( $(date +%s) - t0 )) s"
  [ $rc -eq 0 ] || problems+=("root: $(grep '^RESULT' /tmp/fuzz_root.out | sed 's/^RESULT: //' | cut -c1-500)")
  grep -q '^RESULT' /tmp/fuzz_root.out || { tail -20 /tmp/fuzz_root.out | sed 's/^/# root: /'; problems+=("root: the fuzzer died (exit $rc)"); }

  n=$(ipvsdadm -L -n | grep -cE '^(TCP|UDP)')
  expect_eq "$n" 0 "services left after the root fuzz"
  expect_eq "$(sc defense_level)" 0 "defense_level after the root fuzz"
  diag "after the root fuzz: no service left, defense_level 0"

  [ ${#problems[@]} -eq 0 ] || fail "$(IFS='|'; echo "${problems[*]}" | sed 's/|/ || /g')"
  diag "root $ROOT_COUNT messages: every reply valid, no violation"
}

# As nobody: a configuration to look at (and to keep unchanged), then the fuzz.
nobody_fuzz_changes_nothing() {
  local before level_before t0 rc n after problems=()
  adm -C
  $FUZZ --populate 200 --count 0 --keep --expect privileged > /tmp/fuzz_pop.out 2>&1 ||
    { cat /tmp/fuzz_pop.out | sed 's/^/# populate: /'; fail "could not populate for the unprivileged run"; }
  before=$(ipvsdadm -L -n) || fail "ipvsdadm -L -n failed"
  level_before=$(sc defense_level)
  t0=$(date +%s)
  nonroot python3 -S "$pub/genl_fuzz.py" --seed "$((SEED + 1))" --count "$NOBODY_COUNT" \
    --time-limit 90 --expect unprivileged > /tmp/fuzz_nobody.out 2>&1
  rc=$?
  report nobody /tmp/fuzz_nobody.out
  diag "nobody run: $(( $(date +%s) - t0 )) s"
  [ $rc -eq 0 ] || problems+=("nobody: $(grep '^RESULT' /tmp/fuzz_nobody.out | sed 's/^RESULT: //' | cut -c1-500)")
  grep -q '^RESULT' /tmp/fuzz_nobody.out || { tail -20 /tmp/fuzz_nobody.out | sed 's/^/# nobody: /'; problems+=("nobody: the fuzzer died (exit $rc)"); }
  n=$(grep -c '^outcome EPERM with extack' /tmp/fuzz_nobody.out)
  [ "$n" -gt 0 ] || problems+=("nobody: no EPERM with extack counted at all")
  after=$(ipvsdadm -L -n)
  [ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head -20 | sed 's/^/# /'
    problems+=("the unprivileged fuzz changed the configuration"); }
  expect_eq "$(sc defense_level)" "$level_before" "defense_level after the unprivileged fuzz"
  diag "unprivileged fuzz: configuration ($(echo "$before" | grep -cE '^(TCP|UDP)') services) and defense_level unchanged"

  [ ${#problems[@]} -eq 0 ] || fail "$(IFS='|'; echo "${problems[*]}" | sed 's/|/ || /g')"
  diag "nobody $NOBODY_COUNT messages: every reply valid, no violation"
}

# The module still serves.
module_still_serves() {
  local out
  ipvsdadm -C || fail "ipvsdadm -C failed after the fuzz"
  ipvsdadm -A -t "$VIP:80" -s rr || fail "ipvsdadm -A failed after the fuzz"
  ipvsdadm -a -t "$VIP:80" -r "$RS1:8080" -m -w 3 || fail "ipvsdadm -a failed after the fuzz"
  out=$(ipvsdadm -L -n) || fail "ipvsdadm -L -n failed after the fuzz"
  echo "$out" | grep -q "^TCP  $VIP:80 rr" || fail "service missing from -L -n after the fuzz: $out"
  echo "$out" | grep -qE "^  -> $RS1:8080 +Masq +3 " || fail "real server missing from -L -n after the fuzz: $out"
  [ "$(echo "$out" | grep -cE '^(TCP|UDP)')" -eq 1 ] || fail "unexpected services after the fuzz: $out"
  ipvsdadm -C || fail "ipvsdadm -C failed"
  ipvsdadm --set-defense 0 || fail "ipvsdadm --set-defense 0 failed"
  expect_eq "$(sc defense_level)" 0 "defense_level at the end"
  expect_eq "$(ipvsdadm -L -n | grep -cE '^(TCP|UDP)')" 0 "services at the end"
  diag "after the fuzz: ipvsdadm -A/-a/-L -n work; services flushed, defense_level 0"
}

no_leak() {
  leak_check "fuzzing the netlink family"
}

run_test root_fuzz_replies_valid root_fuzz_replies_valid
run_test nobody_fuzz_changes_nothing nobody_fuzz_changes_nothing
run_test module_still_serves module_still_serves
run_test no_leak no_leak
finish
