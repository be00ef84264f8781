# SPDX-License-Identifier: GPL-2.0
# The benchmark's settings, sourced by bench/run.sh (`make bench`) and by the guest test
# selftests/test_bench_quick.sh (`make test`): bench_params 1 sets the QUICK ones (every
# workload once for every contestant, a few seconds each, and every variant in one
# workload or another: proves that each still produces its numbers), 0 the full ones. A
# setting already in the environment wins.
bench_params() { # quick (0|1)
  if [ "$1" = 1 ]; then
    : "${ROUNDS:=1}" "${BENCH_SECONDS:=3}" "${FLOOD_SECONDS:=3}" "${FLOOD_MAX:=200000}"
    : "${UDP_RATE:=200}" "${CONN_RATE:=10}" "${STREAM_MBIT:=20}"
    : "${FLOOD_RATE:=20}" "${LEGIT_RATE:=5}" "${IPVS_EMPTY_WAIT:=0}" "${FULL_CONN_MAX:=20}"
    : "${SYNACK_COUNT:=150}" "${MEM_FLOOD:=500}" "${MEM_FLOOD_SECONDS:=30}" "${CONN_PARALLEL:=4}"
    : "${SINK_IDLE_MS:=1000}" "${PLAN_SET:=quick}"
  else
    : "${ROUNDS:=5}" "${BENCH_SECONDS:=10}" "${FLOOD_SECONDS:=10}" "${FLOOD_MAX:=2000000}"
    : "${UDP_RATE:=1500}" "${CONN_RATE:=80}" "${STREAM_MBIT:=100}"
    : "${FLOOD_RATE:=1000}" "${LEGIT_RATE:=5}" "${IPVS_EMPTY_WAIT:=130}" "${FULL_CONN_MAX:=500}"
    : "${SYNACK_COUNT:=5000}" "${MEM_FLOOD:=100000}" "${MEM_FLOOD_SECONDS:=60}" "${CONN_PARALLEL:=8}"
    : "${SINK_IDLE_MS:=3000}" "${PLAN_SET:=full}"
  fi
}

# Writes OUTDIR/params.env, which bench/guest.sh reads.
bench_write_params() { # outdir ko
  cat > "$1/params.env" <<EOT
export ROUNDS=$ROUNDS BENCH_SECONDS=$BENCH_SECONDS FLOOD_SECONDS=$FLOOD_SECONDS
export UDP_RATE=$UDP_RATE CONN_RATE=$CONN_RATE STREAM_MBIT=$STREAM_MBIT
export FLOOD_RATE=$FLOOD_RATE LEGIT_RATE=$LEGIT_RATE IPVS_EMPTY_WAIT=$IPVS_EMPTY_WAIT FULL_CONN_MAX=$FULL_CONN_MAX
export FLOOD_MAX=$FLOOD_MAX SYNACK_COUNT=$SYNACK_COUNT MEM_FLOOD=$MEM_FLOOD MEM_FLOOD_SECONDS=$MEM_FLOOD_SECONDS
export CONN_PARALLEL=$CONN_PARALLEL SINK_IDLE_MS=$SINK_IDLE_MS WORKLOADS="${WORKLOADS:-}" PLAN_SET=$PLAN_SET
export KO=$2 IPVSD_TOP=$IPVSD_TOP PROFILE_CONTESTANTS="${PROFILE_CONTESTANTS:-}"
EOT
}
