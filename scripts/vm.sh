#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boots a kernel tree in QEMU with virtme-ng and runs one guest command.
#
#   scripts/vm.sh TREE OUTDIR 'GUEST COMMAND'
#
# OUTDIR is shared read-write with the guest; the guest command must write its exit status
# to OUTDIR/guest.status (vng's own exit code is unreliable: it returned 255 for successful
# scripts). The guest's console goes to OUTDIR/console.log.
#
# KVM is probed once with a short timeout; without it (the usual case here) QEMU runs
# single-threaded TCG, which avoids the cross-CPU code-patching races seen with multi-threaded
# TCG (random "Oops: int3" at static-key sites, see shared/TOOLCHAIN.md).
#
# A boot is retried (at most twice) only when the guest died before the guest command
# started (no OUTDIR/guest.started); a guest that dies later is never retried: its Oops is
# printed and the run fails.
set -uo pipefail
tree=$1 out=$2 cmd=$3
mem=${VM_MEMORY:-2G}
cpus=${VM_CPUS:-2}
timeout_s=${VM_TIMEOUT:-4800}

kvm_works() {
  [ -w /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo || return 1
  # A paused VM (-S) that is still alive when the timeout hits has initialised KVM; without
  # working KVM QEMU exits at once ("failed to set MSR 0x10a" was seen here).
  timeout 5 qemu-system-x86_64 -accel kvm -M q35 -m 64 -display none -nodefaults -S \
    >/dev/null 2>&1
  [ $? -eq 124 ]
}

if kvm_works; then
  accel=(); echo "vm: KVM available" >&2; echo kvm > "$out/accel"
else
  accel=(--disable-kvm --qemu-opts='-accel tcg,thread=single')
  echo "vm: no KVM here: software emulation (single-threaded TCG)" >&2; echo tcg > "$out/accel"
fi

# vng mounts the host's root over 9p without a cache: every exec in the guest then fetches
# the binary and its libraries again (measured under TCG+KASAN: python3 20 s, ip 3 s, awk
# 1.8 s). The same mount with cache=loose (the kernel takes the last rootflags=) brought
# them to 9.5 s, 2.3 s and 1.1 s. The host's files do not change under a test run; the
# shared output directory (--rwdir) is a mount of its own and stays uncached.
rootflags=rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose

for attempt in 1 2 3; do
  rm -f "$out/guest.started" "$out/guest.status" "$out/boot_splat.txt"
  echo $((3 - attempt)) > "$out/boots_left"
  setsid timeout --kill-after=10 "$timeout_s" vng --run "$tree" "${accel[@]}" --verbose \
    --cpus "$cpus" --memory "$mem" --rwdir "$out" --append "no5lvl $rootflags" \
    --exec "echo started > $out/guest.started; $cmd" < /dev/null > "$out/console.log" 2>&1
  if [ "$(cat "$out/guest.status" 2>/dev/null)" = reboot ]; then
    echo "vm: the kernel reported a problem while booting, before any test (attempt $attempt):" >&2
    sed 's/^/vm:   /' "$out/boot_splat.txt" >&2
    echo "vm: booting again" >&2
    continue
  fi
  if [ -f "$out/guest.status" ]; then
    break
  fi
  echo "vm: the guest stopped without reporting a status (attempt $attempt)" >&2
  if grep -qE 'Oops|BUG:|Kernel panic|general protection' "$out/console.log"; then
    echo "vm: ---- guest crash ----" >&2
    grep -nE -A30 'Oops|BUG:|Kernel panic|general protection' "$out/console.log" | head -80 >&2
    echo "vm: ---------------------" >&2
  else
    tail -20 "$out/console.log" >&2
  fi
  if [ -f "$out/guest.started" ]; then
    echo "vm: the guest died while running tests: not retried" >&2
    exit 1
  fi
  echo "vm: died before any test started: booting again" >&2
done
[ -f "$out/guest.status" ] || exit 1
exit "$(cat "$out/guest.status")"
