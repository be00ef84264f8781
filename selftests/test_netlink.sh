#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The IPVS_DEFENSE generic netlink family: ipvsdadm configures services and real servers
# and lists them in ipvsadm's layout (services, rules, --stats, --rate, --exact, -c,
# --timeout: as the in-kernel ipvsadm prints them); the kernel refuses bad requests (policy
# and handler checks, with extended-ack messages), refuses changes without CAP_NET_ADMIN,
# and multi-part dumps stay correct while another CPU changes the configuration.
. "$(dirname "$0")/lib.sh"
plan 13
CMP_NS=ipvscmp-$NS_SUFFIX
mod_unload
trap 'kill $(jobs -p) 2>/dev/null; wait; ip netns del "$CMP_NS" 2>/dev/null; mod_unload' EXIT

# Protocol numbers (logic/proto.rs).
NEW_SERVICE=1 SET_SERVICE=2 DEL_SERVICE=3 GET_SERVICE=4 NEW_DEST=5 SET_DEST=6 DEL_DEST=7
GET_CONN=9 ZERO=11 FLUSH=12 SET_DEFENSE=14
SVC="1=u8:6 2=ip:$VIP 3=u16:80"

# What ipvsdadm says without the module (judged by module_absent_message).
ABSENT_OUT=$("$IPVSDADM" -L -n 2>&1)
ABSENT_RC=$?

mod_load
ipvsdadm -A -t "$VIP:80" -s rr || fail "ipvsdadm -A failed"
ipvsdadm -a -t "$VIP:80" -r "$RS1:8080" -m -w 1 || fail "ipvsdadm -a rs1 failed"
ipvsdadm -a -t "$VIP:80" -r "$RS2:8080" -m -w 2 || fail "ipvsdadm -a rs2 failed"
ipvsdadm -A -u "$VIP:53" -s wrr || fail "ipvsdadm -A udp failed"

module_absent_message() {
  [ "$ABSENT_RC" -ne 0 ] || fail "ipvsdadm succeeded without the module"
  case "$ABSENT_OUT" in *"not loaded"*) ;; *) fail "module absent: unclear message '$ABSENT_OUT'";; esac
  diag "without the module: '$ABSENT_OUT'"
}

list_in_ipvsadm_layout() {
  local got want
  got=$(ipvsdadm -L -n | tail -n +2 | sed 's/ *$//')
  want=$(cat <<EOT
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.0.2.100:80 rr
  -> 198.51.100.2:8080            Masq    1      0          0
  -> 198.51.100.3:8080            Masq    2      0          0
UDP  192.0.2.100:53 wrr
EOT
)
  [ "$got" = "$want" ] || { diag "got:"; echo "$got" | sed 's/^/#   /'; fail "-L -n listing differs"; }
  diag "ipvsdadm -A/-a and -L -n: ipvsadm's layout"
}

# The in-kernel IPVS in namespace $CMP_NS, with rules restored from ipvsdadm -S -n; in a
# namespace of its own, so that no connection an earlier test left in IPVS's table shows in
# its counters. (Its loopback up, so that its local routing table exists: IPVS refuses a
# real server whose address type it cannot tell as unicast.) cmp_ns_del flushes and
# deletes it.
cmp_ns_add() { # rules
  ip netns add "$CMP_NS" && ip -n "$CMP_NS" link set lo up || fail "could not add namespace $CMP_NS"
  echo "$1" | in_ns "$CMP_NS" ipvsadm -R || fail "ipvsadm -R of ipvsdadm -S -n failed"
}
cmp_ns_del() {
  in_ns "$CMP_NS" ipvsadm -C
  ip netns del "$CMP_NS"
}

# The same configuration in the in-kernel IPVS, restored from ipvsdadm -S: ipvsadm -L -n
# prints the same lines (but the header's name/version line) and ipvsadm -S -n the same
# rules.
same_as_in_kernel_ipvsadm() {
  local got saved theirs theirs_saved
  got=$(ipvsdadm -L -n | tail -n +2 | sed 's/ *$//')
  saved=$(ipvsdadm -S -n) || fail "ipvsdadm -S -n failed"
  [ "$(echo "$saved" | wc -l)" = 4 ] || fail "ipvsdadm -S -n printed '$saved'"
  cmp_ns_add "$saved"
  theirs=$(in_ns "$CMP_NS" ipvsadm -L -n | tail -n +2 | sed 's/ *$//')
  theirs_saved=$(in_ns "$CMP_NS" ipvsadm -S -n)
  cmp_ns_del
  [ "$got" = "$theirs" ] || { diag "ipvsadm:"; echo "$theirs" | sed 's/^/#   /'; fail "ipvsdadm -L -n differs from ipvsadm -L -n"; }
  [ "$saved" = "$theirs_saved" ] || { diag "ipvsadm -S -n:"; echo "$theirs_saved" | sed 's/^/#   /'
    fail "ipvsdadm -S -n differs from ipvsadm -S -n"; }
  diag "ipvsdadm -L -n and -S -n print what the in-kernel ipvsadm prints for the same configuration"
}

