#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds (or reuses) the 6.12 kernel tree for one flavour (test | bench) and prints its path
# on the last line of stdout.
#
# Cache: $IPVSD_CACHE (default /var/cache/ipvs-defense)/<flavour>-<source version>-<config hash>/
# holds an extracted, configured and built tree. The tree is keyed by the Debian source
# version and our config fragments; the rust/ overlay is applied into it file by file (only
# files whose content changed are rewritten, so make's timestamps rebuild only what depends
# on them), and a stamp of the overlay's hash makes a second run a no-op.
set -euo pipefail

flavour=${1:-test}
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${IPVSD_CACHE:-/var/cache/ipvs-defense}
jobs=${JOBS:-$(nproc)}
export PATH="$HOME/.cargo/bin:$PATH"

log() { echo "kernel[$flavour]: $*" >&2; }

tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || { log "missing $tarball: run 'make setup'"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)

case "$flavour" in
  test)  frags=("$top/kernel/test.config") ;;
  bench) frags=("$top/kernel/test.config" "$top/kernel/bench.config") ;;
  *) log "unknown flavour $flavour"; exit 2 ;;
esac
cfghash=$(cat "${frags[@]}" | sha256sum | cut -c1-12)
dir="$cache/$flavour-$srcver-$cfghash"
tree="$dir/linux"
mkdir -p "$cache"
# One build per tree at a time: a second caller (a test run beside a benchmark, say) waits
# here for the first to finish, then finds the tree built.
exec 9>"$dir.lock"
flock 9

# 1. Extract and configure (once per key).
if [ ! -f "$dir/.configured" ]; then
  log "extracting $tarball ($srcver) into $dir"
  rm -rf "$dir"; mkdir -p "$dir"
  tar -C "$dir" -xf "$tarball"
  mv "$dir"/linux-source-6.12 "$tree"
  (
    cd "$tree"
    vng --kconfig >/dev/null
    scripts/kconfig/merge_config.sh -m .config "${frags[@]}" >/dev/null
    make LLVM=1 olddefconfig >/dev/null
    make LLVM=1 rustavailable >&2
  )
  for sym in RUST NETFILTER NET_NS VETH MODULE_UNLOAD IP_VS; do
    grep -q "^CONFIG_$sym=y" "$tree/.config" || { log "CONFIG_$sym did not survive olddefconfig"; exit 1; }
  done
  if [ "$flavour" = test ]; then
    for sym in PROVE_LOCKING DEBUG_ATOMIC_SLEEP KASAN; do
      grep -q "^CONFIG_$sym=y" "$tree/.config" || { log "CONFIG_$sym did not survive olddefconfig"; exit 1; }
    done
  fi
  touch "$dir/.configured"
fi

# 2. Apply the rust/ overlay: copy changed files, then make sure each line of
#    rust/overlay.lines ("<file under rust/>|<line>") is present in the tree's file.
overlay_hash=$( (cd "$top" && find rust -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
changed=0
while IFS= read -r -d '' f; do
  rel=${f#"$top/"}
  case "$rel" in rust/overlay.lines|rust/README.md) continue ;; esac
  dst="$tree/$rel"
  if ! cmp -s "$f" "$dst"; then
    mkdir -p "$(dirname "$dst")"; cp "$f" "$dst"; changed=1
  fi
done < <(find "$top/rust" -type f -print0)
if [ -f "$top/rust/overlay.lines" ]; then
  while IFS='|' read -r file line; do
    case "$file" in ''|'#'*) continue ;; esac
    dst="$tree/rust/$file"
    if ! grep -qxF -- "$line" "$dst"; then
      [ -n "$(tail -c1 "$dst")" ] && echo >> "$dst"
      echo "$line" >> "$dst"; changed=1
    fi
  done < "$top/rust/overlay.lines"
fi

# 3. Build if the overlay changed since the last successful build.
if [ "$(cat "$dir/.built" 2>/dev/null)" != "$overlay_hash" ] || [ ! -f "$tree/arch/x86/boot/bzImage" ]; then
  log "building in $tree (make LLVM=1 -j$jobs; log in $dir/build.log)"
  start=$(date +%s)
  if ! (cd "$tree" && make LLVM=1 -j"$jobs" all) > "$dir/build.log" 2>&1; then
    grep -E 'error|Error' "$dir/build.log" | head -40 >&2
    tail -20 "$dir/build.log" >&2
    log "build FAILED"; exit 1
  fi
  echo "$overlay_hash" > "$dir/.built"
  log "built in $(( $(date +%s) - start )) s"
else
  log "cached: $tree (overlay $overlay_hash)"
fi
echo "$tree"
