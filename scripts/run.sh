#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make run`: boots the test kernel, loads ipvs_defense.ko, sends traffic from a client
# namespace to the director and through it to a real server, and shows what the module saw.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
out=$top/out/run; rm -rf "$out"; mkdir -p "$out"
tree=$(bash scripts/module.sh test | tail -1) || exit 1
cargo build -q --release -p ipvsdadm -p loadgen || exit 1
bash scripts/vm.sh "$tree" "$out" "bash $top/selftests/demo.sh > $out/demo.txt 2>&1; echo \$? > $out/guest.status"
rc=$?
cat "$out/demo.txt" 2>/dev/null
exit $rc
