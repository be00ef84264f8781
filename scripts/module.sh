#!/usr/bin/env bash
# Builds ipvs_defense.ko against the cached kernel tree of a flavour; prints the tree path.
set -euo pipefail
flavour=${1:-test}
top=$(cd "$(dirname "$0")/.." && pwd)
tree=$(bash "$top/scripts/kernel.sh" "$flavour" | tail -1)
echo "module: building ipvs_defense.ko against $tree" >&2
make -s -C "$tree" M="$top" LLVM=1 modules >&2
test -f "$top/ipvs_defense.ko"
echo "$tree"