# The other listings of the same configuration, with the same timeouts set in both (not the
# defaults): --stats, --rate, --stats --exact and -c (no traffic: every counter and rate 0,
# no connection) print exactly what the in-kernel ipvsadm prints but the first line of the
# three service listings (by design: ipvs_defense's name and conn_max for IPVS's version and
# size), and -L --timeout the same line.
CMP_LISTINGS=("-L -n --stats" "-L -n --rate" "-L -n --stats --exact" "-L -n -c" "-L --timeout")
same_listings_as_in_kernel_ipvsadm() {
  local saved ours theirs o
  saved=$(ipvsdadm -S -n) || fail "ipvsdadm -S -n failed"
  cmp_ns_add "$saved"
  adm --set 1000 100 200
  ours=$(for o in "${CMP_LISTINGS[@]}"; do echo "== $o"; ipvsdadm $o || echo "exit $?"; done)
  theirs=$(in_ns "$CMP_NS" sh -c 'ipvsadm --set 1000 100 200 || echo "--set: exit $?"
    for o; do echo "== $o"; ipvsadm $o || echo "exit $?"; done' sh "${CMP_LISTINGS[@]}")
  cmp_ns_del
  adm --set 900 120 300
  expect_eq "$(sc timeout_established) $(sc timeout_fin_wait) $(sc timeout_udp)" "900 120 300" "timeouts restored"
  expect_eq "$(echo "$ours" | grep -c '^ipvs_defense (IPVS_DEFENSE protocol version [0-9]*) (conn_max=[0-9]*)$')" 3 \
    "ipvsdadm's header lines"
  expect_eq "$(echo "$theirs" | grep -c '^IP Virtual Server version .* (size=[0-9]*)$')" 3 "ipvsadm's header lines"
  ours=$(echo "$ours" | grep -v '^ipvs_defense (IPVS_DEFENSE protocol version ')
  theirs=$(echo "$theirs" | grep -v '^IP Virtual Server version ')
  [ "$ours" = "$theirs" ] || { diag "ipvsdadm (<) and ipvsadm (>):"; diff <(echo "$ours") <(echo "$theirs") | sed 's/^/#   /'
    fail "ipvsdadm's listings differ from ipvsadm's"; }
  echo "$ours" | grep -qx 'Timeout (tcp tcpfin udp): 1000 100 200' || fail "no timeout line 1000 100 200"
  expect_eq "$(echo "$ours" | grep -c '^  -> 198.51.100.[23]:8080  ')" 6 "real server rows of --stats, --rate, --exact"
  diag "$(echo "$ours" | wc -l) lines of ${#CMP_LISTINGS[@]} listings (${CMP_LISTINGS[*]}) as the in-kernel ipvsadm prints them, but its 3 version lines"
}

# And back: ipvsadm's rules restore into ipvsdadm, over one socket.
restore_ipvsadm_rules() {
  local got saved theirs_saved again out
  got=$(ipvsdadm -L -n | tail -n +2 | sed 's/ *$//')
  saved=$(ipvsdadm -S -n) || fail "ipvsdadm -S -n failed"
  cmp_ns_add "$saved"
  theirs_saved=$(in_ns "$CMP_NS" ipvsadm -S -n)
  cmp_ns_del
  ipvsdadm -C || fail "ipvsdadm -C failed"
  echo "$theirs_saved" | "$IPVSDADM" -R || fail "ipvsdadm -R of ipvsadm -S -n failed"
  again=$(ipvsdadm -L -n | tail -n +2 | sed 's/ *$//')
  [ "$again" = "$got" ] || { echo "$again" | sed 's/^/#   /'; fail "the configuration did not survive ipvsadm -S -n | ipvsdadm -R"; }
  out=$(printf '%s\n' "-A -t $VIP:81 -s rr" "-A -t $VIP:81" "-C" | "$IPVSDADM" -R 2>&1)
  [ $? = 1 ] && [ "$out" = "ipvsdadm: line 2: add service TCP $VIP:81: service already exists (EEXIST): the service already exists" ] ||
    fail "ipvsdadm -R with a duplicate on line 2: '$out'"
  ipvsdadm -L -n | grep -q "TCP  $VIP:81 rr" || fail "ipvsdadm -R did not keep line 1 or ran line 3"
  ipvsdadm -D -t "$VIP:81" || fail "could not delete $VIP:81"
  diag "ipvsadm -S -n | ipvsdadm -R gives the configuration back; -R stops at a failing line, naming it"
}

edit_weight_and_scheduler() {
  ipvsdadm -e -t "$VIP:80" -r "$RS2:8080" -m -w 5 || fail "ipvsdadm -e failed"
  ipvsdadm -E -t "$VIP:80" -s mh || fail "ipvsdadm -E failed"
  ipvsdadm -L -n | grep -q "TCP  $VIP:80 mh" || fail "scheduler not changed to mh"
  ipvsdadm -L -n | grep -qE "$RS2:8080 +Masq +5 " || fail "weight not changed to 5"
  ipvsdadm -L -n --json | python3 -S -c '
import json, sys
d = json.load(sys.stdin)
s = [s for s in d["services"] if s["protocol"] == "TCP"][0]
assert s["scheduler"] == "mh" and len(s["real_servers"]) == 2, s
assert sorted(r["weight"] for r in s["real_servers"]) == [1, 5]
' || fail "--json listing wrong"
  diag "-e weight, -E scheduler, --json"
}

# Tool-side errors: one line, non-zero exit.
check_err() { # expected-substring command...
  local want=$1; shift
  local out
  out=$("$@" 2>&1) && fail "'$*' succeeded"
  [ "$(echo "$out" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $out"
  case "$out" in *"$want"*) ;; *) fail "'$*': expected '$want' in '$out'";; esac
}
tool_errors() {
  check_err "exists" "$IPVSDADM" -A -t "$VIP:80" -s rr
  check_err "no such service" "$IPVSDADM" -a -t "$VIP:81" -r "$RS1:8080" -m
  check_err "no such service" "$IPVSDADM" -D -t "$VIP:81"
  check_err "scheduler" "$IPVSDADM" -A -t "$VIP:82" -s bogus
  check_err "port" "$IPVSDADM" -A -t "$VIP:0" -s rr
  check_err "address" "$IPVSDADM" -A -t "192.0.2.300:80" -s rr
  diag "ipvsdadm errors: duplicate, unknown service, scheduler, port, address"
}

