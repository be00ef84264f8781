#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs everything `make test`, `make run` and `make bench` need on a fresh Debian 12
# machine of this kind. Quick no-op when everything is already there.
set -euo pipefail

DEB_PKGS=(linux-source-6.12 libclang-dev clang lld llvm flex bison bc cpio kmod libelf-dev
  libssl-dev pahole qemu-system-x86 iproute2 iputils-ping ipvsadm hping3 iperf3 socat tcpdump
  python3-pip busybox procps jq python3-matplotlib nftables iptables linux-perf ethtool)

missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "setup: rustup component add rust-src"
  rustup component add rust-src
fi

# 6.12 needs bindgen >= 0.65.1; Debian 12's is 0.60.
if ! command -v bindgen >/dev/null 2>&1 || ! bindgen --version 2>/dev/null | grep -qE 'bindgen 0\.(6[5-9]|[7-9][0-9])'; then
  echo "setup: cargo install bindgen-cli"
  cargo install bindgen-cli --locked --quiet
fi

if ! command -v vng >/dev/null 2>&1; then
  echo "setup: pip install virtme-ng"
  pip install --quiet virtme-ng
fi
echo "setup: ok"
