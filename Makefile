# SPDX-License-Identifier: GPL-2.0
# ipvs-defense: the README's two commands are `make run` and `make test`.
#
#   make setup    install Debian packages, rust-src, bindgen-cli, virtme-ng (no-op when present)
#   make kernel   build (or reuse from the cache) the test kernel; KFLAVOUR=bench for the bench one
#   make module   build ipvs_defense.ko against that kernel
#   make host-test  cargo fmt/clippy/test of the host crates
#   make test     host tests, then the guest tests in QEMU; ends with "N passed, N failed"
#   make test-long  the same with the long guest tests too (TESTS="test_x ..." picks tests)
#   make run      boot the guest, load the module, show it working
#   make bench    the benchmark on the bench kernel (bench/README.md); QUICK=1: one short
#                 round on the test kernel that checks every workload still produces numbers
#   make bench-profile WORKLOAD=udp   that workload under perf, per contestant, on the
#                 bench kernel; the profile is kept in bench/results/ (CONTESTANTS=
#                 "ipvs:st3 ours:l2" for the workloads with variants)
#   make clean    remove build output from the clone (the kernel cache stays)
#   make distclean  also remove the kernel cache ($(IPVSD_CACHE))

SHELL := /bin/bash
IPVSD_CACHE ?= /var/cache/ipvs-defense
KFLAVOUR ?= test
export IPVSD_CACHE
# rustup/cargo and pyenv (virtme-ng) live under $HOME on this machine kind; do not depend
# on the caller's PATH having them.
export PATH := $(HOME)/.cargo/bin:$(HOME)/.pyenv/shims:$(HOME)/.local/bin:$(PATH)

.PHONY: setup kernel module host-test test test-long run bench bench-profile clean distclean

setup:
	@bash scripts/setup.sh

kernel: setup
	@bash scripts/kernel.sh $(KFLAVOUR) >/dev/null

module: kernel
	@bash scripts/module.sh $(KFLAVOUR)

host-test: setup
	@bash scripts/host_test.sh

test: setup
	@bash scripts/test.sh

test-long: setup
	@LONG=1 bash scripts/test.sh

run: setup
	@bash scripts/run.sh

bench: setup
	@QUICK=$(QUICK) bash bench/run.sh

bench-profile: setup
	@PROFILE=$(or $(WORKLOAD),udp) ROUNDS=1 BENCH_SECONDS=$${BENCH_SECONDS:-40} \
	  FLOOD_SECONDS=$${FLOOD_SECONDS:-40} PROFILE_CONTESTANTS="$(CONTESTANTS)" bash bench/run.sh

clean:
	rm -rf target out
	rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers .*.d

distclean: clean
	rm -rf $(IPVSD_CACHE)