# Kernel-side checks, with raw requests the tool would never send.
kerr() { # expected-errno expected-message-part request...
  local want=$1 msg=$2; shift 2
  local out
  out=$($GENL "$@" | head -1)
  case "$out" in "error $want: "*"$msg"*) ;; *) fail "request '$*': expected $want '$msg', got '$out'";; esac
}
kernel_refuses_bad_requests() {
  kerr EINVAL "port must be" $NEW_SERVICE 1=u8:6 2=ip:$VIP 3=u16:0 4=str:rr
  kerr EINVAL "port must be" $NEW_DEST $SVC 7=ip:$RS1 8=u16:0
  kerr EINVAL "unknown scheduler" $NEW_SERVICE 1=u8:6 2=ip:$VIP 3=u16:90 4=str:foo
  kerr EINVAL "protocol" $NEW_SERVICE 1=u8:1 2=ip:$VIP 3=u16:90 4=str:rr
  kerr EINVAL "needs SVC_PROTOCOL" $NEW_SERVICE 2=ip:$VIP 3=u16:90 4=str:rr
  kerr EEXIST "already exists" $NEW_SERVICE $SVC 4=str:rr
  kerr ENOENT "no such service" $DEL_SERVICE 1=u8:6 2=ip:$VIP 3=u16:91
  kerr EINVAL "weight out of range" $NEW_DEST $SVC 7=ip:$RS1 8=u16:9000 9=u32:70000
  kerr EEXIST "already exists" $NEW_DEST $SVC 7=ip:$RS1 8=u16:8080
  kerr ENOENT "no such real server" $SET_DEST $SVC 7=ip:$RS1 8=u16:9999 9=u32:3
  kerr ENOENT "no such real server" $DEL_DEST $SVC 7=ip:$RS1 8=u16:9999
  kerr EINVAL "level must be" $SET_DEFENSE 33=u32:3
  kerr EINVAL "" $NEW_SERVICE $SVC 4=str:rr 40=u64:1
  kerr EINVAL "" $NEW_SERVICE $SVC 4=str:averyveryverylongschedulername
  diag "kernel: port 0, unknown scheduler/protocol, missing key, duplicate, unknown service and RS, weight 70000, level 3, reply-only attribute, long string: refused with the right errno"
}

