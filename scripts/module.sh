#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds ipvs_defense.ko against the cached kernel tree of a flavour; prints the tree path.
#
# FAULTS="init slow_hook" also builds, for the guest tests only, one variant of the module
# per name with `--cfg ipvsd_fault_NAME` (see director/fault.rs), each in
# out/fault-NAME/ipvs_defense.ko from a copy of the sources. Normal builds have no fault.
set -euo pipefail
flavour=${1:-test}
top=$(cd "$(dirname "$0")/.." && pwd)
tree=$(bash "$top/scripts/kernel.sh" "$flavour" | tail -1)
echo "module: building ipvs_defense.ko against $tree" >&2
make -s -C "$tree" M="$top" LLVM=1 modules >&2
test -f "$top/ipvs_defense.ko"
for fault in ${FAULTS:-}; do
  dir=$top/out/fault-$fault
  mkdir -p "$dir"
  # Only changed files are copied, so that make rebuilds a variant only when needed.
  (cd "$top" && find Kbuild ipvs_defense.rs director logic -name '*.rs' -o -name Kbuild) |
    while read -r f; do
      mkdir -p "$dir/$(dirname "$f")"
      cmp -s "$top/$f" "$dir/$f" || cp "$top/$f" "$dir/$f"
    done
  # ... and a file gone from the sources goes from the copy (a module moved into a folder
  # would otherwise be found twice).
  (cd "$dir" && find director logic -name '*.rs') | while read -r f; do
    [ -e "$top/$f" ] || rm -f "$dir/$f"
  done
  echo "module: building the fault variant '$fault' in $dir" >&2
  make -s -C "$tree" M="$dir" LLVM=1 KRUSTFLAGS="--cfg ipvsd_fault_$fault" modules >&2
  test -f "$dir/ipvs_defense.ko"
done
echo "$tree"