# CAP_NET_ADMIN: refused by the kernel, not the tool.
nonroot() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
needs_cap_net_admin() {
  local pub NR_GENL NR_IPVSDADM EPERM_MSG out c
  # What an unprivileged process runs is copied where it can read it: a clone under /root
  # (mode 700) is closed to other users.
  pub=$(mktemp -d /tmp/netlink-nonroot.XXXXXX) && chmod 755 "$pub" &&
    cp "$IPVSD_TOP/selftests/genl.py" "$IPVSDADM" "$pub/" && chmod a+rX "$pub"/* ||
    fail "could not copy genl.py and ipvsdadm for the unprivileged user"
  NR_GENL="python3 -S $pub/genl.py" NR_IPVSDADM=$pub/ipvsdadm
  nonroot test -r "$pub/genl.py" -a -x "$NR_IPVSDADM" ||
    fail "the unprivileged user cannot read $pub/genl.py"
  # Every command that changes something, and the connection dump, refused before it runs,
  # with the reason in the extended ack.
  EPERM_MSG="error EPERM: CAP_NET_ADMIN is required"
  out=$(nonroot $NR_GENL $NEW_SERVICE 1=u8:6 2=ip:$VIP 3=u16:99 4=str:rr | head -1)
  expect_eq "$out" "$EPERM_MSG" "unprivileged NEW_SERVICE"
  for c in $SET_SERVICE $DEL_SERVICE $NEW_DEST $SET_DEST $DEL_DEST $ZERO $FLUSH $SET_DEFENSE; do
    out=$(nonroot $NR_GENL $c | head -1)
    expect_eq "$out" "$EPERM_MSG" "unprivileged command $c"
  done
  out=$(nonroot "$NR_IPVSDADM" -C 2>&1) && fail "unprivileged ipvsdadm -C succeeded"
  case "$out" in *ermission*|*CAP_NET_ADMIN*) ;; *) fail "unprivileged -C: unclear '$out'";; esac
  nonroot "$NR_IPVSDADM" -L -n >/dev/null || fail "unprivileged listing refused"
  out=$(nonroot $NR_GENL $GET_CONN --dump | head -1)
  expect_eq "$out" "$EPERM_MSG" "unprivileged connection dump"
  out=$(nonroot "$NR_IPVSDADM" -L -n -c 2>&1) && fail "unprivileged ipvsdadm -L -c succeeded"
  ipvsdadm -L -n | grep -q "$RS1:8080" || fail "an unprivileged request changed the configuration"
  diag "without CAP_NET_ADMIN: the 9 admin commands and the connection dump refused with '$EPERM_MSG', listing allowed"
}

# Dumps spanning many messages while another process changes the configuration.
dumps_during_changes() {
  local i r n dumper bad intr
  adm -C
  for ((i = 1; i <= 300; i++)); do echo "$NEW_SERVICE 1=u8:17 2=ip:$VIP 3=u16:$((1000 + i)) 4=str:rr"; done |
    $GENL --batch | grep -v '^ok' | head -3 | sed 's/^/# add: /'
  n=$(ipvsdadm -L -n | grep -c '^UDP')
  expect_eq "$n" 300 "services listed after adding 300"
  for ((r = 1; r <= 40; r++)); do
    echo "$NEW_SERVICE 1=u8:6 2=ip:$VIP 3=u16:$((2000 + r)) 4=str:rr"
    echo "$DEL_SERVICE 1=u8:17 2=ip:$VIP 3=u16:$((1000 + r))"
  done > /tmp/churn.req
  for ((r = 1; r <= 60; r++)); do echo "$GET_SERVICE --dump"; done > /tmp/dump.req
  # The changes start once the first dump has been answered and must end while dumps still
  # run, so that dumps overlap them.
  $GENL --batch < /tmp/dump.req > /tmp/dump.out &
  dumper=$!
  for ((i = 1; i <= 300; i++)); do [ -s /tmp/dump.out ] && break; nap 0.1; done
  [ -s /tmp/dump.out ] || fail "no dump answered within 30 s"
  $GENL --batch < /tmp/churn.req > /tmp/churn.out
  kill -0 $dumper 2>/dev/null || fail "the dumps ended before the changes did: none overlapped them"
  wait $dumper
  [ "$(grep -vc '^ok' /tmp/churn.out)" -eq 0 ] || fail "a change failed: $(grep -v '^ok' /tmp/churn.out | head -1)"
  [ "$(grep -vc '^ok' /tmp/dump.out)" -eq 0 ] || fail "a dump failed: $(grep -v '^ok' /tmp/dump.out | head -1)"
  # A dump not flagged NLM_F_DUMP_INTR saw one consistent snapshot: 300 services, or 301
  # between the add and the delete of a churn step. A flagged one tells the caller to retry.
  bad=$(awk '{ split($2, m, "="); split($3, i, "="); if (i[2] == 0 && (m[2] < 300 || m[2] > 301)) print }' /tmp/dump.out | head -1)
  [ -z "$bad" ] || fail "an unflagged dump returned a wrong number of services: $bad"
  intr=$(awk '{ split($3, a, "="); if (a[2] > 0) n++ } END { print n + 0 }' /tmp/dump.out)
  expect_eq "$(wc -l < /tmp/dump.out)" 60 "dumps answered"
  [ "$intr" -lt 60 ] || fail "every dump was interrupted: none shows a consistent snapshot"
  expect_eq "$(ipvsdadm -L -n | grep -c '^UDP')" 260 "UDP services after the churn"
  expect_eq "$(ipvsdadm -L -n | grep -c '^TCP')" 40 "TCP services after the churn"
  diag "60 multi-message dumps of ~300 services during 80 changes: $intr flagged NLM_F_DUMP_INTR, every other one exact"
}

flush_and_set_defense() {
  ipvsdadm -C || fail "ipvsdadm -C failed"
  [ -z "$(ipvsdadm -L -n | grep -E '^(TCP|UDP)')" ] || fail "services left after -C"
  ipvsdadm --set-defense 2 || fail "--set-defense 2 failed"
  expect_eq "$(sc defense_level)" 2 "defense_level after --set-defense 2"
  ipvsdadm --defense | sed 's/^/# /'
  adm --set-defense 0
  diag "-C flushes; --set-defense sets defense_level"
}

# 1,000 services added and deleted: nothing leaks (kmemleak), lockdep stays silent.
no_leak_1000_services() {
  local i
  adm -C
  leak_begin
  for ((i = 1; i <= 1000; i++)); do echo "$NEW_SERVICE 1=u8:6 2=ip:$VIP 3=u16:$((3000 + i)) 4=str:wrr"; done > /tmp/add.req
  for ((i = 1; i <= 1000; i++)); do echo "$DEL_SERVICE 1=u8:6 2=ip:$VIP 3=u16:$((3000 + i))"; done > /tmp/del.req
  $GENL --batch < /tmp/add.req | grep -vc '^ok' | grep -qx 0 || fail "adding 1,000 services failed"
  expect_eq "$(ipvsdadm -L -n | grep -c '^TCP')" 1000 "services after adding 1,000"
  $GENL --batch < /tmp/del.req | grep -vc '^ok' | grep -qx 0 || fail "deleting 1,000 services failed"
  expect_eq "$(ipvsdadm -L -n | grep -c '^TCP')" 0 "services after deleting them"
  leak_check "1,000 services added and deleted"
}

# rmmod while dumps run: it waits or says busy, never crashes.
rmmod_during_dumps() {
  local i dumper
  for ((i = 1; i <= 300; i++)); do echo "$NEW_SERVICE 1=u8:17 2=ip:$VIP 3=u16:$((5000 + i)) 4=str:rr"; done | $GENL --batch >/dev/null
  for ((i = 1; i <= 100; i++)); do echo "$GET_SERVICE --dump"; done > /tmp/dumps.req
  $GENL --batch < /tmp/dumps.req > /tmp/dumps.out 2>&1 &
  dumper=$!
  nap 1
  for ((_k = 1; _k <= 100; _k++)); do rmmod ipvs_defense 2>/dev/null && break; nap 0.2; done
  mod_loaded && fail "could not unload during dumps"
  wait $dumper
  diag "rmmod during dumps: unloaded; the dumper saw $(grep -c '^ok' /tmp/dumps.out) complete dumps, then '$(grep -v '^ok' /tmp/dumps.out | head -1)'"
}

run_test module_absent_message module_absent_message
run_test list_in_ipvsadm_layout list_in_ipvsadm_layout
run_test same_as_in_kernel_ipvsadm same_as_in_kernel_ipvsadm
run_test same_listings_as_in_kernel_ipvsadm same_listings_as_in_kernel_ipvsadm
run_test restore_ipvsadm_rules restore_ipvsadm_rules
run_test edit_weight_and_scheduler edit_weight_and_scheduler
run_test tool_errors tool_errors
run_test kernel_refuses_bad_requests kernel_refuses_bad_requests
run_test needs_cap_net_admin needs_cap_net_admin
run_test dumps_during_changes dumps_during_changes
run_test flush_and_set_defense flush_and_set_defense
run_test no_leak_1000_services no_leak_1000_services
run_test rmmod_during_dumps rmmod_during_dumps
finish
